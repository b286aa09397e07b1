// The compressor's store on its own, over a fake frame source: packing,
// single-value pages, frames given back, compaction (contents and handles
// survive it), the budget, exhaustion, misuse, and the audit, which must
// notice a corrupted layout.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "fake_platform.hpp"
#include "vm/compressor/compressed_store.hpp"

namespace {

using vm::CompressedHandle;
using vm::CompressedStore;
using vm::StoreStatus;

// Frames from the host heap, at most `limit` at once; each allocation is
// checked out and must come back exactly once.
class FakeFrameSource final : public vm::FrameSource {
 public:
  explicit FakeFrameSource(size_t limit) : limit_(limit) {}
  ~FakeFrameSource() { EXPECT_TRUE(out_.empty()) << out_.size() << " frames never given back"; }

  uint8_t* alloc_frame() override {
    if (out_.size() >= limit_) return nullptr;
    auto frame = std::make_unique<uint8_t[]>(4096);
    std::memset(frame.get(), 0xcd, 4096);  // not zero: the store may not count on it
    uint8_t* p = frame.get();
    out_[p] = std::move(frame);
    ++allocs;
    return p;
  }
  void free_frame(uint8_t* frame) override {
    auto it = out_.find(frame);
    ASSERT_NE(it, out_.end()) << "a frame given back twice or never handed out";
    out_.erase(it);
  }
  size_t outstanding() const { return out_.size(); }
  void set_limit(size_t limit) { limit_ = limit; }
  size_t allocs = 0;

