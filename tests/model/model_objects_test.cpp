// Tests of the reference model (sim/model) for the second milestone's ops:
// files and file mappings, pwrite, truncate, fork, exec, exit, poke, and the
// file parts of the digest (spec §7). Every rule of docs/semantics.md for
// those ops has a test here.
#include <gtest/gtest.h>

#include "model_test_util.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "lib/sha256.hpp"
#include "model/model.hpp"

namespace vmsim {
namespace {

using modeltest::Hex16;
using modeltest::Sha256Hex;

using vm::Signal;
using vm::Status;

constexpr uint64_t kP = 4096;
constexpr uint8_t kNone = 0;
constexpr uint8_t kRo = kR;
constexpr uint8_t kRw = kR | kW;
constexpr uint8_t kRx = kR | kX;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Spec §2, written out again here rather than calling image::content_mix, so that a
// mistake in either shows.
uint64_t SpecMix(uint64_t x) {
  uint64_t z = x + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
uint8_t SeededByte(uint64_t seed, uint64_t i) {
  return uint8_t((SpecMix(seed + i / 8) >> (8 * (i % 8))) & 0xff);
}

FileSpec Filled(const std::string& name, uint64_t size, uint8_t fill) {
  FileSpec f;
  f.name = name;
  f.size = size;
  f.fill = fill;
  return f;
}
FileSpec Seeded(const std::string& name, uint64_t size, uint64_t seed) {
  FileSpec f;
  f.name = name;
  f.size = size;
  f.seeded = true;
  f.seed = seed;
  return f;
}

class ObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override { m.create_process("p"); }

  // A file mapping that must succeed, at `addr` (fixed).
  uint64_t MapFile(uint64_t addr, uint64_t len, uint8_t prot, bool shared, const std::string& file,
                   uint64_t offset = 0, const std::string& proc = "p") {
    ModelOutcome o = m.mmap_file(proc, addr, len, prot, shared, true, false, file, offset);
    EXPECT_EQ(o.status, Status::kOk);
    EXPECT_EQ(o.value, addr);
    return o.value;
  }
  uint64_t MapAnon(uint64_t addr, uint64_t len, uint8_t prot = kRw, bool shared = false,
                   const std::string& proc = "p") {
    ModelOutcome o = m.mmap(proc, addr, len, prot, shared, true, false);
    EXPECT_EQ(o.status, Status::kOk);
    return o.value;
  }

  // Accesses that must succeed.
  void Write(uint64_t addr, uint64_t value, uint32_t size = 1, const std::string& proc = "p") {
    ModelOutcome o = m.write(proc, addr, size, value);
    EXPECT_EQ(o.signal, Signal::kNone) << proc << " " << std::hex << addr;
  }
  uint64_t Read(uint64_t addr, uint32_t size = 1, const std::string& proc = "p") {
    ModelOutcome o = m.read(proc, addr, size);
    EXPECT_EQ(o.signal, Signal::kNone) << proc << " " << std::hex << addr;
    return o.value;
  }
  // The signal of a 1-byte access; checks the fault address when it signals.
  Signal ReadSignal(uint64_t addr, const std::string& proc = "p") {
    ModelOutcome o = m.read(proc, addr, 1);
    if (o.signal != Signal::kNone) {
      EXPECT_EQ(o.fault_addr, addr);
    }
    return o.signal;
  }
  Signal WriteSignal(uint64_t addr, const std::string& proc = "p") {
    ModelOutcome o = m.write(proc, addr, 1, 0x5a);
    if (o.signal != Signal::kNone) {
      EXPECT_EQ(o.fault_addr, addr);
    }
    return o.signal;
  }
  Status Poke(uint64_t addr, uint64_t value, uint32_t size = 1, const std::string& proc = "p") {
    return m.poke(proc, addr, size, value).status;
  }

  // The byte at `offset` of `file`, read through a fresh shared mapping in
  // a scratch process (its page must be below EOF).
  uint8_t FileByte(const std::string& file, uint64_t offset) {
    if (!m.has_process("scratch")) m.create_process("scratch");
    const uint64_t page = offset / kP * kP;
    ModelOutcome o = m.mmap_file("scratch", 0x70000000, kP, kRo, true, true, false, file, page);
    EXPECT_EQ(o.status, Status::kOk);
    ModelOutcome r = m.read("scratch", 0x70000000 + offset % kP, 1);
    EXPECT_EQ(r.signal, Signal::kNone) << file << " " << std::hex << offset;
    EXPECT_EQ(m.munmap("scratch", 0x70000000, kP).status, Status::kOk);
    return uint8_t(r.value);
  }

  Model m;
};

// ---------------------------------------------------------------------------
// File content

TEST_F(ObjectsTest, SeededContentFollowsTheFormula) {
  const uint64_t seed = 0x0123456789abcdefull;
  const uint64_t size = 3 * kP + 100;
  m.create_file(Seeded("f", size, seed));
  const uint64_t a = MapFile(0x20000000, 4 * kP, kRo, true, "f");
  for (uint64_t i = 0; i < size; ++i) {
    ASSERT_EQ(Read(a + i), SeededByte(seed, i)) << i;
  }
  // Multi-byte reads are little-endian over the same bytes: an aligned
  // qword is exactly one mix value.
  EXPECT_EQ(Read(a + 8 * 5, 8), SpecMix(seed + 5));
  EXPECT_EQ(Read(a + 8 * 511, 8), SpecMix(seed + 511));
  // Past EOF inside the last page: zero.
  for (uint64_t i = size; i < 4 * kP; ++i) ASSERT_EQ(Read(a + i), 0u) << i;
  // A private mapping shows the same; a seed near 2^64 wraps.
  m.create_file(Seeded("w", 64, kMax - 2));
  const uint64_t w = MapFile(0x30000000, kP, kRo, false, "w");
  for (uint64_t i = 0; i < 64; ++i) EXPECT_EQ(Read(w + i), SeededByte(kMax - 2, i)) << i;
}

TEST_F(ObjectsTest, FilledContent) {
  m.create_file(Filled("f", kP + 10, 0xab));
  const uint64_t a = MapFile(0x20000000, 2 * kP, kRo, false, "f");
  EXPECT_EQ(Read(a, 8), 0xababababababababu);
  EXPECT_EQ(Read(a + kP + 9), 0xabu);
  EXPECT_EQ(Read(a + kP + 10), 0u);
  EXPECT_EQ(Read(a + 2 * kP - 8, 8), 0u);
}

// ---------------------------------------------------------------------------
// mmap of a file: checks and placement

TEST_F(ObjectsTest, MmapFileArgumentChecksInOrder) {
  m.create_file(Filled("f", 4 * kP, 1));
  auto st = [&](std::optional<uint64_t> addr, uint64_t len, bool fixed, uint64_t offset) {
    return m.mmap_file("p", addr, len, kRw, false, fixed, false, "f", offset).status;
  };
  EXPECT_EQ(st(std::nullopt, kP, false, 1), Status::kInval);       // unaligned offset
  EXPECT_EQ(st(std::nullopt, kP, false, kP + 8), Status::kInval);  // unaligned offset
  // Linux checks the offset's alignment before everything else.
  EXPECT_EQ(st(std::nullopt, 0, false, 1), Status::kInval);
  EXPECT_EQ(st(std::nullopt, kMax, false, 1), Status::kInval);
  EXPECT_EQ(st(kUserTop, kP, true, 1), Status::kInval);
  EXPECT_EQ(st(std::nullopt, kMmapTop, false, 1), Status::kInval);
  EXPECT_EQ(st(std::nullopt, kMmapTop, false, 0), Status::kNoMem);
  // A mapping must end at most at 2^63 - 1 in the file.
  const uint64_t last_ok = (uint64_t{1} << 63) - 2 * kP;
  EXPECT_EQ(st(std::nullopt, kP, false, last_ok + kP), Status::kInval);
  EXPECT_EQ(st(std::nullopt, 2 * kP, false, last_ok), Status::kInval);
  EXPECT_EQ(st(std::nullopt, kP, false, kMax - kP + 1), Status::kInval);
  // ... checked after the length and the place, as Linux's file_mmap_ok:
  EXPECT_EQ(st(std::nullopt, kMax - kP, false, last_ok + kP), Status::kNoMem);
  EXPECT_EQ(st(kUserTop, kP, true, last_ok + kP), Status::kNoMem);
  EXPECT_EQ(st(std::nullopt, kMmapTop, false, last_ok + kP), Status::kNoMem);  // no room
  EXPECT_EQ(st(0x20000123, kP, true, last_ok + kP), Status::kInval);
  EXPECT_EQ(st(0x20000000, kP, true, last_ok), Status::kOk);
  EXPECT_EQ(ReadSignal(0x20000000), Signal::kBus);  // far past EOF
  // A failing fixed mmap leaves what was there.
  MapAnon(0x30000000, kP);
  Write(0x30000000, 9);
  EXPECT_EQ(st(0x30000000, kP, true, 8), Status::kInval);
  EXPECT_EQ(Read(0x30000000), 9u);
}

TEST_F(ObjectsTest, MmapFilePlacementIsAnonymousPlacement) {
  m.create_file(Filled("f", kP, 1));
  ModelOutcome o = m.mmap_file("p", std::nullopt, 2 * kP, kRo, true, false, false, "f", 0);
  EXPECT_EQ(o.value, kMmapTop - 2 * kP);
  o = m.mmap_file("p", 0x20000123, kP, kRo, false, false, true, "f", 0);  // hint rounded down
  EXPECT_EQ(o.value, 0x20000000u);
  o = m.mmap_file("p", 0x20000000, kP, kRo, false, false, false, "f", 0);  // occupied
  EXPECT_EQ(o.value, kMmapTop - 3 * kP);
  // fixed replaces.
  MapAnon(0x30000000, 2 * kP);
  Write(0x30000000, 5);
  MapFile(0x30000000, kP, kRo, false, "f");
  EXPECT_EQ(Read(0x30000000), 1u);
}

// ---------------------------------------------------------------------------
// Shared and private file mappings

TEST_F(ObjectsTest, SharedMappingWritesTheFile) {
  m.create_file(Filled("f", 2 * kP, 0x11));
  m.create_process("q");
  const uint64_t a = MapFile(0x20000000, 2 * kP, kRw, true, "f");
  const uint64_t b = MapFile(0x40000000, kP, kRo, true, "f", kP, "q");
  Write(a + kP + 8, 0x0807060504030201, 8);
  EXPECT_EQ(Read(b + 8, 8, "q"), 0x0807060504030201u);  // another process, another offset
  EXPECT_EQ(FileByte("f", kP + 8), 0x01);
  EXPECT_EQ(FileByte("f", kP + 16), 0x11);

  // The same as writing it with pwrite (compared once no mapping remains).
  Model other;
  other.create_process("p");
  other.create_process("q");
  other.create_file(Filled("f", 2 * kP, 0x11));
  for (uint64_t i = 0; i < 8; ++i) {
    ASSERT_EQ(other.pwrite("f", kP + 8 + i, uint8_t(i + 1), 1).status, Status::kOk);
  }
  ASSERT_EQ(m.munmap("p", a, 2 * kP).status, Status::kOk);
  ASSERT_EQ(m.munmap("q", b, kP).status, Status::kOk);
  ASSERT_EQ(m.exit("scratch").status, Status::kOk);
  EXPECT_EQ(m.digest(), other.digest());
}

TEST_F(ObjectsTest, PrivateMappingCopiesOnWrite) {
  m.create_file(Filled("f", 2 * kP, 0x22));
  const uint64_t priv = MapFile(0x20000000, 2 * kP, kRw, false, "f");
  const uint64_t other = MapFile(0x30000000, 2 * kP, kRo, false, "f");
  const uint64_t shr = MapFile(0x40000000, 2 * kP, kRo, true, "f");
  Write(priv + 8, 0x99);
  EXPECT_EQ(Read(priv + 8), 0x99u);
  EXPECT_EQ(Read(priv + 9), 0x22u);  // the rest of the copied page
  EXPECT_EQ(Read(other + 8), 0x22u);
  EXPECT_EQ(Read(shr + 8), 0x22u);
  EXPECT_EQ(FileByte("f", 8), 0x22);
  // A split private mapping keeps its copies in both pieces.
  Write(priv + kP, 0x77);
  ASSERT_EQ(m.mprotect("p", priv + kP, kP, kRo).status, Status::kOk);
  EXPECT_EQ(Read(priv + kP), 0x77u);
  EXPECT_EQ(Read(priv + 8), 0x99u);
  // Unmapped and mapped again: the copies are gone.
  ASSERT_EQ(m.munmap("p", priv, 2 * kP).status, Status::kOk);
  MapFile(priv, 2 * kP, kRw, false, "f");
  EXPECT_EQ(Read(priv + 8), 0x22u);
  EXPECT_EQ(Read(priv + kP), 0x22u);
}

TEST_F(ObjectsTest, PwriteShowsThroughSharedAndUnwrittenPrivatePages) {
  m.create_file(Filled("f", 2 * kP, 0x33));
  const uint64_t shr = MapFile(0x20000000, 2 * kP, kRo, true, "f");
  const uint64_t priv = MapFile(0x30000000, 2 * kP, kRw, false, "f");
  Write(priv + kP + 100, 0x44);  // page 1 now private
  ASSERT_EQ(m.pwrite("f", 0, 0x55, 2 * kP).status, Status::kOk);
  EXPECT_EQ(Read(shr), 0x55u);
  EXPECT_EQ(Read(shr + kP + 100), 0x55u);
  EXPECT_EQ(Read(priv), 0x55u);             // never written: follows the file
  EXPECT_EQ(Read(priv + kP + 100), 0x44u);  // written: its own copy
  EXPECT_EQ(Read(priv + kP + 101), 0x33u);  // ... the whole page, as copied
  EXPECT_EQ(Read(priv + 2 * kP - 1), 0x33u);
  // A write through a shared mapping shows the same way.
  const uint64_t rw = MapFile(0x40000000, 2 * kP, kRw, true, "f");
  Write(rw + 5, 0x66);
  Write(rw + kP + 5, 0x66);
  EXPECT_EQ(Read(priv + 5), 0x66u);
  EXPECT_EQ(Read(priv + kP + 5), 0x33u);
}

TEST_F(ObjectsTest, PwriteRules) {
  m.create_file(Filled("f", 100, 0x01));
  const uint64_t a = MapFile(0x20000000, 3 * kP, kRo, true, "f");
  EXPECT_EQ(m.pwrite("f", 5 * kP, 0x77, 0).status, Status::kOk);  // len 0: nothing
  EXPECT_EQ(ReadSignal(a + kP), Signal::kBus);                    // size still 100
  EXPECT_EQ(m.pwrite("f", 50, 0x02, 10).status, Status::kOk);     // inside: size stays
  EXPECT_EQ(Read(a + 49), 0x01u);
  EXPECT_EQ(Read(a + 50), 0x02u);
  EXPECT_EQ(Read(a + 59), 0x02u);
  EXPECT_EQ(Read(a + 60), 0x01u);
  EXPECT_EQ(Read(a + 100), 0u);
  // Extending, with a gap: the gap reads zero, the size grows.
  EXPECT_EQ(m.pwrite("f", kP + 10, 0x03, 5).status, Status::kOk);
  EXPECT_EQ(Read(a + 100), 0u);
  EXPECT_EQ(Read(a + kP + 9), 0u);
  EXPECT_EQ(Read(a + kP + 10), 0x03u);
  EXPECT_EQ(Read(a + kP + 14), 0x03u);
  EXPECT_EQ(Read(a + kP + 15), 0u);
  EXPECT_EQ(ReadSignal(a + 2 * kP), Signal::kBus);
  // Across pages.
  EXPECT_EQ(m.pwrite("f", kP - 2, 0x04, 4).status, Status::kOk);
  EXPECT_EQ(Read(a + kP - 3), 0u);
  EXPECT_EQ(Read(a + kP - 2, 2), 0x0404u);
  EXPECT_EQ(Read(a + kP, 2), 0x0404u);
  EXPECT_EQ(Read(a + kP + 2), 0u);
}

// ---------------------------------------------------------------------------
// EOF and truncate

TEST_F(ObjectsTest, PagesWhollyPastEofAreBus) {
  m.create_file(Filled("f", kP + 1, 0x01));
  const uint64_t shr = MapFile(0x20000000, 3 * kP, kRw, true, "f");
  const uint64_t priv = MapFile(0x30000000, 3 * kP, kRw, false, "f");
  const uint64_t none = MapFile(0x40000000, 3 * kP, kNone, false, "f");
  const uint64_t ro = MapFile(0x50000000, 3 * kP, kRo, true, "f");
  for (uint64_t base : {shr, priv}) {
    EXPECT_EQ(ReadSignal(base + kP + 4095), Signal::kNone);  // the partial page
    EXPECT_EQ(WriteSignal(base + kP + 4095), Signal::kNone);
    EXPECT_EQ(ReadSignal(base + 2 * kP), Signal::kBus);
    EXPECT_EQ(WriteSignal(base + 3 * kP - 1), Signal::kBus);
  }
  // Protection first: segv even past EOF.
  EXPECT_EQ(ReadSignal(none + 2 * kP), Signal::kSegv);
  EXPECT_EQ(WriteSignal(ro + 2 * kP), Signal::kSegv);
  EXPECT_EQ(ReadSignal(ro + 2 * kP), Signal::kBus);
  // A mapping starting past EOF.
  MapFile(0x60000000, kP, kRo, false, "f", 2 * kP);
  EXPECT_EQ(ReadSignal(0x60000000), Signal::kBus);
  // touch stops at the first bus.
  ModelOutcome o = m.touch("p", shr, 3 * kP, kP, false, 0);
  EXPECT_EQ(o.signal, Signal::kBus);
  EXPECT_EQ(o.fault_addr, shr + 2 * kP);
  EXPECT_EQ(o.steps_done, 2u);
}

TEST_F(ObjectsTest, TruncateShrinkGivesBusOnBothKindsAndRegrowShowsZeros) {
  m.create_file(Filled("f", 3 * kP, 0x01));
  const uint64_t shr = MapFile(0x20000000, 3 * kP, kRw, true, "f");
  const uint64_t priv = MapFile(0x30000000, 3 * kP, kRw, false, "f");
  Write(shr + 2 * kP, 0x10);   // the file's page 2
  Write(priv + 2 * kP, 0x20);  // a private copy of page 2
  Write(priv + kP, 0x21);      // a private copy of page 1
  ASSERT_EQ(m.truncate("f", kP + 100).status, Status::kOk);
  EXPECT_EQ(ReadSignal(shr + 2 * kP), Signal::kBus);
  EXPECT_EQ(ReadSignal(priv + 2 * kP), Signal::kBus);  // even though it was written
  EXPECT_EQ(WriteSignal(priv + 2 * kP), Signal::kBus);
  EXPECT_EQ(Read(priv + kP), 0x21u);  // the partial page keeps its private copy
  EXPECT_EQ(Read(shr + kP + 99), 0x01u);
  EXPECT_EQ(Read(shr + kP + 100), 0u);  // zeroed past the new EOF
  // Growing again: zeros, and the discarded copies do not come back.
  ASSERT_EQ(m.truncate("f", 3 * kP).status, Status::kOk);
  EXPECT_EQ(Read(shr + 2 * kP), 0u);
  EXPECT_EQ(Read(priv + 2 * kP), 0u);
  EXPECT_EQ(Read(shr + kP + 100), 0u);
  EXPECT_EQ(Read(shr + kP + 99), 0x01u);
  // The private page 2 follows the file again.
  ASSERT_EQ(m.pwrite("f", 2 * kP, 0x30, 1).status, Status::kOk);
  EXPECT_EQ(Read(priv + 2 * kP), 0x30u);
  // Truncate to 0: everything is past EOF.
  ASSERT_EQ(m.truncate("f", 0).status, Status::kOk);
  EXPECT_EQ(ReadSignal(shr), Signal::kBus);
  EXPECT_EQ(ReadSignal(priv + kP), Signal::kBus);
  ASSERT_EQ(m.truncate("f", kP).status, Status::kOk);
  EXPECT_EQ(Read(priv + kP - 1), 0u);
  EXPECT_EQ(ReadSignal(priv + kP), Signal::kBus);
}

TEST_F(ObjectsTest, TruncateZeroesThePartialPageTail) {
  // Both for unwritten initial content and for a page in the cache.
  m.create_file(Seeded("s", 2 * kP, 7));
  m.create_file(Filled("f", 2 * kP, 0xab));
  const uint64_t s = MapFile(0x20000000, 2 * kP, kRw, true, "s");
  const uint64_t f = MapFile(0x30000000, 2 * kP, kRw, true, "f");
  Write(f + kP, 0xcd);  // stores page 1 of f
  ASSERT_EQ(m.truncate("s", kP + 50).status, Status::kOk);
  ASSERT_EQ(m.truncate("f", kP + 50).status, Status::kOk);
  EXPECT_EQ(Read(s + kP + 49), SeededByte(7, kP + 49));
  EXPECT_EQ(Read(f + kP + 49), 0xabu);
  EXPECT_EQ(Read(f + kP), 0xcdu);
  for (uint64_t i = kP + 50; i < 2 * kP; ++i) {
    ASSERT_EQ(Read(s + i), 0u) << i;
    ASSERT_EQ(Read(f + i), 0u) << i;
  }
  // Growing shows zeros from the old EOF on.
  ASSERT_EQ(m.truncate("s", 2 * kP).status, Status::kOk);
  EXPECT_EQ(Read(s + kP + 50), 0u);
  EXPECT_EQ(Read(s + 2 * kP - 1), 0u);
  EXPECT_EQ(Read(s + kP + 49), SeededByte(7, kP + 49));
  EXPECT_EQ(Read(s + 5), SeededByte(7, 5));
}

TEST_F(ObjectsTest, WritesPastEofInTheLastPage) {
  m.create_file(Filled("f", kP + 100, 0x01));
  m.create_process("q");
  const uint64_t a = MapFile(0x20000000, 2 * kP, kRw, true, "f");
  const uint64_t b = MapFile(0x30000000, 2 * kP, kRo, true, "f", 0, "q");
  const uint64_t priv = MapFile(0x40000000, 2 * kP, kRo, false, "f");
  Write(a + kP + 200, 0x99);
  EXPECT_EQ(Read(b + kP + 200, 1, "q"), 0x99u);  // every mapping of the page sees it
  EXPECT_EQ(Read(priv + kP + 200), 0x99u);
  // ... but it is not part of the file: the file digest equals one without it.
  Model without = m;
  ASSERT_EQ(without.write("p", a + kP + 200, 1, 0).signal, Signal::kNone);
  for (Model* x : {&m, &without}) {
    ASSERT_EQ(x->exit("p").status, Status::kOk);
    ASSERT_EQ(x->exit("q").status, Status::kOk);
  }
  EXPECT_EQ(m.digest(), without.digest());
}

TEST_F(ObjectsTest, SizeChangesZeroBytesPastEof) {
  m.create_file(Filled("f", kP + 100, 0x01));
  const uint64_t a = MapFile(0x20000000, 2 * kP, kRw, true, "f");
  // A pwrite that does not extend the file leaves them.
  Write(a + kP + 200, 0x99);
  ASSERT_EQ(m.pwrite("f", 0, 0x02, 10).status, Status::kOk);
  EXPECT_EQ(Read(a + kP + 200), 0x99u);
  // A pwrite that extends it zeroes them first.
  ASSERT_EQ(m.pwrite("f", kP + 100, 0x03, 50).status, Status::kOk);
  EXPECT_EQ(Read(a + kP + 149), 0x03u);
  EXPECT_EQ(Read(a + kP + 200), 0u);
  // So does a growing truncate, and a shrinking one.
  Write(a + kP + 300, 0x98);
  ASSERT_EQ(m.truncate("f", kP + 400).status, Status::kOk);
  EXPECT_EQ(Read(a + kP + 300), 0u);
  Write(a + kP + 500, 0x97);
  ASSERT_EQ(m.truncate("f", kP + 450).status, Status::kOk);
  EXPECT_EQ(Read(a + kP + 500), 0u);
  // A truncate to the current size changes nothing.
  Write(a + kP + 600, 0x96);
  ASSERT_EQ(m.truncate("f", kP + 450).status, Status::kOk);
  EXPECT_EQ(Read(a + kP + 600), 0x96u);
}

TEST_F(ObjectsTest, PrivateWritePastEofIsPrivate) {
  m.create_file(Filled("f", 100, 0x01));
  const uint64_t priv = MapFile(0x20000000, kP, kRw, false, "f");
  const uint64_t shr = MapFile(0x30000000, kP, kRo, true, "f");
  Write(priv + 200, 0x42);
  EXPECT_EQ(Read(shr + 200), 0u);
  // A size change leaves the private copy of the partial page alone.
  ASSERT_EQ(m.truncate("f", 300).status, Status::kOk);
  EXPECT_EQ(Read(priv + 200), 0x42u);
  EXPECT_EQ(Read(shr + 200), 0u);
}

// ---------------------------------------------------------------------------
// madvise on file mappings

TEST_F(ObjectsTest, MadviseDontneedOnFileMappings) {
  m.create_file(Filled("f", 2 * kP, 0x01));
  const uint64_t priv = MapFile(0x20000000, 2 * kP, kRw, false, "f");
  const uint64_t shr = MapFile(0x30000000, 2 * kP, kRw, true, "f");
  Write(priv, 0x10);
  Write(priv + kP, 0x11);
  Write(shr + 8, 0x20);
  ASSERT_EQ(m.pwrite("f", 0, 0x05, 1).status, Status::kOk);  // not seen by the copy
  EXPECT_EQ(Read(priv), 0x10u);
  ASSERT_EQ(m.madvise("p", priv, kP, Advice::kDontneed).status, Status::kOk);
  EXPECT_EQ(Read(priv), 0x05u);  // the file's current content
  EXPECT_EQ(Read(priv + 8), 0x20u);
  EXPECT_EQ(Read(priv + kP), 0x11u);  // outside the range
  ASSERT_EQ(m.madvise("p", shr, 2 * kP, Advice::kDontneed).status, Status::kOk);
  EXPECT_EQ(Read(shr + 8), 0x20u);
  EXPECT_EQ(FileByte("f", 8), 0x20);
}

// ---------------------------------------------------------------------------
// fork

TEST_F(ObjectsTest, ForkIsolatesPrivateMemoryBothWays) {
  m.create_file(Filled("f", 2 * kP, 0x01));
  const uint64_t anon = MapAnon(0x20000000, 2 * kP);
  const uint64_t pf = MapFile(0x30000000, 2 * kP, kRw, false, "f");
  ASSERT_EQ(m.sbrk("p", 100).status, Status::kOk);
  Write(anon, 0x10);
  Write(pf, 0x11);
  Write(kInitialBreak, 0x12);
  ASSERT_EQ(m.fork("p", "c").status, Status::kOk);
  // The child starts with the parent's content and break.
  EXPECT_EQ(Read(anon, 1, "c"), 0x10u);
  EXPECT_EQ(Read(pf, 1, "c"), 0x11u);
  EXPECT_EQ(Read(pf + kP, 1, "c"), 0x01u);
  EXPECT_EQ(Read(kInitialBreak, 1, "c"), 0x12u);
  EXPECT_EQ(m.sbrk("c", 0).value, kInitialBreak + 100);
  // Writes after the fork stay on their side.
  Write(anon, 0x20);
  Write(anon + kP, 0x21, 1, "c");
  Write(pf, 0x22, 1, "c");
  Write(kInitialBreak + 1, 0x23);
  EXPECT_EQ(Read(anon, 1, "c"), 0x10u);
  EXPECT_EQ(Read(anon + kP), 0u);
  EXPECT_EQ(Read(pf), 0x11u);
  EXPECT_EQ(Read(kInitialBreak + 1, 1, "c"), 0u);
  // Unwritten private file pages follow the file in both.
  ASSERT_EQ(m.pwrite("f", kP, 0x33, 1).status, Status::kOk);
  EXPECT_EQ(Read(pf + kP), 0x33u);
  EXPECT_EQ(Read(pf + kP, 1, "c"), 0x33u);
  // Address-space changes are separate too.
  ASSERT_EQ(m.munmap("c", anon, kP).status, Status::kOk);
  EXPECT_EQ(Read(anon), 0x20u);
  ASSERT_EQ(m.sbrk("p", kP).status, Status::kOk);
  EXPECT_EQ(m.sbrk("c", 0).value, kInitialBreak + 100);
  // dontneed in the child drops the child's copies only.
  ASSERT_EQ(m.madvise("c", pf, kP, Advice::kDontneed).status, Status::kOk);
  EXPECT_EQ(Read(pf, 1, "c"), 0x01u);
  EXPECT_EQ(Read(pf), 0x11u);
}

TEST_F(ObjectsTest, ForkSharesSharedMappings) {
  m.create_file(Filled("f", kP, 0x01));
  const uint64_t anon = MapAnon(0x20000000, 2 * kP, kRw, true);
  const uint64_t file = MapFile(0x30000000, kP, kRw, true, "f");
  Write(anon, 0x10);
  ASSERT_EQ(m.fork("p", "c").status, Status::kOk);
  EXPECT_EQ(Read(anon, 1, "c"), 0x10u);
  Write(anon + kP, 0x11, 1, "c");
  EXPECT_EQ(Read(anon + kP), 0x11u);
  Write(anon, 0x12);
  EXPECT_EQ(Read(anon, 1, "c"), 0x12u);
  Write(file, 0x13, 1, "c");
  EXPECT_EQ(Read(file), 0x13u);
  EXPECT_EQ(FileByte("f", 0), 0x13);
  // Still one piece of memory after the parent splits and leaves.
  ASSERT_EQ(m.munmap("p", anon, kP).status, Status::kOk);
  ASSERT_EQ(m.exit("p").status, Status::kOk);
  Write(anon + kP, 0x14, 1, "c");
  EXPECT_EQ(Read(anon + kP, 1, "c"), 0x14u);
}

TEST_F(ObjectsTest, ForkedSplitPrivateMappingStaysConsistent) {
  const uint64_t a = MapAnon(0x20000000, 3 * kP);
  Write(a, 1);
  Write(a + 2 * kP, 3);
  ASSERT_EQ(m.mprotect("p", a + kP, kP, kRo).status, Status::kOk);  // three pieces, one object
  ASSERT_EQ(m.fork("p", "c").status, Status::kOk);
  Write(a + 2 * kP, 4, 1, "c");
  EXPECT_EQ(Read(a, 1, "c"), 1u);
  EXPECT_EQ(Read(a + 2 * kP), 3u);
  EXPECT_EQ(Read(a + 2 * kP, 1, "c"), 4u);
}

TEST_F(ObjectsTest, ForkDigestListsTheChild) {
  const uint64_t a = MapAnon(0x20000000, kP);
  Write(a, 1);
  ASSERT_EQ(m.fork("p", "c").status, Status::kOk);
  Model two;
  for (const char* name : {"c", "p"}) {
    two.create_process(name);
    ASSERT_EQ(two.mmap(name, a, kP, kRw, false, true, false).status, Status::kOk);
    ASSERT_EQ(two.write(name, a, 1, 1).signal, Signal::kNone);
  }
  EXPECT_EQ(m.digest(), two.digest());
}

// ---------------------------------------------------------------------------
// exec

std::string PageRecord(const char* kind, uint64_t at, const std::string& bytes) {
  std::string page(4096, '\0');
  page.replace(0, bytes.size(), bytes);
  return std::string(kind) + " " + Hex16(at) + "\n" + page;
}

TEST_F(ObjectsTest, ExecLayout) {
  m.create_file(Filled("f", kP, 1));
  MapAnon(0x20000000, kP);
  MapFile(0x30000000, kP, kRw, false, "f");
  ASSERT_EQ(m.sbrk("p", kP).status, Status::kOk);
  ASSERT_EQ(m.exec("p", 1, kP + 1, 10, 2 * kP - 5).status, Status::kOk);
  // The old address space is gone.
  EXPECT_EQ(ReadSignal(0x20000000), Signal::kSegv);
  EXPECT_EQ(ReadSignal(0x30000000), Signal::kSegv);
  EXPECT_EQ(ReadSignal(kInitialBreak), Signal::kSegv);
  // text [0x400000, 0x401000) r-x 0xcc; data [0x401000, 0x403000) rw- 0xda;
  // bss [0x403000, 0x404000) rw- zero; stack [top-2p, top) rw- zero.
  EXPECT_EQ(ReadSignal(0x3fffff), Signal::kSegv);
  EXPECT_EQ(Read(0x400000, 8), 0xccccccccccccccccu);
  EXPECT_EQ(Read(0x400fff), 0xccu);
  EXPECT_EQ(WriteSignal(0x400000), Signal::kSegv);
  EXPECT_EQ(Read(0x401000, 8), 0xdadadadadadadadau);
  EXPECT_EQ(Read(0x402fff), 0xdau);  // data rounded up to whole pages of 0xda
  EXPECT_EQ(Read(0x403000, 8), 0u);
  EXPECT_EQ(Read(0x403ff8, 8), 0u);
  EXPECT_EQ(ReadSignal(0x404000), Signal::kSegv);
  EXPECT_EQ(ReadSignal(kUserTop - 2 * kP - 1), Signal::kSegv);
  EXPECT_EQ(Read(kUserTop - 2 * kP, 8), 0u);
  EXPECT_EQ(Read(kUserTop - 8, 8), 0u);
  Write(0x401000, 0x01);
  Write(kUserTop - 8, 0x02);
  // The break is the end of bss, and the initial break from now on.
  EXPECT_EQ(m.sbrk("p", 0).value, 0x404000u);
  EXPECT_EQ(m.brk("p", 0x403fff).status, Status::kInval);
  EXPECT_EQ(m.sbrk("p", -1).status, Status::kInval);
  ASSERT_EQ(m.brk("p", 0x404001).status, Status::kOk);
  EXPECT_EQ(Read(0x404000), 0u);
  ASSERT_EQ(m.brk("p", 0x404000).status, Status::kOk);
  EXPECT_EQ(ReadSignal(0x404000), Signal::kSegv);

  std::string s = "vmsim-digest/1\nprocess p\n";
  s += "run 0000000000400000 0000000000401000 r-x private anon\n";
  s += "run 0000000000401000 0000000000404000 rw- private anon\n";  // data and bss: one run
  s += "run 00007fffffffd000 00007ffffffff000 rw- private anon\n";
  s += PageRecord("page", 0x400000, std::string(kP, '\xcc'));
  s += PageRecord("page", 0x401000, "\x01" + std::string(kP - 1, '\xda'));
  s += PageRecord("page", 0x402000, std::string(kP, '\xda'));
  s += PageRecord("page", kUserTop - kP, std::string(kP - 8, '\0') + '\x02');
  s += "file f 0000000000001000\n";
  s += PageRecord("fpage", 0, std::string(kP, '\x01'));
  EXPECT_EQ(m.digest(), Sha256Hex(s));
}

TEST_F(ObjectsTest, ExecSegmentsMayBeAbsent) {
  ASSERT_EQ(m.exec("p", 0, kP, 0, 0).status, Status::kOk);
  EXPECT_EQ(Read(0x400000), 0xdau);  // data where text would be
  EXPECT_EQ(ReadSignal(0x401000), Signal::kSegv);
  EXPECT_EQ(ReadSignal(kUserTop - 1), Signal::kSegv);  // no stack
  EXPECT_EQ(m.sbrk("p", 0).value, 0x401000u);
  ASSERT_EQ(m.exec("p", 0, 0, 0, 0).status, Status::kOk);
  EXPECT_EQ(ReadSignal(0x400000), Signal::kSegv);
  EXPECT_EQ(m.sbrk("p", 0).value, 0x400000u);
  ASSERT_EQ(m.exec("p", 0, 0, kP, 0).status, Status::kOk);
  EXPECT_EQ(Read(0x400000), 0u);
  EXPECT_EQ(m.sbrk("p", 0).value, 0x401000u);
}

TEST_F(ObjectsTest, ExecMemoryIsPrivateAnonymous) {
  ASSERT_EQ(m.exec("p", 2 * kP, 2 * kP, 0, kP).status, Status::kOk);
  // dontneed makes text and data read zero, like any private anonymous page.
  ASSERT_EQ(m.madvise("p", 0x401000, 2 * kP, Advice::kDontneed).status, Status::kOk);
  EXPECT_EQ(Read(0x400000), 0xccu);
  EXPECT_EQ(Read(0x401000), 0u);
  EXPECT_EQ(Read(0x402000), 0u);
  EXPECT_EQ(Read(0x403000), 0xdau);
  // Unmapping part of text and mapping it again gives zero memory.
  ASSERT_EQ(m.munmap("p", 0x400000, kP).status, Status::kOk);
  MapAnon(0x400000, kP, kRx);
  EXPECT_EQ(Read(0x400000), 0u);
  // A child gets its own copy, fill included.
  ASSERT_EQ(m.fork("p", "c").status, Status::kOk);
  Write(0x403000, 1, 1, "c");
  EXPECT_EQ(Read(0x403000), 0xdau);
  EXPECT_EQ(Read(0x403001, 1, "c"), 0xdau);
}

TEST_F(ObjectsTest, ExecOfHugeSegmentsIsSparse) {
  const uint64_t g64 = uint64_t{64} << 30;
  ASSERT_EQ(m.exec("p", g64, g64, g64, g64).status, Status::kOk);
  EXPECT_EQ(Read(0x400000 + g64 - 1), 0xccu);
  EXPECT_EQ(Read(0x400000 + 2 * g64 - 1), 0xdau);
  EXPECT_EQ(Read(0x400000 + 3 * g64 - 1), 0u);
  EXPECT_EQ(m.sbrk("p", 0).value, 0x400000 + 3 * g64);
  EXPECT_EQ(Read(kUserTop - g64), 0u);
  ASSERT_EQ(m.madvise("p", 0x400000 + kP, g64 - 2 * kP, Advice::kDontneed).status, Status::kOk);
  EXPECT_EQ(Read(0x400000), 0xccu);
  EXPECT_EQ(Read(0x400000 + kP), 0u);
  EXPECT_EQ(Read(0x400000 + g64 - kP), 0xccu);
  ASSERT_EQ(m.exec("p", kP, 0, 0, 0).status, Status::kOk);
}

TEST_F(ObjectsTest, ExecReplacesOnlyThisProcess) {
  const uint64_t shr = MapAnon(0x20000000, kP, kRw, true);
  Write(shr, 7);
  ASSERT_EQ(m.fork("p", "c").status, Status::kOk);
  ASSERT_EQ(m.exec("p", kP, 0, 0, kP).status, Status::kOk);
  EXPECT_EQ(Read(shr, 1, "c"), 7u);
  EXPECT_EQ(ReadSignal(shr), Signal::kSegv);
  EXPECT_EQ(ReadSignal(0x400000, "c"), Signal::kSegv);
}

TEST_F(ObjectsTest, ExecThatFailsChangesNothing) {
  const uint64_t a = MapAnon(0x20000000, kP);
  Write(a, 3);
  ASSERT_EQ(m.sbrk("p", 10).status, Status::kOk);
  const std::string before = m.digest();
  EXPECT_EQ(m.exec_fails_out_of_memory("p").status, Status::kNoMem);
  EXPECT_EQ(m.digest(), before);
  EXPECT_EQ(Read(a), 3u);
  EXPECT_EQ(m.sbrk("p", 0).value, kInitialBreak + 10);
}

// ---------------------------------------------------------------------------
// exit

TEST_F(ObjectsTest, ExitRemovesTheProcess) {
  m.create_file(Filled("f", kP, 1));
  m.create_process("q");
  const uint64_t shr = MapAnon(0x20000000, kP, kRw, true);
  MapFile(0x30000000, kP, kRw, true, "f");
  Write(shr, 5);
  Write(0x30000000, 6);
  ASSERT_EQ(m.fork("p", "c").status, Status::kOk);
  ASSERT_EQ(m.exit("p").status, Status::kOk);
  EXPECT_FALSE(m.has_process("p"));
  EXPECT_EQ(Read(shr, 1, "c"), 5u);  // shared memory lives on with its other users
  EXPECT_EQ(FileByte("f", 0), 6);    // and the file keeps what was written
  ASSERT_EQ(m.exit("scratch").status, Status::kOk);

  // The digest is that of a model that never had "p".
  Model other;
  other.create_file(Filled("f", kP, 1));
  other.create_process("c");
  other.create_process("q");
  ASSERT_EQ(other.mmap("c", shr, kP, kRw, true, true, false).status, Status::kOk);
  ASSERT_EQ(other.mmap_file("c", 0x30000000, kP, kRw, true, true, false, "f", 0).status,
            Status::kOk);
  ASSERT_EQ(other.write("c", shr, 1, 5).signal, Signal::kNone);
  ASSERT_EQ(other.write("c", 0x30000000, 1, 6).signal, Signal::kNone);
  EXPECT_EQ(m.digest(), other.digest());
  // A name that exited may be created again, empty.
  m.create_process("p");
  EXPECT_EQ(ReadSignal(shr), Signal::kSegv);
}

// ---------------------------------------------------------------------------
// poke

TEST_F(ObjectsTest, PokePrivateWritesWhateverTheProtection) {
  m.create_file(Filled("f", kP, 0x01));
  const uint64_t ro = MapAnon(0x20000000, kP, kRo);
  const uint64_t none = MapAnon(0x21000000, kP, kNone);
  const uint64_t pf = MapFile(0x30000000, kP, kRo, false, "f");
  const uint64_t shr = MapFile(0x40000000, kP, kRo, true, "f");
  EXPECT_EQ(Poke(ro + 8, 0x1122334455667788, 8), Status::kOk);
  EXPECT_EQ(Read(ro + 8, 8), 0x1122334455667788u);
  EXPECT_EQ(WriteSignal(ro), Signal::kSegv);  // protection unchanged
  EXPECT_EQ(Poke(none, 0x42), Status::kOk);
  EXPECT_EQ(ReadSignal(none), Signal::kSegv);
  ASSERT_EQ(m.mprotect("p", none, kP, kRo).status, Status::kOk);
  EXPECT_EQ(Read(none), 0x42u);
  // A private file mapping gets its copy; the file is unchanged.
  EXPECT_EQ(Poke(pf + 4, 0xbeef, 2), Status::kOk);
  EXPECT_EQ(Read(pf + 4, 2), 0xbeefu);
  EXPECT_EQ(Read(pf + 6), 0x01u);  // the rest of the copied page
  EXPECT_EQ(Read(shr + 4), 0x01u);
  EXPECT_EQ(FileByte("f", 4), 0x01);
  EXPECT_EQ(WriteSignal(pf), Signal::kSegv);
  // The copy is the mapping's own: a pwrite no longer shows there.
  ASSERT_EQ(m.pwrite("f", 0, 0x09, 8).status, Status::kOk);
  EXPECT_EQ(Read(pf), 0x01u);
}

TEST_F(ObjectsTest, PokeShared) {
  m.create_file(Filled("f", kP + 10, 0x01));
  const uint64_t ro = MapFile(0x20000000, 2 * kP, kRo, true, "f");
  const uint64_t rw = MapFile(0x30000000, 2 * kP, kRw, true, "f");
  const uint64_t anon_ro = MapAnon(0x40000000, kP, kRo, true);
  const uint64_t anon_wo = MapAnon(0x41000000, kP, kW, true);
  EXPECT_EQ(Poke(ro, 0x55), Status::kFault);
  EXPECT_EQ(Poke(anon_ro, 0x55), Status::kFault);
  EXPECT_EQ(Read(ro), 0x01u);
  EXPECT_EQ(Poke(rw + 8, 0x66), Status::kOk);  // writes the file
  EXPECT_EQ(Read(ro + 8), 0x66u);
  EXPECT_EQ(FileByte("f", 8), 0x66);
  EXPECT_EQ(Poke(rw + kP + 20, 0x67), Status::kOk);  // past EOF in the last page: allowed
  EXPECT_EQ(Read(ro + kP + 20), 0x67u);
  EXPECT_EQ(Poke(anon_wo, 0x68), Status::kOk);
  EXPECT_EQ(Read(anon_wo), 0x68u);
}

TEST_F(ObjectsTest, PokeFaults) {
  m.create_file(Filled("f", 10, 0x01));
  const uint64_t pf = MapFile(0x20000000, 2 * kP, kRw, false, "f");
  const uint64_t sf = MapFile(0x30000000, 2 * kP, kRw, true, "f");
  EXPECT_EQ(Poke(pf + kP, 1), Status::kFault);  // wholly past EOF
  EXPECT_EQ(Poke(sf + kP, 1), Status::kFault);
  EXPECT_EQ(Poke(pf + 100, 1), Status::kOk);
  EXPECT_EQ(Poke(0x50000000, 1), Status::kFault);  // unmapped
  EXPECT_EQ(Poke(0, 1), Status::kFault);
  EXPECT_EQ(Poke(kUserTop, 1), Status::kFault);
  EXPECT_EQ(Poke(kMax - 7, 1, 8), Status::kFault);
  // Poke another process than any thread's own.
  m.create_process("q");
  MapAnon(0x20000000, kP, kNone, false, "q");
  EXPECT_EQ(Poke(0x20000000, 0x77, 1, "q"), Status::kOk);
  EXPECT_EQ(Read(pf + 100), 1u);  // p's own memory is untouched
  ASSERT_EQ(m.mprotect("q", 0x20000000, kP, kRo).status, Status::kOk);
  EXPECT_EQ(Read(0x20000000, 1, "q"), 0x77u);
}

// ---------------------------------------------------------------------------
// Digest

TEST(ModelObjectsDigest, HandWrittenFileStream) {
  Model m;
  m.create_file(Seeded("s", 16, 42));
  m.create_file(Filled("f", kP + 16, 0x07));
  m.create_file(Filled("e", 0, 0x55));
  m.create_process("p");
  // Two shared mappings continuing offset by offset: one run. Its third
  // page is wholly past EOF: in the run, not in the page list.
  ASSERT_EQ(m.mmap_file("p", 0x20000, kP, kRw, true, true, false, "f", 0).status, Status::kOk);
  ASSERT_EQ(m.mmap_file("p", 0x21000, 2 * kP, kRw, true, true, false, "f", kP).status, Status::kOk);
  // Past EOF in the last page: seen by the mappings, not in the file.
  ASSERT_EQ(m.write("p", 0x21020, 1, 0x99).signal, Signal::kNone);
  // Private, of the file's second page, never written.
  ASSERT_EQ(m.mmap_file("p", 0x30000, kP, kRo, false, true, false, "f", kP).status, Status::kOk);
  // Private, written, right after it but not continuing the offsets.
  ASSERT_EQ(m.mmap_file("p", 0x31000, kP, kRo, false, true, false, "s", 0).status, Status::kOk);
  ASSERT_EQ(m.poke("p", 0x31008, 1, 0xee).status, Status::kOk);
  // Anonymous right after the shared file run: a run of its own.
  ASSERT_EQ(m.mmap("p", 0x23000, kP, kRw, true, true, false).status, Status::kOk);

  std::string seeded;
  for (uint64_t i = 0; i < 16; ++i) seeded += char(SeededByte(42, i));
  std::string f_page1 = std::string(16, '\x07') + std::string(16, '\0');
  std::string s_private = seeded;
  s_private[8] = '\xee';

  std::string s = "vmsim-digest/1\n";
  s += "process p\n";
  s += "run 0000000000020000 0000000000023000 rw- shared file:f:0000000000000000\n";
  s += "run 0000000000023000 0000000000024000 rw- shared anon\n";
  s += "run 0000000000030000 0000000000031000 r-- private file:f:0000000000001000\n";
  s += "run 0000000000031000 0000000000032000 r-- private file:s:0000000000000000\n";
  s += PageRecord("page", 0x20000, std::string(kP, '\x07'));
  s += PageRecord("page", 0x21000, f_page1 + '\x99');
  s += PageRecord("page", 0x30000, f_page1 + '\x99');
  s += PageRecord("page", 0x31000, s_private);
  s += "file e 0000000000000000\n";
  s += "file f 0000000000001010\n";
  s += PageRecord("fpage", 0, std::string(kP, '\x07'));
  s += PageRecord("fpage", kP, std::string(16, '\x07'));
  s += "file s 0000000000000010\n";
  s += PageRecord("fpage", 0, seeded);
  EXPECT_EQ(m.digest(), Sha256Hex(s));
}

TEST(ModelObjectsDigest, FilesAloneAndZeroPages) {
  Model m;
  m.create_file(Filled("z", 3 * kP, 0));  // all zero: no fpage records
  m.create_file(Filled("a", 2 * kP, 0));
  ASSERT_EQ(m.pwrite("a", kP, 0x01, 1).status, Status::kOk);
  std::string s = "vmsim-digest/1\n";
  s += "file a 0000000000002000\n";
  s += PageRecord("fpage", kP, "\x01");
  s += "file z 0000000000003000\n";
  EXPECT_EQ(m.digest(), Sha256Hex(s));
}

TEST(ModelObjectsDigest, FileMappingsMergeOnlyWhenOffsetsContinue) {
  auto build = [](uint64_t second_offset, bool second_shared) {
    Model m;
    m.create_file(Filled("f", 4 * kP, 0));
    m.create_process("p");
    EXPECT_EQ(m.mmap_file("p", 0x20000, kP, kRo, true, true, false, "f", kP).status, Status::kOk);
    EXPECT_EQ(
        m.mmap_file("p", 0x21000, kP, kRo, second_shared, true, false, "f", second_offset).status,
        Status::kOk);
    return m.digest();
  };
  Model one;
  one.create_file(Filled("f", 4 * kP, 0));
  one.create_process("p");
  ASSERT_EQ(one.mmap_file("p", 0x20000, 2 * kP, kRo, true, true, false, "f", kP).status,
            Status::kOk);
  EXPECT_EQ(build(2 * kP, true), one.digest());
  EXPECT_NE(build(3 * kP, true), one.digest());
  EXPECT_NE(build(2 * kP, false), one.digest());
  // A file mapping is never the same run as anonymous memory.
  Model anon;
  anon.create_file(Filled("f", 4 * kP, 0));
  anon.create_process("p");
  ASSERT_EQ(anon.mmap("p", 0x20000, 2 * kP, kRo, true, true, false).status, Status::kOk);
  EXPECT_NE(anon.digest(), one.digest());
}

// ---------------------------------------------------------------------------
// Copying a model

TEST(ModelCopy, IsDeepAndKeepsSharing) {
  Model m;
  m.create_file(Filled("f", kP, 0x01));
  m.create_process("p");
  ASSERT_EQ(m.mmap("p", 0x20000, kP, kRw, true, true, false).status, Status::kOk);
  ASSERT_EQ(m.mmap("p", 0x30000, kP, kRw, false, true, false).status, Status::kOk);
  ASSERT_EQ(m.mmap_file("p", 0x40000, kP, kRw, true, true, false, "f", 0).status, Status::kOk);
  ASSERT_EQ(m.fork("p", "c").status, Status::kOk);
  const std::string before = m.digest();

  Model copy = m;
  ASSERT_EQ(copy.write("c", 0x20000, 1, 0x10).signal, Signal::kNone);
  ASSERT_EQ(copy.write("p", 0x30000, 1, 0x11).signal, Signal::kNone);
  ASSERT_EQ(copy.write("p", 0x40000, 1, 0x12).signal, Signal::kNone);
  ASSERT_EQ(copy.pwrite("f", 1, 0x13, 1).status, Status::kOk);
  // Shared stays shared inside the copy...
  EXPECT_EQ(copy.read("p", 0x20000, 1).value, 0x10u);
  EXPECT_EQ(copy.read("c", 0x40000, 2).value, 0x1312u);
  // ...and nothing reaches the original.
  EXPECT_EQ(m.digest(), before);
  EXPECT_EQ(m.read("p", 0x40000, 2).value, 0x0101u);

  Model assigned;
  assigned = copy;
  ASSERT_EQ(assigned.write("p", 0x40000, 1, 0x14).signal, Signal::kNone);
  EXPECT_EQ(copy.read("p", 0x40000, 1).value, 0x12u);
  EXPECT_EQ(assigned.read("c", 0x40000, 1).value, 0x14u);
}

}  // namespace
}  // namespace vmsim
