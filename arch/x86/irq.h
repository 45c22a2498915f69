/*
 * Device interrupts on the hypervisor's own CPUs: a handler per IDT
 * vector (32..254), called with interrupts off; the EOI to the local
 * APIC is sent after it returns. The hypervisor runs with interrupts off;
 * they are taken only while a CPU idles (irq_idle) or in short windows a
 * caller opens with irq_poll_window(), so a handler never interrupts
 * code holding a lock it might take (printk's included).
 */
#ifndef ARCH_X86_IRQ_H
#define ARCH_X86_IRQ_H

#include "core/types.h"
#include "arch/x86/traps.h"

#define IRQ_VEC_FIRST 0x30      /* 0x20..0x2f stay free for legacy PIC remaps */
#define IRQ_VEC_LAST 0xfe       /* 0xff is the spurious vector */

typedef void (*irq_handler_t)(unsigned vector, void *ctx);

/* Take a free vector for @fn; returns the vector or a negative error. */
int irq_alloc_vector(irq_handler_t fn, void *ctx);
void irq_free_vector(unsigned vector);
/* How many interrupts arrived on @vector (any CPU) since boot. */
uint64_t irq_count(unsigned vector);

/* Called from the entry stubs in entry.S. */
void irq_dispatch(struct trap_frame *f);

/*
 * Ask for the boot CPU to idle with interrupts enabled (a subsystem with
 * an interrupt to serve, e.g. the IOMMU fault event, calls it).
 */
void irq_enable_idle(void);
bool irq_is_idle_enabled(void);
/* Idle for good with interrupts enabled: sti; hlt, forever. */
__noreturn void irq_idle(void);

/* Open interrupts for about @us microseconds on this CPU, then close them. */
void irq_poll_window(uint64_t us);

#endif
