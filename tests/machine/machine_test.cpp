// The simulated machine against page tables built by hand: every behaviour
// the VM core relies on (translation, faults and resume, protection bits,
// accessed/dirty, per-CPU TLBs, CR3 switches) is checked from the host side
// through phys_base().
#include "machine/machine.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>

namespace vmsim {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kP = 1ull << 0;
constexpr uint64_t kW = 1ull << 1;
constexpr uint64_t kU = 1ull << 2;
constexpr uint64_t kA = 1ull << 5;
constexpr uint64_t kD = 1ull << 6;
constexpr uint64_t kNx = 1ull << 63;
constexpr uint64_t kAddr = 0x000ffffffffff000ull;
constexpr uint64_t kUserRw = kP | kW | kU;
constexpr uint64_t kStubVa = 0xffffffffff600000ull;  // the reserved page
constexpr uint64_t kStubBytes = 4096;

// Test-only page tables: a bump allocator over RAM frames and a 4-level
// walk that creates tables on demand. Each root copies the kernel half of
// kernel_root(), as the VM core does.
class Tables {
 public:
  explicit Tables(Machine& m) : m_(m) {}

  uint64_t frame() {
    const uint64_t pa = next_;
    next_ += kPage;
    EXPECT_LE(next_, m_.ram_bytes());
    std::memset(host(pa), 0, kPage);
    return pa;
  }

  uint64_t root() {
    const uint64_t pml4 = frame();
    std::memcpy(host(pml4) + 256 * 8, host(m_.kernel_root()) + 256 * 8, 256 * 8);
    return pml4;
  }

  uint8_t* host(uint64_t pa) { return m_.phys_base() + pa; }

  // The PTE of `va` under `root`; the tables above it are created.
  uint64_t& pte(uint64_t root, uint64_t va) {
    uint64_t table = root;
    for (int level = 3; level > 0; --level) {
      uint64_t& e = entry(table, va, level);
      if (!(e & kP)) e = frame() | kUserRw;
      table = e & kAddr;
    }
    return entry(table, va, 0);
  }

  void map(uint64_t root, uint64_t va, uint64_t pa, uint64_t bits = kUserRw) {
    pte(root, va) = pa | bits;
  }

 private:
  uint64_t& entry(uint64_t table, uint64_t va, int level) {
    const uint64_t index = (va >> (12 + 9 * level)) & 511;
    return *reinterpret_cast<uint64_t*>(host(table) + index * 8);
  }

  Machine& m_;
  uint64_t next_ = 1 << 20;  // frames below are left to the tests
};

class MachineTest : public ::testing::Test {
 protected:
  MachineTest() : m(64 << 20, 2), t(m), root(t.root()) {}

  Stop load(uint64_t va, uint32_t size = 1, uint32_t cpu = 0) {
    UserContext ctx = m.prepare({UserAccessKind::kLoad, va, size});
    return m.run(cpu, root, ctx);
  }
  Stop store(uint64_t va, uint64_t value, uint32_t size = 1, uint32_t cpu = 0) {
    UserContext ctx = m.prepare({UserAccessKind::kStore, va, size, value});
    return m.run(cpu, root, ctx);
  }

  Machine m;
  Tables t;
  uint64_t root;
};

TEST_F(MachineTest, EnginesAreCreatedOnFirstRun) {
  EXPECT_EQ(m.engines_created(), 0u);
  m.invalidate_all(1);  // nothing cached yet: no engine needed
  EXPECT_EQ(m.engines_created(), 0u);
  load(0x1000);
  EXPECT_EQ(m.engines_created(), 1u);
}

TEST_F(MachineTest, LoadsReadTheFrameThePteNames) {
  const uint64_t frame = t.frame();
  t.map(root, 0x400000, frame);
  const uint64_t pattern = 0xf1e2d3c4b5a69788ull;  // high bits set: no sign extension
  std::memcpy(t.host(frame) + 8, &pattern, 8);

  EXPECT_EQ(load(0x400008, 1).value, 0x88u);
  EXPECT_EQ(load(0x400008, 2).value, 0x9788u);
  EXPECT_EQ(load(0x400008, 4).value, 0xb5a69788u);
  const Stop s = load(0x400008, 8);
  EXPECT_EQ(s.kind, StopKind::kDone);
  EXPECT_EQ(s.value, pattern);
}

TEST_F(MachineTest, StoresWriteTheFrameThePteNames) {
  const uint64_t frame = t.frame();
  t.map(root, 0x400000, frame);
  const uint64_t value = 0x0123456789abcdefull;
  const uint32_t sizes[] = {1, 2, 4, 8};
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(store(0x400000 + 16 * i, value, sizes[i]).kind, StopKind::kDone);
    uint64_t got = 0;
    std::memcpy(&got, t.host(frame) + 16 * i, 8);
    const uint64_t mask = sizes[i] == 8 ? ~0ull : (1ull << (8 * sizes[i])) - 1;
    EXPECT_EQ(got, value & mask) << "size " << sizes[i];
  }
}

