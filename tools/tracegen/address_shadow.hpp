// An approximate picture of one process's address space, kept while the
// generator writes the process's ops in one plausible order. It only steers
// the generator towards interesting addresses; the simulator's reference
// model, not this, decides what each op does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace vmsim::tracegen {

enum ProtLetters : uint8_t { kProtR = 1, kProtW = 2, kProtX = 4 };

struct Region {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive; start and end are page-aligned
  uint8_t prot = 0;  // ProtLetters
  bool shared = false;
  bool heap = false;         // part of the brk heap
  int32_t file = -1;         // file mapping: index into the generator's file list
  uint64_t file_offset = 0;  // file offset of `start`

  uint64_t size() const { return end - start; }
  bool readable() const { return prot != 0; }  // w and x imply r on x86-64
  bool writable() const { return (prot & kProtW) != 0; }
};

struct Gap {
  uint64_t start = 0;
  uint64_t end = 0;
};

class AddressShadow {
 public:
  // Maps [start, end), replacing whatever was there (page-aligned bounds).
  void map(const Region& region);
  // Unmaps [start, end); unmapped parts are ignored.
  void unmap(uint64_t start, uint64_t end);
  // Sets the protection of [start, end); the caller checks it is fully mapped.
  void protect(uint64_t start, uint64_t end, uint8_t prot);

  bool is_free(uint64_t start, uint64_t end) const;
  bool is_fully_mapped(uint64_t start, uint64_t end) const;
  const Region* find(uint64_t address) const;
  // The first region starting at or after `address`.
  const Region* next_at_or_after(uint64_t address) const;

  // Where a non-fixed mmap of `len` bytes (page multiple) lands by the spec's
  // rule: the hint if free and at or above 0x10000, else the highest free
  // page-aligned start below 0x7f0000000000.
  std::optional<uint64_t> place(uint64_t len, std::optional<uint64_t> hint) const;

  std::vector<Region> regions() const;
  // Holes between mapped regions in [0x10000, 0x7f0000000000), ascending.
  std::vector<Gap> gaps() const;
  bool empty() const { return regions_.empty(); }
  size_t count() const { return regions_.size(); }

 private:
  void split_at(uint64_t address);
  std::map<uint64_t, Region> regions_;  // by start
};

}  // namespace vmsim::tracegen
