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
constexpr uint64_t kNoPage = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kMaxExecSegment = uint64_t{64} << 30;  // the loader's limits
constexpr uint64_t kMaxFileSize = uint64_t{4} << 30;

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

// The end of [addr, addr + len rounded up), or false when it reaches 2^64.
bool wrap_free_end(uint64_t addr, uint64_t len, uint64_t* end) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (len > kMax - (kPage - 1)) return false;  // the rounding overflows
  const uint64_t rlen = trunc_page(len + kPage - 1);
  if (rlen > kMax - addr) return false;
  *end = addr + rlen;
  return true;
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

Model::Model(const Model& other)
    : processes_(other.processes_), files_(other.files_), devices_(other.devices_) {
  // Member-wise copying shared the objects with `other`; give this model
  // its own, one copy per object, so that what was shared stays shared.
  std::map<const MemObject*, std::shared_ptr<MemObject>> copies;
  auto own = [&copies](std::shared_ptr<MemObject>& obj) {
    std::shared_ptr<MemObject>& copy = copies[obj.get()];
    if (!copy) copy = std::make_shared<MemObject>(*obj);
    obj = copy;
  };
  for (auto& [name, f] : files_) own(f.cache);
  for (auto& [name, d] : devices_) own(d.bytes);
  for (auto& [name, p] : processes_) {
    for (auto& [start, m] : p.mappings) own(m.obj);
  }
}

Model& Model::operator=(const Model& other) {
  if (this != &other) *this = Model(other);
  return *this;
}

void Model::create_process(const std::string& name, bool privileged) {
  Process p;
  p.privileged = privileged;
  require(processes_.emplace(name, std::move(p)).second, "create_process of an existing process");
}

void Model::create_device(const DeviceSpec& spec) {
  Device d;
  d.size = spec.size;
  d.seeded = spec.seeded;
  d.fill = spec.fill;
  d.seed = spec.seed;
  d.bytes = std::make_shared<MemObject>();
  require(devices_.emplace(spec.name, std::move(d)).second, "create_device of an existing device");
}

void Model::create_file(const FileSpec& spec) {
  require(spec.size <= kMaxFileSize, "file size within 4 GiB");
  File f;
  f.size = spec.size;
  f.initial_end = spec.size;
  f.seeded = spec.seeded;
  f.fill = spec.fill;
  f.seed = spec.seed;
  f.cache = std::make_shared<MemObject>();
  require(files_.emplace(spec.name, std::move(f)).second, "create_file of an existing file");
}

bool Model::has_process(const std::string& name) const {
  return processes_.count(name) != 0;
}

Model::Process& Model::process(const std::string& name) {
  return processes_.at(name);
}

// ---------------------------------------------------------------------------
// Memory objects

bool Model::MemObject::is_filled(uint64_t k) const {
  auto it = filled.upper_bound(k);
  return it != filled.begin() && k < std::prev(it)->second;
}

uint64_t Model::MemObject::next_content(uint64_t k) const {
  if (is_filled(k)) return k;
  uint64_t next = kNoPage;
  auto page = pages.lower_bound(k);
  if (page != pages.end()) next = page->first;
  auto range = filled.upper_bound(k);  // the first range starting above k
  if (range != filled.end()) next = std::min(next, range->first);
  return next;
}

void Model::MemObject::drop(uint64_t first, uint64_t last) {
  if (first >= last) return;
  pages.erase(pages.lower_bound(first), pages.lower_bound(last));
  auto it = filled.upper_bound(first);
  if (it != filled.begin()) --it;  // the range that may contain `first`
  while (it != filled.end() && it->first < last) {
    const uint64_t lo = it->first, hi = it->second;
    if (hi <= first) {
      ++it;
      continue;
    }
    it = filled.erase(it);
    if (lo < first) filled.emplace(lo, first);
    if (hi > last) filled.emplace(last, hi);  // keyed `last`: the loop stops before it
  }
}

