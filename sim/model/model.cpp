// The reference model; see model.hpp for the representation and
// docs/semantics.md for the rules each op follows.
#include "model/model.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>

#include "lib/digest_writer.hpp"

namespace vmsim {
namespace {

constexpr uint64_t kPage = kModelPageSize;

// Preconditions that the loader and the runner guarantee. Checked in every
// build: a broken one would otherwise be memory corruption (an access crossing
// a page) or a hang (stride 0), not a clean report.
void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "vmsim model: precondition failed: %s\n", what);
  std::abort();
}

constexpr bool aligned(uint64_t x) {
  return x % kPage == 0;
}
constexpr uint64_t trunc_page(uint64_t x) {
  return x - x % kPage;
}
// Callers guarantee x <= kUserTop, so this cannot overflow.
constexpr uint64_t round_page(uint64_t x) {
  return trunc_page(x + kPage - 1);
}

ModelOutcome status(vm::Status s) {
  ModelOutcome out;
  out.status = s;
  return out;
}

ModelOutcome ok_value(uint64_t value) {
  ModelOutcome out;
  out.value = value;
  return out;
}

}  // namespace

Model::Model() = default;

void Model::create_process(const std::string& name) {
  require(processes_.emplace(name, Process{}).second, "create_process of an existing process");
}

bool Model::has_process(const std::string& name) const {
  return processes_.count(name) != 0;
}

Model::Process& Model::process(const std::string& name) {
  return processes_.at(name);
}

// ---------------------------------------------------------------------------
// Range helpers

bool Model::range_free(const Process& p, uint64_t start, uint64_t end) {
  // Mappings are sorted and disjoint, so if any mapping overlaps
  // [start, end), the last one starting before `end` does: check that one.
  auto it = p.mappings.lower_bound(end);
  if (it == p.mappings.begin()) return true;
  --it;
  return it->second.end <= start;
}

std::optional<uint64_t> Model::highest_fit(const Process& p, uint64_t len) {
  // Walk the gaps from the top of the search window down; the first gap
  // that holds `len` gives the highest start (its top minus len).
  uint64_t hi = kMmapTop;  // top of the gap being looked at
  for (auto it = p.mappings.rbegin(); it != p.mappings.rend(); ++it) {
    const uint64_t m_start = it->first;
    const uint64_t m_end = it->second.end;
    if (m_start >= hi) continue;  // wholly above the window or the gap
    if (m_end <= hi && hi - m_end >= len && hi - len >= kMinMapAddr) return hi - len;
    hi = m_start;
  }
  if (hi >= kMinMapAddr && hi - kMinMapAddr >= len) return hi - len;
  return std::nullopt;
}

void Model::split_at(Process& p, uint64_t addr) {
  auto it = p.mappings.upper_bound(addr);
  if (it == p.mappings.begin()) return;
  --it;
  const uint64_t start = it->first;
  Mapping& m = it->second;
  if (!(start < addr && addr < m.end)) return;
  Mapping upper = m;  // same object, so shared memory stays one piece of memory
  upper.obj_page = m.obj_page + (addr - start) / kPage;
  m.end = addr;
  p.mappings.emplace(addr, std::move(upper));
}

void Model::unmap_range(Process& p, uint64_t start, uint64_t end) {
  split_at(p, start);
  split_at(p, end);
  auto it = p.mappings.lower_bound(start);
  while (it != p.mappings.end() && it->first < end) {
    const Mapping& m = it->second;
    if (!m.shared) {
      // A private object's pages are seen by this range only: drop them so
      // that memory does not grow with mmap/write/munmap cycles.
      const uint64_t first = m.obj_page;
      const uint64_t last = m.obj_page + (m.end - it->first) / kPage;
      m.obj->pages.erase(m.obj->pages.lower_bound(first), m.obj->pages.lower_bound(last));
    }
    it = p.mappings.erase(it);
  }
}

