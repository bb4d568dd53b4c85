/* Requests: [type, id, ...] with the lengths of schema.py's REQUEST_LENGTHS. Anything
 * malformed gets ERROR 3 (id 0 when the id cannot be read); before HELLO, ERROR 9. */
#include <string.h>
#include <avr/pgmspace.h>
#include "channels.h"
#include "clock.h"
#include "config.h"
#include "frame.h"
#include "protocol.h"
#include "resources.h"
#include "schema.h"
#include "session.h"
#include "text.h"

static uint8_t hello_done;

mp_writer *reply_begin(uint32_t id)
{
    mp_writer *w = frame_begin();
    mp_write_array(w, 3);
    mp_write_int(w, MSG_RESULT);
    mp_write_u32(w, id);
    return w;
}

static void send_text_message(uint8_t type, uint32_t a, uint32_t b, uint8_t with_b, uint8_t code,
                              uint8_t droppable)
{
    mp_writer *w = frame_begin();
    mp_write_array(w, (uint8_t)(with_b ? 5 : 4));
    mp_write_int(w, type);
    mp_write_u32(w, a);
    if (with_b)
        mp_write_u32(w, b);
    mp_write_int(w, code);
    mp_write_str(w, text_buf, text_len);
    frame_send(droppable);
}

void send_error(uint32_t id, uint8_t code) { send_text_message(MSG_ERROR, id, 0, 0, code, 0); }
void send_event(uint8_t ch, uint32_t seq, uint8_t code) { send_text_message(MSG_EVENT, ch, seq, 1, code, 0); }
void send_sample_event(uint8_t ch, uint32_t seq, uint8_t code) { send_text_message(MSG_EVENT, ch, seq, 1, code, 1); }

static void reply_nil(uint32_t id)
{
    mp_write_nil(reply_begin(id));
    frame_send(0);
}

static void reply_int(uint32_t id, int32_t v)
{
    mp_write_int(reply_begin(id), v);
    frame_send(0);
}

static uint8_t fail(uint8_t code, const char *pgm)
{
    text_P(pgm);
    return code;
}

static uint8_t equals_P(const char *s, uint8_t n, const char *pgm)
{
    return n == strlen_P(pgm) && memcmp_P(s, pgm, n) == 0;
}

/* -- HELLO ----------------------------------------------------------------------------- */

static const char cap_call[] PROGMEM = "call";
static const char cap_sub[] PROGMEM = "subscribe";
static const char cap_set[] PROGMEM = "setpoints";
static const char cap_ping[] PROGMEM = "ping";
static const char cap_wd[] PROGMEM = "watchdog";
static const char *const caps[] PROGMEM = {cap_call, cap_sub, cap_set, cap_ping, cap_wd};