// ---------------------------------------------------------------------------
// Content

uint64_t Model::eof_pages(const File& f) {
  return f.size / kPage + (f.size % kPage != 0 ? 1 : 0);
}

uint8_t Model::initial_byte(const File& f, uint64_t pos) {
  return image::file_content_byte(f.seeded, f.seed, f.fill, pos);
}

uint8_t Model::file_byte(const File& f, uint64_t k, uint64_t off) {
  auto it = f.cache->pages.find(k);
  if (it != f.cache->pages.end()) return it->second[off];
  const uint64_t pos = k * kPage + off;
  return pos < f.initial_end ? initial_byte(f, pos) : 0;
}

Model::Page Model::file_page(const File& f, uint64_t k) {
  auto it = f.cache->pages.find(k);
  if (it != f.cache->pages.end()) return it->second;
  Page page;
  image::file_content_fill_until(f.seeded, f.seed, f.fill, f.initial_end, k * kPage, page.data(),
                                 kPage);
  return page;
}

Model::Page Model::device_page(const Device& d, uint64_t k) {
  auto it = d.bytes->pages.find(k);
  if (it != d.bytes->pages.end()) return it->second;
  Page page;
  image::file_content_fill(d.seeded, d.seed, d.fill, k * kPage, page.data(), kPage);
  return page;
}

Model::Page Model::base_page(const Mapping& m, uint64_t k) const {
  if (!m.device.empty()) return device_page(devices_.at(m.device), k);
  if (!m.file.empty()) return file_page(file(m.file), k);
  Page page;
  page.fill(m.obj->is_filled(k) ? m.obj->fill : 0);
  return page;
}

uint8_t Model::load_byte(const Mapping& m, uint64_t k, uint64_t off) const {
  auto it = m.obj->pages.find(k);
  if (it != m.obj->pages.end()) return it->second[off];
  if (!m.device.empty()) {
    const Device& d = devices_.at(m.device);
    return image::file_content_byte(d.seeded, d.seed, d.fill, k * kPage + off);
  }
  if (!m.file.empty()) return file_byte(file(m.file), k, off);
  return m.obj->is_filled(k) ? m.obj->fill : 0;
}

Model::Page Model::load_page(const Mapping& m, uint64_t k) const {
  auto it = m.obj->pages.find(k);
  if (it != m.obj->pages.end()) return it->second;
  return base_page(m, k);
}

Model::Page& Model::store_page(const Mapping& m, uint64_t k) {
  auto it = m.obj->pages.find(k);
  if (it == m.obj->pages.end()) it = m.obj->pages.emplace(k, base_page(m, k)).first;
  return it->second;
}

bool Model::past_eof(const Mapping& m, uint64_t k) const {
  return !m.file.empty() && k >= eof_pages(file(m.file));
}

uint64_t Model::next_content(const Mapping& m, uint64_t k) const {
  if (!m.device.empty()) {
    const Device& d = devices_.at(m.device);
    if (d.seeded || d.fill != 0) return k;  // every page may hold boot content
  }
  uint64_t next = m.obj->next_content(k);
  if (!m.file.empty()) {
    const File& f = file(m.file);
    const bool initial_nonzero = f.seeded || f.fill != 0;
    if (initial_nonzero && k * kPage < f.initial_end) return k;
    auto it = f.cache->pages.lower_bound(k);
    if (it != f.cache->pages.end()) next = std::min(next, it->first);
  }
  return next;
}

void Model::zero_cache_bytes(File& f, uint64_t from, uint64_t to) {
  if (from >= to) return;
  const uint64_t k = from / kPage;
  assert(to <= (k + 1) * kPage);
  auto it = f.cache->pages.find(k);
  if (it == f.cache->pages.end()) return;  // not stored: its bytes here read zero already
  std::fill(it->second.begin() + (from - k * kPage), it->second.begin() + (to - k * kPage), 0);
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
      m.obj->drop(m.obj_page, m.obj_page + (m.end - it->first) / kPage);
    }
    it = p.mappings.erase(it);
  }
}

