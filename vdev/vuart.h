/* The VM's virtual 16550A at COM1 (console = uart): see vdev/vuart.c. */
#ifndef VDEV_VUART_H
#define VDEV_VUART_H

#include "core/types.h"

struct vm;

/*
 * A byte typed on the hypervisor console for @vm: into its receiver
 * FIFO, or an overrun (LSR.OE) when that is full. Any CPU may call this.
 * Returns false when the VM has no virtual UART.
 */
bool vuart_receive(struct vm *vm, uint8_t c);

/*
 * Whether @vm's guest wants input: receive interrupts enabled, or RBR or
 * LSR read since the last call (a polling driver). Any CPU may call this.
 */
bool vuart_listening(struct vm *vm);

#endif
