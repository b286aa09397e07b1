#include "port_host/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

extern char** environ;

namespace vmsim::port {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Splits complete lines off the front of `pending` into `result`.
void take_lines(std::string* pending, Clock::time_point start, const ChildOptions& options,
                ChildResult* result) {
  size_t nl;
  while ((nl = pending->find('\n')) != std::string::npos) {
    TimedLine line{since(start), pending->substr(0, nl)};
    if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
    pending->erase(0, nl + 1);
    if (options.on_line) options.on_line(line);
    result->lines.push_back(std::move(line));
  }
}

// Reads what is available on `fd` into `into`; false at end of file.
bool drain(int fd, std::string* into) {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      into->append(buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof buf) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false;
  }
}

}  // namespace

ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options) {
  ChildResult result;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    result.start_error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    result.start_error = std::string("pipe: ") + std::strerror(errno);
    close(out[0]);
    close(out[1]);
    return result;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (std::string& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = 0;
  const Clock::time_point start = Clock::now();
  const int rc = posix_spawnp(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    result.start_error = argv[0] + ": " + std::strerror(rc);
    close(out[0]);
    close(err[0]);
    return result;
  }
  result.started = true;
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  fcntl(err[0], F_SETFL, O_NONBLOCK);

  // Read both pipes until the child closes them (it exited, or was killed).
  std::string pending;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    int wait_ms = -1;
    if (options.timeout_seconds > 0) {
      const double left = options.timeout_seconds - since(start);
      if (left <= 0) {
        result.timed_out = true;
        kill(pid, SIGKILL);
        break;
      }
      wait_ms = static_cast<int>(left * 1000) + 1;
    }
    pollfd fds[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
    const int n = poll(fds, 2, wait_ms);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (fds[0].revents) {
      out_open = drain(out[0], &pending);
      take_lines(&pending, start, options, &result);
    }
    if (fds[1].revents) err_open = drain(err[0], &result.err);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.seconds = since(start);
  // Output after the deadline is still worth showing (the last serial lines).
  drain(out[0], &pending);
  drain(err[0], &result.err);
  close(out[0]);
  close(err[0]);
  if (!pending.empty()) pending += '\n';
  take_lines(&pending, start, options, &result);
  if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

}  // namespace vmsim::port
