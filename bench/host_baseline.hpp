// Linux baselines for `vmsim bench`: how fast the host kernel itself takes
// the faults and accesses the simulator emulates, measured in this very
// process with clock_gettime(CLOCK_MONOTONIC). Only the faulting or accessing
// loop is timed; mapping, filling, fork and munmap are not.
//
// Every mapping is private anonymous memory with MADV_NOHUGEPAGE, so each page
// costs one 4 KiB fault as in the simulator (not one fault per 2 MiB).
// Failing system calls throw std::system_error; pages == 0 or rounds < 1
// throw std::invalid_argument.
#pragma once

#include <cstddef>

namespace vmsim::bench {

// mmap `pages` fresh pages, write one byte to each (one first-touch fault per
// page), munmap; `rounds` times. Returns the median over the rounds of
// faults per second.
double linux_first_touch_faults_per_sec(size_t pages, int rounds);

// The parent maps and fills `pages` pages, then per round forks a child that
// writes one byte to each page (one copy-on-write fault per page), times
// itself and sends its rate through a pipe before exiting. Returns the median
// over the rounds of faults per second.
double linux_cow_faults_per_sec(size_t pages, int rounds);

// 1-byte loads over `pages` already-present pages, stepping one page plus one
// cache line (4160 bytes) per load and wrapping around: every load hits a
// present page, a different one each time, so none faults. Returns loads per
// second for `accesses` loads, after one untimed warm-up pass.
double linux_resident_accesses_per_sec(size_t pages, size_t accesses);

}  // namespace vmsim::bench
