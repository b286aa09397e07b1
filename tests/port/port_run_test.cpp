// Tests of `vmsim port run` without QEMU: the real vmsim binary (VMSIM_BIN)
// runs tests/port/fake_qemu.sh in QEMU's place, which plays the kernel's side
// of the serial protocol and exits as the kernel would. They pin the mapping
// of every ending (pass, violation, unusable image, panic, triple fault, hang,
// protocol errors) to spec §6 exit codes, the QEMU command line, and the
// messages when QEMU, its firmware or the kernel is missing (docs/port.md).
#include <fcntl.h>
#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>
#include "scratch_dir.hpp"
#include "spawn_captured.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const std::string kVmsim = VMSIM_BIN;
const std::string kFakeQemu = VMSIM_FAKE_QEMU;
const fs::path kTraces = VMSIM_TRACES_DIR;
const fs::path kDemo = kTraces / "examples/demo.json";

struct Result {
  int code = -1;
  std::string out, err;
  double seconds = 0;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class PortRun : public ::testing::Test {
 protected:
  void SetUp() override {
    kernel_ = scratch_ / "kernel.elf";
    bios_ = scratch_ / "qboot.rom";
    std::ofstream(kernel_) << "not really a kernel";
    std::ofstream(bios_) << "not really firmware";
    // The simulator's own result for the demo trace: what a correct kernel prints.
    const Result r = run({"replay", "--json", kDemo.string()}, {});
    ASSERT_EQ(r.code, 0) << r.err;
    demo_result_ = lines_of(r.out).at(0);
    env_ = {{"VMSIM_QEMU_BIOS", bios_.string()},
            {"TMPDIR", scratch_.string()},
            {"FAKE_QEMU_RESULT", write("result.json", demo_result_).string()},
            {"FAKE_QEMU_ARGS", (scratch_ / "args").string()},
            {"VMSIM_KERNEL", ""},
            {"VMSIM_QEMU", ""}};
  }
  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = scratch_ / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    return p;
  }

  // Runs vmsim with `args`, the environment plus `env_` plus `extra`
  // (an empty value removes the variable).
  Result run(const std::vector<std::string>& args, std::map<std::string, std::string> extra) {
    for (const auto& [k, v] : env_) extra.emplace(k, v);
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) {
      const std::string kv = *e;
      if (!extra.count(kv.substr(0, kv.find('=')))) env_s.push_back(kv);
    }
    for (const auto& [k, v] : extra)
      if (!v.empty()) env_s.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (std::string& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);

    const vmsim::test_support::Captured c =
        vmsim::test_support::spawn_captured(kVmsim, args, scratch_, envp.data());
    if (!c.failure.empty()) ADD_FAILURE() << c.failure;
    return Result{c.code, c.out, c.err, c.seconds};
  }

  // `vmsim port run` with the fake QEMU in `mode` and the fake kernel.
  Result port_run(const std::string& mode, std::vector<std::string> args) {
    std::vector<std::string> full{"port", "run", "--qemu", kFakeQemu, "--kernel", kernel_.string()};
    full.insert(full.end(), args.begin(), args.end());
    return run(full, {{"FAKE_QEMU_MODE", mode}});
  }

  std::vector<std::string> qemu_args() { return lines_of(slurp(scratch_ / "args")); }

  // The argument after `flag` on the fake QEMU's command line.
  std::string qemu_arg(const std::string& flag) {
    const std::vector<std::string> a = qemu_args();
    auto it = std::find(a.begin(), a.end(), flag);
    if (it == a.end() || it + 1 == a.end()) return "(absent)";
    return *(it + 1);
  }

  vmsim::test_support::ScratchDir scratch_dir_{"vmsim-port-run"};
  const fs::path& scratch_ = scratch_dir_.path();
  fs::path kernel_, bios_;
  std::string demo_result_;
  std::map<std::string, std::string> env_;
};

// --- endings and exit codes ---------------------------------------------------

