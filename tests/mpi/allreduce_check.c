/*
 * allreduce_check.c - correctness of every all-reduce algorithm under mpirun.
 *
 *   allreduce_check [--counts N,N,...] [--algo NAME]   full matrix (default)
 *   allreduce_check --shared [--algo NAME]             the matrix on ar_mem_alloc buffers
 *                                                      (hier reads them in place)
 *   allreduce_check --timeout                          one rank skips: others must time out
 *   allreduce_check --big                              one >INT_MAX-byte transport message
 *
 * Matrix: every registered algorithm whose supports() is true (ring, tree, rhd and mpi must
 * be) x 7 types x 5 ops x counts {0, 1, p-1, p+1, 1000003} x {out of place, AR_IN_PLACE,
 * sendbuf == recvbuf (this last one not at count 1000003: it is AR_IN_PLACE's code path)},
 * on the default communicator and on one with 1000-byte segments and 3
 * operations in flight (count 10007) so that the pipelines run many segments.  Each rank
 * computes the expected result locally from every rank's deterministic input with a scalar
 * reference in rank order (inputs repeat with a prime period of 65537 elements, so the
 * reference is computed once per period; no segment or block size is a multiple of it).  Inputs are
 * small integers (sum, min, max, avg) or +-1, +-2 (prod) for floating types, so every summation
 * order gives the same exact result (also in bfloat16's 8-bit mantissa), and integers that wrap for
 * int sum/prod (modular, so also order-independent); results are compared bit for bit.  Also
 * checked: out of place never modifies sendbuf, and 64 guard bytes on each side of recvbuf stay
 * untouched. Prints one summary line per run; exit 1 on any failure, naming
 * algo/type/op/count/rank/index.
 */
#include "allreduce/allreduce.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD	   64
#define GUARD_BYTE 0xa5
#define BIG_COUNT  1000003
#define MAX_REPORT 10
#define PERIOD	   65537 /* inputs repeat with this (prime) period: cheap reference */

enum mode { OUT_OF_PLACE, IN_PLACE_MACRO, IN_PLACE_SAME, MODE_COUNT };
static const char *const mode_names[MODE_COUNT] = {"out-of-place", "AR_IN_PLACE",
						   "sendbuf==recvbuf"};

static int rank, nprocs, reported;

/* ---- deterministic inputs and the scalar reference ------------------------------------- */

static bool is_float(enum ar_dtype t)
{
	return t == AR_FLOAT || t == AR_DOUBLE || t == AR_HALF || t == AR_BF16;
}

/* Rank q's input element i for (type, op), as an integer exactly representable in the type. */
static int64_t gen(enum ar_dtype t, enum ar_op op, int q, size_t i)
{
	i %= PERIOD;
	uint64_t h = (uint64_t)i * 2654435761u + (uint64_t)q * 40503u + (uint64_t)op * 977u;

	h ^= h >> 13;
	if (op == AR_PROD) {
		if (is_float(t)) /* +-1, +-2: products stay powers of two */
			return (h % 4 < 2 ? 1 : 2) * (h % 3 == 0 ? -1 : 1);
		if (t != AR_UINT8 && i % 89 == 7) /* big factors: the product wraps */
			return 100003 + q;
		return (int64_t)(h % 7) - 3 + (t == AR_UINT8 ? 3 : 0);
	}
	if (op == AR_SUM || op == AR_AVG) {
		if (t == AR_INT32 && i % 97 == 5)
			return INT32_MAX - q; /* the sum wraps */
		if (t == AR_INT64 && i % 97 == 5)
			return INT64_MAX - q;
		return t == AR_UINT8 ? (int64_t)(h % 5) : (int64_t)(h % 5) - 2;
	}
	/* min, max */
	return t == AR_UINT8 ? (int64_t)(h % 200) : (int64_t)(h % 17) - 8;
}

/* Store integer v (exact in the type) as element i of buf; and the average sum / p rounded
 * as the type does it (one division at the end).  One line per type, in tables. */
