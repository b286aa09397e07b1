#include "random_trace.hpp"

#include <stdexcept>
#include <vector>

#include "generator_state.hpp"
#include "op_generators.hpp"
#include "trace_writer.hpp"

namespace vmsim::tracegen {

namespace {

uint32_t effective_cpus(const RandomTraceOptions& options) {
  if (options.cpus != 0) return options.cpus;
  return options.threads < kMaxCpus ? options.threads : kMaxCpus;
}

std::string describe(const RandomTraceOptions& options) {
  std::string text = "tracegen random --seed " + std::to_string(options.seed) + " --ops " +
                     std::to_string(options.ops) + " --threads " + std::to_string(options.threads) +
                     " --cpus " + std::to_string(effective_cpus(options)) + " --memory " +
                     std::to_string(options.memory);
  const uint32_t features = options.features | kFeatureAnon;
  if (features != kFeatureAnon) text += " --features " + features_text(features);
  return text;
}

struct FeatureName {
  const char* name;
  uint32_t bit;
};
constexpr FeatureName kFeatureNames[] = {
    {"anon", kFeatureAnon},     {"files", kFeatureFiles},       {"fork", kFeatureFork},
    {"exec", kFeatureExec},     {"exit", kFeatureExit},         {"poke", kFeaturePoke},
    {"edges", kFeatureEdges},   {"pressure", kFeaturePressure}, {"cache", kFeatureCache},
    {"device", kFeatureDevice}, {"hugepage", kFeatureHugepage},
};

// Threads spread over processes (each process has at least one thread; names
// say which: p1.t0 is the first thread of process p1) and over the CPUs, in a
// shuffled declaration order, with the ops shared out among them.
std::vector<ThreadState> lay_out_threads(Prng& rng, const RandomTraceOptions& options,
                                         std::vector<ProcessState>& processes) {
  const uint32_t count = options.threads;
  const uint32_t cpus = effective_cpus(options);
  uint32_t process_count;
  const uint64_t roll = rng.below(100);
  if (roll < 30) {
    process_count = 1;
  } else if (roll < 60) {
    process_count = count;
  } else {
    process_count = static_cast<uint32_t>(rng.between(1, count));
  }
  for (uint32_t p = 0; p < process_count; ++p) {
    ProcessState process;
    process.index = p;
    process.name = "p" + std::to_string(p);
    processes.push_back(std::move(process));
  }

  std::vector<uint32_t> threads_in(process_count, 0);
  std::vector<ThreadState> threads(count);
  const uint64_t cpu_offset = rng.below(cpus);
  for (uint32_t i = 0; i < count; ++i) {
    ThreadState& thread = threads[i];
    thread.process = i < process_count ? i : static_cast<uint32_t>(rng.below(process_count));
    thread.name =
        processes[thread.process].name + ".t" + std::to_string(threads_in[thread.process]++);
    thread.cpu = static_cast<uint32_t>(rng.chance(80) ? (cpu_offset + i) % cpus : rng.below(cpus));
    thread.quota = 1;
  }
  for (uint64_t extra = options.ops - count; extra > 0; --extra) {
    ++threads[rng.below(count)].quota;
  }
  rng.shuffle(threads);
  return threads;
}

// With fork: a few processes created by threads, and child processes (forks
// of those and of each other, a few generations deep) that get the rest of
// the threads. Each child is forked by one thread of its parent, which gets
// one op more for it; the child's threads start after that fork.
std::vector<ThreadState> lay_out_fork_threads(Prng& rng, const RandomTraceOptions& options,
                                              std::vector<ProcessState>& processes,
                                              uint32_t& next_child) {
  const uint32_t count = options.threads;
  const uint32_t cpus = effective_cpus(options);
  const uint32_t roots = rng.chance(50) ? 1 : static_cast<uint32_t>(rng.between(1, count));
  std::vector<ThreadState> threads(count);
  std::vector<std::vector<uint32_t>> members;  // threads of each process, in layout order
  uint64_t forks = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t process;
    if (i < roots) {
      ProcessState root;
      root.index = i;
      root.name = "p" + std::to_string(i);
      processes.push_back(std::move(root));
      members.emplace_back();
      process = i;
    } else if (forks < kMaxPlannedChildren && count + forks + 1 <= options.ops && rng.chance(55)) {
      std::vector<uint32_t> parents;
      for (const ProcessState& p : processes) {
        if (!members[p.index].empty() && p.depth < kMaxForkDepth) parents.push_back(p.index);
      }
      const uint32_t parent = rng.pick(parents);
      ProcessState child;
      child.index = static_cast<uint32_t>(processes.size());
      child.name = processes[parent].name + ".c" + std::to_string(next_child++);
      child.origin = ProcessOrigin::kPendingFork;
      child.parent = static_cast<int32_t>(parent);
      child.depth = processes[parent].depth + 1;
      child.privileged = processes[parent].privileged;
      const uint32_t forker = rng.pick(members[parent]);
      threads[forker].pending_forks.push_back(child.index);
      ++forks;
      process = child.index;
      processes.push_back(std::move(child));
      members.emplace_back();
    } else {
      process = static_cast<uint32_t>(rng.below(processes.size()));
    }
    ThreadState& thread = threads[i];
    thread.process = process;
    thread.name = processes[process].name + ".t" + std::to_string(members[process].size());
    thread.started = processes[process].origin == ProcessOrigin::kThread;
    thread.cpu = static_cast<uint32_t>(rng.chance(80) ? i % cpus : rng.below(cpus));
    members[process].push_back(i);
  }
  for (ThreadState& thread : threads) thread.quota = 1 + thread.pending_forks.size();
  for (uint64_t extra = options.ops - count - forks; extra > 0; --extra) {
    ++threads[rng.below(count)].quota;
  }
  rng.shuffle(threads);
  return threads;
}

// Which processes end with exit: some of those with exactly one thread.
void choose_exits(Prng& rng, std::vector<ProcessState>& processes) {
  for (ProcessState& process : processes) {
    if (process.threads.size() == 1 && rng.chance(40)) process.will_exit = true;
  }
}

// Spec §2 content of a file or a device: a fill byte or a seed (small
// decimal, or, with `hex_seeds`, sometimes a 64-bit hex string).
Json random_content(Prng& rng, bool hex_seeds) {
  Json content;
  if (rng.chance(50)) {
    content["fill"] = rng.below(256);
  } else if (!hex_seeds) {
    content["seed"] = rng.below(1u << 20);
  } else {
    content["seed"] = rng.chance(80) ? Json(rng.below(1u << 20)) : Json(hex_string(rng.next()));
  }
  return content;
}

// 1 to 3 small files, some sizes not page multiples, filled or seeded.
Json make_files(Prng& rng, std::vector<FileState>& files) {
  Json list = Json::array();
  const uint64_t count = rng.between(1, 3);
  for (uint64_t i = 0; i < count; ++i) {
    FileState file;
    file.name = "f" + std::to_string(i);
    const uint64_t roll = rng.below(100);
    if (roll < 10) {
      file.size = 0;
    } else if (roll < 55) {
      file.size = rng.between(1, 4) * kPageSize;
    } else {
      file.size = rng.between(1, 4 * kPageSize - 1);
    }
    const Json content = random_content(rng, /*hex_seeds=*/true);
    list.push_back(
        Json{{"name", file.name}, {"size", size_json(rng, file.size)}, {"content", content}});
    files.push_back(std::move(file));
  }
  return list;
}

// 1 or 2 devices of 1 to 4 pages, above any machine.memory (at most 4 GiB),
// filled or seeded like files.
Json make_devices(Prng& rng, std::vector<DeviceState>& devices) {
  Json list = Json::array();
  const uint64_t count = rng.between(1, 2);
  for (uint64_t i = 0; i < count; ++i) {
    DeviceState device;
    device.name = "d" + std::to_string(i);
    device.pages = rng.between(1, 4);
    const Json content = random_content(rng, /*hex_seeds=*/false);
    const uint64_t phys = (uint64_t{1} << 32) + i * (uint64_t{1} << 28);
    list.push_back(Json{{"name", device.name},
                        {"phys", hex_string(phys)},
                        {"size", size_json(rng, device.pages * kPageSize)},
                        {"content", content}});
    devices.push_back(std::move(device));
  }
  return list;
}

// Processes threads create are privileged at random; planned children
// inherit their parent's (parents come first in the list).
void choose_privileges(Prng& rng, std::vector<ProcessState>& processes) {
  for (ProcessState& p : processes) {
    p.privileged = p.parent < 0 ? rng.chance(65) : processes[p.parent].privileged;
  }
}

// Writes every thread's ops, interleaving the threads at random so that each
// process's shadow follows one plausible execution order. A thread of a
// forked process joins in once the fork is written.
void generate_ops(Prng& rng, MemoryBudget& budget, TraceState& state) {
  uint64_t next_label = 0;
  std::vector<size_t> active;
  for (size_t i = 0; i < state.threads.size(); ++i) {
    if (state.threads[i].started) active.push_back(i);
  }
  while (!active.empty()) {
    const size_t slot = rng.below(active.size());
    ThreadState& thread = state.threads[active[slot]];
    GenContext ctx{rng, budget, next_label, state.processes[thread.process], thread, state};
    thread.ops.push_back(generate_op(ctx));
    if (thread.ops.size() == thread.quota) active.erase(active.begin() + slot);
    for (uint32_t t : state.started) active.push_back(t);
    state.started.clear();
  }
}

// With forks, no steps: a step could name a thread whose fork has not run.
std::optional<Json> make_fork_schedule(Prng& rng) {
  const uint64_t roll = rng.below(100);
  if (roll < 50) return std::nullopt;
  if (roll < 70) return Json{{"policy", "round-robin"}};
  return Json{{"policy", "sequential"}};
}

// No schedule (the default round robin), a policy, or a few steps that each
// name a thread with ops left, then the default policy for the rest.
std::optional<Json> make_schedule(Prng& rng, const std::vector<ThreadState>& threads) {
  const uint64_t roll = rng.below(100);
  if (roll < 45) return std::nullopt;
  if (roll < 60) return Json{{"policy", "round-robin"}};
  if (roll < 72) return Json{{"policy", "sequential"}};

  std::vector<uint64_t> left;  // ops each thread has not yet run
  for (const ThreadState& thread : threads) left.push_back(thread.ops.size());
  Json steps = Json::array();
  const uint64_t wanted = rng.between(1, 8);
  for (uint64_t s = 0; s < wanted; ++s) {
    std::vector<size_t> runnable;
    for (size_t i = 0; i < threads.size(); ++i) {
      if (left[i] > 0) runnable.push_back(i);
    }
    if (runnable.empty()) break;
    const size_t t = rng.pick(runnable);
    Json step = {{"thread", threads[t].name}};
    if (rng.chance(20)) {
      left[t] = 0;
    } else {
      const uint64_t n = rng.between(1, left[t] < 8 ? left[t] : 8);
      step["ops"] = n;
      left[t] -= n;
    }
    steps.push_back(step);
  }
  return steps;
}

}  // namespace

