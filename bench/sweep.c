/*
 * sweep.c - the measurement loop of arbench: for every type, op, size and algorithm it runs
 * warm-up iterations, then timed iterations (each timed alone with MPI_Wtime on every rank),
 * then, separately and untimed, one checked out-of-place and one checked in-place all-reduce.
 *
 * Timing: a barrier before the timed iterations, none between them (nccl-tests' back-to-back
 * loop).  Sample k of a size is iteration k's time combined over ranks per -a (avg by default,
 * as nccl-tests' default -a 1; min; max); the table shows the mean of the samples, the JSON
 * also min, p50, p99, max.  slowest_rank is the rank with the largest mean iteration time.
 *
 * Liveness (liveness.c): with --timeout T, before every size and algorithm and before the
 * timed iterations, rank 0 checks that every rank arrived within T and otherwise names the
 * missing ones; inside the collective, the library's own per-operation timeout (the same T)
 * names rank, peer and operation, and the job prints that once.
 */
#include "bench/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRTEXT	    BENCH__ERRTEXT
#define MAX_SIZES   4096 /* sizes per type and op */
#define MEM_BUFFERS 3	 /* send, receive, and about one more for the library's scratch */
#define SEG_STAGING 8	 /* the library's scratch: the tree stages 4 x 2 in-flight segments */

struct sweep {
	MPI_Comm comm;
	struct bench_live live; /* the same ranks, for liveness.c */
	int rank, nranks;
	const struct bench_opts *o;
	int argc;
	char **argv;
	char mpi_library[256];
	struct bench_cluster cl;
	struct ar_comm *ac;
	const struct ar_algo *algos[BENCH_MAX_ALGOS];
	size_t n_algos;
	void *sendbuf, *recvbuf;
	bool shared_buffers;	    /* from ar_mem_alloc (-R 1): the communicator owns them */
	double *samples, *combined; /* [iters] */
	struct bench_result *res;   /* rank 0: every result so far */
	size_t n_res, cap_res;
	json_t *doc; /* rank 0 with -J */
	bool json_failed;
	uint64_t wrong_total; /* rank 0 */
	size_t step, n_steps; /* size steps (type x op x size), for progress */
	struct bench_progress prog;
	int stall_rank; /* test hooks, -1 when unset */
	double stall_sec;
	bool stall_in_collective;
	int corrupt_rank;
};

/* Test hook: rank stall_rank sleeps before the second size, either before the arrival check
 * (default) or, with ARBENCH_TEST_STALL_AT=collective, after it, so that the collective's own
 * timeout has to catch it. */
static void test_stall(struct sweep *s, bool in_collective)
{
	size_t at = s->n_steps > 1 ? 1 : 0;

	if (s->rank == s->stall_rank && s->step == at && in_collective == s->stall_in_collective) {
		fprintf(stderr, "arbench-test-hook: rank %d stalls for %.0f s\n", s->rank,
			s->stall_sec);
		bench__sleep(s->stall_sec);
		s->stall_rank = -1;
	}
}

/* ---- one measurement ------------------------------------------------------------------------- */

static void run_or_die(struct sweep *s, const struct ar_algo *a, const void *sb, void *rb,
		       size_t count, enum ar_dtype d, enum ar_op op)
{
	if (ar_allreduce(s->ac, a->name, sb, rb, count, d, op))
		bench__collective_failed(&s->live, ar_comm_error(s->ac));
}

