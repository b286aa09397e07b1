#include "result_line.hpp"

#include "console.hpp"
#include "json_out.hpp"
#include "memory.hpp"
#include "sched/yield_point_named.hpp"

namespace port {

ResultLine::ResultLine(const image::ImageReader& img)
    : img_(img),
      violations_(boot_alloc_array<Violation>(kMaxViolations)),
      unmet_(boot_alloc_array<vm::FixedString<512>>(kMaxUnmet)),
      steps_(boot_alloc_array<replay::LoggedStep>(kMaxSteps)) {}

void ResultLine::violation(const replay::Violation& v) {
  Violation& r =
      violations_[violation_count_ < kMaxViolations ? violation_count_++ : kMaxViolations - 1];
  r.kind = v.kind;
  r.message.clear();
  r.message << v.message;
  r.thread = v.thread;
  r.op = v.op;
  r.step = v.step;
}

void ResultLine::unmet(const char* message) {
  vm::FixedString<512>& m = unmet_[unmet_count_ < kMaxUnmet ? unmet_count_++ : kMaxUnmet - 1];
  m.clear();
  m << message;
}

void ResultLine::step_taken(const replay::LoggedStep& step) {
  if (step_count_ == kMaxSteps) kpanic("the run took more schedule steps than the port keeps");
  steps_[step_count_++] = step;
}

void ResultLine::input_error(const replay::InputPlace& where, const char* message) {
  Line m;
  if (where.kind == replay::InputPlace::Kind::kOp) {
    m << "threads[" << where.thread << "].ops[" << where.op << "] (line "
      << img_.thread_op(where.thread, where.op).line << "): ";
  } else if (where.kind == replay::InputPlace::Kind::kStep) {
    m << "schedule[" << where.step << "]: ";
  }
  m << message;
  refuse_image(m.c_str());
}

void ResultLine::internal_error(const char* message) {
  kpanic(message);
}

void ResultLine::print(const replay::Replay& run) const {
  JsonOut j(1 << 20);
  j.raw("{\"trace\":").str(img_.name());
  j.raw(",\"result\":").str(run.pass() ? "pass" : "violation");
  j.raw(",\"violations\":[");
  for (unsigned i = 0; i < violation_count_; ++i) {
    const Violation& v = violations_[i];
    if (i != 0) j.raw(",");
    j.raw("{\"kind\":").str(v.kind).raw(",\"message\":").str(v.message.c_str());
    j.raw(",\"thread\":");
    if (v.thread < 0) {
      j.raw("null");
    } else {
      j.str(img_.str(img_.thread(v.thread).name));
    }
    j.raw(",\"op\":");
    if (v.op < 0) {
      j.raw("null");
    } else {
      j.num(v.op);
    }
    j.raw(",\"step\":");
    if (v.step < 0) {
      j.raw("null");
    } else {
      j.num(v.step);
    }
    j.raw("}");
  }
  j.raw("],\"stats\":{");
  for (size_t i = 0; run.has_stats() && i < replay::kRunStatCount; ++i) {
    if (i != 0) j.raw(",");
    j.str(replay::kRunStatNames[i]).raw(":").num(run.stat(i));
  }
  j.raw("},\"digest\":");
  if (run.digest() != nullptr) {
    j.str(run.digest());
  } else {
    j.raw("null");
  }
  j.raw(",\"schedule\":[");
  for (size_t i = 0; i < step_count_; ++i) {
    const replay::LoggedStep& s = steps_[i];
    if (i != 0) j.raw(",");
    j.raw("{\"thread\":").str(img_.str(img_.thread(s.thread).name));
    switch (s.kind) {
      case replay::StepKind::kOps:
        j.raw(",\"ops\":").num(s.ops);
        break;
      case replay::StepKind::kUntil:
        j.raw(",\"until\":").str(replay::yield_point_name(s.point));
        j.raw(",\"count\":").num(s.count);
        break;
      case replay::StepKind::kRun:
        break;
    }
    j.raw("}");
  }
  j.raw("]");
  if (run.has_expectations()) {
    j.raw(",\"expect\":{\"met\":").raw(unmet_count_ == 0 ? "true" : "false");
    j.raw(",\"unmet\":[");
    for (unsigned i = 0; i < unmet_count_; ++i) {
      if (i != 0) j.raw(",");
      j.str(unmet_[i].c_str());
    }
    j.raw("]}");
  }
  j.raw("}");
  j.emit();
}

}  // namespace port
