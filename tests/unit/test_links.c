/*
 * test_links.c - unit tests of `arbench links` without mpirun: the pair schedules of every
 * pattern for p = 1..64 (every pair exactly once, nobody twice in a round, the round counts
 * of the circle method), the median, the flagging of a slow host's links, the command line
 * (good and bad), the time-left estimate, and the JSON entry of a link.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/bench.h"

#define P_MAX 64

/* Every round of a pairwise plan: each participant in at most one pair, a != b, in range. */
static void assert_rounds_disjoint(const struct bench_links_plan *pl, int p)
{
	for (int r = 0; r < pl->n_rounds; r++) {
		char used[P_MAX] = {0};

		assert_true(pl->round_start[r] < pl->round_start[r + 1]); /* no empty round */
		for (size_t k = pl->round_start[r]; k < pl->round_start[r + 1]; k++) {
			int a = pl->pairs[k].a, b = pl->pairs[k].b;

			assert_true(a >= 0 && a < p && b >= 0 && b < p && a != b);
			assert_int_equal(used[a], 0);
			assert_int_equal(used[b], 0);
			used[a] = used[b] = 1;
		}
	}
	assert_int_equal(pl->round_start[pl->n_rounds], pl->n_pairs);
}

/* count[a][b] + count[b][a] of every unordered pair. */
static void count_pairs(const struct bench_links_plan *pl, int count[P_MAX][P_MAX])
{
	memset(count, 0, sizeof(int) * P_MAX * P_MAX);
	for (size_t k = 0; k < pl->n_pairs; k++) {
		int a = pl->pairs[k].a, b = pl->pairs[k].b;

		count[a < b ? a : b][a < b ? b : a]++;
	}
}

static void test_plan_all(void **state)
{
	static int count[P_MAX][P_MAX];

	for (int p = 1; p <= P_MAX; p++) {
		struct bench_links_plan pl;

		assert_int_equal(bench_links_plan_build(BENCH_LINKS_ALL, p, 0, &pl), 0);
		assert_false(pl.directed);
		assert_int_equal(pl.n_pairs, (size_t)p * (p - 1) / 2);
		/* the circle method: p-1 rounds when p is even, p when odd (one bye a round) */
		assert_int_equal(pl.n_rounds, p == 1 ? 0 : p % 2 ? p : p - 1);
		assert_rounds_disjoint(&pl, p);
		count_pairs(&pl, count);
		for (int a = 0; a < p; a++)
			for (int b = a + 1; b < p; b++)
				assert_int_equal(count[a][b], 1);
		/* even p: every participant is busy in every round */
		for (int r = 0; p % 2 == 0 && r < pl.n_rounds; r++)
			assert_int_equal(pl.round_start[r + 1] - pl.round_start[r], (size_t)p / 2);
		bench_links_plan_free(&pl);
	}
}

/* ring and random-ring: a cycle through every participant (degree 2), each edge once. */
static void check_ring(const struct bench_links_plan *pl, int p, const int *expect_next)
{
	static int count[P_MAX][P_MAX];
	int degree[P_MAX] = {0};

	assert_rounds_disjoint(pl, p);
	assert_int_equal(pl->n_pairs, (size_t)(p == 2 ? 1 : p));
	assert_true(pl->n_rounds <= (p % 2 ? 3 : 2));
	count_pairs(pl, count);
	for (size_t k = 0; k < pl->n_pairs; k++) {
		degree[pl->pairs[k].a]++;
		degree[pl->pairs[k].b]++;
	}
	for (int i = 0; i < p; i++) {
		assert_int_equal(degree[i], p == 2 ? 1 : 2);
		if (expect_next) {
			int a = i, b = expect_next[i];

			assert_int_equal(count[a < b ? a : b][a < b ? b : a], 1);
		}
	}
}

static void test_plan_ring(void **state)
{
	for (int p = 2; p <= P_MAX; p++) {
		struct bench_links_plan pl, pl2, pl3;
		int next[P_MAX];

		for (int i = 0; i < p; i++)
			next[i] = (i + 1) % p;
		assert_int_equal(bench_links_plan_build(BENCH_LINKS_RING, p, 0, &pl), 0);
		check_ring(&pl, p, next);
		assert_int_equal(pl.n_rounds, p == 2 ? 1 : p % 2 ? 3 : 2);
		assert_int_equal(bench_links_plan_build(BENCH_LINKS_RANDOM_RING, p, 7, &pl2), 0);
		check_ring(&pl2, p, NULL);
		/* the same seed gives the same ring */
		assert_int_equal(bench_links_plan_build(BENCH_LINKS_RANDOM_RING, p, 7, &pl3), 0);
		assert_int_equal(pl2.n_pairs, pl3.n_pairs);
		assert_memory_equal(pl2.pairs, pl3.pairs, pl2.n_pairs * sizeof(*pl2.pairs));
		bench_links_plan_free(&pl);
		bench_links_plan_free(&pl2);
		bench_links_plan_free(&pl3);
	}
}

