#include "sys/syscalls.hpp"

#include "vm/pageout.hpp"

namespace vm {
namespace {

// Every call starts with a margin of free frames (vm_pageout_balance): the
// frames a call needs midway, under locks pageout cannot work around, come
// from it. A call listed with `retry` undoes itself when it finds no memory,
// so it is run again as long as pageout frees something (Linux's direct
// reclaim, then the allocation again); only then is it out of memory.
template <class Call>
Status with_memory(Kernel& k, bool retry, Call call) {
  vm_pageout_balance(k.vm);
  Status s = call();
  while (retry && s == Status::kNoMem && vm_reclaim(k.vm)) s = call();
  return s;
}

}  // namespace

Status sys_mmap(Kernel& k, Process& p, const MmapArgs& args, vaddr_t* start_out) {
  if (args.device != nullptr && !p.privileged) return Status::kPerm;
  return with_memory(k, false, [&] {
    MmapRequest req;
    req.has_addr = args.has_addr;
    req.addr = args.addr;
    req.len = args.len;
    req.prot = args.prot;
    req.share = args.shared ? Share::kShared : Share::kPrivate;
    req.fixed = args.fixed;
    req.populate = args.populate;
    if (args.file != nullptr) {
      req.file = k.find_file(args.file);
      if (req.file == nullptr) return Status::kFault;
      req.offset = args.offset;
    } else if (args.device != nullptr) {
      req.device = k.find_device(args.device);
      if (req.device == nullptr) return Status::kFault;
      req.offset = args.offset;
    }
    return vm_mmap(k.vm, *p.as, req, start_out);
  });
}

Status sys_munmap(Kernel& k, Process& p, vaddr_t addr, u64 len) {
  return with_memory(k, false, [&] { return vm_munmap(k.vm, *p.as, addr, len); });
}

Status sys_mprotect(Kernel& k, Process& p, vaddr_t addr, u64 len, Prot prot) {
  return with_memory(k, false, [&] { return vm_mprotect(k.vm, *p.as, addr, len, prot); });
}

Status sys_madvise(Kernel& k, Process& p, vaddr_t addr, u64 len, Advice advice) {
  return with_memory(k, false, [&] { return vm_madvise(k.vm, *p.as, addr, len, advice); });
}

Status sys_brk(Kernel& k, Process& p, vaddr_t addr, vaddr_t* brk_out) {
  return with_memory(k, false, [&] { return vm_brk(k.vm, *p.as, addr, brk_out); });
}

Status sys_sbrk(Kernel& k, Process& p, i64 incr, vaddr_t* old_out) {
  return with_memory(k, false, [&] { return vm_sbrk(k.vm, *p.as, incr, old_out); });
}

Status sys_fork(Kernel& k, Process& parent, const char* child_name, Process** child_out) {
  return with_memory(k, true, [&] { return k.fork_process(&parent, child_name, child_out); });
}

Status sys_exec(Kernel& k, Process& p, const Kernel::ExecImage& image) {
  return with_memory(k, true, [&] { return k.exec(&p, image); });
}

Status sys_exit(Kernel& k, Process& p) {
  k.destroy_process(&p);
  return Status::kOk;
}

Status sys_oom_kill(Kernel& k, Process& p) {
  k.vm.stats.oom_kills.add(1);
  return sys_exit(k, p);
}

Status sys_poke(Kernel& k, const char* target, vaddr_t addr, u32 size, u64 value) {
  return with_memory(k, false, [&] {
    Process* p = k.find_process(target);
    return p == nullptr ? Status::kFault : k.poke(p, addr, size, value);
  });
}

Status sys_pwrite(Kernel& k, const char* file, u64 offset, u8 value, u64 len) {
  return with_memory(k, true, [&] {
    Vnode* v = k.find_file(file);
    return v == nullptr ? Status::kFault : k.pwrite(v, offset, value, len);
  });
}

Status sys_truncate(Kernel& k, const char* file, u64 size) {
  return with_memory(k, false, [&] {
    Vnode* v = k.find_file(file);
    return v == nullptr ? Status::kFault : k.truncate(v, size);
  });
}

// Both undo themselves on kNoMem (a region split or a new object refused),
// so they are retried after reclaim.
Status sys_cache_put(Kernel& k, Process& p, u64 id, vaddr_t addr, u64 len) {
  return with_memory(k, true, [&] { return vm_cache_put(k.vm, *p.as, p.cache, id, addr, len); });
}

Status sys_cache_get(Kernel& k, Process& p, u64 id, vaddr_t addr) {
  return with_memory(k, true, [&] { return vm_cache_get(k.vm, *p.as, p.cache, id, addr); });
}

Status sys_pageout(Kernel& k, u64 pages, u64* freed_out) {
  *freed_out = vm_pageout(k.vm, pages);
  return Status::kOk;
}

}  // namespace vm
