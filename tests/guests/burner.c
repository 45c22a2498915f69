/*
 * A CPU burner: a busy loop (an xorshift step per iteration) that prints
 * "burner: tick <k>" every `period=` iterations, `ticks=` times, then
 * exits 0. ticks=0 (the default) runs until the hypervisor stops it:
 * the guest for scheduling, isolation and stop/restart tests.
 *   cmdline: period=<n> (default 1000000) ticks=<n> (default 0)
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("burner");

int main(const struct hv_boot_info *bi)
{
	uint64_t period = cmdline_u64("period", 1000000), ticks = cmdline_u64("ticks", 0);
	uint64_t x = 0x2545f4914f6cdd1dull, i, k;

	(void)bi;
	if (!period)
		period = 1;
	printf("burner: period=%lu ticks=%lu\n", period, ticks);
	for (k = 1; !ticks || k <= ticks; k++) {
		for (i = 0; i < period; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Keep the loop: the compiler must not fold it away. */
			__asm__ volatile("" : "+r"(x));
		}
		printf("burner: tick %lu\n", k);
	}
	printf("burner: done (0x%lx)\n", x);
	return 0;
}
