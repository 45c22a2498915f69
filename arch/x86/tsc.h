/* Time-stamp counter calibration. */
#ifndef ARCH_X86_TSC_H
#define ARCH_X86_TSC_H

#include "core/types.h"

void tsc_calibrate(void);

#endif
