/*
 * Fault reporting (VT-d 7.3, primary fault logging). The unit records
 * each fault in one of CAP.NFR fault recording registers and raises the
 * fault event interrupt; this file reads every record, decodes it
 * (requester, address or interrupt index, read or write, reason in
 * words, Appendix A), logs it, counts it per device and clears it. When
 * the records are full the unit sets FSTS.PFO and drops faults: that is
 * reported too, so nothing is lost silently.
 *
 * Runs in the fault interrupt, with interrupts off (arch/x86/irq.h),
 * or from iommu_fault_poll().
 */
#include "arch/x86/irq.h"
#include "arch/x86/lapic.h"
#include "core/errno.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "iommu/vtd.h"

static int fault_vector = -1;
static uint64_t fault_total;
static struct iommu_fault fault_last;
static bool fault_have_last;
static spinlock_t fault_global_lock = SPINLOCK_INIT;

static const char *const dma_reasons[] = {
	[0x1] = "root entry not present",
	[0x2] = "context entry not present (device assigned to no domain)",
	[0x3] = "context entry invalid",
	[0x4] = "address beyond the domain's address width",
	[0x5] = "write to a page not mapped writable",
	[0x6] = "read from a page not mapped readable",
	[0x7] = "error reading a second-level table entry",
	[0x8] = "error reading the root table",
	[0x9] = "error reading the context table",
	[0xa] = "reserved bit set in a root entry",
	[0xb] = "reserved bit set in a context entry",
	[0xc] = "reserved bit set in a second-level table entry",
	[0xd] = "request type blocked by the context entry (translated/ATS request)",
};

static const char *const intr_reasons[] = {
	[0x0] = "reserved field set in a remappable interrupt request",
	[0x1] = "interrupt index beyond the remapping table",
	[0x2] = "interrupt remapping entry not present",
	[0x3] = "error reading the interrupt remapping table",
	[0x4] = "reserved field set in an interrupt remapping entry",
	[0x5] = "compatibility-format interrupt blocked",
	[0x6] = "interrupt from a requester the remapping entry does not accept",
	[0x7] = "error reading a posted-interrupt descriptor",
};

const char *iommu_fault_reason_str(unsigned reason)
{
	const char *s = NULL;

	if (reason < ARRAY_SIZE(dma_reasons))
		s = dma_reasons[reason];
	else if (reason >= 0x20 && reason - 0x20 < ARRAY_SIZE(intr_reasons))
		s = intr_reasons[reason - 0x20];
	return s ? s : "reason not known to this hypervisor";
}

/* Count a fault for its device; returns the device's count (0: no slot). */
static uint32_t fault_count_dev(struct vtd_unit *u, uint16_t sid)
{
	for (unsigned i = 0; i < VTD_FAULT_DEVS; i++) {
		struct vtd_fault_dev *d = &u->fault_devs[i];

		if (d->count && d->sid == sid)
			return ++d->count;
		if (!d->count) {
			*d = (struct vtd_fault_dev){ sid, 1 };
			return 1;
		}
	}
	u->other_dev_faults++;
	return 0;
}

static void fault_log(struct vtd_unit *u, const struct iommu_fault *f, uint32_t n)
{
	const char *what = f->is_intr ? "interrupt" : f->is_read ? "DMA read" : "DMA write";

	if (n > VTD_FAULT_PRINT_MAX)
		return;
	pr_warn("iommu: dmar%u: %s fault from %04x:%02x:%02x.%u %s %#llx: reason %#04x (%s); fault %u from this device\n",
		u->idx, what, u->drhd->segment, PCI_BUS(f->sid), PCI_DEV(f->sid), PCI_FN(f->sid),
		f->is_intr ? "index" : "at", (unsigned long long)f->addr, f->reason,
		iommu_fault_reason_str(f->reason), n);
	if (n == VTD_FAULT_PRINT_MAX)
		pr_warn("iommu: dmar%u: %02x:%02x.%u: further faults are counted, not printed\n",
			u->idx, PCI_BUS(f->sid), PCI_DEV(f->sid), PCI_FN(f->sid));
}

static struct iommu_fault fault_decode(const struct vtd_unit *u, uint64_t lo, uint64_t hi)
{
	struct iommu_fault f = {
		.unit = (uint8_t)u->idx,
		.sid = (uint16_t)FRCD_HI_SID(hi),
		.reason = (uint8_t)FRCD_HI_FR(hi),
		.is_read = hi & FRCD_HI_T,
	};

