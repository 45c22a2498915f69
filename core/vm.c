/*
 * VM life cycle: creation from the configuration, and what happens when
 * a guest crashes or powers off. Each VM has its own RAM block, nested
 * page tables mapping exactly that block, and devices that declared
 * themselves with DEFINE_UNIT.
 */
#include <stdarg.h>
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/smp.h"
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
#include "vdev/vpci.h"
#include "core/loader_linux.h"

#define VM_RESTART_LIMIT 16
#define VM_GATHER_TIMEOUT_MS 1000
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

const struct boot_module *vm_boot_module(const struct vm *vm, const char *name)
{
	return vm_find_module(vm->boot, name);
}

/*
 * Disks: a module must be there and hold whole sectors; empty disks come
 * from free memory, after the VM's RAM (virtio_blk.c allocates them).
 */
static void vm_check_disks(struct vm_config *c, const char *file, const struct boot_info *bi,
			   uint64_t free)
{
	uint64_t used = c->memory;

	for (const struct disk_config *d = c->disks; d < c->disks + c->ndisks; d++) {
		const struct boot_module *m;

		if (!d->module[0]) {
			uint64_t size = ALIGN_UP(d->size, PAGE_SIZE);

			if (used <= free && size > free - used)
				config_error(file, d->line, c,
					     "disk: empty disk of %lluK exceeds the %lluK free after the VM's memory and earlier disks",
					     (unsigned long long)(d->size >> 10),
					     (unsigned long long)((free - used) >> 10));
			used += size;
			continue;
		}
		m = vm_find_module(bi, d->module);
		if (!m)
			config_error(file, d->line, c, "disk: no boot module named '%s'", d->module);
		else if (m->end == m->start || (m->end - m->start) % 512)
			config_error(file, d->line, c,
				     "disk: module '%s' is %llu bytes, not a non-zero multiple of 512",
				     d->module, (unsigned long long)(m->end - m->start));
	}
}

/* What the text alone could not check: CPUs, memory, the image, disks. */
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
	if (c->memory <= free)
		vm_check_disks(c, file, bi, free);
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
		.reserved_gpa = vpci_ecam_base(vm),
		.reserved_size = vpci_ecam_base(vm) ? VPCI_ECAM_SIZE : 0,
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
		*vm = (struct vm){ .id = i, .cfg = c, .cfg_file = file, .boot = bi };
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

/*
 * Bring the VM's other vCPUs to vm_park(): an NMI makes a vCPU in the
 * guest exit; one that is in the hypervisor notices the state before
 * its next VM entry (see vm_park()).
 */
static void vm_kick_others(struct vcpu *self)
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

/* Wait until every other vCPU has parked, kicking them again each ms. */
static bool vm_gather(struct vcpu *self)
{
	struct vm *vm = self->vm;

	for (unsigned ms = 0; ms < VM_GATHER_TIMEOUT_MS; ms++) {
		vm_kick_others(self);
		for (unsigned us = 0; us < 1000; us += 10) {
			if (__atomic_load_n(&vm->parked, __ATOMIC_ACQUIRE) == vm->nvcpus - 1)
				return true;
			udelay(10);
		}
	}
	return false;
}

/*
 * Move a running VM to @to. The vCPU that does so owns the stop or
 * restart; any other that tries at the same time (two vCPUs crashing at
 * once) parks with the rest. A restart's owner may still turn it into a
 * stop.
 */
static void vm_claim(struct vcpu *vcpu, enum vm_state to)
{
	struct vm *vm = vcpu->vm;
	enum vm_state from = VM_RUNNING;

	if (vm->state == VM_RESTARTING && vm->owner == vcpu) {
		__atomic_store_n(&vm->state, to, __ATOMIC_RELEASE);
		return;
	}
	if (!__atomic_compare_exchange_n(&vm->state, &from, to, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		vm_park(vcpu);
	vm->owner = vcpu;
}

static __noreturn void vm_stop(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	vm_claim(vcpu, VM_STOPPED);
	vm_print_exit_stats(vcpu);
	console_input_vm_stopped(vm);
	if (!vm_gather(vcpu))
		pr_warn("vm %s: its other vCPUs did not stop within %u ms\n", vm->name,
			VM_GATHER_TIMEOUT_MS);
	pr_info("vm %s: stopped (%llu exits; unclaimed ports: %llu reads, %llu writes)\n",
		vm->name, (unsigned long long)vcpu->exits,
		(unsigned long long)vm->pio.unclaimed_reads,
		(unsigned long long)vm->pio.unclaimed_writes);
	if (__atomic_sub_fetch(&vms_running, 1, __ATOMIC_ACQ_REL) == 0)
		vm_on_all_stopped();
	cpu_halt_forever();
}

/* Every vCPU back to its power-on state: the BSP at the image's entry,
 * the others waiting for INIT-SIPI (SDM Vol. 3A 9.4). */
static void vm_reset_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vm->vcpus[i]->sipi_ready = false;
		vlapic_reset(vm->vcpus[i]);
	}
}

/* This vCPU, once its VM has been reset, starts again on this CPU. */
static __noreturn void vcpu_restart(struct vcpu *vcpu)
{
	virt->flush_npt(vcpu);
	if (vcpu->idx)
		cpu_wait_for_sipi(vcpu);
	virt->vcpu_run(vcpu);
}

/* Counted once; the owner of a restart waits for the count. */
void vm_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	__atomic_add_fetch(&vm->parked, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&vm->state, __ATOMIC_ACQUIRE) == VM_RESTARTING)
		cpu_relax();
	if (vm->state == VM_STOPPED)
		cpu_halt_forever();
	vcpu_restart(vcpu);
}

/*
 * The vCPU that asks for the restart gathers the others, reloads the
 * image and resets the devices while they wait, then lets them go.
 */
static __noreturn void vm_restart(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	const struct unit *u;

	vm_claim(vcpu, VM_RESTARTING);
	if (++vm->restarts > VM_RESTART_LIMIT) {
		pr_err("vm %s: restarted too often; stopping instead\n", vm->name);
		vm_stop(vcpu);
	}
	pr_info("vm %s: restarting (%u)\n", vm->name, vm->restarts);
	if (!vm_gather(vcpu)) {
		pr_err("vm %s: its other vCPUs did not stop within %u ms; stopping instead\n",
		       vm->name, VM_GATHER_TIMEOUT_MS);
		vm_stop(vcpu);
	}
	if (vm_load_image(vm)) {
		pr_err("vm %s: reloading the image failed\n", vm->name);
		vm_stop(vcpu);
	}
	for (u = __units_start; u < __units_end; u++)
		if (u->vm_reset)
			u->vm_reset(vm);
	vm_reset_vcpus(vm);
	vm->parked = 0;
	vm->owner = NULL;
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	vcpu_restart(vcpu);
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
	struct vm *vm = vcpu->vm;

	if (vm->cfg->on_reboot == VM_ACTION_STOP) {
		pr_info("vm %s: %s: stopping (on_reboot = stop)\n", vm->name, how);
		vm_stop(vcpu);
	}
	pr_info("vm %s: %s: rebooting\n", vm->name, how);
	vm_restart(vcpu);
}