TEST_F(PortRun, PassPrintsTheReportLikeReplay) {
  const Result r = port_run("pass", {kDemo.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("pass  demo  (")) << r.out;
  EXPECT_TRUE(contains(r.out, "expectations met")) << r.out;
  EXPECT_TRUE(contains(r.out, "port: tcg, 2 cpus")) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(PortRun, JsonPrintsTheKernelsResultLineVerbatim) {
  const Result r = port_run("pass", {"--json", kDemo.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, demo_result_ + "\n");
}

TEST_F(PortRun, CompareWithEqualDigestsPasses) {
  const Result r = port_run("pass", {"--compare", kDemo.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "simulator: pass, digest ")) << r.out;
  EXPECT_TRUE(contains(r.out, "(equal)")) << r.out;
}

TEST_F(PortRun, CompareWithDifferentDigestsFailsAndPrintsBoth) {
  Json j = Json::parse(demo_result_);
  const std::string sim_digest = j["digest"];
  const std::string wrong(64, 'a');
  j["digest"] = wrong;
  env_["FAKE_QEMU_RESULT"] = write("wrong.json", j.dump()).string();
  for (const bool json : {false, true}) {
    std::vector<std::string> args{"--compare", kDemo.string()};
    if (json) args.push_back("--json");
    const Result r = port_run("pass", args);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_TRUE(contains(r.err, "digests differ: port " + wrong + ", simulator " + sim_digest))
        << r.err;
  }
}

TEST_F(PortRun, ViolationExitsOne) {
  Json j = Json::parse(demo_result_);
  j["result"] = "violation";
  j["violations"] = Json::array({{{"kind", "read-mismatch"},
                                  {"message", "read 0x1 where the model reads 0x2"},
                                  {"thread", "editor"},
                                  {"op", 3},
                                  {"step", 5}}});
  env_["FAKE_QEMU_RESULT"] = write("violation.json", j.dump()).string();
  const Result r = port_run("violation", {kDemo.string()});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(r.out.starts_with("VIOLATION  demo")) << r.out;
  EXPECT_TRUE(contains(r.out, "read-mismatch: read 0x1 where the model reads 0x2")) << r.out;
}

TEST_F(PortRun, UnmetExpectationExitsOne) {
  Json j = Json::parse(demo_result_);
  j["expect"] = {{"met", false}, {"unmet", {"digest: expected 00, got 11"}}};
  env_["FAKE_QEMU_RESULT"] = write("unmet.json", j.dump()).string();
  const Result r = port_run("violation", {kDemo.string()});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.out, "UNMET: digest: expected 00, got 11")) << r.out;
}

TEST_F(PortRun, RefusedImageExitsTwo) {
  const Result r = port_run("bad-image", {kDemo.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "refused the trace image")) << r.err;
  EXPECT_TRUE(contains(r.err, "vmsim-port: image: bad magic")) << r.err;
}

TEST_F(PortRun, PanicExitsThreeWithItsMessage) {
  const Result r = port_run("panic", {kDemo.string()});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(contains(r.err, "kernel panic: slab double free")) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(PortRun, TripleFaultExitsThree) {
  const Result r = port_run("triple-fault", {kDemo.string()});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(contains(r.err, "triple fault")) << r.err;
  // The last serial lines say how far the kernel got.
  EXPECT_TRUE(contains(r.err, "| vmsim-port: first-op")) << r.err;
}

TEST_F(PortRun, HangIsKilledAtTheTimeoutAndExitsThree) {
  const Result r = port_run("hang", {"--timeout", "1", kDemo.string()});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(contains(r.err, "hang: QEMU did not exit within 1 s")) << r.err;
  EXPECT_LT(r.seconds, 20.0);
}

TEST_F(PortRun, ProtocolErrorsExitThree) {
  for (const char* mode : {"no-result", "two-results", "wrong-status"}) {
    SCOPED_TRACE(mode);
    const Result r = port_run(mode, {kDemo.string()});
    EXPECT_EQ(r.code, 3);
    EXPECT_TRUE(contains(r.err, "protocol error")) << r.err;
  }
}

TEST_F(PortRun, QemuFailureShowsItsStderr) {
  const Result r = port_run("qemu-error", {kDemo.string()});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(contains(r.err, "QEMU failed (exit 1")) << r.err;
  EXPECT_TRUE(contains(r.err, "could not load")) << r.err;
}

TEST_F(PortRun, FailureKeepsTheImageAndSaysHowToRerun) {
  const Result r = port_run("panic", {kDemo.string()});
  EXPECT_TRUE(contains(r.err, "image kept in ")) << r.err;
  const std::string image = qemu_arg("-initrd");
  EXPECT_TRUE(fs::exists(image)) << image;
  EXPECT_TRUE(contains(r.err, "-initrd " + image)) << r.err;
}

TEST_F(PortRun, SeveralTracesRunAllAndTheWorstCodeWins) {
  const fs::path invalid = kTraces / "invalid/unknown-key.json";
  const Result r = port_run("pass", {invalid.string(), kDemo.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "unknown-key.json")) << r.err;
  EXPECT_TRUE(r.out.starts_with("pass  demo")) << r.out;
}

// --- the QEMU command line -------------------------------------------------------

TEST_F(PortRun, CommandLineFollowsTheContract) {
  ASSERT_EQ(port_run("pass", {kDemo.string()}).code, 0);
  const std::vector<std::string> a = qemu_args();
  const std::vector<std::string> expected_prefix{
      "-machine",    "q35",
      "-accel",      "tcg",
      "-cpu",        "max",
      "-bios",       bios_.string(),
      "-m",          "256M",
      "-smp",        "2",
      "-nodefaults", "-display",
      "none",        "-no-reboot",
      "-serial",     "stdio",
      "-device",     "isa-debug-exit,iobase=0xf4,iosize=0x04",
      "-kernel",     kernel_.string(),
      "-initrd"};
  ASSERT_GE(a.size(), expected_prefix.size() + 1);
  EXPECT_EQ(std::vector<std::string>(a.begin(), a.begin() + expected_prefix.size()),
            expected_prefix);
  EXPECT_EQ(a.size(), expected_prefix.size() + 1);  // no -s -S without --gdb
  // The image lives in a scratch directory that is gone after a passing run.
  EXPECT_FALSE(fs::exists(a.back())) << a.back();
}

TEST_F(PortRun, SmpAndMemoryFollowTheTrace) {
  const fs::path big = write("big.json", R"({
    "format": "vmsim-trace/1", "name": "big",
    "machine": { "cpus": 5, "memory": "512MiB" },
    "threads": [ { "name": "t", "process": "p", "ops": [ { "op": "yield" } ] } ]
  })");
  port_run("pass", {big.string()});
  EXPECT_EQ(qemu_arg("-smp"), "5");
  // 512 MiB for the trace, the image, 128 MiB for the kernel.
  EXPECT_EQ(qemu_arg("-m"), "641M");
}

TEST_F(PortRun, SwapAddsToGuestMemory) {
  const fs::path swapped = write("swapped.json", R"({
    "format": "vmsim-trace/1", "name": "swapped",
    "machine": { "memory": "1MiB", "swap": "300MiB" },
    "threads": [ { "name": "t", "process": "p", "ops": [ { "op": "pageout", "pages": 1 } ] } ]
  })");
  port_run("pass", {swapped.string()});
  // The 256 MiB minimum, then the swap device's 300 MiB on top.
  EXPECT_EQ(qemu_arg("-m"), "556M");
}

