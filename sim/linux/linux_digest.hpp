// The spec's state digest (§7) of real processes and files: the runs from
// /proc/PID/maps, the pages from /proc/PID/mem, the files from their bytes,
// through the same vm::DigestWriter the core, the model and the port use.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "linux/tracee.hpp"

namespace vmsim::linux_run {

// One trace file as a real file: its descriptor in vmsim (inherited by
// every agent process, which maps it by the same number).
struct RealFile {
  std::string name;  // the trace's name
  int fd = -1;
  unsigned long dev = 0;  // st_dev and st_ino: how /proc/PID/maps names it
  unsigned long ino = 0;
};

// 64 lowercase hex digits. Throws std::runtime_error when /proc cannot be
// read. `files` must be in ascending name order; the agent page is left out.
std::string linux_digest(const std::map<std::string, Tracee>& processes,
                         const std::vector<RealFile>& files);

}  // namespace vmsim::linux_run
