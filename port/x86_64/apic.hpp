// The local APIC, through its xAPIC MMIO page (QEMU's TCG has no x2APIC).
#pragma once

#include <stdint.h>

namespace port {

void lapic_init();  // on each CPU: software-enable, accept every priority
uint32_t lapic_id();
void lapic_eoi();
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_init(uint32_t apic_id);
void lapic_send_startup(uint32_t apic_id, uint8_t page);

}  // namespace port
