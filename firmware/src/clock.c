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

uint64_t clock_us(void)
{
    uint16_t t;
    uint32_t o;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        t = TCNT1;
        o = clock_overflows;
        if ((TIFR1 & _BV(TOV1)) && t < 0x8000)
            o++;
    }
    return ((((uint64_t)o) << 16) | t) >> 1;
}