void Model::map_anon(Process& p, uint64_t start, uint64_t end, uint8_t prot, bool shared) {
  assert(range_free(p, start, end));
  Mapping m;
  m.end = end;
  m.prot = prot;
  m.shared = shared;
  m.obj = std::make_shared<MemObject>();
  m.obj_page = 0;
  p.mappings.emplace(start, std::move(m));
}

const Model::Mapping* Model::find_mapping(const Process& p, uint64_t addr, uint64_t* start) {
  auto it = p.mappings.upper_bound(addr);
  if (it == p.mappings.begin()) return nullptr;
  --it;
  if (addr >= it->second.end) return nullptr;
  *start = it->first;
  return &it->second;
}

// ---------------------------------------------------------------------------
// Calls

ModelOutcome Model::mmap(const std::string& proc, std::optional<uint64_t> addr, uint64_t len,
                         uint8_t prot, bool shared, bool fixed, bool /*populate*/) {
  Process& p = process(proc);
  require((prot & ~(kR | kW | kX)) == 0, "mmap prot is r/w/x bits");
  if (len == 0) return status(vm::Status::kInval);
  // kUserTop is page-aligned, so this also rejects lengths whose rounding
  // would overflow.
  if (len > kUserTop) return status(vm::Status::kNoMem);
  const uint64_t rlen = round_page(len);

  uint64_t start = 0;
  if (fixed) {
    if (!addr) return status(vm::Status::kInval);
    if (!aligned(*addr)) return status(vm::Status::kInval);
    if (*addr < kMinMapAddr) return status(vm::Status::kInval);
    if (*addr > kUserTop - rlen) return status(vm::Status::kNoMem);
    start = *addr;
    unmap_range(p, start, start + rlen);  // fixed replaces whatever was there
  } else {
    std::optional<uint64_t> chosen;
    if (addr) {
      const uint64_t hint = trunc_page(*addr);
      if (hint >= kMinMapAddr && hint <= kUserTop - rlen && range_free(p, hint, hint + rlen)) {
        chosen = hint;
      }
    }
    if (!chosen) chosen = highest_fit(p, rlen);
    if (!chosen) return status(vm::Status::kNoMem);
    start = *chosen;
  }
  map_anon(p, start, start + rlen, prot, shared);
  return ok_value(start);
}

ModelOutcome Model::munmap(const std::string& proc, uint64_t addr, uint64_t len) {
  Process& p = process(proc);
  if (!aligned(addr) || len == 0) return status(vm::Status::kInval);
  if (len > kUserTop) return status(vm::Status::kInval);
  const uint64_t rlen = round_page(len);
  if (addr > kUserTop - rlen) return status(vm::Status::kInval);
  unmap_range(p, addr, addr + rlen);
  return status(vm::Status::kOk);
}

ModelOutcome Model::mprotect(const std::string& proc, uint64_t addr, uint64_t len, uint8_t prot) {
  Process& p = process(proc);
  require((prot & ~(kR | kW | kX)) == 0, "mprotect prot is r/w/x bits");
  if (!aligned(addr)) return status(vm::Status::kInval);
  if (len == 0) return status(vm::Status::kOk);
  if (len > kUserTop) return status(vm::Status::kNoMem);
  const uint64_t rlen = round_page(len);
  if (addr > kUserTop - rlen) return status(vm::Status::kNoMem);
  const uint64_t end = addr + rlen;

  uint64_t ignored;
  if (!find_mapping(p, addr, &ignored)) return status(vm::Status::kNoMem);  // no change
  split_at(p, addr);
  split_at(p, end);
  // After the splits every mapping in the range starts and ends inside it;
  // walk them in order, as Linux does, and stop at the first hole. Pages
  // before the hole keep the new protection.
  uint64_t cur = addr;
  while (cur < end) {
    auto it = p.mappings.find(cur);
    if (it == p.mappings.end()) return status(vm::Status::kNoMem);
    it->second.prot = prot;
    cur = it->second.end;
  }
  return status(vm::Status::kOk);
}

