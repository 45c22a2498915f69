UNIT_TESTS += vuart
# The test #includes vdev/vuart.c to reach its state and stubs
# vioapic_set_irq(), io_register() and vm_console_putc(); the source is
# a prerequisite only.
unit_vuart_SRCS :=
$(BUILD)/unit/vuart: vdev/vuart.c vdev/vuart.h vdev/vioapic.h vdev/vm_console.h