#define STORE(name, T, EXPR, AVG)                                                                  \
	static void store_##name(void *buf, size_t i, int64_t v)                                   \
	{                                                                                          \
		((T *)buf)[i] = EXPR;                                                              \
	}                                                                                          \
	static void avg_##name(void *buf, size_t i, uint64_t usum, int p)                          \
	{                                                                                          \
		int64_t sum = (int64_t)usum;                                                       \
		(void)sum;                                                                         \
		((T *)buf)[i] = AVG;                                                               \
	}
STORE(f32, float, (float)v, (float)sum / (float)p)
STORE(f64, double, (double)v, (double)sum / (double)p)
STORE(f16, uint16_t, ar_float_to_half((float)v), ar_float_to_half((float)sum / (float)p))
STORE(bf16, uint16_t, ar_float_to_bf16((float)v), ar_float_to_bf16((float)sum / (float)p))
STORE(i32, int32_t, (int32_t)(uint32_t)(uint64_t)v, (int32_t)(uint32_t)usum / p)
STORE(i64, int64_t, v, sum / p)
STORE(u8, uint8_t, (uint8_t)(uint64_t)v, (uint8_t)((uint8_t)usum / p))

static void (*const store_fn[AR_DTYPE_COUNT])(void *, size_t, int64_t) = {
	store_f32, store_f64, store_f16, store_bf16, store_i32, store_i64, store_u8,
};
static void (*const avg_fn[AR_DTYPE_COUNT])(void *, size_t, uint64_t, int) = {
	avg_f32, avg_f64, avg_f16, avg_bf16, avg_i32, avg_i64, avg_u8,
};

static void store(enum ar_dtype t, void *buf, size_t i, int64_t v)
{
	store_fn[t](buf, i, v);
}

/* Expected result: every rank's input combined in rank order, in 64-bit modular arithmetic
 * (sum, prod) or as integers (min, max), then stored in the type. */
static void reference(enum ar_dtype t, enum ar_op op, size_t count, int p, void *out)
{
	size_t esz = ar_dtype_size(t);

	for (size_t i = 0; i < count && i < PERIOD; i++) {
		uint64_t acc = (uint64_t)gen(t, op, 0, i);
		int64_t m = gen(t, op, 0, i);

		for (int q = 1; q < p; q++) {
			int64_t v = gen(t, op, q, i);

			if (op == AR_SUM || op == AR_AVG)
				acc += (uint64_t)v;
			else if (op == AR_PROD)
				acc *= (uint64_t)v;
			else if (op == AR_MIN)
				m = v < m ? v : m;
			else
				m = v > m ? v : m;
		}
		if (op == AR_AVG)
			avg_fn[t](out, i, acc, p);
		else if (op == AR_MIN || op == AR_MAX)
			store(t, out, i, m);
		else
			store(t, out, i, (int64_t)acc);
	}
	for (size_t i = PERIOD; i < count; i += PERIOD) /* the period, repeated */
		memcpy((char *)out + i * esz, out, (count - i < PERIOD ? count - i : PERIOD) * esz);
}

/* This rank's input for (type, op): the first period generated, the rest repeated. */
static void make_input(enum ar_dtype t, enum ar_op op, size_t count, void *out)
{
	size_t esz = ar_dtype_size(t);

	for (size_t i = 0; i < count && i < PERIOD; i++)
		store(t, out, i, gen(t, op, rank, i));
	for (size_t i = PERIOD; i < count; i += PERIOD)
		memcpy((char *)out + i * esz, out, (count - i < PERIOD ? count - i : PERIOD) * esz);
}

/* ---- one case ----------------------------------------------------------------------------- */

static void describe(char *s, size_t n, enum ar_dtype t, const void *buf, size_t i)
{
	size_t esz = ar_dtype_size(t);
	const unsigned char *b = (const unsigned char *)buf + i * esz;

	snprintf(s, n, "0x");
	for (size_t k = esz; k-- > 0;)
		snprintf(s + strlen(s), n - strlen(s), "%02x", b[k]);
}

