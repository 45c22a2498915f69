/*
 * The virtual PCI bus (see vdev/vpci.h): configuration space through
 * ports 0xCF8-0xCFF and ECAM, the type 0 header (PCI Local Bus 3.0 6.1,
 * 6.2), BARs (6.2.5.1), the capability list (6.7) and MSI-X (6.8.2).
 *
 * Everything the guest writes is checked: a config access is at most a
 * dword and stays inside it, a BAR keeps its size alignment and type
 * bits, read-only registers stay as they are, and an access no device
 * decodes reads all-ones and drops writes (a master abort), never a
 * crash. Devices are plugged in before the VM runs and never leave, so
 * the exit path looks them up without a lock; each device's lock covers
 * its command register, BARs and MSI-X state.
 *
 * The host bridge is 1b36:0008, the ID Red Hat assigned to a generic
 * PCIe host bridge without chipset registers (QEMU's docs/specs/pci-ids).
 * It is what this bridge is, and it is the one choice Linux has no quirk
 * for: an Intel ID makes Linux treat the bridge as a chipset (memory
 * decode forced on for Intel host bridges, MMCONFIG read from chipset
 * registers for the E7520 and 945 IDs, chipset-specific early quirks),
 * while 1b36:0008 leaves ECAM to the MCFG table alone.
 */
#include "core/assert.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/string.h"
#include "core/unit.h"
#include "core/vm.h"
#include "vdev/acpi_pm.h"
#include "vdev/vioapic.h"
#include "vdev/vlapic.h"
#include "vdev/vpci.h"

/* Configuration mechanism #1, PCI Local Bus 3.0 3.2.2.3.2. */
#define PORT_BASE 0xcf8
#define PORT_SPAN 8                     /* 0xCF8-0xCFF */
#define CA_ENABLE (1u << 31)
#define CA_MASK (CA_ENABLE | 0x00fffffcu)    /* bus, device, function, dword */
#define CA_BUS(ca) (((ca) >> 16) & 0xff)
#define CA_DEVFN(ca) (((ca) >> 8) & 0xff)
#define CA_REG(ca) ((ca) & 0xfc)
#define RST_CNT_OFF 1                   /* port 0xCF9, byte access only */
#define DATA_OFF 4

/* ECAM, PCI Express Base 4.0 7.2.2: bus << 20 | device << 15 | function << 12 | register. */
#define ECAM_BUS(o) ((unsigned)((o) >> 20))
#define ECAM_DEVFN(o) ((unsigned)((o) >> 12) & 0xff)
#define ECAM_REG(o) ((unsigned)(o) & 0xfff)
#define ECAM_REGS 0x1000

/* Type 0 header registers, PCI Local Bus 3.0 Figure 6-1. */
#define REG_ID 0x00
#define REG_COMMAND 0x04                /* command, then status */
#define REG_CLASS 0x08                  /* revision, then class code */
#define REG_MISC 0x0c                   /* cache line, latency, header type, BIST */
#define REG_BAR0 0x10
#define REG_BAR_END 0x28
#define REG_SUBSYS 0x2c
#define REG_CAP_PTR 0x34
#define REG_INT 0x3c                    /* interrupt line, pin, min_gnt, max_lat */

#define CMD_MEMORY (1u << 1)
#define CMD_MASTER (1u << 2)
#define CMD_INTX_DISABLE (1u << 10)
/* No I/O BARs: I/O space enable stays 0; no SERR#, parity or special cycles. */
#define CMD_WRITABLE (CMD_MEMORY | CMD_MASTER | CMD_INTX_DISABLE)
#define STATUS_CAP_LIST (1u << 4)

#define BAR_MEM64 (2u << 1)             /* type bits 2:1 (6.2.5.1) */
#define BAR_PREFETCH (1u << 3)

/* MSI-X, 6.8.2: capability ID 0x11, Message Control at +2. */
#define CAP_ID_MSIX 0x11
#define MSIX_CAP_LEN 12u
#define MSIX_ENABLE (1u << 15)
#define MSIX_FMASK (1u << 14)
#define MSIX_ENTRY_SIZE 16
#define MSIX_CTRL_MASKED 1u

#define HOST_BRIDGE_VENDOR 0x1b36
#define HOST_BRIDGE_DEVICE 0x0008
#define CLASS_HOST_BRIDGE 0x060000

