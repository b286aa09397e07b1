// The `vmsim-digest/1` stream (spec §7): merges mappings into runs, skips
// zero pages, checks call order, hashes as it goes (nothing is buffered but
// the one pending run).
#include "lib/digest_writer.hpp"

#include "lib/format.hpp"
#include "lib/mem.hpp"

namespace vm {
namespace {

bool str_equal(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

// Both anonymous, or the same file or device with `b` continuing `a` offset
// by offset.
bool same_backing(const DigestMapping& a, const DigestMapping& b) {
  const char* an = a.file != nullptr ? a.file : a.device;
  const char* bn = b.file != nullptr ? b.file : b.device;
  if (an == nullptr || bn == nullptr) return an == nullptr && bn == nullptr;
  if ((a.file != nullptr) != (b.file != nullptr)) return false;
  return str_equal(an, bn) && a.file_offset + (a.end - a.start) == b.file_offset;
}

}  // namespace

DigestWriter::DigestWriter() {
  put("vmsim-digest/1\n");
}

void DigestWriter::put(const char* s) {
  sha_.update(s, str_length(s));
}

void DigestWriter::put_hex16(u64 v) {
  char buf[16];
  format_hex(buf, v, 16);
  sha_.update(buf, sizeof buf);
}

void DigestWriter::put_page(const u8* bytes4096) {
  sha_.update(bytes4096, kPageSize);
}

bool DigestWriter::name_ascends(const char* name) {
  size_t i = 0;
  int cmp = 0;
  for (; i < kNameKeep && name[i] != '\0'; ++i) {
    const u8 a = static_cast<u8>(name[i]);
    const u8 b = static_cast<u8>(prev_name_[i]);
    if (a != b) {
      cmp = a < b ? -1 : 1;
      break;
    }
  }
  if (cmp == 0 && i < kNameKeep && name[i] == '\0' && prev_name_[i] != '\0') cmp = -1;
  const bool long_name = str_length(name) > kNameKeep;
  bool ascends;
  if (!have_name_ || cmp > 0) {
    ascends = true;
  } else if (cmp < 0) {
    ascends = false;
  } else {
    // Equal on the kept prefix: greater only if longer than what was kept,
    // unknown (accepted) when both were cut.
    ascends = long_name;
  }
  size_t n = 0;
  for (; n < kNameKeep && name[n] != '\0'; ++n) prev_name_[n] = name[n];
  prev_name_[n] = '\0';
  prev_name_long_ = long_name;
  have_name_ = true;
  return ascends;
}

void DigestWriter::close_mappings() {
  if (phase_ != Phase::kMappings) return;
  flush_run();
  phase_ = Phase::kPages;
  next_va_ = 0;
}

void DigestWriter::begin_process(const char* name) {
  close_mappings();
  if (phase_ != Phase::kStart && phase_ != Phase::kPages) return fail();
  if (!name_ascends(name)) fail();
  put("process ");
  put(name);
  put("\n");
  phase_ = Phase::kMappings;
  next_va_ = 0;
}

void DigestWriter::mapping(const DigestMapping& m) {
  if (phase_ != Phase::kMappings) return fail();
  if (m.start >= m.end || !page_aligned(m.start) || !page_aligned(m.end) || m.start < next_va_)
    return fail();
  next_va_ = m.end;
  if (have_run_ && run_.end == m.start && run_.prot == m.prot && run_.share == m.share &&
      same_backing(run_, m)) {
    run_.end = m.end;
    return;
  }
  flush_run();
  run_ = m;
  have_run_ = true;
}

void DigestWriter::flush_run() {
  if (!have_run_) return;
  have_run_ = false;
  put("run ");
  put_hex16(run_.start);
  put(" ");
  put_hex16(run_.end);
  const char prot[] = {' ',
                       (run_.prot & kProtRead) != 0 ? 'r' : '-',
                       (run_.prot & kProtWrite) != 0 ? 'w' : '-',
                       (run_.prot & kProtExec) != 0 ? 'x' : '-',
                       ' ',
                       '\0'};
  put(prot);
  put(run_.share == Share::kShared ? "shared " : "private ");
  if (run_.file != nullptr || run_.device != nullptr) {
    put(run_.file != nullptr ? "file:" : "device:");
    put(run_.file != nullptr ? run_.file : run_.device);
    put(":");
    put_hex16(run_.file_offset);
  } else {
    put("anon");
  }
  put("\n");
}

void DigestWriter::end_mappings() {
  if (phase_ != Phase::kMappings) return fail();
  close_mappings();
}

void DigestWriter::page(vaddr_t va, const u8* bytes4096) {
  if (phase_ != Phase::kPages || !page_aligned(va) || va < next_va_) return fail();
  next_va_ = va + kPageSize;  // user addresses are far below 2^64: no wrap
  if (mem_is_zero(bytes4096, kPageSize)) return;
  put("page ");
  put_hex16(va);
  put("\n");
  put_page(bytes4096);
}

void DigestWriter::begin_sized(Phase phase, const char* tag, const char* name, u64 size) {
  close_mappings();
  // Files may follow processes; devices may follow either.
  const bool from_ok = phase_ == Phase::kStart || phase_ == Phase::kPages || phase_ == phase ||
                       (phase == Phase::kDevices && phase_ == Phase::kFiles);
  if (!from_ok) return fail();
  if (phase_ != phase) {
    have_name_ = false;  // file and device names form their own ascending sequences
    phase_ = phase;
  }
  if (!name_ascends(name)) fail();
  have_file_ = true;
  file_size_ = size;
  next_offset_ = 0;
  put(tag);
  put(" ");
  put(name);
  put(" ");
  put_hex16(size);
  put("\n");
}

void DigestWriter::sized_page(Phase phase, const char* tag, u64 offset, const u8* bytes4096) {
  if (phase_ != phase || !have_file_ || !page_aligned(offset) || offset < next_offset_ ||
      offset >= file_size_)
    return fail();
  next_offset_ = offset + kPageSize;
  if (mem_is_zero(bytes4096, kPageSize)) return;
  put(tag);
  put(" ");
  put_hex16(offset);
  put("\n");
  put_page(bytes4096);
}

void DigestWriter::file(const char* name, u64 size) {
  begin_sized(Phase::kFiles, "file", name, size);
}

void DigestWriter::file_page(u64 offset, const u8* bytes4096) {
  sized_page(Phase::kFiles, "fpage", offset, bytes4096);
}

void DigestWriter::device(const char* name, u64 size) {
  begin_sized(Phase::kDevices, "device", name, size);
}

void DigestWriter::device_page(u64 offset, const u8* bytes4096) {
  sized_page(Phase::kDevices, "dpage", offset, bytes4096);
}

void DigestWriter::finish(char out_hex[65]) {
  close_mappings();
  if (phase_ == Phase::kFinished) fail();
  phase_ = Phase::kFinished;
  if (invalid_) {
    mem_copy(out_hex, kInvalidOrder, sizeof kInvalidOrder);
    return;
  }
  u8 digest[32];
  sha_.finish(digest);
  for (int i = 0; i < 32; ++i) format_hex(out_hex + 2 * i, digest[i], 2);
  out_hex[64] = '\0';
}

}  // namespace vm