std::string features_text(uint32_t features) {
  std::string text;
  for (const FeatureName& feature : kFeatureNames) {
    if ((features | kFeatureAnon) & feature.bit) {
      if (!text.empty()) text += ",";
      text += feature.name;
    }
  }
  return text;
}

std::optional<uint32_t> parse_features(std::string_view list) {
  uint32_t features = kFeatureAnon;
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    const std::string_view item = list.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    bool known = item == "brk";  // brk and sbrk are anon's ops
    if (item == "all") {
      features |= kAllFeatures;
      known = true;
    }
    for (const FeatureName& feature : kFeatureNames) {
      if (item == feature.name) {
        features |= feature.bit;
        known = true;
      }
    }
    if (!known) return std::nullopt;
    if (comma == std::string_view::npos) return features;
    start = comma + 1;
  }
}

std::optional<std::string> check_options(const RandomTraceOptions& options) {
  if (options.threads < 1 || options.threads > kMaxThreads) {
    return "--threads must be between 1 and " + std::to_string(kMaxThreads);
  }
  if (options.cpus > kMaxCpus) {
    return "--cpus must be between 1 and " + std::to_string(kMaxCpus);
  }
  if (options.ops < options.threads) {
    return "--ops must be at least --threads (every thread gets one op or more)";
  }
  if (options.ops > kMaxOps) return "--ops must be at most " + std::to_string(kMaxOps);
  if (options.memory < kMinMemory || options.memory > kMaxMemory ||
      options.memory % kPageSize != 0) {
    return "--memory must be a multiple of 4096 between 1MiB and 4GiB";
  }
  if ((options.features & ~(kAllFeatures | kFeatureEdges | kFeaturePressure | kFeatureCache |
                            kFeatureDevice | kFeatureHugepage)) != 0)
    return "--features: unknown feature bits";
  return std::nullopt;
}

