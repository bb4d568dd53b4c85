#include <avr/io.h>
#include <util/atomic.h>
#include "config.h"
#include "pins.h"
#include "resources.h"
#include "schema.h"
#include "text.h"

uint8_t pin_owner[N_PINS];

volatile uint8_t *pin_in_reg(uint8_t pin)
{
    if (pin < 8)
        return &PIND;
    if (pin < 14)
        return &PINB;
    return &PINC;
}

uint8_t pin_mask(uint8_t pin)
{
    if (pin < 8)
        return (uint8_t)(1 << pin);
    if (pin < 14)
        return (uint8_t)(1 << (pin - 8));
    return (uint8_t)(1 << (pin - 14));
}

void pin_output(uint8_t pin, uint8_t high)
{
    volatile uint8_t *r = pin_in_reg(pin);
    uint8_t m = pin_mask(pin);
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        r[1] |= m;
        if (high)
            r[2] |= m;
        else
            r[2] &= (uint8_t)~m;
    }
}

void pin_input(uint8_t pin)
{
    volatile uint8_t *r = pin_in_reg(pin);
    uint8_t m = pin_mask(pin);
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        r[1] &= (uint8_t)~m;
        r[2] &= (uint8_t)~m;
    }
}

uint8_t pin_read(uint8_t pin)
{
    return (*pin_in_reg(pin) & pin_mask(pin)) != 0;
}

uint8_t pin_arg(mp_reader *r, uint8_t *pin)
{
    int32_t v;
    const char *s;
    uint8_t n;
    if (mp_read_int(r, &v)) {
        if (v < 0 || v >= N_PINS)
            goto bad_number;
        *pin = (uint8_t)v;
        return 1;
    }
    if (!mp_read_str(r, &s, &n) || n == 0 || n > 3) {
        T("a pin is an integer (2..19) or a name like \"13\", \"D13\", \"A0\"");
        return 0;
    }
    uint8_t base = 0;
    if (*s == 'A' || *s == 'a') { base = 14; s++; n--; }
    else if (*s == 'D' || *s == 'd') { s++; n--; }
    v = 0;
    if (n == 0)
        goto bad_name;
    while (n--) {
        if (*s < '0' || *s > '9')
            goto bad_name;
        v = v * 10 + (*s++ - '0');
    }
    v += base;
    if (v >= N_PINS || (base && v >= 20))
        goto bad_number;
    *pin = (uint8_t)v;
    return 1;
bad_name:
    T("a pin name is digits, D<digits> or A<digit>; got a string that is neither");
    return 0;
bad_number:
    T("no such pin on this board: use 2..13, or 14..19 (A0..A5)");
    return 0;
}

uint8_t pin_claimable(uint8_t pin, uint8_t user)
{
    if (pin < 2) {
        T("pin ");
        text_u(pin);
        T(" is the serial line (D0/D1); use 2..19");
        return ERR_INVALID_ARGUMENT;
    }
    uint8_t owner = pin_owner[pin];
    if (owner && owner != user) {
        T("pin ");
        text_u(pin);
        T(" is used by ");
        resource_name(owner);
        T("; detach it or pick another pin");
        return ERR_FAILED_PRECONDITION;
    }
    return 0;
}