Model::Mapping& Model::map_anon(Process& p, uint64_t start, uint64_t end, uint8_t prot,
                                bool shared) {
  assert(range_free(p, start, end));
  Mapping m;
  m.end = end;
  m.prot = prot;
  m.shared = shared;
  m.obj = std::make_shared<MemObject>();
  m.obj_page = 0;
  return p.mappings.emplace(start, std::move(m)).first->second;
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
  return do_mmap(process(proc), addr, len, prot, shared, fixed, nullptr, 0);
}

ModelOutcome Model::mmap_file(const std::string& proc, std::optional<uint64_t> addr, uint64_t len,
                              uint8_t prot, bool shared, bool fixed, bool populate,
                              const std::string& file_name, uint64_t offset) {
  Process& p = process(proc);
  ModelOutcome out = do_mmap(p, addr, len, prot, shared, fixed, &file_name, offset);
  // Linux populates a private writable mapping with write faults, breaking
  // copy-on-write (populate_vma_page_range sets FOLL_WRITE): its pages below
  // EOF become private copies now, and later file changes stay invisible.
  if (out.status != vm::Status::kOk || !populate || shared || (prot & kW) == 0) return out;
  const Mapping& m = p.mappings.at(out.value);
  const uint64_t eof = eof_pages(file(file_name));
  for (uint64_t k = m.obj_page; k < m.obj_page + (m.end - out.value) / kPage && k < eof; ++k)
    store_page(m, k);
  return out;
}

ModelOutcome Model::do_mmap(Process& p, std::optional<uint64_t> addr, uint64_t len, uint8_t prot,
                            bool shared, bool fixed, const std::string* file_name, uint64_t offset,
                            const Device* device) {
  require((prot & ~(kR | kW | kX)) == 0, "mmap prot is r/w/x bits");
  const File* f = file_name != nullptr ? &file(*file_name) : nullptr;  // before any change
  // Linux's order: the offset's alignment first (the system call's entry),
  // the length (do_mmap), the place (get_unmapped_area: a fixed range past
  // the top before its alignment), then the offset's range (file_mmap_ok,
  // or the device's end).
  if ((f != nullptr || device != nullptr) && !aligned(offset)) return status(vm::Status::kInval);
  if (len == 0) return status(vm::Status::kInval);
  // kUserTop is page-aligned, so this also rejects lengths whose rounding
  // would overflow.
  if (len > kUserTop) return status(vm::Status::kNoMem);
  const uint64_t rlen = round_page(len);

  uint64_t start = 0;
  if (fixed) {
    const uint64_t at = addr.value_or(0);  // no addr: 0, below the minimum
    if (at > kUserTop - rlen) return status(vm::Status::kNoMem);
    if (!aligned(at) || at < kMinMapAddr) return status(vm::Status::kInval);
    start = at;
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
  if (f != nullptr && offset > kMaxFileMapEnd - rlen) return status(vm::Status::kInval);
  if (device != nullptr && (offset > device->size || rlen > device->size - offset))
    return status(vm::Status::kInval);
  if (fixed) unmap_range(p, start, start + rlen);  // fixed replaces whatever was there
  Mapping& m = map_anon(p, start, start + rlen, prot, shared);
  if (f != nullptr) {
    m.file = *file_name;
    m.obj_page = offset / kPage;
    // Shared: the file's pages themselves. Private: the fresh object keeps
    // the pages this mapping writes, over the file's.
    if (shared) m.obj = f->cache;
  }
  return ok_value(start);
}

ModelOutcome Model::mmap_device(const std::string& proc, std::optional<uint64_t> addr, uint64_t len,
                                uint8_t prot, bool fixed, const std::string& device_name,
                                uint64_t offset) {
  Process& p = process(proc);
  const Device& d = devices_.at(device_name);
  if (!p.privileged) return status(vm::Status::kPerm);  // /dev/mem's open, before all else
  ModelOutcome out = do_mmap(p, addr, len, prot, /*shared=*/true, fixed, nullptr, offset, &d);
  if (out.status != vm::Status::kOk) return out;
  Mapping& m = p.mappings.at(out.value);
  m.device = device_name;
  m.obj = d.bytes;
  m.obj_page = offset / kPage;
  return out;
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
  // Only a range that wraps past 2^64 fails before the walk (Linux has no
  // top-of-user-space check here): past the top is a hole like any other.
  uint64_t end = 0;
  if (!wrap_free_end(addr, len, &end)) return status(vm::Status::kNoMem);

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
  // A range that wraps past 2^64 is einval (Linux); past the top of user
  // space is a hole like any other.
  uint64_t end = 0;
  if (!wrap_free_end(addr, len, &end)) return status(vm::Status::kInval);

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
      // Private anonymous pages read as zero again, private file pages as
      // the file; shared pages keep their content (the object, not the
      // mapping, owns it).
      m.obj->drop(m.obj_page + (lo - m_start) / kPage, m.obj_page + (hi - m_start) / kPage);
    }
    // kWillneed, kHugepage, kNohugepage: no visible effect (large pages are
    // invisible, spec §9).
  }
  if (cur < end) hole = true;
  return status(hole ? vm::Status::kNoMem : vm::Status::kOk);
}

