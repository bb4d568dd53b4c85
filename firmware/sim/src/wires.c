/* A wire copies an output pin's level to an input pin; an analog IN pin (A0..A5) also
 * reads 0 or 5000 mV on its ADC channel. */
#include "wires.h"
#include "pins.h"

#include <stdio.h>
#include <string.h>
#include <simavr/avr_adc.h>

#define MAX_WIRES 16

typedef struct {
	int out, in;
} wire_t;

static wire_t wires[MAX_WIRES];
static int nwires;
static avr_t *wired_avr;

int wires_source_of(int pin)
{
	for (int i = 0; i < nwires; i++)
		if (wires[i].in == pin)
			return wires[i].out;
	return -1;
}

int wires_add(const char *spec, char *err, size_t n)
{
	char a[32], b[32];
	const char *colon = strchr(spec, ':');
	if (!colon || colon - spec >= (long)sizeof a || strlen(colon + 1) >= sizeof b) {
		snprintf(err, n, "--wire %s: expected OUT:IN pin numbers, e.g. --wire 13:2 or --wire 9:A0", spec);
		return -1;
	}
	memcpy(a, spec, colon - spec);
	a[colon - spec] = 0;
	strcpy(b, colon + 1);
	int out = pins_parse(a), in = pins_parse(b);
	if (out < 2 || in < 2) {
		snprintf(err, n, "--wire %s: pins must be 2..19 (D2..D13, A0..A5; D0/D1 are the UART)", spec);
		return -1;
	}
	if (out == in) {
		snprintf(err, n, "--wire %s: a wire needs two different pins", spec);
		return -1;
	}
	if (wires_source_of(in) >= 0) {
		snprintf(err, n, "--wire %s: pin %d is already wired from pin %d; one driver per input", spec, in,
			wires_source_of(in));
		return -1;
	}
	if (nwires == MAX_WIRES) {
		snprintf(err, n, "--wire %s: at most %d wires", spec, MAX_WIRES);
		return -1;
	}
	wires[nwires].out = out;
	wires[nwires].in = in;
	nwires++;
	return 0;
}

static void apply(avr_t *avr, const wire_t *w, int level)
{
	pins_drive(avr, w->in, level);
	if (w->in >= 14)
		avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + (w->in - 14)), level ? 5000 : 0);
}

static void on_out(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	apply(wired_avr, (const wire_t *)param, (value & 0xff) != 0);
}

void wires_sync(avr_t *avr)
{
	for (int i = 0; i < nwires; i++)
		apply(avr, &wires[i], pins_level(avr, wires[i].out));
}

void wires_attach(avr_t *avr)
{
	wired_avr = avr;
	for (int i = 0; i < nwires; i++)
		avr_irq_register_notify(pins_irq(avr, wires[i].out), on_out, &wires[i]);
	wires_sync(avr);
}