	/* 10.4.14: for interrupt faults FI[63:48] holds the interrupt index. */
	f.is_intr = f.reason >= 0x20;
	f.addr = f.is_intr ? lo >> 48 : lo & ~0xfffULL;
	return f;
}

static void fault_record(struct vtd_unit *u, uint64_t lo, uint64_t hi)
{
	struct iommu_fault f = fault_decode(u, lo, hi);
	uint32_t n = fault_count_dev(u, f.sid);

	u->nfaults++;
	u->last_fault = f;
	spin_lock(&fault_global_lock);
	fault_total++;
	fault_last = f;
	fault_have_last = true;
	spin_unlock(&fault_global_lock);
	fault_log(u, &f, n);
}

/* Read and clear the records, starting where FSTS.FRI points. */
static void fault_drain_records(struct vtd_unit *u, unsigned first)
{
	unsigned nfr = (unsigned)CAP_NFR(u->cap), fro = (unsigned)CAP_FRO(u->cap);

	for (unsigned i = 0; i < nfr; i++) {
		unsigned idx = (first + i) % nfr, off = fro + idx * 16;
		uint64_t hi = vtd_read64(u, off + 8), lo;

		if (!(hi & FRCD_HI_F))
			break;
		lo = vtd_read64(u, off);
		/* F is write-1-to-clear, in the record's top dword. */
		vtd_write32(u, off + 12, 1u << 31);
		fault_record(u, lo, hi);
	}
}

void vtd_fault_handle(struct vtd_unit *u)
{
	uint32_t fsts;

	spin_lock(&u->fault_lock);
	fsts = vtd_read32(u, VTD_FSTS);
	if (fsts & FSTS_PPF)
		fault_drain_records(u, FSTS_FRI(fsts));
	if (fsts & FSTS_PFO) {
		u->noverflows++;
		pr_warn("iommu: dmar%u: fault records overflowed: later faults were dropped by the hardware (overflow %llu)\n",
			u->idx, (unsigned long long)u->noverflows);
	}
	if (fsts & (FSTS_IQE | FSTS_ICE | FSTS_ITE))
		pr_err("iommu: dmar%u: invalidation error, FSTS %#x\n", u->idx, fsts);
	/* Clear the write-1-to-clear summary bits we have dealt with. */
	vtd_write32(u, VTD_FSTS, fsts & (FSTS_PFO | FSTS_ICE | FSTS_ITE));
	spin_unlock(&u->fault_lock);
}

static void fault_irq(unsigned vector, void *ctx)
{
	(void)vector;
	(void)ctx;
	iommu_fault_poll();
}

void iommu_fault_poll(void)
{
	for (unsigned i = 0; i < vtd_nunits; i++)
		if (vtd_units[i].enabled || vtd_units[i].root)
			vtd_fault_handle(&vtd_units[i]);
}

/*
 * The fault event is an MSI the unit sends itself, never remapped (5.1.6):
 * address and data in the compatibility format, to the boot CPU.
 */
int vtd_fault_init(struct vtd_unit *u)
{
	uint32_t apic = pcpus[0].apic_id;

	if (fault_vector < 0)
		fault_vector = irq_alloc_vector(fault_irq, NULL);
	if (fault_vector < 0)
		return fault_vector;
	vtd_write32(u, VTD_FECTL, FECTL_IM);
	vtd_write32(u, VTD_FEDATA, (uint32_t)fault_vector);
	vtd_write32(u, VTD_FEADDR, MSI_ADDR_BASE | (apic & 0xff) << 12);
	/* 10.4.12: the upper address holds x2APIC destination bits 31:8. */
	vtd_write32(u, VTD_FEUADDR, lapic_is_x2apic() ? apic & 0xffffff00u : 0);
	vtd_fault_handle(u);     /* whatever the firmware left behind */
	vtd_write32(u, VTD_FECTL, 0);
	return 0;
}

void vtd_fault_mask(struct vtd_unit *u)
{
	vtd_write32(u, VTD_FECTL, FECTL_IM);
}

uint64_t iommu_fault_count(void)
{
	return __atomic_load_n(&fault_total, __ATOMIC_ACQUIRE);
}

bool iommu_last_fault(struct iommu_fault *f)
{
	bool have;

	spin_lock(&fault_global_lock);
	have = fault_have_last;
	if (have)
		*f = fault_last;
	spin_unlock(&fault_global_lock);
	return have;
}
