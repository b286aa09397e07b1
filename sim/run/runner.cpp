// The simulator's run of one trace: the replay engine (engine/replay) over
// the emulated machine, with the simulator's observers attached (the
// history for the linearizability check, the shadow TLB, the explorer's
// footprints, the timeline) and its results collected into a RunReport.
// The loaded trace reaches the engine as the image `vmsim compile` writes,
// built in memory.
#include "run/runner.hpp"

#include <csetjmp>
#include <memory>
#include <stdexcept>

#include "compile/trace_compiler.hpp"
#include "machine/machine.hpp"
#include "run/error_text.hpp"
#include "run/explorer_steering.hpp"
#include "run/history_recorder.hpp"
#include "run/machine_pool.hpp"
#include "run/sim_machine.hpp"
#include "run/sim_platform.hpp"
#include "run/timeline_recorder.hpp"
#include "run/tlb_witness.hpp"
#include "sched/yield_point_named.hpp"
#include "sys/kernel.hpp"

namespace vmsim {
namespace {

replay::Options engine_options(const RunOptions& o) {
  replay::Options e;
  e.audit = o.audit == AuditMode::kOff       ? replay::AuditMode::kOff
            : o.audit == AuditMode::kEveryOp ? replay::AuditMode::kEveryOp
                                             : replay::AuditMode::kEnd;
  e.searching = o.controller != nullptr;
  // The explorer's footprints and the timeline see every segment begin.
  e.decide_on_thread = o.controller == nullptr && o.timeline.empty();
  e.slab_sanity = o.slab_sanity;
  return e;
}

// What the engine reports, into a RunReport (and the timeline).
class ReportSink final : public replay::ResultSink {
 public:
  ReportSink(const Trace& trace, RunReport& report) : trace_(trace), report_(report) {}

  void set_timeline(Timeline* timeline) { timeline_ = timeline; }

  void violation(const replay::Violation& v) override {
    Violation r;
    r.kind = v.kind;
    r.message = v.message;
    if (v.thread >= 0) r.thread = trace_.threads[v.thread].name;
    r.op = v.op;
    r.step = v.step;
    if (timeline_)
      timeline_->violation(r.kind, r.message,
                           v.thread >= 0 ? std::optional<size_t>(v.thread) : std::nullopt, r.op);
    report_.violations.push_back(std::move(r));
  }
  void unmet(const char* message) override { report_.unmet.push_back(message); }
  void step_taken(const replay::LoggedStep& step) override {
    TakenStep s;
    s.thread = trace_.threads[step.thread].name;
    switch (step.kind) {
      case replay::StepKind::kOps:
        s.kind = TakenStep::Kind::kOps;
        s.ops = step.ops;
        break;
      case replay::StepKind::kUntil:
        s.kind = TakenStep::Kind::kUntil;
        s.point = replay::yield_point_name(step.point);
        s.count = step.count;
        break;
      case replay::StepKind::kRun:
        s.kind = TakenStep::Kind::kRun;
        break;
    }
    report_.schedule.push_back(std::move(s));
  }
  void input_error(const replay::InputPlace& where, const char* message) override {
    using Kind = replay::InputPlace::Kind;
    if (where.kind == Kind::kOp) {
      const Op& op = trace_.threads[where.thread].ops[where.op];
      error_ = RunError{2, error_at(trace_.file, op.loc, op.path, message)};
    } else if (where.kind == Kind::kStep) {
      const ScheduleStep& s = trace_.schedule.steps[where.step];
      error_ = RunError{2, error_at(trace_.file, s.loc, s.path, message)};
    } else {
      error_ = RunError{2, trace_.file + ": " + message};
    }
  }
  void internal_error(const char* message) override {
    error_ = RunError{3, trace_.file + ": internal error: " + message};
  }

  const std::optional<RunError>& error() const { return error_; }

