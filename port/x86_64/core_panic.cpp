#include "core_panic.hpp"

#include "console.hpp"
#include "percpu.hpp"

namespace port {

void core_log(const char* message) {
  Line l;
  l << "core: " << message;
  info(l.c_str());
}

void core_panic(const char* message) {
  PerCpu* pc = percpu();
  if (pc->panic_jmp == nullptr) {
    Line l;
    l << "core: " << message;
    kpanic(l.c_str());
  }
  size_t i = 0;
  for (; message[i] != '\0' && i + 1 < sizeof pc->panic_message; ++i)
    pc->panic_message[i] = message[i];
  pc->panic_message[i] = '\0';
  KJmpBuf* target = pc->panic_jmp;
  pc->panic_jmp = nullptr;
  kjmp_long(target, 1);
}

}  // namespace port
