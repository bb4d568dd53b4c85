/* A minimal msgpack reader and writer over byte buffers (no allocation). */
#ifndef MSGPACK_H
#define MSGPACK_H
#include <stdint.h>

typedef struct {
    const uint8_t *p, *end;
} mp_reader;

uint8_t mp_is_nil(const mp_reader *r);                    /* next value is nil (not consumed) */
uint8_t mp_read_nil(mp_reader *r);
uint8_t mp_read_bool(mp_reader *r, uint8_t *v);
uint8_t mp_read_int(mp_reader *r, int32_t *v);            /* any int width that fits int32 */
uint8_t mp_read_u32(mp_reader *r, uint32_t *v);           /* 0..2^32-1 */
uint8_t mp_read_milli(mp_reader *r, uint32_t *v);         /* a number >= 0 (int or float) times 1000, rounded */
uint8_t mp_read_str(mp_reader *r, const char **s, uint8_t *n);
uint8_t mp_read_array(mp_reader *r, uint8_t *n);
uint8_t mp_read_map(mp_reader *r, uint8_t *n);
uint8_t mp_skip(mp_reader *r);                            /* any one value */

typedef struct {
    uint8_t *p, *end;
    uint8_t overflow;
} mp_writer;

void mp_write_nil(mp_writer *w);
void mp_write_bool(mp_writer *w, uint8_t v);
void mp_write_int(mp_writer *w, int32_t v);
void mp_write_u64(mp_writer *w, uint64_t v);
void mp_write_float_bits(mp_writer *w, uint32_t bits);     /* a float32 given by its bits */
void mp_write_str(mp_writer *w, const char *s, uint8_t n);
void mp_write_str_P(mp_writer *w, const char *pgm);       /* a flash string */
void mp_write_array(mp_writer *w, uint8_t n);
void mp_write_map(mp_writer *w, uint8_t n);

#endif
