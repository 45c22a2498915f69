UNIT_TESTS += rtc
# The test #includes vdev/rtc.c to reach its state and supplies the clock
# (vclock_tsc, tsc_khz_get) and io_register(); the source is a prerequisite only.
unit_rtc_SRCS :=
$(BUILD)/unit/rtc: vdev/rtc.c vdev/vclock.h
