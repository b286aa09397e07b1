#include "machine/machine.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "machine/engine.hpp"
#include "machine/firmware.hpp"
#include "machine/stubs.hpp"

namespace vmsim {
namespace {

// The host buffer behind simulated physical memory. MAP_NORESERVE: a large
// RAM costs only the pages the simulation touches.
class HostBuffer {
 public:
  explicit HostBuffer(uint64_t bytes) : bytes_(bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("machine: cannot map physical memory");
    base_ = static_cast<uint8_t*>(p);
  }
  ~HostBuffer() { munmap(base_, bytes_); }
  // The first `bytes` read zero again. A short run touches few host pages:
  // those are cleared in place and stay, so the next run does not fault
  // them in anew (the explorer's runs are mostly that cost otherwise). A
  // run that touched more than kKeepBytes gives its pages back instead.
  void zero(uint64_t bytes) {
    const uint64_t pages = bytes / kHostPage;
    resident_.resize(pages);
    if (mincore(base_, bytes, resident_.data()) != 0) {
      give_back(bytes);
      return;
    }
    uint64_t touched = 0;
    for (unsigned char r : resident_) touched += r & 1;
    if (touched * kHostPage > kKeepBytes) {
      give_back(bytes);
      return;
    }
    // A page only read maps the host's zero page: writing it would
    // allocate a page to hold zeros.
    static const uint8_t kZeros[kHostPage] = {};
    for (uint64_t i = 0; i < pages; ++i) {
      uint8_t* page = base_ + i * kHostPage;
      if ((resident_[i] & 1) != 0 && std::memcmp(page, kZeros, kHostPage) != 0)
        std::memset(page, 0, kHostPage);
    }
  }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  uint8_t* base() const { return base_; }
  uint64_t bytes() const { return bytes_; }

 private:
  static constexpr uint64_t kHostPage = 4096;
  static constexpr uint64_t kKeepBytes = uint64_t{16} << 20;

  void give_back(uint64_t bytes) {
    if (madvise(base_, bytes, MADV_DONTNEED) != 0)
      throw std::runtime_error("machine: cannot clear physical memory");
  }

  std::vector<unsigned char> resident_;  // mincore's answer, kept between resets
  uint8_t* base_ = nullptr;
  uint64_t bytes_ = 0;
};

uint64_t checked_ram_bytes(uint64_t ram_bytes) {
  if (ram_bytes == 0 || ram_bytes % fw::kPageSize != 0) {
    throw std::invalid_argument("machine: RAM size must be a non-zero page multiple");
  }
  return ram_bytes;
}

uint32_t checked_cpus(uint32_t cpus) {
  if (cpus == 0 || cpus > 64) throw std::invalid_argument("machine: cpus must be 1..64");
  return cpus;
}

uint64_t load_stub(uint32_t size) {
  switch (size) {
    case 1:
      return stubs::user_va(vmsim_ustub_load8);
    case 2:
      return stubs::user_va(vmsim_ustub_load16);
    case 4:
      return stubs::user_va(vmsim_ustub_load32);
    case 8:
      return stubs::user_va(vmsim_ustub_load64);
  }
  throw std::invalid_argument("machine: load size must be 1, 2, 4 or 8");
}

uint64_t store_stub(uint32_t size) {
  switch (size) {
    case 1:
      return stubs::user_va(vmsim_ustub_store8);
    case 2:
      return stubs::user_va(vmsim_ustub_store16);
    case 4:
      return stubs::user_va(vmsim_ustub_store32);
    case 8:
      return stubs::user_va(vmsim_ustub_store64);
  }
  throw std::invalid_argument("machine: store size must be 1, 2, 4 or 8");
}

// Bytes [addr, addr + len - 1] meet [first, last]; an end past 2^64
// wraps, which no real access does, so it counts as reaching the top.
bool overlaps(uint64_t addr, uint64_t len, uint64_t first, uint64_t last) {
  if (len == 0) return false;
  const uint64_t end = addr + (len - 1);
  if (end < addr) return addr <= last;
  return addr <= last && end >= first;
}

// The reserved ranges: the user-accessible pages of the kernel half, the
// stub page and the batch descriptors.
bool overlaps_reserved(uint64_t addr, uint64_t len) {
  return overlaps(addr, len, fw::kUserStubVa, fw::kUserStubVa + fw::kUserStubBytes - 1) ||
         overlaps(addr, len, fw::kBatchVa, fw::kBatchVa + fw::kBatchBytes - 1);
}
static_assert(Machine::kBatchCapacity * sizeof(BatchAccess) == fw::kBatchBytes);

// The devices, checked: page-aligned, non-empty, past RAM, disjoint.
std::vector<DeviceRange> checked_devices(uint64_t ram_bytes, std::vector<DeviceRange> devices) {
  for (size_t i = 0; i < devices.size(); ++i) {
    const DeviceRange& d = devices[i];
    if (d.bytes == 0 || d.phys % fw::kPageSize != 0 || d.bytes % fw::kPageSize != 0 ||
        d.phys < ram_bytes || d.phys + d.bytes < d.phys)
      throw std::invalid_argument("machine: a device range is empty, unaligned or overlaps RAM");
    for (size_t j = 0; j < i; ++j) {
      if (d.phys < devices[j].phys + devices[j].bytes && devices[j].phys < d.phys + d.bytes)
        throw std::invalid_argument("machine: device ranges overlap");
    }
  }
  return devices;
}

// The firmware goes right after RAM, or past the devices in its way.
uint64_t place_firmware(uint64_t ram_bytes, const std::vector<DeviceRange>& devices) {
  uint64_t at = ram_bytes;
  for (bool moved = true; moved;) {
    moved = false;
    for (const DeviceRange& d : devices) {
      if (at < d.phys + d.bytes && d.phys < at + fw::kFirmwareBytes) {
        at = d.phys + d.bytes;
        moved = true;
      }
    }
  }
  return at;
}

uint64_t buffer_bytes(uint64_t firmware_pa, const std::vector<DeviceRange>& devices) {
  uint64_t end = firmware_pa + fw::kFirmwareBytes;
  for (const DeviceRange& d : devices) end = std::max(end, d.phys + d.bytes);
  return end;
}

}  // namespace

struct Machine::Impl {
  Impl(uint64_t ram, uint32_t n, MachineOptions opts)
      : ram_bytes(checked_ram_bytes(ram)),
        cpus(checked_cpus(n)),
        options(std::move(opts)),
        devices(checked_devices(ram_bytes, options.devices)),
        fw_pa(place_firmware(ram_bytes, devices)),
        buffer(buffer_bytes(fw_pa, devices)),
        engines(cpus) {
    fw::build(buffer.base() + firmware_pa(), firmware_pa(), options.execute_only_stubs);
  }

