/*
 * What the guest's CPUID says (SDM Vol. 2A, CPUID): the hypervisor bit
 * set and VMX hidden in leaf 1, a printable vendor signature at
 * 0x40000000, a sane logical processor count, and leaf 0xB agreeing
 * with leaf 1 about the APIC id. Exit status = failed checks.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("cpuid");

#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID1_EDX_HTT (1u << 28)

static int check_leaf1(struct cpuid_regs l1)
{
	unsigned lp = (l1.ebx >> 16) & 0xff;
	int fail = 0;

	printf("cpuid: leaf 1: eax=0x%x ebx=0x%x ecx=0x%x edx=0x%x\n", l1.eax, l1.ebx, l1.ecx,
	       l1.edx);
	fail += check(!!(l1.ecx & CPUID1_ECX_HYPERVISOR), "CPUID.1:ECX[31] (hypervisor) = 1");
	fail += check(!(l1.ecx & CPUID1_ECX_VMX), "CPUID.1:ECX[5] (VMX) = 0");
	/* EBX[23:16] is only defined when EDX.HTT is set (SDM Vol. 2A, CPUID). */
	if (l1.edx & CPUID1_EDX_HTT)
		fail += check(lp >= 1, "CPUID.1:EBX[23:16] logical processors = %u >= 1", lp);
	else
		printf("cpuid: skip CPUID.1:EBX[23:16] = %u (EDX.HTT = 0: field undefined)\n", lp);
	return fail;
}

/* Non-empty, and every byte before the first NUL printable. */
static int is_printable_signature(const char *sig, size_t n)
{
	size_t i, len = 0;

	while (len < n && sig[len])
		len++;
	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (sig[i] < 0x20 || sig[i] >= 0x7f)
			return 0;
	for (; i < n; i++)
		if (sig[i])
			return 0;
	return 1;
}

static int check_hv_leaf(void)
{
	struct cpuid_regs r = cpuid(0x40000000, 0);
	char sig[13], shown[13];
	int fail = 0;

	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = '\0';
	str_printable(shown, sizeof(shown), sig);
	printf("cpuid: leaf 0x40000000: max leaf 0x%x signature '%s'\n", r.eax, shown);
	fail += check(is_printable_signature(sig, 12), "hypervisor signature printable, non-empty");
	fail += check(r.eax >= 0x40000000 && r.eax <= 0x400000ff,
		      "hypervisor max leaf 0x%x in [0x40000000, 0x400000ff]", r.eax);
	return fail;
}

static int check_leaf_b(uint32_t max_basic, struct cpuid_regs l1)
{
	struct cpuid_regs b;
	unsigned apic8 = l1.ebx >> 24;

	if (max_basic < 0xb) {
		printf("cpuid: skip leaf 0xB (max basic leaf 0x%x)\n", max_basic);
		return 0;
	}
	b = cpuid(0xb, 0);
	printf("cpuid: leaf 0xB.0: eax=0x%x ebx=0x%x ecx=0x%x edx=0x%x\n", b.eax, b.ebx, b.ecx,
	       b.edx);
	return check((b.edx & 0xff) == apic8,
		     "leaf 0xB x2APIC id 0x%x agrees with CPUID.1:EBX[31:24] = 0x%x", b.edx, apic8);
}

int main(const struct hv_boot_info *bi)
{
	struct cpuid_regs l0 = cpuid(0, 0), l1 = cpuid(1, 0);
	char vendor[13];
	int fail = 0;

	(void)bi;
	memcpy(vendor, &l0.ebx, 4);
	memcpy(vendor + 4, &l0.edx, 4);
	memcpy(vendor + 8, &l0.ecx, 4);
	vendor[12] = '\0';
	str_printable(vendor, sizeof(vendor), vendor);
	printf("cpuid: vendor '%s' max basic leaf 0x%x\n", vendor, l0.eax);
	fail += check_leaf1(l1);
	fail += check_hv_leaf();
	fail += check_leaf_b(l0.eax, l1);
	printf("cpuid: %s\n", fail ? "FAIL" : "PASS");
	return fail;
}
