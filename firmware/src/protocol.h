/* Message dispatch (docs/fastpath.md 2): one decoded frame in, replies out. */
#ifndef PROTOCOL_H
#define PROTOCOL_H
#include <stdint.h>
#include "msgpack.h"

void protocol_handle(const uint8_t *payload, uint8_t len);

mp_writer *reply_begin(uint32_t id);                      /* [17, id, <value follows>] */
void send_error(uint32_t id, uint8_t code);               /* [18, id, code, text] */
void send_event(uint8_t ch, uint32_t seq, uint8_t code);  /* [20, ch, seq, code, text] */
void send_sample_event(uint8_t ch, uint32_t seq, uint8_t code);  /* as send_event, dropped (counted) when the line is full */

#endif
