// Unit tests of the x86-64 physical map (core/vm/pmap.cpp) and its entry
// format (core/vm/pte.hpp). Entries are checked as raw u64s read straight
// from simulated RAM: what the emulated MMU will walk.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fake_platform.hpp"
#include "platform.hpp"
#include "vm/page.hpp"
#include "vm/page_allocator.hpp"
#include "vm/pmap.hpp"
#include "vm/pte.hpp"
#include "vm/tlb_batch.hpp"

namespace {

using vm::CpuSet;
using vm::paddr_t;
using vm::Page;
using vm::PteAttrs;
using vm::Status;
using vm::u64;
using vm::vaddr_t;
namespace pte = vm::pte;

constexpr u64 kGiB = u64{1} << 30;
constexpr u64 kSlot = u64{1} << 39;  // one PML4 entry: 512 GiB
constexpr u64 kRamBytes = 16 << 20;

// The shared fake platform, with a kernel PML4 to copy from.
class PmapPlatform : public vmtest::FakePlatform {
 public:
  using FakePlatform::FakePlatform;
  paddr_t kernel_root() override { return kernel_root_pa; }
  paddr_t kernel_root_pa = 0;
};

PteAttrs attrs(bool writable, bool executable, bool user = true) {
  PteAttrs a;
  a.writable = writable;
  a.executable = executable;
  a.user = user;
  return a;
}
const PteAttrs kRw = attrs(true, false);
const PteAttrs kRo = attrs(false, false);
const PteAttrs kRx = attrs(false, true);
const PteAttrs kRwx = attrs(true, true);

bool same(PteAttrs a, PteAttrs b) {
  return a.writable == b.writable && a.executable == b.executable && a.user == b.user;
}

class PmapTest : public ::testing::Test {
 protected:
  PmapTest() : platform(kRamBytes) {}

  void SetUp() override {
    pages.init(platform, kRamBytes, 0);
    // Frames for the tests to map; allocated up front so that in-use counts
    // afterwards move only with table pages.
    for (int i = 0; i < 64; ++i) {
      Page* p = pages.alloc_zeroed();
      ASSERT_NE(p, nullptr);
      data.push_back(pages.phys(p));
    }
  }

  void init_pmap() {
    ASSERT_EQ(pmap.init(platform, pages), Status::kOk);
    pmap.activate(0);
    baseline_in_use = pages.stats().in_use;
  }

  // The raw entry of `va` in the table at `level`, or ~0 when the path is missing.
  u64 raw(vaddr_t va, unsigned level) const { return *slot(va, level); }
  u64* slot(vaddr_t va, unsigned level) const {
    paddr_t table = pmap.root();
    for (unsigned l = pte::kPml4; l > level; --l) {
      u64 e = reinterpret_cast<u64*>(platform.phys(table))[pte::index(va, l)];
      if (e == 0) return &missing_;
      table = e & pte::kAddrMask;
    }
    return &reinterpret_cast<u64*>(platform.phys(table))[pte::index(va, level)];
  }
  Page* table_page(vaddr_t va, unsigned level) const {
    u64 parent = raw(va, level + 1);
    return pages.page_of(parent & pte::kAddrMask);
  }

  void enter(vaddr_t va, paddr_t pa, PteAttrs a) {
    vm::TlbBatch batch(platform, pages);
    ASSERT_EQ(pmap.enter(va, pa, a, batch), Status::kOk) << std::hex << va;
  }

  std::vector<vaddr_t> invalidated_pages() const {
    std::vector<vaddr_t> out;
    for (const auto& c : platform.tlb_calls)
      if (!c.all) out.push_back(c.va);
    return out;
  }
  size_t full_flushes() const {
    size_t n = 0;
    for (const auto& c : platform.tlb_calls) n += c.all;
    return n;
  }

  void expect_check_ok() {
    const char* err = pmap.check();
    EXPECT_EQ(err, nullptr) << err;
  }

