// The shadow TLB: for every simulated CPU, the user translations it may have
// cached, kept by the simulator itself. Unicorn's own TLB may evict whenever
// it likes, so a missing shootdown is not guaranteed to show up as a wrong
// value; the shadow decides staleness instead (`stale-tlb`, spec §6; the
// rules are in docs/machine.md, "The shadow TLB").
//
// What is stale: a translation a CPU may still use although the page table
// no longer allows it (no entry, another frame, or read-only now while the
// cached one is writable) once the invalidation that should have removed it
// is overdue — and, always, a cached translation to a frame the core freed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vmsim {

class ShadowTlb {
 public:
  // What the page table says of a page now: the frame and whether it is
  // writable, or nullopt when no present entry maps it.
  using Pte = std::optional<std::pair<uint64_t, bool>>;
  // The present PTE of `va_page` in the address space rooted at `root`.
  using PteLookup = std::function<Pte(uint64_t root, uint64_t va_page)>;

  explicit ShadowTlb(unsigned cpus);

  // A CR3 load. Without PCIDs and global user pages, loading another root
  // drops every user translation of that CPU; loading the same one keeps them.
  void load_root(unsigned cpu, uint64_t root);
  // A user access completed on `cpu` through the translation va → pa (the
  // PTE as walked after it). A cached entry of another frame is kept: the
  // CPU used it and did not walk; one of the same frame widens its rights
  // (a write after a read refills the entry after the permission fault).
  void record(unsigned cpu, uint64_t va_page, uint64_t pa_page, bool writable);
  void invalidate_page(unsigned cpu, uint64_t va_page);
  void invalidate_all(unsigned cpu);

  // Operations in flight on any thread. While another operation is inside
  // its unhook → invalidate window (e.g. stopped at munmap.pte_cleared), a
  // mismatch may be an invalidation it has not sent yet, so it is only
  // suspected. Unused (always 0 in flight), every mismatch is reported at once.
  void op_started();
  // The suspicions the invalidations did not clear, once no operation is in
  // flight any more: then nothing can still owe them.
  std::optional<std::string> op_finished();

  // Before an access on `cpu` to `va_page`: a message when the CPU caches a
  // translation the table (`current`) no longer allows and no other
  // operation is in flight; with others in flight, the mismatch is suspected
  // until the next invalidation of that page on that CPU or op_finished().
  std::optional<std::string> check_access(unsigned cpu, uint64_t va_page, Pte current);
  // When the core frees frame `pa_page`: a message if any CPU still caches
  // a translation to it. Freeing must follow the invalidation, so this is
  // never merely pending.
  std::optional<std::string> check_freed(uint64_t pa_page) const;
  // Every cached entry of every CPU against the table (for a point where no
  // operation is in flight): the first that is not allowed any more.
  std::optional<std::string> check_all(const PteLookup& current) const;

  size_t entry_count(unsigned cpu) const { return cpus_.at(cpu).entries.size(); }
  uint64_t root(unsigned cpu) const { return cpus_.at(cpu).root; }

 private:
  struct Entry {
    uint64_t pa_page = 0;
    bool writable = false;
  };
  struct Cpu {
    uint64_t root = 0;  // 0: no address space loaded yet
    // Invariant: only translations of `root`, keyed by page address (an
    // ordered map: messages must not depend on hashing).
    std::map<uint64_t, Entry> entries;
  };

  // Why `cached` is not allowed by `current`, or nullopt when it is.
  static std::optional<std::string> mismatch(unsigned cpu, uint64_t va_page, const Entry& cached,
                                             const Pte& current);
  void drop_suspects(unsigned cpu);

  std::vector<Cpu> cpus_;
  unsigned ops_in_flight_ = 0;
  // Mismatches seen while another operation was in flight, by (cpu, va).
  std::map<std::pair<unsigned, uint64_t>, std::string> suspects_;
};

}  // namespace vmsim