static void test_plan_random_ring_differs(void **state)
{
	struct bench_links_plan a, b, ring;
	int differ = 0;

	assert_int_equal(bench_links_plan_build(BENCH_LINKS_RANDOM_RING, 16, 1, &a), 0);
	assert_int_equal(bench_links_plan_build(BENCH_LINKS_RANDOM_RING, 16, 2, &b), 0);
	assert_int_equal(bench_links_plan_build(BENCH_LINKS_RING, 16, 0, &ring), 0);
	differ += memcmp(a.pairs, b.pairs, a.n_pairs * sizeof(*a.pairs)) != 0;
	differ += memcmp(a.pairs, ring.pairs, a.n_pairs * sizeof(*a.pairs)) != 0;
	assert_int_equal(differ, 2);
	bench_links_plan_free(&a);
	bench_links_plan_free(&b);
	bench_links_plan_free(&ring);
}

static void test_plan_shift(void **state)
{
	static int count[P_MAX][P_MAX];

	for (int p = 1; p <= P_MAX; p++) {
		struct bench_links_plan pl;

		assert_int_equal(bench_links_plan_build(BENCH_LINKS_SHIFT, p, 0, &pl), 0);
		assert_true(pl.directed);
		assert_int_equal(pl.n_rounds, p - 1);
		assert_int_equal(pl.n_pairs, (size_t)p * (p - 1));
		memset(count, 0, sizeof(count));
		for (int r = 0; r < pl.n_rounds; r++) {
			char sends[P_MAX] = {0}, recvs[P_MAX] = {0};

			for (size_t k = pl.round_start[r]; k < pl.round_start[r + 1]; k++) {
				const struct bench_link_pair *pr = &pl.pairs[k];

				assert_int_not_equal(pr->a, pr->b);
				assert_int_equal(pr->b, (pr->a + r + 1) % p);
				assert_int_equal(sends[pr->a]++, 0);
				assert_int_equal(recvs[pr->b]++, 0);
				count[pr->a][pr->b]++;
			}
		}
		for (int a = 0; a < p; a++) /* every ordered pair exactly once */
			for (int b = 0; b < p; b++)
				assert_int_equal(count[a][b], a != b);
		bench_links_plan_free(&pl);
	}
}

static void test_plan_bisection(void **state)
{
	for (int p = 1; p <= P_MAX; p++) {
		struct bench_links_plan pl;

		assert_int_equal(bench_links_plan_build(BENCH_LINKS_BISECTION, p, 0, &pl), 0);
		assert_int_equal(pl.n_pairs, (size_t)p / 2);
		assert_int_equal(pl.n_rounds, p / 2 ? 1 : 0);
		assert_rounds_disjoint(&pl, p);
		for (size_t k = 0; k < pl.n_pairs; k++) /* one end in each half */
			assert_true(pl.pairs[k].a < p / 2 && pl.pairs[k].b >= (p + 1) / 2);
		bench_links_plan_free(&pl);
	}
}

static void test_plan_bad(void **state)
{
	struct bench_links_plan pl;

	assert_int_equal(bench_links_plan_build(BENCH_LINKS_ALL, 0, 0, &pl), -EINVAL);
	assert_int_equal(bench_links_plan_build(BENCH_LINKS_PATTERN_COUNT, 4, 0, &pl), -EINVAL);
}

static void test_patterns_named(void **state)
{
	for (int i = 0; i < BENCH_LINKS_PATTERN_COUNT; i++) {
		enum bench_links_pattern p;

		assert_int_equal(bench_links_pattern_parse(bench_links_pattern_name(i), &p), 0);
		assert_int_equal(p, i);
	}
	enum bench_links_pattern p;
	assert_int_equal(bench_links_pattern_parse("pairs", &p), -EINVAL);
}

/* ---- median and flags ------------------------------------------------------------------------ */

