/*
 * reduce.c - the typed reduction kernels: ar_reduce (inout OP= in), ar_reduce3 (out = a OP b)
 * and ar_scale_avg (buf /= nranks).
 *
 * One macro generates every (type, op) kernel as a simple loop over restrict pointers so that
 * the compiler vectorizes it; the kernels are cloned for AVX2 and the baseline ISA
 * (target_clones) and picked through a [dtype][op] table.  Loads and stores go through
 * alignment-1 types: any byte address works, and the vector code uses unaligned moves.
 * Integer sum and prod are computed in the unsigned type of the same width (wrap, no UB).
 * half and bfloat16 are widened to float, combined and rounded back once per element.
 */
#include "allreduce/internal.h"

/*
 * FP operations here never trap (exceptions stay masked): telling GCC so lets it if-convert
 * the branch-free half <-> float selects and vectorize the half kernels.  Results are
 * unchanged: no reassociation, default rounding.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "allreduce/dtype_conv.h"

/* GCC on x86-64: clone the hot kernels for AVX2 and add the F16C half path (clang 14 lacks
 * __builtin_cpu_supports("f16c"); it gets the portable kernels). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(AR_NO_CLONES)
#define AR_X86_GCC 1
#else
#define AR_X86_GCC 0
#endif

#if AR_X86_GCC
#define AR_HOT __attribute__((target_clones("avx2", "default")))
#else
#define AR_HOT
#endif

/* Element storage types that may sit at any byte address. */
typedef float f32_u __attribute__((aligned(1)));
typedef double f64_u __attribute__((aligned(1)));
typedef uint16_t u16_u __attribute__((aligned(1)));
typedef int32_t i32_u __attribute__((aligned(1)));
typedef int64_t i64_u __attribute__((aligned(1)));
typedef uint8_t u8_u __attribute__((aligned(1)));

/* The element operations, one per (type, op); a and b are values of the storage type. */
#define FP_SUM(a, b)  ((a) + (b))
#define FP_PROD(a, b) ((a) * (b))
#define FP_MIN(a, b)  ((b) < (a) ? (b) : (a))
#define FP_MAX(a, b)  ((b) > (a) ? (b) : (a))

#define I32_SUM(a, b)  ((int32_t)((uint32_t)(a) + (uint32_t)(b)))
#define I32_PROD(a, b) ((int32_t)((uint32_t)(a) * (uint32_t)(b)))
#define I64_SUM(a, b)  ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define I64_PROD(a, b) ((int64_t)((uint64_t)(a) * (uint64_t)(b)))
#define U8_SUM(a, b)   ((uint8_t)((a) + (b)))
#define U8_PROD(a, b)  ((uint8_t)((unsigned)(a) * (unsigned)(b)))

#define H_SUM(a, b)  ar__f2h(ar__h2f(a) + ar__h2f(b))
#define H_PROD(a, b) ar__f2h(ar__h2f(a) * ar__h2f(b))
#define H_MIN(a, b)  ar__f2h(FP_MIN(ar__h2f(a), ar__h2f(b)))
#define H_MAX(a, b)  ar__f2h(FP_MAX(ar__h2f(a), ar__h2f(b)))
#define B_SUM(a, b)  ar__f2b(ar__b2f(a) + ar__b2f(b))
#define B_PROD(a, b) ar__f2b(ar__b2f(a) * ar__b2f(b))
#define B_MIN(a, b)  ar__f2b(FP_MIN(ar__b2f(a), ar__b2f(b)))
#define B_MAX(a, b)  ar__f2b(FP_MAX(ar__b2f(a), ar__b2f(b)))

