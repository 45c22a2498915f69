/*
 * libFuzzer target for the Linux bzImage loader (core/loader_linux.c).
 * Guest RAM is one exactly 64 MiB zeroed heap block, so any write outside
 * it trips ASan; libFuzzer's input buffer is exactly the input's size, so
 * any read past the image does too.
 *
 * Two kinds of input, by the first byte:
 *   - even: the bytes are the image;
 *   - odd: edits of a valid built-in image, records of a 16-bit offset
 *     and a byte: set that byte, or from offset 0xf000 up, cut the image
 *     to 4 * (offset - 0xf000) bytes. Random bytes rarely get past
 *     the magic, version and header-length checks; edits of a valid
 *     image reach placement, the initrd and boot_params.
 * The last input byte also picks the initrd size, n * 1025 bytes.
 *
 * Guest RAM is kept read-only; a write faults, and the SIGSEGV handler
 * makes that page writable and notes it dirty. So the target knows every
 * page a load wrote without scanning 64 MiB per input:
 *   - refused: no page written, the entry state cleared;
 *   - accepted: the 64-bit entry state of boot.rst, the kernel bytes at
 *     its load address, the initrd page aligned in RAM clear of the
 *     kernel's init_size range, below initrd_addr_max, the command line,
 *     boot_params and the e820 map. Then the boot area, kernel and initrd
 *     are cleared again and every dirty page must be all zero: no stray
 *     writes. Dirty pages go back to read-only.
 *
 *   make build/fuzz/loader_linux && build/fuzz/loader_linux -max_total_time=60
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/loader.h"
#include "core/loader_linux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_RAM (64u << 20)
#define INITRD_UNIT 1025u
#define INITRD_MAX (255u * INITRD_UNIT)
#define CMDLINE "console=ttyS0 fuzz"

/* The built-in image: setup_sects 4, an 8 KiB kernel, 2 MiB init_size. */
#define T_SETUP 0xa00u
#define T_PM 0x2000u
#define T_LEN (T_SETUP + T_PM + 0x40u)
#define EDIT_CUT 0xf000u
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define PAGE 4096u
#define NPAGES (FUZZ_RAM / PAGE)

static uint8_t *ram, *initrd_buf;
static uint8_t tmpl[T_LEN], edited[T_LEN];
static uint8_t dirty[NPAGES];
static unsigned ndirty;

static void put(uint8_t *p, size_t off, uint64_t v, size_t n)
{
	memcpy(p + off, &v, n);
}

static uint64_t get(const uint8_t *p, uint64_t off, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p + off, n);
	return v;
}

static void build_template(void)
{
	for (size_t i = 0; i < T_LEN; i++)
		tmpl[i] = (uint8_t)(i * 13 + 7);
	tmpl[0x1f1] = 4;
	put(tmpl, 0x1f4, T_PM / 16, 4);
	put(tmpl, 0x1fe, 0xaa55, 2);
	tmpl[0x200] = 0xeb;
	tmpl[0x201] = 0x6a;
	memcpy(tmpl + 0x202, "HdrS", 4);
	put(tmpl, 0x206, 0x020f, 2);
	tmpl[0x211] = 1;
	put(tmpl, 0x22c, 0x7fffffff, 4);
	put(tmpl, 0x230, 0x200000, 4);
	tmpl[0x234] = 1;
	put(tmpl, 0x236, 0x3, 2);
	put(tmpl, 0x238, 0x7ff, 4);
	put(tmpl, 0x258, 0x1000000, 8);
	put(tmpl, 0x260, 0x200000, 4);
}

static struct sigaction prev_segv;

/* A write into read-only guest RAM: let it happen and note the page. */
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	uint8_t *addr = si->si_addr;

	if (ram && addr >= ram && addr < ram + FUZZ_RAM) {
		size_t pg = (size_t)(addr - ram) / PAGE;

		if (dirty[pg] || mprotect(ram + pg * PAGE, PAGE, PROT_READ | PROT_WRITE))
			abort();
		dirty[pg] = 1;
		ndirty++;
		return;
	}
	sigaction(SIGSEGV, &prev_segv, NULL);
	if (prev_segv.sa_flags & SA_SIGINFO)
		prev_segv.sa_sigaction(sig, si, uc);
}

static void ram_protect(int prot)
{
	if (mprotect(ram, FUZZ_RAM, prot))
		abort();
}

static void setup(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };

	if (ram)
		return;
	ram = aligned_alloc(4096, FUZZ_RAM);
	if (ram) {
		memset(ram, 0, FUZZ_RAM);
		ram_protect(PROT_READ);
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &prev_segv))
		abort();
	initrd_buf = malloc(INITRD_MAX);
	if (!ram || !initrd_buf)
		abort();
	for (size_t i = 0; i < INITRD_MAX; i++)
		initrd_buf[i] = (uint8_t)(i * 31 + 1);
	build_template();
}

/* Odd inputs: the template, cut and edited as the input says. */
static size_t apply_edits(const uint8_t *data, size_t size)
{
	size_t len = T_LEN;

	memcpy(edited, tmpl, T_LEN);
	for (size_t i = 1; i + 3 <= size; i += 3) {
		uint16_t off = (uint16_t)get(data, i, 2);

		if (off >= EDIT_CUT)
			len = MIN(len, 4u * (off - EDIT_CUT));
		else
			edited[off % T_LEN] = data[i + 2];
	}
	return len;
}

