// The kernel's system-call entry points: what a syscall table calls, with the
// calling process and the user's arguments. Every trace op that is a system
// call reaches the VM through here, on both machines (engine/replay).
// Files and processes are named as the trace names them (where a real kernel
// would take a file descriptor or a pid); an unknown name is kFault.
#pragma once

#include "lib/types.hpp"
#include "sys/kernel.hpp"
#include "vm/vm.hpp"
#include "vm/vm_map.hpp"

namespace vm {

struct MmapArgs {
  vaddr_t addr = 0;
  bool has_addr = false;  // a hint, or the place with `fixed`
  u64 len = 0;
  Prot prot = kProtNone;
  bool shared = false;
  bool fixed = false;
  bool populate = false;
  const char* file = nullptr;    // nullptr: anonymous (or a device)
  const char* device = nullptr;  // a device mapping (spec §10); never with `file`
  u64 offset = 0;                // in the file or device
};

// A device mapping by a process that is not privileged is kPerm before
// anything else is looked at (Linux: opening /dev/mem needs CAP_SYS_RAWIO).
Status sys_mmap(Kernel& k, Process& p, const MmapArgs& args, vaddr_t* start_out);
Status sys_munmap(Kernel& k, Process& p, vaddr_t addr, u64 len);
Status sys_mprotect(Kernel& k, Process& p, vaddr_t addr, u64 len, Prot prot);
Status sys_madvise(Kernel& k, Process& p, vaddr_t addr, u64 len, Advice advice);
// Sets the break; `*brk_out` is the break afterwards.
Status sys_brk(Kernel& k, Process& p, vaddr_t addr, vaddr_t* brk_out);
// Moves the break by `incr`; `*old_out` is the break before.
Status sys_sbrk(Kernel& k, Process& p, i64 incr, vaddr_t* old_out);
// A child named `child_name` with a copy-on-write copy of `parent`'s memory.
Status sys_fork(Kernel& k, Process& parent, const char* child_name, Process** child_out);
Status sys_exec(Kernel& k, Process& p, const Kernel::ExecImage& image);
// The process and all its memory go.
Status sys_exit(Kernel& k, Process& p);
// The process needed memory nothing could free: it goes as by sys_exit, and
// the kill is counted (spec §8 `oom_kills`; docs/pressure.md).
Status sys_oom_kill(Kernel& k, Process& p);
// A write into process `target`'s memory through the kernel (ptrace).
Status sys_poke(Kernel& k, const char* target, vaddr_t addr, u32 size, u64 value);
Status sys_pwrite(Kernel& k, const char* file, u64 offset, u8 value, u64 len);
Status sys_truncate(Kernel& k, const char* file, u64 size);
// The block cache (spec §3 cache_put / cache_get; vm_cache_put in vm/vm_map.hpp).
// A get returns kHit or kMiss, or why the block could not go to `addr`.
Status sys_cache_put(Kernel& k, Process& p, u64 id, vaddr_t addr, u64 len);
Status sys_cache_get(Kernel& k, Process& p, u64 id, vaddr_t addr);
// The `pageout` op: reclaim up to `pages` frames now; `*freed_out` says how
// many were freed (fewer when nothing more can leave memory).
Status sys_pageout(Kernel& k, u64 pages, u64* freed_out);

}  // namespace vm
