/* Subscriptions use absolute deadlines: sample k is due at start + k / rate, computed in
 * 0.5 us ticks with a remainder so no drift accumulates. A sample more than 50 ms late
 * is skipped (a gap in seq); so is one the transmit ring has no room for, and so is one
 * due while received bytes queue up: requests and setpoints go before telemetry. */
#include <string.h>
#include "channels.h"
#include "clock.h"
#include "config.h"
#include "frame.h"
#include "protocol.h"
#include "resources.h"
#include "schema.h"
#include "servo.h"
#include "text.h"
#include "uart.h"

enum { CH_FREE, CH_SUB, CH_STREAM };

typedef struct {
    uint8_t kind, res, method;
    uint8_t nargs, args_len;
    uint8_t args[ARGS_MAX];
    uint8_t armed;            /* stream: deadman armed */
    uint8_t taken;            /* stream: a setpoint was taken, so seq holds its seq */
    uint32_t seq;             /* sub: next sample's seq; stream: last applied seq */
    uint32_t due;             /* sub: next deadline; stream: last setpoint time */
    uint32_t step, rem, acc;  /* sub: period = step + rem / rate_milli ticks */
    uint32_t rate_milli;      /* sub: rate in mHz; stream: timeout in ticks */
} channel_t;

static channel_t channels[N_CHANNELS];

#define LATE_SKIP_TICKS (50UL * TICKS_PER_MS)
#define SHED_BACKLOG (RX_RING / 4)   /* received bytes waiting that make samples wait */

uint32_t channels_samples_skipped;

static int8_t free_channel(void)
{
    for (uint8_t i = 0; i < N_CHANNELS; i++)
        if (channels[i].kind == CH_FREE)
            return (int8_t)i;
    T("all ");
    text_u(N_CHANNELS);
    T(" channels are in use; UNSUBSCRIBE or CLOSE_STREAM one first");
    return -1;
}

uint8_t channels_subscribe(uint8_t res, uint8_t method, const uint8_t *args, uint8_t args_len,
                           uint8_t nargs, uint32_t rate_milli, uint8_t *ch)
{
    if (rate_milli == 0 || rate_milli > MAX_RATE_HZ * 1000UL) {
        T("rate_hz must be a number above 0 and at most 2000");
        return ERR_INVALID_ARGUMENT;
    }
    if (args_len > ARGS_MAX) {
        T("subscription arguments take at most 12 bytes");
        return ERR_INVALID_ARGUMENT;
    }
    int8_t i = free_channel();
    if (i < 0)
        return ERR_RESOURCE_EXHAUSTED;
    channel_t *c = &channels[i];
    memset(c, 0, sizeof(*c));
    c->res = res;
    c->method = method;
    c->nargs = nargs;
    c->args_len = args_len;
    memcpy(c->args, args, args_len);
    c->rate_milli = rate_milli;
    c->step = (1000UL * 1000UL * TICKS_PER_US * 1000UL) / c->rate_milli;
    c->rem = (1000UL * 1000UL * TICKS_PER_US * 1000UL) % c->rate_milli;
    c->due = clock_ticks();
    c->kind = CH_SUB;
    *ch = (uint8_t)(i + 1);
    return 0;
}

uint8_t channels_open_stream(uint8_t res, uint8_t method, int32_t timeout_ms, uint8_t *ch)
{
    if (resource_kind(res) != KIND_SERVO || method != M_SERVO_MOVE) {
        T("setpoint streams: servo move (10) only");
        return ERR_UNIMPLEMENTED;
    }
    if (timeout_ms < MIN_TIMEOUT_MS || timeout_ms > MAX_TIMEOUT_MS) {
        T("timeout_ms must be 5..60000");
        return ERR_INVALID_ARGUMENT;
    }
    if (!servos[res - RES_SERVO0].attached)
        return servo_not_attached(res);
    int8_t i = free_channel();
    if (i < 0)
        return ERR_RESOURCE_EXHAUSTED;
    channel_t *c = &channels[i];
    memset(c, 0, sizeof(*c));
    servo_t *s = &servos[res - RES_SERVO0];
    s->setpoint_seq = 0;        /* get_state reports on the latest stream */
    s->setpoints_applied = 0;
    c->res = res;
    c->method = method;
    c->rate_milli = (uint32_t)timeout_ms * TICKS_PER_MS;
    c->due = clock_ticks();
    c->armed = 1;
    c->kind = CH_STREAM;
    *ch = (uint8_t)(i + 1);
    return 0;
}

