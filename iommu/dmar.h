/*
 * The ACPI DMA Remapping Reporting table (Intel VT-d specification,
 * chapter 8), parsed into plain arrays. The parser is pure: it reads
 * only the bytes it is given, so it runs in host unit tests and under a
 * fuzzer. A table that breaks any rule is rejected whole, with one
 * message naming the offset and the rule: remapping then stays off
 * rather than half on.
 */
#ifndef IOMMU_DMAR_H
#define IOMMU_DMAR_H

#include "core/types.h"

#define DMAR_MAX_UNITS 16
#define DMAR_MAX_RMRRS 32
#define DMAR_MAX_ATSRS 16
#define DMAR_MAX_RHSAS 16
#define DMAR_MAX_SCOPES 128
#define DMAR_MAX_PATH 8         /* bridges between the start bus and a device */

/* DMAR flags, VT-d 8.1. */
#define DMAR_FLAG_INTR_REMAP (1u << 0)
#define DMAR_FLAG_X2APIC_OPT_OUT (1u << 1)
#define DMAR_FLAG_DMA_CTRL_OPT_IN (1u << 2)

/* Device scope entry types, VT-d 8.3.1. */
enum dmar_scope_type {
	DMAR_SCOPE_ENDPOINT = 1,
	DMAR_SCOPE_BRIDGE = 2,     /* the bridge and everything behind it */
	DMAR_SCOPE_IOAPIC = 3,
	DMAR_SCOPE_HPET = 4,
	DMAR_SCOPE_ACPI = 5,       /* an ACPI namespace device (ANDD) */
};

struct dmar_path {
	uint8_t dev, fn;
};

struct dmar_scope {
	uint8_t type;              /* enum dmar_scope_type */
	uint8_t enum_id;           /* IOAPIC/HPET id, ANDD number */
	uint8_t bus;               /* start bus */
	uint8_t npath;             /* >= 1 */
	struct dmar_path path[DMAR_MAX_PATH];
};

/* A list of scopes: indices into dmar_info.scopes. */
struct dmar_scope_list {
	uint16_t first, count;
};

struct dmar_unit {             /* DRHD, VT-d 8.3 */
	paddr_t base;
	uint64_t reg_size;         /* bytes: 2^N pages from the Size field */
	uint16_t segment;
	bool include_all;          /* INCLUDE_PCI_ALL: every device of the segment not named elsewhere */
	struct dmar_scope_list scopes;
};

struct dmar_rmrr {             /* reserved memory the firmware keeps using, VT-d 8.4 */
	uint16_t segment;
	paddr_t base;
	uint64_t limit;            /* inclusive; limit + 1 is 4 KiB aligned */
	struct dmar_scope_list scopes;
};

struct dmar_atsr {             /* root ports that may use ATS, VT-d 8.5 */
	uint16_t segment;
	bool all_ports;
	struct dmar_scope_list scopes;
};

struct dmar_rhsa {             /* a unit's NUMA proximity domain, VT-d 8.6 */
	paddr_t base;
	uint32_t proximity;
};

struct dmar_info {
	uint8_t haw;               /* host address width in bits */
	uint8_t flags;             /* DMAR_FLAG_* */
	struct dmar_unit units[DMAR_MAX_UNITS];
	unsigned nunits;
	struct dmar_rmrr rmrrs[DMAR_MAX_RMRRS];
	unsigned nrmrrs;
	struct dmar_atsr atsrs[DMAR_MAX_ATSRS];
	unsigned natsrs;
	struct dmar_rhsa rhsas[DMAR_MAX_RHSAS];
	unsigned nrhsas;
	unsigned nandds, nsatcs, nsidps, nunknown;
	struct dmar_scope scopes[DMAR_MAX_SCOPES];
	unsigned nscopes;
};

/*
 * Parse the DMAR table of @len bytes at @table (the whole table, header
 * included). Returns 0 and fills @out, or a negative error after printing
 * exactly what was wrong; @out is then empty (nunits == 0).
 */
int dmar_parse(const void *table, size_t len, struct dmar_info *out);

/* The scope at index @i of @list. */
static inline const struct dmar_scope *dmar_scope_at(const struct dmar_info *d,
						      struct dmar_scope_list list, unsigned i)
{
	return &d->scopes[list.first + i];
}

const char *dmar_scope_type_name(unsigned type);

#endif
