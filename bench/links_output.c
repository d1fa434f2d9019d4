/*
 * links_output.c - what `arbench links` prints and writes: the run description, one row per
 * link and size beside the median of its size (printed as each size finishes), the bandwidth
 * and latency matrices, the closing summary with the flagged links and the hosts they have in
 * common, and the JSON entry of one link.
 */
#include "bench/bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MATRIX_MAX    16 /* participants up to which the matrices are printed */
#define ROWS_MAX      64 /* links of one size up to which every row is printed */
#define SUMMARY_LINKS 32 /* flagged links listed in the summary */

/* A participant's label: its host, or rN with --all-ranks (several ranks per host). */
static const char *label(const struct bench_links_view *v, int rank, char *buf, size_t len)
{
	const struct bench_cluster *cl = v->cl;

	if (v->o->all_ranks)
		snprintf(buf, len, "r%d", rank);
	else
		bench_node_name(cl, cl->map.node_of_rank[rank], v->o->common.anonymize, buf, len);
	return buf;
}

static const char *host(const struct bench_links_view *v, int rank, char *buf, size_t len)
{
	return bench_node_name(v->cl, v->cl->map.node_of_rank[rank], v->o->common.anonymize, buf,
			       len);
}

void bench_links_header(FILE *f, const struct bench_links_view *v)
{
	const struct bench_opts *co = &v->o->common;
	char a[32], b[32], j[32], name[256];

	if (!co->quiet) {
		fprintf(f, "# arbench %s links: %d %s (%d rank%s on %d node%s), transport %s\n",
			BENCH_VERSION, v->n_part,
			v->o->all_ranks ? "ranks" : "nodes, one rank each", v->cl->nranks,
			v->cl->nranks == 1 ? "" : "s", v->cl->map.n_nodes,
			v->cl->map.n_nodes == 1 ? "" : "s", co->transport);
		fprintf(f, "# MPI: %s\n", v->mpi_library);
		fprintf(f,
			"# pattern %s: %d round%s; sizes %s to %s; %d iterations after %d warm-up; "
			"judged at >= %s against %.2f x the median\n",
			bench_links_pattern_name(v->o->pattern), v->n_rounds,
			v->n_rounds == 1 ? "" : "s", bench_fmt_bytes(co->minbytes, a, sizeof(a)),
			bench_fmt_bytes(co->maxbytes, b, sizeof(b)), co->iters, co->warmup,
			bench_fmt_bytes(v->judge_min, j, sizeof(j)), v->o->threshold);
		if (v->o->pattern == BENCH_LINKS_RANDOM_RING)
			fprintf(f, "# random-ring order from --seed %u\n", v->seed);
		if (v->o->all_ranks) {
			fprintf(f, "# ranks:");
			for (int i = 0; i < v->n_part; i++)
				fprintf(f, " r%d=%s", v->ranks[i],
					host(v, v->ranks[i], name, sizeof(name)));
			fputc('\n', f);
		}
		fprintf(f, "#\n");
	}
	fprintf(f, "# %10s %6s %6s %-12s %-12s %10s %10s %8s %10s %11s %7s\n", "size", "src", "dst",
		"src_host", "dst_host", "bw", "median", "bw/med", "bibw", "lat", "flagged");
	fprintf(f, "# %10s %6s %6s %-12s %-12s %10s %10s %8s %10s %11s %7s\n", "(B)", "(rank)",
		"(rank)", "", "", "(GB/s)", "(GB/s)", "", "(GB/s)", "(us)", "");
	fflush(f);
}

static void row(FILE *f, const struct bench_links_view *v, const struct bench_link_result *r,
		double median)
{
	char sh[256], dh[256], bibw[32];

	if (r->bibw_gbps >= 0)
		snprintf(bibw, sizeof(bibw), "%10.4f", r->bibw_gbps);
	else
		snprintf(bibw, sizeof(bibw), "%10s", "-");
	fprintf(f, "  %10llu %6d %6d %-12s %-12s %10.4f %10.4f %8.2f %s %11.2f %7s\n",
		(unsigned long long)r->size, r->src, r->dst, host(v, r->src, sh, sizeof(sh)),
		host(v, r->dst, dh, sizeof(dh)), r->bw_gbps, median,
		median > 0 ? r->bw_gbps / median : 0.0, bibw, r->lat_us,
		r->flagged		  ? "SLOW"
		: r->size >= v->judge_min ? "ok"
					  : "-");
}

void bench_links_rows(FILE *f, const struct bench_links_view *v,
		      const struct bench_link_result *res, size_t n, const double *medians)
{
	size_t shown = 0;

	for (size_t i = 0; i < n; i++) {
		if (n > ROWS_MAX && !res[i].flagged)
			continue;
		row(f, v, &res[i], medians[i]);
		shown++;
	}
	if (n > ROWS_MAX && n)
		fprintf(f,
			"# %zu links at %llu B: %zu flagged shown, the others in the JSON (-J)\n",
			n, (unsigned long long)res[0].size, shown);
	fflush(f);
}

