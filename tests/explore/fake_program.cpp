#include "fake_program.hpp"

#include <algorithm>

namespace vmsim::explore::testing {

FakeStep load(size_t cell) {
  FakeStep s;
  s.effect = [cell](Cells& c, size_t t) { c.local[t][0] = c.shared[cell]; };
  s.footprint.read(cell);
  return s;
}

FakeStep store_incremented(size_t cell) {
  FakeStep s;
  s.effect = [cell](Cells& c, size_t t) { c.shared[cell] = c.local[t][0] + 1; };
  s.footprint.write(cell);
  return s;
}

FakeStep store(size_t cell, long value) {
  FakeStep s;
  s.effect = [cell, value](Cells& c, size_t) { c.shared[cell] = value; };
  s.footprint.write(cell);
  return s;
}

// The steps of a real run's schedule: a thread's consecutive segments make
// one step, `until` the point it was stopped at inside an op, else the whole
// ops it ran.
std::vector<TakenStep> FakeProgram::schedule_of(
    const std::vector<std::pair<size_t, size_t>>& segments) const {
  std::vector<TakenStep> steps;
  for (size_t i = 0; i < segments.size();) {
    const size_t t = segments[i].first;
    size_t ops = 0, j = i;
    for (; j < segments.size() && segments[j].first == t; ++j) ops += segments[j].second == 0;
    TakenStep s;
    s.thread = threads[t].name;
    if (segments[j - 1].second != 0) {
      s.kind = TakenStep::Kind::kUntil;
      s.point = "step" + std::to_string(segments[j - 1].second);
    } else {
      s.ops = ops;
    }
    steps.push_back(s);
    i = j;
  }
  return steps;
}

RunSummary FakeProgram::run(ScheduleController& controller) const {
  const size_t n = threads.size();
  Cells cells;
  cells.local.assign(n, std::vector<long>(4, 0));
  std::vector<size_t> op(n, 0), step(n, 0);
  auto finished = [&](size_t t) { return op[t] >= threads[t].ops.size(); };
  SchedulingPoint sp;
  RunSummary summary;
  // (thread, step it stopped before; 0: at an op end) of every segment.
  std::vector<std::pair<size_t, size_t>> segments;
  for (size_t index = 0;; ++index) {
    sp.index = index;
    sp.enabled.clear();
    for (size_t t = 0; t < n; ++t)
      if (!finished(t)) sp.enabled.push_back(t);
    if (sp.enabled.empty()) break;
    const size_t t = controller.choose(sp);
    if (std::find(sp.enabled.begin(), sp.enabled.end(), t) == sp.enabled.end()) {
      summary.error_code = 3;
      summary.error = "controller chose a thread that cannot run";
      return summary;
    }
    const FakeStep& s = threads[t].ops[op[t]][step[t]];
    s.effect(cells, t);
    controller.segment_done(t, s.footprint);
    const bool op_goes_on = ++step[t] < threads[t].ops[op[t]].size();
    if (!op_goes_on) {
      step[t] = 0;
      ++op[t];
    }
    sp.kind = op_goes_on ? PointKind::kYield : finished(t) ? PointKind::kDone : PointKind::kOpEnd;
    segments.push_back({t, op_goes_on ? step[t] : 0});
    sp.current = static_cast<long>(t);
    sp.preemptible = sp.kind == PointKind::kYield;
  }
  summary.schedule = schedule_of(segments);
  if (std::string kind = check(cells); !kind.empty()) summary.kinds.push_back(kind);
  for (long v : cells.shared) summary.digest += std::to_string(v) + ".";
  return summary;
}

FakeProgram lost_update(size_t extra_independent_threads, size_t ops_each) {
  FakeProgram p;
  for (const char* name : {"a", "b"}) {
    FakeThread t{name, {}};
    for (size_t i = 0; i < ops_each; ++i) t.ops.push_back({load(0), store_incremented(0)});
    p.threads.push_back(t);
  }
  for (size_t i = 0; i < extra_independent_threads; ++i) {
    FakeThread t{"x" + std::to_string(i), {}};
    const size_t cell = 1 + i;
    t.ops.push_back({store(cell, 1), store(cell, 2)});
    t.ops.push_back({store(cell, 3)});
    p.threads.push_back(t);
  }
  const long want = static_cast<long>(2 * ops_each);
  p.check = [want](const Cells& c) { return c.shared[0] == want ? "" : "read-mismatch"; };
  return p;
}

}  // namespace vmsim::explore::testing
