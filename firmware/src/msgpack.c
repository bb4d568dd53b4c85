/* msgpack subset: nil, bool, ints of every width, float32/64 (read as rates), float32 (written),
 * str, array, map; bin and ext are skipped when reading and never written. */
#include <string.h>
#include <avr/pgmspace.h>
#include "msgpack.h"

static uint8_t need(const mp_reader *r, uint16_t n)
{
    return (uint16_t)(r->end - r->p) >= n;
}

static uint32_t be(const uint8_t *p, uint8_t n)
{
    uint32_t v = 0;
    while (n--)
        v = (v << 8) | *p++;
    return v;
}

uint8_t mp_is_nil(const mp_reader *r)
{
    return r->p < r->end && *r->p == 0xc0;
}

uint8_t mp_read_nil(mp_reader *r)
{
    if (!mp_is_nil(r))
        return 0;
    r->p++;
    return 1;
}

uint8_t mp_read_bool(mp_reader *r, uint8_t *v)
{
    if (!need(r, 1) || (*r->p != 0xc2 && *r->p != 0xc3))
        return 0;
    *v = *r->p++ == 0xc3;
    return 1;
}

/* Integers as a sign and a 64-bit magnitude split in two words. */
static uint8_t read_integer(mp_reader *r, uint8_t *neg, uint32_t *hi, uint32_t *lo)
{
    if (!need(r, 1))
        return 0;
    uint8_t t = *r->p;
    *neg = 0;
    *hi = 0;
    if (t <= 0x7f) { *lo = t; r->p++; return 1; }
    if (t >= 0xe0) { *neg = 1; *lo = (uint32_t)(-(int8_t)t); *hi = 0; r->p++; return 1; }
    uint8_t n;
    switch (t) {
    case 0xcc: case 0xd0: n = 1; break;
    case 0xcd: case 0xd1: n = 2; break;
    case 0xce: case 0xd2: n = 4; break;
    case 0xcf: case 0xd3: n = 8; break;
    default: return 0;
    }
    if (!need(r, 1 + n))
        return 0;
    const uint8_t *d = r->p + 1;
    r->p += 1 + n;
    if (n == 8) {
        *hi = be(d, 4);
        *lo = be(d + 4, 4);
    } else {
        *lo = be(d, n);
    }
    if (t >= 0xd0) {  /* signed: two's complement of the given width */
        uint8_t sign = d[0] & 0x80;
        if (!sign)
            return 1;
        *neg = 1;
        if (n == 8) {  /* magnitude of a negative 64-bit value */
            *hi = ~*hi;
            *lo = ~*lo + 1;
            if (*lo == 0)
                (*hi)++;
        } else {
            uint32_t ext = n == 4 ? 0 : (0xffffffffUL << (8 * n));
            *lo = 0UL - (*lo | ext);
        }
    }
    return 1;
}

/* The common cases, read without the general path: fixint, uint8, uint16. */
static inline uint8_t read_small(mp_reader *r, uint16_t *v)
{
    const uint8_t *p = r->p;
    if (p >= r->end)
        return 0;
    uint8_t t = *p;
    if (t <= 0x7f) { *v = t; r->p = p + 1; return 1; }
    if (t == 0xcc && r->end - p >= 2) { *v = p[1]; r->p = p + 2; return 1; }
    if (t == 0xcd && r->end - p >= 3) { *v = ((uint16_t)p[1] << 8) | p[2]; r->p = p + 3; return 1; }
    return 0;
}

uint8_t mp_read_int(mp_reader *r, int32_t *v)
{
    uint16_t small;
    if (read_small(r, &small)) {
        *v = small;
        return 1;
    }
    const uint8_t *start = r->p;
    uint8_t neg;
    uint32_t hi, lo;
    if (!read_integer(r, &neg, &hi, &lo))
        return 0;
    if (hi || lo > (neg ? 0x80000000UL : 0x7fffffffUL)) {
        r->p = start;
        return 0;
    }
    *v = neg ? (int32_t)(0 - lo) : (int32_t)lo;
    return 1;
}

uint8_t mp_read_u32(mp_reader *r, uint32_t *v)
{
    uint16_t small;
    if (read_small(r, &small)) {
        *v = small;
        return 1;
    }
    const uint8_t *start = r->p;
    uint8_t neg;
    uint32_t hi, lo;
    if (!read_integer(r, &neg, &hi, &lo))
        return 0;
    if (hi || (neg && lo)) {
        r->p = start;
        return 0;
    }
    *v = lo;
    return 1;
}

