#include "run/history_recorder.hpp"

#include <set>
#include <stdexcept>

namespace vmsim {

// The model starts as the core does: the trace's files and devices, and the
// processes of threads that no fork creates (privileged as their first
// thread says).
HistoryRecorder::HistoryRecorder(const Trace& trace, replay::Replay& replay)
    : trace_(trace), replay_(replay), in_flight_(trace.threads.size()) {
  for (const FileSpec& f : trace.files) initial_.create_file(f);
  for (const DeviceSpec& d : trace.machine.devices) initial_.create_device(d);
  std::set<std::string> forked;
  for (const ThreadSpec& th : trace.threads)
    for (const Op& op : th.ops)
      if (op.kind == OpKind::kFork) forked.insert(op.child);
  for (const ThreadSpec& th : trace.threads)
    if (forked.count(th.process) == 0 && !initial_.has_process(th.process))
      initial_.create_process(th.process, th.privileged);
}

void HistoryRecorder::op_begin(size_t thread, size_t op, uint64_t addr) {
  InFlight& f = in_flight_[thread];
  f.op = HistoryOp{};
  f.op.thread = thread;
  f.op.op_index = op;
  f.op.op = &trace_.threads[thread].ops[op];
  f.op.invoked = clock_++;
  f.op.addr = addr;
}

void HistoryRecorder::op_end(size_t thread, size_t, const replay::Outcome& o) {
  InFlight& f = in_flight_[thread];
  static_cast<replay::Outcome&>(f.op.core) = o;
  f.op.responded = clock_++;
}

void HistoryRecorder::op_passed(size_t thread, size_t, const replay::Outcome&) {
  InFlight& f = in_flight_[thread];
  if (f.splits.empty()) {
    history_.push_back(f.op);
  } else {
    add_touch_parts(f.splits, f.op);
  }
}

void HistoryRecorder::fault_begin(size_t thread, vm::AddressSpace&, uint64_t, bool) {
  in_flight_[thread].fault_began = clock_++;
}

void HistoryRecorder::fault_end(size_t thread, const replay::UserAccess& a, uint64_t addr,
                                vm::FaultResult, bool others_ran) {
  InFlight& f = in_flight_[thread];
  if (others_ran && a.stride != 0 && a.touch())
    f.splits.push_back({(addr - a.addr) / a.stride, f.fault_began, clock_++});
}

// A touch is one access per step, not one atomic op: where other threads ran
// inside one of its faults, the history gets the steps before and after as
// separate parts, each linearizable on its own (in the thread's order).
void HistoryRecorder::add_touch_parts(std::vector<TouchSplit>& splits, const HistoryOp& whole) {
  const Op& op = *whole.op;
  const uint64_t steps = op.len == 0 ? 0 : (op.len - 1) / op.stride + 1;
  uint64_t first = 0, invoked = whole.invoked;
  for (size_t i = 0; i <= splits.size(); ++i) {
    const bool last = i == splits.size();
    const uint64_t end = last ? steps : splits[i].steps;
    if (end > first || last) {
      Op part = op;
      part.addr = AddrExpr{};
      part.addr.offset = whole.addr + first * op.stride;
      part.len = last ? op.len - first * op.stride : (end - first - 1) * op.stride + 1;
      if (!last) {
        part.expect_fault.reset();
        part.result_given = false;
      }
      touch_parts_.push_back(part);
      HistoryOp h = whole;
      h.op = &touch_parts_.back();
      h.addr = part.addr.offset;
      h.invoked = invoked;
      h.responded = last ? whole.responded : splits[i].before;
      if (!last) h.core = OpOutcome{};
      history_.push_back(h);
    }
    if (!last) {
      first = end;
      invoked = splits[i].after;
    }
  }
  splits.clear();
}

// Spec §6: every op's outcome and the final state must be those of some
// sequential order of the ops that keeps real-time order.
void HistoryRecorder::finished(const char* digest) {
  if (!replay_.pass()) return;
  // An order may put a process's exit before another op on it: the model
  // then has no such process, which the core reports as it would.
  const ApplyOp apply = [this](Model& model, const HistoryOp& h) {
    try {
      return model_op(model, h);
    } catch (const std::out_of_range&) {
      OpOutcome gone;
      const OpKind k = h.op->kind;
      if (k == OpKind::kRead || k == OpKind::kWrite || k == OpKind::kTouch) {
        gone.signal = vm::Signal::kSegv;
      } else {
        gone.status = vm::Status::kFault;
      }
      return gone;
    }
  };
  const LinearizabilityResult r =
      check_linearizable(history_, initial_, apply, std::string(digest));
  switch (r.verdict) {
    case Linearizability::kLinearizable:
      return;
    case Linearizability::kInconclusive:
      inconclusive_ = r.message;
      return;
    case Linearizability::kViolation:
      break;
  }
  long thread = -1, op = -1;
  if (r.blamed) {
    const HistoryOp& h = history_[*r.blamed];
    thread = static_cast<long>(h.thread);
    op = static_cast<long>(h.op_index);
  }
  replay_.add_violation(r.mismatch->kind, r.mismatch->message.c_str(), thread, op);
}

// An op the trace says runs out of memory: the model kills its process
// there. A touch's steps before the one the core found no frame for did
// happen (a shared page shows them); a step before it that faults in the
// model ends the op with that fault instead.
OpOutcome HistoryRecorder::model_oom(Model& model, const HistoryOp& h) const {
  const Op& op = *h.op;
  const std::string& proc = trace_.threads[h.thread].process;
  if (op.kind == OpKind::kTouch && h.core.signal == vm::Signal::kOom && model.has_process(proc)) {
    const uint64_t before = (h.core.fault_addr - h.addr) / op.stride;  // wraps like the steps
    const uint64_t steps = op.len == 0 ? 0 : (op.len - 1) / op.stride + 1;
    if (before != 0 && before < steps) {
      const ModelOutcome m = model.touch(proc, h.addr, (before - 1) * op.stride + 1, op.stride,
                                         op.touch_write, static_cast<uint8_t>(op.value));
      if (m.signal != vm::Signal::kNone) return OpOutcome::from_model(op, m);
    }
  }
  OpOutcome o = OpOutcome::from_model(op, model.oom_kill(proc));
  o.fault_addr = h.core.fault_addr;  // the model has no frames: where is the core's to say
  return o;
}

// The op in the model, with the address operands the core resolved when the
// op was invoked (a label may be bound again later).
OpOutcome HistoryRecorder::model_op(Model& model, const HistoryOp& h) const {
  const Op& op = *h.op;
  const std::string& proc = trace_.threads[h.thread].process;
  if (op.expect_fault == FaultKind::kOom) return model_oom(model, h);
  ModelOutcome m;
  switch (op.kind) {
    case OpKind::kMmap: {
      const std::optional<uint64_t> addr =
          op.has_addr ? std::optional<uint64_t>(h.addr) : std::nullopt;
      m = !op.device.empty()
              ? model.mmap_device(proc, addr, op.len, op.prot, op.fixed, op.device, op.offset)
          : op.file.empty()
              ? model.mmap(proc, addr, op.len, op.prot, op.shared, op.fixed, op.populate)
              : model.mmap_file(proc, addr, op.len, op.prot, op.shared, op.fixed, op.populate,
                                op.file, op.offset);
      break;
    }
    case OpKind::kPwrite:
      m = model.pwrite(op.file, op.offset, static_cast<uint8_t>(op.value), op.len);
      break;
    case OpKind::kTruncate:
      m = model.truncate(op.file, op.file_size);
      break;
    case OpKind::kMunmap:
      m = model.munmap(proc, h.addr, op.len);
      break;
    case OpKind::kMprotect:
      m = model.mprotect(proc, h.addr, op.len, op.prot);
      break;
    case OpKind::kMadvise:
      m = model.madvise(proc, h.addr, op.len, op.advice);
      break;
    case OpKind::kBrk:
      m = model.brk(proc, h.addr);
      break;
    case OpKind::kSbrk:
      m = model.sbrk(proc, op.incr);
      break;
    case OpKind::kRead:
      m = model.read(proc, h.addr, op.size);
      break;
    case OpKind::kWrite:
      m = model.write(proc, h.addr, op.size, op.value);
      break;
    case OpKind::kTouch:
      m = model.touch(proc, h.addr, op.len, op.stride, op.touch_write,
                      static_cast<uint8_t>(op.value));
      break;
    case OpKind::kFork:
      m = model.fork(proc, op.child);
      break;
    case OpKind::kExit:
      m = model.exit(proc);
      break;
    case OpKind::kExec:
      // The model has no memory limit: an exec the trace says runs out of
      // memory fails there too, and nothing else does.
      m = op.result_given && op.result == ExpectedResult::kEnomem
              ? model.exec_fails_out_of_memory(proc)
              : model.exec(proc, op.text, op.data, op.bss, op.stack);
      break;
    case OpKind::kCachePut:
      m = model.cache_put(proc, op.id, h.addr, op.len);
      break;
    case OpKind::kCacheGet:
      // The model keeps every block; a miss of one it holds is the core's
      // pageout forgetting it, which only pressure explains (spec §3, §8).
      m = model.cache_get(proc, op.id, h.addr,
                          h.core.status == vm::Status::kMiss && h.core.pressure);
      break;
    case OpKind::kPoke:
      if (model.has_process(op.process)) {
        m = model.poke(op.process, h.addr, op.size, op.value);
      } else {
        m.status = vm::Status::kFault;  // no such process (not yet forked, or exited)
      }
      break;
    default:
      break;
  }
  return OpOutcome::from_model(op, m);
}

}  // namespace vmsim
