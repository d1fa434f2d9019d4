/*
 * output.c - the results table on stdout, in nccl-tests' layout with an algorithm column:
 * a description of the run, a two-line column header with units, one row per size, type, op
 * and algorithm (out-of-place then in-place), and a footer with the wrong-value count and the
 * average bus bandwidth per algorithm.
 */
#include "bench/bench.h"

#include <string.h>

void bench_table_header(FILE *f, const struct bench_opts *o, const struct bench_cluster *cl,
			const char *mpi_library)
{
	char name[256];

	if (!o->quiet) {
		fprintf(f, "# arbench %s: %d rank%s on %d node%s, transport %s\n", BENCH_VERSION,
			cl->nranks, cl->nranks == 1 ? "" : "s", cl->map.n_nodes,
			cl->map.n_nodes == 1 ? "" : "s", o->transport);
		fprintf(f, "# MPI: %s\n", mpi_library);
		fprintf(f,
			"# minBytes %llu maxBytes %llu step: %g(%s) warmup iters: %d iters: %d "
			"agg: %s validation: %d timeout: %g s buffers: %s\n",
			(unsigned long long)o->minbytes, (unsigned long long)o->maxbytes,
			o->stepfactor > 1 ? o->stepfactor : (double)o->stepbytes,
			o->stepfactor > 1 ? "factor" : "bytes", o->warmup, o->iters,
			bench_agg_name(o->agg), o->check, o->timeout,
			o->shared_buffers ? "node-shared (-R 1)" : "private");
		for (int n = 0; cl->nodes && n < cl->map.n_nodes; n++) {
			const struct topo_node_info *ni = &cl->nodes[n];

			fprintf(f,
				"#  %s: %d ranks, %d cores, %d PUs, %d NUMA, %s, %d NICs, %d "
				"GPUs\n",
				bench_node_name(cl, n, o->anonymize, name, sizeof(name)),
				cl->map.ranks_on_node[n], ni->cores, ni->pus, ni->numa_nodes,
				ni->cpu_model, ni->n_nics, ni->n_gpus);
		}
		if (cl->discover_err)
			fprintf(f,
				"# warning: hwloc discovery failed on a node (%s); its summary is "
				"empty\n",
				strerror(-cl->discover_err));
		fprintf(f, "#\n");
	}
	fprintf(f, "# %58s %-31s %s\n", "", "out-of-place", "in-place");
	fprintf(f, "# %10s %12s %8s %6s %8s %9s %7s %7s %6s %9s %7s %7s %6s\n", "size", "count",
		"type", "redop", "algo", "time", "algbw", "busbw", "#wrong", "time", "algbw",
		"busbw", "#wrong");
	fprintf(f, "# %10s %12s %8s %6s %8s %9s %7s %7s %6s %9s %7s %7s %6s\n", "(B)", "(elements)",
		"", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)", "");
	fflush(f);
}

static void print_half(FILE *f, const struct bench_result *r, bool checked)
{
	fprintf(f, " %9.2f %7.2f %7.2f", r->time_us.avg, r->algbw, r->busbw);
	if (checked)
		fprintf(f, " %6llu", (unsigned long long)r->wrong);
	else
		fprintf(f, " %6s", "N/A");
}

void bench_table_row(FILE *f, const struct bench_result *oop, const struct bench_result *ip,
		     bool checked)
{
	fprintf(f, "  %10llu %12zu %8s %6s %8s", (unsigned long long)oop->size, oop->count,
		ar_dtype_name(oop->dtype), ar_op_name(oop->op), oop->algo);
	print_half(f, oop, checked);
	print_half(f, ip, checked);
	fputc('\n', f);
	fflush(f);
}

/* Mean busbw of algorithm algo's rows; 0 when it has none. */
static double algo_mean_busbw(const struct bench_result *res, size_t n, const char *algo)
{
	double sum = 0;
	size_t cnt = 0;

	for (size_t j = 0; j < n; j++) {
		if (!strcmp(res[j].algo, algo)) {
			sum += res[j].busbw;
			cnt++;
		}
	}
	return cnt ? sum / cnt : 0;
}