BUILD_ASSERT(VPCI_HOLE_END == VIOAPIC_BASE);
BUILD_ASSERT(VPCI_MMIO_BASE + VPCI_MMIO_SIZE <= VPCI_ECAM_BASE);
BUILD_ASSERT(VPCI_ECAM_BASE + VPCI_ECAM_SIZE <= VPCI_HOLE_END);
BUILD_ASSERT(VPCI_MSIX_MAX % 64 == 0 && VPCI_MSIX_MAX <= 2048);

struct vpci_bus {
	struct vm *vm;
	uint32_t config_address;        /* the CONFIG_ADDRESS latch */
	bool has_hole;
	uint64_t mmio_next;             /* the next free address in the BAR window */
	struct vpci_dev *slot[VPCI_SLOTS];
	struct vpci_dev *devs[VPCI_SLOTS];   /* the same, packed, for BAR look-ups */
	unsigned ndevs;
	struct vpci_dev host_bridge;
};

static struct vpci_bus buses[CONFIG_MAX_VMS];

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* A read no one answers: all-ones, as a master abort (6.2.1 for config). */
static enum io_result io_float(struct io_access *a)
{
	if (!a->write)
		a->value = size_mask(a->size);
	return IO_HANDLED;
}

bool vpci_has_hole(const struct vm *vm)
{
	return vm->ram_size <= VPCI_HOLE_BASE;
}

uint64_t vpci_ecam_base(const struct vm *vm)
{
	return vpci_has_hole(vm) ? VPCI_ECAM_BASE : 0;
}

/* ---- BARs -------------------------------------------------------------- */

/* The BAR index that holds @i's address: @i, or its MEM64 low half. */
static int bar_owner(const struct vpci_dev *d, unsigned i)
{
	if (d->bar[i].type != VPCI_BAR_NONE)
		return (int)i;
	if (i > 0 && d->bar[i - 1].type == VPCI_BAR_MEM64)
		return (int)i - 1;
	return -1;
}

static uint32_t bar_read(const struct vpci_dev *d, unsigned i)
{
	int o = bar_owner(d, i);
	const struct vpci_bar *b;

	if (o < 0)
		return 0;             /* unimplemented BARs are hardwired to zero */
	if ((unsigned)o != i)
		return (uint32_t)(d->bar_addr[o] >> 32);
	b = &d->bar[o];
	return (uint32_t)d->bar_addr[o] | (b->type == VPCI_BAR_MEM64 ? BAR_MEM64 : 0) |
	       (b->prefetchable ? BAR_PREFETCH : 0);
}

/*
 * The address bits below the size read as zero: writing all-ones reads
 * back the size (6.2.5.1). The exit path reads bar_addr without the lock.
 */
static void bar_write(struct vpci_dev *d, unsigned i, uint32_t v)
{
	int o = bar_owner(d, i);
	uint64_t addr;

	if (o < 0)
		return;
	addr = d->bar_addr[o];
	if ((unsigned)o != i)
		addr = (addr & 0xffffffffull) | (uint64_t)v << 32;
	else if (d->bar[o].type == VPCI_BAR_MEM64)
		addr = (addr & ~0xffffffffull) | (v & ~0xfu);
	else
		addr = v & ~0xfu;
	__atomic_store_n(&d->bar_addr[o], addr & ~(d->bar[o].size - 1), __ATOMIC_RELAXED);
}

/* ---- The type 0 header -------------------------------------------------- */

static void msix_flush(struct vpci_dev *d);

/* Bus mastering on lets held MSI-X messages go (6.8.2: they are memory writes). */
static void command_write(struct vpci_dev *d, uint16_t cmd)
{
	__atomic_store_n(&d->command, cmd, __ATOMIC_RELAXED);
	msix_flush(d);
}

static uint32_t hdr_read(const struct vpci_dev *d, unsigned reg)
{
	uint32_t status = d->cap_last ? STATUS_CAP_LIST : 0;

	if (reg >= REG_BAR0 && reg < REG_BAR_END)
		return bar_read(d, (reg - REG_BAR0) / 4);
	switch (reg) {
	case REG_ID: return (uint32_t)d->device_id << 16 | d->vendor_id;
	case REG_COMMAND: return status << 16 | d->command;
	case REG_CLASS: return d->class_code << 8 | d->revision;
	case REG_MISC: return d->cache_line;          /* header type 0, single function */
	case REG_SUBSYS: return (uint32_t)d->subsys_id << 16 | d->subsys_vendor_id;
	case REG_CAP_PTR: return d->cap_last ? VPCI_CAP_START : 0;
	case REG_INT: return d->int_line;             /* interrupt pin 0: no INTx */
	default: return 0;    /* CardBus CIS, expansion ROM (none), reserved */
	}
}

