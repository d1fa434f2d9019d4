/*
 * cmd_predict.c - `arplan predict`: the time of each all-reduce algorithm on a topology, per
 * size, with arbench's columns, the lower bound, the bottleneck link and whether the
 * calibration covered the case.  Exit 0 ok, 2 bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

static void help(FILE *f)
{
	fprintf(f,
		"usage: arplan predict --topo T.yaml [--calib C.yaml] [-b MIN -e MAX -f X | --size "
		"S]\n"
		"                      [--algo LIST|all] [--nodes N] [--ranks-per-node N]\n"
		"                      [--engine flow|closed] [--ecmp hash|spread|sample:N]\n"
		"                      [--conns N] [--segment S] [--json]\n\n"
		"Predict the time of one all-reduce per algorithm and size on the topology.  "
		"Without\n"
		"--calib, link figures come from the topology file and the catalog (no latency, "
		"full\n"
		"link rate, no reduction cost).\n\n"
		"  --topo FILE         topology YAML (configs/README.md)\n"
		"  --calib FILE        calibration from `arplan fit`\n"
		"  -b, -e SIZE         smallest and largest size in bytes (1M, 1G; K/M/G = "
		"1024^n)\n"
		"  -f X                multiply the size by X each step (2)\n"
		"  --size SIZE         one size (same as -b SIZE -e SIZE)\n"
		"  --algo LIST|all     ring,tree,hier,rhd: the library's algorithms; nccl-ring,\n"
		"                      nccl-tree: NCCL's forms on GPU nodes, one channel per\n"
		"                      GPU, each on its own rail (all: the four, and the\n"
		"                      nccl ones when nodes have GPUs)\n"
		"  --nodes N           use the first N nodes of the topology (all)\n"
		"  --ranks-per-node N  ranks per node (GPUs per node, else 1)\n"
		"  --engine flow       route flows and share links max-min fairly (default)\n"
		"  --engine closed     alpha-beta-gamma: only the endpoints' links are shared\n"
		"  --ecmp hash|spread  one hash-chosen path per flow (default), or each flow "
		"split\n"
		"                      over every equal-cost path\n"
		"  --ecmp sample:N     N random hash draws (1..100000): per algorithm the time of\n"
		"                      the best, median (p50), p99 and worst draw beside the\n"
		"                      spread figure (what hashing costs; JSON adds every draw)\n"
		"  --conns N           connections per flow, each hashed onto its own path with "
		"an\n"
		"                      equal share of the bytes (1; the lab's Open MPI: 2)\n"
		"  --segment SIZE      the library's pipelining segment (1M)\n"
		"  --json              JSON instead of the table\n\n"
		"Columns: size (B), count (float elements), time (us), algbw and busbw (GB/s =\n"
		"1e9 B/s), bound (us): no all-reduce can be faster (nodes of equal NIC bandwidth\n"
		"B: 2(N-1)/N x size / B; unequal: the larger of size / the slowest node's B and\n"
		"2(N-1) x size / the sum of all B; a GPU must also send size over its own links),\n"
		"the bottleneck: the link class (fabric: with the tier of "
		"its\n"
		"lower end) that set the rate of the slowest flow of the longest phase, and that\n"
		"link's utilisation; '*' marks the fastest algorithm of a size, 'x' a prediction\n"
		"outside the sizes or link rates the calibration covered.  With --ecmp sample:\n"
		"size, algo, then time (us) and busbw (GB/s) with every flow spread, and time "
		"(us)\n"
		"of the best, p50, p99 and worst draw with the busbw of p50 and worst.\n\n"
		"Exit status: 0 ok, 2 bad input.\n");
}

/* "1M", "64K", "1G", "1048576": K/M/G/T are powers of 1024 (nccl-tests). */
int plan_parse_size(const char *s, size_t *out)
{
	char *end;
	double v = strtod(s, &end);
	double mul = 1;

	if (end == s || v < 0)
		return -EINVAL;
	switch (*end) {
	case 'K':
	case 'k':
		mul = 1024.0;
		end++;
		break;
	case 'M':
	case 'm':
		mul = 1024.0 * 1024;
		end++;
		break;
	case 'G':
	case 'g':
		mul = 1024.0 * 1024 * 1024;
		end++;
		break;
	case 'T':
	case 't':
		mul = 1024.0 * 1024 * 1024 * 1024;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v * mul > 1e18)
		return -EINVAL;
	*out = (size_t)(v * mul);
	return 0;
}

