// A Platform for unit tests of core/: RAM is a page-aligned host buffer,
// TLB invalidations, yields and log lines are recorded, and panic() jumps
// back to the test.
//
// Why panic() does not throw: the core is compiled with -fno-exceptions, so
// its frames have no unwind tables (and the core may hold no-except
// invariants). An exception thrown from panic() would have to unwind through
// those frames, which is undefined and in practice aborts or skips cleanup.
// Instead EXPECT_PANIC sets a setjmp() point and panic() records the message
// and longjmp()s back to it, abandoning the core's frames without running
// anything in them (no destructors run there; that is acceptable because a
// panicked core is dead: the test may only inspect the message and throw the
// fixture away, never keep using the object that panicked). ASan intercepts
// longjmp and unpoisons the abandoned stack.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "platform.hpp"

namespace vmtest {

// Where panic() goes: the innermost active EXPECT_PANIC, or abort().
struct PanicTarget {
  std::jmp_buf* active = nullptr;
  std::string message;
};

inline PanicTarget& panic_target() {
  static PanicTarget target;
  return target;
}

// Installs a jump target for the lifetime of one EXPECT_PANIC.
class PanicScope {
 public:
  explicit PanicScope(std::jmp_buf* jb) : saved_(panic_target().active) {
    panic_target().active = jb;
    panic_target().message.clear();
  }
  ~PanicScope() { panic_target().active = saved_; }
  PanicScope(const PanicScope&) = delete;
  PanicScope& operator=(const PanicScope&) = delete;

 private:
  std::jmp_buf* saved_;
};

// Runs `stmt`, which must make the core panic with a message containing
// `substring`. The statement is abandoned at the panic.
#define EXPECT_PANIC(stmt, substring)                                                        \
  do {                                                                                       \
    std::jmp_buf vmtest_jb_;                                                                 \
    ::vmtest::PanicScope vmtest_scope_(&vmtest_jb_);                                         \
    if (setjmp(vmtest_jb_) == 0) {                                                           \
      stmt;                                                                                  \
      ADD_FAILURE() << "expected a panic containing \"" << (substring) << "\" from: " #stmt; \
    } else {                                                                                 \
      EXPECT_NE(::vmtest::panic_target().message.find(substring), std::string::npos)         \
          << "panic message: " << ::vmtest::panic_target().message;                          \
    }                                                                                        \
  } while (0)

// Owns the RAM buffer; a base class so it exists before Platform's
// constructor takes its address.
class RamBuffer {
 public:
  explicit RamBuffer(size_t bytes)
      : bytes_(bytes), ram_(static_cast<uint8_t*>(std::aligned_alloc(4096, bytes))) {
    std::fill(ram_, ram_ + bytes_, uint8_t{0xcc});  // RAM starts as garbage, not zeros
  }
  ~RamBuffer() { std::free(ram_); }
  RamBuffer(const RamBuffer&) = delete;
  RamBuffer& operator=(const RamBuffer&) = delete;

  uint8_t* ram() const { return ram_; }
  size_t ram_bytes() const { return bytes_; }

 private:
  size_t bytes_;
  uint8_t* ram_;
};

class FakePlatform : private RamBuffer, public vm::Platform {
 public:
  struct TlbCall {
    bool all;       // tlb_invalidate_all, else tlb_invalidate_page
    uint64_t cpus;  // CpuSet bits
    vm::paddr_t root;
    vm::vaddr_t va;  // 0 for a full flush
  };

  // `ram_bytes` must be a multiple of 4096.
  explicit FakePlatform(size_t ram_bytes) : RamBuffer(ram_bytes), Platform(RamBuffer::ram()) {}

  using RamBuffer::ram;
  using RamBuffer::ram_bytes;

  void tlb_invalidate_page(vm::CpuSet cpus, vm::paddr_t root, vm::vaddr_t va) override {
    tlb_calls.push_back({false, cpus.bits(), root, va});
    if (on_tlb) on_tlb(tlb_calls.back());
  }
  void tlb_invalidate_all(vm::CpuSet cpus, vm::paddr_t root) override {
    tlb_calls.push_back({true, cpus.bits(), root, 0});
    if (on_tlb) on_tlb(tlb_calls.back());
  }
  unsigned current_cpu() override { return cpu; }
  void yield(vm::YieldPoint point) override { yields.push_back(point); }
  void lock_acquire(vm::Mutex&) override {}
  void lock_release(vm::Mutex&) override {}
  bool lock_try_acquire(vm::Mutex&) override { return true; }
  vm::paddr_t kernel_root() override { return 0; }
  bool ram_zero_at_boot() override { return ram_zero; }
  void log(const char* message) override { logs.emplace_back(message); }

  // A disk of pages that reads zero wherever nothing was written.
  void disk_read(vm::u32 file, vm::u64 page, vm::u8* buf) override {
    auto it = disk.find({file, page});
    if (it == disk.end()) {
      std::memset(buf, 0, 4096);
    } else {
      std::memcpy(buf, it->second.data(), 4096);
    }
  }
  void disk_write(vm::u32 file, vm::u64 page, const vm::u8* buf) override {
    std::memcpy(disk[{file, page}].data(), buf, 4096);
  }
  void disk_zero_page_tail(vm::u32 file, vm::u64 size) override {
    if (size % 4096 == 0) return;
    vm::u8 page[4096];
    disk_read(file, size / 4096, page);
    std::memset(page + size % 4096, 0, 4096 - size % 4096);
    disk_write(file, size / 4096, page);
  }
  void disk_truncate(vm::u32 file, vm::u64 size) override {
    for (auto it = disk.begin(); it != disk.end();) {
      const vm::u64 start = it->first.second * 4096;
      if (it->first.first == file && start >= size) {
        it = disk.erase(it);
        continue;
      }
      if (it->first.first == file && start + 4096 > size)
        std::memset(it->second.data() + (size - start), 0, start + 4096 - size);
      ++it;
    }
  }

  [[noreturn]] void panic(const char* message) override {
    PanicTarget& t = panic_target();
    t.message = message;
    if (t.active != nullptr) std::longjmp(*t.active, 1);
    std::fprintf(stderr, "core panic outside EXPECT_PANIC: %s\n", message);
    std::abort();
  }

  unsigned cpu = 0;
  // What ram_zero_at_boot() claims (the RAM itself starts as garbage).
  bool ram_zero = false;
  std::vector<TlbCall> tlb_calls;
  std::function<void(const TlbCall&)> on_tlb;  // called after each TLB call is recorded
  std::vector<vm::YieldPoint> yields;
  std::vector<std::string> logs;
  std::map<std::pair<vm::u32, vm::u64>, std::array<vm::u8, 4096>> disk;
};

}  // namespace vmtest
