/* Pin-change interrupts on ports B, C and D, shared by the encoders and pulse measurement. */
#ifndef PINCHANGE_H
#define PINCHANGE_H
#include <stdint.h>

void pinchange_update(void);   /* recompute the enabled pins from the encoders and pulse module */

#endif
