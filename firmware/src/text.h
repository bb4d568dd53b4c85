/* A small buffer for the one-line messages of ERROR and EVENT replies. */
#ifndef TEXT_H
#define TEXT_H
#include <stdint.h>
#include <avr/pgmspace.h>

extern char text_buf[];
extern uint8_t text_len;

void text_clear(void);
void text_P(const char *pgm);               /* append a flash string */
void text_n(const char *s, uint8_t n);      /* append n bytes from RAM */
void text_u(uint32_t v);                    /* append a decimal */
void text_i(int32_t v);

#define T(s) text_P(PSTR(s))

#endif
