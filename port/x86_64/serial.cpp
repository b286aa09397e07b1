#include "serial.hpp"

#include "cpu.hpp"

namespace port {
namespace {

constexpr uint16_t kCom1 = 0x3f8;

}  // namespace

void serial_init() {
  outb(kCom1 + 1, 0x00);  // no interrupts: the console is polled
  outb(kCom1 + 3, 0x80);  // divisor latch
  outb(kCom1 + 0, 0x01);  // 115200 baud
  outb(kCom1 + 1, 0x00);
  outb(kCom1 + 3, 0x03);  // 8N1
  outb(kCom1 + 2, 0xc7);  // FIFO on
  outb(kCom1 + 4, 0x03);
}

void serial_putc(char c) {
  while ((inb(kCom1 + 5) & 0x20) == 0) cpu_relax();
  outb(kCom1, static_cast<uint8_t>(c));
}

void serial_write(const char* s, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    if (s[i] == '\n') serial_putc('\r');
    serial_putc(s[i]);
  }
}

void serial_write(const char* s) {
  while (*s != '\0') {
    if (*s == '\n') serial_putc('\r');
    serial_putc(*s++);
  }
}

}  // namespace port
