// Builds the result JSON line in one buffer, so it leaves the serial port as
// one uninterrupted line.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace port {

class JsonOut {
 public:
  explicit JsonOut(size_t capacity);
  JsonOut& raw(const char* s);
  JsonOut& str(const char* s);  // quoted and escaped
  JsonOut& num(uint64_t v);
  JsonOut& snum(int64_t v);
  // Writes the line and a newline to COM1.
  void emit() const;

 private:
  void put(char c);
  char* buf_;
  size_t len_ = 0;
  size_t cap_;
};

}  // namespace port
