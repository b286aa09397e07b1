// Application-processor start-up code. smp.cpp copies it to kTrampolinePhys
// (below 1 MiB, where a SIPI can point) and fills in the parameters at its
// end; an AP starts here in real mode and leaves in long mode on the kernel's
// page tables, calling param_entry(param_arg) on param_stack.
#define TRAMPOLINE_PHYS 0x8000
#define TR(x) ((x) - trampoline_start + TRAMPOLINE_PHYS)

        .section .rodata
        .balign 16
        .globl trampoline_start, trampoline_end
        .globl trampoline_param_cr3, trampoline_param_stack
        .globl trampoline_param_entry, trampoline_param_arg
        .code16
trampoline_start:
        cli
        xor %ax, %ax
        mov %ax, %ds
        lgdtl TR(tgdt_ptr)
        mov %cr0, %eax
        or $1, %eax
        mov %eax, %cr0
        ljmpl $0x08, $TR(tr32)

        .code32
tr32:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov %cr4, %eax
        or $((1 << 5) | (1 << 7)), %eax  // PAE, PGE
        mov %eax, %cr4
        mov TR(trampoline_param_cr3), %eax
        mov %eax, %cr3
        mov $0xc0000080, %ecx            // EFER: LME, NXE
        rdmsr
        or $((1 << 8) | (1 << 11)), %eax
        wrmsr
        mov %cr0, %eax
        or $((1 << 31) | (1 << 16)), %eax  // PG, WP
        mov %eax, %cr0
        ljmp $0x18, $TR(tr64)

        .code64
tr64:
        mov $0x10, %eax
        mov %eax, %ds
        mov %eax, %ss
        movq TR(trampoline_param_stack), %rsp
        movq TR(trampoline_param_arg), %rdi
        jmp *TR(trampoline_param_entry)

        .balign 8
tgdt:
        .quad 0
        .quad 0x00cf9a000000ffff          // 0x08: 32-bit code
        .quad 0x00cf92000000ffff          // 0x10: data
        .quad 0x00209a0000000000          // 0x18: 64-bit code
tgdt_ptr:
        .word tgdt_ptr - tgdt - 1
        .long TR(tgdt)
        .balign 8
trampoline_param_cr3:   .quad 0
trampoline_param_stack: .quad 0
trampoline_param_entry: .quad 0
trampoline_param_arg:   .quad 0
trampoline_end:
