// The compiled trace image (`vmsim-image/1`): a trace (spec vmsim-trace/1)
// after `vmsim compile` has loaded and validated it, laid out as flat
// fixed-width records that a freestanding kernel can read in place.
//
// Everything is little-endian (the only byte order x86-64 has; the writer
// refuses to run elsewhere). Every record is a multiple of 8 bytes and every
// section starts at a multiple of 8 from the image start, so records can be
// read through pointers once the image itself is 8-aligned (multiboot loads
// modules page-aligned).
//
//   offset 0            ImageHeader
//   header.sections[i]  one Section per SectionId: {offset, count} of records
//     kStrings          bytes: every name, each NUL-terminated; a StrRef
//                       points into it
//     kProcesses        ImageProcess: each distinct process name, in order of
//                       first appearance (thread's `process`, fork `child`,
//                       poke `process`), and whether its creating thread
//                       makes it privileged
//     kLabels           ImageLabel: each distinct `as` / `@label` name
//     kFiles            ImageFile, in trace order (index = disk id)
//     kThreads          ImageThread, in trace order
//     kOps              ImageOp: all threads' ops, thread by thread
//     kSteps            ImageStep: schedule steps
//     kExpectStats      ImageStat: expect.stats, in name order
//     kDevices          ImageDevice: machine.devices, in trace order
//
// A reference to another table is its index; kNone (0xffffffff) means absent.
// The header's checksum (FNV-1a, 32 bits) covers every byte after the header,
// so a truncated or corrupted image is refused rather than half-run.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace image {

inline constexpr uint32_t kMagic = 0x494d5356;  // "VSMI" in memory order
inline constexpr uint32_t kVersion = 1;
inline constexpr uint32_t kNone = 0xffffffffu;

// A name in the string table: `len` bytes at `offset`, followed by a NUL.
struct StrRef {
  uint32_t offset = 0;
  uint32_t len = 0;
};

enum SectionId : uint32_t {
  kStrings,
  kProcesses,
  kLabels,
  kFiles,
  kThreads,
  kOps,
  kSteps,
  kExpectStats,
  kDevices,
  kSectionCount,
};

struct Section {
  uint64_t offset = 0;  // bytes from the image start; multiple of 8
  uint64_t count = 0;   // records (bytes for kStrings)
};

struct ImageMachine {
  uint32_t cpus = 1;         // 1..64
  uint32_t large_pages = 0;  // ImageLargePages
  uint64_t memory = 0;       // bytes, page multiple
  uint64_t swap = 0;
  uint64_t reserved = 0;  // bytes kept for the pageout path
  uint64_t compressor = 0;
};

// Same values as vmsim::LargePages and vm::LargePages.
enum ImageLargePages : uint32_t { kLargeNever, kLargeAlways, kLargeMadvise };

// Same values as vmsim::Policy.
enum class ImagePolicy : uint32_t { kRoundRobin, kSequential, kRandom };

enum class ExpectResult : uint32_t { kNone, kPass, kViolation };

struct ImageExpect {
  ExpectResult result = ExpectResult::kNone;
  uint32_t has_digest = 0;  // 1: `digest` holds 64 lowercase hex digits
  StrRef violation;         // kind name; len 0: no expectation
  char digest[64] = {};     // not NUL-terminated
};

struct ImageHeader {
  uint32_t magic = kMagic;
  uint32_t version = kVersion;
  uint32_t header_size = sizeof(ImageHeader);
  uint32_t checksum = 0;    // FNV-1a of bytes [header_size, image_size)
  uint64_t image_size = 0;  // total bytes
  Section sections[kSectionCount];
  StrRef name;  // the trace's `name`
  ImageMachine machine;
  ImagePolicy policy = ImagePolicy::kRoundRobin;
  uint32_t pad = 0;
  uint64_t seed = 0;  // schedule.seed
  ImageExpect expect;
};

struct ImageProcess {
  StrRef name;
  uint32_t privileged = 0;  // 1: its first thread says so (spec §10); forks inherit instead
  uint32_t pad = 0;
};

struct ImageLabel {
  StrRef name;
};

struct ImageFile {
  StrRef name;
  uint64_t size = 0;
  uint64_t seed = 0;    // content when seeded (spec §2 mix)
  uint32_t seeded = 0;  // 1: seed content; 0: every byte is `fill`
  uint32_t fill = 0;    // 0..255
};

// A device (spec §10): as ImageFile, plus where the trace puts it in
// physical address space (the loader's guarantees: page multiples, outside
// RAM, disjoint).
struct ImageDevice {
  StrRef name;
  uint64_t phys = 0;
  uint64_t size = 0;
  uint64_t seed = 0;
  uint32_t seeded = 0;
  uint32_t fill = 0;
};

