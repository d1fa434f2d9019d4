/*
 * test_bench.c - unit tests of bench/ and topo's discovery and cluster map, without mpirun:
 * size parsing, option parsing (good and bad argv), the size sweep, statistics and the busbw
 * formula, the exact-check data (every type, op and rank count, reduced in several orders),
 * the cluster map, JSON anonymisation and the atomic JSON write, hwloc discovery on a
 * synthetic topology.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench/bench.h"

/* ---- sizes ----------------------------------------------------------------------------------- */

static void test_parse_size_good(void **state)
{
	static const struct {
		const char *text;
		uint64_t want;
	} cases[] = {
		{"0", 0},
		{"8", 8},
		{"1K", 1024},
		{"1k", 1024},
		{"64M", 64ull << 20},
		{"1G", 1ull << 30},
		{"1GB", 1ull << 30},
		{"2T", 2ull << 40},
		{"100B", 100},
		{"18446744073709551615", UINT64_MAX},
		{"16777215T", 16777215ull << 40},
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		assert_int_equal(bench_parse_size(cases[i].text, &v), 0);
		assert_true(v == cases[i].want);
	}
}

static void test_parse_size_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"1X",
		"X1",
		"1KK",
		"-1",
		"1.5K",
		" 8",
		"8 ",
		"1KBB",
		"0x10",
		"K",
		"1MiB",
		"18446744073709551616", /* 2^64 */
		"16777216T",		/* 2^64 again, through the suffix */
		"99999999999999999999999",
	};
	uint64_t v = 777;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(bench_parse_size(bad[i], &v), -EINVAL);
		assert_true(v == 777); /* untouched on error */
	}
	assert_int_equal(bench_parse_size(NULL, &v), -EINVAL);
}

/* ---- options --------------------------------------------------------------------------------- */

static int parse(struct bench_opts *o, char *err, size_t len, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;

	argv[argc++] = "arbench";
	va_start(ap, len);
	for (char *a; (a = va_arg(ap, char *)) && argc < 63;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return bench_parse_args(argc, argv, o, err, len);
}

static void test_options_defaults(void **state)
{
	struct bench_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), NULL), 0);
	assert_true(o.minbytes == 8 && o.maxbytes == 32u << 20);
	assert_true(o.stepfactor == 2);
	assert_int_equal(o.iters, 20);
	assert_int_equal(o.warmup, 5);
	assert_int_equal(o.check, 1);
	assert_true(o.types[AR_FLOAT] && !o.types[AR_DOUBLE]);
	assert_true(o.ops[AR_SUM] && !o.ops[AR_MAX]);
	assert_true(o.algos_all);
	assert_int_equal(o.n_algos, ar_algo_count());
	assert_string_equal(o.transport, "mpi");
	assert_null(o.json_path);
	assert_int_equal(o.agg, BENCH_AGG_AVG);
	assert_true(o.min_busbw < 0 && o.timeout == 0 && o.segment == 0);
	assert_false(o.anonymize || o.quiet || o.help || o.version);
}

