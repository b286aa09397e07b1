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
  return "tracegen random --seed " + std::to_string(options.seed) + " --ops " +
         std::to_string(options.ops) + " --threads " + std::to_string(options.threads) +
         " --cpus " + std::to_string(effective_cpus(options)) + " --memory " +
         std::to_string(options.memory);
}

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

// Writes every thread's ops, interleaving the threads at random so that each
// process's shadow follows one plausible execution order.
void generate_ops(Prng& rng, MemoryBudget& budget, std::vector<ProcessState>& processes,
                  std::vector<ThreadState>& threads) {
  uint64_t next_label = 0;
  std::vector<size_t> active;
  for (size_t i = 0; i < threads.size(); ++i) active.push_back(i);
  while (!active.empty()) {
    const size_t slot = rng.below(active.size());
    ThreadState& thread = threads[active[slot]];
    GenContext ctx{rng, budget, next_label, processes[thread.process], thread};
    thread.ops.push_back(generate_op(ctx));
    if (thread.ops.size() == thread.quota) active.erase(active.begin() + slot);
  }
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
  return std::nullopt;
}

std::string make_random_trace(const RandomTraceOptions& options) {
  if (auto problem = check_options(options)) throw std::invalid_argument(*problem);
  Prng rng(options.seed);
  MemoryBudget budget(MemoryBudget::frames_for_memory(options.memory));
  std::vector<ProcessState> processes;
  std::vector<ThreadState> threads = lay_out_threads(rng, options, processes);
  generate_ops(rng, budget, processes, threads);

  Json trace;
  trace["format"] = "vmsim-trace/1";
  trace["name"] = "random-" + std::to_string(options.seed);
  trace["description"] = describe(options);
  trace["machine"] =
      Json{{"cpus", effective_cpus(options)}, {"memory", size_json(rng, options.memory)}};
  const std::optional<Json> schedule = make_schedule(rng, threads);
  Json thread_list = Json::array();
  for (ThreadState& thread : threads) {
    Json entry = {{"name", thread.name}, {"process", processes[thread.process].name}};
    if (thread.cpu != 0 || rng.chance(50)) entry["cpu"] = thread.cpu;
    entry["ops"] = Json(std::move(thread.ops));
    thread_list.push_back(std::move(entry));
  }
  trace["threads"] = std::move(thread_list);
  if (schedule) trace["schedule"] = *schedule;
  return format_trace(trace);
}

}  // namespace vmsim::tracegen
