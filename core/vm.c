/*
 * VM life cycle: creation from the configuration, and what happens when
 * a guest crashes or powers off. Each VM has its own RAM block, nested
 * page tables mapping exactly that block, and devices that declared
 * themselves with DEFINE_UNIT.
 */
#include <stdarg.h>
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/virt.h"
#include "boot/mb2.h"
#include "core/console_input.h"
#include "core/errno.h"
#include "core/options.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "core/unit.h"
#include "core/vm.h"
#include "mm/kmem.h"
#include "mm/mm.h"
#include "mm/pmm.h"
#include "vdev/vlapic.h"
#include "vdev/acpi_tables.h"
#include "core/loader_linux.h"

#define VM_RESTART_LIMIT 16
#define VM_IO_REGIONS 32

static struct vm vms[CONFIG_MAX_VMS];
static volatile unsigned vms_running;

void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (range_overflows(gpa, len) || gpa >= vm->ram_size || len > vm->ram_size - gpa)
		return NULL;
	return (uint8_t *)phys_to_virt(vm->ram_hpa) + gpa;
}

struct vcpu *vm_vcpu_of_cpu(unsigned cpu)
{
	return cpu < MAX_CPUS ? pcpus[cpu].vcpu : NULL;
}

struct vm *vm_get(unsigned id)
{
	return id < CONFIG_MAX_VMS && vms[id].cfg ? &vms[id] : NULL;
}

unsigned vm_count_running(void)
{
	return vms_running;
}

static const struct boot_module *vm_find_module(const struct boot_info *bi, const char *name)
{
	for (unsigned i = 0; i < bi->nmodules; i++)
		if (!strcmp(bi->modules[i].cmdline, name))
			return &bi->modules[i];
	return NULL;
}

/* What the text alone could not check: CPUs, memory, the image. */
static bool vm_check_machine(struct vm_config *c, const char *file, const struct boot_info *bi)
{
	uint64_t absent = c->cpu_mask & ~((ncpus_online >= 64) ? ~0ull : (1ull << ncpus_online) - 1);
	uint64_t free = pmm_free_pages() * PAGE_SIZE;

	if (absent)
		config_error(file, c->cpus_line, c, "vm %s: CPU %u is not online (%u CPUs are)",
			     c->name, __builtin_ctzll(absent), ncpus_online);
	if (c->memory > free)
		config_error(file, c->memory_line, c, "memory: %lluM exceeds the %lluM free",
			     (unsigned long long)(c->memory >> 20), (unsigned long long)(free >> 20));
	if (!vm_find_module(bi, c->kernel))
		config_error(file, c->kernel_line, c, "kernel: no boot module named '%s'", c->kernel);
	if (c->initrd[0] && !vm_find_module(bi, c->initrd))
		config_error(file, c->initrd_line, c, "initrd: no boot module named '%s'", c->initrd);
	return c->valid;
}

static int vm_alloc_ram(struct vm *vm)
{
	vm->ram_hpa = pmm_alloc(vm->ram_size / PAGE_SIZE, MIB(2), 0);
	if (!vm->ram_hpa)
		return -ENOMEM;
	if (pt_init(&vm->npt, virt->npt_format))
		return -ENOMEM;
	return pt_map(&vm->npt, 0, vm->ram_hpa, vm->ram_size, PT_R | PT_W | PT_X);
}

static int vm_load_image(struct vm *vm)
{
	struct guest_mem mem = { phys_to_virt(vm->ram_hpa), vm->ram_size };
	struct guest_load_args a = {
		.image = vm->image, .image_len = vm->image_len, .cmdline = vm->cfg->cmdline,
		.vm_id = vm->id, .ncpus = vm->nvcpus,
	};

	memset(mem.hva, 0, mem.size);
	if (loader_is_bzimage(vm->image, vm->image_len))
		return loader_load_linux(vm->cfg->kernel, &a, vm->initrd, vm->initrd_len,
					 ACPI_TABLES_RSDP, &mem, &vm->entry);
	if (vm->initrd)
		pr_warn("vm %s: initrd '%s' ignored: only Linux kernels take one\n", vm->name,
			vm->cfg->initrd);
	return loader_load(vm->cfg->kernel, &a, &mem, &vm->entry);
}

