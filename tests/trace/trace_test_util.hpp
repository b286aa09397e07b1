// Shared inputs and helpers for the trace loader tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>

#include "trace/trace_loader.hpp"

namespace vmsim::testing {

// A valid trace that uses every op and every key, with sizes, values and
// addresses in each of their forms.
inline constexpr std::string_view kFullTrace = R"({
  "format": "vmsim-trace/1",
  "name": "every-op",
  "description": "Uses every op and every key.",
  "machine": {"cpus": 4, "memory": "128MiB", "swap": "0x1000000", "reserved": 1048576,
              "compressor": "8MiB"},
  "files": [
    {"name": "data.bin", "size": "64KiB", "content": {"fill": 171}},
    {"name": "seeded", "size": 8192, "content": {"seed": "0xdeadbeefcafef00d"}}
  ],
  "threads": [
    {"name": "main", "process": "p", "cpu": 3, "ops": [
      {"op": "mmap", "addr": "0x20000000", "len": "2MiB", "prot": "rw", "share": "private",
       "fixed": true, "populate": true, "as": "heap"},
      {"op": "mmap", "len": 16384, "prot": "r", "share": "shared", "file": "data.bin",
       "offset": "0x1000", "populate": false, "as": "map"},
      {"op": "munmap", "addr": "@heap+0x100000", "len": "1MiB"},
      {"op": "mprotect", "addr": "@heap", "len": 4096, "prot": "xr"},
      {"op": "madvise", "addr": "@heap+4096", "len": "8KiB", "advice": "willneed"},
      {"op": "brk", "addr": "0x10004000"},
      {"op": "sbrk", "incr": -4096},
      {"op": "read", "addr": "@map+8", "size": 8, "value": "0xABababababababab"},
      {"op": "read", "addr": 536875008},
      {"op": "write", "addr": "@heap+8196", "size": 4, "value": 305419896},
      {"op": "write", "addr": "@heap", "value": 255, "expect_fault": "segv"},
      {"op": "touch", "addr": "@heap", "len": "64KiB", "access": "w", "stride": "0x2000",
       "value": 90},
      {"op": "touch", "addr": "@map", "len": 8192, "access": "r"},
      {"op": "fork", "child": "child"},
      {"op": "poke", "process": "child", "addr": "@heap+0x3000", "size": 2, "value": "0xbeef"},
      {"op": "truncate", "file": "data.bin", "size": "0x800"},
      {"op": "pwrite", "file": "seeded", "offset": 100, "value": 7, "len": 3},
      {"op": "cache_put", "id": 42, "addr": "@heap+0x4000", "len": 8192},
      {"op": "cache_get", "id": "0x2a", "addr": "@heap+0x4000", "result": "hit"},
      {"op": "cache_get", "id": 43, "addr": "@heap+0x6000"},
      {"op": "pageout", "pages": 16},
      {"op": "yield"},
      {"op": "mmap", "addr": "0x1001", "len": 4096, "prot": "w", "share": "private",
       "fixed": true, "result": "einval"},
      {"op": "exec", "text": "8KiB", "data": 4096, "bss": "0x3000", "stack": "64KiB",
       "result": "enomem"},
      {"op": "read", "addr": "0x8", "expect_fault": "bus"},
      {"op": "exit"}
    ]},
    {"name": "worker.1", "process": "child", "ops": [
      {"op": "read", "addr": "@heap+0x2004", "size": 4, "value": "0x12345678"},
      {"op": "exit"}
    ]}
  ],
  "schedule": [
    {"thread": "main", "ops": 3},
    {"thread": "main", "until": "fault.pte_install", "count": 2},
    {"thread": "worker.1", "until": "cow.copy"},
    {"thread": "worker.1"}
  ],
  "expect": {"result": "violation", "violation": "stale-tlb",
             "digest": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
             "stats": {"faults": 12, "signals_segv": 1}}
}
)";

// The smallest valid trace body around `ops` (one op's text, or several
// joined by commas). The first op starts at line 4, column 5.
inline std::string with_ops(std::string_view ops) {
  return std::string(R"({"format": "vmsim-trace/1", "name": "t",
 "files": [{"name": "f", "size": 8192, "content": {"fill": 1}}],
 "threads": [{"name": "a", "process": "p", "ops": [
    )") + std::string(ops) +
         "\n ]}]}\n";
}

// A valid trace with one thread (no ops) and `extra` members after it; the
// first extra member starts at line 3, column 2.
inline std::string with_members(std::string_view extra) {
  return std::string(R"({"format": "vmsim-trace/1", "name": "t",
 "threads": [{"name": "a", "process": "p", "ops": []}],
 )") + std::string(extra) +
         "}\n";
}

// The message for an invalid trace named t.json; a test failure if it loads.
inline std::string load_error(std::string_view text) {
  auto r = load_trace_text(text, "t.json");
  if (auto* e = std::get_if<LoadError>(&r)) return e->message;
  ADD_FAILURE() << "trace loaded but should not have:\n" << text;
  return "";
}

// The trace of a valid text; a test failure (and an empty trace) if not.
inline Trace load_ok(std::string_view text) {
  auto r = load_trace_text(text, "t.json");
  if (auto* e = std::get_if<LoadError>(&r)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<Trace>(std::move(r));
}

}  // namespace vmsim::testing
