/*
 * Virtual local APIC, x2APIC register interface (SDM Vol. 3A 11.12.1:
 * MSR 0x800 + offset/16). Interrupts wait in IRR until the processor
 * priority lets them through (11.8.3.1: a vector is delivered when its
 * class is above PPR's), move to ISR when injected, and leave ISR on EOI.
 * The timer comes with the guest platform work; its LVT is kept.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "core/errno.h"
#include "core/pcpu.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "core/unit.h"
#include "vdev/vioapic.h"
#include "vdev/vlapic.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define X2APIC_ID 0x802
#define X2APIC_VERSION 0x803
#define X2APIC_TPR 0x808
#define X2APIC_PPR 0x80a
#define X2APIC_EOI 0x80b
#define X2APIC_LDR 0x80d
#define X2APIC_SVR 0x80f
#define X2APIC_ISR0 0x810
#define X2APIC_TMR0 0x818
#define X2APIC_IRR0 0x820
#define X2APIC_ESR 0x828
#define X2APIC_ICR 0x830
#define X2APIC_LVT_TIMER 0x832
#define X2APIC_LVT_ERROR 0x837
#define X2APIC_SELF_IPI 0x83f
#define X2APIC_TIMER_INIT 0x838
#define X2APIC_TIMER_CUR 0x839
#define X2APIC_TIMER_DIV 0x83e
#define MSR_TSC_DEADLINE 0x6e0
#define LVT_TIMER_MODE(l) (((l) >> 17) & 3)
#define TIMER_ONESHOT 0
#define TIMER_PERIODIC 1
#define TIMER_TSC_DEADLINE 2
#define LVT_MASKED 0x10000u
#define ICR_SHORTHAND(icr) (((icr) >> 18) & 3)
#define ICR_MODE(icr) (((icr) >> 8) & 7)
#define ICR_LOGICAL (1u << 11)

static bool is_x2apic(const struct vlapic *l)
{
	return (l->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

static bool is_xapic(const struct vlapic *l)
{
	return (l->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) == APIC_BASE_EN;
}

static struct vlapic *vl(struct vcpu *vcpu)
{
	return vcpu->vlapic;
}

static int highest_bit(const uint32_t *bits)
{
	for (int i = 7; i >= 0; i--)
		if (bits[i])
			return i * 32 + 31 - __builtin_clz(bits[i]);
	return -1;
}

static uint32_t ppr(const struct vlapic *l)
{
	int isrv = highest_bit(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

void vlapic_reset(struct vcpu *vcpu)
{
	struct vlapic *l = vl(vcpu);

	memset(l, 0, sizeof(*l));
	l->svr = 0xff;
	for (unsigned i = 0; i < ARRAY_SIZE(l->lvt); i++)
		l->lvt[i] = LVT_MASKED;
	/* Firmware hands over in x2APIC mode: the guest sees no MMIO APIC. */
	l->apic_base = VLAPIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_EXTD |
		       (vcpu->idx == 0 ? APIC_BASE_BSP : 0);
	l->ldr = ((vcpu->idx >> 4) << 16) | (1u << (vcpu->idx & 15));
	vcpu->irq_pending = false;
}

void vlapic_set_irq(struct vcpu *vcpu, uint8_t vector)
{
	struct vlapic *l = vl(vcpu);

	if (vector < 16) {               /* illegal vector: send-accept error */
		l->esr |= 1u << 6;
		return;
	}
	__atomic_fetch_or(&l->irr[vector / 32], 1u << (vector % 32), __ATOMIC_SEQ_CST);
	__atomic_store_n(&vcpu->irq_pending, true, __ATOMIC_SEQ_CST);
	if (vcpu->pcpu != this_cpu_id())
		lapic_send_ipi(pcpus[vcpu->pcpu].apic_id, lapic_kick_vector());
}

int vlapic_pending(struct vcpu *vcpu)
{
	struct vlapic *l = vl(vcpu);
	int v = highest_bit(l->irr);

	if (v < 0 || !(l->svr & 0x100)) {
		if (v < 0)
			vcpu->irq_pending = false;
		return -1;
	}
	return ((uint32_t)v & 0xf0) > (ppr(l) & 0xf0) ? v : -1;
}

