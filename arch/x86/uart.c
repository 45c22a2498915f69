/*
 * 16550-compatible UART, polled transmit and receive. Registers per the
 * PC16550D data sheet: THR/RBR/DLL at +0, IER/DLM at +1, FCR +2, LCR +3,
 * MCR +4, LSR +5. The FIFOs are on (16 bytes, receive trigger at 1).
 */
#include "arch/x86/uart.h"
#include "arch/x86/cpu.h"
#include "core/cmdline.h"
#include "core/console.h"
#include "core/errno.h"

#define UART_CLOCK 115200
#define LSR_DR 0x01
#define LSR_THRE 0x20

static const uint16_t com_ports[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };

static struct {
	uint16_t port;
	uint32_t baud;
	bool enabled;
} uart = { 0x3f8, 115200, true };

static int uart_parse_port(const char *val, size_t len, uint16_t *port)
{
	uint64_t n;

	if (len == 4 && (val[0] == 'c' || val[0] == 'C') && val[1] == 'o' &&
	    val[2] == 'm' && val[3] >= '1' && val[3] <= '4') {
		*port = com_ports[val[3] - '1'];
		return 0;
	}
	if (cmdline_parse_u64(val, len, &n) || n == 0 || n > 0xfff8)
		return -EINVAL;
	*port = (uint16_t)n;
	return 0;
}

int uart_parse_console(const char *val, size_t len)
{
	size_t plen = 0;
	uint64_t baud = 115200;
	uint16_t port;

	if (!val)
		return -EINVAL;
	if (cmdline_val_is(val, len, "none")) {
		uart.enabled = false;
		return 0;
	}
	while (plen < len && val[plen] != ',')
		plen++;
	if (uart_parse_port(val, plen, &port))
		return -EINVAL;
	if (plen < len && (cmdline_parse_u64(val + plen + 1, len - plen - 1, &baud) ||
			   baud == 0 || baud > UART_CLOCK || UART_CLOCK % baud))
		return -EINVAL;
	uart.port = port;
	uart.baud = (uint32_t)baud;
	uart.enabled = true;
	return 0;
}

void uart_init(void)
{
	uint16_t div = (uint16_t)(UART_CLOCK / uart.baud);

	if (!uart.enabled)
		return;
	outb(uart.port + 1, 0x00);          /* no interrupts: we poll */
	outb(uart.port + 3, 0x80);          /* DLAB on */
	outb(uart.port + 0, (uint8_t)div);
	outb(uart.port + 1, (uint8_t)(div >> 8));
	outb(uart.port + 3, 0x03);          /* 8N1, DLAB off */
	outb(uart.port + 2, 0x07);          /* FIFOs on and cleared */
	outb(uart.port + 4, 0x03);          /* DTR | RTS */
}

bool uart_enabled(void)
{
	return uart.enabled;
}

void uart_putc(char c)
{
	unsigned spins = 0;

	if (!uart.enabled)
		return;
	/* Bounded wait: a missing UART (reads 0xff) or a stuck one must not
	 * hang the hypervisor. */
	while (!(inb(uart.port + 5) & LSR_THRE) && ++spins < 100000)
		cpu_relax();
	outb(uart.port, (uint8_t)c);
}

int uart_getc(void)
{
	uint8_t lsr;

	if (!uart.enabled)
		return -1;
	lsr = inb(uart.port + 5);
	/* A missing UART reads all ones: nothing was received. */
	if (lsr == 0xff || !(lsr & LSR_DR))
		return -1;
	return inb(uart.port);
}

void console_putc(char c)
{
	uart_putc(c);
}
