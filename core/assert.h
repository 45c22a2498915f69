/* Internal invariants. A broken one is a hypervisor bug: panic. */
#ifndef CORE_ASSERT_H
#define CORE_ASSERT_H

#include "core/types.h"

void panic(const char *fmt, ...) __printf(1, 2) __noreturn;

#define ASSERT(cond)                                                          \
	do {                                                                  \
		if (unlikely(!(cond)))                                        \
			panic("assertion '%s' failed at %s:%d", #cond,       \
			      __FILE__, __LINE__);                            \
	} while (0)

#define BUILD_ASSERT(cond) _Static_assert(cond, #cond)

#endif
