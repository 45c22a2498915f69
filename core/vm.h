/*
 * Virtual machines and their vCPUs, as the generic code sees them. The
 * CPU back-end (arch/x86/vmx*.c, later svm*.c) keeps its own state behind
 * vcpu->arch; nothing here knows about a VMCS.
 */
#ifndef CORE_VM_H
#define CORE_VM_H

#include "core/config.h"
#include "core/io.h"
#include "core/loader.h"
#include "core/types.h"
#include "mm/paging.h"

#define VM_MAX_VCPUS 8
/* Exit-reason counters per vCPU; the back-end names the slots. */
#define VCPU_EXIT_SLOTS 0x92

enum vm_state { VM_STOPPED, VM_RUNNING, VM_RESTARTING };

/* Guest general registers, saved by the exit path in this order. */
struct guest_regs {
	uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* The exit path pushes them into the stack's reserved top (boot/layout.h). */
_Static_assert(sizeof(struct guest_regs) == 120, "vmx_entry.S pushes 15 registers");

struct vcpu {
	struct vm *vm;
	unsigned idx;              /* within the VM; also its APIC id */
	unsigned pcpu;             /* physical CPU it runs on */
	struct guest_regs *regs;   /* at the top of the pcpu's stack */
	void *arch;                /* back-end state (VMCS, ...) */
	struct vlapic *vlapic;
	volatile bool irq_pending; /* the vLAPIC has requests: check before entry */
	uint64_t mtrr_def_type;    /* IA32_MTRR_DEF_TYPE as the guest set it */
	/* Secondary vCPUs wait for INIT-SIPI (SDM Vol. 3A 9.4.4). */
	volatile bool sipi_ready;
	struct guest_entry ap_entry;
	uint64_t exits;
	uint32_t exit_counts[VCPU_EXIT_SLOTS];   /* by back-end exit reason */
};

struct vm {
	unsigned id;
	char name[CONFIG_NAME_MAX];
	const struct vm_config *cfg;
	const char *cfg_file;
	const struct boot_info *boot;   /* its modules: disks are found there */
	volatile enum vm_state state;
	paddr_t ram_hpa;
	uint64_t ram_size;
	struct pt npt;             /* EPT / NPT: GPA -> HPA */
	struct io_bus pio;
	struct io_bus mmio;
	const void *image;         /* the kernel module, kept for restarts */
	size_t image_len;
	const void *initrd;        /* Linux initial RAM disk module, or NULL */
	size_t initrd_len;
	struct guest_entry entry;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	unsigned nvcpus;
	unsigned restarts;
	unsigned parked;           /* vCPUs that reached vm_park() */
	struct vcpu *owner;        /* the vCPU stopping or restarting the VM */
};

/* The state a vCPU starts in: the loader's, or a SIPI's for secondaries. */
static inline const struct guest_entry *vcpu_entry(const struct vcpu *v)
{
	return v->idx ? &v->ap_entry : &v->vm->entry;
}

/*
 * Create every valid VM of @cfg: check it against the machine and the
 * boot modules, then allocate, map and load it, and bind its vCPUs to
 * their CPUs. A VM that fails is reported as "FILE:LINE: ..." and left
 * out. Returns the number of VMs created.
 */
struct boot_info;
unsigned vm_create_all(struct config *cfg, const char *file, const struct boot_info *bi);
/* The boot module named @name (as vm_create_all() found them), or NULL. */
struct boot_module;
const struct boot_module *vm_boot_module(const struct vm *vm, const char *name);
/* The vCPU this physical CPU runs, or NULL. */
struct vcpu *vm_vcpu_of_cpu(unsigned cpu);
unsigned vm_count_running(void);
/* The VM with @id (its place in the configuration), or NULL if it was
 * never set up; check its state. */
struct vm *vm_get(unsigned id);
/* Called once the last running VM has stopped (core/main.c). */
void vm_on_all_stopped(void);

/* Host address of [gpa, gpa+len) if it lies wholly in guest RAM. */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

/*
 * Why a VM stops. crash: a guest fault (triple fault, bad access,
 * unknown exit); poweroff: the guest asked (hypercall, debug exit).
 * Both print their reason and apply the configured action: a stopped VM
 * halts its CPUs; a restarted one re-enters the guest from its entry
 * state. Neither returns to the caller.
 */
__noreturn void vm_crash(struct vcpu *vcpu, const char *fmt, ...) __printf(2, 3);
__noreturn void vm_poweroff(struct vcpu *vcpu, uint64_t status, const char *how);
/* The guest asked for a reset: the VM restarts or stops as on_reboot says. */
__noreturn void vm_reboot(struct vcpu *vcpu, const char *how);

/*
 * A VM that is no longer running (another vCPU stopped or is restarting
 * it) wants each of its vCPUs here, at a point where the vCPU holds no
 * lock: an NMI exit, the check before VM entry, the wait for SIPI.
 * Stopped: the CPU halts. Restarting: the vCPU waits, then starts again.
 */
__noreturn void vm_park(struct vcpu *vcpu);

static inline bool vm_wants_park(const struct vcpu *vcpu)
{
	return vcpu->vm->state != VM_RUNNING;
}

/* Generic handlers the back-end calls with decoded requests. */
/* IN or OUT of @size bytes at @port through RAX (the back-end steps over it). */
void vcpu_handle_pio(struct vcpu *vcpu, uint16_t port, uint8_t size, bool write);
/*
 * After a host interrupt or a HLT, on the vCPU's own CPU: whatever shares
 * the host timer (the vLAPIC timer, the console input poll) runs if due
 * and arms the timer again.
 */
void vcpu_timers_check(struct vcpu *vcpu);
/* Print the general registers after a crash. */
void vcpu_dump_gprs(const struct guest_regs *r);
void vcpu_handle_hypercall(struct vcpu *vcpu);
/* A guest-physical access outside RAM: a device's, else the VM stops. */
void vcpu_handle_mmio(struct vcpu *vcpu, struct io_access *a);
/* Decode the faulting instruction and carry out the access (arch/x86/mmio.c). */
void x86_emulate_mmio(struct vcpu *vcpu, const struct io_region *r, struct io_access *a);

#endif