static int fail_case(const char *what, const char *algo, enum ar_dtype t, enum ar_op op,
		     size_t count, enum mode m, size_t idx, const void *got, const void *want)
{
	char g[40] = "", w[40] = "";

	if (reported++ >= MAX_REPORT)
		return 1;
	if (got)
		describe(g, sizeof(g), t, got, idx);
	if (want)
		describe(w, sizeof(w), t, want, idx);
	fprintf(stderr,
		"FAIL p=%d algo=%s type=%s op=%s count=%zu mode=%s rank=%d index=%zu: %s%s%s%s%s\n",
		nprocs, algo, ar_dtype_name(t), ar_op_name(op), count, mode_names[m], rank, idx,
		what, got ? " got " : "", g, want ? " expected " : "", w);
	return 1;
}

/* Run one case; returns the number of failures (0 or 1). */
static int run_case(struct ar_comm *c, const struct ar_algo *a, enum ar_dtype t, enum ar_op op,
		    size_t count, enum mode m, const void *expect, const void *input,
		    unsigned char *rraw, unsigned char *sbuf, unsigned char *scopy)
{
	size_t esz = ar_dtype_size(t), bytes = count * esz;
	unsigned char *rbuf = rraw + GUARD;
	const void *send;
	int rc;

	memcpy(sbuf, input, bytes);
	memset(rraw, GUARD_BYTE, GUARD);
	memset(rbuf + bytes, GUARD_BYTE, GUARD);
	if (m == OUT_OF_PLACE) {
		memset(rbuf, 0x5a, bytes); /* garbage the algorithm must overwrite */
		memcpy(scopy, sbuf, bytes);
		send = sbuf;
	} else {
		memcpy(rbuf, sbuf, bytes);
		send = m == IN_PLACE_MACRO ? AR_IN_PLACE : rbuf;
	}
	rc = ar_allreduce(c, a->name, send, rbuf, count, t, op);
	if (rc)
		return fail_case(ar_comm_error(c), a->name, t, op, count, m, 0, NULL, NULL);
	for (size_t k = 0; k < GUARD; k++) {
		if (rraw[k] != GUARD_BYTE || rbuf[bytes + k] != GUARD_BYTE)
			return fail_case("guard bytes around recvbuf overwritten", a->name, t, op,
					 count, m, k, NULL, NULL);
	}
	if (m == OUT_OF_PLACE && memcmp(sbuf, scopy, bytes)) {
		for (size_t i = 0; i < count; i++)
			if (memcmp(sbuf + i * esz, scopy + i * esz, esz))
				return fail_case("sendbuf modified", a->name, t, op, count, m, i,
						 sbuf, scopy);
	}
	if (memcmp(rbuf, expect, bytes)) {
		for (size_t i = 0; i < count; i++)
			if (memcmp(rbuf + i * esz, (const char *)expect + i * esz, esz))
				return fail_case("wrong result", a->name, t, op, count, m, i, rbuf,
						 expect);
	}
	return 0;
}

/* --shared: the send and receive buffers come from ar_mem_alloc (node-shared memory), which
 * hier on one node reads in place; otherwise from malloc. */
static bool shared_buffers;

static unsigned char *alloc_buf(struct ar_comm *c, size_t bytes)
{
	void *p = NULL;

	if (!shared_buffers)
		return malloc(bytes);
	if (ar_mem_alloc(c, bytes, &p)) {
		fprintf(stderr, "rank %d: ar_mem_alloc: %s\n", rank, ar_comm_error(c));
		return NULL;
	}
	return p;
}

static void free_buf(struct ar_comm *c, void *p)
{
	if (shared_buffers)
		ar_mem_free(c, p);
	else
		free(p);
}