void bench_table_footer(FILE *f, const struct bench_result *res, size_t n, uint64_t wrong)
{
	double total = 0, base = algo_mean_busbw(res, n, "mpi");

	fprintf(f, "# Out of bounds values : %llu %s\n", (unsigned long long)wrong,
		wrong ? "FAILED" : "OK");
	for (size_t i = 0; i < n; i++)
		total += res[i].busbw;
	fprintf(f, "# Avg bus bandwidth    : %g GB/s (all algorithms)\n", n ? total / n : 0.0);
	/* per algorithm, in order of first appearance; against the mpi baseline when it ran */
	for (size_t i = 0; i < n; i++) {
		double mean;
		size_t j;

		for (j = 0; j < i; j++)
			if (!strcmp(res[j].algo, res[i].algo))
				break;
		if (j < i)
			continue;
		mean = algo_mean_busbw(res, n, res[i].algo);
		fprintf(f, "# Avg bus bandwidth %-5s: %g GB/s", res[i].algo, mean);
		if (base > 0 && strcmp(res[i].algo, "mpi"))
			fprintf(f, " (%.2fx mpi)", mean / base);
		fputc('\n', f);
	}
	fflush(f);
}

/* ---- the summary ------------------------------------------------------------------------- */

static const struct {
	const char *name;
	uint64_t lo, hi; /* [lo, hi) bytes */
} bands[] = {
	{"small  (< 64 KiB)", 0, BENCH_BAND_SMALL_MAX},
	{"medium (64 KiB - 1 MiB)", BENCH_BAND_SMALL_MAX, BENCH_BAND_LARGE_MIN},
	{"large  (>= 1 MiB)", BENCH_BAND_LARGE_MIN, UINT64_MAX},
};

/* Mean algbw and busbw of algo's rows in [lo, hi); false when it has none. */
static bool band_means(const struct bench_result *res, size_t n, const char *algo, uint64_t lo,
		       uint64_t hi, double *algbw, double *busbw)
{
	size_t cnt = 0;

	*algbw = *busbw = 0;
	for (size_t j = 0; j < n; j++) {
		if (strcmp(res[j].algo, algo) || res[j].size < lo || res[j].size >= hi)
			continue;
		*algbw += res[j].algbw;
		*busbw += res[j].busbw;
		cnt++;
	}
	if (!cnt)
		return false;
	*algbw /= (double)cnt;
	*busbw /= (double)cnt;
	return true;
}

void bench_table_summary(FILE *f, const struct bench_result *res, size_t n)
{
	bool header = false;

	for (size_t b = 0; b < sizeof(bands) / sizeof(bands[0]); b++) {
		const char *best = NULL, *second = NULL;
		double best_alg = -1, best_bus = 0, second_alg = -1, second_bus = 0;

		for (size_t i = 0; i < n; i++) {
			double alg, bus;
			size_t j;

			for (j = 0; j < i; j++) /* each algorithm once, in order of appearance */
				if (!strcmp(res[j].algo, res[i].algo))
					break;
			if (j < i ||
			    !band_means(res, n, res[i].algo, bands[b].lo, bands[b].hi, &alg, &bus))
				continue;
			if (alg > best_alg) {
				second = best;
				second_alg = best_alg;
				second_bus = best_bus;
				best = res[i].algo;
				best_alg = alg;
				best_bus = bus;
			} else if (alg > second_alg) {
				second = res[i].algo;
				second_alg = alg;
				second_bus = bus;
			}
		}
		if (!best)
			continue;
		if (!header)
			fprintf(f,
				"# Summary: best algorithm per size band (highest mean bandwidth "
				"over the band's rows)\n");
		header = true;
		fprintf(f, "#   %-24s %-6s busbw %8.3f GB/s", bands[b].name, best, best_bus);
		if (second)
			fprintf(f, "   (next: %s %.3f GB/s)", second, second_bus);
		fputc('\n', f);
	}
	fflush(f);
}
