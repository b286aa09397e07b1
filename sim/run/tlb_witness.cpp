#include "run/tlb_witness.hpp"

namespace vmsim {

TlbWitness::TlbWitness(replay::Replay& replay, unsigned cpus)
    : replay_(replay), cpus_(cpus), shadow_(cpus), pages_(replay.thread_count()) {}

std::vector<uint64_t> access_pages(const replay::UserAccess& a) {
  std::vector<uint64_t> pages;
  for (uint64_t i = 0; i < a.count; ++i) {
    const uint64_t page = (a.addr + i * a.stride) & ~uint64_t{vm::kPageMask};
    if (pages.empty() || pages.back() != page) pages.push_back(page);
  }
  return pages;
}

void TlbWitness::op_begin(size_t, size_t, uint64_t) {
  shadow_.op_started();
}

void TlbWitness::op_end(size_t, size_t, const replay::Outcome&) {
  if (std::optional<std::string> why = shadow_.op_finished()) stale(*why);
}

bool TlbWitness::access_begin(size_t thread, vm::AddressSpace& as, const replay::UserAccess& a) {
  pages_[thread] = access_pages(a);
  return check(thread, as);
}

// Others ran while the access was stopped in a fault: what this CPU caches
// may have been invalidated, or should have been.
bool TlbWitness::access_resumed(size_t thread, vm::AddressSpace& as, const replay::UserAccess&) {
  return check(thread, as);
}

// Before an access goes on: no page it touches may go through a translation
// its CPU should no longer hold.
bool TlbWitness::check(size_t thread, vm::AddressSpace& as) {
  const unsigned cpu = replay_.thread(thread).spec->cpu;
  // A CPU that runs another address space now caches none of this one's
  // translations: the CR3 load before the access drops them.
  if (shadow_.entry_count(cpu) == 0 || shadow_.root(cpu) != as.pmap.root()) return true;
  for (uint64_t page : pages_[thread]) {
    if (page >= vm::kUserTop) break;
    vm::paddr_t pa = 0;
    vm::PteAttrs attrs;
    ShadowTlb::Pte now;
    if (as.pmap.extract(page, &pa, &attrs))
      now = std::make_pair(vm::page_trunc(pa), attrs.writable);
    const bool large = as.pmap.large_at(page);
    if (std::optional<std::string> why = shadow_.check_access(cpu, page, now, large)) {
      stale(*why);
      return false;
    }
  }
  return true;
}

// After an access completed: its CPU now caches the translations it used, a
// page of a 2 MiB entry as that whole entry.
void TlbWitness::access_done(size_t thread, vm::AddressSpace& as, const replay::UserAccess&) {
  const unsigned cpu = replay_.thread(thread).spec->cpu;
  for (uint64_t page : pages_[thread]) {
    if (page >= vm::kUserTop) break;
    vm::paddr_t pa = 0;
    vm::PteAttrs attrs;
    if (!as.pmap.extract(page, &pa, &attrs)) continue;
    shadow_.record(cpu, page, vm::page_trunc(pa), attrs.writable, as.pmap.large_at(page));
  }
}

void TlbWitness::invalidated(vm::CpuSet cpus, uint64_t root, std::optional<uint64_t> va) {
  for (unsigned cpu = 0; cpu < cpus_; ++cpu) {
    if (!cpus.has(cpu) || shadow_.root(cpu) != root) continue;
    if (va) {
      shadow_.invalidate_page(cpu, *va);
    } else {
      shadow_.invalidate_all(cpu);
    }
  }
}

void TlbWitness::frame_freed(uint64_t pa) {
  if (std::optional<std::string> why = shadow_.check_freed(pa)) stale(*why);
}

// A translation that should be gone was used or outlived its frame: the run
// ends, since whatever follows reads memory it should not.
void TlbWitness::stale(const std::string& message) {
  if (replay_.aborted()) return;
  replay_.abort();
  const long t = replay_.running();
  replay_.add_violation("stale-tlb", message.c_str(), t,
                        t >= 0 ? static_cast<long>(replay_.thread(t).next_op) : -1);
}

}  // namespace vmsim