  PmapPlatform platform;
  vm::PageAllocator pages;
  vm::Pmap pmap;
  std::vector<paddr_t> data;
  u64 baseline_in_use = 0;
  mutable u64 missing_ = ~u64{0};
};

// --- pte.hpp -------------------------------------------------------------------

TEST(PteTest, IndicesPerLevel) {
  const vaddr_t va =
      (u64{0x1a5} << 39) | (u64{0x0f3} << 30) | (u64{0x111} << 21) | (u64{0x1fe} << 12) | 0xabc;
  EXPECT_EQ(pte::index(va, pte::kPml4), 0x1a5u);
  EXPECT_EQ(pte::index(va, pte::kPdpt), 0x0f3u);
  EXPECT_EQ(pte::index(va, pte::kPd), 0x111u);
  EXPECT_EQ(pte::index(va, pte::kPt), 0x1feu);
  EXPECT_EQ(pte::index(0x7ffffffff000, pte::kPml4), 255u);
  EXPECT_EQ(pte::index(vm::kKernelBase, pte::kPml4), 256u);
  EXPECT_EQ(pte::span(pte::kPd), u64{2} << 20);
  EXPECT_EQ(pte::span(pte::kPml4), kSlot);
}

TEST(PteTest, Canonical) {
  EXPECT_TRUE(pte::is_canonical(0));
  EXPECT_TRUE(pte::is_canonical(0x7fffffffffff));
  EXPECT_FALSE(pte::is_canonical(0x800000000000));
  EXPECT_TRUE(pte::is_canonical(vm::kKernelBase));
  EXPECT_EQ(pte::canonical(0x800000000000), vm::kKernelBase);
  EXPECT_FALSE(pte::is_canonical(0x0000800000000000 | 0x1000));
  EXPECT_TRUE(pte::in_lower_half(vm::kUserTop));
  EXPECT_FALSE(pte::in_lower_half(vm::kKernelBase));
}

TEST(PteTest, BitsAreArchitectural) {
  EXPECT_EQ(pte::kPresent, 0x1u);
  EXPECT_EQ(pte::kWritable, 0x2u);
  EXPECT_EQ(pte::kUser, 0x4u);
  EXPECT_EQ(pte::kWriteThrough, 0x8u);
  EXPECT_EQ(pte::kCacheDisable, 0x10u);
  EXPECT_EQ(pte::kAccessed, 0x20u);
  EXPECT_EQ(pte::kDirty, 0x40u);
  EXPECT_EQ(pte::kPageSize, 0x80u);
  EXPECT_EQ(pte::kGlobal, 0x100u);
  EXPECT_EQ(pte::kNoExecute, u64{1} << 63);
  EXPECT_EQ(pte::kAddrMask, 0x000ffffffffff000u);
  EXPECT_EQ(pte::table_entry(0x123000), 0x123007u);
}

TEST(PteTest, AttrsRoundTrip) {
  for (int bits = 0; bits < 8; ++bits) {
    PteAttrs a = attrs(bits & 1, bits & 2, bits & 4);
    u64 e = pte::leaf_entry(0xabcdef000, a);
    EXPECT_TRUE(same(pte::attrs(e), a)) << bits;
    EXPECT_EQ(pte::addr(e), 0xabcdef000u);
  }
}

// --- init / kernel half -------------------------------------------------------------

TEST_F(PmapTest, InitAllocatesZeroedRoot) {
  init_pmap();
  EXPECT_EQ(pmap.table_pages(), 1u);
  Page* root = pages.page_of(pmap.root());
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->state, Page::State::kPageTable);
  EXPECT_EQ(root->pt_entries, 0u);
  const u64* e = reinterpret_cast<const u64*>(platform.phys(pmap.root()));
  for (unsigned i = 0; i < 512; ++i) EXPECT_EQ(e[i], 0u) << i;
  expect_check_ok();
  pmap.destroy();
  EXPECT_EQ(pages.stats().in_use, baseline_in_use - 1);
}

TEST_F(PmapTest, KernelHalfCopiedAndUntouched) {
  // A kernel PML4 with two kernel-half entries and (to be ignored) a lower one.
  Page* kroot = pages.alloc_zeroed();
  Page* kpdpt = pages.alloc_zeroed();
  ASSERT_TRUE(kroot && kpdpt);
  kroot->state = kpdpt->state = Page::State::kPageTable;
  u64* k = reinterpret_cast<u64*>(platform.phys(pages.phys(kroot)));
  const u64 kernel_entry = pages.phys(kpdpt) | pte::kPresent | pte::kWritable;
  k[256] = kernel_entry;
  k[511] = kernel_entry | pte::kAccessed;
  k[3] = kernel_entry;
  std::vector<u64> kernel_before(k, k + 512);
  platform.kernel_root_pa = pages.phys(kroot);

  init_pmap();
  const u64* ours = reinterpret_cast<const u64*>(platform.phys(pmap.root()));
  EXPECT_EQ(ours[256], kernel_entry);
  EXPECT_EQ(ours[511], kernel_entry | pte::kAccessed);
  EXPECT_EQ(ours[3], 0u) << "only the kernel half is copied";
  EXPECT_EQ(pages.page_of(pmap.root())->pt_entries, 0u) << "the kernel half is not counted";
  expect_check_ok();

  // Fill and empty the whole lower half; the kernel half must not move.
  enter(0x1000, data[0], kRw);
  enter(0x7ffffffff000, data[1], kRw);
  {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(0, ~u64{0}, batch);  // clipped to the lower half
  }
  EXPECT_EQ(pmap.table_pages(), 1u);
  EXPECT_EQ(ours[256], kernel_entry);
  EXPECT_EQ(ours[511], kernel_entry | pte::kAccessed);
  for (unsigned i = 257; i < 511; ++i) EXPECT_EQ(ours[i], 0u);
  EXPECT_EQ(std::vector<u64>(k, k + 512), kernel_before);
  expect_check_ok();

  // A write into our kernel half is caught.
  const_cast<u64*>(ours)[300] = kernel_entry;
  EXPECT_NE(pmap.check(), nullptr);
  const_cast<u64*>(ours)[300] = 0;

  const u64 frees = pages.stats().frees;
  pmap.destroy();
  EXPECT_EQ(pages.stats().frees, frees + 1) << "only our PML4 is freed";
  EXPECT_EQ(kpdpt->state, Page::State::kPageTable);
}

