/*
 * stats.c - timing statistics (min, p50, avg, p99, max over iterations) and the bandwidth
 * figures nccl-tests defines: algbw = S / t, busbw = algbw * 2(p-1)/p for all-reduce, both in
 * GB/s (1e9 bytes/s).
 */
#include "bench/bench.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_percentile(const double *sorted, size_t n, double q)
{
	double pos, frac;
	size_t lo;

	if (!n)
		return 0;
	if (q <= 0)
		return sorted[0];
	if (q >= 100)
		return sorted[n - 1];
	pos = q / 100 * (double)(n - 1);
	lo = (size_t)floor(pos);
	frac = pos - (double)lo;
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

void bench_stats_compute(double *samples, size_t n, struct bench_stats *out)
{
	double sum = 0;

	*out = (struct bench_stats){0};
	if (!n)
		return;
	qsort(samples, n, sizeof(*samples), cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += samples[i];
	out->min = samples[0];
	out->max = samples[n - 1];
	out->avg = sum / (double)n;
	out->p50 = bench_percentile(samples, n, 50);
	out->p99 = bench_percentile(samples, n, 99);
}

double bench_algbw(uint64_t bytes, double seconds)
{
	return seconds > 0 ? (double)bytes / seconds / 1e9 : 0;
}

double bench_busbw(double algbw, int nranks)
{
	return nranks > 0 ? algbw * 2.0 * (nranks - 1) / nranks : 0;
}
