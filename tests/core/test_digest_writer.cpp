// DigestWriter against a byte stream written by hand from spec §7.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "lib/digest_writer.hpp"
#include "lib/sha256.hpp"

namespace {

using vm::DigestMapping;
using vm::DigestWriter;
using vm::kProtExec;
using vm::kProtRead;
using vm::kProtWrite;
using vm::Share;

std::string sha_hex(const std::string& s) {
  vm::Sha256 h;
  h.update(s.data(), s.size());
  vm::u8 d[32];
  h.finish(d);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    out += digits[d[i] >> 4];
    out += digits[d[i] & 15];
  }
  return out;
}

std::string finish(DigestWriter& w) {
  char out[65];
  w.finish(out);
  return out;
}

std::vector<vm::u8> page_of(vm::u8 seed) {
  std::vector<vm::u8> p(4096);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<vm::u8>(seed + i * 31);
  return p;
}

std::string bytes(const std::vector<vm::u8>& p) {
  return std::string(p.begin(), p.end());
}

TEST(DigestWriter, EmptyState) {
  DigestWriter w;
  EXPECT_EQ(finish(w), sha_hex("vmsim-digest/1\n"));
}

TEST(DigestWriter, HandWrittenStream) {
  const auto p1 = page_of(1), p2 = page_of(2), p3 = page_of(3), f1 = page_of(4);
  std::vector<vm::u8> zero(4096, 0);
  // The last file page: 0x800 bytes of file, zeros past the end.
  std::vector<vm::u8> f3 = page_of(5);
  std::fill(f3.begin() + 0x800, f3.end(), 0);
  // Distinct buffers with equal names: merging compares names, not pointers.
  const std::string lib_a = "lib.so", lib_b = "lib.so", lib_c = "lib.so";

  DigestWriter w;
  w.begin_process("alpha");
  const vm::Prot rw = kProtRead | kProtWrite;
  w.mapping({0x1000, 0x3000, rw, Share::kPrivate, nullptr, 0});
  w.mapping({0x3000, 0x5000, rw, Share::kPrivate, nullptr, 0});         // merges
  w.mapping({0x5000, 0x6000, kProtRead, Share::kPrivate, nullptr, 0});  // other prot
  w.mapping({0x6000, 0x7000, kProtRead, Share::kShared, nullptr, 0});   // other share
  w.mapping({0x8000, 0x9000, kProtRead, Share::kShared, nullptr, 0});   // not adjacent
  w.end_mappings();
  w.page(0x1000, p1.data());
  w.page(0x2000, zero.data());  // skipped
  w.page(0x5000, p2.data());
  w.begin_process("beta");
  const vm::Prot rx = kProtRead | kProtExec;
  w.mapping({0x10000, 0x12000, rx, Share::kPrivate, lib_a.c_str(), 0});
  w.mapping({0x12000, 0x13000, rx, Share::kPrivate, lib_b.c_str(), 0x2000});  // continues
  w.mapping({0x13000, 0x14000, rx, Share::kPrivate, lib_c.c_str(), 0x4000});  // offset gap
  w.mapping({0x14000, 0x15000, rx, Share::kPrivate, "other", 0x5000});        // other file
  w.mapping({0x15000, 0x16000, kProtWrite, Share::kPrivate, nullptr, 0});     // anon after file
  w.end_mappings();
  w.page(0x10000, p3.data());
  w.file("lib.so", 0x2800);
  w.file_page(0x0, f1.data());
  w.file_page(0x1000, zero.data());  // skipped
  w.file_page(0x2000, f3.data());
  w.file("other", 0);
  EXPECT_TRUE(w.ok());

  std::string s = "vmsim-digest/1\n";
  s += "process alpha\n";
  s += "run 0000000000001000 0000000000005000 rw- private anon\n";
  s += "run 0000000000005000 0000000000006000 r-- private anon\n";
  s += "run 0000000000006000 0000000000007000 r-- shared anon\n";
  s += "run 0000000000008000 0000000000009000 r-- shared anon\n";
  s += "page 0000000000001000\n" + bytes(p1);
  s += "page 0000000000005000\n" + bytes(p2);
  s += "process beta\n";
  s += "run 0000000000010000 0000000000013000 r-x private file:lib.so:0000000000000000\n";
  s += "run 0000000000013000 0000000000014000 r-x private file:lib.so:0000000000004000\n";
  s += "run 0000000000014000 0000000000015000 r-x private file:other:0000000000005000\n";
  s += "run 0000000000015000 0000000000016000 -w- private anon\n";
  s += "page 0000000000010000\n" + bytes(p3);
  s += "file lib.so 0000000000002800\n";
  s += "fpage 0000000000000000\n" + bytes(f1);
  s += "fpage 0000000000002000\n" + bytes(f3);
  s += "file other 0000000000000000\n";
  EXPECT_EQ(finish(w), sha_hex(s));
}

