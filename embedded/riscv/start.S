/*
 * embedded/riscv/start.S - machine-mode entry for QEMU RISC-V "virt":
 * global and stack pointers, a trap vector that ends the run with status
 * 99, .data copy, .bss clear, then plat_exit(main()).
 */
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, stack_top
    la      t0, on_trap
    csrw    mtvec, t0

    la      t0, data_load
    la      t1, data_start
    la      t2, data_end
copy:
    bgeu    t1, t2, copied
    lw      t3, 0(t0)
    sw      t3, 0(t1)
    addi    t0, t0, 4
    addi    t1, t1, 4
    j       copy
copied:
    la      t0, bss_start
    la      t1, bss_end
clear:
    bgeu    t0, t1, cleared
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       clear
cleared:
    call    main
    call    plat_exit
hang:
    j       hang

    .balign 4
on_trap:
    li      a0, 99
    call    plat_exit
    j       hang
