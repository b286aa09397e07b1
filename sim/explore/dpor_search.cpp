// Source-DPOR over the segments the runner reports, level by level.
//
// The search keeps the tree of scheduling points of the runs it made, pruned
// to the paths that still have branches to run. A run replays a prefix of
// choices and goes on without preempting; its segments' happens-before
// order (HappensBefore) shows its races, and each race (i, j) asks for a
// branch at point i that starts with one of the race's initials, unless
// one of them is there already (ran, queued or asleep). Sleep sets keep a
// branch from repeating an explored one.
//
// The preemption bound: a branch costs the preemptions of its path plus one
// if its first choice preempts. A branch over the bound is not run (the
// coverage then says "exhaustive to bound k"). Since a bound can cut off a
// race's only reversal, a preempting branch is also asked for at the last
// earlier point where the thread can run without preempting, and where the
// racing segment's thread was last switched to, which costs no extra
// preemption (Coons, Musuvathi, McKinley, OOPSLA 2013). Queued branches run
// in order of their cost, so the first failure has the fewest preemptions.
#include "explore/dpor_search.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "explore/bounded_controller.hpp"
#include "explore/happens_before.hpp"
#include "explore/search_budget.hpp"

namespace vmsim::explore {
namespace {

struct Node {
  Node* parent = nullptr;
  size_t via = 0;               // the parent's choice that leads here
  size_t depth = 0;             // scheduling point index
  std::vector<size_t> enabled;  // ascending
  long current = -1;
  bool preemptible = false;
  size_t preemptions = 0;  // taken on the path before this point
  SleepSet sleep;          // on arrival
  SleepSet done;           // branches run, with their first segment
  std::vector<size_t> queued;
  std::vector<size_t> given;  // left to another shard
  std::map<size_t, std::unique_ptr<Node>> children;

  bool preempts(size_t t) const { return preemptible && static_cast<long>(t) != current; }
  bool can_run(size_t t) const { return std::binary_search(enabled.begin(), enabled.end(), t); }
  // In the backtrack set (Abdulla et al.) or asleep: needs no new branch.
  bool covers(size_t t) const {
    return asleep(done, t) || asleep(sleep, t) ||
           std::find(queued.begin(), queued.end(), t) != queued.end() ||
           std::find(given.begin(), given.end(), t) != given.end();
  }
};

// A queued branch: run `thread` at `node`. Cheapest first, then the newest
// (depth-first within a level).
struct Branch {
  size_t level = 0;
  uint64_t order = 0;
  Node* node = nullptr;
  size_t thread = 0;
  bool operator<(const Branch& o) const {
    return level != o.level ? level < o.level : order > o.order;
  }
};

class DporSearch {
 public:
  DporSearch(const RunOnce& run_once, const ExploreOptions& options, const Progress& progress)
      : run_once_(run_once),
        options_(options),
        progress_(progress),
        budget_(options.max_runs, options.time_limit) {
    report_.strategy = Strategy::kBounded;
    report_.bound = options.bound;
    report_.reduction = Reduction::kDpor;
    report_.shard = options.shard;
  }

  ExploreReport run() {
    explore(nullptr, 0, 0);
    while (!queue_.empty() && !stopped()) {
      const Branch b = *queue_.begin();
      if (options_.stop_on_first && first_failure_ && b.level > *first_failure_) break;
      if (b.level >= 1 && options_.shard.count > 1 && !dealt_) {
        deal();
        continue;
      }
      queue_.erase(queue_.begin());
      std::erase(b.node->queued, b.thread);
      explore(b.node, b.thread, b.level);
    }
    if (options_.stop_on_first && first_failure_ && report_.error_code == 0 && report_.cut.empty())
      report_.stopped_at = *first_failure_;
    report_.backtrack_queue = queue_.size();
    return std::move(report_);
  }

 private:
  bool stopped() const { return !report_.cut.empty() || report_.error_code != 0; }
  // Before the branches are dealt, every shard runs the same search; only
  // shard 0 counts it.
  bool records() const { return dealt_ || options_.shard.index == 0; }

