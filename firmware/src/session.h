/* The host session: its watchdog (HELLO's session_timeout_ms / on_timeout), the hardware
 * watchdog against firmware hangs, and why the chip last reset. */
#ifndef SESSION_H
#define SESSION_H
#include <stdint.h>

extern uint32_t session_watchdog_fired;
extern uint16_t session_timeout_ms;
extern uint8_t session_on_timeout_stop;

void session_init(void);                 /* enables the hardware watchdog */
const char *session_reset_cause(void);   /* a flash string: power-on, external, watchdog, brown-out */
void session_configure(uint16_t timeout_ms, uint8_t stop);
void session_feed(void);                 /* a valid frame arrived */
void session_poll(void);                 /* fires the watchdog when the host went silent */

#endif
