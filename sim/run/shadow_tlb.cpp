#include "run/shadow_tlb.hpp"

#include <cinttypes>
#include <cstdio>

namespace vmsim {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

const char* rights(bool writable) {
  return writable ? "writable" : "read-only";
}

}  // namespace

ShadowTlb::ShadowTlb(unsigned cpus) : cpus_(cpus) {}

void ShadowTlb::load_root(unsigned cpu, uint64_t root) {
  Cpu& c = cpus_.at(cpu);
  if (c.root == root) return;
  c.root = root;
  c.entries.clear();
  drop_suspects(cpu);
}

void ShadowTlb::record(unsigned cpu, uint64_t va_page, uint64_t pa_page, bool writable) {
  auto [it, inserted] = cpus_.at(cpu).entries.try_emplace(va_page, Entry{pa_page, writable});
  if (!inserted && it->second.pa_page == pa_page) it->second.writable |= writable;
}

void ShadowTlb::invalidate_page(unsigned cpu, uint64_t va_page) {
  cpus_.at(cpu).entries.erase(va_page);
  suspects_.erase({cpu, va_page});
}

void ShadowTlb::invalidate_all(unsigned cpu) {
  cpus_.at(cpu).entries.clear();
  drop_suspects(cpu);
}

void ShadowTlb::drop_suspects(unsigned cpu) {
  suspects_.erase(suspects_.lower_bound({cpu, 0}), suspects_.lower_bound({cpu + 1, 0}));
}

void ShadowTlb::op_started() {
  ++ops_in_flight_;
}

std::optional<std::string> ShadowTlb::op_finished() {
  if (ops_in_flight_ > 0) --ops_in_flight_;
  if (ops_in_flight_ > 0 || suspects_.empty()) return std::nullopt;
  std::string message = suspects_.begin()->second +
                        " (no invalidation came before every "
                        "operation in flight had finished)";
  suspects_.clear();
  return message;
}

std::optional<std::string> ShadowTlb::mismatch(unsigned cpu, uint64_t va_page, const Entry& cached,
                                               const Pte& current) {
  std::string now;
  if (!current) {
    now = "the page table has no entry for it";
  } else if (current->first != cached.pa_page) {
    now = "the page table maps it to pa " + hex(current->first) + " (" + rights(current->second) +
          ")";
  } else if (cached.writable && !current->second) {
    now = "the page table maps it read-only";
  } else {
    return std::nullopt;
  }
  return "CPU " + std::to_string(cpu) + " caches va " + hex(va_page) + " -> pa " +
         hex(cached.pa_page) + " (" + rights(cached.writable) + "), but " + now;
}

std::optional<std::string> ShadowTlb::check_access(unsigned cpu, uint64_t va_page, Pte current) {
  const Cpu& c = cpus_.at(cpu);
  auto it = c.entries.find(va_page);
  if (it == c.entries.end()) return std::nullopt;
  std::optional<std::string> why = mismatch(cpu, va_page, it->second, current);
  if (!why) return std::nullopt;
  // The accessing operation itself is one of those in flight.
  if (ops_in_flight_ <= 1) return why;
  suspects_.try_emplace({cpu, va_page}, std::move(*why));
  return std::nullopt;
}

std::optional<std::string> ShadowTlb::check_freed(uint64_t pa_page) const {
  for (unsigned cpu = 0; cpu < cpus_.size(); ++cpu) {
    for (const auto& [va, e] : cpus_[cpu].entries) {
      if (e.pa_page != pa_page) continue;
      return "frame pa " + hex(pa_page) + " was freed while CPU " + std::to_string(cpu) +
             " still caches va " + hex(va) + " -> it (" + rights(e.writable) + ")";
    }
  }
  return std::nullopt;
}

std::optional<std::string> ShadowTlb::check_all(const PteLookup& current) const {
  for (unsigned cpu = 0; cpu < cpus_.size(); ++cpu) {
    const Cpu& c = cpus_[cpu];
    for (const auto& [va, e] : c.entries) {
      if (auto why = mismatch(cpu, va, e, current(c.root, va))) return why;
    }
  }
  return std::nullopt;
}

}  // namespace vmsim
