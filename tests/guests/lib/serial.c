/*
 * Console output through the 16550 at COM1. The UART is not programmed:
 * the virtual one (and QEMU's) works from reset, and the fewer registers
 * a guest touches the less of the device model it depends on. Before
 * each byte the guest polls LSR.THRE (bit 5), as the 16550 data sheet
 * requires; a virtual UART may take its time draining.
 */
#include "tests/guests/lib/guest.h"

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20

static void serial_tx(char c)
{
	while (!(inb(HV_PORT_COM1 + UART_LSR) & UART_LSR_THRE))
		__asm__ volatile("pause");
	outb(HV_PORT_COM1 + UART_THR, (uint8_t)c);
}

/* A terminal wants CR LF; the hypervisor's own console does the same. */
void serial_putc(char c)
{
	if (c == '\n')
		serial_tx('\r');
	serial_tx(c);
}

void serial_write(const char *s, size_t len)
{
	while (len--)
		serial_putc(*s++);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}
