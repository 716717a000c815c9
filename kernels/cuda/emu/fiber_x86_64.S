// Fiber context switch for the CPU emulator (x86-64 System V).
//
// void emu_switch(void **save_sp, void *next_sp)
//   saves the callee-saved registers, MXCSR and the x87 control word on the
//   current stack, stores the stack pointer in *save_sp, and resumes the
//   context whose stack pointer is next_sp (saved by emu_switch, or built
//   by emu_fiber_init in runtime.cpp to enter emu_fiber_entry).
//
// emu_fiber_entry: the first "return address" of a new fiber: calls
//   r13(r12) on the fiber's 16-byte-aligned stack; the callee never returns.
    .text
    .globl  emu_switch
    .hidden emu_switch
    .type   emu_switch, @function
emu_switch:
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $8, %rsp
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
    .size   emu_switch, .-emu_switch

    .globl  emu_fiber_entry
    .hidden emu_fiber_entry
    .type   emu_fiber_entry, @function
emu_fiber_entry:
    movq    %r12, %rdi
    callq   *%r13
    ud2
    .size   emu_fiber_entry, .-emu_fiber_entry

    .section .note.GNU-stack,"",@progbits
