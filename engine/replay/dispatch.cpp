// One op: its address operand, the system call or user access it is, exec
// and exit waiting for the process's other threads, and what follows a fork
// or an exit for the threads of the processes involved.
#include "replay/replay.hpp"
#include "sys/audit.hpp"
#include "sys/syscalls.hpp"

namespace replay {

using namespace image;

// False when a violation or an input error ends the run.
bool Replay::run_one(ThreadState& t) {
  const size_t k = t.next_op;
  const ImageOp& op = trace_.thread_op(t.index, k);
  u64 addr = 0;
  if (!resolve(t, op, &addr)) return false;
  ++ops_;
  if (!first_op_seen_) {
    first_op_seen_ = true;
    machine_.first_op();
  }
  for (size_t i = 0; i < observer_count_; ++i) observers_[i]->op_begin(t.index, k, addr);
  const u64 failed_before = allocation_failures(t);
  Outcome out = dispatch(t, op, addr);
  if (!aborted_ && ran_out_of_memory(t, op, out, failed_before)) {
    if (op.expect_fault != ImageFault::kOom) {
      report_out_of_memory(t, op, out);
      return false;
    }
    out = oom_kill(t, out);
  }
  for (size_t i = 0; i < observer_count_; ++i) observers_[i]->op_end(t.index, k, out);
  if (aborted_ || !slab_writes_used(t.index, static_cast<long>(k))) return false;
  note_peaks();
  if (out.signal == vm::Signal::kSegv) ++segv_;
  if (out.signal == vm::Signal::kBus) ++bus_;
  Text why;
  if (const char* kind = check_assertions(op, label_of(op), out, why)) {
    add_violation(kind, why.c_str(), t.index, static_cast<long>(k));
    return false;
  }
  for (size_t i = 0; i < observer_count_; ++i) observers_[i]->op_passed(t.index, k, out);
  if (options_.audit != AuditMode::kEveryOp) return true;
  // Invariants hold between ops, not while another thread is stopped inside one.
  for (size_t i = 0; i < thread_count_; ++i)
    if (i != t.index && threads_[i].in_op) return true;
  return audit_now(t.index, static_cast<long>(k));
}

// The op's address operand: a label's start plus the offset, or the address.
bool Replay::resolve(const ThreadState& t, const ImageOp& op, u64* addr) {
  if (op.addr_label == kNone) {
    *addr = op.addr;
    return true;
  }
  if (label_bound_[op.addr_label]) {
    *addr = labels_[op.addr_label] + op.addr;
    return true;
  }
  Text m;
  m << "label @" << label_of(op) << " is used before any mmap bound it";
  input_error(InputPlace::op_of(t.index, t.next_op), m.c_str());
  return false;
}

Outcome Replay::dispatch(ThreadState& t, const ImageOp& op, u64 addr) {
  vm::Kernel& k = kernel_;
  Outcome out;
  switch (op.kind) {
    case ImageOpKind::kYield:
      break;
    case ImageOpKind::kMmap: {
      vm::MmapArgs args;
      args.has_addr = (op.flags & kHasAddr) != 0;
      args.addr = args.has_addr ? addr : 0;
      args.len = op.len;
      args.prot = static_cast<vm::Prot>(op.prot);
      args.shared = (op.flags & kShared) != 0;
      args.fixed = (op.flags & kFixed) != 0;
      args.populate = (op.flags & kPopulate) != 0;
      if (op.file != kNone) {
        args.file = file_name(op.file);
        args.offset = op.offset;
      } else if (op.device != kNone) {
        args.device = trace_.str(trace_.device(op.device).name);
        args.offset = op.offset;
      }
      out.status = vm::sys_mmap(k, *t.process, args, &out.value);
      out.has_value = true;
      if (out.status == vm::Status::kOk && op.as_label != kNone) {
        labels_[op.as_label] = out.value;
        label_bound_[op.as_label] = true;
      }
      break;
    }
    case ImageOpKind::kMunmap:
      out.status = vm::sys_munmap(k, *t.process, addr, op.len);
      break;
    case ImageOpKind::kMprotect:
      out.status = vm::sys_mprotect(k, *t.process, addr, op.len, static_cast<vm::Prot>(op.prot));
      break;
    case ImageOpKind::kMadvise:
      out.status = vm::sys_madvise(k, *t.process, addr, op.len,
                                   (op.flags & kWillneed)     ? vm::Advice::kWillNeed
                                   : (op.flags & kHugepage)   ? vm::Advice::kHugePage
                                   : (op.flags & kNohugepage) ? vm::Advice::kNoHugePage
                                                              : vm::Advice::kDontNeed);
      break;
    case ImageOpKind::kBrk:
      out.status = vm::sys_brk(k, *t.process, addr, &out.value);
      out.has_value = out.status == vm::Status::kOk;
      break;
    case ImageOpKind::kSbrk:
      out.status = vm::sys_sbrk(k, *t.process, op.incr, &out.value);
      out.has_value = out.status == vm::Status::kOk;
      break;
    case ImageOpKind::kRead:
      out = user_access(t, UserAccess{AccessKind::kLoad, addr, op.size, 0, 0, 1});
      out.has_value = out.signal == vm::Signal::kNone;
      break;
    case ImageOpKind::kWrite:
      out = user_access(t, UserAccess{AccessKind::kStore, addr, op.size, op.value, 0, 1});
      break;
    case ImageOpKind::kTouch: {
      // Steps wrap modulo 2^64 like the CPU's address arithmetic; the first
      // one outside user space faults.
      const u64 count = op.len == 0 ? 0 : (op.len - 1) / op.stride + 1;
      const AccessKind kind =
          (op.flags & kTouchWrite) != 0 ? AccessKind::kTouchStore : AccessKind::kTouchLoad;
      if (count != 0)
        out = user_access(t, UserAccess{kind, addr, 1, op.value & 0xff, op.stride, count});
      break;
    }
    case ImageOpKind::kPwrite:
      out.status =
          vm::sys_pwrite(k, file_name(op.file), op.offset, static_cast<vm::u8>(op.value), op.len);
      break;
    case ImageOpKind::kTruncate:
      out.status = vm::sys_truncate(k, file_name(op.file), op.file_size);
      break;
    case ImageOpKind::kFork: {
      vm::Process* child = nullptr;
      out.status = vm::sys_fork(k, *t.process, process_name(op.child), &child);
      if (out.status != vm::Status::kOk) break;
      start_threads_of(op.child, child);
      for (size_t i = 0; i < observer_count_; ++i) observers_[i]->forked(t.index, op.child);
      break;
    }
    case ImageOpKind::kExit:
      out = exit_process(t);
      break;
    case ImageOpKind::kExec:
      out = exec(t, op);
      break;
    case ImageOpKind::kPoke:
      out.status = vm::sys_poke(k, process_name(op.process), addr, op.size, op.value);
      break;
    case ImageOpKind::kCachePut:
      out.status = vm::sys_cache_put(k, *t.process, op.id, addr, op.len);
      break;
    case ImageOpKind::kCacheGet:
      out.status = vm::sys_cache_get(k, *t.process, op.id, addr);
      out.pressure = k.vm.stats.pageout_passes.load() != 0;
      break;
    case ImageOpKind::kPageout: {
      vm::u64 freed = 0;
      out.status = vm::sys_pageout(k, op.pages, &freed);
      break;
    }
    default:
      // Refused before the run (the machines' support checks).
      internal_error("op not supported by the replay engine");
  }
  return out;
}

// Allocations the page allocator refused while `t` ran (the running thread's
// current segment included): threads run one at a time, so each refusal is
// the one running thread's.
u64 Replay::allocation_failures(const ThreadState& t) const {
  const u64 now = kernel_.vm.pages.stats().failed;
  return running_ == &t ? t.allocation_failures + (now - segment_failed_) : t.allocation_failures;
}

// Whether the op needed memory the core could not get (spec §8): a fault
// that found no frame, or a call that returned enomem after an allocation
// was refused on its behalf (enomem for an address-space reason is the
// call's result). exec keeps its enomem with the old image (spec §3).
bool Replay::ran_out_of_memory(const ThreadState& t, const ImageOp& op, const Outcome& out,
                               u64 failed_before) const {
  if (out.signal == vm::Signal::kOom) return true;
  if (op.kind == ImageOpKind::kExec || out.status != vm::Status::kNoMem) return false;
  return allocation_failures(t) != failed_before;
}

// Not the trace's expectation: the run stops at the op (kind out-of-memory).
void Replay::report_out_of_memory(ThreadState& t, const ImageOp& op, const Outcome& out) {
  Text what, m;
  describe_op(op, label_of(op), what);
  m << "process \"" << process_name(t.spec->process) << "\" ran out of memory at thread \""
    << trace_.str(t.spec->name) << "\" op " << t.next_op << " (" << what.c_str() << ")";
  if (out.signal == vm::Signal::kOom)
    m << ": no frame for the fault at " << vm::Hex{out.fault_addr};
  m << "; machine.memory (" << trace_.header().machine.memory
    << " bytes) is exhausted and nothing can be reclaimed (spec §8; expect_fault \"oom\" if meant)";
  add_violation("out-of-memory", m.c_str(), t.index, static_cast<long>(t.next_op));
}

// The OOM killer: the process goes as if `t` ran exit at this op (its
// other threads end after the op they are in, its memory is released) and
// the op ends with oom. A fork that ran out made no child: the child's
// threads never start.
Outcome Replay::oom_kill(ThreadState& t, const Outcome& why) {
  const ImageOp& op = trace_.thread_op(t.index, t.next_op);
  if (op.kind == ImageOpKind::kFork) never_start_threads_of(op.child);
  for (size_t i = 0; i < thread_count_; ++i)
    if (threads_[i].spec->process == t.spec->process && i != t.index) threads_[i].killed = true;
  wait_for_siblings(t);
  // Another thread's exit (or kill) may have ended the process meanwhile.
  if (t.process != nullptr) end_process(t.spec->process, /*oom=*/true);
  Outcome out;
  out.signal = vm::Signal::kOom;
  out.fault_addr = why.fault_addr;
  return out;
}

// exit: the process and all its memory go; its threads run no more ops.
Outcome Replay::exit_process(ThreadState& t) {
  Outcome out;
  for (size_t i = 0; i < thread_count_; ++i)
    if (threads_[i].spec->process == t.spec->process && i != t.index) threads_[i].killed = true;
  wait_for_siblings(t);
  // Another thread's exit may have ended the process meanwhile.
  if (t.process == nullptr) {
    out.status = vm::Status::kFault;
    return out;
  }
  end_process(t.spec->process);
  return out;
}

Outcome Replay::exec(ThreadState& t, const ImageOp& op) {
  Outcome out;
  wait_for_siblings(t);
  if (t.process == nullptr) {
    out.status = vm::Status::kFault;
    return out;
  }
  out.status = vm::sys_exec(kernel_, *t.process, {op.text, op.data, op.bss, op.stack});
  return out;
}

// exec and exit change the whole process: its other threads must first
// leave the kernel (finish the op they are stopped in), as a real kernel
// waits for them to reach the user boundary; and one exec or exit runs at a
// time in a process.
void Replay::wait_for_siblings(ThreadState& t) {
  long& holder = exclusive_[t.spec->process];
  while (holder != kNoThread && holder != static_cast<long>(t.index)) {
    t.waiting_exclusive = true;
    // The holder may be waiting for `t` to finish its op: `t` is in an op
    // here when an oom kill (not an op's start) brought it, and waiting
    // for the holder now counts as having left the kernel.
    wake(&t);
    block(&holder, "another thread's exec or exit in its process", nullptr);
    t.waiting_exclusive = false;
  }
  holder = static_cast<long>(t.index);
  for (;;) {
    const ThreadState* busy = nullptr;
    for (size_t i = 0; i < thread_count_; ++i) {
      const ThreadState& o = threads_[i];
      if (i != t.index && o.in_op && !o.waiting_exclusive && o.spec->process == t.spec->process)
        busy = &o;
    }
    if (busy == nullptr) return;
    block(busy, "another thread of its process to finish its op", nullptr);
  }
}

void Replay::release_exclusive(ThreadState& t) {
  long& holder = exclusive_[t.spec->process];
  if (holder != static_cast<long>(t.index)) return;
  holder = kNoThread;
  wake(&holder);
}

// The fork that would create `process` failed: its threads never run.
void Replay::never_start_threads_of(u32 process) {
  for (size_t i = 0; i < thread_count_; ++i) {
    ThreadState& c = threads_[i];
    if (c.spec->process != process || !c.waiting_fork) continue;
    c.waiting_fork = false;
    c.killed = true;
    c.done = true;
  }
}

// The fork that creates `process` ran: its threads may start.
void Replay::start_threads_of(u32 process, vm::Process* p) {
  for (size_t i = 0; i < thread_count_; ++i) {
    if (threads_[i].spec->process != process) continue;
    threads_[i].process = p;
    threads_[i].waiting_fork = false;
  }
}

void Replay::end_process(u32 process, bool oom) {
  vm::Process* p = kernel_.find_process(process_name(process));
  for (size_t i = 0; i < thread_count_; ++i) {
    if (threads_[i].spec->process != process) continue;
    threads_[i].process = nullptr;
    threads_[i].killed = true;
  }
  if (p == nullptr) return;
  if (oom) {
    vm::sys_oom_kill(kernel_, *p);
  } else {
    vm::sys_exit(kernel_, *p);
  }
}

}  // namespace replay
