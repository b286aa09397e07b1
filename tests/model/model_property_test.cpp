// Cross-check of the model's range bookkeeping (splitting, placement, holes)
// against a second, even plainer implementation of the same rules that keeps
// one entry per page. Random ops from fixed seeds, confined to two small
// windows (around the initial break and below the top of the mmap search
// window) so that mappings, holes and the heap keep running into each other.
#include <gtest/gtest.h>

#include "model_test_util.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>

#include "lib/digest_writer.hpp"
#include "model/model.hpp"

namespace vmsim {
namespace {

using modeltest::ExpectSame;

using vm::Signal;
using vm::Status;

constexpr uint64_t kP = 4096;

// One process, one map entry per mapped page. Without fork there is no
// aliasing, so a page can hold its bytes itself even when shared.
class PageModel {
 public:
  ModelOutcome mmap(std::optional<uint64_t> addr, uint64_t len, uint8_t prot, bool shared,
                    bool fixed) {
    if (len == 0) return St(Status::kInval);
    const uint64_t rlen = Round(len);
    uint64_t start;
    if (fixed) {
      if (*addr % kP != 0 || *addr < kMinMapAddr) return St(Status::kInval);
      if (*addr + rlen > kUserTop) return St(Status::kNoMem);
      start = *addr;
    } else {
      std::optional<uint64_t> chosen;
      if (addr) {
        const uint64_t hint = *addr / kP * kP;
        if (hint >= kMinMapAddr && hint + rlen <= kUserTop && Free(hint, hint + rlen)) {
          chosen = hint;
        }
      }
      // Highest fit, one page at a time (the test keeps the top nearly empty).
      for (uint64_t s = kMmapTop - rlen; !chosen; s -= kP) {
        if (Free(s, s + rlen)) chosen = s;
      }
      start = *chosen;
    }
    for (uint64_t va = start; va < start + rlen; va += kP) pages_[va] = Page{prot, shared, {}};
    ModelOutcome o;
    o.value = start;
    return o;
  }

  ModelOutcome munmap(uint64_t addr, uint64_t len) {
    if (addr % kP != 0 || len == 0) return St(Status::kInval);
    for (uint64_t va = addr; va < addr + Round(len); va += kP) pages_.erase(va);
    return St(Status::kOk);
  }

  ModelOutcome mprotect(uint64_t addr, uint64_t len, uint8_t prot) {
    if (addr % kP != 0) return St(Status::kInval);
    for (uint64_t va = addr; va < addr + Round(len); va += kP) {
      auto it = pages_.find(va);
      if (it == pages_.end()) return St(Status::kNoMem);
      it->second.prot = prot;
    }
    return St(Status::kOk);
  }

  ModelOutcome madvise(uint64_t addr, uint64_t len, Advice advice) {
    if (addr % kP != 0) return St(Status::kInval);
    bool hole = false;
    for (uint64_t va = addr; va < addr + Round(len); va += kP) {
      auto it = pages_.find(va);
      if (it == pages_.end()) {
        hole = true;
      } else if (advice == Advice::kDontneed && !it->second.shared) {
        it->second.bytes.fill(0);
      }
    }
    return St(hole ? Status::kNoMem : Status::kOk);
  }

  ModelOutcome brk(uint64_t addr) {
    if (addr < kInitialBreak) return St(Status::kInval);
    const uint64_t old_end = Round(brk_), new_end = Round(addr);
    // Linux: a free page must stay before the next mapping; a shrink needs
    // something mapped to take away.
    if (new_end > old_end && !Free(old_end, new_end + kP)) return St(Status::kNoMem);
    if (new_end < old_end && Free(new_end, old_end)) return St(Status::kNoMem);
    for (uint64_t va = old_end; va < new_end; va += kP) pages_[va] = Page{kR | kW, false, {}};
    for (uint64_t va = new_end; va < old_end; va += kP) pages_.erase(va);
    brk_ = addr;
    ModelOutcome o;
    o.value = addr;
    return o;
  }

  ModelOutcome sbrk(int64_t incr) {
    const uint64_t old = brk_;
    ModelOutcome o = brk(old + incr);
    if (o.status == Status::kOk) o.value = old;
    return o;
  }

  ModelOutcome access(uint64_t addr, uint32_t size, bool write, uint64_t value) {
    ModelOutcome o;
    auto it = pages_.find(addr / kP * kP);
    if (it == pages_.end() || it->second.prot == 0 || (write && !(it->second.prot & kW))) {
      o.signal = Signal::kSegv;
      o.fault_addr = addr;
      return o;
    }
    for (uint32_t i = 0; i < size; ++i) {
      uint8_t& byte = it->second.bytes[addr % kP + i];
      if (write) {
        byte = uint8_t(value >> (8 * i));
      } else {
        o.value |= uint64_t{byte} << (8 * i);
      }
    }
    return o;
  }

  ModelOutcome touch(uint64_t addr, uint64_t len, uint64_t stride, bool write, uint8_t value) {
    ModelOutcome o;
    for (uint64_t off = 0; off < len; off += stride) {
      ModelOutcome step = access(addr + off, 1, write, value);
      if (step.signal != Signal::kNone) {
        step.steps_done = o.steps_done;
        return step;
      }
      ++o.steps_done;
    }
    return o;
  }

