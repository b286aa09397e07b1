// Cross-check of the model's objects (files, file mappings, fork, exec,
// exit, poke, pwrite, truncate, together with the first milestone's ops)
// against a second, even plainer implementation that keeps one entry per
// mapped page and one flat byte vector per file. Random ops from fixed seeds
// over several processes, confined to small windows of the address space so
// that mappings, holes, the heap and exec's image keep running into each
// other, and to small files so that EOF moves across mapped pages.
#include <gtest/gtest.h>

#include "model_test_util.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "lib/digest_writer.hpp"
#include "model/model.hpp"

namespace vmsim {
namespace {

using modeltest::ExpectSame;

using vm::Signal;
using vm::Status;

constexpr uint64_t kP = 4096;
using Bytes = std::array<uint8_t, kP>;

uint64_t Round(uint64_t x) {
  return (x + kP - 1) / kP * kP;
}
ModelOutcome St(Status s) {
  ModelOutcome o;
  o.status = s;
  return o;
}
ModelOutcome Sig(Signal s, uint64_t addr) {
  ModelOutcome o;
  o.signal = s;
  o.fault_addr = addr;
  return o;
}

// Every process: one entry per mapped page. A page holds its bytes through
// a pointer of its own: anonymous pages always (shared ones share the pointer
// across fork), private file pages once written (null: the file's page),
// shared file pages never (the file's bytes are the page).
class PageWorld {
 public:
  void create_file(const FileSpec& spec) {
    File f;
    f.size = spec.size;
    f.bytes.assign(Round(spec.size), 0);
    for (uint64_t i = 0; i < spec.size; ++i) {
      f.bytes[i] = initial_byte(spec, i);
    }
    files_[spec.name] = std::move(f);
  }
  void create_process(const std::string& name) { procs_[name] = Proc{}; }

  ModelOutcome mmap(const std::string& proc, std::optional<uint64_t> addr, uint64_t len,
                    uint8_t prot, bool shared, bool fixed, const std::string& file, uint64_t offset,
                    bool populate = false) {
    Proc& p = procs_.at(proc);
    if (!file.empty() && offset % kP != 0) return St(Status::kInval);  // Linux: first
    if (len == 0) return St(Status::kInval);
    const uint64_t rlen = Round(len);
    if (fixed) {
      if (*addr + rlen > kUserTop) return St(Status::kNoMem);  // before the alignment
      if (*addr % kP != 0 || *addr < kMinMapAddr) return St(Status::kInval);
    }
    uint64_t start;
    if (fixed) {
      start = *addr;
    } else {
      std::optional<uint64_t> chosen;
      if (addr) {
        const uint64_t hint = *addr / kP * kP;
        if (hint >= kMinMapAddr && hint + rlen <= kUserTop && Free(p, hint, hint + rlen)) {
          chosen = hint;
        }
      }
      for (uint64_t s = kMmapTop - rlen; !chosen; s -= kP) {
        if (Free(p, s, s + rlen)) chosen = s;
      }
      start = *chosen;
    }
    // Populating a private writable file mapping breaks copy-on-write for
    // its pages below EOF, as Linux does.
    const bool copy_now = populate && !shared && (prot & kW) != 0 && !file.empty();
    for (uint64_t i = 0; i < rlen / kP; ++i) {
      Page page{prot, shared, file, offset / kP + i, nullptr};
      if (file.empty()) page.bytes = std::make_shared<Bytes>(Bytes{});
      if (copy_now && page.fpage * kP < files_.at(file).size) Writable(page, 0);
      p.pages[start + i * kP] = page;
    }
    ModelOutcome o;
    o.value = start;
    return o;
  }

  ModelOutcome munmap(const std::string& proc, uint64_t addr, uint64_t len) {
    Proc& p = procs_.at(proc);
    if (addr % kP != 0 || len == 0) return St(Status::kInval);
    if (addr + Round(len) > kUserTop) return St(Status::kInval);
    for (uint64_t va = addr; va < addr + Round(len); va += kP) p.pages.erase(va);
    return St(Status::kOk);
  }

  ModelOutcome mprotect(const std::string& proc, uint64_t addr, uint64_t len, uint8_t prot) {
    Proc& p = procs_.at(proc);
    if (addr % kP != 0) return St(Status::kInval);
    // No top check (Linux): nothing is mapped past the top, a hole there.
    for (uint64_t va = addr; va < addr + Round(len); va += kP) {
      auto it = p.pages.find(va);
      if (it == p.pages.end()) return St(Status::kNoMem);
      it->second.prot = prot;
    }
    return St(Status::kOk);
  }

