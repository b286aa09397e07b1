#include "vm/delayed_invalidation.hpp"

#include "locker.hpp"

namespace vm {

u64 DelayedInvalidations::owe(Platform& platform, TlbBatch& batch) {
  if (batch.owing_gen != 0) return batch.owing_gen;  // the batch is its thread's own
  LeafLocker guard(platform, lock_);
  if (batch.owing_gen == 0) {
    batch.owing_gen = ++last_gen_;
    batch.owing = this;
    owing_.push_back(&batch);  // generations grow: the list stays in order
  }
  return batch.owing_gen;
}

void DelayedInvalidations::paid(Platform& platform, TlbBatch& batch) {
  LeafLocker guard(platform, lock_);
  owing_.remove(&batch);
  batch.owing_gen = 0;
  batch.owing = nullptr;
}

bool DelayedInvalidations::settled(Platform& platform, u64 gen) {
  if (gen == 0) return true;
  LeafLocker guard(platform, lock_);
  const TlbBatch* oldest = owing_.front();
  return oldest == nullptr || oldest->owing_gen > gen;
}

}  // namespace vm
