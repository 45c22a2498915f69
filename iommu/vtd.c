/*
 * One VT-d remapping unit: its registers, what it can do, and bringing
 * it up in legacy (not scalable) mode. The order follows the VT-d
 * specification: root table pointer (10.4.6), invalidation (6.5), fault
 * events (7.3), interrupt remapping (5.1), then translation (10.4.4),
 * and last the protected memory regions turned off (10.4.16), so that no
 * moment exists in which DMA is less restricted than before.
 */
#include "arch/x86/cpu.h"
#include "core/errno.h"
#include "core/printk.h"
#include "mm/hvmap.h"
#include "mm/mm.h"
#include "mm/pmm.h"
#include "iommu/vtd.h"

#define VTD_TIMEOUT_US 1000000

uint32_t vtd_read32(const struct vtd_unit *u, uint32_t reg)
{
	return *(volatile const uint32_t *)(u->regs + reg);
}

uint64_t vtd_read64(const struct vtd_unit *u, uint32_t reg)
{
	return *(volatile const uint64_t *)(u->regs + reg);
}

void vtd_write32(struct vtd_unit *u, uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(u->regs + reg) = v;
}

void vtd_write64(struct vtd_unit *u, uint32_t reg, uint64_t v)
{
	*(volatile uint64_t *)(u->regs + reg) = v;
}

int vtd_wait64(struct vtd_unit *u, uint32_t reg, uint64_t mask, uint64_t want, const char *what)
{
	for (unsigned us = 0; us < VTD_TIMEOUT_US; us++) {
		if ((vtd_read64(u, reg) & mask) == want)
			return 0;
		udelay(1);
	}
	pr_err("iommu: dmar%u: %s did not complete within 1 s (register %#x = %#llx)\n", u->idx,
	       what, reg, (unsigned long long)vtd_read64(u, reg));
	return -ETIMEDOUT;
}

int vtd_wait32(struct vtd_unit *u, uint32_t reg, uint32_t mask, uint32_t want, const char *what)
{
	for (unsigned us = 0; us < VTD_TIMEOUT_US; us++) {
		if ((vtd_read32(u, reg) & mask) == want)
			return 0;
		udelay(1);
	}
	pr_err("iommu: dmar%u: %s did not complete within 1 s (register %#x = %#x)\n", u->idx,
	       what, reg, vtd_read32(u, reg));
	return -ETIMEDOUT;
}

/*
 * Set or clear one GCMD bit. GCMD is write-only: the current state comes
 * from GSTS, minus the one-shot bits that must not be repeated (10.4.4).
 * One-shot commands complete when their status bit is set.
 */
int vtd_gcmd(struct vtd_unit *u, uint32_t bit, bool on, const char *what)
{
	uint32_t sts = vtd_read32(u, VTD_GSTS) & ~GCMD_ONE_SHOT;

	vtd_write32(u, VTD_GCMD, on ? sts | bit : sts & ~bit);
	return vtd_wait32(u, VTD_GSTS, bit, on ? bit : 0, what);
}

void vtd_flush_cache(const struct vtd_unit *u, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p & ~63ul;

	if (u->ecap & ECAP_C)
		return;
	for (; a < (uintptr_t)p + len; a += 64)
		asm volatile("clflush (%0)" ::"r"(a) : "memory");
	asm volatile("mfence" ::: "memory");
}

/* After the shared walker edited tables it does not say where: all of it. */
void vtd_flush_all_caches(void)
{
	for (unsigned i = 0; i < vtd_nunits; i++) {
		if (!(vtd_units[i].ecap & ECAP_C)) {
			asm volatile("wbinvd" ::: "memory");
			return;
		}
	}
}

static void vtd_report(const struct vtd_unit *u)
{
	uint64_t c = u->cap, e = u->ecap;
	unsigned sagaw = (unsigned)CAP_SAGAW(c), sllps = (unsigned)CAP_SLLPS(c);

	pr_info("iommu: dmar%u at %#llx (segment %u, %u device scope%s%s): VT-d %u.%u, %u domains, %u fault records\n",
		u->idx, (unsigned long long)u->drhd->base, u->drhd->segment,
		u->drhd->scopes.count, u->drhd->scopes.count == 1 ? "" : "s",
		u->drhd->include_all ? " + all other devices" : "", (u->ver >> 4) & 0xf,
		u->ver & 0xf, 1u << (4 + 2 * CAP_ND(c)), (unsigned)CAP_NFR(c));
	pr_info("iommu: dmar%u: address widths%s%s%s (max %u-bit), large pages 2M %s 1G %s\n", u->idx,
		sagaw & SAGAW_39 ? " 39-bit" : "", sagaw & SAGAW_48 ? " 48-bit" : "",
		sagaw & (1u << 3) ? " 57-bit" : "", (unsigned)CAP_MGAW(c),
		sllps & 1 ? "yes" : "no", sllps & 2 ? "yes" : "no");
	pr_info("iommu: dmar%u: queued-inval %s, intr-remap %s (x2APIC %s), posted-intr %s, caching-mode %s, coherent %s, scalable-mode %s, pass-through %s\n",
		u->idx, e & ECAP_QI ? "yes" : "no", e & ECAP_IR ? "yes" : "no",
		e & ECAP_EIM ? "yes" : "no", c & CAP_PI ? "yes" : "no", c & CAP_CM ? "on" : "off",
		e & ECAP_C ? "yes" : "no", e & ECAP_SMTS ? "yes" : "no", e & ECAP_PT ? "yes" : "no");
}