static void test_options_good(void **state)
{
	struct bench_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), "-b", "1K", "-e", "64M", "-f", "4", "-n", "10",
			       "-w", "0", "-c", "0", "-d", "all", "-o", "sum,max", "-A",
			       "tree,ring", "-a", "max", "--min-busbw", "5.5", "--timeout", "3",
			       "--segment", "256K", "--anonymize", "--quiet", "-J", "out.json",
			       "-t", "mpi", NULL),
			 0);
	assert_true(o.minbytes == 1024 && o.maxbytes == 64u << 20 && o.stepfactor == 4);
	assert_int_equal(o.iters, 10);
	assert_int_equal(o.warmup, 0);
	assert_int_equal(o.check, 0);
	for (int d = 0; d < AR_DTYPE_COUNT; d++)
		assert_true(o.types[d]);
	assert_true(o.ops[AR_SUM] && o.ops[AR_MAX] && !o.ops[AR_PROD]);
	assert_false(o.algos_all);
	assert_int_equal(o.n_algos, 2);
	assert_string_equal(ar_algo_at(o.algos[0])->name, "tree");
	assert_string_equal(ar_algo_at(o.algos[1])->name, "ring");
	assert_int_equal(o.agg, BENCH_AGG_MAX);
	assert_true(o.min_busbw == 5.5 && o.timeout == 3 && o.segment == 256 * 1024);
	assert_true(o.anonymize && o.quiet);
	assert_string_equal(o.json_path, "out.json");

	/* long forms, --opt=value, nccl-tests' numeric -a, -i alone means linear steps */
	assert_int_equal(parse(&o, err, sizeof(err), "--minbytes=2K", "--maxbytes", "8K",
			       "--stepbytes", "2K", "--iters=3", "--average", "2", "--datatype",
			       "bf16", "--op", "avg", "--algo", "all", NULL),
			 0);
	assert_true(o.minbytes == 2048 && o.maxbytes == 8192 && o.stepbytes == 2048);
	assert_true(o.stepfactor == 1);
	assert_int_equal(o.iters, 3);
	assert_int_equal(o.agg, BENCH_AGG_MIN);
	assert_true(o.types[AR_BF16] && !o.types[AR_FLOAT]);
	assert_true(o.ops[AR_AVG] && !o.ops[AR_SUM]);
	assert_true(o.algos_all);

	assert_false(o.shared_buffers); /* default: private buffers */
	assert_int_equal(parse(&o, err, sizeof(err), "-R", "1", NULL), 0);
	assert_true(o.shared_buffers);
	assert_int_equal(parse(&o, err, sizeof(err), "--register=0", NULL), 0);
	assert_false(o.shared_buffers);
	assert_int_not_equal(parse(&o, err, sizeof(err), "-R", "yes", NULL), 0);
	assert_non_null(strstr(err, "expected 0 or 1"));

	assert_int_equal(parse(&o, err, sizeof(err), "-a", "0", NULL), 0);
	assert_int_equal(o.agg, BENCH_AGG_RANK0);
	assert_int_equal(parse(&o, err, sizeof(err), "-a", "rank0", NULL), 0);
	assert_int_equal(o.agg, BENCH_AGG_RANK0);
	assert_int_equal(parse(&o, err, sizeof(err), "-a", "1", NULL), 0);
	assert_int_equal(o.agg, BENCH_AGG_AVG);

	assert_int_equal(parse(&o, err, sizeof(err), "--help", NULL), 0);
	assert_true(o.help);
	assert_int_equal(parse(&o, err, sizeof(err), "--version", NULL), 0);
	assert_true(o.version);
}

static void test_options_bad(void **state)
{
	/* each row: argv (NULL-terminated, up to 4 args) and a word the message must contain */
	static const struct {
		const char *args[5];
		const char *needle;
	} cases[] = {
		{{"-b", "1X"}, "-b '1X'"},
		{{"-b", "2M", "-e", "1M"}, "minbytes <= maxbytes"},
		{{"-A", "nosuch"}, "nosuch"},
		{{"-A", "ring,bogus"}, "bogus"},
		{{"-d", "float128"}, "float128"},
		{{"-o", "xor"}, "xor"},
		{{"-n", "0"}, "-n '0'"},
		{{"-n", "ten"}, "-n 'ten'"},
		{{"-w", "-1"}, "-w '-1'"},
		{{"-c", "2"}, "-c '2'"},
		{{"-a", "median"}, "median"},
		{{"-a", "4"}, "-a '4'"},
		{{"-t", "carrier-pigeon"}, "carrier-pigeon"},
		{{"--timeout", "-1"}, "--timeout"},
		{{"--segment", "0"}, "--segment"},
		{{"--bogus"}, "--bogus"},
		{{"-Z"}, "-Z"},
		{{"-e"}, "needs a value"},
		{{"stray"}, "stray"},
		{{"-e", "64K", "--min-busbw", "1"}, "--min-busbw"},
		{{"-f", "0.5"}, "-f '0.5'"},
		{{"-i", "0", "-e", "64"}, "-i 0"},
		{{"-e", "0", "-b", "0"}, "-e 0"},
	};
	struct bench_opts o;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *a = cases[i].args;

		err[0] = '\0';
		assert_int_equal(parse(&o, err, sizeof(err), a[0], a[1], a[2], a[3], NULL),
				 -EINVAL);
		if (!strstr(err, cases[i].needle))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err, cases[i].needle);
		assert_null(strchr(err, '\n')); /* one line */
	}
	/* parsing again after an error starts from scratch */
	assert_int_equal(parse(&o, err, sizeof(err), "-b", "16", NULL), 0);
	assert_true(o.minbytes == 16);
}

