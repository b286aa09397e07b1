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
//         ├─ files: std::map<name, File>          (same, for the file part of the digest)
//         └─ devices: std::map<name, Device>      (same, for the device part; spec §10)
//   Process ── brk, start_brk, mappings: std::map<start, Mapping>   (non-overlapping, page-aligned)
//   Mapping ── [start, end), prot, shared, obj (shared_ptr<MemObject>), obj_page, file (name or "")
//   MemObject ── pages: std::map<page index, 4096 bytes>   (stored pages), fill ranges
//   File ── size, initial content (fill byte or seed) below initial_end, cache (a MemObject)
//
// A mapping is a range, not a page list, so a 4 GiB mapping costs one map
// entry; contents are sparse, so only pages that were written cost memory
// (by a write, a poke or a pwrite: a pwrite of n bytes stores about n bytes).
// Page va of a mapping is page `k = obj_page + (va - start) / 4096` of its
// object; for a file mapping k is also the page's index in the file
// (obj_page = offset / 4096). Splitting a mapping (partial munmap/mprotect)
// makes two mappings that reference the same object at different offsets,
// which is what keeps a split shared mapping one piece of shared memory.
//
// What a page that its object does not store reads as (its *base*):
//  - anonymous object: zero, or the object's fill byte inside its fill
//    ranges (exec's text 0xcc and data 0xda, kept as ranges so that a 64 GiB
//    segment costs nothing; madvise dontneed and munmap cut the ranges, so
//    those pages read zero afterwards like any private anonymous page);
//  - a file's cache: the file's initial content (spec §2) for bytes below
//    File::initial_end, zero above. initial_end starts at the file's size
//    and only ever goes down (a shrinking truncate), so bytes past EOF and
//    bytes regrown after a shrink read zero without storing anything;
//  - a private file mapping's object: the file's current page, i.e. the
//    cache page if stored, else the initial content. So a pwrite or a write
//    through a shared mapping shows through every page the private mapping
//    has not written, and its first write copies the current page in.
//
// The object is the unit of sharing:
//  - a shared anonymous mapping sees its object directly; every mapping of
//    that object (split pieces, other processes after fork) sees the same
//    bytes;
//  - a shared file mapping's object *is* the file's cache: writes change the
//    file (below EOF) and show through every mapping of the file;
//  - a device mapping's object *is* the device's bytes (stored pages over
//    its boot content, filled like a file): device mappings are always
//    shared, so writes show through every mapping and in the digest's
//    device part; nothing (munmap, madvise dontneed, exit) drops them;
//  - a private mapping (anonymous or file) has an object of its own that no
//    other mapping range overlaps (pieces of a split mapping cover disjoint
//    page ranges of it), so its pages can be dropped (munmap, madvise
//    dontneed, a shrinking truncate for pages past EOF) without affecting
//    anyone else;
//  - fork copies every private object eagerly (the child gets its own deep
//    copies; copy-on-write is the core's business, and the copy is sparse, so
//    cheap) and shares every shared one;
//  - copying a Model is a deep copy too: the copy has its own objects, with
//    the same sharing among its mappings and files as the original.
//
// Invariant: no object stores a page wholly past its file's EOF (accesses
// and pokes there fail before storing; truncate drops them), so growing a
// file never brings old bytes back.
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
inline constexpr uint64_t kExecText = 0x400000;        // exec: where text starts
inline constexpr uint8_t kExecTextByte = 0xcc;         // exec: every byte of text
inline constexpr uint8_t kExecDataByte = 0xda;         // exec: every byte of data
// A file mapping must end (offset + rounded len) at most here: Linux's
// MAX_LFS_FILESIZE (2^63 - 1), beyond which it says EOVERFLOW; vmsim: einval.
inline constexpr uint64_t kMaxFileMapEnd = (uint64_t{1} << 63) - 1;

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
  // A deep copy (see the header comment); moving is cheap.
  Model(const Model& other);
  Model& operator=(const Model& other);
  Model(Model&&) = default;
  Model& operator=(Model&&) = default;

  // An empty address space with its break at kInitialBreak. Creating a
  // process that exists is a programming error (asserted). A privileged
  // process may map devices (spec §10); its forked children inherit it.
  void create_process(const std::string& name, bool privileged = false);
  bool has_process(const std::string& name) const;

  // A file of the trace's `files`, before any op. Creating a file that
  // exists is a programming error (asserted).
  void create_file(const FileSpec& f);
  // A device of machine.devices, before any op (asserted new).
  void create_device(const DeviceSpec& d);

  // Every op below takes the name of an existing process (a programming
  // error otherwise: std::out_of_range), and of an existing file where it
  // takes one (the same). `prot` is ProtBits (r=1 w=2 x=4).
  ModelOutcome mmap(const std::string& proc, std::optional<uint64_t> addr, uint64_t len,
                    uint8_t prot, bool shared, bool fixed, bool populate);
  ModelOutcome mmap_file(const std::string& proc, std::optional<uint64_t> addr, uint64_t len,
                         uint8_t prot, bool shared, bool fixed, bool populate,
                         const std::string& file, uint64_t offset);
  // A device mapping (spec §10; `shared` always, the loader's rule):
  // eperm for a process that is not privileged, before anything else; then
  // as a file mapping; einval when [offset, offset + len) passes the
  // device's end (before a fixed mapping replaces anything).
  ModelOutcome mmap_device(const std::string& proc, std::optional<uint64_t> addr, uint64_t len,
                           uint8_t prot, bool fixed, const std::string& device, uint64_t offset);
  ModelOutcome munmap(const std::string& proc, uint64_t addr, uint64_t len);
  ModelOutcome mprotect(const std::string& proc, uint64_t addr, uint64_t len, uint8_t prot);
  ModelOutcome madvise(const std::string& proc, uint64_t addr, uint64_t len, Advice advice);
  ModelOutcome brk(const std::string& proc, uint64_t addr);
  ModelOutcome sbrk(const std::string& proc, int64_t incr);

  // Files. offset + len of a pwrite does not overflow (the loader keeps it
  // within 4 GiB; asserted).
  ModelOutcome pwrite(const std::string& file, uint64_t offset, uint8_t value, uint64_t len);
  ModelOutcome truncate(const std::string& file, uint64_t size);

  // Processes. `child` does not exist yet (asserted).
  ModelOutcome fork(const std::string& parent, const std::string& child);
  ModelOutcome exec(const std::string& proc, uint64_t text, uint64_t data, uint64_t bss,
                    uint64_t stack);
  // An exec the trace says fails with enomem: nothing changes.
  ModelOutcome exec_fails_out_of_memory(const std::string& proc);
  ModelOutcome exit(const std::string& proc);
  // The op the trace marks `expect_fault: oom` (spec §8): the model has no
  // memory limit, so it kills the process exactly there, as exit does, and
  // the op ends with signal kOom. A process already gone (another of its
  // threads was killed first) stays gone.
  ModelOutcome oom_kill(const std::string& proc);

  // Accesses. `addr` is naturally aligned to `size` (1, 2, 4 or 8), which
  // the loader guarantees, so an access never crosses a page.
  ModelOutcome read(const std::string& proc, uint64_t addr, uint32_t size);
  ModelOutcome write(const std::string& proc, uint64_t addr, uint32_t size, uint64_t value);
  ModelOutcome touch(const std::string& proc, uint64_t addr, uint64_t len, uint64_t stride,
                     bool write, uint8_t value);
  // The block cache (spec §3). The model forgets nothing by itself: a get
  // of a block it holds is a hit, unless `forgotten` says the core's
  // pageout let go of it under pressure (the caller decides when that may
  // be), which makes it a miss that drops the block.
  ModelOutcome cache_put(const std::string& proc, uint64_t id, uint64_t addr, uint64_t len);
  ModelOutcome cache_get(const std::string& proc, uint64_t id, uint64_t addr, bool forgotten);

  // A write through the kernel into `target_proc` (ptrace, /proc/PID/mem).
  ModelOutcome poke(const std::string& target_proc, uint64_t addr, uint32_t size, uint64_t value);

  // The state digest of spec §7: 64 lowercase hex digits.
  std::string digest() const;

  // A hash of everything that decides what later ops do (digest() leaves out
  // e.g. the break and which mappings share an object), for the
  // linearizability search to memoize on (model_fingerprint.cpp). Copies of a
  // model hash alike; different states collide with probability ~2^-128.
  std::array<uint64_t, 2> fingerprint() const;

 private:
  using Page = std::array<uint8_t, kModelPageSize>;

  // A memory object: sparse stored pages, indexed by page number. A page it
  // does not store reads as its base (see the header comment): `fill` inside
  // the fill ranges, else zero for anonymous memory, the file for file
  // objects (which never have fill ranges).
  struct MemObject {
    std::map<uint64_t, Page> pages;
    uint8_t fill = 0;
    std::map<uint64_t, uint64_t> filled;  // first page -> end page; disjoint, non-empty

    bool is_filled(uint64_t k) const;
    // The smallest page >= k that is stored or filled, or UINT64_MAX.
    uint64_t next_content(uint64_t k) const;
    // Forgets [first, last): stored pages and fill alike read zero/base again.
    void drop(uint64_t first, uint64_t last);
  };

  struct File {
    uint64_t size = 0;
    // Bytes below initial_end that no write reached hold the trace's initial
    // content; every other byte never stored is zero. initial_end <= size.
    uint64_t initial_end = 0;
    bool seeded = false;
    uint8_t fill = 0;
    uint64_t seed = 0;
    std::shared_ptr<MemObject> cache;  // the page cache: stored pages, by file page
  };

  struct Mapping {
    uint64_t end = 0;  // exclusive; the start is the key in Process::mappings
    uint8_t prot = 0;  // ProtBits, as asked
    bool shared = false;
    // Anonymous: its object. Shared file: the file's cache. Private file:
    // the mapping's own object of written pages, over the file.
    std::shared_ptr<MemObject> obj;
    uint64_t obj_page = 0;  // object (and file) page shown at the mapping's start
    std::string file;       // empty: anonymous
    std::string device;     // a device mapping (then obj is the device's, shared)
  };

  struct Device {
    uint64_t size = 0;
    bool seeded = false;  // boot content, as a file's
    uint8_t fill = 0;
    uint64_t seed = 0;
    std::shared_ptr<MemObject> bytes;  // pages written since boot
  };

  // A block-cache block: its length and its pages that are not all zero.
  struct Block {
    uint64_t pages = 0;
    std::map<uint64_t, Page> data;  // page index in the block -> bytes
  };

  struct Process {
    bool privileged = false;
    uint64_t brk = kInitialBreak;
    uint64_t start_brk = kInitialBreak;  // the initial break: kInitialBreak, or bss end after exec
    std::map<uint64_t, Mapping> mappings;  // start -> mapping; non-overlapping
    std::map<uint64_t, Block> cache;       // id -> block; kept across exec, not given to a child
  };

  Process& process(const std::string& name);
  const File& file(const std::string& name) const { return files_.at(name); }

  // `device`, when given, checks its range once the place is found.
  ModelOutcome do_mmap(Process& p, std::optional<uint64_t> addr, uint64_t len, uint8_t prot,
                       bool shared, bool fixed, const std::string* file, uint64_t offset,
                       const Device* device = nullptr);

  // Range helpers; all ranges are page-aligned and half-open.
  static bool range_free(const Process& p, uint64_t start, uint64_t end);
  static std::optional<uint64_t> highest_fit(const Process& p, uint64_t len);
  // Splits the mapping that strictly contains `addr`, if any, at `addr`.
  static void split_at(Process& p, uint64_t addr);
  // Removes [start, end) from the address space (holes allowed).
  static void unmap_range(Process& p, uint64_t start, uint64_t end);
  // Maps fresh zero-filled anonymous memory at [start, end), which is free.
  static Mapping& map_anon(Process& p, uint64_t start, uint64_t end, uint8_t prot, bool shared);
  // The mapping containing `addr`, or nullptr; `start` receives its start.
  static const Mapping* find_mapping(const Process& p, uint64_t addr, uint64_t* start);
  static ModelOutcome set_break(Process& p, uint64_t new_brk);
  // Whether [addr, end) is private anonymous memory with `w` (cache_put/get).
  static vm::Status check_block_range(const Process& p, uint64_t addr, uint64_t end);

  // Content. `k` is a page index in the mapping's object (= file page).
  static uint64_t eof_pages(const File& f);  // pages holding bytes below EOF
  static uint8_t initial_byte(const File& f, uint64_t pos);
  static uint8_t file_byte(const File& f, uint64_t k, uint64_t off);
  static Page file_page(const File& f, uint64_t k);      // incl. bytes past EOF in the last page
  static Page device_page(const Device& d, uint64_t k);  // what the device holds now
  // Page k of the mapping's object when the object does not store it.
  Page base_page(const Mapping& m, uint64_t k) const;
  uint8_t load_byte(const Mapping& m, uint64_t k, uint64_t off) const;
  Page load_page(const Mapping& m, uint64_t k) const;
  // The object's page k, stored from its base first if needed.
  Page& store_page(const Mapping& m, uint64_t k);
  // Whether page k of a file mapping is wholly past EOF (false for anonymous).
  bool past_eof(const Mapping& m, uint64_t k) const;
  // The smallest page >= k of m's object that may hold a non-zero byte, or UINT64_MAX.
  uint64_t next_content(const Mapping& m, uint64_t k) const;
  // Zeroes the stored bytes of f's cache in [from, to) (within one page).
  static void zero_cache_bytes(File& f, uint64_t from, uint64_t to);
  // Sets the size of file `name` (f), with what a size change does to the
  // bytes past EOF and to pages wholly past a lower EOF.
  void resize_file(const std::string& name, File& f, uint64_t size);

  // One access of `size` bytes; fills signal/fault_addr when it cannot happen.
  bool access(Process& p, uint64_t addr, uint32_t size, bool write, uint64_t* value,
              ModelOutcome* out);

  std::map<std::string, Process> processes_;
  std::map<std::string, File> files_;
  std::map<std::string, Device> devices_;
};

}  // namespace vmsim
