// The property test: seeded random traces replayed through the whole
// simulator (core over the emulated MMU, audit after every op) must agree with
// the reference model on every outcome and on the final digest: 1,000 traces
// of anonymous memory, and 1,000 that also use files (mappings, pwrite,
// truncate), fork, exec, exit and poke, in shards of 125 seeds, so CTest can
// run shards in parallel.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "random_trace.hpp"
#include "run/report.hpp"
#include "run/runner.hpp"
#include "trace/trace_loader.hpp"

namespace vmsim {
namespace {

constexpr uint64_t kSeedsPerShard = 125;
constexpr int kShards = 8;
constexpr int kObjectShards = 8;
constexpr uint64_t kConcurrentSeedsPerShard = 50;
constexpr int kConcurrentShards = 8;

// Varied shapes: 1–4 threads on 1–3 CPUs, 60–300 ops.
tracegen::RandomTraceOptions options_for(uint64_t seed) {
  tracegen::RandomTraceOptions o;
  o.seed = seed;
  o.threads = static_cast<uint32_t>(seed % 4 + 1);
  o.cpus = static_cast<uint32_t>(seed % 3 + 1);
  o.ops = 60 + (seed * 7919) % 241;
  if (o.ops < o.threads) o.ops = o.threads;
  return o;
}

// The command that reproduces a generated trace's run.
std::string reproduce(const tracegen::RandomTraceOptions& o) {
  std::string text = "(reproduce: tracegen random --seed " + std::to_string(o.seed) + " --ops " +
                     std::to_string(o.ops) + " --threads " + std::to_string(o.threads) +
                     " --cpus " + std::to_string(o.cpus);
  if (o.memory != 0) text += " --memory " + std::to_string(o.memory);
  return text + " --features " + tracegen::features_text(o.features) +
         " | vmsim replay /dev/stdin)";
}

// The trace `o` generates, loaded (a failure to load fails the test).
std::optional<Trace> generate(const tracegen::RandomTraceOptions& o) {
  auto loaded = load_trace_text(tracegen::make_random_trace(o), "seed-" + std::to_string(o.seed));
  if (std::holds_alternative<Trace>(loaded)) return std::get<Trace>(loaded);
  ADD_FAILURE() << std::get<LoadError>(loaded).message << "\n" << reproduce(o);
  return std::nullopt;
}

// Runs `trace` with the given audit; the run must pass the model and end
// with a digest, else the test fails and nullopt comes back.
std::optional<RunReport> run_passing(const Trace& trace, AuditMode audit,
                                     const tracegen::RandomTraceOptions& o) {
  RunOptions options;
  options.audit = audit;
  auto result = run_trace(trace, options);
  if (!std::holds_alternative<RunReport>(result)) {
    ADD_FAILURE() << std::get<RunError>(result).message << "\n" << reproduce(o);
    return std::nullopt;
  }
  const RunReport& r = std::get<RunReport>(result);
  if (!r.pass() || !r.digest.has_value()) {
    ADD_FAILURE() << report_text(r) << reproduce(o);
    return std::nullopt;
  }
  return r;
}

// Generates and replays `o`, auditing after every op.
std::optional<RunReport> replay_checked(const tracegen::RandomTraceOptions& o) {
  const std::optional<Trace> trace = generate(o);
  if (!trace) return std::nullopt;
  return run_passing(*trace, AuditMode::kEveryOp, o);
}

// Replays seeds [first, first + kSeedsPerShard) with `features`.
void replay_shard(uint64_t first, uint32_t features) {
  for (uint64_t seed = first; seed < first + kSeedsPerShard; ++seed) {
    tracegen::RandomTraceOptions o = options_for(seed);
    o.features = features;
    if (!replay_checked(o)) return;
  }
}

class PropertyTest : public ::testing::TestWithParam<int> {};

TEST_P(PropertyTest, RandomTracesAgreeWithTheModel) {
  replay_shard(1 + static_cast<uint64_t>(GetParam()) * kSeedsPerShard, tracegen::kFeatureAnon);
}

INSTANTIATE_TEST_SUITE_P(Seeds, PropertyTest, ::testing::Range(0, kShards));

class ObjectPropertyTest : public ::testing::TestWithParam<int> {};

TEST_P(ObjectPropertyTest, FilesForkExecExitPokeAgreeWithTheModel) {
  replay_shard(100001 + static_cast<uint64_t>(GetParam()) * kSeedsPerShard, tracegen::kAllFeatures);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ObjectPropertyTest, ::testing::Range(0, kObjectShards));

// Large pages (spec §9): 500 traces with tracegen's hugepage feature
// (large_pages always, madvise or never; 2-6 MiB mappings; hugepage advice)
// with forks, files, exec, exit and poke: large pages are mapped and split,
// and every outcome and digest stay the model's.
constexpr int kHugepageShards = 4;

class HugepagePropertyTest : public ::testing::TestWithParam<int> {};

TEST_P(HugepagePropertyTest, LargePagesAreInvisibleToTheModel) {
  replay_shard(300001 + static_cast<uint64_t>(GetParam()) * kSeedsPerShard,
               tracegen::kAllFeatures | tracegen::kFeatureHugepage);
}

INSTANTIATE_TEST_SUITE_P(Seeds, HugepagePropertyTest, ::testing::Range(0, kHugepageShards));

// Memory pressure (spec §8): 1,000 traces at 1 MiB with swap and working
// sets past memory (tracegen's pressure feature), with forks, files, shared
// memory, exec, exit and poke. Each must agree with the model (which has no
// memory limit), and its digest and outcome must equal the same trace's on
// 64 MiB without swap: pressure is invisible.
constexpr uint64_t kPressureSeedsPerShard = 125;
constexpr int kPressureShards = 8;  // also under the sanitizers: about 30 s a shard there

// The overcommit a shard must reach: the median trace's working set (its
// peak of resident user pages with unlimited memory) over the 256 frames of
// 1 MiB. The generator's sweeps put most traces between 4 and 8.
constexpr double kPressureMedianOvercommit = 4.0;

int64_t stat_named(const RunReport& r, const std::string& name) {
  for (const auto& [stat, value] : r.stats)
    if (stat == name) return value;
  ADD_FAILURE() << "no statistic " << name;
  return 0;
}

// Runs `o` (under pressure) audited after every op, and again on 64 MiB
// without swap or compressor; both must pass and give one digest. Returns the
// roomy run (the reference), nullopt after a failure.
std::optional<RunReport> expect_pressure_invisible(const tracegen::RandomTraceOptions& o) {
  const std::optional<Trace> pressed = generate(o);
  if (!pressed) return std::nullopt;
  Trace roomy = *pressed;
  roomy.machine.memory = 64 << 20;
  roomy.machine.swap = 0;
  roomy.machine.compressor = 0;
  const std::optional<RunReport> under = run_passing(*pressed, AuditMode::kEveryOp, o);
  // The roomy run is the reference digest: auditing its 16,384 frames
  // after every op would cost more than the pressed run itself.
  const std::optional<RunReport> free = run_passing(roomy, AuditMode::kEnd, o);
  if (!under || !free) return std::nullopt;
  EXPECT_EQ(*under->digest, *free->digest) << reproduce(o);
  if (*under->digest != *free->digest) return std::nullopt;
  return free;
}

class PressurePropertyTest : public ::testing::TestWithParam<int> {};

TEST_P(PressurePropertyTest, PressureChangesNothingTheTraceSees) {
  const uint64_t first = 500001 + static_cast<uint64_t>(GetParam()) * kPressureSeedsPerShard;
  std::vector<double> overcommit;
  for (uint64_t seed = first; seed < first + kPressureSeedsPerShard; ++seed) {
    tracegen::RandomTraceOptions o = options_for(seed);
    o.ops = 300 + (seed * 7919) % 701;
    o.memory = 1 << 20;
    o.features = tracegen::kAllFeatures | tracegen::kFeaturePressure;
    const std::optional<RunReport> free = expect_pressure_invisible(o);
    if (!free) return;
    overcommit.push_back(static_cast<double>(stat_named(*free, "resident_user_peak")) / 256.0);
  }
  std::sort(overcommit.begin(), overcommit.end());
  const double median = overcommit[overcommit.size() / 2];
  std::printf("overcommit: median %.1fx, from %.1fx to %.1fx over %zu traces\n", median,
              overcommit.front(), overcommit.back(), overcommit.size());
  EXPECT_GE(median, kPressureMedianOvercommit);
}

INSTANTIATE_TEST_SUITE_P(Seeds, PressurePropertyTest, ::testing::Range(0, kPressureShards));

// Direct physical mappings (spec §10) with every other feature: privileged
// and unprivileged processes, device mmaps in range and past the end, forks
// sharing device pages, accesses, pokes, munmaps and madvises on them.
class DevicePropertyTest : public ::testing::TestWithParam<int> {};

TEST_P(DevicePropertyTest, DeviceMappingsAgreeWithTheModel) {
  replay_shard(700001 + static_cast<uint64_t>(GetParam()) * kSeedsPerShard,
               tracegen::kAllFeatures | tracegen::kFeatureDevice);
}

INSTANTIATE_TEST_SUITE_P(Seeds, DevicePropertyTest, ::testing::Range(0, 2));

// Under pressure device pages are never paged out, and nothing a trace sees
// changes: the digest of 1 MiB with swap is the digest of 64 MiB.
TEST(DevicePressurePropertyTest, DevicesUnderPressureKeepTheRoomyDigest) {
  for (uint64_t seed = 800001; seed < 800001 + 40; ++seed) {
    tracegen::RandomTraceOptions o = options_for(seed);
    o.ops = 300 + (seed * 7919) % 301;
    o.memory = 1 << 20;
    o.features = tracegen::kAllFeatures | tracegen::kFeaturePressure | tracegen::kFeatureDevice;
    const std::optional<Trace> trace = generate(o);
    ASSERT_TRUE(trace && !trace->machine.devices.empty()) << reproduce(o);
    if (!expect_pressure_invisible(o)) return;
  }
}

// Every feature at once: the block cache over large pages, devices beside
// them, with files, fork, exec, exit and poke (125 traces).
TEST(CombinedPropertyTest, CacheDevicesAndLargePagesTogether) {
  replay_shard(990001, tracegen::kAllFeatures | tracegen::kFeatureCache | tracegen::kFeatureDevice |
                           tracegen::kFeatureHugepage);
}

// Edge values (offsets at 2^63, lengths that wrap, the top of user space):
// the core and the model must agree there too, as Linux does (tests/linux).
TEST(EdgePropertyTest, EdgeValuesAgreeWithTheModel) {
  replay_shard(300001, tracegen::kAllFeatures | tracegen::kFeatureEdges);
}

// The block cache (spec §3): puts and gets among every other op, against
// the model; 250 traces with plenty of memory, where every block that was
// put must come back (the model accepts no miss before pageout has run).
class CachePropertyTest : public ::testing::TestWithParam<int> {};

TEST_P(CachePropertyTest, CacheOpsAgreeWithTheModel) {
  replay_shard(900001 + static_cast<uint64_t>(GetParam()) * kSeedsPerShard,
               tracegen::kAllFeatures | tracegen::kFeatureCache);
}

INSTANTIATE_TEST_SUITE_P(Seeds, CachePropertyTest, ::testing::Range(0, 2));

// The block cache under pressure: 1 MiB, swap, working sets past memory.
// Pageout forgets blocks, so gets may miss; every hit must still bring the
// bytes that were put, and everything else must agree with the model.
TEST(CachePressurePropertyTest, ForgottenBlocksMissAndHitsKeepTheirBytes) {
  int64_t forgotten = 0;
  int64_t hits = 0;
  for (uint64_t seed = 950001; seed < 950001 + 80; ++seed) {
    tracegen::RandomTraceOptions o = options_for(seed);
    o.ops = 300 + (seed * 7919) % 401;
    o.memory = 1 << 20;
    o.features = tracegen::kAllFeatures | tracegen::kFeaturePressure | tracegen::kFeatureCache;
    const std::optional<RunReport> r = replay_checked(o);
    if (!r) return;
    forgotten += stat_named(*r, "cache_forgotten");
    hits += stat_named(*r, "cache_hits");
  }
  // Both paths ran: blocks were forgotten, and others came back.
  EXPECT_GT(forgotten, 0);
  EXPECT_GT(hits, 0);
}

// Threads preempted at every yield point: random traces with 2–4 threads
// under the random policy (a thread switch may happen at any yield point,
// inside faults, copies, truncates and shootdowns), three schedule seeds
// each. Every run must be linearizable against the model, pass the audit
// and leave nothing behind.
class ConcurrentPropertyTest : public ::testing::TestWithParam<int> {};

TEST_P(ConcurrentPropertyTest, PreemptedThreadsStayLinearizable) {
  const uint64_t first = 200001 + static_cast<uint64_t>(GetParam()) * kConcurrentSeedsPerShard;
  for (uint64_t seed = first; seed < first + kConcurrentSeedsPerShard; ++seed) {
    tracegen::RandomTraceOptions o = options_for(seed);
    o.threads = static_cast<uint32_t>(seed % 3 + 2);
    o.cpus = static_cast<uint32_t>(seed % 2 + 1);
    o.ops = 30 + seed % 50;
    // Every other seed puts and gets blocks too.
    o.features = tracegen::kAllFeatures | (seed % 2 == 0 ? tracegen::kFeatureCache : 0);
    const std::string text = tracegen::make_random_trace(o);
    auto loaded = load_trace_text(text, "seed-" + std::to_string(seed));
    ASSERT_TRUE(std::holds_alternative<Trace>(loaded)) << std::get<LoadError>(loaded).message;
    Trace trace = std::get<Trace>(loaded);
    for (uint64_t schedule_seed = 1; schedule_seed <= 3; ++schedule_seed) {
      trace.schedule.policy = Policy::kRandom;
      trace.schedule.seed = schedule_seed;
      RunOptions options;
      options.audit = AuditMode::kEveryOp;
      auto result = run_trace(trace, options);
      ASSERT_TRUE(std::holds_alternative<RunReport>(result)) << std::get<RunError>(result).message;
      const RunReport& r = std::get<RunReport>(result);
      ASSERT_TRUE(r.pass() && r.digest.has_value())
          << report_text(r) << "(reproduce: tracegen random --seed " << seed << " --ops " << o.ops
          << " --threads " << o.threads << " --cpus " << o.cpus << " --features "
          << tracegen::features_text(o.features)
          << ", then add \"schedule\": {\"policy\": \"random\", \"seed\": " << schedule_seed
          << "} and vmsim replay it)";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, ConcurrentPropertyTest, ::testing::Range(0, kConcurrentShards));

// The same trace and schedule give the same output byte for byte.
TEST(PropertyDeterminism, SameTraceSameReport) {
  const std::string text = tracegen::make_random_trace(options_for(4242));
  std::string first;
  for (int i = 0; i < 3; ++i) {
    auto loaded = load_trace_text(text, "determinism");
    ASSERT_TRUE(std::holds_alternative<Trace>(loaded));
    auto result = run_trace(std::get<Trace>(loaded), RunOptions{});
    ASSERT_TRUE(std::holds_alternative<RunReport>(result));
    const std::string json = report_json(std::get<RunReport>(result));
    if (i == 0) first = json;
    EXPECT_EQ(json, first);
  }
}

}  // namespace
}  // namespace vmsim
