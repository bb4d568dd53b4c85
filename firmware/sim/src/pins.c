/* Arduino pin map and external drive of input pins through simavr's io port IRQs. */
#include "pins.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <simavr/avr_ioport.h>

static const char port_of[3] = {'D', 'B', 'C'};
static uint8_t ext_mask[3], ext_value[3];
static int driven[PINS_COUNT];

static int port_index(int pin) { return pin < 8 ? 0 : pin < 14 ? 1 : 2; }

int pins_locate(int pin, char *port, int *bit)
{
	if (pin < 0 || pin >= PINS_COUNT)
		return -1;
	*port = port_of[port_index(pin)];
	*bit = pin < 8 ? pin : pin < 14 ? pin - 8 : pin - 14;
	return 0;
}

avr_irq_t *pins_irq(avr_t *avr, int pin)
{
	char port;
	int bit;
	if (pins_locate(pin, &port, &bit))
		return NULL;
	return avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), bit);
}

int pins_is_output(avr_t *avr, int pin)
{
	char port;
	int bit;
	avr_ioport_state_t st;
	if (pins_locate(pin, &port, &bit))
		return 0;
	if (avr_ioctl(avr, AVR_IOCTL_IOPORT_GETSTATE(port), &st))
		return 0;
	return (st.ddr >> bit) & 1;
}

int pins_level(avr_t *avr, int pin)
{
	avr_irq_t *irq = pins_irq(avr, pin);
	return irq ? irq->value != 0 : 0;
}

int pins_is_driven(int pin)
{
	return pin >= 0 && pin < PINS_COUNT && driven[pin];
}

static void set_external(avr_t *avr, int pi)
{
	avr_ioport_external_t ext = {.name = port_of[pi], .mask = ext_mask[pi], .value = ext_value[pi]};
	avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(port_of[pi]), &ext);
}

void pins_drive(avr_t *avr, int pin, int level)
{
	char port;
	int bit;
	if (pins_locate(pin, &port, &bit))
		return;
	int pi = port_index(pin);
	uint8_t m = 1u << bit;
	if (level < 0) {
		/* Released: the pin follows the MCU's pull-up (PORT bit) or floats low. */
		driven[pin] = 0;
		ext_mask[pi] &= ~m;
		ext_value[pi] &= ~m;
		set_external(avr, pi);
		avr_ioport_state_t st;
		int pull = 0;
		if (avr_ioctl(avr, AVR_IOCTL_IOPORT_GETSTATE(port), &st) == 0)
			pull = !((st.ddr >> bit) & 1) && ((st.port >> bit) & 1);
		if (!pins_is_output(avr, pin))
			avr_raise_irq(pins_irq(avr, pin), pull);
		return;
	}
	driven[pin] = 1;
	ext_mask[pi] |= m;
	if (level)
		ext_value[pi] |= m;
	else
		ext_value[pi] &= ~m;
	set_external(avr, pi);
	avr_raise_irq(pins_irq(avr, pin), level ? 1 : 0);
}

static avr_ioport_t *find_port(avr_t *avr, char name)
{
	for (avr_io_t *io = avr->io_port; io; io = io->next)
		if (io->kind && !strcmp(io->kind, "port") && ((avr_ioport_t *)io)->name == name)
			return (avr_ioport_t *)io;
	return NULL;
}

void pins_after_reset(avr_t *avr)
{
	for (int pin = 0; pin < PINS_COUNT; pin++) {
		char port;
		int bit;
		pins_locate(pin, &port, &bit);
		if (!driven[pin]) {
			if (pins_level(avr, pin))
				avr_raise_irq(pins_irq(avr, pin), 0);
			continue;
		}
		/* The reset cleared the PIN register; the IRQ keeps the driven level, so a
		 * re-raise would be filtered out: restore the bit directly. */
		avr_ioport_t *p = find_port(avr, port);
		if (p && pins_level(avr, pin))
			avr->data[p->r_pin] |= 1u << bit;
	}
}

int pins_parse(const char *s)
{
	char *end;
	int base = 0;
	if (*s == 'D' || *s == 'd')
		s++;
	else if (*s == 'A' || *s == 'a') {
		s++;
		base = 14;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	long v = strtol(s, &end, 10);
	if (*end || v < 0)
		return -1;
	v += base;
	if (base && v >= PINS_COUNT)
		return -1;
	return v < PINS_COUNT ? (int)v : -1;
}