static void test_sizes(void **state)
{
	struct bench_opts o;
	uint64_t s[64];
	char err[256];
	size_t n;

	assert_int_equal(parse(&o, err, sizeof(err), "-b", "8", "-e", "64", "-f", "2", NULL), 0);
	n = bench_sizes(&o, 4, s, 64);
	assert_int_equal(n, 4);
	assert_true(s[0] == 8 && s[1] == 16 && s[2] == 32 && s[3] == 64);
	/* rounded down to whole 8-byte elements; 4 (0 elements) dropped */
	assert_int_equal(parse(&o, err, sizeof(err), "-b", "4", "-e", "20", "-f", "2", NULL), 0);
	n = bench_sizes(&o, 8, s, 64);
	assert_int_equal(n, 2);
	assert_true(s[0] == 8 && s[1] == 16);
	/* linear steps stop at -e; -e is not added when the steps miss it (nccl-tests) */
	assert_int_equal(parse(&o, err, sizeof(err), "-b", "1K", "-e", "4K", "-i", "1K", NULL), 0);
	n = bench_sizes(&o, 1, s, 64);
	assert_int_equal(n, 4);
	assert_true(s[3] == 4096);
	assert_int_equal(parse(&o, err, sizeof(err), "-b", "1K", "-e", "1M", "-f", "8", NULL), 0);
	n = bench_sizes(&o, 1, s, 64);
	assert_int_equal(n, 4); /* 1K 8K 64K 512K */
	assert_true(s[3] == 512 * 1024);
	/* the cap is honoured */
	assert_int_equal(bench_sizes(&o, 1, s, 2), 2);
}

/* ---- statistics ------------------------------------------------------------------------------ */

static void test_stats(void **state)
{
	double v[100], one = 42;
	struct bench_stats st;

	for (int i = 0; i < 100; i++)
		v[i] = 100 - i; /* 100 .. 1, unsorted */
	bench_stats_compute(v, 100, &st);
	assert_true(st.min == 1 && st.max == 100);
	assert_float_equal(st.avg, 50.5, 1e-12);
	assert_float_equal(st.p50, 50.5, 1e-12); /* between 50 and 51 */
	assert_float_equal(st.p99, 99.01, 1e-9); /* 0.99 * 99 = 98.01 -> 99 + 0.01 */
	assert_float_equal(bench_percentile(v, 100, 0), 1, 0);
	assert_float_equal(bench_percentile(v, 100, 100), 100, 0);
	assert_float_equal(bench_percentile(v, 100, 25), 25.75, 1e-12);
	bench_stats_compute(&one, 1, &st);
	assert_true(st.min == 42 && st.p50 == 42 && st.p99 == 42 && st.max == 42);
	assert_float_equal(bench_percentile(v, 0, 50), 0, 0);
}

static void test_bandwidth(void **state)
{
	assert_float_equal(bench_algbw(1000000000, 1.0), 1.0, 1e-12); /* GB = 1e9 B */
	assert_float_equal(bench_algbw(1u << 30, 0.5), 2.147483648, 1e-12);
	assert_float_equal(bench_algbw(100, 0), 0, 0);
	assert_float_equal(bench_busbw(10, 4), 15, 1e-12); /* 2(p-1)/p = 1.5 */
	assert_float_equal(bench_busbw(10, 2), 10, 1e-12);
	assert_float_equal(bench_busbw(10, 1), 0, 0);
	assert_float_equal(bench_busbw(8, 8), 14, 1e-12);
}

