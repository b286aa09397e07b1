#include "explore/bounded_search.hpp"

#include <optional>
#include <utility>

#include "explore/bounded_controller.hpp"
#include "explore/happens_before.hpp"
#include "explore/search_budget.hpp"

namespace vmsim::explore {
namespace {

// A subtree of the search: the runs that start with `prefix` and take no
// preemption past it.
struct WorkItem {
  std::vector<size_t> prefix;
  SleepSet sleep;  // at the last choice of the prefix
};

class BoundedSearch {
 public:
  BoundedSearch(const RunOnce& run_once, const ExploreOptions& options, const Progress& progress)
      : run_once_(run_once),
        options_(options),
        progress_(progress),
        budget_(options.max_runs, options.time_limit) {
    report_.strategy = Strategy::kBounded;
    report_.bound = options.bound;
    report_.reduction = options.reduction;
    report_.shard = options.shard;
  }

  ExploreReport run() {
    std::vector<WorkItem> level_items{WorkItem{}};
    for (size_t level = 0; !level_items.empty(); ++level) {
      if (level > options_.bound) {
        report_.beyond_bound = true;
        break;
      }
      level_ = level;
      std::vector<WorkItem> next;
      for (size_t i = 0; i < level_items.size() && !stopped(); ++i) {
        if (level == 1 && i % options_.shard.count != options_.shard.index) continue;
        explore_item(level_items[i], next);
      }
      if (stopped()) break;
      if (options_.stop_on_first && found_at_level(level)) {
        report_.stopped_at = level;
        break;
      }
      level_items = std::move(next);
    }
    return std::move(report_);
  }

 private:
  bool por() const { return options_.reduction != Reduction::kNone; }
  bool stopped() const { return !report_.cut.empty() || report_.error_code != 0; }
  bool found_at_level(size_t level) const {
    for (const auto& [kind, f] : report_.failures)
      if (f.level == level) return true;
    // Shards other than 0 do not record level 0, but they ran it.
    return level == 0 && level0_failed_;
  }
  // Level 0 is explored by every shard (level 1 work items come out of it);
  // only shard 0 counts it.
  bool records() const { return level_ > 0 || options_.shard.index == 0; }

  // Runs `prefix` and returns the new points, or nullopt if the search stops.
  std::optional<BoundedController> run_prefix(std::vector<size_t> prefix, SleepSet sleep) {
    if (std::string why = budget_.exhausted(runs_); !why.empty()) {
      report_.cut = why;
      return std::nullopt;
    }
    BoundedController controller(std::move(prefix), std::move(sleep), por(), true);
    RunSummary summary = run_once_(controller);
    ++runs_;
    if (summary.error_code != 0 || !controller.divergence().empty()) {
      report_.error_code = summary.error_code != 0 ? summary.error_code : 3;
      report_.error = summary.error_code != 0 ? summary.error : controller.divergence();
      return std::nullopt;
    }
    if (level_ == 0 && summary.violation()) level0_failed_ = true;
    if (records()) {
      record_run(report_, level_, summary);
      const std::vector<Segment>& segments = controller.segments();
      record_class(report_, level_, HappensBefore(segments, 0, 0).class_hash());
    }
    if (progress_) progress_(report_, level_);
    return controller;
  }

  // Depth-first over the free choices below the item; preempting choices
  // become work items of the next level.
  void explore_item(const WorkItem& item, std::vector<WorkItem>& next) {
    std::optional<BoundedController> first = run_prefix(item.prefix, item.sleep);
    if (!first) return;
    std::vector<ChoiceNode> stack = std::move(first->nodes());
    while (!stack.empty() && !stopped()) {
      ChoiceNode& node = stack.back();
      std::optional<size_t> alt = next_free_choice(node);
      if (!alt) {
        defer_preemptions(item, stack, next);
        stack.pop_back();
        continue;
      }
      std::vector<size_t> prefix = path_to_top(item, stack);
      prefix.push_back(*alt);
      SleepSet sleep = node.sleep;
      add_sleepers(sleep, node.done);
      std::optional<BoundedController> run = run_prefix(std::move(prefix), std::move(sleep));
      if (!run) return;
      node.chosen = *alt;
      node.done.push_back({*alt, run->forced_footprint()});
      for (ChoiceNode& n : run->nodes()) stack.push_back(std::move(n));
    }
  }

  std::optional<size_t> next_free_choice(const ChoiceNode& node) const {
    if (node.covered) return std::nullopt;
    for (size_t t : node.enabled) {
      if (node.explored(t) || !node.free_choice(t)) continue;
      if (por() && asleep(node.sleep, t)) continue;
      return t;
    }
    return std::nullopt;
  }

  // The choices that lead to the top node of `stack` (not including its own).
  static std::vector<size_t> path_to_top(const WorkItem& item,
                                         const std::vector<ChoiceNode>& stack) {
    std::vector<size_t> path = item.prefix;
    for (size_t i = 0; i + 1 < stack.size(); ++i) path.push_back(stack[i].chosen);
    return path;
  }

  void defer_preemptions(const WorkItem& item, const std::vector<ChoiceNode>& stack,
                         std::vector<WorkItem>& next) {
    const ChoiceNode& node = stack.back();
    if (node.covered) return;
    for (size_t t : node.enabled) {
      if (node.explored(t) || node.free_choice(t)) continue;
      if (por() && asleep(node.sleep, t)) continue;
      WorkItem w{path_to_top(item, stack), node.sleep};
      w.prefix.push_back(t);
      add_sleepers(w.sleep, node.done);
      next.push_back(std::move(w));
    }
  }

  const RunOnce& run_once_;
  const ExploreOptions& options_;
  const Progress& progress_;
  SearchBudget budget_;
  ExploreReport report_;
  size_t level_ = 0;
  uint64_t runs_ = 0;  // run by this process, counted or not
  bool level0_failed_ = false;
};

}  // namespace

ExploreReport bounded_search(const RunOnce& run_once, const ExploreOptions& options,
                             const Progress& progress) {
  return BoundedSearch(run_once, options, progress).run();
}

}  // namespace vmsim::explore
