/*
 * test_reduce.c - the reduction kernels and the half / bfloat16 conversions.
 *
 * Every kernel (7 types x 5 ops) through ar_reduce and every aliasing form of ar_reduce3,
 * and ar_scale_avg, against a scalar reference, on sizes 0, 1, 7, 64, 1000 at aligned and
 * misaligned (odd byte) addresses, with the bytes after the output checked untouched.
 * Conversions: all 65536 half and bfloat16 patterns decoded against an independent decoder
 * and round-tripped through float; float -> half / bfloat16 against an independent
 * round-to-nearest-even reference (ties to even, max finite, overflow to infinity,
 * subnormals, NaN) on named cases and a sweep of float bit patterns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "allreduce/allreduce.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t fbits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static float bitsf(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/* ---- scalar reference for one element ------------------------------------------------------ */

/* Combine x and y as the library defines it: min keeps x unless y < x, max unless y > x. */
#define COMBINE(op, x, y)                                                                          \
	((op) == AR_SUM || (op) == AR_AVG ? (x) + (y)                                              \
	 : (op) == AR_PROD		  ? (x) * (y)                                              \
	 : (op) == AR_MIN		  ? ((y) < (x) ? (y) : (x))                                \
					  : ((y) > (x) ? (y) : (x)))

#define REF_PLAIN(name, T, W)                                                                      \
	static void ref_##name(enum ar_op op, const void *pa, const void *pb, void *po)            \
	{                                                                                          \
		T a, b, o;                                                                         \
		memcpy(&a, pa, sizeof(T));                                                         \
		memcpy(&b, pb, sizeof(T));                                                         \
		if (op == AR_MIN || op == AR_MAX)                                                  \
			o = COMBINE(op, a, b);                                                     \
		else                                                                               \
			o = (T)COMBINE(op, (W)a, (W)b); /* W: wrap in unsigned for ints */         \
		memcpy(po, &o, sizeof(T));                                                         \
	}
REF_PLAIN(f32, float, float)
REF_PLAIN(f64, double, double)
REF_PLAIN(i32, int32_t, uint32_t)
REF_PLAIN(i64, int64_t, uint64_t)
REF_PLAIN(u8, uint8_t, unsigned)

#define REF_16(name, TOF, FROMF)                                                                   \
	static void ref_##name(enum ar_op op, const void *pa, const void *pb, void *po)            \
	{                                                                                          \
		uint16_t a, b, o;                                                                  \
		memcpy(&a, pa, 2);                                                                 \
		memcpy(&b, pb, 2);                                                                 \
		float x = TOF(a), y = TOF(b);                                                      \
		o = FROMF(COMBINE(op, x, y));                                                      \
		memcpy(po, &o, 2);                                                                 \
	}
REF_16(f16, ar_half_to_float, ar_float_to_half)
REF_16(bf16, ar_bf16_to_float, ar_float_to_bf16)

static void (*const ref_fn[AR_DTYPE_COUNT])(enum ar_op, const void *, const void *, void *) = {
	[AR_FLOAT] = ref_f32, [AR_DOUBLE] = ref_f64, [AR_HALF] = ref_f16, [AR_BF16] = ref_bf16,
	[AR_INT32] = ref_i32, [AR_INT64] = ref_i64,  [AR_UINT8] = ref_u8,
};

/* Random element: floats finite with fractions, 16-bit floats any finite pattern, integers
 * any pattern (so sums and products wrap). */
static void fill(enum ar_dtype t, unsigned char *buf, size_t n)
{
	size_t esz = ar_dtype_size(t);

	for (size_t i = 0; i < n; i++) {
		uint64_t r = next();
		float f = (float)((int64_t)(r % 200001) - 100000) / 64.0f;
		double d = (double)((int64_t)(r % 2000001) - 1000000) / 1024.0;
		uint16_t h = (uint16_t)r;

		if (t == AR_HALF && (h & 0x7c00) == 0x7c00)
			h &= 0xbfff;
		if (t == AR_BF16 && (h & 0x7f80) == 0x7f80)
			h &= 0xbfff;
		if (t == AR_FLOAT)
			memcpy(buf + i * esz, &f, esz);
		else if (t == AR_DOUBLE)
			memcpy(buf + i * esz, &d, esz);
		else if (t == AR_HALF || t == AR_BF16)
			memcpy(buf + i * esz, &h, esz);
		else
			memcpy(buf + i * esz, &r, esz);
	}
}

/* ---- kernels ------------------------------------------------------------------------------- */

static const size_t sizes[] = {0, 1, 7, 64, 1000};
static const size_t offsets[][3] = {{0, 0, 0}, {1, 3, 5}, {2, 0, 7}, {8, 8, 8}};

#define MAXN  1000
#define SLACK 64

