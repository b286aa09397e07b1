// The reference model (the oracle of spec §6): a small, obviously-correct
// implementation of the trace semantics of spec §3 on plain maps of bytes.
// It shares nothing with core/ except the digest byte stream
// (vm::DigestWriter), so that both sides hash their state the same way.
// docs/semantics.md is the user-facing description of what every op does;
// this file and that page must say the same thing.
//
// Representation, and why:
//
//   Model ── processes: std::map<name, Process>   (bytewise name order = digest order)
//   Process ── brk, mappings: std::map<start, Mapping>   (non-overlapping, page-aligned)
//   Mapping ── [start, end), prot, shared, obj (shared_ptr<MemObject>), obj_page
//   MemObject ── pages: std::map<page index, 4096 bytes>   (absent page = all zero)
//
// A mapping is a range, not a page list, so a 4 GiB mapping costs one map
// entry; contents are sparse, so only pages that were written cost memory.
// Page va of a mapping shows page `obj_page + (va - start) / 4096` of `obj`.
// Splitting a mapping (partial munmap/mprotect) makes two mappings that
// reference the same object at different offsets, which is what keeps a split
// shared mapping one piece of shared memory.
//
// The object is the unit of sharing:
//  - a shared anonymous mapping sees its object directly; every mapping of
//    that object (split pieces now, other processes after fork later) sees
//    the same bytes;
//  - a private anonymous mapping has an object of its own that no other
//    mapping range overlaps (pieces of a split mapping cover disjoint page
//    ranges of it), so its pages can be dropped (munmap, madvise dontneed)
//    without affecting anyone else.
// Later ops fit this shape: files are shared objects with a name and a size;
// a private file mapping gets a private object laid over the file object
// (absent page = the file's page); fork copies every private object (sparse,
// so cheap) and shares every shared one.
//
// Nothing here is clever: every op is a few range walks over std::map.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "lib/types.hpp"
#include "trace/trace.hpp"

namespace vmsim {

// Address-space layout, fixed by the spec (§3) for every implementation.
inline constexpr uint64_t kModelPageSize = 4096;
inline constexpr uint64_t kMinMapAddr = 0x10000;       // nothing may be mapped below
inline constexpr uint64_t kUserTop = 0x7ffffffff000;   // end of user space (TASK_SIZE)
inline constexpr uint64_t kMmapTop = 0x7f0000000000;   // top of the placement search
inline constexpr uint64_t kInitialBreak = 0x10000000;  // break of a new process

struct ModelOutcome {
  vm::Status status = vm::Status::kOk;    // for calls
  vm::Signal signal = vm::Signal::kNone;  // for accesses
  // read: the value; mmap: the start; brk: the new break; sbrk: the old
  // break. Meaningful only when the op succeeded.
  uint64_t value = 0;
  uint64_t fault_addr = 0;  // the address of the access that signalled
  uint64_t steps_done = 0;  // touch: accesses completed before a signal (or all)
};

class Model {
 public:
  Model();

  // An empty address space with its break at kInitialBreak. Creating a
  // process that exists is a programming error (asserted).
  void create_process(const std::string& name);
  bool has_process(const std::string& name) const;

  // Every op below takes the name of an existing process (a programming
  // error otherwise: std::out_of_range). `prot` is ProtBits (r=1 w=2 x=4).
  ModelOutcome mmap(const std::string& proc, std::optional<uint64_t> addr, uint64_t len,
                    uint8_t prot, bool shared, bool fixed, bool populate);
  ModelOutcome munmap(const std::string& proc, uint64_t addr, uint64_t len);
  ModelOutcome mprotect(const std::string& proc, uint64_t addr, uint64_t len, uint8_t prot);
  ModelOutcome madvise(const std::string& proc, uint64_t addr, uint64_t len, Advice advice);
  ModelOutcome brk(const std::string& proc, uint64_t addr);
  ModelOutcome sbrk(const std::string& proc, int64_t incr);

  // Accesses. `addr` is naturally aligned to `size` (1, 2, 4 or 8), which
  // the loader guarantees, so an access never crosses a page.
  ModelOutcome read(const std::string& proc, uint64_t addr, uint32_t size);
  ModelOutcome write(const std::string& proc, uint64_t addr, uint32_t size, uint64_t value);
  ModelOutcome touch(const std::string& proc, uint64_t addr, uint64_t len, uint64_t stride,
                     bool write, uint8_t value);

  // The state digest of spec §7: 64 lowercase hex digits.
  std::string digest() const;

 private:
  using Page = std::array<uint8_t, kModelPageSize>;

  // A memory object: sparse pages of bytes, indexed by page number.
  struct MemObject {
    std::map<uint64_t, Page> pages;  // absent: all zero
  };

  struct Mapping {
    uint64_t end = 0;  // exclusive; the start is the key in Process::mappings
    uint8_t prot = 0;  // ProtBits, as asked
    bool shared = false;
    std::shared_ptr<MemObject> obj;
    uint64_t obj_page = 0;  // object page shown at the mapping's start
  };

  struct Process {
    uint64_t brk = kInitialBreak;
    std::map<uint64_t, Mapping> mappings;  // start -> mapping; non-overlapping
  };

  Process& process(const std::string& name);

  // Range helpers; all ranges are page-aligned and half-open.
  static bool range_free(const Process& p, uint64_t start, uint64_t end);
  static std::optional<uint64_t> highest_fit(const Process& p, uint64_t len);
  // Splits the mapping that strictly contains `addr`, if any, at `addr`.
  static void split_at(Process& p, uint64_t addr);
  // Removes [start, end) from the address space (holes allowed).
  static void unmap_range(Process& p, uint64_t start, uint64_t end);
  // Maps fresh zero-filled anonymous memory at [start, end), which is free.
  static void map_anon(Process& p, uint64_t start, uint64_t end, uint8_t prot, bool shared);
  // The mapping containing `addr`, or nullptr; `start` receives its start.
  static const Mapping* find_mapping(const Process& p, uint64_t addr, uint64_t* start);
  static ModelOutcome set_break(Process& p, uint64_t new_brk);

  // One access of `size` bytes; fills signal/fault_addr when it cannot happen.
  static bool access(Process& p, uint64_t addr, uint32_t size, bool write, uint64_t* value,
                     ModelOutcome* out);

  std::map<std::string, Process> processes_;
};

}  // namespace vmsim
