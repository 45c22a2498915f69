UNIT_TESTS += vlapic
# The test #includes vdev/vlapic.c and stubs the host APIC functions,
# vioapic_eoi() and io_register(); the source is a prerequisite only.
unit_vlapic_SRCS :=
$(BUILD)/unit/vlapic: vdev/vlapic.c vdev/vlapic.h
