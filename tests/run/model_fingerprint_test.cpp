// Model::fingerprint(): what the linearizability memo keys on. It must tell
// apart states the digest does not (the break, sharing) and agree on copies.
#include <gtest/gtest.h>

#include "model/model.hpp"

namespace vmsim {
namespace {

constexpr uint64_t kAt = 0x20000;

Model WithPage() {
  Model m;
  m.create_process("p");
  m.mmap("p", kAt, 4096, kR | kW, false, true, false);
  m.write("p", kAt, 8, 0x1234);
  return m;
}

TEST(ModelFingerprint, CopiesAgree) {
  const Model a = WithPage();
  const Model b = a;  // NOLINT(performance-unnecessary-copy-initialization): the point
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(a.fingerprint(), WithPage().fingerprint());
}

TEST(ModelFingerprint, ContentChangesIt) {
  Model a = WithPage();
  const auto before = a.fingerprint();
  a.write("p", kAt + 8, 1, 7);
  EXPECT_NE(a.fingerprint(), before);
}

TEST(ModelFingerprint, TheBreakChangesItThoughTheDigestMayNot) {
  Model a = WithPage();
  Model b = WithPage();
  // Both breaks round up to the same heap page: same digest.
  a.sbrk("p", 16);
  b.sbrk("p", 32);
  EXPECT_EQ(a.digest(), b.digest());
  EXPECT_NE(a.fingerprint(), b.fingerprint());
}

TEST(ModelFingerprint, SharingChangesIt) {
  // Two processes that each see a page of 0x1234: in `shared` both see one
  // object (after fork), in `apart` each its own.
  Model shared;
  shared.create_process("p");
  shared.mmap("p", kAt, 4096, kR | kW, true, true, false);
  shared.write("p", kAt, 8, 0x1234);
  shared.fork("p", "q");
  Model apart;
  apart.create_process("p");
  apart.create_process("q");
  for (const char* proc : {"p", "q"}) {
    apart.mmap(proc, kAt, 4096, kR | kW, true, true, false);
    apart.write(proc, kAt, 8, 0x1234);
  }
  EXPECT_EQ(shared.digest(), apart.digest());
  EXPECT_NE(shared.fingerprint(), apart.fingerprint());
}

}  // namespace
}  // namespace vmsim
