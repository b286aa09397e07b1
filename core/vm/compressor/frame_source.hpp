// Where the compressor's store gets whole frames for packed pages, and gives
// them back. A small interface so the store can be tested with a fake and
// wired to the core's page allocator (reserved pool: the compressor is part
// of pageout) without knowing it.
#pragma once

#include "lib/types.hpp"

namespace vm {

class FrameSource {
 public:
  // A frame of kPageSize bytes (contents undefined), or nullptr when none.
  virtual u8* alloc_frame() = 0;
  // Gives back a frame alloc_frame() returned.
  virtual void free_frame(u8* frame) = 0;

 protected:
  ~FrameSource() = default;
};

}  // namespace vm
