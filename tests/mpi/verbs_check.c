/*
 * verbs_check.c - verbs API conformance against an emulator (or a real device): every
 * algorithm that runs over the transport table (ring, tree, hier, rhd) gives, over -t verbs,
 * results bit-identical to the same algorithm over the mpi transport.
 *
 *   verbs_check [--quick]
 *
 * Matrix: 7 types x 5 ops x counts {0, 1, p-1, p+1, 10007, 300007} (300007 elements are more
 * than one 1 MiB segment for every type but uint8, whose count there is 1300007) x out of
 * place and in place, on communicators with default segments and with 1000-byte segments and
 * 3 operations in flight (count 10007), so that messages span many ring slots.  The cluster
 * map puts the ranks on two pretend nodes (first half, second half), so that hier's
 * inter-node phase crosses the transport.  Integer inputs are random bits (sums and products
 * wrap); floating inputs are small integers.  Then point to point with late receives (see
 * p2p()) and the one-sided slots (see onesided()).
 * --quick: integer types only, counts up to 10007.  Prints one line; exit 1 on any difference or
 * failure, naming algo/type/op/count/rank/index.
 */
#include "allreduce/allreduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, nprocs;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void make_input(enum ar_dtype t, size_t count, unsigned char *out, uint64_t seed)
{
	size_t esz = ar_dtype_size(t);
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + (uint64_t)rank * 7919 + 1;

	for (size_t i = 0; i < count; i++) {
		int v = (int)(rnd(&s) % 7) - 3;

		switch (t) {
		case AR_FLOAT:
			((float *)out)[i] = (float)v;
			break;
		case AR_DOUBLE:
			((double *)out)[i] = v;
			break;
		case AR_HALF:
			((uint16_t *)out)[i] = ar_float_to_half((float)v);
			break;
		case AR_BF16:
			((uint16_t *)out)[i] = ar_float_to_bf16((float)v);
			break;
		default: {
			uint64_t r = rnd(&s);

			memcpy(out + i * esz, &r, esz);
		}
		}
	}
}

static int run(struct ar_comm *c, const char *algo, enum ar_dtype t, enum ar_op op,
	       const unsigned char *in, unsigned char *out, size_t count, bool inplace)
{
	size_t bytes = count * ar_dtype_size(t);

	if (inplace) {
		memcpy(out, in, bytes);
		return ar_allreduce(c, algo, AR_IN_PLACE, out, count, t, op);
	}
	memset(out, 0x5a, bytes);
	return ar_allreduce(c, algo, in, out, count, t, op);
}

static int compare(struct ar_comm *cm, struct ar_comm *cv, const size_t *counts, int ncounts,
		   bool ints_only, long *cases)
{
	static const char *const algos[] = {"ring", "tree", "hier", "rhd"};
	size_t maxc = 0;
	int fails = 0;

	for (int k = 0; k < ncounts; k++)
		maxc = counts[k] > maxc ? counts[k] : maxc;
	maxc += 1000000; /* uint8's bigger count */
	unsigned char *in = malloc(maxc * 8 + 8), *om = malloc(maxc * 8 + 8),
		      *ov = malloc(maxc * 8 + 8);

	if (!in || !om || !ov) {
		fprintf(stderr, "rank %d: out of memory\n", rank);
		exit(2);
	}
	for (int k = 0; k < ncounts; k++) {
		for (int t = 0; t < AR_DTYPE_COUNT; t++) {
			size_t count = counts[k] == 300007 && t == AR_UINT8 ? 1300007 : counts[k];
			size_t esz = ar_dtype_size(t);

			if (ints_only && t != AR_INT32 && t != AR_INT64 && t != AR_UINT8)
				continue;
			for (int op = 0; op < AR_OP_COUNT; op++) {
				make_input(t, count, in, (uint64_t)(k * 100 + t * 10 + op));
				for (size_t a = 0; a < sizeof(algos) / sizeof(algos[0]); a++) {
					for (int ip = 0; ip < 2; ip++) {
						int rm =
							run(cm, algos[a], t, op, in, om, count, ip);
						int rv =
							run(cv, algos[a], t, op, in, ov, count, ip);

						(*cases)++;
						if (rm || rv) {
							fprintf(stderr,
								"FAIL p=%d rank=%d algo=%s type=%s "
								"op=%s count=%zu: %s\n",
								nprocs, rank, algos[a],
								ar_dtype_name(t), ar_op_name(op),
								count,
								rm ? ar_comm_error(cm)
								   : ar_comm_error(cv));
							fails++;
							goto out;
						}
						if (!memcmp(om, ov, count * esz))
							continue;
						for (size_t i = 0; i < count; i++) {
							if (!memcmp(om + i * esz, ov + i * esz,
								    esz))
								continue;
							fprintf(stderr,
								"FAIL p=%d rank=%d algo=%s type=%s "
								"op=%s count=%zu %s index=%zu: "
								"verbs "
								"differs from mpi\n",
								nprocs, rank, algos[a],
								ar_dtype_name(t), ar_op_name(op),
								count,
								ip ? "in-place" : "out-of-place",
								i);
							break;
						}
						fails++;
					}
				}
			}
		}
	}
out:
	free(in);
	free(om);
	free(ov);
	return fails;
}

