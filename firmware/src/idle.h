/* Idle sleep between main-loop passes while no channel needs precise timing. */
#ifndef IDLE_H
#define IDLE_H

void idle_init(void);   /* Timer2: a 1 ms wake-up tick for timeouts (watchdog, measure_pulse) */
void idle_wait(void);   /* sleep until the next interrupt, unless received bytes wait */

#endif
