// How a user access goes on after the fault handler answered its #PF: the
// same rule on every machine (the simulator's access loop and the port's).
#pragma once

#include "lib/format.hpp"
#include "lib/types.hpp"
#include "platform.hpp"
#include "vm/vm_fault.hpp"

namespace vm {

// Locking: none; one per user access, owned by the thread making it.
class UserFault {
 public:
  // A fault the core says it resolved that comes straight back this many
  // times means the translation it installed does not allow the access.
  static constexpr int kMaxRepeats = 4;

  // The signal that ends the access, or kNone to resume it. An access to
  // the machine's own reserved page (its user stub page) is an access to the
  // kernel half: SIGSEGV whatever the core answered. A fault that found no
  // frame kills the process (kOom, spec §8), as Linux's OOM killer does on
  // a page fault: the access cannot go on and there is no signal to catch.
  static Signal signal_for(FaultResult r, bool reserved) {
    if (r == FaultResult::kResolved && !reserved) return Signal::kNone;
    if (r == FaultResult::kNoMem && !reserved) return Signal::kOom;
    return r == FaultResult::kSegv || r == FaultResult::kResolved ? Signal::kSegv : Signal::kBus;
  }

  // After a resolved fault at `va`: a core panic (through the platform) when
  // the same address keeps faulting.
  void resolved(Platform& platform, vaddr_t va) {
    repeats_ = va == last_ ? repeats_ + 1 : 0;
    last_ = va;
    if (repeats_ < kMaxRepeats) return;
    FixedString<160> msg;
    msg << "fault at " << Hex{va} << " resolved " << repeats_
        << " times but the access still faults";
    platform.panic(msg.c_str());
  }

 private:
  vaddr_t last_ = 0;
  int repeats_ = 0;
};

}  // namespace vm
