/*
 * Taking the DMA remapping units for the hypervisor (iommu.h).
 *
 * All or nothing: the DMAR is parsed and checked whole first; then every
 * unit is probed and prepared; then devices with RMRRs get their ranges;
 * then translation goes on, unit by unit. If any step fails on any unit,
 * every unit is turned back off and the console says why: a machine
 * where some devices are confined and others are not would look safe
 * without being so.
 */
#include "arch/x86/acpi.h"
#include "arch/x86/irq.h"
#include "core/cmdline.h"
#include "core/errno.h"
#include "core/printk.h"
#include "iommu/pci_cfg.h"
#include "iommu/vtd.h"

struct vtd_unit vtd_units[DMAR_MAX_UNITS];
unsigned vtd_nunits;
struct dmar_info vtd_dmar;

static unsigned units_enabled;
static bool opt_off;

unsigned iommu_units(void)
{
	return units_enabled;
}

int iommu_opt_iommu(const char *val, size_t len, void *ctx)
{
	(void)ctx;
	if (val && cmdline_val_is(val, len, "off"))
		opt_off = true;
	else if (val && cmdline_val_is(val, len, "on"))
		opt_off = false;
	else
		return -EINVAL;
	return 0;
}

/* Follow the scope's path through the bridges it names (VT-d 8.3.1). */
int vtd_scope_resolve(uint16_t seg, const struct dmar_scope *s, uint16_t *bdf)
{
	uint8_t bus = s->bus;

	if (s->type != DMAR_SCOPE_ENDPOINT && s->type != DMAR_SCOPE_BRIDGE)
		return -EINVAL;
	for (unsigned i = 0; i + 1 < s->npath; i++) {
		uint16_t bridge = PCI_BDF(bus, s->path[i].dev, s->path[i].fn);

		bus = pci_cfg_read8(seg, bridge, PCI_SECONDARY_BUS);
		if (bus == 0xff || bus == 0)
			return -ENOENT;
	}
	*bdf = PCI_BDF(bus, s->path[s->npath - 1].dev, s->path[s->npath - 1].fn);
	return 0;
}

static bool scope_covers(uint16_t seg, const struct dmar_scope *s, uint16_t bdf)
{
	uint16_t at;
	uint8_t sec, sub;

	if (vtd_scope_resolve(seg, s, &at))
		return false;
	if (at == bdf)
		return true;
	if (s->type != DMAR_SCOPE_BRIDGE)
		return false;
	sec = pci_cfg_read8(seg, at, PCI_SECONDARY_BUS);
	sub = pci_cfg_read8(seg, at, PCI_SUBORDINATE_BUS);
	return sec && sec <= PCI_BUS(bdf) && PCI_BUS(bdf) <= sub;
}

static bool unit_names(const struct vtd_unit *u, uint16_t seg, uint16_t bdf)
{
	const struct dmar_unit *d = u->drhd;

	for (unsigned i = 0; d->segment == seg && i < d->scopes.count; i++)
		if (scope_covers(seg, dmar_scope_at(&vtd_dmar, d->scopes, i), bdf))
			return true;
	return false;
}

/* A unit that names the device, else the segment's INCLUDE_PCI_ALL unit. */
struct vtd_unit *vtd_unit_for(uint16_t seg, uint16_t bdf)
{
	struct vtd_unit *all = NULL;

	for (unsigned i = 0; i < vtd_nunits; i++) {
		struct vtd_unit *u = &vtd_units[i];

		if (!u->enabled)
			continue;
		if (unit_names(u, seg, bdf))
			return u;
		if (u->drhd->include_all && u->drhd->segment == seg)
			all = u;
	}
	return all;
}

bool vtd_rmrr_names(const struct dmar_rmrr *r, uint16_t seg, uint16_t bdf)
{
	for (unsigned i = 0; r->segment == seg && i < r->scopes.count; i++)
		if (scope_covers(seg, dmar_scope_at(&vtd_dmar, r->scopes, i), bdf))
			return true;
	return false;
}

