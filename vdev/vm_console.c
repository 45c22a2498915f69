/*
 * Guest console output. Characters collect in a per-VM line buffer and
 * go to the hypervisor console a whole line at a time, prefixed with the
 * VM's name, so that lines of different VMs never mix mid-line. Control
 * characters other than tab are shown as '?': a guest must not be able
 * to drive the user's terminal.
 */
#include "core/printk.h"
#include "core/spinlock.h"
#include "core/unit.h"
#include "vdev/vm_console.h"

#define LINE_MAX 160

struct vm_console {
	spinlock_t lock;
	unsigned len;
	char line[LINE_MAX + 1];
};

static struct vm_console consoles[CONFIG_MAX_VMS];

static void vm_console_flush(struct vm *vm, struct vm_console *c)
{
	c->line[c->len] = 0;
	printk(LOG_INFO, "[%s] %s\n", vm->name, c->line);
	c->len = 0;
}

void vm_console_putc(struct vm *vm, char c)
{
	struct vm_console *con = &consoles[vm->id];

	spin_lock(&con->lock);
	if (c == '\n') {
		vm_console_flush(vm, con);
	} else if (c != '\r') {
		con->line[con->len++] = (c == '\t' || (c >= 0x20 && c < 0x7f)) ? c : '?';
		if (con->len == LINE_MAX)
			vm_console_flush(vm, con);
	}
	spin_unlock(&con->lock);
}

static void vm_console_reset(struct vm *vm)
{
	struct vm_console *con = &consoles[vm->id];

	spin_lock(&con->lock);
	if (con->len)
		vm_console_flush(vm, con);
	spin_unlock(&con->lock);
}

DEFINE_UNIT(vm_console, .vm_reset = vm_console_reset, .vm_destroy = vm_console_reset);
