UNIT_TESTS += vpci
# The test #includes vdev/vpci.c to reach its per-VM state and stubs
# io_register(), vlapic_deliver_msi() and acpi_pm_reset_io(); the source
# is a prerequisite only.
unit_vpci_SRCS :=
$(BUILD)/unit/vpci: vdev/vpci.c vdev/vpci.h vdev/vlapic.h vdev/acpi_pm.h