/* The (name, storage type, operation) table every kernel is generated from. */
#define AR_KERNEL_TABLE(X)                                                                         \
	X(f32_sum, f32_u, FP_SUM)                                                                  \
	X(f32_prod, f32_u, FP_PROD)                                                                \
	X(f32_min, f32_u, FP_MIN)                                                                  \
	X(f32_max, f32_u, FP_MAX)                                                                  \
	X(f64_sum, f64_u, FP_SUM)                                                                  \
	X(f64_prod, f64_u, FP_PROD)                                                                \
	X(f64_min, f64_u, FP_MIN)                                                                  \
	X(f64_max, f64_u, FP_MAX)                                                                  \
	X(f16_sum, u16_u, H_SUM)                                                                   \
	X(f16_prod, u16_u, H_PROD)                                                                 \
	X(f16_min, u16_u, H_MIN)                                                                   \
	X(f16_max, u16_u, H_MAX)                                                                   \
	X(bf16_sum, u16_u, B_SUM)                                                                  \
	X(bf16_prod, u16_u, B_PROD)                                                                \
	X(bf16_min, u16_u, B_MIN)                                                                  \
	X(bf16_max, u16_u, B_MAX)                                                                  \
	X(i32_sum, i32_u, I32_SUM)                                                                 \
	X(i32_prod, i32_u, I32_PROD)                                                               \
	X(i32_min, i32_u, FP_MIN)                                                                  \
	X(i32_max, i32_u, FP_MAX)                                                                  \
	X(i64_sum, i64_u, I64_SUM)                                                                 \
	X(i64_prod, i64_u, I64_PROD)                                                               \
	X(i64_min, i64_u, FP_MIN)                                                                  \
	X(i64_max, i64_u, FP_MAX)                                                                  \
	X(u8_sum, u8_u, U8_SUM)                                                                    \
	X(u8_prod, u8_u, U8_PROD)                                                                  \
	X(u8_min, u8_u, FP_MIN)                                                                    \
	X(u8_max, u8_u, FP_MAX)

/*
 * Four loops per kernel: io = io OP io (all operands the same buffer); io = io OP in;
 * io = in OP io (for ar_reduce3 with out == b); and out = a OP b with no aliasing.
 */
#define AR_GEN_KERNEL(name, T, OP)                                                                 \
	AR_HOT static void k1_##name(void *restrict io_, size_t n)                                 \
	{                                                                                          \
		T *restrict io = io_;                                                              \
		for (size_t i = 0; i < n; i++)                                                     \
			io[i] = OP(io[i], io[i]);                                                  \
	}                                                                                          \
	AR_HOT static void k2_##name(void *restrict io_, const void *restrict in_, size_t n)       \
	{                                                                                          \
		T *restrict io = io_;                                                              \
		const T *restrict in = in_;                                                        \
		for (size_t i = 0; i < n; i++)                                                     \
			io[i] = OP(io[i], in[i]);                                                  \
	}                                                                                          \
	AR_HOT static void k2r_##name(void *restrict io_, const void *restrict in_, size_t n)      \
	{                                                                                          \
		T *restrict io = io_;                                                              \
		const T *restrict in = in_;                                                        \
		for (size_t i = 0; i < n; i++)                                                     \
			io[i] = OP(in[i], io[i]);                                                  \
	}                                                                                          \
	AR_HOT static void k3_##name(void *restrict o_, const void *restrict a_,                   \
				     const void *restrict b_, size_t n)                            \
	{                                                                                          \
		T *restrict o = o_;                                                                \
		const T *restrict a = a_;                                                          \
		const T *restrict b = b_;                                                          \
		for (size_t i = 0; i < n; i++)                                                     \
			o[i] = OP(a[i], b[i]);                                                     \
	}

AR_KERNEL_TABLE(AR_GEN_KERNEL)

typedef void (*k1_fn)(void *restrict, size_t);
typedef void (*k2_fn)(void *restrict, const void *restrict, size_t);
typedef void (*k3_fn)(void *restrict, const void *restrict, const void *restrict, size_t);

struct kernel {
	k1_fn k1;
	k2_fn k2, k2r;
	k3_fn k3;
};

#define K(name)                                                                                    \
	{                                                                                          \
		k1_##name, k2_##name, k2r_##name, k3_##name                                        \
	}
