// The byte stream of the state digest `vmsim-digest/1` (spec §7), written
// once here and fed by every side that must agree on it: the core's state
// walk, the simulator's reference model and the bare-metal port.
//
// Callers announce processes in ascending name order, then for each process
// its mapped page ranges in ascending address order (`mapping`), then its
// non-zero pages (`page`), then the files, then the devices (spec §10). The writer merges adjacent
// mappings into maximal runs itself, so no caller needs to know how the other stores its regions.
//
// Order is checked, not trusted: a call out of order (a process or file name
// not strictly ascending, a mapping that is empty, unaligned, or starts below
// the previous one's end, a page before end_mappings() or not ascending, a
// file page not ascending or past the file's size, a file_page() with no
// file, the same for devices, a file after a device, a call after finish()) is a caller bug. lib/
// has no panic, so the writer records it and finish() then produces the string
// "invalid-digest-order" instead of a hash; tests and the audit compare
// against real digests and catch it. `ok()` tells the same earlier.
//
// begin_process(), file() and finish() imply end_mappings() for a process
// that has no pages. String arguments (names, DigestMapping::file) must stay
// valid until the next call on the writer: the pending run still refers to
// its file name.
#pragma once

#include "lib/sha256.hpp"
#include "lib/types.hpp"

namespace vm {

struct DigestMapping {
  vaddr_t start;
  vaddr_t end;  // exclusive, page-aligned
  Prot prot;
  Share share;
  const char* file;              // nullptr for anonymous memory (and devices)
  u64 file_offset;               // offset of `start` in the file or device
  const char* device = nullptr;  // a device mapping (spec §10): BACKING device:NAME:offset
};

class DigestWriter {
 public:
  // finish()'s output when the calls broke the order above.
  static constexpr const char kInvalidOrder[] = "invalid-digest-order";

  DigestWriter();

  void begin_process(const char* name);
  // Mappings of the current process, ascending and non-overlapping.
  void mapping(const DigestMapping& m);
  // Ends the run list of the current process; pages may follow.
  void end_mappings();
  // A page of the current process, ascending; the writer skips it if all zero.
  void page(vaddr_t va, const u8* bytes4096);
  void file(const char* name, u64 size);
  // A page of the current file, ascending, offset < size; the bytes past
  // the end of the file must be zero. Skipped if all zero.
  void file_page(u64 offset, const u8* bytes4096);
  // The devices, ascending by name, after every file; their pages as files'.
  void device(const char* name, u64 size);
  void device_page(u64 offset, const u8* bytes4096);

  // Finishes the stream; writes 64 lowercase hex digits and a NUL, or
  // kInvalidOrder and a NUL.
  void finish(char out_hex[65]);

  // False once a call broke the order.
  bool ok() const { return !invalid_; }

 private:
  enum class Phase : u8 { kStart, kMappings, kPages, kFiles, kDevices, kFinished };
  // Bytes of the previous process/file name kept for the ascending check
  // (longer names are compared on this prefix only).
  static constexpr size_t kNameKeep = 64;

  void flush_run();
  void put(const char* s);
  void put_hex16(u64 v);
  void put_page(const u8* bytes4096);
  void close_mappings();
  // A file or device header, and the checks its pages share.
  void begin_sized(Phase phase, const char* tag, const char* name, u64 size);
  void sized_page(Phase phase, const char* tag, u64 offset, const u8* bytes4096);
  // Checks `name` > the previous name of this kind, then remembers it.
  bool name_ascends(const char* name);
  void fail() { invalid_ = true; }

  Sha256 sha_;
  Phase phase_ = Phase::kStart;
  bool invalid_ = false;
  bool have_run_ = false;
  DigestMapping run_{};  // Invariant (have_run_): the pending, unwritten run.
  vaddr_t next_va_ = 0;  // kMappings: lowest allowed start; kPages: lowest allowed va
  u64 next_offset_ = 0;  // kFiles: lowest allowed file page offset
  u64 file_size_ = 0;    // kFiles: size of the current file
  bool have_file_ = false;
  bool have_name_ = false;       // prev_name_ holds a name of the current kind
  bool prev_name_long_ = false;  // ... cut to kNameKeep bytes
  char prev_name_[kNameKeep + 1] = {};
};

}  // namespace vm
