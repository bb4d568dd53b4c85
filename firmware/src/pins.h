/* Arduino pin numbers (D0..D13, A0..A5 = 14..19) to ports, and who uses each pin. */
#ifndef PINS_H
#define PINS_H
#include <stdint.h>
#include "msgpack.h"

/* Owners are resource indexes (see resources.h): 0 = free, 1..4 servos, 5..6 encoders. */
extern uint8_t pin_owner[];

volatile uint8_t *pin_in_reg(uint8_t pin);         /* PINx; DDRx = +1, PORTx = +2 */
uint8_t pin_mask(uint8_t pin);
void pin_output(uint8_t pin, uint8_t high);        /* make an output at a level (atomic) */
void pin_input(uint8_t pin);                       /* back to input, no pull-up */
uint8_t pin_read(uint8_t pin);

/* Read a pin argument: an int, or a string "13", "D13", "A0". On failure: ERROR 3 text set. */
uint8_t pin_arg(mp_reader *r, uint8_t *pin);
/* Check a pin is usable (2..19) and free for `user` (0: any user except a resource);
 * on failure sets the text and returns the error code, else 0. */
uint8_t pin_claimable(uint8_t pin, uint8_t user);

#endif
