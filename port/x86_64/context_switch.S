// Switching between kernel stacks (kthread.cpp).
//
// A context is only its stack pointer: the callee-saved registers and the
// return address sit on the stack it points to, pushed by context_switch.
// A new context's stack is prepared so that its first switch-in "returns"
// into context_start, which calls the entry with its argument.

        .text
        .code64

// void context_switch(uint64_t* save_rsp, uint64_t load_rsp)
        .globl context_switch
context_switch:
        push %rbp
        push %rbx
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, (%rdi)
        mov %rsi, %rsp
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %rbx
        pop %rbp
        ret

// The first code a new context runs: r12 = entry, r13 = argument (kthread.cpp
// puts them where context_switch pops them). The entry never returns.
        .globl context_start
context_start:
        mov %r13, %rdi
        xor %ebp, %ebp                  // the end of the frame chain
        and $-16, %rsp                  // the ABI's alignment at a call
        call *%r12
        ud2
