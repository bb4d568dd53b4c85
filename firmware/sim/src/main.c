/* viamlite-sim: runs an AVR firmware in simavr, paced to the wall clock, with UART0 on a
 * pty, an edge trace of output pins and control commands on stdin (JSON lines out). */
#define _GNU_SOURCE
#include "control.h"
#include "flash_image.h"
#include "out.h"
#include "pace.h"
#include "pins.h"
#include "quadrature.h"
#include "trace.h"
#include "uart_bridge.h"
#include "wires.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>

#define SLICE_US 100       /* simulated time run between I/O pumps and pacing checks */
#define TRACE_FLUSH_S 0.02 /* trace lines reach the file within this much wall time */

static volatile sig_atomic_t stop_signal;
static int reset_seen;
static void (*core_reset)(avr_t *avr);

static void on_signal(int sig) { stop_signal = sig; }

static void usage(FILE *f)
{
	fprintf(f,
		"usage: viamlite-sim [--pty-link PATH] [--trace FILE] [--speed 1.0] [--report-every SECONDS]\n"
		"                    [--wire OUT:IN ...] [--mcu atmega328p --freq 16000000] FIRMWARE.elf\n");
}

static void fail(const char *what)
{
	fprintf(stderr, "viamlite-sim: %s\n", what);
	exit(2);
}

/* Every MCU reset (ours, the watchdog's) passes here; the run loop re-arms after it. */
static void on_core_reset(avr_t *avr)
{
	if (core_reset)
		core_reset(avr);
	reset_seen = 1;
}

/* The run loop paces; simavr's default sleep callback would usleep on its own. */
static void no_sleep(avr_t *avr, avr_cycle_count_t howlong)
{
	(void)avr;
	(void)howlong;
}

static avr_cycle_count_t slice_tick(avr_t *avr, avr_cycle_count_t when, void *param)
{
	/* Keeps a sleeping core from skipping past a slice boundary in one step. */
	(void)avr;
	return when + (avr_cycle_count_t)(uintptr_t)param;
}

static void set_reset_flag(avr_t *avr, avr_regbit_t rb)
{
	if (rb.reg) {
		for (int b = 0; b < 8; b++)
			if (avr->reset_flags.porf.reg == rb.reg)
				avr->data[rb.reg] &= ~(1u << b);
		avr_regbit_set(avr, rb);
	}
}

static void after_reset(avr_t *avr, avr_cycle_count_t slice)
{
	reset_seen = 0;
	avr_cycle_timer_register(avr, slice, slice_tick, (void *)(uintptr_t)slice);
	trace_on_reset(avr);
	pins_after_reset(avr);
	bridge_after_reset(avr);
	wires_sync(avr);
	quad_on_reset(avr);
}

