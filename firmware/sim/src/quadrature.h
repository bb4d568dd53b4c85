/* Quadrature encoder signal generator on two input pins, timed in simulated cycles. */
#ifndef VIAMLITE_SIM_QUADRATURE_H
#define VIAMLITE_SIM_QUADRATURE_H

#include <stddef.h>
#include <simavr/sim_avr.h>

/* Start |steps| transitions at rate_hz; positive steps: A leads B (x4 count goes up).
 * -1 with a reason in err. Emits {"event": "quad_done", ...} when finished. */
int quad_start(avr_t *avr, int pin_a, int pin_b, long steps, double rate_hz, char *err, size_t n);
/* Cycle timers are cleared by an MCU reset: re-arm the running generators. */
void quad_on_reset(avr_t *avr);

#endif
