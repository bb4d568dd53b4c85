/* Resources and their methods. Error texts name the resource, the method and the fix. */
#include <string.h>
#include <avr/pgmspace.h>
#include "adc.h"
#include "clock.h"
#include "config.h"
#include "encoder.h"
#include "frame.h"
#include "pins.h"
#include "protocol.h"
#include "pulse.h"
#include "resources.h"
#include "schema.h"
#include "servo.h"
#include "session.h"
#include "text.h"
#include "uart.h"

extern uint32_t main_loop_max_ticks;

static const char k_board[] PROGMEM = "board";
static const char k_servo[] PROGMEM = "servo";
static const char k_encoder[] PROGMEM = "encoder";
static const char *const kind_names[] PROGMEM = {k_board, k_servo, k_encoder};

static const uint8_t board_methods[] PROGMEM = {3, 4, 5, 40, 41, 46, 50, 0};
static const uint8_t servo_methods[] PROGMEM = {3, 4, 5, 10, 11, 12, 13, 14, 0};
static const uint8_t encoder_methods[] PROGMEM = {3, 4, 5, 60, 61, 63, 0};
static const uint8_t *const kind_methods[] PROGMEM = {board_methods, servo_methods, encoder_methods};
static const uint8_t all_methods[] PROGMEM = {3, 4, 5, 10, 11, 12, 13, 14, 40, 41, 46, 50, 60, 61, 63, 0};

uint8_t resource_kind(uint8_t res)
{
    return res == RES_BOARD ? KIND_BOARD : res < RES_ENCODER0 ? KIND_SERVO : KIND_ENCODER;
}

static uint8_t resource_index(uint8_t res)
{
    return res == RES_BOARD ? 0 : res < RES_ENCODER0 ? (uint8_t)(res - RES_SERVO0) : (uint8_t)(res - RES_ENCODER0);
}

static const char *kind_name(uint8_t kind)
{
    return (const char *)pgm_read_word(&kind_names[kind]);
}

void resource_name(uint8_t res)
{
    uint8_t kind = resource_kind(res);
    text_P(kind_name(kind));
    if (kind != KIND_BOARD)
        text_u(resource_index(res));
}

int8_t resource_find(const char *name, uint8_t n)
{
    for (uint8_t res = 0; res < N_RESOURCES; res++) {
        text_clear();
        resource_name(res);
        if (text_len == n && memcmp(text_buf, name, n) == 0) {
            text_clear();
            return (int8_t)res;
        }
    }
    text_clear();
    return -1;
}

static const char api_prefix[] PROGMEM = "rdk:component:";

uint8_t resource_api_matches(uint8_t res, const char *api, uint8_t n)
{
    uint8_t plen = sizeof(api_prefix) - 1;
    if (n > plen && memcmp_P(api, api_prefix, plen) == 0) {
        api += plen;
        n = (uint8_t)(n - plen);
    }
    const char *kind = kind_name(resource_kind(res));
    return n == strlen_P(kind) && memcmp_P(api, kind, n) == 0;
}

void resource_write_api(mp_writer *w, uint8_t res)
{
    text_clear();
    text_P(api_prefix);
    text_P(kind_name(resource_kind(res)));
    mp_write_str(w, text_buf, text_len);
    text_clear();
}

static void write_list(mp_writer *w, const uint8_t *list)
{
    uint8_t n = 0;
    while (pgm_read_byte(list + n))
        n++;
    mp_write_array(w, n);
    for (uint8_t i = 0; i < n; i++)
        mp_write_int(w, pgm_read_byte(list + i));
}

static const uint8_t *methods_of(uint8_t res)
{
    return (const uint8_t *)pgm_read_word(&kind_methods[resource_kind(res)]);
}

void resource_write_methods(mp_writer *w, uint8_t res) { write_list(w, methods_of(res)); }
void resource_write_all_methods(mp_writer *w) { write_list(w, all_methods); }

uint8_t resource_has(uint8_t res, uint8_t method)
{
    const uint8_t *list = methods_of(res);
    uint8_t m;
    while ((m = pgm_read_byte(list++)))
        if (m == method)
            return 1;
    return 0;
}

uint8_t method_is_read(uint8_t method)
{
    return method == M_GET_STATUS || method == M_SERVO_GET_POSITION || method == M_SERVO_GET_STATE ||
           method == M_BOARD_GET_GPIO || method == M_BOARD_READ_ANALOG || method == M_ENCODER_GET_POSITION;
}

