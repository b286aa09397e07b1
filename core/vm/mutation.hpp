// Mutation switches: each one turns off one protection of the core, so that a
// test can prove a race trace catches the bug the protection prevents
// (`vmsim --bug NAME`, docs/cli.md). Only the simulator sets them; the port
// never does, and with Vm::mutations == 0 every guard is a not-taken branch.
#pragma once

#include "lib/types.hpp"

namespace vm {

// One bit each: several may be on at once.
enum class Mutation : u64 {
  kResizeNoRevalidate = u64{1} << 0,
  kMunmapEarlyFree = u64{1} << 1,
  kCowNoShootdown = u64{1} << 2,
  kCollapseWhileBusy = u64{1} << 3,
  kPokeDirtyCow = u64{1} << 4,
  kPageinNoRevalidate = u64{1} << 5,
  kPageoutDirtyRace = u64{1} << 6,
  kPageoutNoReserve = u64{1} << 7,
  kSwapoutKeepsDiscarded = u64{1} << 8,
  kSwapoutPublishesEarly = u64{1} << 9,
  kForkProtectUnlocked = u64{1} << 10,
  kTruncateBeforeWriteback = u64{1} << 11,
  kPageoutIgnoresOwedShootdown = u64{1} << 12,
  kCompressBeforeUnmap = u64{1} << 13,
  kCachePutCopiesMapped = u64{1} << 14,
  kThpSplitUnlocked = u64{1} << 15,
  kSlabWriteWithoutUse = u64{1} << 16,
  kThpSplitLocalFlush = u64{1} << 17,
  kHugeDirtyCow = u64{1} << 18,
};

constexpr u64 mutation_bit(Mutation m) {
  return static_cast<u64>(m);
}

struct MutationInfo {
  Mutation mutation;
  const char* name;         // the `--bug` argument
  const char* description;  // one line: which protection goes
};

// In bit order. The names are part of the command line: never rename one.
inline constexpr MutationInfo kMutations[] = {
    {Mutation::kResizeNoRevalidate, "resize-no-revalidate",
     "a page-in does not re-check the file's size after the object lock is retaken"},
    {Mutation::kMunmapEarlyFree, "munmap-early-free",
     "munmap frees frames before the TLB shootdown completes"},
    {Mutation::kCowNoShootdown, "cow-no-shootdown",
     "a copy-on-write fault replacing a present PTE invalidates only the faulting CPU"},
    {Mutation::kCollapseWhileBusy, "collapse-while-busy",
     "shadow-chain collapse merges a backing object even while one of its pages is busy"},
    {Mutation::kPokeDirtyCow, "poke-dirty-cow",
     "poke retries without write intent once it broke COW (Dirty COW, CVE-2016-5195)"},
    {Mutation::kPageinNoRevalidate, "pagein-no-revalidate",
     "a fault back from page-in I/O (map lock dropped) does not check whether the map changed"},
    {Mutation::kPageoutDirtyRace, "pageout-dirty-race",
     "pageout reads the dirty bits of a victim's PTEs, then clears the PTEs in a second step"},
    {Mutation::kPageoutNoReserve, "pageout-no-reserve",
     "pageout takes the memory it needs to free memory from the general pool, not the reserve"},
    {Mutation::kSwapoutKeepsDiscarded, "swapout-keeps-discarded",
     "a page removed (madvise dontneed, munmap) while pageout wrote it to swap keeps its slot"},
    {Mutation::kSwapoutPublishesEarly, "swapout-publishes-early",
     "pageout puts a page's swap slot in its place before the write to the slot is done"},
    {Mutation::kForkProtectUnlocked, "fork-protect-unlocked",
     "fork write-protects the parent's PTEs one by one without the pmap lock (read, then write)"},
    {Mutation::kTruncateBeforeWriteback, "truncate-before-writeback",
     "truncate frees a file's blocks past its new end before the writebacks there are done"},
    {Mutation::kPageoutIgnoresOwedShootdown, "pageout-ignores-owed-shootdown",
     "pageout frees a page whose last PTE another thread removed before that thread's shootdown"},
    {Mutation::kCompressBeforeUnmap, "compress-before-unmap",
     "pageout compresses a page while it is still mapped, before its PTEs go and TLBs are shot "
     "down"},
    {Mutation::kCachePutCopiesMapped, "cache-put-copies-mapped",
     "cache_put copies the range while its PTEs still map it, before they go and TLBs are shot "
     "down"},
    {Mutation::kThpSplitUnlocked, "thp-split-unlocked",
     "a fault entering a page inside a large entry decides to split it before it takes the pmap "
     "lock, and splits it after without looking again"},
    {Mutation::kSlabWriteWithoutUse, "slab-write-without-use",
     "mprotect changes a region's rights without saying USE() (caught under --sanity)"},
    {Mutation::kThpSplitLocalFlush, "thp-split-local-flush",
     "a split drops the 2 MiB translation only on the splitting CPU before it installs the page "
     "table: another CPU may keep it"},
    {Mutation::kHugeDirtyCow, "huge-dirty-cow",
     "poke, once it broke COW, writes the frame a large entry maps there, trusting it to be the "
     "copy (Huge Dirty COW, CVE-2017-1000405)"},
};

inline constexpr size_t kMutationCount = sizeof(kMutations) / sizeof(kMutations[0]);

}  // namespace vm
