/*
 * The VM's I/O APIC: one IOAPIC with id 0 and 24 pins at GSI 0-23, at
 * the address the guest's MADT gives (vdev/acpi_tables.c). Devices drive
 * its input lines; it sends the programmed vector to the vLAPICs.
 */
#ifndef VDEV_VIOAPIC_H
#define VDEV_VIOAPIC_H

#include "core/types.h"

struct vm;

#define VIOAPIC_BASE 0xfec00000ull
#define VIOAPIC_PINS 24

/*
 * Drive input line @gsi: @level true = asserted. The entry's trigger
 * mode decides what that means: an edge entry delivers on each rising
 * edge, a level entry while the line stays asserted and its remote IRR is
 * clear. The polarity bit is only stored: @level is the logical state of
 * the line, whatever its wire level. A masked entry holds its interrupt
 * (one edge, or the asserted level) and delivers it when unmasked. Any
 * CPU may call this.
 */
void vioapic_set_irq(struct vm *vm, unsigned gsi, bool level);

/*
 * The guest has ended @vector at a local APIC (its EOI register). The
 * vLAPIC calls this on each EOI of a vector; level entries with that
 * vector and remote IRR set get it cleared and deliver again if their
 * line is still asserted. Harmless for vectors no level entry uses.
 */
void vioapic_eoi(struct vm *vm, uint8_t vector);

#endif
