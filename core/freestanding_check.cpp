// Links the whole core with -nostdlib: any use of libc, libstdc++, exceptions
// or RTTI support shows up as an undefined symbol and fails the build.
#include <stddef.h>

extern "C" {
void* memcpy(void* d, const void* s, size_t n) {
  auto* dp = static_cast<unsigned char*>(d);
  auto* sp = static_cast<const unsigned char*>(s);
  while (n--) *dp++ = *sp++;
  return d;
}
void* memmove(void* d, const void* s, size_t n) {
  auto* dp = static_cast<unsigned char*>(d);
  auto* sp = static_cast<const unsigned char*>(s);
  if (dp < sp) {
    while (n--) *dp++ = *sp++;
  } else {
    while (n--) dp[n] = sp[n];
  }
  return d;
}
void* memset(void* d, int c, size_t n) {
  auto* dp = static_cast<unsigned char*>(d);
  while (n--) *dp++ = static_cast<unsigned char>(c);
  return d;
}
int memcmp(const void* a, const void* b, size_t n) {
  auto* ap = static_cast<const unsigned char*>(a);
  auto* bp = static_cast<const unsigned char*>(b);
  for (; n; --n, ++ap, ++bp)
    if (*ap != *bp) return *ap < *bp ? -1 : 1;
  return 0;
}
void __cxa_pure_virtual() {
  for (;;) {
  }
}
[[noreturn]] void _start() {
  for (;;) {
  }
}
}