/* @v is the dword with the written bytes (@be) merged in. The status
 * register's bits are read-only or write-one-to-clear bits never set. */
static void hdr_write(struct vpci_dev *d, unsigned reg, uint32_t v, unsigned be)
{
	if (reg >= REG_BAR0 && reg < REG_BAR_END)
		bar_write(d, (reg - REG_BAR0) / 4, v);
	else if (reg == REG_COMMAND && (be & 3))
		command_write(d, (uint16_t)(v & CMD_WRITABLE));
	else if (reg == REG_MISC && (be & 1))
		d->cache_line = (uint8_t)v;
	else if (reg == REG_INT && (be & 1))
		d->int_line = (uint8_t)v;
}

/* ---- MSI-X --------------------------------------------------------------- */

static bool msix_is_masked(const struct vpci_dev *d, unsigned v)
{
	return (d->msix.control & MSIX_FMASK) || (d->msix.table[v].ctrl & MSIX_CTRL_MASKED);
}

/* Send vector @v's message now (the lock held: vLAPIC delivery takes none of ours). */
static enum vpci_msi_result msix_send(struct vpci_dev *d, unsigned v)
{
	const struct vpci_msix_entry *e = &d->msix.table[v];
	uint64_t addr = (uint64_t)e->addr_hi << 32 | e->addr_lo;

	if (!vlapic_deliver_msi(d->vm, addr, e->data))
		return VPCI_MSI_SENT;
	if (!d->msi_warned)
		pr_warn("vm %s: pci %s: MSI-X vector %u: address %#llx data %#x is not an "
			"interrupt the VM can take; dropped (said once per device)\n",
			d->vm->name, d->name, v, (unsigned long long)addr, e->data);
	d->msi_warned = true;
	return VPCI_MSI_INVALID;
}

/* Send what was held while masked and is no longer (6.8.2.9, 6.8.2.10). */
static void msix_flush(struct vpci_dev *d)
{
	struct vpci_msix *m = &d->msix;

	if (!(m->control & MSIX_ENABLE) || (m->control & MSIX_FMASK) ||
	    !(d->command & CMD_MASTER))
		return;
	for (unsigned v = 0; v < m->nvec; v++) {
		uint64_t bit = 1ull << (v % 64);

		if ((m->pba[v / 64] & bit) && !msix_is_masked(d, v)) {
			m->pba[v / 64] &= ~bit;
			msix_send(d, v);
		}
	}
}

enum vpci_msi_result vpci_msix_notify(struct vpci_dev *d, unsigned v)
{
	struct vpci_msix *m = &d->msix;
	enum vpci_msi_result r;

	spin_lock(&d->lock);
	if (v >= m->nvec || !(m->control & MSIX_ENABLE) || !(d->command & CMD_MASTER)) {
		r = VPCI_MSI_OFF;
	} else if (msix_is_masked(d, v)) {
		m->pba[v / 64] |= 1ull << (v % 64);
		r = VPCI_MSI_PENDING;
	} else {
		r = msix_send(d, v);
	}
	spin_unlock(&d->lock);
	return r;
}

bool vpci_msix_is_enabled(struct vpci_dev *d)
{
	return __atomic_load_n(&d->msix.control, __ATOMIC_RELAXED) & MSIX_ENABLE;
}

bool vpci_is_bus_master(const struct vpci_dev *d)
{
	return __atomic_load_n(&d->command, __ATOMIC_RELAXED) & CMD_MASTER;
}

static bool is_msix_cap(const struct vpci_dev *d, unsigned reg)
{
	return d->msix.nvec && reg >= d->msix.cap && reg < d->msix.cap + MSIX_CAP_LEN;
}

/* The capability's dword at @reg: only Message Control differs from the stored bytes. */
static uint32_t msix_cap_read(const struct vpci_dev *d, unsigned reg)
{
	uint32_t v;

	memcpy(&v, &d->cap[reg], 4);
	if (reg == d->msix.cap)
		v |= (uint32_t)d->msix.control << 16;
	return v;
}

