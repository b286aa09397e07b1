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

RunSummary FakeProgram::run(ScheduleController& controller) const {
  const size_t n = threads.size();
  Cells cells;
  cells.local.assign(n, std::vector<long>(4, 0));
  std::vector<size_t> op(n, 0), step(n, 0);
  auto finished = [&](size_t t) { return op[t] >= threads[t].ops.size(); };
  SchedulingPoint sp;
  RunSummary summary;
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
    TakenStep taken;
    taken.thread = threads[t].name;
    if (++step[t] < threads[t].ops[op[t]].size()) {
      sp.kind = PointKind::kYield;
      taken.kind = TakenStep::Kind::kUntil;
      taken.point = "step" + std::to_string(step[t]);
    } else {
      step[t] = 0;
      ++op[t];
      sp.kind = finished(t) ? PointKind::kDone : PointKind::kOpEnd;
      taken.ops = 1;
    }
    // Consecutive whole-op segments of one thread make one step, as a real
    // run's schedule would.
    if (!summary.schedule.empty() && summary.schedule.back().thread == taken.thread &&
        summary.schedule.back().kind == TakenStep::Kind::kOps &&
        taken.kind == TakenStep::Kind::kOps)
      ++summary.schedule.back().ops;
    else
      summary.schedule.push_back(taken);
    sp.current = static_cast<long>(t);
    sp.preemptible = sp.kind == PointKind::kYield;
  }
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