  ModelOutcome madvise(const std::string& proc, uint64_t addr, uint64_t len, Advice advice) {
    Proc& p = procs_.at(proc);
    if (addr % kP != 0) return St(Status::kInval);
    // Past the top is a hole like any other (Linux).
    const uint64_t end = addr + Round(len);
    bool hole = end > kUserTop;
    for (uint64_t va = addr; va < std::min(end, kUserTop); va += kP) {
      auto it = p.pages.find(va);
      if (it == p.pages.end()) {
        hole = true;
      } else if (advice == Advice::kDontneed && !it->second.shared) {
        Page& page = it->second;
        if (page.file.empty()) {
          page.bytes = std::make_shared<Bytes>(Bytes{});
        } else {
          page.bytes.reset();  // the file's page again
        }
      }
    }
    return St(hole ? Status::kNoMem : Status::kOk);
  }

  ModelOutcome brk(const std::string& proc, uint64_t addr) {
    Proc& p = procs_.at(proc);
    if (addr < p.start_brk) return St(Status::kInval);
    const uint64_t old_end = Round(p.brk), new_end = Round(addr);
    // Linux: a free page must stay before the next mapping; a shrink needs
    // something mapped to take away.
    if (new_end > old_end && !Free(p, old_end, new_end + kP)) return St(Status::kNoMem);
    if (new_end < old_end && Free(p, new_end, old_end)) return St(Status::kNoMem);
    for (uint64_t va = old_end; va < new_end; va += kP) {
      p.pages[va] = Page{kR | kW, false, "", 0, std::make_shared<Bytes>(Bytes{})};
    }
    for (uint64_t va = new_end; va < old_end; va += kP) p.pages.erase(va);
    p.brk = addr;
    ModelOutcome o;
    o.value = addr;
    return o;
  }

  ModelOutcome sbrk(const std::string& proc, int64_t incr) {
    const uint64_t old = procs_.at(proc).brk;
    if (incr < 0 && uint64_t(-incr) > old) return St(Status::kInval);
    ModelOutcome o = brk(proc, old + incr);
    if (o.status == Status::kOk) o.value = old;
    return o;
  }

  ModelOutcome access(const std::string& proc, uint64_t addr, uint32_t size, bool write,
                      uint64_t value) {
    Proc& p = procs_.at(proc);
    auto it = p.pages.find(addr / kP * kP);
    if (it == p.pages.end() || it->second.prot == 0 || (write && !(it->second.prot & kW))) {
      return Sig(Signal::kSegv, addr);
    }
    Page& page = it->second;
    if (!page.file.empty() && page.fpage >= files_.at(page.file).bytes.size() / kP) {
      return Sig(Signal::kBus, addr);
    }
    ModelOutcome o;
    for (uint32_t i = 0; i < size; ++i) {
      const uint64_t off = addr % kP + i;
      if (write) {
        *Writable(page, off) = uint8_t(value >> (8 * i));
      } else {
        o.value |= uint64_t{Byte(page, off)} << (8 * i);
      }
    }
    return o;
  }

  ModelOutcome touch(const std::string& proc, uint64_t addr, uint64_t len, uint64_t stride,
                     bool write, uint8_t value) {
    ModelOutcome o;
    for (uint64_t off = 0; off < len; off += stride) {
      ModelOutcome step = access(proc, addr + off, 1, write, value);
      if (step.signal != Signal::kNone) {
        step.steps_done = o.steps_done;
        return step;
      }
      ++o.steps_done;
    }
    return o;
  }

  ModelOutcome poke(const std::string& proc, uint64_t addr, uint32_t size, uint64_t value) {
    Proc& p = procs_.at(proc);
    auto it = p.pages.find(addr / kP * kP);
    if (addr >= kUserTop || it == p.pages.end()) return St(Status::kFault);
    Page& page = it->second;
    if (page.shared && !(page.prot & kW)) return St(Status::kFault);
    if (!page.file.empty() && page.fpage >= files_.at(page.file).bytes.size() / kP) {
      return St(Status::kFault);
    }
    for (uint32_t i = 0; i < size; ++i) *Writable(page, addr % kP + i) = uint8_t(value >> (8 * i));
    return St(Status::kOk);
  }

  ModelOutcome pwrite(const std::string& name, uint64_t offset, uint8_t value, uint64_t len) {
    File& f = files_.at(name);
    if (len == 0) return St(Status::kOk);
    if (offset + len > f.size) Resize(name, offset + len);
    for (uint64_t i = offset; i < offset + len; ++i) f.bytes[i] = value;
    return St(Status::kOk);
  }

