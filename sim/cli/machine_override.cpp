#include "cli/machine_override.hpp"

#include "trace/value_syntax.hpp"

namespace vmsim {

std::optional<std::string> read_size(const char* option, const std::string& text, uint64_t min,
                                     uint64_t max, uint64_t* out) {
  uint64_t v = 0;
  if (decode_size(text, &v) != Decoded::kOk || v % 4096 != 0 || v < min || v > max)
    return std::string(option) + ": expected a multiple of 4096 between " + std::to_string(min) +
           " and " + std::to_string(max) + " (as 1048576, 0x100000 or 1MiB), got \"" + text + "\"";
  *out = v;
  return std::nullopt;
}

std::optional<std::string> read_machine_override(const MachineOverride& o, uint64_t* memory,
                                                 uint64_t* swap, uint64_t* compressor) {
  if (!o.memory.empty())
    if (auto e = read_size("--memory", o.memory, kMiB, kMaxMemory, memory)) return e;
  if (!o.swap.empty())
    if (auto e = read_size("--swap", o.swap, 0, kMaxSwap, swap)) return e;
  if (!o.compressor.empty())
    if (auto e = read_size("--compressor", o.compressor, 0, kMaxMemory, compressor)) return e;
  return std::nullopt;
}

std::optional<std::string> apply_machine_override(const MachineOverride& o, Trace& trace) {
  MachineSpec m = trace.machine;
  if (auto e = read_machine_override(o, &m.memory, &m.swap, &m.compressor)) return e;
  if (o.large_pages == "never") m.large_pages = LargePages::kNever;
  if (o.large_pages == "always") m.large_pages = LargePages::kAlways;
  if (o.large_pages == "madvise") m.large_pages = LargePages::kMadvise;
  if (m.reserved >= m.memory / 2)
    return "--memory: the trace reserves " + std::to_string(m.reserved) +
           " bytes (machine.reserved), which must stay below half of memory";
  if (m.compressor > m.memory)
    return std::string(o.compressor.empty() ? "--memory" : "--compressor") +
           ": machine.compressor (" + std::to_string(m.compressor) +
           ") is larger than machine.memory (" + std::to_string(m.memory) + ")";
  // Devices lie outside RAM (spec §10): a larger memory must not reach one.
  for (const DeviceSpec& d : m.devices) {
    if (d.phys < m.memory)
      return "--memory: device \"" + d.name + "\" (machine.devices) starts at physical " +
             std::to_string(d.phys) + ", inside " + std::to_string(m.memory) + " bytes of RAM";
  }
  trace.machine = m;
  return std::nullopt;
}

}  // namespace vmsim