static const char *const link_class_names[TOPO_L_CLASS_COUNT] = {"intra", "host", "fabric"};

static void bottleneck_text(const struct plan_prediction *p, char *buf, size_t len)
{
	if (p->bottleneck_class < 0)
		snprintf(buf, len, "%s", p->utilisation > 0 ? "shm" : "-");
	else if (p->bottleneck_tier >= 0)
		snprintf(buf, len, "fabric(t%d)", p->bottleneck_tier);
	else
		snprintf(buf, len, "%s", link_class_names[p->bottleneck_class]);
}

struct predict_opts {
	const char *topo, *calib;
	size_t minb, maxb, segment;
	double factor;
	char algos[128];
	int nodes, rpn;
	enum plan_engine engine;
	enum plan_ecmp ecmp;
	unsigned samples, conns; /* --ecmp sample:N (0: not sampling), --conns */
	bool json;
};

static int parse(int argc, char **argv, struct predict_opts *o, FILE *err)
{
	static const struct option longs[] = {{"topo", required_argument, NULL, 'T'},
					      {"calib", required_argument, NULL, 'C'},
					      {"size", required_argument, NULL, 's'},
					      {"algo", required_argument, NULL, 'A'},
					      {"nodes", required_argument, NULL, 'N'},
					      {"ranks-per-node", required_argument, NULL, 'R'},
					      {"engine", required_argument, NULL, 'E'},
					      {"ecmp", required_argument, NULL, 'M'},
					      {"segment", required_argument, NULL, 'S'},
					      {"conns", required_argument, NULL, 'c'},
					      {"json", no_argument, NULL, 'j'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":b:e:f:h", longs, NULL)) != -1) {
		char *end;

		switch (ch) {
		case 'T':
			o->topo = optarg;
			break;
		case 'C':
			o->calib = optarg;
			break;
		case 'b':
			if (plan_parse_size(optarg, &o->minb))
				goto bad_value;
			break;
		case 'e':
			if (plan_parse_size(optarg, &o->maxb))
				goto bad_value;
			break;
		case 's':
			if (plan_parse_size(optarg, &o->minb))
				goto bad_value;
			o->maxb = o->minb;
			break;
		case 'S':
			if (plan_parse_size(optarg, &o->segment) || !o->segment)
				goto bad_value;
			break;
		case 'f':
			o->factor = strtod(optarg, &end);
			if (*end || !(o->factor > 1))
				goto bad_value;
			break;
		case 'A':
			snprintf(o->algos, sizeof(o->algos), "%s", optarg);
			break;
		case 'N':
		case 'R': {
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > 1 << 24)
				goto bad_value;
			*(ch == 'N' ? &o->nodes : &o->rpn) = (int)v;
			break;
		}
		case 'E':
			if (strcmp(optarg, "flow") && strcmp(optarg, "closed"))
				goto bad_value;
			o->engine = strcmp(optarg, "flow") ? PLAN_ENGINE_CLOSED : PLAN_ENGINE_FLOW;
			break;
		case 'M':
			o->samples = 0;
			if (!strncmp(optarg, "sample:", 7)) {
				long v = strtol(optarg + 7, &end, 10);

				if (*end || end == optarg + 7 || v < 1 || v > 100000)
					goto bad_value;
				o->samples = (unsigned)v;
				o->ecmp = PLAN_ECMP_HASH;
				break;
			}
			if (strcmp(optarg, "hash") && strcmp(optarg, "spread"))
				goto bad_value;
			o->ecmp = strcmp(optarg, "hash") ? PLAN_ECMP_SPREAD : PLAN_ECMP_HASH;
			break;
		case 'c': {
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 1 || v > 64)
				goto bad_value;
			o->conns = (unsigned)v;
			break;
		}
		case 'j':
			o->json = true;
			break;
		case 'h':
			return 1;
		case ':':
			fprintf(err, "arplan predict: option %s needs a value\n", argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(err,
				"arplan predict: unknown option '%s' (arplan predict --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		}
		continue;
	bad_value:
		for (const struct option *o2 = longs; o2->name; o2++)
			if (o2->val == ch) {
				fprintf(err, "arplan predict: bad value '%s' for --%s\n", optarg,
					o2->name);
				return -EINVAL;
			}
		fprintf(err, "arplan predict: bad value '%s' for -%c\n", optarg, ch);
		return -EINVAL;
	}
	if (optind < argc) {
		fprintf(err, "arplan predict: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->topo) {
		fprintf(err, "arplan predict: --topo FILE is required (arplan predict --help)\n");
		return -EINVAL;
	}
	if (o->samples && o->engine == PLAN_ENGINE_CLOSED) {
		fprintf(err, "arplan predict: --ecmp sample needs --engine flow (the closed form "
			     "routes nothing)\n");
		return -EINVAL;
	}
	if (o->minb > o->maxb) {
		fprintf(err, "arplan predict: -b %zu is larger than -e %zu\n", o->minb, o->maxb);
		return -EINVAL;
	}
	return 0;
}

static const char *find_algo(const char *name)
{
	for (const char *const *a = plan_algos; *a; a++)
		if (!strcmp(*a, name))
			return *a;
	for (const char *const *a = plan_gpu_algos; *a; a++)
		if (!strcmp(*a, name))
			return *a;
	return NULL;
}

/* Split "ring,tree" into known algorithm names; "all" = the library's, and NCCL's forms on
 * a topology with GPUs. */
static int algo_list(const char *spec, bool gpus, const char **out, int max, FILE *err)
{
	char buf[128], *save = NULL;
	int n = 0;

	if (!strcmp(spec, "all")) {
		for (const char *const *a = plan_algos; *a && n < max; a++)
			out[n++] = *a;
		for (const char *const *a = plan_gpu_algos; gpus && *a && n < max; a++)
			out[n++] = *a;
		return n;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const char *a = find_algo(t);

		if (!a) {
			fprintf(err,
				"arplan predict: unknown algorithm '%s' (ring, tree, hier, rhd, "
				"nccl-ring, nccl-tree)\n",
				t);
			return -EINVAL;
		}
		if (n < max)
			out[n++] = a;
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile q (0..1] of the sorted x[n]. */
static double percentile(const double *x, unsigned n, double q)
{
	unsigned i = (unsigned)ceil(q * n - 1e-9);

	return x[i ? i - 1 : 0];
}

static double busbw_of(size_t bytes, double t, int ranks)
{
	return t > 0 && ranks > 1 ? bytes / t / 1e9 * 2.0 * (ranks - 1) / ranks : 0;
}

static int predict_error(FILE *err, const char *algo, size_t bytes, int rc)
{
	fprintf(err, "arplan predict: %s at %zu B: %s\n", algo, bytes,
		rc == -ENOENT ? "no route between two ranks" : strerror(-rc));
	return rc == -ENOENT ? PLAN_EXIT_USAGE : PLAN_EXIT_INTERNAL;
}

/* One sampled row: the spread figure and the order statistics of n draws (sorted in place). */
static void sampled_row(FILE *out, json_t *rows, size_t bytes, const char *algo, double spread,
			double *t, unsigned n, int ranks)
{
	double best, p50, p99, worst;

	if (rows) {
		json_t *all = json_array();

		for (unsigned i = 0; i < n; i++)
			json_array_append_new(all, json_real(t[i] * 1e6));
		qsort(t, n, sizeof(*t), cmp_double);
		json_array_append_new(
			rows,
			json_pack("{s:I, s:I, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o}",
				  "size", (json_int_t)bytes, "count", (json_int_t)(bytes / 4),
				  "algo", algo, "spread_us", spread * 1e6, "spread_busbw",
				  busbw_of(bytes, spread, ranks), "best_us", t[0] * 1e6, "p50_us",
				  percentile(t, n, 0.5) * 1e6, "p99_us",
				  percentile(t, n, 0.99) * 1e6, "worst_us", t[n - 1] * 1e6,
				  "p50_busbw", busbw_of(bytes, percentile(t, n, 0.5), ranks),
				  "worst_busbw", busbw_of(bytes, t[n - 1], ranks), "samples_us",
				  all));
		return;
	}
	qsort(t, n, sizeof(*t), cmp_double);
	best = t[0];
	p50 = percentile(t, n, 0.5);
	p99 = percentile(t, n, 0.99);
	worst = t[n - 1];
	fprintf(out, "%12zu %9s %12.1f %8.3f %12.1f %12.1f %12.1f %12.1f %8.3f %8.3f\n", bytes,
		algo, spread * 1e6, busbw_of(bytes, spread, ranks), best * 1e6, p50 * 1e6,
		p99 * 1e6, worst * 1e6, busbw_of(bytes, p50, ranks), busbw_of(bytes, worst, ranks));
}

/* --ecmp sample:N: per size and algorithm, the spread figure and N hash draws. */
static int predict_sampled(const struct predict_opts *o, const struct plan_setup *setup,
			   const char *name, const char *const *algos, int na, int nodes, int rpn,
			   FILE *out, FILE *err)
{
	struct plan_setup ss = *setup;
	struct plan_ctx *spread = NULL, *hash = NULL;
	unsigned n = o->samples;
	double *t = malloc((size_t)na * n * sizeof(*t)), sp[8];
	json_t *doc = NULL, *rows = NULL;
	char msg[600];
	int rc = PLAN_EXIT_INTERNAL;

	ss.ecmp = PLAN_ECMP_SPREAD;
	if (!t || plan_ctx_new(&ss, &spread, msg, sizeof(msg)) ||
	    plan_ctx_new(setup, &hash, msg, sizeof(msg))) {
		fprintf(err, "arplan predict: out of memory\n");
		goto out;
	}
	if (o->json) {
		doc = json_pack("{s:i, s:s, s:i, s:i, s:s, s:s, s:i, s:i}", "version", 1,
				"topology", name, "ranks", setup->ranks, "nodes", nodes, "engine",
				"flow", "ecmp", "sample", "samples", (int)n, "conns",
				(int)(o->conns ? o->conns : 1));
		rows = json_array();
		json_object_set_new(doc, "predictions", rows);
	} else {
		fprintf(out,
			"# arplan predict: %s, %d nodes x %d ranks, flow engine, ECMP sample: %u "
			"hash draws, %u connection%s per flow%s\n",
			name, nodes, rpn, n, o->conns ? o->conns : 1, o->conns > 1 ? "s" : "",
			setup->calib ? ", calibrated" : ", topology figures (no calibration)");
		fprintf(out, "#%11s %9s %12s %8s %12s %12s %12s %12s %8s %8s\n", "size", "algo",
			"spread", "busbw", "best", "p50", "p99", "worst", "p50", "worst");
		fprintf(out, "#%11s %9s %12s %8s %12s %12s %12s %12s %8s %8s\n", "(B)", "", "(us)",
			"(GB/s)", "(us)", "(us)", "(us)", "(us)", "(GB/s)", "(GB/s)");
	}
	for (double sz = (double)o->minb; sz <= (double)o->maxb * 1.0000001; sz *= o->factor) {
		size_t bytes = (size_t)sz / 4 * 4;
		struct plan_prediction pr;
		int a;

		for (a = 0; a < na; a++) {
			rc = plan_predict(spread, algos[a], bytes, 4, &pr);
			if (rc)
				break;
			sp[a] = pr.time_s;
		}
		for (unsigned i = 0; !rc && i < n; i++) {
			plan_ctx_reseed(hash, i + 1);
			for (a = 0; !rc && a < na; a++) {
				rc = plan_predict(hash, algos[a], bytes, 4, &pr);
				t[(size_t)a * n + i] = pr.time_s;
			}
			a -= rc ? 1 : 0;
		}
		if (rc) {
			rc = predict_error(err, algos[a], bytes, rc);
			goto out;
		}
		for (a = 0; a < na; a++)
			sampled_row(out, rows, bytes, algos[a], sp[a], &t[(size_t)a * n], n,
				    setup->ranks);
		if (o->minb == o->maxb)
			break;
	}
	if (doc) {
		json_dumpf(doc, out, JSON_INDENT(2));
		fputc('\n', out);
	}
	rc = PLAN_EXIT_OK;
out:
	json_decref(doc);
	plan_ctx_free(spread);
	plan_ctx_free(hash);
	free(t);
	return rc;
}

int plan_cmd_predict(int argc, char **argv, FILE *out, FILE *err)
{
	struct predict_opts o = {.minb = 1 << 20, .maxb = 1 << 30, .factor = 2, .algos = "all"};
	struct topo_desc *d = NULL;
	struct topo_graph *g = NULL;
	struct plan_calib calib;
	struct plan_ctx *ctx = NULL;
	const char *algos[8];
	char msg[600];
	json_t *doc = NULL, *rows = NULL;
	int na, rc, ranks, nodes, rpn;

	rc = parse(argc, argv, &o, err);
	if (rc) {
		if (rc > 0)
			help(out);
		return rc > 0 ? PLAN_EXIT_OK : PLAN_EXIT_USAGE;
	}
	rc = plan_load_topology(o.topo, &d, &g, err);
	if (rc)
		goto out;
	na = algo_list(o.algos, g->gpus_per_node > 1, algos, 8, err);
	if (na < 0) {
		rc = PLAN_EXIT_USAGE;
		goto out;
	}
	rc = o.calib ? plan_load_calib(o.calib, &calib, err) : PLAN_EXIT_OK;
	if (rc)
		goto out;
	nodes = o.nodes ? o.nodes : (int)g->n_nodes;
	rpn = o.rpn ? o.rpn : (g->gpus_per_node ? (int)g->gpus_per_node : 1);
	if ((uint32_t)nodes > g->n_nodes) {
		fprintf(err, "arplan predict: --nodes %d: %s has only %u nodes\n", nodes, o.topo,
			g->n_nodes);
		rc = PLAN_EXIT_USAGE;
		goto out;
	}
	ranks = nodes * rpn;
	{
		struct plan_setup s = {.g = g,
				       .ranks = ranks,
				       .ranks_per_node = rpn,
				       .lib = {.segment_bytes = o.segment},
				       .engine = o.engine,
				       .ecmp = o.ecmp,
				       .calib = o.calib ? &calib : NULL,
				       .ecmp_conns = o.conns};

		rc = plan_ctx_new(&s, &ctx, msg, sizeof(msg));
		if (!rc && o.samples) {
			rc = predict_sampled(&o, &s, topo_desc_name(d), algos, na, nodes, rpn, out,
					     err);
			goto out;
		}
		if (rc) {
			fprintf(err, "arplan predict: %s: %s\n", o.topo,
				rc == -EINVAL ? msg : "out of memory");
			rc = rc == -EINVAL ? PLAN_EXIT_USAGE : PLAN_EXIT_INTERNAL;
			goto out;
		}
	}
	if (o.json) {
		doc = json_pack("{s:i, s:s, s:i, s:i, s:s, s:s}", "version", 1, "topology",
				topo_desc_name(d), "ranks", ranks, "nodes", nodes, "engine",
				o.engine == PLAN_ENGINE_FLOW ? "flow" : "closed", "ecmp",
				o.ecmp == PLAN_ECMP_HASH ? "hash" : "spread");
		rows = json_array();
		json_object_set_new(doc, "predictions", rows);
	} else {
		fprintf(out, "# arplan predict: %s, %d nodes x %d ranks, %s engine%s%s\n",
			topo_desc_name(d), nodes, rpn,
			o.engine == PLAN_ENGINE_FLOW ? "flow" : "closed-form",
			o.engine == PLAN_ENGINE_FLOW
				? (o.ecmp == PLAN_ECMP_HASH ? ", ECMP hash" : ", ECMP spread")
				: "",
			o.calib ? ", calibrated" : ", topology figures (no calibration)");
		fprintf(out, "#%11s %12s %9s %12s %8s %8s %12s %-12s %5s %s\n", "size", "count",
			"algo", "time", "algbw", "busbw", "bound", "bottleneck", "util", "");
		fprintf(out, "#%11s %12s %9s %12s %8s %8s %12s %-12s %5s %s\n", "(B)", "(elements)",
			"", "(us)", "(GB/s)", "(GB/s)", "(us)", "", "(%)", "");
	}
	const bool single_size = (double)o.minb * o.factor > (double)o.maxb * 1.0000001;

	for (double sz = (double)o.minb; sz <= (double)o.maxb * 1.0000001; sz *= o.factor) {
		size_t bytes = (size_t)sz / 4 * 4;
		struct plan_prediction pr[8];
		int best = -1;

		for (int a = 0; a < na; a++) {
			rc = plan_predict(ctx, algos[a], bytes, 4, &pr[a]);
			if (rc) {
				rc = predict_error(err, algos[a], bytes, rc);
				goto out;
			}
			/* one size: no later call reuses this algorithm's phase rates, and the
			 * next one's fit in the memory they free (fewer pages to fault in) */
			if (single_size)
				plan_flow_drop_patterns(ctx);
			if (best < 0 || pr[a].time_s < pr[best].time_s)
				best = a;
		}
		for (int a = 0; a < na; a++) {
			double t = pr[a].time_s, algbw = t > 0 ? bytes / t / 1e9 : 0;
			double busbw = ranks > 1 ? algbw * 2.0 * (ranks - 1) / ranks : 0;
			char bn[32];

			bottleneck_text(&pr[a], bn, sizeof(bn));
			if (doc) {
				json_array_append_new(
					rows, json_pack("{s:I, s:I, s:s, s:f, s:f, s:f, s:f, "
							"s:{s:s, s:i, s:f}, s:b, s:b}",
							"size", (json_int_t)bytes, "count",
							(json_int_t)(bytes / 4), "algo", algos[a],
							"time_us", t * 1e6, "algbw", algbw, "busbw",
							busbw, "bound_us", pr[a].bound_s * 1e6,
							"bottleneck", "link_class", bn, "tier",
							pr[a].bottleneck_tier, "utilisation",
							pr[a].utilisation, "extrapolated",
							pr[a].extrapolated, "fastest", a == best));
			} else {
				fprintf(out,
					"%12zu %12zu %9s %12.1f %8.3f %8.3f %12.1f %-12s %5.0f "
					"%s%s\n",
					bytes, bytes / 4, algos[a], t * 1e6, algbw, busbw,
					pr[a].bound_s * 1e6, bn, pr[a].utilisation * 100,
					a == best ? "*" : "", pr[a].extrapolated ? "x" : "");
			}
		}
		if (o.minb == o.maxb)
			break;
	}
	if (doc) {
		json_dumpf(doc, out, JSON_INDENT(2));
		fputc('\n', out);
	}
	rc = PLAN_EXIT_OK;
out:
	json_decref(doc);
	plan_ctx_free(ctx);
	topo_graph_free(g);
	topo_desc_free(d);
	return rc;
}
