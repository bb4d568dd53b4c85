/* Hobby servos: 50 Hz frames of 4 slots of 5 ms; Timer1 compare A raises and drops each pin. */
#ifndef SERVO_H
#define SERVO_H
#include <stdint.h>

typedef struct {
    uint8_t pin;          /* valid when attached */
    uint8_t attached;
    uint8_t angle;
    uint16_t min_us, max_us, pulse_us;
    uint32_t setpoint_seq, setpoints_applied;
} servo_t;

extern servo_t servos[];

void servo_init(void);
void servo_attach(uint8_t i, uint8_t pin, uint16_t min_us, uint16_t max_us);
void servo_detach(uint8_t i);
void servo_move(uint8_t i, uint8_t angle);   /* attached; starts the pulses */
void servo_release(uint8_t i);               /* stop the pulses (limp) */
uint8_t servo_pulsing(uint8_t i);

#endif