TEST_F(PortRun, GdbStopsQemuAndSaysHowToAttach) {
  const Result r = port_run("pass", {"--gdb", kDemo.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  const std::vector<std::string> a = qemu_args();
  ASSERT_GE(a.size(), 2u);
  EXPECT_EQ(a[a.size() - 2], "-s");
  EXPECT_EQ(a[a.size() - 1], "-S");
  EXPECT_TRUE(contains(r.err, "gdb " + kernel_.string() + " -ex 'target remote :1234'")) << r.err;
  // The serial log is echoed live.
  EXPECT_TRUE(contains(r.err, "| vmsim-port: boot")) << r.err;
}

TEST_F(PortRun, GdbTakesOneTrace) {
  const Result r = port_run("pass", {"--gdb", kDemo.string(), kDemo.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "--gdb takes exactly one trace")) << r.err;
}

TEST_F(PortRun, KvmAccel) {
  const Result r = port_run("pass", {"--accel", "kvm", kDemo.string()});
  if (access("/dev/kvm", R_OK | W_OK) != 0) {
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(contains(r.err, "/dev/kvm")) << r.err;
    return;
  }
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(qemu_arg("-accel"), "kvm");
  EXPECT_EQ(qemu_arg("-cpu"), "max,-arch-capabilities");  // kvm_pvm: no MSR 0x10a
}

// --- missing pieces -----------------------------------------------------------------

TEST_F(PortRun, MissingQemuIsNamed) {
  Result r = run({"port", "run", "--qemu", "/nonexistent/qemu", kDemo.string()}, {});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "--qemu /nonexistent/qemu: not an executable file")) << r.err;
  // Not in PATH either.
  r = run({"port", "run", "--kernel", kernel_.string(), kDemo.string()},
          {{"PATH", scratch_.string()}});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "qemu-system-x86_64 not found in PATH")) << r.err;
}

TEST_F(PortRun, MissingFirmwareIsNamed) {
  const Result r =
      run({"port", "run", "--qemu", kFakeQemu, "--kernel", kernel_.string(), kDemo.string()},
          {{"VMSIM_QEMU_BIOS", "/nonexistent/qboot.rom"}});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "VMSIM_QEMU_BIOS /nonexistent/qboot.rom: no such file")) << r.err;
}

TEST_F(PortRun, MissingKernelIsNamed) {
  Result r = run(
      {"port", "run", "--qemu", kFakeQemu, "--kernel", "/nonexistent/k.elf", kDemo.string()}, {});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "--kernel /nonexistent/k.elf: no such file")) << r.err;
  r = run({"port", "run", "--qemu", kFakeQemu, kDemo.string()},
          {{"VMSIM_KERNEL", kernel_.string()}, {"FAKE_QEMU_MODE", "pass"}});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(qemu_arg("-kernel"), kernel_.string());
}

TEST_F(PortRun, InvalidTraceExitsTwoBeforeQemuStarts) {
  const Result r = port_run("pass", {(kTraces / "invalid/syntax-error.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "syntax-error.json")) << r.err;
  EXPECT_FALSE(fs::exists(scratch_ / "args"));
}

}  // namespace
