/*
 * Input typed on the hypervisor's serial console, routed to the VM with
 * the console focus (core/console_input.c says how, and which keys move
 * the focus).
 */
#ifndef CORE_CONSOLE_INPUT_H
#define CORE_CONSOLE_INPUT_H

struct vm;
struct vcpu;

/* Give the focus to the first VM with a console (once VMs exist). */
void console_input_start(void);
/*
 * On @vcpu's own CPU before its first entry and after each host
 * interrupt or HLT (vcpu_timers_check): poll the host UART when this CPU
 * runs the focus VM's first vCPU and the poll is due.
 */
void console_input_check(struct vcpu *vcpu);
/* @vm has stopped: if it had the focus, the next running VM gets it. */
void console_input_vm_stopped(struct vm *vm);

#endif
