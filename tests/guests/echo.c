/*
 * Console input guest: reads what is typed for this VM from the virtual
 * 16550 (FIFOs on), echoes printable characters as a terminal would, and
 * prints each line back as
 *   echo: NAME got 'LINE'
 * with bytes outside printable ASCII as \xHH, then a "NAME> " prompt.
 * Lines end at CR or LF. Two lines are commands:
 *   quit     exit with status 0
 *   overrun  stop reading until LSR shows an overrun (type more than the
 *            FIFO holds meanwhile), then read what the FIFO kept and
 *            print "echo: NAME overrun after N bytes"
 * While nothing is there it sleeps in HLT until the UART's receive
 * interrupt (IER.ERBFI, IOAPIC pin 4, vector 0x34 to its x2APIC), so
 * that it costs nothing while idle: in Bochs every emulated CPU shares
 * one host thread.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("echo");

#define UART_RBR (HV_PORT_COM1 + 0)
#define UART_IER (HV_PORT_COM1 + 1)
#define UART_FCR (HV_PORT_COM1 + 2)
#define UART_LSR (HV_PORT_COM1 + 5)
#define LSR_DR 0x01
#define LSR_OE 0x02

#define IER_ERBFI 0x01
#define RX_VECTOR 0x34
#define IOAPIC ((volatile uint32_t *)0xfec00000)
#define X2APIC_SVR 0x80f

static char name[16];

/* The receive interrupt only ends HLT: EOI (x2APIC MSR 0x80b) and return. */
__asm__(".globl echo_rx_stub\n"
	"echo_rx_stub:\n\t"
	"push %rax; push %rcx; push %rdx\n\t"
	"mov $0x80b, %ecx; xor %eax, %eax; xor %edx, %edx; wrmsr\n\t"
	"pop %rdx; pop %rcx; pop %rax\n\t"
	"iretq");
extern char echo_rx_stub[];

/* Keep the library's exception gates; add the receive vector. */
static void rx_interrupt_setup(void)
{
	guest_set_interrupt_gate(RX_VECTOR, echo_rx_stub);
	/* x2APIC on (SVR), IOAPIC pin 4: fixed, edge, vCPU 0 (82093AA 3.2.4). */
	__asm__ volatile("wrmsr" : : "c"(X2APIC_SVR), "a"(0x1ffu), "d"(0u));
	IOAPIC[0] = 0x10 + 2 * 4 + 1;
	IOAPIC[4] = 0;
	IOAPIC[0] = 0x10 + 2 * 4;
	IOAPIC[4] = RX_VECTOR;
	outb(UART_IER, IER_ERBFI);
}

/* Wait for a byte: check with interrupts off, then sti; hlt, which takes
 * the interrupt only once halted (SDM Vol. 2B STI), so none is missed. */
static int getc_waiting(void)
{
	for (;;) {
		__asm__ volatile("cli" ::: "memory");
		if (inb(UART_LSR) & LSR_DR)
			break;
		__asm__ volatile("sti; hlt" ::: "memory");
	}
	return inb(UART_RBR);
}

static void overrun(void)
{
	uint64_t t0 = rdtsc();
	unsigned n = 0;
	uint8_t lsr;

	printf("echo: %s not reading\n", name);
	do {
		lsr = inb(UART_LSR);
	} while (!(lsr & LSR_OE) && rdtsc() - t0 < (1ull << 40));
	if (!(lsr & LSR_OE)) {
		printf("echo: %s no overrun\n", name);
		return;
	}
	while (inb(UART_LSR) & LSR_DR) {
		inb(UART_RBR);
		n++;
	}
	printf("echo: %s overrun after %u bytes\n", name, n);
}

static void show(const char *line, unsigned len)
{
	char out[4 * 80 + 1];
	unsigned n = 0;

	for (unsigned i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c >= 0x20 && c < 0x7f)
			out[n++] = (char)c;
		else
			n += (unsigned)snprintf(out + n, sizeof(out) - n, "\\x%02x", c);
	}
	out[n] = '\0';
	printf("echo: %s got '%s'\n", name, out);
}

int main(const struct hv_boot_info *bi)
{
	char line[80];
	unsigned len = 0;

	(void)bi;
	if (hypercall(HC_VM_NAME, (long)name, sizeof(name), 0) < 0)
		name[0] = '\0';
	outb(UART_FCR, 0x07);              /* FIFOs on and cleared, trigger 1 */
	rx_interrupt_setup();
	printf("echo: %s ready\n%s> ", name, name);
	for (;;) {
		int c = getc_waiting();

		if (c != '\r' && c != '\n') {
			if (len < sizeof(line))
				line[len++] = (char)c;
			if (c >= 0x20 && c < 0x7f)
				serial_putc((char)c);
			continue;
		}
		serial_putc('\n');
		if (len == 4 && !memcmp(line, "quit", 4)) {
			printf("echo: %s bye\n", name);
			return 0;
		}
		if (len == 7 && !memcmp(line, "overrun", 7))
			overrun();
		else
			show(line, len);
		len = 0;
		printf("%s> ", name);
	}
}