 private:
  const Trace& trace_;
  RunReport& report_;
  Timeline* timeline_ = nullptr;
  std::optional<RunError> error_;
};

// The trace's devices as physical ranges of the emulated machine: each at
// its `phys` (spec §10).
std::vector<DeviceRange> device_ranges(const MachineSpec& m) {
  std::vector<DeviceRange> out;
  for (const DeviceSpec& d : m.devices) out.push_back(DeviceRange{d.phys, d.size});
  return out;
}

class SimRun {
 public:
  SimRun(const Trace& trace, const RunOptions& options)
      : trace_(trace),
        options_(options),
        image_bytes_(options.image != nullptr
                         ? options.image
                         : std::make_shared<const std::vector<uint8_t>>(compile_trace(trace))),
        lease_(trace.machine.memory, trace.machine.cpus, device_ranges(trace.machine)),
        machine_(*lease_),
        disk_(trace.files),
        platform_(machine_, disk_),
        kernel_(std::make_unique<vm::Kernel>(platform_)),
        sim_machine_(machine_, platform_, trace.threads.size()),
        sink_(trace, report_) {
    const char* why = nullptr;
    if (!image_.open(image_bytes_->data(), image_bytes_->size(), &why))
      throw std::logic_error(std::string("the compiled trace does not open: ") + why);
    replay_ = std::make_unique<replay::Replay>(image_, *kernel_, sim_machine_, sink_,
                                               engine_options(options));
    witness_ = std::make_unique<TlbWitness>(*replay_, trace.machine.cpus);
    if (options.oracle) history_ = std::make_unique<HistoryRecorder>(trace, *replay_);
    if (options.controller != nullptr)
      steering_ = std::make_unique<ExplorerSteering>(*options.controller, *replay_, platform_,
                                                     trace.machine.memory);
    if (!options.timeline.empty()) {
      std::vector<std::string> names;
      for (const ThreadSpec& t : trace.threads) names.push_back(t.name);
      timeline_ = std::make_unique<Timeline>(trace.machine.cpus, std::move(names));
      timeline_recorder_ =
          std::make_unique<TimelineRecorder>(trace, *timeline_, platform_, kernel_->vm);
      sink_.set_timeline(timeline_.get());
    }
  }

  std::variant<RunReport, RunError> run();

 private:
  void attach();

  const Trace& trace_;
  const RunOptions options_;
  std::shared_ptr<const std::vector<uint8_t>> image_bytes_;
  image::ImageReader image_;
  MachineLease lease_;  // before all that uses the machine: it goes back last
  Machine& machine_;
  SimDisk disk_;
  SimPlatform platform_;
  std::unique_ptr<vm::Kernel> kernel_;
  SimMachine sim_machine_;
  RunReport report_;
  ReportSink sink_;
  std::unique_ptr<replay::Replay> replay_;
  std::unique_ptr<TlbWitness> witness_;
  std::unique_ptr<HistoryRecorder> history_;
  std::unique_ptr<ExplorerSteering> steering_;
  std::unique_ptr<Timeline> timeline_;
  std::unique_ptr<TimelineRecorder> timeline_recorder_;
  std::jmp_buf panic_jmp_;
};

void SimRun::attach() {
  if (history_) replay_->observe(*history_);
  replay_->observe(*witness_);
  platform_.watch(*witness_);
  if (steering_) {
    replay_->observe(*steering_);
    replay_->steer(*steering_);
    platform_.watch(*steering_);
  }
  if (timeline_recorder_) {
    replay_->observe(*timeline_recorder_);
    platform_.watch(*timeline_recorder_);
  }
}

std::variant<RunReport, RunError> SimRun::run() {
  report_.trace = trace_.name;
  report_.file = trace_.file;
  report_.has_expect = trace_.expect.result || trace_.expect.violation || trace_.expect.digest ||
                       !trace_.expect.stats.empty();
  kernel_->vm.mutations = options_.mutations;
  if (options_.slab_sanity && !platform_.allow_frame_protection(kernel_->vm.slab_sanity))
    return RunError{2, "--sanity needs a host with 4 KiB pages"};
  attach();
  sim_machine_.attach(*replay_, &panic_jmp_);
  platform_.set_threads(replay_.get());
  platform_.arm_panic(&panic_jmp_);
  // A core panic off the threads' fibers (boot, teardown) longjmps here;
  // nothing between owns resources that need unwinding.
  if (setjmp(panic_jmp_) != 0) {
    replay_->panicked(platform_.panic_message().c_str());
  } else if (replay_->boot()) {
    replay_->run_threads();
    replay_->finish();
  }
  platform_.arm_panic(nullptr);
  platform_.set_threads(nullptr);
  replay_->conclude();
  if (sink_.error()) return *sink_.error();
  if (history_ && history_->inconclusive())
    return RunError{3, trace_.file + ": internal error: " + *history_->inconclusive()};
  if (timeline_) {
    std::string why;
    if (!timeline_->write(options_.timeline, &why))
      return RunError{2, "cannot write the timeline " + options_.timeline + ": " + why};
  }
  if (const char* digest = replay_->digest()) report_.digest = digest;
  for (size_t i = 0; replay_->has_stats() && i < replay::kRunStatCount; ++i)
    report_.stats.emplace_back(replay::kRunStatNames[i], static_cast<int64_t>(replay_->stat(i)));
  return std::move(report_);
}

}  // namespace

std::variant<RunReport, RunError> run_trace(const Trace& trace, const RunOptions& options) {
  try {
    SimRun run(trace, options);
    return run.run();
  } catch (const std::exception& e) {
    return RunError{3, trace.file + ": internal error: " + e.what()};
  }
}

}  // namespace vmsim