TEST_F(MachineTest, NotPresentLoadFaultsThenResumes) {
  UserContext ctx = m.prepare({UserAccessKind::kLoad, 0x7000123, 1});
  Stop s = m.run(0, root, ctx);
  ASSERT_EQ(s.kind, StopKind::kPageFault);
  EXPECT_EQ(s.fault_addr, 0x7000123u);
  EXPECT_FALSE(s.fault_write);

  const uint64_t frame = t.frame();
  t.host(frame)[0x123] = 0x5a;
  t.map(root, 0x7000000, frame);  // not-present entries are never cached
  s = m.run(0, root, ctx);
  ASSERT_EQ(s.kind, StopKind::kDone);
  EXPECT_EQ(s.value, 0x5au);
}

TEST_F(MachineTest, NotPresentStoreFaultsAsWriteThenResumes) {
  UserContext ctx = m.prepare({UserAccessKind::kStore, 0x7000010, 4, 0xdeadbeef});
  Stop s = m.run(0, root, ctx);
  ASSERT_EQ(s.kind, StopKind::kPageFault);
  EXPECT_EQ(s.fault_addr, 0x7000010u);
  EXPECT_TRUE(s.fault_write);

  const uint64_t frame = t.frame();
  t.map(root, 0x7000000, frame);
  ASSERT_EQ(m.run(0, root, ctx).kind, StopKind::kDone);
  uint32_t got = 0;
  std::memcpy(&got, t.host(frame) + 0x10, 4);
  EXPECT_EQ(got, 0xdeadbeefu);
}

TEST_F(MachineTest, SupervisorPageFaultsFromUserMode) {
  t.map(root, 0x400000, t.frame(), kP | kW);  // no U bit
  const Stop s = load(0x400000);
  EXPECT_EQ(s.kind, StopKind::kPageFault);
  EXPECT_EQ(s.fault_addr, 0x400000u);
}

TEST_F(MachineTest, StoreToReadOnlyPageFaults) {
  const uint64_t frame = t.frame();
  t.map(root, 0x400000, frame, kP | kU);
  t.host(frame)[0] = 7;
  EXPECT_EQ(load(0x400000).value, 7u);
  const Stop s = store(0x400000, 9);
  EXPECT_EQ(s.kind, StopKind::kPageFault);
  EXPECT_TRUE(s.fault_write);
  EXPECT_EQ(t.host(frame)[0], 7);
}

TEST_F(MachineTest, NoExecutePageIsReadable) {
  const uint64_t frame = t.frame();
  t.map(root, 0x400000, frame, kUserRw | kNx);
  t.host(frame)[5] = 0x42;
  const Stop s = load(0x400005);
  ASSERT_EQ(s.kind, StopKind::kDone);
  EXPECT_EQ(s.value, 0x42u);
}

