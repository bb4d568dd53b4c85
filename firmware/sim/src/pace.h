/* Pacing: keep simulated time near the wall clock and measure how far it lags. */
#ifndef VIAMLITE_SIM_PACE_H
#define VIAMLITE_SIM_PACE_H

#include <stdint.h>

/* speed 0 = unpaced; cycle = simulated cycle at the start; freq in Hz. */
void pace_start(double speed, uint64_t cycle, uint32_t freq);
/* Seconds of wall time until the wall clock reaches simulated time (<= 0: run now). */
double pace_ahead_s(uint64_t cycle);
/* Record the lag after a run slice. */
void pace_sample(uint64_t cycle);
/* Print {"event": "pace", ...} for the whole run so far. */
void pace_report(uint64_t cycle, int answer);
/* Monotonic wall clock in seconds. */
double pace_wall_now(void);

#endif