/* ---- point to point through the transport table ------------------------------------------ */

#define NMSG 12

static size_t msg_len(int k)
{
	static const size_t lens[] = {0, 1, 7, 65535, 65536 - 16, 200003};

	return lens[k % 6];
}

static unsigned char pattern(int from, int to, int k, size_t i)
{
	return (unsigned char)(from * 31 + to * 7 + k * 13 + i * 3 + (i >> 8));
}

/* Every rank sends NMSG messages (0 B to 200 KB, tag k) to every rank, itself included, then
 * waits at an MPI barrier and posts the receives in reverse tag order: everything beyond the
 * rings arrives unexpected, and nothing may deadlock or mix up.  Returns failures. */
static int p2p(void)
{
	const struct ar_transport_ops *ops = ar_transport_find("verbs");
	struct ar_request **sr = calloc((size_t)nprocs * NMSG, sizeof(*sr)),
			  **rr = calloc((size_t)nprocs * NMSG, sizeof(*rr));
	unsigned char **sb = calloc((size_t)nprocs * NMSG, sizeof(*sb)),
		      **rb = calloc((size_t)nprocs * NMSG, sizeof(*rb));
	struct ar_transport *t;
	char err[400];
	int fails = 0;

	if (ops->init(MPI_COMM_WORLD, NULL, &t, err, sizeof(err))) {
		fprintf(stderr, "FAIL rank=%d: verbs init: %s\n", rank, err);
		return 1;
	}
	for (int q = 0; q < nprocs; q++) {
		for (int k = 0; k < NMSG; k++) {
			size_t n = msg_len(k), i = (size_t)q * NMSG + (size_t)k;

			sb[i] = malloc(n + 1);
			rb[i] = calloc(1, n + 1);
			for (size_t b = 0; b < n; b++)
				sb[i][b] = pattern(rank, q, k, b);
			if (ops->isend(t, sb[i], n, q, k, &sr[i])) {
				fprintf(stderr, "FAIL rank=%d: isend to %d: %s\n", rank, q,
					ops->last_error(t) ? ops->last_error(t) : "error");
				return 1;
			}
		}
	}
	MPI_Barrier(MPI_COMM_WORLD);
	for (int q = 0; q < nprocs; q++)
		for (int k = NMSG - 1; k >= 0; k--)
			if (ops->irecv(t, rb[q * NMSG + k], msg_len(k), q, k, &rr[q * NMSG + k]))
				fails++;
	for (int i = 0; !fails && i < nprocs * NMSG; i++) {
		int q = i / NMSG, k = i % NMSG;

		if (ops->wait(t, rr[i], MPI_Wtime() + 30) ||
		    ops->wait(t, sr[i], MPI_Wtime() + 30)) {
			fprintf(stderr, "FAIL rank=%d: p2p with rank %d: %s\n", rank, q,
				ops->last_error(t) ? ops->last_error(t) : "timed out");
			fails++;
			break;
		}
		for (size_t b = 0; b < msg_len(k); b++) {
			if (rb[i][b] != pattern(q, rank, k, b)) {
				fprintf(stderr,
					"FAIL rank=%d: message %d from rank %d, byte %zu wrong\n",
					rank, k, q, b);
				fails++;
				break;
			}
		}
	}
	ops->fini(t);
	for (int i = 0; i < nprocs * NMSG; i++) {
		free(sb[i]);
		free(rb[i]);
	}
	free(sb);
	free(rb);
	free(sr);
	free(rr);
	return fails;
}

