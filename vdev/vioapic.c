/*
 * A virtual I/O APIC, version 0x20 with 24 redirection entries. Registers
 * follow the Intel 82093AA data sheet (3.0, 3.2): IOREGSEL at offset 0
 * selects an indirect register, IOWIN at 0x10 reads or writes it, each
 * 64-bit redirection entry is two registers (0x10 + 2n low, 0x11 + 2n
 * high); the version 0x20 parts (ICH family) add the EOI register at
 * 0x40. Software must use 32-bit accesses; anything else crashes the VM.
 *
 * Delivery: physical destination = vCPU index (x2APIC ids are vCPU
 * indexes; 0xff is everyone); logical destination = a bit mask of vCPU
 * indexes; lowest priority goes to the first vCPU of the destination.
 * Fixed and lowest-priority messages are supported; others (SMI, NMI,
 * INIT, ExtINT) are dropped with one warning.
 *
 * Masked entries: unlike the 82093AA, which ignores an edge on a masked
 * pin (3.2.4, bit 16), an edge is held and delivered on unmask, so that a
 * guest masking a pin briefly does not lose a timer tick.
 */
#include "core/assert.h"
#include "core/printk.h"
#include "core/spinlock.h"
#include "core/unit.h"
#include "core/vm.h"
#include "vdev/vioapic.h"
#include "vdev/vlapic.h"

#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOEOI 0x40
#define VIOAPIC_MMIO_SIZE 0x44

#define IOAPIC_VERSION 0x20
#define REG_ID 0x00
#define REG_VER 0x01
#define REG_ARB 0x02
#define REG_REDTBL 0x10
#define REG_REDTBL_END (REG_REDTBL + 2 * VIOAPIC_PINS)
#define ID_SHIFT 24
#define ID_MASK 0xfu

/* Redirection entry, 82093AA 3.2.4. */
#define RTE_VECTOR(e) ((uint8_t)(e))
#define RTE_DELMODE(e) (((e) >> 8) & 7)
#define RTE_LOGICAL (1ull << 11)
#define RTE_DELIVS (1ull << 12)
#define RTE_POLARITY (1ull << 13)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LEVEL (1ull << 15)
#define RTE_MASKED (1ull << 16)
#define RTE_DEST(e) ((unsigned)((e) >> 56))
#define RTE_WRITABLE (0xffull << 56 | RTE_MASKED | RTE_LEVEL | RTE_POLARITY | 0xfffull)
#define DELMODE_FIXED 0
#define DELMODE_LOWEST 1
#define DEST_BROADCAST 0xff

BUILD_ASSERT(VM_MAX_VCPUS <= 8);   /* a logical destination is an 8-bit mask */

struct vioapic {
	spinlock_t lock;
	uint32_t regsel;
	uint32_t id;
	uint32_t line;      /* bit n: GSI n asserted */
	uint32_t edge;      /* bit n: a rising edge on GSI n not yet delivered */
	uint64_t rte[VIOAPIC_PINS];
	bool warned;
};

/* Interrupts decided under the lock, sent to the vLAPICs after it. */
struct vioapic_msgs {
	unsigned n;
	struct {
		uint8_t vector;
		uint8_t targets;   /* bit n: vCPU n */
	} msg[VIOAPIC_PINS];
};

static struct vioapic vioapics[CONFIG_MAX_VMS];

static uint8_t rte_targets(const struct vm *vm, uint64_t rte)
{
	unsigned all = (1u << vm->nvcpus) - 1, dest = RTE_DEST(rte), t;

	if (rte & RTE_LOGICAL)
		t = dest & all;
	else if (dest == DEST_BROADCAST)
		t = all;
	else
		t = dest < vm->nvcpus ? 1u << dest : 0;
	if (RTE_DELMODE(rte) == DELMODE_LOWEST && t)
		t = 1u << __builtin_ctz(t);   /* the first target */
	return (uint8_t)t;
}

/* Queue @pin's message; false if it reaches no one. */
static bool pin_send(const struct vm *vm, struct vioapic *io, unsigned pin,
		     struct vioapic_msgs *out)
{
	uint64_t rte = io->rte[pin];
	unsigned mode = RTE_DELMODE(rte);
	uint8_t t;

	if (mode != DELMODE_FIXED && mode != DELMODE_LOWEST) {
		if (!io->warned)
			pr_warn("vm %s: IOAPIC pin %u: delivery mode %u not supported; dropped\n",
				vm->name, pin, mode);
		io->warned = true;
		return false;
	}
	t = rte_targets(vm, rte);
	if (!t)
		return false;
	ASSERT(out->n < VIOAPIC_PINS);   /* each pin sends at most once per request */
	out->msg[out->n].vector = RTE_VECTOR(rte);
	out->msg[out->n++].targets = t;
	return true;
}

/* Deliver what @pin has waiting, if its entry lets it (82093AA 3.2.4). */
static void pin_service(const struct vm *vm, struct vioapic *io, unsigned pin,
			struct vioapic_msgs *out)
{
	uint64_t *rte = &io->rte[pin];
	uint32_t bit = 1u << pin;

	if (*rte & RTE_MASKED)
		return;
	if (!(*rte & RTE_LEVEL)) {
		if (io->edge & bit)
			pin_send(vm, io, pin, out);   /* if no one takes it, it is lost */
		io->edge &= ~bit;
		return;
	}
	io->edge &= ~bit;
	if ((io->line & bit) && !(*rte & RTE_REMOTE_IRR) && pin_send(vm, io, pin, out))
		*rte |= RTE_REMOTE_IRR;   /* set when a local APIC accepts it */
}

