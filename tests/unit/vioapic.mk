UNIT_TESTS += vioapic
# The test #includes vdev/vioapic.c to reach its per-VM state and stubs
# vlapic_set_irq() and io_register(); the source is a prerequisite only.
unit_vioapic_SRCS :=
$(BUILD)/unit/vioapic: vdev/vioapic.c vdev/vioapic.h vdev/vlapic.h
