// What both of the port's platforms (trace replay and stress mode) do with
// the core's log lines and panics.
#pragma once

namespace port {

// A `vmsim-port: core: ...` info line on the console.
void core_log(const char* message);

// A core panic unwinds to the way back the running op or check armed on this
// CPU (PerCpu::panic_jmp: a `panic` violation); with none armed it is the
// kernel's own panic.
[[noreturn]] void core_panic(const char* message);

}  // namespace port
