// check_linearizable(): histories built by hand, judged against the real
// reference model, one process "p" with a page at 0x10000.
#include "run/linearizability.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <stdexcept>

namespace vmsim {
namespace {

constexpr uint64_t kPage = 0x10000;

// What the runner's model_op does for the ops these tests use.
OpOutcome ApplyTo(Model& m, const HistoryOp& h);
// ... and, as the runner does, an access of a process an order already
// ended (exit, an oom kill) faults.
OpOutcome Apply(Model& m, const HistoryOp& h) {
  try {
    return ApplyTo(m, h);
  } catch (const std::out_of_range&) {
    OpOutcome gone;
    gone.signal = vm::Signal::kSegv;
    gone.fault_addr = h.addr;
    return gone;
  }
}

OpOutcome ApplyTo(Model& m, const HistoryOp& h) {
  const Op& op = *h.op;
  if (op.expect_fault == FaultKind::kOom) {  // the model kills where the trace says
    OpOutcome o = OpOutcome::from_model(op, m.oom_kill("p"));
    o.fault_addr = h.core.fault_addr;
    return o;
  }
  ModelOutcome r;
  switch (op.kind) {
    case OpKind::kMmap:
      r = m.mmap("p", h.addr, op.len, op.prot, op.shared, op.fixed, op.populate);
      break;
    case OpKind::kMunmap:
      r = m.munmap("p", h.addr, op.len);
      break;
    case OpKind::kRead:
      r = m.read("p", h.addr, op.size);
      break;
    case OpKind::kWrite:
      r = m.write("p", h.addr, op.size, op.value);
      break;
    default:
      throw std::logic_error("op not used by these tests");
  }
  return OpOutcome::from_model(op, r);
}

// Builds a history; keeps the Ops alive at stable addresses.
class History {
 public:
  History() { initial_.create_process("p"); }

  // The op runs from `invoked` to `responded` on `thread`.
  size_t Add(size_t thread, Op op, uint64_t invoked, uint64_t responded, OpOutcome core) {
    ops_.push_back(std::move(op));
    HistoryOp h;
    h.thread = thread;
    h.op_index = next_index_[thread]++;
    h.op = &ops_.back();
    h.invoked = invoked;
    h.responded = responded;
    h.core = core;
    h.addr = ops_.back().addr.offset;
    history_.push_back(h);
    return history_.size() - 1;
  }
  size_t Mmap(size_t thread, uint64_t t0, uint64_t t1) {
    Op op;
    op.kind = OpKind::kMmap;
    op.addr.offset = kPage;
    op.has_addr = true;
    op.fixed = true;
    op.len = 4096;
    op.prot = kR | kW;
    OpOutcome core;
    core.value = kPage;
    core.has_value = true;
    return Add(thread, op, t0, t1, core);
  }
  size_t Munmap(size_t thread, uint64_t t0, uint64_t t1) {
    Op op;
    op.kind = OpKind::kMunmap;
    op.addr.offset = kPage;
    op.len = 4096;
    return Add(thread, op, t0, t1, OpOutcome{});
  }
  size_t Write(size_t thread, uint64_t addr, uint64_t value, uint64_t t0, uint64_t t1) {
    Op op;
    op.kind = OpKind::kWrite;
    op.addr.offset = addr;
    op.size = 8;
    op.value = value;
    return Add(thread, op, t0, t1, OpOutcome{});
  }
  size_t Read(size_t thread, uint64_t addr, uint64_t t0, uint64_t t1, uint64_t seen) {
    OpOutcome core;
    core.value = seen;
    core.has_value = true;
    return Add(thread, ReadOp(addr), t0, t1, core);
  }
  size_t ReadSegv(size_t thread, uint64_t addr, uint64_t t0, uint64_t t1) {
    OpOutcome core;
    core.signal = vm::Signal::kSegv;
    core.fault_addr = addr;
    return Add(thread, ReadOp(addr), t0, t1, core);
  }

  // A write the trace marks expect_fault oom, which the core ended with oom
  // (`killed`) or completed.
  size_t WriteOom(size_t thread, uint64_t addr, uint64_t t0, uint64_t t1, bool killed = true) {
    Op op;
    op.kind = OpKind::kWrite;
    op.addr.offset = addr;
    op.size = 8;
    op.value = 9;
    op.expect_fault = FaultKind::kOom;
    OpOutcome core;
    if (killed) {
      core.signal = vm::Signal::kOom;
      core.fault_addr = addr;
    }
    return Add(thread, op, t0, t1, core);
  }