void vlapic_accept(struct vcpu *vcpu, uint8_t vector)
{
	struct vlapic *l = vl(vcpu);

	__atomic_fetch_and(&l->irr[vector / 32], ~(1u << (vector % 32)), __ATOMIC_SEQ_CST);
	l->isr[vector / 32] |= 1u << (vector % 32);
	if (highest_bit(l->irr) < 0)
		vcpu->irq_pending = false;
}

/* EOI ends the highest in-service vector; a level-triggered IOAPIC
 * line waiting on it may fire again (SDM 11.8.5). */
static void vlapic_eoi(struct vcpu *vcpu)
{
	struct vlapic *l = vl(vcpu);
	int v = highest_bit(l->isr);

	if (v < 0)
		return;
	l->isr[v / 32] &= ~(1u << (v % 32));
	vioapic_eoi(vcpu->vm, (uint8_t)v);
}

/*
 * Is @t addressed by @dest? Physical: its APIC id (the vCPU index).
 * Logical (ICR bit 11, MSI address bit 2): x2APIC cluster mode matches
 * cluster and bit (SDM 11.12.10.2); xAPIC flat mode ANDs the 8-bit masks
 * (11.6.2.2).
 */
static bool vlapic_is_dest(const struct vcpu *t, bool logical, uint32_t dest)
{
	const struct vlapic *l = t->vlapic;

	if (!logical)
		return dest == t->idx || (!is_x2apic(l) && dest == 0xff);
	if (is_x2apic(l))
		return (dest >> 16) == (l->ldr >> 16) && (dest & l->ldr & 0xffff);
	return (dest & (l->ldr >> 24) & 0xff) != 0;
}

/*
 * INIT and STARTUP (SDM 9.4.4): a secondary vCPU that has not started
 * yet starts in real mode at the SIPI's vector page. INIT de-asserts
 * (level 0, trigger level) and INITs to running vCPUs are ignored: the
 * hypervisor does not reset a running vCPU.
 */
static bool vlapic_send_init_sipi(struct vcpu *vcpu, uint64_t icr, uint32_t dest)
{
	struct vm *vm = vcpu->vm;

	if (ICR_MODE(icr) == 5)
		return true;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *t = vm->vcpus[i];
		unsigned sh = ICR_SHORTHAND(icr);

		if (t == vcpu || !t->idx || t->sipi_ready ||
		    !(sh == 2 || sh == 3 || (sh == 0 && vlapic_is_dest(t, icr & ICR_LOGICAL, dest))))
			continue;
		t->ap_entry = (struct guest_entry){ .mode = GUEST_BOOT_REAL16,
						    .cs = (uint16_t)((icr & 0xff) << 8),
						    .format = "SIPI" };
		__atomic_store_n(&t->sipi_ready, true, __ATOMIC_RELEASE);
		lapic_send_ipi(pcpus[t->pcpu].apic_id, lapic_kick_vector());
	}
	return true;
}

/* Fixed IPIs to the VM's vCPUs. */
static bool vlapic_send_ipi(struct vcpu *vcpu, uint64_t icr)
{
	struct vm *vm = vcpu->vm;
	uint32_t dest = (uint32_t)(icr >> 32);
	uint8_t vec = (uint8_t)icr;

	if (ICR_MODE(icr) == 5 || ICR_MODE(icr) == 6)
		return vlapic_send_init_sipi(vcpu, icr, dest);
	if (ICR_MODE(icr) != 0)
		return true;     /* NMI, SMI and lowest priority: not yet */
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		bool self = vm->vcpus[i] == vcpu;
		unsigned sh = ICR_SHORTHAND(icr);

		if ((sh == 0 && vlapic_is_dest(vm->vcpus[i], icr & ICR_LOGICAL, dest)) || (sh == 1 && self) ||
		    sh == 2 || (sh == 3 && !self))
			vlapic_set_irq(vm->vcpus[i], vec);
	}
	return true;
}

/*
 * Message-signalled interrupts, SDM Vol. 3A 11.11: the address is
 * 0xFEE in bits 31:20, the destination ID in 19:12, the destination mode
 * in bit 2 (bit 3, the redirection hint, only allows lowest-priority
 * arbitration, which the data's delivery mode asks for anyway); the data
 * holds the vector in bits 7:0 and the delivery mode in bits 10:8. The
 * trigger mode (bit 15) is ignored: an edge, as for every MSI on PCI.
 * A physical destination of 0xFF is a broadcast in both APIC modes: the
 * 8-bit field has no room for the x2APIC broadcast ID.
 */
