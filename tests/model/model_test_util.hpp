// Helpers the model's tests share: hand-built digest streams and the
// comparison of two outcomes.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "lib/sha256.hpp"
#include "model/model.hpp"

namespace vmsim::modeltest {

inline std::string Hex(const uint8_t* bytes, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += kDigits[bytes[i] >> 4];
    s += kDigits[bytes[i] & 15];
  }
  return s;
}

// SHA-256 of a hand-built `vmsim-digest/1` stream, as Model::digest() prints it.
inline std::string Sha256Hex(const std::string& stream) {
  vm::Sha256 sha;
  sha.update(stream.data(), stream.size());
  uint8_t out[32];
  sha.finish(out);
  return Hex(out, 32);
}

// The spec's hex16: 16 lowercase hex digits.
inline std::string Hex16(uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = uint8_t(v >> (56 - 8 * i));
  return Hex(b, 8);
}

// Two implementations agree on an op: result, signal, fault address, steps,
// and the value when the op succeeded.
inline void ExpectSame(const ModelOutcome& want, const ModelOutcome& got, const std::string& what) {
  EXPECT_EQ(want.status, got.status) << what;
  EXPECT_EQ(want.signal, got.signal) << what;
  if (want.status == vm::Status::kOk && want.signal == vm::Signal::kNone) {
    EXPECT_EQ(want.value, got.value) << what;
  }
  EXPECT_EQ(want.fault_addr, got.fault_addr) << what;
  EXPECT_EQ(want.steps_done, got.steps_done) << what;
}

}  // namespace vmsim::modeltest
