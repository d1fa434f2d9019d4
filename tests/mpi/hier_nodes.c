/*
 * hier_nodes.c - checks allreduce/hier.c on a fake cluster map, so that its inter-node phase
 * and unequal ranks per node run on one machine.
 *
 *   mpirun -np 5 build/tests/mpi/hier_nodes [-s slot_bytes] [MAP]   MAP e.g. 0,0,0,1,1
 *   mpirun -np 2 build/tests/mpi/hier_nodes -T                       the timeout path
 *
 * Without MAP the library derives the map (one node here).  Every dtype x op x count, in place
 * and out of place, is compared bit for bit with a reference computed locally in int64 from
 * exactly representable integer inputs that every rank can regenerate.  -T: rank 1 skips one
 * call; rank 0 must fail after the 2 s timeout naming itself, rank 1 and the hier phase, and
 * later calls must refuse (-EIO).
 * Exit 0 pass, 1 a check failed, 2 bad arguments.
 */
#include "allreduce/allreduce.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const size_t counts[] = {0, 1, 2, 3, 5, 7, 13, 64, 100, 1000, 4099, 81923, 300007};

/* The input element i of rank r for op, as an exact integer (see the file comment): sums of
 * small values, products of +-1 and 2, min/max of values in [-50, 50], and for avg
 * b_i + d_r with sum over r of d_r = 0, so the mean is exactly b_i.  uint8 stays >= 0. */
static int64_t input_of(enum ar_op op, enum ar_dtype t, int p, int r, size_t i)
{
	int64_t u = (int64_t)((i * 2654435761u + (size_t)r * 40503u) % 1000003u);
	bool u8 = t == AR_UINT8;

	if (op == AR_SUM)
		return u8 ? u % 4 : u % 7 - 3;
	if (op == AR_PROD)
		return u8 ? 1 + u % 2 : (int64_t[]){1, 2, -1}[u % 3];
	if (op == AR_MIN || op == AR_MAX)
		return u8 ? u % 101 : u % 101 - 50;
	return (int64_t)(8 + i % 24) + (r == 0 ? -(p - 1) : 1);
}

static int64_t op_sum(int64_t a, int64_t b)
{
	return a + b;
}

static int64_t op_prod(int64_t a, int64_t b)
{
	return a * b;
}

static int64_t op_min(int64_t a, int64_t b)
{
	return b < a ? b : a;
}

static int64_t op_max(int64_t a, int64_t b)
{
	return b > a ? b : a;
}

/* The reference combination of each op on exact values (avg sums, divides at the end). */
static int64_t (*const combine[AR_OP_COUNT])(int64_t, int64_t) = {
	[AR_SUM] = op_sum, [AR_PROD] = op_prod, [AR_MIN] = op_min,
	[AR_MAX] = op_max, [AR_AVG] = op_sum,
};

static void put_float(void *b, size_t i, int64_t v)
{
	((float *)b)[i] = (float)v;
}

static void put_double(void *b, size_t i, int64_t v)
{
	((double *)b)[i] = (double)v;
}

static void put_half(void *b, size_t i, int64_t v)
{
	((uint16_t *)b)[i] = ar_float_to_half((float)v);
}

static void put_bf16(void *b, size_t i, int64_t v)
{
	((uint16_t *)b)[i] = ar_float_to_bf16((float)v);
}

static void put_i32(void *b, size_t i, int64_t v)
{
	((int32_t *)b)[i] = (int32_t)v;
}

static void put_i64(void *b, size_t i, int64_t v)
{
	((int64_t *)b)[i] = v;
}

static void put_u8(void *b, size_t i, int64_t v)
{
	((uint8_t *)b)[i] = (uint8_t)v; /* wraps as the library's uint8 does */
}

/* Store the exact integer v as element i of a buffer of each type. */
static void (*const put[AR_DTYPE_COUNT])(void *, size_t, int64_t) = {
	[AR_FLOAT] = put_float, [AR_DOUBLE] = put_double, [AR_HALF] = put_half,
	[AR_BF16] = put_bf16,	[AR_INT32] = put_i32,	  [AR_INT64] = put_i64,
	[AR_UINT8] = put_u8,
};

/* One all-reduce checked against the reference; 0 or 1 (mismatch, printed). */
static int check_one(struct ar_comm *c, size_t count, enum ar_dtype t, enum ar_op op, bool in_place,
		     char *in, char *out, char *ref)
{
	int p = ar_comm_size(c), r = ar_comm_rank(c), rc;
	size_t es = ar_dtype_size(t);

	for (size_t i = 0; i < count; i++) {
		int64_t acc = input_of(op, t, p, 0, i);

		for (int q = 1; q < p; q++)
			acc = combine[op](acc, input_of(op, t, p, q, i));
		if (op == AR_AVG)
			acc /= p;
		put[t](ref, i, acc);
		put[t](in_place ? out : in, i, input_of(op, t, p, r, i));
	}
	if (!in_place)
		memset(out, 0xa5, count * es + 64);
	rc = ar_allreduce(c, "hier", in_place ? out : in, out, count, t, op);
	if (rc) {
		fprintf(stderr, "rank %d: hier %s %s count %zu: %s\n", r, ar_dtype_name(t),
			ar_op_name(op), count, ar_comm_error(c));
		return 1;
	}
	for (size_t i = 0; i < count; i++)
		if (memcmp(out + i * es, ref + i * es, es)) {
			fprintf(stderr,
				"rank %d: hier %s %s count %zu %s: element %zu differs from the "
				"reference\n",
				r, ar_dtype_name(t), ar_op_name(op), count,
				in_place ? "in place" : "out of place", i);
			return 1;
		}
	for (size_t i = count * es; i < count * es + 64 && !in_place; i++)
		if ((unsigned char)out[i] != 0xa5) {
			fprintf(stderr,
				"rank %d: hier wrote past the end of the output (count %zu)\n", r,
				count);
			return 1;
		}
	return 0;
}