static void test_median(void **state)
{
	double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2};

	assert_true(bench_median(odd, 3) == 2);
	assert_true(bench_median(even, 4) == 2.5);
	assert_true(bench_median(NULL, 0) == 0);
	assert_true(odd[0] == 3); /* input untouched */
}

/* 4 hosts, host 2 at half rate: at the judged size exactly the 6 links touching it are
 * flagged; at a small size nothing is. */
static void test_flag_slow_host(void **state)
{
	struct bench_link_result res[24];
	double med[24];
	size_t n = 0;

	for (int s = 0; s < 2; s++) {
		uint64_t size = s ? 1u << 20 : 8;

		for (int a = 0; a < 4; a++) {
			for (int b = 0; b < 4; b++) {
				double bw = (a == 2 || b == 2) ? 12.5 : 24.0 + 0.1 * a;

				if (a == b)
					continue;
				res[n++] = (struct bench_link_result){.src = a,
								      .dst = b,
								      .size = size,
								      .bw_gbps = bw,
								      .bibw_gbps = 2 * bw,
								      .lat_us = 10};
			}
		}
	}
	assert_int_equal(bench_links_flag(res, n, 0.9, BENCH_LINKS_JUDGE_MIN, med), 6);
	for (size_t i = 0; i < n; i++) {
		bool touches = res[i].src == 2 || res[i].dst == 2;

		assert_int_equal(res[i].flagged, touches && res[i].size >= BENCH_LINKS_JUDGE_MIN);
		assert_true(med[i] > 12.5 && med[i] < 24.5);
	}
	/* a threshold so low that nothing is below it */
	assert_int_equal(bench_links_flag(res, n, 0.3, BENCH_LINKS_JUDGE_MIN, NULL), 0);
	/* judged at every size when the run's sizes are all small */
	assert_int_equal(bench_links_flag(res, n, 0.9, 8, NULL), 12);
}

/* Flags follow the one-way figure: a pair slow only both ways at once is reported, not
 * flagged (two flows at once on a busy machine are too noisy to judge). */
static void test_flag_one_way_only(void **state)
{
	struct bench_link_result res[4] = {
		{.src = 0, .dst = 1, .size = 1 << 20, .bw_gbps = 10, .bibw_gbps = 20},
		{.src = 1, .dst = 0, .size = 1 << 20, .bw_gbps = 10, .bibw_gbps = 20},
		{.src = 2, .dst = 3, .size = 1 << 20, .bw_gbps = 10, .bibw_gbps = 11},
		{.src = 3, .dst = 2, .size = 1 << 20, .bw_gbps = 8, .bibw_gbps = 11},
	};

	/* one-way median = 10: only 3 -> 2 (8 < 9) */
	assert_int_equal(bench_links_flag(res, 4, 0.9, 0, NULL), 1);
	assert_false(res[0].flagged || res[1].flagged || res[2].flagged);
	assert_true(res[3].flagged);
}

/* ---- command line ---------------------------------------------------------------------------- */

static int parse(struct bench_links_opts *o, char *err, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "links";
	va_start(ap, err);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return bench_links_parse_args(argc, argv, o, err, 512);
}

static void test_options(void **state)
{
	struct bench_links_opts o;
	char err[512];

	assert_int_equal(parse(&o, err, NULL), 0);
	assert_int_equal(o.pattern, BENCH_LINKS_ALL);
	assert_true(o.threshold == 0.9);
	assert_false(o.fail_below || o.all_ranks || o.common.anonymize);
	assert_int_equal(o.common.minbytes, 8);
	assert_int_equal(o.common.maxbytes, 2u << 20);
	assert_string_equal(o.common.transport, "mpi");

	assert_int_equal(parse(&o, err, "--pattern", "random-ring", "--seed", "42", "--threshold",
			       "1", "--fail-below", "--all-ranks", "-b", "1M", "-e", "1M", "-n",
			       "3", "-w", "0", "-J", "x.json", "--anonymize", "-q", "--timeout",
			       "5", NULL),
			 0);
	assert_int_equal(o.pattern, BENCH_LINKS_RANDOM_RING);
	assert_true(o.seed_set && o.seed == 42);
	assert_true(o.threshold == 1 && o.fail_below && o.all_ranks);
	assert_int_equal(o.common.minbytes, 1u << 20);
	assert_int_equal(o.common.iters, 3);
	assert_int_equal(o.common.warmup, 0);
	assert_string_equal(o.common.json_path, "x.json");
	assert_true(o.common.anonymize && o.common.quiet && o.common.timeout == 5);
}