/* Message Control: MSI-X Enable and Function Mask are the writable bits (6.8.2.3). */
static void msix_cap_write(struct vpci_dev *d, unsigned reg, uint32_t v, unsigned be)
{
	if (reg != d->msix.cap || !(be & 8))
		return;
	__atomic_store_n(&d->msix.control, (uint16_t)((v >> 16) & (MSIX_ENABLE | MSIX_FMASK)),
			 __ATOMIC_RELAXED);
	msix_flush(d);
}

/* One aligned dword of the table: entry @off / 16, field @off % 16. */
static void msix_table_dword(struct vpci_dev *d, uint64_t off, bool write, uint32_t *v)
{
	struct vpci_msix_entry *e = &d->msix.table[off / MSIX_ENTRY_SIZE];
	uint32_t *f[] = { &e->addr_lo, &e->addr_hi, &e->data, &e->ctrl };
	unsigned i = (unsigned)(off % MSIX_ENTRY_SIZE) / 4;

	if (!write) {
		*v = *f[i];
		return;
	}
	if (i == 0)
		*v &= ~3u;                /* dword-aligned message address (6.8.2.6) */
	if (i == 3)
		*v &= MSIX_CTRL_MASKED;   /* the other bits are reserved (6.8.2.9) */
	*f[i] = *v;
	if (i == 3)
		msix_flush(d);
}

/* One aligned dword of the PBA: read-only (6.8.2.10). */
static void msix_pba_dword(struct vpci_dev *d, uint64_t off, bool write, uint32_t *v)
{
	if (!write)
		*v = (uint32_t)(d->msix.pba[off / 8] >> (off % 8 ? 32 : 0));
}

typedef void (*msix_dword_fn)(struct vpci_dev *d, uint64_t off, bool write, uint32_t *v);

/* Table and PBA take aligned dwords and qwords (6.8.2); other accesses float. */
static void msix_access(struct vpci_dev *d, uint64_t off, struct io_access *a, msix_dword_fn fn)
{
	uint32_t lo = (uint32_t)a->value, hi = (uint32_t)(a->value >> 32);

	if ((a->size != 4 && a->size != 8) || off % a->size) {
		io_float(a);
		return;
	}
	spin_lock(&d->lock);
	fn(d, off, a->write, &lo);
	if (a->size == 8)
		fn(d, off + 4, a->write, &hi);
	spin_unlock(&d->lock);
	if (!a->write)
		a->value = a->size == 8 ? (uint64_t)hi << 32 | lo : lo;
}

static uint64_t msix_pba_size(const struct vpci_msix *m)
{
	return ALIGN_UP((uint64_t)m->nvec, 64) / 8;
}

/* An access to BAR @bar at @off that touches the table or the PBA: vpci's. */
static bool msix_bar_access(struct vpci_dev *d, unsigned bar, uint64_t off, struct io_access *a)
{
	const struct vpci_msix *m = &d->msix;
	uint64_t tsize = (uint64_t)m->nvec * MSIX_ENTRY_SIZE, psize = msix_pba_size(m);

	if (!m->nvec || bar != m->bar)
		return false;
	if (ranges_overlap(off, a->size, m->table_off, tsize)) {
		if (off - m->table_off >= tsize || a->size > tsize - (off - m->table_off))
			io_float(a);      /* straddles the table's edge */
		else
			msix_access(d, off - m->table_off, a, msix_table_dword);
		return true;
	}
	if (ranges_overlap(off, a->size, m->pba_off, psize)) {
		if (off - m->pba_off >= psize || a->size > psize - (off - m->pba_off))
			io_float(a);
		else
			msix_access(d, off - m->pba_off, a, msix_pba_dword);
		return true;
	}
	return false;
}

/* ---- Configuration space --------------------------------------------- */

static struct vpci_dev *bus_dev(const struct vpci_bus *bus, unsigned busno, unsigned devfn)
{
	if (busno != 0 || devfn % 8)
		return NULL;              /* one bus, function 0 only */
	return bus->slot[devfn / 8];
}

