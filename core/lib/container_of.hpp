// From an embedded member back to the object that contains it: the glue of
// the intrusive containers (AvlTree, List).
#pragma once

#include <stddef.h>

namespace vm {

// Byte offset of the data member `member` in T. On the Itanium C++ ABI (used
// by GCC and Clang on x86-64, both our machines) a pointer to data member is
// represented as exactly that offset. Reading the representation avoids the
// classic `&((T*)nullptr)->*member`, which is undefined behaviour and is
// flagged by UBSan.
template <class T, class M>
inline ptrdiff_t member_offset(M T::*member) {
  static_assert(sizeof(member) == sizeof(ptrdiff_t), "Itanium data member pointer expected");
  ptrdiff_t off;
  __builtin_memcpy(&off, &member, sizeof off);
  return off;
}

template <class T, class M, M T::*Member>
inline T* container_of(M* m) {
  return reinterpret_cast<T*>(reinterpret_cast<char*>(m) - member_offset(Member));
}

template <class T, class M, M T::*Member>
inline const T* container_of(const M* m) {
  return reinterpret_cast<const T*>(reinterpret_cast<const char*>(m) - member_offset(Member));
}

}  // namespace vm
