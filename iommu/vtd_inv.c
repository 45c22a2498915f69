/*
 * Invalidating the unit's caches (VT-d 6.5). With queued invalidation
 * (ECAP.QI) each request is a descriptor in a ring, followed by an
 * invalidation wait descriptor that writes a token to memory once
 * everything before it is done (6.5.2.8); otherwise the CCMD and IOTLB
 * registers are used (6.5.1). Both need the unit's lock.
 *
 * The interrupt entry cache has no register interface: interrupt
 * remapping needs queued invalidation (vtd_ir.c checks).
 */
#include "arch/x86/cpu.h"
#include "core/errno.h"
#include "core/printk.h"
#include "mm/mm.h"
#include "mm/pmm.h"
#include "iommu/vtd.h"

#define QI_TIMEOUT_US 1000000

int vtd_inv_init(struct vtd_unit *u)
{
	paddr_t q;

	u->qi = u->ecap & ECAP_QI;
	if (!u->qi) {
		pr_info("iommu: dmar%u: no queued invalidation; using the registers\n", u->idx);
		return 0;
	}
	q = pmm_alloc_page();
	if (!q)
		return -ENOMEM;
	u->iq = phys_to_virt(q);
	u->iq_tail = 0;
	/* 10.4.23: the tail must be 0 when the queue is enabled. */
	vtd_write64(u, VTD_IQT, 0);
	vtd_write64(u, VTD_IQA, q | IQA_QS_4K);
	return vtd_gcmd(u, GCMD_QIE, true, "enabling queued invalidation");
}

void vtd_inv_disable(struct vtd_unit *u)
{
	if (vtd_read32(u, VTD_GSTS) & GCMD_QIE)
		vtd_gcmd(u, GCMD_QIE, false, "disabling queued invalidation");
}

static void qi_push(struct vtd_unit *u, uint64_t lo, uint64_t hi)
{
	struct vtd_entry128 *d = &u->iq[u->iq_tail];

	d->lo = lo;
	d->hi = hi;
	vtd_flush_cache(u, d, sizeof(*d));
	u->iq_tail = (u->iq_tail + 1) % VTD_IQ_ENTRIES;
}

static int qi_report_error(struct vtd_unit *u)
{
	uint32_t fsts = vtd_read32(u, VTD_FSTS);

	pr_err("iommu: dmar%u: invalidation queue stuck: FSTS %#x (IQE %u ICE %u ITE %u), head %#llx, tail %#x, error %#llx\n",
	       u->idx, fsts, !!(fsts & FSTS_IQE), !!(fsts & FSTS_ICE), !!(fsts & FSTS_ITE),
	       (unsigned long long)vtd_read64(u, VTD_IQH), u->iq_tail * 16,
	       (unsigned long long)vtd_read64(u, VTD_IQERCD));
	return -EIO;
}

/* Queue @lo/@hi and a wait descriptor, then wait for the token. */
static int qi_submit(struct vtd_unit *u, uint64_t lo, uint64_t hi)
{
	uint32_t token = ++u->wait_token;

	__atomic_store_n(&u->wait_status, 0, __ATOMIC_RELAXED);
	qi_push(u, lo, hi);
	qi_push(u, QI_WAIT | QI_WAIT_SW | QI_WAIT_FN | QI_WAIT_DATA(token),
		virt_to_phys((const void *)&u->wait_status));
	vtd_write64(u, VTD_IQT, (uint64_t)u->iq_tail * 16);
	for (unsigned us = 0; us < QI_TIMEOUT_US; us++) {
		if (__atomic_load_n(&u->wait_status, __ATOMIC_ACQUIRE) == token)
			return 0;
		if (vtd_read32(u, VTD_FSTS) & (FSTS_IQE | FSTS_ITE))
			break;
		udelay(1);
	}
	return qi_report_error(u);
}

static int reg_ccmd(struct vtd_unit *u, uint64_t cmd)
{
	vtd_write64(u, VTD_CCMD, cmd | CCMD_ICC);
	return vtd_wait64(u, VTD_CCMD, CCMD_ICC, 0, "context-cache invalidation");
}

static int reg_iotlb(struct vtd_unit *u, uint64_t cmd)
{
	uint32_t reg = (uint32_t)ECAP_IRO(u->ecap) + VTD_IOTLB_REG;

	vtd_write64(u, reg, cmd | IOTLB_IVT);
	return vtd_wait64(u, reg, IOTLB_IVT, 0, "IOTLB invalidation");
}

int vtd_inv_context_global(struct vtd_unit *u)
{
	return u->qi ? qi_submit(u, QI_CC | QI_CC_GLOBAL, 0) : reg_ccmd(u, CCMD_GLOBAL);
}

int vtd_inv_context_device(struct vtd_unit *u, uint16_t sid, uint16_t did)
{
	if (u->qi)
		return qi_submit(u, QI_CC | QI_CC_DEVICE | QI_CC_DID(did) | QI_CC_SID(sid), 0);
	return reg_ccmd(u, CCMD_DEVICE | CCMD_SID(sid) | did);
}

/* Drain pending DMA reads and writes with it where the unit can (6.5.5). */
static uint64_t iotlb_drain_bits(const struct vtd_unit *u, bool queued)
{
	uint64_t bits = 0;

	if (u->cap & CAP_DRD)
		bits |= queued ? QI_IOTLB_DR : IOTLB_DR;
	if (u->cap & CAP_DWD)
		bits |= queued ? QI_IOTLB_DW : IOTLB_DW;
	return bits;
}

int vtd_inv_iotlb_global(struct vtd_unit *u)
{
	if (u->qi)
		return qi_submit(u, QI_IOTLB | QI_IOTLB_GLOBAL | iotlb_drain_bits(u, true), 0);
	return reg_iotlb(u, IOTLB_GLOBAL | iotlb_drain_bits(u, false));
}

int vtd_inv_iotlb_domain(struct vtd_unit *u, uint16_t did)
{
	if (u->qi)
		return qi_submit(u, QI_IOTLB | QI_IOTLB_DOMAIN | QI_IOTLB_DID(did) |
				 iotlb_drain_bits(u, true), 0);
	return reg_iotlb(u, IOTLB_DOMAIN | IOTLB_DID(did) | iotlb_drain_bits(u, false));
}

int vtd_inv_iec(struct vtd_unit *u, int index)
{
	if (!u->qi)
		return -ENOTSUP;
	if (index < 0)
		return qi_submit(u, QI_IEC, 0);
	return qi_submit(u, QI_IEC | QI_IEC_INDEX | QI_IEC_IIDX((uint64_t)index), 0);
}
