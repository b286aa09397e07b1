// The agent of `vmsim linux` (docs/linux.md): the only code a traced process
// keeps. These bytes are copied to one page at kAgentPage in each process;
// the tracer (vmsim) points the instruction pointer at one gadget, sets its
// registers, and lets it run to the int3 that ends it (or to the fault the
// access raises). No stack, no libc, no data: position-independent bytes.
        .section .rodata
        .globl vmsim_agent_begin, vmsim_agent_end
        .globl vmsim_agent_trap, vmsim_agent_syscall
        .globl vmsim_agent_load1, vmsim_agent_load2, vmsim_agent_load4, vmsim_agent_load8
        .globl vmsim_agent_store1, vmsim_agent_store2, vmsim_agent_store4, vmsim_agent_store8
        .globl vmsim_agent_touch_read, vmsim_agent_touch_write
vmsim_agent_begin:
vmsim_agent_trap:               // where a new process hands itself to the tracer
        int3
vmsim_agent_syscall:            // rax = number, rdi rsi rdx r10 r8 r9 = arguments
        syscall
        int3
vmsim_agent_load1:              // rax = the value at rdi
        movzbl (%rdi), %eax
        int3
vmsim_agent_load2:
        movzwl (%rdi), %eax
        int3
vmsim_agent_load4:
        movl (%rdi), %eax
        int3
vmsim_agent_load8:
        movq (%rdi), %rax
        int3
vmsim_agent_store1:             // the low bytes of rsi to rdi
        movb %sil, (%rdi)
        int3
vmsim_agent_store2:
        movw %si, (%rdi)
        int3
vmsim_agent_store4:
        movl %esi, (%rdi)
        int3
vmsim_agent_store8:
        movq %rsi, (%rdi)
        int3
vmsim_agent_touch_read:         // rcx >= 1 one-byte loads from rdi, rdx apart
1:      movb (%rdi), %al
        dec %rcx
        jz 2f
        add %rdx, %rdi
        jmp 1b
2:      int3
vmsim_agent_touch_write:        // the same, storing sil
1:      movb %sil, (%rdi)
        dec %rcx
        jz 2f
        add %rdx, %rdi
        jmp 1b
2:      int3
vmsim_agent_end:
        .section .note.GNU-stack, "", @progbits
