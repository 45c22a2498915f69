/*
 * The VM's PCI bus: segment 0, bus 0, a host bridge at 00:00.0 and up to
 * 31 devices that other device models (virtio, later assigned devices)
 * plug in. The guest reaches configuration space through ports
 * 0xCF8/0xCFC (configuration mechanism #1, PCI Local Bus 3.0 3.2.2.3.2)
 * and through an ECAM window (PCI Express Base 4.0 7.2.2, described by
 * the MCFG table, PCI Firmware 3.2 4.1.2). vpci emulates the type 0
 * header, BAR sizing and placement, the capability list and MSI-X
 * (PCI Local Bus 3.0 6.8.2); the device model supplies its IDs, BARs,
 * extra capabilities and what its BARs do.
 *
 * Using it, from a device model's vm_create (DEFINE_UNIT; the bus is a
 * DEFINE_BUS_UNIT and is set up first):
 *
 *	d->name = "virtio-net";
 *	d->vendor_id = 0x1af4; d->device_id = 0x1041; d->class_code = 0x020000;
 *	d->subsys_vendor_id = 0x1af4; d->subsys_id = 0x0001;
 *	d->bar[0] = (struct vpci_bar){ VPCI_BAR_MEM64, false, 0x4000 };
 *	d->bar_access = my_bar_access;
 *	vpci_cap_add(d, &my_vendor_cap, sizeof(my_vendor_cap));
 *	vpci_msix_init(d, 3, 0, 0x2000, 0x3000);
 *	err = vpci_add_device(vm, d);        // >= 0: the slot it got
 *	...
 *	vpci_msix_notify(d, 1);              // an interrupt for vector 1
 *
 * Guest-physical layout: the 32-bit PCI hole [VPCI_HOLE_BASE, VIOAPIC_BASE)
 * holds the BAR window and the ECAM window; vpci takes the whole hole as
 * one MMIO region and finds a BAR by its current address, so BARs move
 * without touching the VM's io_bus. Guest RAM starts at 0 and must end at
 * or below VPCI_HOLE_BASE for the hole to exist: a VM with more RAM still
 * has the bus through the ports, but no ECAM and no room for BARs.
 */
#ifndef VDEV_VPCI_H
#define VDEV_VPCI_H

#include "core/io.h"
#include "core/spinlock.h"
#include "core/types.h"

struct vm;

#define VPCI_HOLE_BASE 0xc0000000ull   /* 3 GiB */
#define VPCI_HOLE_END 0xfec00000ull    /* the IOAPIC, VIOAPIC_BASE */
#define VPCI_MMIO_BASE VPCI_HOLE_BASE  /* BAR window: the root bridge's memory window */
#define VPCI_MMIO_SIZE MIB(512)
#define VPCI_ECAM_BASE 0xe0000000ull   /* bus 0 only: 1 MiB */
#define VPCI_ECAM_SIZE MIB(1)

#define VPCI_SLOTS 32                  /* devices 0-31 of bus 0, function 0 each */
#define VPCI_SLOT_AUTO 0               /* slot 0 is the host bridge's */
#define VPCI_BARS 6
#define VPCI_BAR_MIN_SIZE 4096u        /* a page: BARs can be mapped one day */
#define VPCI_MSIX_MAX 64               /* vectors per device */
#define VPCI_CAP_START 0x40            /* capabilities follow the type 0 header */
#define VPCI_CFG_SIZE 0x100            /* what vpci emulates; ECAM's 0x100-0xfff go to cfg_access */

enum vpci_bar_type {
	VPCI_BAR_NONE,
	VPCI_BAR_MEM32,                 /* memory, below 4 GiB, at most 2 GiB */
	VPCI_BAR_MEM64,                 /* memory, anywhere; takes the next BAR index too */
};

struct vpci_bar {
	enum vpci_bar_type type;
	bool prefetchable;
	uint64_t size;                  /* a power of two, >= VPCI_BAR_MIN_SIZE */
};

struct vpci_dev;

/*
 * The guest accessed BAR @bar at @offset: a->size is 1, 2, 4 or 8 bytes
 * and lies wholly inside the BAR; a->addr is the guest-physical address.
 * A read puts its result in a->value. IO_UNHANDLED makes a read all-ones
 * and drops a write, as for an address no one decodes; IO_ERROR stops
 * the VM. Called on the accessing vCPU with no vpci lock held; several
 * vCPUs may call at once. Accesses to the MSI-X table and PBA never
 * arrive here.
 */
typedef enum io_result (*vpci_bar_fn)(struct vpci_dev *dev, unsigned bar, uint64_t offset,
				      struct io_access *a);

/*
 * Optional: a configuration access at register @reg (a->addr is @reg too)
 * of a->size bytes inside one dword, for registers vpci does not own:
 * those at 0x40 and up other than the MSI-X capability, and over ECAM
 * 0x100-0xfff. Return true with a->value set for a read; false lets vpci
 * answer: the bytes vpci_cap_add() put there (read-only), else zero.
 * Called with no vpci lock held.
 */