// --- enter / extract -------------------------------------------------------------------

TEST_F(PmapTest, RoundTripAcrossLevels) {
  init_pmap();
  const vaddr_t vas[] = {
      0x0,     // the very first page
      0x1000,  // its neighbour: same PT
      0x1ff000,
      0x200000,  // last of one PT / first of the next
      kGiB - 0x1000,
      kGiB,  // across a PDPT entry
      kSlot - 0x1000,
      kSlot,                 // adjacent PML4 slots 0 and 1
      254 * kSlot + 0x5000,  // a middle slot
      0x7ffffffff000,        // the last lower-half page (slot 255)
  };
  std::map<vaddr_t, std::pair<paddr_t, PteAttrs>> want;
  int i = 0;
  for (vaddr_t va : vas) {
    PteAttrs a = attrs(i & 1, i & 2, true);
    enter(va, data[i], a);
    want[va] = {data[i], a};
    ++i;
  }
  expect_check_ok();
  for (auto& [va, w] : want) {
    paddr_t pa = 0;
    PteAttrs a;
    ASSERT_TRUE(pmap.extract(va, &pa, &a)) << std::hex << va;
    EXPECT_EQ(pa, w.first);
    EXPECT_TRUE(same(a, w.second)) << std::hex << va;
    ASSERT_TRUE(pmap.extract(va + 0x123, &pa, nullptr));
    EXPECT_EQ(pa, w.first + 0x123) << "offset in the page is kept";
  }
  EXPECT_FALSE(pmap.extract(0x2000, nullptr, nullptr));
  EXPECT_FALSE(pmap.extract(3 * kSlot, nullptr, nullptr));
  EXPECT_FALSE(pmap.extract(vm::kKernelBase, nullptr, nullptr));

  // PDPTs: slots 0, 1, 254, 255. PDs: slot 0 has three ([0,1G), [1G,2G), its
  // last GiB), the other slots one each. PTs: [0,2M), [2M,4M), [1G-2M,1G),
  // [1G,1G+2M), [512G-2M,512G), and one in each other slot.
  EXPECT_EQ(pmap.table_pages(), 1u + 4 + 6 + 8);

  // for_each: ascending, exact.
  std::vector<std::pair<vaddr_t, paddr_t>> seen;
  pmap.for_each(
      [](void* ctx, vaddr_t va, paddr_t pa, PteAttrs) {
        static_cast<std::vector<std::pair<vaddr_t, paddr_t>>*>(ctx)->push_back({va, pa});
      },
      &seen);
  std::vector<std::pair<vaddr_t, paddr_t>> expected;
  for (auto& [va, w] : want) expected.push_back({va, w.first});
  EXPECT_EQ(seen, expected);
}

TEST_F(PmapTest, RejectsBadArguments) {
  init_pmap();
  vm::TlbBatch batch(platform, pages);
  EXPECT_EQ(pmap.enter(0x1001, data[0], kRw, batch), Status::kInval);
  EXPECT_EQ(pmap.enter(0x1000, data[0] + 8, kRw, batch), Status::kInval);
  EXPECT_EQ(pmap.enter(vm::kKernelBase, data[0], kRw, batch), Status::kInval);
  EXPECT_EQ(pmap.enter(0x800000000000, data[0], kRw, batch), Status::kInval);
  EXPECT_EQ(pmap.enter(0x1000, kRamBytes, kRw, batch), Status::kInval) << "outside RAM";
  EXPECT_EQ(pmap.table_pages(), 1u);
  expect_check_ok();
}

