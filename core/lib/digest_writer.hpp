// The byte stream of the state digest `vmsim-digest/1` (spec §7), written
// once here and fed by every side that must agree on it: the core's state
// walk, the simulator's reference model and the bare-metal port.
//
// Callers announce processes in ascending name order, then for each process
// its mapped page ranges in ascending address order (`mapping`), then its
// non-zero pages (`page`), then the files. The writer merges adjacent mappings
// into maximal runs itself, so no caller needs to know how the other stores
// its regions.
#pragma once

#include "lib/sha256.hpp"
#include "lib/types.hpp"

namespace vm {

struct DigestMapping {
  vaddr_t start;
  vaddr_t end;  // exclusive, page-aligned
  Prot prot;
  Share share;
  const char* file;  // nullptr for anonymous memory
  u64 file_offset;   // offset of `start` in the file
};

class DigestWriter {
 public:
  DigestWriter();

  void begin_process(const char* name);
  // Mappings of the current process, ascending and non-overlapping.
  void mapping(const DigestMapping& m);
  // Ends the run list of the current process; pages may follow.
  void end_mappings();
  // A page of the current process; the writer skips it if all zero.
  void page(vaddr_t va, const u8* bytes4096);
  void file(const char* name, u64 size);
  void file_page(u64 offset, const u8* bytes4096);

  // Finishes the stream; writes 64 lowercase hex digits and a NUL.
  void finish(char out_hex[65]);

 private:
  void flush_run();
  void put(const char* s);
  void put_hex16(u64 v);

  Sha256 sha_;
  bool have_run_ = false;
  DigestMapping run_{};
};

}  // namespace vm
