/*
 * Guest page-table walks (arch/x86/guest_walk.c) over a fake guest RAM
 * of 1 MiB at guest-physical 0: 4-level, PAE and 32-bit tables, each
 * page size, not-present entries at each level, the rights of SDM 4.6,
 * reserved bits, tables outside RAM and reads that cross pages.
 */
#include "arch/x86/guest_walk.h"
#include "core/errno.h"
#include "tests/unit/unit.h"

#define RAM_SIZE MIB(1)

#define P (1ull << 0)
#define W (1ull << 1)
#define U (1ull << 2)
#define PS (1ull << 7)
#define XD (1ull << 63)

#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static uint8_t ram[RAM_SIZE];
static unsigned reads;

static bool read_gpa(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	CHECK(ctx == ram);
	reads++;
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return false;
	memcpy(buf, ram + gpa, len);
	return true;
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(ram + gpa, &v, 4);
}

/* --- 4-level ------------------------------------------------------------- */

/* Table pages: PML4 at 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000. */
static const uint64_t table4[5] = { 0, 0x4000, 0x3000, 0x2000, 0x1000 };

static uint64_t entry_gpa(uint64_t table, uint64_t gla, unsigned level)
{
	return table + ((gla >> (12 + 9 * (level - 1))) & 511) * 8;
}

static struct guest_paging paging_4level(void)
{
	return (struct guest_paging){
		.cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0x1000, .cr4 = CR4_PAE,
		.efer = EFER_LME | EFER_LMA | EFER_NXE, .maxphyaddr = 46,
		.read_gpa = read_gpa, .ctx = ram,
	};
}

/* Map @gla with a leaf at @leaf_level; upper levels grant P|W|U. */
static void map4(uint64_t gla, unsigned leaf_level, uint64_t pa, uint64_t flags)
{
	memset(ram, 0, sizeof(ram));
	for (unsigned l = 4; l > leaf_level; l--)
		put64(entry_gpa(table4[l], gla, l), table4[l - 1] | P | W | U);
	put64(entry_gpa(table4[leaf_level], gla, leaf_level),
	      pa | flags | (leaf_level > 1 ? PS : 0));
}

/* OR @bits into (or, with @clear, out of) the entry at @level. */
static void entry_set(uint64_t gla, unsigned level, uint64_t bits, bool clear)
{
	uint64_t gpa = entry_gpa(table4[level], gla, level), e;

	memcpy(&e, ram + gpa, 8);
	put64(gpa, clear ? e & ~bits : e | bits);
}

static int walk(const struct guest_paging *p, uint64_t gla, unsigned access, uint64_t *gpa,
		uint32_t *err)
{
	struct guest_pf pf = { 0, 0xdead };
	int rc = guest_walk(p, gla, access, gpa, &pf);

	*err = pf.error;
	if (rc == -EFAULT)
		CHECK_EQ(pf.addr, p->cr4 & CR4_PAE && p->efer & EFER_LME ? gla : gla & 0xffffffff);
	return rc;
}

TEST(four_level_page_sizes)
{
	struct guest_paging p = paging_4level();
	const uint64_t gla = 0x00007f1234567abcull;
	uint64_t gpa;
	uint32_t err;

	map4(gla, 1, 0x12345000, P | W);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x12345abc);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE | GUEST_ACCESS_FETCH, &gpa, &err), 0);
	map4(gla, 2, 0x40000000, P | W);                                /* 2 MiB */
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x40000000 | (gla & 0x1fffff));
	map4(gla, 3, 0x3c0000000ull, P | W);                           /* 1 GiB */
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x3c0000000ull | (gla & 0x3fffffff));
	/* The upper half, and ignored bits 62:52 that are not address. */
	const uint64_t kva = 0xffff888012345678ull;

	map4(kva, 1, 0x00003fffffff0000ull | (0x7ffull << 52), P);
	CHECK_EQ(walk(&p, kva, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x00003fffffff0678ull);
	/* PAT (bit 7) in a PTE is not a page size. */
	map4(gla, 1, 0x5000, P | PS);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x5abc);
}

