// vmem: the cost of one alloc + free with 10^2 .. 10^5 live segments, for
// each policy, and the ratio of the largest population to the smallest
// (instant fit should stay flat; next fit walks, best fit searches a list).
// All figures come from this run. Usage: vmem_bench [pairs per point]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <vector>

#include "vm/vmem.hpp"

namespace {

using vm::u64;

class HostPages final : public vm::VmemPageSource {
 public:
  void* alloc_page() override { return std::aligned_alloc(vm::kPageSize, vm::kPageSize); }
  void free_page(void* page) override { std::free(page); }
};

const char* policy_name(vm::VmemPolicy p) {
  switch (p) {
    case vm::VmemPolicy::kInstantFit:
      return "instant fit";
    case vm::VmemPolicy::kBestFit:
      return "best fit";
    case vm::VmemPolicy::kNextFit:
      return "next fit";
  }
  return "?";
}

// Nanoseconds per alloc + free pair with `live` segments held (sizes of
// 1..16 quanta, holes between them), the arena four times larger than them.
double ns_per_pair(vm::VmemPolicy policy, u64 live, u64 pairs) {
  constexpr u64 kQuantum = 0x1000;
  HostPages pages;
  vm::VmemArena arena;
  vm::VmemArena::Config c;
  c.name = "bench";
  c.quantum = kQuantum;
  c.pages = &pages;
  if (arena.init(c) != vm::VmemStatus::kOk ||
      arena.add(0x100000000ull, live * 64 * kQuantum) != vm::VmemStatus::kOk)
    std::abort();
  std::mt19937_64 rng(live);
  std::vector<std::pair<u64, u64>> held;
  // Fill with twice the population, then free every other one: holes.
  for (u64 i = 0; i < 2 * live; ++i) {
    const u64 size = (1 + rng() % 16) * kQuantum;
    u64 a = 0;
    if (arena.alloc(size, vm::VmemPolicy::kInstantFit, &a) != vm::VmemStatus::kOk) std::abort();
    held.push_back({a, size});
  }
  std::vector<std::pair<u64, u64>> keep;
  for (u64 i = 0; i < held.size(); ++i) {
    if (i % 2 == 0) {
      keep.push_back(held[i]);
    } else if (arena.free(held[i].first, held[i].second) != vm::VmemStatus::kOk) {
      std::abort();
    }
  }
  std::vector<u64> sizes(pairs);
  for (u64& s : sizes) s = (1 + rng() % 16) * kQuantum;
  const auto t0 = std::chrono::steady_clock::now();
  for (u64 i = 0; i < pairs; ++i) {
    u64 a = 0;
    if (arena.alloc(sizes[i], policy, &a) != vm::VmemStatus::kOk) std::abort();
    if (arena.free(a, sizes[i]) != vm::VmemStatus::kOk) std::abort();
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (arena.check() != nullptr) std::abort();
  arena.destroy();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(pairs);
}

}  // namespace

int main(int argc, char** argv) {
  const u64 pairs = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  const u64 populations[] = {100, 1000, 10000, 100000};
  std::printf("vmem alloc+free, ns per pair (%llu pairs per point)\n",
              static_cast<unsigned long long>(pairs));
  std::printf("%-12s %10s %10s %10s %10s   %s\n", "policy", "1e2 live", "1e3 live", "1e4 live",
              "1e5 live", "1e5 / 1e2");
  for (vm::VmemPolicy p :
       {vm::VmemPolicy::kInstantFit, vm::VmemPolicy::kBestFit, vm::VmemPolicy::kNextFit}) {
    double ns[4];
    // Best fit searches a whole free list and next fit walks the address
    // order (both linear, as in illumos): fewer pairs keep the run short.
    const u64 n = p == vm::VmemPolicy::kInstantFit ? pairs
                  : p == vm::VmemPolicy::kNextFit  ? pairs / 100 + 1
                                                   : pairs / 1000 + 1;
    for (int i = 0; i < 4; ++i) ns[i] = ns_per_pair(p, populations[i], n);
    std::printf("%-12s %10.1f %10.1f %10.1f %10.1f   %.2fx\n", policy_name(p), ns[0], ns[1], ns[2],
                ns[3], ns[3] / ns[0]);
  }
  return 0;
}
