/*
 * check.c - correctness data for arbench's -c 1: deterministic per-rank inputs made of small
 * integers, so that every reduction order gives the same bits for every type, and the exact
 * expected result to compare against bit for bit.
 *
 * Rank r's element i is f((7r + i) mod M), M = 251 (prime, so no block size of an algorithm is
 * likely to line up with it).  The expected result of element i is the reduction over r of
 * those values, which depends only on i mod M: it is computed once per residue, in exact
 * integer arithmetic (prod: sign and power of two), then encoded in the element type.  Both
 * inputs and expected results are periodic, so filling and comparing work a period at a time.
 */
#include "bench/bench.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define M BENCH_CHECK_PERIOD

/* Per type: the largest integer every partial result must stay within to be exact (0 = no
 * limit: integers wrap, which is exact modular arithmetic), the largest power of two a
 * product may reach, signedness, and how to encode a value and an average. */
struct dtype_info {
	int64_t exact_limit;
	int max_exp2;
	bool is_signed;
	bool is_float;
	void (*from_double)(void *dst, double v); /* floating types */
	void (*from_int)(void *dst, int64_t v);	  /* integer types (wrapping) */
	void (*avg)(void *dst, int64_t sum, int nranks);
};

static void f32_from(void *dst, double v)
{
	float f = (float)v;

	memcpy(dst, &f, sizeof(f));
}

static void f64_from(void *dst, double v)
{
	memcpy(dst, &v, sizeof(v));
}

static void f16_from(void *dst, double v)
{
	uint16_t h = ar_float_to_half((float)v);

	memcpy(dst, &h, sizeof(h));
}

static void bf16_from(void *dst, double v)
{
	uint16_t b = ar_float_to_bf16((float)v);

	memcpy(dst, &b, sizeof(b));
}

static void i32_from(void *dst, int64_t v)
{
	int32_t x = (int32_t)(uint32_t)(uint64_t)v;

	memcpy(dst, &x, sizeof(x));
}

static void i64_from(void *dst, int64_t v)
{
	memcpy(dst, &v, sizeof(v));
}

static void u8_from(void *dst, int64_t v)
{
	uint8_t x = (uint8_t)(uint64_t)v;

	memcpy(dst, &x, sizeof(x));
}

/* Averages as the header specifies: the exact sum in the element type, divided once
 * (floating: correctly rounded in the type's arithmetic, half/bf16 via float; integers:
 * truncated toward zero). */
static void f32_avg(void *dst, int64_t s, int p)
{
	f32_from(dst, (float)s / (float)p);
}

static void f64_avg(void *dst, int64_t s, int p)
{
	f64_from(dst, (double)s / (double)p);
}

static void f16_avg(void *dst, int64_t s, int p)
{
	f16_from(dst, (float)s / (float)p);
}

static void bf16_avg(void *dst, int64_t s, int p)
{
	bf16_from(dst, (float)s / (float)p);
}

static void i32_avg(void *dst, int64_t s, int p)
{
	i32_from(dst, (int32_t)(uint32_t)(uint64_t)s / p);
}

static void i64_avg(void *dst, int64_t s, int p)
{
	i64_from(dst, s / p);
}

static void u8_avg(void *dst, int64_t s, int p)
{
	u8_from(dst, (uint8_t)(uint64_t)s / (unsigned)p);
}

static const struct dtype_info dtypes[AR_DTYPE_COUNT] = {
	[AR_FLOAT] = {1 << 24, 127, true, true, f32_from, NULL, f32_avg},
	[AR_DOUBLE] = {INT64_C(1) << 53, 1023, true, true, f64_from, NULL, f64_avg},
	[AR_HALF] = {2048, 15, true, true, f16_from, NULL, f16_avg},
	[AR_BF16] = {256, 127, true, true, bf16_from, NULL, bf16_avg},
	[AR_INT32] = {0, 0, true, false, NULL, i32_from, i32_avg},
	[AR_INT64] = {0, 0, true, false, NULL, i64_from, i64_avg},
	[AR_UINT8] = {0, 0, false, false, NULL, u8_from, u8_avg},
};

static void encode(enum ar_dtype d, void *dst, int64_t v)
{
	if (dtypes[d].is_float)
		dtypes[d].from_double(dst, (double)v);
	else
		dtypes[d].from_int(dst, v);
}

/* The input value of residue x (before encoding). */
static int64_t value_of(const struct bench_check *c, int x)
{
	bool sgn = dtypes[c->dtype].is_signed;
	int k;

	/* min/max: unsigned values on both sides of 128, so that a library comparing them as
	 * signed (MPICH 4.0.2's uint8 min/max, pmodels/mpich#6083) gets them wrong */
	if (c->op == AR_MIN || c->op == AR_MAX)
		return sgn ? x % 11 - 5 : x % 11 < 6 ? x % 11 : 250 - (x % 11 - 6);
	if (x % c->sparse)
		return c->op == AR_PROD ? 1 : 0;
	k = x / c->sparse;
	if (c->op == AR_PROD) {
		int64_t mag = k % 2 ? 1 : 2;

		if (!sgn)
			return k % 3 + 1; /* unsigned: 1, 2, 3 (wraps, exactly) */
		return x % 3 == 1 ? -mag : mag;
	}
	return sgn ? k % 5 - 2 : k % 5; /* sum, avg */
}

static int residue(int rank, size_t i)
{
	return (int)((7 * (uint64_t)(rank % M) + i) % M);
}

