/*
 * overlap.c - `arbench overlap`: the GPU idle fraction measured on real links.  Every rank
 * emulates data-parallel training steps of a workload (configs/workloads/) on the schedule
 * `arplan step` models (plan_timeline_load, planner/step.c): compute is a sleep, gradient buckets
 * become ready during backward and are all-reduced by this library's algorithms while backward
 * goes on (overlap_step.c).  Per step: compute, communication, exposed time, step time and the
 * idle fraction (exposed / step), means over ranks; p50 and p99 over steps; every bucket's
 * result is checked as arbench checks (float sum of the check data, bit for bit, untimed).
 * Table on stdout, JSON with -J rewritten after every step.  Exit 0 ok, 1 wrong results, 2 bad
 * input, 3 a collective failed or timed out.
 */
#include "bench/internal.h"
#include "planner/planner.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRTEXT BENCH__ERRTEXT
#define FIGURES 5 /* compute, comm, exposed, step, idle */

struct ovl_opts {
	const char *workload, *topo, *algo, *json_path;
	double scale, timeout;
	int steps, warmup, check;
	uint64_t segment;
	bool anonymize, quiet, help;
};

struct ovl {
	struct ovl_opts o;
	int argc;
	char **argv;
	struct bench_live live;
	int rank, nranks;
	struct bench_cluster cl;
	struct ar_comm *ac;
	struct plan_timeline t;
	size_t *offsets, *counts, total; /* per bucket, in float elements */
	float *sendbuf, *recvbuf;
	struct bench_check chk;
	struct bench__gpu *gpu;
	double (*per_step)[FIGURES]; /* rank 0: means over ranks, timed steps */
	uint64_t wrong;		     /* rank 0: summed over ranks and steps */
	json_t *doc, *steps;	     /* rank 0 with -J */
	bool json_failed;
	char mpi_library[256];
};

static const char *const figure_names[FIGURES] = {"compute_s", "comm_s", "exposed_s", "step_s",
						  "idle_fraction"};

