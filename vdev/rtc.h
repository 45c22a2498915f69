/* The VM's CMOS real-time clock (vdev/rtc.c), as other device models see it. */
#ifndef VDEV_RTC_H
#define VDEV_RTC_H

#include "core/types.h"

struct vm;

/* The time the VM's clock shows now, in ns since 1970-01-01 00:00:00. */
uint64_t rtc_unix_ns(struct vm *vm, uint64_t tsc);

#endif
