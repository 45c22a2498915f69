/*
 * Hypercall fuzzing: `count=` calls (default 20000) with numbers in
 * [-4, 64], weighted towards the defined ones, and arguments drawn from
 * the values that break range checks: 0, -1, GPAs at and past the end of
 * RAM, huge lengths, kernel-half addresses, random bits. Every call must
 * come back with only RAX changed; a result < 0 is fine for bad input,
 * but some results are known: HC_VERSION, HC_VM_ID and HC_YIELD ignore
 * their arguments, unknown numbers fail, and a range outside RAM fails.
 *   cmdline: seed=<n> (default 1) count=<n> (default 20000)
 *
 * The fuzzer must not hurt itself: it never calls HC_SHUTDOWN (nor any
 * number in never_call[]: add there any new hypercall that ends or
 * resets the VM), HC_VM_NAME may only write into `scratch` or the last
 * page of RAM, and HC_CONSOLE_WRITE calls that would print are cut to
 * length 0 so the console stays readable. Exit status = failed checks.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("hcfuzz");

#define NR_MIN (-4)
#define NR_MAX 64
#define SCRATCH_SIZE 65536
#define SCRATCH_SLACK 64        /* room for a VM name written near the end */
#define MAX_REPORTS 10

long hc_checked(long nr, long a0, long a1, long a2, uint64_t *clobbered);

static const long never_call[] = { HC_SHUTDOWN };

static const char *const reg_names[] = {
	"rbx", "rcx", "rbp", "r8", "r9", "r10", "r11",
	"r12", "r13", "r14", "r15", "rdi", "rsi", "rdx",
};

static char scratch[SCRATCH_SIZE] __attribute__((aligned(4096)));
static uint64_t rng;
static uint64_t mem_size;
static long name_len;
static unsigned reports;

/* xorshift64 (Marsaglia 2003); the state must not be 0. */
static uint64_t rand64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int is_never_call(long nr)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(never_call); i++)
		if (nr == never_call[i])
			return 1;
	return 0;
}

/* Half the time one of 0..4, otherwise anything in [NR_MIN, NR_MAX]. */
static long pick_nr(void)
{
	long nr;

	do {
		uint64_t r = rand64();

		if (r & 1)
			nr = (long)((r >> 1) % HC_MAX);
		else
			nr = NR_MIN + (long)((r >> 1) % (NR_MAX - NR_MIN + 1));
	} while (is_never_call(nr));
	return nr;
}

static long pick_arg(void)
{
	uint64_t r = rand64(), lo = r >> 8;

	switch (r & 15) {
	case 0:
		return 0;
	case 1:
		return -1;
	case 2:         /* inside RAM: our scratch buffer */
		return (long)(uintptr_t)(scratch + lo % SCRATCH_SIZE);
	case 3:         /* the last bytes of RAM */
		return (long)(mem_size - 1 - lo % 64);
	case 4:         /* just past RAM */
		return (long)(mem_size + lo % 0x10000);
	case 5:         /* far past RAM, up to 2^62 */
		return (long)(1ull << (32 + lo % 31));
	case 6:         /* kernel half */
		return (long)(0xffff800000000000ull + (lo & 0x7ffffffff000ull));
	case 7:
		return (long)(0xffffffff80000000ull + (lo & 0x7fffffffull));
	case 8:         /* a length that is fine */
		return (long)(lo % (HC_CONSOLE_WRITE_MAX + 1));
	case 9:         /* a length just too long */
		return (long)(HC_CONSOLE_WRITE_MAX + 1 + lo % 4096);
	case 10:        /* huge lengths */
		return (long)(1ull << (31 + lo % 33));
	case 11:
		return (long)(0x7fffffffffffffffull - lo % 16);
	case 12:        /* small numbers */
		return (long)(lo % 64);
	case 13:        /* the hypervisor's boot area */
		return (long)(HV_BOOT_AREA + lo % (HV_BOOT_AREA_END - HV_BOOT_AREA));
	default:
		return (long)r;
	}
}

static int in_ram(uint64_t gpa, uint64_t len)
{
	return gpa <= mem_size && len <= mem_size - gpa;
}

/* Keep the fuzzer's own memory and the console safe (see the top comment). */
static void make_harmless(long nr, long *a0, long *a1)
{
	uint64_t gpa = (uint64_t)*a0, base = (uintptr_t)scratch;

	if (nr == HC_VM_NAME && gpa < mem_size) {
		int ok = (gpa >= base && gpa < base + SCRATCH_SIZE - SCRATCH_SLACK) ||
			 gpa >= mem_size - 4096;

		if (!ok)
			*a0 = (long)(base + gpa % (SCRATCH_SIZE / 2));
	}
	if (nr == HC_CONSOLE_WRITE && (uint64_t)*a1 <= HC_CONSOLE_WRITE_MAX &&
	    in_ram(gpa, (uint64_t)*a1))
		*a1 = 0;
}

