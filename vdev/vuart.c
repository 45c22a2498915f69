/*
 * A virtual 16550A at COM1 for every VM whose configuration says
 * console = uart. Register behaviour follows the PC16550D data sheet:
 * DLAB in LCR bit 7 switches offsets 0 and 1 to the divisor latch; offset
 * 2 is IIR to read and FCR to write whatever DLAB says.
 *
 * Transmit is instant, to the VM's console (vdev/vm_console.c), so the
 * transmitter is always empty. Receive: the hypervisor's console input
 * (core/console_input.c) hands the bytes typed for this VM to
 * vuart_receive(); they wait in the receiver FIFO until the guest reads
 * RBR. A byte that finds the FIFO full is lost and sets LSR.OE, as on
 * the chip.
 *
 * Interrupts, highest priority first (data sheet Table IV), each enabled
 * by its IER bit:
 *   IIR 0x06  receiver line status: OE; reading LSR clears it
 *   IIR 0x04  received data available: the FIFO at or above its trigger
 *             level (FCR bits 7:6: 1, 4, 8 or 14 bytes), any data in
 *             16450 mode; reading RBR below the level clears it
 *   IIR 0x0c  character time-out: data below the trigger level (FIFO
 *             mode only); reading RBR clears it
 *   IIR 0x02  THR empty: reading IIR while it is the one shown, or
 *             writing THR, clears it
 *   IIR 0x00  modem status: never, the modem lines do not change
 * IIR bits 7:6 read 11 while FCR0 has the FIFOs on. The line goes to
 * IOAPIC pin 4 (COM1's ISA IRQ) and is updated only when it changes.
 *
 * Where this model departs from the chip, on purpose:
 * - The receiver holds 16 bytes in 16450 mode too. Input arrives in
 *   bursts, one per host poll, where a real line spaces characters a
 *   character time apart; a guest that reads RBR byte by byte with the
 *   FIFOs off would otherwise lose all but the last of each burst.
 * - The character time-out (four character times without a byte in or
 *   out) has always elapsed by the time the guest looks: bytes reach the
 *   FIFO a whole poll period at a time. Data below the trigger level is
 *   reported as a time-out at once.
 * - Loopback (MCR bit 4): transmitted bytes go to the receiver and not
 *   to the console, MSR shows the MCR outputs, and bytes typed for the
 *   VM are dropped: the receiver input is disconnected. Linux's FIFO
 *   size probe depends on this.
 */
#include "core/errno.h"
#include "core/guest_abi.h"
#include "core/spinlock.h"
#include "core/unit.h"
#include "core/vm.h"
#include "vdev/vioapic.h"
#include "vdev/vm_console.h"
#include "vdev/vuart.h"

#define UART_RBR 0   /* THR to write */
#define UART_IER 1
#define UART_IIR 2   /* FCR to write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_ERBFI 0x01            /* received data available (and time-out) */
#define IER_ETBEI 0x02            /* THR empty */
#define IER_ELSI 0x04             /* receiver line status */
#define IER_MASK 0x0f

#define IIR_NONE 0x01
#define IIR_THRE 0x02
#define IIR_RX_DATA 0x04
#define IIR_RLS 0x06
#define IIR_RX_TIMEOUT 0x0c
#define IIR_FIFOS_ON 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_KEPT 0xc9             /* FIFO enable, DMA mode, receive trigger */
#define FCR_TRIGGER(f) ((f) >> 6)

#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE_TEMT 0x60
#define MSR_CABLE 0xb0            /* DCD, DSR, CTS: a cable is there */

#define UART_IRQ 4                /* COM1's ISA line, IOAPIC pin 4 */
#define RX_FIFO_SIZE 16

struct vuart {
	spinlock_t lock;          /* vCPUs and the console input on any CPU */
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint8_t fcr;              /* FCR_KEPT bits as last programmed */
	uint8_t lsr_errors;       /* LSR_OE until LSR is read */
	bool thre_pending;        /* "THR empty" interrupt not yet acknowledged */
	bool irq_line;            /* what IOAPIC pin 4 was last told */
	bool rx_polled;           /* RBR or LSR read since vuart_listening() last looked */
	uint8_t rx_head, rx_count;
	uint8_t rx[RX_FIFO_SIZE];
};

static struct vuart vuarts[CONFIG_MAX_VMS];

static bool fifos_on(const struct vuart *u)
{
	return u->fcr & FCR_ENABLE;
}