/* Warm up, time o->iters iterations, combine over ranks; rank 0 fills r's timing fields. */
static void time_mode(struct sweep *s, const struct ar_algo *a, const struct bench_check *chk,
		      size_t count, bool inplace, const char *what, struct bench_result *r)
{
	const struct bench_opts *o = s->o;
	static const MPI_Op agg_ops[BENCH_AGG_COUNT] = {
		[BENCH_AGG_AVG] = MPI_SUM, /* divided below */
		[BENCH_AGG_MIN] = MPI_MIN,
		[BENCH_AGG_MAX] = MPI_MAX,
		[BENCH_AGG_RANK0] = MPI_OP_NULL, /* rank 0's own samples */
	};
	const void *sb = inplace ? s->recvbuf : s->sendbuf;
	struct {
		double mean;
		int rank;
	} mine = {0, s->rank}, slowest;

	bench_fill_timing(chk, s->rank, inplace ? s->recvbuf : s->sendbuf, count);
	for (int i = 0; i < o->warmup; i++)
		run_or_die(s, a, sb, s->recvbuf, count, chk->dtype, chk->op);
	bench__arrival_check(&s->live, (int)s->step, what);
	for (int i = 0; i < o->iters; i++) {
		double t0 = MPI_Wtime();

		run_or_die(s, a, sb, s->recvbuf, count, chk->dtype, chk->op);
		s->samples[i] = MPI_Wtime() - t0;
		mine.mean += s->samples[i];
	}
	mine.mean /= o->iters;
	if (o->agg == BENCH_AGG_RANK0)
		memcpy(s->combined, s->samples, (size_t)o->iters * sizeof(double));
	else
		MPI_Reduce(s->samples, s->combined, o->iters, MPI_DOUBLE, agg_ops[o->agg], 0,
			   s->comm);
	MPI_Reduce(&mine, &slowest, 1, MPI_DOUBLE_INT, MPI_MAXLOC, 0, s->comm);
	if (s->rank != 0)
		return;
	for (int i = 0; i < o->iters; i++)
		s->combined[i] *= 1e6 / (o->agg == BENCH_AGG_AVG ? s->nranks : 1);
	bench_stats_compute(s->combined, (size_t)o->iters, &r->time_us);
	r->algbw = bench_algbw(r->size, r->time_us.avg * 1e-6);
	r->busbw = bench_busbw(r->algbw, s->nranks);
	r->slowest_rank = slowest.rank;
}

/* One untimed checked all-reduce; returns the wrong elements summed over ranks (rank 0). */
static uint64_t check_mode(struct sweep *s, const struct ar_algo *a, const struct bench_check *chk,
			   size_t count, bool inplace)
{
	uint64_t wrong = 0, total = 0;

	if (inplace) {
		bench_check_fill(chk, s->rank, s->recvbuf, count);
		run_or_die(s, a, s->recvbuf, s->recvbuf, count, chk->dtype, chk->op);
	} else {
		bench_check_fill(chk, s->rank, s->sendbuf, count);
		memset(s->recvbuf, 0xa5, count * chk->esize); /* no stale right answer */
		run_or_die(s, a, s->sendbuf, s->recvbuf, count, chk->dtype, chk->op);
		wrong += bench_check_input_wrong(chk, s->rank, s->sendbuf, count);
	}
	if (s->rank == s->corrupt_rank && count) /* test hook: a wrong result must be seen */
		((unsigned char *)s->recvbuf)[0] ^= 0x01;
	wrong += bench_check_wrong(chk, s->recvbuf, count);
	MPI_Reduce(&wrong, &total, 1, MPI_UINT64_T, MPI_SUM, 0, s->comm);
	return total;
}