/* What the ABI says the result must be; NULL if it is acceptable. */
static const char *result_problem(long nr, long a0, long a1, long ret,
				  const struct hv_boot_info *bi)
{
	switch (nr) {
	case HC_VERSION:
		return ret == HV_ABI_VERSION ? NULL : "HC_VERSION not HV_ABI_VERSION";
	case HC_VM_ID:
		return ret == (long)bi->vm_id ? NULL : "HC_VM_ID not the boot info vm_id";
	case HC_YIELD:
		return ret == 0 ? NULL : "HC_YIELD not 0";
	case HC_CONSOLE_WRITE:
		if (ret >= 0 && (!in_ram((uint64_t)a0, (uint64_t)a1) ||
				 (uint64_t)a1 > HC_CONSOLE_WRITE_MAX))
			return "HC_CONSOLE_WRITE accepted a range outside RAM or too long";
		if (ret > 0 && (uint64_t)ret > (uint64_t)a1)
			return "HC_CONSOLE_WRITE wrote more than asked";
		return NULL;
	case HC_VM_NAME:
		if (ret >= 0 && (uint64_t)a0 >= mem_size && a1 != 0)
			return "HC_VM_NAME accepted a buffer outside RAM";
		/* With room for the whole name the length is known; if cut, the ABI is silent. */
		if (ret >= 0 && a1 > name_len && ret != name_len)
			return "HC_VM_NAME returned another length than at start";
		return NULL;
	default:
		return ret < 0 ? NULL : "unknown hypercall number succeeded";
	}
}

static void report(long nr, long a0, long a1, long a2, long ret, const char *what)
{
	if (reports++ < MAX_REPORTS)
		printf("hcfuzz: FAIL nr=%ld a0=0x%lx a1=0x%lx a2=0x%lx -> %ld: %s\n", nr, a0, a1,
		       a2, ret, what);
}

static void report_clobbers(long nr, long a0, long a1, long a2, long ret, uint64_t mask)
{
	char what[160];
	size_t n;
	unsigned i;

	n = (size_t)snprintf(what, sizeof(what), "registers changed:");
	for (i = 0; i < ARRAY_SIZE(reg_names) && n < sizeof(what); i++)
		if (mask & (1ull << i))
			n += (size_t)snprintf(what + n, sizeof(what) - n, " %s", reg_names[i]);
	report(nr, a0, a1, a2, ret, what);
}

/* One fuzzed call; returns 1 if it failed a check. */
static int fuzz_one(const struct hv_boot_info *bi, unsigned long *errors)
{
	long nr = pick_nr(), a0 = pick_arg(), a1 = pick_arg(), a2 = pick_arg(), ret;
	uint64_t clobbered;
	const char *problem;

	make_harmless(nr, &a0, &a1);
	ret = hc_checked(nr, a0, a1, a2, &clobbered);
	if (ret < 0)
		(*errors)++;
	if (clobbered) {
		report_clobbers(nr, a0, a1, a2, ret, clobbered);
		return 1;
	}
	problem = result_problem(nr, a0, a1, ret, bi);
	if (problem)
		report(nr, a0, a1, a2, ret, problem);
	return problem != NULL;
}

/* Fixed cases the ABI decides: ranges across the end of RAM and too long. */
static int check_edges(void)
{
	long r1, r2;
	int fail = 0;

	r1 = hypercall(HC_CONSOLE_WRITE, (long)(mem_size - 2), 100, 0);
	fail += check(r1 < 0, "HC_CONSOLE_WRITE across the end of RAM (gpa 0x%lx, len 100) -> %ld",
		      mem_size - 2, r1);
	r2 = hypercall(HC_CONSOLE_WRITE, (long)(uintptr_t)scratch, HC_CONSOLE_WRITE_MAX + 1, 0);
	fail += check(r2 < 0, "HC_CONSOLE_WRITE of %d bytes (over the limit) -> %ld",
		      HC_CONSOLE_WRITE_MAX + 1, r2);
	return fail;
}

int main(const struct hv_boot_info *bi)
{
	uint64_t seed = cmdline_u64("seed", 1), count = cmdline_u64("count", 20000), i;
	unsigned long errors = 0, fail = 0;
	char name[32];

	mem_size = bi->mem_size;
	rng = seed ? seed : 0x9e3779b97f4a7c15ull;
	memset(scratch, '#', sizeof(scratch));
	name_len = hypercall(HC_VM_NAME, (long)(uintptr_t)name, sizeof(name), 0);
	printf("hcfuzz: seed=%lu count=%lu vmmcall=%d name length %ld\n", seed, count,
	       hypercall_use_vmmcall, name_len);

	for (i = 0; i < count; i++)
		fail += (unsigned long)fuzz_one(bi, &errors);
	if (reports > MAX_REPORTS)
		printf("hcfuzz: (%u more failures not shown)\n", reports - MAX_REPORTS);
	printf("hcfuzz: %lu hypercalls done, %lu errors returned\n", count, errors);
	fail += (unsigned long)check_edges();
	printf("hcfuzz: %s (%lu failures)\n", fail ? "FAIL" : "PASS", fail);
	return fail > 255 ? 255 : (int)fail;
}
