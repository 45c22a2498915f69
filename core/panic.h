/* Fatal errors in the hypervisor itself. */
#ifndef CORE_PANIC_H
#define CORE_PANIC_H

#include "core/assert.h"

bool panic_in_progress(void);
/* Called on the other CPUs when the panicking one sends its NMI. */
__noreturn void panic_stop_this_cpu(void);

#endif
