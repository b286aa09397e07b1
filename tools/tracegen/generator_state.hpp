// What the random-trace generator knows while it writes ops: per process an
// approximate shadow of the address space and the break, per thread the
// labels it bound, per file its predicted size, and the shared PRNG and
// memory budget.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "address_layout.hpp"
#include "address_shadow.hpp"
#include "json_forms.hpp"
#include "memory_budget.hpp"
#include "prng.hpp"
#include "random_trace.hpp"

namespace vmsim::tracegen {

// Files never grow past this (truncate and pwrite stay below it), so their
// page cache is bounded and charged once, up front.
inline constexpr uint64_t kMaxFilePages = 6;
inline constexpr uint64_t kMaxFileBytes = kMaxFilePages * kPageSize;
// Generations of forks below a process created by a thread.
inline constexpr uint32_t kMaxForkDepth = 3;
// Child processes planned with threads of their own, and forks without.
inline constexpr uint32_t kMaxPlannedChildren = 8;
inline constexpr uint32_t kMaxThreadlessForks = 6;

struct LabelInfo {
  std::string name;
  uint64_t start = 0;  // predicted start of the mapping
  uint64_t len = 0;    // page-rounded length of the mapping
  int32_t file = -1;   // index into the file list for a file mapping
  uint64_t file_offset = 0;
};

struct FileState {
  std::string name;
  uint64_t size = 0;  // predicted current size, at most kMaxFileBytes
};

// A device of machine.devices (the `device` feature).
struct DeviceState {
  std::string name;
  uint64_t pages = 0;
};

// Where a process comes from.
enum class ProcessOrigin {
  kThread,        // created by the first thread naming it (exists from the start)
  kPendingFork,   // a fork op will create it; its threads wait for that op
  kForked,        // created by a fork op already written
  kNeverCreated,  // its fork was dropped and no thread names it
};

struct ProcessState {
  uint32_t index = 0;
  std::string name;
  AddressShadow shadow;
  uint64_t brk = kInitialBreak;          // predicted current break
  uint64_t initial_brk = kInitialBreak;  // brk below this is einval (moved by exec)
  ProcessOrigin origin = ProcessOrigin::kThread;
  int32_t parent = -1;            // forking process, for forked ones
  uint32_t depth = 0;             // generations below a process created by a thread
  bool will_exit = false;         // its only thread ends with exit
  bool privileged = false;        // may map devices; a fork copies it to the child
  std::vector<uint32_t> threads;  // indices into the thread list
  // After exec: the image, for accesses aimed at it (empty segments have
  // start == end).
  bool has_image = false;
  Region text, data, bss, stack;
};

struct ThreadState {
  std::string name;
  uint32_t process = 0;  // index into the process list
  uint32_t cpu = 0;
  uint64_t quota = 0;             // ops this thread gets in all
  std::vector<LabelInfo> labels;  // bound by this thread's own mmaps, in order
  std::vector<Json> ops;
  bool started = true;                  // false until the fork of its process is written
  std::vector<uint32_t> pending_forks;  // child processes this thread still has to fork
  // Forked processes whose fork op surely runs before this thread's next op
  // (forks this thread made, and those before the fork that created its
  // process).
  std::vector<uint32_t> known_forks;
};

// Everything the ops of one trace share.
struct TraceState {
  uint32_t features = kFeatureAnon;
  std::vector<ProcessState> processes;  // capacity reserved: never reallocates
  std::vector<ThreadState> threads;
  std::vector<FileState> files;
  std::vector<DeviceState> devices;
  std::vector<uint32_t> started;  // threads whose fork was just written (or dropped)
  uint32_t next_child = 0;        // child process names: <parent>.c<n>
  uint32_t threadless_forks = 0;
};

struct GenContext {
  Prng& rng;
  MemoryBudget& budget;
  uint64_t& next_label;  // labels are m0, m1, ... across the whole trace
  ProcessState& process;
  ThreadState& thread;
  TraceState& trace;
};

}  // namespace vmsim::tracegen
