/* Where the log goes: the hypervisor console device. */
#ifndef CORE_CONSOLE_H
#define CORE_CONSOLE_H

void console_putc(char c);
/* The console device is ready: flush what was logged before it. */
void console_start(void);

#endif
