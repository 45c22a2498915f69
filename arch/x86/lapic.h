/* The local APIC, in x2APIC mode where the CPU has it (SDM Vol. 3A 11). */
#ifndef ARCH_X86_LAPIC_H
#define ARCH_X86_LAPIC_H

#include "core/types.h"

#define ICR_INIT 0x00000500u
#define ICR_STARTUP 0x00000600u
#define ICR_NMI 0x00000400u
#define ICR_LEVEL_ASSERT 0x00004000u
#define ICR_DEST_ALL_BUT_SELF 0x000c0000u

/* Enable this CPU's local APIC. Returns 0 or a negative error. */
int lapic_init(void);
bool lapic_is_ready(void);
uint32_t lapic_id(void);
bool lapic_is_x2apic(void);
/* Send @icr (delivery mode and flags) to @apic_id; waits for delivery. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr);
void lapic_send_nmi_others(void);
/* The IPI vector that kicks a CPU out of its guest; set up once at boot. */
int lapic_kick_init(void);
uint32_t lapic_kick_vector(void);
/* Measure the local APIC timer against the TSC (once, on the boot CPU). */
void lapic_timer_calibrate(void);
/* Who shares this CPU's one-shot host timer (arch/x86/lapic.c). */
enum lapic_timer_user { LAPIC_TIMER_VLAPIC, LAPIC_TIMER_CONSOLE, LAPIC_TIMER_USERS };
/* Kick this CPU at TSC value @tsc_deadline (0: never) for @who; the
 * earliest deadline of all users is what the timer is set to. */
void lapic_timer_arm(enum lapic_timer_user who, uint64_t tsc_deadline);
/* What @who last asked for on this CPU (0: nothing). */
uint64_t lapic_timer_deadline(enum lapic_timer_user who);
/* Signal the end of the interrupt being handled on this CPU. */
void lapic_eoi(void);

#endif
