// The digest of the core's final state (spec §7), read from the core's own
// structures: regions for the runs, resident object pages for the contents.
#pragma once

#include "sys/kernel.hpp"

namespace vm {

// Writes 64 lowercase hex digits and a NUL.
void state_digest(Kernel& kernel, char out_hex[65]);

}  // namespace vm
