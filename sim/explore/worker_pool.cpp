#include "explore/worker_pool.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "explore/report_json.hpp"

namespace vmsim::explore {
namespace {

struct Worker {
  pid_t pid = -1;
  int fd = -1;  // read end of the pipe the worker writes its report to
};

ExploreReport failed(int code, const std::string& message) {
  ExploreReport r;
  r.error_code = code;
  r.error = message;
  return r;
}

void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

std::string read_all(int fd) {
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

// In the child: explore one shard, send the report, never return.
[[noreturn]] void work(const std::function<ExploreReport(Shard)>& search, Shard shard, int fd) {
  int code = 0;
  try {
    write_all(fd, report_to_json(search(shard), {}, true).dump());
  } catch (...) {
    code = 3;
  }
  ::close(fd);
  std::fflush(nullptr);
  ::_exit(code);
}

}  // namespace

ExploreReport explore_in_workers(const std::function<ExploreReport(Shard)>& search, size_t jobs,
                                 Shard outer) {
  std::fflush(nullptr);  // nothing buffered may be written twice
  std::vector<Worker> workers;
  for (size_t j = 0; j < jobs; ++j) {
    int fds[2];
    if (::pipe(fds) != 0) return failed(3, "pipe failed");
    pid_t pid = ::fork();
    if (pid < 0) return failed(3, "fork failed");
    if (pid == 0) {
      ::close(fds[0]);
      for (const Worker& w : workers) ::close(w.fd);
      work(search, Shard{outer.index + outer.count * j, outer.count * jobs}, fds[1]);
    }
    ::close(fds[1]);
    workers.push_back({pid, fds[0]});
  }
  std::vector<ExploreReport> reports;
  ExploreReport trouble;
  for (const Worker& w : workers) {
    std::string text = read_all(w.fd);
    ::close(w.fd);
    int status = 0;
    ::waitpid(w.pid, &status, 0);
    std::string error;
    auto parsed = nlohmann::ordered_json::parse(text, nullptr, false);
    std::optional<ExploreReport> r =
        parsed.is_discarded() ? std::nullopt : report_from_json(parsed, &error);
    if (!r || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      if (trouble.error_code == 0) trouble = failed(3, "a worker process failed");
      continue;
    }
    reports.push_back(std::move(*r));
  }
  if (trouble.error_code != 0) return trouble;
  ExploreReport merged = merge_reports(reports);
  merged.shard = outer;
  return merged;
}

}  // namespace vmsim::explore