static int keep_result(struct sweep *s, const struct bench_result *r)
{
	if (s->n_res == s->cap_res) {
		size_t cap = s->cap_res ? s->cap_res * 2 : 64;
		struct bench_result *bigger = realloc(s->res, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		s->res = bigger;
		s->cap_res = cap;
	}
	s->res[s->n_res++] = *r;
	if (s->doc && bench_json_add(s->doc, r))
		return -ENOMEM;
	return 0;
}

/* Work of one algorithm at one size, for the estimate of the time left: bytes reduced plus a
 * per-call cost of 4 KiB, over the warm-up, timed and checked calls of both placements. */
static double size_work(const struct sweep *s, uint64_t size)
{
	return 2.0 * (s->o->warmup + s->o->iters + (s->o->check ? 1 : 0)) * ((double)size + 4096);
}

static void progress(struct sweep *s, uint64_t size, const struct bench_check *chk,
		     const char *algo)
{
	char what[128], sz[32];

	if (s->rank != 0)
		return;
	snprintf(what, sizeof(what), "%zu/%zu sizes, %s %s %s %s", s->step + 1, s->n_steps,
		 bench_fmt_bytes(size, sz, sizeof(sz)), ar_dtype_name(chk->dtype),
		 ar_op_name(chk->op), algo);
	bench_progress_show(&s->prog, what);
}

/* Every algorithm at one size of one type and op. */
static void measure_size(struct sweep *s, const struct bench_check *chk, uint64_t size)
{
	size_t count = size / chk->esize;
	char what[160], sz[32];

	for (size_t k = 0; k < s->n_algos; k++) {
		const struct ar_algo *a = s->algos[k];
		struct bench_result r[2];

		progress(s, size, chk, a->name);
		snprintf(what, sizeof(what), "size %s (%s %s, %s)",
			 bench_fmt_bytes(size, sz, sizeof(sz)), ar_dtype_name(chk->dtype),
			 ar_op_name(chk->op), a->name);
		test_stall(s, false);
		bench__arrival_check(&s->live, (int)s->step, what);
		test_stall(s, true);
		for (int ip = 0; ip < 2; ip++) {
			r[ip] = (struct bench_result){.size = size,
						      .count = count,
						      .dtype = chk->dtype,
						      .op = chk->op,
						      .algo = a->name,
						      .transport = s->o->transport,
						      .inplace = ip};
			time_mode(s, a, chk, count, ip, what, &r[ip]);
			if (s->o->check)
				r[ip].wrong = check_mode(s, a, chk, count, ip);
		}
		bench_progress_add(&s->prog, size_work(s, size));
		if (s->rank != 0)
			continue;
		s->wrong_total += r[0].wrong + r[1].wrong;
		bench_table_row(stdout, &r[0], &r[1], s->o->check);
		if (keep_result(s, &r[0]) || keep_result(s, &r[1]))
			bench__die(&s->live, "out of memory keeping results");
	}
	if (s->rank == 0 && s->doc && !s->json_failed) {
		int err = bench_json_write(s->doc, s->o->json_path);

		if (err) {
			fprintf(stderr, "arbench: cannot write %s: %s (JSON output stops)\n",
				s->o->json_path, strerror(-err));
			s->json_failed = true;
		}
	}
	s->step++;
}

/* ---- setup ----------------------------------------------------------------------------------- */

/* Which algorithms run: the -A list, minus (with -A all) those this communicator cannot run;
 * an explicitly requested unsupported one is bad input. */
static int choose_algos(struct sweep *s, char *skipped, size_t slen, char *err, size_t errlen)
{
	size_t used = 0;

	skipped[0] = '\0';
	for (size_t i = 0; i < s->o->n_algos; i++) {
		const struct ar_algo *a = ar_algo_at(s->o->algos[i]);
		int mine = a->supports(s->ac), all;

		MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, s->comm);
		if (all) {
			s->algos[s->n_algos++] = a;
		} else if (s->o->algos_all) {
			used += (size_t)snprintf(skipped + used, used < slen ? slen - used : 0,
						 "%s%s", used ? ", " : "", a->name);
		} else {
			snprintf(
				err, errlen,
				"-A %s: not supported on this run (%d ranks on %d nodes, transport "
				"%s); choose another or -A all",
				a->name, s->nranks, s->cl.map.n_nodes, s->o->transport);
			return -EOPNOTSUPP;
		}
	}
	if (!s->n_algos) {
		snprintf(err, errlen, "no requested algorithm can run here (%d ranks, %d nodes)",
			 s->nranks, s->cl.map.n_nodes);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Sizes must fit in physical memory with the ranks sharing this node; then allocate. */
static int alloc_buffers(struct sweep *s, char *err, size_t errlen)
{
	double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
	int local = s->cl.map.ranks_on_node[s->cl.map.node_of_rank[s->rank]];
	double need = (double)s->o->maxbytes * MEM_BUFFERS * local;
	char msg[ERRTEXT], a[32], b[32], c[32];
	bool failed = false;

	if (phys > 0 && need > phys) {
		snprintf(msg, sizeof(msg),
			 "-e %s does not fit: %d buffers of it for each of the %d ranks on %s "
			 "need %s, more than its %s of physical memory",
			 bench_fmt_bytes(s->o->maxbytes, a, sizeof(a)), MEM_BUFFERS, local,
			 s->cl.hostnames[s->rank],
			 need < 1e18 ? bench_fmt_bytes((uint64_t)need, b, sizeof(b)) : "over 1 EB",
			 bench_fmt_bytes((uint64_t)phys, c, sizeof(c)));
		failed = true;
	}
	if (!failed && phys > 0 && s->o->segment &&
	    (double)s->o->segment * SEG_STAGING * local > phys) {
		snprintf(msg, sizeof(msg),
			 "--segment %s does not fit: the algorithms stage up to %d segments per "
			 "rank, for each of the %d ranks on %s more than its %s of physical memory "
			 "(expected a segment of at most a few MiB, e.g. --segment 1M)",
			 bench_fmt_bytes(s->o->segment, a, sizeof(a)), SEG_STAGING, local,
			 s->cl.hostnames[s->rank], bench_fmt_bytes((uint64_t)phys, c, sizeof(c)));
		failed = true;
	}
	if (bench__agree_failed(&s->live, failed, msg, err, errlen))
		return -ENOMEM;
	if (s->o->shared_buffers) {
		/* collective; every rank gets the same verdict */
		int rc = ar_mem_alloc(s->ac, s->o->maxbytes, &s->sendbuf);

		if (!rc)
			rc = ar_mem_alloc(s->ac, s->o->maxbytes, &s->recvbuf);
		s->shared_buffers = true;
		if (rc) {
			snprintf(err, errlen, "-R 1: cannot allocate node-shared buffers: %s",
				 ar_comm_error(s->ac));
			return rc;
		}
	} else if (posix_memalign(&s->sendbuf, 4096, s->o->maxbytes) ||
		   posix_memalign(&s->recvbuf, 4096, s->o->maxbytes)) {
		snprintf(msg, sizeof(msg), "rank %d: cannot allocate 2 buffers of %s (-e)", s->rank,
			 bench_fmt_bytes(s->o->maxbytes, a, sizeof(a)));
		failed = true;
	}
	s->samples = calloc((size_t)s->o->iters, sizeof(double));
	s->combined = calloc((size_t)s->o->iters, sizeof(double));
	if (!s->samples || !s->combined) {
		snprintf(msg, sizeof(msg), "rank %d: out of memory for %d timing samples", s->rank,
			 s->o->iters);
		failed = true;
	}
	if (bench__agree_failed(&s->live, failed, msg, err, errlen))
		return -ENOMEM;
	return 0;
}

/* Every (type, op) must have an exact check on this many ranks; count the size steps. */
static int plan_steps(struct sweep *s, char *err, size_t errlen)
{
	uint64_t sizes[MAX_SIZES + 1];

	s->n_steps = 0;
	for (int d = 0; d < AR_DTYPE_COUNT; d++) {
		for (int op = 0; op < AR_OP_COUNT; op++) {
			struct bench_check chk;
			size_t n;

			if (!s->o->types[d] || !s->o->ops[op])
				continue;
			if (s->o->check && bench_check_init(&chk, d, op, s->nranks)) {
				snprintf(err, errlen,
					 "cannot check %s %s exactly on %d ranks: use -c 0 for it",
					 ar_dtype_name(d), ar_op_name(op), s->nranks);
				return -ERANGE;
			}
			n = bench_sizes(s->o, ar_dtype_size(d), sizes, MAX_SIZES + 1);
			if (n > MAX_SIZES) {
				snprintf(err, errlen,
					 "-b/-e/-i/-f give more than %d sizes: raise -f or -i, or "
					 "narrow -b/-e",
					 MAX_SIZES);
				return -E2BIG;
			}
			s->n_steps += n;
		}
	}
	if (!s->n_steps) {
		snprintf(err, errlen, "-b/-e: no size in [%llu, %llu] holds a whole element",
			 (unsigned long long)s->o->minbytes, (unsigned long long)s->o->maxbytes);
		return -EINVAL;
	}
	return 0;
}

static int open_json(struct sweep *s, char *err, size_t errlen)
{
	struct bench_run_info info = {s->argc, s->argv, s->mpi_library, &s->cl, s->o};
	char msg[ERRTEXT] = "";
	bool failed = false;
	int rc;

	if (s->rank == 0 && s->o->json_path) {
		s->doc = bench_json_new(&info);
		rc = s->doc ? bench_json_write(s->doc, s->o->json_path) : -ENOMEM;
		if (rc) {
			snprintf(msg, sizeof(msg), "-J %s: cannot write: %s", s->o->json_path,
				 strerror(-rc));
			failed = true;
		}
	}
	return bench__agree_failed(&s->live, failed, msg, err, errlen) ? -EIO : 0;
}

static void setup_test_hook(struct sweep *s)
{
	const char *r = getenv("ARBENCH_TEST_STALL_RANK");
	const char *sec = getenv("ARBENCH_TEST_STALL_SEC");

	s->stall_rank = r && *r ? atoi(r) : -1;
	s->stall_sec = sec && *sec ? atof(sec) : 30;
	s->stall_in_collective =
		(sec = getenv("ARBENCH_TEST_STALL_AT")) && !strcmp(sec, "collective");
	r = getenv("ARBENCH_TEST_CORRUPT_RANK");
	s->corrupt_rank = r && *r ? atoi(r) : -1;
}

/* ---- the run --------------------------------------------------------------------------------- */

/* The final verdict at rank 0: wrong values, then the busbw threshold. */
static int verdict(struct sweep *s)
{
	double sum = 0;
	size_t n = 0;

	bench_table_footer(stdout, s->res, s->n_res, s->wrong_total);
	bench_table_summary(stdout, s->res, s->n_res);
	if (s->wrong_total) {
		fprintf(stderr, "arbench: %llu wrong values\n", (unsigned long long)s->wrong_total);
		return BENCH_EXIT_CHECK;
	}
	if (s->o->min_busbw < 0)
		return s->json_failed ? BENCH_EXIT_RUNTIME : BENCH_EXIT_OK;
	for (size_t i = 0; i < s->n_res; i++) {
		if (s->res[i].size >= (1u << 20)) {
			sum += s->res[i].busbw;
			n++;
		}
	}
	if (!n || sum / n < s->o->min_busbw) {
		fprintf(stderr,
			"arbench: mean busbw over sizes >= 1 MiB is %.3f GB/s, below "
			"--min-busbw %g GB/s\n",
			n ? sum / n : 0.0, s->o->min_busbw);
		return BENCH_EXIT_CHECK;
	}
	return s->json_failed ? BENCH_EXIT_RUNTIME : BENCH_EXIT_OK;
}

/* The total work of the sweep, for the estimate of the time left. */
static double total_work(const struct sweep *s)
{
	uint64_t sizes[MAX_SIZES];
	double total = 0;

	for (int d = 0; d < AR_DTYPE_COUNT; d++) {
		for (int op = 0; op < AR_OP_COUNT; op++) {
			size_t n;

			if (!s->o->types[d] || !s->o->ops[op])
				continue;
			n = bench_sizes(s->o, ar_dtype_size(d), sizes, MAX_SIZES);
			for (size_t i = 0; i < n; i++)
				total += size_work(s, sizes[i]) * (double)s->n_algos;
		}
	}
	return total;
}

static void sweep_all(struct sweep *s)
{
	uint64_t sizes[MAX_SIZES];

	bench_progress_start(&s->prog, total_work(s), s->rank == 0 && !s->o->quiet);
	for (int d = 0; d < AR_DTYPE_COUNT; d++) {
		for (int op = 0; op < AR_OP_COUNT; op++) {
			struct bench_check chk;
			size_t n;

			if (!s->o->types[d] || !s->o->ops[op])
				continue;
			/* -ERANGE (no exact check on this many ranks) was refused in
			 * plan_steps unless -c 0, where only the timing fill is used */
			bench_check_init(&chk, d, op, s->nranks);
			n = bench_sizes(s->o, chk.esize, sizes, MAX_SIZES);
			for (size_t i = 0; i < n; i++)
				measure_size(s, &chk, sizes[i]);
		}
	}
}

static void sweep_free(struct sweep *s)
{
	if (s->shared_buffers) { /* ar_comm_destroy frees them */
		s->sendbuf = NULL;
		s->recvbuf = NULL;
	}
	if (s->ac)
		ar_comm_destroy(s->ac);
	json_decref(s->doc);
	free(s->res);
	free(s->samples);
	free(s->combined);
	free(s->sendbuf);
	free(s->recvbuf);
	bench_cluster_free(&s->cl);
	MPI_Comm_free(&s->live.ctl);
}

int bench_run(MPI_Comm comm, const struct bench_opts *o, int argc, char **argv, char *err,
	      size_t errlen)
{
	struct sweep s = {.comm = comm, .o = o, .argc = argc, .argv = argv};
	struct ar_comm_config cfg = {0};
	char skipped[256], msg[ERRTEXT];
	int code = BENCH_EXIT_USAGE, rc, bad;

	err[0] = '\0';
	MPI_Comm_rank(comm, &s.rank);
	MPI_Comm_size(comm, &s.nranks);
	MPI_Comm_dup(comm, &s.live.ctl);
	s.live.comm = comm;
	s.live.rank = s.rank;
	s.live.nranks = s.nranks;
	s.live.timeout = o->timeout;
	bench__mpi_library(s.mpi_library, sizeof(s.mpi_library));
	setup_test_hook(&s);
	rc = bench_cluster_gather(comm, &s.cl);
	if (rc) {
		snprintf(err, errlen, "cannot build the cluster map: %s", strerror(-rc));
		code = BENCH_EXIT_RUNTIME;
		goto out_free;
	}
	cfg.transport = o->transport;
	cfg.device = o->ib_dev;
	cfg.gid_index = o->gid_index;
	cfg.gid_index_set = o->gid_index_set;
	cfg.segment_bytes = o->segment;
	cfg.timeout_sec = o->timeout;
	cfg.node_of_rank = s.cl.map.node_of_rank;
	rc = ar_comm_create(comm, &cfg, &s.ac);
	snprintf(msg, sizeof(msg), "%s", rc ? ar_last_error_text() : "");
	/* a device, port or GID index that does not exist is bad input, not a runtime failure */
	bad = rc == -ENODEV || rc == -EINVAL;
	MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, comm);
	if (bench__agree_failed(&s.live, rc != 0, msg, err, errlen)) {
		code = bad ? BENCH_EXIT_USAGE : BENCH_EXIT_RUNTIME;
		goto out_free;
	}
	if (choose_algos(&s, skipped, sizeof(skipped), err, errlen) ||
	    plan_steps(&s, err, errlen) || alloc_buffers(&s, err, errlen) ||
	    open_json(&s, err, errlen))
		goto out_free; /* bad input: the same verdict on every rank */

	if (s.rank == 0) {
		if (skipped[0] && !o->quiet)
			printf("# skipped (not supported on this run): %s\n", skipped);
		bench_table_header(stdout, o, &s.cl, s.mpi_library);
	}
	sweep_all(&s);
	if (s.rank == 0)
		code = verdict(&s);
	MPI_Bcast(&code, 1, MPI_INT, 0, comm);

out_free:
	sweep_free(&s);
	return code;
}