TEST_F(PmapTest, LeafAndTableBitsExact) {
  init_pmap();
  for (int bits = 0; bits < 8; ++bits) {
    const vaddr_t va = 0x400000 + bits * 0x1000;
    const PteAttrs a = attrs(bits & 1, bits & 2, bits & 4);
    enter(va, data[bits], a);
    u64 want = data[bits] | pte::kPresent;
    if (a.user) want |= pte::kUser;
    if (a.writable) want |= pte::kWritable;
    if (!a.executable) want |= pte::kNoExecute;
    EXPECT_EQ(raw(va, pte::kPt), want) << bits;
  }
  const vaddr_t va = 0x400000;
  for (unsigned level = pte::kPd; level <= pte::kPml4; ++level) {
    const u64 e = raw(va, level);
    EXPECT_EQ(e & ~pte::kAddrMask, pte::kPresent | pte::kWritable | pte::kUser) << level;
    Page* child = pages.page_of(e & pte::kAddrMask);
    ASSERT_NE(child, nullptr);
    EXPECT_EQ(child->state, Page::State::kPageTable);
  }
  EXPECT_EQ(table_page(va, pte::kPt)->pt_entries, 8u);
  EXPECT_EQ(table_page(va, pte::kPd)->pt_entries, 1u);
  EXPECT_EQ(pages.page_of(pmap.root())->pt_entries, 1u);
  expect_check_ok();
}

TEST_F(PmapTest, ReplacingRecordsInvalidation) {
  init_pmap();
  enter(0x5000, data[0], kRw);
  EXPECT_TRUE(platform.tlb_calls.empty()) << "a new entry was never cached";

  enter(0x5000, data[1], kRw);  // another frame
  EXPECT_EQ(invalidated_pages(), std::vector<vaddr_t>{0x5000});
  EXPECT_EQ(platform.tlb_calls.at(0).root, pmap.root());
  EXPECT_EQ(table_page(0x5000, pte::kPt)->pt_entries, 1u) << "a replacement is not a new entry";

  platform.tlb_calls.clear();
  *slot(0x5000, pte::kPt) |= pte::kAccessed | pte::kDirty;
  enter(0x5000, data[1], kRw);  // same translation: nothing to do
  EXPECT_TRUE(platform.tlb_calls.empty());
  EXPECT_EQ(raw(0x5000, pte::kPt), data[1] | pte::kPresent | pte::kUser | pte::kWritable |
                                       pte::kNoExecute | pte::kAccessed | pte::kDirty)
      << "same frame: A/D kept";

  enter(0x5000, data[1], kRo);  // same frame, fewer rights
  EXPECT_EQ(invalidated_pages(), std::vector<vaddr_t>{0x5000});
  EXPECT_TRUE(pmap.is_dirty(0x5000));

  platform.tlb_calls.clear();
  enter(0x5000, data[2], kRo);  // new frame: the old frame's A/D do not carry over
  EXPECT_EQ(invalidated_pages(), std::vector<vaddr_t>{0x5000});
  EXPECT_FALSE(pmap.is_dirty(0x5000));
  expect_check_ok();
}

// --- remove ------------------------------------------------------------------------------

struct Unmapped {
  vaddr_t va;
  paddr_t pa;
  bool dirty;
  bool operator==(const Unmapped&) const = default;
};

TEST_F(PmapTest, RemoveHugeSparseRangeIsFastAndFreesEveryTable) {
  init_pmap();
  const vaddr_t vas[] = {0x10000, 0x10000 + kSlot, 0x10000 + 2 * kSlot};
  for (int i = 0; i < 3; ++i) enter(vas[i], data[i], kRw);
  EXPECT_EQ(pmap.table_pages(), 1u + 3 * 3);
  EXPECT_EQ(pages.stats().in_use, baseline_in_use + 9);

  std::vector<Unmapped> unmapped;
  platform.tlb_calls.clear();
  const auto t0 = std::chrono::steady_clock::now();
  {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(
        0x10000, vm::kUserTop, batch,
        [](void* ctx, vaddr_t va, paddr_t pa) {
          static_cast<std::vector<Unmapped>*>(ctx)->push_back({va, pa, false});
        },
        &unmapped);
  }
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(elapsed, std::chrono::milliseconds(5));

  EXPECT_EQ(unmapped,
            (std::vector<Unmapped>{
                {vas[0], data[0], false}, {vas[1], data[1], false}, {vas[2], data[2], false}}));
  EXPECT_EQ(pmap.table_pages(), 1u);
  EXPECT_EQ(pages.page_of(pmap.root())->pt_entries, 0u);
  EXPECT_EQ(pages.stats().in_use, baseline_in_use) << "the PML4 alone is left";
  EXPECT_GE(full_flushes(), 1u);
  expect_check_ok();
  pmap.destroy();
  EXPECT_EQ(pages.stats().in_use, baseline_in_use - 1);
}