/* float32 or float64 as float32 bits (double is 32 bits on AVR: no float64 arithmetic) */
static uint8_t read_f32_bits(mp_reader *r, uint32_t *bits)
{
    uint8_t t = *r->p;
    if (t == 0xca) {
        if (!need(r, 5))
            return 0;
        *bits = be(r->p + 1, 4);
        r->p += 5;
        return 1;
    }
    if (!need(r, 9))
        return 0;
    uint32_t hi = be(r->p + 1, 4), lo = be(r->p + 5, 4);
    r->p += 9;
    uint32_t sign = hi & 0x80000000UL;
    int16_t e = (int16_t)((hi >> 20) & 0x7ff);
    uint32_t mant = ((hi & 0xfffffUL) << 3) | (lo >> 29);
    if (e == 0)
        *bits = sign;                           /* zero and subnormals */
    else if (e == 0x7ff)
        *bits = sign | 0x7f800000UL | mant;     /* inf, nan */
    else if ((e = (int16_t)(e - 1023 + 127)) >= 0xff)
        *bits = sign | 0x7f800000UL;
    else if (e <= 0)
        *bits = sign;
    else
        *bits = sign | ((uint32_t)e << 23) | mant;
    return 1;
}

uint8_t mp_read_milli(mp_reader *r, uint32_t *v)
{
    if (!need(r, 1))
        return 0;
    uint8_t t = *r->p;
    if (t != 0xca && t != 0xcb) {
        uint32_t i;
        if (!mp_read_u32(r, &i) || i > 4294967UL)
            return 0;
        *v = i * 1000;
        return 1;
    }
    uint32_t bits;
    if (!read_f32_bits(r, &bits))
        return 0;
    int16_t e = (int16_t)((bits >> 23) & 0xff);
    if ((bits & 0x80000000UL) || e == 0xff)
        return 0;                               /* negative, inf, nan */
    if (e == 0) {
        *v = 0;
        return 1;
    }
    uint64_t x = (uint64_t)((bits & 0x7fffffUL) | 0x800000UL) * 1000;   /* value * 1000 * 2^(23 - e + 127) */
    int16_t shift = (int16_t)(e - 127 - 23);
    if (shift >= 0) {
        if (shift > 8)
            return 0;
        x <<= shift;
    } else if (shift > -60) {
        x = (x + ((uint64_t)1 << (-shift - 1))) >> -shift;
    } else {
        x = 0;
    }
    if (x > 0xffffffffULL)
        return 0;
    *v = (uint32_t)x;
    return 1;
}

uint8_t mp_read_str(mp_reader *r, const char **s, uint8_t *n)
{
    if (!need(r, 1))
        return 0;
    uint8_t t = *r->p;
    uint8_t len, hdr;
    if ((t & 0xe0) == 0xa0) { len = t & 0x1f; hdr = 1; }
    else if (t == 0xd9 && need(r, 2)) { len = r->p[1]; hdr = 2; }
    else return 0;
    if (!need(r, (uint16_t)hdr + len))
        return 0;
    *s = (const char *)r->p + hdr;
    *n = len;
    r->p += hdr + len;
    return 1;
}

/* Arrays and maps: fix forms and the 16-bit forms (up to 255 entries here). */
static uint8_t read_container(mp_reader *r, uint8_t *n, uint8_t fix, uint8_t fixmask, uint8_t t16)
{
    if (r->p >= r->end)
        return 0;
    uint8_t t = *r->p;
    if ((t & fixmask) == fix) {
        *n = t & (uint8_t)~fixmask;
        r->p++;
        return 1;
    }
    if (t == t16 && need(r, 3) && r->p[1] == 0) {
        *n = r->p[2];
        r->p += 3;
        return 1;
    }
    return 0;
}

uint8_t mp_read_array(mp_reader *r, uint8_t *n) { return read_container(r, n, 0x90, 0xf0, 0xdc); }
uint8_t mp_read_map(mp_reader *r, uint8_t *n) { return read_container(r, n, 0x80, 0xf0, 0xde); }

/* One value's bytes, without recursion: a hostile frame of nested containers must not
 * grow the stack. `pending` counts the values still to skip; each needs at least one
 * byte, so more pending values than bytes left is a malformed frame. */
