/* The legacy 8259 interrupt controllers. */
#ifndef ARCH_X86_PIC_H
#define ARCH_X86_PIC_H

/* Move them off the exception vectors and mask all their lines. */
void pic_disable(void);

#endif
