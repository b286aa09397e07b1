// Random traces with the features of the next milestone: files, fork, exec,
// exit and poke, alone and in every combination.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "random_trace.hpp"
#include "trace_checker.hpp"

namespace vmsim::tracegen {
namespace {

using Json = nlohmann::json;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kImageBase = 0x400000;
constexpr uint64_t kStackTop = 0x7ffffffff000;

// Every feature set: anon with any subset of the others (32 sets).
std::vector<uint32_t> feature_sets() {
  std::vector<uint32_t> sets;
  for (uint32_t bits = 0; bits < 32; ++bits) sets.push_back(kFeatureAnon | (bits << 1));
  return sets;
}

// A spread of shapes: 1..6 threads, 1..4 CPUs, up to ~300 ops, three memory
// sizes (1MiB among them).
RandomTraceOptions feature_options(uint64_t i, uint32_t features) {
  static const uint64_t kMemories[] = {64ull << 20, 1ull << 20, 16ull << 20};
  RandomTraceOptions options;
  options.threads = static_cast<uint32_t>(1 + i % 6);
  options.cpus = static_cast<uint32_t>(1 + i % 4);
  options.ops = options.threads + (i * 37) % 300;
  options.seed = i * 7919 + features * 104729 + 5;
  options.memory = kMemories[i % 3];
  options.features = features;
  return options;
}

std::string problems_text(const std::vector<std::string>& problems) {
  std::string text;
  for (size_t i = 0; i < problems.size() && i < 10; ++i) text += problems[i] + "\n";
  return text;
}

// A size as the generator writes it: integer, "0x..." or "N{KiB,MiB,GiB}".
uint64_t size_of(const Json& value) {
  if (value.is_number()) return value.get<uint64_t>();
  const std::string text = value.get<std::string>();
  if (text.rfind("0x", 0) == 0) return std::stoull(text.substr(2), nullptr, 16);
  const std::string suffix = text.size() > 3 ? text.substr(text.size() - 3) : "";
  const uint64_t scale = suffix == "KiB" ? 1ull << 10 : suffix == "MiB" ? 1ull << 20 : 1ull << 30;
  return std::stoull(text.substr(0, text.size() - 3)) * scale;
}

// An absolute address (labels excluded).
std::optional<uint64_t> absolute_address(const Json& value) {
  if (value.is_number()) return value.get<uint64_t>();
  const std::string text = value.get<std::string>();
  if (text.rfind("0x", 0) == 0) return std::stoull(text.substr(2), nullptr, 16);
  return std::nullopt;
}

std::set<std::string> op_kinds(const Json& trace) {
  std::set<std::string> kinds;
  for (const Json& thread : trace["threads"]) {
    for (const Json& op : thread["ops"]) kinds.insert(op["op"].get<std::string>());
  }
  return kinds;
}

TEST(FeatureTrace, ParsesAndNamesFeatureLists) {
  EXPECT_EQ(parse_features("anon"), kFeatureAnon);
  EXPECT_EQ(parse_features("files"), kFeatureAnon | kFeatureFiles);
  EXPECT_EQ(parse_features("poke,fork,anon"), kFeatureAnon | kFeatureFork | kFeaturePoke);
  EXPECT_EQ(parse_features("all"), kAllFeatures);
  EXPECT_EQ(parse_features("exec,exit"), kFeatureAnon | kFeatureExec | kFeatureExit);
  for (const char* bad : {"", "anon,", ",files", "file", "ANON", "files,,fork", "anon files"}) {
    EXPECT_FALSE(parse_features(bad).has_value()) << "'" << bad << "'";
  }
  EXPECT_EQ(features_text(kFeatureAnon), "anon");
  EXPECT_EQ(features_text(0), "anon");
  EXPECT_EQ(features_text(kAllFeatures), "anon,files,fork,exec,exit,poke");
  for (uint32_t features : feature_sets()) {
    EXPECT_EQ(parse_features(features_text(features)), features);
  }
  EXPECT_EQ(parse_features("anon,brk,edges"), kFeatureAnon | kFeatureEdges);
  EXPECT_EQ(parse_features("brk"), kFeatureAnon);
  EXPECT_EQ(parse_features("all"), kAllFeatures);  // edges is not in all
  EXPECT_EQ(features_text(kFeatureFiles | kFeatureEdges), "anon,files,edges");
  EXPECT_EQ(parse_features("all,pressure"), kAllFeatures | kFeaturePressure);  // nor pressure
  EXPECT_EQ(features_text(kFeaturePressure), "anon,pressure");
  EXPECT_EQ(parse_features("all,device"), kAllFeatures | kFeatureDevice);  // nor device
  EXPECT_EQ(features_text(kFeatureDevice | kFeatureFiles), "anon,files,device");
  EXPECT_EQ(parse_features("hugepage"), kFeatureAnon | kFeatureHugepage);  // nor hugepage
  EXPECT_EQ(features_text(kAllFeatures | kFeatureHugepage),
            "anon,files,fork,exec,exit,poke,hugepage");
  EXPECT_EQ(parse_features("all,cache"), kAllFeatures | kFeatureCache);  // nor cache
  RandomTraceOptions options;
  options.features = 1u << 20;  // no feature's bit
  EXPECT_TRUE(check_options(options).has_value());
  EXPECT_THROW(make_random_trace(options), std::invalid_argument);
}

TEST(FeatureTrace, EdgesGivesEdgeValues) {
  RandomTraceOptions options;
  options.ops = 400;
  options.features = kFeatureFiles | kFeatureEdges;
  std::set<std::string> seen;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    options.seed = seed;
    const std::string text = make_random_trace(options);
    for (const char* edge : {"\"0x7fffffffffff", ":1407374883", "\"0xffff"}) {
      if (text.find(edge) != std::string::npos) seen.insert(edge);
    }
  }
  EXPECT_EQ(seen.size(), 3u);  // offsets at 2^63, the top of user space, wrapping lengths
}

TEST(FeatureTrace, SameOptionsGiveTheSameBytesForEveryFeatureSet) {
  for (uint32_t features : feature_sets()) {
    std::set<std::string> traces;
    for (uint64_t i = 0; i < 6; ++i) {
      const RandomTraceOptions options = feature_options(i, features);
      const std::string text = make_random_trace(options);
      EXPECT_EQ(make_random_trace(options), text)
          << features_text(features) << " seed " << options.seed;
      traces.insert(text);
    }
    EXPECT_EQ(traces.size(), 6u) << features_text(features);
  }
}

TEST(FeatureTrace, DescriptionNamesTheFeatures) {
  RandomTraceOptions options = feature_options(3, kFeatureAnon | kFeatureExec | kFeatureFiles);
  const Json trace = Json::parse(make_random_trace(options));
  const std::string description = trace["description"];
  EXPECT_NE(description.find(" --features anon,files,exec"), std::string::npos) << description;
  options.features = kFeatureAnon;
  EXPECT_EQ(
      Json::parse(make_random_trace(options))["description"].get<std::string>().find("--features"),
      std::string::npos);
}

TEST(FeatureTrace, IsValidAgainstTheSpecKeyListsForEveryFeatureSet) {
  for (uint32_t features : feature_sets()) {
    for (uint64_t i = 0; i < 60; ++i) {
      const RandomTraceOptions options = feature_options(i, features);
      Json trace;
      ASSERT_NO_THROW(trace = Json::parse(make_random_trace(options)))
          << features_text(features) << " seed " << options.seed;
      const auto problems = testing::check_generated_trace(trace);
      EXPECT_TRUE(problems.empty()) << features_text(features) << " seed " << options.seed
                                    << " threads " << options.threads << ":\n"
                                    << problems_text(problems);
    }
  }
}

TEST(FeatureTrace, LongTracesOnSmallMachinesStayValid) {
  for (uint64_t seed = 0; seed < 12; ++seed) {
    RandomTraceOptions options = feature_options(seed, kAllFeatures);
    options.ops = 3000;
    options.threads = static_cast<uint32_t>(1 + seed % 8);
    options.memory = seed % 2 ? 1ull << 20 : 4ull << 20;
    const auto problems = testing::check_generated_trace(Json::parse(make_random_trace(options)));
    EXPECT_TRUE(problems.empty()) << "seed " << options.seed << "\n" << problems_text(problems);
  }
}

TEST(FeatureTrace, ShapeFollowsTheOptions) {
  for (uint32_t features : feature_sets()) {
    for (uint64_t i = 0; i < 20; ++i) {
      const RandomTraceOptions options = feature_options(i, features);
      const Json trace = Json::parse(make_random_trace(options));
      EXPECT_EQ(trace["machine"]["cpus"], options.cpus);
      ASSERT_EQ(trace["threads"].size(), options.threads);
      uint64_t ops = 0;
      for (const Json& thread : trace["threads"]) {
        EXPECT_GE(thread["ops"].size(), 1u);
        ops += thread["ops"].size();
        const std::string name = thread["name"], process = thread["process"];
        EXPECT_EQ(name.rfind(process + ".t", 0), 0u) << name << " is not named after " << process;
      }
      EXPECT_EQ(ops, options.ops) << features_text(features);
    }
  }
}

// Each feature adds its own ops and nothing of the others.
TEST(FeatureTrace, OnlyTheRequestedFeaturesAppear) {
  const std::map<uint32_t, std::set<std::string>> own = {
      {kFeatureFiles, {"pwrite", "truncate"}},
      {kFeatureFork, {"fork"}},
      {kFeatureExec, {"exec"}},
      {kFeatureExit, {"exit"}},
      {kFeaturePoke, {"poke"}},
  };
  for (uint32_t features : feature_sets()) {
    std::set<std::string> kinds;
    bool files = false;
    bool file_mmap = false;
    for (uint64_t i = 0; i < 40; ++i) {
      const Json trace = Json::parse(make_random_trace(feature_options(i, features)));
      files = files || trace.contains("files");
      for (const std::string& kind : op_kinds(trace)) kinds.insert(kind);
      for (const Json& thread : trace["threads"]) {
        for (const Json& op : thread["ops"]) file_mmap = file_mmap || op.contains("file");
      }
    }
    for (const auto& [feature, ops] : own) {
      for (const std::string& kind : ops) {
        EXPECT_EQ(kinds.count(kind) != 0, (features & feature) != 0)
            << features_text(features) << ": op " << kind;
      }
    }
    EXPECT_EQ(files, (features & kFeatureFiles) != 0) << features_text(features);
    EXPECT_EQ(file_mmap, (features & kFeatureFiles) != 0) << features_text(features);
  }
}

// What happened in a trace, for the coverage test below. File sizes and the
// exec image are followed op by op only where that order is the run order: in
// traces with one thread.
struct Coverage {
  std::map<std::string, uint64_t> seen;
  void note(const std::string& what) { ++seen[what]; }

