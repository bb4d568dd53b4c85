/* Arduino Uno pin numbers (D0..D13, A0..A5 = 14..19) on simavr's io ports. */
#ifndef VIAMLITE_SIM_PINS_H
#define VIAMLITE_SIM_PINS_H

#include <simavr/sim_avr.h>
#include <simavr/sim_irq.h>

#define PINS_COUNT 20

/* Port letter and bit of an Arduino pin; -1 when pin is not 0..19. */
int pins_locate(int pin, char *port, int *bit);
avr_irq_t *pins_irq(avr_t *avr, int pin);
/* 1 when the firmware configured the pin as an output (DDR bit set). */
int pins_is_output(avr_t *avr, int pin);
/* Electrical level the simulator holds for the pin (its IRQ value). */
int pins_level(avr_t *avr, int pin);
/* 1 when something outside the MCU drives the pin (control command, wire, encoder). */
int pins_is_driven(int pin);
/* Drive an input pin from outside (0/1) or release it (-1). Survives MCU resets. */
void pins_drive(avr_t *avr, int pin, int level);
/* After a reset every pin is an input: pins not driven from outside float low, driven
 * pins read their level again. */
void pins_after_reset(avr_t *avr);
/* Parse "13", "D13", "A0" into 0..19; -1 when invalid. */
int pins_parse(const char *s);

#endif