TEST_F(PmapTest, RemovePartialKeepsSharedTables) {
  init_pmap();
  for (int i = 0; i < 4; ++i) enter(0x200000 + i * 0x1000, data[i], kRw);
  std::vector<Unmapped> unmapped;
  {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(
        0x201000, 0x203000, batch,
        [](void* ctx, vaddr_t va, paddr_t pa, bool dirty) {
          static_cast<std::vector<Unmapped>*>(ctx)->push_back({va, pa, dirty});
        },
        &unmapped);
  }
  EXPECT_EQ(unmapped.size(), 2u);
  EXPECT_EQ(pmap.table_pages(), 4u);
  EXPECT_EQ(table_page(0x200000, pte::kPt)->pt_entries, 2u);
  EXPECT_TRUE(pmap.extract(0x200000, nullptr, nullptr));
  EXPECT_FALSE(pmap.extract(0x201000, nullptr, nullptr));
  EXPECT_FALSE(pmap.extract(0x202000, nullptr, nullptr));
  EXPECT_TRUE(pmap.extract(0x203000, nullptr, nullptr));
  // Unaligned bounds are rounded out to whole pages.
  {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(0x200fff, 0x203001, batch);
  }
  EXPECT_EQ(pmap.table_pages(), 1u);
  expect_check_ok();
}

TEST_F(PmapTest, RemoveReportsDirtyBit) {
  init_pmap();
  enter(0x3000, data[0], kRw);
  enter(0x4000, data[1], kRw);
  *slot(0x4000, pte::kPt) |= pte::kAccessed | pte::kDirty;  // as the walker would
  std::vector<Unmapped> unmapped;
  {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(
        0, 0x10000, batch,
        [](void* ctx, vaddr_t va, paddr_t pa, bool dirty) {
          static_cast<std::vector<Unmapped>*>(ctx)->push_back({va, pa, dirty});
        },
        &unmapped);
  }
  EXPECT_EQ(unmapped, (std::vector<Unmapped>{{0x3000, data[0], false}, {0x4000, data[1], true}}));
}

TEST_F(PmapTest, TablePagesFreedOnlyAfterFlush) {
  init_pmap();
  enter(0x7000, data[0], kRw);
  const Page* pt = table_page(0x7000, pte::kPt);
  const Page* pd = table_page(0x7000, pte::kPd);
  const Page* pdpt = table_page(0x7000, pte::kPdpt);
  const u64 frees = pages.stats().frees;
  std::vector<u64> frees_at_tlb_call;
  platform.on_tlb = [&](const auto&) { frees_at_tlb_call.push_back(pages.stats().frees); };
  platform.tlb_calls.clear();
  {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(0, kGiB, batch);
    // Unlinked but not yet free: a walker may still cache them.
    EXPECT_EQ(pmap.table_pages(), 1u);
    EXPECT_EQ(pages.stats().frees, frees);
    EXPECT_EQ(pt->state, Page::State::kPageTable);
    EXPECT_EQ(pd->state, Page::State::kPageTable);
    EXPECT_EQ(pdpt->state, Page::State::kPageTable);
    EXPECT_TRUE(platform.tlb_calls.empty()) << "nothing is sent before the flush";
    batch.flush();
    EXPECT_EQ(pages.stats().frees, frees + 3);
  }
  EXPECT_EQ(pt->state, Page::State::kFree);
  EXPECT_EQ(pd->state, Page::State::kFree);
  EXPECT_EQ(pdpt->state, Page::State::kFree);
  // Every invalidation reached the CPUs while the frames were still held.
  ASSERT_FALSE(platform.tlb_calls.empty());
  EXPECT_EQ(frees_at_tlb_call, std::vector<u64>(platform.tlb_calls.size(), frees));
  bool full = false;
  for (const auto& c : platform.tlb_calls) {
    EXPECT_EQ(c.root, pmap.root());
    EXPECT_EQ(c.cpus, 1u);
    full |= c.all;
  }
  EXPECT_TRUE(full) << "paging-structure caches need a full flush";
  expect_check_ok();
}

// --- protect ------------------------------------------------------------------------------