/* ---- command line ---------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: mpirun -np N arbench overlap --workload W.yaml --topo T.yaml [options]\n"
		"Measure the GPU idle fraction of data-parallel training on these links: every "
		"rank\n"
		"emulates training steps of the workload as `arplan step` models them; compute is "
		"a\n"
		"sleep (the CPU stays free, as while a GPU computes); gradient buckets become "
		"ready\n"
		"during the last micro-batch's backward at the workload's times and are "
		"all-reduced\n"
		"(float sum, checked) by the communication thread while backward goes on, as DDP\n"
		"does.  One rank per data-parallel GPU.  Times in ms, idle in %%.\n"
		"\n"
		"  -W, --workload FILE      workload YAML (configs/workloads; data parallelism "
		"only)\n"
		"  -T, --topo FILE          topology the ranks run on (its catalog gives the "
		"GPU's\n"
		"                           peak; the file `arplan step --topo` takes)\n"
		"  -s, --scale X            a model X times smaller, 0 < X <= 1: compute, "
		"gradient\n"
		"                           bytes and bucket size x X (default 1)\n"
		"  -N, --steps N            timed steps (default 10)\n"
		"  -w, --warmup N           untimed steps first (default 1)\n"
		"  -A, --algo NAME          all-reduce algorithm: ring, tree, hier, rhd or mpi\n"
		"                           (default ring)\n"
		"  -c, --check 0|1          check every bucket's result bit-exactly after each "
		"step,\n"
		"                           untimed (default 1)\n"
		"  -J, --json FILE          write the results as JSON to FILE, updated after every "
		"step\n"
		"      --timeout SEC        abort when a rank or an operation is late by more than "
		"SEC\n"
		"                           seconds, naming the ranks (default 0 = wait forever)\n"
		"      --segment SIZE       pipelining segment of the algorithms (default 1M)\n"
		"      --anonymize          hostnames become node0, node1, ... in the JSON\n"
		"  -q, --quiet              no progress lines and no run description\n"
		"  -h, --help               this text\n"
		"\n"
		"Columns: compute (start of the step to the end of backward), comm (inside the\n"
		"bucket all-reduces), exposed (the last bucket's end past the end of backward), "
		"step\n"
		"(start to the later of the two), idle = exposed / step; means over ranks.\n"
		"With more ranks than cores, export OMPI_MCA_mpi_yield_when_idle=1 (arlab run "
		"does):\n"
		"a busy-polling rank otherwise delays its own GPU thread's wake-ups.\n"
		"Exit status: 0 ok, 1 wrong results, 2 bad input, 3 a collective failed or timed "
		"out.\n"
		"Test hook: ARBENCH_TEST_CORRUPT_RANK=R flips one bit of rank R's first result.\n");
}

static int fail(char *err, size_t len, const char *what, const char *arg, const char *expected)
{
	snprintf(err, len, "overlap: bad value '%s' for %s (expected %s)", arg, what, expected);
	return -EINVAL;
}

static int parse_int(const char *what, const char *arg, int min, int max, int *out, char *err,
		     size_t len)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || end == arg || v < min || v > max) {
		char expected[64];

		snprintf(expected, sizeof(expected), "a whole number %d to %d", min, max);
		return fail(err, len, what, arg, expected);
	}
	*out = (int)v;
	return 0;
}

static int parse(int argc, char **argv, struct ovl_opts *o, char *err, size_t len)
{
	static const struct option longs[] = {{"workload", required_argument, NULL, 'W'},
					      {"topo", required_argument, NULL, 'T'},
					      {"scale", required_argument, NULL, 's'},
					      {"steps", required_argument, NULL, 'N'},
					      {"warmup", required_argument, NULL, 'w'},
					      {"algo", required_argument, NULL, 'A'},
					      {"check", required_argument, NULL, 'c'},
					      {"json", required_argument, NULL, 'J'},
					      {"timeout", required_argument, NULL, 't'},
					      {"segment", required_argument, NULL, 'S'},
					      {"anonymize", no_argument, NULL, 'a'},
					      {"quiet", no_argument, NULL, 'q'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	char *end;
	int c;

	*o = (struct ovl_opts){.algo = "ring", .scale = 1, .steps = 10, .warmup = 1, .check = 1};
	err[0] = '\0';
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":W:T:s:N:w:A:c:J:qh", longs, NULL)) != -1) {
		switch (c) {
		case 'W':
			o->workload = optarg;
			break;
		case 'T':
			o->topo = optarg;
			break;
		case 's':
			o->scale = strtod(optarg, &end);
			if (*end || end == optarg || !(o->scale > 0 && o->scale <= 1))
				return fail(err, len, "--scale", optarg,
					    "a factor 0 < X <= 1, e.g. --scale 0.01");
			break;
		case 'N':
			if (parse_int("--steps", optarg, 1, 1000000, &o->steps, err, len))
				return -EINVAL;
			break;
		case 'w':
			if (parse_int("--warmup", optarg, 0, 1000000, &o->warmup, err, len))
				return -EINVAL;
			break;
		case 'A':
			if (!ar_algo_find(optarg))
				return fail(err, len, "-A", optarg, "ring, tree, hier, rhd or mpi");
			o->algo = optarg;
			break;
		case 'c':
			if (parse_int("-c", optarg, 0, 1, &o->check, err, len))
				return -EINVAL;
			break;
		case 'J':
			o->json_path = optarg;
			break;
		case 't':
			o->timeout = strtod(optarg, &end);
			if (*end || end == optarg ||
			    !(o->timeout == 0 || o->timeout >= BENCH_MIN_TIMEOUT) ||
			    o->timeout > 1e6)
				return fail(err, len, "--timeout", optarg,
					    "seconds, 0 (none) or 0.001 to 1e6");
			break;
		case 'S':
			if (bench_parse_size(optarg, &o->segment) || !o->segment)
				return fail(err, len, "--segment", optarg,
					    "a size > 0 with K/M/G, e.g. 1M");
			break;
		case 'a':
			o->anonymize = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			o->help = true;
			return 0;
		case ':':
			snprintf(err, len,
				 "overlap: option '%s' needs a value (see overlap --help)",
				 argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, len, "overlap: unknown option '%s' (see overlap --help)",
				 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, len, "overlap: unexpected argument '%s' (see overlap --help)",
			 argv[optind]);
		return -EINVAL;
	}
	if (!o->workload || !o->topo) {
		snprintf(err, len, "overlap: %s FILE is required (see overlap --help)",
			 o->workload ? "--topo" : "--workload");
		return -EINVAL;
	}
	return 0;
}

/* ---- setup ----------------------------------------------------------------------------------- */

