/*
 * units.c - rates and times as written in topology YAML files.
 *
 * A rate always carries a unit, so that "100" is never silently bits or bytes:
 *   bits:  bit, Kbit, Mbit, Gbit, Tbit (optionally "/s"), or bps, Kbps, Mbps, Gbps, Tbps
 *   bytes: B/s, KB/s, MB/s, GB/s, TB/s (the "/s" is required, B alone is a size)
 * with decimal prefixes (1 Gbit = 1e9 bits; 1 GB/s = 1e9 bytes/s).  Stored as bytes/s.
 * A time: ns, us, ms, s.  Stored as seconds.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "topo/internal.h"

struct unit {
	const char *suffix;
	double factor; /* to bytes/s or seconds */
};

static const struct unit rate_units[] = {
	{"bit", 1.0 / 8},     {"bit/s", 1.0 / 8},  {"bps", 1.0 / 8},	{"Kbit", 1e3 / 8},
	{"Kbit/s", 1e3 / 8},  {"Kbps", 1e3 / 8},   {"kbit", 1e3 / 8},	{"kbit/s", 1e3 / 8},
	{"kbps", 1e3 / 8},    {"Mbit", 1e6 / 8},   {"Mbit/s", 1e6 / 8}, {"Mbps", 1e6 / 8},
	{"Gbit", 1e9 / 8},    {"Gbit/s", 1e9 / 8}, {"Gbps", 1e9 / 8},	{"Tbit", 1e12 / 8},
	{"Tbit/s", 1e12 / 8}, {"Tbps", 1e12 / 8},  {"B/s", 1.0},	{"KB/s", 1e3},
	{"kB/s", 1e3},	      {"MB/s", 1e6},	   {"GB/s", 1e9},	{"TB/s", 1e12},
};

static const struct unit time_units[] = {
	{"ns", 1e-9},
	{"us", 1e-6},
	{"ms", 1e-3},
	{"s", 1.0},
};

static int parse_with(const char *s, const struct unit *units, size_t n, double *out)
{
	char *end;
	double v;
	size_t i;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v))
		return -EINVAL;
	while (*end == ' ')
		end++;
	for (i = 0; i < n; i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			*out = v * units[i].factor;
			return 0;
		}
	}
	return -EINVAL;
}

int topo__parse_rate(const char *s, double *bytes_per_s)
{
	return parse_with(s, rate_units, sizeof(rate_units) / sizeof(rate_units[0]), bytes_per_s);
}

int topo__parse_time(const char *s, double *seconds)
{
	return parse_with(s, time_units, sizeof(time_units) / sizeof(time_units[0]), seconds);
}

void topo__fmt_rate(double bytes_per_s, char *buf, size_t len)
{
	static const struct unit steps[] = {
		{"Tbit/s", 1e12}, {"Gbit/s", 1e9}, {"Mbit/s", 1e6}, {"Kbit/s", 1e3}};
	double bits = bytes_per_s * 8;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (bits >= steps[i].factor) {
			snprintf(buf, len, "%g%s", bits / steps[i].factor, steps[i].suffix);
			return;
		}
	}
	snprintf(buf, len, "%gbit/s", bits);
}

int topo_parse_rate(const char *s, double *bytes_per_s)
{
	return topo__parse_rate(s, bytes_per_s);
}

int topo_parse_time(const char *s, double *seconds)
{
	return topo__parse_time(s, seconds);
}
