/* Polled UART0 helpers for the harness's test programs (BAUD from the Makefile, U2X on). */
#ifndef SIM_TEST_UART_H
#define SIM_TEST_UART_H

#include <avr/io.h>
#include <stdint.h>

static inline void uart_init(void)
{
	uint16_t ubrr = (F_CPU / 8 / BAUD) - 1;
	UBRR0H = ubrr >> 8;
	UBRR0L = ubrr & 0xff;
	UCSR0A = _BV(U2X0);
	UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
	UCSR0B = _BV(RXEN0) | _BV(TXEN0);
}

static inline void uart_put(uint8_t c)
{
	while (!(UCSR0A & _BV(UDRE0)))
		;
	UDR0 = c;
}

static inline void uart_puts(const char *s)
{
	while (*s)
		uart_put((uint8_t)*s++);
}

static inline void uart_putu(uint32_t v)
{
	char b[11];
	int i = 0;
	do {
		b[i++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (i)
		uart_put(b[--i]);
}

static inline void uart_puti(int32_t v)
{
	if (v < 0) {
		uart_put('-');
		v = -v;
	}
	uart_putu((uint32_t)v);
}

#endif
