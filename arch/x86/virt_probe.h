/* What hardware virtualization each CPU offers. */
#ifndef ARCH_X86_VIRT_PROBE_H
#define ARCH_X86_VIRT_PROBE_H

#include "arch/x86/pcpu_arch.h"

/* Fill this CPU's pcpu->arch.caps; enables VMX in IA32_FEATURE_CONTROL
 * when the firmware left it unlocked. */
void virt_probe_this_cpu(void);
/* Print the boot CPU's findings and warn about CPUs that differ. */
void virt_probe_report(void);
/* Usable on every online CPU? */
bool virt_has_vmx(void);
bool virt_has_ept(void);
bool virt_has_svm(void);
bool virt_has_npt(void);

#endif