  // Runs `thread` at `node` (the first run: node null), adds the new points
  // to the tree and queues the branches its races ask for.
  void explore(Node* node, size_t thread, size_t level) {
    if (std::string why = budget_.exhausted(runs_); !why.empty()) {
      report_.cut = why;
      return;
    }
    std::vector<size_t> prefix;
    SleepSet sleep;
    if (node != nullptr) {
      for (const Node* n = node; n->parent != nullptr; n = n->parent) prefix.push_back(n->via);
      std::reverse(prefix.begin(), prefix.end());
      prefix.push_back(thread);
      sleep = node->sleep;
      add_sleepers(sleep, node->done);
    }
    BoundedController controller(prefix, std::move(sleep), true, true);
    RunSummary summary = run_once_(controller);
    ++runs_;
    if (summary.error_code != 0 || !controller.divergence().empty()) {
      report_.error_code = summary.error_code != 0 ? summary.error_code : 3;
      report_.error = summary.error_code != 0 ? summary.error : controller.divergence();
      return;
    }
    const std::vector<Segment>& segments = controller.segments();
    if (summary.violation() && (!first_failure_ || level < *first_failure_)) first_failure_ = level;
    const size_t from = prefix.empty() ? 0 : prefix.size() - 1;
    std::vector<Node*> path = grow(node, thread, controller, from);
    // Past a point where only sleeping threads could run, the run repeats
    // an explored one: its races are reversed there.
    size_t live = path.size();
    for (size_t k = from; k < path.size(); ++k)
      if (k >= segments.size() || asleep(path[k]->sleep, segments[k].thread)) {
        live = k;
        break;
      }
    live = std::min(live, segments.size());
    HappensBefore hb(segments, from, live);
    for (const Race& race : hb.races()) reverse(path, segments, hb, race);
    // A violation can end a run early (stale-tlb, a panic): the segments
    // the other threads never ran show no races, so every choice of its new
    // points is branched on, as without reduction.
    if (summary.violation())
      for (size_t k = from; k < live; ++k)
        for (size_t t : path[k]->enabled)
          if (!path[k]->covers(t)) queue(*path[k], t);
    if (records()) {
      record_run(report_, level, summary);
      record_class(report_, level, hb.class_hash());
    }
    prune(path.back());
    report_.backtrack_queue = queue_.size();
    if (progress_) progress_(report_, level);
  }

  // The run's path through the tree: the nodes of the prefix, then new ones
  // for the points past it.
  std::vector<Node*> grow(Node* node, size_t thread, BoundedController& controller, size_t from) {
    const std::vector<Segment>& segments = controller.segments();
    std::vector<Node*> path;
    if (node != nullptr) {
      for (Node* n = node; n != nullptr; n = n->parent) path.push_back(n);
      std::reverse(path.begin(), path.end());
      node->done.push_back(
          {thread, segments.size() > from ? segments[from].footprint : Footprint{}});
    }
    Node* parent = node;
    size_t via = thread;
    for (ChoiceNode& c : controller.nodes()) {
      auto fresh = std::make_unique<Node>();
      Node* n = fresh.get();
      n->parent = parent;
      n->via = via;
      n->depth = path.size();
      n->enabled = std::move(c.enabled);
      n->current = c.current;
      n->preemptible = c.preemptible;
      n->sleep = std::move(c.sleep);
      n->preemptions =
          parent == nullptr ? 0 : parent->preemptions + (parent->preempts(via) ? 1 : 0);
      if (n->depth < segments.size()) n->done.push_back({c.chosen, segments[n->depth].footprint});
      if (parent == nullptr) {
        root_ = std::move(fresh);
      } else {
        parent->children[via] = std::move(fresh);
      }
      path.push_back(n);
      parent = n;
      via = c.chosen;
    }
    return path;
  }