/* ---- exact checks ---------------------------------------------------------------------------- */

/* Reduce the p inputs in order perm[] the way an algorithm would: acc = in[perm[0]], then
 * ar_reduce with each next one; avg divides once at the end. */
static void reduce_in_order(const struct bench_check *c, unsigned char *const *in, const int *perm,
			    unsigned char *out, size_t count)
{
	memcpy(out, in[perm[0]], count * c->esize);
	for (int k = 1; k < c->nranks; k++)
		ar_reduce(out, in[perm[k]], count, c->dtype, c->op);
	if (c->op == AR_AVG)
		ar_scale_avg(out, count, c->dtype, c->nranks);
}

/* Pairwise (tree-shaped) order: reduce halves, then combine. */
static void reduce_pairwise(const struct bench_check *c, unsigned char *const *in, int lo, int hi,
			    unsigned char *out, size_t count)
{
	unsigned char *tmp;

	if (hi - lo == 1) {
		memcpy(out, in[lo], count * c->esize);
		return;
	}
	tmp = malloc(count * c->esize);
	assert_non_null(tmp);
	reduce_pairwise(c, in, lo, (lo + hi) / 2, out, count);
	reduce_pairwise(c, in, (lo + hi) / 2, hi, tmp, count);
	ar_reduce(out, tmp, count, c->dtype, c->op);
	free(tmp);
}

static void check_one(enum ar_dtype d, enum ar_op op, int p, size_t count)
{
	struct bench_check c;
	unsigned char **in = calloc((size_t)p, sizeof(*in));
	unsigned char *out;
	int *perm = calloc((size_t)p, sizeof(*perm));

	assert_int_equal(bench_check_init(&c, d, op, p), 0);
	assert_non_null(in);
	out = malloc(count * c.esize);
	for (int r = 0; r < p; r++) {
		in[r] = malloc(count * c.esize);
		bench_check_fill(&c, r, in[r], count);
		assert_int_equal(bench_check_input_wrong(&c, r, in[r], count), 0);
	}
	for (int k = 0; k < p; k++)
		perm[k] = k; /* forward */
	reduce_in_order(&c, in, perm, out, count);
	if (bench_check_wrong(&c, out, count))
		fail_msg("%s %s p=%d forward: %zu wrong", ar_dtype_name(d), ar_op_name(op), p,
			 bench_check_wrong(&c, out, count));
	for (int k = 0; k < p; k++)
		perm[k] = p - 1 - k; /* backward */
	reduce_in_order(&c, in, perm, out, count);
	assert_int_equal(bench_check_wrong(&c, out, count), 0);
	reduce_pairwise(&c, in, 0, p, out, count);
	if (op == AR_AVG)
		ar_scale_avg(out, count, d, p);
	assert_int_equal(bench_check_wrong(&c, out, count), 0);

	/* one flipped bit is one wrong element; a changed input is seen too */
	out[count / 2 * c.esize] ^= 1;
	assert_int_equal(bench_check_wrong(&c, out, count), 1);
	in[0][(count - 1) * c.esize] ^= 1;
	assert_int_equal(bench_check_input_wrong(&c, 0, in[0], count), 1);
	/* rank 1's data is not rank 0's: a mixed-up source is caught (sparse data, for many
	 * ranks, differs only where it is not zero) */
	if (p > 1)
		assert_true(bench_check_input_wrong(&c, 1, in[0], count) >
			    (c.sparse == 1 ? count / 2 : 0));

	for (int r = 0; r < p; r++)
		free(in[r]);
	free(in);
	free(out);
	free(perm);
}

static void test_check_all_types_ops(void **state)
{
	static const int ranks[] = {1, 2, 3, 5, 8};

	for (int d = 0; d < AR_DTYPE_COUNT; d++)
		for (int op = 0; op < AR_OP_COUNT; op++)
			for (size_t k = 0; k < sizeof(ranks) / sizeof(ranks[0]); k++)
				check_one(d, op, ranks[k], 1000); /* 3 periods and a bit */
}