struct ImageThread {
  StrRef name;
  uint32_t process = 0;   // ImageProcess index
  uint32_t cpu = 0;       // < machine.cpus
  uint32_t first_op = 0;  // index of its first ImageOp
  uint32_t op_count = 0;
};

// Same values, in the same order, as vmsim::OpKind.
enum class ImageOpKind : uint8_t {
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
  kCount,
};

// The spec's spelling of each op kind.
inline constexpr const char* kImageOpNames[] = {
    "mmap",   "munmap",    "mprotect",  "madvise", "brk",  "sbrk", "read",
    "write",  "touch",     "poke",      "fork",    "exec", "exit", "truncate",
    "pwrite", "cache_put", "cache_get", "pageout", "yield"};
static_assert(sizeof(kImageOpNames) / sizeof(kImageOpNames[0]) == size_t(ImageOpKind::kCount));

enum class ImageFault : uint8_t { kNone, kSegv, kBus, kOom };
// Same values as vmsim::ExpectedResult.
enum class ImageResult : uint8_t { kOk, kEnomem, kEinval, kEfault, kHit, kMiss, kEperm };

enum OpFlags : uint16_t {
  kResultGiven = 1 << 0,  // `result` written (else kOk, and cache_get accepts hit or miss)
  kHasAddr = 1 << 1,      // mmap: `addr` given
  kShared = 1 << 2,       // mmap share: shared
  kFixed = 1 << 3,
  kPopulate = 1 << 4,
  kHasValue = 1 << 5,    // read: `value` asserted
  kTouchWrite = 1 << 6,  // touch access `w`
  kWillneed = 1 << 7,    // madvise advice willneed (else dontneed, unless one below)
  kHugepage = 1 << 8,    // madvise advice hugepage
  kNohugepage = 1 << 9,  // madvise advice nohugepage
};

// One op; only the fields of its kind mean anything (see sim/trace/trace.hpp
// for each field's meaning and the loader's guarantees).
struct ImageOp {
  ImageOpKind kind = ImageOpKind::kYield;
  ImageFault expect_fault = ImageFault::kNone;
  ImageResult result = ImageResult::kOk;
  uint8_t prot = 0;  // r=1 w=2 x=4
  uint16_t flags = 0;
  uint8_t size = 1;  // read/write/poke: 1, 2, 4, 8
  uint8_t pad = 0;
  uint32_t addr_label = kNone;  // address operand: label index + `addr`, or absolute `addr`
  uint32_t as_label = kNone;    // mmap: label bound to the start
  uint64_t addr = 0;
  uint64_t len = 0;     // mmap/munmap/mprotect/madvise/touch/pwrite/cache_put
  uint64_t offset = 0;  // mmap file offset, pwrite offset
  uint64_t value = 0;   // write/poke/touch-w/pwrite value; read: expected value
  uint64_t stride = 4096;
  int64_t incr = 0;          // sbrk
  uint32_t file = kNone;     // mmap (kNone: anonymous), truncate, pwrite: ImageFile index
  uint32_t process = kNone;  // poke target: ImageProcess index
  uint32_t child = kNone;    // fork: ImageProcess index
  uint32_t device = kNone;   // mmap of a device: ImageDevice index
  uint64_t text = 0, data = 0, bss = 0, stack = 0;  // exec
  uint64_t id = 0;                                  // cache_put / cache_get
  uint64_t pages = 0;                               // pageout
  uint64_t file_size = 0;                           // truncate
  uint32_t line = 0, column = 0;                    // where it stood in the trace
};

// Same values as vmsim::ScheduleStep::Kind.
enum class ImageStepKind : uint32_t { kRun, kOps, kUntil };

struct ImageStep {
  ImageStepKind kind = ImageStepKind::kRun;
  uint32_t thread = 0;  // ImageThread index
  uint64_t ops = 0;     // kOps
  StrRef point;         // kUntil: yield-point name
  uint64_t count = 1;   // kUntil
};

struct ImageStat {
  StrRef name;
  int64_t value = 0;
};

static_assert(sizeof(StrRef) == 8);
static_assert(sizeof(ImageMachine) == 40);
static_assert(sizeof(ImageExpect) == 80);
static_assert(sizeof(ImageHeader) == 24 + 16 * kSectionCount + 8 + 40 + 16 + 80);
static_assert(sizeof(ImageHeader) % 8 == 0);
static_assert(sizeof(ImageFile) == 32);
static_assert(sizeof(ImageDevice) == 40);
static_assert(sizeof(ImageProcess) == 16);
static_assert(sizeof(ImageThread) == 24);
static_assert(sizeof(ImageOp) == 144);
static_assert(sizeof(ImageStep) == 32);
static_assert(sizeof(ImageStat) == 16);

// FNV-1a over `n` bytes (the header's checksum).
inline uint32_t fnv1a(const uint8_t* p, uint64_t n) {
  uint32_t h = 2166136261u;
  for (uint64_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

}  // namespace image
