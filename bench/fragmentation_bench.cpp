// The churn of fragmentation_bench.hpp over a PageAllocator on host memory.
#include "fragmentation_bench.hpp"

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "platform.hpp"

namespace vmsim::bench {
namespace {

using vm::Page;
using vm::PageAllocator;
using vm::u64;

// Host RAM for the allocator: an anonymous mapping, so only the page array
// (the one part the allocator writes) is ever touched.
vm::u8* map_ram(u64 bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "vmsim: bench fragmentation: cannot map %llu bytes\n",
                 static_cast<unsigned long long>(bytes));
    std::exit(3);
  }
  return static_cast<vm::u8*>(p);
}

// A platform for the allocator alone: one CPU, no locks to take, no disk.
class AllocatorPlatform final : public vm::Platform {
 public:
  explicit AllocatorPlatform(u64 bytes) : Platform(map_ram(bytes)), bytes_(bytes) {}
  ~AllocatorPlatform() { munmap(phys(0), bytes_); }
  AllocatorPlatform(const AllocatorPlatform&) = delete;
  AllocatorPlatform& operator=(const AllocatorPlatform&) = delete;

  void tlb_invalidate_page(vm::CpuSet, vm::paddr_t, vm::vaddr_t) override {}
  void tlb_invalidate_all(vm::CpuSet, vm::paddr_t) override {}
  unsigned current_cpu() override { return 0; }
  void yield(vm::YieldPoint) override {}
  void lock_acquire(vm::Mutex&) override {}
  void lock_release(vm::Mutex&) override {}
  bool lock_try_acquire(vm::Mutex&) override { return true; }
  void disk_read(vm::u32, u64, vm::u8*) override { std::abort(); }
  void disk_write(vm::u32, u64, const vm::u8*) override { std::abort(); }
  void disk_truncate(vm::u32, u64) override { std::abort(); }
  void disk_zero_page_tail(vm::u32, u64) override { std::abort(); }
  vm::paddr_t kernel_root() override { return 0; }
  void log(const char*) override {}
  [[noreturn]] void panic(const char* message) override {
    std::fprintf(stderr, "vmsim: bench fragmentation: core panic: %s\n", message);
    std::abort();
  }

 private:
  u64 bytes_;
};

// xorshift64*: the same seed, the same churn.
struct Rng {
  u64 x;
  u64 next() {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 0x2545F4914F6CDD1Dull;
  }
};

// The frames a workload holds, any one of which it may free next.
class Held {
 public:
  explicit Held(PageAllocator& pages) : pages_(pages) {}
  bool take() {
    Page* p = pages_.alloc();
    if (p != nullptr) frames_.push_back(p);
    return p != nullptr;
  }
  void drop(Rng& rng) {
    const size_t i = rng.next() % frames_.size();
    pages_.free(frames_[i]);
    frames_[i] = frames_.back();
    frames_.pop_back();
  }
  u64 size() const { return frames_.size(); }

 private:
  PageAllocator& pages_;
  std::vector<Page*> frames_;
};

double share_now(const PageAllocator& pages, u64* room) {
  *room = pages.stats().free_frames / PageAllocator::kBlockFrames;
  return *room == 0 ? 1.0 : static_cast<double>(pages.free_blocks()) / static_cast<double>(*room);
}

}  // namespace

FragmentationFigures measure_fragmentation(const FragmentationParams& p, vm::FramePolicy policy) {
  AllocatorPlatform platform(p.ram_bytes);
  PageAllocator pages;
  pages.init(platform, p.ram_bytes, 0, 0, policy);
  FragmentationFigures f;
  f.usable_frames = pages.stats().free_frames;
  f.empty_blocks = pages.free_blocks();
  const u64 target = f.usable_frames * p.held_percent / 100;
  const u64 band = f.usable_frames / 16;
  Rng rng{p.seed * 0x9E3779B97F4A7C15ull + 1};
  Held held(pages);

  // The peak, then the release down to the level.
  while (held.size() < f.usable_frames * 9 / 10 && held.take()) {
  }
  while (held.size() > target) held.drop(rng);

  // The churn: a random walk around the level, within the band.
  u64 frees = 0;
  for (int c = 0; c < kCheckpoints; ++c) {
    while (frees < kTurnovers[c] * (target == 0 ? 1 : target)) {
      const bool up = held.size() + band <= target   ? true
                      : held.size() >= target + band ? false
                                                     : (rng.next() >> 63) != 0;
      if (up || held.size() == 0) {
        held.take();
      } else {
        held.drop(rng);
        ++frees;
      }
    }
    f.share[c] = share_now(pages, &f.free_block_room);
  }
  f.held_frames = held.size();

  // A burst of 2 MiB requests: what a workload asking for large pages now gets.
  std::vector<Page*> blocks;
  while (Page* b = pages.alloc_block()) blocks.push_back(b);
  f.burst_blocks = blocks.size();
  for (Page* b : blocks)
    for (u64 i = 0; i < PageAllocator::kBlockFrames; ++i) pages.free(b + i);
  f.check = pages.check();
  return f;
}

}  // namespace vmsim::bench
