#include "run/shadow_tlb.hpp"

#include <cinttypes>
#include <cstdio>

namespace vmsim {
namespace {

constexpr uint64_t kPageMask = 0xfff;
constexpr uint64_t kLargeSize = uint64_t{1} << 21;
constexpr uint64_t kLargeMask = kLargeSize - 1;

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
  c.large.clear();
  drop_suspects(cpu);
}

void ShadowTlb::record(unsigned cpu, uint64_t va_page, uint64_t pa_page, bool writable,
                       bool large) {
  Cpu& c = cpus_.at(cpu);
  const uint64_t base = va_page & ~kLargeMask;
  if (large) {
    const uint64_t pa_base = pa_page - (va_page - base);
    auto [it, inserted] = c.large.try_emplace(base, Entry{pa_base, writable});
    if (!inserted && it->second.pa_page == pa_base) it->second.writable |= writable;
    return;
  }
  if (c.large.count(base) != 0) return;  // the access went through the 2 MiB entry
  auto [it, inserted] = c.entries.try_emplace(va_page, Entry{pa_page, writable});
  if (!inserted && it->second.pa_page == pa_page) it->second.writable |= writable;
}

// x86's invlpg drops every TLB entry of the page that contains `va`,
// whatever its size (SDM vol. 3 4.10.4.1), so one address anywhere in a
// 2 MiB page drops its 2 MiB entry.
void ShadowTlb::invalidate_page(unsigned cpu, uint64_t va) {
  const uint64_t page = va & ~kPageMask;
  const uint64_t base = va & ~kLargeMask;
  cpus_.at(cpu).entries.erase(page);
  cpus_.at(cpu).large.erase(base);
  suspects_.erase({cpu, false, page});
  suspects_.erase({cpu, true, base});
}

void ShadowTlb::invalidate_all(unsigned cpu) {
  cpus_.at(cpu).entries.clear();
  cpus_.at(cpu).large.clear();
  drop_suspects(cpu);
}

void ShadowTlb::drop_suspects(unsigned cpu) {
  suspects_.erase(suspects_.lower_bound({cpu, false, 0}),
                  suspects_.lower_bound({cpu + 1, false, 0}));
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

std::vector<ShadowTlb::Cached> ShadowTlb::cached(unsigned cpu, uint64_t va_page) const {
  const Cpu& c = cpus_.at(cpu);
  std::vector<Cached> out;
  if (auto it = c.entries.find(va_page); it != c.entries.end())
    out.push_back({va_page, false, it->second});
  const uint64_t base = va_page & ~kLargeMask;
  if (auto it = c.large.find(base); it != c.large.end())
    out.push_back({base, true, Entry{it->second.pa_page + (va_page - base), it->second.writable}});
  return out;
}

namespace {

std::string describe(unsigned cpu, uint64_t va_page, uint64_t key, bool large, uint64_t pa,
                     bool writable) {
  std::string s = "CPU " + std::to_string(cpu) + " caches va " + hex(va_page) + " -> pa " +
                  hex(pa) + " (" + rights(writable);
  if (large) s += ", through its 2 MiB entry of va " + hex(key);
  return s + ")";
}

}  // namespace

std::optional<std::string> ShadowTlb::mismatch(unsigned cpu, uint64_t va_page, const Cached& cached,
                                               const Pte& current) {
  std::string now;
  if (!current) {
    now = "the page table has no entry for it";
  } else if (current->first != cached.page.pa_page) {
    now = "the page table maps it to pa " + hex(current->first) + " (" + rights(current->second) +
          ")";
  } else if (cached.page.writable && !current->second) {
    now = "the page table maps it read-only";
  } else {
    return std::nullopt;
  }
  return describe(cpu, va_page, cached.key, cached.large, cached.page.pa_page,
                  cached.page.writable) +
         ", but " + now;
}

std::optional<std::string> ShadowTlb::other_size(unsigned cpu, uint64_t va_page,
                                                 const Cached& cached, const Pte& current,
                                                 bool current_large) {
  if (!current || cached.large == current_large) return std::nullopt;
  return describe(cpu, va_page, cached.key, cached.large, cached.page.pa_page,
                  cached.page.writable) +
         ", but the page table maps it with a " + (current_large ? "2 MiB" : "4 KiB") +
         " entry now, and no invalidation came between the page-size change and this access: "
         "the CPU may hold translations of both sizes for one address (Intel SDM vol. 3 "
         "4.10.2.3; a machine check under AMD erratum 383)";
}

std::optional<std::string> ShadowTlb::check_access(unsigned cpu, uint64_t va_page, Pte current,
                                                   bool current_large) {
  for (const Cached& c : cached(cpu, va_page)) {
    if (std::optional<std::string> why = mismatch(cpu, va_page, c, current)) {
      // The accessing operation itself is one of those in flight.
      if (ops_in_flight_ <= 1) return why;
      suspects_.try_emplace({cpu, c.large, c.key}, std::move(*why));
      continue;
    }
    if (std::optional<std::string> why = other_size(cpu, va_page, c, current, current_large))
      return why;
  }
  return std::nullopt;
}

std::optional<std::string> ShadowTlb::check_freed(uint64_t pa_page) const {
  for (unsigned cpu = 0; cpu < cpus_.size(); ++cpu) {
    for (const auto& [va, e] : cpus_[cpu].entries) {
      if (e.pa_page != pa_page) continue;
      return "frame pa " + hex(pa_page) + " was freed while CPU " + std::to_string(cpu) +
             " still caches va " + hex(va) + " -> it (" + rights(e.writable) + ")";
    }
    for (const auto& [base, e] : cpus_[cpu].large) {
      if (pa_page < e.pa_page || pa_page - e.pa_page >= kLargeSize) continue;
      return "frame pa " + hex(pa_page) + " was freed while CPU " + std::to_string(cpu) +
             " still caches va " + hex(base + (pa_page - e.pa_page)) + " -> it (" +
             rights(e.writable) + ", through its 2 MiB entry of va " + hex(base) + ")";
    }
  }
  return std::nullopt;
}

std::optional<std::string> ShadowTlb::check_all(const PteLookup& current,
                                                const LargeLookup& large) const {
  for (unsigned cpu = 0; cpu < cpus_.size(); ++cpu) {
    const Cpu& c = cpus_[cpu];
    std::vector<uint64_t> pages;
    for (const auto& [va, e] : c.entries) pages.push_back(va);
    for (const auto& [base, e] : c.large)
      for (uint64_t off = 0; off < kLargeSize; off += kPageMask + 1) pages.push_back(base + off);
    for (uint64_t va : pages) {
      const Pte now = current(c.root, va);
      const bool now_large = large != nullptr && large(c.root, va);
      for (const Cached& e : cached(cpu, va)) {
        if (auto why = mismatch(cpu, va, e, now)) return why;
        if (auto why = other_size(cpu, va, e, now, now_large)) return why;
      }
    }
  }
  return std::nullopt;
}

}  // namespace vmsim