static int vm_create_units(struct vm *vm)
{
	const struct unit *u;
	int err = 0;

	for (u = __units_start; u < __units_end && !err; u++)
		if (u->vm_create)
			err = u->vm_create(vm);
	if (!err)
		return 0;
	pr_err("vm %s: device %s: set-up failed (%d)\n", vm->name, (u - 1)->name, err);
	for (u = u - 1; u-- > __units_start;)
		if (u->vm_destroy)
			u->vm_destroy(vm);
	return err;
}

static int vm_create_vcpus(struct vm *vm)
{
	uint64_t mask = vm->cfg->cpu_mask;

	while (mask && vm->nvcpus < VM_MAX_VCPUS) {
		unsigned cpu = (unsigned)__builtin_ctzll(mask);
		struct vcpu *v = kzalloc(sizeof(*v));

		mask &= mask - 1;
		if (!v)
			return -ENOMEM;
		*v = (struct vcpu){ .vm = vm, .idx = vm->nvcpus, .pcpu = cpu,
				    .mtrr_def_type = 0xc06 };   /* enabled, write-back */
		v->vlapic = kzalloc(sizeof(*v->vlapic));
		if (!v->vlapic || virt->vcpu_create(v))
			return -ENOMEM;
		vlapic_reset(v);
		vm->vcpus[vm->nvcpus++] = v;
	}
	return mask ? -E2BIG : 0;
}

/* Give back what a failed vm_create() took (vCPU objects stay: a few bytes). */
static void vm_undo_create(struct vm *vm)
{
	if (vm->npt.root)
		pt_destroy(&vm->npt);
	if (vm->ram_hpa)
		pmm_free(vm->ram_hpa, vm->ram_size / PAGE_SIZE);
	io_bus_destroy(&vm->pio);
	io_bus_destroy(&vm->mmio);
}

static int vm_create(struct vm *vm, const struct boot_module *m, const struct boot_module *rd)
{
	int err;

	vm->image = phys_to_virt(m->start);
	vm->image_len = m->end - m->start;
	if (rd) {
		vm->initrd = phys_to_virt(rd->start);
		vm->initrd_len = rd->end - rd->start;
	}
	vm->ram_size = vm->cfg->memory;
	err = vm_alloc_ram(vm);
	err = err ?: io_bus_init(&vm->pio, VM_IO_REGIONS);
	err = err ?: io_bus_init(&vm->mmio, VM_IO_REGIONS);
	err = err ?: vm_create_vcpus(vm);
	err = err ?: vm_load_image(vm);
	err = err ?: vm_create_units(vm);
	return err;
}

static void vm_bind(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		pcpus[vm->vcpus[i]->pcpu].vcpu = vm->vcpus[i];
	vm->state = VM_RUNNING;
	vms_running++;
	pr_info("vm %s: created: %lluM RAM at host %#llx, %u vCPU(s) on CPU(s) %#llx, "
		"%s image '%s', entry %#llx\n", vm->name, (unsigned long long)(vm->ram_size >> 20),
		(unsigned long long)vm->ram_hpa, vm->nvcpus, (unsigned long long)vm->cfg->cpu_mask,
		vm->entry.format, vm->cfg->kernel, (unsigned long long)vm->entry.rip);
}

unsigned vm_create_all(struct config *cfg, const char *file, const struct boot_info *bi)
{
	unsigned created = 0;

	for (unsigned i = 0; i < cfg->nvms; i++) {
		struct vm_config *c = &cfg->vms[i];
		struct vm *vm = &vms[i];

		if (!c->valid || !vm_check_machine(c, file, bi))
			continue;
		*vm = (struct vm){ .id = i, .cfg = c, .cfg_file = file };
		memcpy(vm->name, c->name, sizeof(vm->name));
		if (vm_create(vm, vm_find_module(bi, c->kernel),
			      c->initrd[0] ? vm_find_module(bi, c->initrd) : NULL)) {
			vm_undo_create(vm);
			config_error(file, c->line, c, "vm %s: not started: set-up failed", c->name);
			continue;
		}
		vm_bind(vm);
		created++;
	}
	return created;
}

