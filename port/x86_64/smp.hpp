// The other CPUs: start-up (INIT-SIPI-SIPI through a real-mode trampoline),
// running work on a chosen CPU, and TLB shootdown requests.
//
// One CPU runs trace work at a time. The others wait with interrupts on, so
// a shootdown IPI from the working CPU is answered at once.
#pragma once

#include <stdint.h>

namespace port {

// Sets up the BSP's per-CPU state (GDT, TSS, GS base, local APIC).
void cpu_init_bsp();
// Starts up to `wanted - 1` application processors; returns how many CPUs
// are online (at least 1). Must run before the core takes low memory: the
// trampoline lives there.
unsigned smp_start(unsigned wanted);
unsigned cpus_online();

// Runs fn(arg) on physical CPU `cpu` and returns when it is done.
void run_on(unsigned cpu, void (*fn)(void*), void* arg);

// Asks `cpu` to invalidate `va` (or, if `all`, every translation of `root`)
// and waits for its acknowledgment. Never for the calling CPU.
void shootdown(unsigned cpu, uint64_t root, uint64_t va, bool all);
// The IPI handler's half of it (idt.cpp).
void handle_shootdown();
// Drops every translation of `root` from this CPU's TLB.
void flush_root_here(uint64_t root);

}  // namespace port
