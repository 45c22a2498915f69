/*
 * The legacy 8259 pair. Firmware leaves it programmed with the master at
 * vector 8, on top of the CPU's exception vectors; a timer tick taken
 * when the hypervisor opens interrupts would look like a double fault.
 * We move both chips to 0x20-0x2f (ICW1-ICW4, 8259A data sheet) and mask
 * every line: the hypervisor uses the local APIC and, later, the IOAPIC.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/pic.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

void pic_disable(void)
{
	outb(PIC1_CMD, 0x11);    /* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, 0x20);   /* ICW2: vector base */
	outb(PIC2_DATA, 0x28);
	outb(PIC1_DATA, 0x04);   /* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);   /* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff);   /* OCW1: mask everything */
	outb(PIC2_DATA, 0xff);
}
