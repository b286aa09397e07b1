// vmsim_fiber_switch(void** save_sp, void* load_sp): save the callee-saved
// registers on this stack, store the stack pointer in *save_sp, load
// load_sp and restore the registers saved there. Unlike swapcontext it
// makes no system call (no signal mask to switch: the simulator's fibers all
// run with the same one), which halves the cost of a fault in a run.
// Frame, from the saved stack pointer up: MXCSR and x87 control word (8
// bytes), r15, r14, r13, r12, rbx, rbp, return address.
    .text
    .globl vmsim_fiber_switch
    .type vmsim_fiber_switch, @function
vmsim_fiber_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
.Lrestore:
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size vmsim_fiber_switch, .-vmsim_fiber_switch

// A new fiber's first return lands here with its Fiber* in r12 and a
// 16-byte aligned stack. vmsim_fiber_main runs the body and returns the
// stack pointer resume() saved: the fiber ends by switching there for good
// (nothing in C++ has to be "noreturn", which AddressSanitizer would treat
// as leaving the stack).
    .globl vmsim_fiber_start
    .type vmsim_fiber_start, @function
vmsim_fiber_start:
    .cfi_startproc
    .cfi_undefined rip
    movq %r12, %rdi
    call vmsim_fiber_main
    movq %rax, %rsp
    jmp .Lrestore
    .cfi_endproc
    .size vmsim_fiber_start, .-vmsim_fiber_start

    .section .note.GNU-stack,"",@progbits
