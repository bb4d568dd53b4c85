/* Jumper wires between pins: --wire OUT:IN. */
#ifndef VIAMLITE_SIM_WIRES_H
#define VIAMLITE_SIM_WIRES_H

#include <stddef.h>
#include <simavr/sim_avr.h>

/* Parse and record "OUT:IN" (before wires_attach); -1 with a reason in err. */
int wires_add(const char *spec, char *err, size_t n);
/* Hook the OUT pins and drive every IN pin from its OUT's level. */
void wires_attach(avr_t *avr);
/* Re-drive IN pins from OUT levels (after a reset). */
void wires_sync(avr_t *avr);
/* OUT pin wired to this IN pin, or -1. */
int wires_source_of(int pin);

#endif
