// A conservative count of the physical frames a trace may need, so that a
// random trace never runs the simulated machine out of memory (it has no
// swap). Every page an op may make resident is charged once per process,
// together with the page-table pages above it; nothing is ever credited back.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "prng.hpp"

namespace vmsim::tracegen {

class MemoryBudget {
 public:
  // `limit_frames`: how many frames the trace may use in all.
  explicit MemoryBudget(uint64_t limit_frames) : limit_(limit_frames) {}

  // The budget for a machine of `memory_bytes`: half its frames, leaving the
  // rest to the core's own structures.
  static uint64_t frames_for_memory(uint64_t memory_bytes);

  // Charges the page holding `address` in `process`; false (and nothing
  // charged) when that would exceed the limit. Addresses where nothing can
  // ever be mapped cost nothing.
  bool charge(uint32_t process, uint64_t address);
  // What charging the page would cost, in frames (0 if already charged).
  uint64_t cost(uint32_t process, uint64_t address) const;

  // Sets aside `frames` frames that no page key stands for (a file's page
  // cache); false (and nothing reserved) past the limit.
  bool reserve(uint64_t frames);

  // `child` is forked from `parent`: the child's page tables are charged (a
  // copy of the parent's), and the parent's pages are forgotten, so that its
  // next access to each is charged again (a copy-on-write copy, the original
  // staying with the child). False (and nothing changed) past the limit.
  bool fork_process(uint32_t parent, uint32_t child);
  // `process` replaces its address space (exec): its old pages may live on
  // in forked relatives, so every page it touches from now on is charged
  // again. Page tables stay charged (they are the process's own).
  void forget_pages(uint32_t process);

  // A page of `process` already charged (so accessing it again is free).
  std::optional<uint64_t> random_charged_page(Prng& rng, uint32_t process) const;

  uint64_t used() const { return used_; }
  uint64_t limit() const { return limit_; }

 private:
  using Key = std::pair<uint32_t, uint64_t>;          // (process, level tag | index)
  static constexpr uint64_t kLevelStep = 1ull << 60;  // level n's tags start at n * kLevelStep
  static std::vector<uint64_t> frame_tags(uint64_t address);

  uint64_t limit_;
  uint64_t used_ = 0;
  std::set<Key> charged_;
  std::vector<std::vector<uint64_t>> pages_by_process_;
};

}  // namespace vmsim::tracegen
