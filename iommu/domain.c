/*
 * DMA domains: one second-level address space each (one per VM), built
 * with the shared walker in the VT-d format (iommu/vtd_pt.c), and tagged
 * with a domain id that is the same on every unit. Every change to a
 * domain's tables is followed by a domain-selective IOTLB invalidation on
 * every unit, also when an entry only became present: with caching mode
 * the unit may have cached its absence (VT-d 6.1).
 *
 * Devices named by an RMRR keep those ranges mapped 1:1 in whatever
 * domain they are in (VT-d 8.4): the firmware may go on using them (USB
 * keyboard emulation, graphics). Until such a device is assigned, it
 * lives in a shared firmware domain holding just those ranges.
 */
#include "core/assert.h"
#include "core/errno.h"
#include "core/printk.h"
#include "mm/kmem.h"
#include "mm/paging.h"
#include "iommu/vtd.h"
#include "iommu/vtd_pt.h"

#define MAX_DOMAIN_IDS 1024

struct iommu_domain {
	uint16_t did;
	unsigned ndevices;
	struct pt_format fmt;
	struct pt pt;
	spinlock_t lock;
};

static unsigned dom_levels, dom_sllps, dom_ids;
static uint64_t dom_limit;     /* first IOVA past what every unit translates */
static struct iommu_domain *domains[MAX_DOMAIN_IDS];
static spinlock_t domains_lock = SPINLOCK_INIT;
static struct iommu_domain *firmware_domain;

/* The geometry every unit can walk: the widest table all SAGAWs share. */
int vtd_domain_setup(void)
{
	unsigned sagaw = ~0u, sllps = ~0u, mgaw = 64, ids = MAX_DOMAIN_IDS;

	for (unsigned i = 0; i < vtd_nunits; i++) {
		const struct vtd_unit *u = &vtd_units[i];

		sagaw &= (unsigned)CAP_SAGAW(u->cap);
		sllps &= (unsigned)CAP_SLLPS(u->cap);
		mgaw = MIN(mgaw, (unsigned)CAP_MGAW(u->cap));
		ids = MIN(ids, 1u << (4 + 2 * CAP_ND(u->cap)));
	}
	if (!(sagaw & (SAGAW_39 | SAGAW_48))) {
		pr_err("iommu: the units share no table depth (common SAGAW %#x)\n", sagaw);
		return -ENOTSUP;
	}
	dom_levels = sagaw & SAGAW_48 ? 4 : 3;
	dom_sllps = sllps & 3;
	dom_ids = ids;
	dom_limit = 1ULL << MIN(mgaw, dom_levels == 4 ? 48u : 39u);
	pr_info("iommu: domains: %u-level tables, IOVAs below %#llx, large pages:%s%s%s, %u domain ids\n",
		dom_levels, (unsigned long long)dom_limit, dom_sllps & 1 ? " 2M" : "",
		dom_sllps & 2 ? " 1G" : "", dom_sllps ? "" : " none", dom_ids);
	return 0;
}

static int domain_alloc_id(struct iommu_domain *d)
{
	int err = -ENOSPC;

	spin_lock(&domains_lock);
	/* Id 0 stays unused: caching mode tags not-present entries with it. */
	for (unsigned id = 1; id < dom_ids; id++) {
		if (!domains[id]) {
			domains[id] = d;
			d->did = (uint16_t)id;
			err = 0;
			break;
		}
	}
	spin_unlock(&domains_lock);
	return err;
}

struct iommu_domain *iommu_domain_create(void)
{
	struct iommu_domain *d;

	if (!dom_levels)
		return NULL;
	d = kzalloc(sizeof(*d));
	if (!d)
		return NULL;
	vtd_pt_format_init(&d->fmt, dom_levels, dom_sllps);
	if (domain_alloc_id(d)) {
		kfree(d);
		return NULL;
	}
	if (pt_init(&d->pt, &d->fmt)) {
		iommu_domain_destroy(d);
		return NULL;
	}
	return d;
}

void iommu_domain_destroy(struct iommu_domain *d)
{
	if (!d)
		return;
	ASSERT(d->ndevices == 0);
	pt_destroy(&d->pt);
	spin_lock(&domains_lock);
	domains[d->did] = NULL;
	spin_unlock(&domains_lock);
	kfree(d);
}

static int domain_flush(struct iommu_domain *d)
{
	int err = 0;

	vtd_flush_all_caches();
	for (unsigned i = 0; i < vtd_nunits && !err; i++) {
		struct vtd_unit *u = &vtd_units[i];

		if (!u->enabled)
			continue;
		spin_lock(&u->lock);
		err = vtd_inv_iotlb_domain(u, d->did);
		spin_unlock(&u->lock);
	}
	return err;
}