/* [dtype][op]; AR_AVG reduces as AR_SUM. */
#define K_ROW(pre)                                                                                 \
	{                                                                                          \
		K(pre##_sum), K(pre##_prod), K(pre##_min), K(pre##_max), K(pre##_sum)              \
	}

static const struct kernel kernels[AR_DTYPE_COUNT][AR_OP_COUNT] = {
	[AR_FLOAT] = K_ROW(f32), [AR_DOUBLE] = K_ROW(f64), [AR_HALF] = K_ROW(f16),
	[AR_BF16] = K_ROW(bf16), [AR_INT32] = K_ROW(i32),  [AR_INT64] = K_ROW(i64),
	[AR_UINT8] = K_ROW(u8),
};

/* ---- avg: divide by the rank count once at the end ---------------------------------------- */

#define AR_SCALE_TABLE(X)                                                                          \
	X(f32, f32_u, float, (x / d))                                                              \
	X(f64, f64_u, double, (x / d))                                                             \
	X(f16, u16_u, float, ar__f2h(ar__h2f(x) / d))                                              \
	X(bf16, u16_u, float, ar__f2b(ar__b2f(x) / d))                                             \
	X(i32, i32_u, int32_t, (x / d))                                                            \
	X(i64, i64_u, int64_t, (x / d))                                                            \
	X(u8, u8_u, unsigned, (uint8_t)(x / d))

#define AR_GEN_SCALE(name, T, D, EXPR)                                                             \
	AR_HOT static void scale_##name(void *restrict buf_, size_t n, int nranks)                 \
	{                                                                                          \
		T *restrict buf = buf_;                                                            \
		const D d = (D)nranks;                                                             \
		for (size_t i = 0; i < n; i++) {                                                   \
			T x = buf[i];                                                              \
			buf[i] = EXPR;                                                             \
		}                                                                                  \
	}

AR_SCALE_TABLE(AR_GEN_SCALE)

/*
 * half on x86 with F16C: the hardware converts 8 elements per instruction (vcvtph2ps /
 * vcvtps2ph, round to nearest even, NaN quieted with its payload kept: the same results as
 * ar__h2f/ar__f2h, bit for bit), about 5x the generic vectorized kernels.  One body serves
 * every aliasing form (o, a, b may be the same buffer: each chunk is loaded before it is
 * stored); the tail of fewer than 8 elements uses the generic element operation.
 */
#if AR_X86_GCC
#include <immintrin.h>

#define F16C_FN __attribute__((target("avx2,f16c")))

/* The same selects as FP_MIN/FP_MAX: min keeps a unless b < a. */
#define V_SUM(a, b)  _mm256_add_ps(a, b)
#define V_PROD(a, b) _mm256_mul_ps(a, b)
#define V_MIN(a, b)  _mm256_min_ps(b, a)
#define V_MAX(a, b)  _mm256_max_ps(b, a)

#define F16C_KERNEL(name, VOP, SOP)                                                                \
	F16C_FN static void f16c_##name(void *o_, const void *a_, const void *b_, size_t n)        \
	{                                                                                          \
		uint16_t *o = o_;                                                                  \
		const uint16_t *a = a_, *b = b_;                                                   \
		size_t i = 0;                                                                      \
		for (; i + 8 <= n; i += 8) {                                                       \
			__m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));     \
			__m256 y = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i)));     \
			_mm_storeu_si128((__m128i *)(o + i),                                       \
					 _mm256_cvtps_ph(VOP(x, y), _MM_FROUND_TO_NEAREST_INT));   \
		}                                                                                  \
		for (; i < n; i++) {                                                               \
			uint16_t x, y;                                                             \
			memcpy(&x, a + i, 2);                                                      \
			memcpy(&y, b + i, 2);                                                      \
			x = SOP(x, y);                                                             \
			memcpy(o + i, &x, 2);                                                      \
		}                                                                                  \
	}                                                                                          \
	static void f16c_k1_##name(void *restrict io, size_t n)                                    \
	{                                                                                          \
		f16c_##name(io, io, io, n);                                                        \
	}                                                                                          \
	static void f16c_k2_##name(void *restrict io, const void *restrict in, size_t n)           \
	{                                                                                          \
		f16c_##name(io, io, in, n);                                                        \
	}                                                                                          \
	static void f16c_k2r_##name(void *restrict io, const void *restrict in, size_t n)          \
	{                                                                                          \
		f16c_##name(io, in, io, n);                                                        \
	}                                                                                          \
	static void f16c_k3_##name(void *restrict o, const void *restrict a,                       \
				   const void *restrict b, size_t n)                               \
	{                                                                                          \
		f16c_##name(o, a, b, n);                                                           \
	}