TEST(four_level_not_present_at_each_level)
{
	struct guest_paging p = paging_4level();
	const uint64_t gla = 0x00007f1234567abcull;
	uint64_t gpa;
	uint32_t err;

	for (unsigned level = 4; level >= 1; level--) {
		map4(gla, 1, 0x12345000, P | W | U);
		entry_set(gla, level, P, true);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
		CHECK_EQ(err, 0);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_W);
		p.cpl = 3;
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_W | PF_ERR_U);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_FETCH, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_U | PF_ERR_ID);
		p.cpl = 0;
		/* Reserved bits in a not-present entry do not count. */
		entry_set(gla, level, 1ull << 50, false);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
		CHECK_EQ(err, 0);
	}
}

TEST(four_level_write_protect)
{
	struct guest_paging p = paging_4level();
	const uint64_t gla = 0x401000;
	uint64_t gpa;
	uint32_t err;

	for (unsigned level = 4; level >= 1; level--) {
		map4(gla, 1, 0x9000, P | W | U);
		entry_set(gla, level, W, true);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
		/* Supervisor write, CR0.WP=1: fault. */
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_P | PF_ERR_W);
		/* CR0.WP=0: supervisor writes go through. */
		p.cr0 &= ~CR0_WP;
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), 0);
		CHECK_EQ(gpa, 0x9000);
		/* User writes never do. */
		p.cpl = 3;
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_P | PF_ERR_W | PF_ERR_U);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
		p.cpl = 0;
		p.cr0 |= CR0_WP;
	}
}

TEST(four_level_user_supervisor)
{
	struct guest_paging p = paging_4level();
	const uint64_t gla = 0x401000;
	uint64_t gpa;
	uint32_t err;

	for (unsigned level = 4; level >= 1; level--) {
		map4(gla, 1, 0x9000, P | W | U);
		entry_set(gla, level, U, true);
		p.cpl = 3;
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_P | PF_ERR_U);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_P | PF_ERR_W | PF_ERR_U);
		/* Implicit supervisor accesses (descriptor tables) are allowed. */
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ | GUEST_ACCESS_SUPERVISOR, &gpa, &err), 0);
		p.cpl = 0;
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	}
	/* Supervisor code may use user pages (no SMEP/SMAP checks). */
	map4(gla, 1, 0x9000, P | W | U);
	p.cr4 |= CR4_SMEP;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_FETCH, &gpa, &err), 0);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), 0);
}

TEST(four_level_nx)
{
	struct guest_paging p = paging_4level();
	const uint64_t gla = 0x401000;
	uint64_t gpa;
	uint32_t err;

	for (unsigned level = 4; level >= 1; level--) {
		map4(gla, 1, 0x9000, P | W | U);
		entry_set(gla, level, XD, false);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), 0);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_FETCH, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_P | PF_ERR_ID);
		p.cpl = 3;
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_FETCH, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_P | PF_ERR_U | PF_ERR_ID);
		p.cpl = 0;
		/* Without EFER.NXE bit 63 is reserved. */
		p.efer &= ~EFER_NXE;
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_P | PF_ERR_RSVD);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_FETCH, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_P | PF_ERR_RSVD);      /* no I/D without NXE or SMEP */
		p.cr4 |= CR4_SMEP;
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_FETCH, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_P | PF_ERR_RSVD | PF_ERR_ID);
		p.cr4 &= ~CR4_SMEP;
		p.efer |= EFER_NXE;
	}
}

TEST(four_level_reserved_bits)
{
	struct guest_paging p = paging_4level();
	const uint64_t gla = 0x00007f1234567abcull;
	const uint32_t rsvd = PF_ERR_P | PF_ERR_RSVD;
	uint64_t gpa;
	uint32_t err;

	/* Bits 51:MAXPHYADDR at every level. */
	for (unsigned level = 4; level >= 1; level--) {
		map4(gla, 1, 0x12345000, P | W);
		entry_set(gla, level, 1ull << 46, false);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), -EFAULT);
		CHECK_EQ(err, rsvd | PF_ERR_W);
		p.maxphyaddr = 52;      /* the same bit is address now */
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), level == 1 ? 0 : -EIO);
		p.maxphyaddr = 46;
		entry_set(gla, level, 1ull << 46, true);
		entry_set(gla, level, 1ull << 51, false);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
		CHECK_EQ(err, rsvd);
	}
	/* PS in a PML4E. */
	map4(gla, 1, 0x12345000, P | W);
	entry_set(gla, 4, PS, false);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, rsvd);
	/* Large pages: address bits below their alignment. */
	map4(gla, 2, 0x40000000 | (1ull << 13), P);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, rsvd);
	map4(gla, 2, 0x40000000 | (1ull << 20), P);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	map4(gla, 2, 0x40000000 | (1ull << 12), P);                    /* PAT: fine */
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x40000000 | (gla & 0x1fffff));
	map4(gla, 3, 0x3c0000000ull | (1ull << 29), P);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, rsvd);
	map4(gla, 3, 0x3c0000000ull | (1ull << 13), P);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	/* Reserved beats rights: a user read of a supervisor page with a bad bit. */
	map4(gla, 1, 0x12345000 | (1ull << 48), P);
	p.cpl = 3;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, rsvd | PF_ERR_U);
}