TEST_F(MachineTest, WalkerSetsAccessedAndDirtyBits) {
  t.map(root, 0x400000, t.frame());
  t.map(root, 0x401000, t.frame());
  ASSERT_EQ(load(0x400000).kind, StopKind::kDone);
  EXPECT_TRUE(t.pte(root, 0x400000) & kA);
  EXPECT_FALSE(t.pte(root, 0x400000) & kD);
  EXPECT_FALSE(t.pte(root, 0x401000) & (kA | kD));

  ASSERT_EQ(store(0x401000, 1).kind, StopKind::kDone);
  EXPECT_TRUE(t.pte(root, 0x401000) & kA);
  EXPECT_TRUE(t.pte(root, 0x401000) & kD);

  // A store to a page first cached by a load sets D too (the clean TLB
  // entry has no write permission, so the store walks again).
  ASSERT_EQ(store(0x400000, 1).kind, StopKind::kDone);
  EXPECT_TRUE(t.pte(root, 0x400000) & kD);
}

TEST_F(MachineTest, TlbIsStaleUntilInvalidatePage) {
  const uint64_t a = t.frame(), b = t.frame();
  t.host(a)[0] = 0xaa;
  t.host(b)[0] = 0xbb;
  t.map(root, 0x400000, a);
  t.map(root, 0x600000, a);  // a second page that stays cached
  ASSERT_EQ(load(0x400000).value, 0xaau);
  ASSERT_EQ(load(0x600000).value, 0xaau);

  t.map(root, 0x400000, b);
  t.map(root, 0x600000, b);
  EXPECT_EQ(load(0x400000).value, 0xaau) << "the engine should still use the old translation";
  m.invalidate_page(0, 0x400000);
  EXPECT_EQ(load(0x400000).value, 0xbbu);
  EXPECT_EQ(load(0x600000).value, 0xaau) << "invalidate_page must drop only its page";
  m.invalidate_all(0);
  EXPECT_EQ(load(0x600000).value, 0xbbu);
}

TEST_F(MachineTest, InvalidatePageHidesNothingAfterFaults) {
  // Fault, invalidate, fault again: the ring-0 detour and the fault
  // recovery use different saved contexts; each must come back clean.
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(load(0x900000).kind, StopKind::kPageFault);
    m.invalidate_page(0, 0x900000);
  }
  t.map(root, 0x900000, t.frame());
  EXPECT_EQ(load(0x900000).kind, StopKind::kDone);
}

TEST_F(MachineTest, CpusShareRamButNotTlbs) {
  const uint64_t a = t.frame(), b = t.frame(), shared = t.frame();
  t.map(root, 0x400000, a);
  t.map(root, 0x500000, shared);
  t.host(a)[0] = 0xaa;
  t.host(b)[0] = 0xbb;

  ASSERT_EQ(store(0x500000, 0x77, 1, 0).kind, StopKind::kDone);
  EXPECT_EQ(load(0x500000, 1, 1).value, 0x77u) << "CPU 1 sees CPU 0's store";

  ASSERT_EQ(load(0x400000, 1, 0).value, 0xaau);
  ASSERT_EQ(load(0x400000, 1, 1).value, 0xaau);
  t.map(root, 0x400000, b);
  m.invalidate_page(1, 0x400000);
  EXPECT_EQ(load(0x400000, 1, 0).value, 0xaau) << "CPU 0 was not told: stale";
  EXPECT_EQ(load(0x400000, 1, 1).value, 0xbbu) << "CPU 1 was: fresh";
}

TEST_F(MachineTest, TouchLoopResumesAfterEachFault) {
  constexpr uint64_t kBase = 0x10000000, kPages = 64, kStride = 64;
  uint64_t frames[kPages];
  for (uint64_t i = 0; i < kPages; ++i) {
    frames[i] = t.frame();
    if (i % 3 != 0) t.map(root, kBase + i * kPage, frames[i]);
  }
  UserContext ctx =
      m.prepare({UserAccessKind::kTouchStore, kBase, 1, 0x3c, kStride, kPages * kPage / kStride});
  int faults = 0;
  for (;;) {
    const Stop s = m.run(0, root, ctx);
    if (s.kind == StopKind::kDone) break;
    ASSERT_EQ(s.kind, StopKind::kPageFault);
    ASSERT_TRUE(s.fault_write);
    const uint64_t page = (s.fault_addr - kBase) / kPage;
    ASSERT_EQ(page % 3, 0u) << "fault on a present page";
    ASSERT_EQ(s.fault_addr, ctx.rdi) << "the context stops on the faulting byte";
    t.map(root, kBase + page * kPage, frames[page]);
    ++faults;
  }
  EXPECT_EQ(faults, 22);
  EXPECT_EQ(ctx.rcx, 0u);
  for (uint64_t i = 0; i < kPages; ++i) {
    for (uint64_t off = 0; off < kPage; off += kStride) {
      ASSERT_EQ(t.host(frames[i])[off], 0x3c) << "page " << i << " offset " << off;
    }
  }
}

