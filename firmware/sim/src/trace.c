/* Output-pin edges from simavr's io port IRQs, timestamped with the cycle counter. */
#include "trace.h"
#include "pins.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct {
	int level;
	int has_rise;
	avr_cycle_count_t rise;
} pin_trace_t;

static FILE *file;
static pin_trace_t pins[PINS_COUNT];
static int pin_ids[PINS_COUNT];

static double us(avr_t *avr, avr_cycle_count_t c) { return (double)c * 1e6 / avr->frequency; }

static void edge(avr_t *avr, int pin, int level)
{
	pin_trace_t *p = &pins[pin];
	avr_cycle_count_t now = avr->cycle;
	if (level == p->level)
		return;
	p->level = level;
	if (level) {
		if (p->has_rise)
			fprintf(file, "{\"t_us\": %.4f, \"pin\": %d, \"level\": 1, \"period_us\": %.4f}\n",
				us(avr, now), pin, us(avr, now - p->rise));
		else
			fprintf(file, "{\"t_us\": %.4f, \"pin\": %d, \"level\": 1}\n", us(avr, now), pin);
		p->rise = now;
		p->has_rise = 1;
	} else if (p->has_rise) {
		fprintf(file, "{\"t_us\": %.4f, \"pin\": %d, \"level\": 0, \"pulse_us\": %.4f}\n",
			us(avr, now), pin, us(avr, now - p->rise));
	} else {
		fprintf(file, "{\"t_us\": %.4f, \"pin\": %d, \"level\": 0}\n", us(avr, now), pin);
	}
}

static avr_t *traced_avr;

static void on_pin_change(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	int pin = *(int *)param;
	if (pins_is_output(traced_avr, pin))
		edge(traced_avr, pin, (value & 0xff) != 0);
}

int trace_open(avr_t *avr, const char *path, char *err, size_t n)
{
	if (!strcmp(path, "-")) {
		snprintf(err, n, "--trace needs a file path ('-' would mix edges into the JSON on stdout)");
		return -1;
	}
	file = fopen(path, "w");
	if (!file) {
		snprintf(err, n, "cannot write --trace %s: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(file, NULL, _IOFBF, 1 << 16);
	traced_avr = avr;
	for (int pin = 0; pin < PINS_COUNT; pin++) {
		pin_ids[pin] = pin;
		pins[pin].level = pins_level(avr, pin);
		avr_irq_register_notify(pins_irq(avr, pin), on_pin_change, &pin_ids[pin]);
	}
	return 0;
}

void trace_on_reset(avr_t *avr)
{
	if (!file)
		return;
	for (int pin = 0; pin < PINS_COUNT; pin++) {
		if (pins[pin].level)
			edge(avr, pin, 0);
		pins[pin].has_rise = 0;
	}
}

void trace_flush(void)
{
	if (file)
		fflush(file);
}

void trace_close(void)
{
	if (file)
		fclose(file);
	file = NULL;
}