typedef bool (*vpci_cfg_fn)(struct vpci_dev *dev, unsigned reg, struct io_access *a);

struct vpci_msix_entry {               /* PCI Local Bus 3.0 6.8.2.6-6.8.2.9 */
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct vpci_msix {
	uint16_t nvec;                  /* 0: no MSI-X */
	uint8_t cap;                    /* the capability's offset */
	uint8_t bar;                    /* BIR of the table and the PBA */
	uint32_t table_off, pba_off;    /* in that BAR */
	uint16_t control;               /* MSI-X Enable and Function Mask */
	struct vpci_msix_entry table[VPCI_MSIX_MAX];
	uint64_t pba[VPCI_MSIX_MAX / 64];
};

struct vpci_dev {
	/* Set by the device model before vpci_add_device(), then left alone. */
	const char *name;               /* for messages */
	uint16_t vendor_id, device_id;
	uint16_t subsys_vendor_id, subsys_id;
	uint32_t class_code;            /* base class << 16 | sub-class << 8 | prog-if */
	uint8_t revision;
	uint8_t slot;                   /* 1-31, or VPCI_SLOT_AUTO: the first free */
	struct vpci_bar bar[VPCI_BARS];
	vpci_bar_fn bar_access;         /* required when there is a BAR */
	vpci_cfg_fn cfg_access;         /* optional */
	void *priv;                     /* the device model's */

	/* vpci's own; zero before vpci_cap_add() and vpci_msix_init(). */
	struct vm *vm;                  /* set by vpci_add_device() */
	spinlock_t lock;                /* command, BARs, MSI-X */
	uint16_t cap_next;              /* where the next capability goes; 0: none yet */
	uint8_t cap_last;               /* the last capability's offset, 0: none */
	uint8_t cap[VPCI_CFG_SIZE];     /* capability bytes at their offsets */
	uint16_t command;
	uint8_t cache_line, int_line;
	uint64_t bar_addr[VPCI_BARS];   /* current base (a MEM64 BAR's in its first index) */
	uint64_t bar_home[VPCI_BARS];   /* where vpci put it, restored on reset */
	struct vpci_msix msix;
	bool msi_warned;
};

/*
 * Append capability @cap of @len bytes (2 to 192: ID, next pointer, then
 * its body) to @dev's list; vpci sets the next pointer. Capabilities sit
 * on dword boundaries from 0x40 and read as written (read-only; the
 * device's cfg_access may take over any of their registers). Before
 * vpci_add_device() only. Returns the capability's offset, -EINVAL or
 * -ENOSPC when config space is full.
 */
int vpci_cap_add(struct vpci_dev *dev, const void *cap, unsigned len);

/*
 * Give @dev an MSI-X capability with @nvec vectors (1 to VPCI_MSIX_MAX),
 * its table at @table_off and its PBA at @pba_off of BAR @bar, both
 * 8-byte aligned, inside the BAR and apart (set dev->bar first). vpci
 * emulates the table and the PBA: accesses there do not reach
 * bar_access. Returns the capability's offset or -EINVAL / -ENOSPC.
 */
int vpci_msix_init(struct vpci_dev *dev, unsigned nvec, unsigned bar, uint32_t table_off,
		   uint32_t pba_off);

/*
 * Plug @dev into @vm's bus at VM creation (from a unit's vm_create,
 * before the VM runs): check it, give it a slot and its BARs addresses
 * in the BAR window. @dev must stay allocated as long as the VM. Returns
 * the slot, or a negative error after saying what is wrong: -ENODEV
 * (no bus), -EINVAL (bad IDs or BARs), -EBUSY (slot taken, added twice,
 * VM running), -ENOSPC (no slot or no room for the BARs).
 */
int vpci_add_device(struct vm *vm, struct vpci_dev *dev);

enum vpci_msi_result {
	VPCI_MSI_SENT,       /* delivered to the vLAPICs */
	VPCI_MSI_PENDING,    /* masked: the pending bit is set; unmasking sends it */
	VPCI_MSI_OFF,        /* MSI-X disabled, bus mastering off or no such vector: nothing sent */
	VPCI_MSI_INVALID,    /* the guest's address/data is no interrupt: dropped (said once) */
};

/*
 * Signal MSI-X vector @vector of @dev (PCI Local Bus 3.0 6.8.2): send its
 * message, or set its pending bit while the vector or the function is
 * masked. Any CPU may call this, with no vpci lock held.
 */
enum vpci_msi_result vpci_msix_notify(struct vpci_dev *dev, unsigned vector);
bool vpci_msix_is_enabled(struct vpci_dev *dev);
/* The guest let the device master the bus (COMMAND bit 2): DMA and MSIs allowed. */
bool vpci_is_bus_master(const struct vpci_dev *dev);

/* Whether @vm has the PCI hole (ECAM and BAR window): its RAM ends below it. */
bool vpci_has_hole(const struct vm *vm);
/* The ECAM base for the VM's MCFG and e820 map, 0 when it has none. */
uint64_t vpci_ecam_base(const struct vm *vm);

#endif
