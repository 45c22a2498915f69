/* Turning the machine off and resetting it. */
#ifndef ARCH_X86_POWER_H
#define ARCH_X86_POWER_H

#include "core/types.h"

/* ACPI S5; returns only if the machine did not turn off. */
void power_off(void);
/* FADT reset register, then 0xCF9, then the keyboard controller, then a
 * triple fault. Does not return. */
__noreturn void power_reset(void);

#endif