TEST(four_level_canonical_la57_and_outside_ram)
{
	struct guest_paging p = paging_4level();
	const uint64_t gla = 0x401000;
	uint64_t gpa;
	uint32_t err;

	map4(gla, 1, 0x9000, P);
	CHECK_EQ(walk(&p, 0x0000800000000000ull, GUEST_ACCESS_READ, &gpa, &err), -EINVAL);
	CHECK_EQ(walk(&p, 0xfff0000000000000ull, GUEST_ACCESS_READ, &gpa, &err), -EINVAL);
	p.cr4 |= CR4_LA57;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -ENOTSUP);
	p.cr4 &= ~CR4_LA57;
	/* Each table outside guest RAM in turn. */
	p.cr3 = GIB(4);
	reads = 0;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EIO);
	CHECK_EQ(reads, 1);
	p.cr3 = 0x1000;
	for (unsigned level = 4; level >= 2; level--) {
		map4(gla, 1, 0x9000, P);
		put64(entry_gpa(table4[level], gla, level), RAM_SIZE | P | W);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EIO);
		put64(entry_gpa(table4[level], gla, level), (1ull << 45) | P | W);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EIO);
	}
	/* The last page of RAM is a table like any other. */
	map4(gla, 1, 0x9000, P);
	put64(entry_gpa(table4[2], gla, 2), (RAM_SIZE - PAGE_SIZE) | P);
	put64(RAM_SIZE - PAGE_SIZE + ((gla >> 12) & 511) * 8, 0xa000 | P);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0xa000);
	/* A leaf pointing outside RAM is fine: that is what MMIO looks like. */
	map4(gla, 1, 0xfee00000, P | W);
	CHECK_EQ(walk(&p, gla + 0x300, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	CHECK_EQ(gpa, 0xfee00300);
	/* A NULL @pf is allowed. */
	entry_set(gla, 1, P, true);
	CHECK_EQ(guest_walk(&p, gla, GUEST_ACCESS_READ, &gpa, NULL), -EFAULT);
}

/* --- PAE ----------------------------------------------------------------- */

/* PDPT at 0x1020 (32-byte aligned, inside a page), PD 0x2000, PT 0x3000. */
static struct guest_paging paging_pae(void)
{
	return (struct guest_paging){
		.cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0x1020, .cr4 = CR4_PAE,
		.efer = EFER_NXE, .maxphyaddr = 40, .read_gpa = read_gpa, .ctx = ram,
	};
}

static void map_pae(uint32_t gla, bool large, uint64_t pa, uint64_t flags)
{
	memset(ram, 0, sizeof(ram));
	put64(0x1020 + (gla >> 30) * 8, 0x2000 | P);
	if (large) {
		put64(0x2000 + ((gla >> 21) & 511) * 8, pa | flags | PS);
		return;
	}
	put64(0x2000 + ((gla >> 21) & 511) * 8, 0x3000 | P | W | U);
	put64(0x3000 + ((gla >> 12) & 511) * 8, pa | flags);
}

TEST(pae_pages)
{
	struct guest_paging p = paging_pae();
	const uint32_t gla = 0xc0401234;
	uint64_t gpa;
	uint32_t err;

	map_pae(gla, false, 0xff12345000ull, P | W);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	CHECK_EQ(gpa, 0xff12345234ull);
	/* Linear addresses are 32 bits. */
	CHECK_EQ(walk(&p, 0x5c0401234ull, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0xff12345234ull);
	map_pae(gla, true, 0x7fe00000, P);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x7fe01234);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_W);
	/* PAE has 2 MiB pages whatever CR4.PSE says. */
	p.cr4 |= CR4_PSE;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x7fe01234);
}