/* The timeline (every rank reads the same files), bucket layout and buffers: bad input is
 * agreed collectively and lands in err at rank 0. */
static int setup(struct ovl *v, char *err, size_t len)
{
	double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
	int local = v->cl.map.ranks_on_node[v->cl.map.node_of_rank[v->rank]];
	char msg[ERRTEXT] = "", a[32], b[32];
	bool failed = false;
	int rc;

	rc = plan_timeline_load(v->o.workload, v->o.topo, v->nranks, v->o.scale, &v->t, msg,
				sizeof(msg));
	if (rc == -ENOMEM)
		snprintf(msg, sizeof(msg), "rank %d: out of memory loading the workload", v->rank);
	if (!rc && !v->t.n_buckets) {
		snprintf(msg, sizeof(msg), "%s: no gradients to all-reduce", v->o.workload);
		rc = -EINVAL;
	}
	if (bench__agree_failed(&v->live, rc != 0, msg, err, len))
		return -EINVAL;
	v->offsets = calloc(v->t.n_buckets, sizeof(size_t));
	v->counts = calloc(v->t.n_buckets, sizeof(size_t));
	for (size_t i = 0; v->offsets && v->counts && i < v->t.n_buckets; i++) {
		/* whole float elements, at least one: what the planner predicts */
		size_t n = (size_t)(v->t.bytes[i] / 4);

		v->offsets[i] = v->total;
		v->counts[i] = n ? n : 1;
		v->total += v->counts[i];
	}
	if (phys > 0 && 2.0 * 4 * (double)v->total * local > phys) {
		snprintf(msg, sizeof(msg),
			 "the gradients do not fit: 2 buffers of %s for each of the %d ranks on "
			 "%s, more than its %s of physical memory (expected a smaller --scale)",
			 bench_fmt_bytes(4 * v->total, a, sizeof(a)), local,
			 v->cl.hostnames[v->rank], bench_fmt_bytes((uint64_t)phys, b, sizeof(b)));
		failed = true;
	} else if (!v->offsets || !v->counts ||
		   posix_memalign((void **)&v->sendbuf, 4096, 4 * v->total) ||
		   posix_memalign((void **)&v->recvbuf, 4096, 4 * v->total)) {
		snprintf(msg, sizeof(msg), "rank %d: cannot allocate 2 buffers of %s", v->rank,
			 bench_fmt_bytes(4 * v->total, a, sizeof(a)));
		failed = true;
	}
	if (bench__agree_failed(&v->live, failed, msg, err, len))
		return -ENOMEM;
	bench_check_init(&v->chk, AR_FLOAT, AR_SUM, v->nranks);
	bench_check_fill(&v->chk, v->rank, v->sendbuf, v->total);
	return 0;
}

/* The JSON document: arbench's run description, this run's settings and workload, and the
 * steps so far. */
static int open_json(struct ovl *v, char *err, size_t len)
{
	struct bench_opts bo = {.transport = "mpi", .anonymize = v->o.anonymize};
	struct bench_run_info info = {v->argc, v->argv, v->mpi_library, &v->cl, &bo};
	const struct plan_timeline *t = &v->t;
	char msg[ERRTEXT] = "";
	bool failed = false;
	int rc = -ENOMEM;

	if (v->rank == 0 && v->o.json_path) {
		v->doc = bench_json_new(&info);
		v->steps = json_array();
		if (v->doc && v->steps) {
			json_object_del(v->doc, "results");
			json_object_set_new(v->doc, "settings",
					    json_pack("{s:i, s:i, s:b, s:f, s:I}", "timed_steps",
						      v->o.steps, "warmup_steps", v->o.warmup,
						      "check", v->o.check != 0, "timeout_sec",
						      v->o.timeout, "segment_bytes",
						      (json_int_t)v->o.segment));
			json_object_set_new(
				v->doc, "workload",
				json_pack("{s:s, s:s, s:s, s:f, s:i, s:f, s:f, s:f, s:f, s:f, s:i, "
					  "s:b, s:I}",
					  "name", t->workload, "file", v->o.workload, "topology",
					  v->o.topo, "scale", t->scale, "data", t->world,
					  "compute_s", t->compute_s, "backward_window_s",
					  t->window_s, "gradient_bytes", t->grad_bytes,
					  "bucket_bytes", t->bucket_bytes, "last_bucket_bytes",
					  t->bytes[t->n_buckets - 1], "micro_batches",
					  (int)t->micro_batches, "overlap", t->overlap, "buckets",
					  (json_int_t)t->n_buckets));
			json_object_set_new(v->doc, "algo", json_string(v->o.algo));
			json_object_set(v->doc, "steps", v->steps);
			rc = bench_json_write(v->doc, v->o.json_path);
		}
		if (rc) {
			snprintf(msg, sizeof(msg), "-J %s: cannot write: %s", v->o.json_path,
				 strerror(-rc));
			failed = true;
		}
	}
	return bench__agree_failed(&v->live, failed, msg, err, len) ? -EIO : 0;
}

