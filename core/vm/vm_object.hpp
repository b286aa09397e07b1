// A memory object: a sized array of pages, some of them resident (Mach's
// vm_object). Anonymous objects create their pages zero-filled on first use.
// Regions map ranges of objects; an object lives while anything references it.
#pragma once

#include "lib/avl_tree.hpp"
#include "lib/list.hpp"
#include "lib/mutex.hpp"
#include "lib/types.hpp"
#include "vm/page.hpp"

namespace vm {

class Vm;
class TlbBatch;

struct PageIndexKey {
  u64 operator()(const Page& p) const { return p.index; }
};

class VmObject {
 public:
  enum class Kind : u8 { kAnonymous };

  VmObject(Kind kind, u64 size_pages) : kind(kind), size_pages(size_pages) {}

  const Kind kind;
  // Invariant: equals the number of regions mapping this object; the object
  // is destroyed when it drops to zero.
  u32 ref_count = 1;
  // Set while only one address range of one map can reach the pages, so
  // pages of a range being unmapped can be freed at once (FreeBSD's
  // OBJ_ONEMAPPING). Private anonymous objects start with it.
  bool one_mapping = false;
  // Pages [0, size_pages) exist; resident ones are in `resident`.
  u64 size_pages;
  // Invariant: holds exactly the Pages with state kObject and object == this,
  // keyed by their index, each index < size_pages.
  AvlTree<Page, &Page::object_node, PageIndexKey> resident;
  Mutex lock{"vm_object"};
  ListNode all_link;   // in Vm::all_objects, for the audit
  u32 audit_refs = 0;  // scratch for the audit's reference count
};

// Creates an object with one reference; nullptr when no memory is left.
VmObject* vm_object_allocate(Vm& vm, VmObject::Kind kind, u64 size_pages);
void vm_object_reference(VmObject* object);
// Drops a reference; the last one frees every resident page (deferred in
// `batch` until its invalidations are done) and the object itself.
void vm_object_deallocate(Vm& vm, VmObject* object, TlbBatch& batch);

Page* vm_object_lookup(VmObject* object, u64 index);
// Makes a free frame `page` the resident page `index` of `object`.
void vm_object_insert(VmObject* object, Page* page, u64 index);
// Frees the resident pages with index in [start, end). They must be unmapped
// (map_count 0); freeing waits for `batch`'s invalidations.
void vm_object_page_remove(Vm& vm, VmObject* object, u64 start, u64 end, TlbBatch& batch);

}  // namespace vm
