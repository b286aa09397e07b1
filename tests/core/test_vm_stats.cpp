// VmStats counters are bumped by faults on several CPUs at once holding no
// lock in common (the port's SMP stress mode): their vm::Atomic add, sub and
// raise_to must not lose an update. Host threads stand in for the CPUs.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "vm/vm.hpp"

namespace {

constexpr int kThreads = 4;
constexpr vm::u64 kPerThread = 1'000'000;
// Threads on a loaded host do not always overlap: lost updates of a plain
// counter showed in about one round in three here, so the test runs several.
constexpr int kRounds = 8;

// Keeps the compiler from folding a loop of increments into one add, as it
// could for a plain (non-atomic) counter: each update reaches memory on its
// own, as it does between the real faults.
inline void barrier() {
  asm volatile("" ::: "memory");
}

// Holds every thread until all have started, so their loops overlap.
class StartLine {
 public:
  void arrive_and_wait() {
    waiting_.fetch_add(1);
    while (waiting_.load() < kThreads) std::this_thread::yield();
  }

 private:
  std::atomic<int> waiting_{0};
};

TEST(VmStats, ConcurrentAddsAndSubsLoseNothing) {
  for (int round = 0; round < kRounds; ++round) {
    vm::VmStats stats;
    StartLine start;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&stats, &start] {
        start.arrive_and_wait();
        for (vm::u64 i = 0; i < kPerThread; ++i) {
          stats.faults.add(1);
          stats.regions.add(2);
          stats.regions.sub(1);
          barrier();
        }
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_EQ(stats.faults.load(), kThreads * kPerThread) << "round " << round;
    ASSERT_EQ(stats.regions.load(), kThreads * kPerThread);
  }
}

TEST(VmStats, ConcurrentMaxKeepsTheHighest) {
  vm::VmStats stats;
  StartLine start;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&stats, &start, t] {
      start.arrive_and_wait();
      for (vm::u64 i = 0; i < kPerThread; ++i) {
        stats.max_chain.raise_to(i * kThreads + t);
        barrier();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(stats.max_chain.load(), (kPerThread - 1) * kThreads + (kThreads - 1));
}

TEST(VmStats, MaxNeverLowers) {
  vm::Atomic<vm::u64> peak{7};
  peak.raise_to(3);
  EXPECT_EQ(peak.load(), 7u);
  peak.raise_to(9);
  EXPECT_EQ(peak.load(), 9u);
}

}  // namespace
