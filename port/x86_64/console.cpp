#include "console.hpp"

#include "cpu.hpp"
#include "serial.hpp"
#include "spinlock.hpp"

namespace port {
namespace {

SpinLock console_lock;

}  // namespace

void info(const char* text) {
  SpinGuard g(console_lock);
  serial_write("vmsim-port: ");
  serial_write(text);
  serial_write("\n");
}

void exit_qemu(ExitCode code) {
  outl(0xf4, static_cast<uint8_t>(code));
  halt_forever();  // without the device: stop here
}

void kpanic(const char* message) {
  irq_disable();
  serial_write("\nPANIC: ");
  serial_write(message);
  serial_write("\n");
  exit_qemu(ExitCode::kPanic);
}

void refuse_image(const char* message) {
  Line l;
  l << "error: " << message;
  info(l.c_str());
  exit_qemu(ExitCode::kBadImage);
}

}  // namespace port