/* -- helpers ------------------------------------------------------------------------- */

static void prefix(uint8_t res, const char *method)
{
    resource_name(res);
    text_P(PSTR("."));
    text_P(method);
    text_P(PSTR(": "));
}

static uint8_t usage(uint8_t res, const char *method, const char *how)
{
    prefix(res, method);
    text_P(how);
    return ERR_INVALID_ARGUMENT;
}

static uint8_t pin_of(mp_reader *a, uint8_t res, const char *method, uint8_t *pin)
{
    uint8_t start = text_len;
    prefix(res, method);
    if (!pin_arg(a, pin))
        return ERR_INVALID_ARGUMENT;
    text_len = start;
    return 0;
}

static uint8_t claim(uint8_t res, const char *method, uint8_t pin)
{
    prefix(res, method);
    uint8_t err = pin_claimable(pin, res);
    if (!err)
        text_clear();
    return err;
}

static void key(mp_writer *w, const char *pgm) { mp_write_str_P(w, pgm); }

/* -- board --------------------------------------------------------------------------- */

static uint32_t measure_id;
static uint32_t measure_deadline;
static uint16_t measure_timeout_ms;

static uint8_t board_call(uint8_t method, mp_reader *a, uint8_t nargs, mp_writer *w, uint32_t id)
{
    uint8_t pin, err;
    switch (method) {
    case M_GET_STATUS:
        mp_write_map(w, 8);
        key(w, PSTR("loop_max_us")); mp_write_u64(w, main_loop_max_ticks / TICKS_PER_US);
        main_loop_max_ticks = 0;
        key(w, PSTR("uptime_ms")); mp_write_u64(w, clock_us() / 1000);
        key(w, PSTR("rx_frames")); mp_write_u64(w, frame_rx_good);
        key(w, PSTR("rx_dropped")); mp_write_u64(w, frame_rx_dropped);
        key(w, PSTR("rx_overruns")); mp_write_int(w, uart_rx_overruns_read());
        key(w, PSTR("tx_dropped")); mp_write_u64(w, frame_tx_dropped);
        key(w, PSTR("watchdog_fired")); mp_write_u64(w, session_watchdog_fired);
        key(w, PSTR("reset")); mp_write_str_P(w, session_reset_cause());
        return 0;
    case M_BOARD_SET_GPIO: {
        uint8_t high;
        int32_t level;
        if (nargs != 2)
            return usage(RES_BOARD, PSTR("set_gpio"), PSTR("takes 2 arguments (pin, high: bool)"));
        if ((err = pin_of(a, RES_BOARD, PSTR("set_gpio"), &pin)))
            return err;
        if (!mp_read_bool(a, &high)) {
            if (!mp_read_int(a, &level) || level < 0 || level > 1)
                return usage(RES_BOARD, PSTR("set_gpio"), PSTR("high must be a bool (or 0/1)"));
            high = (uint8_t)level;
        }
        if ((err = claim(RES_BOARD, PSTR("set_gpio"), pin)))
            return err;
        pin_output(pin, high);
        mp_write_nil(w);
        return 0;
    }
    case M_BOARD_GET_GPIO:
        if (nargs != 1)
            return usage(RES_BOARD, PSTR("get_gpio"), PSTR("takes 1 argument (pin)"));
        if ((err = pin_of(a, RES_BOARD, PSTR("get_gpio"), &pin)))
            return err;
        if (pin < 2)
            return usage(RES_BOARD, PSTR("get_gpio"), PSTR("pins 0 and 1 are the serial line; use 2..19"));
        mp_write_bool(w, pin_read(pin));
        return 0;
    case M_BOARD_READ_ANALOG:
        if (nargs != 1)
            return usage(RES_BOARD, PSTR("read_analog"), PSTR("takes 1 argument (pin: 0..5, 14..19 or \"A0\"..\"A5\")"));
        if ((err = pin_of(a, RES_BOARD, PSTR("read_analog"), &pin)))
            return err;
        if (pin >= 14)
            pin = (uint8_t)(pin - 14);
        else if (pin > 5)
            return usage(RES_BOARD, PSTR("read_analog"), PSTR("analog readers are 0..5 or 14..19 (A0..A5)"));
        if ((err = claim(RES_BOARD, PSTR("read_analog"), (uint8_t)(pin + 14))))
            return err;
        mp_write_array(w, 4);
        mp_write_int(w, adc_read(pin));
        mp_write_float_bits(w, 0x00000000UL);   /* 0.0 */
        mp_write_float_bits(w, 0x40a00000UL);   /* 5.0 */
        mp_write_float_bits(w, 0x3ba00000UL);   /* 5/1024 = 0.0048828125 */
        return 0;
    case M_BOARD_MEASURE_PULSE: {
        int32_t timeout = 100;
        if (nargs < 1 || nargs > 2)
            return usage(RES_BOARD, PSTR("measure_pulse"), PSTR("takes 1 or 2 arguments (pin, timeout_ms?)"));
        if ((err = pin_of(a, RES_BOARD, PSTR("measure_pulse"), &pin)))
            return err;
        if (pin < 2)
            return usage(RES_BOARD, PSTR("measure_pulse"), PSTR("pins 0 and 1 are the serial line; use 2..19"));
        if (nargs == 2 && !mp_read_nil(a) && (!mp_read_int(a, &timeout) || timeout < 1 || timeout > 10000))
            return usage(RES_BOARD, PSTR("measure_pulse"), PSTR("timeout_ms must be an int 1..10000"));
        if (pulse_state != PULSE_IDLE) {
            prefix(RES_BOARD, PSTR("measure_pulse"));
            T("another measurement is running; wait for its reply");
            return ERR_RESOURCE_EXHAUSTED;
        }
        measure_id = id;
        measure_timeout_ms = (uint16_t)timeout;
        measure_deadline = clock_ticks() + (uint32_t)timeout * TICKS_PER_MS;
        pulse_start(pin);
        return CALL_DEFERRED;
    }
    }
    return 0xfe;
}

