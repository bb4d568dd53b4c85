/* x4 decoding: every edge of A or B moves the count by one. State = (A << 1) | B; with A
 * leading B the states run 0, 2, 3, 1 (count up), the other way round (count down); a
 * jump of two states (a missed edge) is ignored. */
#include <avr/pgmspace.h>
#include <util/atomic.h>
#include "config.h"
#include "encoder.h"
#include "pinchange.h"
#include "pins.h"

encoder_t encoders[N_ENCODERS];

/* index: previous state * 4 + new state */
static const int8_t steps[16] = {
    0, -1, +1, 0,
    +1, 0, 0, -1,
    -1, 0, 0, +1,
    0, +1, -1, 0,
};

static uint8_t read_state(const encoder_t *e)
{
    return (uint8_t)(((*e->in_a & e->mask_a) ? 2 : 0) | ((*e->in_b & e->mask_b) ? 1 : 0));
}

void encoder_isr(void)
{
    for (uint8_t i = 0; i < N_ENCODERS; i++) {
        encoder_t *e = &encoders[i];
        if (!e->attached)
            continue;
        uint8_t s = read_state(e);
        e->count += steps[(e->state << 2) | s];
        e->state = s;
    }
}

void encoder_attach(uint8_t i, uint8_t pin_a, uint8_t pin_b)
{
    encoder_t *e = &encoders[i];
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { e->attached = 0; }
    if (e->pin_a || e->pin_b) {
        if (pin_owner[e->pin_a] == 1 + 4 + i) pin_owner[e->pin_a] = 0;
        if (pin_owner[e->pin_b] == 1 + 4 + i) pin_owner[e->pin_b] = 0;
    }
    pin_input(pin_a);
    pin_input(pin_b);
    pin_owner[pin_a] = pin_owner[pin_b] = (uint8_t)(1 + 4 + i);
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        e->pin_a = pin_a;
        e->pin_b = pin_b;
        e->in_a = pin_in_reg(pin_a);
        e->in_b = pin_in_reg(pin_b);
        e->mask_a = pin_mask(pin_a);
        e->mask_b = pin_mask(pin_b);
        e->state = read_state(e);
        e->count = 0;
        e->attached = 1;
    }
    pinchange_update();
}

int32_t encoder_count(uint8_t i)
{
    int32_t c;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { c = encoders[i].count; }
    return c;
}

void encoder_reset(uint8_t i)
{
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { encoders[i].count = 0; }
}
