#include "text.h"

#define TEXT_MAX 100

char text_buf[TEXT_MAX];
uint8_t text_len;

void text_clear(void) { text_len = 0; }

static void put(char c)
{
    if (text_len < TEXT_MAX)
        text_buf[text_len++] = c;
}

void text_P(const char *pgm)
{
    char c;
    while ((c = pgm_read_byte(pgm++)))
        put(c);
}

void text_n(const char *s, uint8_t n)
{
    while (n--)
        put(*s++);
}

void text_u(uint32_t v)
{
    char d[10];
    uint8_t n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put(d[--n]);
}

void text_i(int32_t v)
{
    if (v < 0) {
        put('-');
        text_u((uint32_t)(-v));
    } else {
        text_u((uint32_t)v);
    }
}