TEST_F(PmapTest, ProtectChangesOnlyWhatItMust) {
  init_pmap();
  const PteAttrs kinds[] = {kRwx, kRw, kRx, kRo};
  for (int i = 0; i < 4; ++i) enter(0x10000 + i * 0x1000, data[i], kinds[i]);
  auto entry = [&](int i) { return raw(0x10000 + i * 0x1000, pte::kPt); };
  const u64 before[] = {entry(0), entry(1), entry(2), entry(3)};

  platform.tlb_calls.clear();
  {  // W^X: drop exec only
    vm::TlbBatch batch(platform, pages);
    pmap.protect(0x10000, 0x14000, kRw, batch);
  }
  EXPECT_EQ(invalidated_pages(), (std::vector<vaddr_t>{0x10000, 0x12000}));
  EXPECT_EQ(entry(0), before[0] | pte::kNoExecute);
  EXPECT_EQ(entry(1), before[1]);
  EXPECT_EQ(entry(2), before[2] | pte::kNoExecute);
  EXPECT_EQ(entry(3), before[3]);

  platform.tlb_calls.clear();
  *slot(0x11000, pte::kPt) |= pte::kDirty;
  {  // read-only: drop write
    vm::TlbBatch batch(platform, pages);
    pmap.protect(0x10000, 0x14000, kRo, batch);
  }
  EXPECT_EQ(invalidated_pages(), (std::vector<vaddr_t>{0x10000, 0x11000}));
  EXPECT_EQ(entry(0), (before[0] | pte::kNoExecute) & ~pte::kWritable);
  EXPECT_EQ(entry(1), (before[1] | pte::kDirty) & ~pte::kWritable) << "D survives";
  for (int i = 0; i < 4; ++i) {
    PteAttrs a;
    ASSERT_TRUE(pmap.extract(0x10000 + i * 0x1000, nullptr, &a));
    EXPECT_TRUE(same(a, kRo)) << i;
  }

  platform.tlb_calls.clear();
  {  // never raises rights, and a no-op changes nothing
    vm::TlbBatch batch(platform, pages);
    pmap.protect(0x10000, 0x14000, kRwx, batch);
    pmap.protect(0x10000, 0x14000, kRo, batch);
    pmap.protect(0, vm::kUserTop, kRo, batch);
  }
  EXPECT_TRUE(platform.tlb_calls.empty());
  PteAttrs a;
  ASSERT_TRUE(pmap.extract(0x10000, nullptr, &a));
  EXPECT_TRUE(same(a, kRo));
  expect_check_ok();
}

TEST_F(PmapTest, ProtectRespectsRangeBounds) {
  init_pmap();
  for (int i = 0; i < 3; ++i) enter(0x1ff000 + i * 0x1000, data[i], kRw);  // straddles a PT
  {
    vm::TlbBatch batch(platform, pages);
    pmap.protect(0x200000, 0x201000, kRo, batch);
  }
  PteAttrs a;
  ASSERT_TRUE(pmap.extract(0x1ff000, nullptr, &a));
  EXPECT_TRUE(a.writable);
  ASSERT_TRUE(pmap.extract(0x200000, nullptr, &a));
  EXPECT_FALSE(a.writable);
  ASSERT_TRUE(pmap.extract(0x201000, nullptr, &a));
  EXPECT_TRUE(a.writable);
}

// --- accessed / dirty ---------------------------------------------------------------------

TEST_F(PmapTest, AccessedAndDirtyBits) {
  init_pmap();
  enter(0x9000, data[0], kRw);
  vm::TlbBatch batch(platform, pages);
  EXPECT_FALSE(pmap.test_and_clear_accessed(0x9000, batch));
  EXPECT_FALSE(pmap.is_dirty(0x9000));
  EXPECT_FALSE(pmap.test_and_clear_accessed(0xa000, batch)) << "unmapped";
  EXPECT_FALSE(pmap.is_dirty(5 * kSlot)) << "no table";
  batch.flush();
  EXPECT_TRUE(platform.tlb_calls.empty());

  *slot(0x9000, pte::kPt) |= pte::kAccessed | pte::kDirty;
  EXPECT_TRUE(pmap.is_dirty(0x9000));
  EXPECT_TRUE(pmap.test_and_clear_accessed(0x9000, batch));
  EXPECT_FALSE(pmap.test_and_clear_accessed(0x9000, batch));
  EXPECT_TRUE(pmap.is_dirty(0x9000)) << "clearing A leaves D";
  batch.flush();
  EXPECT_EQ(invalidated_pages(), std::vector<vaddr_t>{0x9000});

  platform.tlb_calls.clear();
  EXPECT_TRUE(pmap.test_and_clear_dirty(0x9000, batch));
  EXPECT_FALSE(pmap.test_and_clear_dirty(0x9000, batch));
  EXPECT_FALSE(pmap.is_dirty(0x9000));
  batch.flush();
  EXPECT_EQ(invalidated_pages(), std::vector<vaddr_t>{0x9000});
  EXPECT_EQ(raw(0x9000, pte::kPt),
            data[0] | pte::kPresent | pte::kUser | pte::kWritable | pte::kNoExecute);
  expect_check_ok();
}

// --- memory exhaustion -------------------------------------------------------------------

