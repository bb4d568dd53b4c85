/* The CPU sleeps (idle mode: timers, UART and pin changes keep running) until the next
 * interrupt whenever a main-loop pass finds nothing to do and no subscription or setpoint
 * stream is open; those keep the loop spinning so samples leave on time. Timer2 wakes the
 * loop every millisecond for the timeouts it checks. On a board this saves power; in the
 * simulator, sleeping cycles cost almost nothing, so it keeps pace with the wall clock
 * using a fraction of a host core. */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include "idle.h"
#include "uart.h"

void idle_init(void)
{
    TCCR2A = _BV(WGM21);                  /* CTC on OCR2A */
    TCCR2B = _BV(CS22) | _BV(CS20);       /* F_CPU / 128: 125 kHz */
    OCR2A = 124;                          /* 125 counts: 1 ms */
    TIFR2 = _BV(OCF2A);
    TIMSK2 |= _BV(OCIE2A);
    set_sleep_mode(SLEEP_MODE_IDLE);
}

EMPTY_INTERRUPT(TIMER2_COMPA_vect);

void idle_wait(void)
{
    cli();
    if (uart_rx_pending() == 0) {
        sleep_enable();
        sei();          /* the instruction after sei runs first: no wake-up is lost */
        sleep_cpu();
        sleep_disable();
    }
    sei();
}
