/*
 * Small-object allocator over the frame allocator.
 *
 * Sizes up to 2048 bytes come from eight power-of-two classes (16..2048).
 * Each class carves whole pages; slot 0 of such a page holds a small
 * header naming the class, so an object is never page-aligned and kfree
 * finds its class by rounding down to the page. Objects of a class are
 * aligned to the class size. Class pages are never returned to the frame
 * allocator: freed objects go onto the class's free list for reuse.
 *
 * Larger sizes get whole, page-aligned runs of frames straight from the
 * frame allocator, recorded in a list (its nodes are class objects) so
 * kfree knows how many pages to give back. They are expected to be few.
 */
#include "core/assert.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "mm/kmem.h"
#include "mm/mm.h"
#include "mm/pmm.h"

#define KMEM_MIN_SHIFT 4
#define KMEM_MAX_SHIFT 11
#define KMEM_NCLASSES (KMEM_MAX_SHIFT - KMEM_MIN_SHIFT + 1)
#define KMEM_MAX_SMALL (1UL << KMEM_MAX_SHIFT)
#define KMEM_MAGIC 0x6b6d656du /* "kmem" */

/* Slot 0 of every class page. */
struct kmem_page {
	uint32_t magic;
	uint32_t cls;
};

struct kmem_obj {
	struct kmem_obj *next;
};

struct kmem_large {
	struct kmem_large *next;
	paddr_t pa;
	uint64_t npages;
};

BUILD_ASSERT(sizeof(struct kmem_page) <= (1u << KMEM_MIN_SHIFT));
BUILD_ASSERT(sizeof(struct kmem_obj) <= (1u << KMEM_MIN_SHIFT));

static struct {
	spinlock_t lock;
	struct kmem_obj *free[KMEM_NCLASSES];
	struct kmem_large *large;
} kmem = { .lock = SPINLOCK_INIT };

static size_t class_size(unsigned cls)
{
	return (size_t)1 << (cls + KMEM_MIN_SHIFT);
}

/* The smallest class that holds @size (<= KMEM_MAX_SMALL) bytes. */
static unsigned class_of(size_t size)
{
	unsigned shift = KMEM_MIN_SHIFT;

	while (((size_t)1 << shift) < size)
		shift++;
	return shift - KMEM_MIN_SHIFT;
}

/* Carve a fresh page into objects of class @cls. Lock held. */
static bool class_refill(unsigned cls)
{
	paddr_t pa = pmm_alloc_page();
	size_t size = class_size(cls);
	struct kmem_page *page;

	if (!pa)
		return false;
	page = phys_to_virt(pa);
	page->magic = KMEM_MAGIC;
	page->cls = cls;
	for (size_t off = PAGE_SIZE - size; off >= size; off -= size) {
		struct kmem_obj *o = (struct kmem_obj *)((char *)page + off);

		o->next = kmem.free[cls];
		kmem.free[cls] = o;
	}
	return true;
}

/* Pop an object of class @cls (contents not zeroed). Lock held. */
static void *class_alloc(unsigned cls)
{
	struct kmem_obj *o;

	if (!kmem.free[cls] && !class_refill(cls))
		return NULL;
	o = kmem.free[cls];
	kmem.free[cls] = o->next;
	return o;
}

static void class_free(void *p, unsigned cls)
{
	struct kmem_obj *o = p;

	o->next = kmem.free[cls];
	kmem.free[cls] = o;
}

static void *kmem_alloc_small(size_t size)
{
	unsigned cls = class_of(size);
	void *p;

	spin_lock(&kmem.lock);
	p = class_alloc(cls);
	spin_unlock(&kmem.lock);
	if (p)
		memset(p, 0, class_size(cls));
	return p;
}

static void *kmem_alloc_large(size_t size)
{
	uint64_t npages = ALIGN_UP((uint64_t)size, PAGE_SIZE) >> PAGE_SHIFT;
	struct kmem_large *rec;
	paddr_t pa = 0;

	spin_lock(&kmem.lock);
	rec = class_alloc(class_of(sizeof(*rec)));
	if (rec)
		pa = pmm_alloc(npages, PAGE_SIZE, 0);
	if (rec && pa) {
		*rec = (struct kmem_large){ kmem.large, pa, npages };
		kmem.large = rec;
	} else if (rec) {
		class_free(rec, class_of(sizeof(*rec)));
	}
	spin_unlock(&kmem.lock);
	if (!pa)
		return NULL;
	memset(phys_to_virt(pa), 0, npages * PAGE_SIZE);
	return phys_to_virt(pa);
}

void *kzalloc(size_t size)
{
	if (size <= KMEM_MAX_SMALL)
		return kmem_alloc_small(size);
	if (size > SIZE_MAX - PAGE_SIZE)
		return NULL;
	return kmem_alloc_large(size);
}

static void kmem_free_large(void *p)
{
	paddr_t pa = virt_to_phys(p);
	struct kmem_large **link = &kmem.large, *rec;
	uint64_t npages;

	spin_lock(&kmem.lock);
	while (*link && (*link)->pa != pa)
		link = &(*link)->next;
	rec = *link;
	ASSERT(rec); /* a page-aligned pointer kzalloc never returned */
	*link = rec->next;
	npages = rec->npages;
	class_free(rec, class_of(sizeof(*rec)));
	spin_unlock(&kmem.lock);
	pmm_free(pa, npages);
}

static void kmem_free_small(void *p)
{
	uintptr_t addr = (uintptr_t)p;
	const struct kmem_page *page = (const void *)ALIGN_DOWN(addr, PAGE_SIZE);

	ASSERT(page->magic == KMEM_MAGIC && page->cls < KMEM_NCLASSES);
	ASSERT(IS_ALIGNED(addr, class_size(page->cls)));
	spin_lock(&kmem.lock);
	class_free(p, page->cls);
	spin_unlock(&kmem.lock);
}

void kfree(void *p)
{
	if (!p)
		return;
	if (IS_ALIGNED((uintptr_t)p, PAGE_SIZE))
		kmem_free_large(p);
	else
		kmem_free_small(p);
}