TEST(pae_pdptes)
{
	struct guest_paging p = paging_pae();
	const uint32_t gla = 0x80001000;
	uint64_t pdpte[4] = { 0 }, gpa;
	uint32_t err;

	map_pae(gla, false, 0x9000, P | W);
	/* Not present, any access. */
	put64(0x1020 + 2 * 8, 0x2000);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_W);
	/* Bits 2:1, 8:5 and 63:MAXPHYADDR are reserved, 63 even with NXE. */
	static const uint64_t bad[] = { 1ull << 1, 1ull << 2, 1ull << 5, 1ull << 8, 1ull << 40,
					1ull << 63 };
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
		put64(0x1020 + 2 * 8, 0x2000 | P | bad[k]);
		CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
		CHECK_EQ(err, PF_ERR_P | PF_ERR_RSVD);
	}
	/* PWT, PCD and the ignored bits are fine. */
	put64(0x1020 + 2 * 8, 0x2000 | P | (1ull << 3) | (1ull << 4) | (7ull << 9));
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x9000);
	/* The CPU's copy wins over memory. */
	put64(0x1020 + 2 * 8, 0);
	pdpte[2] = 0x2000 | P;
	p.pdpte = pdpte;
	reads = 0;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x9000);
	CHECK_EQ(reads, 2);
	pdpte[2] = 0;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, 0);
	/* A PDPT outside RAM. */
	p.pdpte = NULL;
	p.cr3 = 0xfffff000;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EIO);
}

TEST(pae_rights_and_reserved)
{
	struct guest_paging p = paging_pae();
	const uint32_t gla = 0x00401000;
	uint64_t gpa;
	uint32_t err;

	map_pae(gla, false, 0x9000, P | W | XD);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_FETCH, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_ID);
	p.cpl = 3;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_U);
	p.cpl = 0;
	p.efer = 0;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_RSVD);
	p.efer = EFER_NXE;
	/* PAE reserves bits 62:MAXPHYADDR, where 4-level ignores 62:52. */
	map_pae(gla, false, 0x9000 | (1ull << 60), P);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_RSVD);
	map_pae(gla, true, 0x200000 | (1ull << 13), P);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_RSVD);
	/* not present PDE, PTE */
	map_pae(gla, false, 0x9000, 0);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, 0);
	put64(0x2000 + ((gla >> 21) & 511) * 8, 0);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_FETCH, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_ID);
}

/* --- 32-bit paging ------------------------------------------------------- */

/* Page directory at 0x1000, page table at 0x2000. */
static struct guest_paging paging_32(void)
{
	return (struct guest_paging){
		.cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0x1000, .cr4 = CR4_PSE,
		.efer = EFER_NXE, .maxphyaddr = 46, .read_gpa = read_gpa, .ctx = ram,
	};
}

static void map32(uint32_t gla, uint32_t pde_flags, uint32_t pa, uint32_t pte_flags)
{
	memset(ram, 0, sizeof(ram));
	put32(0x1000 + (gla >> 22) * 4, 0x2000 | pde_flags);
	put32(0x2000 + ((gla >> 12) & 1023) * 4, pa | pte_flags);
}

TEST(paging32_4k)
{
	struct guest_paging p = paging_32();
	const uint32_t gla = 0xc0123456;
	uint64_t gpa;
	uint32_t err;

	map32(gla, P | W | U, 0xfee00000, P | W | U);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	CHECK_EQ(gpa, 0xfee00456);
	/* PS without CR4.PSE is ignored: still a page table. */
	p.cr4 = 0;
	put32(0x1000 + (gla >> 22) * 4, 0x2000 | P | W | PS);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0xfee00456);
	/* not present PDE, PTE */
	map32(gla, 0, 0xfee00000, P);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_W);
	map32(gla, P | W, 0xfee00000, 0);
	p.cpl = 3;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_U);
	/* 32-bit paging has no XD: fetches are never I/D (without SMEP). */
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_FETCH, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_U);
	p.cpl = 0;
	map32(gla, P | W, 0xfee00000, P);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_FETCH, &gpa, &err), 0);
	/* rights: read-only PDE, supervisor PTE */
	map32(gla, P | U, 0x9000, P | W | U);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_W);
	p.cr0 &= ~CR0_WP;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	map32(gla, P | W | U, 0x9000, P | W);
	p.cpl = 3;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_U);
	/* PTE bits above 31 do not exist; address bits 31:12 only. */
	CHECK_EQ(walk(&p, 0x1c0123456ull, GUEST_ACCESS_READ | GUEST_ACCESS_SUPERVISOR, &gpa,
		      &err), 0);
	CHECK_EQ(gpa, 0x9456);
}

