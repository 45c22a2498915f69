/*
 * The test-guest library: what every guest under tests/guests/ may use.
 * 32-bit multiboot guests get the common part (serial console, printf,
 * port I/O, exit); 64-bit ELF guests also get the IDT with fault probes,
 * hypercalls and the command line.
 *
 * Reporting convention: a guest prints "<name>: start" first, then one
 * "<name>: PASS ..." or "<name>: FAIL ..." line per check, and ends the
 * VM by writing its status to the debug-exit port: 0 = pass, otherwise
 * the number of failed checks. The library itself ends a guest with
 * GUEST_EXIT_BAD_BOOT if the boot state breaks core/guest_abi.h, and
 * with GUEST_EXIT_EXCEPTION on an exception no probe expected.
 */
#ifndef TESTS_GUESTS_LIB_GUEST_H
#define TESTS_GUESTS_LIB_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/guest_abi.h"

#define GUEST_DEBUG_EXIT_PORT 0xf4
#define GUEST_EXIT_EXCEPTION 0xee
#define GUEST_EXIT_BAD_BOOT 0xed

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define guest_printf_fmt(a, b) __attribute__((format(printf, a, b)))

/*
 * Each guest names itself once, at file scope: GUEST_NAME("msr");
 * The library prefixes its own messages with it.
 */
extern const char guest_name[];
#define GUEST_NAME(n) const char guest_name[] = n

/* --- Port I/O and timing ------------------------------------------------ */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

/* RDTSC fenced on both sides so that it measures what lies between. */
static inline uint64_t rdtsc_fenced(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* --- Console (16550 at COM1, polled) and exit ---------------------------- */
void serial_putc(char c);
void serial_write(const char *s, size_t len);
void serial_puts(const char *s);
int printf(const char *fmt, ...) guest_printf_fmt(1, 2);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) guest_printf_fmt(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* "<name>: PASS <what>" or "<name>: FAIL <what>"; returns 0 or 1. */
int check(int ok, const char *fmt, ...) guest_printf_fmt(2, 3);

/* Write @status to the debug-exit port; never returns. */
void guest_exit(uint32_t status) __attribute__((noreturn));

/* --- Strings (the compiler may also emit calls to these) ------------------ */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
size_t str_printable(char *dst, size_t size, const char *src);

#ifndef __x86_64__
/* 32-bit multiboot guests: called by crt32.S with EAX and EBX at entry. */
int mb_main(uint32_t magic, uint32_t info);
#endif

#ifdef __x86_64__
/* --- 64-bit only: boot, exceptions, hypercalls, command line -------------- */

/* Called by crt0 before main(): checks the boot state, sets up the IDT. */
void guest_lib_init(uint64_t magic, const struct hv_boot_info *bi);
int main(const struct hv_boot_info *bi);

/* The boot info main() got, for library helpers. */
extern const struct hv_boot_info *guest_boot_info;

/* What the last exception was (probe or not). */
struct guest_trap_record {
	uint64_t vector;
	uint64_t error;
	uint64_t rip;
	uint64_t cr2;
};
extern volatile struct guest_trap_record guest_last_trap;

/*
 * Fault probes: each returns -1 if the instruction completed, or the
 * exception vector it raised (13 = #GP, 14 = #PF, ...). On a fault the
 * output is left untouched.
 */
int guest_try_rdmsr(uint32_t msr, uint64_t *val);
int guest_try_wrmsr(uint32_t msr, uint64_t val);
int guest_try_read64(uint64_t addr, uint64_t *val);
int guest_try_write64(uint64_t addr, uint64_t val);

#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14

/* Load an IDT; used by the triple-fault guest to load an empty one. */
void guest_lidt(const void *base, uint16_t limit);
/* Send @vector to @stub (which ends in iretq), beside the library's
 * exception gates; vectors nobody set stay not present. */
void guest_set_interrupt_gate(uint8_t vector, const void *stub);

/* VMCALL, or VMMCALL if the CPU vendor is AMD or Hygon (see hypercall.c). */
long hypercall(long nr, long a0, long a1, long a2);
extern int hypercall_use_vmmcall;

/*
 * The command line (hv_boot_info.cmdline_gpa): space-separated "key" or
 * "key=value" words, a value may be double-quoted. cmdline_get returns
 * the value of the last @key ("" for a bare key) or NULL if absent.
 * cmdline_u64 takes decimal or 0x-hex with an optional K/M/G suffix and
 * returns @dflt (with a warning if the value is malformed) otherwise.
 */
const char *cmdline_get(const char *key);
uint64_t cmdline_u64(const char *key, uint64_t dflt);
const char *cmdline_raw(void);
#endif

#endif
