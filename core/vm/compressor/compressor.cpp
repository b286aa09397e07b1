#include "vm/compressor/compressor.hpp"

#include "lib/format.hpp"
#include "locker.hpp"
#include "vm/compressor/single_value.hpp"
#include "vm/vm.hpp"

namespace vm {
namespace {

// Slots per frame of budget: single-value pages take a slot and no bytes,
// and real memory compresses 3-5 times (docs/compressor.md).
constexpr u64 kSlotsPerFrame = 16;
// A page is kept only if it compresses to at most this: one that saves less
// than an eighth is not worth the CPU (zswap keeps anything under a page).
constexpr u32 kMaxStoredBytes = kPageSize - kPageSize / 8;

u64 slot_count(u64 budget_bytes) {
  const u64 n = CompressedStore::frames_for(budget_bytes) * kSlotsPerFrame;
  return n < kNoSlot ? n : kNoSlot - 1;
}

u64 align8(u64 n) {
  return (n + 7) & ~u64{7};
}

}  // namespace

u64 Compressor::table_bytes(u64 budget_bytes) {
  if (budget_bytes == 0) return 0;
  return align8(slot_count(budget_bytes) * sizeof(StoredPage)) +
         CompressedStore::frames_for(budget_bytes) * sizeof(PoolFrame);
}

void Compressor::init(Vm& vm, u64 budget_bytes, u8* tables) {
  vm_ = &vm;
  budget_ = budget_bytes;
  if (budget_bytes == 0) return;
  const u64 slots = slot_count(budget_bytes);
  const u64 frames = CompressedStore::frames_for(budget_bytes);
  auto* slot_array = reinterpret_cast<StoredPage*>(tables);
  auto* frame_table = reinterpret_cast<PoolFrame*>(tables + align8(slots * sizeof(StoredPage)));
  LeafLocker guard(vm.platform, lock_);
  store_.init(vm.platform, *this, budget_bytes, slot_array, static_cast<u32>(slots), frame_table,
              static_cast<u32>(frames));
}

bool Compressor::store(const u8* page, CompressedHandle* out) {
  LeafLocker guard(vm_->platform, lock_);
  const EncodeResult r = page_encode(page, out_, kMaxStoredBytes, scratch_);
  StoreStatus s = StoreStatus::kNoRoom;
  if (r.kind == EncodeKind::kSingleValue) {
    s = store_.store_single_value(r.value, out);
  } else if (r.kind == EncodeKind::kCompressed) {
    s = store_.store(out_, r.length, out);
  }
  if (s != StoreStatus::kOk) return false;
  vm_->stats.compressed_stores.add(1);
  vm_->stats.compressor_bytes_peak.raise_to(store_.held_bytes());
  return true;
}

void Compressor::load(CompressedHandle h, u8* page) {
  LeafLocker guard(vm_->platform, lock_);
  const StoredView v = store_.view(h);
  if (v.single_value) {
    page_fill_value(page, v.value);
    return;
  }
  const DecodeStatus s = page_decode(v.bytes, v.length, page);
  if (s != DecodeStatus::kOk) {
    FixedString<96> msg;
    msg << "compressor: stored page " << h.id << " does not decode: " << decode_status_name(s);
    vm_->platform.panic(msg.c_str());
  }
}

void Compressor::free(CompressedHandle h) {
  LeafLocker guard(vm_->platform, lock_);
  store_.free(h);
}

const char* Compressor::check() {
  if (budget_ == 0) return nullptr;
  LeafLocker guard(vm_->platform, lock_);
  return store_.check();
}

// Called by the store under lock_: the page allocator's lock nests inside
// it, as it does inside the swap arena's.
u8* Compressor::alloc_frame() {
  Page* page = vm_->pages.alloc(AllocClass::kReserved);
  if (page == nullptr) return nullptr;
  page->state = Page::State::kKernel;
  return vm_->pages.data(page);
}

void Compressor::free_frame(u8* frame) {
  vm_->pages.free(vm_->pages.page_containing(frame));
}

}  // namespace vm
