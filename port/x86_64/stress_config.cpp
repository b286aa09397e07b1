#include "stress_config.hpp"

#include "console.hpp"
#include "cpu.hpp"

namespace port {
namespace {

constexpr uint64_t kMaxPages = 4096;  // 16 MiB: well inside the core's RAM
constexpr uint64_t kMaxIterations = 1ull << 32;

// The next space-separated word of `s` at *pos: [begin, end).
bool next_word(const char* s, size_t* pos, size_t* begin, size_t* end) {
  while (s[*pos] == ' ') ++*pos;
  if (s[*pos] == '\0') return false;
  *begin = *pos;
  while (s[*pos] != ' ' && s[*pos] != '\0') ++*pos;
  *end = *pos;
  return true;
}

bool has_prefix(const char* s, size_t begin, size_t end, const char* prefix, size_t* value) {
  size_t i = 0;
  for (; prefix[i] != '\0'; ++i)
    if (begin + i >= end || s[begin + i] != prefix[i]) return false;
  *value = begin + i;
  return true;
}

bool equals(const char* s, size_t begin, size_t end, const char* word) {
  size_t i = 0;
  for (; word[i] != '\0'; ++i)
    if (begin + i >= end || s[begin + i] != word[i]) return false;
  return begin + i == end;
}

uint64_t number(const char* s, size_t begin, size_t end, uint64_t max, const char* key) {
  uint64_t v = 0;
  bool ok = begin < end;
  for (size_t i = begin; ok && i < end; ++i) {
    ok = s[i] >= '0' && s[i] <= '9' && v <= max / 10;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  if (!ok || v == 0 || v > max) {
    Line l;
    l << "stress: " << key << " must be a number from 1 to " << max;
    refuse_image(l.c_str());
  }
  return v;
}

}  // namespace

bool stress_requested(const MultibootInfo* mbi, StressConfig* out) {
  if ((mbi->flags & (1 << 2)) == 0 || mbi->cmdline == 0) return false;
  const char* s = phys_to_virt<const char>(mbi->cmdline);
  bool stress = false;
  size_t pos = 0, b = 0, e = 0, v = 0;
  while (next_word(s, &pos, &b, &e)) {
    if (has_prefix(s, b, e, "stress=", &v)) {
      stress = true;
      if (equals(s, v, e, "munmap-vs-access")) {
        out->workload = StressWorkload::kMunmapVsAccess;
        out->name = "munmap-vs-access";
      } else if (equals(s, v, e, "fork-cow")) {
        out->workload = StressWorkload::kForkCow;
        out->name = "fork-cow";
      } else if (equals(s, v, e, "pageout-vs-write")) {
        out->workload = StressWorkload::kPageoutVsWrite;
        out->name = "pageout-vs-write";
      } else if (equals(s, v, e, "stack-overflow")) {
        out->workload = StressWorkload::kStackOverflow;
        out->name = "stack-overflow";
      } else {
        refuse_image(
            "stress: unknown workload (munmap-vs-access, fork-cow, pageout-vs-write, "
            "stack-overflow)");
      }
    } else if (has_prefix(s, b, e, "iterations=", &v)) {
      out->iterations = number(s, v, e, kMaxIterations, "iterations");
    } else if (has_prefix(s, b, e, "bug=", &v)) {
      if (!equals(s, v, e, "no-shootdown")) refuse_image("stress: unknown bug (no-shootdown)");
      out->no_shootdown = true;
    } else if (has_prefix(s, b, e, "pages=", &v)) {
      out->pages = number(s, v, e, kMaxPages, "pages");
    }
  }
  return stress;
}

}  // namespace port
