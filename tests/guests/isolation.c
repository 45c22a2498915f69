/*
 * EPT isolation: the guest's own RAM works up to its last byte, and an
 * access at `target=` (default: mem_size, the first byte past RAM) must
 * never complete: the hypervisor is expected to stop the VM on the EPT
 * violation. The access is a plain load or store with no fault probe, so
 * a guest exception there is reported as unexpected too.
 *   cmdline: target=<addr> mode=read|write
 * Exit status: 1 if the access came back (a leak), otherwise whatever
 * the hypervisor reports for the stopped VM.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("isolation");

#define PATTERN ((uint64_t)0x5a5aa5a5c3c33c3cull)
#define IDENTITY_LIMIT ((uint64_t)512 << 30)   /* the loader's paging (core/guest_abi.h) */

extern char __image_end[];

/* Write, read back and restore one quadword of our own RAM. */
static int check_ram_word(uint64_t addr)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)addr;
	uint64_t old = *p, got;

	*p = PATTERN ^ addr;
	got = *p;
	*p = old;
	if (got != (PATTERN ^ addr))
		return check(0, "own RAM at 0x%lx: wrote 0x%lx, read 0x%lx", addr,
			     PATTERN ^ addr, got);
	return 0;
}

static int check_own_ram(uint64_t mem_size)
{
	uint64_t lo = (uintptr_t)__image_end;
	uint64_t addrs[] = { lo, ((lo + mem_size) / 2) & ~7ull, mem_size - 4096, mem_size - 8 };
	int fail = 0;
	unsigned i;

	if (mem_size < lo + 4096)
		return check(0, "mem_size 0x%lx leaves no RAM above the image (ends 0x%lx)",
			     mem_size, lo);
	for (i = 0; i < ARRAY_SIZE(addrs); i++)
		fail += check_ram_word(addrs[i]);
	if (!fail)
		printf("isolation: own RAM ok\n");
	return fail;
}

int main(const struct hv_boot_info *bi)
{
	uint64_t target = cmdline_u64("target", bi->mem_size);
	const char *mode = cmdline_get("mode");
	int write;
	uint64_t val;

	if (!mode)
		mode = "read";
	if (strcmp(mode, "read") && strcmp(mode, "write")) {
		check(0, "mode='%s' is neither read nor write", mode);
		return 1;
	}
	write = !strcmp(mode, "write");
	printf("isolation: mem_size 0x%lx target 0x%lx\n", bi->mem_size, target);
	if (check_own_ram(bi->mem_size))
		return 1;
	if (target >= IDENTITY_LIMIT)
		printf("isolation: note: 0x%lx is beyond the identity map: expect #PF\n", target);

	printf("isolation: touching 0x%lx (%s)\n", target, mode);
	if (write) {
		val = PATTERN;
		*(volatile uint64_t *)(uintptr_t)target = val;
	} else {
		val = *(volatile uint64_t *)(uintptr_t)target;
	}
	printf("isolation: LEAK: %s at 0x%lx succeeded, value 0x%lx\n", mode, target, val);
	return 1;
}
