/*
 * dtype_conv.h - inline, branch-free half / bfloat16 <-> float conversions shared by dtype.c
 * (the public wrappers) and reduce.c (the kernels, where they must inline and vectorize).
 *
 * All rounding is to nearest, ties to even; overflow gives infinity; subnormals are exact in
 * both directions; a NaN stays a NaN (quiet bit set, the high payload bits kept).  Every case
 * is computed and the right one selected, so loops over these functions vectorize.
 */
#ifndef ARBENCH_ALLREDUCE_DTYPE_CONV_H
#define ARBENCH_ALLREDUCE_DTYPE_CONV_H

#include <stdint.h>
#include <string.h>

static inline uint32_t ar__fbits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float ar__bitsf(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

/* binary16 -> float: exact. */
static inline float ar__h2f(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
	uint32_t em = h & 0x7fffu;
	uint32_t norm = (em << 13) + 0x38000000u;   /* rebias exponent by 127 - 15 */
	uint32_t infnan = (em << 13) + 0x70000000u; /* exponent 31 -> 255, payload kept */
	/* subnormal: 2^-14 * (1 + m/1024) - 2^-14 = m * 2^-24, exact in float */
	float sub = ar__bitsf((em << 13) + 0x38800000u) - ar__bitsf(0x38800000u);
	uint32_t o = em >= 0x7c00u ? infnan : norm;
	o = em < 0x0400u ? ar__fbits(sub) : o;
	return ar__bitsf(o | sign);
}

/* float -> binary16, round to nearest even. */
static inline uint16_t ar__f2h(float f)
{
	uint32_t x = ar__fbits(f);
	uint32_t sign = (x >> 16) & 0x8000u;
	uint32_t a = x & 0x7fffffffu;
	/* normal range: rebias (add (15 - 127) << 23) and round at bit 13, ties to even */
	uint32_t norm = (a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13;
	/* below 2^-14: adding 0.5 puts the half subnormal ulp (2^-24) at float's ulp, so the
	 * FPU's own round-to-nearest-even does the rounding */
	uint32_t sub = ar__fbits(ar__bitsf(a) + 0.5f) - 0x3f000000u;
	uint32_t nan = 0x7e00u | ((a >> 13) & 0x3ffu);
	uint32_t o = a < 0x38800000u ? sub : norm;
	o = a >= 0x47800000u ? 0x7c00u : o; /* >= 65536 (before rounding): infinity */
	o = a > 0x7f800000u ? nan : o;
	return (uint16_t)(o | sign);
}

/* bfloat16 -> float: exact. */
static inline float ar__b2f(uint16_t b)
{
	return ar__bitsf((uint32_t)b << 16);
}

/* float -> bfloat16, round to nearest even. */
static inline uint16_t ar__f2b(float f)
{
	uint32_t x = ar__fbits(f);
	uint32_t r = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
	uint32_t nan = (x >> 16) | 0x40u;
	return (uint16_t)((x & 0x7fffffffu) > 0x7f800000u ? nan : r);
}

#endif /* ARBENCH_ALLREDUCE_DTYPE_CONV_H */
