/* Answers one-byte UART requests with a text line, to check the harness's inputs:
 *   '0'..'7'  "A<ch>=<adc 0..1023>"          'p'  "P B=<PINB> C=<PINC> D=<PIND>"
 *   'q'       "Q=<x4 count on D2/D3>"        'c'  "C=<edges seen on D4>"
 *   'h'/'l'   D13 high/low, answers "D13=1"/"D13=0"
 * and prints "BOOT mcusr=<MCUSR>" when it starts. Pin changes via PCINT2 (port D). */
#include <avr/avr_mcu_section.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include "uart.h"

AVR_MCU(F_CPU, "atmega328p");

static volatile int32_t count;
static volatile uint32_t d4_edges;
static uint8_t last_ab, last_d4;
/* index (old<<2)|new over (A<<1)|B; 00->10->11->01->00 counts up (A leads B) */
static const int8_t table[16] = {0, -1, 1, 0, 1, 0, 0, -1, -1, 0, 0, 1, 0, 1, -1, 0};

ISR(PCINT2_vect)
{
	uint8_t d = PIND;
	uint8_t ab = ((d >> PD2) & 1) << 1 | ((d >> PD3) & 1);
	count += table[(last_ab << 2) | ab];
	last_ab = ab;
	uint8_t d4 = (d >> PD4) & 1;
	if (d4 != last_d4)
		d4_edges++;
	last_d4 = d4;
}

static uint16_t adc_read(uint8_t ch)
{
	ADMUX = _BV(REFS0) | ch; /* AVcc reference */
	ADCSRA |= _BV(ADSC);
	while (ADCSRA & _BV(ADSC))
		;
	return ADC;
}

static int32_t atomic_count(void)
{
	cli();
	int32_t c = count;
	sei();
	return c;
}

int main(void)
{
	uint8_t mcusr = MCUSR;
	MCUSR = 0;
	uart_init();
	DDRB = _BV(PB5);
	ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
	uint8_t d = PIND;
	last_ab = ((d >> PD2) & 1) << 1 | ((d >> PD3) & 1);
	last_d4 = (d >> PD4) & 1;
	PCMSK2 = _BV(PCINT18) | _BV(PCINT19) | _BV(PCINT20);
	PCICR = _BV(PCIE2);
	sei();
	uart_puts("BOOT mcusr=");
	uart_putu(mcusr);
	uart_put('\n');
	for (;;) {
		while (!(UCSR0A & _BV(RXC0)))
			;
		uint8_t c = UDR0;
		if (c >= '0' && c <= '7') {
			uart_put('A');
			uart_put(c);
			uart_put('=');
			uart_putu(adc_read(c - '0'));
		} else if (c == 'p') {
			uart_puts("P B=");
			uart_putu(PINB);
			uart_puts(" C=");
			uart_putu(PINC);
			uart_puts(" D=");
			uart_putu(PIND);
		} else if (c == 'q') {
			uart_puts("Q=");
			uart_puti(atomic_count());
		} else if (c == 'c') {
			cli();
			uint32_t e = d4_edges;
			sei();
			uart_puts("C=");
			uart_putu(e);
		} else if (c == 'h' || c == 'l') {
			if (c == 'h')
				PORTB |= _BV(PB5);
			else
				PORTB &= ~_BV(PB5);
			uart_puts(c == 'h' ? "D13=1" : "D13=0");
		} else {
			continue;
		}
		uart_put('\n');
	}
}
