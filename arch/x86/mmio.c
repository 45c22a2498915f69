/*
 * MMIO emulation, the same for both back-ends: a guest access to a
 * guest-physical range a device registered exits with the address but
 * not the data. We fetch the instruction through the guest's own page
 * tables, decode it (arch/x86/decode.c), let the device handle the
 * access, write a load's result to the register and step over it.
 * Whatever cannot be decoded stops the VM with the bytes printed.
 */
#include "arch/x86/decode.h"
#include "arch/x86/guest_walk.h"
#include "arch/x86/virt.h"
#include "core/errno.h"
#include "core/string.h"
#include "core/vm.h"

#define EXC_PF 14
#define MAXPHYADDR 46

static bool mmio_read_gpa(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	const void *src = vm_gpa_to_hva(ctx, gpa, len);

	if (!src)
		return false;
	memcpy(buf, src, len);
	return true;
}

/* GPRs in SDM order; RSP lives in the VMCS/VMCB, not in guest_regs. */
static uint64_t gpr_get(struct vcpu *vcpu, unsigned n)
{
	const uint64_t *r = (const uint64_t *)vcpu->regs;

	return n == 4 ? virt->get_reg(vcpu, VREG_RSP) : r[n < 4 ? n : n - 1];
}

static void gpr_set(struct vcpu *vcpu, unsigned n, uint64_t v)
{
	uint64_t *r = (uint64_t *)vcpu->regs;

	if (n == 4)
		virt->set_reg(vcpu, VREG_RSP, v);
	else
		r[n < 4 ? n : n - 1] = v;
}

static enum insn_mode mmio_mode(struct vcpu *vcpu)
{
	uint64_t attr = virt->get_reg(vcpu, VREG_CS_ATTR);

	if ((virt->get_reg(vcpu, VREG_EFER) & (1ull << 10)) && (attr & VREG_CS_ATTR_L))
		return INSN_MODE_64;
	return attr & VREG_CS_ATTR_D ? INSN_MODE_32 : INSN_MODE_16;
}

/* Read up to 15 instruction bytes at CS:RIP; 0 or a negative error. */
static int mmio_fetch(struct vcpu *vcpu, uint8_t *buf, size_t *got)
{
	struct guest_paging p = {
		.cr0 = virt->get_reg(vcpu, VREG_CR0), .cr3 = virt->get_reg(vcpu, VREG_CR3),
		.cr4 = virt->get_reg(vcpu, VREG_CR4), .efer = virt->get_reg(vcpu, VREG_EFER),
		.cpl = (unsigned)virt->get_reg(vcpu, VREG_CPL), .maxphyaddr = MAXPHYADDR,
		.read_gpa = mmio_read_gpa, .ctx = vcpu->vm,
	};
	uint64_t rip = virt->get_reg(vcpu, VREG_CS_BASE) + virt->get_reg(vcpu, VREG_RIP);
	struct guest_pf pf;
	int err;

	if (virt->exit_insn_bytes && (*got = virt->exit_insn_bytes(vcpu, buf, 15)))
		return 0;
	err = guest_read_linear(&p, rip, GUEST_ACCESS_FETCH, buf, 15, got, &pf);

	if (err == -EFAULT && *got == 0) {
		virt->inject_exception(vcpu, EXC_PF, true, pf.error);
		return -EAGAIN;
	}
	return *got ? 0 : err;
}

static void mmio_crash_bytes(struct vcpu *vcpu, const struct io_access *a, const uint8_t *b,
			     size_t n, int err)
{
	vm_crash(vcpu, "MMIO %s at %#llx: cannot emulate the instruction (%d), bytes "
		 "%02x %02x %02x %02x %02x %02x (%zu fetched)", a->write ? "write" : "read",
		 (unsigned long long)a->addr, err, b[0], b[1], b[2], b[3], b[4], b[5], n);
}

void x86_emulate_mmio(struct vcpu *vcpu, const struct io_region *r, struct io_access *a)
{
	uint8_t buf[16] = { 0 };
	size_t got = 0;
	struct insn i;
	int err = mmio_fetch(vcpu, buf, &got);

	if (err == -EAGAIN)
		return;                      /* #PF injected: the guest retries */
	err = err ?: insn_decode(buf, got, mmio_mode(vcpu), &i);
	if (err)
		mmio_crash_bytes(vcpu, a, buf, got, err);
	a->write = i.kind == INSN_STORE_REG || i.kind == INSN_STORE_IMM;
	a->size = i.access_size;
	if (a->addr - r->start + a->size > r->size)
		vm_crash(vcpu, "MMIO access at %#llx runs past its device's range",
			 (unsigned long long)a->addr);
	if (a->write)
		a->value = insn_store_value(&i, gpr_get(vcpu, i.reg));
	if (r->handler(vcpu, a->addr - r->start, a, r->opaque) != IO_HANDLED)
		vm_crash(vcpu, "bad %u-byte MMIO %s at %#llx", a->size, a->write ? "write" : "read",
			 (unsigned long long)a->addr);
	if (!a->write) {
		uint64_t v = gpr_get(vcpu, i.reg);

		insn_apply_load(&i, a->value, &v);
		gpr_set(vcpu, i.reg, v);
	}
	virt->set_reg(vcpu, VREG_RIP, virt->get_reg(vcpu, VREG_RIP) + i.len);
}
