/*
 * A virtual 16550 at COM1 for every VM whose configuration says
 * console = uart. Transmit goes to the VM's console line buffer; the
 * transmitter is always ready and nothing is ever received yet. Register
 * behaviour follows the PC16550D data sheet: DLAB in LCR bit 7 switches
 * offsets 0 and 1 to the divisor latch; IIR reads "no interrupt pending".
 */
#include "core/errno.h"
#include "core/guest_abi.h"
#include "core/unit.h"
#include "core/vm.h"
#include "vdev/vioapic.h"
#include "vdev/vm_console.h"

#define UART_THR 0
#define UART_IER 1
#define UART_IIR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define LCR_DLAB 0x80
#define LSR_THRE_TEMT 0x60
#define IIR_NO_INT 0x01

#define UART_IRQ 4                /* COM1's ISA line, IOAPIC pin 4 */
#define IER_ETBEI 0x02            /* transmitter-empty interrupt */
#define IIR_THRE 0x02

struct vuart {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool thre_pending;        /* "THR empty" interrupt not yet acknowledged */
};

/*
 * Transmission is instant, so the transmitter is always empty: with
 * ETBEI set, each byte written (and enabling ETBEI itself) raises a new
 * "THR empty" interrupt, which reading IIR or writing THR acknowledges
 * (PC16550D, interrupt identification). The line goes to IOAPIC pin 4.
 */
static void vuart_update_irq(struct vm *vm, struct vuart *u)
{
	vioapic_set_irq(vm, UART_IRQ, (u->ier & IER_ETBEI) && u->thre_pending);
}

static struct vuart vuarts[CONFIG_MAX_VMS];

static void vuart_write(struct vm *vm, struct vuart *u, uint64_t off, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (off) {
	case UART_THR:
		if (dlab) {
			u->dll = v;
			break;
		}
		vm_console_putc(vm, (char)v);
		u->thre_pending = false;
		vuart_update_irq(vm, u);
		u->thre_pending = true;           /* sent at once: empty again */
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		if ((v & IER_ETBEI) && !(u->ier & IER_ETBEI))
			u->thre_pending = true;
		u->ier = v & 0x0f;
		break;
	case UART_LCR: u->lcr = v; break;
	case UART_MCR: u->mcr = v & 0x1f; break;
	case UART_SCR: u->scr = v; break;
	default: break;   /* FCR and the read-only registers */
	}
}

static uint8_t vuart_read(const struct vuart *u, uint64_t off)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (off) {
	case UART_THR: return dlab ? u->dll : 0;
	case UART_IER: return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return (u->ier & IER_ETBEI) && u->thre_pending ? IIR_THRE : IIR_NO_INT;
	case UART_LCR: return u->lcr;
	case UART_MCR: return u->mcr;
	case UART_LSR: return LSR_THRE_TEMT;
	case UART_MSR: return 0xb0;   /* DCD, DSR, CTS: a cable is there */
	default: return u->scr;
	}
}

static enum io_result vuart_io(struct vcpu *vcpu, uint64_t off, struct io_access *a, void *opaque)
{
	struct vuart *u = opaque;

	if (a->size != 1)
		return IO_ERROR;   /* the 16550 has byte registers only */
	if (a->write) {
		vuart_write(vcpu->vm, u, off, (uint8_t)a->value);
	} else {
		a->value = vuart_read(u, off);
		if (off != UART_IIR || a->value != IIR_THRE)
			return IO_HANDLED;
		u->thre_pending = false;               /* reading IIR acknowledges it */
	}
	/* Only these registers change the interrupt line. */
	if (off == UART_THR || off == UART_IER || off == UART_IIR)
		vuart_update_irq(vcpu->vm, u);
	return IO_HANDLED;
}

static void vuart_reset(struct vm *vm)
{
	vuarts[vm->id] = (struct vuart){ .dll = 1 };
}

static int vuart_vm_create(struct vm *vm)
{
	if (!vm->cfg->console_uart)
		return 0;
	vuart_reset(vm);
	return io_register(&vm->pio, HV_PORT_COM1, 8, vuart_io, &vuarts[vm->id]);
}

DEFINE_UNIT(vuart, .vm_create = vuart_vm_create, .vm_reset = vuart_reset);