static void vioapic_send(struct vm *vm, const struct vioapic_msgs *m)
{
	for (unsigned i = 0; i < m->n; i++)
		for (unsigned v = 0; v < vm->nvcpus; v++)
			if (m->msg[i].targets & (1u << v))
				vlapic_set_irq(vm->vcpus[v], m->msg[i].vector);
}

static void eoi_locked(const struct vm *vm, struct vioapic *io, uint8_t vector,
		       struct vioapic_msgs *out)
{
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		uint64_t *rte = &io->rte[pin];

		if ((*rte & RTE_LEVEL) && (*rte & RTE_REMOTE_IRR) && RTE_VECTOR(*rte) == vector) {
			*rte &= ~RTE_REMOTE_IRR;
			pin_service(vm, io, pin, out);
		}
	}
}

void vioapic_set_irq(struct vm *vm, unsigned gsi, bool level)
{
	struct vioapic *io = &vioapics[vm->id];
	struct vioapic_msgs out = { 0 };
	uint32_t bit;

	ASSERT(gsi < VIOAPIC_PINS);
	bit = 1u << gsi;
	spin_lock(&io->lock);
	if (level && !(io->line & bit))
		io->edge |= bit;
	io->line = level ? io->line | bit : io->line & ~bit;
	pin_service(vm, io, gsi, &out);
	spin_unlock(&io->lock);
	vioapic_send(vm, &out);
}

void vioapic_eoi(struct vm *vm, uint8_t vector)
{
	struct vioapic *io = &vioapics[vm->id];
	struct vioapic_msgs out = { 0 };

	spin_lock(&io->lock);
	eoi_locked(vm, io, vector, &out);
	spin_unlock(&io->lock);
	vioapic_send(vm, &out);
}

static uint32_t reg_read(const struct vioapic *io, uint32_t reg)
{
	switch (reg) {
	case REG_ID:
	case REG_ARB:   /* loaded from the ID register (82093AA 3.2.3) */
		return io->id << ID_SHIFT;
	case REG_VER:
		return (VIOAPIC_PINS - 1) << 16 | IOAPIC_VERSION;
	default:
		break;
	}
	if (reg < REG_REDTBL || reg >= REG_REDTBL_END)
		return 0;
	reg -= REG_REDTBL;
	return (uint32_t)(io->rte[reg / 2] >> (reg % 2 ? 32 : 0));
}

static void rte_write(const struct vm *vm, struct vioapic *io, uint32_t reg, uint32_t v,
		      struct vioapic_msgs *out)
{
	unsigned pin = (reg - REG_REDTBL) / 2;
	uint64_t old = io->rte[pin], val;

	if ((reg - REG_REDTBL) % 2)
		val = (old & 0xffffffffull) | (uint64_t)v << 32;
	else
		val = (old & ~0xffffffffull) | v;
	val = (val & RTE_WRITABLE) | (old & (RTE_DELIVS | RTE_REMOTE_IRR));
	/* Remote IRR means nothing for edge entries; switching to edge clears it,
	 * as Linux expects when it clears a stuck level pin. */
	if (!(val & RTE_LEVEL))
		val &= ~RTE_REMOTE_IRR;
	if ((val ^ old) & RTE_LEVEL)
		io->edge &= ~(1u << pin);
	io->rte[pin] = val;
	pin_service(vm, io, pin, out);
}

static void reg_write(const struct vm *vm, struct vioapic *io, uint32_t reg, uint32_t v,
		      struct vioapic_msgs *out)
{
	if (reg == REG_ID)
		io->id = (v >> ID_SHIFT) & ID_MASK;
	else if (reg >= REG_REDTBL && reg < REG_REDTBL_END)
		rte_write(vm, io, reg, v, out);
	/* version, arbitration and unimplemented registers are read-only */
}

static enum io_result vioapic_mmio(struct vcpu *vcpu, uint64_t off, struct io_access *a,
				   void *opaque)
{
	struct vioapic *io = opaque;
	struct vioapic_msgs out = { 0 };
	uint32_t v = (uint32_t)a->value;

	if (a->size != 4 || off % 4)
		return IO_ERROR;
	spin_lock(&io->lock);
	if (off == IOREGSEL && a->write)
		io->regsel = v & 0xff;
	else if (off == IOREGSEL)
		a->value = io->regsel;
	else if (off == IOWIN && a->write)
		reg_write(vcpu->vm, io, io->regsel, v, &out);
	else if (off == IOWIN)
		a->value = reg_read(io, io->regsel);
	else if (off == IOEOI && a->write)
		eoi_locked(vcpu->vm, io, (uint8_t)v, &out);
	else if (!a->write)
		a->value = 0;   /* EOI is write-only; the gaps read as zero */
	spin_unlock(&io->lock);
	vioapic_send(vcpu->vm, &out);
	return IO_HANDLED;
}

/* Power-on state: every entry masked (82093AA 3.2.4), all lines low. */
static void vioapic_reset(struct vm *vm)
{
	struct vioapic *io = &vioapics[vm->id];

	*io = (struct vioapic){ .lock = SPINLOCK_INIT };
	for (unsigned i = 0; i < VIOAPIC_PINS; i++)
		io->rte[i] = RTE_MASKED;
}

static int vioapic_vm_create(struct vm *vm)
{
	vioapic_reset(vm);
	return io_register(&vm->mmio, VIOAPIC_BASE, VIOAPIC_MMIO_SIZE, vioapic_mmio,
			   &vioapics[vm->id]);
}

DEFINE_UNIT(vioapic, .vm_create = vioapic_vm_create, .vm_reset = vioapic_reset);
