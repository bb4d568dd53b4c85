/* Gray-code sequence (A,B): 00 -> 10 -> 11 -> 01 -> 00 counts up (A leads B). */
#include "quadrature.h"
#include "out.h"
#include "pins.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_GENERATORS 4

typedef struct {
	int active, pin_a, pin_b, phase, dir;
	long total, left;
	double period_cycles, next; /* next transition, absolute cycle (fractional) */
} quadgen_t;

static quadgen_t gens[MAX_GENERATORS];
static const int seq_a[4] = {0, 1, 1, 0}, seq_b[4] = {0, 0, 1, 1};

static avr_cycle_count_t tick(avr_t *avr, avr_cycle_count_t when, void *param)
{
	quadgen_t *q = param;
	(void)when;
	q->phase = (q->phase + q->dir + 4) % 4;
	pins_drive(avr, q->pin_a, seq_a[q->phase]);
	pins_drive(avr, q->pin_b, seq_b[q->phase]);
	if (--q->left <= 0) {
		q->active = 0;
		out_line("{\"event\": \"quad_done\", \"pin_a\": %d, \"pin_b\": %d, \"steps\": %ld, \"t_us\": %.4f}",
			q->pin_a, q->pin_b, q->dir * q->total, (double)avr->cycle * 1e6 / avr->frequency);
		return 0;
	}
	q->next += q->period_cycles;
	avr_cycle_count_t next = (avr_cycle_count_t)q->next;
	return next > avr->cycle ? next : avr->cycle + 1;
}

static void arm(avr_t *avr, quadgen_t *q)
{
	avr_cycle_count_t next = (avr_cycle_count_t)q->next;
	avr_cycle_timer_register(avr, next > avr->cycle ? next - avr->cycle : 1, tick, q);
}

int quad_start(avr_t *avr, int pin_a, int pin_b, long steps, double rate_hz, char *err, size_t n)
{
	if (pin_a < 2 || pin_b < 2 || pin_a == pin_b) {
		snprintf(err, n, "quad needs two different pins 2..19 (D0/D1 are the UART)");
		return -1;
	}
	if (rate_hz <= 0 || rate_hz > 200000) {
		snprintf(err, n, "quad RATE_HZ must be > 0 and <= 200000 transitions per second");
		return -1;
	}
	if (steps == 0) {
		snprintf(err, n, "quad STEPS must be non-zero (signed: + means A leads B)");
		return -1;
	}
	int pins2[2] = {pin_a, pin_b};
	for (int i = 0; i < 2; i++) {
		if (pins_is_output(avr, pins2[i])) {
			snprintf(err, n, "pin %d is an output of the firmware; an encoder drives input pins", pins2[i]);
			return -1;
		}
	}
	quadgen_t *q = NULL;
	for (int i = 0; i < MAX_GENERATORS; i++) {
		quadgen_t *g = &gens[i];
		if (g->active && (g->pin_a == pin_a || g->pin_b == pin_b || g->pin_a == pin_b || g->pin_b == pin_a)) {
			snprintf(err, n, "a quadrature signal is still running on pins %d,%d; wait for its quad_done",
				g->pin_a, g->pin_b);
			return -1;
		}
		if (!g->active && !q)
			q = g;
	}
	if (!q) {
		snprintf(err, n, "at most %d quadrature signals at once; wait for a quad_done", MAX_GENERATORS);
		return -1;
	}
	/* Start from the levels the pins hold now (a previous run may have left them mid-cycle). */
	int a = pins_level(avr, pin_a), b = pins_level(avr, pin_b), phase = 0;
	for (int i = 0; i < 4; i++)
		if (seq_a[i] == a && seq_b[i] == b)
			phase = i;
	*q = (quadgen_t){.active = 1, .pin_a = pin_a, .pin_b = pin_b, .phase = phase,
		.dir = steps > 0 ? 1 : -1, .total = labs(steps), .left = labs(steps),
		.period_cycles = avr->frequency / rate_hz};
	pins_drive(avr, pin_a, a);
	pins_drive(avr, pin_b, b);
	q->next = (double)avr->cycle + q->period_cycles;
	arm(avr, q);
	return 0;
}

void quad_on_reset(avr_t *avr)
{
	for (int i = 0; i < MAX_GENERATORS; i++)
		if (gens[i].active)
			arm(avr, &gens[i]);
}