// Spec §10: BACKING device:NAME:offset (a device run continues offset by
// offset, never merges with a file of the same name), then after the files
// each device and its non-zero pages.
TEST(DigestWriter, DeviceRunsAndPages) {
  const auto p1 = page_of(6), d1 = page_of(7);
  std::vector<vm::u8> zero(4096, 0);
  const vm::Prot rw = kProtRead | kProtWrite;
  DigestWriter w;
  w.begin_process("p");
  w.mapping({0x10000, 0x11000, rw, Share::kShared, nullptr, 0x2000, "fb"});
  w.mapping({0x11000, 0x12000, rw, Share::kShared, nullptr, 0x3000, "fb"});  // continues
  w.mapping({0x12000, 0x13000, rw, Share::kShared, "fb", 0x4000});           // a file "fb"
  w.mapping({0x13000, 0x14000, rw, Share::kShared, nullptr, 0x0, "rom"});
  w.end_mappings();
  w.page(0x10000, p1.data());
  w.page(0x11000, zero.data());  // skipped
  w.file("fb", 0x5000);
  w.device("fb", 0x4000);
  w.device_page(0x0, zero.data());  // skipped
  w.device_page(0x3000, d1.data());
  w.device("rom", 0x1000);
  EXPECT_TRUE(w.ok());

  std::string s = "vmsim-digest/1\n";
  s += "process p\n";
  s += "run 0000000000010000 0000000000012000 rw- shared device:fb:0000000000002000\n";
  s += "run 0000000000012000 0000000000013000 rw- shared file:fb:0000000000004000\n";
  s += "run 0000000000013000 0000000000014000 rw- shared device:rom:0000000000000000\n";
  s += "page 0000000000010000\n" + bytes(p1);
  s += "file fb 0000000000005000\n";
  s += "device fb 0000000000004000\n";
  s += "dpage 0000000000003000\n" + bytes(d1);
  s += "device rom 0000000000001000\n";
  EXPECT_EQ(finish(w), sha_hex(s));
}

TEST(DigestWriter, DevicesComeAfterFilesInOrder) {
  std::vector<vm::u8> zero(4096, 0);
  {
    DigestWriter w;  // a file after a device
    w.device("d", 0x1000);
    w.file("f", 0);
    EXPECT_FALSE(w.ok());
  }
  {
    DigestWriter w;  // devices not ascending
    w.device("b", 0x1000);
    w.device("a", 0x1000);
    EXPECT_FALSE(w.ok());
  }
  {
    DigestWriter w;  // a device page past its size, or a file page among devices
    w.device("d", 0x1000);
    w.device_page(0x1000, zero.data());
    EXPECT_FALSE(w.ok());
  }
  {
    DigestWriter w;
    w.device("d", 0x1000);
    w.file_page(0x0, zero.data());
    EXPECT_FALSE(w.ok());
  }
}

TEST(DigestWriter, ProcessWithoutPagesNeedsNoEndMappings) {
  DigestWriter w;
  w.begin_process("a");
  w.mapping({0x1000, 0x2000, kProtRead, Share::kPrivate, nullptr, 0});
  w.begin_process("b");
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(finish(w), sha_hex("vmsim-digest/1\nprocess a\n"
                               "run 0000000000001000 0000000000002000 r-- private anon\n"
                               "process b\n"));
}

TEST(DigestWriter, NoneProtAndMaximalMerge) {
  DigestWriter w;
  w.begin_process("p");
  for (vm::u64 va = 0x400000; va < 0x400000 + 64 * 0x1000; va += 0x1000)
    w.mapping({va, va + 0x1000, vm::kProtNone, Share::kShared, "f", va - 0x400000 + 0x1000});
  w.end_mappings();
  EXPECT_EQ(finish(w), sha_hex("vmsim-digest/1\nprocess p\n"
                               "run 0000000000400000 0000000000440000 --- shared "
                               "file:f:0000000000001000\n"));
}

