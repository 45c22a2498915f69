/*
 * Guest-linear to guest-physical translation through the guest's own
 * page tables (SDM Vol. 3A chapter 4), for the hypervisor's emulation
 * paths: fetching the instruction behind an MMIO exit, reading its
 * operands without decode assists.
 *
 * Paging structures are guest memory: they are read through @read_gpa,
 * which fails for anything outside guest RAM, and every bit in them is
 * treated as hostile. The walk is read-only: no accessed or dirty flag
 * is set (see guest_walk.c).
 */
#ifndef ARCH_X86_GUEST_WALK_H
#define ARCH_X86_GUEST_WALK_H

#include "core/types.h"

/* What the access is; a data read is 0. */
#define GUEST_ACCESS_READ 0u
#define GUEST_ACCESS_WRITE (1u << 0)
#define GUEST_ACCESS_FETCH (1u << 1)
/* An implicit supervisor access (GDT, IDT, TSS) even at CPL 3 (SDM 4.6). */
#define GUEST_ACCESS_SUPERVISOR (1u << 2)

/* Page-fault error code, SDM Vol. 3A 4.7. */
#define PF_ERR_P (1u << 0)     /* protection violation (else not present) */
#define PF_ERR_W (1u << 1)     /* the access was a write */
#define PF_ERR_U (1u << 2)     /* the access was a user-mode one */
#define PF_ERR_RSVD (1u << 3)  /* a reserved bit was set in an entry */
#define PF_ERR_ID (1u << 4)    /* instruction fetch, when NX or SMEP are on */

/* Copy guest-physical [gpa, gpa+len) to @buf; false if not all RAM. */
typedef bool (*guest_read_gpa_t)(void *ctx, uint64_t gpa, void *buf, size_t len);

struct guest_paging {
	uint64_t cr0, cr3, cr4, efer;
	unsigned cpl;
	unsigned maxphyaddr;       /* CPUID.80000008H:EAX[7:0] the guest sees, 32-52 */
	/*
	 * PAE paging: the four PDPTEs the CPU loaded with CR3 (SDM 4.4.1;
	 * under EPT the VMCS guest PDPTE0-3 fields), or NULL to read them
	 * from memory at CR3.
	 */
	const uint64_t *pdpte;
	guest_read_gpa_t read_gpa;
	void *ctx;
};

/* A page fault to inject: vector 14 with this error code, CR2 = addr. */
struct guest_pf {
	uint64_t addr;
	uint32_t error;
};

/*
 * Translate @gla for @access (GUEST_ACCESS_*) with the checks of SDM
 * 4.6: U/S at CPL 3, R/W for user writes and for supervisor writes when
 * CR0.WP, XD on fetches when EFER.NXE. SMEP, SMAP and protection keys
 * are not checked. Linear addresses wrap at 32 bits outside 4-level
 * paging. Returns 0 and fills @gpa, or:
 *   -EFAULT   page fault: @pf says what to inject (if @pf is not NULL)
 *   -EINVAL   non-canonical address in 4-level paging (#GP or #SS)
 *   -EIO      a paging structure is outside guest RAM
 *   -ENOTSUP  5-level paging (CR4.LA57)
 */
int guest_walk(const struct guest_paging *p, uint64_t gla, unsigned access, uint64_t *gpa,
	       struct guest_pf *pf);

/*
 * Read @len bytes of guest-linear memory at @gla, page by page, so a
 * read may cross into a page mapped elsewhere or not at all. Returns 0,
 * or the first error of guest_walk() or -EIO (the page is not RAM); then
 * @done (if not NULL) says how many bytes before it were read. An
 * instruction fetch reads up to INSN_MAX_LEN bytes this way and decodes
 * what it got: hardware faults on the next page only if the instruction
 * reaches into it.
 */
int guest_read_linear(const struct guest_paging *p, uint64_t gla, unsigned access, void *buf,
		      size_t len, size_t *done, struct guest_pf *pf);

#endif
