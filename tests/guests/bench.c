/*
 * Exit round trips, timed with RDTSC as TEST-RIG.md describes: N
 * iterations (`iters=`, default 1000) of an empty loop, of CPUID(0), of
 * VMCALL HC_VERSION (VMMCALL on AMD), of an OUT to the UART scratch register (a port
 * the hypervisor emulates) and of a 32-bit store to the IOAPIC's index
 * register (an MMIO exit: the hypervisor decodes the instruction, as for
 * a virtio notification). Each loop runs 3 times and keeps its minimum;
 * the per-operation cost is net of the empty loop. Prints one result line:
 *   bench: iters=<N> empty=<ticks total> cpuid=<ticks/op> vmcall=<ticks/op> pio=<ticks/op>
 *          mmio=<ticks/op>
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("bench");

#define REPEATS 3
#define BENCH_PORT (HV_PORT_COM1 + 7)   /* UART scratch register */
#define BENCH_MMIO 0xfec00000ul         /* IOAPIC IOREGSEL (identity-mapped) */

/*
 * The loops share one shape so that the empty one is a fair baseline:
 * a counter, a compare, a branch, and the operation in between.
 */
static __attribute__((noinline)) uint64_t loop_empty(uint64_t n)
{
	uint64_t t0 = rdtsc_fenced(), i;

	for (i = 0; i < n; i++)
		__asm__ volatile("" : : : "memory");
	return rdtsc_fenced() - t0;
}

static __attribute__((noinline)) uint64_t loop_cpuid(uint64_t n)
{
	uint64_t t0 = rdtsc_fenced(), i;
	uint32_t a, b, c, d;

	for (i = 0; i < n; i++)
		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0)
				 : "memory");
	return rdtsc_fenced() - t0;
}

/*
 * The hypercall instruction inline, not hypercall(): the call and the
 * vendor test would add their cost to every round trip. The ABI keeps
 * every register but RAX; hcfuzz checks that, so this loop only declares
 * the clobbers hypercall() does, at no cost inside the loop.
 */
#define HC_CLOBBERS "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc"

static __attribute__((noinline)) uint64_t loop_vmcall(uint64_t n)
{
	uint64_t t0 = rdtsc_fenced(), i;
	long ret;

	for (i = 0; i < n; i++)
		__asm__ volatile("vmcall"
				 : "=a"(ret)
				 : "a"((long)HC_VERSION)
				 : HC_CLOBBERS);
	return rdtsc_fenced() - t0;
}

static __attribute__((noinline)) uint64_t loop_vmmcall(uint64_t n)
{
	uint64_t t0 = rdtsc_fenced(), i;
	long ret;

	for (i = 0; i < n; i++)
		__asm__ volatile("vmmcall"
				 : "=a"(ret)
				 : "a"((long)HC_VERSION)
				 : HC_CLOBBERS);
	return rdtsc_fenced() - t0;
}

static __attribute__((noinline)) uint64_t loop_pio(uint64_t n)
{
	uint64_t t0 = rdtsc_fenced(), i;

	for (i = 0; i < n; i++)
		outb(BENCH_PORT, (uint8_t)i);
	return rdtsc_fenced() - t0;
}

static __attribute__((noinline)) uint64_t loop_mmio(uint64_t n)
{
	volatile uint32_t *reg = (volatile uint32_t *)BENCH_MMIO;
	uint64_t t0 = rdtsc_fenced(), i;

	for (i = 0; i < n; i++)
		*reg = 0;
	return rdtsc_fenced() - t0;
}

static uint64_t best_of(uint64_t (*loop)(uint64_t), uint64_t n)
{
	uint64_t best = UINT64_MAX, t;
	unsigned r;

	for (r = 0; r < REPEATS; r++) {
		t = loop(n);
		if (t < best)
			best = t;
	}
	return best;
}

static uint64_t per_op(uint64_t total, uint64_t empty, uint64_t n)
{
	return total > empty ? (total - empty) / n : 0;
}

int main(const struct hv_boot_info *bi)
{
	uint64_t n = cmdline_u64("iters", 1000), empty, cpuid_t, vmcall_t, pio_t, mmio_t;
	long ver;

	(void)bi;
	if (!n)
		n = 1;
	ver = hypercall(HC_VERSION, 0, 0, 0);
	if (ver != HV_ABI_VERSION) {
		check(0, "HC_VERSION = %ld before timing it", ver);
		return 1;
	}
	empty = best_of(loop_empty, n);
	cpuid_t = best_of(loop_cpuid, n);
	vmcall_t = best_of(hypercall_use_vmmcall ? loop_vmmcall : loop_vmcall, n);
	pio_t = best_of(loop_pio, n);
	mmio_t = best_of(loop_mmio, n);
	printf("bench: iters=%lu empty=%lu cpuid=%lu vmcall=%lu pio=%lu mmio=%lu\n", n, empty,
	       per_op(cpuid_t, empty, n), per_op(vmcall_t, empty, n), per_op(pio_t, empty, n),
	       per_op(mmio_t, empty, n));
	return 0;
}
