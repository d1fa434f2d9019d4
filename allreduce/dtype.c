/*
 * dtype.c - element types and reduction operations: names, sizes, parsing (all from tables),
 * and the half / bfloat16 <-> float conversions (round to nearest even, NaN stays NaN).
 *
 * The conversions are written branch-free (selects, not ifs) and live in dtype_conv.h so that
 * the reduction kernels in reduce.c inline them and the compiler can vectorize the loops.
 */
#include "allreduce/internal.h"
#include "allreduce/dtype_conv.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

struct dtype_info {
	const char *name;
	size_t size;
};

static const struct dtype_info dtype_table[AR_DTYPE_COUNT] = {
	[AR_FLOAT] = {"float", 4},   [AR_DOUBLE] = {"double", 8}, [AR_HALF] = {"half", 2},
	[AR_BF16] = {"bfloat16", 2}, [AR_INT32] = {"int32", 4},	  [AR_INT64] = {"int64", 8},
	[AR_UINT8] = {"uint8", 1},
};

/* Every accepted spelling (nccl-tests' names and the common aliases). */
static const struct {
	const char *name;
	enum ar_dtype dtype;
} dtype_alias[] = {
	{"float", AR_FLOAT},	{"float32", AR_FLOAT}, {"f32", AR_FLOAT},     {"double", AR_DOUBLE},
	{"float64", AR_DOUBLE}, {"f64", AR_DOUBLE},    {"half", AR_HALF},     {"float16", AR_HALF},
	{"f16", AR_HALF},	{"fp16", AR_HALF},     {"bfloat16", AR_BF16}, {"bf16", AR_BF16},
	{"int32", AR_INT32},	{"int", AR_INT32},     {"int32_t", AR_INT32}, {"int64", AR_INT64},
	{"int64_t", AR_INT64},	{"long", AR_INT64},    {"uint8", AR_UINT8},   {"uint8_t", AR_UINT8},
	{"char", AR_UINT8},
};

static const char *const op_names[AR_OP_COUNT] = {
	[AR_SUM] = "sum", [AR_PROD] = "prod", [AR_MIN] = "min", [AR_MAX] = "max", [AR_AVG] = "avg",
};

/* Size in bytes of one element; 0 for an out-of-range dtype. */
size_t ar_dtype_size(enum ar_dtype dtype)
{
	return (unsigned)dtype < AR_DTYPE_COUNT ? dtype_table[dtype].size : 0;
}

/* Canonical name; "?" for an out-of-range dtype. */
const char *ar_dtype_name(enum ar_dtype dtype)
{
	return (unsigned)dtype < AR_DTYPE_COUNT ? dtype_table[dtype].name : "?";
}

/* Canonical name; "?" for an out-of-range op. */
const char *ar_op_name(enum ar_op op)
{
	return (unsigned)op < AR_OP_COUNT ? op_names[op] : "?";
}

/* Case-insensitive lookup in the alias table; 0 or -EINVAL. */
int ar_dtype_parse(const char *name, enum ar_dtype *out)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(dtype_alias) / sizeof(dtype_alias[0]); i++) {
		if (!strcasecmp(name, dtype_alias[i].name)) {
			*out = dtype_alias[i].dtype;
			return 0;
		}
	}
	return -EINVAL;
}

/* Case-insensitive lookup of sum/prod/min/max/avg; 0 or -EINVAL. */
int ar_op_parse(const char *name, enum ar_op *out)
{
	if (!name)
		return -EINVAL;
	for (int i = 0; i < AR_OP_COUNT; i++) {
		if (!strcasecmp(name, op_names[i])) {
			*out = (enum ar_op)i;
			return 0;
		}
	}
	return -EINVAL;
}

float ar_half_to_float(uint16_t h)
{
	return ar__h2f(h);
}

uint16_t ar_float_to_half(float f)
{
	return ar__f2h(f);
}

float ar_bf16_to_float(uint16_t b)
{
	return ar__b2f(b);
}

uint16_t ar_float_to_bf16(float f)
{
	return ar__f2b(f);
}