TEST(paging32_4m)
{
	struct guest_paging p = paging_32();
	const uint32_t gla = 0x00c12345;
	uint64_t gpa;
	uint32_t err;

	memset(ram, 0, sizeof(ram));
	put32(0x1000 + 3 * 4, 0xff800000 | P | W | PS);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	CHECK_EQ(gpa, 0xff812345);
	/* PSE-36: bits 20:13 are physical bits 39:32. */
	put32(0x1000 + 3 * 4, 0xff800000 | (0x12u << 13) | P | PS);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x12ff812345ull);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_WRITE, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_W);
	/* PAT (bit 12) is fine, bit 21 is reserved. */
	put32(0x1000 + 3 * 4, 0xff800000 | (1u << 12) | P | PS);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0xff812345);
	put32(0x1000 + 3 * 4, 0xff800000 | (1u << 21) | P | PS);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_RSVD);
	/* With MAXPHYADDR 36, bits 21:17 are reserved. */
	p.maxphyaddr = 36;
	put32(0x1000 + 3 * 4, 0xff800000 | (1u << 17) | P | PS);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_RSVD);
	put32(0x1000 + 3 * 4, 0xff800000 | (1u << 16) | P | PS);
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0x8ff812345ull);
	/* user access to a supervisor 4M page */
	p.cpl = 3;
	CHECK_EQ(walk(&p, gla, GUEST_ACCESS_READ, &gpa, &err), -EFAULT);
	CHECK_EQ(err, PF_ERR_P | PF_ERR_U);
}

TEST(paging32_outside_ram)
{
	struct guest_paging p = paging_32();
	uint64_t gpa;
	uint32_t err;

	memset(ram, 0, sizeof(ram));
	put32(0x1000, 0xfff00000 | P);
	CHECK_EQ(walk(&p, 0x1000, GUEST_ACCESS_READ, &gpa, &err), -EIO);
	p.cr3 = 0x80000000;
	CHECK_EQ(walk(&p, 0x1000, GUEST_ACCESS_READ, &gpa, &err), -EIO);
}

TEST(paging_off_is_identity)
{
	struct guest_paging p = paging_32();
	uint64_t gpa;
	uint32_t err;

	p.cr0 = CR0_PE;
	reads = 0;
	CHECK_EQ(walk(&p, 0xfee00300, GUEST_ACCESS_WRITE | GUEST_ACCESS_FETCH, &gpa, &err), 0);
	CHECK_EQ(gpa, 0xfee00300);
	CHECK_EQ(walk(&p, 0x1fee00300ull, GUEST_ACCESS_READ, &gpa, &err), 0);
	CHECK_EQ(gpa, 0xfee00300);
	CHECK_EQ(reads, 0);
}

/* --- Linear reads -------------------------------------------------------- */

