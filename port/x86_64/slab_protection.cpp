#include "slab_protection.hpp"

#include "cpu.hpp"
#include "memory.hpp"

namespace port {
namespace {

vm::SlabSanity* trap_sanity = nullptr;
uint64_t protected_bytes = 0;

constexpr uint64_t kPfPresent = 1, kPfWrite = 2, kPfUser = 4;

}  // namespace

// Whether `cmdline` has the word `word` (a run of non-spaces).
static bool has_word(const char* cmdline, const char* word) {
  if (cmdline == nullptr) return false;
  for (const char* s = cmdline; *s != '\0';) {
    while (*s == ' ') ++s;
    const char* w = s;
    while (*s != ' ' && *s != '\0') ++s;
    const char* p = word;
    while (w < s && *p != '\0' && *w == *p) ++w, ++p;
    if (*p == '\0' && w == s) return true;
  }
  return false;
}

bool sanity_requested(const char* cmdline) {
  return has_word(cmdline, "sanity");
}

void slab_protection_prepare(uint64_t ram_bytes) {
  direct_map_in_small_pages(ram_bytes);
  protected_bytes = ram_bytes;
}

bool slab_protection_prepared() {
  return protected_bytes != 0;
}

void slab_protection_attach(vm::SlabSanity& sanity) {
  trap_sanity = &sanity;
}

bool slab_protection_trap(uint64_t cr2, uint64_t error) {
  if (trap_sanity == nullptr ||
      (error & (kPfPresent | kPfWrite | kPfUser)) != (kPfPresent | kPfWrite))
    return false;
  if (cr2 < kDirectMap || cr2 - kDirectMap >= protected_bytes) return false;
  return trap_sanity->write_trapped(cr2 - kDirectMap);
}

}  // namespace port
