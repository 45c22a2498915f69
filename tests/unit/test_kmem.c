/*
 * Small-object allocator tests. kmem keeps its free lists across tests,
 * so the frame allocator and fake memory are set up once, in main().
 */
#include <stdint.h>
#include <stdlib.h>

#include "mm/kmem.h"
#include "mm/mm.h"
#include "mm/pmm.h"
#include "tests/unit/unit.h"

#define NOBJ 600

static const struct mem_region ram[] = { { MIB(1), MIB(15), MEM_AVAILABLE } };

static void *objs[4 * NOBJ];

static size_t align_of(size_t size)
{
	size_t a = 16;

	while (a < size && a < PAGE_SIZE)
		a <<= 1;
	return a;
}

static bool is_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i])
			return false;
	}
	return true;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

/* Allocate @n objects of @size; check each, then that none overlap. */
static void alloc_many(size_t size, unsigned n)
{
	void *sorted[NOBJ];

	for (unsigned i = 0; i < n; i++) {
		objs[i] = kzalloc(size);
		CHECK(objs[i] != NULL);
		CHECK((uintptr_t)objs[i] % align_of(size) == 0);
		CHECK(is_zero(objs[i], size));
		memset(objs[i], 0xa5, size);
		sorted[i] = objs[i];
	}
	qsort(sorted, n, sizeof(sorted[0]), cmp_ptr);
	for (unsigned i = 1; i < n; i++)
		CHECK((uintptr_t)sorted[i - 1] + size <= (uintptr_t)sorted[i]);
}

static void free_many(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		kfree(objs[i]);
}

TEST(every_class)
{
	static const size_t sizes[] = { 1, 8, 16, 17, 31, 32, 33, 64, 100,
					128, 200, 256, 500, 512, 1000, 1024, 2000, 2048 };

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		alloc_many(sizes[i], NOBJ);
		free_many(NOBJ);
	}
}

TEST(reuse_after_free_is_zeroed)
{
	unsigned char *a = kzalloc(48), *b;
	uint64_t free0;

	memset(a, 0xff, 48);
	kfree(a);
	b = kzalloc(64);
	CHECK(b == a);
	CHECK(is_zero(b, 64));
	/* Reuse takes no new frames. */
	free0 = pmm_free_pages();
	kfree(b);
	CHECK(kzalloc(33) == a);
	CHECK_EQ(pmm_free_pages(), free0);
	kfree(a);
}

TEST(zero_size_and_null)
{
	void *p = kzalloc(0);

	CHECK(p != NULL);
	CHECK((uintptr_t)p % 16 == 0);
	kfree(p);
	kfree(NULL);
}

TEST(large_allocations)
{
	uint64_t free0 = pmm_free_pages();
	unsigned char *a = kzalloc(2049), *b = kzalloc(PAGE_SIZE), *c = kzalloc(5 * PAGE_SIZE + 1);

	CHECK(a && b && c);
	CHECK((uintptr_t)a % PAGE_SIZE == 0 && (uintptr_t)b % PAGE_SIZE == 0);
	CHECK((uintptr_t)c % PAGE_SIZE == 0);
	CHECK(is_zero(c, 6 * PAGE_SIZE));
	memset(c, 0x5a, 6 * PAGE_SIZE);
	/* 1 + 1 + 6 pages, plus at most one page of bookkeeping objects. */
	CHECK(free0 - pmm_free_pages() >= 8 && free0 - pmm_free_pages() <= 9);
	kfree(b);
	kfree(c);
	kfree(a);
	CHECK(free0 - pmm_free_pages() <= 1);
	c = kzalloc(6 * PAGE_SIZE);
	CHECK(c && is_zero(c, 6 * PAGE_SIZE));
	kfree(c);
}

/* Take every free frame, chained through each frame's first word. */
static paddr_t take_all_frames(void)
{
	paddr_t head = 0, pa;

	while ((pa = pmm_alloc(1, PAGE_SIZE, 0)) != 0) {
		*(paddr_t *)phys_to_virt(pa) = head;
		head = pa;
	}
	return head;
}

static void give_back_frames(paddr_t head)
{
	while (head) {
		paddr_t pa = head;

		head = *(paddr_t *)phys_to_virt(pa);
		pmm_free(pa, 1);
	}
}

TEST(out_of_memory)
{
	paddr_t held = take_all_frames();
	unsigned n = 0;

	CHECK(held != 0);
	CHECK(kzalloc(3 * PAGE_SIZE) == NULL);
	CHECK(kzalloc(2049) == NULL);
	/* Drain what the 1024 class has left; then it needs a frame and fails. */
	while (n < ARRAY_SIZE(objs) && (objs[n] = kzalloc(1024)) != NULL)
		n++;
	CHECK(n < ARRAY_SIZE(objs));
	CHECK(kzalloc(1000) == NULL);
	free_many(n);
	give_back_frames(held);
	objs[0] = kzalloc(3 * PAGE_SIZE);
	CHECK(objs[0] != NULL);
	kfree(objs[0]);
}

int main(void)
{
	fake_phys_init(MIB(1), MIB(15));
	if (pmm_init(ram, 1, NULL, 0) != 0)
		return 1;
	RUN(every_class);
	RUN(reuse_after_free_is_zeroed);
	RUN(zero_size_and_null);
	RUN(large_allocations);
	RUN(out_of_memory);
	return unit_done();
}
