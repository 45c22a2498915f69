/*
 * A triple fault: with an empty IDT (limit 0) the #UD from UD2 cannot be
 * delivered, nor the #GP that raises, nor the #DF after it, so the CPU
 * shuts down (SDM Vol. 3A 6.15, interrupt 8). Under VT-x that is a
 * triple-fault VM exit (basic reason 2): the hypervisor must stop or
 * restart this VM, per its on_crash setting, and nothing else.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("triplefault");

int main(const struct hv_boot_info *bi)
{
	(void)bi;
	printf("triplefault: loading an empty IDT\n");
	guest_lidt((const void *)0, 0);
	__asm__ volatile("ud2");
	/* Only a hypervisor that skipped the fault gets here. */
	printf("triplefault: FAIL still running after ud2\n");
	return 1;
}
