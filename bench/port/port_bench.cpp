// port_bench: first-touch anonymous faults in the bare-metal port under QEMU,
// next to the same loop in this Linux process, measured in the same run
// (docs/port.md, "Benchmark"). Timing comes from the host: the moment the
// kernel's `vmsim-port: first-op` line arrives on the serial pipe and the
// moment QEMU exits. R rounds and 2R rounds of "mmap 16 MiB, write one byte
// per page, munmap" are timed, and the difference is divided, which cancels
// boot, the final digest and the leak check. A trace with one `yield` gives
// the boot-to-first-op time. Never a pass/fail test: it prints figures.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "host_baseline.hpp"
#include "port_host/port_session.hpp"
#include "port_host/tools.hpp"

namespace {

namespace fs = std::filesystem;
using vmsim::port::PortSession;
using vmsim::port::PortTools;

struct Options {
  uint64_t pages = 4096;  // 16 MiB at stride 4096
  int rounds = 4;
  int repeats = 3;  // timings per trace; the median is kept
  std::string accel = "tcg";
  std::string kernel, qemu;
  std::string vmsim = VMSIM_BIN;
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "port_bench: %s\n", message.c_str());
  std::exit(2);
}

// A one-thread trace: `rounds` times map `pages` pages fixed at 4 GiB, write
// one byte per page, unmap. Nothing stays mapped, so the final digest is cheap.
std::string touch_trace(uint64_t pages, int rounds) {
  const uint64_t len = pages * 4096;
  std::string ops;
  for (int r = 0; r < rounds; ++r) {
    if (r > 0) ops += ",\n";
    ops += "{\"op\":\"mmap\",\"len\":" + std::to_string(len) +
           ",\"prot\":\"rw\",\"share\":\"private\",\"addr\":\"0x100000000\",\"fixed\":true},\n"
           "{\"op\":\"touch\",\"addr\":\"0x100000000\",\"len\":" +
           std::to_string(len) +
           ",\"access\":\"w\",\"stride\":4096,\"value\":1},\n"
           "{\"op\":\"munmap\",\"addr\":\"0x100000000\",\"len\":" +
           std::to_string(len) + "}";
  }
  const uint64_t memory_mib = len * 2 / (1 << 20) + 32;
  return "{\"format\":\"vmsim-trace/1\",\"name\":\"port-bench-touch\",\"machine\":{\"cpus\":1,"
         "\"memory\":\"" +
         std::to_string(memory_mib) +
         "MiB\"},\"threads\":[{\"name\":\"t\","
         "\"process\":\"p\",\"ops\":[\n" +
         ops + "\n]}]}\n";
}

std::string empty_trace() {
  return "{\"format\":\"vmsim-trace/1\",\"name\":\"port-bench-empty\",\"machine\":{\"cpus\":1},"
         "\"threads\":[{\"name\":\"t\",\"process\":\"p\",\"ops\":[{\"op\":\"yield\"}]}]}\n";
}

struct Timing {
  double first_op = 0;  // QEMU start to the first-op line
  double work = 0;      // first-op line to QEMU's exit
  double total = 0;
};

Timing time_once(const PortTools& tools, const Options& o, const fs::path& trace) {
  vmsim::port::PortSessionOptions so;
  so.accel = o.accel;
  so.timeout_seconds = 600;
  so.cpus = 1;
  so.memory = o.pages * 4096 * 2 + (32ull << 20);  // as touch_trace asks
  const PortSession s = vmsim::port::run_in_port(tools, trace.string(), so);
  if (!s.outcome.failure.empty()) die(trace.string() + ": " + s.outcome.failure);
  if (s.outcome.exit_code != 0) die(trace.string() + ": the trace did not pass in the port");
  if (!s.log.first_op_seconds) die("the kernel printed no `vmsim-port: first-op` line");
  return {*s.log.first_op_seconds, s.qemu_seconds - *s.log.first_op_seconds, s.qemu_seconds};
}

