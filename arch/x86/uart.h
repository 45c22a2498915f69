/* 16550 UART, polled, used as the hypervisor console. */
#ifndef ARCH_X86_UART_H
#define ARCH_X86_UART_H

#include "core/types.h"

/* Parse a console= value: com1..com4 or an I/O port, optional ",baud". */
int uart_parse_console(const char *val, size_t len);
void uart_init(void);
void uart_putc(char c);
bool uart_enabled(void);

#endif
