/* USART0 at BAUD, 8N1. The ISRs only move one byte each. avr-libc's setbaud picks the
 * divisor and double speed (U2X) only where normal speed misses BAUD by more than 3%:
 * 500000 and 1000000 are exact at normal speed (16x sampling, and simavr models U2X at
 * half the rate it programs); 115200 needs U2X (+2.1%). */
#include <avr/io.h>
#include <avr/interrupt.h>
#include <util/atomic.h>
#include "config.h"
#include "uart.h"

#define BAUD_TOL 3
#include <util/setbaud.h>

_Static_assert(RX_RING == 256, "the receive ring is indexed by a byte that wraps by itself");
static volatile uint8_t rx_buf[RX_RING];
static volatile uint8_t rx_head, rx_tail;
static volatile uint8_t tx_buf[TX_RING];
static volatile uint8_t tx_head, tx_tail;
uint16_t uart_rx_overruns;

void uart_init(void)
{
    UBRR0H = UBRRH_VALUE;
    UBRR0L = UBRRL_VALUE;
#if USE_2X
    UCSR0A = _BV(U2X0);
#else
    UCSR0A = 0;
#endif
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

/* Short on purpose: at 1 Mbaud a byte arrives every 160 cycles. Losses are counted in
 * 8 bits here and folded into uart_rx_overruns by the main loop. */
static volatile uint8_t rx_lost;

ISR(USART_RX_vect)
{
    uint8_t late = UCSR0A & _BV(DOR0);
    uint8_t c = UDR0;
    uint8_t head = rx_head;
    uint8_t next = (uint8_t)(head + 1);
    if (late || next == rx_tail) {
        rx_lost++;
        if (next == rx_tail)
            return;
    }
    rx_buf[head] = c;
    rx_head = next;
}

ISR(USART_UDRE_vect)
{
    uint8_t tail = tx_tail;
    if (tail == tx_head) {
        UCSR0B &= (uint8_t)~_BV(UDRIE0);
        return;
    }
    UDR0 = tx_buf[tail & (TX_RING - 1)];
    tx_tail = (uint8_t)(tail + 1);
}

int16_t uart_getc(void)
{
    if (rx_lost)
        uart_rx_overruns_read();   /* fold the ISR's 8-bit count before it wraps */
    uint8_t tail = rx_tail;
    if (tail == rx_head)
        return -1;
    uint8_t c = rx_buf[tail & (RX_RING - 1)];
    rx_tail = (uint8_t)(tail + 1);
    return c;
}

uint8_t uart_rx_pending(void)
{
    return (uint8_t)(rx_head - rx_tail);
}

uint8_t uart_tx_free(void)
{
    return (uint8_t)(TX_RING - 1 - (uint8_t)(tx_head - tx_tail));
}

void uart_put(const uint8_t *data, uint8_t n)
{
    uint8_t head = tx_head;
    while (n--)
        tx_buf[head++ & (TX_RING - 1)] = *data++;
    tx_head = head;
    /* read-modify-write races only with the UDRE ISR clearing UDRIE0: setting it again is harmless */
    UCSR0B |= _BV(UDRIE0);
}

uint16_t uart_rx_overruns_read(void)
{
    uint8_t lost;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        lost = rx_lost;
        rx_lost = 0;
    }
    uart_rx_overruns += lost;
    return uart_rx_overruns;
}
