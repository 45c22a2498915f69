UNIT_TESTS += pit
# The test #includes vdev/pit.c to reach its state and supplies the clock
# (vclock_tsc, tsc_khz_get), vioapic_set_irq() and io_register(); the
# source is a prerequisite only.
unit_pit_SRCS :=
$(BUILD)/unit/pit: vdev/pit.c vdev/pit.h vdev/vclock.h vdev/vioapic.h
