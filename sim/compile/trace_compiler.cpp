#include "compile/trace_compiler.hpp"

#include <bit>
#include <cstring>
#include <map>
#include <string>

#include "image/trace_image.hpp"

namespace vmsim {
namespace {

using namespace image;

static_assert(std::endian::native == std::endian::little,
              "the image is little-endian and written by copying records");

// Interns names into the string table and into the process and label tables.
class Builder {
 public:
  explicit Builder(const Trace& t) : trace_(t) { strings_.push_back('\0'); }

  std::vector<uint8_t> build();

 private:
  StrRef str(const std::string& s) {
    auto it = interned_.find(s);
    if (it != interned_.end()) return it->second;
    StrRef r{static_cast<uint32_t>(strings_.size()), static_cast<uint32_t>(s.size())};
    strings_.insert(strings_.end(), s.begin(), s.end());
    strings_.push_back('\0');
    interned_[s] = r;
    return r;
  }
  static uint32_t index_in(std::vector<std::string>& table, const std::string& name) {
    for (size_t i = 0; i < table.size(); ++i)
      if (table[i] == name) return static_cast<uint32_t>(i);
    table.push_back(name);
    return static_cast<uint32_t>(table.size() - 1);
  }
  uint32_t process(const std::string& name) { return index_in(processes_, name); }
  uint32_t label(const std::string& name) { return index_in(labels_, name); }
  uint32_t device(const std::string& name) const {
    const std::vector<DeviceSpec>& devices = trace_.machine.devices;
    for (size_t i = 0; i < devices.size(); ++i)
      if (devices[i].name == name) return static_cast<uint32_t>(i);
    return kNone;
  }
  uint32_t file(const std::string& name) const {
    for (size_t i = 0; i < trace_.files.size(); ++i)
      if (trace_.files[i].name == name) return static_cast<uint32_t>(i);
    return kNone;
  }
  ImageOp op(const Op& o);

