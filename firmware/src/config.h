/* Sizes and limits of this build. */
#ifndef CONFIG_H
#define CONFIG_H

#define FW_VERSION "0.1.0"
#define FW_DEVICE "viamlite-fw atmega328p"

#define MAX_FRAME 128          /* largest payload received (announced as max_frame) */
#define MAX_REPLY 200          /* largest payload sent; payload + CRC stays under 254 (one COBS block) */
#define RX_RING 256            /* UART rings: uint8_t indices wrap by themselves */
#define TX_RING 128

#define N_PINS 20              /* Arduino pins 0..19: D0..D13, A0..A5 = 14..19 */
#define N_SERVOS 4
#define N_ENCODERS 2
#define N_CHANNELS 4           /* subscriptions and setpoint streams together */

#define TICKS_PER_US 2         /* Timer1 at F_CPU/8 */
#define TICKS_PER_MS 2000UL

#endif
