// What a freestanding C++ program needs from a C library and a C++ runtime:
// the four mem* functions the compiler may call, operator new/delete over
// the kernel's boot allocator, and the pure-virtual trap.
#include <stddef.h>
#include <stdint.h>

#include "console.hpp"
#include "memory.hpp"

extern "C" {

void* memcpy(void* d, const void* s, size_t n) {
  void* start = d;
  asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n)::"memory");
  return start;
}

void* memmove(void* d, const void* s, size_t n) {
  auto* dp = static_cast<uint8_t*>(d);
  auto* sp = static_cast<const uint8_t*>(s);
  if (dp <= sp || dp >= sp + n) {
    while (n--) *dp++ = *sp++;
  } else {
    while (n--) dp[n] = sp[n];
  }
  return d;
}

void* memset(void* d, int c, size_t n) {
  void* start = d;
  asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return start;
}

int memcmp(const void* a, const void* b, size_t n) {
  auto* ap = static_cast<const uint8_t*>(a);
  auto* bp = static_cast<const uint8_t*>(b);
  for (; n; --n, ++ap, ++bp)
    if (*ap != *bp) return *ap < *bp ? -1 : 1;
  return 0;
}

void __cxa_pure_virtual() {
  port::kpanic("pure virtual call");
}

}  // extern "C"

void* operator new(size_t n) {
  return port::boot_alloc(n, 16);
}
void* operator new[](size_t n) {
  return port::boot_alloc(n, 16);
}
// The boot allocator never frees: the kernel runs one trace and exits.
void operator delete(void*) noexcept {}
void operator delete[](void*) noexcept {}
void operator delete(void*, size_t) noexcept {}
void operator delete[](void*, size_t) noexcept {}
