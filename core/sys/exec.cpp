// exec: a fresh image in a fresh address space, swapped in only when whole.
#include "locker.hpp"
#include "sys/kernel.hpp"

namespace vm {
namespace {

inline constexpr vaddr_t kTextBase = 0x400000;
inline constexpr vaddr_t kStackTop = kUserTop;
inline constexpr u8 kTextFill = 0xcc;  // int3: a stray jump into text traps
inline constexpr u8 kDataFill = 0xda;

Status build_image(Vm& vm, AddressSpace& as, const Kernel::ExecImage& image) {
  const u64 text = page_round(image.text);
  const u64 data = page_round(image.data);
  const u64 bss = page_round(image.bss);
  const u64 stack = page_round(image.stack);
  vaddr_t at = kTextBase;
  if (text != 0) {
    Status s = vm_map_anonymous_at(vm, as, at, text, kProtRead | kProtExec, &kTextFill);
    if (s != Status::kOk) return s;
    at += text;
  }
  if (data != 0) {
    Status s = vm_map_anonymous_at(vm, as, at, data, kProtRead | kProtWrite, &kDataFill);
    if (s != Status::kOk) return s;
    at += data;
  }
  if (bss != 0) {
    Status s = vm_map_anonymous_at(vm, as, at, bss, kProtRead | kProtWrite, nullptr);
    if (s != Status::kOk) return s;
    at += bss;
  }
  {
    // Nobody else can reach the new space yet; the lock is the rule anyway.
    MutexLocker lock(vm.platform, as.lock);
    as.brk = at;
    as.brk_start = at;
  }
  if (stack != 0)
    return vm_map_anonymous_at(vm, as, kStackTop - stack, stack, kProtRead | kProtWrite, nullptr);
  return Status::kOk;
}

}  // namespace

Status Kernel::exec(Process* p, const ExecImage& image) {
  AddressSpace* fresh = vm_map_create(vm);
  if (fresh == nullptr) return Status::kNoMem;
  if (build_image(vm, *fresh, image) != Status::kOk) {
    vm_map_destroy(vm, fresh);
    return Status::kNoMem;
  }
  AddressSpace* old = p->as;
  {
    UseScope use(p);  // a process is a slab object; `as` is the kernel's (k)
    p->as = fresh;
  }
  vm_map_destroy(vm, old);
  return Status::kOk;
}

}  // namespace vm
