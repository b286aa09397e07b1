#include "vm/compressor/compressor.hpp"

#include "lib/format.hpp"
#include "locker.hpp"
#include "vm/compressor/single_value.hpp"
#include "vm/vm.hpp"
#include "vm/vm_object.hpp"

namespace vm {
namespace {

// Slots per frame of budget: single-value pages take a slot and no bytes,
// and real memory compresses 3-5 times (docs/compressor.md).
constexpr u64 kSlotsPerFrame = 16;
// A page is kept only if it compresses to at most this: one that saves less
// than an eighth is not worth the CPU (zswap keeps anything under a page).
constexpr u32 kMaxStoredBytes = kPageSize - kPageSize / 8;
// Free bytes in the held frames that still count as room (a page of one
// byte and zeros compresses to about this).
constexpr u64 kRoomBytes = 16;
// Entries take_oldest looks at before it gives up (their owners busy).
constexpr u32 kOldestTries = 8;

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

CompressResult Compressor::store(const u8* page, SwapEntry* entry) {
  LeafLocker guard(vm_->platform, lock_);
  UseScope use(entry);  // a swap entry is a slab object; the store fills its handle
  const EncodeResult r = page_encode(page, out_, kMaxStoredBytes, scratch_);
  if (r.kind == EncodeKind::kIncompressible) return CompressResult::kIncompressible;
  const StoreStatus s = r.kind == EncodeKind::kSingleValue
                            ? store_.store_single_value(r.value, &entry->compressed)
                            : store_.store(out_, r.length, &entry->compressed);
  if (s != StoreStatus::kOk) return CompressResult::kNoRoom;
  vm_->stats.compressed_stores.add(1);
  vm_->stats.compressor_bytes_peak.raise_to(store_.held_bytes());
  return CompressResult::kStored;
}

void Compressor::load(const SwapEntry* entry, u8* page) {
  LeafLocker guard(vm_->platform, lock_);
  decode(entry, page);
}

void Compressor::free(SwapEntry* entry) {
  LeafLocker guard(vm_->platform, lock_);
  forget(entry);
}

// The device write happens under lock_: out_ is the bounce buffer, and a
// write to the swap device is a copy on both machines.
void Compressor::move_to_swap(SwapEntry* entry, u64 slot) {
  LeafLocker guard(vm_->platform, lock_);
  decode(entry, out_);
  vm_->platform.swap_write(slot, out_);
  forget(entry);
}

void Compressor::decode(const SwapEntry* entry, u8* page) {
  const StoredView v = store_.view(entry->compressed);
  if (v.single_value) {
    page_fill_value(page, v.value);
    return;
  }
  const DecodeStatus s = page_decode(v.bytes, v.length, page);
  if (s != DecodeStatus::kOk) {
    FixedString<96> msg;
    msg << "compressor: stored page " << entry->compressed.id
        << " does not decode: " << decode_status_name(s);
    vm_->platform.panic(msg.c_str());
  }
}

void Compressor::unlink(SwapEntry* entry) {
  if (entry->age.linked()) by_age_.remove(entry);
  UseScope use(entry);
  entry->owner = nullptr;
}

void Compressor::forget(SwapEntry* entry) {
  unlink(entry);
  store_.free(entry->compressed);
  UseScope use(entry);
  entry->compressed = CompressedHandle{};
}

void Compressor::track(SwapEntry* entry, VmObject* owner) {
  LeafLocker guard(vm_->platform, lock_);
  UseScope use(entry);
  entry->owner = owner;
  by_age_.push_back(entry);
}

void Compressor::untrack(SwapEntry* entry) {
  LeafLocker guard(vm_->platform, lock_);
  unlink(entry);
}

void Compressor::set_owner(SwapEntry* entry, VmObject* owner) {
  LeafLocker guard(vm_->platform, lock_);
  UseScope use(entry);
  entry->owner = owner;
}

// A trylock never waits, so it may be taken under this leaf lock; holding
// lock_ keeps the entry, hence its owner, alive until then (an object frees
// its entries under its own lock and this one).
SwapEntry* Compressor::take_oldest(VmObject** owner) NO_THREAD_SAFETY_ANALYSIS {
  LeafLocker guard(vm_->platform, lock_);
  u32 tried = 0;
  for (SwapEntry* e = by_age_.front(); e != nullptr && tried < kOldestTries;
       e = by_age_.next(e), ++tried) {
    if (!vm_->platform.mutex_trylock(e->owner->lock)) continue;
    by_age_.remove(e);
    *owner = e->owner;
    UseScope use(e);
    e->owner = nullptr;
    return e;
  }
  return nullptr;
}

u64 Compressor::held_bytes() {
  if (budget_ == 0) return 0;
  LeafLocker guard(vm_->platform, lock_);
  return store_.held_bytes();
}

bool Compressor::has_room() {
  if (budget_ == 0) return false;
  LeafLocker guard(vm_->platform, lock_);
  if (store_.free_slots() == 0) return false;
  const CompressedStoreStats& s = store_.stats();
  return store_.held_bytes() < budget_ || s.frames * kPageSize - s.live_bytes >= kRoomBytes;
}

const char* Compressor::check() {
  if (budget_ == 0) return nullptr;
  LeafLocker guard(vm_->platform, lock_);
  if (by_age_.check() != nullptr) return "compressor: the age list is broken";
  for (const SwapEntry* e = by_age_.front(); e != nullptr; e = by_age_.next(e))
    if (!e->compressed.valid() || e->owner == nullptr)
      return "compressor: an entry in the age list holds no page or has no owner";
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