std::string make_random_trace(const RandomTraceOptions& options) {
  if (auto problem = check_options(options)) throw std::invalid_argument(*problem);
  Prng rng(options.seed);
  const bool pressure = (options.features & kFeaturePressure) != 0;
  MemoryBudget budget(MemoryBudget::frames_for_memory(options.memory) *
                      (pressure ? kPressureOvercommit : 1));
  TraceState state;
  state.features = options.features | kFeatureAnon;
  const bool fork = (state.features & kFeatureFork) != 0;
  // References to processes stay valid while forks add some.
  state.processes.reserve(options.threads + kMaxPlannedChildren + kMaxThreadlessForks);
  state.threads = fork ? lay_out_fork_threads(rng, options, state.processes, state.next_child)
                       : lay_out_threads(rng, options, state.processes);
  std::vector<ThreadState>& threads = state.threads;
  std::vector<ProcessState>& processes = state.processes;
  if (state.features != kFeatureAnon) {
    for (uint32_t t = 0; t < threads.size(); ++t)
      processes[threads[t].process].threads.push_back(t);
  }
  if (state.features & kFeatureExit) choose_exits(rng, processes);
  Json files;
  if (state.features & kFeatureFiles) {
    files = make_files(rng, state.files);
    // The page cache of every file at its largest.
    budget.reserve(state.files.size() * kMaxFilePages);
  }
  Json devices;
  if (state.features & kFeatureDevice) {
    devices = make_devices(rng, state.devices);
    choose_privileges(rng, processes);
  }
  generate_ops(rng, budget, state);

  Json trace;
  trace["format"] = "vmsim-trace/1";
  trace["name"] = "random-" + std::to_string(options.seed);
  trace["description"] = describe(options);
  trace["machine"] =
      Json{{"cpus", effective_cpus(options)}, {"memory", size_json(rng, options.memory)}};
  if (pressure) {
    trace["machine"]["swap"] = size_json(rng, options.memory * kPressureSwapFactor);
    // A compressor of a half to a sixteenth of memory: small ones fill up,
    // and their victims go on to swap.
    trace["machine"]["compressor"] = size_json(rng, options.memory >> rng.between(1, 4));
  }
  if (!devices.is_null()) trace["machine"]["devices"] = std::move(devices);
  if (state.features & kFeatureHugepage) {
    const uint64_t roll = rng.below(100);
    trace["machine"]["large_pages"] = roll < 50 ? "always" : roll < 85 ? "madvise" : "never";
  }
  if (!files.is_null()) trace["files"] = std::move(files);
  const std::optional<Json> schedule = fork ? make_fork_schedule(rng) : make_schedule(rng, threads);
  Json thread_list = Json::array();
  std::vector<bool> named(processes.size(), false);  // a thread before this one names it
  for (ThreadState& thread : threads) {
    const ProcessState& process = processes[thread.process];
    Json entry = {{"name", thread.name}, {"process", process.name}};
    if (thread.cpu != 0 || rng.chance(50)) entry["cpu"] = thread.cpu;
    // The privilege is the creating thread's to say (spec §2).
    if (process.privileged && process.origin == ProcessOrigin::kThread && !named[process.index])
      entry["privileged"] = true;
    named[process.index] = true;
    entry["ops"] = Json(std::move(thread.ops));
    thread_list.push_back(std::move(entry));
  }
  trace["threads"] = std::move(thread_list);
  if (schedule) trace["schedule"] = *schedule;
  return format_trace(trace);
}

}  // namespace vmsim::tracegen