static void check_bytes(const unsigned char *got, const unsigned char *want, size_t n,
			const char *what, enum ar_dtype t, enum ar_op op, size_t count)
{
	if (memcmp(got, want, n)) {
		size_t esz = ar_dtype_size(t), i = 0;

		while (!memcmp(got + i * esz, want + i * esz, esz))
			i++;
		fail_msg("%s %s/%s n=%zu: element %zu differs", what, ar_dtype_name(t),
			 ar_op_name(op), count, i);
	}
}

static void test_kernels(void **state)
{
	static unsigned char a[MAXN * 8 + SLACK], b[MAXN * 8 + SLACK], o[MAXN * 8 + SLACK];
	static unsigned char a0[MAXN * 8], b0[MAXN * 8], want[MAXN * 8 + SLACK], self[MAXN * 8];

	for (int t = 0; t < AR_DTYPE_COUNT; t++) {
		size_t esz = ar_dtype_size(t);

		for (int op = 0; op < AR_OP_COUNT; op++) {
			for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
				size_t n = sizes[si], bytes = n * esz;

				fill(t, a0, n);
				fill(t, b0, n);
				for (size_t i = 0; i < n; i++) {
					ref_fn[t](op, a0 + i * esz, b0 + i * esz, want + i * esz);
					ref_fn[t](op, a0 + i * esz, a0 + i * esz, self + i * esz);
				}
				for (size_t k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
					unsigned char *pa = a + offsets[k][0],
						      *pb = b + offsets[k][1];
					unsigned char *po = o + offsets[k][2];

					/* ar_reduce: inout OP= in; the byte after stays */
					memcpy(pa, a0, bytes);
					memcpy(pb, b0, bytes);
					pa[bytes] = 0x77;
					ar_reduce(pa, pb, n, t, op);
					check_bytes(pa, want, bytes, "ar_reduce", t, op, n);
					assert_int_equal(pa[bytes], 0x77);
					check_bytes(pb, b0, bytes, "ar_reduce input", t, op, n);

					/* ar_reduce3 into a third buffer */
					memcpy(pa, a0, bytes);
					po[bytes] = 0x77;
					ar_reduce3(po, pa, pb, n, t, op);
					check_bytes(po, want, bytes, "ar_reduce3", t, op, n);
					assert_int_equal(po[bytes], 0x77);
					check_bytes(pa, a0, bytes, "ar_reduce3 a", t, op, n);

					/* out == a, out == b */
					ar_reduce3(pa, pa, pb, n, t, op);
					check_bytes(pa, want, bytes, "ar_reduce3 out=a", t, op, n);
					memcpy(pa, a0, bytes);
					ar_reduce3(pb, pa, pb, n, t, op);
					check_bytes(pb, want, bytes, "ar_reduce3 out=b", t, op, n);

					/* one buffer for everything */
					memcpy(pa, a0, bytes);
					ar_reduce(pa, pa, n, t, op);
					check_bytes(pa, self, bytes, "ar_reduce self", t, op, n);
					memcpy(pa, a0, bytes);
					ar_reduce3(pa, pa, pa, n, t, op);
					check_bytes(pa, self, bytes, "ar_reduce3 self", t, op, n);
				}
			}
		}
	}
}

/* ar_reduce wraps integer sums and products instead of saturating (no UB under -fsanitize). */
static void test_integer_wrap(void **state)
{
	int32_t a32[3] = {INT32_MAX, INT32_MIN, 65536}, b32[3] = {1, -1, 65536};
	int64_t a64[2] = {INT64_MAX, INT64_MIN}, b64[2] = {1, -1};
	uint8_t a8[2] = {250, 16}, b8[2] = {10, 16};

	ar_reduce(a32, b32, 2, AR_INT32, AR_SUM);
	assert_int_equal(a32[0], INT32_MIN);
	assert_int_equal(a32[1], INT32_MAX);
	ar_reduce(a32 + 2, b32 + 2, 1, AR_INT32, AR_PROD);
	assert_int_equal(a32[2], 0);
	ar_reduce(a64, b64, 2, AR_INT64, AR_SUM);
	assert_true(a64[0] == INT64_MIN && a64[1] == INT64_MAX);
	ar_reduce(a8, b8, 1, AR_UINT8, AR_SUM);
	ar_reduce(a8 + 1, b8 + 1, 1, AR_UINT8, AR_PROD);
	assert_int_equal(a8[0], 4);
	assert_int_equal(a8[1], 0);
}

#define SCALE_REF(name, T, EXPR)                                                                   \
	static void sref_##name(void *p, int nr)                                                   \
	{                                                                                          \
		T x;                                                                               \
		memcpy(&x, p, sizeof(T));                                                          \
		x = EXPR;                                                                          \
		memcpy(p, &x, sizeof(T));                                                          \
	}
