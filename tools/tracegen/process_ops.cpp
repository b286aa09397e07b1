// Op generators of the `fork`, `exec`, `exit` and `poke` features.
//
// What keeps these traces valid in every order the threads may run in:
// - a child's threads only start after its fork, so they are written only
//   after it, starting from a copy of the parent's shadow; a planned fork the
//   budget cannot pay for is dropped, and the child is then an ordinary
//   process (empty address space) that its threads create;
// - exit is only the last op of a process's only thread, after every fork
//   that thread makes;
// - poke names the poking thread's own process, a process created by a thread
//   that never exits, or a forked process that never exits and whose fork
//   surely ran before (made earlier by this thread or before this thread's
//   process was forked).
#include <algorithm>
#include <optional>
#include <string>

#include "access_targets.hpp"
#include "op_generators.hpp"
#include "op_helpers.hpp"

namespace vmsim::tracegen {

namespace {

constexpr uint64_t kImageBase = 0x400000;

// The child's threads may now be written; a dropped fork leaves them an
// ordinary process of their own.
void start_threads(TraceState& trace, const ProcessState& child,
                   const std::vector<uint32_t>& known) {
  for (uint32_t t : child.threads) {
    ThreadState& thread = trace.threads[t];
    thread.started = true;
    thread.known_forks = known;
    trace.started.push_back(t);
  }
}

void drop_fork(TraceState& trace, ProcessState& child) {
  child.origin = child.threads.empty() ? ProcessOrigin::kNeverCreated : ProcessOrigin::kThread;
  start_threads(trace, child, {});
}

// The fork of `child` by ctx.thread, or nullopt (and the fork dropped) when
// the budget cannot pay for the child's page tables.
std::optional<Json> emit_fork(GenContext& ctx, uint32_t child_index) {
  ProcessState& child = ctx.trace.processes[child_index];
  const ProcessState& parent = ctx.process;
  if (!ctx.budget.fork_process(parent.index, child.index)) {
    drop_fork(ctx.trace, child);
    return std::nullopt;
  }
  child.origin = ProcessOrigin::kForked;
  child.shadow = parent.shadow;
  child.brk = parent.brk;
  child.initial_brk = parent.initial_brk;
  child.has_image = parent.has_image;
  child.text = parent.text;
  child.data = parent.data;
  child.bss = parent.bss;
  child.stack = parent.stack;
  ctx.thread.known_forks.push_back(child.index);
  start_threads(ctx.trace, child, ctx.thread.known_forks);
  return Json{{"op", "fork"}, {"child", child.name}};
}

// A segment size for exec: 0 to 3 pages, sometimes not a page multiple.
uint64_t pick_segment(Prng& rng) {
  const uint64_t roll = rng.below(100);
  if (roll < 15) return 0;
  if (roll < 80) return rng.between(1, 3) * kPageSize;
  return rng.between(1, 3 * kPageSize);
}

Region segment(uint64_t start, uint64_t bytes, uint8_t prot) {
  Region region;
  region.start = start;
  region.end = start + page_up(bytes);
  region.prot = prot;
  return region;
}

// Whether `target` may be poked by ctx.thread now, in every run order.
bool pokeable(const GenContext& ctx, const ProcessState& target) {
  if (target.index == ctx.process.index) return true;
  if (target.will_exit) return false;
  if (target.origin == ProcessOrigin::kThread) return true;
  if (target.origin != ProcessOrigin::kForked) return false;
  const std::vector<uint32_t>& known = ctx.thread.known_forks;
  return std::find(known.begin(), known.end(), target.index) != known.end();
}

// An address in `target` for a poke of `size` bytes: mostly mapped (read-only,
// PROT_NONE and shared read-only ones included), sometimes not.
uint64_t pick_poke_address(Prng& rng, const ProcessState& target, uint32_t size) {
  const std::vector<Region> regions = target.shadow.regions();
  const uint64_t roll = rng.below(100);
  if (!regions.empty() && roll < 85) {
    std::vector<Region> unwritable;
    for (const Region& region : regions) {
      if (!region.writable()) unwritable.push_back(region);
    }
    const Region& region =
        !unwritable.empty() && rng.chance(35) ? rng.pick(unwritable) : rng.pick(regions);
    return region.start + pick_offset(rng, region.size(), size);
  }
  if (roll < 90) return rng.below(kMinMapAddr) & ~uint64_t{size - 1};
  if (!regions.empty() && roll < 95) {
    return (rng.pick(regions).end + rng.below(kPageSize)) & ~uint64_t{size - 1};
  }
  const std::vector<Gap> gaps = target.shadow.gaps();
  const Gap gap = gaps.empty() ? Gap{kMmapTop, kStackTop} : rng.pick(gaps);
  return (gap.start + rng.below(std::min<uint64_t>(gap.end - gap.start, 16 * kPageSize))) &
         ~uint64_t{size - 1};
}

}  // namespace

std::optional<Json> generate_lifecycle_op(GenContext& ctx) {
  ThreadState& thread = ctx.thread;
  if (!thread.pending_forks.empty()) {
    const uint64_t remaining = thread.quota - thread.ops.size();
    if (remaining <= thread.pending_forks.size() || ctx.rng.chance(12)) {
      const uint32_t child = thread.pending_forks.front();
      thread.pending_forks.erase(thread.pending_forks.begin());
      if (auto op = emit_fork(ctx, child)) return op;
    }
  }
  if (ctx.process.will_exit && thread.ops.size() + 1 == thread.quota &&
      thread.pending_forks.empty()) {
    return Json{{"op", "exit"}};
  }
  return std::nullopt;
}

Json generate_threadless_fork(GenContext& ctx) {
  TraceState& trace = ctx.trace;
  if (trace.threadless_forks >= kMaxThreadlessForks ||
      trace.processes.size() >= trace.processes.capacity() || ctx.process.depth >= kMaxForkDepth) {
    return yield_op();
  }
  ++trace.threadless_forks;
  ProcessState child;
  child.index = static_cast<uint32_t>(trace.processes.size());
  child.name = ctx.process.name + ".c" + std::to_string(trace.next_child++);
  child.origin = ProcessOrigin::kPendingFork;
  child.parent = static_cast<int32_t>(ctx.process.index);
  child.depth = ctx.process.depth + 1;
  child.privileged = ctx.process.privileged;
  trace.processes.push_back(std::move(child));  // capacity reserved: ctx.process stays valid
  if (auto op = emit_fork(ctx, trace.processes.back().index)) return *op;
  return yield_op();
}

Json generate_exec(GenContext& ctx) {
  Prng& rng = ctx.rng;
  ProcessState& process = ctx.process;
  const uint64_t text = pick_segment(rng);
  const uint64_t data = pick_segment(rng);
  const uint64_t bss = pick_segment(rng);
  const uint64_t stack =
      rng.chance(80) ? rng.between(1, 4) * kPageSize : rng.between(1, 4 * kPageSize);
  const Region text_region = segment(kImageBase, text, kProtR | kProtX);
  const Region data_region = segment(text_region.end, data, kProtR | kProtW);
  const Region bss_region = segment(data_region.end, bss, kProtR | kProtW);
  const Region stack_region = segment(kStackTop - page_up(stack), stack, kProtR | kProtW);

  // Charge every page of the new image (the old one's pages may live on in
  // forked relatives); without the frames, no exec.
  ctx.budget.forget_pages(process.index);
  for (const Region& region : {text_region, data_region, bss_region, stack_region}) {
    for (uint64_t page = region.start; page < region.end; page += kPageSize) {
      if (!ctx.budget.charge(process.index, page)) return yield_op();
    }
  }

  process.shadow = AddressShadow{};
  for (const Region& region : {text_region, data_region, bss_region, stack_region}) {
    if (region.size() != 0) process.shadow.map(region);
  }
  process.brk = bss_region.end;
  process.initial_brk = bss_region.end;
  process.has_image = true;
  process.text = text_region;
  process.data = data_region;
  process.bss = bss_region;
  process.stack = stack_region;

  Json op = {{"op", "exec"}};
  op["text"] = size_json(rng, text);
  op["data"] = size_json(rng, data);
  op["bss"] = size_json(rng, bss);
  op["stack"] = size_json(rng, stack);
  return op;
}

Json generate_image_access(GenContext& ctx) {
  Prng& rng = ctx.rng;
  const ProcessState& process = ctx.process;
  if (!process.has_image) return generate_exec(ctx);
  std::vector<const Region*> segments;
  for (const Region* region : {&process.text, &process.data, &process.bss, &process.stack}) {
    if (region->size() != 0) segments.push_back(region);
  }
  if (segments.empty()) return generate_read(ctx);
  const Region& region = *rng.pick(segments);
  const uint32_t size = pick_access_size(rng);
  const bool is_text = &region == &process.text;
  const bool write = rng.chance(is_text ? 25 : 50);  // a write to text is segv
  uint64_t offset = pick_offset(rng, region.size(), size);
  if (&region == &process.stack && rng.chance(50)) {  // near the top, where stacks are used
    offset = region.size() - kPageSize + (rng.below(kPageSize) & ~uint64_t{size - 1});
  }
  Target target;
  target.address = region.start + offset;
  target.room = region.size() - offset;
  const std::optional<Target> charged = charge_or_fallback(ctx, target, size);
  if (!charged) return yield_op();
  return access_op(rng, *charged, size, write);
}

Json generate_poke(GenContext& ctx) {
  Prng& rng = ctx.rng;
  std::vector<uint32_t> others;
  for (const ProcessState& process : ctx.trace.processes) {
    if (process.index != ctx.process.index && pokeable(ctx, process)) {
      others.push_back(process.index);
    }
  }
  const ProcessState& target =
      others.empty() || rng.chance(35) ? ctx.process : ctx.trace.processes[rng.pick(others)];
  const uint32_t size = pick_access_size(rng);

  Json addr;
  uint64_t address;
  if (&target == &ctx.process && !ctx.thread.labels.empty() && rng.chance(25)) {
    const LabelInfo& label = rng.pick(ctx.thread.labels);
    const uint64_t offset = pick_offset(rng, label.len, size);
    address = label.start + offset;
    addr = label_ref(label.name, offset);
  } else {
    address = pick_poke_address(rng, target, size);
    addr = address_json(address);
  }
  if (!ctx.budget.charge(target.index, address)) {
    const std::optional<uint64_t> page = ctx.budget.random_charged_page(rng, target.index);
    if (!page) return yield_op();
    address = *page + (rng.below(kPageSize) & ~uint64_t{size - 1});
    addr = address_json(address);
  }

  Json op = {{"op", "poke"}};
  op["process"] = target.name;
  op["addr"] = addr;
  op["size"] = size;
  op["value"] = value_json(rng, pick_value(rng, size));
  return op;
}

}  // namespace vmsim::tracegen
