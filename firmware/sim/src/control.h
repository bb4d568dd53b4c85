/* Control commands read from stdin, one per line, applied between run slices. */
#ifndef VIAMLITE_SIM_CONTROL_H
#define VIAMLITE_SIM_CONTROL_H

#include <simavr/sim_avr.h>

/* What the run loop must do after a command. */
enum { CONTROL_CONTINUE = 0, CONTROL_RESET, CONTROL_PACE, CONTROL_QUIT };

/* Read what stdin has (non-blocking after poll); -1 on EOF. */
int control_read(void);
/* Apply the next complete line; returns CONTROL_* (CONTINUE also when no line is pending),
 * *more is set when further lines wait. */
int control_next(avr_t *avr, int *more);

#endif
