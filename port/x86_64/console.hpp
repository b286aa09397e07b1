// Console lines and the ways the kernel ends: every line the host reads is
// prefixed `vmsim-port:`, except the result JSON and `PANIC:`; QEMU's exit
// status comes from a write to isa-debug-exit.
#pragma once

#include <stdint.h>

#include "lib/format.hpp"

namespace port {

// isa-debug-exit values; QEMU exits with (value << 1) | 1.
enum class ExitCode : uint8_t {
  kPass = 0x10,       // 33: pass, expectations met
  kViolation = 0x11,  // 35: violation or unmet expectation
  kBadImage = 0x12,   // 37: unusable trace image
  kPanic = 0x13,      // 39: kernel panic / internal error
};

using Line = vm::FixedString<512>;

// Prints "vmsim-port: <text>\n".
void info(const char* text);
[[noreturn]] void exit_qemu(ExitCode code);
// Prints "PANIC: <message>" and exits with kPanic.
[[noreturn]] void kpanic(const char* message);
// Prints "vmsim-port: error: <message>" and exits with kBadImage.
[[noreturn]] void refuse_image(const char* message);

}  // namespace port