  uint64_t firmware_pa() const { return fw_pa; }  // page aligned: RAM and devices are
  uint64_t kernel_root() const { return firmware_pa() + fw::kPml4Page * fw::kPageSize; }

  Engine& engine(uint32_t cpu);
  Engine* created(uint32_t cpu);
  std::unique_ptr<Engine> create_engine();
  void check_root(uint64_t root) const;

  const uint64_t ram_bytes;
  const uint32_t cpus;
  MachineOptions options;  // execute_only_stubs drops to false if PKU fails
  const std::vector<DeviceRange> devices;
  const uint64_t fw_pa;
  HostBuffer buffer;
  // One engine per CPU, created on first use; nullptr until then.
  std::vector<std::unique_ptr<Engine>> engines;
  uint32_t engines_created = 0;
};

Engine& Machine::Impl::engine(uint32_t cpu) {
  if (cpu >= cpus) throw std::invalid_argument("machine: no cpu " + std::to_string(cpu));
  if (!engines[cpu]) {
    engines[cpu] = create_engine();
    ++engines_created;
  }
  return *engines[cpu];
}

Engine* Machine::Impl::created(uint32_t cpu) {
  if (cpu >= cpus) throw std::invalid_argument("machine: no cpu " + std::to_string(cpu));
  return engines[cpu].get();
}

// All engines share one configuration. If the first one cannot have
// protection keys (a CPU model or Unicorn build without PKU), the machine
// goes on without them: reserved_range() alone keeps the stubs unread.
std::unique_ptr<Engine> Machine::Impl::create_engine() {
  EngineConfig config;
  config.phys = buffer.base();
  config.ranges.push_back({0, ram_bytes});
  config.ranges.push_back({firmware_pa(), fw::kFirmwareBytes});
  for (const DeviceRange& d : devices) config.ranges.push_back({d.phys, d.bytes});
  config.kernel_root = kernel_root();
  config.pku = options.execute_only_stubs;
  config.tcg_buffer_bytes = options.tcg_buffer_bytes;
  if (config.pku && engines_created == 0) {
    try {
      return std::make_unique<Engine>(config);
    } catch (const std::runtime_error&) {
      options.execute_only_stubs = false;
      config.pku = false;
    }
  }
  return std::make_unique<Engine>(config);
}

// The root must be a page of RAM whose kernel half is the template's: a root
// without it cannot even fetch the stubs, and the CPU would fault on
// instruction fetch instead of on the trace's access. Only the slot of the
// stub window is compared, and not its accessed bit, which the walker sets.
void Machine::Impl::check_root(uint64_t root) const {
  if (root % fw::kPageSize != 0 || root >= ram_bytes) {
    throw std::invalid_argument("machine: root is not a page of RAM");
  }
  constexpr uint64_t kWindowSlot = 511 * 8;
  constexpr uint64_t kCompared = fw::kPteAddrMask | fw::kPtePresent | fw::kPteUser;
  uint64_t mine = 0, template_entry = 0;
  std::memcpy(&mine, buffer.base() + root + kWindowSlot, 8);
  std::memcpy(&template_entry, buffer.base() + kernel_root() + kWindowSlot, 8);
  if ((mine & kCompared) != (template_entry & kCompared)) {
    throw std::invalid_argument("machine: root lacks the kernel half of kernel_root()");
  }
}

Machine::Machine(uint64_t ram_bytes, uint32_t cpus, MachineOptions options)
    : impl_(std::make_unique<Impl>(ram_bytes, cpus, options)) {}

Machine::~Machine() = default;

uint8_t* Machine::phys_base() {
  return impl_->buffer.base();
}
uint64_t Machine::ram_bytes() const {
  return impl_->ram_bytes;
}
uint64_t Machine::phys_bytes() const {
  return impl_->buffer.bytes();
}
const std::vector<DeviceRange>& Machine::devices() const {
  return impl_->devices;
}
uint32_t Machine::cpus() const {
  return impl_->cpus;
}
uint64_t Machine::kernel_root() const {
  return impl_->kernel_root();
}

bool Machine::reserved_range(uint64_t addr, uint64_t len) const {
  return overlaps_reserved(addr, len);
}

bool Machine::reserved_access(const UserAccess& a) const {
  switch (a.kind) {
    case UserAccessKind::kLoad:
    case UserAccessKind::kStore:
      return overlaps_reserved(a.addr, a.size);
    case UserAccessKind::kTouchLoad:
    case UserAccessKind::kTouchStore:
      break;
  }
  // A touch loop with a stride below a page cannot step over the range.
  if (a.count == 0) return false;
  if (a.stride <= fw::kPageSize) return overlaps_reserved(a.addr, a.stride * (a.count - 1) + 1);
  for (uint64_t i = 0, addr = a.addr; i < a.count; ++i, addr += a.stride) {
    if (overlaps_reserved(addr, 1)) return true;
  }
  return false;
}

bool Machine::stubs_execute_only() const {
  // Decided when the first engine is made; ask for one if none exists yet.
  if (impl_->engines_created == 0) impl_->engine(0);
  return impl_->options.execute_only_stubs;
}

UserContext Machine::prepare(const UserAccess& a) const {
  UserContext ctx;
  ctx.rdi = a.addr;
  switch (a.kind) {
    case UserAccessKind::kLoad:
      ctx.rip = load_stub(a.size);
      break;
    case UserAccessKind::kStore:
      ctx.rip = store_stub(a.size);
      ctx.rdx = a.value;
      break;
    case UserAccessKind::kTouchLoad:
      ctx.rip = stubs::user_va(vmsim_ustub_touch_load);
      ctx.rsi = a.stride;
      ctx.rcx = a.count;
      break;
    case UserAccessKind::kTouchStore:
      ctx.rip = stubs::user_va(vmsim_ustub_touch_store);
      ctx.rsi = a.stride;
      ctx.rcx = a.count;
      ctx.rdx = a.value;
      break;
  }
  return ctx;
}

BatchAccess* Machine::batch() {
  return reinterpret_cast<BatchAccess*>(impl_->buffer.base() + impl_->firmware_pa() +
                                        fw::kBatchPage * fw::kPageSize);
}

UserContext Machine::prepare_batch(size_t count) const {
  if (count > kBatchCapacity) throw std::invalid_argument("machine: batch over its capacity");
  UserContext ctx;
  ctx.rip = stubs::user_va(vmsim_ustub_batch);
  ctx.r8 = fw::kBatchVa;
  ctx.r9 = count;
  return ctx;
}

Stop Machine::run(uint32_t cpu, uint64_t root, UserContext& ctx) {
  impl_->check_root(root);
  return impl_->engine(cpu).run(root, ctx);
}

void Machine::reset() {
  impl_->buffer.zero(impl_->ram_bytes);
  fw::build(impl_->buffer.base() + impl_->firmware_pa(), impl_->firmware_pa(),
            impl_->options.execute_only_stubs);
  for (auto& e : impl_->engines)
    if (e) e->invalidate_all();
}

void Machine::invalidate_page(uint32_t cpu, uint64_t va) {
  if (Engine* e = impl_->created(cpu)) e->invalidate_page(va);
}

void Machine::invalidate_all(uint32_t cpu) {
  if (Engine* e = impl_->created(cpu)) e->invalidate_all();
}

uint64_t Machine::emulator_entries() const {
  uint64_t total = 0;
  for (const auto& e : impl_->engines) {
    if (e) total += e->entries();
  }
  return total;
}

uint32_t Machine::engines_created() const {
  return impl_->engines_created;
}

}  // namespace vmsim