  ModelOutcome truncate(const std::string& name, uint64_t size) {
    if (size != files_.at(name).size) Resize(name, size);
    return St(Status::kOk);
  }

  ModelOutcome fork(const std::string& parent, const std::string& child) {
    Proc c = procs_.at(parent);
    for (auto& [va, page] : c.pages) {
      if (!page.shared && page.bytes) page.bytes = std::make_shared<Bytes>(*page.bytes);
    }
    procs_[child] = std::move(c);
    return St(Status::kOk);
  }

  ModelOutcome exec(const std::string& proc, uint64_t text, uint64_t data, uint64_t bss,
                    uint64_t stack) {
    Proc& p = procs_.at(proc);
    p.pages.clear();
    uint64_t at = 0x400000;
    auto segment = [&](uint64_t size, uint8_t prot, uint8_t byte) {
      for (uint64_t i = 0; i < Round(size) / kP; ++i, at += kP) {
        auto bytes = std::make_shared<Bytes>();
        bytes->fill(byte);
        p.pages[at] = Page{prot, false, "", 0, bytes};
      }
    };
    segment(text, kR | kX, 0xcc);
    segment(data, kR | kW, 0xda);
    segment(bss, kR | kW, 0);
    p.brk = p.start_brk = at;
    at = kUserTop - Round(stack);
    segment(stack, kR | kW, 0);
    return St(Status::kOk);
  }

  ModelOutcome exit(const std::string& proc) {
    procs_.erase(proc);
    return St(Status::kOk);
  }

  // Reported page by page: the writer must merge them into the same runs.
  std::string digest() const {
    vm::DigestWriter w;
    for (const auto& [name, p] : procs_) {
      w.begin_process(name.c_str());
      for (const auto& [va, page] : p.pages) {
        const bool file = !page.file.empty();
        w.mapping(vm::DigestMapping{va, va + kP, static_cast<vm::Prot>(page.prot),
                                    page.shared ? vm::Share::kShared : vm::Share::kPrivate,
                                    file ? page.file.c_str() : nullptr,
                                    file ? page.fpage * kP : 0});
      }
      w.end_mappings();
      for (const auto& [va, page] : p.pages) {
        if (!page.file.empty() && page.fpage >= files_.at(page.file).bytes.size() / kP) continue;
        w.page(va, PageBytes(page));
      }
    }
    for (const auto& [name, f] : files_) {
      w.file(name.c_str(), f.size);
      for (uint64_t at = 0; at < f.size; at += kP) {
        Bytes bytes{};
        for (uint64_t off = 0; off < kP && at + off < f.size; ++off) bytes[off] = f.bytes[at + off];
        w.file_page(at, bytes.data());
      }
    }
    char hex[65];
    w.finish(hex);
    return hex;
  }

  std::vector<std::string> processes() const {
    std::vector<std::string> names;
    for (const auto& [name, p] : procs_) names.push_back(name);
    return names;
  }

 private:
  struct Page {
    uint8_t prot;
    bool shared;
    std::string file;  // empty: anonymous
    uint64_t fpage;    // page index in the file
    std::shared_ptr<Bytes> bytes;
  };
  struct Proc {
    uint64_t brk = kInitialBreak;
    uint64_t start_brk = kInitialBreak;
    std::map<uint64_t, Page> pages;
  };
  struct File {
    uint64_t size = 0;
    std::vector<uint8_t> bytes;  // whole pages: the last one's tail is past EOF
  };

  static bool Free(const Proc& p, uint64_t start, uint64_t end) {
    for (uint64_t va = start; va < end; va += kP) {
      if (p.pages.count(va) != 0) return false;
    }
    return true;
  }

  // The 4096 bytes the page shows.
  const uint8_t* PageBytes(const Page& page) const {
    if (page.bytes) return page.bytes->data();
    return files_.at(page.file).bytes.data() + page.fpage * kP;
  }
  uint8_t Byte(const Page& page, uint64_t off) const { return PageBytes(page)[off]; }
  uint8_t* Writable(Page& page, uint64_t off) {
    if (!page.bytes && !page.shared) {  // a private file page's first write: copy
      auto copy = std::make_shared<Bytes>();
      std::copy(PageBytes(page), PageBytes(page) + kP, copy->begin());
      page.bytes = copy;
    }
    if (page.bytes) return &(*page.bytes)[off];
    return &files_.at(page.file).bytes[page.fpage * kP + off];
  }

