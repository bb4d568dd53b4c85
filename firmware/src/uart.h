/* USART0: interrupt-driven receive and transmit rings. */
#ifndef UART_H
#define UART_H
#include <stdint.h>

void uart_init(void);
int16_t uart_getc(void);              /* next received byte, or -1 */
uint8_t uart_tx_free(void);           /* bytes the transmit ring can take now */
void uart_put(const uint8_t *data, uint8_t n);  /* caller checked uart_tx_free() */
extern volatile uint16_t uart_rx_overruns;      /* bytes lost: ring full or hardware overrun */
uint16_t uart_rx_overruns_read(void);

#endif