  const Trace& trace_;
  std::vector<char> strings_;
  std::map<std::string, StrRef> interned_;
  std::vector<std::string> processes_;
  std::vector<std::string> labels_;
};

ImageOp Builder::op(const Op& o) {
  ImageOp r;
  r.kind = static_cast<ImageOpKind>(o.kind);
  r.expect_fault = !o.expect_fault                       ? ImageFault::kNone
                   : *o.expect_fault == FaultKind::kSegv ? ImageFault::kSegv
                   : *o.expect_fault == FaultKind::kBus  ? ImageFault::kBus
                                                         : ImageFault::kOom;
  r.result = static_cast<ImageResult>(o.result);
  r.prot = o.prot;
  r.flags = (o.result_given ? kResultGiven : 0) | (o.has_addr ? kHasAddr : 0) |
            (o.shared ? kShared : 0) | (o.fixed ? kFixed : 0) | (o.populate ? kPopulate : 0) |
            (o.has_value ? kHasValue : 0) | (o.touch_write ? kTouchWrite : 0) |
            (o.advice == Advice::kWillneed ? kWillneed : 0) |
            (o.advice == Advice::kHugepage ? kHugepage : 0) |
            (o.advice == Advice::kNohugepage ? kNohugepage : 0);
  r.size = static_cast<uint8_t>(o.size);
  if (o.addr.is_label()) r.addr_label = label(o.addr.label);
  if (!o.as.empty()) r.as_label = label(o.as);
  r.addr = o.addr.offset;
  r.len = o.len;
  r.offset = o.offset;
  r.value = o.value;
  r.stride = o.stride;
  r.incr = o.incr;
  if (!o.file.empty()) r.file = file(o.file);
  if (!o.device.empty()) r.device = device(o.device);
  if (o.kind == OpKind::kPoke) r.process = process(o.process);
  if (o.kind == OpKind::kFork) r.child = process(o.child);
  r.text = o.text;
  r.data = o.data;
  r.bss = o.bss;
  r.stack = o.stack;
  r.id = o.id;
  r.pages = o.pages;
  r.file_size = o.file_size;
  r.line = o.loc.line;
  r.column = o.loc.column;
  return r;
}

template <typename T>
void append(std::vector<uint8_t>& out, const T& rec) {
  const auto* p = reinterpret_cast<const uint8_t*>(&rec);
  out.insert(out.end(), p, p + sizeof(T));
}

std::vector<uint8_t> Builder::build() {
  ImageHeader h;
  h.name = str(trace_.name);
  h.machine.cpus = trace_.machine.cpus;
  h.machine.memory = trace_.machine.memory;
  h.machine.swap = trace_.machine.swap;
  h.machine.reserved = trace_.machine.reserved;
  h.machine.compressor = trace_.machine.compressor;
  h.machine.large_pages = static_cast<uint32_t>(trace_.machine.large_pages);
  h.policy = static_cast<ImagePolicy>(trace_.schedule.policy);
  h.seed = trace_.schedule.seed;
  const Expectations& e = trace_.expect;
  if (e.result)
    h.expect.result = *e.result == "pass" ? ExpectResult::kPass : ExpectResult::kViolation;
  if (e.violation) h.expect.violation = str(*e.violation);
  if (e.digest && e.digest->size() == sizeof h.expect.digest) {
    h.expect.has_digest = 1;
    std::memcpy(h.expect.digest, e.digest->data(), sizeof h.expect.digest);
  }

  // Processes in order of first appearance: threads first, so a thread's
  // process index is stable whatever its ops name.
  std::vector<ImageThread> threads;
  std::vector<ImageOp> ops;
  for (const ThreadSpec& t : trace_.threads) process(t.process);
  for (const ThreadSpec& t : trace_.threads) {
    ImageThread it;
    it.name = str(t.name);
    it.process = process(t.process);
    it.cpu = t.cpu;
    it.first_op = static_cast<uint32_t>(ops.size());
    it.op_count = static_cast<uint32_t>(t.ops.size());
    for (const Op& o : t.ops) ops.push_back(op(o));
    threads.push_back(it);
  }
  std::vector<ImageFile> files;
  for (const FileSpec& f : trace_.files) {
    ImageFile r;
    r.name = str(f.name);
    r.size = f.size;
    r.seeded = f.seeded ? 1 : 0;
    r.seed = f.seed;
    r.fill = f.fill;
    files.push_back(r);
  }
  std::vector<ImageDevice> devices;
  for (const DeviceSpec& d : trace_.machine.devices) {
    ImageDevice r;
    r.name = str(d.name);
    r.phys = d.phys;
    r.size = d.size;
    r.seeded = d.seeded ? 1 : 0;
    r.seed = d.seed;
    r.fill = d.fill;
    devices.push_back(r);
  }
  std::vector<ImageStep> steps;
  for (const ScheduleStep& s : trace_.schedule.steps) {
    ImageStep r;
    r.kind = static_cast<ImageStepKind>(s.kind);
    for (size_t i = 0; i < trace_.threads.size(); ++i)
      if (trace_.threads[i].name == s.thread) r.thread = static_cast<uint32_t>(i);
    r.ops = s.ops;
    if (s.kind == ScheduleStep::Kind::kUntil) r.point = str(s.point);
    r.count = s.count;
    steps.push_back(r);
  }
  std::vector<ImageStat> stats;
  for (const auto& [name, value] : e.stats) stats.push_back(ImageStat{str(name), value});
  std::vector<ImageProcess> procs;
  for (const std::string& p : processes_) procs.push_back(ImageProcess{str(p)});
  // The first thread naming a process decides (the loader refuses the flag
  // anywhere else).
  for (const ThreadSpec& t : trace_.threads)
    if (t.privileged) procs[process(t.process)].privileged = 1;
  std::vector<ImageLabel> labels;
  for (const std::string& l : labels_) labels.push_back(ImageLabel{str(l)});

  std::vector<uint8_t> out(sizeof(ImageHeader), 0);
  auto section = [&](SectionId id, const auto& records) {
    while (out.size() % 8 != 0) out.push_back(0);
    h.sections[id] = Section{out.size(), records.size()};
    for (const auto& r : records) append(out, r);
  };
  section(kStrings, strings_);
  section(kProcesses, procs);
  section(kLabels, labels);
  section(kFiles, files);
  section(kThreads, threads);
  section(kOps, ops);
  section(kSteps, steps);
  section(kExpectStats, stats);
  section(kDevices, devices);
  while (out.size() % 8 != 0) out.push_back(0);
  h.image_size = out.size();
  h.checksum = fnv1a(out.data() + sizeof(ImageHeader), out.size() - sizeof(ImageHeader));
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

}  // namespace

std::vector<uint8_t> compile_trace(const Trace& trace) {
  return Builder(trace).build();
}

}  // namespace vmsim
