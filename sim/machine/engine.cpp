#include "machine/engine.hpp"

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "machine/firmware.hpp"
#include "machine/stubs.hpp"

namespace vmsim {
namespace {

constexpr uint64_t kCr0Pe = 1ull << 0;
constexpr uint64_t kCr0Wp = 1ull << 16;
constexpr uint64_t kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pae = 1ull << 5;
constexpr uint64_t kCr4Pge = 1ull << 7;  // global pages: the kernel half survives CR3 writes
constexpr uint64_t kCr4Pke = 1ull << 22;
constexpr uint32_t kMsrEfer = 0xc0000080;
constexpr uint64_t kEferLme = 1ull << 8;
constexpr uint64_t kEferLma = 1ull << 10;
constexpr uint64_t kEferNxe = 1ull << 11;
constexpr uint64_t kRflagsReserved1 = 1ull << 1;  // always-one bit; IF stays clear

constexpr int kExcBreakpoint = 3;  // the INT3 that ends every stub
constexpr int kExcGeneralProtection = 13;
constexpr int kExcPageFault = 14;

// Unicorn's `until`: a run stops when the CPU reaches it. Every run passes
// 0, an address no stub ever executes, so in effect there is none; runs end
// at the INT3 of vmsim_ustub_done instead. Why: after each run Unicorn
// invalidates the translated blocks on the page of `until - 1`, including
// every zero-size block there, and the exit block it generates at `until`
// is zero-size. With a real `until` that block was translated anew on every
// run, the code buffer filled, and the tb_flush that followed crashed
// Unicorn 2.1.1 (in tb_set_jmp_target). For `until == 0` Unicorn skips the
// invalidation altogether.
constexpr uint64_t kNoUntil = 0;

void check(uc_err err, const char* what) {
  if (err != UC_ERR_OK) {
    throw std::runtime_error(std::string("machine: ") + what + ": " + uc_strerror(err));
  }
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("machine: " + what);
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

// The registers of a UserContext, in one order for both directions of the
// batch transfer. RIP goes last: it is read back but written by
// uc_emu_start itself.
std::array<int, 8> kContextRegs = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RSI,
                                   UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_RIP};
constexpr int kGprCount = 7;

std::array<void*, 8> context_slots(UserContext& ctx) {
  return {&ctx.rax, &ctx.rcx, &ctx.rdx, &ctx.rsi, &ctx.rdi, &ctx.r8, &ctx.r9, &ctx.rip};
}

bool in_user_stubs(uint64_t rip) {
  return rip >= fw::kUserStubVa && rip < fw::kUserStubVa + fw::kUserStubBytes;
}

}  // namespace

Engine::Engine(const EngineConfig& config) {
  open(config);
  enable_paging(config);
  write_reg(UC_X86_REG_RSP, fw::kKernelStackTop);
  ring0_ = alloc_context();
  save(ring0_.get());
  enter_user(config.pku);
  user_ = alloc_context();
  save(user_.get());
  base_ = Base::kUser;
  root_ = config.kernel_root;
}

Engine::~Engine() = default;

void Engine::open(const EngineConfig& config) {
  uc_engine* uc = nullptr;
  check(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), "uc_open");
  uc_.reset(uc);
  // Both settings only take before the engine's first real use. QEMU64 has
  // NX; Skylake-Server also has PKU (protection keys).
  const int model = config.pku ? UC_CPU_X86_SKYLAKE_SERVER : UC_CPU_X86_QEMU64;
  check(uc_ctl_set_cpu_model(uc, model), "set cpu model");
  if (config.tcg_buffer_bytes != 0) {
    check(uc_ctl_set_tcg_buffer_size(uc, config.tcg_buffer_bytes), "set TCG buffer size");
  }
  for (const EngineConfig::Range& r : config.ranges) {
    check(uc_mem_map_ptr(uc, r.pa, r.bytes, UC_PROT_ALL, config.phys + r.pa),
          "map physical memory");
  }
  check(uc_hook_add(uc, &hook_, UC_HOOK_INTR, reinterpret_cast<void*>(&Engine::on_interrupt), this,
                    1, 0),
        "add interrupt hook");
}

