/* Edge trace of output pins: one JSON line per edge with period and pulse widths. */
#ifndef VIAMLITE_SIM_TRACE_H
#define VIAMLITE_SIM_TRACE_H

#include <stddef.h>
#include <simavr/sim_avr.h>

int trace_open(avr_t *avr, const char *path, char *err, size_t n);
/* The MCU was reset: its pins are inputs now, so high outputs end their pulse here. */
void trace_on_reset(avr_t *avr);
void trace_flush(void);
void trace_close(void);

#endif
