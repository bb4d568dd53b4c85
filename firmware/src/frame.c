/* Framing of the serial line; COBS is done in place in both directions. */
#include <util/crc16.h>
#include <avr/wdt.h>
#include "config.h"
#include "frame.h"
#include "uart.h"

/* Received frames are COBS-decoded and CRC-checked byte by byte as they arrive: the CRC
 * runs over payload and CRC together, which leaves 0 for a good frame (CRC-16/XMODEM has
 * no reflection and no final XOR). */
#define RX_CAP (MAX_FRAME + 2)
static uint8_t rx[RX_CAP];
static uint8_t rx_len;          /* decoded bytes so far */
static uint8_t code, left;      /* current COBS group: its code, bytes still to come */
static uint8_t in_frame, rx_overflow;
static uint16_t rx_crc;
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

static void emit(uint8_t b)
{
    if (rx_len < RX_CAP) {
        rx[rx_len++] = b;
        rx_crc = _crc_xmodem_update(rx_crc, b);
    } else {
        rx_overflow = 1;
    }
}

/* A delimiter: the payload length of a good frame, else 0 (bad frames are counted). */
static int16_t finish(void)
{
    uint8_t n = rx_len, ok = !rx_overflow && left == 0 && n >= 3 && rx_crc == 0;
    uint8_t was_frame = in_frame;
    rx_len = 0;
    left = 0;
    in_frame = 0;
    rx_overflow = 0;
    rx_crc = 0;
    if (!was_frame)
        return 0;   /* idle fill */
    if (!ok) {
        frame_rx_dropped++;
        return 0;
    }
    frame_rx_good++;
    return (int16_t)(n - 2);
}

int16_t frame_poll(void)
{
    int16_t c;
    while ((c = uart_getc()) >= 0) {
        if (c == 0) {
            int16_t len = finish();
            if (len > 0)
                return len;
        } else if (left == 0) {          /* a COBS code byte */
            if (in_frame && code != 0xff)
                emit(0);
            code = (uint8_t)c;
            left = (uint8_t)(c - 1);
            in_frame = 1;
        } else {
            emit((uint8_t)c);
            left--;
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
    /* a frame longer than the ring waits for it to be empty, then goes out in pieces */
    uint8_t fits = total < TX_RING ? total : (uint8_t)(TX_RING - 1);
    if (droppable && uart_tx_free() < fits) {
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
