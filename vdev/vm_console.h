/* A VM's console output, prefixed with its name: line-buffered, or live
 * while the VM has the console focus. */
#ifndef VDEV_VM_CONSOLE_H
#define VDEV_VM_CONSOLE_H

#include "core/vm.h"

void vm_console_putc(struct vm *vm, char c);
/* @n bytes at @s, as @n vm_console_putc() calls but under one lock. */
void vm_console_write(struct vm *vm, const char *s, size_t n);
/* @live: show @vm's output as it comes (it has the console focus), else
 * a line at a time. Switching to live shows its pending text at once. */
void vm_console_set_live(struct vm *vm, bool live);

#endif
