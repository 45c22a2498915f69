/*
 * Console input: what is typed on the hypervisor's serial console goes to
 * the VM with the console focus: to its virtio console when it has one
 * whose driver is ready (vdev/virtio_console.c), else to its virtual UART.
 *
 * Focus: at boot, the first VM with a console (console = uart, or
 * virtio_console = yes). Ctrl-] (0x1d) then
 *   n        the next running VM with a console, in configuration order
 *   0 to 9   the VM with that number (its place in the configuration)
 *   Ctrl-]   a Ctrl-] for the VM itself
 *   another  a line that lists these keys
 * Each switch prints "hv: console input to vm NAME". A VM that stops
 * hands the focus on to the next running one. Ctrl-] is telnet's and
 * virsh console's escape; Ctrl-A, QEMU's and Xen's, is taken by QEMU's
 * own -serial mon:stdio (tools/run.sh), and Bochs passes everything.
 *
 * How the host UART is read, and why so. The CPU that runs the focus
 * VM's first vCPU polls it from its host APIC timer, every
 * CONSOLE_POLL_US, sharing that one-shot timer with the vCPU's APIC timer
 * (arch/x86/lapic.c): the timer's kick makes the CPU leave its guest and
 * vcpu_timers_check() runs console_input_check(). The UART's receive
 * interrupt was the other way, and does not fit yet:
 * - it would come through the host IOAPIC, which the hypervisor does not
 *   program; and with VT-d interrupt remapping on (iommu/vtd_ir.c),
 *   compatibility-format interrupts are blocked, so the IOAPIC entry
 *   would need a remapping-table entry checked against the IOAPIC's
 *   source id from the DMAR;
 * - every CPU may be running a guest, so there is no idle CPU to send it
 *   to: it would be an exit on some guest's CPU all the same.
 * The poll costs one external-interrupt exit per period on one CPU, and
 * next to nothing on other exits: two loads after a host interrupt. While
 * the guest listens (UART receive interrupts on, LSR polled, or virtio
 * console receive buffers posted), the period is CONSOLE_POLL_US: one
 * millisecond keeps up with the host UART's 16-byte receive FIFO at
 * 115200 baud (11.5 bytes a millisecond), so a paste is not lost there. While it does not (a kernel still booting),
 * CONSOLE_IDLE_POLL_US: fast enough for the Ctrl-] keys, and the guest
 * loses only exits it would otherwise take every millisecond.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/uart.h"
#include "core/console_input.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "core/spinlock.h"
#include "core/vm.h"
#include "vdev/virtio_console.h"
#include "vdev/vm_console.h"
#include "vdev/vuart.h"

#define CONSOLE_POLL_US 1000
#define CONSOLE_IDLE_POLL_US 20000
#define POLL_MAX_BYTES 64          /* per poll: a stuck UART must not hold the CPU */
#define KEY_ESCAPE 0x1d            /* Ctrl-] */

static spinlock_t input_lock = SPINLOCK_INIT;
static struct vm *focus;           /* written under input_lock, read without */
static bool escape_seen;           /* Ctrl-] came; the command key is next */
static uint64_t poll_ticks, idle_poll_ticks;
static struct vm *virtio_pending; /* its virtio console holds unflushed input */

static bool is_focus_candidate(const struct vm *vm)
{
	return vm && vm->state == VM_RUNNING &&
	       (vm->cfg->console_uart || vm->cfg->virtio_console);
}

/* The first candidate after @vm in configuration order, wrapping round
 * to @vm itself; from the first VM when @vm is NULL. */
static struct vm *focus_next(const struct vm *vm)
{
	unsigned start = vm ? vm->id + 1 : 0;

	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
		struct vm *v = vm_get((start + i) % CONFIG_MAX_VMS);

		if (is_focus_candidate(v))
			return v;
	}
	return NULL;
}

