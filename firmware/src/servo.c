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

static void set_range(servo_t *s, uint16_t min_us, uint16_t max_us);

/* what the ISR reads; mask 0 = no pulse in that slot */
static volatile uint8_t *isr_port[N_SERVOS];
static volatile uint8_t isr_mask[N_SERVOS];
static volatile uint16_t isr_ticks[N_SERVOS];

/* The next edge is planned one compare ahead, and the compare fires EARLY_TICKS before
 * the edge: the ISR then waits for the exact tick and writes the port. An ISR that was
 * running when the compare fired (UART, pin change) delays the entry, not the edge, as
 * long as it ends within EARLY_TICKS; every edge goes through the same instructions, so
 * the widths come out exact to a timer tick. The wait costs at most 8 us per edge. */
#define EARLY_TICKS (8U * TICKS_PER_US)

static volatile uint8_t *edge_port = &GPIOR0;
static uint8_t edge_set, edge_keep = 0xff, planned_rise;
static uint16_t edge_at, slot_start, cur_ticks;
static uint8_t slot;

ISR(TIMER1_COMPA_vect)
{
    volatile uint8_t *p = edge_port;
    uint8_t set = edge_set, keep = edge_keep;
    uint16_t at = edge_at;
    while ((int16_t)(TCNT1 - at) < 0)
        ;
    *p = (uint8_t)((*p & keep) | set);
    if (planned_rise) {
        planned_rise = 0;
        edge_keep = (uint8_t)~set;
        edge_set = 0;
        edge_at = slot_start + cur_ticks;
        OCR1A = edge_at - EARLY_TICKS;
        return;
    }
    slot_start += SLOT_TICKS;
    edge_at = slot_start;
    OCR1A = slot_start - EARLY_TICKS;
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
        set_range(&servos[i], 500, 2500);
        servos[i].pulse_us = 1500;
    }
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        slot_start = (uint16_t)(TCNT1 + 100);
        edge_at = slot_start;
        OCR1A = slot_start - EARLY_TICKS;
        TIFR1 = _BV(OCF1A);
        TIMSK1 |= _BV(OCIE1A);
    }
}

/* min + (max - min) * angle / 180, rounded half up, without a division per move: the
 * slope is rounded up to 1/65536 us, an error below 0.003 us over 180 degrees, smaller
 * than the 1/180 us steps of the exact value, so the rounding comes out the same. */
static void set_range(servo_t *s, uint16_t min_us, uint16_t max_us)
{
    s->min_us = min_us;
    s->max_us = max_us;
    s->us_per_deg = (((uint32_t)(max_us - min_us) << 16) + 179) / 180;
}

static uint16_t pulse_for(const servo_t *s, uint8_t angle)
{
    return (uint16_t)(s->min_us + ((s->us_per_deg * angle + 0x8000UL) >> 16));
}

void servo_release(uint8_t i)
{
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        isr_mask[i] = 0;
        if (planned_rise && slot == i) {   /* its next rise is already planned: cancel it */
            planned_rise = 0;
            edge_set = 0;
        }
    }
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
    set_range(s, min_us, max_us);
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
