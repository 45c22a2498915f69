/*
 * The guest's MSR view: IA32_EFER and IA32_TSC read as on hardware, the
 * VMX capability MSRs and IA32_FEATURE_CONTROL are not the guest's
 * (VMX is hidden), and an MSR that does not exist raises #GP as it
 * would on hardware (SDM Vol. 4, and Vol. 3C 25.1.3 on the exits).
 * Exit status = failed checks.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("msr");

#define MSR_IA32_TSC 0x10
#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_EFER 0xc0000080
#define MSR_UNKNOWN 0x12345678

#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

static const char *vector_text(int v)
{
	if (v == -1)
		return "no fault";
	if (v == VEC_GP)
		return "#GP";
	if (v == VEC_UD)
		return "#UD";
	return "another exception";
}

/* A read of @msr must raise #GP. */
static int expect_rdmsr_gp(uint32_t msr, const char *name)
{
	uint64_t val = 0;
	int v = guest_try_rdmsr(msr, &val);

	if (v == -1)
		return check(0, "rdmsr %s (0x%x) -> #GP: read 0x%lx instead", name, msr, val);
	return check(v == VEC_GP, "rdmsr %s (0x%x) -> #GP (got vector %d, %s)", name, msr, v,
		     vector_text(v));
}

static int expect_wrmsr_gp(uint32_t msr, uint64_t val, const char *name)
{
	int v = guest_try_wrmsr(msr, val);

	return check(v == VEC_GP, "wrmsr %s (0x%x) = 0x%lx -> #GP (got vector %d, %s)", name, msr,
		     val, v, vector_text(v));
}

static int check_efer(void)
{
	uint64_t efer = 0;
	int v = guest_try_rdmsr(MSR_IA32_EFER, &efer);

	if (v != -1)
		return check(0, "rdmsr IA32_EFER: vector %d (%s)", v, vector_text(v));
	return check((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
		     "rdmsr IA32_EFER = 0x%lx has LME and LMA", efer);
}

static int check_tsc(void)
{
	uint64_t t0 = 0, t1 = 0;
	int v0, v1;
	unsigned i;

	v0 = guest_try_rdmsr(MSR_IA32_TSC, &t0);
	for (i = 0; i < 1000; i++)
		__asm__ volatile("pause");
	v1 = guest_try_rdmsr(MSR_IA32_TSC, &t1);
	if (v0 != -1 || v1 != -1)
		return check(0, "rdmsr IA32_TSC: vectors %d, %d", v0, v1);
	return check(t1 > t0, "rdmsr IA32_TSC increases: 0x%lx then 0x%lx", t0, t1);
}

/* The library's own probe, with no hypervisor involved: a non-canonical load. */
static int check_probe_self(void)
{
	uint64_t val;
	int v = guest_try_read64(0x8000000000000000ull, &val);

	return check(v == VEC_GP, "probe self-test: non-canonical load -> #GP (got %d)", v);
}

int main(const struct hv_boot_info *bi)
{
	int fail = 0;

	(void)bi;
	fail += check_probe_self();
	fail += check_efer();
	fail += check_tsc();
	fail += expect_rdmsr_gp(MSR_IA32_VMX_BASIC, "IA32_VMX_BASIC");
	fail += expect_wrmsr_gp(MSR_IA32_FEATURE_CONTROL, 0, "IA32_FEATURE_CONTROL");
	fail += expect_rdmsr_gp(MSR_UNKNOWN, "unknown");
	fail += expect_wrmsr_gp(MSR_UNKNOWN, 0, "unknown");
	printf("msr: %s\n", fail ? "FAIL" : "PASS");
	return fail;
}