static uint8_t hello(mp_reader *r, uint32_t id)
{
    int32_t version;
    uint8_t n;
    int32_t timeout = 0;
    uint8_t stop = 0;
    if (!mp_read_int(r, &version))
        return fail(ERR_INVALID_ARGUMENT, PSTR("HELLO: version must be an int"));
    if (version < 1)
        return fail(ERR_FAILED_PRECONDITION, PSTR("HELLO: the firmware speaks version 1"));
    if (!mp_read_nil(r)) {
        if (!mp_read_map(r, &n))
            return fail(ERR_INVALID_ARGUMENT, PSTR("HELLO: options must be a map"));
        while (n--) {
            const char *k, *v;
            uint8_t kn, vn;
            if (!mp_read_str(r, &k, &kn))
                return fail(ERR_INVALID_ARGUMENT, PSTR("HELLO: option keys are strings"));
            if (equals_P(k, kn, PSTR("session_timeout_ms"))) {
                if (!mp_read_int(r, &timeout) || timeout < 0 || (timeout > 0 && timeout < MIN_TIMEOUT_MS) ||
                    timeout > MAX_TIMEOUT_MS)
                    return fail(ERR_INVALID_ARGUMENT, PSTR("HELLO: session_timeout_ms is 0 (off) or 5..60000"));
            } else if (equals_P(k, kn, PSTR("on_timeout"))) {
                if (!mp_read_str(r, &v, &vn) ||
                    !((stop = equals_P(v, vn, PSTR("stop"))) || equals_P(v, vn, PSTR("release"))))
                    return fail(ERR_INVALID_ARGUMENT, PSTR("HELLO: on_timeout is \"release\" or \"stop\""));
            } else if (!mp_skip(r)) {
                return fail(ERR_INVALID_ARGUMENT, PSTR("HELLO: malformed option value"));
            }
        }
    }
    /* a new HELLO starts a new session: the host re-opened the port */
    channels_close_all();
    session_configure((uint16_t)timeout, stop);
    hello_done = 1;

    mp_writer *w = reply_begin(id);
    mp_write_map(w, 11);
    mp_write_str_P(w, PSTR("version")); mp_write_int(w, FP_VERSION);
    mp_write_str_P(w, PSTR("device")); mp_write_str_P(w, PSTR(FW_DEVICE));
    mp_write_str_P(w, PSTR("fw")); mp_write_str_P(w, PSTR(FW_VERSION));
    mp_write_str_P(w, PSTR("caps"));
    mp_write_array(w, sizeof(caps) / sizeof(caps[0]));
    for (uint8_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        mp_write_str_P(w, (const char *)pgm_read_word(&caps[i]));
    mp_write_str_P(w, PSTR("methods")); resource_write_all_methods(w);
    mp_write_str_P(w, PSTR("max_frame")); mp_write_int(w, MAX_FRAME);
    mp_write_str_P(w, PSTR("reset")); mp_write_str_P(w, session_reset_cause());
    mp_write_str_P(w, PSTR("servos")); mp_write_int(w, N_SERVOS);
    mp_write_str_P(w, PSTR("encoders")); mp_write_int(w, N_ENCODERS);
    mp_write_str_P(w, PSTR("channels")); mp_write_int(w, N_CHANNELS);
    mp_write_str_P(w, PSTR("time_ns")); mp_write_u64(w, clock_ns());
    frame_send(0);
    return 0;
}

/* -- RESOLVE --------------------------------------------------------------------------- */

static uint8_t resolve(mp_reader *r, uint32_t id)
{
    const char *name, *api = 0;
    uint8_t n, an = 0;
    if (!mp_read_str(r, &name, &n))
        return fail(ERR_INVALID_ARGUMENT, PSTR("RESOLVE: the name must be a string"));
    if (!mp_read_nil(r) && !mp_read_str(r, &api, &an))
        return fail(ERR_INVALID_ARGUMENT, PSTR("RESOLVE: the api must be a string or nil"));
    int8_t res = resource_find(name, n);
    if (res < 0 || (api && !resource_api_matches((uint8_t)res, api, an))) {
        T("no resource named '");
        text_n(name, n > 24 ? 24 : n);
        if (api) {
            T("' of api '");
            text_n(api, an > 24 ? 24 : an);
        }
        T("'; names: board, servo0..servo3, encoder0, encoder1");
        return ERR_NOT_FOUND;
    }
    mp_writer *w = reply_begin(id);
    mp_write_array(w, 3);
    mp_write_int(w, res + 1);
    resource_write_api(w, (uint8_t)res);
    resource_write_methods(w, (uint8_t)res);
    frame_send(0);
    return 0;
}

/* -- CALL, SUBSCRIBE, OPEN_STREAM -------------------------------------------------------- */

/* handle and method of a request; the resource index in *res */
static uint8_t target(mp_reader *r, uint8_t *res, uint8_t *method)
{
    int32_t h, m;
    if (!mp_read_int(r, &h) || !mp_read_int(r, &m))
        return fail(ERR_INVALID_ARGUMENT, PSTR("the handle and the method id must be ints"));
    if (h < 1 || h > N_RESOURCES) {
        T("no resource with handle ");
        text_i(h);
        T("; RESOLVE a name first (handles are 1..7)");
        return ERR_NOT_FOUND;
    }
    *res = (uint8_t)(h - 1);
    if (m < 1 || m > 127 || !resource_has(*res, (uint8_t)m)) {
        resource_name(*res);
        T(" has no method ");
        text_i(m);
        T("; RESOLVE lists its methods");
        return ERR_UNIMPLEMENTED;
    }
    *method = (uint8_t)m;
    return 0;
}

static uint8_t call(mp_reader *r, uint32_t id)
{
    uint8_t res, method, nargs, err;
    if ((err = target(r, &res, &method)))
        return err;
    if (!mp_read_array(r, &nargs))
        return fail(ERR_INVALID_ARGUMENT, PSTR("CALL: the arguments must be an array"));
    mp_writer *w = reply_begin(id);
    err = resource_call(res, method, r, nargs, w, id);
    if (err == CALL_DEFERRED)
        return 0;
    if (err)
        return err;
    if (w->overflow)
        return fail(ERR_INTERNAL, PSTR("the result does not fit a frame"));
    frame_send(0);
    return 0;
}

static uint8_t subscribe(mp_reader *r, uint32_t id)
{
    uint8_t res, method, nargs, err, ch;
    uint32_t rate_milli;
    if ((err = target(r, &res, &method)))
        return err;
    if (!method_is_read(method))
        return fail(ERR_INVALID_ARGUMENT, PSTR("SUBSCRIBE: only reads (3, 11, 14, 41, 46, 60)"));
    if (!mp_read_array(r, &nargs))
        return fail(ERR_INVALID_ARGUMENT, PSTR("SUBSCRIBE: the arguments must be an array"));
    const uint8_t *args = r->p;
    for (uint8_t i = 0; i < nargs; i++)
        if (!mp_skip(r))
            return fail(ERR_INVALID_ARGUMENT, PSTR("SUBSCRIBE: malformed arguments"));
    uint8_t args_len = (uint8_t)(r->p - args);
    if (!mp_read_milli(r, &rate_milli))
        rate_milli = 0;   /* not a number, or negative: refused below with the range */
    /* a trial read checks the arguments now rather than in every sample */
    mp_reader trial = {args, args + args_len};
    if ((err = resource_call(res, method, &trial, nargs, frame_begin(), 0)))
        return err;
    text_clear();
    if ((err = channels_subscribe(res, method, args, args_len, nargs, rate_milli, &ch)))
        return err;
    reply_int(id, ch);
    return 0;
}

static uint8_t open_stream(mp_reader *r, uint32_t id)
{
    uint8_t res, method, err, ch;
    int32_t timeout;
    if ((err = target(r, &res, &method)))
        return err;
    if (!mp_read_int(r, &timeout))
        return fail(ERR_INVALID_ARGUMENT, PSTR("OPEN_STREAM: timeout_ms must be an int 5..60000"));
    if ((err = channels_open_stream(res, method, timeout, &ch)))
        return err;
    reply_int(id, ch);
    return 0;
}

static uint8_t close_channel(mp_reader *r, uint32_t id, uint8_t stream)
{
    int32_t ch;
    uint8_t err;
    if (!mp_read_int(r, &ch) || ch < 0 || ch > 255)
        return fail(ERR_INVALID_ARGUMENT, PSTR("the channel must be an int"));
    if ((err = channels_close((uint8_t)ch, stream)))
        return err;
    reply_nil(id);
    return 0;
}

/* -- the message --------------------------------------------------------------------- */

static const uint8_t lengths[] PROGMEM = {0, 4, 4, 5, 6, 3, 5, 4, 3, 2};

void protocol_handle(const uint8_t *payload, uint8_t len)
{
    mp_reader r = {payload, payload + len};
    uint8_t n, err = 0;
    int32_t type;
    uint32_t id = 0;
    session_feed();
    text_clear();
    if (!mp_read_array(&r, &n) || n < 2 || !mp_read_int(&r, &type)) {
        send_error(0, fail(ERR_INVALID_ARGUMENT, PSTR("a message is a msgpack array [type, id, ...]")));
        return;
    }
    if (type == MSG_GOODBYE) {
        channels_close_all();
        session_configure(0, 0);
        hello_done = 0;
        return;
    }
    if (type == MSG_SETPOINT) {
        uint32_t seq;
        int32_t ch;
        uint8_t nargs;
        if (n != 4 || !mp_read_int(&r, &ch) || !mp_read_u32(&r, &seq) || !mp_read_array(&r, &nargs)) {
            send_error(0, fail(ERR_INVALID_ARGUMENT, PSTR("SETPOINT is [7, channel, seq, [args]]")));
            return;
        }
        if (!hello_done) {
            send_error(0, fail(ERR_FAILED_PRECONDITION, PSTR("send HELLO first")));
            return;
        }
        channels_setpoint((uint8_t)(ch < 0 || ch > 255 ? 0 : ch), seq, &r, nargs);
        return;
    }
    if (!mp_read_u32(&r, &id)) {
        send_error(0, fail(ERR_INVALID_ARGUMENT, PSTR("the request id must be an int 1..2^32-1")));
        return;
    }
    if (type < 1 || type > MSG_PING) {
        T("unknown message type ");
        text_i(type);
        send_error(id, ERR_UNIMPLEMENTED);
        return;
    }
    if (n != pgm_read_byte(&lengths[type])) {
        T("this message type takes ");
        text_u(pgm_read_byte(&lengths[type]));
        T(" elements, got ");
        text_u(n);
        send_error(id, ERR_INVALID_ARGUMENT);
        return;
    }
    if (type != MSG_HELLO && !hello_done) {
        send_error(id, fail(ERR_FAILED_PRECONDITION, PSTR("send HELLO first")));
        return;
    }
    switch (type) {
    case MSG_HELLO: err = hello(&r, id); break;
    case MSG_RESOLVE: err = resolve(&r, id); break;
    case MSG_CALL: err = call(&r, id); break;
    case MSG_SUBSCRIBE: err = subscribe(&r, id); break;
    case MSG_UNSUBSCRIBE: err = close_channel(&r, id, 0); break;
    case MSG_OPEN_STREAM: err = open_stream(&r, id); break;
    case MSG_CLOSE_STREAM: err = close_channel(&r, id, 1); break;
    case MSG_PING: {
        mp_writer *w = reply_begin(id);
        mp_write_u64(w, clock_ns());
        frame_send(0);
        break;
    }
    }
    if (err)
        send_error(id, err);
}
