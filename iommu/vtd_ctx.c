/*
 * Root and context tables (VT-d 3.4.2, 9.1, 9.3), legacy mode: the root
 * table has one entry per bus pointing to a context table, which has one
 * entry per device/function naming its domain and second-level tables.
 * A device whose context entry is not present is blocked: its requests
 * fault with reason 2. Context tables are allocated when a bus first
 * gets a device and kept.
 *
 * Caching mode (CAP.CM, what emulated IOMMUs such as QEMU's report) lets
 * the unit cache not-present entries, tagged with domain id 0: a
 * not-present to present change then needs the same invalidation as any
 * other change, with domain id 0 for the context cache (6.1).
 */
#include "core/errno.h"
#include "mm/mm.h"
#include "mm/pmm.h"
#include "iommu/vtd.h"

static struct vtd_entry128 *ctx_table(struct vtd_unit *u, uint8_t bus, bool alloc)
{
	struct vtd_entry128 *re = &u->root[bus];
	paddr_t t;

	if (re->lo & ROOT_P)
		return phys_to_virt(re->lo & VTD_ADDR_MASK);
	if (!alloc)
		return NULL;
	t = pmm_alloc_page();
	if (!t)
		return NULL;
	vtd_flush_cache(u, phys_to_virt(t), PAGE_SIZE);
	re->hi = 0;
	__atomic_store_n(&re->lo, t | ROOT_P, __ATOMIC_RELEASE);
	vtd_flush_cache(u, re, sizeof(*re));
	return phys_to_virt(t);
}

static uint16_t ctx_did(const struct vtd_entry128 *ce)
{
	return (uint16_t)FIELD64(ce->hi, 8, 16);
}

/* Make @ce not present and flush what the unit may hold of it. */
static int ctx_remove(struct vtd_unit *u, struct vtd_entry128 *ce, uint16_t bdf)
{
	uint16_t did = ctx_did(ce);
	int err;

	__atomic_store_n(&ce->lo, 0, __ATOMIC_RELEASE);
	ce->hi = 0;
	vtd_flush_cache(u, ce, sizeof(*ce));
	err = vtd_inv_context_device(u, bdf, did);
	return err ? err : vtd_inv_iotlb_domain(u, did);
}

int vtd_ctx_set(struct vtd_unit *u, uint16_t bdf, uint16_t did, paddr_t slpt, unsigned aw)
{
	struct vtd_entry128 *ct, *ce;
	int err = 0;

	spin_lock(&u->lock);
	ct = ctx_table(u, PCI_BUS(bdf), true);
	if (!ct) {
		spin_unlock(&u->lock);
		return -ENOMEM;
	}
	ce = &ct[bdf & 0xff];
	if (ce->lo & CTX_LO_P)
		err = ctx_remove(u, ce, bdf);
	if (!err) {
		ce->hi = CTX_HI_AW(aw) | CTX_HI_DID(did);
		__atomic_store_n(&ce->lo, slpt | CTX_LO_TT_UNTRANSLATED | CTX_LO_P, __ATOMIC_RELEASE);
		vtd_flush_cache(u, ce, sizeof(*ce));
		err = vtd_inv_context_device(u, bdf, (u->cap & CAP_CM) ? 0 : did);
	}
	if (!err)
		err = vtd_inv_iotlb_domain(u, did);
	spin_unlock(&u->lock);
	return err;
}

int vtd_ctx_clear(struct vtd_unit *u, uint16_t bdf)
{
	struct vtd_entry128 *ct, *ce;
	int err = -ENOENT;

	spin_lock(&u->lock);
	ct = ctx_table(u, PCI_BUS(bdf), false);
	ce = ct ? &ct[bdf & 0xff] : NULL;
	if (ce && (ce->lo & CTX_LO_P))
		err = ctx_remove(u, ce, bdf);
	spin_unlock(&u->lock);
	return err;
}

bool vtd_ctx_get_did(struct vtd_unit *u, uint16_t bdf, uint16_t *did)
{
	struct vtd_entry128 *ct = ctx_table(u, PCI_BUS(bdf), false);

	if (!ct || !(ct[bdf & 0xff].lo & CTX_LO_P))
		return false;
	*did = ctx_did(&ct[bdf & 0xff]);
	return true;
}