/* Every algorithm x type x op x mode for the given counts on communicator c. */
static int run_matrix(struct ar_comm *c, const size_t *counts, int ncounts, const char *only,
		      long *cases)
{
	size_t maxc = 0;
	int fails = 0;

	for (int k = 0; k < ncounts; k++)
		maxc = counts[k] > maxc ? counts[k] : maxc;
	unsigned char *rraw = alloc_buf(c, maxc * 8 + 2 * GUARD),
		      *sbuf = alloc_buf(c, maxc * 8 + 8);
	unsigned char *scopy = malloc(maxc * 8 + 8), *expect = malloc(maxc * 8 + 8);
	unsigned char *input = malloc(maxc * 8 + 8);

	if (!rraw || !sbuf || !scopy || !expect || !input) {
		fprintf(stderr, "rank %d: out of memory\n", rank);
		exit(2);
	}
	for (int k = 0; k < ncounts; k++) {
		for (int t = 0; t < AR_DTYPE_COUNT; t++) {
			for (int op = 0; op < AR_OP_COUNT; op++) {
				reference(t, op, counts[k], nprocs, expect);
				make_input(t, op, counts[k], input);
				for (size_t ai = 0; ai < ar_algo_count(); ai++) {
					const struct ar_algo *a = ar_algo_at(ai);

					if (!a->supports(c) || (only && strcmp(only, a->name)))
						continue;
					/* sendbuf == recvbuf takes AR_IN_PLACE's path
					 * (ar__input): only on the small counts */
					int nm =
						counts[k] >= BIG_COUNT ? IN_PLACE_SAME : MODE_COUNT;

					for (int m = 0; m < nm; m++) {
						fails += run_case(c, a, t, op, counts[k], m, expect,
								  input, rraw, sbuf, scopy);
						(*cases)++;
					}
				}
			}
		}
	}
	free_buf(c, rraw);
	free_buf(c, sbuf);
	free(scopy);
	free(expect);
	free(input);
	return fails;
}

/* ring, tree, rhd and mpi must run on a plain MPI communicator; hier may not (yet). */
static int check_supported(struct ar_comm *c, char *skipped, size_t n)
{
	static const char *const required[] = {"ring", "tree", "rhd", "mpi"};
	int fails = 0;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const struct ar_algo *a = ar_algo_find(required[i]);

		if (!a || !a->supports(c)) {
			fprintf(stderr,
				"FAIL p=%d rank=%d: algorithm %s is %s on a plain MPI "
				"communicator\n",
				nprocs, rank, required[i], a ? "unsupported" : "missing");
			fails++;
		}
	}
	skipped[0] = '\0';
	for (size_t i = 0; i < ar_algo_count(); i++)
		if (!ar_algo_at(i)->supports(c))
			snprintf(skipped + strlen(skipped), n - strlen(skipped), " %s",
				 ar_algo_at(i)->name);
	if (ar_allreduce(c, "no-such-algo", AR_IN_PLACE, NULL, 0, AR_FLOAT, AR_SUM) != -ENOENT) {
		fprintf(stderr, "FAIL rank=%d: unknown algorithm did not give -ENOENT\n", rank);
		fails++;
	}
	return fails;
}

/* --shared: rank 0 passes private buffers while the others pass node-shared ones; hier must
 * notice and every rank must take the staged path together (still exact). */
static int mixed_buffers(struct ar_comm *c)
{
	size_t count = BIG_COUNT, bytes = count * sizeof(float);
	unsigned char *sh_in = alloc_buf(c, bytes), *sh_out = alloc_buf(c, bytes);
	unsigned char *pv_in = malloc(bytes), *pv_out = malloc(bytes), *expect = malloc(bytes);
	int fails = 0;

	if (!sh_in || !sh_out || !pv_in || !pv_out || !expect) {
		fprintf(stderr, "rank %d: out of memory\n", rank);
		exit(2);
	}
	for (enum ar_op op = 0; op < AR_OP_COUNT; op++) {
		unsigned char *in = rank == 0 ? pv_in : sh_in, *out = rank == 0 ? pv_out : sh_out;
		int rc;

		reference(AR_FLOAT, op, count, nprocs, expect);
		make_input(AR_FLOAT, op, count, in);
		rc = ar_allreduce(c, "hier", in, out, count, AR_FLOAT, op);
		if (rc || memcmp(out, expect, bytes)) {
			fprintf(stderr,
				"FAIL p=%d rank=%d: hier, rank 0 private, others node-shared, "
				"float %s: %s\n",
				nprocs, rank, ar_op_name(op),
				rc ? ar_comm_error(c) : "wrong result");
			fails++;
		}
	}
	free_buf(c, sh_in);
	free_buf(c, sh_out);
	free(pv_in);
	free(pv_out);
	free(expect);
	return fails;
}

