#include <avr/io.h>
#include <avr/pgmspace.h>
#include <avr/wdt.h>
#include "clock.h"
#include "config.h"
#include "protocol.h"
#include "schema.h"
#include "servo.h"
#include "session.h"
#include "text.h"

uint32_t session_watchdog_fired;
uint16_t session_timeout_ms;
uint8_t session_on_timeout_stop;
static uint8_t armed;
static uint32_t last_rx;
static uint32_t event_seq;

/* MCUSR must be read and cleared, and a watchdog left running by a watchdog reset turned
 * off, before anything else runs. */
static uint8_t reset_flags __attribute__((section(".noinit")));
void session_early(void) __attribute__((naked, used, section(".init3")));
void session_early(void)
{
    reset_flags = MCUSR;
    MCUSR = 0;
    wdt_disable();
}

void session_init(void)
{
    wdt_enable(WDTO_500MS);
}

const char *session_reset_cause(void)
{
    if (reset_flags & _BV(WDRF))
        return PSTR("watchdog");
    if (reset_flags & _BV(BORF))
        return PSTR("brown-out");
    if (reset_flags & _BV(EXTRF))
        return PSTR("external");
    return PSTR("power-on");
}

void session_configure(uint16_t timeout_ms, uint8_t stop)
{
    session_timeout_ms = timeout_ms;
    session_on_timeout_stop = stop;
    last_rx = clock_ticks();
    armed = timeout_ms != 0;
}

void session_feed(void)
{
    last_rx = clock_ticks();
    armed = session_timeout_ms != 0;
}

void session_poll(void)
{
    wdt_reset();
    if (!armed || !clock_reached(clock_ticks(), last_rx + (uint32_t)session_timeout_ms * TICKS_PER_MS))
        return;
    armed = 0;
    session_watchdog_fired++;
    text_clear();
    T("watchdog: host silent for ");
    text_u(session_timeout_ms);
    T(" ms; ");
    uint8_t n = 0;
    for (uint8_t i = 0; i < N_SERVOS; i++) {
        if (!servos[i].attached || !servo_pulsing(i))
            continue;
        if (!session_on_timeout_stop)
            servo_release(i);
        if (n++)
            T(", ");
        else if (session_on_timeout_stop)
            T("held ");
        else
            T("released ");
        T("servo");
        text_u(i);
    }
    if (!n)
        T("no servo was pulsing");
    send_event(0, event_seq++, ERR_DEADLINE_EXCEEDED);
}
