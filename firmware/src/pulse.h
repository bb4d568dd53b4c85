/* measure_pulse: the width of the next complete HIGH pulse on a pin, by pin-change interrupt. */
#ifndef PULSE_H
#define PULSE_H
#include <stdint.h>

enum { PULSE_IDLE, PULSE_WAIT_LOW, PULSE_WAIT_RISE, PULSE_WAIT_FALL, PULSE_DONE };

extern volatile uint8_t pulse_state;
extern uint8_t pulse_pin;

void pulse_start(uint8_t pin);
uint32_t pulse_width_us(void);      /* after PULSE_DONE */
void pulse_stop(void);
void pulse_isr(uint32_t now);       /* from the pin-change ISRs, with the entry timestamp */

#endif
