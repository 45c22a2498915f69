/*
 * Per-CPU descriptor tables: each CPU has its own GDT (so that its TSS
 * can be marked busy) and TSS with IST stacks for NMI, #DF and #MC, the
 * shared IDT, and GS pointing at its struct pcpu.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_setup.h"
#include "arch/x86/traps.h"
#include "boot/layout.h"
#include "core/errno.h"
#include "core/pcpu.h"
#include "core/string.h"
#include "mm/mm.h"
#include "mm/pmm.h"

struct pcpu pcpus[MAX_CPUS];
unsigned int ncpus_online;
static bool gs_ready;

unsigned int this_cpu_id(void)
{
	return gs_ready ? this_cpu()->id : 0;
}

static uint64_t alloc_stack_top(uint64_t size)
{
	paddr_t pa = pmm_alloc(size / PAGE_SIZE, PAGE_SIZE, 0);

	return pa ? pa + size : 0;
}

/* Allocate the IST stacks of @c. Called by the boot CPU for every CPU. */
int cpu_alloc_stacks(struct pcpu *c)
{
	static const unsigned ists[] = { IST_NMI, IST_DF, IST_MC };

	for (unsigned i = 0; i < ARRAY_SIZE(ists); i++) {
		uint64_t top = alloc_stack_top(HV_IST_SIZE);

		if (!top)
			return -ENOMEM;
		c->arch.tss.ist[ists[i] - 1] = top;
	}
	c->arch.tss.iomap_base = sizeof(struct tss64); /* no I/O bitmap */
	return 0;
}

static void gdt_load(struct pcpu *c)
{
	uint64_t tss = (uint64_t)(uintptr_t)&c->arch.tss;
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed gdtr = { sizeof(c->arch.gdt) - 1, (uint64_t)(uintptr_t)c->arch.gdt };

	c->arch.gdt[0] = 0;
	c->arch.gdt[1] = 0x00af9a000000ffffull;  /* 64-bit code, DPL 0 */
	c->arch.gdt[2] = 0x00cf92000000ffffull;  /* data */
	/* 64-bit TSS descriptor, SDM Vol. 3A 8.2.3: type 9, present. */
	c->arch.gdt[3] = (sizeof(struct tss64) - 1) | ((tss & 0xffffff) << 16) |
			 (0x89ull << 40) | (((tss >> 24) & 0xff) << 56);
	c->arch.gdt[4] = tss >> 32;
	asm volatile("lgdt %0\n\t"
		     "pushq %1\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "movl %2, %%eax\n\t"
		     "movl %%eax, %%ds\n\t"
		     "movl %%eax, %%es\n\t"
		     "movl %%eax, %%ss\n\t"
		     "ltr %w3"
		     :: "m"(gdtr), "i"(GDT_CODE), "i"(GDT_DATA), "r"(GDT_TSS)
		     : "rax", "memory");
}

/*
 * CR4.OSXSAVE lets XSETBV run: the hypervisor itself keeps to general
 * registers, but it loads each guest's XCR0 for it (SDM Vol. 1 13.3).
 */
static void cpu_enable_xsave(void)
{
	struct cpuid_regs r;

	cpuid_count(1, 0, &r);
	if (r.ecx & (1u << 26))
		write_cr4(read_cr4() | (1ull << 18));
}

/* Load this CPU's tables and per-CPU pointer. Runs on the CPU itself. */
void cpu_setup_this(struct pcpu *c)
{
	cpu_enable_xsave();
	c->self = c;
	gdt_load(c);
	idt_load();
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)c);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	gs_ready = true;
}