TEST_F(MachineTest, TenThousandConsecutiveFaultsStayPageFaults) {
  // Every page of the loop faults once; each is then mapped to the same
  // frame. Without the clean-context restore the 2nd fault would be #DF.
  constexpr uint64_t kBase = 0x20000000, kPages = 10000;
  const uint64_t frame = t.frame();
  UserContext ctx = m.prepare({UserAccessKind::kTouchLoad, kBase, 1, 0, kPage, kPages});
  uint64_t faults = 0;
  for (;;) {
    const Stop s = m.run(0, root, ctx);
    if (s.kind == StopKind::kDone) break;
    ASSERT_EQ(s.kind, StopKind::kPageFault) << "after " << faults << " faults";
    ASSERT_EQ(s.fault_addr, kBase + faults * kPage);
    t.map(root, s.fault_addr & ~(kPage - 1), frame);
    ++faults;
  }
  EXPECT_EQ(faults, kPages);
}

TEST_F(MachineTest, NonCanonicalAddressIsGeneralProtection) {
  const uint64_t bad = 0x0000800000000000ull;
  for (int i = 0; i < 3; ++i) {  // repeated #GP must not turn into #DF either
    const Stop s = load(bad);
    EXPECT_EQ(s.kind, StopKind::kGeneralProtection);
    EXPECT_EQ(s.fault_addr, bad);
  }
  EXPECT_EQ(store(0xdead000000000000ull, 1).kind, StopKind::kGeneralProtection);
  t.map(root, 0x400000, t.frame());
  EXPECT_EQ(load(0x400000).kind, StopKind::kDone) << "the CPU recovers";
  EXPECT_EQ(load(0x700000).kind, StopKind::kPageFault) << "and a #PF is still a #PF";
}

TEST_F(MachineTest, StoreAcrossIntoMissingPageWritesNothing) {
  const uint64_t frame = t.frame();
  t.map(root, 0x400000, frame);
  const Stop s = store(0x400ffc, ~0ull, 8);
  ASSERT_EQ(s.kind, StopKind::kPageFault);
  EXPECT_EQ(s.fault_addr, 0x401000u);
  for (int i = 0xffc; i < 0x1000; ++i) EXPECT_EQ(t.host(frame)[i], 0);
}

TEST_F(MachineTest, ReservedRangeIsTheStubPage) {
  EXPECT_TRUE(m.reserved_range(kStubVa, 1));
  EXPECT_TRUE(m.reserved_range(kStubVa + kStubBytes - 1, 8));
  EXPECT_TRUE(m.reserved_range(kStubVa - 4, 8));
  EXPECT_FALSE(m.reserved_range(kStubVa - 8, 8));
  EXPECT_FALSE(m.reserved_range(kStubVa + kStubBytes, 8));
  EXPECT_FALSE(m.reserved_range(kStubVa, 0));
  EXPECT_FALSE(m.reserved_range(0x400000, 8));
  EXPECT_TRUE(m.reserved_range(0, ~0ull));

  const uint64_t below = kStubVa - 2 * kPage;
  EXPECT_TRUE(m.reserved_access({UserAccessKind::kTouchLoad, below, 1, 0, kPage, 3}));
  EXPECT_FALSE(m.reserved_access({UserAccessKind::kTouchLoad, below, 1, 0, kPage, 2}));
  EXPECT_FALSE(m.reserved_access({UserAccessKind::kTouchLoad, below, 1, 0, 4 * kPage, 2}))
      << "a stride that steps over the pages touches nothing in them";
  EXPECT_TRUE(m.reserved_access({UserAccessKind::kStore, kStubVa - 1, 2}));
}

TEST_F(MachineTest, StubPageIsExecuteOnlyWithProtectionKeys) {
  ASSERT_TRUE(m.stubs_execute_only()) << "protection keys did not take on this Unicorn";
  const Stop s = load(kStubVa + 8, 8);
  EXPECT_EQ(s.kind, StopKind::kPageFault);
  EXPECT_TRUE(m.reserved_range(s.fault_addr, 1));
  EXPECT_EQ(store(kStubVa, 0).kind, StopKind::kPageFault);
  EXPECT_EQ(load(0x400000).kind, StopKind::kPageFault) << "stubs still execute";
}

TEST(MachineNoPkuTest, WithoutProtectionKeysTheStubPageIsReadable) {
  // Why reserved_range() exists: the stubs must be User to run at CPL 3.
  MachineOptions options;
  options.execute_only_stubs = false;
  Machine m(16 << 20, 1, options);
  EXPECT_FALSE(m.stubs_execute_only());
  Tables t(m);
  const uint64_t root = t.root();
  UserContext ctx = m.prepare({UserAccessKind::kLoad, kStubVa, 1});
  const Stop s = m.run(0, root, ctx);
  ASSERT_EQ(s.kind, StopKind::kDone);
  EXPECT_EQ(s.value, 0x0fu) << "first byte of the load8 stub (movzx)";
  UserContext st = m.prepare({UserAccessKind::kStore, kStubVa, 1, 0});
  EXPECT_EQ(m.run(0, root, st).kind, StopKind::kPageFault) << "but it is never writable";
}

TEST_F(MachineTest, SwitchingRootsGivesEachItsOwnMapping) {
  const uint64_t root2 = t.root();
  const uint64_t a = t.frame(), b = t.frame();
  t.host(a)[0] = 0xaa;
  t.host(b)[0] = 0xbb;
  t.map(root, 0x400000, a);
  t.map(root2, 0x400000, b);
  for (int i = 0; i < 4; ++i) {
    UserContext c1 = m.prepare({UserAccessKind::kLoad, 0x400000, 1});
    UserContext c2 = c1;
    EXPECT_EQ(m.run(0, root, c1).value, 0xaau);
    EXPECT_EQ(m.run(0, root2, c2).value, 0xbbu);
  }
  // A fault under one root, resumed after a switch away and back.
  UserContext pending = m.prepare({UserAccessKind::kLoad, 0x800000, 1});
  ASSERT_EQ(m.run(0, root2, pending).kind, StopKind::kPageFault);
  UserContext other = m.prepare({UserAccessKind::kLoad, 0x400000, 1});
  EXPECT_EQ(m.run(0, root, other).value, 0xaau);
  t.map(root2, 0x800000, b);
  EXPECT_EQ(m.run(0, root2, pending).value, 0xbbu);
}

TEST_F(MachineTest, RejectsRootsWithoutTheKernelHalf) {
  const uint64_t bare = t.frame();
  UserContext ctx = m.prepare({UserAccessKind::kLoad, 0x400000, 1});
  EXPECT_THROW(m.run(0, bare, ctx), std::invalid_argument);
  EXPECT_THROW(m.run(0, root + 1, ctx), std::invalid_argument);
  EXPECT_THROW(m.run(2, root, ctx), std::invalid_argument);
  EXPECT_THROW(m.prepare({UserAccessKind::kLoad, 0x400000, 3}), std::invalid_argument);
  UserContext stray = ctx;
  stray.rip = 0x400000;  // not a stub
  EXPECT_THROW(m.run(0, root, stray), std::invalid_argument);
}

TEST(MachineCodeBufferTest, RunsDoNotTranslateAgain) {
  // Regression: ending runs at Unicorn's `until` address made it translate
  // the exit block again on every run; a 1 MiB code buffer filled after
  // ~3,800 runs and Unicorn crashed in its tb_flush. 15,000 rounds of
  // completions, faults, INVLPGs and root switches must fit in 1 MiB.
  MachineOptions options;
  options.tcg_buffer_bytes = 1 << 20;
  Machine m(16 << 20, 1, options);
  Tables t(m);
  const uint64_t root = t.root(), root2 = t.root();
  t.map(root, 0x400000, t.frame());
  t.map(root2, 0x400000, t.frame());
  for (int i = 0; i < 15000; ++i) {
    UserContext ok = m.prepare({UserAccessKind::kTouchLoad, 0x400000, 1, 0, 64, 4});
    ASSERT_EQ(m.run(0, (i & 1) ? root2 : root, ok).kind, StopKind::kDone);
    UserContext bad = m.prepare({UserAccessKind::kStore, 0x800000, 8, 1});
    ASSERT_EQ(m.run(0, root, bad).kind, StopKind::kPageFault);
    m.invalidate_page(0, 0x400000);
  }
}