#define MSI_ADDR_BASE 0xfee00000ull
#define MSI_ADDR_DEST(a) ((uint32_t)((a) >> 12) & 0xff)
#define MSI_ADDR_LOGICAL (1u << 2)
#define MSI_DATA_MODE(d) (((d) >> 8) & 7)
#define MSI_MODE_FIXED 0
#define MSI_MODE_LOWEST 1

int vlapic_deliver_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	bool logical = addr & MSI_ADDR_LOGICAL, lowest = MSI_DATA_MODE(data) == MSI_MODE_LOWEST;
	uint32_t dest = MSI_ADDR_DEST(addr);
	uint8_t vec = (uint8_t)data;

	if ((addr & ~0xfffffull) != MSI_ADDR_BASE || vec < 16 ||
	    (MSI_DATA_MODE(data) != MSI_MODE_FIXED && !lowest))
		return -EINVAL;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *t = vm->vcpus[i];

		if ((!logical && dest == 0xff) || vlapic_is_dest(t, logical, dest)) {
			vlapic_set_irq(t, vec);
			if (lowest)
				break;      /* the first vCPU addressed, as the IOAPIC does */
		}
	}
	return 0;
}

/* Divide configuration, SDM Figure 11-10: bits 0, 1 and 3. */
static uint64_t timer_divisor(const struct vlapic *l)
{
	uint32_t v = (l->timer_divide & 3) | ((l->timer_divide & 8) >> 1);

	return v == 7 ? 1 : 2ull << v;
}

static void timer_arm(struct vcpu *vcpu)
{
	if (vcpu->pcpu == this_cpu_id())
		lapic_timer_arm(LAPIC_TIMER_VLAPIC, vl(vcpu)->timer_deadline);
}

/* Start one-shot or periodic counting from the initial count. */
static void timer_start_count(struct vcpu *vcpu)
{
	struct vlapic *l = vl(vcpu);
	uint64_t ticks = (uint64_t)l->timer_initial * timer_divisor(l);

	l->timer_period = LVT_TIMER_MODE(l->lvt[0]) == TIMER_PERIODIC ? ticks : 0;
	l->timer_deadline = ticks ? rdtsc() + ticks : 0;
	timer_arm(vcpu);
}

void vlapic_timer_check(struct vcpu *vcpu)
{
	struct vlapic *l = vl(vcpu);
	uint64_t now = rdtsc();

	if (!l->timer_deadline || now < l->timer_deadline) {
		timer_arm(vcpu);
		return;
	}
	if (!(l->lvt[0] & LVT_MASKED))
		vlapic_set_irq(vcpu, (uint8_t)l->lvt[0]);
	if (l->timer_period) {
		/* Missed periods collapse into this one interrupt. */
		uint64_t late = (now - l->timer_deadline) / l->timer_period + 1;

		l->timer_deadline += late * l->timer_period;
	} else {
		l->timer_deadline = 0;
		l->tsc_deadline_msr = 0;
	}
	timer_arm(vcpu);
}

static uint64_t timer_current_count(const struct vlapic *l)
{
	uint64_t now = rdtsc();

	if (!l->timer_deadline || LVT_TIMER_MODE(l->lvt[0]) == TIMER_TSC_DEADLINE ||
	    now >= l->timer_deadline)
		return 0;
	return (l->timer_deadline - now) / timer_divisor(l);
}

static bool timer_write(struct vcpu *vcpu, uint32_t msr, uint64_t val)
{
	struct vlapic *l = vl(vcpu);
	bool deadline_mode = LVT_TIMER_MODE(l->lvt[0]) == TIMER_TSC_DEADLINE;

	if (msr == MSR_TSC_DEADLINE) {
		l->tsc_deadline_msr = val;
		if (deadline_mode) {
			l->timer_deadline = val;
			l->timer_period = 0;
			timer_arm(vcpu);
		}
		return true;
	}
	if (val >> 32)
		return false;
	if (msr == X2APIC_TIMER_DIV) {
		l->timer_divide = (uint32_t)val & 0xb;
		return true;
	}
	l->timer_initial = (uint32_t)val;          /* X2APIC_TIMER_INIT */
	if (!deadline_mode)
		timer_start_count(vcpu);
	return true;
}

