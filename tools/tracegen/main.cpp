// tracegen: makes vmsim-trace/1 traces. `tracegen random` writes a random,
// valid workload that depends only on its arguments.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "number_parse.hpp"
#include "random_trace.hpp"

namespace {

using vmsim::tracegen::RandomTraceOptions;

constexpr int kExitIo = 1;
constexpr int kExitUsage = 2;

const char kRandomFooter[] = R"(
The trace uses anonymous mmap (private/shared, addr hints, fixed, populate,
labels), munmap, mprotect, madvise, brk, sbrk, read, write, touch and yield.
Most accesses land in memory the process has mapped; some land in holes,
below 0x10000, above the stack top, or in PROT_NONE / read-only memory on
purpose. The trace carries no expectations: the simulator checks every
outcome against its reference model. Threads are spread over processes
(thread p1.t0 belongs to process p1) and CPUs; some traces add a schedule.
The same arguments give the same bytes on every machine.

--features adds the ops of the next milestone (anon, the above, is always
on and alone is the default; "all" names every feature):
  files  a "files" list (1-3 small files, filled or seeded); file mmaps,
         shared and private, some with unaligned offsets or running past
         the end of the file; pwrite; truncate; accesses to file pages,
         the partial last page and pages past the end (bus) included
  fork   child processes forked by a thread of their parent, a few
         generations deep, with threads that run after the fork (no
         schedule steps then); forks of processes no thread runs in
  exec   exec with small segments; accesses to text, data, bss and stack
  exit   exit as the last op of a process's only thread
  poke   poke into this or another live process, mapped or not
  edges  (not in "all") edge values: file offsets at 2^63, lengths that wrap
         past 2^64, fixed mmaps and accesses at the top of user space and
         in the kernel half, brk next to a mapping (docs/linux.md)
  pressure (not in "all") swap of 16 times --memory, large mappings and
         sweeps over them: working sets of 4-8 times --memory, so pageout
         and swap run all along (use a small --memory, e.g. 1MiB;
         docs/pressure.md)
  cache  (not in "all") cache_put of a few pages of private writable
         memory and cache_get of ids the process may hold, some where
         the call must fail or miss (docs/kernel-memory.md)
  device (not in "all") one or two devices (spec §10); privileged and
         unprivileged processes (forks inherit); device mmaps in range,
         past the end (einval) or unprivileged (eperm)
  hugepage (not in "all") machine.large_pages always, madvise or never at
         random, madvise hugepage/nohugepage advice, and 2-6 MiB anonymous
         mappings that hold aligned 2 MiB ranges, so large pages are mapped
         and split (docs/large-pages.md)
  brk    accepted for clarity: brk and sbrk are anon's ops

Numbers may be decimal or 0x hex; --memory also takes KiB/MiB/GiB.
Exit status: 0 written, 1 output not writable, 2 bad arguments.)";

// The raw text of the `random` options, parsed strictly after CLI11 is done.
struct RandomArgs {
  std::string seed;
  std::string ops;
  std::string threads = "1";
  std::string cpus;
  std::string memory = "64MiB";
  std::string features = "anon";
  std::string output;
};

int usage_error(const std::string& message) {
  std::cerr << "tracegen: error: " << message << "\n";
  return kExitUsage;
}

// Fills `field` from `text`; false (after reporting) if it is not a number
// in [min, max].
template <typename T>
bool read_number(const char* flag, const std::string& text, uint64_t min, uint64_t max, T& field) {
  const std::optional<uint64_t> value = vmsim::tracegen::parse_uint(text);
  if (!value || *value < min || *value > max) {
    usage_error(std::string(flag) + ": expected an integer in [" + std::to_string(min) + ", " +
                std::to_string(max) + "], got '" + text + "'");
    return false;
  }
  field = static_cast<T>(*value);
  return true;
}

int write_output(const std::string& text, const std::string& output) {
  if (output.empty() || output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    if (std::ferror(stdout)) {
      std::cerr << "tracegen: error: could not write to standard output\n";
      return kExitIo;
    }
    return 0;
  }
  std::ofstream file(output, std::ios::binary | std::ios::trunc);
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.close();
  if (!file) {
    std::cerr << "tracegen: error: could not write " << output << "\n";
    return kExitIo;
  }
  return 0;
}

int run_random(const RandomArgs& args) {
  RandomTraceOptions options;
  if (!read_number("--seed", args.seed, 0, UINT64_MAX, options.seed) ||
      !read_number("--ops", args.ops, 1, vmsim::tracegen::kMaxOps, options.ops) ||
      !read_number("--threads", args.threads, 1, vmsim::tracegen::kMaxThreads, options.threads)) {
    return kExitUsage;
  }
  if (!args.cpus.empty() &&
      !read_number("--cpus", args.cpus, 1, vmsim::tracegen::kMaxCpus, options.cpus)) {
    return kExitUsage;
  }
  const std::optional<uint64_t> memory = vmsim::tracegen::parse_size(args.memory);
  if (!memory) {
    return usage_error("--memory: not a size: '" + args.memory +
                       "' (use e.g. 67108864, 0x4000000 or 64MiB)");
  }
  options.memory = *memory;
  const std::optional<uint32_t> features = vmsim::tracegen::parse_features(args.features);
  if (!features) {
    return usage_error(
        "--features: expected a comma-separated list of anon, brk, files, fork, exec, "
        "exit, poke, edges, pressure, cache, device, hugepage or all, got '" +
        args.features + "'");
  }
  options.features = *features;
  if (auto problem = vmsim::tracegen::check_options(options)) return usage_error(*problem);
  return write_output(vmsim::tracegen::make_random_trace(options), args.output);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tracegen: makes vmsim-trace/1 traces for the vmsim simulator."};
  app.name("tracegen");
  app.require_subcommand(1);
  app.footer(
      "\nExample: tracegen random --seed 7 --ops 500 --threads 4 --cpus 2 -o t.json\n"
      "Run 'tracegen random --help' for the options and what the traces contain.");

  RandomArgs args;
  CLI::App* random = app.add_subcommand(
      "random", "Write a random, valid trace; the same arguments give the same bytes.");
  random->add_option("--seed", args.seed, "PRNG seed, 0..2^64-1")->required()->type_name("N");
  random->add_option("--ops", args.ops, "ops in all threads together, >= --threads")
      ->required()
      ->type_name("M");
  random->add_option("--threads", args.threads, "threads, 1..64")
      ->capture_default_str()
      ->type_name("T");
  random->add_option("--cpus", args.cpus, "simulated CPUs, 1..64 (default: one per thread)")
      ->type_name("C");
  random->add_option("--memory", args.memory, "machine memory, a multiple of 4096 in 1MiB..4GiB")
      ->capture_default_str()
      ->type_name("SIZE");
  random
      ->add_option(
          "--features", args.features,
          "what the trace contains: anon,brk,files,fork,exec,exit,poke,edges,pressure or all")
      ->capture_default_str()
      ->type_name("LIST");
  random->add_option("-o,--output", args.output, "output file (default: standard output)")
      ->type_name("FILE");
  random->footer(kRandomFooter);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    return usage_error(std::string(e.what()) +
                       "\nRun 'tracegen --help' or 'tracegen random --help' for usage.");
  }
  if (random->parsed()) return run_random(args);
  return kExitUsage;
}
