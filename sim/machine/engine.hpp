// One simulated CPU: a Unicorn x86-64 engine that maps the shared physical
// memory, walks the page tables CR3 names, keeps its own TLB, and runs the
// user stubs at CPL 3. See docs/machine.md for the reasoning behind each step.
#pragma once

#include <unicorn/unicorn.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "machine/machine.hpp"

namespace vmsim {

struct EngineConfig {
  struct Range {
    uint64_t pa = 0;
    uint64_t bytes = 0;  // page multiple
  };
  uint8_t* phys = nullptr;  // host view of guest physical address 0
  // What the guest has at which physical addresses (RAM, the firmware, the
  // trace's devices), all at phys + pa; nothing in between.
  std::vector<Range> ranges;
  uint64_t kernel_root = 0;  // physical address of the PML4 template
  bool pku = false;          // make the stub page execute-only for CPL 3
  uint32_t tcg_buffer_bytes = 0;
};

class Engine {
 public:
  // Opens the engine, turns paging on and drops to CPL 3 (throws
  // std::runtime_error if any step does not take).
  explicit Engine(const EngineConfig& config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Stop run(uint64_t root, UserContext& ctx);
  void invalidate_page(uint64_t va);
  void invalidate_all();

  uint64_t entries() const { return entries_; }
  uint64_t root() const { return root_; }

 private:
  struct UcClose {
    void operator()(uc_engine* uc) const { uc_close(uc); }
  };
  struct ContextFree {
    void operator()(uc_context* ctx) const { uc_context_free(ctx); }
  };
  using ContextPtr = std::unique_ptr<uc_context, ContextFree>;

  // Which saved context the CPU state currently derives from.
  enum class Base : uint8_t { kUser, kRing0 };

  // What the interrupt hook saw during the last emulation; intno < 0: none.
  struct Trap {
    int intno = -1;
    uint64_t cr2 = 0;
  };

  static void on_interrupt(uc_engine* uc, uint32_t intno, void* self);

  void open(const EngineConfig& config);
  void enable_paging(const EngineConfig& config);
  void enter_user(bool pku);
  void become(Base base);
  void switch_root(uint64_t root);
  void emulate(uint64_t begin);
  void expect_completed(const char* what);
  Stop classify_trap(const UserContext& ctx) const;

  uint64_t read_reg(int reg);
  void write_reg(int reg, uint64_t value);
  ContextPtr alloc_context();
  void save(uc_context* ctx);

  std::unique_ptr<uc_engine, UcClose> uc_;
  uc_hook hook_ = 0;
  // Invariant: both saved contexts were taken with old_exception clear (no
  // exception in flight). user_ is at CPL 3 with CR3 == root_, so restoring
  // it never changes the address space under the TLB; ring0_ is at CPL 0
  // with CR3 == kernel_root and only ever runs code that touches the kernel
  // half, whose translation is the same under every root.
  ContextPtr user_;
  ContextPtr ring0_;
  Base base_ = Base::kUser;
  bool dirty_ = false;  // an exception or error happened since base_ was restored
  uint64_t root_ = 0;   // CR3 of this engine (and of user_)
  Trap trap_;
  uint64_t entries_ = 0;  // uc_emu_start calls
};

}  // namespace vmsim