/* A mode change disarms the timer (SDM 11.5.4.1). */
static void timer_lvt_write(struct vcpu *vcpu, uint32_t val)
{
	struct vlapic *l = vl(vcpu);

	if (LVT_TIMER_MODE(val) != LVT_TIMER_MODE(l->lvt[0])) {
		l->timer_deadline = 0;
		l->timer_period = 0;
		l->tsc_deadline_msr = 0;
		timer_arm(vcpu);
	}
	l->lvt[0] = val & 0x710ff;
}

static bool vlapic_read_bank(const uint32_t *bank, uint32_t idx, uint64_t *val)
{
	*val = bank[idx];
	return true;
}

static bool vlapic_reg_read(struct vcpu *vcpu, uint32_t msr, uint64_t *val);

bool vlapic_msr_read(struct vcpu *vcpu, uint32_t msr, uint64_t *val)
{
	struct vlapic *l = vl(vcpu);

	if (msr == MSR_APIC_BASE) {
		*val = l->apic_base;
		return true;
	}
	if (msr >= 0x800 && !is_x2apic(l))
		return false;     /* x2APIC registers outside x2APIC mode: #GP */
	return vlapic_reg_read(vcpu, msr, val);
}

/* A register by its x2APIC MSR number, whatever the mode. */
static bool vlapic_reg_read(struct vcpu *vcpu, uint32_t msr, uint64_t *val)
{
	struct vlapic *l = vl(vcpu);

	if (msr == MSR_TSC_DEADLINE) {
		*val = LVT_TIMER_MODE(l->lvt[0]) == TIMER_TSC_DEADLINE ? l->tsc_deadline_msr : 0;
		return true;
	}
	if (msr >= X2APIC_ISR0 && msr < X2APIC_ISR0 + 8)
		return vlapic_read_bank(l->isr, msr - X2APIC_ISR0, val);
	if (msr >= X2APIC_IRR0 && msr < X2APIC_IRR0 + 8)
		return vlapic_read_bank(l->irr, msr - X2APIC_IRR0, val);
	if (msr >= X2APIC_TMR0 && msr < X2APIC_TMR0 + 8) {
		*val = 0;            /* all edge-triggered so far */
		return true;
	}
	if (msr >= X2APIC_LVT_TIMER && msr <= X2APIC_LVT_ERROR) {
		*val = l->lvt[msr - X2APIC_LVT_TIMER];
		return true;
	}
	switch (msr) {
	case X2APIC_ID: *val = vcpu->idx; return true;
	case X2APIC_VERSION: *val = 0x50014; return true;   /* 6 LVTs + CMCI-less, v0x14 */
	case X2APIC_TPR: *val = l->tpr; return true;
	case X2APIC_PPR: *val = ppr(l); return true;
	case X2APIC_LDR: *val = l->ldr; return true;
	case X2APIC_SVR: *val = l->svr; return true;
	case X2APIC_ESR: *val = l->esr; return true;
	case X2APIC_TIMER_INIT: *val = l->timer_initial; return true;
	case X2APIC_TIMER_CUR: *val = timer_current_count(l); return true;
	case X2APIC_TIMER_DIV: *val = l->timer_divide; return true;
	default: return false;   /* write-only (EOI, SELF_IPI) and reserved: #GP */
	}
}

/*
 * Mode changes follow SDM 11.12.5: xAPIC <-> disabled <-> x2APIC, and
 * xAPIC -> x2APIC directly; x2APIC -> xAPIC only through disabled. The
 * base address cannot move: the MMIO page is the architectural one.
 */
static bool vlapic_write_base(struct vlapic *l, uint64_t val)
{
	uint64_t mode = val & (APIC_BASE_EN | APIC_BASE_EXTD);
	uint64_t old = l->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD);

	if ((val & ~(APIC_BASE_BSP | APIC_BASE_EXTD | APIC_BASE_EN | 0xffffff000ull)) ||
	    (val & 0xffffff000ull) != VLAPIC_BASE_DEFAULT || mode == APIC_BASE_EXTD ||
	    (old == (APIC_BASE_EN | APIC_BASE_EXTD) && mode == APIC_BASE_EN))
		return false;
	l->apic_base = (val & ~APIC_BASE_BSP) | (l->apic_base & APIC_BASE_BSP);
	return true;
}


