#include "run/sim_platform.hpp"

#include <cstdio>
#include <cstdlib>

#include "lib/format.hpp"
#include "lib/mutex.hpp"

namespace vmsim {
namespace {
constexpr uint32_t kMaxOwner = 1u << 20;  // far above any trace's thread count
}  // namespace

SimPlatform::SimPlatform(Machine& machine, SimDisk& disk)
    : FileDiskPlatform(machine.phys_base(), disk.files()), machine_(machine), disk_(disk) {}

void SimPlatform::tlb_invalidate_page(vm::CpuSet cpus, vm::paddr_t root, vm::vaddr_t va) {
  for (PlatformWatcher* w : watchers_) w->invalidated(cpus, root, va);
  for (unsigned cpu = 0; cpu < machine_.cpus(); ++cpu) {
    if (!cpus.has(cpu)) continue;
    machine_.invalidate_page(cpu, va);
    ++page_invalidations_;
  }
}

void SimPlatform::tlb_invalidate_all(vm::CpuSet cpus, vm::paddr_t root) {
  for (PlatformWatcher* w : watchers_) w->invalidated(cpus, root, std::nullopt);
  for (unsigned cpu = 0; cpu < machine_.cpus(); ++cpu) {
    if (!cpus.has(cpu)) continue;
    machine_.invalidate_all(cpu);
    ++full_flushes_;
  }
}

void SimPlatform::yield(vm::YieldPoint point) {
  if (threads_ != nullptr && threads_->on_thread()) threads_->yield_point(point);
}

// On a trace thread a held lock blocks it until the holder drops it. Off
// them (boot, teardown) nothing else can be holding it: that is a bug.
void SimPlatform::lock_acquire(vm::Mutex& m) {
  const bool on_thread = threads_ != nullptr && threads_->on_thread();
  while (m.owner != vm::Mutex::kUnowned) {
    // Owner ids are thread indices + 1: anything larger is a lock in freed
    // (poisoned) memory.
    if (m.owner > kMaxOwner) {
      vm::FixedString<128> msg;
      msg << "lock at " << static_cast<const void*>(&m) << " taken in freed memory (owner "
          << vm::Hex{m.owner} << ")";
      panic(msg.c_str());
    }
    if (m.owner == thread_ + 1 || !on_thread) {
      // No std::string here: panic() longjmps past this frame.
      vm::FixedString<128> msg;
      msg << "lock \"" << m.name() << "\" taken while already held";
      panic(msg.c_str());
    }
    for (PlatformWatcher* w : watchers_) {
      w->lock_contended(m);
      w->blocking(&m);
    }
    threads_->block(&m, m.name(), &m);
  }
  m.owner = thread_ + 1;
  if (on_thread)
    for (PlatformWatcher* w : watchers_) w->lock_taken(m);
}

// Never blocks: a lock held by anyone, this thread included, is refused.
bool SimPlatform::lock_try_acquire(vm::Mutex& m) {
  if (m.owner != vm::Mutex::kUnowned) return false;
  m.owner = thread_ + 1;
  if (threads_ != nullptr && threads_->on_thread())
    for (PlatformWatcher* w : watchers_) w->lock_taken(m);
  return true;
}

// A leaf lock is free here (one thread runs at a time, nothing under it
// yields), but what it guards is shared: the explorer counts it as taken,
// except where the order of two holders shows nowhere
// (Mutex::Footprint::kUnordered).
void SimPlatform::leaf_acquire(vm::Mutex& m) {
  if (threads_ == nullptr || !threads_->on_thread()) return;
  if (m.footprint() == vm::Mutex::Footprint::kUnordered) return;
  for (PlatformWatcher* w : watchers_) w->lock_taken(m);
}

void SimPlatform::touched(const void* what) {
  if (threads_ == nullptr || !threads_->on_thread()) return;
  for (PlatformWatcher* w : watchers_) w->touched(what);
}

void SimPlatform::lock_release(vm::Mutex& m) {
  if (m.owner != thread_ + 1) {
    vm::FixedString<128> msg;
    msg << "lock \"" << m.name() << "\" released by a thread not holding it";
    panic(msg.c_str());
  }
  m.owner = vm::Mutex::kUnowned;
  if (threads_ != nullptr && threads_->on_thread())
    for (PlatformWatcher* w : watchers_) w->lock_released(m);
  wake(&m);
}

// Owner ids are thread indices + 1, as mutex_lock sets them (off a thread too:
// boot and teardown take locks as the thread that ran last).
void SimPlatform::check_held(const vm::Mutex& m) {
  if (m.owner == thread_ + 1) return;
  vm::FixedString<160> msg;
  msg << "lock \"" << m.name() << "\" not held by the running thread (thread " << thread_;
  if (m.owner == vm::Mutex::kUnowned) {
    msg << ", lock free)";
  } else {
    msg << ", held by thread " << (m.owner - 1) << ")";
  }
  panic(msg.c_str());
}

void SimPlatform::wait_for(const void* channel, const char* what) {
  if (threads_ == nullptr || !threads_->on_thread()) {
    vm::FixedString<128> msg;
    msg << "sleep on " << what << " outside a thread: nothing could wake it";
    panic(msg.c_str());
  }
  for (PlatformWatcher* w : watchers_) w->blocking(channel);
  threads_->block(channel, what, nullptr);
}

void SimPlatform::frame_freed(vm::paddr_t pa) {
  for (PlatformWatcher* w : watchers_) w->frame_freed(pa);
}

void SimPlatform::wake(const void* channel) {
  if (threads_ == nullptr) return;
  if (threads_->on_thread())
    for (PlatformWatcher* w : watchers_) w->waking(channel);
  threads_->wake(channel);
}

bool SimPlatform::allow_frame_protection(vm::SlabSanity& sanity) {
  if (!FrameProtection::host_supports()) return false;
  protection_ = std::make_unique<FrameProtection>(phys(0), machine_.ram_bytes(), sanity);
  return true;
}

vm::paddr_t SimPlatform::kernel_root() {
  return machine_.kernel_root();
}

void SimPlatform::log(const char* message) {
  std::fprintf(stderr, "vmsim: core: %s\n", message);
}

void SimPlatform::panic(const char* message) {
  panic_message_ = message;
  if (panic_target_ == nullptr) {
    std::fprintf(stderr, "vmsim: core panic outside a run: %s\n", message);
    std::abort();
  }
  std::longjmp(*panic_target_, 1);
}

}  // namespace vmsim