static bool cfg_dev_access(struct vpci_dev *d, unsigned reg, struct io_access *a)
{
	struct io_access da = { .addr = reg, .size = a->size, .write = a->write,
				.value = a->value & size_mask(a->size) };

	if (!d->cfg_access || !d->cfg_access(d, reg, &da))
		return false;
	if (!a->write)
		a->value = da.value & size_mask(a->size);
	return true;
}

/* The dword at @reg (aligned): header, MSI-X capability or capability bytes. */
static uint32_t cfg_dword_read(const struct vpci_dev *d, unsigned reg)
{
	uint32_t v = 0;

	if (reg < VPCI_CAP_START)
		return hdr_read(d, reg);
	if (is_msix_cap(d, reg))
		return msix_cap_read(d, reg);
	if (reg < VPCI_CFG_SIZE)
		memcpy(&v, &d->cap[reg], 4);
	return v;
}

/*
 * A config access of a->size bytes at @reg inside one dword: the caller
 * has checked that. Writes merge into the dword with a byte mask, so
 * byte and word writes behave as the byte enables of a bus cycle.
 */
static void cfg_access(struct vpci_dev *d, unsigned reg, struct io_access *a)
{
	unsigned dreg = reg & ~3u, shift = (reg & 3) * 8;
	uint32_t mask = (uint32_t)(size_mask(a->size) << shift);
	unsigned be = ((1u << a->size) - 1) << (reg & 3);
	bool ours = reg < VPCI_CAP_START || is_msix_cap(d, reg);
	uint32_t old, v;

	if (!ours && cfg_dev_access(d, reg, a))
		return;
	if (!ours && a->write)
		return;                   /* capability bytes are read-only */
	spin_lock(&d->lock);
	old = cfg_dword_read(d, dreg);
	v = (old & ~mask) | ((uint32_t)(a->value << shift) & mask);
	if (!a->write)
		a->value = (old & mask) >> shift;
	else if (reg < VPCI_CAP_START)
		hdr_write(d, dreg, v, be);
	else
		msix_cap_write(d, dreg, v, be);
	spin_unlock(&d->lock);
}

/* A config access on the bus: no function there reads all-ones (6.2.1). */
static void bus_cfg_access(struct vpci_bus *bus, unsigned busno, unsigned devfn, unsigned reg,
			   struct io_access *a)
{
	struct vpci_dev *d = bus_dev(bus, busno, devfn);

	if (!d)
		io_float(a);
	else
		cfg_access(d, reg, a);
}

/*
 * Ports 0xCF8-0xCFF. Only a dword access at 0xCF8 is CONFIG_ADDRESS;
 * CONFIG_DATA at 0xCFC-0xCFF takes any access while the enable bit is
 * set (3.2.2.3.2). A byte at 0xCF9 is the chipset's reset control
 * register, which the ACPI FADT names (vdev/acpi_pm.c). Anything else is
 * ordinary I/O that nothing decodes.
 */
static enum io_result vpci_port_io(struct vcpu *vcpu, uint64_t off, struct io_access *a,
				   void *opaque)
{
	struct vpci_bus *bus = opaque;
	uint32_t ca;

	if (off == 0 && a->size == 4) {
		if (a->write)
			__atomic_store_n(&bus->config_address, (uint32_t)a->value & CA_MASK,
					 __ATOMIC_RELAXED);
		else
			a->value = __atomic_load_n(&bus->config_address, __ATOMIC_RELAXED);
		return IO_HANDLED;
	}
	if (off == RST_CNT_OFF && a->size == 1)
		return acpi_pm_reset_io(vcpu, a);
	ca = __atomic_load_n(&bus->config_address, __ATOMIC_RELAXED);
	if (off < DATA_OFF || !(ca & CA_ENABLE))
		return io_float(a);
	bus_cfg_access(bus, CA_BUS(ca), CA_DEVFN(ca), CA_REG(ca) + (unsigned)(off - DATA_OFF), a);
	return IO_HANDLED;
}

/* Inside one dword: vpci's registers below 0x100, the device's (or zero) above. */
static void ecam_dword_access(struct vpci_dev *d, unsigned reg, struct io_access *a)
{
	if (reg < VPCI_CFG_SIZE)
		cfg_access(d, reg, a);
	else if (!cfg_dev_access(d, reg, a) && !a->write)
		a->value = 0;             /* no extended capabilities (PCIe 4.0 7.6.3) */
}