static void rx_clear(struct vuart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* A byte reaches the receiver: into the FIFO, or an overrun. */
static void rx_put(struct vuart *u, uint8_t c)
{
	if (u->rx_count == RX_FIFO_SIZE) {
		u->lsr_errors |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % RX_FIFO_SIZE] = c;
	u->rx_count++;
}

static uint8_t rx_get(struct vuart *u)
{
	uint8_t c;

	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % RX_FIFO_SIZE;
	u->rx_count--;
	return c;
}

/* The interrupt to show in IIR bits 3:0, by priority. */
static uint8_t vuart_iir_id(const struct vuart *u)
{
	static const uint8_t trigger[4] = { 1, 4, 8, 14 };

	if ((u->ier & IER_ELSI) && u->lsr_errors)
		return IIR_RLS;
	if ((u->ier & IER_ERBFI) && u->rx_count)
		return fifos_on(u) && u->rx_count < trigger[FCR_TRIGGER(u->fcr)] ? IIR_RX_TIMEOUT
										  : IIR_RX_DATA;
	if ((u->ier & IER_ETBEI) && u->thre_pending)
		return IIR_THRE;
	return IIR_NONE;
}

static void vuart_update_irq(struct vm *vm, struct vuart *u)
{
	bool level = vuart_iir_id(u) != IIR_NONE;

	if (level != u->irq_line) {
		u->irq_line = level;
		vioapic_set_irq(vm, UART_IRQ, level);
	}
}

/* FIFO control (data sheet "FIFO Control Register"): FCR0 must be set for
 * the other bits to take; changing it clears the FIFOs. */
static void vuart_write_fcr(struct vuart *u, uint8_t v)
{
	if ((v ^ u->fcr) & FCR_ENABLE)
		rx_clear(u);
	if (!(v & FCR_ENABLE)) {
		u->fcr = 0;
		return;
	}
	if (v & FCR_CLEAR_RX)
		rx_clear(u);
	u->fcr = v & FCR_KEPT;
}

/*
 * A guest write. Returns true when it was THR: the byte left at once, so
 * the caller raises "THR empty" again once the write's own clearing of
 * it has reached the line (a pulse, as the chip makes). @tx gets the byte
 * for the console, or -1 (loopback).
 */
static bool vuart_reg_write(struct vuart *u, unsigned off, uint8_t v, int *tx)
{
	bool dlab = u->lcr & LCR_DLAB;

	*tx = -1;
	switch (off) {
	case UART_RBR:
		if (dlab) {
			u->dll = v;
			return false;
		}
		u->thre_pending = false;
		if (u->mcr & MCR_LOOP)
			rx_put(u, v);
		else
			*tx = v;
		return true;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		if ((v & IER_ETBEI) && !(u->ier & IER_ETBEI))
			u->thre_pending = true;
		u->ier = v & IER_MASK;
		break;
	case UART_IIR: vuart_write_fcr(u, v); break;
	case UART_LCR: u->lcr = v; break;
	case UART_MCR: u->mcr = v & MCR_MASK; break;
	case UART_SCR: u->scr = v; break;
	default: break;   /* LSR and MSR are read-only */
	}
	return false;
}

/* In loopback the modem inputs follow the outputs: DTR->DSR, RTS->CTS,
 * OUT1->RI, OUT2->DCD (data sheet, MCR bit 4). */
static uint8_t vuart_msr(const struct vuart *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_CABLE;
	return (uint8_t)((u->mcr & 0x01) << 5 | (u->mcr & 0x02) << 3 | (u->mcr & 0x04) << 4 |
			 (u->mcr & 0x08) << 4);
}

/* A guest read; reading RBR, IIR and LSR has side effects. */
static uint8_t vuart_reg_read(struct vuart *u, unsigned off)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v;

	switch (off) {
	case UART_RBR:
		if (dlab)
			return u->dll;
		u->rx_polled = true;
		return rx_get(u);
	case UART_IER: return dlab ? u->dlm : u->ier;
	case UART_IIR:
		v = vuart_iir_id(u);
		if (v == IIR_THRE)
			u->thre_pending = false;   /* reading IIR acknowledges it */
		return fifos_on(u) ? v | IIR_FIFOS_ON : v;
	case UART_LCR: return u->lcr;
	case UART_MCR: return u->mcr;
	case UART_LSR:
		v = (u->rx_count ? LSR_DR : 0) | u->lsr_errors | LSR_THRE_TEMT;
		u->lsr_errors = 0;
		u->rx_polled = true;
		return v;
	case UART_MSR: return vuart_msr(u);
	default: return u->scr;
	}
}

static enum io_result vuart_io(struct vcpu *vcpu, uint64_t off, struct io_access *a, void *opaque)
{
	struct vuart *u = opaque;
	struct vm *vm = vcpu->vm;
	int tx = -1;

	if (a->size != 1)
		return IO_ERROR;   /* the 16550 has byte registers only */
	spin_lock(&u->lock);
	if (!a->write) {
		a->value = vuart_reg_read(u, (unsigned)off);
		vuart_update_irq(vm, u);
	} else if (vuart_reg_write(u, (unsigned)off, (uint8_t)a->value, &tx)) {
		vuart_update_irq(vm, u);
		u->thre_pending = true;            /* sent at once: empty again */
		vuart_update_irq(vm, u);
	} else {
		vuart_update_irq(vm, u);
	}
	spin_unlock(&u->lock);
	if (tx >= 0)
		vm_console_putc(vm, (char)tx);
	return IO_HANDLED;
}

bool vuart_receive(struct vm *vm, uint8_t c)
{
	struct vuart *u = &vuarts[vm->id];

	if (!vm->cfg->console_uart)
		return false;
	spin_lock(&u->lock);
	if (!(u->mcr & MCR_LOOP))
		rx_put(u, c);
	vuart_update_irq(vm, u);
	spin_unlock(&u->lock);
	return true;
}

bool vuart_listening(struct vm *vm)
{
	struct vuart *u = &vuarts[vm->id];
	bool polled;

	if (!vm->cfg->console_uart)
		return false;
	/* Unlocked: a stale answer costs one slow poll period at most. */
	polled = __atomic_exchange_n(&u->rx_polled, false, __ATOMIC_RELAXED);
	return polled || (__atomic_load_n(&u->ier, __ATOMIC_RELAXED) & IER_ERBFI);
}

static void vuart_reset(struct vm *vm)
{
	struct vuart *u = &vuarts[vm->id];

	/* Console input on another CPU may be delivering right now. */
	spin_lock(&u->lock);
	*u = (struct vuart){ .lock = u->lock, .dll = 1 };
	spin_unlock(&u->lock);
}

static int vuart_vm_create(struct vm *vm)
{
	if (!vm->cfg->console_uart)
		return 0;
	vuart_reset(vm);
	return io_register(&vm->pio, HV_PORT_COM1, 8, vuart_io, &vuarts[vm->id]);
}

DEFINE_UNIT(vuart, .vm_create = vuart_vm_create, .vm_reset = vuart_reset);