// Paging on, from the host: GDT, CR3, CR4.PAE (before CR0.PG, which checks
// it), CR0.PG|WP, EFER.NXE. UC_MODE_64 starts with EFER.LME|LMA set; the
// write keeps them. Every bit is read back: a CPU model without a feature
// silently drops it.
void Engine::enable_paging(const EngineConfig& config) {
  uc_x86_mmr gdtr{};
  gdtr.base = fw::kGdtVa;
  gdtr.limit = fw::kGdtLimit;
  check(uc_reg_write(uc_.get(), UC_X86_REG_GDTR, &gdtr), "write GDTR");
  write_reg(UC_X86_REG_CR3, config.kernel_root);
  const uint64_t cr4 = read_reg(UC_X86_REG_CR4) | kCr4Pae | kCr4Pge | (config.pku ? kCr4Pke : 0);
  write_reg(UC_X86_REG_CR4, cr4);
  const uint64_t cr0 = read_reg(UC_X86_REG_CR0) | kCr0Pe | kCr0Pg | kCr0Wp;
  write_reg(UC_X86_REG_CR0, cr0);
  uc_x86_msr efer{kMsrEfer, 0};
  check(uc_reg_read(uc_.get(), UC_X86_REG_MSR, &efer), "read EFER");
  efer.value |= kEferNxe;
  check(uc_reg_write(uc_.get(), UC_X86_REG_MSR, &efer), "write EFER");

  efer.value = 0;
  check(uc_reg_read(uc_.get(), UC_X86_REG_MSR, &efer), "read EFER");
  if ((read_reg(UC_X86_REG_CR0) & cr0) != cr0) fail("CR0.PG/WP did not take");
  if ((read_reg(UC_X86_REG_CR4) & cr4) != cr4) fail("CR4.PAE/PGE/PKE did not take");
  if (read_reg(UC_X86_REG_CR3) != config.kernel_root) fail("CR3 did not take");
  const uint64_t need = kEferLme | kEferLma | kEferNxe;
  if ((efer.value & need) != need) fail("EFER.LME/LMA/NXE not set: " + hex(efer.value));
}

// Writing CS/SS from the host does not change the CPL; an IRETQ does. The
// ring-0 stub builds the frame and returns to the stubs' final INT3 at
// CPL 3, so the engine stops there in user mode.
void Engine::enter_user(bool pku) {
  write_reg(UC_X86_REG_R11, stubs::user_va(vmsim_ustub_done));
  write_reg(UC_X86_REG_R12, fw::kUserCs);
  write_reg(UC_X86_REG_R13, fw::kUserDs);
  write_reg(UC_X86_REG_R14, kRflagsReserved1);
  write_reg(UC_X86_REG_R8, fw::kStubPkru);
  emulate(stubs::kernel_va(pku ? vmsim_kstub_enter_user_pkru : vmsim_kstub_enter_user));
  expect_completed("entering CPL 3");
  if (read_reg(UC_X86_REG_CS) != fw::kUserCs || read_reg(UC_X86_REG_SS) != fw::kUserDs) {
    fail("IRETQ did not load the user selectors");
  }
}

void Engine::on_interrupt(uc_engine* uc, uint32_t intno, void* self) {
  auto* engine = static_cast<Engine*>(self);
  engine->trap_.intno = static_cast<int>(intno);
  if (intno == kExcPageFault) uc_reg_read(uc, UC_X86_REG_CR2, &engine->trap_.cr2);
  // Every vector ends the run: INT3 is the stubs' end, and after a fault
  // the CPU would otherwise retry the faulting instruction at once.
  uc_emu_stop(uc);
}

// Makes the CPU state derive from `base` with no exception in flight.
// QEMU's i386 core remembers the exception being delivered (old_exception)
// until delivery completes, and Unicorn's hook path never completes it: left
// alone, the next #PF would become #DF and the one after a triple fault.
// Restoring a context saved at a clean point resets it.
void Engine::become(Base base) {
  if (base_ == base && !dirty_) return;
  check(uc_context_restore(uc_.get(), base == Base::kUser ? user_.get() : ring0_.get()),
        "restore context");
  base_ = base;
  dirty_ = false;
}

// CR3 write = full flush of this engine's TLB, as on hardware without PCID.
// The new CR3 is saved into the user context at once, keeping its invariant
// (a later restore must never move CR3 behind the TLB's back).
void Engine::switch_root(uint64_t root) {
  check(uc_context_restore(uc_.get(), user_.get()), "restore context");
  write_reg(UC_X86_REG_CR3, root);
  save(user_.get());
  root_ = root;
}

