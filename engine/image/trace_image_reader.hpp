// Reads a `vmsim-image/1` trace image in place, without copying and without
// any library: the kernel uses it on the multiboot module and the host tests
// use it on what `vmsim compile` wrote. `open()` checks every bound and every
// cross-reference once; after it succeeds the accessors need no checks.
#pragma once

#include "trace_image.hpp"

namespace image {

class ImageReader {
 public:
  // Checks `data[0, size)`; on failure returns false and sets `why`.
  bool open(const uint8_t* data, uint64_t size, const char** why) {
    data_ = data;
    size_ = size;
    *why = check();
    return *why == nullptr;
  }

  const ImageHeader& header() const { return *reinterpret_cast<const ImageHeader*>(data_); }
  const char* str(StrRef r) const { return strings() + r.offset; }
  const char* name() const { return str(header().name); }

  uint64_t count(SectionId s) const { return header().sections[s].count; }
  const ImageProcess& process(uint64_t i) const { return table<ImageProcess>(kProcesses)[i]; }
  const ImageLabel& label(uint64_t i) const { return table<ImageLabel>(kLabels)[i]; }
  const ImageFile& file(uint64_t i) const { return table<ImageFile>(kFiles)[i]; }
  const ImageDevice& device(uint64_t i) const { return table<ImageDevice>(kDevices)[i]; }
  const ImageThread& thread(uint64_t i) const { return table<ImageThread>(kThreads)[i]; }
  const ImageOp& op(uint64_t i) const { return table<ImageOp>(kOps)[i]; }
  const ImageOp& thread_op(uint64_t t, uint64_t k) const { return op(thread(t).first_op + k); }
  const ImageStep& step(uint64_t i) const { return table<ImageStep>(kSteps)[i]; }
  const ImageStat& stat(uint64_t i) const { return table<ImageStat>(kExpectStats)[i]; }

 private:
  static constexpr uint64_t kRecordSize[kSectionCount] = {
      1,
      sizeof(ImageProcess),
      sizeof(ImageLabel),
      sizeof(ImageFile),
      sizeof(ImageThread),
      sizeof(ImageOp),
      sizeof(ImageStep),
      sizeof(ImageStat),
      sizeof(ImageDevice),
  };

  template <typename T>
  const T* table(SectionId s) const {
    return reinterpret_cast<const T*>(data_ + header().sections[s].offset);
  }
  const char* strings() const { return table<char>(kStrings); }

  bool str_ok(StrRef r) const {
    const uint64_t n = count(kStrings);
    return r.offset < n && r.len < n - r.offset && strings()[r.offset + r.len] == '\0';
  }
  bool index_ok(uint32_t i, SectionId s) const { return i < count(s); }
  bool ref_ok(uint32_t i, SectionId s) const { return i == kNone || index_ok(i, s); }