ModelOutcome Model::set_break(Process& p, uint64_t new_brk) {
  assert(new_brk >= p.start_brk && new_brk <= kUserTop);
  const uint64_t old_end = round_page(p.brk);
  const uint64_t new_end = round_page(new_brk);
  if (new_end > old_end) {
    // Linux keeps a free page between the heap and the next mapping.
    if (!range_free(p, old_end, new_end + kPage)) return status(vm::Status::kNoMem);
    map_anon(p, old_end, new_end, kR | kW, /*shared=*/false);
  } else if (new_end < old_end) {
    // Linux refuses a shrink that finds nothing mapped to take away.
    if (range_free(p, new_end, old_end)) return status(vm::Status::kNoMem);
    unmap_range(p, new_end, old_end);  // whatever is mapped there now
  }
  p.brk = new_brk;
  return status(vm::Status::kOk);
}

ModelOutcome Model::brk(const std::string& proc, uint64_t addr) {
  Process& p = process(proc);
  if (addr < p.start_brk) return status(vm::Status::kInval);
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
  if (new_brk < p.start_brk) return status(vm::Status::kInval);
  if (new_brk > kUserTop) return status(vm::Status::kNoMem);
  ModelOutcome out = set_break(p, new_brk);
  if (out.status == vm::Status::kOk) out.value = old_brk;
  return out;
}

// ---------------------------------------------------------------------------
// Files

void Model::resize_file(const std::string& name, File& f, uint64_t size) {
  // Bytes past the old EOF inside its last page were never part of the file.
  zero_cache_bytes(f, f.size, round_page(f.size));
  if (size < f.size) {
    // Pages wholly past the new EOF are gone, from the file and from every
    // private mapping of it (Linux zaps even private copies there), so
    // growing later shows zeros; the new last page is zero past the new EOF.
    const uint64_t keep = size / kPage + (size % kPage != 0 ? 1 : 0);
    f.cache->pages.erase(f.cache->pages.lower_bound(keep), f.cache->pages.end());
    zero_cache_bytes(f, size, round_page(size));
    f.initial_end = std::min(f.initial_end, size);
    for (auto& [proc_name, p] : processes_) {
      for (auto& [start, m] : p.mappings) {
        if (!m.shared && m.file == name) m.obj->drop(keep, kNoPage);
      }
    }
  }
  f.size = size;
}

