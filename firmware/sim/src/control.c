/* Parses `adc`, `pin`, `quad`, `reset`, `pace`, `quit` and answers ok/error on stdout. */
#include "control.h"
#include "out.h"
#include "pins.h"
#include "quadrature.h"
#include "wires.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <simavr/avr_adc.h>

static char buf[8192];
static size_t len;

int control_read(void)
{
	if (len == sizeof buf - 1) {
		/* A line longer than the buffer: drop it rather than stall. */
		len = 0;
		out_error("", "control line too long (max 8 KB); one command per line");
	}
	ssize_t r = read(0, buf + len, sizeof buf - 1 - len);
	if (r == 0)
		return -1;
	if (r < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	len += (size_t)r;
	return 0;
}

static int parse_long(const char *s, long *v)
{
	char *end;
	if (!s)
		return -1;
	errno = 0;
	*v = strtol(s, &end, 10);
	return (*end || errno || end == s) ? -1 : 0;
}

static int parse_double(const char *s, double *v)
{
	char *end;
	if (!s)
		return -1;
	*v = strtod(s, &end);
	return (*end || end == s) ? -1 : 0;
}

static int check_input_pin(avr_t *avr, const char *cmd, int pin, const char *what)
{
	char err[256];
	if (pin < 2) {
		snprintf(err, sizeof err, "%s: pin must be 2..19 (D2..D13, A0..A5 = 14..19); D0/D1 are the UART", what);
		out_error(cmd, err);
		return -1;
	}
	if (wires_source_of(pin) >= 0) {
		snprintf(err, sizeof err, "pin %d is wired from pin %d (--wire); drive pin %d instead", pin,
			wires_source_of(pin), wires_source_of(pin));
		out_error(cmd, err);
		return -1;
	}
	if (pins_is_output(avr, pin)) {
		snprintf(err, sizeof err, "pin %d is an output of the firmware; only input pins can be driven", pin);
		out_error(cmd, err);
		return -1;
	}
	return 0;
}

static int run(avr_t *avr, char *line)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "%s", line);
	char *argv[8] = {0};
	int argc = 0;
	for (char *t = strtok(line, " \t\r"); t && argc < 8; t = strtok(NULL, " \t\r"))
		argv[argc++] = t;
	if (!argc)
		return CONTROL_CONTINUE;
	const char *c = argv[0];
	if (!strcmp(c, "adc")) {
		long ch, mv;
		if (argc != 3 || parse_long(argv[1], &ch) || parse_long(argv[2], &mv) || ch < 0 || ch > 7 || mv < 0 || mv > 5000) {
			out_error(cmd, "usage: adc CH MILLIVOLTS with CH 0..7 and MILLIVOLTS 0..5000");
			return CONTROL_CONTINUE;
		}
		if (ch <= 5 && wires_source_of(14 + ch) >= 0) {
			char err[256];
			snprintf(err, sizeof err, "A%ld is wired from pin %d (--wire); its level sets the voltage", ch,
				wires_source_of(14 + ch));
			out_error(cmd, err);
			return CONTROL_CONTINUE;
		}
		avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + ch), (uint32_t)mv);
		out_ok(cmd);
	} else if (!strcmp(c, "pin")) {
		int pin = argc == 3 ? pins_parse(argv[1]) : -1;
		const char *v = argc == 3 ? argv[2] : "";
		int level = !strcmp(v, "0") ? 0 : !strcmp(v, "1") ? 1 : (!strcmp(v, "z") || !strcmp(v, "Z")) ? -1 : -2;
		if (pin < 0 || level == -2) {
			out_error(cmd, "usage: pin N 0|1|z with N 2..19 (z releases the pin)");
			return CONTROL_CONTINUE;
		}
		if (check_input_pin(avr, cmd, pin, "pin"))
			return CONTROL_CONTINUE;
		pins_drive(avr, pin, level);
		out_ok(cmd);
	} else if (!strcmp(c, "quad")) {
		long steps;
		double rate;
		int a = argc == 5 ? pins_parse(argv[1]) : -1, b = argc == 5 ? pins_parse(argv[2]) : -1;
		if (a < 0 || b < 0 || parse_long(argv[3], &steps) || parse_double(argv[4], &rate)) {
			out_error(cmd, "usage: quad PIN_A PIN_B STEPS RATE_HZ (signed STEPS: + means A leads B)");
			return CONTROL_CONTINUE;
		}
		if (check_input_pin(avr, cmd, a, "quad PIN_A") || check_input_pin(avr, cmd, b, "quad PIN_B"))
			return CONTROL_CONTINUE;
		char err[256];
		if (quad_start(avr, a, b, steps, rate, err, sizeof err)) {
			out_error(cmd, err);
			return CONTROL_CONTINUE;
		}
		out_ok(cmd);
	} else if (!strcmp(c, "reset") && argc == 1) {
		out_ok(cmd);
		return CONTROL_RESET;
	} else if (!strcmp(c, "pace") && argc == 1) {
		return CONTROL_PACE;
	} else if (!strcmp(c, "quit") && argc == 1) {
		out_ok(cmd);
		return CONTROL_QUIT;
	} else {
		out_error(cmd, "unknown command; use adc CH MV | pin N 0|1|z | quad A B STEPS RATE_HZ | reset | pace | quit");
	}
	return CONTROL_CONTINUE;
}

int control_next(avr_t *avr, int *more)
{
	*more = 0;
	char *nl = memchr(buf, '\n', len);
	if (!nl)
		return CONTROL_CONTINUE;
	*nl = 0;
	char line[8192];
	size_t n = (size_t)(nl - buf);
	memcpy(line, buf, n + 1);
	memmove(buf, nl + 1, len - n - 1);
	len -= n + 1;
	*more = memchr(buf, '\n', len) != NULL;
	return run(avr, line);
}
