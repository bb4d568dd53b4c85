/* viamlite firmware: the fast-path protocol over the serial line (docs/fastpath.md 3.1). */
#include <avr/interrupt.h>
#include <avr/avr_mcu_section.h>
#include "adc.h"
#include "channels.h"
#include "clock.h"
#include "frame.h"
#include "protocol.h"
#include "resources.h"
#include "servo.h"
#include "session.h"
#include "uart.h"

/* for simavr: the chip, its clock and its supply voltages (not loaded to flash) */
AVR_MCU(F_CPU, "atmega328p");
AVR_MCU_VOLTAGES(5000, 5000, 5000);

uint32_t main_loop_max_ticks;   /* longest pass of the main loop since get_status read it */

int main(void)
{
    uart_init();
    clock_init();
    servo_init();
    adc_init();
    session_init();
    sei();
    uint32_t last = clock_ticks();
    for (;;) {
        uint32_t now = clock_ticks();
        if (now - last > main_loop_max_ticks)
            main_loop_max_ticks = now - last;
        last = now;
        int16_t len = frame_poll();
        if (len > 0)
            protocol_handle(frame_rx_payload, (uint8_t)len);
        resources_poll();
        channels_poll();
        session_poll();
    }
}
