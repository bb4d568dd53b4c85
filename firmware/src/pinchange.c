/* One handler for the three pin-change vectors: take the timestamp first (pulse widths),
 * then let the encoders decode. */
#include <avr/io.h>
#include <avr/interrupt.h>
#include <util/atomic.h>
#include "clock.h"
#include "config.h"
#include "encoder.h"
#include "pinchange.h"
#include "pins.h"
#include "pulse.h"

ISR(PCINT0_vect)
{
    uint32_t now = clock_ticks_locked();
    if (pulse_state != PULSE_IDLE)
        pulse_isr(now);
    encoder_isr();
}
ISR(PCINT1_vect, ISR_ALIASOF(PCINT0_vect));
ISR(PCINT2_vect, ISR_ALIASOF(PCINT0_vect));

static void enable(uint8_t pin, uint8_t *mb, uint8_t *mc, uint8_t *md)
{
    uint8_t m = pin_mask(pin);
    if (pin < 8) *md |= m;
    else if (pin < 14) *mb |= m;
    else *mc |= m;
}

void pinchange_update(void)
{
    uint8_t mb = 0, mc = 0, md = 0;
    for (uint8_t i = 0; i < N_ENCODERS; i++) {
        if (encoders[i].attached) {
            enable(encoders[i].pin_a, &mb, &mc, &md);
            enable(encoders[i].pin_b, &mb, &mc, &md);
        }
    }
    if (pulse_state != PULSE_IDLE)
        enable(pulse_pin, &mb, &mc, &md);
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        PCMSK0 = mb;
        PCMSK1 = mc;
        PCMSK2 = md;
        PCICR = (uint8_t)((mb ? _BV(PCIE0) : 0) | (mc ? _BV(PCIE1) : 0) | (md ? _BV(PCIE2) : 0));
    }
}
