/*
 * report_model.c - what `arplan report` shows, computed from the loaded files: one point per
 * algorithm and size (the median over every row of it: files, types, ops and placements), the
 * planner's prediction and lower bound for each point when a topology is given (the same engine
 * as `arplan predict` and `validate`), the link matrix of `arbench links`, and the summary at the
 * top of the page: the best algorithm per band of sizes, the peak bus bandwidth and whether it
 * meets --expect.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

#define LARGE_BYTES ((size_t)1 << 20) /* the peak and --expect look at sizes from 1 MiB */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v); -1 when n is 0. */
static double median(double *v, size_t n)
{
	if (!n)
		return -1;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- points ---------------------------------------------------------------------------------- */

struct keyed_ref {
	struct plan_rpt_ref ref;
	unsigned algo;
	size_t order; /* position in the files: a stable sort */
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed_ref *x = a, *y = b;

	if (x->algo != y->algo)
		return x->algo < y->algo ? -1 : 1;
	if (x->ref.row->size != y->ref.row->size)
		return x->ref.row->size < y->ref.row->size ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

static int algo_index(struct plan_report *r, const char *algo, size_t *cap)
{
	size_t i;

	for (i = r->n_algos; i-- > 0;)
		if (!strcmp(r->algos[i], algo))
			return (int)i;
	if (r->n_algos == *cap) {
		size_t n = *cap ? *cap * 2 : 8;
		char(*bigger)[16] = realloc(r->algos, n * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		r->algos = bigger;
		*cap = n;
	}
	snprintf(r->algos[r->n_algos], sizeof(r->algos[0]), "%s", algo);
	return (int)r->n_algos++;
}

static void fill_point(struct plan_rpt_point *p, const struct plan_rpt_ref *refs, double *scratch)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_refs; i++)
		scratch[i] = refs[i].row->busbw;
	p->busbw = median(scratch, p->n_refs);
	for (i = 0; i < p->n_refs; i++)
		scratch[i] = refs[i].row->p50_us > 0 ? refs[i].row->p50_us : refs[i].row->time_us;
	p->p50_us = median(scratch, p->n_refs);
	p->min_us = p->max_us = -1;
	for (i = 0; i < p->n_refs; i++) {
		const struct plan_row *row = refs[i].row;

		p->wrong += row->wrong;
		if (!row->has_spread)
			continue;
		scratch[n++] = row->p99_us;
		if (p->min_us < 0 || row->min_us < p->min_us)
			p->min_us = row->min_us;
		if (row->max_us > p->max_us)
			p->max_us = row->max_us;
	}
	p->p99_us = median(scratch, n);
	for (i = n = 0; i < p->n_refs; i++)
		if (refs[i].row->has_spread && refs[i].row->p50_us > 0)
			scratch[n++] = refs[i].row->p99_us / refs[i].row->p50_us;
	p->spread = median(scratch, n);
	p->pred_us = p->bound_us = p->pred_busbw = p->bound_busbw = -1;
}

static int aggregate_points(struct plan_report *r)
{
	struct keyed_ref *k;
	size_t total = 0, i, f, n = 0, cap = 0, longest = 0;
	double *scratch;
	int a;

	for (f = 0; f < r->n_files; f++)
		total += r->files[f].res->n_rows;
	k = calloc(total + 1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (f = 0; f < r->n_files; f++)
		for (i = 0; i < r->files[f].res->n_rows; i++) {
			const struct plan_row *row = &r->files[f].res->rows[i];

			a = algo_index(r, row->algo, &cap);
			if (a < 0) {
				free(k);
				return a;
			}
			k[n] = (struct keyed_ref){{(unsigned)f, row}, (unsigned)a, n};
			n++;
		}
	qsort(k, n, sizeof(*k), cmp_keyed);
	r->refs = calloc(n + 1, sizeof(*r->refs));
	r->points = calloc(n + 1, sizeof(*r->points));
	if (!r->refs || !r->points) {
		free(k);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct plan_rpt_point *p = r->n_points ? &r->points[r->n_points - 1] : NULL;

		r->refs[i] = k[i].ref;
		if (!p || strcmp(p->algo, k[i].ref.row->algo) || p->size != k[i].ref.row->size) {
			p = &r->points[r->n_points++];
			snprintf(p->algo, sizeof(p->algo), "%s", k[i].ref.row->algo);
			p->size = k[i].ref.row->size;
			p->first_ref = i;
		}
		if (++p->n_refs > longest)
			longest = p->n_refs;
	}
	free(k);
	scratch = malloc((longest + 1) * sizeof(*scratch));
	if (!scratch)
		return -ENOMEM;
	for (i = 0; i < r->n_points; i++) {
		struct plan_rpt_point *p = &r->points[i];

		p->rows = p->n_refs;
		fill_point(p, &r->refs[p->first_ref], scratch);
	}
	free(scratch);
	return 0;
}

/* ---- the link matrix ------------------------------------------------------------------------- */

static int cmp_link(const void *a, const void *b)
{
	const struct plan_rpt_link *x = *(const struct plan_rpt_link *const *)a;
	const struct plan_rpt_link *y = *(const struct plan_rpt_link *const *)b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->dst != y->dst)
		return x->dst < y->dst ? -1 : 1;
	return (x > y) - (x < y); /* the file's order */
}

/* The links of the first file that has any, at the largest size it measured, one per pair
 * (a pair measured again, e.g. both directions at once: the first counts), by src and dst. */
static int aggregate_links(struct plan_report *r)
{
	const struct plan_rpt_file *f = NULL;
	const struct plan_rpt_link **l;
	double *bw;
	size_t i, n = 0;

	for (i = 0; i < r->n_files && !f; i++)
		if (r->files[i].n_links)
			f = &r->files[i];
	if (!f)
		return 0;
	for (i = 0; i < f->n_links; i++)
		if (f->links[i].size > r->link_size)
			r->link_size = f->links[i].size;
	l = r->links = calloc(f->n_links, sizeof(*r->links));
	bw = calloc(f->n_links, sizeof(*bw));
	if (!r->links || !bw) {
		free(bw);
		return -ENOMEM;
	}
	for (i = 0; i < f->n_links; i++)
		if (f->links[i].size == r->link_size)
			l[n++] = &f->links[i];
	qsort(l, n, sizeof(*l), cmp_link);
	for (i = 0; i < n; i++) {
		if (i && l[i]->src == l[i - 1]->src && l[i]->dst == l[i - 1]->dst)
			continue;
		bw[r->n_links] = l[i]->bw_gbps;
		l[r->n_links++] = l[i];
		r->n_flagged += l[i]->flagged;
		if (l[i]->src + 1 > r->link_ranks)
			r->link_ranks = l[i]->src + 1;
		if (l[i]->dst + 1 > r->link_ranks)
			r->link_ranks = l[i]->dst + 1;
	}
	r->link_median = median(bw, r->n_links);
	free(bw);
	return 0;
}

int plan_rpt_aggregate(struct plan_report *r)
{
	size_t i;
	int ret;

	for (i = 0; i < r->n_files; i++) /* the first file with results, else the first */
		if (r->files[i].res->n_rows || !r->ranks) {
			r->ranks = r->files[i].res->ranks;
			r->nodes = r->files[i].res->nodes;
			if (r->files[i].res->n_rows)
				break;
		}
	ret = aggregate_points(r);
	return ret ? ret : aggregate_links(r);
}

/* ---- prediction ------------------------------------------------------------------------------ */

static double busbw_of(size_t bytes, double seconds, int ranks)
{
	if (!(seconds > 0) || ranks < 2)
		return 0;
	return bytes / seconds / 1e9 * 2.0 * (ranks - 1) / ranks;
}

/* The prediction of one point: the median over its rows, each predicted on its own file's
 * placement (rows of equal file and element size share one call). */
static int predict_point(struct plan_report *r, struct plan_rpt_point *p, struct plan_ctx **ctx,
			 double *scratch)
{
	const struct plan_rpt_ref *refs = &r->refs[p->first_ref];
	double *pred = scratch, *bound = scratch + p->n_refs, *pbw = scratch + 2 * p->n_refs,
	       *bbw = scratch + 3 * p->n_refs;
	struct plan_prediction last = {0};
	unsigned last_file = ~0u, last_esize = 0;
	size_t i, n = 0;
	int ret;

	for (i = 0; i < p->n_refs; i++) {
		const struct plan_row *row = refs[i].row;
		int ranks = r->files[refs[i].file].res->ranks;

		if (refs[i].file != last_file || row->esize != last_esize) {
			ret = plan_predict(ctx[refs[i].file],
					   strcmp(row->algo, "nccl") ? row->algo : "nccl-ring",
					   row->size, row->esize, &last);
			if (ret == -ENOENT)
				return 0; /* an algorithm the planner does not model (mpi) */
			if (ret)
				return ret;
			last_file = refs[i].file;
			last_esize = row->esize;
		}
		pred[n] = last.time_s * 1e6;
		bound[n] = last.bound_s * 1e6;
		pbw[n] = busbw_of(row->size, last.time_s, ranks);
		bbw[n] = busbw_of(row->size, last.bound_s, ranks);
		p->extrapolated |= last.extrapolated;
		n++;
	}
	p->pred_us = median(pred, n);
	p->bound_us = median(bound, n);
	p->pred_busbw = median(pbw, n);
	p->bound_busbw = median(bbw, n);
	return 0;
}

int plan_rpt_predict(struct plan_report *r, const struct topo_graph *g,
		     const struct plan_calib *calib, char *msg, size_t msglen)
{
	struct plan_ctx **ctx = calloc(r->n_files + 1, sizeof(*ctx));
	size_t i, longest = 0;
	double *scratch = NULL;
	int ret = -ENOMEM;

	if (!ctx)
		return -ENOMEM;
	for (i = 0; i < r->n_files; i++) {
		const struct plan_results *res = r->files[i].res;
		struct plan_setup s = {
			.g = g,
			.ranks = res->ranks,
			.node_of_rank = res->node_of_rank,
			.lib = {.segment_bytes = res->segment_bytes,
				.max_inflight = res->max_inflight},
			.calib = calib,
		};
		char why[600];

		if (!res->n_rows)
			continue;
		ret = plan_ctx_new(&s, &ctx[i], why, sizeof(why));
		if (ret == -EINVAL)
			snprintf(msg, msglen, "%s on %s: %s", r->files[i].name,
				 r->topo_path ? r->topo_path : "the topology", why);
		if (ret)
			goto out;
	}
	for (i = 0; i < r->n_points; i++)
		if (r->points[i].n_refs > longest)
			longest = r->points[i].n_refs;
	scratch = malloc((4 * longest + 1) * sizeof(*scratch));
	ret = scratch ? 0 : -ENOMEM;
	for (i = 0; i < r->n_points && !ret; i++)
		ret = predict_point(r, &r->points[i], ctx, scratch);
out:
	for (i = 0; i < r->n_files; i++)
		plan_ctx_free(ctx[i]);
	free(ctx);
	free(scratch);
	return ret;
}

/* ---- summary --------------------------------------------------------------------------------- */

static const struct {
	const char *label;
	size_t lo, hi;
} bands[PLAN_RPT_BANDS] = {
	{"small (below 64 KiB)", 0, (size_t)64 << 10},
	{"medium (64 KiB up to 8 MiB)", (size_t)64 << 10, (size_t)8 << 20},
	{"large (8 MiB and up)", (size_t)8 << 20, (size_t)-1},
};

struct contender {
	size_t size;
	double time_us;
	size_t algo;
};

static int cmp_contender(const void *a, const void *b)
{
	const struct contender *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	if (x->time_us != y->time_us)
		return x->time_us < y->time_us ? -1 : 1;
	return (x->algo > y->algo) - (x->algo < y->algo);
}

/* The fastest point (least median time) at each size of the band wins it; the algorithm
 * fastest at most sizes is the band's best (ties: the one seen first). */
static void band_best(struct plan_report *r, struct plan_rpt_band *b)
{
	struct contender *c = calloc(r->n_points + 1, sizeof(*c));
	unsigned *wins = calloc(r->n_algos + 1, sizeof(*wins));
	size_t i, n = 0, a = 0, best = 0;

	if (!c || !wins)
		goto out;
	for (i = 0; i < r->n_points; i++) {
		const struct plan_rpt_point *p = &r->points[i];

		if (i == 0 || strcmp(p->algo, r->points[i - 1].algo))
			for (a = 0; a < r->n_algos && strcmp(r->algos[a], p->algo); a++)
				;
		if (p->size < b->lo || p->size >= b->hi)
			continue;
		c[n++] = (struct contender){p->size, p->p50_us, a};
	}
	qsort(c, n, sizeof(*c), cmp_contender);
	for (i = 0; i < n; i++)
		if (i == 0 || c[i].size != c[i - 1].size) {
			wins[c[i].algo]++;
			b->sizes++;
		}
	for (a = 1; a < r->n_algos; a++)
		if (wins[a] > wins[best])
			best = a;
	if (b->sizes && wins[best]) {
		snprintf(b->best, sizeof(b->best), "%s", r->algos[best]);
		b->wins = wins[best];
		for (i = 0; i < r->n_points; i++)
			if (!strcmp(r->points[i].algo, b->best) && r->points[i].size >= b->lo &&
			    r->points[i].size < b->hi)
				b->busbw = r->points[i].busbw; /* sorted by size: the last wins */
	}
out:
	free(c);
	free(wins);
}

void plan_rpt_summarise(struct plan_report *r)
{
	const struct plan_rpt_point *peak = NULL;
	size_t i;
	int pass;

	for (i = 0; i < PLAN_RPT_BANDS; i++) {
		struct plan_rpt_band *b = &r->bands[i];

		memset(b, 0, sizeof(*b));
		b->label = bands[i].label;
		b->lo = bands[i].lo;
		b->hi = bands[i].hi;
		band_best(r, b);
	}
	for (pass = 0; pass < 2 && !peak; pass++)
		for (i = 0; i < r->n_points; i++) {
			const struct plan_rpt_point *p = &r->points[i];

			if (pass == 0 && p->size < LARGE_BYTES)
				continue;
			if (!peak || p->busbw > peak->busbw)
				peak = p;
			r->peak_large = pass == 0;
		}
	if (peak) {
		r->peak_busbw = peak->busbw;
		snprintf(r->peak_algo, sizeof(r->peak_algo), "%s", peak->algo);
		r->peak_size = peak->size;
		r->peak_bound = peak->bound_busbw > 0 ? peak->bound_busbw : 0;
	}
	r->verdict = -1;
	if (r->expect_gbps > 0)
		r->verdict = peak && r->peak_large && r->peak_busbw >= r->expect_gbps;
}