TEST(read_linear_crosses_pages)
{
	struct guest_paging p = paging_4level();
	const uint64_t gla = 0x7000;     /* pages 0x7000 and 0x8000 */
	struct guest_pf pf = { 0, 0 };
	uint8_t buf[32];
	size_t done = 99;

	/* 0x7000 -> 0x20000, 0x8000 -> 0x10000: not adjacent, reversed. */
	map4(gla, 1, 0x20000, P);
	put64(entry_gpa(table4[1], 0x8000, 1), 0x10000 | P);
	for (unsigned k = 0; k < 5; k++)
		ram[0x20ffb + k] = (uint8_t)(0xa0 + k);
	for (unsigned k = 0; k < 10; k++)
		ram[0x10000 + k] = (uint8_t)(0xb0 + k);
	CHECK_EQ(guest_read_linear(&p, 0x7ffb, GUEST_ACCESS_FETCH, buf, 15, &done, &pf), 0);
	CHECK_EQ(done, 15);
	CHECK_EQ(buf[0], 0xa0);
	CHECK_EQ(buf[4], 0xa4);
	CHECK_EQ(buf[5], 0xb0);
	CHECK_EQ(buf[14], 0xb9);
	CHECK_EQ(buf[12], 0xb7);
	/* within one page, NULL @done */
	CHECK_EQ(guest_read_linear(&p, 0x7ffb, GUEST_ACCESS_READ, buf, 5, NULL, &pf), 0);
	CHECK_EQ(guest_read_linear(&p, 0x8000, GUEST_ACCESS_READ, buf, 0, &done, &pf), 0);
	CHECK_EQ(done, 0);
	/* the second page not present: the bytes before it, and its #PF */
	entry_set(0x8000, 1, P, true);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(guest_read_linear(&p, 0x7ffb, GUEST_ACCESS_FETCH, buf, 15, &done, &pf), -EFAULT);
	CHECK_EQ(done, 5);
	CHECK_EQ(buf[4], 0xa4);
	CHECK_EQ(pf.addr, 0x8000);
	CHECK_EQ(pf.error, PF_ERR_ID);
	/* the first page not present */
	CHECK_EQ(guest_read_linear(&p, 0x7ffb - PAGE_SIZE, GUEST_ACCESS_READ, buf, 15, &done, &pf),
		 -EFAULT);
	CHECK_EQ(done, 0);
	CHECK_EQ(pf.addr, 0x6ffb);
	/* the second page is not RAM */
	put64(entry_gpa(table4[1], 0x8000, 1), 0xfee00000 | P);
	CHECK_EQ(guest_read_linear(&p, 0x7ffb, GUEST_ACCESS_READ, buf, 15, &done, &pf), -EIO);
	CHECK_EQ(done, 5);
	/* a write check on a read-only second page */
	put64(entry_gpa(table4[1], 0x8000, 1), 0x10000 | P);
	CHECK_EQ(guest_read_linear(&p, 0x7ff0, GUEST_ACCESS_WRITE, buf, 32, &done, &pf), -EFAULT);
	CHECK_EQ(done, 0);
	CHECK_EQ(pf.error, PF_ERR_P | PF_ERR_W);
	CHECK_EQ(pf.addr, 0x7ff0);
}

TEST(read_linear_wraps_at_4g_in_32bit_paging)
{
	struct guest_paging p = paging_32();
	struct guest_pf pf;
	uint8_t buf[16];
	size_t done;

	memset(ram, 0, sizeof(ram));
	put32(0x1000 + 1023 * 4, 0x2000 | P);
	put32(0x2000 + 1023 * 4, 0x30000 | P);       /* 0xfffff000 */
	put32(0x1000, 0x3000 | P);
	put32(0x3000, 0x40000 | P);                  /* 0x00000000 */
	memset(ram + 0x30ffc, 0x11, 4);
	memset(ram + 0x40000, 0x22, 12);
	CHECK_EQ(guest_read_linear(&p, 0xfffffffc, GUEST_ACCESS_READ, buf, 16, &done, &pf), 0);
	CHECK_EQ(done, 16);
	CHECK_EQ(buf[3], 0x11);
	CHECK_EQ(buf[4], 0x22);
	CHECK_EQ(buf[15], 0x22);
	put32(0x3000, 0);
	CHECK_EQ(guest_read_linear(&p, 0xfffffffc, GUEST_ACCESS_READ, buf, 16, &done, &pf),
		 -EFAULT);
	CHECK_EQ(done, 4);
	CHECK_EQ(pf.addr, 0);
}

int main(void)
{
	RUN(four_level_page_sizes);
	RUN(four_level_not_present_at_each_level);
	RUN(four_level_write_protect);
	RUN(four_level_user_supervisor);
	RUN(four_level_nx);
	RUN(four_level_reserved_bits);
	RUN(four_level_canonical_la57_and_outside_ram);
	RUN(pae_pages);
	RUN(pae_pdptes);
	RUN(pae_rights_and_reserved);
	RUN(paging32_4k);
	RUN(paging32_4m);
	RUN(paging32_outside_ram);
	RUN(paging_off_is_identity);
	RUN(read_linear_crosses_pages);
	RUN(read_linear_wraps_at_4g_in_32bit_paging);
	return unit_done();
}
