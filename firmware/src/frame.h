/* Serial framing (docs/fastpath.md 1.2): COBS(payload || CRC-16/XMODEM big-endian) || 0x00. */
#ifndef FRAME_H
#define FRAME_H
#include <stdint.h>
#include "msgpack.h"

/* Feed received bytes; returns a payload length (> 0) when a good frame is complete, with
 * the payload at frame_rx_payload; 0 otherwise. Bad frames are counted and dropped. */
int16_t frame_poll(void);
extern uint8_t *const frame_rx_payload;

/* Building a reply: frame_begin() gives a writer over the send buffer; frame_send()
 * frames and queues it. `droppable`: give up (counted) when the transmit ring is full,
 * instead of waiting for room. Returns 1 when queued. */
mp_writer *frame_begin(void);
uint8_t frame_send(uint8_t droppable);

extern uint32_t frame_rx_good, frame_rx_dropped, frame_tx_dropped;

#endif