static void check_refused(const struct guest_entry *e)
{
	if (ndirty || e->rip != 0 || !e->format || e->format[0] != '\0')
		abort();
}

/*
 * Clear what an accepted load was meant to write; then every page it
 * wrote must be zero again. Pages it did not write were never writable.
 */
static void clear_written(const struct guest_entry *e)
{
	uint64_t zp = LINUX_ZERO_PAGE_GPA;
	uint64_t rd = get(ram, zp + 0x218, 4) | get(ram, zp + 0xc0, 4) << 32;
	uint64_t rdlen = get(ram, zp + 0x21c, 4) | get(ram, zp + 0xc4, 4) << 32;
	uint64_t load = e->rip - 0x200, pm_len = get(ram, zp + 0x1f4, 4) * 16;

	memset(ram + rd, 0, rdlen);
	memset(ram + load, 0, pm_len);
	memset(ram + 0x1000, 0, 0x10000 - 0x1000);
	for (size_t pg = 0; pg < NPAGES && ndirty; pg++) {
		if (!dirty[pg])
			continue;
		if (ram[pg * PAGE] || memcmp(ram + pg * PAGE, ram + pg * PAGE + 1, PAGE - 1) ||
		    mprotect(ram + pg * PAGE, PAGE, PROT_READ))
			abort();
		dirty[pg] = 0;
		ndirty--;
	}
}

static void check_e820(void)
{
	static const uint64_t want[4][3] = {
		{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0xe0000, 0x20000, 2 },
		{ 0x100000, FUZZ_RAM - 0x100000, 1 },
	};

	if (ram[LINUX_ZERO_PAGE_GPA + 0x1e8] != 4)
		abort();
	for (unsigned i = 0; i < 4; i++) {
		uint64_t o = LINUX_ZERO_PAGE_GPA + 0x2d0 + 20 * i;

		if (get(ram, o, 8) != want[i][0] || get(ram, o + 8, 8) != want[i][1] ||
		    get(ram, o + 16, 4) != want[i][2])
			abort();
	}
}

static void check_initrd(uint64_t load, uint64_t init_size, size_t ilen)
{
	uint64_t zp = LINUX_ZERO_PAGE_GPA;
	uint64_t gpa = get(ram, zp + 0x218, 4) | get(ram, zp + 0xc0, 4) << 32;
	uint64_t len = get(ram, zp + 0x21c, 4) | get(ram, zp + 0xc4, 4) << 32;

	if (len != ilen)
		abort();
	if (!ilen)
		return;
	if (gpa % 4096 || gpa > FUZZ_RAM || len > FUZZ_RAM - gpa || gpa < load + init_size ||
	    gpa + len - 1 > get(ram, zp + 0x22c, 4) || memcmp(ram + gpa, initrd_buf, len))
		abort();
}

static void check_accepted(const uint8_t *img, const struct guest_entry *e, size_t ilen)
{
	uint64_t zp = LINUX_ZERO_PAGE_GPA, load = e->rip - 0x200;
	uint64_t pm_off = ((uint64_t)(img[0x1f1] ? img[0x1f1] : 4) + 1) * 512;
	uint64_t pm_len = get(img, 0x1f4, 4) * 16;
	uint64_t init_size = get(ram, zp + 0x260, 4);

	if (e->mode != GUEST_BOOT_LONG64 || strcmp(e->format, "Linux bzImage") ||
	    e->rsi != zp || e->cr3 != 0x1000 || e->gdt_base != LINUX_GDT_GPA ||
	    e->cs != 0x10 || e->ds != 0x18 || e->rdi || e->rax || e->rbx)
		abort();
	if (load < (1u << 20) || load > FUZZ_RAM || init_size > FUZZ_RAM - load ||
	    pm_len > init_size || memcmp(ram + load, img + pm_off, pm_len))
		abort();
	if (ram[zp + 0x210] != 0xff || get(ram, zp + 0x228, 4) != LINUX_CMDLINE_GPA ||
	    get(ram, zp + 0x250, 8) != 0 || get(ram, zp + 0x70, 8) != 0xe0000 ||
	    memcmp(ram + LINUX_CMDLINE_GPA, CMDLINE, sizeof(CMDLINE)))
		abort();
	check_e820();
	check_initrd(load, init_size, ilen);
}

static int load(const struct guest_load_args *a, size_t ilen, struct guest_mem *mem,
		struct guest_entry *e)
{
	return loader_load_linux("fuzz.bzImage", a, ilen ? initrd_buf : NULL, ilen, 0xe0000,
				 mem, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem mem;
	struct guest_load_args a = { .cmdline = CMDLINE, .vm_id = 1, .ncpus = 2 };
	struct guest_entry e;
	uint8_t *cut = NULL;
	size_t ilen = size ? data[size - 1] * (size_t)INITRD_UNIT : 0;

	setup();
	mem = (struct guest_mem){ ram, FUZZ_RAM };
	a.image = data;
	a.image_len = size;
	if (size && data[0] & 1) {
		/* An exact-size copy, so reads past the cut trip ASan too. */
		a.image_len = apply_edits(data, size);
		cut = malloc(a.image_len ? a.image_len : 1);
		if (!cut)
			abort();
		memcpy(cut, edited, a.image_len);
		a.image = cut;
	}
	if (load(&a, ilen, &mem, &e) == 0) {
		check_accepted(a.image, &e, ilen);
		clear_written(&e);
	} else {
		check_refused(&e);
	}
	free(cut);
	return 0;
}
