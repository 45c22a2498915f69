/*
 * Exceptions in the hypervisor itself are bugs: print everything a
 * person needs to find it (vector, error code, RIP, CR2, registers and a
 * stack trace) and stop this CPU. The other CPUs go on.
 */
#include "arch/x86/traps.h"
#include "arch/x86/cpu.h"
#include "core/panic.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "core/vm.h"

static const char *const vec_names[32] = {
	"DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "CSO", "TS",
	"NP", "SS", "GP", "PF", "RSVD15", "MF", "AC", "MC", "XM", "VE", "CP",
	"RSVD22", "RSVD23", "RSVD24", "RSVD25", "RSVD26", "RSVD27", "HV",
	"VC", "SX", "RSVD31",
};

static bool is_on_stack(const struct pcpu *c, uint64_t addr)
{
	return c->stack_bottom && addr >= c->stack_bottom && addr + 16 <= c->stack_top;
}

void dump_stack_trace(uint64_t rip, uint64_t rbp)
{
	const struct pcpu *c = &pcpus[this_cpu_id()];

	printk(LOG_ERR, "stack trace: %#llx", (unsigned long long)rip);
	for (int depth = 0; depth < 16 && is_on_stack(c, rbp); depth++) {
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;

		if (!frame[1])
			break;
		printk(LOG_ERR, " < %#llx", (unsigned long long)frame[1]);
		if (frame[0] <= rbp)
			break;              /* frames grow upwards; anything else is junk */
		rbp = frame[0];
	}
	printk(LOG_ERR, "\n");
}

static void dump_regs(const struct trap_frame *f)
{
	pr_err("rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
	       (unsigned long long)f->rax, (unsigned long long)f->rbx,
	       (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	pr_err("rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\n",
	       (unsigned long long)f->rsi, (unsigned long long)f->rdi,
	       (unsigned long long)f->rbp, (unsigned long long)f->rsp);
	pr_err("r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n",
	       (unsigned long long)f->r8, (unsigned long long)f->r9,
	       (unsigned long long)f->r10, (unsigned long long)f->r11);
	pr_err("r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n",
	       (unsigned long long)f->r12, (unsigned long long)f->r13,
	       (unsigned long long)f->r14, (unsigned long long)f->r15);
	pr_err("cr0=%016llx cr3=%016llx cr4=%016llx\n",
	       (unsigned long long)read_cr0(), (unsigned long long)read_cr3(),
	       (unsigned long long)read_cr4());
}

static void dump_exception(const struct trap_frame *f)
{
	unsigned vec = (unsigned)f->vector;

	pr_err("EXCEPTION #%s (vector %u) on cpu%u\n", vec < 32 ? vec_names[vec] : "?",
	       vec, this_cpu_id());
	pr_err("error=0x%llx rip=0x%llx cs=0x%llx rflags=0x%llx cr2=0x%llx\n",
	       (unsigned long long)f->error, (unsigned long long)f->rip,
	       (unsigned long long)f->cs, (unsigned long long)f->rflags,
	       (unsigned long long)read_cr2());
	dump_regs(f);
	dump_stack_trace(f->rip, f->rbp);
}

void trap_handler(struct trap_frame *f)
{
	struct vcpu *v = this_cpu()->vcpu;

	if (f->vector == VEC_NMI) {
		if (panic_in_progress())
			panic_stop_this_cpu();
		/* The NMI that stops or restarts a VM's other vCPUs (core/vm.c).
		 * This CPU may hold a lock: the check before the next VM entry
		 * parks the vCPU instead (vm_park()). */
		if (v && vm_wants_park(v)) {
			v->irq_pending = true;
			return;
		}
		pr_warn("NMI received on cpu%u at rip=%#llx; continuing\n", this_cpu_id(),
			(unsigned long long)f->rip);
		return;
	}
	dump_exception(f);
	pr_err("cpu%u stopped\n", this_cpu_id());
	cpu_halt_forever();
}