/* Many ranks: bfloat16 only holds integers up to 256 exactly, half up to 2048, and products
 * only up to 2^15 in half; the data must become sparse and stay exact. */
static void test_check_many_ranks(void **state)
{
	struct bench_check c;

	check_one(AR_BF16, AR_SUM, 300, 600);
	check_one(AR_BF16, AR_AVG, 200, 300);
	check_one(AR_HALF, AR_PROD, 64, 300);
	check_one(AR_HALF, AR_SUM, 700, 260);
	assert_int_equal(bench_check_init(&c, AR_BF16, AR_SUM, 300), 0);
	assert_true(c.sparse > 1);
	assert_int_equal(bench_check_init(&c, AR_FLOAT, AR_SUM, 300), 0);
	assert_int_equal(c.sparse, 1);
	/* nonsense arguments */
	assert_int_equal(bench_check_init(&c, AR_DTYPE_COUNT, AR_SUM, 2), -EINVAL);
	assert_int_equal(bench_check_init(&c, AR_FLOAT, AR_SUM, 0), -EINVAL);
}

/* A sum that lost one rank's contribution must not pass. */
static void test_check_catches_missing_rank(void **state)
{
	struct bench_check c;
	float in[3][BENCH_CHECK_PERIOD * 2], out[BENCH_CHECK_PERIOD * 2];
	size_t n = BENCH_CHECK_PERIOD * 2;

	assert_int_equal(bench_check_init(&c, AR_FLOAT, AR_SUM, 3), 0);
	for (int r = 0; r < 3; r++)
		bench_check_fill(&c, r, in[r], n);
	memcpy(out, in[0], sizeof(out));
	ar_reduce(out, in[1], n, AR_FLOAT, AR_SUM); /* rank 2 forgotten */
	assert_true(bench_check_wrong(&c, out, n) > n / 2);
	ar_reduce(out, in[1], n, AR_FLOAT, AR_SUM); /* rank 1 twice instead */
	assert_true(bench_check_wrong(&c, out, n) > n / 2);
}

static void test_timing_fill_is_fixed_point(void **state)
{
	struct bench_check c;
	double a[300], b[300], before[300];

	for (int op = 0; op < AR_OP_COUNT; op++) {
		assert_int_equal(bench_check_init(&c, AR_DOUBLE, op, 2), 0);
		bench_fill_timing(&c, 0, a, 300);
		bench_fill_timing(&c, 0, b, 300);
		memcpy(before, a, sizeof(a));
		if (op == AR_MIN || op == AR_MAX) { /* idempotent ops: same data stays */
			ar_reduce(a, b, 300, AR_DOUBLE, op);
		} else {
			ar_reduce(a, b, 300, AR_DOUBLE, op == AR_AVG ? AR_SUM : op);
			if (op == AR_AVG)
				ar_scale_avg(a, 300, AR_DOUBLE, 2);
		}
		assert_memory_equal(a, before, sizeof(a));
	}
}

/* ---- cluster map ----------------------------------------------------------------------------- */

static void test_cluster_map(void **state)
{
	const char *hosts[] = {"a", "b", "a", "c", "b", "a"};
	const int node[] = {0, 1, 0, 2, 1, 0}, local[] = {0, 0, 1, 0, 1, 2};
	struct topo_cluster_map m;

	assert_int_equal(topo_cluster_map_build(hosts, 6, &m), 0);
	assert_int_equal(m.n_ranks, 6);
	assert_int_equal(m.n_nodes, 3);
	assert_memory_equal(m.node_of_rank, node, sizeof(node));
	assert_memory_equal(m.local_rank, local, sizeof(local));
	/* unequal ranks per node: 3, 2, 1 */
	assert_int_equal(m.ranks_on_node[0], 3);
	assert_int_equal(m.ranks_on_node[1], 2);
	assert_int_equal(m.ranks_on_node[2], 1);
	assert_int_equal(m.first_rank_of_node[0], 0);
	assert_int_equal(m.first_rank_of_node[1], 1);
	assert_int_equal(m.first_rank_of_node[2], 3);
	topo_cluster_map_free(&m);
	assert_null(m.node_of_rank);
}

