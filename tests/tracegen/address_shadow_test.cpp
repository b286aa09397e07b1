#include "address_shadow.hpp"

#include <gtest/gtest.h>

#include "address_layout.hpp"

namespace vmsim::tracegen {
namespace {

Region rw(uint64_t start, uint64_t end) {
  Region region;
  region.start = start;
  region.end = end;
  region.prot = kProtR | kProtW;
  return region;
}

TEST(AddressShadow, PlacesTopDownAndHonoursFreeHints) {
  AddressShadow shadow;
  EXPECT_EQ(shadow.place(0x2000, std::nullopt), kMmapTop - 0x2000);
  shadow.map(rw(kMmapTop - 0x2000, kMmapTop));
  EXPECT_EQ(shadow.place(0x1000, std::nullopt), kMmapTop - 0x3000);
  EXPECT_EQ(shadow.place(0x1000, 0x20000000), 0x20000000u);
  // An occupied hint and a hint below 0x10000 are ignored.
  EXPECT_EQ(shadow.place(0x1000, kMmapTop - 0x1000), kMmapTop - 0x3000);
  EXPECT_EQ(shadow.place(0x1000, 0x1000), kMmapTop - 0x3000);
  // A gap too small is skipped.
  shadow.map(rw(kMmapTop - 0x5000, kMmapTop - 0x3000));
  shadow.map(rw(kMmapTop - 0x9000, kMmapTop - 0x6000));
  EXPECT_EQ(shadow.place(0x1000, std::nullopt), kMmapTop - 0x3000);
  EXPECT_EQ(shadow.place(0x2000, std::nullopt), kMmapTop - 0xb000);
}

TEST(AddressShadow, UnmapAndProtectSplitRegions) {
  AddressShadow shadow;
  shadow.map(rw(0x100000, 0x110000));
  shadow.unmap(0x104000, 0x106000);
  EXPECT_EQ(shadow.count(), 2u);
  EXPECT_TRUE(shadow.is_free(0x104000, 0x106000));
  EXPECT_FALSE(shadow.is_fully_mapped(0x100000, 0x110000));
  EXPECT_TRUE(shadow.is_fully_mapped(0x106000, 0x110000));
  shadow.protect(0x108000, 0x109000, kProtR);
  EXPECT_EQ(shadow.count(), 4u);
  ASSERT_NE(shadow.find(0x108800), nullptr);
  EXPECT_EQ(shadow.find(0x108800)->prot, kProtR);
  EXPECT_EQ(shadow.find(0x104000), nullptr);
  const auto gaps = shadow.gaps();
  ASSERT_EQ(gaps.size(), 3u);
  EXPECT_EQ(gaps[0].start, kMinMapAddr);
  EXPECT_EQ(gaps[1].start, 0x104000u);
  EXPECT_EQ(gaps[1].end, 0x106000u);
  EXPECT_EQ(gaps[2].end, kMmapTop);
}

TEST(AddressShadow, SplitsKeepFileOffsets) {
  AddressShadow shadow;
  Region file = rw(0x100000, 0x106000);
  file.file = 1;
  file.file_offset = 0x2000;
  shadow.map(file);
  shadow.map(rw(0x100000, 0x101000));  // anonymous over the first page
  shadow.protect(0x103000, 0x104000, kProtR);
  shadow.unmap(0x105000, 0x106000);
  const auto regions = shadow.regions();
  ASSERT_EQ(regions.size(), 4u);
  EXPECT_EQ(regions[0].file, -1);
  EXPECT_EQ(regions[1].start, 0x101000u);
  EXPECT_EQ(regions[1].file_offset, 0x3000u);
  EXPECT_EQ(regions[2].start, 0x103000u);
  EXPECT_EQ(regions[2].file_offset, 0x5000u);
  EXPECT_EQ(regions[2].prot, kProtR);
  EXPECT_EQ(regions[3].start, 0x104000u);
  EXPECT_EQ(regions[3].file, 1);
  EXPECT_EQ(regions[3].file_offset, 0x6000u);
}

}  // namespace
}  // namespace vmsim::tracegen
