// Trap entry, the ring-3 excursion and the user access stubs.
//
// A user access is an excursion: user_enter() saves the kernel's callee-saved
// registers and stack pointer and irets to a stub; the stub's load or store
// either completes and its `ud2` comes back (#UD), or it faults. Either way the
// trap handler (idt.cpp) records why and calls user_resume_kernel(), which
// returns from user_enter() as if it were an ordinary call.

        .text
        .code64

.macro ISR_NOERR n
        .balign 16
isr\n:  push $0
        push $\n
        jmp trap_common
.endm
.macro ISR_ERR n
        .balign 16
isr\n:  push $\n
        jmp trap_common
.endm

ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR 8
ISR_NOERR 9
ISR_ERR 10
ISR_ERR 11
ISR_ERR 12
ISR_ERR 13
ISR_ERR 14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR 17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR 21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR 29
ISR_ERR 30
ISR_NOERR 31
ISR_NOERR 128   // 0x80: a user stub is done
ISR_NOERR 240   // 0xf0: TLB shootdown IPI
ISR_NOERR 241   // 0xf1: wake-up IPI (work in the mailbox)
ISR_NOERR 255   // spurious

// Frame layout: struct TrapFrame in idt.hpp.
trap_common:
        push %rax
        push %rbx
        push %rcx
        push %rdx
        push %rsi
        push %rdi
        push %rbp
        push %r8
        push %r9
        push %r10
        push %r11
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, %rdi
        cld
        call trap_dispatch
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %r11
        pop %r10
        pop %r9
        pop %r8
        pop %rbp
        pop %rdi
        pop %rsi
        pop %rdx
        pop %rcx
        pop %rbx
        pop %rax
        add $16, %rsp
        iretq

        .section .rodata
        .balign 8
        .globl isr_table
isr_table:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad isr\n
        .endr
        .globl isr_vec128, isr_vec240, isr_vec241, isr_vec255
isr_vec128: .quad isr128
isr_vec240: .quad isr240
isr_vec241: .quad isr241
isr_vec255: .quad isr255

        .text
// void user_enter(const UserRegs* regs, uint64_t* kernel_rsp_slot)
        .globl user_enter
user_enter:
        push %rbx
        push %rbp
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, (%rsi)
        mov 0(%rdi), %rax               // rip
        mov 8(%rdi), %rcx               // rdi: the address
        mov 16(%rdi), %rdx              // rsi: the value to store
        push $0x1b                      // ss: user data
        push $0                         // rsp: the stubs use no stack
        push $0x2                       // rflags: interrupts stay off
        push $0x23                      // cs: user code
        push %rax
        mov %rcx, %rdi
        mov %rdx, %rsi
        xor %eax, %eax
        xor %ebx, %ebx
        xor %ecx, %ecx
        xor %edx, %edx
        xor %ebp, %ebp
        xor %r8d, %r8d
        xor %r9d, %r9d
        xor %r10d, %r10d
        xor %r11d, %r11d
        xor %r12d, %r12d
        xor %r13d, %r13d
        xor %r14d, %r14d
        xor %r15d, %r15d
        iretq

// [[noreturn]] void user_resume_kernel(uint64_t kernel_rsp)
        .globl user_resume_kernel
user_resume_kernel:
        mov %rdi, %rsp
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %rbp
        pop %rbx
        ret

// int kjmp_set(KJmpBuf*) / [[noreturn]] void kjmp_long(KJmpBuf*, int)
        .globl kjmp_set
kjmp_set:
        mov %rbx, 0(%rdi)
        mov %rbp, 8(%rdi)
        mov %r12, 16(%rdi)
        mov %r13, 24(%rdi)
        mov %r14, 32(%rdi)
        mov %r15, 40(%rdi)
        lea 8(%rsp), %rdx
        mov %rdx, 48(%rdi)
        mov (%rsp), %rdx
        mov %rdx, 56(%rdi)
        xor %eax, %eax
        ret

        .globl kjmp_long
kjmp_long:
        mov 0(%rdi), %rbx
        mov 8(%rdi), %rbp
        mov 16(%rdi), %r12
        mov 24(%rdi), %r13
        mov 32(%rdi), %r14
        mov 40(%rdi), %r15
        mov 48(%rdi), %rsp
        mov %esi, %eax
        jmp *56(%rdi)

// The user stub page, mapped user-executable at kUserStubVa in every address
// space. One 16-byte slot per access: rdi = address, rsi = value, rax = result.
// The way back is `ud2` (#UD), not `int $0x80`: under this machine's KVM
// (kvm_pvm) a software interrupt from CPL 3 raises #UD anyway.
        .section .user_stubs, "ax"
        .balign 16
        movzbq (%rdi), %rax             // +0x00 load 1
        ud2
        .balign 16
        movzwq (%rdi), %rax             // +0x10 load 2
        ud2
        .balign 16
        movl (%rdi), %eax               // +0x20 load 4
        ud2
        .balign 16
        movq (%rdi), %rax               // +0x30 load 8
        ud2
        .balign 16
        movb %sil, (%rdi)               // +0x40 store 1
        ud2
        .balign 16
        movw %si, (%rdi)                // +0x50 store 2
        ud2
        .balign 16
        movl %esi, (%rdi)               // +0x60 store 4
        ud2
        .balign 16
        movq %rsi, (%rdi)               // +0x70 store 8
        ud2