TEST_F(MachineTest, FaultedAccessResumesOnAnotherCpu) {
  // The context belongs to the thread: it may resume wherever it is run.
  UserContext ctx = m.prepare({UserAccessKind::kStore, 0x400010, 2, 0xbeef});
  ASSERT_EQ(m.run(0, root, ctx).kind, StopKind::kPageFault);
  const uint64_t frame = t.frame();
  t.map(root, 0x400000, frame);
  ASSERT_EQ(m.run(1, root, ctx).kind, StopKind::kDone);
  EXPECT_EQ(t.host(frame)[0x10], 0xef);
  EXPECT_EQ(t.host(frame)[0x11], 0xbe);
}

TEST_F(MachineTest, FrameOutsidePhysicalMemoryIsAnErrorNotAFault) {
  // A PTE naming memory that does not exist is a core bug; the machine
  // reports it loudly and stays usable.
  t.map(root, 0x400000, m.phys_bytes() + 16 * kPage);
  UserContext ctx = m.prepare({UserAccessKind::kLoad, 0x400000, 1});
  EXPECT_THROW(m.run(0, root, ctx), std::runtime_error);
  t.map(root, 0x400000, t.frame());
  m.invalidate_page(0, 0x400000);
  ctx = m.prepare({UserAccessKind::kLoad, 0x400000, 1});
  EXPECT_EQ(m.run(0, root, ctx).kind, StopKind::kDone);
  EXPECT_EQ(load(0x500000).kind, StopKind::kPageFault);
  EXPECT_EQ(load(0x600000).kind, StopKind::kPageFault) << "no #DF after the error either";
}

TEST_F(MachineTest, CountsEmulatorEntries) {
  load(0x400000);
  const uint64_t after_first = m.emulator_entries();  // includes the CPL-3 entry
  m.invalidate_page(0, 0x400000);
  load(0x400000);
  EXPECT_EQ(m.emulator_entries(), after_first + 2);
}

// --- batches (Machine::batch, the lackey replay's way to the CPU) ----------

TEST_F(MachineTest, BatchRunsEveryAccessAndResumesAfterEachFault) {
  const uint64_t a = t.frame(), b = t.frame();
  t.map(root, 0x400000, a);
  BatchAccess* batch = m.batch();
  batch[0] = BatchAccess{0x400010, 8, BatchAccess::kStore, 0x5a, 0};
  batch[1] = BatchAccess{0x401ff0, 16, BatchAccess::kLoad | BatchAccess::kStore, 0x33, 0};
  batch[2] = BatchAccess{0x400008, 1, BatchAccess::kLoad, 0, 0};
  UserContext ctx = m.prepare_batch(3);
  Stop s = m.run(0, root, ctx);
  ASSERT_EQ(s.kind, StopKind::kPageFault);
  EXPECT_EQ(s.fault_addr, 0x401ff0u);
  EXPECT_FALSE(s.fault_write) << "the modify's load comes first";
  EXPECT_EQ(ctx.r9, 2u) << "stopped in the second access";
  t.map(root, 0x401000, b);
  s = m.run(0, root, ctx);
  ASSERT_EQ(s.kind, StopKind::kDone);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(t.host(a)[0x10 + i], 0x5a);
  EXPECT_EQ(t.host(a)[0x18], 0);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(t.host(b)[0xff0 + i], 0x33);
  EXPECT_NE(t.pte(root, 0x401000) & kD, 0u) << "the CPU set D through the batch";
}

