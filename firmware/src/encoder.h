/* Quadrature encoders, x4 decoding from pin-change interrupts. */
#ifndef ENCODER_H
#define ENCODER_H
#include <stdint.h>

typedef struct {
    volatile uint8_t *in_a, *in_b;
    uint8_t mask_a, mask_b;
    uint8_t pin_a, pin_b;
    uint8_t attached;
    uint8_t state;            /* last (A << 1) | B */
    volatile int32_t count;
} encoder_t;

extern encoder_t encoders[];

void encoder_attach(uint8_t i, uint8_t pin_a, uint8_t pin_b);
int32_t encoder_count(uint8_t i);
void encoder_reset(uint8_t i);
void encoder_isr(void);       /* called from the pin-change ISRs */

#endif
