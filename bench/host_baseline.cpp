#include "host_baseline.hpp"

#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace vmsim::bench {

namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

double now_seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Events per second; a loop too short for the clock counts as one nanosecond.
double rate(size_t events, double seconds) {
  return static_cast<double>(events) / std::max(seconds, 1e-9);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 != 0 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

size_t page_size() {
  return static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

void check_args(size_t pages, int rounds) {
  if (pages == 0) throw std::invalid_argument("pages must be at least 1");
  if (rounds < 1) throw std::invalid_argument("rounds must be at least 1");
}

// A private anonymous mapping of small pages, unmapped on destruction.
class AnonMapping {
 public:
  explicit AnonMapping(size_t bytes) : bytes_(bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw_errno("mmap");
    base_ = static_cast<volatile unsigned char*>(p);
    // Without transparent huge pages compiled in this fails with EINVAL, and
    // then every fault is a small-page fault anyway.
    (void)madvise(p, bytes, MADV_NOHUGEPAGE);
  }
  ~AnonMapping() { munmap(const_cast<unsigned char*>(base_), bytes_); }
  AnonMapping(const AnonMapping&) = delete;
  AnonMapping& operator=(const AnonMapping&) = delete;

  volatile unsigned char* base() const { return base_; }

 private:
  volatile unsigned char* base_ = nullptr;
  size_t bytes_;
};

// One store per page; returns the seconds it took.
double write_each_page(volatile unsigned char* base, size_t pages, size_t page, unsigned char v) {
  const double start = now_seconds();
  for (size_t i = 0; i < pages; ++i) base[i * page] = v;
  return now_seconds() - start;
}

// The child side of one COW round: only async-signal-safe calls from here on.
[[noreturn]] void cow_child(volatile unsigned char* base, size_t pages, size_t page, int out) {
  const double seconds = write_each_page(base, pages, page, 2);
  const double faults_per_sec = rate(pages, seconds);
  const char* bytes = reinterpret_cast<const char*>(&faults_per_sec);
  size_t sent = 0;
  while (sent < sizeof faults_per_sec) {
    const ssize_t n = write(out, bytes + sent, sizeof faults_per_sec - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(1);
    sent += static_cast<size_t>(n);
  }
  _exit(0);
}

double cow_round(volatile unsigned char* base, size_t pages, size_t page) {
  int fds[2];
  if (pipe(fds) != 0) throw_errno("pipe");
  const pid_t pid = fork();
  if (pid < 0) {
    const int saved = errno;
    close(fds[0]);
    close(fds[1]);
    errno = saved;
    throw_errno("fork");
  }
  if (pid == 0) {
    close(fds[0]);
    cow_child(base, pages, page, fds[1]);
  }
  close(fds[1]);
  double faults_per_sec = 0;
  char* bytes = reinterpret_cast<char*>(&faults_per_sec);
  size_t received = 0;
  while (received < sizeof faults_per_sec) {
    const ssize_t n = read(fds[0], bytes + received, sizeof faults_per_sec - received);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    received += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid");
  }
  if (received != sizeof faults_per_sec || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("linux_cow_faults_per_sec: the child did not report its rate");
  }
  return faults_per_sec;
}

}  // namespace

double linux_first_touch_faults_per_sec(size_t pages, int rounds) {
  check_args(pages, rounds);
  const size_t page = page_size();
  std::vector<double> rates;
  for (int r = 0; r < rounds; ++r) {
    AnonMapping mapping(pages * page);
    rates.push_back(rate(pages, write_each_page(mapping.base(), pages, page, 1)));
  }
  return median(rates);
}

double linux_cow_faults_per_sec(size_t pages, int rounds) {
  check_args(pages, rounds);
  const size_t page = page_size();
  AnonMapping mapping(pages * page);
  write_each_page(mapping.base(), pages, page, 1);  // present in the parent
  std::vector<double> rates;
  for (int r = 0; r < rounds; ++r) rates.push_back(cow_round(mapping.base(), pages, page));
  return median(rates);
}

double linux_resident_accesses_per_sec(size_t pages, size_t accesses) {
  check_args(pages, 1);
  if (accesses == 0) throw std::invalid_argument("accesses must be at least 1");
  const size_t page = page_size();
  const size_t bytes = pages * page;
  const size_t stride = (page + 64) % bytes;  // one page and one cache line on
  AnonMapping mapping(bytes);
  volatile unsigned char* base = mapping.base();
  write_each_page(base, pages, page, 1);

  auto run = [&](size_t count) {
    unsigned sum = 0;
    size_t offset = 0;
    for (size_t i = 0; i < count; ++i) {
      sum += base[offset];
      offset += stride;
      if (offset >= bytes) offset -= bytes;
    }
    return sum;
  };
  volatile unsigned sink = run(std::min(accesses, pages));  // warm-up: TLB and caches
  const double start = now_seconds();
  sink = run(accesses);
  const double seconds = now_seconds() - start;
  (void)sink;
  return rate(accesses, seconds);
}

}  // namespace vmsim::bench
