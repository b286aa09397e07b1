// The shadow TLB as a replay observer (docs/machine.md): it follows every
// CR3 load, completed access and invalidation the run makes, and reports a
// translation that is used after it should be gone, or that outlives its
// frame, as a stale-tlb violation that ends the run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "replay/replay.hpp"
#include "run/shadow_tlb.hpp"
#include "run/sim_platform.hpp"

namespace vmsim {

class TlbWitness final : public replay::Observer, public PlatformWatcher {
 public:
  TlbWitness(replay::Replay& replay, unsigned cpus);

  // replay::Observer
  void op_begin(size_t thread, size_t op, uint64_t addr) override;
  void op_end(size_t thread, size_t op, const replay::Outcome& outcome) override;
  void cpu_switched(unsigned cpu, uint64_t root) override { shadow_.load_root(cpu, root); }
  bool access_begin(size_t thread, vm::AddressSpace& as, const replay::UserAccess& a) override;
  bool access_resumed(size_t thread, vm::AddressSpace& as, const replay::UserAccess& a) override;
  void access_done(size_t thread, vm::AddressSpace& as, const replay::UserAccess& a) override;

  // PlatformWatcher
  void invalidated(vm::CpuSet cpus, uint64_t root, std::optional<uint64_t> va) override;
  void frame_freed(uint64_t pa) override;

 private:
  bool check(size_t thread, vm::AddressSpace& as);
  void stale(const std::string& message);

  replay::Replay& replay_;
  unsigned cpus_;
  ShadowTlb shadow_;
  // By thread: the pages its access in flight touches, in order, each once.
  std::vector<std::vector<uint64_t>> pages_;
};

// The pages an access touches, in order, each once.
std::vector<uint64_t> access_pages(const replay::UserAccess& a);

}  // namespace vmsim
