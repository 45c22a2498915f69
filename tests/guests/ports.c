/*
 * Port I/O: a port nobody claims reads as all ones and swallows writes,
 * as an empty ISA bus does; the UART's scratch register keeps what is
 * written and its LSR reports THRE. Exit status = failed checks.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("ports");

#define UART_LSR (HV_PORT_COM1 + 5)
#define UART_SCR (HV_PORT_COM1 + 7)
#define UART_LSR_THRE 0x20
#define LSR_POLLS 1000000

static const uint16_t unclaimed[] = { 0x510, 0x5555 };

static int check_unclaimed_reads(uint16_t port, const char *when)
{
	uint32_t b = inb(port), w = inw(port), l = inl(port);
	int fail = 0;

	fail += check(b == 0xff, "inb(0x%x)%s = 0x%x (want 0xff)", port, when, b);
	fail += check(w == 0xffff, "inw(0x%x)%s = 0x%x (want 0xffff)", port, when, w);
	fail += check(l == 0xffffffff, "inl(0x%x)%s = 0x%x (want 0xffffffff)", port, when, l);
	return fail;
}

static int check_unclaimed(uint16_t port)
{
	int fail = check_unclaimed_reads(port, "");

	outb(port, 0x12);
	outw(port, 0x3456);
	outl(port, 0x789abcde);
	printf("ports: out to 0x%x ignored (still running)\n", port);
	return fail + check_unclaimed_reads(port, " after writes");
}

static int check_scratch(uint8_t val)
{
	uint8_t got;

	outb(UART_SCR, val);
	got = inb(UART_SCR);
	return check(got == val, "UART scratch (0x%x) holds 0x%x (read 0x%x)", UART_SCR, val, got);
}

/* The UART may still be draining our last line: give THRE time to come back. */
static int check_lsr(void)
{
	uint8_t lsr = 0;
	unsigned i;

	for (i = 0; i < LSR_POLLS; i++) {
		lsr = inb(UART_LSR);
		if (lsr & UART_LSR_THRE)
			break;
	}
	return check(!!(lsr & UART_LSR_THRE), "UART LSR (0x%x) = 0x%x has THRE", UART_LSR, lsr);
}

int main(const struct hv_boot_info *bi)
{
	int fail = 0;
	unsigned i;

	(void)bi;
	for (i = 0; i < ARRAY_SIZE(unclaimed); i++)
		fail += check_unclaimed(unclaimed[i]);
	fail += check_scratch(0x5a);
	fail += check_scratch(0xa5);
	fail += check_lsr();
	printf("ports: %s\n", fail ? "FAIL" : "PASS");
	return fail;
}
