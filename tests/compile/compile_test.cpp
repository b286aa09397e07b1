// Round trip: every trace in traces/ compiles into an image that the
// freestanding reader (the kernel's) accepts and decodes back to the trace.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <variant>

#include "compile/trace_compiler.hpp"
#include "image/trace_image_reader.hpp"
#include "trace/trace_loader.hpp"

namespace vmsim {
namespace {

using namespace image;

Trace load(const std::string& path) {
  auto r = load_trace_file(path);
  if (auto* e = std::get_if<LoadError>(&r)) ADD_FAILURE() << e->message;
  return std::get<Trace>(std::move(r));
}

// 8-aligned copy, as multiboot hands the module to the kernel.
struct Aligned {
  explicit Aligned(const std::vector<uint8_t>& v) : words((v.size() + 7) / 8) {
    std::memcpy(words.data(), v.data(), v.size());
    size = v.size();
  }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(words.data()); }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words.data()); }
  std::vector<uint64_t> words;
  uint64_t size = 0;
};

std::string addr_text(const ImageReader& r, const ImageOp& o) {
  return (o.addr_label == kNone ? std::string() : std::string(r.str(r.label(o.addr_label).name))) +
         "+" + std::to_string(o.addr);
}

void expect_round_trip(const Trace& t) {
  Aligned img(compile_trace(t));
  ImageReader r;
  const char* why = nullptr;
  ASSERT_TRUE(r.open(img.data(), img.size, &why)) << t.file << ": " << why;
  EXPECT_STREQ(r.name(), t.name.c_str());
  const ImageHeader& h = r.header();
  EXPECT_EQ(h.machine.cpus, t.machine.cpus);
  EXPECT_EQ(h.machine.memory, t.machine.memory);
  EXPECT_EQ(h.machine.reserved, t.machine.reserved);
  EXPECT_EQ(static_cast<int>(h.policy), static_cast<int>(t.schedule.policy));
  EXPECT_EQ(h.seed, t.schedule.seed);
  ASSERT_EQ(r.count(kFiles), t.files.size());
  for (size_t i = 0; i < t.files.size(); ++i) {
    EXPECT_STREQ(r.str(r.file(i).name), t.files[i].name.c_str());
    EXPECT_EQ(r.file(i).size, t.files[i].size);
    EXPECT_EQ(r.file(i).seeded != 0, t.files[i].seeded);
    EXPECT_EQ(r.file(i).fill, t.files[i].fill);
    EXPECT_EQ(r.file(i).seed, t.files[i].seed);
  }
  ASSERT_EQ(r.count(kThreads), t.threads.size());
  for (size_t i = 0; i < t.threads.size(); ++i) {
    const ThreadSpec& ts = t.threads[i];
    const ImageThread& it = r.thread(i);
    EXPECT_STREQ(r.str(it.name), ts.name.c_str());
    EXPECT_STREQ(r.str(r.process(it.process).name), ts.process.c_str());
    EXPECT_EQ(it.cpu, ts.cpu);
    ASSERT_EQ(it.op_count, ts.ops.size());
    for (size_t k = 0; k < ts.ops.size(); ++k) {
      const Op& o = ts.ops[k];
      const ImageOp& io = r.thread_op(i, k);
      SCOPED_TRACE(o.path);
      EXPECT_EQ(static_cast<int>(io.kind), static_cast<int>(o.kind));
      EXPECT_EQ(io.expect_fault == ImageFault::kNone, !o.expect_fault.has_value());
      if (o.expect_fault) {
        EXPECT_EQ(io.expect_fault == ImageFault::kSegv, *o.expect_fault == FaultKind::kSegv);
        EXPECT_EQ(io.expect_fault == ImageFault::kOom, *o.expect_fault == FaultKind::kOom);
      }
      EXPECT_EQ(static_cast<int>(io.result), static_cast<int>(o.result));
      EXPECT_EQ((io.flags & kResultGiven) != 0, o.result_given);
      EXPECT_EQ((io.flags & kHasAddr) != 0, o.has_addr);
      EXPECT_EQ((io.flags & kShared) != 0, o.shared);
      EXPECT_EQ((io.flags & kFixed) != 0, o.fixed);
      EXPECT_EQ((io.flags & kPopulate) != 0, o.populate);
      EXPECT_EQ((io.flags & kHasValue) != 0, o.has_value);
      EXPECT_EQ((io.flags & kTouchWrite) != 0, o.touch_write);
      EXPECT_EQ((io.flags & kWillneed) != 0, o.advice == Advice::kWillneed);
      EXPECT_EQ(addr_text(r, io), o.addr.label + "+" + std::to_string(o.addr.offset));
      EXPECT_EQ(io.as_label == kNone ? std::string() : r.str(r.label(io.as_label).name), o.as);
      EXPECT_EQ(io.prot, o.prot);
      EXPECT_EQ(io.size, o.size);
      EXPECT_EQ(io.len, o.len);
      EXPECT_EQ(io.offset, o.offset);
      EXPECT_EQ(io.value, o.value);
      EXPECT_EQ(io.stride, o.stride);
      EXPECT_EQ(io.incr, o.incr);
      EXPECT_EQ(io.file == kNone ? std::string() : r.str(r.file(io.file).name), o.file);
      if (o.kind == OpKind::kPoke) {
        EXPECT_STREQ(r.str(r.process(io.process).name), o.process.c_str());
      }
      if (o.kind == OpKind::kFork) {
        EXPECT_STREQ(r.str(r.process(io.child).name), o.child.c_str());
      }
      EXPECT_EQ(io.text, o.text);
      EXPECT_EQ(io.data, o.data);
      EXPECT_EQ(io.bss, o.bss);
      EXPECT_EQ(io.stack, o.stack);
      EXPECT_EQ(io.id, o.id);
      EXPECT_EQ(io.pages, o.pages);
      EXPECT_EQ(io.file_size, o.file_size);
      EXPECT_EQ(io.line, o.loc.line);
    }
  }
  ASSERT_EQ(r.count(kSteps), t.schedule.steps.size());
  for (size_t i = 0; i < t.schedule.steps.size(); ++i) {
    const ScheduleStep& s = t.schedule.steps[i];
    EXPECT_EQ(static_cast<int>(r.step(i).kind), static_cast<int>(s.kind));
    EXPECT_STREQ(r.str(r.thread(r.step(i).thread).name), s.thread.c_str());
    EXPECT_EQ(r.step(i).ops, s.ops);
    EXPECT_EQ(r.step(i).count, s.count);
    if (s.kind == ScheduleStep::Kind::kUntil) {
      EXPECT_STREQ(r.str(r.step(i).point), s.point.c_str());
    }
  }
  const Expectations& e = t.expect;
  EXPECT_EQ(h.expect.result == ExpectResult::kNone, !e.result.has_value());
  if (e.result) {
    EXPECT_EQ(h.expect.result == ExpectResult::kPass, *e.result == "pass");
  }
  EXPECT_EQ(h.expect.violation.len == 0 ? std::string() : r.str(h.expect.violation),
            e.violation.value_or(""));
  EXPECT_EQ(h.expect.has_digest ? std::string(h.expect.digest, 64) : std::string(),
            e.digest.value_or(""));
  ASSERT_EQ(r.count(kExpectStats), e.stats.size());
  size_t i = 0;
  for (const auto& [name, value] : e.stats) {
    EXPECT_STREQ(r.str(r.stat(i).name), name.c_str());
    EXPECT_EQ(r.stat(i).value, value);
    ++i;
  }
}

