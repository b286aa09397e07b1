#include "run/linearizability.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace vmsim {
namespace {

constexpr size_t kNone = SIZE_MAX;

// One invocation or response, linked in time order. The list holds exactly the
// ops not yet ordered; the candidates are the invocations before its first
// response.
struct Entry {
  uint64_t time = 0;
  bool is_call = false;
  size_t op = 0;     // history index
  size_t match = 0;  // a call's response entry
  size_t prev = 0, next = 0;
};

class EventList {
 public:
  explicit EventList(const std::vector<HistoryOp>& history) {
    const size_t n = history.size();
    entries_.resize(2 * n + 1);
    std::vector<size_t> by_time(2 * n);
    for (size_t i = 0; i < n; ++i) {
      entries_[2 * i] = Entry{history[i].invoked, true, i, 2 * i + 1, 0, 0};
      entries_[2 * i + 1] = Entry{history[i].responded, false, i, 2 * i, 0, 0};
      by_time[2 * i] = 2 * i;
      by_time[2 * i + 1] = 2 * i + 1;
    }
    // At equal times invocations go first: equal times overlap.
    std::sort(by_time.begin(), by_time.end(), [this](size_t a, size_t b) {
      const Entry& x = entries_[a];
      const Entry& y = entries_[b];
      if (x.time != y.time) return x.time < y.time;
      if (x.is_call != y.is_call) return x.is_call;
      return x.op < y.op;
    });
    size_t prev = head();
    for (size_t e : by_time) {
      entries_[prev].next = e;
      entries_[e].prev = prev;
      prev = e;
    }
    entries_[prev].next = head();
    entries_[head()].prev = prev;
  }

  size_t head() const { return entries_.size() - 1; }  // the sentinel
  bool empty() const { return entries_[head()].next == head(); }
  size_t first() const { return entries_[head()].next; }
  const Entry& at(size_t e) const { return entries_[e]; }

  // Takes a call and its response out of the list.
  void lift(size_t call) {
    unlink(entries_[call].match);
    unlink(call);
  }
  // Puts them back; calls must be unlifted in the reverse order of lifting.
  void unlift(size_t call) {
    relink(call);
    relink(entries_[call].match);
  }

  // Most ops in flight at once, over the whole history.
  size_t max_overlap() const {
    size_t open = 0, most = 0;
    for (size_t e = first(); e != head(); e = entries_[e].next) {
      open = entries_[e].is_call ? open + 1 : open - 1;
      most = std::max(most, open);
    }
    return most;
  }

 private:
  void unlink(size_t e) {
    entries_[entries_[e].prev].next = entries_[e].next;
    entries_[entries_[e].next].prev = entries_[e].prev;
  }
  void relink(size_t e) {
    entries_[entries_[e].prev].next = e;
    entries_[entries_[e].next].prev = e;
  }

