// VmStats counters are bumped by faults on several CPUs at once holding no
// lock in common (the port's SMP stress mode): stat_add/stat_sub/stat_max
// must not lose an update. Host threads stand in for the CPUs.
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
          vm::stat_add(stats.faults);
          vm::stat_add(stats.regions, 2);
          vm::stat_sub(stats.regions);
          barrier();
        }
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_EQ(stats.faults, kThreads * kPerThread) << "round " << round;
    ASSERT_EQ(stats.regions, kThreads * kPerThread);
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
        vm::stat_max(stats.max_chain, i * kThreads + t);
        barrier();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(stats.max_chain, (kPerThread - 1) * kThreads + (kThreads - 1));
}

TEST(VmStats, MaxNeverLowers) {
  vm::u64 peak = 7;
  vm::stat_max(peak, 3);
  EXPECT_EQ(peak, 7u);
  vm::stat_max(peak, 9);
  EXPECT_EQ(peak, 9u);
}

}  // namespace
