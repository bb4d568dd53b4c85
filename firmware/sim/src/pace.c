/* Absolute-deadline pacing against CLOCK_MONOTONIC. Lag is sampled after every slice and
 * weighted by the wall time since the previous sample, so the p99 is "lag exceeded this
 * for 1% of the wall time" (catch-up bursts run many short slices and would otherwise
 * dominate a per-slice count). */
#include "pace.h"
#include "out.h"

#include <time.h>

#define LAG_BUCKETS 100000 /* 0..99999 us; beyond goes to the last bucket */

static double speed, wall0, freq;
static uint64_t cycle0;
static double lag_hist[LAG_BUCKETS]; /* wall seconds spent at each lag */
static double lag_weight, last_sample_wall, last_lag_us;
static double lag_max_us;

double pace_wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void pace_start(double s, uint64_t cycle, uint32_t f)
{
	speed = s;
	cycle0 = cycle;
	freq = f;
	wall0 = pace_wall_now();
	last_sample_wall = wall0;
}

static double sim_s(uint64_t cycle) { return (double)(cycle - cycle0) / freq; }

/* Wall seconds by which the wall clock trails simulated time (scaled by speed). */
double pace_ahead_s(uint64_t cycle)
{
	if (speed <= 0)
		return 0;
	return sim_s(cycle) / speed - (pace_wall_now() - wall0);
}

void pace_sample(uint64_t cycle)
{
	if (speed <= 0)
		return;
	double now = pace_wall_now();
	double weight = now - last_sample_wall;
	last_sample_wall = now;
	double lag_us = ((now - wall0) - (double)(cycle - cycle0) / freq / speed) * 1e6;
	if (lag_us < 0)
		lag_us = 0;
	if (lag_us > lag_max_us)
		lag_max_us = lag_us;
	/* Over the interval the lag moved from the previous sample to this one: count the
	 * interval at its midpoint. */
	long b = (long)((lag_us + last_lag_us) / 2);
	last_lag_us = lag_us;
	lag_hist[b < LAG_BUCKETS ? b : LAG_BUCKETS - 1] += weight;
	lag_weight += weight;
}

static double lag_p99_us(void)
{
	if (lag_weight <= 0)
		return 0;
	double want = lag_weight * 0.99, seen = 0;
	for (long b = 0; b < LAG_BUCKETS; b++) {
		seen += lag_hist[b];
		if (seen >= want)
			return (double)b;
	}
	return lag_max_us;
}

void pace_report(uint64_t cycle, int answer)
{
	double s = sim_s(cycle), w = pace_wall_now() - wall0;
	double behind = speed > 0 ? -pace_ahead_s(cycle) * 1e3 : 0;
	if (behind < 0)
		behind = 0;
	out_line("{\"event\": \"pace\", \"t_us\": %.4f, \"sim_s\": %.6f, \"wall_s\": %.6f, \"ratio\": %.4f, "
		"\"lag_max_us\": %.1f, \"lag_p99_us\": %.1f, \"behind_ms\": %.3f%s}",
		(double)cycle * 1e6 / freq, s, w, w > 0 ? s / w : 0.0, lag_max_us, lag_p99_us(), behind,
		answer ? ", \"cmd\": \"pace\"" : "");
}