/* Does every partial result of every element stay exact with this sparsity? */
static bool exact_enough(const struct bench_check *c)
{
	const struct dtype_info *di = &dtypes[c->dtype];

	if (!di->is_float || c->op == AR_MIN || c->op == AR_MAX)
		return true;
	for (int i = 0; i < M; i++) {
		int64_t bound = 0;

		for (int r = 0; r < c->nranks; r++) {
			int64_t v = value_of(c, residue(r, (size_t)i));

			if (c->op == AR_PROD)
				bound += v == 2 || v == -2;
			else
				bound += v < 0 ? -v : v;
		}
		if (bound > (c->op == AR_PROD ? di->max_exp2 : di->exact_limit))
			return false;
	}
	return true;
}

/* Reduce residue i's values over all ranks into c->expect[i]. */
static void expect_one(struct bench_check *c, int i)
{
	const struct dtype_info *di = &dtypes[c->dtype];
	int64_t acc = c->op == AR_PROD ? 1 : 0;
	uint64_t prod = 1;
	bool neg = false;
	int exp2 = 0;

	for (int r = 0; r < c->nranks; r++) {
		int64_t v = value_of(c, residue(r, (size_t)i));

		if (r == 0 && (c->op == AR_MIN || c->op == AR_MAX))
			acc = v;
		else if (c->op == AR_MIN)
			acc = v < acc ? v : acc;
		else if (c->op == AR_MAX)
			acc = v > acc ? v : acc;
		else if (c->op == AR_SUM || c->op == AR_AVG)
			acc += v;
		if (c->op == AR_PROD) {
			prod *= (uint64_t)v;
			neg ^= v < 0;
			exp2 += v == 2 || v == -2;
		}
	}
	if (c->op == AR_AVG && c->nranks > 1)
		di->avg(c->expect[i], acc, c->nranks);
	else if (c->op == AR_PROD && di->is_float)
		di->from_double(c->expect[i], (neg ? -1.0 : 1.0) * ldexp(1.0, exp2));
	else if (c->op == AR_PROD)
		di->from_int(c->expect[i], (int64_t)prod);
	else
		encode(c->dtype, c->expect[i], acc);
}

int bench_check_init(struct bench_check *c, enum ar_dtype dtype, enum ar_op op, int nranks)
{
	if ((unsigned)dtype >= AR_DTYPE_COUNT || (unsigned)op >= AR_OP_COUNT || nranks < 1)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->dtype = dtype;
	c->op = op;
	c->nranks = nranks;
	c->esize = ar_dtype_size(dtype);
	/* Each try costs M x nranks; fewer than about nranks / (4 x limit) would need more
	 * exact range than the type has, so start there on very large runs. */
	c->sparse = 1;
	if (dtypes[dtype].exact_limit && nranks / (4 * dtypes[dtype].exact_limit) > 1)
		c->sparse = (int)(nranks / (4 * dtypes[dtype].exact_limit));
	for (; c->sparse <= M; c->sparse++)
		if (exact_enough(c))
			break;
	if (c->sparse > M)
		return -ERANGE;
	for (int i = 0; i < M; i++)
		expect_one(c, i);
	return 0;
}

/* One period (M elements) of rank's input, starting at element 0. */
static void input_period(const struct bench_check *c, int rank, unsigned char *out)
{
	for (int i = 0; i < M; i++)
		encode(c->dtype, out + (size_t)i * c->esize, value_of(c, residue(rank, (size_t)i)));
}

/* Fill count elements of buf by repeating a period of M elements. */
static void fill_periodic(void *buf, const unsigned char *period, size_t esize, size_t count)
{
	size_t total = count * esize, plen = (size_t)M * esize, done;
	unsigned char *b = buf;

	done = total < plen ? total : plen;
	memcpy(b, period, done);
	while (done < total) { /* double the filled prefix: it is whole periods */
		size_t n = total - done < done ? total - done : done;

		memcpy(b + done, b, n);
		done += n;
	}
}

/* Count elements differing from a periodic reference, a period at a time. */
static size_t count_diff(const void *buf, const unsigned char *period, size_t esize, size_t count)
{
	const unsigned char *b = buf;
	size_t wrong = 0;

	for (size_t start = 0; start < count; start += M) {
		size_t n = count - start < (size_t)M ? count - start : (size_t)M;
		const unsigned char *p = b + start * esize;

		if (!memcmp(p, period, n * esize))
			continue;
		for (size_t i = 0; i < n; i++)
			wrong += memcmp(p + i * esize, period + i * esize, esize) != 0;
	}
	return wrong;
}

void bench_check_fill(const struct bench_check *c, int rank, void *buf, size_t count)
{
	unsigned char period[M * 8];

	input_period(c, rank, period);
	fill_periodic(buf, period, c->esize, count);
}

size_t bench_check_wrong(const struct bench_check *c, const void *buf, size_t count)
{
	unsigned char period[M * 8];

	for (int i = 0; i < M; i++)
		memcpy(period + (size_t)i * c->esize, c->expect[i], c->esize);
	return count_diff(buf, period, c->esize, count);
}

size_t bench_check_input_wrong(const struct bench_check *c, int rank, const void *buf, size_t count)
{
	unsigned char period[M * 8];

	input_period(c, rank, period);
	return count_diff(buf, period, c->esize, count);
}

void bench_fill_timing(const struct bench_check *c, int rank, void *buf, size_t count)
{
	unsigned char period[M * 8];

	if (c->op == AR_MIN || c->op == AR_MAX) {
		bench_check_fill(c, rank, buf, count);
	} else if (c->op == AR_PROD) {
		for (int i = 0; i < M; i++)
			encode(c->dtype, period + (size_t)i * c->esize, 1);
		fill_periodic(buf, period, c->esize, count);
	} else {
		memset(buf, 0, count * c->esize);
	}
}