Stop Engine::run(uint64_t root, UserContext& ctx) {
  if (!in_user_stubs(ctx.rip)) {
    throw std::invalid_argument("machine: run: rip " + hex(ctx.rip) + " is not in the user stubs");
  }
  become(Base::kUser);
  if (root != root_) switch_root(root);

  auto slots = context_slots(ctx);
  check(uc_reg_write_batch(uc_.get(), kContextRegs.data(), slots.data(), kGprCount),
        "write registers");
  emulate(ctx.rip);
  // After a fault, RIP is the faulting instruction: resuming retries it.
  check(uc_reg_read_batch(uc_.get(), kContextRegs.data(), slots.data(), kContextRegs.size()),
        "read registers");

  if (trap_.intno != kExcBreakpoint) return classify_trap(ctx);
  ctx.rip = stubs::user_va(vmsim_ustub_done);  // running it again completes at once
  return Stop{StopKind::kDone, 0, false, ctx.rax};
}

Stop Engine::classify_trap(const UserContext& ctx) const {
  const uint64_t store_begin = stubs::user_va(vmsim_ustub_store_begin);
  const uint64_t store_end = stubs::user_va(vmsim_ustub_store_end);
  switch (trap_.intno) {
    case kExcPageFault:
      return Stop{StopKind::kPageFault, trap_.cr2, ctx.rip >= store_begin && ctx.rip < store_end,
                  0};
    case kExcGeneralProtection:
      // #GP reports no address; every stub accesses [rdi].
      return Stop{StopKind::kGeneralProtection, ctx.rdi,
                  ctx.rip >= store_begin && ctx.rip < store_end, 0};
    case -1:
      // No hook call: the CPU stopped by itself (QEMU turns a triple fault
      // into a silent reset request).
      fail("emulation stopped without a trap at rip " + hex(ctx.rip));
    default:
      fail("unexpected exception " + std::to_string(trap_.intno) + " at rip " + hex(ctx.rip));
  }
}

// INVLPG is exact (one page, every mmu index of this engine), unlike
// uc_ctl_flush_tlb. It needs CPL 0, hence the ring-0 context.
void Engine::invalidate_page(uint64_t va) {
  become(Base::kRing0);
  write_reg(UC_X86_REG_RDI, va);
  emulate(stubs::kernel_va(vmsim_kstub_invlpg));
  expect_completed("invlpg");
}

void Engine::invalidate_all() {
  check(uc_ctl_flush_tlb(uc_.get()), "flush TLB");
}

// Every emulation uses the same `until` and count 0: changing either makes
// Unicorn throw away translated code.
void Engine::emulate(uint64_t begin) {
  trap_ = Trap{};
  ++entries_;
  const uc_err err = uc_emu_start(uc_.get(), begin, kNoUntil, 0, 0);
  // A fault leaves an exception in flight; INT3 (a software interrupt) does
  // not. An error may have stopped anywhere.
  if (trap_.intno != kExcBreakpoint || err != UC_ERR_OK) dirty_ = true;
  check(err, "emulation");
}

// A run of a ring-0 stub, or a user access that did not fault, must end at
// an INT3 of the stubs.
void Engine::expect_completed(const char* what) {
  if (trap_.intno != kExcBreakpoint) {
    fail(std::string(what) + ": exception " + std::to_string(trap_.intno) + " at rip " +
         hex(read_reg(UC_X86_REG_RIP)));
  }
}

uint64_t Engine::read_reg(int reg) {
  uint64_t value = 0;
  check(uc_reg_read(uc_.get(), reg, &value), "read register");
  return value;
}

void Engine::write_reg(int reg, uint64_t value) {
  check(uc_reg_write(uc_.get(), reg, &value), "write register");
}

Engine::ContextPtr Engine::alloc_context() {
  uc_context* ctx = nullptr;
  check(uc_context_alloc(uc_.get(), &ctx), "allocate context");
  return ContextPtr(ctx);
}

void Engine::save(uc_context* ctx) {
  check(uc_context_save(uc_.get(), ctx), "save context");
}

}  // namespace vmsim