 private:
  size_t limit_;
  std::map<uint8_t*, std::unique_ptr<uint8_t[]>> out_;
};

std::vector<uint8_t> bytes_of(uint32_t length, uint32_t seed) {
  std::vector<uint8_t> b(length);
  std::mt19937 rng(seed);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

class CompressedStoreTest : public ::testing::Test {
 protected:
  void make(uint64_t budget_frames, uint32_t slot_count = 4096, size_t source_limit = 1 << 20) {
    source = std::make_unique<FakeFrameSource>(source_limit);
    slots.assign(slot_count, {});
    frames.assign(budget_frames, {});
    store.init(platform, *source, budget_frames * 4096, slots.data(), slot_count, frames.data(),
               static_cast<uint32_t>(frames.size()));
  }
  void TearDown() override {
    // Everything freed and drained, every frame must be back at the source.
    for (auto& [h, want] : stored) store.free(h);
    stored.clear();
    if (!source) return;
    EXPECT_EQ(source->outstanding(), store.stats().frames);
    store.drain();
    EXPECT_EQ(store.stats().frames, 0u);
    EXPECT_EQ(source->outstanding(), 0u);
    source.reset();
  }

  CompressedHandle put(uint32_t length, uint32_t seed) {
    CompressedHandle h;
    const auto b = bytes_of(length, seed);
    EXPECT_EQ(store.store(b.data(), length, &h), StoreStatus::kOk);
    stored[h] = b;
    return h;
  }
  void drop(CompressedHandle h) {
    store.free(h);
    stored.erase(h);
  }
  void expect_contents() {
    for (const auto& [h, want] : stored) {
      const vm::StoredView v = store.view(h);
      ASSERT_FALSE(v.single_value);
      ASSERT_EQ(v.length, want.size());
      ASSERT_EQ(0, std::memcmp(v.bytes, want.data(), want.size())) << "handle " << h.id;
    }
  }
  void audit() {
    const char* broken = store.check();
    ASSERT_EQ(broken, nullptr) << broken;
  }

  struct ByHandle {
    bool operator()(CompressedHandle a, CompressedHandle b) const { return a.id < b.id; }
  };
  vmtest::FakePlatform platform{1 << 16};
  std::unique_ptr<FakeFrameSource> source;
  std::vector<vm::StoredPage> slots;
  std::vector<vm::PoolFrame> frames;
  CompressedStore store;
  std::map<CompressedHandle, std::vector<uint8_t>, ByHandle> stored;
};

TEST_F(CompressedStoreTest, PacksSeveralPagesPerFrame) {
  make(8);
  for (uint32_t i = 0; i < 10; ++i) put(400, i);  // 4000 bytes: one frame
  EXPECT_EQ(store.stats().frames, 1u);
  put(400, 10);  // the 11th does not fit
  EXPECT_EQ(store.stats().frames, 2u);
  EXPECT_EQ(store.stats().live_bytes, 4400u);
  EXPECT_EQ(store.stats().packed_pages, 11u);
  audit();
  expect_contents();
}

TEST_F(CompressedStoreTest, AWholePageFitsAFrameExactly) {
  make(2);
  put(4096, 1);
  put(4096, 2);
  EXPECT_EQ(store.stats().frames, 2u);
  CompressedHandle h;
  const auto b = bytes_of(1, 3);
  EXPECT_EQ(store.store(b.data(), 1, &h), StoreStatus::kNoRoom);
  EXPECT_EQ(store.store(b.data(), 0, &h), StoreStatus::kBadLength);
  EXPECT_EQ(store.store(b.data(), 4097, &h), StoreStatus::kBadLength);
  audit();
  expect_contents();
}

TEST_F(CompressedStoreTest, SingleValuePagesTakeNoBytes) {
  make(1);
  CompressedHandle h;
  ASSERT_EQ(store.store_single_value(0x1234, &h), StoreStatus::kOk);
  EXPECT_EQ(store.stats().frames, 0u);
  EXPECT_EQ(store.stats().single_value_pages, 1u);
  const vm::StoredView v = store.view(h);
  EXPECT_TRUE(v.single_value);
  EXPECT_EQ(v.value, 0x1234u);
  audit();
  store.free(h);
  EXPECT_EQ(store.stats().single_value_pages, 0u);
  audit();
}

TEST_F(CompressedStoreTest, AnEmptiedFrameGoesBackAtOnce) {
  make(8);
  std::vector<CompressedHandle> first;
  for (uint32_t i = 0; i < 4; ++i) first.push_back(put(1000, i));
  put(1000, 9);  // second frame, now the open one
  EXPECT_EQ(source->outstanding(), 2u);
  for (auto h : first) drop(h);
  EXPECT_EQ(source->outstanding(), 1u);
  EXPECT_EQ(store.stats().frames_released, 1u);
  audit();
  expect_contents();
}

TEST_F(CompressedStoreTest, CompactionClosesHolesAndKeepsHandles) {
  make(64);
  std::vector<CompressedHandle> hs;
  for (uint32_t i = 0; i < 160; ++i) hs.push_back(put(300 + (i * 37) % 500, i));
  const uint64_t before = store.stats().frames;
  ASSERT_GE(before, 16u);
  // Free two of every three: each frame keeps some pages, so only
  // compaction can give frames back.
  for (size_t i = 0; i < hs.size(); ++i)
    if (i % 3 != 0) drop(hs[i]);
  EXPECT_GE(store.stats().compactions, 1u);
  EXPECT_GT(store.stats().bytes_moved, 0u);
  const uint64_t live = store.stats().live_bytes;
  // Packed again: at most one frame more than the live bytes need, plus
  // the ends of frames that could not take the next page (< 800 bytes each).
  EXPECT_LE(store.stats().frames * (4096 - 800), live + 4096);
  EXPECT_LT(store.stats().frames, before / 2);
  EXPECT_EQ(source->outstanding(), store.stats().frames);
  audit();
  expect_contents();
}

TEST_F(CompressedStoreTest, FullStoreCompactsToMakeRoom) {
  make(2);
  std::vector<CompressedHandle> hs;
  for (uint32_t i = 0; i < 8; ++i) hs.push_back(put(1000, i));  // 4 per frame
  CompressedHandle h;
  const auto b = bytes_of(1000, 99);
  EXPECT_EQ(store.store(b.data(), 1000, &h), StoreStatus::kNoRoom);
  // One hole in each frame: 2000 bytes free, but no frame has 1000 at its top.
  drop(hs[1]);
  drop(hs[5]);
  EXPECT_EQ(store.stats().compactions, 0u);  // below the free() threshold
  put(1000, 100);                            // store() compacts
  EXPECT_EQ(store.stats().compactions, 1u);
  put(1000, 101);
  EXPECT_EQ(store.store(b.data(), 1000, &h), StoreStatus::kNoRoom);
  audit();
  expect_contents();
}

TEST_F(CompressedStoreTest, SourceWithoutFramesIsReported) {
  make(8, 4096, /*source_limit=*/1);
  put(3000, 1);
  CompressedHandle h;
  const auto b = bytes_of(3000, 2);
  EXPECT_EQ(store.store(b.data(), 3000, &h), StoreStatus::kNoFrame);
  audit();
}

TEST_F(CompressedStoreTest, RunsOutOfSlots) {
  make(8, /*slot_count=*/3);
  put(10, 1);
  put(10, 2);
  CompressedHandle h;
  ASSERT_EQ(store.store_single_value(7, &h), StoreStatus::kOk);
  const auto b = bytes_of(10, 3);
  EXPECT_EQ(store.store(b.data(), 10, &h), StoreStatus::kNoSlot);
  EXPECT_EQ(store.store_single_value(7, &h), StoreStatus::kNoSlot);
  store.free(CompressedHandle{3});
  audit();
}

TEST_F(CompressedStoreTest, DoubleFreeAndForeignHandlesPanic) {
  make(8, 16);
  const CompressedHandle h = put(10, 1);
  drop(h);
  EXPECT_PANIC(store.free(h), "compressed store: free of handle 1, already free");
  EXPECT_PANIC(store.view(CompressedHandle{17}), "compressed store: view of handle 17, not a slot");
  EXPECT_PANIC(store.free(CompressedHandle{0}), "not a slot");
}

// The audit is not a rubber stamp: each corruption is named.
TEST_F(CompressedStoreTest, AuditNamesCorruption) {
  make(8, 64);
  const CompressedHandle a = put(100, 1);
  const CompressedHandle b = put(100, 2);
  audit();
  slots[b.id - 1].offset = 50;  // overlaps a
  EXPECT_STREQ(store.check(), "compressed store: packed pages overlap");
  slots[b.id - 1].offset = 100;
  frames[0].live_bytes += 1;
  EXPECT_STREQ(store.check(), "compressed store: a frame's counts disagree with its list");
  frames[0].live_bytes -= 1;
  slots[a.id - 1].prev = b.id - 1;
  EXPECT_STREQ(store.check(), "compressed store: a frame list's back links are wrong");
  slots[a.id - 1].prev = vm::kNoSlot;
  slots[5].kind = vm::StoredPage::Kind::kSingleValue;  // a free slot claims to be in use
  EXPECT_STREQ(store.check(), "compressed store: a slot in use is on the free list");
  slots[5].kind = vm::StoredPage::Kind::kFree;
  slots[b.id - 1].length = 4000;  // above the frame's top
  EXPECT_STREQ(store.check(), "compressed store: a packed page is above its frame's top");
  slots[b.id - 1].length = 100;
  audit();
}

// Random stores and frees of random sizes against a map of what each handle
// holds; the audit after every step, the contents often.
TEST_F(CompressedStoreTest, RandomWorkloadKeepsEveryPage) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    make(16 + seed * 4, 2048);
    std::mt19937 rng(seed);
    std::vector<CompressedHandle> live;
    uint64_t peak = 0;
    for (int step = 0; step < 3000; ++step) {
      const bool do_store = live.empty() || rng() % 100 < 55;
      if (do_store) {
        const uint32_t length = rng() % 4 == 0 ? 1 + rng() % 4096 : 1 + rng() % 1400;
        const auto b = bytes_of(length, static_cast<uint32_t>(step * 7919 + seed));
        CompressedHandle h;
        const StoreStatus st = store.store(b.data(), length, &h);
        if (st == StoreStatus::kOk) {
          stored[h] = b;
          live.push_back(h);
        } else {
          ASSERT_EQ(st, StoreStatus::kNoRoom) << "step " << step;
          // Only when the holes really cannot take it without splitting it.
          ASSERT_GT(store.stats().live_bytes + length + 0u,
                    store.budget_bytes() - 4096ull * store.stats().frames / 2 - 4096)
              << "refused with plenty of room, step " << step;
        }
      } else {
        const size_t i = rng() % live.size();
        drop(live[i]);
        live[i] = live.back();
        live.pop_back();
      }
      peak = std::max(peak, store.stats().frames);
      const char* broken = store.check();
      ASSERT_EQ(broken, nullptr) << broken << " at step " << step;
      if (step % 100 == 0) expect_contents();
    }
    expect_contents();
    EXPECT_LE(peak * 4096, store.budget_bytes());
    EXPECT_GT(store.stats().compactions, 0u) << "seed " << seed;
    TearDown();
  }
}

}  // namespace
