UNIT_TESTS += virtio_console
# The test #includes vdev/virtio_pci.c and vdev/virtio_console.c to reach
# the transport's registers and the device's state, and stubs vpci,
# vm_gpa_to_hva() and vm_console_write(); the rings are the real
# vdev/virtq.c.
unit_virtio_console_SRCS := vdev/virtq.c
$(BUILD)/unit/virtio_console: vdev/virtio_console.c vdev/virtio_console.h vdev/virtio_pci.c \
	vdev/virtio_pci.h vdev/vpci.h vdev/virtq.h vdev/vm_console.h
