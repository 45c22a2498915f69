/* 16550 UART, polled, used as the hypervisor console (output and input). */
#ifndef ARCH_X86_UART_H
#define ARCH_X86_UART_H

#include "core/types.h"

/* Parse a console= value: com1..com4 or an I/O port, optional ",baud". */
int uart_parse_console(const char *val, size_t len);
void uart_init(void);
void uart_putc(char c);
/* The next received byte, or -1 when there is none (LSR.DR clear). */
int uart_getc(void);
bool uart_enabled(void);

#endif
