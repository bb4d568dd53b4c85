/* Timer1 in normal mode, prescaler 8. The servo module uses compare A on the same timer. */
#include <avr/interrupt.h>
#include <util/atomic.h>
#include "clock.h"

volatile uint32_t clock_overflows;

void clock_init(void)
{
    TCCR1A = 0;
    TCCR1B = _BV(CS11);
    TIFR1 = _BV(TOV1);
    TIMSK1 |= _BV(TOIE1);
}

ISR(TIMER1_OVF_vect)
{
    clock_overflows++;
}

uint32_t clock_ticks(void)
{
    uint32_t t;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { t = clock_ticks_locked(); }
    return t;
}

static void read48(uint32_t *hi, uint16_t *lo)
{
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        uint16_t t = TCNT1;
        uint32_t o = clock_overflows;
        if ((TIFR1 & _BV(TOV1)) && t < 0x8000)
            o++;
        *hi = o;
        *lo = t;
    }
}

uint64_t clock_ns(void)
{
    uint32_t o;
    uint16_t t;
    read48(&o, &t);
    /* ticks * 500 = (o << 16 | t) * 500, with one 32x32 -> 64 multiply */
    return (((uint64_t)o * 500U) << 16) + (uint32_t)t * 500U;
}

uint32_t clock_ms(void)
{
    uint32_t o;
    uint16_t t;
    read48(&o, &t);
    /* (o * 65536 + t) / 2000 = 32 o + 96 o / 125 + t / 2000, without 64-bit division */
    uint32_t q = o / 125, r = o - q * 125;
    return 32 * o + 96 * q + (96 * r + t / 16) / 125;
}