ModelOutcome Model::pwrite(const std::string& name, uint64_t offset, uint8_t value, uint64_t len) {
  File& f = files_.at(name);
  if (len == 0) return status(vm::Status::kOk);
  require(len <= std::numeric_limits<uint64_t>::max() - offset, "pwrite offset + len fits");
  const uint64_t end = offset + len;
  require(end <= kMaxFileSize, "pwrite ends within 4 GiB");
  if (end > f.size) resize_file(name, f, end);
  for (uint64_t pos = offset; pos < end;) {
    const uint64_t k = pos / kPage;
    const uint64_t off = pos % kPage;
    const uint64_t n = std::min(kPage - off, end - pos);
    auto it = f.cache->pages.find(k);
    if (it == f.cache->pages.end()) it = f.cache->pages.emplace(k, file_page(f, k)).first;
    std::fill(it->second.begin() + off, it->second.begin() + off + n, value);
    pos += n;
  }
  return status(vm::Status::kOk);
}

ModelOutcome Model::truncate(const std::string& name, uint64_t size) {
  File& f = files_.at(name);
  require(size <= kMaxFileSize, "truncate size within 4 GiB");
  if (size != f.size) resize_file(name, f, size);  // the same size: nothing changes
  return status(vm::Status::kOk);
}

// ---------------------------------------------------------------------------
// Processes

ModelOutcome Model::fork(const std::string& parent, const std::string& child) {
  require(!has_process(child), "fork to an existing process");
  Process copy = process(parent);  // shares every object, for now
  copy.cache.clear();              // blocks are the parent's
  // Private objects get a copy each (split pieces of one mapping keep
  // sharing their one copy); shared objects (devices too) stay shared; the
  // privilege is inherited with the rest.
  std::map<const MemObject*, std::shared_ptr<MemObject>> copies;
  for (auto& [start, m] : copy.mappings) {
    if (m.shared) continue;
    std::shared_ptr<MemObject>& obj = copies[m.obj.get()];
    if (!obj) obj = std::make_shared<MemObject>(*m.obj);
    m.obj = obj;
  }
  processes_.emplace(child, std::move(copy));
  return status(vm::Status::kOk);
}

ModelOutcome Model::exec(const std::string& proc, uint64_t text, uint64_t data, uint64_t bss,
                         uint64_t stack) {
  Process& p = process(proc);
  require(text <= kMaxExecSegment && data <= kMaxExecSegment && bss <= kMaxExecSegment &&
              stack <= kMaxExecSegment,
          "exec segments are at most 64 GiB");
  unmap_range(p, 0, kUserTop);
  uint64_t at = kExecText;
  auto segment = [&](uint64_t size, uint8_t prot, uint8_t fill) {
    const uint64_t len = round_page(size);
    if (len == 0) return;  // absent
    Mapping& m = map_anon(p, at, at + len, prot, /*shared=*/false);
    if (fill != 0) {
      m.obj->fill = fill;
      m.obj->filled.emplace(0, len / kPage);
    }
    at += len;
  };
  segment(text, kR | kX, kExecTextByte);
  segment(data, kR | kW, kExecDataByte);
  segment(bss, kR | kW, 0);
  p.start_brk = at;
  p.brk = at;
  const uint64_t stack_len = round_page(stack);
  if (stack_len != 0) map_anon(p, kUserTop - stack_len, kUserTop, kR | kW, /*shared=*/false);
  return status(vm::Status::kOk);
}

ModelOutcome Model::exec_fails_out_of_memory(const std::string& proc) {
  process(proc);  // must exist, like every op's process
  return status(vm::Status::kNoMem);
}

ModelOutcome Model::exit(const std::string& proc) {
  process(proc);
  processes_.erase(proc);
  return status(vm::Status::kOk);
}