  // Asks for a branch at race.i that runs the race the other way round.
  void reverse(const std::vector<Node*>& path, const std::vector<Segment>& segments,
               const HappensBefore& hb, const Race& race) {
    Node& at = *path[race.i];
    const std::vector<size_t> initials = hb.initials(race);
    for (size_t t : initials)
      if (at.covers(t)) return;
    std::optional<size_t> pick;
    auto cost = [&](size_t t) { return at.preempts(t) ? 1 : 0; };
    for (size_t t : initials)
      if (at.can_run(t) && (!pick || cost(t) < cost(*pick))) pick = t;
    if (!pick) {
      // Our dependence missed why no initial can run here (Flanagan and
      // Godefroid's fallback): try every thread.
      for (size_t t : at.enabled)
        if (!at.covers(t)) queue(at, t);
      return;
    }
    queue(at, *pick);
    if (!at.preempts(*pick)) return;
    // Bounded POR: the reversal costs a preemption here, which the bound may
    // not allow. Also try the thread at the last earlier point where running
    // it is free (an op end, a block), and where the thread that ran race.i
    // was switched to, which costs what that switch cost.
    const size_t q = *pick;
    for (size_t k = race.i; k-- > 0;) {
      if (path[k]->preempts(q) || !path[k]->can_run(q)) continue;
      if (!path[k]->covers(q)) queue(*path[k], q);
      break;
    }
    size_t k = race.i;
    while (k > 0 && segments[k - 1].thread == segments[race.i].thread) --k;
    Node& switched = *path[k];
    if (k != race.i && switched.can_run(q) && !switched.covers(q)) queue(switched, q);
  }

  void queue(Node& node, size_t thread) {
    const size_t level = node.preemptions + (node.preempts(thread) ? 1 : 0);
    if (level > options_.bound) {
      report_.beyond_bound = true;
      return;
    }
    node.queued.push_back(thread);
    queue_.insert(Branch{level, order_++, &node, thread});
  }

  // Drops the nodes no queued branch needs any more, from `n` up.
  void prune(Node* n) {
    while (n != nullptr && n->queued.empty() && n->children.empty()) {
      Node* parent = n->parent;
      if (parent == nullptr) {
        root_.reset();
      } else {
        parent->children.erase(n->via);
      }
      n = parent;
    }
  }

  // The first time a preempting branch is due, every shard holds the same
  // queue: each keeps every count-th branch (in the order they were queued)
  // and leaves the rest to the others. Branches queued later belong to the
  // shard whose run asked for them.
  void deal() {
    dealt_ = true;
    std::vector<Branch> all(queue_.begin(), queue_.end());
    std::sort(all.begin(), all.end(),
              [](const Branch& a, const Branch& b) { return a.order < b.order; });
    for (size_t i = 0; i < all.size(); ++i) {
      if (i % options_.shard.count == options_.shard.index) continue;
      const Branch& b = all[i];
      queue_.erase(b);
      std::erase(b.node->queued, b.thread);
      b.node->given.push_back(b.thread);
    }
    if (root_ && sweep(*root_)) root_.reset();
  }
  // Frees the subtrees below `n` that no queued branch needs; true when `n`
  // itself is not needed either.
  static bool sweep(Node& n) {
    std::erase_if(n.children, [](auto& child) { return sweep(*child.second); });
    return n.queued.empty() && n.children.empty();
  }

  const RunOnce& run_once_;
  const ExploreOptions& options_;
  const Progress& progress_;
  SearchBudget budget_;
  ExploreReport report_;
  std::unique_ptr<Node> root_;
  std::set<Branch> queue_;
  uint64_t order_ = 0;
  uint64_t runs_ = 0;  // run by this process, counted or not
  std::optional<size_t> first_failure_;
  bool dealt_ = false;
};

}  // namespace

ExploreReport dpor_search(const RunOnce& run_once, const ExploreOptions& options,
                          const Progress& progress) {
  return DporSearch(run_once, options, progress).run();
}

}  // namespace vmsim::explore
