/*
 * The hypervisor's page tables. Everything below 4 GiB is mapped
 * uncached (it holds the local APIC, IOAPIC, PCIe ECAM, VT-d units and
 * the like), RAM from the memory map is mapped write-back, the image gets
 * W^X, and page 0 stays unmapped so that a NULL dereference faults.
 */
#include "mm/hvmap.h"
#include "mm/paging.h"
#include "mm/pmm.h"
#include "mm/mm.h"
#include "arch/x86/cpu.h"
#include "arch/x86/pgtable.h"
#include "core/assert.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/spinlock.h"
#include "core/string.h"

#define LOW_4G GIB(4)
#define VA_LIMIT (1ull << 47)   /* the walker maps the lower canonical half */

extern char __image_start[], __text_end[], __rodata_end[], __image_end[];

static struct pt hv_pt;
static bool hv_pt_live;
static spinlock_t hvmap_lock = SPINLOCK_INIT;

static bool is_ram_type(uint32_t type)
{
	return type == MEM_AVAILABLE || type == MEM_ACPI_RECLAIMABLE || type == MEM_NVS;
}

static int hvmap_memory_map(const struct boot_info *bi)
{
	int err = pt_map(&hv_pt, PAGE_SIZE, PAGE_SIZE, LOW_4G - PAGE_SIZE, PT_R | PT_W | PT_UC);

	for (unsigned i = 0; !err && i < bi->nmem; i++) {
		const struct mem_region *m = &bi->mem[i];
		uint64_t base = MAX(ALIGN_DOWN(m->base, PAGE_SIZE), PAGE_SIZE);
		uint64_t end;

		if (range_overflows(m->base, m->len) || base >= VA_LIMIT)
			continue;    /* the allocator has reported such entries */
		end = MIN(ALIGN_UP(m->base + m->len, PAGE_SIZE), VA_LIMIT);
		if (end <= base)
			continue;
		if (is_ram_type(m->type))
			err = pt_map(&hv_pt, base, base, end - base, PT_R | PT_W);
		else if (base >= LOW_4G)
			err = pt_map(&hv_pt, base, base, end - base, PT_R | PT_W | PT_UC);
	}
	return err;
}

static int hvmap_image(void)
{
	uint64_t text = (uint64_t)(uintptr_t)__image_start;
	uint64_t rodata = (uint64_t)(uintptr_t)__text_end;
	uint64_t data = (uint64_t)(uintptr_t)__rodata_end;
	uint64_t end = ALIGN_UP((uint64_t)(uintptr_t)__image_end, PAGE_SIZE);
	int err;

	err = pt_map(&hv_pt, text, text, rodata - text, PT_R | PT_X);
	if (!err)
		err = pt_map(&hv_pt, rodata, rodata, data - rodata, PT_R);
	if (!err)
		err = pt_map(&hv_pt, data, data, end - data, PT_R | PT_W);
	return err;
}

/* APs load CR3 in 32-bit code, so the root must lie below 4 GiB. */
static int hvmap_root_below_4g(void)
{
	paddr_t low;

	if (hv_pt.root < LOW_4G)
		return 0;
	low = pmm_alloc(1, PAGE_SIZE, LOW_4G);
	if (!low)
		return -ENOMEM;
	memcpy(phys_to_virt(low), phys_to_virt(hv_pt.root), PAGE_SIZE);
	pmm_free(hv_pt.root, 1);
	hv_pt.root = low;
	return 0;
}

static bool cpu_has_1g_pages(void)
{
	struct cpuid_regs r;

	cpuid_count(0x80000001, 0, &r);
	return r.edx & (1u << 26);
}

int hvmap_init(const struct boot_info *bi)
{
	int err = pt_init(&hv_pt, cpu_has_1g_pages() ? &x86_hv_format : &x86_hv_format_2m);

	if (!err)
		err = hvmap_memory_map(bi);
	if (!err)
		err = hvmap_image();
	if (!err)
		err = hvmap_root_below_4g();
	if (err) {
		pr_err("mm: cannot build the hypervisor page tables (%d)\n", err);
		return err;
	}
	write_cr3(hv_pt.root);
	hv_pt_live = true;
	pr_info("mm: page tables live: text RX, rodata R, data RW+NX, page 0 unmapped\n");
	return 0;
}

paddr_t hvmap_root(void)
{
	ASSERT(hv_pt_live);
	return hv_pt.root;
}

static void *hvmap_range(paddr_t pa, uint64_t len, uint32_t attr)
{
	uint64_t base = ALIGN_DOWN(pa, PAGE_SIZE);
	uint64_t end;
	paddr_t found;
	int err = 0;

	if (!len || range_overflows(pa, len) || pa < PAGE_SIZE)
		return NULL;
	end = ALIGN_UP(pa + len, PAGE_SIZE);
	if (!hv_pt_live)
		return end <= LOW_4G ? phys_to_virt(pa) : NULL;
	spin_lock(&hvmap_lock);
	for (uint64_t va = base; !err && va < end; va += PAGE_SIZE) {
		if (pt_lookup(&hv_pt, va, &found, NULL))
			err = pt_map(&hv_pt, va, va, PAGE_SIZE, attr);
	}
	spin_unlock(&hvmap_lock);
	/* Only new mappings were added: no stale TLB entries to flush. */
	return err ? NULL : phys_to_virt(pa);
}

void *hvmap_mmio(paddr_t pa, uint64_t len)
{
	return hvmap_range(pa, len, PT_R | PT_W | PT_UC);
}

const void *hvmap_ro(paddr_t pa, uint64_t len)
{
	return hvmap_range(pa, len, PT_R);
}

int hvmap_protect(paddr_t pa, uint64_t len, uint32_t attr)
{
	int err;

	if (!IS_ALIGNED(pa | len, PAGE_SIZE) || !len || range_overflows(pa, len))
		return -EINVAL;
	spin_lock(&hvmap_lock);
	err = pt_map(&hv_pt, pa, pa, len, attr);
	spin_unlock(&hvmap_lock);
	for (uint64_t va = pa; !err && va < pa + len; va += PAGE_SIZE)
		invlpg(va);
	return err;
}
