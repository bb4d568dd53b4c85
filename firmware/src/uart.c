/* USART0 at BAUD (double speed), 8N1. The ISRs only move one byte each. */
#include <avr/io.h>
#include <avr/interrupt.h>
#include <util/atomic.h>
#include "config.h"
#include "uart.h"

static volatile uint8_t rx_buf[RX_RING];
static volatile uint8_t rx_head, rx_tail;
static volatile uint8_t tx_buf[TX_RING];
static volatile uint8_t tx_head, tx_tail;
volatile uint16_t uart_rx_overruns;

void uart_init(void)
{
    UBRR0 = (uint16_t)((F_CPU + 4UL * BAUD) / (8UL * BAUD) - 1);
    UCSR0A = _BV(U2X0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

ISR(USART_RX_vect)
{
    uint8_t status = UCSR0A;
    uint8_t c = UDR0;
    uint8_t head = rx_head;
    if (status & _BV(DOR0))
        uart_rx_overruns++;
    if ((uint8_t)(head - rx_tail) >= RX_RING - 1) {
        uart_rx_overruns++;
        return;
    }
    rx_buf[head & (RX_RING - 1)] = c;
    rx_head = (uint8_t)(head + 1);
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
    uint8_t tail = rx_tail;
    if (tail == rx_head)
        return -1;
    uint8_t c = rx_buf[tail & (RX_RING - 1)];
    rx_tail = (uint8_t)(tail + 1);
    return c;
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
    uint16_t n;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { n = uart_rx_overruns; }
    return n;
}
