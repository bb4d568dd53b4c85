/* Servo pulses from the Timer1 compare-A ISR. The frame is 4 slots of 5 ms (10000 ticks);
 * slot i raises servo i's pin, the next compare drops it after its pulse, the one after
 * starts slot i+1. Compare times advance from the previous ones (not from "now"), so the
 * widths and the 20 ms period carry no drift; only ISR entry latency adds jitter. */
#include <avr/io.h>
#include <avr/interrupt.h>
#include <util/atomic.h>
#include "clock.h"
#include "config.h"
#include "pins.h"
#include "servo.h"

#define SLOT_TICKS (5000U * TICKS_PER_US)

servo_t servos[N_SERVOS];

/* what the ISR reads; mask 0 = no pulse in that slot */
static volatile uint8_t *isr_port[N_SERVOS];
static volatile uint8_t isr_mask[N_SERVOS];
static volatile uint16_t isr_ticks[N_SERVOS];

/* The next edge is planned one compare ahead, so every compare starts with the same
 * instructions (read port, mask, write): rising and falling edges see the same ISR entry
 * latency and the pulse width comes out exact. */
static volatile uint8_t *edge_port = &GPIOR0;
static uint8_t edge_set, edge_keep = 0xff, planned_rise;
static uint16_t slot_start, cur_ticks;
static uint8_t slot;

ISR(TIMER1_COMPA_vect)
{
    volatile uint8_t *p = edge_port;
    *p = (uint8_t)((*p & edge_keep) | edge_set);
    if (planned_rise) {
        planned_rise = 0;
        edge_keep = (uint8_t)~edge_set;
        edge_set = 0;
        OCR1A = slot_start + cur_ticks;
        return;
    }
    slot_start += SLOT_TICKS;
    OCR1A = slot_start;
    slot = (uint8_t)((slot + 1) & (N_SERVOS - 1));
    uint8_t m = isr_mask[slot];
    edge_keep = 0xff;
    edge_set = m;
    if (m) {
        edge_port = isr_port[slot];
        cur_ticks = isr_ticks[slot];
        planned_rise = 1;
    }
}

void servo_init(void)
{
    for (uint8_t i = 0; i < N_SERVOS; i++) {
        servos[i].angle = 90;
        servos[i].min_us = 500;
        servos[i].max_us = 2500;
        servos[i].pulse_us = 1500;
    }
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        slot_start = (uint16_t)(TCNT1 + 100);
        OCR1A = slot_start;
        TIFR1 = _BV(OCF1A);
        TIMSK1 |= _BV(OCIE1A);
    }
}

static uint16_t pulse_for(const servo_t *s, uint8_t angle)
{
    uint32_t span = (uint32_t)(s->max_us - s->min_us) * angle;
    return (uint16_t)(s->min_us + (span + 90) / 180);
}

void servo_release(uint8_t i)
{
    isr_mask[i] = 0;   /* one byte: atomic */
}

uint8_t servo_pulsing(uint8_t i)
{
    return isr_mask[i] != 0;
}

void servo_attach(uint8_t i, uint8_t pin, uint16_t min_us, uint16_t max_us)
{
    servo_t *s = &servos[i];
    if (s->attached)
        servo_detach(i);
    s->pin = pin;
    s->min_us = min_us;
    s->max_us = max_us;
    s->pulse_us = pulse_for(s, s->angle);
    s->attached = 1;
    pin_owner[pin] = (uint8_t)(1 + i);
    pin_output(pin, 0);
}

void servo_detach(uint8_t i)
{
    servo_t *s = &servos[i];
    if (!s->attached)
        return;
    servo_release(i);
    /* let a pulse in flight end before the pin is handed back */
    while (1) {
        uint8_t busy;
        ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { busy = (*pin_in_reg(s->pin) & pin_mask(s->pin)) != 0; }
        if (!busy)
            break;
    }
    s->attached = 0;
    pin_owner[s->pin] = 0;
}

void servo_move(uint8_t i, uint8_t angle)
{
    servo_t *s = &servos[i];
    s->angle = angle;
    s->pulse_us = pulse_for(s, angle);
    uint16_t ticks = (uint16_t)(s->pulse_us * TICKS_PER_US);
    volatile uint8_t *port = pin_in_reg(s->pin) + 2;
    uint8_t m = pin_mask(s->pin);
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        isr_ticks[i] = ticks;
        isr_port[i] = port;
        isr_mask[i] = m;
    }
}
