/* Channels 1..N_CHANNELS: subscriptions (paced samples of a read) and setpoint streams
 * (servo move with a deadman). */
#ifndef CHANNELS_H
#define CHANNELS_H
#include <stdint.h>
#include "msgpack.h"

#define ARGS_MAX 12   /* a subscription's arguments, kept as msgpack bytes */

/* Each returns 0 and writes the channel number to *ch, or an error code with the text set. */
uint8_t channels_subscribe(uint8_t res, uint8_t method, const uint8_t *args, uint8_t args_len,
                           uint8_t nargs, uint32_t rate_milli, uint8_t *ch);
uint8_t channels_open_stream(uint8_t res, uint8_t method, int32_t timeout_ms, uint8_t *ch);
uint8_t channels_close(uint8_t ch, uint8_t stream);      /* UNSUBSCRIBE (0) or CLOSE_STREAM (1) */
void channels_setpoint(uint8_t ch, uint32_t seq, mp_reader *args, uint8_t nargs);
void channels_close_all(void);
void channels_poll(void);                                /* samples due, deadmen */
uint8_t channels_open(void);                             /* channels in use */
extern uint32_t channels_samples_skipped;                /* late, or shed while requests queue */

#endif