  void Resize(const std::string& name, uint64_t size) {
    File& f = files_.at(name);
    std::fill(f.bytes.begin() + f.size, f.bytes.end(), 0);  // past the old EOF
    f.bytes.resize(Round(size), 0);
    if (size < f.size) {
      std::fill(f.bytes.begin() + size, f.bytes.end(), 0);
      for (auto& [pname, p] : procs_) {
        for (auto& [va, page] : p.pages) {
          if (page.file == name && !page.shared && page.fpage >= Round(size) / kP) {
            page.bytes.reset();
          }
        }
      }
    }
    f.size = size;
  }

  std::map<std::string, Proc> procs_;
  std::map<std::string, File> files_;
};

class ModelObjectsProperty : public ::testing::TestWithParam<uint32_t> {};

TEST_P(ModelObjectsProperty, MatchesPageGranularReference) {
  std::mt19937_64 rng(GetParam());
  auto below = [&](uint64_t n) { return rng() % n; };
  // Windows of 64 pages: around exec's image, around the initial break,
  // straddling the top of the mmap search window, and at the top of user
  // space (exec's stack).
  const uint64_t windows[4] = {0x400000 - 8 * kP, kInitialBreak - 16 * kP, kMmapTop - 48 * kP,
                               kUserTop - 64 * kP};
  // Most addresses land near where the process mapped something, so
  // that most accesses reach memory rather than holes.
  std::map<std::string, std::vector<uint64_t>> hot;
  std::string proc;  // the process of the current op
  auto page_addr = [&] {
    std::vector<uint64_t>& h = hot[proc];
    if (!h.empty() && below(4) != 0) return h[below(h.size())] + below(6) * kP;
    return windows[below(4)] + below(64) * kP;
  };
  auto note = [&](const ModelOutcome& o) {
    std::vector<uint64_t>& h = hot[proc];
    if (o.status != Status::kOk) return o;
    if (h.size() < 16) {
      h.push_back(o.value);
    } else {
      h[below(h.size())] = o.value;
    }
    return o;
  };
  auto length = [&] {
    const uint64_t len = (1 + below(6)) * kP;
    return below(3) == 0 ? len - below(kP) : len;  // sometimes not page-sized
  };
  const char* file_names[2] = {"f", "s"};
  auto file_size = [&] { return below(6) * kP + (below(2) == 0 ? below(kP) : 0); };

  Model model;
  PageWorld ref;
  {
    FileSpec f;
    f.name = "f";
    f.size = file_size();
    f.fill = uint8_t(1 + below(255));
    FileSpec s;
    s.name = "s";
    s.size = file_size();
    s.seeded = true;
    s.seed = rng();
    for (const FileSpec& spec : {f, s}) {
      model.create_file(spec);
      ref.create_file(spec);
    }
  }
  int next_process = 0;
  auto new_process = [&] {
    const std::string name = "p" + std::to_string(next_process++);
    model.create_process(name);
    ref.create_process(name);
    return name;
  };
  new_process();

  for (int i = 0; i < 600; ++i) {
    const std::string what0 = "seed " + std::to_string(GetParam()) + " op " + std::to_string(i);
    std::vector<std::string> live = ref.processes();
    if (live.empty()) live.push_back(new_process());
    proc = live[below(live.size())];
    const std::string what = what0 + " " + proc;
    switch (below(17)) {
      case 0:
      case 1: {  // mmap, file or anonymous
        const uint64_t len = length();
        const uint8_t prot = below(2) == 0 ? kR | kW : uint8_t(below(8));
        const bool shared = below(2) == 0;
        const int kind = int(below(3));  // fixed, hint, none
        std::optional<uint64_t> addr;
        if (kind != 2) addr = page_addr() + (kind == 1 ? below(kP) : 0);
        const bool populate = below(2) == 0;
        if (below(3) == 0) {
          ExpectSame(ref.mmap(proc, addr, len, prot, shared, kind == 0, "", 0),
                     note(model.mmap(proc, addr, len, prot, shared, kind == 0, populate)),
                     what + " mmap");
        } else {
          const std::string file = file_names[below(2)];
          const uint64_t offset = below(6) * kP + (below(8) == 0 ? 1 + below(kP - 1) : 0);
          ExpectSame(ref.mmap(proc, addr, len, prot, shared, kind == 0, file, offset, populate),
                     note(model.mmap_file(proc, addr, len, prot, shared, kind == 0, populate, file,
                                          offset)),
                     what + " mmap file " + file + " " + std::to_string(offset) + " len " +
                         std::to_string(len) + " sh " + std::to_string(shared) + " prot " +
                         std::to_string(prot));
        }
        break;
      }
      case 2: {
        const uint64_t addr = page_addr(), len = length();
        ExpectSame(ref.munmap(proc, addr, len), model.munmap(proc, addr, len), what + " munmap");
        break;
      }
      case 3: {
        const uint64_t addr = page_addr(), len = length();
        const uint8_t prot = uint8_t(below(8));
        ExpectSame(ref.mprotect(proc, addr, len, prot), model.mprotect(proc, addr, len, prot),
                   what + " mprotect");
        break;
      }
      case 4: {
        const uint64_t addr = page_addr(), len = length();
        const Advice advice = below(4) == 0 ? Advice::kWillneed : Advice::kDontneed;
        ExpectSame(ref.madvise(proc, addr, len, advice), model.madvise(proc, addr, len, advice),
                   what + " madvise");
        break;
      }
      case 5: {
        const int64_t incr = int64_t(below(8 * kP)) - int64_t(4 * kP);
        ExpectSame(ref.sbrk(proc, incr), model.sbrk(proc, incr), what + " sbrk");
        break;
      }
      case 6:
      case 7: {
        const uint32_t size = 1u << below(4);
        const uint64_t addr = page_addr() + below(kP / size) * size;
        const uint64_t value = rng();
        ExpectSame(ref.access(proc, addr, size, true, value), model.write(proc, addr, size, value),
                   what + " write " + std::to_string(addr) + " " + std::to_string(size) + " " +
                       std::to_string(value));
        break;
      }
      case 8:
      case 9: {
        const uint32_t size = 1u << below(4);
        const uint64_t addr = page_addr() + below(kP / size) * size;
        ExpectSame(ref.access(proc, addr, size, false, 0), model.read(proc, addr, size),
                   what + " read");
        break;
      }
      case 10: {
        const uint64_t addr = page_addr() + below(kP);
        const uint64_t len = below(4 * kP), stride = 1 + below(3 * kP);
        const bool write = below(2) == 0;
        const uint8_t value = uint8_t(rng());
        ExpectSame(ref.touch(proc, addr, len, stride, write, value),
                   model.touch(proc, addr, len, stride, write, value), what + " touch");
        break;
      }
      case 11: {
        const uint32_t size = 1u << below(4);
        const uint64_t addr = page_addr() + below(kP / size) * size;
        const uint64_t value = rng();
        ExpectSame(ref.poke(proc, addr, size, value), model.poke(proc, addr, size, value),
                   what + " poke");
        break;
      }
      case 12: {
        const std::string file = file_names[below(2)];
        const uint64_t offset = below(6 * kP), len = below(3) == 0 ? 0 : below(2 * kP);
        const uint8_t value = uint8_t(rng());
        ExpectSame(ref.pwrite(file, offset, value, len), model.pwrite(file, offset, value, len),
                   what + " pwrite " + file + " " + std::to_string(offset) + " " +
                       std::to_string(len) + " " + std::to_string(value));
        break;
      }
      case 13: {
        const std::string file = file_names[below(2)];
        const uint64_t size = file_size();
        ExpectSame(ref.truncate(file, size), model.truncate(file, size),
                   what + " truncate " + file + " " + std::to_string(size));
        break;
      }
      case 14: {                   // fork, exit
        if (below(3) != 0) break;  // less often: exit empties a process
        if (live.size() < 4 && below(3) != 0) {
          const std::string child = "p" + std::to_string(next_process++);
          ExpectSame(ref.fork(proc, child), model.fork(proc, child), what + " fork");
          hot[child] = hot[proc];
        } else {
          ExpectSame(ref.exit(proc), model.exit(proc), what + " exit");
          hot.erase(proc);
        }
        break;
      }
      case 15: {
        if (below(8) != 0) break;  // rarely: it wipes the address space
        auto seg = [&] { return below(3) == 0 ? 0 : below(3 * kP); };
        const uint64_t text = seg(), data = seg(), bss = seg(), stack = seg();
        ExpectSame(ref.exec(proc, text, data, bss, stack), model.exec(proc, text, data, bss, stack),
                   what + " exec");
        hot[proc] = {0x400000, kUserTop - 3 * kP};
        break;
      }
      case 16: {  // carry on with a copy of the model (it must be deep and keep sharing)
        Model copy(model);
        model = Model();
        model = copy;
        break;
      }
    }
    if (i % 50 == 49) {
      ASSERT_EQ(ref.digest(), model.digest()) << what;
    }
    if (HasFailure()) return;  // the first difference is the useful one
  }
  EXPECT_EQ(ref.digest(), model.digest());
}

INSTANTIATE_TEST_SUITE_P(Seeds, ModelObjectsProperty, ::testing::Range(1u, 61u));

}  // namespace
}  // namespace vmsim
