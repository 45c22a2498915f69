/*
 * The VM's ACPI fixed hardware (vdev/acpi_pm.c). The reset register the
 * FADT names sits at port 0xCF9, inside the PCI configuration ports
 * 0xCF8-0xCFF: the PCI bus (vdev/vpci.c) decodes that range and hands
 * the one-byte accesses at 0xCF9 to this function, as a chipset does.
 */
#ifndef VDEV_ACPI_PM_H
#define VDEV_ACPI_PM_H

#include "core/io.h"

struct vcpu;

/* A one-byte access to the reset control register (ICH9 13.7.5). */
enum io_result acpi_pm_reset_io(struct vcpu *vcpu, struct io_access *a);

#endif