TEST_F(PmapTest, EnterUnderExhaustionLeavesNoGarbage) {
  init_pmap();
  enter(0x1000, data[0], kRw);  // slot 0 has a PDPT, PD and PT
  std::vector<Page*> hoard;
  while (Page* p = pages.alloc()) hoard.push_back(p);

  // Each target needs a different number of new tables: 3, 2, 1.
  struct Case {
    vaddr_t va;
    unsigned tables;
  } cases[] = {{3 * kSlot, 3}, {5 * kGiB, 2}, {0x40000000 - 0x1000 - 0x200000, 1}};
  for (const Case& c : cases) {
    for (unsigned have = 0; have < c.tables; ++have) {
      for (unsigned i = 0; i < have; ++i) {
        pages.free(hoard.back());
        hoard.pop_back();
      }
      const u64 in_use = pages.stats().in_use;
      const u64 tables = pmap.table_pages();
      vm::TlbBatch batch(platform, pages);
      EXPECT_EQ(pmap.enter(c.va, data[1], kRw, batch), Status::kNoMem)
          << std::hex << c.va << " with " << have << " frames";
      EXPECT_EQ(pmap.table_pages(), tables);
      EXPECT_EQ(pages.stats().in_use, in_use) << "fresh tables went back";
      EXPECT_FALSE(pmap.extract(c.va, nullptr, nullptr));
      expect_check_ok();
      while (Page* p = pages.alloc()) hoard.push_back(p);
    }
    for (unsigned i = 0; i < c.tables; ++i) {
      pages.free(hoard.back());
      hoard.pop_back();
    }
    vm::TlbBatch batch(platform, pages);
    EXPECT_EQ(pmap.enter(c.va, data[1], kRw, batch), Status::kOk);
    EXPECT_EQ(pages.stats().free_frames, 0u);
    expect_check_ok();
  }
  // A replacement needs no memory.
  vm::TlbBatch batch(platform, pages);
  EXPECT_EQ(pmap.enter(0x1000, data[2], kRo, batch), Status::kOk);
  for (Page* p : hoard) pages.free(p);
}

TEST_F(PmapTest, InitUnderExhaustion) {
  std::vector<Page*> hoard;
  while (Page* p = pages.alloc()) hoard.push_back(p);
  EXPECT_EQ(pmap.init(platform, pages), Status::kNoMem);
  EXPECT_EQ(pmap.root(), 0u);
  vm::TlbBatch batch(platform, pages);
  EXPECT_EQ(pmap.enter(0x1000, data[0], kRw, batch), Status::kInval);
  pmap.remove(0, vm::kUserTop, batch);
  EXPECT_EQ(pmap.check(), nullptr);
  pmap.destroy();
  for (Page* p : hoard) pages.free(p);
}

// --- check() ---------------------------------------------------------------------------------

TEST_F(PmapTest, CheckDetectsCorruptedCount) {
  init_pmap();
  enter(0x1000, data[0], kRw);
  enter(0x2000, data[1], kRw);
  Page* pt = table_page(0x1000, pte::kPt);
  pt->pt_entries = 3;
  const char* err = pmap.check();
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err).find("pt_entries"), std::string::npos) << err;
  pt->pt_entries = 2;
  expect_check_ok();
}

TEST_F(PmapTest, CheckDetectsLeafOutsideRam) {
  init_pmap();
  enter(0x1000, data[0], kRw);
  u64* e = slot(0x1000, pte::kPt);
  const u64 good = *e;
  *e = (good & ~pte::kAddrMask) | (kRamBytes + 0x10000);
  const char* err = pmap.check();
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err).find("outside RAM"), std::string::npos) << err;
  EXPECT_NE(std::string(err).find("va 0x1000"), std::string::npos) << err;
  *e = good;
  expect_check_ok();
}

TEST_F(PmapTest, CheckDetectsBadFlagsAndStates) {
  init_pmap();
  enter(0x1000, data[0], kRw);
  u64* leaf = slot(0x1000, pte::kPt);
  const u64 good_leaf = *leaf;
  *leaf |= pte::kPageSize;
  EXPECT_NE(pmap.check(), nullptr);
  *leaf = good_leaf & ~pte::kPresent;
  EXPECT_NE(pmap.check(), nullptr);
  *leaf = good_leaf;

  u64* pde = slot(0x1000, pte::kPd);
  const u64 good_pde = *pde;
  *pde &= ~pte::kUser;
  EXPECT_NE(pmap.check(), nullptr);
  *pde = good_pde | pte::kAccessed;  // set by the walker: fine
  expect_check_ok();
  *pde = good_pde;

  Page* pt = table_page(0x1000, pte::kPt);
  pt->state = Page::State::kSlab;
  EXPECT_NE(pmap.check(), nullptr);
  pt->state = Page::State::kPageTable;
  expect_check_ok();
}

TEST_F(PmapTest, DestroyPanicsOnLiveMapping) {
  init_pmap();
  enter(0x7fffffe00000, data[0], kRw);
  EXPECT_PANIC(pmap.destroy(), "va 0x7fffffe00000");
}

// --- randomized -----------------------------------------------------------------------------

struct RefEntry {
  paddr_t pa;
  PteAttrs attrs;
};
using Reference = std::map<vaddr_t, RefEntry>;

// Tables the reference needs: one per distinct prefix at each level, + PML4.
u64 expected_tables(const Reference& ref) {
  std::set<u64> pdpt, pd, pt;
  for (auto& [va, e] : ref) {
    pdpt.insert(va >> 39);
    pd.insert(va >> 30);
    pt.insert(va >> 21);
  }
  return 1 + pdpt.size() + pd.size() + pt.size();
}