/* ECAM: 1, 2 or 4 bytes inside a dword, or an aligned qword as two dwords. */
static void ecam_access(struct vpci_bus *bus, uint64_t off, struct io_access *a)
{
	unsigned reg = ECAM_REG(off), busno = ECAM_BUS(off), devfn = ECAM_DEVFN(off);
	struct vpci_dev *d = bus_dev(bus, busno, devfn);
	struct io_access lo = *a, hi = *a;

	if (!d || (a->size == 8 ? reg % 8 != 0 : (reg & 3) + a->size > 4)) {
		io_float(a);
		return;
	}
	if (a->size != 8) {
		ecam_dword_access(d, reg, a);
		return;
	}
	lo.size = hi.size = 4;
	hi.value = a->value >> 32;
	ecam_dword_access(d, reg, &lo);
	ecam_dword_access(d, reg + 4, &hi);
	if (!a->write)
		a->value = (hi.value & 0xffffffffull) << 32 | (lo.value & 0xffffffffull);
}

/* ---- The PCI hole: ECAM and BARs ------------------------------------------ */

/* The device and BAR that decode [gpa, gpa + size), memory decoding on. */
static struct vpci_dev *bar_find(const struct vpci_bus *bus, uint64_t gpa, unsigned size,
				 unsigned *bar, uint64_t *off)
{
	for (unsigned n = 0; n < bus->ndevs; n++) {
		struct vpci_dev *d = bus->devs[n];

		if (!(__atomic_load_n(&d->command, __ATOMIC_RELAXED) & CMD_MEMORY))
			continue;
		for (unsigned i = 0; i < VPCI_BARS; i++) {
			uint64_t base = __atomic_load_n(&d->bar_addr[i], __ATOMIC_RELAXED);
			uint64_t bsize = d->bar[i].size;

			if (d->bar[i].type == VPCI_BAR_NONE || gpa - base >= bsize ||
			    size > bsize - (gpa - base))
				continue;
			*bar = i;
			*off = gpa - base;
			return d;
		}
	}
	return NULL;
}

static enum io_result vpci_hole_mmio(struct vcpu *vcpu, uint64_t off, struct io_access *a,
				     void *opaque)
{
	struct vpci_bus *bus = opaque;
	uint64_t gpa = VPCI_HOLE_BASE + off, boff;
	struct vpci_dev *d;
	enum io_result r;
	unsigned bar;

	(void)vcpu;
	if (gpa - VPCI_ECAM_BASE < VPCI_ECAM_SIZE) {
		ecam_access(bus, gpa - VPCI_ECAM_BASE, a);
		return IO_HANDLED;
	}
	d = bar_find(bus, gpa, a->size, &bar, &boff);
	if (!d)
		return io_float(a);
	if (msix_bar_access(d, bar, boff, a))
		return IO_HANDLED;
	r = d->bar_access(d, bar, boff, a);
	return r == IO_UNHANDLED ? io_float(a) : r;
}

/* ---- Building devices ------------------------------------------------------ */

int vpci_cap_add(struct vpci_dev *d, const void *cap, unsigned len)
{
	unsigned at = d->cap_next ? d->cap_next : VPCI_CAP_START;

	if (d->vm || len < 2)
		return -EINVAL;
	if (len > VPCI_CFG_SIZE - at)
		return -ENOSPC;
	memcpy(&d->cap[at], cap, len);
	d->cap[at + 1] = 0;
	if (d->cap_last)
		d->cap[d->cap_last + 1] = (uint8_t)at;
	d->cap_last = (uint8_t)at;
	d->cap_next = (uint16_t)ALIGN_UP(at + len, 4u);
	return (int)at;
}

static bool msix_fits(const struct vpci_bar *b, uint64_t off, uint64_t len)
{
	return off % 8 == 0 && off < b->size && len <= b->size - off;
}

