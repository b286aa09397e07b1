#include "vm/vm.hpp"

#include "vm/vm_map.hpp"

namespace vm {

Status Vm::boot(u64 ram_bytes, u64 reserved_frames) {
  pages.init(platform, ram_bytes, reserved_frames);
  zero_page = pages.alloc_zeroed();
  if (zero_page == nullptr) return Status::kNoMem;
  zero_page->state = Page::State::kZero;
  objects.init("vm_object", pages, platform);
  regions.init("vm_region", pages, platform);
  spaces.init("address_space", pages, platform);
  return Status::kOk;
}

}  // namespace vm