static bool vlapic_reg_write(struct vcpu *vcpu, uint32_t msr, uint64_t val);

bool vlapic_msr_write(struct vcpu *vcpu, uint32_t msr, uint64_t val)
{
	struct vlapic *l = vl(vcpu);

	if (msr == MSR_APIC_BASE)
		return vlapic_write_base(l, val);
	if (msr >= 0x800 && !is_x2apic(l))
		return false;
	return vlapic_reg_write(vcpu, msr, val);
}

static bool vlapic_reg_write(struct vcpu *vcpu, uint32_t msr, uint64_t val)
{
	struct vlapic *l = vl(vcpu);

	if (msr == MSR_TSC_DEADLINE || msr == X2APIC_TIMER_INIT || msr == X2APIC_TIMER_DIV)
		return timer_write(vcpu, msr, val);
	if (msr == X2APIC_LVT_TIMER) {
		timer_lvt_write(vcpu, (uint32_t)val);
		return !(val >> 32);
	}
	if (msr >= X2APIC_LVT_TIMER && msr <= X2APIC_LVT_ERROR) {
		l->lvt[msr - X2APIC_LVT_TIMER] = (uint32_t)val & 0x1f7ff;
		return !(val >> 32);
	}
	if (msr == X2APIC_LDR && !is_x2apic(l)) {
		l->ldr = (uint32_t)val & 0xff000000u;   /* xAPIC: the guest picks its logical id */
		return true;
	}
	switch (msr) {
	case 0x80e: return !is_x2apic(l);              /* xAPIC DFR: flat model only */
	case X2APIC_TPR: l->tpr = (uint32_t)val & 0xff; return !(val >> 8);
	case X2APIC_EOI: vlapic_eoi(vcpu); return val == 0;
	case X2APIC_SVR: l->svr = (uint32_t)val & 0x11ff; return !(val >> 32);
	case X2APIC_ESR: l->esr = 0; return val == 0;
	case X2APIC_ICR: return vlapic_send_ipi(vcpu, val);
	case X2APIC_SELF_IPI: vlapic_set_irq(vcpu, (uint8_t)val); return !(val >> 8);
	default: return false;
	}
}

/*
 * xAPIC mode: the same registers through the MMIO page at 0xFEE00000,
 * 32-bit accesses at 16-byte offsets (SDM 11.4.1). What differs from
 * x2APIC: the ID sits in bits 31:24, the ICR is two registers (the write
 * to the low half sends) with the destination in bits 31:24 of the high.
 */
#define XAPIC_ID 0x20
#define XAPIC_ICR_LO 0x300
#define XAPIC_ICR_HI 0x310

static enum io_result vlapic_mmio(struct vcpu *vcpu, uint64_t off, struct io_access *a,
				  void *opaque)
{
	struct vlapic *l = vl(vcpu);
	uint32_t msr = 0x800 + (uint32_t)(off >> 4);
	uint64_t v = 0;

	(void)opaque;
	if (!is_xapic(l) || a->size != 4 || (off & 0xf))
		return a->write ? IO_HANDLED : (a->value = 0, IO_HANDLED);
	if (off == XAPIC_ICR_HI) {
		if (a->write)
			l->icr_hi = (uint32_t)a->value;
		else
			a->value = l->icr_hi;
		return IO_HANDLED;
	}
	if (a->write) {
		if (off == XAPIC_ICR_LO)
			vlapic_send_ipi(vcpu, (uint64_t)(l->icr_hi >> 24) << 32 | (uint32_t)a->value);
		else if (off != XAPIC_ID)
			vlapic_reg_write(vcpu, msr, a->value);
		return IO_HANDLED;   /* bad values are ignored, as on hardware */
	}
	if (off == XAPIC_ID)
		v = (uint64_t)vcpu->idx << 24;
	else if (!vlapic_reg_read(vcpu, msr, &v))
		v = 0;
	a->value = (uint32_t)v;
	return IO_HANDLED;
}

static int vlapic_vm_create(struct vm *vm)
{
	return io_register(&vm->mmio, VLAPIC_BASE_DEFAULT, 0x1000, vlapic_mmio, NULL);
}

DEFINE_UNIT(vlapic, .vm_create = vlapic_vm_create);