/* ---- the one-sided slots, straight through the transport table ------------------------- */

#define REGION 4096

/* Every rank writes 1000 bytes at offsets 100 and 2000 of the next rank's registered region
 * with immediates; the next rank receives the immediates in order and finds the data.  Then,
 * on a fresh transport, every rank writes past the end of the next rank's region: the write
 * must fail (remote access error, or the flush that follows it on the target), naming the
 * peer.  Returns failures on this rank. */
static int onesided(void)
{
	const struct ar_transport_ops *ops = ar_transport_find("verbs");
	int next = (rank + 1) % nprocs, prev = (rank + nprocs - 1) % nprocs, fails = 0, rc;
	unsigned char *region = calloc(1, REGION), *src = malloc(1000);
	struct ar_mem_region *rmr, *smr;
	struct ar_transport *t;
	struct ar_request *wr, *ir;
	uint64_t key, *keys = malloc((size_t)nprocs * sizeof(*keys));
	uint32_t imm = 0;
	char err[400];
	bool access_error = false;

	for (int round = 0; round < 2; round++) {
		if (ops->init(MPI_COMM_WORLD, NULL, &t, err, sizeof(err))) {
			fprintf(stderr, "FAIL rank=%d: verbs init: %s\n", rank, err);
			return 1;
		}
		if (ops->reg_mem(t, region, REGION, &rmr) || ops->reg_mem(t, src, 1000, &smr) ||
		    ops->mem_key(t, rmr, &key)) {
			fprintf(stderr, "FAIL rank=%d: reg_mem/mem_key\n", rank);
			return 1;
		}
		MPI_Allgather(&key, 1, MPI_UINT64_T, keys, 1, MPI_UINT64_T, MPI_COMM_WORLD);
		for (int k = 0; round == 0 && k < 2; k++) {
			size_t off = k ? 2000 : 100;

			memset(src, rank * 16 + k + 1, 1000);
			rc = ops->recv_imm(t, prev, &imm, &ir) ||
			     ops->write_imm(t, src, 1000, smr, next, keys[next], off,
					    0xabc00000u + (uint32_t)(rank * 2 + k), &wr) ||
			     ops->wait(t, wr, MPI_Wtime() + 20) ||
			     ops->wait(t, ir, MPI_Wtime() + 20);
			if (rc) {
				fprintf(stderr, "FAIL rank=%d: write_imm round %d: %s\n", rank, k,
					ops->last_error(t) ? ops->last_error(t) : "error");
				fails++;
				break;
			}
			if (imm != 0xabc00000u + (uint32_t)(prev * 2 + k)) {
				fprintf(stderr, "FAIL rank=%d: immediate 0x%x\n", rank, imm);
				fails++;
			}
			for (size_t i = off; i < off + 1000; i++) {
				if (region[i] != (unsigned char)(prev * 16 + k + 1)) {
					fprintf(stderr, "FAIL rank=%d: byte %zu not written\n",
						rank, i);
					fails++;
					break;
				}
			}
		}
		if (round == 1 && nprocs > 1) {
			rc = ops->write_imm(t, src, 1000, smr, next, keys[next], REGION - 500, 1,
					    &wr);
			if (!rc)
				rc = ops->wait(t, wr, MPI_Wtime() + 20);
			if (!rc || !ops->last_error(t)) {
				fprintf(stderr, "FAIL rank=%d: a write past the end succeeded\n",
					rank);
				fails++;
			} else {
				access_error = strstr(ops->last_error(t), "remote access error");
				if (!access_error && !strstr(ops->last_error(t), "flushed")) {
					fprintf(stderr, "FAIL rank=%d: unexpected error: %s\n",
						rank, ops->last_error(t));
					fails++;
				}
			}
		}
		MPI_Barrier(MPI_COMM_WORLD);
		ops->dereg_mem(t, smr);
		ops->dereg_mem(t, rmr);
		ops->fini(t);
	}
	MPI_Allreduce(MPI_IN_PLACE, &access_error, 1, MPI_C_BOOL, MPI_LOR, MPI_COMM_WORLD);
	if (nprocs > 1 && !access_error && rank == 0) {
		fprintf(stderr,
			"FAIL: no rank saw 'remote access error' for its write past the end\n");
		fails++;
	}
	free(keys);
	free(region);
	free(src);
	return fails;
}

