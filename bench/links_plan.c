/*
 * links_plan.c - which pairs `arbench links` measures, and in which rounds, for each pattern;
 * the median and the flagging of slow links.  No MPI here: the unit tests check the schedules
 * directly.
 *
 * all: the round-robin (circle) method.  Fix participant m-1 (m = p, or p+1 with a "bye"
 * when p is odd) and rotate the others: in round r, m-1 meets r, and r+j meets r-j (mod m-1)
 * for j = 1..m/2-1.  Every pair meets exactly once in m-1 rounds, nobody twice in a round:
 *
 *     round 0: 3-0 1-2      round 1: 3-1 2-0      round 2: 3-2 0-1      (p = 4)
 *
 * ring / random-ring: the p edges of a cycle, packed greedily into rounds in cycle order
 * (2 rounds when p is even, 3 when odd).  bisection: one round pairing i with i + p/2 (the
 * middle participant of an odd p sits out).  shift (mpiGraph's pattern): round k = 1..p-1
 * has the directed streams i -> i+k (mod p) of every i at once.
 */
#include "bench/bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const pattern_names[BENCH_LINKS_PATTERN_COUNT] = {
	[BENCH_LINKS_ALL] = "all",
	[BENCH_LINKS_RING] = "ring",
	[BENCH_LINKS_RANDOM_RING] = "random-ring",
	[BENCH_LINKS_SHIFT] = "shift",
	[BENCH_LINKS_BISECTION] = "bisection",
};

const char *bench_links_pattern_name(enum bench_links_pattern pat)
{
	return (unsigned)pat < BENCH_LINKS_PATTERN_COUNT ? pattern_names[pat] : "?";
}