F16C_KERNEL(sum, V_SUM, H_SUM)
F16C_KERNEL(prod, V_PROD, H_PROD)
F16C_KERNEL(min, V_MIN, H_MIN)
F16C_KERNEL(max, V_MAX, H_MAX)

#define KF(name)                                                                                   \
	{                                                                                          \
		f16c_k1_##name, f16c_k2_##name, f16c_k2r_##name, f16c_k3_##name                    \
	}
static const struct kernel f16c_kernels[AR_OP_COUNT] = {KF(sum), KF(prod), KF(min), KF(max),
							KF(sum)};

F16C_FN static void f16c_scale(void *buf_, size_t n, int nranks)
{
	uint16_t *buf = buf_;
	const __m256 d = _mm256_set1_ps((float)nranks);
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(buf + i)));

		_mm_storeu_si128((__m128i *)(buf + i),
				 _mm256_cvtps_ph(_mm256_div_ps(x, d), _MM_FROUND_TO_NEAREST_INT));
	}
	scale_f16(buf + i, n - i, nranks);
}

static bool have_f16c(void)
{
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
}
#endif

static const struct kernel *kernel_of(enum ar_dtype dtype, enum ar_op op)
{
	if ((unsigned)dtype >= AR_DTYPE_COUNT || (unsigned)op >= AR_OP_COUNT)
		return NULL;
#if AR_X86_GCC
	if (dtype == AR_HALF && have_f16c())
		return &f16c_kernels[op];
#endif
	return &kernels[dtype][op];
}

/* inout[i] = inout[i] OP in[i]; inout and in must not overlap unless identical. */
void ar_reduce(void *inout, const void *in, size_t count, enum ar_dtype dtype, enum ar_op op)
{
	const struct kernel *k = kernel_of(dtype, op);

	if (!k || !count)
		return;
	if (inout == in)
		k->k1(inout, count);
	else
		k->k2(inout, in, count);
}

/* out[i] = a[i] OP b[i]; out may be a or b (or neither), never a partial overlap. */
void ar_reduce3(void *out, const void *a, const void *b, size_t count, enum ar_dtype dtype,
		enum ar_op op)
{
	const struct kernel *k = kernel_of(dtype, op);

	if (!k || !count)
		return;
	if (out == a && out != b)
		k->k2(out, b, count);
	else if (out == b && out != a)
		k->k2r(out, a, count);
	else if (out == a)
		k->k1(out, count);
	else
		k->k3(out, a, b, count);
}

static void (*const scalers[AR_DTYPE_COUNT])(void *restrict, size_t, int) = {
	[AR_FLOAT] = scale_f32, [AR_DOUBLE] = scale_f64, [AR_HALF] = scale_f16,
	[AR_BF16] = scale_bf16, [AR_INT32] = scale_i32,	 [AR_INT64] = scale_i64,
	[AR_UINT8] = scale_u8,
};

/* buf[i] /= nranks (floating: correctly rounded division; integers: toward zero). */
void ar_scale_avg(void *buf, size_t count, enum ar_dtype dtype, int nranks)
{
	if ((unsigned)dtype >= AR_DTYPE_COUNT || nranks <= 1 || !count)
		return;
#if AR_X86_GCC
	if (dtype == AR_HALF && have_f16c()) {
		f16c_scale(buf, count, nranks);
		return;
	}
#endif
	scalers[dtype](buf, count, nranks);
}