static void test_cluster_map_edges(void **state)
{
	const char *one[] = {"solo"}, *same[] = {"x", "x", "x", "x"};
	const char *prefix[] = {"node1", "node10", "node1"}, *bad[] = {"a", NULL};
	struct topo_cluster_map m;

	assert_int_equal(topo_cluster_map_build(one, 1, &m), 0);
	assert_int_equal(m.n_nodes, 1);
	assert_int_equal(m.ranks_on_node[0], 1);
	topo_cluster_map_free(&m);
	assert_int_equal(topo_cluster_map_build(same, 4, &m), 0);
	assert_int_equal(m.n_nodes, 1);
	assert_int_equal(m.local_rank[3], 3);
	topo_cluster_map_free(&m);
	/* names are compared whole, not by prefix */
	assert_int_equal(topo_cluster_map_build(prefix, 3, &m), 0);
	assert_int_equal(m.n_nodes, 2);
	assert_int_equal(m.node_of_rank[2], 0);
	topo_cluster_map_free(&m);
	assert_int_equal(topo_cluster_map_build(bad, 2, &m), -EINVAL);
	assert_int_equal(topo_cluster_map_build(one, -1, &m), -EINVAL);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

#define HOST0 "gpu-node-17.cluster.example.org"
#define HOST1 "gpu-node-18.cluster.example.org"

/* A two-node cluster as bench_cluster_gather would have built it, without MPI. */
static void fake_cluster(struct bench_cluster *cl)
{
	const char *names[] = {HOST0, HOST0, HOST1};

	memset(cl, 0, sizeof(*cl));
	cl->nranks = 3;
	cl->hostnames = calloc(3, sizeof(*cl->hostnames));
	assert_non_null(cl->hostnames);
	for (int r = 0; r < 3; r++)
		strcpy(cl->hostnames[r], names[r]);
	assert_int_equal(topo_cluster_map_build(names, 3, &cl->map), 0);
	cl->nodes = calloc(2, sizeof(*cl->nodes));
	assert_non_null(cl->nodes);
	for (int n = 0; n < 2; n++) {
		struct topo_node_info *ni = &cl->nodes[n];

		strcpy(ni->hostname, n ? HOST1 : HOST0);
		ni->cores = 8;
		ni->pus = 16;
		ni->numa_nodes = 2;
		strcpy(ni->cpu_model, "Test CPU");
		ni->n_nics = 1;
		strcpy(ni->nics[0].name, "mlx5_0");
		ni->nics[0].numa_node = 1;
		ni->nics[0].speed_bps = 200e9;
		ni->nics[0].rdma = true;
	}
}

static json_t *make_doc(struct bench_cluster *cl, bool anonymize)
{
	static char *argv[] = {"arbench", "-J", "/home/gpu-node-17/results.json", "-e", "1M", NULL};
	struct bench_opts o;
	char err[256];
	struct bench_run_info info = {5, argv, "Open MPI v4.1.4 built on gpu-node-18", cl, &o};

	assert_int_equal(parse(&o, err, sizeof(err), NULL), 0);
	o.anonymize = anonymize;
	return bench_json_new(&info);
}

static void test_json_anonymize(void **state)
{
	struct bench_cluster cl;
	struct bench_result r = {.size = 1024,
				 .count = 256,
				 .dtype = AR_FLOAT,
				 .op = AR_SUM,
				 .algo = "ring",
				 .transport = "mpi",
				 .inplace = true,
				 .time_us = {1, 2, 3, 4, 5},
				 .algbw = 0.5,
				 .busbw = 0.75,
				 .slowest_rank = 2};
	json_t *doc;
	char *text;

	fake_cluster(&cl);
	/* without --anonymize the names are there (so the check below can fail) */
	doc = make_doc(&cl, false);
	assert_non_null(doc);
	text = json_dumps(doc, 0);
	assert_non_null(strstr(text, HOST0));
	assert_non_null(strstr(text, HOST1));
	free(text);
	json_decref(doc);

	doc = make_doc(&cl, true);
	assert_non_null(doc);
	assert_int_equal(bench_json_add(doc, &r), 0);
	text = json_dumps(doc, 0);
	assert_null(strstr(text, "gpu-node-17")); /* neither full nor short form */
	assert_null(strstr(text, "gpu-node-18"));
	assert_null(strstr(text, "example.org"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "hosts"), 1)),
			    "node1");
	assert_non_null(strstr(text, "/home/node0/results.json"));
	assert_non_null(strstr(text, "built on node1"));
	/* the documented keys */
	assert_int_equal(json_integer_value(json_object_get(doc, "version")), 1);
	assert_int_equal(json_integer_value(json_object_get(doc, "ranks")), 3);
	assert_int_equal(json_integer_value(json_object_get(doc, "nodes")), 2);
	assert_int_equal(
		json_integer_value(json_array_get(json_object_get(doc, "ranks_per_node"), 0)), 2);
	assert_non_null(json_object_get(doc, "mpi_library"));
	assert_non_null(json_object_get(doc, "command"));
	assert_non_null(json_object_get(doc, "arbench_version"));
	{
		json_t *ni = json_array_get(json_object_get(doc, "nodes_info"), 0);
		json_t *nic = json_array_get(json_object_get(ni, "nics"), 0);
		json_t *res = json_array_get(json_object_get(doc, "results"), 0);

		assert_int_equal(json_integer_value(json_object_get(ni, "cores")), 8);
		assert_true(json_is_true(json_object_get(nic, "rdma")));
		assert_float_equal(json_real_value(json_object_get(nic, "speed_bps")), 200e9, 1);
		assert_int_equal(json_integer_value(json_object_get(res, "size")), 1024);
		assert_float_equal(
			json_real_value(json_object_get(json_object_get(res, "time_us"), "p99")), 4,
			0);
		assert_int_equal(json_integer_value(json_object_get(res, "slowest_rank")), 2);
		assert_true(json_is_true(json_object_get(res, "inplace")));
	}
	free(text);
	json_decref(doc);
	bench_cluster_free(&cl);
}