/* ---- matrices ---------------------------------------------------------------------------- */

static int part_index(const struct bench_links_view *v, int rank)
{
	for (int i = 0; i < v->n_part; i++)
		if (v->ranks[i] == rank)
			return i;
	return -1;
}

/* One matrix of size's results: latency when lat, else one-way bandwidth; '*' marks flagged
 * links, '.' pairs this pattern does not measure. */
static void matrix(FILE *f, const struct bench_links_view *v, const struct bench_link_result *res,
		   size_t n, uint64_t size, bool lat)
{
	int q = v->n_part, w = 10;
	double *m = calloc((size_t)q * q, sizeof(*m));
	char *flag = calloc((size_t)q * q, 1), name[256], sz[32];

	if (!m || !flag)
		goto out;
	for (int i = 0; i < q * q; i++)
		m[i] = -1;
	for (size_t k = 0; k < n; k++) {
		int s = part_index(v, res[k].src), d = part_index(v, res[k].dst);

		if (res[k].size != size || s < 0 || d < 0)
			continue;
		m[s * q + d] = lat ? res[k].lat_us : res[k].bw_gbps;
		flag[s * q + d] = res[k].flagged;
	}
	fprintf(f, "# %s at %s (%s; row: src, column: dst%s)\n",
		lat ? "latency" : "one-way bandwidth", bench_fmt_bytes(size, sz, sizeof(sz)),
		!lat ? "GB/s = 1e9 B/s"
		: v->o->pattern == BENCH_LINKS_SHIFT
			? "us per exchange, sending to i+k while receiving from i-k"
			: "us, half a ping-pong round trip",
		lat ? "" : "; * flagged");
	fprintf(f, "# %*s", w, "src\\dst");
	for (int d = 0; d < q; d++)
		fprintf(f, " %*.*s", w, w, label(v, v->ranks[d], name, sizeof(name)));
	fputc('\n', f);
	for (int s = 0; s < q; s++) {
		fprintf(f, "# %*.*s", w, w, label(v, v->ranks[s], name, sizeof(name)));
		for (int d = 0; d < q; d++) {
			double x = m[s * q + d];

			if (s == d)
				fprintf(f, " %*s", w, "-");
			else if (x < 0)
				fprintf(f, " %*s", w, ".");
			else
				fprintf(f, " %*.*f%c", w - 1, lat ? 1 : 4, x,
					flag[s * q + d] ? '*' : ' ');
		}
		fputc('\n', f);
	}
out:
	free(m);
	free(flag);
}

/* ---- summary ----------------------------------------------------------------------------- */

/* The worst ratio to the median of each flagged (src, dst), over sizes. */
struct flagged_link {
	int src, dst;
	uint64_t size;
	double bw, ratio;
};

static size_t collect_flagged(const struct bench_link_result *res, size_t n, const double *med,
			      struct flagged_link *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		double ratio = med[i] > 0 ? res[i].bw_gbps / med[i] : 0;
		size_t j;

		if (!res[i].flagged)
			continue;
		for (j = 0; j < k; j++)
			if (out[j].src == res[i].src && out[j].dst == res[i].dst)
				break;
		if (j == k)
			out[k++] = (struct flagged_link){res[i].src, res[i].dst, res[i].size,
							 res[i].bw_gbps, ratio};
		else if (ratio < out[j].ratio)
			out[j] = (struct flagged_link){res[i].src, res[i].dst, res[i].size,
						       res[i].bw_gbps, ratio};
	}
	return k;
}

/* The hosts (ranks with --all-ranks) every flagged link touches, usually the slow one, or
 * else the most frequent one. */
static void common_ends(FILE *f, const struct bench_links_view *v, const struct flagged_link *fl,
			size_t k)
{
	bool by_rank = v->o->all_ranks;
	int n_ends = by_rank ? v->cl->nranks : v->cl->map.n_nodes, best = 0;
	size_t *count = calloc((size_t)n_ends, sizeof(*count));
	char name[256];
	bool any = false;

	if (!count)
		return;
	for (size_t i = 0; i < k; i++) {
		int a = by_rank ? fl[i].src : v->cl->map.node_of_rank[fl[i].src];
		int b = by_rank ? fl[i].dst : v->cl->map.node_of_rank[fl[i].dst];

		count[a]++;
		if (b != a)
			count[b]++;
	}
	for (int e = 0; e < n_ends; e++) {
		if (count[e] > count[best])
			best = e;
		if (count[e] != k)
			continue;
		fprintf(f, "%s %s", any ? "," : "#   every flagged link touches",
			by_rank ? label(v, e, name, sizeof(name))
				: bench_node_name(v->cl, e, v->o->common.anonymize, name,
						  sizeof(name)));
		any = true;
	}
	if (any)
		fprintf(f, by_rank ? ": look at that rank's placement and its host first\n"
				   : ": look at its NIC, cable and switch port first\n");
	else if (k)
		fprintf(f, "#   no %s is in every flagged link; most often: %s (%zu of %zu)\n",
			by_rank ? "rank" : "host",
			by_rank ? label(v, best, name, sizeof(name))
				: bench_node_name(v->cl, best, v->o->common.anonymize, name,
						  sizeof(name)),
			count[best], k);
	free(count);
}

