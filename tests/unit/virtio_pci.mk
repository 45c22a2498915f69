UNIT_TESTS += virtio_pci
# The test #includes vdev/virtio_pci.c to reach its registers and stubs
# vpci (capabilities, MSI-X, the bus) and vm_gpa_to_hva(); the rings are
# the real vdev/virtq.c.
unit_virtio_pci_SRCS := vdev/virtq.c
$(BUILD)/unit/virtio_pci: vdev/virtio_pci.c vdev/virtio_pci.h vdev/vpci.h vdev/virtq.h
