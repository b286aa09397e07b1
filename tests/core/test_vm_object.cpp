// Memory objects: shadows, lookups through a chain, collapse, deallocation,
// checked directly on the core's structures over a fake platform.
#include <gtest/gtest.h>

#include "fake_platform.hpp"
#include "lib/mem.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"
#include "vm/vm_object.hpp"

namespace {

using vm::Page;
using vm::TlbBatch;
using vm::VmObject;

constexpr size_t kRam = 4 << 20;

class VmObjectTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(vm_.boot(kRam, 0), vm::Status::kOk); }

  // A page of `object` at `index` holding `byte` everywhere.
  Page* add_page(VmObject* object, vm::u64 index, vm::u8 byte) {
    Page* p = vm_.pages.alloc();
    EXPECT_NE(p, nullptr);
    vm::mem_set(vm_.pages.data(p), byte, vm::kPageSize);
    vm::vm_object_insert(vm_, object, p, index);
    return p;
  }
  vm::u8 byte_at(Page* p) { return vm_.pages.data(p)[0]; }
  vm::u64 in_use() { return vm_.pages.stats().in_use; }

  vmtest::FakePlatform platform_{kRam};
  vm::Vm vm_{platform_};
};

TEST_F(VmObjectTest, ShadowShowsBackingPagesUntilItHasItsOwn) {
  VmObject* base = vm::vm_object_allocate(vm_, VmObject::Kind::kAnonymous, 8);
  add_page(base, 2, 0x22);
  add_page(base, 5, 0x55);
  // The shadow sees base's pages 2..5 as its 0..3.
  VmObject* top = vm::vm_object_shadow(vm_, base, 2, 4);
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(base->shadow_count.load(), 1u);
  EXPECT_EQ(vm::vm_object_chain_length(top), 2u);

  VmObject* owner = nullptr;
  Page* p = vm::vm_object_lookup_chain(top, 0, &owner);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(owner, base);
  EXPECT_EQ(byte_at(p), 0x22);
  EXPECT_EQ(vm::vm_object_lookup_chain(top, 1, &owner), nullptr);  // zero
  add_page(top, 3, 0x77);  // its own copy hides base's page 5
  p = vm::vm_object_lookup_chain(top, 3, &owner);
  EXPECT_EQ(owner, top);
  EXPECT_EQ(byte_at(p), 0x77);
}

TEST_F(VmObjectTest, CollapseMovesVisiblePagesAndFreesTheRest) {
  VmObject* base = vm::vm_object_allocate(vm_, VmObject::Kind::kAnonymous, 8);
  Page* visible = add_page(base, 2, 0x22);
  add_page(base, 5, 0x55);  // hidden by the shadow's own page
  add_page(base, 7, 0x77);  // outside the shadow's window
  VmObject* top = vm::vm_object_shadow(vm_, base, 2, 4);
  add_page(top, 3, 0x33);
  const vm::u64 before = in_use();
  {
    TlbBatch batch(platform_, vm_.pages);
    vm::vm_object_collapse(vm_, top, batch);
  }
  // base's only reference was the shadow's: merged, without copying.
  EXPECT_EQ(top->backing, nullptr);
  EXPECT_EQ(vm_.stats.collapses.load(), 1u);
  EXPECT_EQ(vm::vm_object_lookup(top, 0), visible);  // the same frame, moved
  EXPECT_EQ(visible->object, top);
  EXPECT_EQ(byte_at(vm::vm_object_lookup(top, 3)), 0x33);
  EXPECT_EQ(top->resident.size(), 2u);
  // Two pages of base and base itself (a slab object, no frame) are gone.
  EXPECT_EQ(in_use(), before - 2);
}

TEST_F(VmObjectTest, NoCollapseWhileSomethingElseSeesTheBackingObject) {
  VmObject* base = vm::vm_object_allocate(vm_, VmObject::Kind::kAnonymous, 4);
  add_page(base, 0, 0x11);
  VmObject* left = vm::vm_object_shadow(vm_, base, 0, 4);
  vm::vm_object_reference(vm_, base);
  VmObject* right = vm::vm_object_shadow(vm_, base, 0, 4);
  TlbBatch batch(platform_, vm_.pages);
  vm::vm_object_collapse(vm_, left, batch);
  EXPECT_EQ(left->backing, base);  // right still shares it
  // Once one side is gone, the other collapses.
  vm::vm_object_deallocate(vm_, right, batch);
  EXPECT_EQ(base->shadow_count.load(), 1u);
  vm::vm_object_collapse(vm_, left, batch);
  EXPECT_EQ(left->backing, nullptr);
  EXPECT_EQ(byte_at(vm::vm_object_lookup(left, 0)), 0x11);
}

TEST_F(VmObjectTest, DeallocatingTheLastShadowFreesTheWholeChain) {
  const vm::u64 before = in_use();
  VmObject* base = vm::vm_object_allocate(vm_, VmObject::Kind::kAnonymous, 4);
  add_page(base, 0, 1);
  VmObject* mid = vm::vm_object_shadow(vm_, base, 0, 4);
  add_page(mid, 1, 2);
  VmObject* top = vm::vm_object_shadow(vm_, mid, 0, 4);
  add_page(top, 2, 3);
  {
    TlbBatch batch(platform_, vm_.pages);
    vm::vm_object_deallocate(vm_, top, batch);
  }
  EXPECT_TRUE(vm_.all_objects.empty());
  EXPECT_EQ(vm_.objects.stats().in_use, 0u);
  // Slab frames may stay cached; every data frame is back.
  EXPECT_LE(in_use(), before + 1);
  EXPECT_EQ(vm_.pages.check(), nullptr);
}

TEST_F(VmObjectTest, RemovingAMappedPagePanics) {
  VmObject* object = vm::vm_object_allocate(vm_, VmObject::Kind::kAnonymous, 4);
  Page* p = add_page(object, 1, 9);
  p->map_count.store(1);
  TlbBatch batch(platform_, vm_.pages);
  EXPECT_PANIC(vm::vm_object_page_remove(vm_, object, 0, 4, batch), "still has 1 mappings");
  p->map_count.store(0);
}

// Regression: a failed insert into the resident tree (the index already
// there) was ignored, leaving a page that claims an object that does not
// hold it.
TEST_F(VmObjectTest, InsertingASecondPageAtAnIndexPanics) {
  VmObject* object = vm::vm_object_allocate(vm_, VmObject::Kind::kAnonymous, 4);
  add_page(object, 1, 9);
  Page* second = vm_.pages.alloc();
  EXPECT_PANIC(vm::vm_object_insert(vm_, object, second, 1), "already has a resident page 1");
}

// Regression: dropping a mapping of a page whose count was already zero
// silently stopped at zero, hiding a broken reverse map.
TEST_F(VmObjectTest, DroppingAMappingThatIsNotThereIsAnInvariantFailure) {
  VmObject* object = vm::vm_object_allocate(vm_, VmObject::Kind::kAnonymous, 4);
  Page* p = add_page(object, 3, 9);
  vm::page_map_add(p);
  vm::page_map_drop(platform_, p);
  EXPECT_EQ(p->map_count.load(), 0u);
  EXPECT_PANIC(vm::page_map_drop(platform_, p), "page 3 of object");
  EXPECT_PANIC(vm::page_map_drop(platform_, p), "has no mapping left to drop");
}

}  // namespace
