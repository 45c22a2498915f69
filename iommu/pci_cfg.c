/*
 * PCI configuration space (see pci_cfg.h). ECAM windows are mapped
 * uncached the first time a segment is used; the legacy ports serve
 * segment 0 when the MCFG has no window for it. The hypervisor touches
 * configuration space only at boot and in self-tests, on one CPU at a
 * time, so the port pair needs no lock yet.
 */
#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "core/errno.h"
#include "mm/hvmap.h"
#include "iommu/pci_cfg.h"

#define PCI_CF8 0xcf8
#define PCI_CFC 0xcfc

static uintptr_t ecam_base[ACPI_MAX_MCFG];

/* The ECAM address of @off in @bdf, or 0 to use the ports. */
static uintptr_t ecam_addr(uint16_t seg, uint16_t bdf, uint16_t off)
{
	uint8_t bus = (uint8_t)(bdf >> 8);

	for (unsigned i = 0; i < acpi.nmcfg; i++) {
		const struct acpi_mcfg *m = &acpi.mcfg[i];
		uint64_t size = ((uint64_t)m->bus_end - m->bus_start + 1) << 20;

		if (m->segment != seg || bus < m->bus_start || bus > m->bus_end)
			continue;
		if (!ecam_base[i])
			ecam_base[i] = (uintptr_t)hvmap_mmio(m->base + ((uint64_t)m->bus_start << 20),
							     size);
		if (!ecam_base[i])
			return 0;
		return ecam_base[i] + ((uint64_t)(bus - m->bus_start) << 20) +
		       ((uint64_t)(bdf & 0xff) << 12) + (off & 0xfff);
	}
	return 0;
}

static bool port_ok(uint16_t seg, uint16_t off)
{
	return seg == 0 && off < 256;
}

static void port_select(uint16_t bdf, uint16_t off)
{
	outl(PCI_CF8, 0x80000000u | (uint32_t)bdf << 8 | (off & 0xfc));
}

uint32_t pci_cfg_read32(uint16_t seg, uint16_t bdf, uint16_t off)
{
	uintptr_t p = ecam_addr(seg, bdf, off & ~3);

	if (p)
		return *(volatile uint32_t *)p;
	if (!port_ok(seg, off))
		return 0xffffffffu;
	port_select(bdf, off);
	return inl(PCI_CFC);
}

uint16_t pci_cfg_read16(uint16_t seg, uint16_t bdf, uint16_t off)
{
	return (uint16_t)(pci_cfg_read32(seg, bdf, off & ~3) >> (8 * (off & 2)));
}

uint8_t pci_cfg_read8(uint16_t seg, uint16_t bdf, uint16_t off)
{
	return (uint8_t)(pci_cfg_read32(seg, bdf, off & ~3) >> (8 * (off & 3)));
}

void pci_cfg_write32(uint16_t seg, uint16_t bdf, uint16_t off, uint32_t v)
{
	uintptr_t p = ecam_addr(seg, bdf, off & ~3);

	if (p) {
		*(volatile uint32_t *)p = v;
	} else if (port_ok(seg, off)) {
		port_select(bdf, off);
		outl(PCI_CFC, v);
	}
}

void pci_cfg_write16(uint16_t seg, uint16_t bdf, uint16_t off, uint16_t v)
{
	uintptr_t p = ecam_addr(seg, bdf, off & ~1);

	if (p) {
		*(volatile uint16_t *)p = v;
	} else if (port_ok(seg, off)) {
		port_select(bdf, off);
		outw((uint16_t)(PCI_CFC + (off & 2)), v);
	}
}

uint8_t pci_find_cap(uint16_t seg, uint16_t bdf, uint8_t id)
{
	uint8_t off;

	if (!(pci_cfg_read16(seg, bdf, PCI_STATUS) & PCI_STATUS_CAPS))
		return 0;
	off = pci_cfg_read8(seg, bdf, PCI_CAP_PTR) & 0xfc;
	/* 48 hops at most: a looping list must not hang us. */
	for (unsigned n = 0; off >= 0x40 && n < 48; n++) {
		if (pci_cfg_read8(seg, bdf, off) == id)
			return off;
		off = pci_cfg_read8(seg, bdf, off + 1) & 0xfc;
	}
	return 0;
}

static bool pci_is_multifunction(uint16_t seg, uint16_t bdf)
{
	return pci_cfg_read8(seg, bdf, PCI_HEADER_TYPE) & 0x80;
}

int pci_find_device(uint16_t seg, uint16_t vendor, uint16_t device, uint16_t *bdf)
{
	uint32_t want = (uint32_t)device << 16 | vendor;

	for (unsigned slot = 0; slot < 256 * 32; slot++) {
		uint16_t b = (uint16_t)(slot << 3);

		if (pci_cfg_read16(seg, b, PCI_VENDOR_ID) == 0xffff)
			continue;
		for (unsigned fn = 0; fn < (pci_is_multifunction(seg, b) ? 8u : 1u); fn++) {
			if (pci_cfg_read32(seg, (uint16_t)(b | fn), PCI_VENDOR_ID) == want) {
				*bdf = (uint16_t)(b | fn);
				return 0;
			}
		}
	}
	return -ENOENT;
}
