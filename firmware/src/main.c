/* viamlite firmware: the fast-path protocol over the serial line (docs/fastpath.md 3.1). */
#include <avr/interrupt.h>
#include <avr/avr_mcu_section.h>
#include "adc.h"
#include "channels.h"
#include "clock.h"
#include "frame.h"
#include "idle.h"
#include "protocol.h"
#include "resources.h"
#include "servo.h"
#include "session.h"
#include "uart.h"

/* for simavr: the chip, its clock and its supply voltages (not loaded to flash) */
AVR_MCU(F_CPU, "atmega328p");
AVR_MCU_VOLTAGES(5000, 5000, 5000);

uint32_t main_loop_max_ticks;   /* longest pass of the main loop (its work, not its sleep) since get_status read it */

int main(void)
{
    uart_init();
    clock_init();
    servo_init();
    adc_init();
    session_init();
    idle_init();
    sei();
    for (;;) {
        uint32_t start = clock_ticks();
        int16_t len = frame_poll();
        if (len > 0)
            protocol_handle(frame_rx_payload, (uint8_t)len);
        resources_poll();
        channels_poll();
        session_poll();
        uint32_t spent = clock_ticks() - start;
        if (spent > main_loop_max_ticks)
            main_loop_max_ticks = spent;
        if (len <= 0 && !channels_open())
            idle_wait();
    }
}
