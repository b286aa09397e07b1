#include "apic.hpp"

#include "cpu.hpp"

namespace port {
namespace {

constexpr uint64_t kLapicPhys = 0xfee00000;
constexpr uint32_t kId = 0x20, kTpr = 0x80, kEoi = 0xb0, kSvr = 0xf0, kIcrLow = 0x300,
                   kIcrHigh = 0x310;
constexpr uint32_t kIcrPending = 1 << 12;

volatile uint32_t& reg(uint32_t offset) {
  return *phys_to_virt<volatile uint32_t>(kLapicPhys + offset);
}

void send_icr(uint32_t apic_id, uint32_t low) {
  reg(kIcrHigh) = apic_id << 24;
  reg(kIcrLow) = low;
  while (reg(kIcrLow) & kIcrPending) cpu_relax();
}

}  // namespace

void lapic_init() {
  reg(kTpr) = 0;
  reg(kSvr) = 0x100 | 0xff;  // enabled, spurious vector 0xff
}

uint32_t lapic_id() {
  return reg(kId) >> 24;
}

void lapic_eoi() {
  reg(kEoi) = 0;
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector) {
  send_icr(apic_id, vector);  // fixed delivery, physical destination
}

void lapic_send_init(uint32_t apic_id) {
  send_icr(apic_id, 0x4500);  // INIT, level assert
}

void lapic_send_startup(uint32_t apic_id, uint8_t page) {
  send_icr(apic_id, 0x4600 | page);
}

}  // namespace port
