/*
 * Ending the VM: a 32-bit write of the status to the debug-exit port
 * (every test VM's config has debug_exit = 0xf4). If the write does not
 * stop us, halt with interrupts off so that nothing else runs.
 */
#include "tests/guests/lib/guest.h"

void guest_exit(uint32_t status)
{
	outl(GUEST_DEBUG_EXIT_PORT, status);
	for (;;)
		__asm__ volatile("cli\n\thlt");
}
