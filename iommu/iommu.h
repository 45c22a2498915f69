/*
 * The IOMMU interface for the rest of the hypervisor. Today it is Intel
 * VT-d (iommu/vtd*.c); see README.md, "IOMMU", for what it does and how
 * to read a fault report.
 *
 * After iommu_init() every DMA remapping unit the firmware reports is the
 * hypervisor's: translation is on, and a device that belongs to no domain
 * is blocked (its DMA faults and is logged). A domain is one second-level
 * address space (one per VM); devices are assigned to it by PCI
 * segment/bus/device/function. Device MSIs go through the unit's
 * interrupt remapping table (iommu_msi_remap).
 */
#ifndef IOMMU_IOMMU_H
#define IOMMU_IOMMU_H

#include "core/types.h"

#define PCI_BDF(bus, dev, fn) ((uint16_t)((bus) << 8 | (dev) << 3 | (fn)))
#define PCI_BUS(bdf) ((uint8_t)((bdf) >> 8))
#define PCI_DEV(bdf) ((uint8_t)(((bdf) >> 3) & 0x1f))
#define PCI_FN(bdf) ((uint8_t)((bdf) & 7))

struct iommu_domain;

/*
 * Find, check and enable every remapping unit. Prints what it found; on
 * any problem prints why and leaves remapping off on every unit.
 * Returns the number of units enabled (0 when none).
 */
unsigned iommu_init(void);
/* The number of units enabled by iommu_init(). */
unsigned iommu_units(void);

/* A new, empty domain: every DMA into it faults until mapped. */
struct iommu_domain *iommu_domain_create(void);
/* Destroy @d; its devices must have been deassigned. */
void iommu_domain_destroy(struct iommu_domain *d);
/* Map [iova, iova+size) to [pa, pa+size); @attr is PT_R and/or PT_W. */
int iommu_domain_map(struct iommu_domain *d, uint64_t iova, paddr_t pa, uint64_t size,
		     uint32_t attr);
int iommu_domain_unmap(struct iommu_domain *d, uint64_t iova, uint64_t size);
/* Give device @seg:@bdf to @d (its RMRR ranges are mapped 1:1 too). */
int iommu_assign_device(struct iommu_domain *d, uint16_t seg, uint16_t bdf);
/* Take @seg:@bdf away from its domain: it is blocked again. */
int iommu_deassign_device(uint16_t seg, uint16_t bdf);

/* A remapped MSI: program addr/data into the device's MSI capability. */
struct iommu_msi {
	uint64_t addr;
	uint32_t data;
	uint16_t handle;           /* interrupt remapping table index */
	uint8_t unit;
};

/*
 * Route MSIs from @seg:@bdf to @vector on the CPU with @apic_id, fixed
 * delivery, edge, through a remapping table entry that accepts them only
 * from that requester id. -ENODEV when interrupt remapping is off.
 */
int iommu_msi_remap(uint16_t seg, uint16_t bdf, uint8_t vector, uint32_t apic_id,
		    struct iommu_msi *msi);
/* Same, but the entry trusts only @sid (for the self-test's negative case). */
int iommu_msi_remap_sid(uint16_t seg, uint16_t bdf, uint16_t sid, uint8_t vector,
			uint32_t apic_id, struct iommu_msi *msi);
void iommu_msi_release(const struct iommu_msi *msi);

/* One decoded fault record, as logged. */
struct iommu_fault {
	uint8_t unit;
	uint16_t sid;              /* requester id: bus/dev/fn */
	uint8_t reason;            /* VT-d fault reason, Appendix A */
	bool is_read;
	bool is_intr;              /* interrupt remapping fault: addr is the index */
	uint64_t addr;
};

/* Faults logged since boot, and the most recent one (false if none). */
uint64_t iommu_fault_count(void);
bool iommu_last_fault(struct iommu_fault *f);
/* Collect pending faults now (the fault interrupt does this too). */
void iommu_fault_poll(void);
/* The fault reason in words. */
const char *iommu_fault_reason_str(unsigned reason);

/* Command-line options: iommu=on|off, iommu_selftest=edu. */
int iommu_opt_iommu(const char *val, size_t len, void *ctx);
int iommu_opt_selftest(const char *val, size_t len, void *ctx);
/* Run the self-test the command line asked for, if any. */
void iommu_selftest_run(void);

#endif