/* ---- output ---------------------------------------------------------------------------------- */

static void header(const struct ovl *v)
{
	const struct plan_timeline *t = &v->t;
	char a[32], b[32], c[32];

	if (!v->o.quiet) {
		printf("# arbench overlap: %s x %g on %d ranks (%d node%s), %s, %s\n", t->workload,
		       t->scale, v->nranks, v->cl.map.n_nodes, v->cl.map.n_nodes == 1 ? "" : "s",
		       v->o.algo, v->mpi_library);
		printf("# gradients %s per rank in %zu buckets of %s (last %s), float sum\n",
		       bench_fmt_bytes(4 * v->total, a, sizeof(a)), t->n_buckets,
		       bench_fmt_bytes(4 * v->counts[0], b, sizeof(b)),
		       bench_fmt_bytes(4 * v->counts[t->n_buckets - 1], c, sizeof(c)));
		printf("# compute %.1f ms per step, %u micro-batch%s; buckets ready %s; %d "
		       "warm-up step%s, %d timed\n",
		       t->compute_s * 1e3, t->micro_batches, t->micro_batches == 1 ? "" : "es",
		       t->overlap ? "during the last backward"
				  : "at the end of backward (no overlap)",
		       v->o.warmup, v->o.warmup == 1 ? "" : "s", v->o.steps);
	}
	printf("#%6s %10s %10s %10s %10s %7s %7s\n", "step", "compute", "comm", "exposed", "step",
	       "idle", "#wrong");
	printf("#%6s %10s %10s %10s %10s %7s %7s\n", "", "(ms)", "(ms)", "(ms)", "(ms)", "(%)", "");
}

static void row(const char *label, const double *f, long long wrong)
{
	printf("%7s %10.1f %10.1f %10.1f %10.1f %7.1f", label, f[0] * 1e3, f[1] * 1e3, f[2] * 1e3,
	       f[3] * 1e3, f[4] * 100);
	if (wrong >= 0)
		printf(" %7lld", wrong);
	putchar('\n');
}

/* p50, p99 and mean over the timed steps: the table's footer and the JSON's summaries. */
static void summary(struct ovl *v)
{
	struct bench_stats st[FIGURES];
	double *x = malloc(sizeof(double) * (size_t)v->o.steps), p50[FIGURES], p99[FIGURES],
	       mean[FIGURES];

	if (!x)
		return;
	for (int k = 0; k < FIGURES; k++) {
		for (int i = 0; i < v->o.steps; i++)
			x[i] = v->per_step[i][k];
		bench_stats_compute(x, (size_t)v->o.steps, &st[k]);
		p50[k] = st[k].p50;
		p99[k] = st[k].p99;
		mean[k] = st[k].avg;
		if (v->doc)
			json_object_set_new(v->doc, figure_names[k],
					    json_pack("{s:f, s:f, s:f, s:f, s:f}", "min", st[k].min,
						      "p50", st[k].p50, "avg", st[k].avg, "p99",
						      st[k].p99, "max", st[k].max));
	}
	free(x);
	row("p50", p50, -1);
	row("p99", p99, -1);
	row("mean", mean, -1);
	printf("# Out of bounds values : %llu %s\n", (unsigned long long)v->wrong,
	       v->wrong ? "FAILED" : "OK");
	if (!v->o.quiet)
		printf("# predicted: arplan step --topo %s --workload %s --scale %g --algo %s "
		       "[--calib C.yaml]\n",
		       v->o.topo, v->o.workload, v->o.scale, v->o.algo);
}

