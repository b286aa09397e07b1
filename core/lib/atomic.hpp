// A word that other CPUs update without a common lock: reference counts,
// reverse-map counts, busy words (FreeBSD's atomic(9), Zircon's ktl::atomic).
// The value is reachable only through these operations, so no plain `++`,
// `--` or `=` can slip in next to the atomic ones: a lost update on the
// port's SMP stress mode would leak an object or free one still in use.
//
// Every update opens its word (lib/write_guard.hpp): these are the fields
// built to change without their object's lock, so the update is the USE().
#pragma once

#include "lib/types.hpp"
#include "lib/write_guard.hpp"

namespace vm {

template <class T>
class Atomic {
 public:
  constexpr Atomic() = default;
  constexpr explicit Atomic(T v) : v_(v) {}
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load() const { return __atomic_load_n(&v_, __ATOMIC_ACQUIRE); }
  void store(T v) {
    UseScope use(&v_);
    __atomic_store_n(&v_, v, __ATOMIC_RELEASE);
  }
  // Each returns the value after the update.
  T add(T n) {
    UseScope use(&v_);
    return __atomic_add_fetch(&v_, n, __ATOMIC_ACQ_REL);
  }
  T sub(T n) {
    UseScope use(&v_);
    return __atomic_sub_fetch(&v_, n, __ATOMIC_ACQ_REL);
  }
  // Replaces *expected by `desired` if the word still holds *expected;
  // else loads the word into *expected and returns false.
  bool compare_exchange(T* expected, T desired) {
    UseScope use(&v_);
    return __atomic_compare_exchange_n(&v_, expected, desired, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
  }
  // Raises the word to `v` if it holds less (a peak), never lowering it
  // when another CPU raised it higher in between.
  void raise_to(T v) {
    T seen = load();
    while (seen < v && !compare_exchange(&seen, v)) {
    }
  }

 private:
  T v_ = 0;
};

}  // namespace vm
