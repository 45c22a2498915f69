/*
 * Guest page-table walk (SDM Vol. 3A chapter 4): no paging, 32-bit
 * paging (4.3), PAE paging (4.4) and 4-level paging (4.5), with the
 * access rights of 4.6 and the page-fault error code of 4.7.
 *
 * Accessed and dirty flags (4.8) are never written. The walk serves
 * emulation of an instruction the CPU has already begun: its fetch and
 * the walk for its data access set them before the exit, and writing
 * guest tables from here would race with the guest's other CPUs.
 */
#include "arch/x86/guest_walk.h"
#include "core/assert.h"
#include "core/errno.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)

#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define EFER_LME (1ull << 8)
#define EFER_NXE (1ull << 11)

/* Bits hi:lo set. */
#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1))

struct walk {
	const struct guest_paging *p;
	uint64_t gla;
	unsigned access;
	bool user;           /* a user-mode access (SDM 4.6) */
	bool nx;             /* XD counts: PAE or 4-level paging with EFER.NXE */
	uint64_t addr_mask;  /* bits M-1:12 of an entry */
	uint64_t rsvd;       /* reserved bits of every 64-bit entry */
	bool w, u, xd;       /* rights so far: all R/W, all U/S, any XD */
	uint32_t error;      /* set on -EFAULT */
};

/* --- Faults -------------------------------------------------------------- */

/* W/R, U/S and I/D describe the access, not the entry (SDM 4.7). */
static uint32_t pf_access_bits(const struct walk *w)
{
	uint32_t e = 0;

	if (w->access & GUEST_ACCESS_WRITE)
		e |= PF_ERR_W;
	if (w->user)
		e |= PF_ERR_U;
	if ((w->access & GUEST_ACCESS_FETCH) && (w->nx || (w->p->cr4 & CR4_SMEP)))
		e |= PF_ERR_ID;
	return e;
}

static int walk_fault(struct walk *w, uint32_t bits)
{
	w->error = pf_access_bits(w) | bits;
	return -EFAULT;
}

/* --- Rights (SDM 4.6.1) --------------------------------------------------- */

static void rights_add(struct walk *w, uint64_t e)
{
	w->w = w->w && (e & PTE_W);
	w->u = w->u && (e & PTE_U);
	w->xd = w->xd || (w->nx && (e & PTE_XD));
}

/*
 * User accesses need U/S everywhere; writes need R/W everywhere when
 * the access is a user one or CR0.WP is set; fetches need no XD.
 * SMEP, SMAP and protection keys are left out: they protect the guest
 * from itself, and the CPU checked them before the exit.
 */
static bool is_allowed(const struct walk *w)
{
	if (w->user && !w->u)
		return false;
	if ((w->access & GUEST_ACCESS_WRITE) && !w->w && (w->user || (w->p->cr0 & CR0_WP)))
		return false;
	return !((w->access & GUEST_ACCESS_FETCH) && w->xd);
}

static int walk_finish(struct walk *w)
{
	return is_allowed(w) ? 0 : walk_fault(w, PF_ERR_P);
}

/* --- Entries ------------------------------------------------------------- */

static int read_entry(const struct walk *w, uint64_t gpa, void *e, size_t size)
{
	return w->p->read_gpa(w->p->ctx, gpa, e, size) ? 0 : -EIO;
}

/* Reserved bits a present entry at @level (4 = PML4) must not have. */
static uint64_t reserved_bits(const struct walk *w, unsigned level, uint64_t e)
{
	uint64_t r = w->rsvd;

	if (level == 4)
		r |= PTE_PS;            /* SDM 4.5.4: PML4E bit 7 */
	else if (level == 3 && (e & PTE_PS))
		r |= BITS(29, 13);      /* 1-GByte page */
	else if (level == 2 && (e & PTE_PS))
		r |= BITS(20, 13);      /* 2-MByte page */
	return r;
}

static bool is_leaf(unsigned level, uint64_t e)
{
	return level == 1 || (level <= 3 && (e & PTE_PS));
}

/* Offset bits within a page mapped at @level. */
static uint64_t page_offset_mask(unsigned level)
{
	return (1ull << (12 + 9 * (level - 1))) - 1;
}

/*
 * Walk 64-bit entries from @table at @level down to a leaf: 4-level
 * paging from the PML4, PAE paging from a page directory.
 */
static int walk_long(struct walk *w, uint64_t table, unsigned level, uint64_t *gpa)
{
	for (;; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t e;
		int err = read_entry(w, table + ((w->gla >> shift) & 511) * 8, &e, 8);

		if (err)
			return err;
		if (!(e & PTE_P))
			return walk_fault(w, 0);
		if (e & reserved_bits(w, level, e))
			return walk_fault(w, PF_ERR_P | PF_ERR_RSVD);
		rights_add(w, e);
		if (is_leaf(level, e)) {
			uint64_t off = page_offset_mask(level);

			*gpa = (e & w->addr_mask & ~off) | (w->gla & off);
			return walk_finish(w);
		}
		table = e & w->addr_mask;
	}
}

/* --- Paging modes -------------------------------------------------------- */

static bool is_canonical(uint64_t la)
{
	uint64_t top = la >> 47;

	return top == 0 || top == 0x1ffff;
}

/* SDM 4.5: 4-level paging. */
static int walk_4level(struct walk *w, uint64_t *gpa)
{
	if (w->p->cr4 & CR4_LA57)
		return -ENOTSUP;
	if (!is_canonical(w->gla))
		return -EINVAL;
	return walk_long(w, w->p->cr3 & w->addr_mask, 4, gpa);
}