// Each violation of the call order turns the digest into kInvalidOrder.
TEST(DigestWriter, OrderViolationsPoisonTheDigest) {
  const auto pg = page_of(9);
  const DigestMapping anon{0x1000, 0x2000, kProtRead, Share::kPrivate, nullptr, 0};
  const std::vector<std::pair<const char*, std::function<void(DigestWriter&)>>> cases = {
      {"mapping before any process", [&](DigestWriter& w) { w.mapping(anon); }},
      {"descending mappings",
       [&](DigestWriter& w) {
         w.begin_process("a");
         w.mapping({0x5000, 0x6000, kProtRead, Share::kPrivate, nullptr, 0});
         w.mapping(anon);
       }},
      {"overlapping mappings",
       [&](DigestWriter& w) {
         w.begin_process("a");
         w.mapping({0x1000, 0x3000, kProtRead, Share::kPrivate, nullptr, 0});
         w.mapping({0x2000, 0x4000, kProtRead, Share::kPrivate, nullptr, 0});
       }},
      {"empty mapping",
       [&](DigestWriter& w) {
         w.begin_process("a");
         w.mapping({0x1000, 0x1000, kProtRead, Share::kPrivate, nullptr, 0});
       }},
      {"unaligned mapping",
       [&](DigestWriter& w) {
         w.begin_process("a");
         w.mapping({0x1000, 0x1800, kProtRead, Share::kPrivate, nullptr, 0});
       }},
      {"page before end_mappings",
       [&](DigestWriter& w) {
         w.begin_process("a");
         w.mapping(anon);
         w.page(0x1000, pg.data());
       }},
      {"mapping after end_mappings",
       [&](DigestWriter& w) {
         w.begin_process("a");
         w.end_mappings();
         w.mapping(anon);
       }},
      {"pages not ascending",
       [&](DigestWriter& w) {
         w.begin_process("a");
         w.mapping({0x1000, 0x3000, kProtRead, Share::kPrivate, nullptr, 0});
         w.end_mappings();
         w.page(0x2000, pg.data());
         w.page(0x1000, pg.data());
       }},
      {"repeated page",
       [&](DigestWriter& w) {
         w.begin_process("a");
         w.end_mappings();
         w.page(0x1000, pg.data());
         w.page(0x1000, pg.data());
       }},
      {"process names descending",
       [&](DigestWriter& w) {
         w.begin_process("b");
         w.begin_process("a");
       }},
      {"process name repeated",
       [&](DigestWriter& w) {
         w.begin_process("a");
         w.begin_process("a");
       }},
      {"process name a prefix of the previous",
       [&](DigestWriter& w) {
         w.begin_process("ab");
         w.begin_process("a");
       }},
      {"process after files",
       [&](DigestWriter& w) {
         w.file("f", 0);
         w.begin_process("a");
       }},
      {"page after files",
       [&](DigestWriter& w) {
         w.begin_process("a");
         w.end_mappings();
         w.file("f", 0x1000);
         w.page(0x1000, pg.data());
       }},
      {"file page without a file", [&](DigestWriter& w) { w.file_page(0, pg.data()); }},
      {"file page past the size",
       [&](DigestWriter& w) {
         w.file("f", 0x1000);
         w.file_page(0x1000, pg.data());
       }},
      {"file pages descending",
       [&](DigestWriter& w) {
         w.file("f", 0x3000);
         w.file_page(0x2000, pg.data());
         w.file_page(0x1000, pg.data());
       }},
      {"file names descending",
       [&](DigestWriter& w) {
         w.file("g", 0);
         w.file("f", 0);
       }},
      {"end_mappings twice",
       [&](DigestWriter& w) {
         w.begin_process("a");
         w.end_mappings();
         w.end_mappings();
       }},
  };
  for (const auto& [what, calls] : cases) {
    DigestWriter w;
    calls(w);
    EXPECT_FALSE(w.ok()) << what;
    EXPECT_EQ(finish(w), DigestWriter::kInvalidOrder) << what;
  }
}

TEST(DigestWriter, NamesOrderedBytewiseAndFilesRestartTheSequence) {
  DigestWriter w;
  w.begin_process("B");
  w.begin_process("a");  // 'B' (0x42) < 'a' (0x61)
  w.begin_process("a\xff");
  w.file("A", 0);  // files have their own order
  w.file("b", 0);
  EXPECT_TRUE(w.ok());
  EXPECT_NE(finish(w), DigestWriter::kInvalidOrder);
}

TEST(DigestWriter, FinishTwiceIsInvalid) {
  DigestWriter w;
  char out[65];
  w.finish(out);
  w.finish(out);
  EXPECT_STREQ(out, DigestWriter::kInvalidOrder);
}

}  // namespace