SCALE_REF(f32, float, x / (float)nr)
SCALE_REF(f64, double, x / (double)nr)
SCALE_REF(f16, uint16_t, ar_float_to_half(ar_half_to_float(x) / (float)nr))
SCALE_REF(bf16, uint16_t, ar_float_to_bf16(ar_bf16_to_float(x) / (float)nr))
SCALE_REF(i32, int32_t, x / nr)
SCALE_REF(i64, int64_t, x / nr)
SCALE_REF(u8, uint8_t, (uint8_t)(x / nr))

static void (*const scale_ref[AR_DTYPE_COUNT])(void *, int) = {
	sref_f32, sref_f64, sref_f16, sref_bf16, sref_i32, sref_i64, sref_u8,
};

static void test_scale_avg(void **state)
{
	static unsigned char buf[MAXN * 8 + SLACK], want[MAXN * 8];
	static const int ranks[] = {1, 2, 3, 7, 8};

	for (int t = 0; t < AR_DTYPE_COUNT; t++) {
		size_t esz = ar_dtype_size(t);

		for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			for (size_t ri = 0; ri < sizeof(ranks) / sizeof(ranks[0]); ri++) {
				size_t n = sizes[si], bytes = n * esz;
				unsigned char *p = buf + (ri & 1 ? 3 : 0);

				fill(t, want, n);
				memcpy(p, want, bytes);
				p[bytes] = 0x77;
				for (size_t i = 0; i < n; i++)
					scale_ref[t](want + i * esz, ranks[ri]);
				ar_scale_avg(p, n, t, ranks[ri]);
				check_bytes(p, want, bytes, "ar_scale_avg", t, AR_AVG, n);
				assert_int_equal(p[bytes], 0x77);
			}
		}
	}
	/* integers truncate toward zero, as ncclAvg */
	int32_t v[2] = {-7, 7};
	ar_scale_avg(v, 2, AR_INT32, 2);
	assert_int_equal(v[0], -3);
	assert_int_equal(v[1], 3);
}

/* ---- conversions --------------------------------------------------------------------------- */

/* Independent decoders. */
static float ref_h2f(uint16_t h)
{
	int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
	float v = e == 0    ? ldexpf((float)m, -24)
		  : e == 31 ? (m ? NAN : INFINITY)
			    : ldexpf((float)(1024 + m), e - 25);

	return s ? -v : v;
}

static bool is_nan16(uint16_t h, uint16_t exp_mask)
{
	return (h & exp_mask) == exp_mask && (h & (uint16_t)~exp_mask & 0x7fff);
}

static void test_decode_all(void **state)
{
	for (uint32_t h = 0; h < 65536; h++) {
		float f = ar_half_to_float((uint16_t)h), r = ref_h2f((uint16_t)h);
		float g = ar_bf16_to_float((uint16_t)h);

		if (is_nan16((uint16_t)h, 0x7c00)) {
			assert_true(isnan(f));
			assert_int_equal(fbits(f) >> 31, h >> 15);
		} else {
			assert_int_equal(fbits(f), fbits(r));
		}
		assert_int_equal(fbits(g), h << 16); /* bfloat16 is the top half of a float */
	}
}

/* Every pattern survives half -> float -> half and bf16 -> float -> bf16; a quiet NaN keeps
 * its payload, a signalling NaN comes back quiet (still a NaN, same sign). */
static void test_roundtrip_all(void **state)
{
	for (uint32_t x = 0; x < 65536; x++) {
		uint16_t h = (uint16_t)x;
		uint16_t hh = ar_float_to_half(ar_half_to_float(h));
		uint16_t bb = ar_float_to_bf16(ar_bf16_to_float(h));

		if (is_nan16(h, 0x7c00)) {
			assert_true(is_nan16(hh, 0x7c00));
			assert_int_equal(hh, h | 0x0200);
		} else {
			assert_int_equal(hh, h);
		}
		if (is_nan16(h, 0x7f80)) {
			assert_true(is_nan16(bb, 0x7f80));
			assert_int_equal(bb, h | 0x0040);
		} else {
			assert_int_equal(bb, h);
		}
	}
}

/* Nearest value of a format with mbits stored mantissa bits, minimum normal exponent emin and
 * overflow threshold ovf (values >= it round to infinity), ties to even, computed in double. */
static float ref_round(float f, int mbits, int emin, double ovf)
{
	double a = fabs((double)f), ulp, q;
	int e;

	if (a >= ovf)
		return copysignf(INFINITY, f);
	e = a == 0 ? emin : ilogb(a);
	if (e < emin)
		e = emin;
	ulp = ldexp(1.0, e - mbits);
	q = nearbyint(a / ulp); /* exact division by a power of two; rint ties to even */
	return copysignf((float)(q * ulp), f);
}

