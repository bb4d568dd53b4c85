/* UART0 <-> pseudo-terminal bridge, pumped from the run loop. */
#ifndef VIAMLITE_SIM_UART_BRIDGE_H
#define VIAMLITE_SIM_UART_BRIDGE_H

#include <stddef.h>
#include <simavr/sim_avr.h>

/* Open the pty, hook UART0; link (may be NULL) becomes a symlink to the slave.
 * On failure returns -1 with a reason in err. */
int bridge_open(avr_t *avr, const char *link, char *err, size_t n);
const char *bridge_pty_name(void);
/* Master fd and whether the bridge can take more host bytes now (for poll). */
int bridge_fd(void);
int bridge_wants_input(void);
/* Move bytes: host -> MCU (as the UART's receive FIFO has room) and MCU -> host. */
void bridge_pump(avr_t *avr);
/* A reset restores simavr's UART flags (sleep on polling): clear them again. */
void bridge_after_reset(avr_t *avr);
void bridge_close(void);

#endif