  std::vector<Entry> entries_;  // 2 per op, then the sentinel
};

uint64_t mix64(uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The set of ordered ops, as a Zobrist hash: the XOR of one random pair per
// op, updated in O(1) per step.
using DoneSet = std::array<uint64_t, 2>;
using Fingerprint = std::array<uint64_t, 2>;
struct DoneSetHash {
  size_t operator()(const DoneSet& d) const { return static_cast<size_t>(d[0]); }
};

void check_history(const std::vector<HistoryOp>& history) {
  std::map<size_t, const HistoryOp*> last_of_thread;
  std::vector<size_t> by_program(history.size());
  for (size_t i = 0; i < history.size(); ++i) by_program[i] = i;
  std::sort(by_program.begin(), by_program.end(), [&](size_t a, size_t b) {
    const HistoryOp& x = history[a];
    const HistoryOp& y = history[b];
    if (x.thread != y.thread) return x.thread < y.thread;
    // Parts of one op (a touch split where others ran) share its index.
    return x.op_index != y.op_index ? x.op_index < y.op_index : x.invoked < y.invoked;
  });
  for (size_t i : by_program) {
    const HistoryOp& h = history[i];
    if (h.op == nullptr) throw std::invalid_argument("history op without its trace op");
    if (h.responded < h.invoked)
      throw std::invalid_argument("history: an op responded before it was invoked");
    auto [it, first] = last_of_thread.try_emplace(h.thread, &h);
    if (!first) {
      if (it->second->responded >= h.invoked)
        throw std::invalid_argument("history: a thread's ops overlap each other");
      it->second = &h;
    }
  }
}

class Search {
 public:
  Search(const std::vector<HistoryOp>& history, const Model& initial, const ApplyOp& apply,
         const std::optional<std::string>& final_digest, const LinearizabilityBudget& budget)
      : history_(history),
        apply_(apply),
        final_digest_(final_digest),
        events_(history),
        state_(initial),
        max_steps_(history.size() + budget.max_extra_steps) {
    zobrist_.resize(history.size());
    for (size_t i = 0; i < history.size(); ++i) zobrist_[i] = {mix64(2 * i), mix64(2 * i + 1)};
    result_.stats.max_overlap = events_.max_overlap();
  }

  LinearizabilityResult run();

 private:
  // A level of the search: the op chosen there, and for a level with several
  // candidates, the model state before it (forced levels save nothing:
  // backtracking goes past them to the last level that had a choice).
  struct Frame {
    size_t call;
    std::optional<Model> before;
  };

  enum class Next { kArrive, kTry, kBacktrack, kDone };

  Next arrive(size_t* candidate, bool* branch);
  Next try_from(size_t candidate, bool branch);
  Next backtrack(size_t* candidate, bool* branch);
  void note_mismatch(size_t op, Mismatch m);
  void note_final(const std::string& digest);
  void toggle_done(size_t op) {
    done_[0] ^= zobrist_[op][0];
    done_[1] ^= zobrist_[op][1];
  }
  std::vector<size_t> current_order() const {
    std::vector<size_t> order;
    order.reserve(stack_.size());
    for (const Frame& f : stack_) order.push_back(events_.at(f.call).op);
    return order;
  }
  LinearizabilityResult failure();

  const std::vector<HistoryOp>& history_;
  const ApplyOp& apply_;
  const std::optional<std::string>& final_digest_;
  EventList events_;
  Model state_;  // the model after the ops on the stack (stale while backtracking)
  std::vector<Frame> stack_;
  std::vector<std::array<uint64_t, 2>> zobrist_;
  DoneSet done_{};
  // Lowe's memo, filled lazily: the (set of ops done, model state) pairs from
  // which every order was tried and failed. Keyed by the set first, so that a
  // level whose set never failed costs no fingerprint.
  std::unordered_map<DoneSet, std::vector<Fingerprint>, DoneSetHash> failed_;
  const uint64_t max_steps_;
  bool exhausted_budget_ = false;

  // The deepest mismatch so far (the first one found at that depth).
  std::optional<Mismatch> deepest_;
  size_t deepest_op_ = 0;
  size_t deepest_depth_ = 0;
  // Final states of complete orders that differ from the core's.
  std::map<std::string, std::vector<size_t>> wrong_finals_;  // digest -> first order
  std::string first_wrong_final_;

  LinearizabilityResult result_;
};

Search::Next Search::arrive(size_t* candidate, bool* branch) {
  if (events_.empty()) {
    ++result_.stats.complete_orders;
    if (!final_digest_) return Next::kDone;
    const std::string digest = state_.digest();
    if (digest == *final_digest_) return Next::kDone;
    note_final(digest);
    return Next::kBacktrack;
  }
  // The first entry is an invocation (every response follows its own); it is
  // the only candidate when a response comes right after it.
  const size_t first = events_.first();
  *branch = events_.at(events_.at(first).next).is_call;
  if (*branch) {
    ++result_.stats.branch_points;
    auto it = failed_.find(done_);
    if (it != failed_.end()) {
      ++result_.stats.fingerprints;
      const Fingerprint fp = state_.fingerprint();
      if (std::find(it->second.begin(), it->second.end(), fp) != it->second.end()) {
        ++result_.stats.memo_hits;
        return Next::kBacktrack;
      }
    }
  }
  *candidate = first;
  return Next::kTry;
}

Search::Next Search::try_from(size_t candidate, bool branch) {
  for (size_t c = candidate; events_.at(c).is_call; c = events_.at(c).next) {
    if (result_.stats.steps >= max_steps_) {
      exhausted_budget_ = true;
      return Next::kDone;
    }
    ++result_.stats.steps;
    const size_t op = events_.at(c).op;
    const HistoryOp& h = history_[op];
    std::optional<Model> next;
    if (branch) next.emplace(state_);
    Model& target = branch ? *next : state_;  // a forced level works in place
    const OpOutcome model = apply_(target, h);
    if (std::optional<Mismatch> m = compare_outcomes(*h.op, h.core, model)) {
      note_mismatch(op, std::move(*m));
      if (!branch) return Next::kBacktrack;  // state_ is spoiled; an earlier level restores it
      continue;
    }
    std::optional<Model> before;
    if (branch) {
      before.emplace(std::move(state_));
      state_ = std::move(*next);
    }
    stack_.push_back(Frame{c, std::move(before)});
    events_.lift(c);
    toggle_done(op);
    return Next::kArrive;
  }
  // Every candidate of this level failed. A level with a choice works on
  // copies, so state_ is still the state it was reached in: remember the pair.
  if (branch) {
    ++result_.stats.fingerprints;
    failed_[done_].push_back(state_.fingerprint());
  }
  return Next::kBacktrack;
}

Search::Next Search::backtrack(size_t* candidate, bool* branch) {
  while (!stack_.empty()) {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    events_.unlift(f.call);
    toggle_done(events_.at(f.call).op);
    if (f.before) {  // a level with a choice: try the candidates after this one
      state_ = std::move(*f.before);
      *candidate = events_.at(f.call).next;
      *branch = true;
      return Next::kTry;
    }
  }
  return Next::kDone;
}

void Search::note_mismatch(size_t op, Mismatch m) {
  const size_t depth = stack_.size();
  if (deepest_ && depth <= deepest_depth_) return;
  deepest_ = std::move(m);
  deepest_op_ = op;
  deepest_depth_ = depth;
}

void Search::note_final(const std::string& digest) {
  if (wrong_finals_.empty()) first_wrong_final_ = digest;
  wrong_finals_.try_emplace(digest, current_order());
}

LinearizabilityResult Search::run() {
  size_t candidate = 0;
  bool branch = false;
  Next next = Next::kArrive;
  for (;;) {
    switch (next) {
      case Next::kArrive:
        next = arrive(&candidate, &branch);
        break;
      case Next::kTry:
        next = try_from(candidate, branch);
        break;
      case Next::kBacktrack:
        next = backtrack(&candidate, &branch);
        if (next == Next::kDone) return failure();  // every order tried
        break;
      case Next::kDone:
        if (exhausted_budget_) return failure();
        result_.verdict = Linearizability::kLinearizable;
        result_.order = current_order();
        return std::move(result_);
    }
  }
}

LinearizabilityResult Search::failure() {
  LinearizabilityStats& s = result_.stats;
  if (exhausted_budget_) {
    result_.verdict = Linearizability::kInconclusive;
    result_.message = "the linearizability check gave up after " + std::to_string(s.steps) +
                      " model steps (budget: " + std::to_string(max_steps_) + " for " +
                      std::to_string(history_.size()) + " ops, up to " +
                      std::to_string(s.max_overlap) +
                      " in flight at once); the deepest order reached had " +
                      std::to_string(deepest_depth_) + " ops";
    return std::move(result_);
  }
  result_.verdict = Linearizability::kViolation;
  if (!wrong_finals_.empty()) {
    // Every op fitted some order; only the final state is wrong.
    std::string msg = "final state digest " + *final_digest_;
    msg += wrong_finals_.size() == 1
               ? " differs from the model's " + first_wrong_final_
               : " differs from every order the model allows; e.g. " + first_wrong_final_;
    result_.mismatch = Mismatch{"state-mismatch", std::move(msg)};
    result_.order = wrong_finals_.at(first_wrong_final_);
    result_.depth = history_.size();
    return std::move(result_);
  }
  // No order gets every op right: blame the op where the longest one failed.
  result_.mismatch = std::move(deepest_);
  if (s.branch_points > 0)
    result_.mismatch->message +=
        " (and no other order of the overlapping ops that keeps real-time order fits)";
  result_.blamed = deepest_op_;
  result_.depth = deepest_depth_;
  return std::move(result_);
}

}  // namespace

LinearizabilityResult check_linearizable(const std::vector<HistoryOp>& history,
                                         const Model& initial, const ApplyOp& apply,
                                         const std::optional<std::string>& final_digest,
                                         const LinearizabilityBudget& budget) {
  check_history(history);
  Search search(history, initial, apply, final_digest, budget);
  return search.run();
}

}  // namespace vmsim