  void trace(const Json& trace) {
    std::map<std::string, uint64_t> file_size;
    if (trace.contains("files")) {
      note("files");
      for (const Json& file : trace["files"]) {
        const uint64_t size = size_of(file["size"]);
        file_size[file["name"]] = size;
        note(file["content"].contains("fill") ? "files:fill" : "files:seed");
        if (size == 0) note("files:empty");
        if (size % kPage != 0) note("files:size-not-page-multiple");
      }
    }
    if (!trace.contains("schedule")) {
      note("schedule:none");
    } else if (trace["schedule"].is_array()) {
      note("schedule:steps");
    } else {
      note("schedule:" + trace["schedule"]["policy"].get<std::string>());
    }
    std::map<std::string, std::string> forker;  // child process -> forking process
    std::map<std::string, size_t> thread_count;
    for (const Json& thread : trace["threads"]) ++thread_count[thread["process"]];
    for (const Json& thread : trace["threads"]) {
      for (const Json& op : thread["ops"]) {
        if (op["op"] == "fork") forker[op["child"]] = thread["process"];
      }
    }
    if (trace.contains("schedule") && trace["schedule"].is_array() && !forker.empty()) {
      note("schedule:steps-with-fork");  // must never happen
    }
    for (const auto& [child, parent] : forker) {
      note(thread_count.count(child) ? "fork:child-with-threads" : "fork:child-without-threads");
      if (forker.count(parent)) note("fork:of-a-fork");
      if (forker.count(parent) && forker.count(forker[parent])) note("fork:third-generation");
    }
    const bool single = trace["threads"].size() == 1;

    for (const Json& thread : trace["threads"]) {
      const std::string process = thread["process"];
      struct Label {
        std::string file;
        uint64_t offset;
      };
      std::map<std::string, Label> file_labels;
      struct Image {
        uint64_t text_end, data_end, stack_start;
      };
      std::optional<Image> image;
      const Json& ops = thread["ops"];
      for (size_t i = 0; i < ops.size(); ++i) {
        const Json& op = ops[i];
        const std::string kind = op["op"];
        note("op:" + kind);
        if (kind == "mmap" && op.contains("file")) {
          note(op["share"] == "shared" ? "mmap:file-shared" : "mmap:file-private");
          const uint64_t offset = op.contains("offset") ? size_of(op["offset"]) : 0;
          const std::string file = op["file"];
          if (offset % kPage != 0) note("mmap:file-unaligned-offset");
          if (single && offset % kPage == 0 && offset + size_of(op["len"]) > file_size[file]) {
            note("mmap:file-past-eof");
          }
          if (op.contains("as")) file_labels[op["as"]] = {file, offset};
        }
        if (kind == "pwrite") {
          const uint64_t end = size_of(op["offset"]) + size_of(op["len"]);
          if (single && end > file_size[op["file"]]) note("pwrite:extends");
          if (single) file_size[op["file"]] = std::max(file_size[op["file"]], end);
        }
        if (kind == "truncate") {
          const uint64_t size = size_of(op["size"]);
          const uint64_t old = file_size[op["file"]];
          if (size == 0) note("truncate:to-0");
          if (single && size < old) note("truncate:shrink");
          if (single && size > old) note("truncate:grow");
          if (size % kPage != 0) note("truncate:not-page-multiple");
          if (single) file_size[op["file"]] = size;
        }
        if ((kind == "read" || kind == "write") && single && op["addr"].is_string()) {
          const std::string ref = op["addr"];
          const size_t plus = ref.find('+');
          const std::string label = ref.substr(1, plus == std::string::npos ? plus : plus - 1);
          const uint64_t displacement =
              plus == std::string::npos ? 0 : std::stoull(ref.substr(plus + 3), nullptr, 16);
          auto it = file_labels.find(label);
          if (it != file_labels.end()) {
            const uint64_t at = it->second.offset + displacement;
            const uint64_t size = file_size[it->second.file];
            if (at >= (size + kPage - 1) / kPage * kPage) {
              note("access:file-page-past-eof");
            } else if (size % kPage != 0 && at / kPage == size / kPage) {
              note(at < size ? "access:file-last-page-inside" : "access:file-last-page-past-eof");
            }
          }
        }
        if (kind == "exec") {
          const uint64_t text = (size_of(op["text"]) + kPage - 1) / kPage * kPage;
          const uint64_t data = (size_of(op["data"]) + kPage - 1) / kPage * kPage;
          const uint64_t stack = (size_of(op["stack"]) + kPage - 1) / kPage * kPage;
          image = Image{kImageBase + text, kImageBase + text + data, kStackTop - stack};
          if (size_of(op["data"]) % kPage != 0 || size_of(op["text"]) % kPage != 0) {
            note("exec:segment-not-page-multiple");
          }
          if (size_of(op["text"]) == 0) note("exec:no-text");
        }
        if (kind == "exit") {
          note(forker.count(process) ? "exit:forked-process" : "exit:thread-process");
        }
        if ((kind == "read" || kind == "write") && image && single) {
          if (const auto addr = absolute_address(op["addr"])) {
            if (*addr >= kImageBase && *addr < image->text_end) note("exec:" + kind + "-text");
            if (*addr >= image->text_end && *addr < image->data_end) note("exec:" + kind + "-data");
            if (*addr >= image->stack_start && *addr < kStackTop) note("exec:" + kind + "-stack");
          }
        }
        if (kind == "poke") {
          const std::string target = op["process"];
          if (target == process) {
            note("poke:own-process");
          } else {
            note(forker.count(target) ? "poke:forked-process" : "poke:other-process");
          }
          if (op["addr"].is_string() && op["addr"].get<std::string>()[0] == '@') note("poke:label");
          if (const auto addr = absolute_address(op["addr"]); addr && *addr < 0x10000) {
            note("poke:below-0x10000");
          }
        }
      }
    }
  }
};

TEST(FeatureTrace, EveryFeatureActuallyAppears) {
  Coverage all;
  Coverage single_features;
  for (uint64_t i = 0; i < 400; ++i) {
    all.trace(Json::parse(make_random_trace(feature_options(i, kAllFeatures))));
    for (uint32_t feature :
         {kFeatureFiles, kFeatureFork, kFeatureExec, kFeatureExit, kFeaturePoke}) {
      if (i < 80) {
        single_features.trace(
            Json::parse(make_random_trace(feature_options(i, kFeatureAnon | feature))));
      }
    }
  }
  for (const char* feature : {"files",
                              "files:fill",
                              "files:seed",
                              "files:empty",
                              "files:size-not-page-multiple",
                              "mmap:file-shared",
                              "mmap:file-private",
                              "mmap:file-unaligned-offset",
                              "mmap:file-past-eof",
                              "op:pwrite",
                              "pwrite:extends",
                              "op:truncate",
                              "truncate:to-0",
                              "truncate:shrink",
                              "truncate:grow",
                              "truncate:not-page-multiple",
                              "access:file-page-past-eof",
                              "access:file-last-page-inside",
                              "access:file-last-page-past-eof",
                              "op:fork",
                              "fork:child-with-threads",
                              "fork:child-without-threads",
                              "fork:of-a-fork",
                              "fork:third-generation",
                              "op:exec",
                              "exec:segment-not-page-multiple",
                              "exec:no-text",
                              "exec:read-text",
                              "exec:write-text",
                              "exec:read-data",
                              "exec:write-data",
                              "exec:read-stack",
                              "exec:write-stack",
                              "op:exit",
                              "exit:forked-process",
                              "exit:thread-process",
                              "op:poke",
                              "poke:own-process",
                              "poke:other-process",
                              "poke:forked-process",
                              "poke:label",
                              "poke:below-0x10000",
                              "schedule:none",
                              "schedule:round-robin",
                              "schedule:sequential"}) {
    EXPECT_GT(all.seen[feature], 0u) << feature;
  }
  EXPECT_EQ(all.seen["schedule:steps-with-fork"], 0u);
  EXPECT_EQ(single_features.seen["schedule:steps-with-fork"], 0u);
  for (const char* feature : {"files", "op:pwrite", "op:truncate", "mmap:file-shared", "op:fork",
                              "op:exec", "op:exit", "op:poke", "schedule:steps"}) {
    EXPECT_GT(single_features.seen[feature], 0u) << feature << " (one feature at a time)";
  }
}

}  // namespace
}  // namespace vmsim::tracegen