/*
 * SDM 4.4: PAE paging. The PDPTEs come from the CPU's copy when the
 * caller has it (4.4.1); they carry no rights, and their reserved bits
 * would have faulted the MOV to CR3 that loaded them.
 */
static int walk_pae(struct walk *w, uint64_t *gpa)
{
	unsigned idx = (unsigned)(w->gla >> 30) & 3;
	uint64_t e;

	if (w->p->pdpte) {
		e = w->p->pdpte[idx];
	} else {
		int err = read_entry(w, (w->p->cr3 & BITS(31, 5)) + idx * 8, &e, 8);

		if (err)
			return err;
	}
	if (!(e & PTE_P))
		return walk_fault(w, 0);
	if (e & (BITS(2, 1) | BITS(8, 5) | BITS(63, w->p->maxphyaddr)))
		return walk_fault(w, PF_ERR_P | PF_ERR_RSVD);
	return walk_long(w, e & w->addr_mask, 2, gpa);
}

/*
 * SDM 4.3: a PDE with PS under CR4.PSE maps 4 MBytes, bits 39:32 of the
 * address in its bits 20:13; the ones above MAXPHYADDR (at most 40) are
 * reserved, as is bit 21.
 */
static int walk_32_large(struct walk *w, uint32_t pde, uint64_t *gpa)
{
	unsigned m = MIN(w->p->maxphyaddr, 40u);

	if (pde & BITS(21, m - 19))
		return walk_fault(w, PF_ERR_P | PF_ERR_RSVD);
	rights_add(w, pde);
	*gpa = ((uint64_t)((pde >> 13) & 0xff) << 32) | (pde & 0xffc00000u) |
	       (w->gla & 0x3fffff);
	return walk_finish(w);
}

/* SDM 4.3: 32-bit paging, 4-byte entries, no reserved bits at 4 KBytes. */
static int walk_32(struct walk *w, uint64_t *gpa)
{
	uint32_t pde, pte;
	int err = read_entry(w, (w->p->cr3 & 0xfffff000u) + ((w->gla >> 22) & 1023) * 4, &pde, 4);

	if (err)
		return err;
	if (!(pde & PTE_P))
		return walk_fault(w, 0);
	if ((w->p->cr4 & CR4_PSE) && (pde & PTE_PS))
		return walk_32_large(w, pde, gpa);
	rights_add(w, pde);
	err = read_entry(w, (pde & 0xfffff000u) + ((w->gla >> 12) & 1023) * 4, &pte, 4);
	if (err)
		return err;
	if (!(pte & PTE_P))
		return walk_fault(w, 0);
	rights_add(w, pte);
	*gpa = (pte & 0xfffff000u) | (w->gla & 0xfff);
	return walk_finish(w);
}

/* SDM 4.1.1, Table 4-1: the paging mode from CR0.PG, CR4.PAE and EFER.LME. */
static int walk_mode(struct walk *w, uint64_t *gpa)
{
	const struct guest_paging *p = w->p;

	if (!(p->cr0 & CR0_PG)) {
		*gpa = w->gla;
		return 0;
	}
	if (!(p->cr4 & CR4_PAE))
		return walk_32(w, gpa);
	w->nx = p->efer & EFER_NXE;
	if (!w->nx)
		w->rsvd |= PTE_XD;
	if (p->efer & EFER_LME) {
		w->rsvd |= BITS(51, p->maxphyaddr);
		return walk_4level(w, gpa);
	}
	w->rsvd |= BITS(62, p->maxphyaddr);
	return walk_pae(w, gpa);
}

static bool is_long_paging(const struct guest_paging *p)
{
	return (p->cr0 & CR0_PG) && (p->cr4 & CR4_PAE) && (p->efer & EFER_LME);
}

int guest_walk(const struct guest_paging *p, uint64_t gla, unsigned access, uint64_t *gpa,
	       struct guest_pf *pf)
{
	struct walk w = {
		.p = p, .gla = gla, .access = access,
		.user = p->cpl == 3 && !(access & GUEST_ACCESS_SUPERVISOR),
		.addr_mask = BITS(p->maxphyaddr - 1, 12),
		.w = true, .u = true,
	};
	int err;

	ASSERT(p->maxphyaddr >= 32 && p->maxphyaddr <= 52);
	if (!is_long_paging(p))
		w.gla = gla & 0xffffffffull;   /* linear addresses are 32 bits */
	err = walk_mode(&w, gpa);
	if (err == -EFAULT && pf) {
		pf->addr = w.gla;
		pf->error = w.error;
	}
	return err;
}

int guest_read_linear(const struct guest_paging *p, uint64_t gla, unsigned access, void *buf,
		      size_t len, size_t *done, struct guest_pf *pf)
{
	uint8_t *dst = buf;
	size_t off = 0;
	int err = 0;

	while (off < len) {
		uint64_t la = gla + off, gpa;
		size_t chunk = MIN(len - off, PAGE_SIZE - (la & (PAGE_SIZE - 1)));

		err = guest_walk(p, la, access, &gpa, pf);
		if (err)
			break;
		if (!p->read_gpa(p->ctx, gpa, dst + off, chunk)) {
			err = -EIO;
			break;
		}
		off += chunk;
	}
	if (done)
		*done = off;
	return err;
}
