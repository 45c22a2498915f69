/*
 * Guest console output. Characters collect in a per-VM line buffer and
 * go to the hypervisor console a whole line at a time, prefixed with the
 * VM's name, so that lines of different VMs never mix mid-line. Control
 * characters other than tab are shown as '?': a guest must not be able
 * to drive the user's terminal.
 *
 * The VM with the console focus (core/console_input.c) is "live"
 * instead: its output goes out as it comes, through printk_live() and
 * its terminal filter, so that a shell's prompt and the echo of what the
 * user types appear at once. Its lines still carry the "[NAME] " prefix.
 */
#include "core/printk.h"
#include "core/spinlock.h"
#include "core/unit.h"
#include "vdev/vm_console.h"

#define LINE_MAX 160

struct vm_console {
	spinlock_t lock;
	bool live;
	unsigned len;
	char line[LINE_MAX + 1];
	struct printk_live out;   /* while live; its open line is kept after */
};

static struct vm_console consoles[CONFIG_MAX_VMS];

static void vm_console_flush(struct vm *vm, struct vm_console *c)
{
	c->line[c->len] = 0;
	printk(LOG_INFO, "[%s] %s\n", vm->name, c->line);
	c->len = 0;
}

static void vm_console_buffer(struct vm *vm, struct vm_console *con, char c)
{
	/* The live line this VM left open is no longer what it would show. */
	con->out = (struct printk_live){ 0 };
	if (c == '\n') {
		vm_console_flush(vm, con);
	} else if (c != '\r') {
		con->line[con->len++] = (c == '\t' || (c >= 0x20 && c < 0x7f)) ? c : '?';
		if (con->len == LINE_MAX)
			vm_console_flush(vm, con);
	}
}

void vm_console_write(struct vm *vm, const char *s, size_t n)
{
	struct vm_console *con = &consoles[vm->id];

	spin_lock(&con->lock);
	if (con->live)
		printk_live(&con->out, vm->name, s, n);
	else
		for (size_t i = 0; i < n; i++)
			vm_console_buffer(vm, con, s[i]);
	spin_unlock(&con->lock);
}

void vm_console_putc(struct vm *vm, char c)
{
	vm_console_write(vm, &c, 1);
}

void vm_console_set_live(struct vm *vm, bool live)
{
	struct vm_console *con = &consoles[vm->id];

	spin_lock(&con->lock);
	if (live && !con->live) {
		/* What came since it lost the focus, else its last open line. */
		if (con->len) {
			con->out = (struct printk_live){ 0 };
			printk_live(&con->out, vm->name, con->line, con->len);
			con->len = 0;
		} else {
			printk_live(&con->out, vm->name, NULL, 0);
		}
	} else if (!live && con->live) {
		/* A half-read escape sequence or CR must not carry over. */
		con->out.tf = (struct termfilter){ .col = con->out.tf.col };
	}
	con->live = live;
	spin_unlock(&con->lock);
}

static void vm_console_reset(struct vm *vm)
{
	struct vm_console *con = &consoles[vm->id];

	spin_lock(&con->lock);
	if (con->len)
		vm_console_flush(vm, con);
	if (con->live && con->out.len)
		printk_live(&con->out, vm->name, "\n", 1);
	con->out = (struct printk_live){ 0 };
	spin_unlock(&con->lock);
}

DEFINE_UNIT(vm_console, .vm_reset = vm_console_reset, .vm_destroy = vm_console_reset);