ModelOutcome Model::oom_kill(const std::string& proc) {
  processes_.erase(proc);  // nothing left to do when another of its threads was killed first
  ModelOutcome out;
  out.signal = vm::Signal::kOom;
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
  const uint64_t k = m->obj_page + (addr - m_start) / kPage;
  if (past_eof(*m, k)) {  // after the protection check, as on Linux
    out->signal = vm::Signal::kBus;
    out->fault_addr = addr;
    return false;
  }
  const uint64_t offset = addr % kPage;
  if (write) {
    Page& bytes = store_page(*m, k);
    for (uint32_t i = 0; i < size; ++i) bytes[offset + i] = uint8_t(*value >> (8 * i));
  } else {
    *value = 0;
    for (uint32_t i = 0; i < size; ++i) *value |= uint64_t{load_byte(*m, k, offset + i)} << (8 * i);
  }
  return true;
}

vm::Status Model::check_block_range(const Process& p, uint64_t addr, uint64_t end) {
  uint64_t cur = addr;
  while (cur < end) {
    uint64_t start = 0;
    const Mapping* m = find_mapping(p, cur, &start);
    if (m == nullptr) return vm::Status::kFault;
    if (m->shared || !m->file.empty()) return vm::Status::kInval;
    if (!(m->prot & kW)) return vm::Status::kFault;
    cur = m->end;
  }
  return vm::Status::kOk;
}

ModelOutcome Model::cache_put(const std::string& proc, uint64_t id, uint64_t addr, uint64_t len) {
  Process& p = process(proc);
  uint64_t end = 0;
  if (!aligned(addr) || len == 0 || !wrap_free_end(addr, len, &end))
    return status(vm::Status::kInval);
  if (vm::Status s = check_block_range(p, addr, end); s != vm::Status::kOk) return status(s);
  Block block;
  block.pages = (end - addr) / kPage;
  for (uint64_t va = addr; va < end; va += kPage) {
    uint64_t start = 0;
    const Mapping& m = *find_mapping(p, va, &start);
    const uint64_t k = m.obj_page + (va - start) / kPage;
    if (m.obj->next_content(k) != k) continue;  // neither stored nor filled: zero
    const Page bytes = load_page(m, k);
    if (std::any_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b != 0; }))
      block.data.emplace((va - addr) / kPage, bytes);
  }
  // The range reads zero afterwards, as after madvise dontneed.
  for (uint64_t va = addr; va < end; va += kPage) {
    uint64_t start = 0;
    const Mapping& m = *find_mapping(p, va, &start);
    const uint64_t k = m.obj_page + (va - start) / kPage;
    m.obj->drop(k, k + 1);
  }
  p.cache[id] = std::move(block);
  return status(vm::Status::kOk);
}

