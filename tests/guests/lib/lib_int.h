/* Library-internal entry points of the 64-bit guest library (tests/guests/lib/). */
#ifndef TESTS_GUESTS_LIB_LIB_INT_H
#define TESTS_GUESTS_LIB_LIB_INT_H

#include "tests/guests/lib/guest.h"

void guest_idt_init(void);
void hypercall_init(void);
void cmdline_init(const struct hv_boot_info *bi);

#endif