TEST(Compile, EveryValidTraceRoundTrips) {
  int seen = 0;
  for (const char* dir : {"examples", "regress"}) {
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(VMSIM_TRACES_DIR) + "/" + dir)) {
      if (entry.path().extension() != ".json") continue;
      SCOPED_TRACE(entry.path().string());
      expect_round_trip(load(entry.path().string()));
      ++seen;
    }
  }
  EXPECT_GT(seen, 10);
}

// Schedules with yield points, and the block cache's ops, have their place
// in the image.
TEST(Compile, SchedulesAndCacheOpsRoundTrip) {
  for (const char* name :
       {"races/pageout-vs-write-dirty-bit", "cache/put-get-rules", "races/resize-vs-fault"}) {
    SCOPED_TRACE(name);
    expect_round_trip(load(std::string(VMSIM_TRACES_DIR) + "/" + name + ".json"));
  }
}

TEST(Compile, ReaderRefusesDamagedImages) {
  const Trace t = load(std::string(VMSIM_TRACES_DIR) + "/examples/demo.json");
  const std::vector<uint8_t> good = compile_trace(t);
  ImageReader r;
  const char* why = nullptr;
  {
    Aligned img(good);
    img.data()[good.size() - 20] ^= 1;
    EXPECT_FALSE(r.open(img.data(), img.size, &why));
    EXPECT_STREQ(why, "checksum mismatch (image corrupted)");
  }
  {
    Aligned img(good);
    EXPECT_FALSE(r.open(img.data(), img.size - 8, &why));
    EXPECT_STREQ(why, "image size differs from the header's");
  }
  {
    Aligned img(good);
    img.data()[0] = 'X';
    EXPECT_FALSE(r.open(img.data(), img.size, &why));
    EXPECT_STREQ(why, "bad magic (not a vmsim trace image)");
  }
  {
    Aligned img(good);
    EXPECT_FALSE(r.open(img.data(), 16, &why));
    EXPECT_STREQ(why, "image is shorter than its header");
  }
  // A bad cross-reference behind a valid checksum is still refused.
  {
    Aligned img(good);
    auto* h = reinterpret_cast<ImageHeader*>(img.data());
    auto* th = reinterpret_cast<ImageThread*>(img.data() + h->sections[kThreads].offset);
    th->process = 999;
    h->checksum = fnv1a(img.data() + sizeof(ImageHeader), img.size - sizeof(ImageHeader));
    EXPECT_FALSE(r.open(img.data(), img.size, &why));
    EXPECT_STREQ(why, "bad thread record");
  }
}

}  // namespace
}  // namespace vmsim