ModelOutcome Model::cache_get(const std::string& proc, uint64_t id, uint64_t addr, bool forgotten) {
  Process& p = process(proc);
  auto found = p.cache.find(id);
  if (found == p.cache.end()) return status(vm::Status::kMiss);
  if (forgotten) {
    p.cache.erase(found);
    return status(vm::Status::kMiss);
  }
  const Block& block = found->second;
  uint64_t end = 0;
  if (!aligned(addr) || !wrap_free_end(addr, block.pages * kPage, &end))
    return status(vm::Status::kInval);
  if (vm::Status s = check_block_range(p, addr, end); s != vm::Status::kOk) return status(s);
  for (uint64_t va = addr; va < end; va += kPage) {
    uint64_t start = 0;
    const Mapping& m = *find_mapping(p, va, &start);
    const uint64_t k = m.obj_page + (va - start) / kPage;
    m.obj->drop(k, k + 1);
    auto data = block.data.find((va - addr) / kPage);
    if (data != block.data.end()) m.obj->pages[k] = data->second;
  }
  p.cache.erase(found);
  return status(vm::Status::kHit);
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

ModelOutcome Model::poke(const std::string& target_proc, uint64_t addr, uint32_t size,
                         uint64_t value) {
  require((size == 1 || size == 2 || size == 4 || size == 8) && addr % size == 0,
          "a poke is 1, 2, 4 or 8 bytes, naturally aligned");
  Process& p = process(target_proc);
  uint64_t m_start = 0;
  const Mapping* m = addr < kUserTop ? find_mapping(p, addr, &m_start) : nullptr;
  // The kernel does not write device memory for a tracer (Linux refuses
  // VM_IO | VM_PFNMAP in /proc/PID/mem and ptrace).
  if (m == nullptr || !m->device.empty()) return status(vm::Status::kFault);
  // The kernel writes a private mapping whatever its protection (into the
  // process's own copy), a shared one only if it is writable.
  if (m->shared && (m->prot & kW) == 0) return status(vm::Status::kFault);
  const uint64_t k = m->obj_page + (addr - m_start) / kPage;
  if (past_eof(*m, k)) return status(vm::Status::kFault);
  Page& bytes = store_page(*m, k);
  for (uint32_t i = 0; i < size; ++i) bytes[addr % kPage + i] = uint8_t(value >> (8 * i));
  return status(vm::Status::kOk);
}

// ---------------------------------------------------------------------------
// Digest

std::string Model::digest() const {
  vm::DigestWriter w;
  for (const auto& [name, p] : processes_) {  // std::map<std::string>: bytewise order
    w.begin_process(name.c_str());
    for (const auto& [start, m] : p.mappings) {
      // Reported as stored; the writer merges adjacent equal mappings into runs.
      const bool is_file = !m.file.empty();
      const bool is_device = !m.device.empty();
      w.mapping(vm::DigestMapping{
          start, m.end, static_cast<vm::Prot>(m.prot),
          m.shared ? vm::Share::kShared : vm::Share::kPrivate, is_file ? m.file.c_str() : nullptr,
          is_file || is_device ? m.obj_page * kPage : 0, is_device ? m.device.c_str() : nullptr});
    }
    w.end_mappings();
    for (const auto& [start, m] : p.mappings) {
      const uint64_t first = m.obj_page;
      uint64_t last = m.obj_page + (m.end - start) / kPage;
      if (!m.file.empty()) last = std::min(last, eof_pages(file(m.file)));  // none past EOF
      for (uint64_t k = next_content(m, first); k < last; k = next_content(m, k + 1)) {
        const Page bytes = load_page(m, k);
        w.page(start + (k - first) * kPage, bytes.data());  // skips zero pages
      }
    }
  }
  for (const auto& [name, f] : files_) {
    w.file(name.c_str(), f.size);
    const bool initial_nonzero = f.seeded || f.fill != 0;
    const uint64_t pages = eof_pages(f);
    for (uint64_t k = 0; k < pages; ++k) {
      if (!(initial_nonzero && k * kPage < f.initial_end)) {
        auto it = f.cache->pages.lower_bound(k);  // skip to the next stored page
        if (it == f.cache->pages.end() || it->first >= pages) break;
        k = it->first;
      }
      Page bytes = file_page(f, k);
      if (f.size - k * kPage < kPage) {  // the last, partial page: zero past EOF
        std::fill(bytes.begin() + (f.size - k * kPage), bytes.end(), 0);
      }
      w.file_page(k * kPage, bytes.data());  // skips zero pages
    }
  }
  for (const auto& [name, d] : devices_) {
    w.device(name.c_str(), d.size);
    for (uint64_t k = 0; k < d.size / kPage; ++k) {
      if (!(d.seeded || d.fill != 0)) {
        auto it = d.bytes->pages.lower_bound(k);  // skip to the next written page
        if (it == d.bytes->pages.end()) break;
        k = it->first;
      }
      w.device_page(k * kPage, device_page(d, k).data());  // skips zero pages
    }
  }
  char hex[65];
  w.finish(hex);
  return std::string(hex);
}

}  // namespace vmsim
