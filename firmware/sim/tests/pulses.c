/* Timer1 compare ISR pulses with known widths: D9 high for 1000, 1500, 2000 us in turn,
 * one pulse every 20000 us; D10 high 300 us every 5000 us. Timer1 ticks 0.5 us. */
#include <avr/avr_mcu_section.h>
#include <avr/interrupt.h>
#include <avr/io.h>

AVR_MCU(F_CPU, "atmega328p");

static const uint16_t widths_us[3] = {1000, 1500, 2000};
static uint8_t which, d9_high, d10_high;

ISR(TIMER1_COMPA_vect)
{
	if (!d9_high) {
		PORTB |= _BV(PB1);
		d9_high = 1;
		OCR1A += widths_us[which] * 2;
	} else {
		PORTB &= ~_BV(PB1);
		d9_high = 0;
		OCR1A += (20000 - widths_us[which]) * 2;
		which = (which + 1) % 3;
	}
}

ISR(TIMER1_COMPB_vect)
{
	if (!d10_high) {
		PORTB |= _BV(PB2);
		OCR1B += 300 * 2;
	} else {
		PORTB &= ~_BV(PB2);
		OCR1B += (5000 - 300) * 2;
	}
	d10_high = !d10_high;
}

int main(void)
{
	DDRB = _BV(PB1) | _BV(PB2);
	TCCR1A = 0;
	OCR1A = 200;
	OCR1B = 300;
	TIMSK1 = _BV(OCIE1A) | _BV(OCIE1B);
	TCCR1B = _BV(CS11); /* clk/8: 0.5 us per tick, normal mode */
	sei();
	for (;;)
		;
}
