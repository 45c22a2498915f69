/* Choosing the CPU-virtualization back-end at boot, from what every CPU offers. */
#include "arch/x86/virt.h"
#include "arch/x86/virt_probe.h"
#include "core/pcpu.h"
#include "core/printk.h"

const struct virt_backend *virt;

void virt_select(void)
{
	if (virt_has_ept() && pcpus[0].arch.caps.unrestricted)
		virt = vmx_backend_get();
	else if (virt_has_npt())
		virt = svm_backend_get();
	if (virt) {
		pr_info("virt: using %s with %s\n", virt->name, virt->npt_format->name);
		return;
	}
	pr_warn("virt: no usable back-end (VT-x with EPT and unrestricted guest, or AMD-V "
		"with nested paging, is needed); VMs cannot start\n");
}
