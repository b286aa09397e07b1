// What the replay engine reports on the port, kept in fixed tables and
// printed as the one result line `vmsim replay --json` prints
// (docs/result-format.md), key for key. An input error or an internal one
// ends the kernel at once (exit codes in console.hpp).
#pragma once

#include "image/trace_image_reader.hpp"
#include "lib/format.hpp"
#include "replay/replay.hpp"

namespace port {

class ResultLine final : public replay::ResultSink {
 public:
  explicit ResultLine(const image::ImageReader& img);

  // replay::ResultSink
  void violation(const replay::Violation& v) override;
  void unmet(const char* message) override;
  void step_taken(const replay::LoggedStep& step) override;
  [[noreturn]] void input_error(const replay::InputPlace& where, const char* message) override;
  [[noreturn]] void internal_error(const char* message) override;

  // Prints the line for the finished run.
  void print(const replay::Replay& run) const;

 private:
  using Message = vm::FixedString<2048>;
  struct Violation {
    const char* kind = nullptr;
    Message message;
    long thread = -1, op = -1, step = -1;
  };
  // A run stops at its first violation: only the final checks can add more.
  static constexpr unsigned kMaxViolations = 8;
  static constexpr unsigned kMaxUnmet = 16;
  // The steps taken; more than fit would not fit the result line either.
  static constexpr size_t kMaxSteps = 32768;

  const image::ImageReader& img_;
  Violation* violations_;
  unsigned violation_count_ = 0;
  vm::FixedString<512>* unmet_;
  unsigned unmet_count_ = 0;
  replay::LoggedStep* steps_;
  size_t step_count_ = 0;
};

}  // namespace port