/* Do the register offsets the unit reports fit in what the DRHD maps? */
static int vtd_check_layout(const struct vtd_unit *u)
{
	uint64_t fr_end = CAP_FRO(u->cap) + CAP_NFR(u->cap) * 16;
	uint64_t iotlb_end = ECAP_IRO(u->ecap) + 16;

	if (fr_end > u->drhd->reg_size || iotlb_end > u->drhd->reg_size) {
		pr_err("iommu: dmar%u: fault records end at %#llx and IOTLB registers at %#llx, beyond the %#llx bytes the DMAR gives the unit\n",
		       u->idx, (unsigned long long)fr_end, (unsigned long long)iotlb_end,
		       (unsigned long long)u->drhd->reg_size);
		return -EINVAL;
	}
	if (!(CAP_SAGAW(u->cap) & (SAGAW_39 | SAGAW_48))) {
		pr_err("iommu: dmar%u: supports neither 3- nor 4-level tables (SAGAW %#llx)\n",
		       u->idx, (unsigned long long)CAP_SAGAW(u->cap));
		return -ENOTSUP;
	}
	return 0;
}

int vtd_unit_probe(struct vtd_unit *u, const struct dmar_unit *drhd, unsigned idx)
{
	u->idx = idx;
	u->drhd = drhd;
	u->regs = (uintptr_t)hvmap_mmio(drhd->base, drhd->reg_size);
	if (!u->regs) {
		pr_err("iommu: dmar%u: cannot map registers at %#llx\n", idx,
		       (unsigned long long)drhd->base);
		return -ENOMEM;
	}
	u->ver = vtd_read32(u, VTD_VER);
	u->cap = vtd_read64(u, VTD_CAP);
	u->ecap = vtd_read64(u, VTD_ECAP);
	if (u->ver == 0xffffffffu || !u->ver) {
		pr_err("iommu: dmar%u: no remapping unit answers at %#llx (version %#x)\n", idx,
		       (unsigned long long)drhd->base, u->ver);
		return -ENODEV;
	}
	vtd_report(u);
	return vtd_check_layout(u);
}

static int vtd_set_root(struct vtd_unit *u)
{
	paddr_t root = pmm_alloc_page();

	if (!root)
		return -ENOMEM;
	u->root = phys_to_virt(root);
	vtd_flush_cache(u, u->root, PAGE_SIZE);
	vtd_write64(u, VTD_RTADDR, root);
	return vtd_gcmd(u, GCMD_SRTP, true, "setting the root table pointer");
}

/* 10.4.16: with translation on, the firmware's PMRs are no longer needed. */
static int vtd_pmr_off(struct vtd_unit *u)
{
	if (!(u->cap & (CAP_PLMR | CAP_PHMR)) || !(vtd_read32(u, VTD_PMEN) & PMEN_EPM))
		return 0;
	vtd_write32(u, VTD_PMEN, 0);
	pr_info("iommu: dmar%u: firmware's protected memory regions turned off\n", u->idx);
	return vtd_wait32(u, VTD_PMEN, PMEN_PRS, 0, "turning protected memory off");
}

static int vtd_flush_write_buffer(struct vtd_unit *u)
{
	uint32_t sts;

	if (!(u->cap & CAP_RWBF))
		return 0;
	sts = vtd_read32(u, VTD_GSTS) & ~GCMD_ONE_SHOT;
	vtd_write32(u, VTD_GCMD, sts | GCMD_WBF);
	return vtd_wait32(u, VTD_GSTS, GCMD_WBF, 0, "flushing the write buffer");
}

int vtd_unit_enable(struct vtd_unit *u)
{
	int err;

	if (vtd_read32(u, VTD_GSTS) & GCMD_TE)
		pr_warn("iommu: dmar%u: firmware left translation on; taking the unit over\n", u->idx);
	err = vtd_set_root(u);
	if (!err)
		err = vtd_inv_init(u);
	if (!err)
		err = vtd_flush_write_buffer(u);
	if (!err)
		err = vtd_inv_context_global(u);
	if (!err)
		err = vtd_inv_iotlb_global(u);
	if (!err)
		err = vtd_fault_init(u);
	if (!err)
		err = vtd_ir_enable(u);
	u->enabled = !err;
	return err;
}

/* Context entries for devices that must keep working are in place now. */
int vtd_unit_start(struct vtd_unit *u)
{
	int err = vtd_gcmd(u, GCMD_TE, true, "enabling translation");

	return err ? err : vtd_pmr_off(u);
}

/* Back to pass-through hardware, for when not every unit can be enabled. */
void vtd_unit_disable(struct vtd_unit *u)
{
	uint32_t sts = vtd_read32(u, VTD_GSTS);

	if (sts & GCMD_TE)
		vtd_gcmd(u, GCMD_TE, false, "disabling translation");
	if (sts & GCMD_IRE)
		vtd_gcmd(u, GCMD_IRE, false, "disabling interrupt remapping");
	vtd_inv_disable(u);
	vtd_fault_mask(u);
	u->enabled = false;
}
