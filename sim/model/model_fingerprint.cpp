// Model::fingerprint(): SHA-256 over an unambiguous serialization of the whole
// model state, truncated to 128 bits.
//
// Objects are named by the order in which the walk first meets them (files by
// name, devices by name, then processes by name and mappings by start), never by address, so a
// copy of a model, whose objects live elsewhere but are shared the same way,
// serializes to the same bytes. An object's content is written where it is
// first met; later references write only its number.
#include <map>

#include "lib/sha256.hpp"
#include "model/model.hpp"

namespace vmsim {
namespace {

class StateHasher {
 public:
  void u64(uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    sha_.update(b, sizeof b);
  }
  // Length-prefixed, so that no two sequences of strings run together alike.
  void str(const std::string& s) {
    u64(s.size());
    sha_.update(s.data(), s.size());
  }
  void bytes(const void* p, size_t n) { sha_.update(p, n); }

  // The object's number; true if this is the first time the walk meets it.
  bool name_object(const void* obj, uint64_t* id) {
    auto [it, inserted] = ids_.try_emplace(obj, ids_.size());
    *id = it->second;
    return inserted;
  }

  std::array<uint64_t, 2> finish() {
    uint8_t out[32];
    sha_.finish(out);
    std::array<uint64_t, 2> h{};
    for (int i = 0; i < 16; ++i) h[i / 8] |= uint64_t{out[i]} << (8 * (i % 8));
    return h;
  }

 private:
  vm::Sha256 sha_;
  // Looked up by address, never iterated: numbering follows the walk's order.
  std::map<const void*, uint64_t> ids_;
};

}  // namespace

std::array<uint64_t, 2> Model::fingerprint() const {
  StateHasher h;
  auto object = [&h](const MemObject* o) {
    uint64_t id = 0;
    const bool first = h.name_object(o, &id);
    h.u64(id);
    if (!first) return;
    h.u64(o->fill);
    h.u64(o->filled.size());
    for (const auto& [first_page, end_page] : o->filled) {
      h.u64(first_page);
      h.u64(end_page);
    }
    h.u64(o->pages.size());
    for (const auto& [k, page] : o->pages) {
      h.u64(k);
      h.bytes(page.data(), page.size());
    }
  };

  h.u64(files_.size());
  for (const auto& [name, f] : files_) {
    h.str(name);
    h.u64(f.size);
    h.u64(f.initial_end);
    h.u64(f.seeded);
    h.u64(f.fill);
    h.u64(f.seed);
    object(f.cache.get());
  }
  h.u64(devices_.size());
  for (const auto& [name, d] : devices_) {
    h.str(name);
    h.u64(d.size);
    h.u64(d.seeded);
    h.u64(d.fill);
    h.u64(d.seed);
    object(d.bytes.get());
  }
  h.u64(processes_.size());
  for (const auto& [name, p] : processes_) {
    h.str(name);
    h.u64(p.privileged);
    h.u64(p.brk);
    h.u64(p.start_brk);
    h.u64(p.mappings.size());
    for (const auto& [start, m] : p.mappings) {
      h.u64(start);
      h.u64(m.end);
      h.u64(m.prot);
      h.u64(m.shared);
      h.u64(m.obj_page);
      h.str(m.file);
      h.str(m.device);
      object(m.obj.get());
    }
    h.u64(p.cache.size());
    for (const auto& [id, block] : p.cache) {
      h.u64(id);
      h.u64(block.pages);
      h.u64(block.data.size());
      for (const auto& [k, page] : block.data) {
        h.u64(k);
        h.bytes(page.data(), page.size());
      }
    }
  }
  return h.finish();
}

}  // namespace vmsim
