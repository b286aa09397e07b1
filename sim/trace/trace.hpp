// A loaded, validated trace (spec `vmsim-trace/1`). The loader guarantees
// every invariant written next to the fields below; the executor and the
// reference model rely on them and re-check nothing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "image/file_content.hpp"

namespace vmsim {

// Where a JSON value stood in its file (1-based; 0 when unknown).
struct SourceLoc {
  uint32_t line = 0;
  uint32_t column = 0;
};

// An address operand: absolute, or relative to a label bound by `mmap as`.
struct AddrExpr {
  std::string label;    // empty: absolute address `offset`
  uint64_t offset = 0;  // the address, or the displacement from the label
  bool is_label() const { return !label.empty(); }
};

enum class OpKind {
  kMmap,
  kMunmap,
  kMprotect,
  kMadvise,
  kBrk,
  kSbrk,
  kRead,
  kWrite,
  kTouch,
  kPoke,
  kFork,
  kExec,
  kExit,
  kTruncate,
  kPwrite,
  kCachePut,
  kCacheGet,
  kPageout,
  kYield,
};
const char* op_kind_name(OpKind k);  // the spec's spelling: "mmap", "cache_put", ...

enum class ExpectedResult { kOk, kEnomem, kEinval, kEfault, kHit, kMiss, kEperm };
const char* expected_result_name(ExpectedResult r);  // "ok", "enomem", ...

enum class FaultKind { kSegv, kBus, kOom };
enum class Advice { kDontneed, kWillneed, kHugepage, kNohugepage };
// machine.large_pages (spec §9).
enum class LargePages { kNever, kAlways, kMadvise };

// Protection as the letters `r`, `w`, `x` (bit values match vm::Prot).
enum ProtBits : uint8_t { kR = 1, kW = 2, kX = 4 };

// One operation. Only the fields of its kind are meaningful; the loader
// rejects keys that do not belong to the op and fills defaults.
struct Op {
  OpKind kind = OpKind::kYield;
  std::string path;  // JSON path, e.g. "threads[1].ops[4]"
  SourceLoc loc;

  std::optional<FaultKind> expect_fault;
  ExpectedResult result = ExpectedResult::kOk;
  bool result_given = false;  // `result` was written; cache_get without it accepts hit or miss

  // mmap, munmap, mprotect, madvise, touch, read, write, poke, cache_*, brk
  AddrExpr addr;
  bool has_addr = false;  // mmap: `addr` given (hint, or the place with `fixed`)
  uint64_t len = 0;       // mmap/munmap/mprotect/madvise/touch/pwrite/cache_put
  uint8_t prot = 0;       // ProtBits
  bool shared = false;    // mmap `share`
  bool fixed = false;
  bool populate = false;
  std::string file;     // mmap (empty: anonymous), truncate, pwrite
  std::string device;   // mmap of a device (spec §10; never with `file`; then `shared`)
  uint64_t offset = 0;  // mmap file or device offset, pwrite offset
  std::string as;       // mmap label to bind (empty: none)
  Advice advice = Advice::kDontneed;

  // read, write, poke: size in {1,2,4,8}; addr naturally aligned when absolute.
  uint32_t size = 1;
  uint64_t value = 0;      // write/poke/touch-w/pwrite value; read: expected value
  bool has_value = false;  // read: `value` given

  // touch: one 1-byte access per stride step in [addr, addr+len)
  bool touch_write = false;
  uint64_t stride = 4096;  // >= 1

  int64_t incr = 0;                                 // sbrk
  std::string process;                              // poke target
  std::string child;                                // fork
  uint64_t text = 0, data = 0, bss = 0, stack = 0;  // exec
  uint64_t id = 0;                                  // cache_put / cache_get
  uint64_t pages = 0;                               // pageout
  uint64_t file_size = 0;                           // truncate: the file's new size (<= 4 GiB)
};

struct ThreadSpec {
  std::string name;
  std::string process;
  uint32_t cpu = 0;  // < machine.cpus
  // Given true only on the first thread naming a process no fork creates:
  // the process is privileged (spec §10); a forked child inherits it.
  bool privileged = false;
  std::vector<Op> ops;
  std::string path;  // "threads[2]"
};

// A device (spec §10): physical address space that is not RAM, filled like
// a file at boot. The loader guarantees: `phys` and `size` page multiples,
// size > 0, the range below kMaxDeviceEnd, disjoint from RAM [0, memory) and
// from every other device; names unique; at most kMaxDevices, together at
// most kMaxDeviceBytes.
struct DeviceSpec {
  static constexpr size_t kMaxDevices = 16;
  static constexpr uint64_t kMaxDeviceEnd = uint64_t{64} << 30;
  static constexpr uint64_t kMaxDeviceBytes = uint64_t{256} << 20;

  std::string name;
  uint64_t phys = 0;
  uint64_t size = 0;
  bool seeded = false;  // content as FileSpec's
  uint8_t fill = 0;
  uint64_t seed = 0;
  std::string path;
};

struct MachineSpec {
  uint32_t cpus = 1;              // 1..64
  uint64_t memory = 64ull << 20;  // bytes, page multiple, within loader limits
  uint64_t swap = 0;
  uint64_t reserved = 0;  // frames kept for the pageout path (bytes)
  uint64_t compressor = 0;
  std::vector<DeviceSpec> devices;              // in trace order
  LargePages large_pages = LargePages::kNever;  // spec §9
};

struct FileSpec {
  std::string name;
  uint64_t size = 0;
  bool seeded = false;  // content: {"seed": seed} if true, else {"fill": fill}
  uint8_t fill = 0;
  uint64_t seed = 0;
  std::string path;
};

enum class Policy { kRoundRobin, kSequential, kRandom };

struct ScheduleStep {
  enum class Kind { kRun, kOps, kUntil };
  Kind kind = Kind::kRun;
  std::string thread;
  uint64_t ops = 0;    // kOps: n >= 1
  std::string point;   // kUntil: a name from the yield-point catalogue
  uint64_t count = 1;  // kUntil: >= 1
  std::string path;    // "schedule[3]"
  SourceLoc loc;
};

struct Schedule {
  Policy policy = Policy::kRoundRobin;  // for whatever the steps leave
  uint64_t seed = 0;
  std::vector<ScheduleStep> steps;
};

struct Expectations {
  std::optional<std::string> result;     // "pass" | "violation"
  std::optional<std::string> violation;  // one of the spec's kinds
  std::optional<std::string> digest;     // 64 lowercase hex digits
  std::map<std::string, int64_t> stats;  // names from docs/result-format.md
};

struct Trace {
  std::string file;  // path it was loaded from (for messages)
  std::string name;
  std::string description;
  MachineSpec machine;
  std::vector<FileSpec> files;
  std::vector<ThreadSpec> threads;  // non-empty; names unique
  Schedule schedule;
  Expectations expect;
};

// Byte `offset` of the file's initial content (spec §2).
inline uint8_t initial_byte(const FileSpec& f, uint64_t offset) {
  return image::file_content_byte(f.seeded, f.seed, f.fill, offset);
}
// Byte `offset` of the device at boot: filled like a file (spec §10).
inline uint8_t initial_byte(const DeviceSpec& d, uint64_t offset) {
  return image::file_content_byte(d.seeded, d.seed, d.fill, offset);
}

}  // namespace vmsim