int bench_links_pattern_parse(const char *name, enum bench_links_pattern *out)
{
	for (int i = 0; i < BENCH_LINKS_PATTERN_COUNT; i++) {
		if (!strcmp(name, pattern_names[i])) {
			*out = (enum bench_links_pattern)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- building the rounds ----------------------------------------------------------------- */

struct builder {
	struct bench_links_plan *plan;
	size_t cap_pairs, cap_rounds;
};

static int add_pair(struct builder *b, int x, int y)
{
	struct bench_links_plan *pl = b->plan;

	if (pl->n_pairs == b->cap_pairs) {
		size_t cap = b->cap_pairs ? 2 * b->cap_pairs : 64;
		struct bench_link_pair *bigger = realloc(pl->pairs, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		pl->pairs = bigger;
		b->cap_pairs = cap;
	}
	pl->pairs[pl->n_pairs++] = (struct bench_link_pair){x, y};
	return 0;
}

/* Close the current round (an empty one is dropped). */
static int end_round(struct builder *b)
{
	struct bench_links_plan *pl = b->plan;

	if (pl->n_pairs == pl->round_start[pl->n_rounds])
		return 0;
	if ((size_t)pl->n_rounds + 2 > b->cap_rounds) {
		size_t cap = 2 * b->cap_rounds;
		size_t *bigger = realloc(pl->round_start, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		pl->round_start = bigger;
		b->cap_rounds = cap;
	}
	pl->round_start[++pl->n_rounds] = pl->n_pairs;
	return 0;
}

static int build_all(struct builder *b, int p)
{
	int m = p + (p & 1), bye = p & 1 ? p : -1; /* participant p is the bye when p is odd */
	int rc = 0;

	for (int r = 0; r < m - 1 && !rc; r++) {
		int x = m - 1, y = r;

		if (x != bye && y != bye)
			rc = add_pair(b, x, y);
		for (int j = 1; j < m / 2 && !rc; j++) {
			x = (r + j) % (m - 1);
			y = (r - j + (m - 1)) % (m - 1);
			if (x != bye && y != bye)
				rc = add_pair(b, x, y);
		}
		if (!rc)
			rc = end_round(b);
	}
	return rc;
}

/* Pack the edges of the cycle order[0] - order[1] - ... - order[p-1] - order[0] into rounds,
 * each edge into the first round where neither end is busy. */
static int build_ring(struct builder *b, const int *order, int p)
{
	int n_edges = p == 2 ? 1 : p, rc = 0;
	bool *placed = calloc((size_t)n_edges, sizeof(*placed));
	bool *busy = calloc((size_t)p, sizeof(*busy));
	int left = n_edges;

	if (!placed || !busy) {
		rc = -ENOMEM;
		goto out;
	}
	while (left && !rc) {
		memset(busy, 0, (size_t)p * sizeof(*busy));
		for (int e = 0; e < n_edges && !rc; e++) {
			int x = order[e], y = order[(e + 1) % p];

			if (placed[e] || busy[x] || busy[y])
				continue;
			busy[x] = busy[y] = placed[e] = true;
			left--;
			rc = add_pair(b, x, y);
		}
		if (!rc)
			rc = end_round(b);
	}
out:
	free(placed);
	free(busy);
	return rc;
}

static int build_shift(struct builder *b, int p)
{
	int rc = 0;

	for (int k = 1; k < p && !rc; k++) {
		for (int i = 0; i < p && !rc; i++)
			rc = add_pair(b, i, (i + k) % p);
		if (!rc)
			rc = end_round(b);
	}
	return rc;
}

static int build_bisection(struct builder *b, int p)
{
	int half = p / 2, rc = 0;

	for (int i = 0; i < half && !rc; i++)
		rc = add_pair(b, i, i + (p + 1) / 2);
	return rc ? rc : end_round(b);
}

/* A random order of 0..p-1 (Fisher-Yates with a small xorshift generator, so that a --seed
 * gives the same ring on every machine and C library). */
static void shuffle(int *order, int p, unsigned seed)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ seed;

	for (int i = p - 1; i > 0; i--) {
		int j, t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (int)(x % (uint64_t)(i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

int bench_links_plan_build(enum bench_links_pattern pat, int p, unsigned seed,
			   struct bench_links_plan *out)
{
	struct builder b = {.plan = out, .cap_rounds = 16};
	int *order = NULL, rc;

	memset(out, 0, sizeof(*out));
	if (p < 1 || (unsigned)pat >= BENCH_LINKS_PATTERN_COUNT)
		return -EINVAL;
	out->round_start = calloc(b.cap_rounds, sizeof(*out->round_start));
	if (!out->round_start)
		return -ENOMEM;
	out->directed = pat == BENCH_LINKS_SHIFT;
	if (p == 1)
		return 0;
	switch (pat) {
	case BENCH_LINKS_ALL:
		rc = build_all(&b, p);
		break;
	case BENCH_LINKS_RING:
	case BENCH_LINKS_RANDOM_RING:
		order = malloc((size_t)p * sizeof(*order));
		if (!order) {
			rc = -ENOMEM;
			break;
		}
		for (int i = 0; i < p; i++)
			order[i] = i;
		if (pat == BENCH_LINKS_RANDOM_RING)
			shuffle(order, p, seed);
		rc = build_ring(&b, order, p);
		break;
	case BENCH_LINKS_SHIFT:
		rc = build_shift(&b, p);
		break;
	default:
		rc = build_bisection(&b, p);
		break;
	}
	free(order);
	if (rc)
		bench_links_plan_free(out);
	return rc;
}

void bench_links_plan_free(struct bench_links_plan *plan)
{
	free(plan->pairs);
	free(plan->round_start);
	memset(plan, 0, sizeof(*plan));
}

/* ---- median and flags -------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(const double *values, size_t n)
{
	double *v, m;

	if (!n)
		return 0;
	v = malloc(n * sizeof(*v));
	if (!v)
		return 0;
	memcpy(v, values, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_double);
	m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	free(v);
	return m;
}

/* Median of the one-way bandwidths of res[0..n). */
static double group_median(const struct bench_link_result *res, size_t n)
{
	double *v = malloc((n ? n : 1) * sizeof(*v)), m;

	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++)
		v[i] = res[i].bw_gbps;
	m = bench_median(v, n);
	free(v);
	return m;
}

size_t bench_links_flag(struct bench_link_result *res, size_t n, double threshold,
			uint64_t judge_min, double *medians)
{
	size_t flagged = 0, start = 0;

	while (start < n) {
		size_t end = start + 1;
		double bw;

		while (end < n && res[end].size == res[start].size)
			end++;
		bw = group_median(res + start, end - start);
		for (size_t j = start; j < end; j++) {
			res[j].flagged =
				res[j].size >= judge_min && res[j].bw_gbps < threshold * bw;
			flagged += res[j].flagged;
			if (medians)
				medians[j] = bw;
		}
		start = end;
	}
	return flagged;
}