ModelOutcome Model::madvise(const std::string& proc, uint64_t addr, uint64_t len, Advice advice) {
  Process& p = process(proc);
  if (!aligned(addr)) return status(vm::Status::kInval);
  if (len == 0) return status(vm::Status::kOk);
  if (len > kUserTop) return status(vm::Status::kNoMem);
  const uint64_t rlen = round_page(len);
  if (addr > kUserTop - rlen) return status(vm::Status::kNoMem);
  const uint64_t end = addr + rlen;

  // Apply the advice to every mapped part of [addr, end), noting holes; the
  // hole is reported only after everything mapped was advised (Linux).
  bool hole = false;
  uint64_t cur = addr;  // everything below cur is accounted for
  auto it = p.mappings.upper_bound(addr);
  if (it != p.mappings.begin() && std::prev(it)->second.end > addr) --it;
  for (; it != p.mappings.end() && it->first < end; ++it) {
    const uint64_t m_start = it->first;
    const Mapping& m = it->second;
    const uint64_t lo = std::max(m_start, addr);
    const uint64_t hi = std::min(m.end, end);
    if (lo > cur) hole = true;
    cur = hi;
    if (advice == Advice::kDontneed && !m.shared) {
      // Private anonymous pages read as zero again; shared pages keep
      // their content (the object, not the mapping, owns it).
      const uint64_t first = m.obj_page + (lo - m_start) / kPage;
      const uint64_t last = m.obj_page + (hi - m_start) / kPage;
      m.obj->pages.erase(m.obj->pages.lower_bound(first), m.obj->pages.lower_bound(last));
    }
    // kWillneed: no visible effect.
  }
  if (cur < end) hole = true;
  return status(hole ? vm::Status::kNoMem : vm::Status::kOk);
}

ModelOutcome Model::set_break(Process& p, uint64_t new_brk) {
  assert(new_brk >= kInitialBreak && new_brk <= kUserTop);
  const uint64_t old_end = round_page(p.brk);
  const uint64_t new_end = round_page(new_brk);
  if (new_end > old_end) {
    if (!range_free(p, old_end, new_end)) return status(vm::Status::kNoMem);
    map_anon(p, old_end, new_end, kR | kW, /*shared=*/false);
  } else if (new_end < old_end) {
    unmap_range(p, new_end, old_end);  // whatever is mapped there now
  }
  p.brk = new_brk;
  return status(vm::Status::kOk);
}

ModelOutcome Model::brk(const std::string& proc, uint64_t addr) {
  Process& p = process(proc);
  if (addr < kInitialBreak) return status(vm::Status::kInval);
  if (addr > kUserTop) return status(vm::Status::kNoMem);
  ModelOutcome out = set_break(p, addr);
  if (out.status == vm::Status::kOk) out.value = p.brk;
  return out;
}

ModelOutcome Model::sbrk(const std::string& proc, int64_t incr) {
  Process& p = process(proc);
  const uint64_t old_brk = p.brk;
  uint64_t new_brk;
  if (incr >= 0) {
    const uint64_t up = static_cast<uint64_t>(incr);
    if (up > std::numeric_limits<uint64_t>::max() - old_brk) return status(vm::Status::kInval);
    new_brk = old_brk + up;
  } else {
    const uint64_t down = uint64_t{0} - static_cast<uint64_t>(incr);  // |incr|, INT64_MIN too
    if (down > old_brk) return status(vm::Status::kInval);
    new_brk = old_brk - down;
  }
  if (new_brk < kInitialBreak) return status(vm::Status::kInval);
  if (new_brk > kUserTop) return status(vm::Status::kNoMem);
  ModelOutcome out = set_break(p, new_brk);
  if (out.status == vm::Status::kOk) out.value = old_brk;
  return out;
}

