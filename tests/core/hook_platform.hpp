// A FakePlatform that plays a second thread single-threaded: a hook runs
// at a chosen yield point (where a real scheduler could switch to the other
// thread), locks have owners (taking one that is held is what would block:
// the test fails with a panic naming it), and a sleep on a busy page runs a
// hook of its own (the owner finishing) or fails the test, since nothing
// else could ever wake it here.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fake_platform.hpp"
#include "lib/mutex.hpp"

namespace vmtest {

class HookPlatform : public FakePlatform {
 public:
  explicit HookPlatform(size_t ram_bytes) : FakePlatform(ram_bytes) {}

  // Runs `hook` the first time `point` is passed (one-shot: the other
  // thread runs once, and its own pass through the point does not recurse).
  void at(vm::YieldPoint point, std::function<void()> hook) { hooks_[point] = std::move(hook); }

  void yield(vm::YieldPoint point) override {
    FakePlatform::yield(point);
    auto it = hooks_.find(point);
    if (it == hooks_.end()) return;
    std::function<void()> hook = std::move(it->second);
    hooks_.erase(it);
    hook();
  }

  void lock_acquire(vm::Mutex& m) override {
    if (m.owner != vm::Mutex::kUnowned) {
      would_block = std::string("lock \"") + m.name() + "\" taken while held: it would block";
      panic(would_block.c_str());
    }
    m.owner = 1;
    locked.push_back(&m);
  }
  void lock_release(vm::Mutex& m) override {
    if (m.owner == vm::Mutex::kUnowned) panic("unlock of a lock nobody holds");
    m.owner = vm::Mutex::kUnowned;
  }
  static bool held(const vm::Mutex& m) { return m.owner != vm::Mutex::kUnowned; }

  void wait_for(const void* channel, const char* what) override {
    waits.push_back(channel);
    if (on_wait) {
      on_wait(channel);
      return;
    }
    sleep_message = std::string("sleep on ") + what + ": nothing here would wake it";
    panic(sleep_message.c_str());
  }

  std::vector<const vm::Mutex*> locked;  // every lock taken, in order
  std::vector<const void*> waits;        // every sleep's channel, in order
  std::function<void(const void*)> on_wait;
  std::string would_block;
  std::string sleep_message;

 private:
  std::map<vm::YieldPoint, std::function<void()>> hooks_;
};

}  // namespace vmtest