static void write_json(struct ovl *v)
{
	int rc;

	if (!v->doc || v->json_failed)
		return;
	rc = bench_json_write(v->doc, v->o.json_path);
	if (rc) {
		fprintf(stderr, "arbench: cannot write %s: %s (JSON output stops)\n",
			v->o.json_path, strerror(-rc));
		v->json_failed = true;
	}
}

/* ---- the run --------------------------------------------------------------------------------- */

/* One step on every rank; rank 0 prints and records the timed ones (k >= 0). */
static void one_step(struct ovl *v, int k, double t_start, double *t_progress)
{
	struct bench__step_times tm;
	double mine[FIGURES], sum[FIGURES];
	uint64_t wrong = 0, total = 0;
	char what[64], label[16];
	const char *corrupt = getenv("ARBENCH_TEST_CORRUPT_RANK");

	snprintf(what, sizeof(what), "step %d", k + v->o.warmup + 1);
	if (v->o.check)
		memset(v->recvbuf, 0xa5, 4 * v->total); /* no stale right answer */
	bench__arrival_check(&v->live, k + v->o.warmup, what);
	if (bench__gpu_step(v->gpu, v->ac, v->o.algo, v->sendbuf, v->recvbuf, v->offsets, v->counts,
			    &tm))
		bench__collective_failed(&v->live, ar_comm_error(v->ac));
	if (v->o.check) {
		if (corrupt && *corrupt && atoi(corrupt) == v->rank && k == -v->o.warmup)
			((unsigned char *)v->recvbuf)[0] ^= 0x01;
		wrong = bench_check_wrong(&v->chk, v->recvbuf, v->total);
	}
	mine[0] = tm.compute;
	mine[1] = tm.comm;
	mine[2] = tm.exposed;
	mine[3] = tm.step;
	mine[4] = tm.idle;
	MPI_Reduce(mine, sum, FIGURES, MPI_DOUBLE, MPI_SUM, 0, v->live.comm);
	MPI_Reduce(&wrong, &total, 1, MPI_UINT64_T, MPI_SUM, 0, v->live.comm);
	if (v->rank != 0)
		return;
	v->wrong += total;
	for (int i = 0; i < FIGURES; i++)
		sum[i] /= v->nranks;
	if (k < 0) {
		if (total)
			printf("# warm-up step %d: %llu wrong values\n", k + v->o.warmup + 1,
			       (unsigned long long)total);
		return;
	}
	memcpy(v->per_step[k], sum, sizeof(sum));
	snprintf(label, sizeof(label), "%d", k + 1);
	row(label, sum, (long long)total);
	fflush(stdout);
	if (v->steps) {
		json_t *s =
			json_pack("{s:i, s:f, s:f, s:f, s:f, s:f, s:I}", "step", k + 1, "compute_s",
				  sum[0], "comm_s", sum[1], "exposed_s", sum[2], "step_s", sum[3],
				  "idle_fraction", sum[4], "wrong", (json_int_t)total);

		if (!s || json_array_append_new(v->steps, s))
			bench__die(&v->live, "out of memory keeping results");
		write_json(v);
	}
	double t = MPI_Wtime();

	if (!v->o.quiet && t - t_start > 3 && t - *t_progress >= 1) {
		*t_progress = t;
		fprintf(stderr, "[%d/%d steps] idle %.1f%%\n", k + 1, v->o.steps, sum[4] * 100);
	}
}

