/* Framing of the serial line; COBS is done in place in both directions. */
#include <util/crc16.h>
#include <avr/wdt.h>
#include "config.h"
#include "frame.h"
#include "uart.h"

/* received: encoded frame (payload + 2 CRC + 1 COBS overhead), decoded in place */
#define RX_CAP (MAX_FRAME + 3)
static uint8_t rx[RX_CAP];
static uint8_t rx_len, rx_overflow;
uint8_t *const frame_rx_payload = rx;

/* sent: [code][payload...][crc hi][crc lo][0x00]; the payload starts at tx + 1 */
static uint8_t tx[1 + MAX_REPLY + 2 + 1];
static mp_writer writer;

uint32_t frame_rx_good, frame_rx_dropped, frame_tx_dropped;

static uint16_t crc16(const uint8_t *p, uint8_t n)
{
    uint16_t crc = 0;
    while (n--)
        crc = _crc_xmodem_update(crc, *p++);
    return crc;
}

/* COBS decode in place; returns the decoded length, or -1 when malformed. */
static int16_t cobs_decode(uint8_t *buf, uint8_t n)
{
    uint8_t in = 0, out = 0;
    while (in < n) {
        uint8_t code = buf[in];
        if (code == 0 || (uint16_t)in + code > n)
            return -1;
        in++;
        for (uint8_t k = 1; k < code; k++)
            buf[out++] = buf[in++];
        if (code != 0xff && in < n)
            buf[out++] = 0;
    }
    return out;
}

static int16_t finish(void)
{
    uint8_t n = rx_len;
    rx_len = 0;
    if (rx_overflow) {
        rx_overflow = 0;
        frame_rx_dropped++;
        return 0;
    }
    if (n == 0)
        return 0;   /* idle fill */
    int16_t m = cobs_decode(rx, n);
    if (m < 3 || m - 2 > MAX_FRAME) {
        frame_rx_dropped++;
        return 0;
    }
    uint8_t len = (uint8_t)(m - 2);
    uint16_t want = ((uint16_t)rx[len] << 8) | rx[len + 1];
    if (crc16(rx, len) != want) {
        frame_rx_dropped++;
        return 0;
    }
    frame_rx_good++;
    return len;
}

int16_t frame_poll(void)
{
    int16_t c;
    while ((c = uart_getc()) >= 0) {
        if (c == 0) {
            int16_t len = finish();
            if (len > 0)
                return len;
        } else if (rx_len < RX_CAP) {
            rx[rx_len++] = (uint8_t)c;
        } else {
            rx_overflow = 1;
        }
    }
    return 0;
}

mp_writer *frame_begin(void)
{
    writer.p = tx + 1;
    writer.end = tx + 1 + MAX_REPLY;
    writer.overflow = 0;
    return &writer;
}

uint8_t frame_send(uint8_t droppable)
{
    uint8_t len = (uint8_t)(writer.p - (tx + 1));
    uint16_t crc = crc16(tx + 1, len);
    tx[1 + len] = (uint8_t)(crc >> 8);
    tx[2 + len] = (uint8_t)crc;
    uint8_t end = (uint8_t)(len + 3);       /* code byte + payload + CRC: under 254, one block */
    uint8_t last = 0;
    for (uint8_t i = 1; i < end; i++) {
        if (tx[i] == 0) {
            tx[last] = (uint8_t)(i - last);
            last = i;
        }
    }
    tx[last] = (uint8_t)(end - last);
    tx[end] = 0;
    uint8_t total = (uint8_t)(end + 1);
    if (droppable && uart_tx_free() < total) {
        frame_tx_dropped++;
        return 0;
    }
    /* a reply larger than the free ring goes out in pieces as the ring drains */
    const uint8_t *p = tx;
    while (total) {
        uint8_t room = uart_tx_free();
        if (!room) {
            wdt_reset();
            continue;
        }
        if (room > total)
            room = total;
        uart_put(p, room);
        p += room;
        total = (uint8_t)(total - room);
    }
    return 1;
}
