/*
 * A tiny host unit-test framework. Each test binary defines its cases
 * with TEST(name) and lists them in main() via RUN(name); CHECK records a
 * failure with file and line and carries on. unit_done() prints the
 * closing "N passed, N failed" line and returns the exit status.
 */
#ifndef TESTS_UNIT_UNIT_H
#define TESTS_UNIT_UNIT_H

#include <stdio.h>
#include <string.h>

extern int unit_failed_checks;
extern int unit_passed, unit_failed;
extern const char *unit_current;

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                             \
	do {                                                                  \
		int before_ = unit_failed_checks;                             \
		unit_current = #name;                                         \
		log_reset();                                                  \
		test_##name();                                                \
		if (unit_failed_checks == before_)                            \
			unit_passed++;                                        \
		else                                                          \
			unit_failed++;                                        \
	} while (0)

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n",      \
				__FILE__, __LINE__, unit_current, #cond);     \
			unit_failed_checks++;                                 \
		}                                                             \
	} while (0)

#define CHECK_EQ(a, b)                                                        \
	do {                                                                  \
		unsigned long long a_ = (unsigned long long)(a);              \
		unsigned long long b_ = (unsigned long long)(b);              \
		if (a_ != b_) {                                               \
			fprintf(stderr, "%s:%d: %s: %s == %s failed: "        \
				"0x%llx != 0x%llx\n", __FILE__, __LINE__,     \
				unit_current, #a, #b, a_, b_);                \
			unit_failed_checks++;                                 \
		}                                                             \
	} while (0)

#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

/* Everything printk printed since the test began (also echoed if verbose). */
const char *log_text(void);
void log_reset(void);
/* Did printk print something containing @needle since the test began? */
int log_has(const char *needle);

/*
 * A fake physical memory for code that goes through phys_to_virt():
 * physical addresses [fake_phys_base, fake_phys_base + size) map onto a
 * host buffer. Returns the buffer.
 */
void *fake_phys_init(unsigned long long base, unsigned long long size);

int unit_done(void);

#endif
