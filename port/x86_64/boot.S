// Multiboot v1 entry (a.out kludge: QEMU loads the flat image by the header's
// addresses) and the 32-bit stub that enters long mode. The boot page tables
// map the first GiB three ways: identity (for this stub), at KERNEL_VMA (the
// kernel's link address) and in the direct map; memory.cpp extends the
// direct map and drops the identity entry once we run high.
#define KERNEL_VMA 0xffffffff80000000
#define PHYS(x) ((x) - KERNEL_VMA)

#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00010003  // page-aligned modules, memory map, a.out kludge

        .section .multiboot, "a"
        .balign 4
multiboot_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
        .long PHYS(multiboot_header)
        .long PHYS(__image_start)
        .long PHYS(__load_end)
        .long PHYS(__bss_end)
        .long PHYS(boot32)

        .section .boot.text, "ax"
        .code32
        .globl boot32
boot32:
        cli
        mov %eax, %edi                  // multiboot magic
        mov %ebx, %esi                  // multiboot info (physical)
        // PML4: [0] identity, [256] direct map, [511] kernel half (user bit
        // set so the user stub page below it can be reached from ring 3).
        mov $PHYS(boot_pdpt_low), %eax
        or $0x3, %eax
        mov %eax, PHYS(kernel_pml4)
        mov $PHYS(boot_pdpt_direct), %eax
        or $0x3, %eax
        mov %eax, PHYS(kernel_pml4) + 256 * 8
        mov $PHYS(kernel_pdpt_high), %eax
        or $0x7, %eax
        mov %eax, PHYS(kernel_pml4) + 511 * 8
        // The first GiB in 2 MiB pages (one page directory, used three
        // times): 1 GiB pages are not available on every CPU model / hypervisor.
        xor %ecx, %ecx
1:      mov %ecx, %eax
        shl $21, %eax
        or $0x183, %eax                  // present, writable, PS, global
        mov %eax, PHYS(boot_pd)(,%ecx,8)
        inc %ecx
        cmp $512, %ecx
        jne 1b
        mov $PHYS(boot_pd), %eax
        or $0x3, %eax
        mov %eax, PHYS(boot_pdpt_low)
        mov %eax, PHYS(kernel_pdpt_high) + 510 * 8
        mov %eax, PHYS(boot_pdpt_direct)
        mov $PHYS(kernel_pml4), %eax
        mov %eax, %cr3
        mov %cr4, %eax
        or $((1 << 5) | (1 << 7)), %eax  // PAE, PGE
        mov %eax, %cr4
        mov $0xc0000080, %ecx            // EFER: LME, NXE (the core sets XD)
        rdmsr
        or $((1 << 8) | (1 << 11)), %eax
        wrmsr
        mov %cr0, %eax
        or $((1 << 31) | (1 << 16) | 1), %eax  // PG, WP, PE
        mov %eax, %cr0
        lgdt PHYS(boot_gdt_ptr)
        ljmp $0x08, $PHYS(boot64)

        .code64
boot64:
        mov $0x10, %eax
        mov %eax, %ds
        mov %eax, %es
        mov %eax, %ss
        xor %eax, %eax
        mov %eax, %fs
        mov %eax, %gs
        movabs $boot_stack_top, %rsp
        mov %edi, %edi                   // upper halves are undefined after the switch
        mov %esi, %esi
        movabs $kmain, %rax
        call *%rax
1:      hlt
        jmp 1b

        .balign 8
boot_gdt:
        .quad 0
        .quad 0x00209a0000000000         // 0x08: 64-bit code
        .quad 0x0000920000000000         // 0x10: data
boot_gdt_ptr:
        .word boot_gdt_ptr - boot_gdt - 1
        .long PHYS(boot_gdt)

        .section .bss
        .balign 4096
        .globl kernel_pml4, kernel_pdpt_high, boot_pdpt_low, boot_pdpt_direct
kernel_pml4:      .skip 4096
kernel_pdpt_high: .skip 4096
boot_pdpt_low:    .skip 4096
boot_pdpt_direct: .skip 4096
boot_pd:          .skip 4096
        .balign 16
        .globl boot_stack_top
boot_stack:       .skip 32768
boot_stack_top:
