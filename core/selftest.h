/* Deliberate faults on request (selftest=NAME), to test the diagnostics. */
#ifndef CORE_SELFTEST_H
#define CORE_SELFTEST_H

#include "core/types.h"

void selftest_run(const char *name, size_t len);

#endif
