// The simulator as the replay engine's machine: every trace thread runs on
// its own fiber, a user access runs on the emulated CPU (Unicorn), and the
// engine's tables live in host memory owned here.
#pragma once

#include <csetjmp>
#include <cstddef>
#include <memory>
#include <vector>

#include "machine/machine.hpp"
#include "replay/replay.hpp"
#include "run/fiber.hpp"
#include "run/sim_platform.hpp"

namespace vmsim {

class SimMachine final : public replay::Machine {
 public:
  SimMachine(vmsim::Machine& machine, SimPlatform& platform, size_t threads);

  // The replay whose threads run here; `run_panic` is where a core panic off
  // the threads returns (the driver's setjmp).
  void attach(replay::Replay& replay, std::jmp_buf* run_panic) {
    replay_ = &replay;
    run_panic_ = run_panic;
  }

  // replay::Machine
  void resume(size_t thread) override;
  void suspend(size_t thread) override { threads_[thread].fiber->suspend(); }
  void begin_access(size_t thread, const replay::UserAccess& access) override;
  replay::AccessStop run_access(size_t thread, unsigned cpu, vm::AddressSpace& as) override;
  void* allocate(size_t bytes) override;
  // The simulator maps each device at its `phys` (vmsim::Machine's devices).
  uint64_t device_phys(uint32_t device) override { return replay_->trace().device(device).phys; }
  uint64_t tlb_page_invalidations() const override { return platform_.tlb_page_invalidations(); }
  uint64_t tlb_full_flushes() const override { return platform_.tlb_full_flushes(); }

 private:
  struct Thread {
    std::unique_ptr<Fiber> fiber;
    std::jmp_buf panic_jmp;  // a core panic on this thread's fiber returns here
    UserAccess access;       // the access in flight
    UserContext context;     // ... where the emulated CPU stopped in it
    bool reserved = false;   // ... starts on the machine's reserved page
  };

  void body(size_t thread);

  vmsim::Machine& machine_;
  SimPlatform& platform_;
  replay::Replay* replay_ = nullptr;
  std::jmp_buf* run_panic_ = nullptr;
  std::vector<Thread> threads_;
  std::vector<std::unique_ptr<std::byte[]>> memory_;
};

}  // namespace vmsim
