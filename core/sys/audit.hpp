// The audit: checks every invariant of the VM system on demand (MINIX's
// SANITYCHECK, run by the simulator after every op when asked).
#pragma once

#include "lib/format.hpp"
#include "sys/kernel.hpp"

namespace vm {

using AuditMessage = FixedString<256>;

// True when every invariant holds; otherwise false, with the first broken
// invariant described in `why`.
bool audit(Kernel& kernel, AuditMessage& why);

}  // namespace vm