int vpci_msix_init(struct vpci_dev *d, unsigned nvec, unsigned bar, uint32_t table_off,
		   uint32_t pba_off)
{
	struct vpci_msix *m = &d->msix;
	uint64_t tsize = (uint64_t)nvec * MSIX_ENTRY_SIZE;
	uint8_t cap[MSIX_CAP_LEN] = { CAP_ID_MSIX, 0 };
	uint32_t tbl = table_off | bar, pba = pba_off | bar;
	uint16_t ctrl = (uint16_t)(nvec - 1);     /* Table Size is N - 1 */
	int at;

	if (m->nvec || nvec == 0 || nvec > VPCI_MSIX_MAX || bar >= VPCI_BARS ||
	    d->bar[bar].type == VPCI_BAR_NONE)
		return -EINVAL;
	m->nvec = (uint16_t)nvec;       /* for msix_pba_size() */
	if (!msix_fits(&d->bar[bar], table_off, tsize) ||
	    !msix_fits(&d->bar[bar], pba_off, msix_pba_size(m)) ||
	    ranges_overlap(table_off, tsize, pba_off, msix_pba_size(m))) {
		m->nvec = 0;
		return -EINVAL;
	}
	memcpy(&cap[2], &ctrl, 2);
	memcpy(&cap[4], &tbl, 4);
	memcpy(&cap[8], &pba, 4);
	at = vpci_cap_add(d, cap, sizeof(cap));
	if (at < 0) {
		m->nvec = 0;
		return at;
	}
	*m = (struct vpci_msix){ .nvec = (uint16_t)nvec, .cap = (uint8_t)at, .bar = (uint8_t)bar,
				 .table_off = table_off, .pba_off = pba_off };
	return at;
}

/* Power-on state (6.2.2, 6.8.2.9): decoding off, BARs at home, vectors masked. */
static void dev_reset(struct vpci_dev *d)
{
	struct vpci_msix *m = &d->msix;

	spin_lock(&d->lock);
	d->command = 0;
	d->cache_line = 0;
	d->int_line = 0;
	memcpy(d->bar_addr, d->bar_home, sizeof(d->bar_addr));
	m->control = 0;
	memset(m->pba, 0, sizeof(m->pba));
	for (unsigned v = 0; v < VPCI_MSIX_MAX; v++)
		m->table[v] = (struct vpci_msix_entry){ .ctrl = MSIX_CTRL_MASKED };
	spin_unlock(&d->lock);
}

static int dev_check_bars(const struct vm *vm, const struct vpci_dev *d)
{
	bool any = false;

	for (unsigned i = 0; i < VPCI_BARS; i++) {
		const struct vpci_bar *b = &d->bar[i];
		uint64_t max = b->type == VPCI_BAR_MEM32 ? GIB(2) : VPCI_MMIO_SIZE;

		if (b->type == VPCI_BAR_NONE)
			continue;
		any = true;
		if ((b->type != VPCI_BAR_MEM32 && b->type != VPCI_BAR_MEM64) ||
		    b->size < VPCI_BAR_MIN_SIZE || b->size > max || (b->size & (b->size - 1)) ||
		    (b->type == VPCI_BAR_MEM64 &&
		     (i + 1 == VPCI_BARS || d->bar[i + 1].type != VPCI_BAR_NONE))) {
			pr_err("vm %s: pci %s: BAR %u: type %d, size %#llx: not a 32- or 64-bit "
			       "memory BAR of a power of two from 4K (a 64-bit one takes the next index too)\n",
			       vm->name, d->name, i, (int)b->type, (unsigned long long)b->size);
			return -EINVAL;
		}
		if (b->type == VPCI_BAR_MEM64)
			i++;
	}
	if (any && !d->bar_access) {
		pr_err("vm %s: pci %s: BARs but no bar_access\n", vm->name, d->name);
		return -EINVAL;
	}
	return 0;
}

/* Firmware-assigned addresses: each BAR size-aligned in the window, in order. */
static int dev_place_bars(struct vpci_bus *bus, struct vpci_dev *d)
{
	uint64_t next = bus->mmio_next, end = VPCI_MMIO_BASE + VPCI_MMIO_SIZE;

	for (unsigned i = 0; i < VPCI_BARS; i++) {
		uint64_t size = d->bar[i].size;

		if (d->bar[i].type == VPCI_BAR_NONE)
			continue;
		next = ALIGN_UP(next, size);
		if (!bus->has_hole || next > end || size > end - next) {
			pr_err("vm %s: pci %s: no room for BAR %u (%#llx bytes) in the PCI window%s\n",
			       bus->vm->name, d->name, i, (unsigned long long)size,
			       bus->has_hole ? "" : ": the VM's RAM covers the PCI hole");
			return -ENOSPC;
		}
		d->bar_home[i] = next;
		next += size;
	}
	bus->mmio_next = next;
	return 0;
}