/* Replacement happens once, longest name first: "node1" inside "node10" is not touched. */
static void test_json_anonymize_overlap(void **state)
{
	const char *hosts[] = {"node1", "node10", "a.b"};
	json_t *doc =
		json_pack("{s:s, s:[s, s]}", "x", "node10 node1 a.b a", "y", "node1x", "a.bc");

	assert_int_equal(bench_json_anonymize(doc, hosts, 3), 0);
	assert_string_equal(json_string_value(json_object_get(doc, "x")), "node1 node0 node2 a");
	assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "y"), 0)),
			    "node0x");
	assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "y"), 1)),
			    "node2c");
	json_decref(doc);
}

static void test_json_write_atomic(void **state)
{
	char dir[] = "/tmp/test_bench_XXXXXX", path[128], tmp[140];
	json_t *doc = json_pack("{s:i, s:[]}", "version", 1, "results"), *back;
	json_error_t jerr;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(bench_json_write(doc, path), 0);
	assert_int_equal(access(tmp, F_OK), -1); /* renamed away */
	back = json_load_file(path, 0, &jerr);
	assert_non_null(back);
	assert_int_equal(json_integer_value(json_object_get(back, "version")), 1);
	json_decref(back);
	unlink(path);
	rmdir(dir);
	/* an unwritable place is an error, not a crash */
	assert_true(bench_json_write(doc, "/nonexistent-dir/r.json") < 0);
	json_decref(doc);
}