static int matrix(const char *countlist, const char *only)
{
	struct ar_comm_config small = {.segment_bytes = 1000, .max_inflight = 3};
	size_t counts[16] = {0, 1, (size_t)nprocs - 1, (size_t)nprocs + 1, BIG_COUNT};
	size_t small_counts[] = {10007};
	int ncounts = 5, fails = 0, all;
	struct ar_comm *c, *cs;
	char skipped[128];
	long cases = 0;
	double t0 = MPI_Wtime();

	if (countlist) {
		char *s = strdup(countlist), *save = NULL;

		ncounts = 0;
		for (char *tok = strtok_r(s, ",", &save); tok && ncounts < 16;
		     tok = strtok_r(NULL, ",", &save))
			counts[ncounts++] = strtoull(tok, NULL, 10);
		free(s);
	}
	if (ar_comm_create(MPI_COMM_WORLD, NULL, &c) ||
	    ar_comm_create(MPI_COMM_WORLD, &small, &cs)) {
		fprintf(stderr, "rank %d: ar_comm_create: %s\n", rank, ar_last_error_text());
		return 1;
	}
	fails += check_supported(c, skipped, sizeof(skipped));
	fails += run_matrix(c, counts, ncounts, only, &cases);
	fails += run_matrix(cs, small_counts, 1, only, &cases);
	if (shared_buffers && (!only || !strcmp(only, "hier")) && ar_algo_find("hier")->supports(c))
		fails += mixed_buffers(c);
	ar_comm_destroy(cs);
	ar_comm_destroy(c);
	MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	if (rank == 0) {
		char tested[128] = "";

		for (size_t i = 0; i < ar_algo_count(); i++)
			if (!strstr(skipped, ar_algo_at(i)->name) &&
			    (!only || !strcmp(only, ar_algo_at(i)->name)))
				snprintf(tested + strlen(tested), sizeof(tested) - strlen(tested),
					 " %s", ar_algo_at(i)->name);
		printf("p=%d: %ld cases per rank (algorithms%s x 7 types x 5 ops x counts x 3 "
		       "modes, 2 modes at count 1000003)%s, %d failures, %.1f s%s%s\n",
		       nprocs, cases, tested,
		       shared_buffers ? " on node-shared buffers, plus rank 0 private" : "", all,
		       MPI_Wtime() - t0, skipped[0] ? "; unsupported here, not tested:" : "",
		       skipped);
	}
	return all ? 1 : 0;
}

/* ---- timeout: the last rank skips the call --------------------------------------------------- */