TEST_F(MachineTest, BatchStoreFaultIsAWriteAndResumesMidway) {
  const uint64_t a = t.frame();
  t.map(root, 0x400000, a, kP | kU);
  BatchAccess* batch = m.batch();
  batch[0] = BatchAccess{0x400100, 300, BatchAccess::kStore, 0x77, 0};
  UserContext ctx = m.prepare_batch(1);
  Stop s = m.run(0, root, ctx);
  ASSERT_EQ(s.kind, StopKind::kPageFault);
  EXPECT_TRUE(s.fault_write);
  t.pte(root, 0x400000) |= kW;
  m.invalidate_page(0, 0x400000);
  ASSERT_EQ(m.run(0, root, ctx).kind, StopKind::kDone);
  for (int i = 0; i < 300; ++i) ASSERT_EQ(t.host(a)[0x100 + i], 0x77) << i;
  EXPECT_EQ(t.host(a)[0x100 + 300], 0);
}

TEST_F(MachineTest, BatchPagesAreReservedAndReadOnlyToUsers) {
  const uint64_t va = 0xffffffffff604000ull;  // fw::kBatchVa
  EXPECT_TRUE(m.reserved_range(va, 1));
  EXPECT_TRUE(m.reserved_range(va + 8 * kPage - 1, 1));
  EXPECT_FALSE(m.reserved_range(va + 8 * kPage, 1));
  EXPECT_EQ(store(va, 1).kind, StopKind::kPageFault) << "users cannot write descriptors";
  EXPECT_THROW(m.prepare_batch(Machine::kBatchCapacity + 1), std::invalid_argument);
  UserContext empty = m.prepare_batch(0);
  EXPECT_EQ(m.run(0, root, empty).kind, StopKind::kDone);
}

// A machine reused by the next run (MachinePool) must look new: RAM zero,
// no translation of the previous run left in any TLB, even when the next
// run's tables sit in the same frames.
TEST(MachineResetTest, ResetLooksLikeANewMachine) {
  Machine m(16 << 20, 1);
  uint64_t root = 0;
  {
    Tables t(m);
    root = t.root();
    const uint64_t frame = t.frame();
    t.host(frame)[0] = 0x11;
    t.map(root, 0x400000, frame);
    UserContext ctx = m.prepare({UserAccessKind::kLoad, 0x400000, 1});
    ASSERT_EQ(m.run(0, root, ctx).value, 0x11u);
  }
  m.reset();
  for (uint64_t pa = 0; pa < (2u << 20); pa += 4096) ASSERT_EQ(m.phys_base()[pa], 0) << pa;
  Tables t(m);  // the same frames again: the same root, a new mapping
  ASSERT_EQ(t.root(), root);
  t.frame();  // the old data frame, now unused
  const uint64_t other = t.frame();
  t.host(other)[0] = 0x22;
  t.map(root, 0x400000, other);
  UserContext ctx = m.prepare({UserAccessKind::kLoad, 0x400000, 1});
  const Stop s = m.run(0, root, ctx);
  ASSERT_EQ(s.kind, StopKind::kDone);
  EXPECT_EQ(s.value, 0x22u) << "a translation of the previous run survived the reset";
  EXPECT_EQ(m.engines_created(), 1u) << "the engine was kept";
}

// RAM reads zero after a reset both ways: a run that touched a little
// (cleared in place, its pages kept) and one that touched more than the
// reset keeps (given back), bytes at the start, middle and end of pages.
TEST(MachineResetTest, RamReadsZeroWhateverTheRunTouched) {
  Machine m(64 << 20, 1);
  for (uint64_t touched : {uint64_t{3} << 12, uint64_t{40} << 20}) {
    uint8_t* ram = m.phys_base();
    for (uint64_t pa = 0; pa < touched; pa += 4096) {
      ram[pa] = 0x5a;
      ram[pa + 2048] = 0x5b;
      ram[pa + 4095] = 0x5c;
    }
    const volatile uint8_t only_read = ram[(50u << 20) + 17];  // maps the host's zero page
    (void)only_read;
    m.reset();
    for (uint64_t pa = 0; pa < (64u << 20); pa += 2048)
      ASSERT_EQ(ram[pa] | ram[pa + 2047], 0) << "after touching " << touched << " at " << pa;
  }
}

}  // namespace
}  // namespace vmsim