static float round_half(float f)
{
	return ref_round(f, 10, -14, 65520.0);
}

static float round_bf16(float f)
{
	return ref_round(f, 7, -126, ldexp(2.0 - ldexp(1.0, -8), 127));
}

static void test_rounding_cases(void **state)
{
	static const struct {
		float f;
		uint16_t half, bf16;
	} cases[] = {
		{1.0f, 0x3c00, 0x3f80},
		{1.0f + 0x1p-11f, 0x3c00, 0x3f80}, /* half tie -> even (down) */
		{1.0f + 0x3p-11f, 0x3c02, 0x3f80}, /* half tie -> even (up) */
		{1.0f + 0x1p-8f, 0x3c04, 0x3f80},  /* bf16 tie -> even (down) */
		{1.0f + 0x3p-8f, 0x3c0c, 0x3f82},  /* bf16 tie -> even (up) */
		{65504.0f, 0x7bff, 0x4780},	   /* half max finite */
		{65519.0f, 0x7bff, 0x4780},	   /* just below the tie */
		{65520.0f, 0x7c00, 0x4780},	   /* tie with 65536: inf */
		{1e5f, 0x7c00, 0x47c3},		   /* half overflow */
		{-1e5f, 0xfc00, 0xc7c3},
		{0x1p-24f, 0x0001, 0x3380},   /* smallest half subnormal */
		{0x1p-25f, 0x0000, 0x3300},   /* tie with 0: even */
		{0x3p-25f, 0x0002, 0x33c0},   /* tie 1|2 -> 2 */
		{0x7ffp-25f, 0x0400, 0x3880}, /* tie 1023|1024 -> smallest normal */
		{-0.0f, 0x8000, 0x8000},
		{INFINITY, 0x7c00, 0x7f80},
		{-INFINITY, 0xfc00, 0xff80},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ar_float_to_half(cases[i].f), cases[i].half);
		assert_int_equal(ar_float_to_bf16(cases[i].f), cases[i].bf16);
	}
	/* bfloat16: max finite, the tie above it goes to infinity, FLT_MAX overflows */
	assert_int_equal(ar_float_to_bf16(bitsf(0x7f7f0000)), 0x7f7f);
	assert_int_equal(ar_float_to_bf16(bitsf(0x7f7f7fff)), 0x7f7f);
	assert_int_equal(ar_float_to_bf16(bitsf(0x7f7f8000)), 0x7f80);
	assert_int_equal(ar_float_to_bf16(bitsf(0x7f7fffff)), 0x7f80);
	/* float subnormals are bfloat16 subnormals */
	assert_int_equal(ar_float_to_bf16(bitsf(0x00010000)), 0x0001);
	assert_int_equal(ar_float_to_bf16(bitsf(0x00008000)), 0x0000); /* tie to even */
	assert_int_equal(ar_float_to_bf16(bitsf(0x00018000)), 0x0002);
	/* NaN stays NaN, signalling ones come back quiet, sign kept */
	assert_true(is_nan16(ar_float_to_half(bitsf(0x7f800001)), 0x7c00));
	assert_true(is_nan16(ar_float_to_half(bitsf(0xffc00000)), 0x7c00));
	assert_int_equal(ar_float_to_half(bitsf(0xffc00000)) >> 15, 1);
	assert_int_equal(ar_float_to_bf16(bitsf(0x7f800001)), 0x7fc0);
	assert_int_equal(ar_float_to_bf16(bitsf(0xff810000)), 0xffc1);
}

/* float -> half / bfloat16 against the independent reference over a sweep of patterns. */
static void test_rounding_sweep(void **state)
{
	for (uint64_t x = 0; x < (1ull << 32); x += 997) {
		float f = bitsf((uint32_t)x);
		uint16_t h, b;

		if (isnan(f))
			continue;
		h = ar_float_to_half(f);
		b = ar_float_to_bf16(f);
		if (fbits(ar_half_to_float(h)) != fbits(round_half(f)))
			fail_msg("half(%a = 0x%08x) = 0x%04x, expected %a", (double)f, (uint32_t)x,
				 h, (double)round_half(f));
		if (fbits(ar_bf16_to_float(b)) != fbits(round_bf16(f)))
			fail_msg("bf16(%a = 0x%08x) = 0x%04x, expected %a", (double)f, (uint32_t)x,
				 b, (double)round_bf16(f));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels),	       cmocka_unit_test(test_integer_wrap),
		cmocka_unit_test(test_scale_avg),      cmocka_unit_test(test_decode_all),
		cmocka_unit_test(test_roundtrip_all),  cmocka_unit_test(test_rounding_cases),
		cmocka_unit_test(test_rounding_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