static void slurp_equal(const char *path, const char *want)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_true(fread(buf, 1, sizeof(buf) - 1, f) <= sizeof(buf) - 1);
	fclose(f);
	assert_string_equal(buf, want);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* A planted symlink at FILE.tmp or FILE is never followed; a read-only FILE is refused and
 * keeps its content and mode; a writable FILE keeps its mode; no temporary file is left. */
static void test_json_write_hostile(void **state)
{
	char dir[] = "/tmp/test_bench_XXXXXX", path[128], tmp[140], victim[128];
	json_t *doc = json_pack("{s:i}", "version", 1);
	struct stat st;
	struct dirent *e;
	DIR *dh;
	int left = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	write_file(victim, "keep", 0644);
	/* a symlink planted at FILE.tmp */
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(bench_json_write(doc, path), 0);
	slurp_equal(victim, "keep");
	assert_int_equal(lstat(tmp, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	unlink(tmp);
	/* a writable FILE keeps its mode */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(bench_json_write(doc, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* a read-only FILE is refused (as root too), content and mode kept */
	write_file(path, "old", 0444);
	assert_int_equal(bench_json_write(doc, path), -EACCES);
	slurp_equal(path, "old");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	unlink(path);
	/* a symlink at FILE is refused, its target untouched */
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(bench_json_write(doc, path), -ELOOP);
	slurp_equal(victim, "keep");
	unlink(path);
	/* nothing left behind but the victim */
	dh = opendir(dir);
	assert_non_null(dh);
	while ((e = readdir(dh)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, "victim"))
			left++;
	closedir(dh);
	assert_int_equal(left, 0);
	unlink(victim);
	rmdir(dir);
	json_decref(doc);
}

/* ---- discovery ------------------------------------------------------------------------------- */

static void test_discover_synthetic(void **state)
{
	struct topo_node_info ni;
	char *old = getenv("HWLOC_SYNTHETIC");

	setenv("HWLOC_SYNTHETIC", "pack:2 numa:1 core:3 pu:2", 1);
	assert_int_equal(topo_discover_local(&ni), 0);
	assert_int_equal(ni.cores, 6);
	assert_int_equal(ni.pus, 12);
	assert_int_equal(ni.numa_nodes, 2);
	assert_true(ni.hostname[0] != '\0');
	for (int i = 0; i < ni.n_nics; i++) /* loopback is never a NIC */
		assert_string_not_equal(ni.nics[i].name, "lo");
	if (old)
		setenv("HWLOC_SYNTHETIC", old, 1);
	else
		unsetenv("HWLOC_SYNTHETIC");
}

static void test_discover_real(void **state)
{
	struct topo_node_info ni;

	assert_int_equal(topo_discover_local(&ni), 0);
	assert_true(ni.cores >= 1 && ni.pus >= ni.cores && ni.numa_nodes >= 1);
	assert_true(ni.cpu_model[0] != '\0');
	assert_true(ni.n_nics <= TOPO_MAX_NICS && ni.n_gpus <= TOPO_MAX_GPUS);
	for (int i = 0; i < ni.n_nics; i++)
		assert_true(ni.nics[i].speed_bps >= 0 && ni.nics[i].numa_node >= -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_good),
		cmocka_unit_test(test_parse_size_bad),
		cmocka_unit_test(test_options_defaults),
		cmocka_unit_test(test_options_good),
		cmocka_unit_test(test_options_bad),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_bandwidth),
		cmocka_unit_test(test_check_all_types_ops),
		cmocka_unit_test(test_check_many_ranks),
		cmocka_unit_test(test_check_catches_missing_rank),
		cmocka_unit_test(test_timing_fill_is_fixed_point),
		cmocka_unit_test(test_cluster_map),
		cmocka_unit_test(test_cluster_map_edges),
		cmocka_unit_test(test_json_anonymize),
		cmocka_unit_test(test_json_anonymize_overlap),
		cmocka_unit_test(test_json_write_atomic),
		cmocka_unit_test(test_json_write_hostile),
		cmocka_unit_test(test_discover_synthetic),
		cmocka_unit_test(test_discover_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