  const char* check() const {
    if ((reinterpret_cast<uintptr_t>(data_) & 7) != 0) return "image is not 8-byte aligned";
    if (size_ < sizeof(ImageHeader)) return "image is shorter than its header";
    const ImageHeader& h = header();
    if (h.magic != kMagic) return "bad magic (not a vmsim trace image)";
    if (h.version != kVersion) return "unsupported image version";
    if (h.header_size != sizeof(ImageHeader)) return "bad header size";
    if (h.image_size != size_) return "image size differs from the header's";
    if (fnv1a(data_ + sizeof(ImageHeader), size_ - sizeof(ImageHeader)) != h.checksum)
      return "checksum mismatch (image corrupted)";
    for (uint32_t s = 0; s < kSectionCount; ++s) {
      const Section& sec = h.sections[s];
      if (sec.offset % 8 != 0 || sec.offset < sizeof(ImageHeader) || sec.offset > size_)
        return "section offset out of range";
      if (sec.count > (size_ - sec.offset) / kRecordSize[s]) return "section overruns the image";
    }
    if (count(kStrings) == 0 || strings()[count(kStrings) - 1] != '\0')
      return "string table not NUL-terminated";
    if (!str_ok(h.name)) return "bad trace name";
    if (h.machine.cpus < 1 || h.machine.cpus > 64) return "machine.cpus out of range";
    if (h.machine.large_pages > kLargeMadvise) return "bad machine.large_pages";
    if (h.policy > ImagePolicy::kRandom) return "bad schedule policy";
    if (h.expect.result > ExpectResult::kViolation) return "bad expect.result";
    if (h.expect.violation.len != 0 && !str_ok(h.expect.violation)) return "bad expect.violation";
    for (uint64_t i = 0; i < count(kProcesses); ++i)
      if (!str_ok(process(i).name) || process(i).privileged > 1) return "bad process record";
    for (uint64_t i = 0; i < count(kLabels); ++i)
      if (!str_ok(label(i).name)) return "bad label name";
    for (uint64_t i = 0; i < count(kFiles); ++i)
      if (!str_ok(file(i).name) || file(i).fill > 255) return "bad file record";
    for (uint64_t i = 0; i < count(kDevices); ++i) {
      const ImageDevice& d = device(i);
      if (!str_ok(d.name) || d.fill > 255 || d.size == 0 || (d.phys | d.size) % 4096 != 0 ||
          d.phys < h.machine.memory || d.phys + d.size < d.phys)
        return "bad device record";
      for (uint64_t j = 0; j < i; ++j)
        if (d.phys < device(j).phys + device(j).size && device(j).phys < d.phys + d.size)
          return "overlapping devices";
    }
    if (count(kThreads) == 0) return "no threads";
    for (uint64_t i = 0; i < count(kThreads); ++i) {
      const ImageThread& t = thread(i);
      if (!str_ok(t.name) || !index_ok(t.process, kProcesses) || t.cpu >= h.machine.cpus)
        return "bad thread record";
      if (t.first_op > count(kOps) || t.op_count > count(kOps) - t.first_op)
        return "thread ops out of range";
    }
    for (uint64_t i = 0; i < count(kOps); ++i) {
      const ImageOp& o = op(i);
      if (o.kind >= ImageOpKind::kCount || o.expect_fault > ImageFault::kOom ||
          o.result > ImageResult::kEperm)
        return "bad op kind, fault or result";
      if (o.size != 1 && o.size != 2 && o.size != 4 && o.size != 8) return "bad access size";
      if (o.stride == 0) return "zero touch stride";
      const uint16_t advice = o.flags & (kWillneed | kHugepage | kNohugepage);
      if ((advice & (advice - 1)) != 0) return "more than one madvise advice";
      if (!ref_ok(o.addr_label, kLabels) || !ref_ok(o.as_label, kLabels) ||
          !ref_ok(o.file, kFiles) || !ref_ok(o.process, kProcesses) ||
          !ref_ok(o.child, kProcesses) || !ref_ok(o.device, kDevices))
        return "op reference out of range";
      if (o.device != kNone && (o.kind != ImageOpKind::kMmap || o.file != kNone))
        return "device reference on an op that is no device mmap";
      const bool needs_file = o.kind == ImageOpKind::kTruncate || o.kind == ImageOpKind::kPwrite;
      if ((needs_file && o.file == kNone) || (o.kind == ImageOpKind::kFork && o.child == kNone) ||
          (o.kind == ImageOpKind::kPoke && o.process == kNone))
        return "op lacks a required reference";
    }
    for (uint64_t i = 0; i < count(kSteps); ++i) {
      const ImageStep& s = step(i);
      if (s.kind > ImageStepKind::kUntil || !index_ok(s.thread, kThreads)) return "bad step";
      if (s.kind == ImageStepKind::kUntil && !str_ok(s.point)) return "bad until point";
    }
    for (uint64_t i = 0; i < count(kExpectStats); ++i)
      if (!str_ok(stat(i).name)) return "bad expect stat";
    return nullptr;
  }

  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace image