/* Called with input_lock held. */
static void focus_set(struct vm *vm)
{
	struct vcpu *first;

	if (focus && focus != vm)
		vm_console_set_live(focus, false);
	__atomic_store_n(&focus, vm, __ATOMIC_RELEASE);
	if (!vm) {
		pr_info("hv: console input: no running VM has a console\n");
		return;
	}
	pr_info("hv: console input to vm %s\n", vm->name);
	vm_console_set_live(vm, true);
	/* Its CPU starts polling at its next exit: make one now. */
	first = vm->vcpus[0];
	if (first->pcpu != this_cpu_id())
		lapic_send_ipi(pcpus[first->pcpu].apic_id, lapic_kick_vector());
}

/* Called with input_lock held; console_input_poll() flushes at its end. */
static void console_input_deliver(struct vm *vm, uint8_t c)
{
	if (!virtio_console_receive(vm, c)) {
		vuart_receive(vm, c);
		return;
	}
	if (virtio_pending && virtio_pending != vm)
		virtio_console_input_flush(virtio_pending);
	virtio_pending = vm;
}

static void console_keys_help(void)
{
	pr_info("hv: console keys: Ctrl-] n next VM, Ctrl-] 0-9 VM by number, "
		"Ctrl-] Ctrl-] sends Ctrl-]\n");
}

static void console_escape_key(uint8_t c)
{
	struct vm *vm;

	if (c == KEY_ESCAPE) {
		if (focus)
			console_input_deliver(focus, c);
	} else if (c == 'n' || c == 'N') {
		focus_set(focus_next(focus));
	} else if (c >= '0' && c <= '9') {
		vm = vm_get((unsigned)(c - '0'));
		if (is_focus_candidate(vm))
			focus_set(vm);
		else
			pr_info("hv: console input: no running vm %c with a console\n", c);
	} else {
		console_keys_help();
	}
}

static void console_input_key(uint8_t c)
{
	if (escape_seen) {
		escape_seen = false;
		console_escape_key(c);
	} else if (c == KEY_ESCAPE) {
		escape_seen = true;
	} else if (focus) {
		console_input_deliver(focus, c);
	}
}

static void console_input_poll(void)
{
	int c;

	if (spin_trylock(&input_lock)) {
		for (unsigned i = 0; i < POLL_MAX_BYTES && (c = uart_getc()) >= 0; i++)
			console_input_key((uint8_t)c);
		if (virtio_pending)
			virtio_console_input_flush(virtio_pending);
		virtio_pending = NULL;
		spin_unlock(&input_lock);
	}
}

/* The guest reads its console: keep up with a paste. */
static bool focus_listens(struct vm *vm)
{
	return virtio_console_listening(vm) || vuart_listening(vm);
}

void console_input_check(struct vcpu *vcpu)
{
	uint64_t due = lapic_timer_deadline(LAPIC_TIMER_CONSOLE);

	if (vcpu->idx || __atomic_load_n(&focus, __ATOMIC_ACQUIRE) != vcpu->vm) {
		if (due)
			lapic_timer_arm(LAPIC_TIMER_CONSOLE, 0);   /* the focus went elsewhere */
		return;
	}
	/* Early (another user's deadline): the timer already holds ours. */
	if (due && rdtsc() < due)
		return;
	console_input_poll();
	lapic_timer_arm(LAPIC_TIMER_CONSOLE,
			rdtsc() + (focus_listens(vcpu->vm) ? poll_ticks : idle_poll_ticks));
}

void console_input_start(void)
{
	struct vm *first = focus_next(NULL);

	if (!uart_enabled() || !first)
		return;
	poll_ticks = tsc_khz_get() * CONSOLE_POLL_US / 1000;
	idle_poll_ticks = tsc_khz_get() * CONSOLE_IDLE_POLL_US / 1000;
	spin_lock(&input_lock);
	focus_set(first);
	spin_unlock(&input_lock);
	console_keys_help();
}

void console_input_vm_stopped(struct vm *vm)
{
	if (__atomic_load_n(&focus, __ATOMIC_ACQUIRE) != vm)
		return;
	spin_lock(&input_lock);
	if (focus == vm)
		focus_set(focus_next(vm));
	spin_unlock(&input_lock);
}
