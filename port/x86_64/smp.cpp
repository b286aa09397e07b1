#include "smp.hpp"

#include "apic.hpp"
#include "console.hpp"
#include "cpu.hpp"
#include "idt.hpp"
#include "memory.hpp"
#include "percpu.hpp"

extern "C" char trampoline_start[], trampoline_end[];
extern "C" uint64_t trampoline_param_cr3, trampoline_param_stack, trampoline_param_entry,
    trampoline_param_arg;

namespace port {

PerCpu cpus[kMaxPhysCpus];

namespace {

constexpr uint64_t kTrampolinePhys = 0x8000;
unsigned online = 1;

void cpu_init_common(PerCpu* pc) {
  pc->self = pc;
  wrmsr(0xc0000101, reinterpret_cast<uint64_t>(pc));  // IA32_GS_BASE
  gdt_load(pc->tables, reinterpret_cast<uint64_t>(pc->trap_stack + sizeof pc->trap_stack),
           reinterpret_cast<uint64_t>(pc->fault_stack + sizeof pc->fault_stack));
  idt_load();
  lapic_init();
  pc->apic_id = lapic_id();
}

// Waits with interrupts on (so shootdowns get answered) until *flag != 0.
void wait_for(volatile uint32_t* flag) {
  irq_disable();
  while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) == 0) asm volatile("sti; hlt; cli" ::: "memory");
}

[[noreturn]] void ap_main(PerCpu* pc) {
  write_cr3(kernel_root_phys());
  cpu_init_common(pc);
  __atomic_store_n(&pc->online, 1, __ATOMIC_RELEASE);
  for (;;) {
    wait_for(&pc->mailbox.posted);
    pc->mailbox.posted = 0;
    pc->mailbox.fn(pc->mailbox.arg);
    __atomic_store_n(&pc->mailbox.done, 1, __ATOMIC_RELEASE);
    lapic_send_ipi(cpus[0].apic_id, kVecWake);
  }
}

// A delay long enough for the INIT/SIPI protocol; QEMU needs no more.
void spin(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) cpu_relax();
}

// QEMU keeps the number of CPUs, minus one, in CMOS register 0x5f.
unsigned machine_cpus() {
  outb(0x70, 0x5f);
  return inb(0x71) + 1u;
}

// Byte offset of a trampoline symbol in its low-memory copy.
uint8_t* in_trampoline(void* sym) {
  return phys_to_virt<uint8_t>(kTrampolinePhys) + (static_cast<char*>(sym) - trampoline_start);
}

}  // namespace

void cpu_init_bsp() {
  cpus[0].index = 0;
  cpu_init_common(&cpus[0]);
  cpus[0].online = 1;
}

unsigned smp_start(unsigned wanted) {
  unsigned available = machine_cpus();
  if (wanted > available) wanted = available;
  if (wanted > kMaxPhysCpus) wanted = kMaxPhysCpus;
  uint8_t* tramp = phys_to_virt<uint8_t>(kTrampolinePhys);
  for (char* p = trampoline_start; p < trampoline_end; ++p) tramp[p - trampoline_start] = *p;
  for (unsigned i = 1; i < wanted; ++i) {
    PerCpu* pc = &cpus[i];
    pc->index = i;
    *reinterpret_cast<uint64_t*>(in_trampoline(&trampoline_param_cr3)) = ap_boot_root_phys();
    *reinterpret_cast<uint64_t*>(in_trampoline(&trampoline_param_stack)) =
        reinterpret_cast<uint64_t>(pc->stack + sizeof pc->stack);
    *reinterpret_cast<uint64_t*>(in_trampoline(&trampoline_param_entry)) =
        reinterpret_cast<uint64_t>(&ap_main);
    *reinterpret_cast<uint64_t*>(in_trampoline(&trampoline_param_arg)) =
        reinterpret_cast<uint64_t>(pc);
    // QEMU numbers APIC IDs from 0 in CPU order.
    lapic_send_init(i);
    spin(10000);
    lapic_send_startup(i, kTrampolinePhys >> 12);
    spin(1000);
    if (!pc->online) lapic_send_startup(i, kTrampolinePhys >> 12);
    const uint64_t start = rdtsc();
    while (!__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE)) {
      if (rdtsc() - start > 20'000'000'000ull) {
        Line l;
        l << "CPU " << i << " did not come up";
        kpanic(l.c_str());
      }
      cpu_relax();
    }
    online = i + 1;
  }
  return online;
}

unsigned cpus_online() {
  return online;
}

void run_on(unsigned cpu, void (*fn)(void*), void* arg) {
  if (cpu == percpu()->index) {
    fn(arg);
    return;
  }
  Mailbox& m = cpus[cpu].mailbox;
  m.fn = fn;
  m.arg = arg;
  m.done = 0;
  __atomic_store_n(&m.posted, 1, __ATOMIC_RELEASE);
  lapic_send_ipi(cpus[cpu].apic_id, kVecWake);
  wait_for(&m.done);
}

void flush_root_here(uint64_t root) {
  PerCpu* pc = percpu();
  if (read_cr3() == root) {
    // The root may be on its way to the free list: stop using it.
    write_cr3(kernel_root_phys());
    pc->loaded_logical = -1;
  } else {
    write_cr3(read_cr3());
  }
}

void shootdown(unsigned cpu, uint64_t root, uint64_t va, bool all) {
  Shootdown& s = cpus[cpu].shootdown;
  s.root = root;
  s.va = va;
  s.all = all ? 1 : 0;
  __atomic_store_n(&s.pending, 1, __ATOMIC_RELEASE);
  lapic_send_ipi(cpus[cpu].apic_id, kVecShootdown);
  while (__atomic_load_n(&s.pending, __ATOMIC_ACQUIRE) != 0) cpu_relax();
}

void handle_shootdown() {
  Shootdown& s = percpu()->shootdown;
  if (!__atomic_load_n(&s.pending, __ATOMIC_ACQUIRE)) return;
  if (s.all) {
    flush_root_here(s.root);
  } else {
    invlpg(s.va);
  }
  __atomic_store_n(&s.pending, 0, __ATOMIC_RELEASE);
}

}  // namespace port