/* -- servos -------------------------------------------------------------------------- */

static uint8_t servo_call(uint8_t res, uint8_t method, mp_reader *a, uint8_t nargs, mp_writer *w)
{
    uint8_t i = (uint8_t)(res - RES_SERVO0);
    servo_t *s = &servos[i];
    switch (method) {
    case M_GET_STATUS:
        mp_write_map(w, 7);
        key(w, PSTR("attached")); mp_write_bool(w, s->attached);
        key(w, PSTR("pin"));
        if (s->attached) mp_write_int(w, s->pin); else mp_write_nil(w);
        key(w, PSTR("angle")); mp_write_int(w, s->angle);
        key(w, PSTR("pulse_us")); mp_write_int(w, s->pulse_us);
        key(w, PSTR("min_us")); mp_write_int(w, s->min_us);
        key(w, PSTR("max_us")); mp_write_int(w, s->max_us);
        key(w, PSTR("pulsing")); mp_write_bool(w, servo_pulsing(i));
        return 0;
    case M_SERVO_MOVE: {
        int32_t angle;
        if (nargs != 1)
            return usage(res, PSTR("move"), PSTR("takes 1 argument (angle_deg: int 0..180)"));
        if (!mp_read_int(a, &angle) || angle < 0 || angle > 180)
            return usage(res, PSTR("move"), PSTR("angle_deg must be an int 0..180"));
        if (!s->attached) {
            resource_name(res);
            T(" is not attached; call attach(pin) first");
            return ERR_FAILED_PRECONDITION;
        }
        servo_move(i, (uint8_t)angle);
        mp_write_nil(w);
        return 0;
    }
    case M_SERVO_GET_POSITION:
        mp_write_int(w, s->angle);
        return 0;
    case M_SERVO_GET_STATE:
        mp_write_array(w, 4);
        mp_write_int(w, s->angle);
        mp_write_int(w, s->pulse_us);
        mp_write_u64(w, s->setpoint_seq);
        mp_write_u64(w, s->setpoints_applied);
        return 0;
    case M_SERVO_ATTACH: {
        uint8_t pin, err;
        int32_t lo = 500, hi = 2500;
        if (nargs < 1 || nargs > 3)
            return usage(res, PSTR("attach"), PSTR("takes 1 to 3 arguments (pin, min_us?, max_us?)"));
        if ((err = pin_of(a, res, PSTR("attach"), &pin)))
            return err;
        if ((nargs >= 2 && !mp_read_nil(a) && !mp_read_int(a, &lo)) ||
            (nargs >= 3 && !mp_read_nil(a) && !mp_read_int(a, &hi)) ||
            lo < 400 || hi > 2600 || lo >= hi)
            return usage(res, PSTR("attach"), PSTR("min_us and max_us are ints 400..2600 with min_us < max_us"));
        if ((err = claim(res, PSTR("attach"), pin)))
            return err;
        servo_attach(i, pin, (uint16_t)lo, (uint16_t)hi);
        mp_write_nil(w);
        return 0;
    }
    case M_SERVO_DETACH:
        servo_detach(i);
        mp_write_nil(w);
        return 0;
    }
    return 0xfe;
}