  LinearizabilityResult Check(std::optional<std::string> digest = std::nullopt,
                              LinearizabilityBudget budget = {}) const {
    return check_linearizable(history_, initial_, Apply, digest, budget);
  }
  // The model's digest after running the ops in this order.
  std::string DigestOf(const std::vector<size_t>& order) const {
    Model m = initial_;
    for (size_t i : order) Apply(m, history_[i]);
    return m.digest();
  }
  const std::vector<HistoryOp>& ops() const { return history_; }
  HistoryOp& at(size_t i) { return history_[i]; }

 private:
  static Op ReadOp(uint64_t addr) {
    Op op;
    op.kind = OpKind::kRead;
    op.addr.offset = addr;
    op.size = 8;
    return op;
  }

  Model initial_;
  std::deque<Op> ops_;  // a deque never moves its elements
  std::vector<HistoryOp> history_;
  std::map<size_t, size_t> next_index_;
};

TEST(Linearizability, SequentialHistoryPassesInOnePass) {
  History h;
  h.Mmap(0, 1, 2);
  h.Write(0, kPage, 5, 3, 4);
  h.Read(1, kPage, 5, 6, 5);
  const LinearizabilityResult r = h.Check(h.DigestOf({0, 1, 2}));
  ASSERT_EQ(r.verdict, Linearizability::kLinearizable);
  EXPECT_EQ(r.order, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(r.stats.steps, 3u);
  EXPECT_EQ(r.stats.branch_points, 0u);
  EXPECT_EQ(r.stats.max_overlap, 1u);
}

TEST(Linearizability, SequentialMismatchIsTodaysComparison) {
  History h;
  h.Mmap(0, 1, 2);
  h.Write(0, kPage, 5, 3, 4);
  const size_t read = h.Read(1, kPage, 5, 6, 7);
  const LinearizabilityResult r = h.Check(h.DigestOf({0, 1, 2}));
  ASSERT_EQ(r.verdict, Linearizability::kViolation);
  ASSERT_TRUE(r.mismatch);
  EXPECT_STREQ(r.mismatch->kind, "read-mismatch");
  OpOutcome model;
  model.value = 5;
  model.has_value = true;
  const std::optional<Mismatch> today =
      compare_outcomes(*h.ops()[read].op, h.ops()[read].core, model);
  ASSERT_TRUE(today);
  EXPECT_EQ(r.mismatch->message, today->message);
  EXPECT_EQ(r.mismatch->message, "read of 8 bytes at 0x10000 read 0x7; the model reads 0x5");
  EXPECT_EQ(r.blamed, read);
  EXPECT_EQ(r.depth, 2u);
}

TEST(Linearizability, SequentialFinalStateMismatchNamesTheModelsDigest) {
  History h;
  h.Mmap(0, 1, 2);
  h.Write(0, kPage, 5, 3, 4);
  const std::string wrong = h.DigestOf({0});
  const LinearizabilityResult r = h.Check(wrong);
  ASSERT_EQ(r.verdict, Linearizability::kViolation);
  EXPECT_STREQ(r.mismatch->kind, "state-mismatch");
  EXPECT_EQ(r.mismatch->message,
            "final state digest " + wrong + " differs from the model's " + h.DigestOf({0, 1}));
  EXPECT_FALSE(r.blamed);
}

// Two overlapping writes and a read overlapping both: the read may see the
// old value or either write.
TEST(Linearizability, ReadOfOverlappingWritesMaySeeEitherOrder) {
  for (uint64_t seen : {0, 1, 2}) {
    History h;
    h.Mmap(0, 1, 2);
    h.Write(0, kPage, 1, 10, 40);
    h.Write(1, kPage, 2, 20, 50);
    h.Read(2, kPage, 30, 60, seen);
    const LinearizabilityResult r = h.Check();
    EXPECT_EQ(r.verdict, Linearizability::kLinearizable) << "read saw " << seen;
    EXPECT_EQ(r.stats.max_overlap, 3u);
  }
}

TEST(Linearizability, FinalStateOfEitherWriteOrderPasses) {
  for (uint64_t last : {1, 2}) {
    History h;
    h.Mmap(0, 1, 2);
    h.Write(0, kPage, 1, 10, 40);
    h.Write(1, kPage, 2, 20, 50);
    const std::vector<size_t> order =
        last == 2 ? std::vector<size_t>{0, 1, 2} : std::vector<size_t>{0, 2, 1};
    const LinearizabilityResult r = h.Check(h.DigestOf(order));
    ASSERT_EQ(r.verdict, Linearizability::kLinearizable) << "last write " << last;
    EXPECT_EQ(r.order, order);
  }
}

TEST(Linearizability, ReadOfAValueNoOrderAllowsFails) {
  History h;
  h.Mmap(0, 1, 2);
  h.Write(0, kPage, 1, 10, 40);
  h.Write(1, kPage, 2, 20, 50);
  const size_t read = h.Read(2, kPage, 30, 60, 3);
  const LinearizabilityResult r = h.Check();
  ASSERT_EQ(r.verdict, Linearizability::kViolation);
  EXPECT_STREQ(r.mismatch->kind, "read-mismatch");
  EXPECT_EQ(r.blamed, read);
  EXPECT_EQ(r.depth, 3u);  // after the mmap and both writes: the deepest try
  EXPECT_NE(r.mismatch->message.find("read 0x3; the model reads"), std::string::npos)
      << r.mismatch->message;
  EXPECT_NE(r.mismatch->message.find("no other order"), std::string::npos);
  EXPECT_GT(r.stats.branch_points, 0u);
}

TEST(Linearizability, ReadOverlappingMunmapMayFaultOrSeeTheValue) {
  for (bool faults : {false, true}) {
    History h;
    h.Mmap(0, 1, 2);
    h.Write(0, kPage, 9, 3, 4);
    h.Munmap(0, 10, 30);
    if (faults) {
      h.ReadSegv(1, kPage, 20, 40);
    } else {
      h.Read(1, kPage, 20, 40, 9);
    }
    const LinearizabilityResult r = h.Check(h.DigestOf({0, 1, 2}));
    EXPECT_EQ(r.verdict, Linearizability::kLinearizable) << (faults ? "segv" : "value");
  }
}

TEST(Linearizability, ReadAfterMunmapRespondedMustFault) {
  History h;
  h.Mmap(0, 1, 2);
  h.Write(0, kPage, 9, 3, 4);
  h.Munmap(0, 10, 19);
  const size_t read = h.Read(1, kPage, 20, 40, 9);
  const LinearizabilityResult r = h.Check();
  ASSERT_EQ(r.verdict, Linearizability::kViolation);
  EXPECT_STREQ(r.mismatch->kind, "missing-fault");
  EXPECT_EQ(r.blamed, read);
}

TEST(Linearizability, FinalStateNoOrderGivesFails) {
  History h;
  h.Mmap(0, 1, 2);
  h.Write(0, kPage, 1, 10, 40);
  h.Write(1, kPage, 2, 20, 50);
  // A state where the page holds 3: neither write order ends there.
  History other;
  other.Mmap(0, 1, 2);
  other.Write(0, kPage, 3, 3, 4);
  const std::string wrong = other.DigestOf({0, 1});
  const LinearizabilityResult r = h.Check(wrong);
  ASSERT_EQ(r.verdict, Linearizability::kViolation);
  EXPECT_STREQ(r.mismatch->kind, "state-mismatch");
  EXPECT_EQ(r.mismatch->message, "final state digest " + wrong +
                                     " differs from every order the model allows; e.g. " +
                                     h.DigestOf({0, 1, 2}));
  EXPECT_EQ(r.order, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(r.stats.complete_orders, 2u);
}

TEST(Linearizability, RealTimeOrderIsKept) {
  // The write responded before the read was invoked: the read must see it.
  {
    History h;
    h.Mmap(0, 1, 2);
    h.Write(0, kPage, 1, 10, 20);
    const size_t read = h.Read(1, kPage, 21, 30, 0);
    const LinearizabilityResult r = h.Check();
    ASSERT_EQ(r.verdict, Linearizability::kViolation);
    EXPECT_EQ(r.blamed, read);
    EXPECT_EQ(r.mismatch->message, "read of 8 bytes at 0x10000 read 0x0; the model reads 0x1");
  }
  // The same read overlapping the write may see the old value.
  {
    History h;
    h.Mmap(0, 1, 2);
    h.Write(0, kPage, 1, 10, 20);
    h.Read(1, kPage, 20, 30, 0);  // equal times overlap
    EXPECT_EQ(h.Check().verdict, Linearizability::kLinearizable);
  }
}

TEST(Linearizability, ProgramOrderOfAThreadIsKept) {
  // Thread 1 writes 1, then 2. Thread 2 reads 2, then 1: the second read
  // overlaps the write of 2, so without thread 2's own order it could go
  // between the writes; with it, it comes after a read that saw 2.
  History h;
  h.Mmap(0, 1, 2);
  h.Write(1, kPage, 1, 10, 20);
  h.Write(1, kPage, 2, 30, 40);
  h.Read(2, kPage, 5, 35, 2);
  const size_t second = h.Read(2, kPage, 36, 50, 1);
  const LinearizabilityResult r = h.Check();
  ASSERT_EQ(r.verdict, Linearizability::kViolation);
  EXPECT_EQ(r.blamed, second);
}

TEST(Linearizability, MalformedHistoriesAreRefused) {
  History overlapping;
  overlapping.Mmap(0, 1, 2);
  overlapping.Write(0, kPage, 1, 2, 4);  // invoked before its thread's previous op responded
  EXPECT_THROW(overlapping.Check(), std::invalid_argument);
  History backwards;
  backwards.Mmap(0, 5, 4);
  EXPECT_THROW(backwards.Check(), std::invalid_argument);
}

// Ten overlapping writes to ten different words commute: every order ends in
// one state, and the memo keeps the search to subsets (2^10), not orders (10!).
TEST(Linearizability, MemoizationCollapsesCommutingOrders) {
  History h;
  h.Mmap(0, 1, 2);
  constexpr int kWriters = 10;
  for (int i = 0; i < kWriters; ++i) h.Write(1 + i, kPage + 8 * i, i + 1, 10 + i, 100 + i);
  const size_t read = h.Read(0, kPage, 200, 201, 42);  // after all of them: fails
  const LinearizabilityResult r = h.Check();
  ASSERT_EQ(r.verdict, Linearizability::kViolation);
  EXPECT_EQ(r.blamed, read);
  EXPECT_GT(r.stats.memo_hits, 0u);
  EXPECT_LT(r.stats.steps, 20000u);  // 10! = 3,628,800 without the memo
  std::printf(
      "10 commuting writers: %llu steps, %llu branch points, %llu memo hits, %llu fingerprints\n",
      static_cast<unsigned long long>(r.stats.steps),
      static_cast<unsigned long long>(r.stats.branch_points),
      static_cast<unsigned long long>(r.stats.memo_hits),
      static_cast<unsigned long long>(r.stats.fingerprints));
}

TEST(Linearizability, BudgetExhaustedIsInconclusive) {
  History h;
  h.Mmap(0, 1, 2);
  for (int i = 0; i < 6; ++i) h.Write(1 + i, kPage + 8 * i, i + 1, 10 + i, 100 + i);
  h.Read(0, kPage, 200, 201, 42);
  LinearizabilityBudget budget;
  budget.max_extra_steps = 5;
  const LinearizabilityResult r = h.Check(std::nullopt, budget);
  ASSERT_EQ(r.verdict, Linearizability::kInconclusive);
  EXPECT_NE(r.message.find("gave up after 13 model steps (budget: 13 for 8 ops"), std::string::npos)
      << r.message;
  EXPECT_FALSE(r.mismatch);
}

TEST(Linearizability, EmptyHistoryComparesTheInitialState) {
  History h;
  EXPECT_EQ(h.Check(h.DigestOf({})).verdict, Linearizability::kLinearizable);
  History other;
  other.Mmap(0, 1, 2);
  EXPECT_EQ(h.Check(other.DigestOf({0})).verdict, Linearizability::kViolation);
}

// A long sequential run costs one pass: no copy, no fingerprint.
TEST(Linearizability, LongSequentialHistoryIsOnePass) {
  History h;
  h.Mmap(0, 1, 2);
  constexpr uint64_t kOps = 100000;
  uint64_t t = 3;
  for (uint64_t i = 0; i < kOps; ++i) {
    const uint64_t addr = kPage + 8 * (i % 512);
    if (i % 2 == 0) {
      h.Write(i % 4, addr, i, t, t + 1);
    } else {
      h.Read(i % 4, kPage + 8 * ((i - 1) % 512), t, t + 1, i - 1);
    }
    t += 2;
  }
  std::vector<size_t> all(h.ops().size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  const std::string digest = h.DigestOf(all);
  const auto start = std::chrono::steady_clock::now();
  const LinearizabilityResult r = h.Check(digest);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.verdict, Linearizability::kLinearizable);
  EXPECT_EQ(r.stats.steps, kOps + 1);
  EXPECT_EQ(r.stats.branch_points, 0u);
  std::printf("%llu sequential ops checked in %.1f ms\n", static_cast<unsigned long long>(kOps + 1),
              ms);
}

// Small random histories against brute force: every permutation that keeps
// real-time order, replayed in the model. The search must agree on the
// verdict, and its witness must be such a permutation that explains the run.
class Prng {
 public:
  explicit Prng(uint64_t seed) : s_(seed) {}
  uint64_t Below(uint64_t n) {
    s_ = s_ * 6364136223846793005ull + 1442695040888963407ull;
    return (s_ >> 33) % n;
  }

 private:
  uint64_t s_;
};

bool KeepsRealTime(const std::vector<HistoryOp>& ops, const std::vector<size_t>& order) {
  for (size_t i = 0; i < order.size(); ++i)
    for (size_t j = i + 1; j < order.size(); ++j)
      if (ops[order[j]].responded < ops[order[i]].invoked) return false;
  return true;
}

bool Explains(const History& h, const std::vector<size_t>& order, const std::string& digest) {
  Model m;
  m.create_process("p");
  for (size_t i : order) {
    const HistoryOp& op = h.ops()[i];
    if (compare_outcomes(*op.op, op.core, Apply(m, op))) return false;
  }
  return m.digest() == digest;
}

TEST(Linearizability, AgreesWithBruteForceOnRandomHistories) {
  Prng rng(12345);
  int passing = 0, failing = 0;
  for (int round = 0; round < 400; ++round) {
    History h;
    h.Mmap(0, 0, 1);
    // Up to three threads, two ops each after the mmap, random overlaps.
    for (size_t thread = 0; thread < 3; ++thread) {
      uint64_t t = 2 + rng.Below(6);
      for (int k = 0; k < 2; ++k) {
        const uint64_t t0 = t, t1 = t + 1 + rng.Below(12);
        const uint64_t addr = kPage + 8 * rng.Below(2);
        const uint64_t kind = rng.Below(7);
        if (kind == 0) {
          h.Munmap(thread, t0, t1);
        } else if (kind < 4) {
          h.Write(thread, addr, 1 + rng.Below(3), t0, t1);
        } else {
          h.Read(thread, addr, t0, t1, 0);
        }
        t = t1 + 1 + rng.Below(3);
      }
    }
    const std::vector<HistoryOp>& ops = h.ops();
    // The core's outcomes: those of a random order that keeps real time,
    // sometimes with one read changed; its final state, sometimes another's.
    std::vector<size_t> all(ops.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    std::vector<std::vector<size_t>> valid;
    std::vector<size_t> perm = all;
    do {
      if (KeepsRealTime(ops, perm)) valid.push_back(perm);
    } while (std::next_permutation(perm.begin(), perm.end()));
    const std::vector<size_t>& truth = valid[rng.Below(valid.size())];
    History run = h;  // the same ops (its HistoryOps point into h's), outcomes to fill in
    Model m;
    m.create_process("p");
    for (size_t i : truth) run.at(i).core = Apply(m, run.at(i));
    std::string digest = m.digest();
    if (rng.Below(2) == 0) {
      HistoryOp& victim = run.at(rng.Below(ops.size()));
      if (victim.op->kind == OpKind::kRead && victim.core.signal == vm::Signal::kNone)
        victim.core.value = rng.Below(4);
    }
    if (rng.Below(3) == 0) digest = run.DigestOf(valid[rng.Below(valid.size())]);

    bool brute = false;
    for (const std::vector<size_t>& order : valid) brute = brute || Explains(run, order, digest);
    const LinearizabilityResult r = run.Check(digest);
    ASSERT_EQ(r.verdict == Linearizability::kLinearizable, brute) << "round " << round;
    if (brute) {
      ++passing;
      EXPECT_TRUE(KeepsRealTime(run.ops(), r.order)) << "round " << round;
      EXPECT_TRUE(Explains(run, r.order, digest)) << "round " << round;
    } else {
      ++failing;
      ASSERT_EQ(r.verdict, Linearizability::kViolation);
      ASSERT_TRUE(r.mismatch);
    }
  }
  std::printf("random histories: %d linearizable, %d not\n", passing, failing);
  EXPECT_GT(passing, 100);
  EXPECT_GT(failing, 20);
}

// ---------------------------------------------------------------------------
// Out of memory (spec §8): the op the trace marks oom kills the process.

TEST(LinearizabilityOom, AReadAfterTheKillFaultsBecauseTheProcessIsGone) {
  History h;
  h.Mmap(0, 1, 2);
  h.Write(0, kPage, 5, 3, 4);
  h.WriteOom(0, kPage, 5, 6);
  h.ReadSegv(1, kPage, 7, 8);
  Model gone;  // no process at all: the kill released everything
  const LinearizabilityResult r = h.Check(gone.digest());
  EXPECT_EQ(r.verdict, Linearizability::kLinearizable) << r.message;
}

TEST(LinearizabilityOom, AReadAfterTheKillThatStillSeesMemoryIsAViolation) {
  History h;
  h.Mmap(0, 1, 2);
  h.Write(0, kPage, 5, 3, 4);
  h.WriteOom(0, kPage, 5, 6);
  const size_t read = h.Read(1, kPage, 7, 8, 5);
  const LinearizabilityResult r = h.Check();
  ASSERT_EQ(r.verdict, Linearizability::kViolation);
  EXPECT_STREQ(r.mismatch->kind, "missing-fault");
  EXPECT_EQ(r.mismatch->message,
            "read of 8 bytes at 0x10000 completed, but the model ends it with segv at 0x10000");
  EXPECT_EQ(r.blamed, read);
}

TEST(LinearizabilityOom, AReadOverlappingTheKillMaySeeEitherSide) {
  for (bool before : {true, false}) {
    History h;
    h.Mmap(0, 1, 2);
    h.Write(0, kPage, 5, 3, 4);
    h.WriteOom(0, kPage, 5, 20);
    if (before) {
      h.Read(1, kPage, 10, 30, 5);
    } else {
      h.ReadSegv(1, kPage, 10, 30);
    }
    const LinearizabilityResult r = h.Check();
    EXPECT_EQ(r.verdict, Linearizability::kLinearizable) << "read before the kill: " << before;
  }
}

TEST(LinearizabilityOom, AnOpTheTraceSaysRunsOutButCompletesIsAMissingFault) {
  History h;
  h.Mmap(0, 1, 2);
  const size_t w = h.WriteOom(0, kPage, 3, 4, /*killed=*/false);
  const LinearizabilityResult r = h.Check();
  ASSERT_EQ(r.verdict, Linearizability::kViolation);
  EXPECT_STREQ(r.mismatch->kind, "missing-fault");
  EXPECT_EQ(r.blamed, w);
}

TEST(LinearizabilityOom, CallsCompareTheirOomLikeASignal) {
  Op mmap;
  mmap.kind = OpKind::kMmap;
  mmap.len = 4096;
  OpOutcome oom, ok;
  oom.signal = vm::Signal::kOom;
  ok.value = kPage;
  ok.has_value = true;
  EXPECT_FALSE(compare_outcomes(mmap, oom, oom));
  const std::optional<Mismatch> missing = compare_outcomes(mmap, ok, oom);
  ASSERT_TRUE(missing);
  EXPECT_STREQ(missing->kind, "missing-fault");
  EXPECT_EQ(missing->message, "mmap of 0x1000 bytes returned ok, but the model ends it with oom");
  const std::optional<Mismatch> unexpected = compare_outcomes(mmap, oom, ok);
  ASSERT_TRUE(unexpected);
  EXPECT_STREQ(unexpected->kind, "unexpected-fault");
  // An access's oom address is the core's: the model has no frames to run out of.
  Op write;
  write.kind = OpKind::kWrite;
  write.expect_fault = FaultKind::kOom;
  OpOutcome at_a = oom, at_b = oom;
  at_a.fault_addr = 0x1000;
  at_b.fault_addr = 0x2000;
  EXPECT_FALSE(compare_outcomes(write, at_a, at_b));
}

}  // namespace
}  // namespace vmsim
