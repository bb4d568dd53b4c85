/* Time base: Timer1 free-running at F_CPU/8 (0.5 us ticks), extended by its overflow count. */
#ifndef CLOCK_H
#define CLOCK_H
#include <stdint.h>
#include <avr/io.h>

extern volatile uint32_t clock_overflows;

void clock_init(void);
uint32_t clock_ticks(void);      /* 0.5 us ticks since boot, low 32 bits (wraps after 35 min) */
uint64_t clock_us(void);         /* microseconds since boot */

/* Ticks with interrupts already off (inside an ISR). */
static inline uint32_t clock_ticks_locked(void)
{
    uint16_t t = TCNT1;
    uint32_t o = clock_overflows;
    if ((TIFR1 & _BV(TOV1)) && t < 0x8000)
        o++;
    return (o << 16) | t;
}

/* true once `deadline` (in ticks) has passed */
static inline uint8_t clock_reached(uint32_t now, uint32_t deadline)
{
    return (int32_t)(now - deadline) >= 0;
}

#endif
