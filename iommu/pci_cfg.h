/*
 * PCI configuration space access for iommu/ (PCI Express Base 6.0 7.2.2
 * ECAM through the ACPI MCFG; else configuration mechanism #1 at ports
 * 0xCF8/0xCFC for segment 0). It lives in iommu/ until another part of
 * the hypervisor needs it (vdev/ passthrough is the likely one); then it
 * should move to a shared place.
 */
#ifndef IOMMU_PCI_CFG_H
#define IOMMU_PCI_CFG_H

#include "core/types.h"

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_CAP_PTR 0x34
#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_MASTER (1u << 2)
#define PCI_CMD_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAPS (1u << 4)
#define PCI_CAP_MSI 0x05

/* All-ones when the device or the segment is not there. */
uint32_t pci_cfg_read32(uint16_t seg, uint16_t bdf, uint16_t off);
uint16_t pci_cfg_read16(uint16_t seg, uint16_t bdf, uint16_t off);
uint8_t pci_cfg_read8(uint16_t seg, uint16_t bdf, uint16_t off);
void pci_cfg_write32(uint16_t seg, uint16_t bdf, uint16_t off, uint32_t v);
void pci_cfg_write16(uint16_t seg, uint16_t bdf, uint16_t off, uint16_t v);

/* The offset of capability @id in @bdf's list, or 0. */
uint8_t pci_find_cap(uint16_t seg, uint16_t bdf, uint8_t id);
/* Find the first function with @vendor:@device on @seg; 0 or -ENOENT. */
int pci_find_device(uint16_t seg, uint16_t vendor, uint16_t device, uint16_t *bdf);

#endif
