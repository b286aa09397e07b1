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
//
// Entries are 4 KiB or 2 MiB, as on x86: a walk through a PS page-directory
// entry caches one 2 MiB entry; an invlpg of any address inside it drops it;
// a CPU may keep it after the entry became a page table, until an
// invalidation covers it. What the hardware forbids is also reported: a CPU
// that may hold a translation of one size reaching a page the table now maps
// with the other size (it may use either, or hold both: Intel SDM vol. 3
// 4.10.2.3, AMD family 10h erratum 383).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
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
  // Whether a 2 MiB entry (a PS page-directory entry) maps `va_page` there.
  using LargeLookup = std::function<bool(uint64_t root, uint64_t va_page)>;

  explicit ShadowTlb(unsigned cpus);

  // A CR3 load. Without PCIDs and global user pages, loading another root
  // drops every user translation of that CPU; loading the same one keeps them.
  void load_root(unsigned cpu, uint64_t root);
  // A user access completed on `cpu` through the translation va → pa (the
  // PTE as walked after it; `large`: a 2 MiB entry, cached as one entry for
  // its whole 2 MiB). A cached entry of another frame is kept, and so is a
  // cached 2 MiB entry over the page: the CPU used it and did not walk; one
  // of the same frame widens its rights (a write after a read refills the
  // entry after the permission fault).
  void record(unsigned cpu, uint64_t va_page, uint64_t pa_page, bool writable, bool large = false);
  // An invlpg of `va`: its 4 KiB entry and the 2 MiB entry around it go.
  void invalidate_page(unsigned cpu, uint64_t va);
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
  // translation the table (`current`, a 2 MiB entry if `current_large`) no
  // longer allows and no other operation is in flight; with others in
  // flight, the mismatch is suspected until the next invalidation of that
  // entry on that CPU or op_finished(). A cached entry the table allows but
  // with the other page size is reported at once: no invalidation that comes
  // later can undo a walk the CPU may make now.
  std::optional<std::string> check_access(unsigned cpu, uint64_t va_page, Pte current,
                                          bool current_large = false);
  // When the core frees frame `pa_page`: a message if any CPU still caches
  // a translation to it. Freeing must follow the invalidation, so this is
  // never merely pending.
  std::optional<std::string> check_freed(uint64_t pa_page) const;
  // Every cached entry of every CPU against the table (for a point where no
  // operation is in flight): the first that is not allowed any more.
  // (`large`, if given, says which pages a 2 MiB entry maps; else none.)
  std::optional<std::string> check_all(const PteLookup& current,
                                       const LargeLookup& large = nullptr) const;

  size_t entry_count(unsigned cpu) const {
    return cpus_.at(cpu).entries.size() + cpus_.at(cpu).large.size();
  }
  uint64_t root(unsigned cpu) const { return cpus_.at(cpu).root; }

 private:
  struct Entry {
    uint64_t pa_page = 0;  // a 2 MiB entry: its first frame
    bool writable = false;
  };
  struct Cpu {
    uint64_t root = 0;  // 0: no address space loaded yet
    // Invariant: only translations of `root`, keyed by page address (4 KiB
    // entries) or 2 MiB-aligned address (2 MiB entries); ordered maps:
    // messages must not depend on hashing.
    std::map<uint64_t, Entry> entries;
    std::map<uint64_t, Entry> large;
  };
  // What one cached entry says of one page.
  struct Cached {
    uint64_t key;  // the entry's address: the page, or its 2 MiB
    bool large;
    Entry page;  // the page's frame and rights through it
  };

  // The entries `cpu` caches over `va_page`: its 4 KiB entry, then the 2 MiB
  // entry around it.
  std::vector<Cached> cached(unsigned cpu, uint64_t va_page) const;
  // Why `cached` is not allowed by `current`, or nullopt when it is.
  static std::optional<std::string> mismatch(unsigned cpu, uint64_t va_page, const Cached& cached,
                                             const Pte& current);
  // Why `cached`, allowed by `current`, has the wrong size, or nullopt.
  static std::optional<std::string> other_size(unsigned cpu, uint64_t va_page, const Cached& cached,
                                               const Pte& current, bool current_large);
  void drop_suspects(unsigned cpu);

  std::vector<Cpu> cpus_;
  unsigned ops_in_flight_ = 0;
  // Mismatches seen while another operation was in flight, by (cpu, 2 MiB
  // entry?, entry address): the invalidation that drops the entry clears them.
  std::map<std::tuple<unsigned, bool, uint64_t>, std::string> suspects_;
};

}  // namespace vmsim
