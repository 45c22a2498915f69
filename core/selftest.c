/*
 * selftest=NAME makes the boot CPU misbehave on purpose once the machine
 * is up, so that tests can check what a person would see on a real fault.
 */
#include "core/selftest.h"
#include "core/assert.h"
#include "core/cmdline.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "arch/x86/lapic.h"

static void st_ud(void) { asm volatile("ud2"); }
static void st_bp(void) { asm volatile("int3"); }
static void st_de(void) { asm volatile("xorl %%ecx, %%ecx; divl %%ecx" ::: "eax", "ecx", "edx"); }
/* A non-canonical address: #GP, not #PF (SDM Vol. 3A 6.15, interrupt 13). */
static void st_gp(void) { asm volatile("movq %0, %%rax; movq (%%rax), %%rax" ::"i"(0x800000000000ull) : "rax"); }
/* Page 0 is never mapped. */
static void st_pf(void) { asm volatile("movq 0x18, %%rax" ::: "rax"); }
/* Exceptions cannot be delivered on an unmapped stack: #DF on its IST. */
static void st_df(void) { asm volatile("movq $0x800, %%rsp; ud2" ::: "memory"); }
/* W^X: writing to text and executing data both fault (#PF). */
static void st_wx(void) { *(volatile uint8_t *)(uintptr_t)st_ud = 0x90; }
static uint8_t st_data_ret[16] = { 0xc3 }; /* a RET, in a NX data page */
static void st_nx(void) { ((void (*)(void))(uintptr_t)st_data_ret)(); }
static void st_nmi(void) { lapic_send_ipi(this_cpu()->apic_id, ICR_NMI | ICR_LEVEL_ASSERT); }
static void st_panic(void) { panic("selftest: panic requested on the command line"); }

static void st_assert(void)
{
	volatile int zero = 0;

	ASSERT(zero == 1);
}

static const struct {
	const char *name;
	void (*run)(void);
} selftests[] = {
	{ "ud", st_ud }, { "bp", st_bp }, { "de", st_de }, { "gp", st_gp },
	{ "pf", st_pf }, { "df", st_df }, { "nmi", st_nmi },
	{ "wx", st_wx }, { "nx", st_nx }, { "panic", st_panic },
	{ "assert", st_assert },
};

void selftest_run(const char *name, size_t len)
{
	for (unsigned i = 0; i < ARRAY_SIZE(selftests); i++) {
		if (cmdline_val_is(name, len, selftests[i].name)) {
			pr_info("selftest: %s\n", selftests[i].name);
			selftests[i].run();
			pr_info("selftest: %s done\n", selftests[i].name);
			return;
		}
	}
	pr_warn("selftest: unknown test '%.*s'\n", (int)len, name);
}