/* Stop the VM's other vCPUs: an NMI makes them exit and halt. */
static void vm_stop_others(struct vcpu *self)
{
	struct vm *vm = self->vm;

	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i] != self)
			lapic_send_ipi(pcpus[vm->vcpus[i]->pcpu].apic_id, ICR_NMI | ICR_LEVEL_ASSERT);
}

/* The most frequent exit reasons of @vcpu, on one line. */
static void vm_print_exit_stats(struct vcpu *vcpu)
{
	char line[240];
	size_t n = 0;
	bool used[VCPU_EXIT_SLOTS] = { false };

	for (int k = 0; k < 6 && n < sizeof(line); k++) {
		unsigned best = 0;
		uint32_t max = 0;

		for (unsigned i = 0; i < VCPU_EXIT_SLOTS; i++)
			if (!used[i] && vcpu->exit_counts[i] > max)
				max = vcpu->exit_counts[best = i];
		if (!max)
			break;
		used[best] = true;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s %u", k ? ", " : "",
				      virt->exit_name(best), max);
	}
	if (n)
		pr_info("vm %s: vcpu%u exits by reason: %s\n", vcpu->vm->name, vcpu->idx, line);
}

static __noreturn void vm_stop(struct vcpu *vcpu)
{
	vm_print_exit_stats(vcpu);
	struct vm *vm = vcpu->vm;

	vm->state = VM_STOPPED;
	/* Before the NMIs: a vCPU they halt may hold this VM's console lock. */
	console_input_vm_stopped(vm);
	vm_stop_others(vcpu);
	pr_info("vm %s: stopped (%llu exits; unclaimed ports: %llu reads, %llu writes)\n",
		vm->name, (unsigned long long)vcpu->exits,
		(unsigned long long)vm->pio.unclaimed_reads,
		(unsigned long long)vm->pio.unclaimed_writes);
	if (__atomic_sub_fetch(&vms_running, 1, __ATOMIC_ACQ_REL) == 0)
		vm_on_all_stopped();
	cpu_halt_forever();
}

static __noreturn void vm_restart(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	const struct unit *u;

	if (vm->nvcpus > 1 || ++vm->restarts > VM_RESTART_LIMIT) {
		pr_err("vm %s: %s; stopping instead\n", vm->name, vm->nvcpus > 1 ?
		       "restarting a VM with several vCPUs is not supported yet" :
		       "restarted too often");
		vm_stop(vcpu);
	}
	pr_info("vm %s: restarting (%u)\n", vm->name, vm->restarts);
	if (vm_load_image(vm)) {
		pr_err("vm %s: reloading the image failed\n", vm->name);
		vm_stop(vcpu);
	}
	for (u = __units_start; u < __units_end; u++)
		if (u->vm_reset)
			u->vm_reset(vm);
	vlapic_reset(vcpu);
	virt->flush_npt(vcpu);
	virt->vcpu_run(vcpu);
}

void vm_crash(struct vcpu *vcpu, const char *fmt, ...)
{
	struct vm *vm = vcpu->vm;
	char why[160];
	va_list ap;

	/* One printk per line: other CPUs print too. */
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_err("vm %s: vcpu%u crashed: %s\n", vm->name, vcpu->idx, why);
	virt->dump(vcpu);
	if (vm->cfg->on_crash == VM_ACTION_RESTART)
		vm_restart(vcpu);
	vm_stop(vcpu);
}

void vm_poweroff(struct vcpu *vcpu, uint64_t status, const char *how)
{
	struct vm *vm = vcpu->vm;

	pr_info("vm %s: %s, exit status %llu (%#llx)\n", vm->name, how,
		(unsigned long long)status, (unsigned long long)status);
	if (vm->cfg->on_poweroff == VM_ACTION_RESTART)
		vm_restart(vcpu);
	vm_stop(vcpu);
}

void vm_reboot(struct vcpu *vcpu, const char *how)
{
	pr_info("vm %s: %s: rebooting\n", vcpu->vm->name, how);
	vm_restart(vcpu);
}
