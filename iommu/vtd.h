/* VT-d internals shared by iommu/vtd*.c, domain.c and iommu.c. */
#ifndef IOMMU_VTD_H
#define IOMMU_VTD_H

#include "core/spinlock.h"
#include "core/types.h"
#include "iommu/dmar.h"
#include "iommu/iommu.h"
#include "iommu/vtd_regs.h"

#define VTD_IRT_ORDER 8                    /* 256 entries: one page */
#define VTD_IRT_ENTRIES (1u << VTD_IRT_ORDER)
#define VTD_IQ_ENTRIES 256                 /* one page of 128-bit descriptors */
#define VTD_FAULT_DEVS 32                  /* per-device fault counters */
#define VTD_FAULT_PRINT_MAX 16             /* faults printed per device, then counted */

struct vtd_fault_dev {
	uint16_t sid;
	uint32_t count;
};

struct vtd_unit {
	unsigned idx;
	const struct dmar_unit *drhd;
	uintptr_t regs;                    /* mapped registers (uncached) */
	uint32_t ver;
	uint64_t cap, ecap;
	spinlock_t lock;                   /* tables and invalidation */
	bool enabled;
	struct vtd_entry128 *root;         /* root table, 256 entries */
	/* Queued invalidation (6.5.2), or the registers when !qi. */
	bool qi;
	struct vtd_entry128 *iq;
	unsigned iq_tail;
	uint32_t wait_token;
	volatile uint32_t wait_status __aligned(8);
	/* Interrupt remapping (5.1). */
	bool ir, eime;
	struct vtd_entry128 *irt;
	uint64_t irt_used[VTD_IRT_ENTRIES / 64];
	/* Faults (7.3). */
	spinlock_t fault_lock;
	uint64_t nfaults, noverflows, other_dev_faults;
	struct vtd_fault_dev fault_devs[VTD_FAULT_DEVS];
	struct iommu_fault last_fault;
};

extern struct vtd_unit vtd_units[DMAR_MAX_UNITS];
extern unsigned vtd_nunits;
extern struct dmar_info vtd_dmar;

/* vtd.c: registers and bring-up. */
uint32_t vtd_read32(const struct vtd_unit *u, uint32_t reg);
uint64_t vtd_read64(const struct vtd_unit *u, uint32_t reg);
void vtd_write32(struct vtd_unit *u, uint32_t reg, uint32_t v);
void vtd_write64(struct vtd_unit *u, uint32_t reg, uint64_t v);
/* Poll @reg until (value & mask) == want; -ETIMEDOUT after about a second. */
int vtd_wait32(struct vtd_unit *u, uint32_t reg, uint32_t mask, uint32_t want, const char *what);
int vtd_wait64(struct vtd_unit *u, uint32_t reg, uint64_t mask, uint64_t want, const char *what);
int vtd_gcmd(struct vtd_unit *u, uint32_t bit, bool on, const char *what);
int vtd_unit_probe(struct vtd_unit *u, const struct dmar_unit *drhd, unsigned idx);
int vtd_unit_enable(struct vtd_unit *u);      /* everything but translation */
int vtd_unit_start(struct vtd_unit *u);       /* translation on, PMRs off */
void vtd_unit_disable(struct vtd_unit *u);
/* Make CPU writes to remapping structures visible to a non-coherent unit. */
void vtd_flush_cache(const struct vtd_unit *u, const void *p, size_t len);
void vtd_flush_all_caches(void);

/* vtd_inv.c: invalidation, queued or register-based. */
int vtd_inv_init(struct vtd_unit *u);
void vtd_inv_disable(struct vtd_unit *u);
int vtd_inv_context_global(struct vtd_unit *u);
int vtd_inv_context_device(struct vtd_unit *u, uint16_t sid, uint16_t did);
int vtd_inv_iotlb_global(struct vtd_unit *u);
int vtd_inv_iotlb_domain(struct vtd_unit *u, uint16_t did);
int vtd_inv_iec(struct vtd_unit *u, int index);   /* -1: all entries */

/* vtd_fault.c */
int vtd_fault_init(struct vtd_unit *u);
void vtd_fault_mask(struct vtd_unit *u);
void vtd_fault_handle(struct vtd_unit *u);

/* vtd_ir.c */
int vtd_ir_enable(struct vtd_unit *u);
int vtd_irte_alloc(struct vtd_unit *u, uint16_t sid, uint8_t vector, uint32_t apic_id);
void vtd_irte_free(struct vtd_unit *u, unsigned index);

/* vtd_ctx.c: root and context tables (9.1, 9.3). */
int vtd_ctx_set(struct vtd_unit *u, uint16_t bdf, uint16_t did, paddr_t slpt, unsigned aw);
int vtd_ctx_clear(struct vtd_unit *u, uint16_t bdf);
bool vtd_ctx_get_did(struct vtd_unit *u, uint16_t bdf, uint16_t *did);

/* iommu.c */
struct vtd_unit *vtd_unit_for(uint16_t seg, uint16_t bdf);
bool vtd_rmrr_names(const struct dmar_rmrr *r, uint16_t seg, uint16_t bdf);
/* The endpoint (or bridge) a scope names, following bridges on its path. */
int vtd_scope_resolve(uint16_t seg, const struct dmar_scope *s, uint16_t *bdf);

/* domain.c */
int vtd_domain_setup(void);         /* pick the width all units share */
int vtd_rmrr_setup(void);           /* devices with RMRRs keep their ranges */

#endif