int main(int argc, char **argv)
{
	const char *link = NULL, *trace_path = NULL, *mcu = NULL;
	double speed = 1.0, report_every = 1.0;
	unsigned long freq = 0;
	char err[1024];
	static const struct option opts[] = {
		{"pty-link", required_argument, 0, 'l'}, {"trace", required_argument, 0, 't'},
		{"speed", required_argument, 0, 's'}, {"report-every", required_argument, 0, 'r'},
		{"wire", required_argument, 0, 'w'}, {"mcu", required_argument, 0, 'm'},
		{"freq", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};

	if (out_init())
		fail("cannot set up stdout");
	int o;
	char *end;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l': link = optarg; break;
		case 't': trace_path = optarg; break;
		case 's':
			speed = strtod(optarg, &end);
			if (*end || end == optarg || speed < 0 || speed > 1000)
				fail("--speed must be a number 0..1000 (1.0 = real time, 0 = unpaced)");
			break;
		case 'r':
			report_every = strtod(optarg, &end);
			if (*end || end == optarg || report_every < 0)
				fail("--report-every must be seconds >= 0 (0 = only at exit)");
			break;
		case 'w':
			if (wires_add(optarg, err, sizeof err))
				fail(err);
			break;
		case 'm': mcu = optarg; break;
		case 'f':
			freq = strtoul(optarg, &end, 10);
			if (*end || freq < 1000 || freq > 32000000)
				fail("--freq must be the clock in Hz, e.g. 16000000");
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		fail("give exactly one FIRMWARE.elf");
	}
	const char *elf = argv[optind];
	if (access(elf, R_OK)) {
		snprintf(err, sizeof err, "cannot read firmware %s: %s (build it with make -C firmware)", elf, strerror(errno));
		fail(err);
	}

	elf_firmware_t fw;
	memset(&fw, 0, sizeof fw);
	if (elf_read_firmware(elf, &fw)) {
		snprintf(err, sizeof err, "%s is not a readable AVR ELF file", elf);
		fail(err);
	}
	if (mcu)
		snprintf(fw.mmcu, sizeof fw.mmcu, "%s", mcu);
	else if (!fw.mmcu[0])
		snprintf(fw.mmcu, sizeof fw.mmcu, "atmega328p");
	if (freq)
		fw.frequency = (uint32_t)freq;
	else if (!fw.frequency)
		fw.frequency = 16000000;

	avr_t *avr = avr_make_mcu_by_name(fw.mmcu);
	if (!avr) {
		snprintf(err, sizeof err, "unknown MCU '%s' (try --mcu atmega328p)", fw.mmcu);
		fail(err);
	}
	avr_init(avr);
	avr->log = 1; /* errors only */
	avr_load_firmware(avr, &fw);
	if (flash_image_load(avr, elf, err, sizeof err))
		fail(err);
	if (!avr->vcc)
		avr->vcc = 5000;
	if (!avr->avcc)
		avr->avcc = 5000;
	if (!avr->aref)
		avr->aref = 5000;
	core_reset = avr->reset;
	avr->reset = on_core_reset;
	avr->sleep = no_sleep;

	if (bridge_open(avr, link, err, sizeof err))
		fail(err);
	if (trace_path && trace_open(avr, trace_path, err, sizeof err))
		fail(err);
	wires_attach(avr);
	set_reset_flag(avr, avr->reset_flags.porf);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_TIMERSLACK, 1000UL); /* 1 us: the pacing sleeps are ~100 us long */

	avr_cycle_count_t slice = (avr_cycle_count_t)fw.frequency * SLICE_US / 1000000;
	avr_cycle_timer_register(avr, slice, slice_tick, (void *)(uintptr_t)slice);

	char l[4200], p[256];
	out_line("{\"event\": \"ready\", \"pty\": %s, \"link\": %s, \"mcu\": %s, \"freq\": %u, \"speed\": %g}",
		out_str(p, sizeof p, bridge_pty_name()), link ? out_str(l, sizeof l, link) : "null",
		out_str(err, sizeof err, fw.mmcu), fw.frequency, speed);

	pace_start(speed, avr->cycle, fw.frequency);
	double next_report = pace_wall_now() + report_every, next_flush = pace_wall_now() + TRACE_FLUSH_S;
	int exit_code = 0, stdin_open = 1, quit = 0;

	while (!quit && !stop_signal) {
		/* Wait for the wall clock (or for input), then take in host bytes and commands. */
		double ahead = pace_ahead_s(avr->cycle);
		struct pollfd fds[2] = {
			{.fd = stdin_open ? 0 : -1, .events = POLLIN},
			{.fd = bridge_wants_input() ? bridge_fd() : -1, .events = POLLIN},
		};
		struct timespec ts = {0, 0};
		if (ahead > 0) {
			ts.tv_sec = (time_t)ahead;
			ts.tv_nsec = (long)((ahead - (double)ts.tv_sec) * 1e9);
		}
		int n = ppoll(fds, 2, &ts, NULL);
		if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && control_read() < 0) {
			stdin_open = 0;
			quit = 1; /* stdin EOF ends the run, after the commands already received */
		}
		int more;
		do {
			int act = control_next(avr, &more);
			if (act == CONTROL_RESET) {
				avr_reset(avr);
				set_reset_flag(avr, avr->reset_flags.extrf);
			} else if (act == CONTROL_PACE) {
				pace_report(avr->cycle, 1);
			} else if (act == CONTROL_QUIT) {
				quit = 1;
			}
			if (reset_seen)
				after_reset(avr, slice);
		} while (more);
		bridge_pump(avr);
		if (quit)
			break;
		if (pace_ahead_s(avr->cycle) > 0)
			continue;

		/* Run one slice of simulated time. */
		avr_cycle_count_t target = avr->cycle + slice;
		while (avr->cycle < target) {
			int state = avr_run(avr);
			if (reset_seen)
				after_reset(avr, slice);
			if (state == cpu_Done || state == cpu_Crashed) {
				fprintf(stderr, "viamlite-sim: MCU %s at pc 0x%04x after %.6f s simulated (%s)\n",
					state == cpu_Crashed ? "crashed" : "stopped", avr->pc,
					(double)avr->cycle / fw.frequency,
					state == cpu_Crashed ? "bad instruction or memory access"
										 : "sleep with interrupts disabled");
				exit_code = state == cpu_Crashed ? 3 : 4;
				quit = 1;
				break;
			}
		}
		bridge_pump(avr);
		pace_sample(avr->cycle);

		double now = pace_wall_now();
		if (now >= next_flush) {
			trace_flush();
			next_flush = now + TRACE_FLUSH_S;
		}
		if (report_every > 0 && now >= next_report) {
			pace_report(avr->cycle, 0);
			next_report = now + report_every;
		}
	}
	pace_report(avr->cycle, 0);
	trace_close();
	bridge_close();
	return exit_code;
}