// Median (by work time) of several runs of the same trace.
Timing median(const PortTools& tools, const Options& o, const fs::path& trace) {
  std::vector<Timing> t;
  for (int i = 0; i < o.repeats; ++i) t.push_back(time_once(tools, o, trace));
  std::sort(t.begin(), t.end(), [](const Timing& a, const Timing& b) { return a.work < b.work; });
  Timing m = t[t.size() / 2];
  std::vector<double> first;
  for (const Timing& x : t) first.push_back(x.first_op);
  std::sort(first.begin(), first.end());
  m.first_op = first[first.size() / 2];
  return m;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--pages")
      o.pages = std::strtoull(value().c_str(), nullptr, 0);
    else if (a == "--rounds")
      o.rounds = std::atoi(value().c_str());
    else if (a == "--repeats")
      o.repeats = std::atoi(value().c_str());
    else if (a == "--accel")
      o.accel = value();
    else if (a == "--kernel")
      o.kernel = value();
    else if (a == "--qemu")
      o.qemu = value();
    else if (a == "--vmsim")
      o.vmsim = value();
    else
      die("usage: port_bench [--pages N] [--rounds R] [--repeats K] [--accel tcg|kvm] "
          "[--kernel ELF] [--qemu PATH] [--vmsim PATH]");
  }
  if (o.pages < 16 || o.rounds < 1 || o.repeats < 1)
    die("need --pages >= 16, --rounds, --repeats >= 1");
  if (o.accel != "tcg" && o.accel != "kvm") die("--accel is tcg or kvm");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  PortTools tools;
  tools.vmsim = o.vmsim;
  const auto qemu = vmsim::port::find_qemu(o.qemu);
  if (!qemu.ok()) die(qemu.error);
  tools.qemu = qemu.path;
  const auto bios = vmsim::port::find_bios(qemu.path);
  if (!bios.ok()) die(bios.error);
  tools.bios = bios.path;
  const auto kernel = vmsim::port::find_kernel(o.kernel, o.vmsim);
  if (!kernel.ok()) die(kernel.error);
  tools.kernel = kernel.path;

  std::string tmpl = (fs::temp_directory_path() / "port-bench-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) die("cannot create a scratch directory");
  const fs::path dir = tmpl;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return dir / name;
  };
  const fs::path empty = write("empty.json", empty_trace());
  const fs::path one = write("touch-r.json", touch_trace(o.pages, o.rounds));
  const fs::path two = write("touch-2r.json", touch_trace(o.pages, 2 * o.rounds));

  std::printf(
      "port_bench: %llu pages (%llu MiB) per round, %d and %d rounds, median of %d; "
      "QEMU %s (same run)\n\n",
      static_cast<unsigned long long>(o.pages),
      static_cast<unsigned long long>(o.pages * 4096 >> 20), o.rounds, 2 * o.rounds, o.repeats,
      o.accel.c_str());
  const Timing e = median(tools, o, empty);
  const Timing t1 = median(tools, o, one);
  const Timing t2 = median(tools, o, two);
  fs::remove_all(dir);

  const double faults = static_cast<double>(o.pages) * o.rounds;
  const double port_rate = faults / (t2.work - t1.work);
  const double linux_rate =
      vmsim::bench::linux_first_touch_faults_per_sec(static_cast<size_t>(o.pages), o.rounds);
  std::printf("%-34s %14s %14s %10s\n", "measure (per second)", "port", "linux", "ratio");
  std::printf("%-34s %14.0f %14.0f %10.4f\n", "first-touch anonymous faults", port_rate, linux_rate,
              port_rate / linux_rate);
  std::printf("\nboot to first op (QEMU start to `vmsim-port: first-op`): %.3f s\n", e.first_op);
  std::printf("empty trace, QEMU start to exit:                         %.3f s\n", e.total);
  std::printf("%d rounds: first op to exit %.3f s; %d rounds: %.3f s\n", o.rounds, t1.work,
              2 * o.rounds, t2.work);
  return 0;
}