TEST_F(PmapTest, RandomizedAgainstReference) {
  init_pmap();
  std::mt19937_64 rng(20240611);
  auto pick = [&](u64 n) { return std::uniform_int_distribution<u64>(0, n - 1)(rng); };
  // Hot spots near every kind of table boundary, so tables fill and empty.
  const vaddr_t bases[] = {0,
                           0x200000 - 0x8000,
                           kGiB - 0x8000,
                           kSlot - 0x8000,
                           7 * kSlot + 3 * kGiB,
                           0x7ffffffe0000,  // up to the last lower-half page
                           0x123456000};
  auto random_va = [&] { return bases[pick(std::size(bases))] + pick(32) * 0x1000; };

  Reference ref;
  u64 ops = 0, entered = 0, removed = 0;
  u64 no_mem = 0;
  for (int round = 0; round < 200; ++round) {
    // One round in four runs short of memory: all but 0..3 frames hoarded.
    std::vector<Page*> hoard;
    if (pick(4) == 0) {
      const u64 leave = pick(4);
      while (pages.stats().free_frames > leave) hoard.push_back(pages.alloc());
    }
    vm::TlbBatch batch(platform, pages);
    for (int step = 0; step < 50; ++step, ++ops) {
      const u64 kind = pick(10);
      if (kind < 6) {
        const vaddr_t va = random_va();
        const paddr_t pa = data[pick(data.size())];
        const PteAttrs a = attrs(pick(2), pick(2), pick(4) != 0);
        const Status s = pmap.enter(va, pa, a, batch);
        if (s == Status::kNoMem && !hoard.empty()) {
          ++no_mem;
          continue;
        }
        ASSERT_EQ(s, Status::kOk);
        ref[va] = {pa, a};
        ++entered;
      } else if (kind < 8) {
        const vaddr_t start = random_va();
        const u64 lens[] = {0x1000, 0x5000, 0x20000, 4 * kGiB, 64 * kSlot};
        const vaddr_t end = start + lens[pick(std::size(lens))];
        struct Ctx {
          Reference* ref;
          u64* removed;
        } ctx{&ref, &removed};
        pmap.remove(
            start, end, batch,
            [](void* p, vaddr_t va, paddr_t pa) {
              auto* c = static_cast<Ctx*>(p);
              auto it = c->ref->find(va);
              ASSERT_NE(it, c->ref->end()) << std::hex << va;
              EXPECT_EQ(it->second.pa, pa);
              c->ref->erase(it);
              ++*c->removed;
            },
            &ctx);
        EXPECT_EQ(ref.lower_bound(start), ref.lower_bound(std::min(end, vm::kUserTop + 0x1000)))
            << "every reference entry in the range was reported";
      } else {
        const vaddr_t start = random_va();
        const vaddr_t end = start + pick(64) * 0x1000;
        const PteAttrs limit = attrs(pick(2), pick(2));
        pmap.protect(start, end, limit, batch);
        for (auto it = ref.lower_bound(start); it != ref.end() && it->first < end; ++it) {
          it->second.attrs.writable &= limit.writable;
          it->second.attrs.executable &= limit.executable;
        }
      }
    }
    batch.flush();
    for (Page* p : hoard) pages.free(p);
    expect_check_ok();
    ASSERT_EQ(pmap.table_pages(), expected_tables(ref)) << "round " << round;
    ASSERT_EQ(pages.stats().in_use, baseline_in_use + pmap.table_pages() - 1);

    Reference seen;
    pmap.for_each(
        [](void* p, vaddr_t va, paddr_t pa, PteAttrs a) {
          auto* out = static_cast<Reference*>(p);
          EXPECT_TRUE(out->empty() || out->rbegin()->first < va) << "ascending";
          (*out)[va] = {pa, a};
        },
        &seen);
    ASSERT_EQ(seen.size(), ref.size()) << "round " << round;
    for (auto it = seen.begin(), jt = ref.begin(); it != seen.end(); ++it, ++jt) {
      ASSERT_EQ(it->first, jt->first);
      ASSERT_EQ(it->second.pa, jt->second.pa) << std::hex << it->first;
      ASSERT_TRUE(same(it->second.attrs, jt->second.attrs)) << std::hex << it->first;
    }
  }
  EXPECT_GT(entered, 3000u);
  EXPECT_GT(removed, 1000u);
  EXPECT_GT(no_mem, 50u);

  {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(0, vm::kUserTop + 0x1000, batch);
  }
  EXPECT_EQ(pmap.table_pages(), 1u);
  EXPECT_EQ(pages.stats().in_use, baseline_in_use);
  pmap.destroy();
  EXPECT_EQ(pages.stats().in_use, baseline_in_use - 1);
  EXPECT_EQ(pages.check(), nullptr);
}

}  // namespace