/* -T: rank 1 misses a call; rank 0's hier must time out naming rank 1. */
static int check_timeout(struct ar_comm *c)
{
	int r = ar_comm_rank(c), bad = 0, rc;
	float x[4] = {1, 2, 3, 4};
	double t0;

	if (ar_allreduce(c, "hier", x, x, 4, AR_FLOAT, AR_SUM)) /* sets up the segment */
		return fprintf(stderr, "rank %d: %s\n", r, ar_comm_error(c)), 1;
	if (r == 0) {
		t0 = MPI_Wtime();
		rc = ar_allreduce(c, "hier", x, x, 4, AR_FLOAT, AR_SUM);
		t0 = MPI_Wtime() - t0;
		printf("rank 0: %.2f s, rc %d: %s\n", t0, rc, ar_comm_error(c));
		bad = rc != -ETIMEDOUT || t0 < 1.0 || t0 > 10 ||
		      strncmp(ar_comm_error(c), "rank 0: ", 8) ||
		      !strstr(ar_comm_error(c), "hier") ||
		      (!strstr(ar_comm_error(c), "rank 1 did not stage") &&
		       !strstr(ar_comm_error(c), "from rank 1 timed out"));
		/* a failed call leaves the segment out of step: later calls must refuse */
		rc = ar_allreduce(c, "hier", x, x, 4, AR_FLOAT, AR_SUM);
		bad |= rc != -EIO;
	}
	MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	return bad;
}

/* Parse "0,0,1" into map[p]; 0 or -EINVAL. */
static int parse_map(const char *s, int *map, int p)
{
	char *end;

	for (int i = 0; i < p; i++) {
		long v = strtol(s, &end, 10);

		if (end == s || v < 0 || v > 1000000 || (*end != ',' && *end != '\0') ||
		    (*end == '\0') != (i == p - 1))
			return -EINVAL;
		map[i] = (int)v;
		s = end + 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ar_comm_config cfg = {.timeout_sec = 60};
	int rank, size, opt, fails = 0, timeout_test = 0, shared = 0, *map = NULL;
	size_t maxc = counts[sizeof(counts) / sizeof(counts[0]) - 1];
	struct ar_comm *c;
	char *in, *out, *ref;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	while ((opt = getopt(argc, argv, "s:TR")) != -1) {
		if (opt == 'R') {
			shared = 1; /* in and out from ar_mem_alloc: hier's zero-copy path */
		} else if (opt == 's') {
			cfg.segment_bytes = strtoul(optarg, NULL, 0);
		} else if (opt == 'T') {
			timeout_test = 1;
			cfg.timeout_sec = 2;
		} else {
			if (rank == 0)
				fprintf(stderr,
					"usage: hier_nodes [-s slot_bytes] [-T] [-R] [MAP]\n");
			MPI_Finalize();
			return 2;
		}
	}
	if (optind < argc) {
		map = malloc(sizeof(*map) * size);
		if (!map || parse_map(argv[optind], map, size)) {
			if (rank == 0)
				fprintf(stderr,
					"hier_nodes: MAP '%s': expected %d comma-separated node "
					"indices\n",
					argv[optind], size);
			MPI_Finalize();
			return 2;
		}
		cfg.node_of_rank = map;
	}
	if (ar_comm_create(MPI_COMM_WORLD, &cfg, &c)) {
		fprintf(stderr, "rank %d: %s\n", rank, ar_last_error_text());
		MPI_Finalize();
		return 1;
	}
	if (timeout_test) {
		fails = check_timeout(c);
		goto out_destroy;
	}
	if (shared) {
		void *a = NULL, *b = NULL;

		if (ar_mem_alloc(c, maxc * 8 + 64, &a) || ar_mem_alloc(c, maxc * 8 + 64, &b)) {
			fprintf(stderr, "rank %d: ar_mem_alloc: %s\n", rank, ar_comm_error(c));
			MPI_Abort(MPI_COMM_WORLD, 1);
		}
		in = a;
		out = b;
	} else {
		in = malloc(maxc * 8 + 64);
		out = malloc(maxc * 8 + 64);
	}
	ref = malloc(maxc * 8 + 64);
	if (!in || !out || !ref) {
		fprintf(stderr, "rank %d: out of memory\n", rank);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	for (int t = 0; t < AR_DTYPE_COUNT; t++)
		for (int op = 0; op < AR_OP_COUNT; op++)
			for (size_t j = 0; j < sizeof(counts) / sizeof(counts[0]); j++)
				for (int ip = 0; ip < 2; ip++)
					fails += check_one(c, counts[j], t, op, ip, in, out, ref);
	MPI_Allreduce(MPI_IN_PLACE, &fails, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	if (rank == 0)
		printf("hier_nodes: %d ranks on %d nodes (ppn max %d), map %s, slot %zu%s: %d "
		       "failures in %d checks per rank\n",
		       size, ar_comm_nodes(c), ar_comm_ranks_per_node_max(c),
		       optind < argc ? argv[optind] : "(shared memory)", cfg.segment_bytes,
		       shared ? ", node-shared buffers" : "", fails,
		       (int)(AR_DTYPE_COUNT * AR_OP_COUNT * 2 * sizeof(counts) /
			     sizeof(counts[0])));
	if (shared) {
		ar_mem_free(c, in);
		ar_mem_free(c, out);
	} else {
		free(in);
		free(out);
	}
	free(ref);
out_destroy:
	ar_comm_destroy(c);
	free(map);
	MPI_Finalize();
	return fails ? 1 : 0;
}
