// Guest code of the simulated machine, x86-64 (Intel syntax).
//
// Nothing here runs on the host: the two pages live in .rodata and are copied
// into the firmware area of simulated physical memory, where the emulated CPUs
// execute them (see firmware.cpp for where they are mapped). Every jump is
// relative to its own page, so the bytes run wherever the page is mapped.
//
// Register convention of the user stubs (set by Machine::prepare):
//   rdi = address, rdx = value to store, rsi = stride, rcx = count,
//   rax = loaded value (zero-extended); the batch stub walks descriptors
//   at r8, r9 of them (Machine::prepare_batch).
// Every stub ends by jumping to vmsim_ustub_done, an INT3: the interrupt
// hook sees vector 3 and stops the engine (engine.cpp says why this, and
// not Unicorn's `until` address, ends a run).

        .intel_syntax noprefix
        .section .rodata.vmsim_stubs, "a"

// ---------------------------------------------------------------- user page
// Mapped User, read+execute, never writable; runs at CPL 3.
        .balign 4096
        .globl vmsim_ustub_page
vmsim_ustub_page:

        .globl vmsim_ustub_load8
vmsim_ustub_load8:
        movzx eax, byte ptr [rdi]
        jmp vmsim_ustub_done

        .globl vmsim_ustub_load16
vmsim_ustub_load16:
        movzx eax, word ptr [rdi]
        jmp vmsim_ustub_done

        .globl vmsim_ustub_load32
vmsim_ustub_load32:
        mov eax, dword ptr [rdi]        // writing eax clears rax[63:32]
        jmp vmsim_ustub_done

        .globl vmsim_ustub_load64
vmsim_ustub_load64:
        mov rax, qword ptr [rdi]
        jmp vmsim_ustub_done

// rcx loads of one byte at rdi, rdi+rsi, ... A fault leaves rip on the load
// and rdi/rcx describing the rest of the loop, so resuming re-executes it.
        .globl vmsim_ustub_touch_load
vmsim_ustub_touch_load:
        test rcx, rcx
        jz vmsim_ustub_done
1:      movzx eax, byte ptr [rdi]
        add rdi, rsi
        dec rcx
        jnz 1b
        jmp vmsim_ustub_done

// r9 descriptors from r8 (machine.hpp, BatchAccess: address at +0, length
// at +8, what at +12: bit 0 load, bit 1 store; store byte at +13), each
// within one page. A load reads the first byte, which is all the MMU sees
// of it; a store writes every byte. A fault leaves r8/r9 on the access
// and rip on its instruction (REP STOSB keeps its own progress in
// rdi/rcx), so resuming re-executes it.
        .globl vmsim_ustub_batch
vmsim_ustub_batch:
        test r9, r9
        jz vmsim_ustub_done
vmsim_ustub_batch_access:
        mov rdi, qword ptr [r8]
        test byte ptr [r8 + 12], 1
        jz 1f
        movzx eax, byte ptr [rdi]
1:      test byte ptr [r8 + 12], 2
        jnz vmsim_ustub_batch_store
vmsim_ustub_batch_next:
        add r8, 16
        dec r9
        jnz vmsim_ustub_batch_access
        jmp vmsim_ustub_done

// Everything from here to vmsim_ustub_store_end writes memory: a #PF with
// rip in this range is a write fault (the hook cannot see the error code).
        .globl vmsim_ustub_store_begin
vmsim_ustub_store_begin:

        .globl vmsim_ustub_store8
vmsim_ustub_store8:
        mov byte ptr [rdi], dl
        jmp vmsim_ustub_done

        .globl vmsim_ustub_store16
vmsim_ustub_store16:
        mov word ptr [rdi], dx
        jmp vmsim_ustub_done

        .globl vmsim_ustub_store32
vmsim_ustub_store32:
        mov dword ptr [rdi], edx
        jmp vmsim_ustub_done

        .globl vmsim_ustub_store64
vmsim_ustub_store64:
        mov qword ptr [rdi], rdx
        jmp vmsim_ustub_done

        .globl vmsim_ustub_touch_store
vmsim_ustub_touch_store:
        test rcx, rcx
        jz vmsim_ustub_done
1:      mov byte ptr [rdi], dl
        add rdi, rsi
        dec rcx
        jnz 1b
        jmp vmsim_ustub_done

// The batch's store: the descriptor's byte over its whole length.
vmsim_ustub_batch_store:
        mov ecx, dword ptr [r8 + 8]
        movzx eax, byte ptr [r8 + 13]
        rep stosb
        jmp vmsim_ustub_batch_next

        .globl vmsim_ustub_store_end
vmsim_ustub_store_end:

// The common end of every stub. A software interrupt: Unicorn hands it to
// the interrupt hook without QEMU's nested-exception bookkeeping, so ending
// here leaves no exception in flight.
        .globl vmsim_ustub_done
vmsim_ustub_done:
        int3
        .globl vmsim_ustub_end
vmsim_ustub_end:
        .org vmsim_ustub_page + 4096, 0xcc     // fails if the page overflows

// -------------------------------------------------------------- kernel page
// Mapped supervisor-only, read+execute; runs at CPL 0.
        .globl vmsim_kstub_page
vmsim_kstub_page:

// Sets PKRU = r8d, then falls into vmsim_kstub_enter_user. WRPKRU needs
// ecx = edx = 0 and takes the value in eax.
        .globl vmsim_kstub_enter_user_pkru
vmsim_kstub_enter_user_pkru:
        mov eax, r8d
        xor ecx, ecx
        xor edx, edx
        wrpkru

// Drops to CPL 3 the only way that changes the privilege level: an IRETQ
// frame of SS, RSP, RFLAGS, CS, RIP taken from r13, 0, r14, r12, r11.
// The host points r11 at vmsim_ustub_done, so the engine stops at CPL 3.
        .globl vmsim_kstub_enter_user
vmsim_kstub_enter_user:
        push r13                        // SS
        push 0                          // RSP (the user stubs use no stack)
        push r14                        // RFLAGS
        push r12                        // CS
        push r11                        // RIP
        iretq

// Drops the translation of rdi from this CPU's TLB and stops. INVLPG is
// privileged, hence this ring-0 detour.
        .globl vmsim_kstub_invlpg
vmsim_kstub_invlpg:
        invlpg [rdi]
        int3

        .globl vmsim_kstub_end
vmsim_kstub_end:
        .org vmsim_kstub_page + 4096, 0xcc     // fails if the page overflows

        .section .note.GNU-stack, "", @progbits
