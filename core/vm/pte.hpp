// x86-64 4-level paging entries, bit for bit (Intel SDM vol. 3A §4.5,
// "4-level paging"). Both machines walk what these helpers build: the
// simulator's emulated CPU and, on the port, the real one. 4 KiB leaves in
// page tables, and 2 MiB leaves in page directories (PS set in a PDE: large
// pages, docs/large-pages.md); every PML4E and PDPTE names a table.
#pragma once

#include "lib/types.hpp"
#include "vm/pmap.hpp"

namespace vm::pte {

using Entry = u64;

// Entry bits. A and D are written by the hardware walker (A in every entry it
// uses, D in leaves it writes through); software only reads and clears them.
inline constexpr Entry kPresent = Entry{1} << 0;       // P
inline constexpr Entry kWritable = Entry{1} << 1;      // R/W
inline constexpr Entry kUser = Entry{1} << 2;          // U/S
inline constexpr Entry kWriteThrough = Entry{1} << 3;  // PWT
inline constexpr Entry kCacheDisable = Entry{1} << 4;  // PCD
inline constexpr Entry kAccessed = Entry{1} << 5;      // A
inline constexpr Entry kDirty = Entry{1} << 6;         // D (leaves only)
inline constexpr Entry kPageSize = Entry{1} << 7;      // PS (PDEs of 2 MiB pages only)
inline constexpr Entry kGlobal = Entry{1} << 8;        // G (leaves only)
inline constexpr Entry kNoExecute = Entry{1} << 63;    // XD; needs EFER.NXE
// Physical address bits 12..51 (MAXPHYADDR 52, the architectural maximum).
inline constexpr Entry kAddrMask = 0x000ffffffffff000;
inline constexpr Entry kHardwareBits = kAccessed | kDirty;
// A 2 MiB leaf (PS PDE) names a 2 MiB-aligned frame: bits 21..51. Bit 12 is
// PAT there, never set here.
inline constexpr Entry kLargeAddrMask = 0x000fffffffe00000;

// Non-leaf entries grant everything; the leaf alone decides the rights, so
// changing a mapping's protection never touches a shared upper level.
inline constexpr Entry kTableBits = kPresent | kWritable | kUser;

inline constexpr unsigned kEntries = 512;  // per table page (4096 / 8)
inline constexpr unsigned kIndexBits = 9;

// Levels counted from the leaf: a table at `level` holds entries that each
// map span(level) bytes. The PML4 is the root.
enum Level : unsigned { kPt = 0, kPd = 1, kPdpt = 2, kPml4 = 3 };
inline constexpr unsigned kLevels = 4;

constexpr unsigned shift(unsigned level) {
  return unsigned(kPageShift) + kIndexBits * level;
}
// Bytes mapped by one entry of a table at `level` (4 KiB, 2 MiB, 1 GiB, 512 GiB).
constexpr u64 span(unsigned level) {
  return u64{1} << shift(level);
}
// Bytes mapped by a whole table at `level`.
constexpr u64 table_span(unsigned level) {
  return span(level) << kIndexBits;
}

// Index of `va` in the table at `level`: PML4 bits 39..47, PDPT 30..38,
// PD 21..29, PT 12..20.
constexpr unsigned index(vaddr_t va, unsigned level) {
  return unsigned(va >> shift(level)) & (kEntries - 1);
}

// 48-bit virtual addresses: bits 63..48 must copy bit 47. The lower half
// [0, kLowerHalfEnd) is per address space; the upper half is the kernel's.
inline constexpr unsigned kVaBits = 48;
inline constexpr vaddr_t kLowerHalfEnd = vaddr_t{1} << (kVaBits - 1);
inline constexpr unsigned kKernelFirstSlot = kEntries / 2;  // PML4 slots 256..511

constexpr vaddr_t canonical(vaddr_t va) {
  return static_cast<vaddr_t>(static_cast<i64>(va << (64 - kVaBits)) >> (64 - kVaBits));
}
constexpr bool is_canonical(vaddr_t va) {
  return canonical(va) == va;
}
constexpr bool in_lower_half(vaddr_t va) {
  return va < kLowerHalfEnd;
}

constexpr bool present(Entry e) {
  return (e & kPresent) != 0;
}
constexpr paddr_t addr(Entry e) {
  return e & kAddrMask;
}
// A page-aligned physical address an entry can hold.
constexpr bool valid_frame(paddr_t pa) {
  return (pa & ~kAddrMask) == 0;
}

constexpr Entry table_entry(paddr_t table) {
  return (table & kAddrMask) | kTableBits;
}

// Leaf permission bits for `a`: P, U/S if user, R/W if writable, XD unless
// executable. No caching bits (write-back memory), never G (per-address-space).
constexpr Entry leaf_bits(PteAttrs a) {
  Entry e = kPresent;
  if (a.user) e |= kUser;
  if (a.writable) e |= kWritable;
  if (!a.executable) e |= kNoExecute;
  return e;
}
constexpr Entry leaf_entry(paddr_t pa, PteAttrs a) {
  return (pa & kAddrMask) | leaf_bits(a);
}
// A PDE that maps the 2 MiB frame at `pa` itself.
constexpr Entry large_entry(paddr_t pa, PteAttrs a) {
  return (pa & kLargeAddrMask) | leaf_bits(a) | kPageSize;
}
constexpr bool large(Entry e) {
  return (e & kPageSize) != 0;
}
// The 4 KiB PTE that maps page `i` (0..511) of the large entry `e`, with
// its rights and its A/D bits (a split keeps what the hardware recorded).
constexpr Entry small_of_large(Entry e, unsigned i) {
  return ((e & kLargeAddrMask) + (u64{i} << kPageShift)) | (e & ~kAddrMask & ~kPageSize);
}

constexpr PteAttrs attrs(Entry e) {
  PteAttrs a;
  a.writable = (e & kWritable) != 0;
  a.executable = (e & kNoExecute) == 0;
  a.user = (e & kUser) != 0;
  return a;
}

// The rights of `e` lowered to at most `limit`: R/W cleared unless `limit`
// is writable, XD set unless it is executable. U/S is left alone.
constexpr Entry lowered(Entry e, PteAttrs limit) {
  if (!limit.writable) e &= ~kWritable;
  if (!limit.executable) e |= kNoExecute;
  return e;
}

// What a translation depends on: everything but the hardware-set A/D bits.
// Two entries equal under this mask translate identically.
constexpr Entry translation(Entry e) {
  return e & ~kHardwareBits;
}

// --- Access to live entries ---------------------------------------------
// Tables are shared with walkers on other CPUs, which set A/D with locked
// read-modify-writes. So every entry is read and written whole, with one
// 64-bit access (a torn entry could be walked), bits are cleared with atomic
// RMWs (a plain load/store pair could erase a D bit set in between), and
// stores are release so that a table filled before it is linked is seen
// filled (free on x86: TSO, a plain MOV; it only stops compiler reordering).

inline Entry load(const Entry* slot) {
  return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
}
inline void store(Entry* slot, Entry e) {
  __atomic_store_n(slot, e, __ATOMIC_RELEASE);
}
inline Entry exchange(Entry* slot, Entry e) {
  return __atomic_exchange_n(slot, e, __ATOMIC_ACQ_REL);
}
inline Entry fetch_and(Entry* slot, Entry mask) {
  return __atomic_fetch_and(slot, mask, __ATOMIC_ACQ_REL);
}
// Replaces `*expected` by `desired` if the slot still holds it; else loads
// the current value into `*expected`.
inline bool compare_exchange(Entry* slot, Entry* expected, Entry desired) {
  return __atomic_compare_exchange_n(slot, expected, desired, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE);
}

}  // namespace vm::pte
