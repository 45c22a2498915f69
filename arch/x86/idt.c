/* The interrupt descriptor table, shared by all CPUs (SDM Vol. 3A 6.14). */
#include "arch/x86/traps.h"
#include "arch/x86/pcpu_arch.h"
#include "boot/layout.h"

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;      /* P | DPL 0 | 64-bit interrupt gate (0xe) */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __packed;

extern char trap_stubs[], spurious_stub[], irq_stubs[];

static struct idt_gate idt[256] __aligned(16);

static void idt_set(unsigned vec, const void *fn, uint8_t ist)
{
	uint64_t a = (uint64_t)(uintptr_t)fn;

	idt[vec] = (struct idt_gate){
		.off_lo = (uint16_t)a,
		.sel = GDT_CODE,
		.ist = ist,
		.type = 0x8e,
		.off_mid = (uint16_t)(a >> 16),
		.off_hi = (uint32_t)(a >> 32),
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < 32; v++)
		idt_set(v, trap_stubs + 16 * v, 0);
	/* NMI, #DF and #MC may arrive on a broken stack: give them their own. */
	idt_set(2, trap_stubs + 16 * 2, IST_NMI);
	idt_set(8, trap_stubs + 16 * 8, IST_DF);
	idt_set(18, trap_stubs + 16 * 18, IST_MC);
	/* Device interrupts (arch/x86/irq.c): one 16-byte stub per vector. */
	for (unsigned v = 32; v < VEC_SPURIOUS; v++)
		idt_set(v, irq_stubs + 16 * (v - 32), 0);
	idt_set(VEC_SPURIOUS, spurious_stub, 0);
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	asm volatile("lidt %0" ::"m"(idtr));
}
