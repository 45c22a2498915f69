/* Constants shared by the boot assembly and C. */
#ifndef BOOT_LAYOUT_H
#define BOOT_LAYOUT_H

#define BOOT_STACK_SIZE 16384
#define HV_STACK_SIZE 16384     /* each CPU's main stack */
#define HV_IST_SIZE 8192        /* NMI, #DF and #MC stacks */
/* The top of each main stack holds the guest registers of the vCPU the
 * CPU runs (struct guest_regs, 120 bytes); C code starts below it. */
#define HV_STACK_GUEST_REGS 128

#define GDT_CODE 0x08
#define GDT_DATA 0x10
#define GDT_TSS 0x18

#endif
