// The kernel's entry: console, memory, CPU tables, the trace image from the
// multiboot module, the other CPUs, then the replay. QEMU's exit status says
// how it went (console.hpp).
#include "apic.hpp"
#include "console.hpp"
#include "cpu.hpp"
#include "idt.hpp"
#include "image/trace_image_reader.hpp"
#include "kernel_va.hpp"
#include "memory.hpp"
#include "multiboot.hpp"
#include "percpu.hpp"
#include "serial.hpp"
#include "slab_protection.hpp"
#include "smp.hpp"
#include "stress_mode.hpp"
#include "swap_device.hpp"
#include "trace_replay.hpp"

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

namespace port {
namespace {

using namespace image;

// Boot memory kept for everything but the swap device: trace threads' stacks,
// the disk's written file pages, the engine's tables.
constexpr uint64_t kHeapKeptFromSwap = 64 << 20;

const ImageReader& load_image(const MultibootInfo* mbi) {
  if ((mbi->flags & (1 << 3)) == 0 || mbi->mods_count != 1)
    refuse_image("expected exactly one boot module, the trace image (-initrd FILE)");
  const auto& mod = *phys_to_virt<const MultibootModule>(mbi->mods_addr);
  static ImageReader reader;
  const char* why = nullptr;
  if (!reader.open(phys_to_virt<const uint8_t>(mod.mod_start), mod.mod_end - mod.mod_start, &why))
    refuse_image(why);
  return reader;
}

// What this machine cannot hold (more memory than lies below the kernel, a
// swap larger than its boot memory), refused before anything runs.
void check_fits_machine(const ImageReader& img) {
  const ImageHeader& h = img.header();
  Line l;
  if (h.machine.memory > core_ram_limit()) {
    l << "machine.memory " << h.machine.memory << " exceeds the " << core_ram_limit()
      << " bytes below the kernel";
    refuse_image(l.c_str());
  }
  // Swap and the devices' frames live in boot memory (swap_device.hpp,
  // trace_replay.cpp): all of them, or the run does not start. The host
  // sizes the guest's RAM for them (guest_memory_mib).
  uint64_t devices = 0;
  for (uint64_t i = 0; i < img.count(kDevices); ++i) devices += img.device(i).size;
  const uint64_t room = boot_alloc_room();
  if (devices > room || room - devices < kHeapKeptFromSwap) {
    l << "machine.devices (" << devices << " bytes) exceed the " << room
      << " bytes the port can set aside (the guest's RAM above the kernel, less "
      << kHeapKeptFromSwap << " kept for its heap)";
    refuse_image(l.c_str());
  }
  const uint64_t swap_room = room - devices - kHeapKeptFromSwap;
  if (SwapDevice::footprint(h.machine.swap >> vm::kPageShift) > swap_room) {
    l << "machine.swap " << h.machine.swap << " exceeds the " << swap_room
      << " bytes the port can hold for swap (the guest's RAM above the kernel, less "
      << kHeapKeptFromSwap << " kept for its heap)";
    refuse_image(l.c_str());
  }
}

}  // namespace

extern "C" [[noreturn]] void kmain(uint32_t magic, uint32_t mbi_phys) {
  serial_init();
  info("boot");
  for (auto** f = __init_array_start; f < __init_array_end; ++f) (*f)();
  if (magic != kMultibootBootMagic) kpanic("not started by a multiboot loader");
  const auto* mbi = phys_to_virt<const MultibootInfo>(mbi_phys);
  memory_init(mbi);
  kernel_va_init();
  idt_init();
  cpu_init_bsp();
  if (StressConfig stress; stress_requested(mbi, &stress)) exit_qemu(run_stress(stress));

  const ImageReader& image = load_image(mbi);
  check_fits_machine(image);
  check_core_ram(image.header().machine.memory);
  const char* cmdline = (mbi->flags & (1 << 2)) && mbi->cmdline != 0
                            ? phys_to_virt<const char>(mbi->cmdline)
                            : nullptr;
  if (sanity_requested(cmdline)) {
    slab_protection_prepare(image.header().machine.memory);
    info("slab sanity: the core's RAM is direct-mapped in 4 KiB pages");
  }
  const unsigned online = smp_start(image.header().machine.cpus);
  Line l;
  l << "trace " << image.name() << ", " << image.header().machine.cpus << " trace cpus on "
    << online << " physical";
  info(l.c_str());
  exit_qemu(replay_trace(image));
}

}  // namespace port
