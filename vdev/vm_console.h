/* A VM's console output, line-buffered and prefixed with its name. */
#ifndef VDEV_VM_CONSOLE_H
#define VDEV_VM_CONSOLE_H

#include "core/vm.h"

void vm_console_putc(struct vm *vm, char c);

#endif