static void iommu_print_scopes(const char *what, unsigned idx, struct dmar_scope_list l)
{
	for (unsigned i = 0; i < l.count; i++) {
		const struct dmar_scope *sc = dmar_scope_at(&vtd_dmar, l, i);
		const struct dmar_path *last = &sc->path[sc->npath - 1];

		pr_debug("iommu: DMAR %s %u scope: %s %u, bus %#x, path %u hop%s, last %02x.%u\n", what,
			idx, dmar_scope_type_name(sc->type), sc->enum_id, sc->bus, sc->npath,
			sc->npath == 1 ? "" : "s", last->dev, last->fn);
	}
}

static int iommu_read_dmar(void)
{
	const void *t;

	if (!acpi.dmar_phys) {
		pr_warn("iommu: no DMAR table: this machine has no VT-d unit the firmware reports; devices can DMA anywhere and their interrupts are not remapped\n");
		return -ENODEV;
	}
	t = acpi_map(acpi.dmar_phys, acpi.dmar_len);
	if (!t) {
		pr_err("iommu: cannot map the DMAR at %#llx\n", (unsigned long long)acpi.dmar_phys);
		return -ENOMEM;
	}
	if (dmar_parse(t, acpi.dmar_len, &vtd_dmar))
		return -EINVAL;
	pr_info("iommu: DMAR: %u unit%s, %u RMRR%s, %u ATSR%s, host address width %u, interrupt remapping %s%s\n",
		vtd_dmar.nunits, vtd_dmar.nunits == 1 ? "" : "s", vtd_dmar.nrmrrs,
		vtd_dmar.nrmrrs == 1 ? "" : "s", vtd_dmar.natsrs, vtd_dmar.natsrs == 1 ? "" : "s",
		vtd_dmar.haw, vtd_dmar.flags & DMAR_FLAG_INTR_REMAP ? "offered" : "not offered",
		vtd_dmar.flags & DMAR_FLAG_X2APIC_OPT_OUT ? ", x2APIC opt-out" : "");
	for (unsigned i = 0; i < vtd_dmar.nunits; i++)
		iommu_print_scopes("unit", i, vtd_dmar.units[i].scopes);
	for (unsigned i = 0; i < vtd_dmar.nrmrrs; i++)
		iommu_print_scopes("RMRR", i, vtd_dmar.rmrrs[i].scopes);
	return 0;
}

static int iommu_bring_up(void)
{
	int err = 0;

	for (unsigned i = 0; i < vtd_dmar.nunits && !err; i++) {
		err = vtd_unit_probe(&vtd_units[i], &vtd_dmar.units[i], i);
		vtd_nunits = i + 1;
	}
	if (!err)
		err = vtd_domain_setup();
	for (unsigned i = 0; i < vtd_nunits && !err; i++)
		err = vtd_unit_enable(&vtd_units[i]);
	if (!err)
		err = vtd_rmrr_setup();
	for (unsigned i = 0; i < vtd_nunits && !err; i++)
		err = vtd_unit_start(&vtd_units[i]);
	return err;
}

static void iommu_all_off(int err)
{
	for (unsigned i = 0; i < vtd_nunits; i++)
		if (vtd_units[i].regs && vtd_units[i].ver != 0xffffffffu)
			vtd_unit_disable(&vtd_units[i]);
	pr_err("iommu: bring-up failed (%d): remapping is OFF on every unit; devices can DMA anywhere\n",
	       err);
}

unsigned iommu_init(void)
{
	int err;

	if (opt_off) {
		pr_warn("iommu: off (iommu=off on the command line): devices can DMA anywhere\n");
		return 0;
	}
	if (iommu_read_dmar())
		return 0;
	err = iommu_bring_up();
	if (err) {
		iommu_all_off(err);
		return 0;
	}
	units_enabled = vtd_nunits;
	irq_enable_idle();
	pr_info("iommu: %u unit%s enabled: DMA remapping on, unassigned devices blocked, faults reported\n",
		units_enabled, units_enabled == 1 ? "" : "s");
	return units_enabled;
}
