#include "json_out.hpp"

#include "console.hpp"
#include "memory.hpp"
#include "serial.hpp"

namespace port {

JsonOut::JsonOut(size_t capacity)
    : buf_(static_cast<char*>(boot_alloc(capacity, 16))), cap_(capacity) {}

void JsonOut::put(char c) {
  if (len_ + 1 >= cap_) kpanic("result JSON too long");
  buf_[len_++] = c;
}

JsonOut& JsonOut::raw(const char* s) {
  while (*s != '\0') put(*s++);
  return *this;
}

JsonOut& JsonOut::str(const char* s) {
  put('"');
  for (; *s != '\0'; ++s) {
    const auto c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      put('\\');
      put(static_cast<char>(c));
    } else if (c < 0x20) {
      raw("\\u00");
      put("0123456789abcdef"[c >> 4]);
      put("0123456789abcdef"[c & 15]);
    } else {
      put(static_cast<char>(c));
    }
  }
  put('"');
  return *this;
}

JsonOut& JsonOut::num(uint64_t v) {
  char tmp[20];
  const size_t n = vm::format_dec(tmp, v);
  for (size_t i = 0; i < n; ++i) put(tmp[i]);
  return *this;
}

JsonOut& JsonOut::snum(int64_t v) {
  if (v < 0) {
    put('-');
    return num(uint64_t{0} - static_cast<uint64_t>(v));
  }
  return num(static_cast<uint64_t>(v));
}

void JsonOut::emit() const {
  serial_write(buf_, len_);
  serial_write("\n");
}

}  // namespace port
