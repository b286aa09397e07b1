// Running a helper program (QEMU, `vmsim compile`) as a child: its stdout
// and stderr captured through pipes, stdout split into lines as they arrive
// (with the time each arrived, for boot timings), and a deadline after which
// the child is killed.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace vmsim::port {

struct TimedLine {
  double seconds = 0;  // since the child was started
  std::string text;    // without the line end ("\n" or "\r\n")
};

struct ChildOptions {
  double timeout_seconds = 0;  // 0: wait for ever
  // Called for each stdout line as it arrives (e.g. to echo the serial log
  // live under --gdb); the line is also kept in ChildResult::lines.
  std::function<void(const TimedLine&)> on_line;
};

struct ChildResult {
  bool started = false;
  std::string start_error;       // why it could not be started
  bool timed_out = false;        // killed at the deadline
  int exit_status = -1;          // when it exited
  int signal = 0;                // when a signal ended it (also SIGKILL after a timeout)
  double seconds = 0;            // wall time from start to end
  std::vector<TimedLine> lines;  // stdout, line by line
  std::string err;               // stderr, whole
};

// Runs argv[0] (a path, or a name looked up in PATH) with stdin from
// /dev/null. Never throws for the child's failures; they are in the result.
ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options);

}  // namespace vmsim::port
