/* UART0 bridged to a pty master. Host bytes enter the UART's receive FIFO only while it
 * has room (simavr raises XOFF when it is full and XON only when the firmware polls
 * UCSRA, so the FIFO level itself is the gate); simavr then delivers them at the
 * programmed baud rate. Bytes the MCU sends are queued and written after each slice. */
#define _GNU_SOURCE
#include "uart_bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <simavr/avr_uart.h>

/* The header declares the UART FIFO type; this instantiates its accessors for us. */
DEFINE_FIFO(uint16_t, uart_fifo);

#define BUF_SIZE 65536

typedef struct {
	uint8_t data[BUF_SIZE];
	size_t head, len;
} ring_t;

static int master = -1, slave = -1;
static char pty_name[128];
static char link_path[4096];
static avr_uart_t *uart;
static avr_irq_t *irq_in;
static ring_t to_mcu, to_host;
static unsigned long host_dropped;
static int xoff;

static size_t ring_space(ring_t *r) { return BUF_SIZE - r->len; }

static void ring_put(ring_t *r, uint8_t b)
{
	r->data[(r->head + r->len) % BUF_SIZE] = b;
	r->len++;
}

/* Contiguous readable span at the head. */
static size_t ring_span(ring_t *r)
{
	size_t end = r->head + r->len;
	return end <= BUF_SIZE ? r->len : BUF_SIZE - r->head;
}

static void ring_drop(ring_t *r, size_t n)
{
	r->head = (r->head + n) % BUF_SIZE;
	r->len -= n;
}

static void on_output(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	if (!ring_space(&to_host)) {
		/* Nobody reads the pty: lose the oldest byte, as a board's USB bridge would. */
		ring_drop(&to_host, 1);
		host_dropped++;
	}
	ring_put(&to_host, (uint8_t)value);
}

static void on_xoff(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	xoff = value != 0;
}

static void on_xon(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	if (value)
		xoff = 0;
}

static avr_uart_t *find_uart0(avr_t *avr)
{
	for (avr_io_t *io = avr->io_port; io; io = io->next)
		if (io->kind && !strcmp(io->kind, "uart") && ((avr_uart_t *)io)->name == '0')
			return (avr_uart_t *)io;
	return NULL;
}

int bridge_open(avr_t *avr, const char *link, char *err, size_t n)
{
	uart = find_uart0(avr);
	if (!uart) {
		snprintf(err, n, "MCU %s has no UART0 to bridge", avr->mmcu);
		return -1;
	}
	bridge_after_reset(avr);

	master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (master < 0 || grantpt(master) || unlockpt(master) || ptsname_r(master, pty_name, sizeof pty_name)) {
		snprintf(err, n, "cannot open a pseudo-terminal: %s (is /dev/pts mounted?)", strerror(errno));
		return -1;
	}
	/* Keep the slave open ourselves: clients may come and go without EIO/HUP on the master. */
	slave = open(pty_name, O_RDWR | O_NOCTTY);
	if (slave < 0) {
		snprintf(err, n, "cannot open %s: %s", pty_name, strerror(errno));
		return -1;
	}
	struct termios tio;
	if (tcgetattr(slave, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(slave, TCSANOW, &tio);
	}
	if (link) {
		if (unlink(link) && errno != ENOENT) {
			snprintf(err, n, "cannot replace --pty-link %s: %s", link, strerror(errno));
			return -1;
		}
		if (symlink(pty_name, link)) {
			snprintf(err, n, "cannot create --pty-link %s: %s (does its folder exist?)", link, strerror(errno));
			return -1;
		}
		snprintf(link_path, sizeof link_path, "%s", link);
	}
	irq_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_output, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), on_xoff, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), on_xon, NULL);
	return 0;
}

void bridge_after_reset(avr_t *avr)
{
	/* No usleep on UCSRA polling and no console echo: pacing is ours, stdout is JSON. */
	uint32_t flags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
}

const char *bridge_pty_name(void) { return pty_name; }
int bridge_fd(void) { return master; }
int bridge_wants_input(void) { return ring_space(&to_mcu) > 0; }

static void read_host(void)
{
	while (ring_space(&to_mcu)) {
		size_t tail = (to_mcu.head + to_mcu.len) % BUF_SIZE;
		size_t room = tail >= to_mcu.head ? BUF_SIZE - tail : to_mcu.head - tail;
		if (room > ring_space(&to_mcu))
			room = ring_space(&to_mcu);
		ssize_t r = read(master, to_mcu.data + tail, room);
		if (r <= 0)
			return;
		to_mcu.len += (size_t)r;
	}
}

static void feed_mcu(avr_t *avr)
{
	/* Bytes wait in our buffer (like bits still on the wire) until the receiver is on. */
	if (!avr_regbit_get(avr, uart->rxen))
		return;
	xoff = xoff && uart_fifo_isfull(&uart->input);
	while (to_mcu.len && !xoff && !uart_fifo_isfull(&uart->input)) {
		uint8_t b = to_mcu.data[to_mcu.head];
		ring_drop(&to_mcu, 1);
		avr_raise_irq(irq_in, b);
	}
}

static void write_host(void)
{
	while (to_host.len) {
		ssize_t w = write(master, to_host.data + to_host.head, ring_span(&to_host));
		if (w <= 0)
			return;
		ring_drop(&to_host, (size_t)w);
	}
}

void bridge_pump(avr_t *avr)
{
	read_host();
	feed_mcu(avr);
	write_host();
}

void bridge_close(void)
{
	if (host_dropped)
		fprintf(stderr, "viamlite-sim: %lu byte(s) from the MCU dropped: nobody read the pty\n", host_dropped);
	if (link_path[0])
		unlink(link_path);
	if (slave >= 0)
		close(slave);
	if (master >= 0)
		close(master);
}
