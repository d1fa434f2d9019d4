/*
 * units.c - rates and times as written in topology YAML files.
 *
 * A rate always carries a unit, so that "100" is never silently bits or bytes:
 *   bits:  an optional k, M, G or T (either case: tc writes kbit, mbit, gbit) and then bit,
 *          bits, bit/s, bits/s, bps (any case), or b/s with a lowercase b as datasheets write
 *          it ("100Gb/s"; a capital B is a byte)
 *   bytes: an optional k, M, G or T and then B/s or Bps with a capital B ("B" alone is a size)
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

static const struct unit time_units[] = {
	{"ns", 1e-9},
	{"us", 1e-6},
	{"ms", 1e-3},
	{"s", 1.0},
};

/* The finite number s starts with, *end just after it.  0 or -EINVAL. */
static int leading_number(const char *s, double *v, char **end)
{
	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*v = strtod(s, end);
	return *end == s || errno || !isfinite(*v) ? -EINVAL : 0;
}

static int parse_with(const char *s, const struct unit *units, size_t n, double *out)
{
	char *end;
	double v;
	size_t i;

	if (leading_number(s, &v, &end))
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
	static const char *const bit_words[] = {"bit", "bits", "bit/s", "bits/s", "bps"};
	const char *u;
	double v, prefix = 1;
	char *end;
	size_t i;

	if (leading_number(s, &v, &end))
		return -EINVAL;
	u = end;
	while (*u == ' ')
		u++;
	switch (*u) {
	case 'k':
	case 'K':
		prefix = 1e3;
		break;
	case 'm':
	case 'M':
		prefix = 1e6;
		break;
	case 'g':
	case 'G':
		prefix = 1e9;
		break;
	case 't':
	case 'T':
		prefix = 1e12;
		break;
	default:
		break;
	}
	if (prefix != 1)
		u++;
	if (strcmp(u, "B/s") == 0 || strcmp(u, "Bps") == 0) {
		*bytes_per_s = v * prefix;
		return 0;
	}
	for (i = 0; i < sizeof(bit_words) / sizeof(bit_words[0]); i++)
		if (strcasecmp(u, bit_words[i]) == 0 && strcmp(u, "BPS") && strcmp(u, "Bps"))
			break;
	if (i < sizeof(bit_words) / sizeof(bit_words[0]) || strcmp(u, "b/s") == 0) {
		*bytes_per_s = v * prefix / 8;
		return 0;
	}
	return -EINVAL;
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