  // Reported page by page: the writer must merge them into the same runs.
  std::string digest() const {
    vm::DigestWriter w;
    w.begin_process("p");
    for (const auto& [va, page] : pages_) {
      w.mapping(vm::DigestMapping{va, va + kP, static_cast<vm::Prot>(page.prot),
                                  page.shared ? vm::Share::kShared : vm::Share::kPrivate, nullptr,
                                  0});
    }
    w.end_mappings();
    for (const auto& [va, page] : pages_) w.page(va, page.bytes.data());
    char hex[65];
    w.finish(hex);
    return hex;
  }

 private:
  struct Page {
    uint8_t prot;
    bool shared;
    std::array<uint8_t, kP> bytes;
  };
  static uint64_t Round(uint64_t x) { return (x + kP - 1) / kP * kP; }
  static ModelOutcome St(Status s) {
    ModelOutcome o;
    o.status = s;
    return o;
  }
  bool Free(uint64_t start, uint64_t end) const {
    for (uint64_t va = start; va < end; va += kP) {
      if (pages_.count(va) != 0) return false;
    }
    return true;
  }

  std::map<uint64_t, Page> pages_;
  uint64_t brk_ = kInitialBreak;
};

class ModelProperty : public ::testing::TestWithParam<uint32_t> {};

TEST_P(ModelProperty, MatchesPageGranularReference) {
  std::mt19937_64 rng(GetParam());
  auto below = [&](uint64_t n) { return rng() % n; };
  // Two windows of 64 pages: around the initial break, and straddling the
  // top of the mmap search window (so placement and hints meet there).
  const uint64_t windows[2] = {kInitialBreak - 16 * kP, kMmapTop - 48 * kP};
  auto page_addr = [&] { return windows[below(2)] + below(64) * kP; };
  auto length = [&] {
    const uint64_t len = (1 + below(6)) * kP;
    return below(3) == 0 ? len - below(kP) : len;  // sometimes not page-sized
  };

  Model model;
  model.create_process("p");
  PageModel ref;
  for (int i = 0; i < 400; ++i) {
    const std::string what = "seed " + std::to_string(GetParam()) + " op " + std::to_string(i);
    switch (below(9)) {
      case 0: {  // mmap
        const uint64_t len = length();
        const uint8_t prot = uint8_t(below(8));
        const bool shared = below(2) == 0;
        const int kind = int(below(3));  // fixed, hint, none
        std::optional<uint64_t> addr;
        if (kind != 2) addr = page_addr() + (kind == 1 ? below(kP) : 0);
        ExpectSame(ref.mmap(addr, len, prot, shared, kind == 0),
                   model.mmap("p", addr, len, prot, shared, kind == 0, below(2) == 0),
                   what + " mmap");
        break;
      }
      case 1: {
        const uint64_t addr = page_addr(), len = length();
        ExpectSame(ref.munmap(addr, len), model.munmap("p", addr, len), what + " munmap");
        break;
      }
      case 2: {
        const uint64_t addr = page_addr(), len = length();
        const uint8_t prot = uint8_t(below(8));
        ExpectSame(ref.mprotect(addr, len, prot), model.mprotect("p", addr, len, prot),
                   what + " mprotect");
        break;
      }
      case 3: {
        const uint64_t addr = page_addr(), len = length();
        const Advice advice = below(4) == 0 ? Advice::kWillneed : Advice::kDontneed;
        ExpectSame(ref.madvise(addr, len, advice), model.madvise("p", addr, len, advice),
                   what + " madvise");
        break;
      }
      case 4: {
        if (below(2) == 0) {
          const uint64_t addr = kInitialBreak - 2 * kP + below(40 * kP);
          ExpectSame(ref.brk(addr), model.brk("p", addr), what + " brk");
        } else {
          const int64_t incr = int64_t(below(8 * kP)) - int64_t(4 * kP);
          ExpectSame(ref.sbrk(incr), model.sbrk("p", incr), what + " sbrk");
        }
        break;
      }
      case 5:
      case 6: {
        const uint32_t size = 1u << below(4);
        const uint64_t addr = page_addr() + below(kP / size) * size;
        const uint64_t value = rng();
        ExpectSame(ref.access(addr, size, true, value), model.write("p", addr, size, value),
                   what + " write");
        break;
      }
      case 7: {
        const uint32_t size = 1u << below(4);
        const uint64_t addr = page_addr() + below(kP / size) * size;
        ExpectSame(ref.access(addr, size, false, 0), model.read("p", addr, size), what + " read");
        break;
      }
      case 8: {
        const uint64_t addr = page_addr() + below(kP);
        const uint64_t len = below(4 * kP), stride = 1 + below(3 * kP);
        const bool write = below(2) == 0;
        const uint8_t value = uint8_t(rng());
        ExpectSame(ref.touch(addr, len, stride, write, value),
                   model.touch("p", addr, len, stride, write, value), what + " touch");
        break;
      }
    }
    if (i % 50 == 49) {
      ASSERT_EQ(ref.digest(), model.digest()) << what;
    }
    if (HasFailure()) return;  // the first difference is the useful one
  }
  EXPECT_EQ(ref.digest(), model.digest());
}

INSTANTIATE_TEST_SUITE_P(Seeds, ModelProperty, ::testing::Range(1u, 41u));

}  // namespace
}  // namespace vmsim
