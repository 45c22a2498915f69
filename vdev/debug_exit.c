/*
 * The debug-exit port, like QEMU's isa-debug-exit: a write of any width
 * to the port set by `debug_exit =` ends the VM, with the value written
 * as its exit status. Test guests report pass or fail through it.
 */
#include "core/unit.h"
#include "core/vm.h"

static enum io_result debug_exit_io(struct vcpu *vcpu, uint64_t off, struct io_access *a,
				    void *opaque)
{
	(void)off, (void)opaque;
	if (!a->write) {
		a->value = ~0ull;
		return IO_HANDLED;
	}
	vm_poweroff(vcpu, a->value, "debug exit");
}

static int debug_exit_vm_create(struct vm *vm)
{
	uint16_t port = vm->cfg->debug_exit_port;

	if (!port)
		return 0;
	/* Four ports, so that 8-, 16- and 32-bit writes all land. */
	return io_register(&vm->pio, port, port > 0xfffc ? 0x10000u - port : 4,
			   debug_exit_io, NULL);
}

DEFINE_UNIT(debug_exit, .vm_create = debug_exit_vm_create);