static void test_options_bad(void **state)
{
	static const struct {
		const char *args[4];
		const char *want;
	} cases[] = {
		{{"--pattern", "star"}, "--pattern 'star'"},
		{{"--threshold", "0"}, "in (0, 1]"},
		{{"--threshold", "1.5"}, "in (0, 1]"},
		{{"--threshold", "-0.2"}, "in (0, 1]"},
		{{"--threshold", "x"}, "--threshold 'x'"},
		{{"--seed", "7"}, "--seed applies to --pattern random-ring"},
		{{"--pattern", "random-ring", "--seed", "-1"}, "--seed '-1'"},
		{{"-n", "0"}, "-n '0'"},
		{{"-n", "2.5"}, "-n '2.5'"},
		{{"-b", "2M", "-e", "1M"}, "minbytes <= maxbytes"},
		{{"-b", "0"}, "-b 0"},
		{{"-t", "pigeon"}, "unknown transport 'pigeon'"},
		{{"--ib-dev", "mlx5_0"}, "--ib-dev applies to -t verbs"},
		{{"--bogus"}, "unknown option '--bogus'"},
		{{"extra"}, "unexpected argument 'extra'"},
		{{"--timeout", "1e-6"}, "at least 0.001 s"},
		{{"--pattern"}, "needs a value"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bench_links_opts o;
		char err[512];

		assert_int_equal(parse(&o, err, cases[i].args[0], cases[i].args[1],
				       cases[i].args[2], cases[i].args[3], NULL),
				 -EINVAL);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
	}
}

/* ---- progress and JSON ----------------------------------------------------------------------- */

static void test_progress_eta(void **state)
{
	struct bench_progress p = {.t_start = 100, .total = 10, .done = 0, .enabled = true};

	assert_true(bench_progress_eta(&p, 104) < 0); /* nothing done: unknown */
	p.done = 2;
	assert_true(bench_progress_eta(&p, 104) == 16); /* 4 s for 2 units, 8 units left */
	p.done = 10;
	assert_true(bench_progress_eta(&p, 120) == 0);
}

static void test_json_entry(void **state)
{
	const char *names[] = {"alpha.example.org", "alpha.example.org", "beta.example.org"};
	struct bench_cluster cl = {.rank = 0, .nranks = 3};
	struct bench_link_result r = {.src = 0,
				      .dst = 2,
				      .size = 65536,
				      .bw_gbps = 1.23456789,
				      .bibw_gbps = -1,
				      .lat_us = 3.14159,
				      .flagged = true};
	char hostnames[3][256];
	json_t *e;

	for (int i = 0; i < 3; i++)
		snprintf(hostnames[i], sizeof(hostnames[i]), "%s", names[i]);
	cl.hostnames = hostnames;
	assert_int_equal(topo_cluster_map_build(names, 3, &cl.map), 0);
	e = bench_links_json_entry(&r, &cl, false);
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "src")), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "dst")), 2);
	assert_string_equal(json_string_value(json_object_get(e, "src_host")), "alpha.example.org");
	assert_string_equal(json_string_value(json_object_get(e, "dst_host")), "beta.example.org");
	assert_int_equal(json_integer_value(json_object_get(e, "size")), 65536);
	assert_true(json_real_value(json_object_get(e, "bw_gbps")) == 1.234568);
	assert_true(json_real_value(json_object_get(e, "lat_us")) == 3.142);
	assert_true(json_is_null(json_object_get(e, "bibw_gbps")));
	assert_true(json_is_true(json_object_get(e, "flagged")));
	json_decref(e);
	e = bench_links_json_entry(&r, &cl, true);
	assert_string_equal(json_string_value(json_object_get(e, "src_host")), "node0");
	assert_string_equal(json_string_value(json_object_get(e, "dst_host")), "node1");
	json_decref(e);
	topo_cluster_map_free(&cl.map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_all),
		cmocka_unit_test(test_plan_ring),
		cmocka_unit_test(test_plan_random_ring_differs),
		cmocka_unit_test(test_plan_shift),
		cmocka_unit_test(test_plan_bisection),
		cmocka_unit_test(test_plan_bad),
		cmocka_unit_test(test_patterns_named),
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_flag_slow_host),
		cmocka_unit_test(test_flag_one_way_only),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_options_bad),
		cmocka_unit_test(test_progress_eta),
		cmocka_unit_test(test_json_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
