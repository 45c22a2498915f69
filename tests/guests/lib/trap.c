/*
 * The guest IDT: vectors 0-31 go to guest_trap_handle(). A fault at an
 * armed probe resumes at the probe's fixup (traps.S); anything else is
 * reported once and ends the guest with GUEST_EXIT_EXCEPTION.
 */
#include "tests/guests/lib/lib_int.h"

#define IDT_VECTORS 32
#define GATE_INTERRUPT64 0x8e   /* present, DPL 0, type 0xE (SDM Vol. 3A 6.14.1) */

/* What traps.S pushes, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gates are 16 bytes");
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "frame must match traps.S");

/* Called from traps.S only. */
void guest_trap_handle(struct trap_frame *f);

extern const uint64_t guest_trap_stubs[IDT_VECTORS];

/* Shared with the probes in traps.S. */
volatile uint64_t guest_probe_rip;
volatile uint64_t guest_fixup_rip;
volatile int32_t guest_probe_vector;

volatile struct guest_trap_record guest_last_trap;

static struct idt_gate idt[256] __attribute__((aligned(16)));
static int in_handler;

static const char *const vector_names[IDT_VECTORS] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "22", "23",
	"24", "25", "26", "27", "#HV", "#VC", "#SX", "31",
};

void guest_lidt(const void *base, uint16_t limit)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc = { limit, (uint64_t)(uintptr_t)base };

	__asm__ volatile("lidt %0" : : "m"(desc) : "memory");
}

static void idt_gate_set(unsigned vector, uint64_t a)
{
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	idt[vector] = (struct idt_gate){
		.offset_lo = (uint16_t)a,
		.selector = cs,
		.type = GATE_INTERRUPT64,
		.offset_mid = (uint16_t)(a >> 16),
		.offset_hi = (uint32_t)(a >> 32),
	};
}

/* The exception vectors only, until a guest adds an interrupt gate. */
void guest_idt_init(void)
{
	for (unsigned i = 0; i < IDT_VECTORS; i++)
		idt_gate_set(i, guest_trap_stubs[i]);
	guest_lidt(idt, IDT_VECTORS * sizeof(idt[0]) - 1);
}

void guest_set_interrupt_gate(uint8_t vector, const void *stub)
{
	idt_gate_set(vector, (uint64_t)(uintptr_t)stub);
	guest_lidt(idt, sizeof(idt) - 1);
}

static uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

void guest_trap_handle(struct trap_frame *f)
{
	guest_last_trap.vector = f->vector;
	guest_last_trap.error = f->error;
	guest_last_trap.rip = f->rip;
	guest_last_trap.cr2 = read_cr2();

	if (guest_probe_rip && f->rip == guest_probe_rip) {
		guest_probe_rip = 0;
		guest_probe_vector = (int32_t)f->vector;
		f->rip = guest_fixup_rip;
		return;
	}
	/* An exception while reporting one: just stop. */
	if (in_handler++)
		guest_exit(GUEST_EXIT_EXCEPTION);
	printf("%s: FAIL unexpected exception %lu (%s) error 0x%lx at rip 0x%lx cr2 0x%lx rsp 0x%lx\n",
	       guest_name, f->vector, vector_names[f->vector & 31], f->error, f->rip,
	       guest_last_trap.cr2, f->rsp);
	guest_exit(GUEST_EXIT_EXCEPTION);
}