int main(int argc, char **argv)
{
	size_t counts[] = {0, 1, 0, 0, 10007, 300007};
	size_t small_counts[] = {10007};
	int *node, fails = 0, all, ncounts = 6;
	struct ar_comm *cm = NULL, *cv = NULL, *cms = NULL, *cvs = NULL;
	bool quick = argc > 1 && !strcmp(argv[1], "--quick");
	long cases = 0;
	double t0;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nprocs);
	t0 = MPI_Wtime();
	counts[2] = (size_t)nprocs - 1;
	counts[3] = (size_t)nprocs + 1;
	if (quick)
		ncounts = 5;
	node = malloc((size_t)nprocs * sizeof(*node));
	for (int r = 0; r < nprocs; r++)
		node[r] = nprocs > 1 ? r * 2 / nprocs : 0;
	{
		struct ar_comm_config m = {
			.transport = "mpi", .node_of_rank = node, .timeout_sec = 20};
		struct ar_comm_config v = {
			.transport = "verbs", .node_of_rank = node, .timeout_sec = 20};
		struct ar_comm_config ms = m, vs = v;

		ms.segment_bytes = vs.segment_bytes = 1000;
		ms.max_inflight = vs.max_inflight = 3;
		if (ar_comm_create(MPI_COMM_WORLD, &m, &cm) ||
		    ar_comm_create(MPI_COMM_WORLD, &v, &cv) ||
		    ar_comm_create(MPI_COMM_WORLD, &ms, &cms) ||
		    ar_comm_create(MPI_COMM_WORLD, &vs, &cvs)) {
			fprintf(stderr, "rank %d: ar_comm_create: %s\n", rank,
				ar_last_error_text());
			MPI_Finalize();
			return 1;
		}
	}
	fails += compare(cm, cv, counts, ncounts, quick, &cases);
	fails += compare(cms, cvs, small_counts, 1, quick, &cases);
	fails += p2p();
	fails += onesided();
	ar_comm_destroy(cvs);
	ar_comm_destroy(cms);
	ar_comm_destroy(cv);
	ar_comm_destroy(cm);
	free(node);
	MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	if (rank == 0)
		printf("verbs_check p=%d: %ld cases per rank (ring, tree, hier, rhd x %s x 5 ops x "
		       "counts 0..%s x in/out of place), verbs against mpi; point to point with "
		       "every receive posted late and in reverse; the one-sided slots "
		       "(write_imm, recv_imm, a write past a region's end): %d failures, %.1f s\n",
		       nprocs, cases, quick ? "int32, int64, uint8" : "7 types",
		       quick ? "10007" : "1300007", all, MPI_Wtime() - t0);
	MPI_Finalize();
	return all ? 1 : 0;
}