static int timeout_test(void)
{
	/* mpi last: MPI_Iallreduce cannot say which peer is missing, only that it timed out */
	static const char *const algos[] = {"ring", "tree", "rhd", "mpi"};
	struct ar_comm_config cfg = {.timeout_sec = 1.0};
	int missing = nprocs - 1, fails = 0, all, named, any_named;
	float buf[4096];

	for (size_t k = 0; k < sizeof(algos) / sizeof(algos[0]); k++) {
		struct ar_comm *c;
		char needle[32];
		int rc = 0;

		if (ar_comm_create(MPI_COMM_WORLD, &cfg, &c)) {
			fprintf(stderr, "rank %d: %s\n", rank, ar_last_error_text());
			return 1;
		}
		/* with everyone present the polled (deadline) path must work */
		for (int i = 0; i < 4096; i++)
			buf[i] = (float)rank;
		rc = ar_allreduce(c, algos[k], AR_IN_PLACE, buf, 4096, AR_FLOAT, AR_SUM);
		if (rc || buf[4095] != (float)(nprocs * (nprocs - 1) / 2)) {
			fprintf(stderr, "FAIL rank=%d algo=%s: with timeout set: rc %d %s\n", rank,
				algos[k], rc, ar_comm_error(c));
			fails++;
		}
		snprintf(needle, sizeof(needle), "rank %d ", missing);
		named = 0;
		if (rank != missing) {
			rc = ar_allreduce(c, algos[k], AR_IN_PLACE, buf, 4096, AR_FLOAT, AR_SUM);
			named = strstr(ar_comm_error(c), needle) != NULL;
			printf("rank %d %s: rc %d: %s\n", rank, algos[k], rc, ar_comm_error(c));
			/* "rank R: recv from rank P timed out after ... (phase step S)" */
			if (rc != -ETIMEDOUT || !strstr(ar_comm_error(c), "timed out") ||
			    (strcmp(algos[k], "mpi") && !strstr(ar_comm_error(c), "from rank ") &&
			     !strstr(ar_comm_error(c), "to rank "))) {
				fprintf(stderr,
					"FAIL rank=%d algo=%s: expected -ETIMEDOUT naming a peer, "
					"got %d '%s'\n",
					rank, algos[k], rc, ar_comm_error(c));
				fails++;
			}
		}
		MPI_Allreduce(&named, &any_named, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
		if (rank == 0 && !any_named && strcmp(algos[k], "mpi")) {
			fprintf(stderr, "FAIL algo=%s: no rank's error names missing rank %d\n",
				algos[k], missing);
			fails++;
		}
		MPI_Barrier(MPI_COMM_WORLD);
		ar_comm_destroy(c);
	}
	MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	if (rank == 0)
		printf("timeout p=%d: ring/tree/rhd/mpi with rank %d absent: %s\n", nprocs, missing,
		       all ? "FAILED"
			   : "every other rank got -ETIMEDOUT (ring/tree/rhd: naming a peer, "
			     "and some rank naming the absent one)");
	return all ? 1 : 0;
}

/* ---- one message beyond INT_MAX bytes through the mpi transport ------------------------------ */

static int big_test(void)
{
	const size_t len = ((size_t)1 << 31) + 4093; /* > INT_MAX, odd */
	const struct ar_transport_ops *ops = ar_transport_find("mpi");
	struct ar_transport *tr;
	struct ar_request *req;
	unsigned char *buf;
	int fails = 0, all;

	if (nprocs != 2)
		return 0;
	buf = malloc(len);
	if (!buf || ops->init(MPI_COMM_WORLD, NULL, &tr, NULL, 0)) {
		fprintf(stderr, "rank %d: cannot set up the big-message test\n", rank);
		return 1;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = rank == 0 ? (unsigned char)(i * 131 + (i >> 20)) : 0;
	if (rank == 0)
		fails |= ops->isend(tr, buf, len, 1, 7, &req) || ops->wait(tr, req, 0);
	else
		fails |= ops->irecv(tr, buf, len, 0, 7, &req) || ops->wait(tr, req, 0);
	for (size_t i = 0; rank == 1 && i < len; i++) {
		if (buf[i] != (unsigned char)(i * 131 + (i >> 20))) {
			fprintf(stderr, "FAIL big message: byte %zu wrong\n", i);
			fails = 1;
			break;
		}
	}
	ops->fini(tr);
	free(buf);
	MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	if (rank == 0)
		printf("big message: %zu bytes through the mpi transport: %s\n", len,
		       all ? "FAILED" : "ok");
	return all ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *counts = NULL, *only = NULL;
	int rc, what = 0;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nprocs);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout")) {
			what = 1;
		} else if (!strcmp(argv[i], "--big")) {
			what = 2;
		} else if (!strcmp(argv[i], "--counts") && i + 1 < argc) {
			counts = argv[++i];
		} else if (!strcmp(argv[i], "--algo") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strcmp(argv[i], "--shared")) {
			shared_buffers = true;
		} else {
			if (rank == 0)
				fprintf(stderr, "usage: allreduce_check [--counts N,N,...] "
						"[--algo NAME] [--shared] | --timeout | --big\n");
			MPI_Finalize();
			return 2;
		}
	}
	rc = what == 1 ? timeout_test() : what == 2 ? big_test() : matrix(counts, only);
	MPI_Finalize();
	return rc;
}