/* -- encoders ------------------------------------------------------------------------ */

static uint8_t encoder_call(uint8_t res, uint8_t method, mp_reader *a, uint8_t nargs, mp_writer *w)
{
    uint8_t i = (uint8_t)(res - RES_ENCODER0);
    encoder_t *e = &encoders[i];
    switch (method) {
    case M_GET_STATUS:
        mp_write_map(w, 4);
        key(w, PSTR("attached")); mp_write_bool(w, e->attached);
        key(w, PSTR("pin_a"));
        if (e->attached) mp_write_int(w, e->pin_a); else mp_write_nil(w);
        key(w, PSTR("pin_b"));
        if (e->attached) mp_write_int(w, e->pin_b); else mp_write_nil(w);
        key(w, PSTR("count")); mp_write_int(w, encoder_count(i));
        return 0;
    case M_ENCODER_GET_POSITION: {
        int32_t type = 0;
        if (nargs > 1 || (nargs == 1 && !mp_read_nil(a) && (!mp_read_int(a, &type) || type < 0 || type > 1)))
            return usage(res, PSTR("get_position"), PSTR("position_type is nil, 0 or 1: it counts ticks only"));
        if (!e->attached) {
            resource_name(res);
            T(" is not attached; call attach(pin_a, pin_b) first");
            return ERR_FAILED_PRECONDITION;
        }
        mp_write_array(w, 2);
        mp_write_int(w, encoder_count(i));
        mp_write_int(w, 1);
        return 0;
    }
    case M_ENCODER_RESET_POSITION:
        encoder_reset(i);
        mp_write_nil(w);
        return 0;
    case M_ENCODER_ATTACH: {
        uint8_t pa, pb, err;
        if (nargs != 2)
            return usage(res, PSTR("attach"), PSTR("takes 2 arguments (pin_a, pin_b)"));
        if ((err = pin_of(a, res, PSTR("attach"), &pa)) || (err = pin_of(a, res, PSTR("attach"), &pb)))
            return err;
        if (pa == pb)
            return usage(res, PSTR("attach"), PSTR("pin_a and pin_b must differ"));
        if ((err = claim(res, PSTR("attach"), pa)) || (err = claim(res, PSTR("attach"), pb)))
            return err;
        encoder_attach(i, pa, pb);
        mp_write_nil(w);
        return 0;
    }
    }
    return 0xfe;
}

/* -- dispatch ------------------------------------------------------------------------ */

uint8_t resource_call(uint8_t res, uint8_t method, mp_reader *args, uint8_t nargs, mp_writer *w, uint32_t id)
{
    text_clear();
    if (method == M_STOP || method == M_IS_MOVING) {
        /* servos hold their pulse on stop: nothing moves between commands */
        if (nargs)
            return usage(res, method == M_STOP ? PSTR("stop") : PSTR("is_moving"), PSTR("takes no arguments"));
        if (method == M_STOP) mp_write_nil(w); else mp_write_bool(w, 0);
        return 0;
    }
    uint8_t kind = resource_kind(res);
    if (kind == KIND_BOARD)
        return board_call(method, args, nargs, w, id);
    if (kind == KIND_SERVO)
        return servo_call(res, method, args, nargs, w);
    return encoder_call(res, method, args, nargs, w);
}

void resources_poll(void)
{
    uint8_t state = pulse_state;
    if (state == PULSE_IDLE)
        return;
    if (state == PULSE_DONE) {
        uint32_t width = pulse_width_us();
        pulse_stop();
        mp_writer *w = reply_begin(measure_id);
        mp_write_u64(w, width);
        frame_send(0);
    } else if (clock_reached(clock_ticks(), measure_deadline)) {
        uint8_t pin = pulse_pin;
        pulse_stop();
        text_clear();
        T("board.measure_pulse: no complete high pulse on pin ");
        text_u(pin);
        T(" within ");
        text_u(measure_timeout_ms);
        T(" ms");
        send_error(measure_id, ERR_DEADLINE_EXCEEDED);
    }
}