// ---------------------------------------------------------------------------
// Accesses

bool Model::access(Process& p, uint64_t addr, uint32_t size, bool write, uint64_t* value,
                   ModelOutcome* out) {
  require((size == 1 || size == 2 || size == 4 || size == 8) && addr % size == 0,
          "an access is 1, 2, 4 or 8 bytes, naturally aligned");
  uint64_t m_start = 0;
  const Mapping* m = addr < kUserTop ? find_mapping(p, addr, &m_start) : nullptr;
  // x86: any non-empty protection is readable; only w is writable.
  const bool allowed = m != nullptr && (write ? (m->prot & kW) != 0 : m->prot != 0);
  if (!allowed) {
    out->signal = vm::Signal::kSegv;
    out->fault_addr = addr;
    return false;
  }
  const uint64_t page = m->obj_page + (addr - m_start) / kPage;
  const uint64_t offset = addr % kPage;
  if (write) {
    Page& bytes = m->obj->pages[page];  // a new page starts all zero
    for (uint32_t i = 0; i < size; ++i) bytes[offset + i] = uint8_t(*value >> (8 * i));
  } else {
    *value = 0;
    auto it = m->obj->pages.find(page);
    if (it != m->obj->pages.end()) {
      for (uint32_t i = 0; i < size; ++i) *value |= uint64_t{it->second[offset + i]} << (8 * i);
    }
  }
  return true;
}

ModelOutcome Model::read(const std::string& proc, uint64_t addr, uint32_t size) {
  ModelOutcome out;
  uint64_t value = 0;
  if (access(process(proc), addr, size, /*write=*/false, &value, &out)) out.value = value;
  return out;
}

ModelOutcome Model::write(const std::string& proc, uint64_t addr, uint32_t size, uint64_t value) {
  ModelOutcome out;
  access(process(proc), addr, size, /*write=*/true, &value, &out);
  return out;
}

ModelOutcome Model::touch(const std::string& proc, uint64_t addr, uint64_t len, uint64_t stride,
                          bool write, uint8_t value) {
  require(stride >= 1, "touch stride >= 1");
  Process& p = process(proc);
  ModelOutcome out;
  // Offsets 0, stride, 2*stride, ... below len; counted as offsets so that
  // neither addr+len nor the step can wrap unnoticed.
  for (uint64_t off = 0; off < len;) {
    if (off > std::numeric_limits<uint64_t>::max() - addr) {
      // The address would pass 2^64: certainly not user memory.
      out.signal = vm::Signal::kSegv;
      out.fault_addr = addr + off;  // wraps, as a 64-bit register would
      return out;
    }
    uint64_t v = value;
    if (!access(p, addr + off, 1, write, &v, &out)) return out;
    ++out.steps_done;
    if (stride > len - off) break;
    off += stride;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Digest

std::string Model::digest() const {
  vm::DigestWriter w;
  for (const auto& [name, p] : processes_) {  // std::map<std::string>: bytewise order
    w.begin_process(name.c_str());
    for (const auto& [start, m] : p.mappings) {
      // Reported as stored; the writer merges adjacent equal mappings into runs.
      w.mapping(vm::DigestMapping{start, m.end, static_cast<vm::Prot>(m.prot),
                                  m.shared ? vm::Share::kShared : vm::Share::kPrivate, nullptr, 0});
    }
    w.end_mappings();
    for (const auto& [start, m] : p.mappings) {
      const uint64_t first = m.obj_page;
      const uint64_t last = m.obj_page + (m.end - start) / kPage;
      for (auto it = m.obj->pages.lower_bound(first); it != m.obj->pages.end() && it->first < last;
           ++it) {
        w.page(start + (it->first - first) * kPage, it->second.data());  // skips zero pages
      }
    }
  }
  char hex[65];
  w.finish(hex);
  return std::string(hex);
}

}  // namespace vmsim
