// Runs a program the way a user would and captures what it printed: the
// binary tests of vmsim's commands share this. stdin is /dev/null; stdout
// and stderr go to files in `scratch` (a pipe could fill up and block).
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace vmsim::test_support {

struct Captured {
  int code = -1;  // exit status, or 128 + signal; -1 when it could not start
  std::string out, err;
  double seconds = 0;   // wall time from spawn to exit
  std::string failure;  // why it could not start (empty when it ran)
};

inline std::string read_whole_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `envp`: the environment to give it (nullptr-terminated).
inline Captured spawn_captured(const std::string& bin, const std::vector<std::string>& args,
                               const std::filesystem::path& scratch, char* const* envp) {
  const std::filesystem::path out = scratch / ".stdout", err = scratch / ".stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_s{bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const auto start = std::chrono::steady_clock::now();
  const int rc = posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  Captured r;
  if (rc != 0) {
    r.failure = "cannot start " + bin + ": " + std::strerror(rc);
    return r;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_whole_file(out);
  r.err = read_whole_file(err);
  return r;
}

}  // namespace vmsim::test_support
