#include <util/atomic.h>
#include "config.h"
#include "pinchange.h"
#include "pins.h"
#include "pulse.h"

volatile uint8_t pulse_state;
uint8_t pulse_pin;
static volatile uint8_t *in_reg;
static uint8_t in_mask;
static uint32_t rise;
static volatile uint32_t width;   /* written by the ISR, read once pulse_state is DONE */

void pulse_isr(uint32_t now)
{
    uint8_t level = (*in_reg & in_mask) != 0;
    switch (pulse_state) {
    case PULSE_WAIT_LOW:
        if (!level)
            pulse_state = PULSE_WAIT_RISE;
        break;
    case PULSE_WAIT_RISE:
        if (level) {
            rise = now;
            pulse_state = PULSE_WAIT_FALL;
        }
        break;
    case PULSE_WAIT_FALL:
        if (!level) {
            width = now - rise;
            pulse_state = PULSE_DONE;
        }
        break;
    }
}

void pulse_start(uint8_t pin)
{
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        pulse_pin = pin;
        in_reg = pin_in_reg(pin);
        in_mask = pin_mask(pin);
        pulse_state = (*in_reg & in_mask) ? PULSE_WAIT_LOW : PULSE_WAIT_RISE;
    }
    pinchange_update();
}

uint32_t pulse_width_us(void)
{
    return (width + TICKS_PER_US / 2) / TICKS_PER_US;
}

void pulse_stop(void)
{
    pulse_state = PULSE_IDLE;
    pinchange_update();
}