uint8_t mp_skip(mp_reader *r)
{
    uint16_t pending = 1;
    while (pending) {
        pending--;
        if (!need(r, 1))
            return 0;
        uint8_t t = *r->p;
        uint8_t n;
        uint16_t size;
        if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
            r->p++;
            continue;
        }
        if (mp_read_array(r, &n)) {
            pending += n;
        } else if (mp_read_map(r, &n)) {
            pending += 2 * (uint16_t)n;
        } else {
            switch (t) {
            case 0xcc: case 0xd0: size = 2; break;
            case 0xcd: case 0xd1: size = 3; break;
            case 0xca: case 0xce: case 0xd2: size = 5; break;
            case 0xcb: case 0xcf: case 0xd3: size = 9; break;
            case 0xd4: size = 3; break;      /* fixext 1..16 */
            case 0xd5: size = 4; break;
            case 0xd6: size = 6; break;
            case 0xd7: size = 10; break;
            case 0xd8: size = 18; break;
            case 0xc4: case 0xd9:            /* bin8, str8 */
                if (!need(r, 2)) return 0;
                size = 2 + r->p[1];
                break;
            case 0xc5: case 0xda:            /* bin16, str16 */
                if (!need(r, 3)) return 0;
                size = 3 + (uint16_t)be(r->p + 1, 2);
                break;
            default:
                if ((t & 0xe0) == 0xa0) { size = 1 + (t & 0x1f); break; }
                return 0;                    /* 32-bit lengths never fit a frame; 0xc1 is never used */
            }
            if (!need(r, size))
                return 0;
            r->p += size;
        }
        if (pending > (uint16_t)(r->end - r->p))
            return 0;
    }
    return 1;
}

/* -- writing ------------------------------------------------------------------------ */

static void put(mp_writer *w, uint8_t b)
{
    if (w->p < w->end)
        *w->p++ = b;
    else
        w->overflow = 1;
}

/* the low n bytes of v, most significant first (AVR is little-endian: no shifts) */
static void put_be(mp_writer *w, uint32_t v, uint8_t n)
{
    const uint8_t *b = (const uint8_t *)&v;
    while (n--)
        put(w, b[n]);
}

void mp_write_nil(mp_writer *w) { put(w, 0xc0); }
void mp_write_bool(mp_writer *w, uint8_t v) { put(w, v ? 0xc3 : 0xc2); }

void mp_write_int(mp_writer *w, int32_t v)
{
    if (v >= 0) {
        if (v <= 0x7f) { put(w, (uint8_t)v); }
        else if (v <= 0xff) { put(w, 0xcc); put(w, (uint8_t)v); }
        else if (v <= 0xffff) { put(w, 0xcd); put_be(w, (uint32_t)v, 2); }
        else { put(w, 0xce); put_be(w, (uint32_t)v, 4); }
    } else {
        if (v >= -32) { put(w, (uint8_t)v); }
        else if (v >= -128) { put(w, 0xd0); put(w, (uint8_t)v); }
        else if (v >= -32768) { put(w, 0xd1); put_be(w, (uint32_t)v, 2); }
        else { put(w, 0xd2); put_be(w, (uint32_t)v, 4); }
    }
}

void mp_write_u32(mp_writer *w, uint32_t v)
{
    if (v <= 0x7fffffffUL) {
        mp_write_int(w, (int32_t)v);
        return;
    }
    put(w, 0xce);
    put_be(w, v, 4);
}

void mp_write_u64(mp_writer *w, uint64_t v)
{
    if (v <= 0x7fffffffUL) {
        mp_write_int(w, (int32_t)v);
        return;
    }
    if (v <= 0xffffffffUL) {
        put(w, 0xce);
        put_be(w, (uint32_t)v, 4);
        return;
    }
    put(w, 0xcf);
    put_be(w, (uint32_t)(v >> 32), 4);
    put_be(w, (uint32_t)v, 4);
}

void mp_write_float_bits(mp_writer *w, uint32_t bits)
{
    put(w, 0xca);
    put_be(w, bits, 4);
}

void mp_write_str(mp_writer *w, const char *s, uint8_t n)
{
    if (n < 32) {
        put(w, (uint8_t)(0xa0 | n));
    } else {
        put(w, 0xd9);
        put(w, n);
    }
    while (n--)
        put(w, (uint8_t)*s++);
}

void mp_write_str_P(mp_writer *w, const char *pgm)
{
    uint8_t n = (uint8_t)strlen_P(pgm);
    if (n < 32) {
        put(w, (uint8_t)(0xa0 | n));
    } else {
        put(w, 0xd9);
        put(w, n);
    }
    while (n--)
        put(w, pgm_read_byte(pgm++));
}

void mp_write_array(mp_writer *w, uint8_t n)
{
    if (n < 16) put(w, (uint8_t)(0x90 | n));
    else { put(w, 0xdc); put(w, 0); put(w, n); }
}

void mp_write_map(mp_writer *w, uint8_t n)
{
    if (n < 16) put(w, (uint8_t)(0x80 | n));
    else { put(w, 0xde); put(w, 0); put(w, n); }
}
