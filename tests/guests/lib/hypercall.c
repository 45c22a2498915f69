/*
 * Hypercalls (core/guest_abi.h): RAX = number, RDI/RSI/RDX = arguments,
 * result in RAX. Intel's VT-x has VMCALL, AMD's SVM has VMMCALL, and each
 * raises #UD on the other vendor's CPUs, so the instruction is chosen
 * from the CPUID vendor string once at start.
 *
 * The ABI promises that every register but RAX survives. This wrapper
 * does not rely on it (the argument registers and the ones a SYSCALL
 * would clobber are declared clobbered), so a hypervisor that breaks the
 * promise fails hcfuzz's register check rather than every guest at random.
 */
#include "tests/guests/lib/lib_int.h"

int hypercall_use_vmmcall;

void hypercall_init(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	char vendor[13];

	memcpy(vendor, &r.ebx, 4);
	memcpy(vendor + 4, &r.edx, 4);
	memcpy(vendor + 8, &r.ecx, 4);
	vendor[12] = '\0';
	hypercall_use_vmmcall = !strcmp(vendor, "AuthenticAMD") ||
				!strcmp(vendor, "HygonGenuine");
}

long hypercall(long nr, long a0, long a1, long a2)
{
	if (hypercall_use_vmmcall)
		__asm__ volatile("vmmcall"
				 : "+a"(nr), "+D"(a0), "+S"(a1), "+d"(a2)
				 :
				 : "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
	else
		__asm__ volatile("vmcall"
				 : "+a"(nr), "+D"(a0), "+S"(a1), "+d"(a2)
				 :
				 : "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
	return nr;
}
