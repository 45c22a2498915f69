/* The VM's virtio console (virtio_console = yes): see vdev/virtio_console.c. */
#ifndef VDEV_VIRTIO_CONSOLE_H
#define VDEV_VIRTIO_CONSOLE_H

#include "core/types.h"

struct vm;

/*
 * A byte typed on the hypervisor console for @vm. Taken (true) when @vm
 * has a virtio console whose driver is ready (DRIVER_OK, and it has
 * posted receive buffers since its last reset): the byte waits in the
 * device's input buffer, or is dropped and counted when that is full,
 * until virtio_console_input_flush(). Else false: give it to the vUART.
 * Any CPU may call this.
 */
bool virtio_console_receive(struct vm *vm, uint8_t c);

/* Whether typed input for @vm would go to its virtio console now. */
bool virtio_console_listening(struct vm *vm);

/*
 * After a batch of virtio_console_receive(): move what waits into the
 * driver's receive buffers and interrupt it. Bytes that find no buffer
 * wait for the driver's next kick of its receiveq.
 */
void virtio_console_input_flush(struct vm *vm);

#endif