static int run(struct ovl *v, char *err, size_t len)
{
	struct ar_comm_config cfg = {
		.transport = "mpi", .segment_bytes = v->o.segment, .timeout_sec = v->o.timeout};
	char msg[ERRTEXT];
	double t_start, t_progress = 0;
	int rc, ok, all;

	rc = bench_cluster_gather(v->live.comm, &v->cl);
	if (rc) {
		snprintf(err, len, "cannot build the cluster map: %s", strerror(-rc));
		return BENCH_EXIT_RUNTIME;
	}
	cfg.node_of_rank = v->cl.map.node_of_rank;
	rc = ar_comm_create(v->live.comm, &cfg, &v->ac);
	snprintf(msg, sizeof(msg), "%s", rc ? ar_last_error_text() : "");
	if (bench__agree_failed(&v->live, rc != 0, msg, err, len))
		return BENCH_EXIT_RUNTIME;
	ok = ar_algo_find(v->o.algo)->supports(v->ac);
	MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, v->live.comm);
	if (!all) {
		snprintf(err, len,
			 "overlap: -A %s is not supported on this run (%d ranks on %d nodes)",
			 v->o.algo, v->nranks, v->cl.map.n_nodes);
		return BENCH_EXIT_USAGE;
	}
	if (setup(v, err, len) || open_json(v, err, len))
		return BENCH_EXIT_USAGE;
	v->per_step = calloc((size_t)v->o.steps, sizeof(*v->per_step));
	rc = bench__gpu_start(&v->t, &v->gpu);
	snprintf(msg, sizeof(msg), "rank %d: cannot start the GPU thread: %s", v->rank,
		 strerror(rc ? -rc : ENOMEM));
	if (bench__agree_failed(&v->live, rc || !v->per_step, msg, err, len))
		return BENCH_EXIT_RUNTIME;
	if (v->rank == 0)
		header(v);
	t_start = MPI_Wtime();
	for (int k = -v->o.warmup; k < v->o.steps; k++)
		one_step(v, k, t_start, &t_progress);
	if (v->o.check) /* out of place: the send buffer must be untouched */
		v->wrong += bench_check_input_wrong(&v->chk, v->rank, v->sendbuf, v->total);
	{
		uint64_t w = v->wrong, total = 0;

		MPI_Reduce(&w, &total, 1, MPI_UINT64_T, MPI_SUM, 0, v->live.comm);
		v->wrong = total;
	}
	if (v->rank == 0) {
		summary(v);
		write_json(v);
	}
	rc = v->rank == 0 ? (v->wrong	      ? BENCH_EXIT_CHECK
			     : v->json_failed ? BENCH_EXIT_RUNTIME
					      : BENCH_EXIT_OK)
			  : 0;
	if (v->rank == 0 && v->wrong)
		fprintf(stderr, "arbench: %llu wrong values\n", (unsigned long long)v->wrong);
	MPI_Bcast(&rc, 1, MPI_INT, 0, v->live.comm);
	return rc;
}

static void ovl_free(struct ovl *v)
{
	bench__gpu_stop(v->gpu);
	if (v->ac)
		ar_comm_destroy(v->ac);
	plan_timeline_free(&v->t);
	free(v->offsets);
	free(v->counts);
	free(v->sendbuf);
	free(v->recvbuf);
	free(v->per_step);
	json_decref(v->steps);
	json_decref(v->doc);
	bench_cluster_free(&v->cl);
}

int bench_overlap_main(int argc, char **argv, char *err, size_t errlen)
{
	struct ovl v = {.argc = argc, .argv = argv};
	int provided, code;

	MPI_Comm_rank(MPI_COMM_WORLD, &v.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &v.nranks);
	if (parse(argc - 1, argv + 1, &v.o, err, errlen))
		return BENCH_EXIT_USAGE;
	if (v.o.help) {
		if (v.rank == 0)
			usage(stdout);
		return BENCH_EXIT_OK;
	}
	/* only the main thread calls MPI; the GPU thread just sleeps */
	MPI_Query_thread(&provided);
	if (provided < MPI_THREAD_FUNNELED) {
		snprintf(err, errlen,
			 "overlap: the MPI library gives thread level %d, below "
			 "MPI_THREAD_FUNNELED (needed: a second thread emulates the GPU)",
			 provided);
		return BENCH_EXIT_RUNTIME;
	}
	bench__mpi_library(v.mpi_library, sizeof(v.mpi_library));
	v.live = (struct bench_live){
		.comm = MPI_COMM_WORLD, .rank = v.rank, .nranks = v.nranks, .timeout = v.o.timeout};
	MPI_Comm_dup(MPI_COMM_WORLD, &v.live.ctl);
	code = run(&v, err, errlen);
	ovl_free(&v);
	MPI_Comm_free(&v.live.ctl);
	return code;
}