static int dev_pick_slot(struct vpci_bus *bus, struct vpci_dev *d)
{
	unsigned s = d->slot;

	if (s == VPCI_SLOT_AUTO && bus->ndevs)
		for (s = 1; s < VPCI_SLOTS && bus->slot[s]; s++)
			;
	if (s >= VPCI_SLOTS && d->slot == VPCI_SLOT_AUTO) {
		pr_err("vm %s: pci %s: no free slot (1-31)\n", bus->vm->name, d->name);
		return -ENOSPC;
	}
	if (s >= VPCI_SLOTS || bus->slot[s]) {
		pr_err("vm %s: pci %s: slot %u is %s\n", bus->vm->name, d->name, s,
		       s >= VPCI_SLOTS ? "out of range (1-31)" : "taken");
		return s >= VPCI_SLOTS ? -EINVAL : -EBUSY;
	}
	return (int)s;
}

static int bus_attach(struct vpci_bus *bus, struct vpci_dev *d)
{
	int slot = dev_pick_slot(bus, d);
	int err;

	if (slot < 0)
		return slot;
	err = dev_place_bars(bus, d);
	if (err)
		return err;
	d->vm = bus->vm;
	d->lock = (spinlock_t)SPINLOCK_INIT;
	d->slot = (uint8_t)slot;
	dev_reset(d);
	bus->slot[slot] = d;
	bus->devs[bus->ndevs++] = d;
	return slot;
}

int vpci_add_device(struct vm *vm, struct vpci_dev *d)
{
	struct vpci_bus *bus = &buses[vm->id];
	int err;

	if (!d->name)
		d->name = "(unnamed)";
	if (bus->vm != vm) {
		pr_err("vm %s: pci %s: the VM has no PCI bus\n", vm->name, d->name);
		return -ENODEV;
	}
	if (vm->state == VM_RUNNING || d->vm) {
		pr_err("vm %s: pci %s: added twice or while the VM runs\n", vm->name, d->name);
		return -EBUSY;
	}
	if (d->vendor_id == 0 || d->vendor_id == 0xffff || d->class_code > 0xffffff) {
		pr_err("vm %s: pci %s: vendor ID %#x, class %#x: not a device\n", vm->name,
		       d->name, d->vendor_id, d->class_code);
		return -EINVAL;
	}
	err = dev_check_bars(vm, d);
	err = err ?: bus_attach(bus, d);
	if (err >= 0)
		pr_debug("vm %s: pci 00:%02x.0 %04x:%04x %s\n", vm->name, (unsigned)err,
			 d->vendor_id, d->device_id, d->name);
	return err;
}

/* ---- The unit ---------------------------------------------------------------- */

static void vpci_reset(struct vm *vm)
{
	struct vpci_bus *bus = &buses[vm->id];

	__atomic_store_n(&bus->config_address, 0, __ATOMIC_RELAXED);
	for (unsigned n = 0; n < bus->ndevs; n++)
		dev_reset(bus->devs[n]);
}

static int vpci_vm_create(struct vm *vm)
{
	struct vpci_bus *bus = &buses[vm->id];
	int err;

	*bus = (struct vpci_bus){ .vm = vm, .has_hole = vpci_has_hole(vm),
				  .mmio_next = VPCI_MMIO_BASE };
	bus->host_bridge = (struct vpci_dev){
		.name = "host bridge",
		.vendor_id = HOST_BRIDGE_VENDOR,
		.device_id = HOST_BRIDGE_DEVICE,
		.class_code = CLASS_HOST_BRIDGE,
	};
	err = bus_attach(bus, &bus->host_bridge);
	if (err < 0)
		return err;
	err = io_register(&vm->pio, PORT_BASE, PORT_SPAN, vpci_port_io, bus);
	if (err || !bus->has_hole) {
		if (!err)
			pr_info("vm %s: its %lluM of RAM reach the PCI hole at %#llx: the PCI bus has "
				"no ECAM and no room for BARs\n", vm->name,
				(unsigned long long)(vm->ram_size >> 20), VPCI_HOLE_BASE);
		return err;
	}
	return io_register(&vm->mmio, VPCI_HOLE_BASE, VPCI_HOLE_END - VPCI_HOLE_BASE,
			   vpci_hole_mmio, bus);
}

DEFINE_BUS_UNIT(vpci, .vm_create = vpci_vm_create, .vm_reset = vpci_reset);
