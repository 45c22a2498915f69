UNIT_TESTS += printk_live
# The test #includes core/printk.c with its printk renamed, so that
# tests/unit/host.c keeps the harness's, and captures console_putc().
unit_printk_live_SRCS := core/termfilter.c
$(BUILD)/unit/printk_live: core/printk.c core/printk.h