static void size_medians(FILE *f, const struct bench_link_result *res, size_t n, const double *med)
{
	size_t start = 0;
	char sz[32];

	while (start < n) {
		size_t end = start, nbi = 0, k = 0;
		double *bi, *lat;

		while (end < n && res[end].size == res[start].size)
			end++;
		bi = malloc((end - start) * sizeof(*bi));
		lat = malloc((end - start) * sizeof(*lat));
		if (bi && lat) {
			for (size_t i = start; i < end; i++) {
				if (res[i].bibw_gbps >= 0)
					bi[nbi++] = res[i].bibw_gbps;
				lat[k++] = res[i].lat_us;
			}
			fprintf(f, "#   median at %9s: one-way %.4f GB/s",
				bench_fmt_bytes(res[start].size, sz, sizeof(sz)), med[start]);
			if (nbi)
				fprintf(f, ", both ways %.4f GB/s", bench_median(bi, nbi));
			fprintf(f, ", latency %.2f us (%zu links)\n", bench_median(lat, k),
				end - start);
		}
		free(bi);
		free(lat);
		start = end;
	}
}

void bench_links_footer(FILE *f, const struct bench_links_view *v,
			const struct bench_link_result *res, size_t n, const double *medians)
{
	struct flagged_link *fl = calloc(n ? n : 1, sizeof(*fl));
	char sh[256], dh[256], sz[32];
	size_t k;

	if (!fl)
		return;
	if (n && v->n_part <= MATRIX_MAX) {
		matrix(f, v, res, n, res[n - 1].size, false);
		matrix(f, v, res, n, res[0].size, true);
	} else if (n) {
		fprintf(f,
			"# matrices are printed up to %d participants; all links are in the JSON "
			"(-J)\n",
			MATRIX_MAX);
	}
	fprintf(f, "# Summary: %d %s, pattern %s, %d round%s\n", v->n_part,
		v->o->all_ranks ? "ranks" : "nodes", bench_links_pattern_name(v->o->pattern),
		v->n_rounds, v->n_rounds == 1 ? "" : "s");
	size_medians(f, res, n, medians);
	if (v->o->pattern == BENCH_LINKS_BISECTION && n) {
		double sum = 0;

		for (size_t i = 0; i < n; i++)
			if (res[i].size == res[n - 1].size && res[i].src < res[i].dst)
				sum += res[i].bibw_gbps;
		fprintf(f,
			"#   bisection at %s: %.4f GB/s (both directions of every pair, summed)\n",
			bench_fmt_bytes(res[n - 1].size, sz, sizeof(sz)), sum);
	}
	k = collect_flagged(res, n, medians, fl);
	if (!k) {
		fprintf(f, "#   flagged: none (every link at >= %.2f x the median of its size)\n",
			v->o->threshold);
	} else {
		fprintf(f, "#   flagged: %zu link%s below %.2f x the median (worst size shown)\n",
			k, k == 1 ? "" : "s", v->o->threshold);
		for (size_t i = 0; i < k && i < SUMMARY_LINKS; i++)
			fprintf(f,
				"#     %s -> %s (rank %d -> %d) at %s: %.4f GB/s, %.2f x median\n",
				host(v, fl[i].src, sh, sizeof(sh)),
				host(v, fl[i].dst, dh, sizeof(dh)), fl[i].src, fl[i].dst,
				bench_fmt_bytes(fl[i].size, sz, sizeof(sz)), fl[i].bw, fl[i].ratio);
		if (k > SUMMARY_LINKS)
			fprintf(f, "#     ... and %zu more (all in the JSON, -J)\n",
				k - SUMMARY_LINKS);
		common_ends(f, v, fl, k);
	}
	free(fl);
	fflush(f);
}

/* ---- JSON -------------------------------------------------------------------------------- */

/* Bandwidths to 1 kB/s, times to the nanosecond: no binary noise in reports. */
static double round_to(double x, double per_unit)
{
	return round(x * per_unit) / per_unit;
}

json_t *bench_links_json_entry(const struct bench_link_result *r, const struct bench_cluster *cl,
			       bool anonymize)
{
	char sh[256], dh[256];

	bench_node_name(cl, cl->map.node_of_rank[r->src], anonymize, sh, sizeof(sh));
	bench_node_name(cl, cl->map.node_of_rank[r->dst], anonymize, dh, sizeof(dh));
	return json_pack("{s:i, s:i, s:s, s:s, s:I, s:f, s:o, s:f, s:b}", "src", r->src, "dst",
			 r->dst, "src_host", sh, "dst_host", dh, "size", (json_int_t)r->size,
			 "bw_gbps", round_to(r->bw_gbps, 1e6), "bibw_gbps",
			 r->bibw_gbps >= 0 ? json_real(round_to(r->bibw_gbps, 1e6)) : json_null(),
			 "lat_us", round_to(r->lat_us, 1e3), "flagged", r->flagged);
}
