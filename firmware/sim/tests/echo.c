/* Echoes every UART byte back (polled), to prove the pty bridge loses nothing. */
#include <avr/avr_mcu_section.h>
#include "uart.h"

AVR_MCU(F_CPU, "atmega328p");

int main(void)
{
	uart_init();
	for (;;) {
		while (!(UCSR0A & _BV(RXC0)))
			;
		uart_put(UDR0);
	}
}
