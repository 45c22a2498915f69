/*
 * Interrupt remapping (VT-d 5.1, 9.10): one table per unit. Device MSIs
 * are programmed in the remappable format, naming an entry by index;
 * each entry checks the requester id of the MSI (source-id validation,
 * SVT = 01b with SQ = 0: all 16 bits must match) and gives the vector
 * and destination. Compatibility-format interrupts stay blocked (GCMD.CFI
 * is never set), so a device cannot aim an MSI at a CPU directly.
 *
 * Extended interrupt mode (EIME, 32-bit x2APIC destinations) is used when
 * the unit has it and the local APICs run in x2APIC mode; with xAPICs the
 * destination is the 8-bit APIC id in DST[15:8] (9.10).
 *
 * Posted interrupts (IM = 1, 9.11) are for the passthrough work: an entry
 * is allocated through vtd_irte_alloc() either way, so the posted format
 * only needs another way to fill the 128 bits.
 */
#include "arch/x86/lapic.h"
#include "core/errno.h"
#include "core/printk.h"
#include "mm/mm.h"
#include "mm/pmm.h"
#include "iommu/vtd.h"

static bool vtd_ir_wanted(struct vtd_unit *u)
{
	if (!(u->ecap & ECAP_IR))
		return false;
	if (!(vtd_dmar.flags & DMAR_FLAG_INTR_REMAP)) {
		pr_warn("iommu: dmar%u: the DMAR does not offer interrupt remapping; device MSIs cannot be confined\n",
			u->idx);
		return false;
	}
	if (!u->qi) {
		pr_warn("iommu: dmar%u: interrupt remapping needs queued invalidation; not enabled\n",
			u->idx);
		return false;
	}
	return true;
}

static void vtd_ir_pick_mode(struct vtd_unit *u)
{
	u->eime = (u->ecap & ECAP_EIM) && lapic_is_x2apic();
	if (lapic_is_x2apic() && !u->eime)
		pr_warn("iommu: dmar%u: x2APIC CPUs but no extended interrupt mode: only APIC ids below 256 reachable\n",
			u->idx);
	if (u->eime && (vtd_dmar.flags & DMAR_FLAG_X2APIC_OPT_OUT))
		pr_info("iommu: dmar%u: firmware asks to opt out of x2APIC; the APICs already use it\n",
			u->idx);
}

int vtd_ir_enable(struct vtd_unit *u)
{
	paddr_t irt;
	int err;

	if (!vtd_ir_wanted(u))
		return 0;
	irt = pmm_alloc_page();
	if (!irt)
		return -ENOMEM;
	u->irt = phys_to_virt(irt);
	vtd_flush_cache(u, u->irt, PAGE_SIZE);
	vtd_ir_pick_mode(u);
	/* IRTA.S: the table has 2^(S+1) entries (10.4.29). */
	vtd_write64(u, VTD_IRTA, irt | (u->eime ? IRTA_EIME : 0) | (VTD_IRT_ORDER - 1));
	err = vtd_gcmd(u, GCMD_SIRTP, true, "setting the interrupt remapping table");
	if (!err)
		err = vtd_inv_iec(u, -1);
	if (!err)
		err = vtd_gcmd(u, GCMD_IRE, true, "enabling interrupt remapping");
	if (!err && (vtd_read32(u, VTD_GSTS) & GCMD_CFI)) {
		pr_err("iommu: dmar%u: compatibility-format interrupts still allowed\n", u->idx);
		err = -EIO;
	}
	u->ir = !err;
	if (u->ir)
		pr_info("iommu: dmar%u: interrupt remapping on: %u entries, %s destinations, source-id checked, compatibility format blocked\n",
			u->idx, VTD_IRT_ENTRIES, u->eime ? "x2APIC (EIME)" : "xAPIC");
	return err;
}

static int irte_find_free(struct vtd_unit *u)
{
	for (unsigned i = 0; i < VTD_IRT_ENTRIES; i++) {
		if (!(u->irt_used[i / 64] & (1ULL << (i % 64)))) {
			u->irt_used[i / 64] |= 1ULL << (i % 64);
			return (int)i;
		}
	}
	return -ENOSPC;
}

/* Returns the entry's index, or a negative error. */
int vtd_irte_alloc(struct vtd_unit *u, uint16_t sid, uint8_t vector, uint32_t apic_id)
{
	struct vtd_entry128 *e;
	int idx, err;

	if (!u->ir)
		return -ENODEV;
	if (!u->eime && apic_id > 0xff)
		return -ERANGE;
	spin_lock(&u->lock);
	idx = irte_find_free(u);
	if (idx >= 0) {
		e = &u->irt[idx];
		/* The high half first: the entry turns present last. */
		e->hi = IRTE_HI_SID(sid) | IRTE_HI_SVT_SID;
		__atomic_store_n(&e->lo, IRTE_LO_P | IRTE_LO_VECTOR(vector) |
				 (u->eime ? IRTE_LO_DST_X2APIC(apic_id) : IRTE_LO_DST_XAPIC(apic_id)),
				 __ATOMIC_RELEASE);
		vtd_flush_cache(u, e, sizeof(*e));
		err = vtd_inv_iec(u, idx);
		if (err)
			idx = err;
	}
	spin_unlock(&u->lock);
	return idx;
}

void vtd_irte_free(struct vtd_unit *u, unsigned index)
{
	struct vtd_entry128 *e;

	if (!u->ir || index >= VTD_IRT_ENTRIES)
		return;
	spin_lock(&u->lock);
	e = &u->irt[index];
	__atomic_store_n(&e->lo, 0, __ATOMIC_RELEASE);
	e->hi = 0;
	vtd_flush_cache(u, e, sizeof(*e));
	vtd_inv_iec(u, (int)index);
	u->irt_used[index / 64] &= ~(1ULL << (index % 64));
	spin_unlock(&u->lock);
}

int iommu_msi_remap_sid(uint16_t seg, uint16_t bdf, uint16_t sid, uint8_t vector,
			uint32_t apic_id, struct iommu_msi *msi)
{
	struct vtd_unit *u = vtd_unit_for(seg, bdf);
	int idx;

	if (!u || !u->ir)
		return -ENODEV;
	idx = vtd_irte_alloc(u, sid, vector, apic_id);
	if (idx < 0)
		return idx;
	msi->unit = (uint8_t)u->idx;
	msi->handle = (uint16_t)idx;
	msi->addr = MSI_ADDR_BASE | MSI_ADDR_IF_REMAP | MSI_ADDR_HANDLE((unsigned)idx);
	msi->data = 0;             /* SHV = 0: the handle alone names the entry */
	return 0;
}

int iommu_msi_remap(uint16_t seg, uint16_t bdf, uint8_t vector, uint32_t apic_id,
		    struct iommu_msi *msi)
{
	return iommu_msi_remap_sid(seg, bdf, bdf, vector, apic_id, msi);
}

void iommu_msi_release(const struct iommu_msi *msi)
{
	if (msi->unit < vtd_nunits)
		vtd_irte_free(&vtd_units[msi->unit], msi->handle);
}
