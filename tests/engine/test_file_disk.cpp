// The disk both machines keep a trace's files on (engine/disk): initial
// content (spec §2), writes, truncate and the tail of a growing file, and a
// table that grows past its first size.
#include "disk/file_disk.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "image/file_content.hpp"

namespace {

class HeapMemory final : public disk::DiskMemory {
 public:
  void* allocate(size_t bytes, size_t align) override {
    const size_t rounded = (bytes + align - 1) / align * align;
    void* p = std::aligned_alloc(align, rounded);
    std::memset(p, 0, rounded);
    blocks_.emplace_back(p, &std::free);
    return p;
  }

 private:
  std::vector<std::unique_ptr<void, void (*)(void*)>> blocks_;
};

class FileDiskTest : public ::testing::Test {
 protected:
  FileDiskTest() {
    const disk::DiskFile files[] = {{3 * 4096 + 100, 0, false, 0xab}, {2 * 4096, 77, true, 0}};
    disk_.init(files, 2, memory_);
  }
  std::vector<uint8_t> page(uint32_t file, uint64_t index) {
    std::vector<uint8_t> buf(4096);
    disk_.read(file, index, buf.data());
    return buf;
  }

  HeapMemory memory_;
  disk::FileDisk disk_;
};

TEST_F(FileDiskTest, PagesReadTheirInitialContentUntilWritten) {
  EXPECT_EQ(page(0, 0)[17], 0xab);
  EXPECT_EQ(page(0, 3)[99], 0xab);
  EXPECT_EQ(page(0, 3)[100], 0) << "past the end of the file";
  EXPECT_EQ(page(1, 1)[5], image::file_content_byte(true, 77, 0, 4096 + 5));
  std::vector<uint8_t> mine(4096, 0x11);
  disk_.write(1, 1, mine.data());
  EXPECT_EQ(page(1, 1), mine);
  EXPECT_EQ(page(1, 0)[5], image::file_content_byte(true, 77, 0, 5))
      << "its neighbour is as it was";
}

TEST_F(FileDiskTest, TruncateClearsEverythingPastTheNewEnd) {
  std::vector<uint8_t> mine(4096, 0x22);
  disk_.write(0, 1, mine.data());
  disk_.truncate(0, 4096 + 10);
  EXPECT_EQ(page(0, 1)[9], 0x22);
  EXPECT_EQ(page(0, 1)[10], 0) << "a written page past the end";
  EXPECT_EQ(page(0, 2)[0], 0) << "initial content past the end";
  EXPECT_EQ(page(0, 0)[0], 0xab);
}

TEST_F(FileDiskTest, ZeroPageTailKeepsTheHeadOfThePage) {
  disk_.zero_page_tail(0, 2 * 4096 + 50);
  EXPECT_EQ(page(0, 2)[49], 0xab);
  EXPECT_EQ(page(0, 2)[50], 0);
  EXPECT_EQ(page(0, 1)[4095], 0xab);
}

TEST_F(FileDiskTest, GrowsPastItsFirstTable) {
  std::vector<uint8_t> buf(4096);
  for (uint64_t p = 0; p < 5000; ++p) {
    std::memset(buf.data(), static_cast<int>(p % 251), buf.size());
    disk_.write(1, p, buf.data());
  }
  for (uint64_t p = 0; p < 5000; p += 7) EXPECT_EQ(page(1, p)[123], p % 251) << p;
  EXPECT_EQ(page(0, 0)[0], 0xab) << "the other file is untouched";
}

// The page-at-a-time fill is the byte-at-a-time definition, whatever the
// start's alignment and the length.
TEST(FileContent, FillEqualsByteByByte) {
  uint8_t buf[64];
  for (bool seeded : {false, true}) {
    for (uint64_t offset : {0u, 1u, 7u, 8u, 9u, 4095u, 4096u, 12345u}) {
      for (uint64_t len : {0u, 1u, 5u, 8u, 13u, 64u}) {
        std::memset(buf, 0xee, sizeof buf);
        image::file_content_fill(seeded, 99, 0x5a, offset, buf, len);
        for (uint64_t i = 0; i < len; ++i)
          ASSERT_EQ(buf[i], image::file_content_byte(seeded, 99, 0x5a, offset + i))
              << seeded << " " << offset << " " << len << " " << i;
        for (uint64_t i = len; i < sizeof buf; ++i) ASSERT_EQ(buf[i], 0xee) << "past the length";
        // Content that ends inside the range: zero from its end on.
        const uint64_t end = offset + len / 2;
        image::file_content_fill_until(seeded, 99, 0x5a, end, offset, buf, len);
        for (uint64_t i = 0; i < len; ++i)
          ASSERT_EQ(buf[i],
                    offset + i < end ? image::file_content_byte(seeded, 99, 0x5a, offset + i) : 0)
              << "until " << end << ", byte " << i;
      }
    }
  }
}

}  // namespace