int iommu_domain_map(struct iommu_domain *d, uint64_t iova, paddr_t pa, uint64_t size,
		     uint32_t attr)
{
	int err;

	attr &= PT_R | PT_W;
	if (!attr || !size || iova >= dom_limit || size > dom_limit - iova)
		return -EINVAL;
	spin_lock(&d->lock);
	err = pt_map(&d->pt, iova, pa, size, attr);
	if (!err)
		err = domain_flush(d);
	spin_unlock(&d->lock);
	return err;
}

int iommu_domain_unmap(struct iommu_domain *d, uint64_t iova, uint64_t size)
{
	int err;

	if (!size || iova >= dom_limit || size > dom_limit - iova)
		return -EINVAL;
	spin_lock(&d->lock);
	err = pt_unmap(&d->pt, iova, size);
	/* Flush even after a partial unmap: part of it may be gone. */
	if (domain_flush(d) && !err)
		err = -EIO;
	spin_unlock(&d->lock);
	return err;
}

static int domain_map_rmrrs(struct iommu_domain *d, uint16_t seg, uint16_t bdf)
{
	for (unsigned i = 0; i < vtd_dmar.nrmrrs; i++) {
		const struct dmar_rmrr *r = &vtd_dmar.rmrrs[i];
		int err;

		if (!vtd_rmrr_names(r, seg, bdf))
			continue;
		err = iommu_domain_map(d, r->base, r->base, r->limit + 1 - r->base, PT_R | PT_W);
		if (err) {
			pr_err("iommu: cannot map RMRR %#llx-%#llx for %02x:%02x.%u (%d)\n",
			       (unsigned long long)r->base, (unsigned long long)r->limit,
			       PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf), err);
			return err;
		}
	}
	return 0;
}

/* Forget @bdf in the domain it was in, if any. */
static void domain_drop_device(struct vtd_unit *u, uint16_t bdf)
{
	uint16_t did;

	if (!vtd_ctx_get_did(u, bdf, &did))
		return;
	spin_lock(&domains_lock);
	if (did < MAX_DOMAIN_IDS && domains[did] && domains[did]->ndevices)
		domains[did]->ndevices--;
	spin_unlock(&domains_lock);
}

int iommu_assign_device(struct iommu_domain *d, uint16_t seg, uint16_t bdf)
{
	struct vtd_unit *u = vtd_unit_for(seg, bdf);
	int err;

	if (!u)
		return -ENODEV;
	err = domain_map_rmrrs(d, seg, bdf);
	if (err)
		return err;
	domain_drop_device(u, bdf);
	err = vtd_ctx_set(u, bdf, d->did, d->pt.root, dom_levels == 4 ? 2 : 1);
	if (!err)
		d->ndevices++;
	return err;
}

int iommu_deassign_device(uint16_t seg, uint16_t bdf)
{
	struct vtd_unit *u = vtd_unit_for(seg, bdf);

	if (!u)
		return -ENODEV;
	domain_drop_device(u, bdf);
	return vtd_ctx_clear(u, bdf);
}

static int rmrr_keep_device(const struct dmar_rmrr *r, uint16_t bdf)
{
	int err;

	if (!firmware_domain)
		firmware_domain = iommu_domain_create();
	if (!firmware_domain)
		return -ENOMEM;
	err = iommu_assign_device(firmware_domain, r->segment, bdf);
	if (!err)
		pr_info("iommu: RMRR %#llx-%#llx stays mapped for %04x:%02x:%02x.%u\n",
			(unsigned long long)r->base, (unsigned long long)r->limit, r->segment,
			PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf));
	return err;
}

/* Put every device an RMRR names into the firmware domain. */
int vtd_rmrr_setup(void)
{
	for (unsigned i = 0; i < vtd_dmar.nrmrrs; i++) {
		const struct dmar_rmrr *r = &vtd_dmar.rmrrs[i];

		for (unsigned j = 0; j < r->scopes.count; j++) {
			const struct dmar_scope *sc = dmar_scope_at(&vtd_dmar, r->scopes, j);
			uint16_t bdf;
			int err;

			if (vtd_scope_resolve(r->segment, sc, &bdf)) {
				pr_warn("iommu: RMRR %#llx-%#llx: a %s scope cannot be resolved; skipped\n",
					(unsigned long long)r->base, (unsigned long long)r->limit,
					dmar_scope_type_name(sc->type));
				continue;
			}
			err = rmrr_keep_device(r, bdf);
			if (err)
				return err;
		}
	}
	return 0;
}
