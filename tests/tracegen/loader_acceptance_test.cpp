// Every generated trace must load: 500 traces over a spread of seeds, thread
// counts, CPU counts and memory sizes go through the simulator's loader, and
// 300 more for each combination of features.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "random_trace.hpp"
#include "trace/trace_loader.hpp"

namespace vmsim::tracegen {
namespace {

TEST(LoaderAcceptance, FiveHundredGeneratedTracesLoad) {
  static const uint64_t kMemories[] = {64ull << 20, 1ull << 20, 16ull << 20, 4ull << 30};
  for (uint64_t i = 0; i < 500; ++i) {
    RandomTraceOptions options;
    options.seed = 0x5eed0000 + i * 104729;
    options.threads = static_cast<uint32_t>(1 + (i * 5) % 12);
    options.cpus = static_cast<uint32_t>(i % 7 == 0 ? 64 : 1 + i % 6);
    options.ops = options.threads + (i * 53) % 300;
    options.memory = kMemories[i % 4];
    const std::string name = "random-" + std::to_string(i) + ".json";
    const std::string text = make_random_trace(options);
    auto loaded = load_trace_text(text, name);
    if (const auto* error = std::get_if<LoadError>(&loaded)) {
      ADD_FAILURE() << "seed " << options.seed << " threads " << options.threads << " cpus "
                    << options.cpus << ": " << error->message;
      continue;
    }
    const Trace& trace = std::get<Trace>(loaded);
    ASSERT_EQ(trace.threads.size(), options.threads);
    uint64_t ops = 0;
    for (const ThreadSpec& thread : trace.threads) ops += thread.ops.size();
    EXPECT_EQ(ops, options.ops);
    EXPECT_EQ(trace.machine.cpus, options.cpus);
    EXPECT_EQ(trace.machine.memory, options.memory);
  }
}

TEST(LoaderAcceptance, ThreeHundredTracesLoadForEveryFeatureCombination) {
  static const uint64_t kMemories[] = {64ull << 20, 1ull << 20, 16ull << 20, 4ull << 30};
  for (uint32_t bits = 0; bits < 32; ++bits) {
    const uint32_t features = kFeatureAnon | (bits << 1);
    uint64_t failures = 0;
    for (uint64_t i = 0; i < 300; ++i) {
      RandomTraceOptions options;
      options.features = features;
      options.seed = 0xfea70000 + bits * 1000003 + i * 104729;
      options.threads = static_cast<uint32_t>(1 + (i * 5) % 9);
      options.cpus = static_cast<uint32_t>(i % 7 == 0 ? 64 : 1 + i % 6);
      options.ops = options.threads + (i * 53) % 250;
      options.memory = kMemories[i % 4];
      const std::string text = make_random_trace(options);
      auto loaded = load_trace_text(text, "random-" + std::to_string(i) + ".json");
      if (const auto* error = std::get_if<LoadError>(&loaded)) {
        if (++failures <= 3) {
          ADD_FAILURE() << features_text(features) << " seed " << options.seed << " threads "
                        << options.threads << ": " << error->message;
        }
        continue;
      }
      const Trace& trace = std::get<Trace>(loaded);
      ASSERT_EQ(trace.threads.size(), options.threads);
      uint64_t ops = 0;
      for (const ThreadSpec& thread : trace.threads) ops += thread.ops.size();
      EXPECT_EQ(ops, options.ops);
      EXPECT_EQ(trace.files.empty(), (features & kFeatureFiles) == 0);
    }
    EXPECT_EQ(failures, 0u) << features_text(features);
  }
}

}  // namespace
}  // namespace vmsim::tracegen