uint8_t channels_close(uint8_t ch, uint8_t stream)
{
    uint8_t want = stream ? CH_STREAM : CH_SUB;
    if (ch < 1 || ch > N_CHANNELS || channels[ch - 1].kind != want) {
        T("no ");
        if (stream) T("setpoint stream"); else T("subscription");
        T(" on channel ");
        text_u(ch);
        return ERR_NOT_FOUND;
    }
    channels[ch - 1].kind = CH_FREE;
    return 0;
}

void channels_close_all(void)
{
    for (uint8_t i = 0; i < N_CHANNELS; i++)
        channels[i].kind = CH_FREE;
}

void channels_setpoint(uint8_t ch, uint32_t seq, mp_reader *args, uint8_t nargs)
{
    text_clear();
    if (ch < 1 || ch > N_CHANNELS || channels[ch - 1].kind != CH_STREAM) {
        T("no setpoint stream on channel ");
        text_u(ch);
        T("; OPEN_STREAM first");
        send_event(ch, seq, ERR_NOT_FOUND);
        return;
    }
    channel_t *c = &channels[ch - 1];
    if (c->taken && seq <= c->seq)
        return;   /* late or duplicated; before any, seq 0 is the first */
    c->taken = 1;
    c->seq = seq;
    c->due = clock_ticks();
    c->armed = 1;
    mp_writer *w = frame_begin();   /* the result is discarded */
    uint8_t err = resource_call(c->res, c->method, args, nargs, w, 0);
    if (err) {
        send_event(ch, seq, err);
        return;
    }
    servo_t *s = &servos[c->res - RES_SERVO0];
    s->setpoint_seq = seq;
    s->setpoints_applied++;
}

static void sample(channel_t *c, uint8_t ch)
{
    mp_reader r = {c->args, c->args + c->args_len};
    mp_writer *w = frame_begin();
    mp_write_array(w, 5);
    mp_write_int(w, MSG_SAMPLE);
    mp_write_int(w, ch);
    mp_write_u32(w, c->seq);
    mp_write_u64(w, clock_ns());
    uint8_t err = resource_call(c->res, c->method, &r, c->nargs, w, 0);
    if (err) {
        send_sample_event(ch, c->seq, err);   /* at the sample rate: never hold the loop up */
        return;
    }
    frame_send(1);
}

static void advance(channel_t *c)
{
    c->seq++;
    c->due += c->step;
    c->acc += c->rem;
    if (c->acc >= c->rate_milli) {
        c->acc -= c->rate_milli;
        c->due++;
    }
}

uint8_t channels_open(void)
{
    uint8_t n = 0;
    for (uint8_t i = 0; i < N_CHANNELS; i++)
        n += channels[i].kind != CH_FREE;
    return n;
}

void channels_poll(void)
{
    for (uint8_t i = 0; i < N_CHANNELS; i++) {
        channel_t *c = &channels[i];
        if (c->kind == CH_FREE)
            continue;
        uint32_t now = clock_ticks();
        if (c->kind == CH_SUB) {
            if (!clock_reached(now, c->due))
                continue;
            while ((int32_t)(now - c->due) > (int32_t)LATE_SKIP_TICKS) {
                advance(c);
                channels_samples_skipped++;
            }
            if (uart_rx_pending() > SHED_BACKLOG)
                channels_samples_skipped++;
            else
                sample(c, (uint8_t)(i + 1));
            advance(c);
        } else if (c->armed && clock_reached(now, c->due + c->rate_milli)) {
            c->armed = 0;
            text_clear();
            T("deadman: no setpoint for ");
            text_u((now - c->due) / TICKS_PER_MS);
            T(" ms (timeout ");
            text_u(c->rate_milli / TICKS_PER_MS);
            T(" ms); stopped ");
            resource_name(c->res);
            send_event((uint8_t)(i + 1), c->seq, ERR_DEADLINE_EXCEEDED);
        }
    }
}
