/*
 * cmd_validate.c - `arplan validate RESULTS... --topo T.yaml [--calib C.yaml]`: predict every
 * measured row of arbench results (or nccl-tests logs, with --ranks and --nodes) on the
 * topology they were measured on, and print measured, predicted and the error per row, then the
 * median and max |error| per algorithm and overall.  Warns, one line each, when the results
 * look like another cluster than the topology.  Exit 0 ok, 1 --max-error exceeded, 2 bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

struct vopts {
	const char *topo, *calib;
	bool json;
	double max_error; /* < 0: no check */
	size_t min_size;
	enum plan_engine engine;
	enum plan_ecmp ecmp;
	int ranks, nodes; /* nccl-tests input */
};

/* One compared row. */
struct vrow {
	const struct plan_row *row;
	const char *file;
	double measured_us; /* the median over iterations (plan_row_seconds), as fit uses */
	double predicted_us, error;
	double bound_us; /* what the topology's links allow at best; 0 when not known */
	bool extrapolated;
};

static void help(FILE *f)
{
	fprintf(f,
		"usage: arplan validate RESULTS.json... --topo T.yaml [--calib C.yaml] [--json]\n"
		"                       [--max-error X] [--min-size S] [--engine flow|closed]\n"
		"                       [--ecmp hash|spread] [--ranks N --nodes N]\n\n"
		"Predict every row of arbench results files on the topology they were measured on\n"
		"and compare: per row size, algorithm, placement, measured time (us, the median\n"
		"over iterations; nccl-tests: the mean) and predicted time (us)\n"
		"and the error (predicted - measured) / measured; then the median and max |error|\n"
		"per algorithm and overall.  Rows of algorithms the planner does not model (mpi)\n"
		"are skipped with a note; nccl-tests rows are predicted as nccl-ring.\n\n"
		"  --topo T.yaml       the cluster the results were measured on (required)\n"
		"  --calib C.yaml      a calibration (arplan fit); without: topology figures only\n"
		"  --json              {\"rows\": [...], \"summary\": {...}} instead of text\n"
		"  --max-error X       exit 1 when a row's |error| exceeds X (0.25 or 25%%)\n"
		"  --min-size S        summarise and check only sizes >= S (e.g. 1M; default 0)\n"
		"  --engine E          flow (contention, default) or closed (alpha-beta-gamma)\n"
		"  --ecmp M            hash (one hashed path per flow, default) or spread\n"
		"  --ranks N --nodes N the files are nccl-tests output (text or -J JSON) of N "
		"ranks\n"
		"                      on N nodes: nccl-tests logs do not say\n"
		"  --help              this text\n\n"
		"A warning names the mismatch when results come from another cluster than the\n"
		"topology (more nodes, ranks per node, host names, calls faster than its links).\n"
		"Exit status: 0 ok, 1 --max-error exceeded, 2 bad input (one line on stderr).\n");
}

/* 0.25 or 25%. */
static int parse_fraction(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (*end == '%') {
		v /= 100;
		end++;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 1 || v > 1 << 24)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct vopts *o, int *first, FILE *out, FILE *err)
{
	static const struct option longs[] = {
		{"topo", required_argument, NULL, 't'},
		{"calib", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"max-error", required_argument, NULL, 'x'},
		{"min-size", required_argument, NULL, 's'},
		{"engine", required_argument, NULL, 'e'},
		{"ecmp", required_argument, NULL, 'p'},
		{"ranks", required_argument, NULL, 'r'},
		{"nodes", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->max_error = -1;
	opterr = 0;
	optind = 0; /* GNU: a full reset, so tests can call subcommands repeatedly */
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		const char *a = optarg;
		bool ok = true;

		switch (c) {
		case 't':
			o->topo = a;
			break;
		case 'c':
			o->calib = a;
			break;
		case 'j':
			o->json = true;
			break;
		case 'x':
			ok = parse_fraction(a, &o->max_error) == 0;
			break;
		case 's':
			ok = plan_parse_size(a, &o->min_size) == 0;
			break;
		case 'e':
			ok = strcmp(a, "flow") == 0 || strcmp(a, "closed") == 0;
			o->engine =
				strcmp(a, "closed") == 0 ? PLAN_ENGINE_CLOSED : PLAN_ENGINE_FLOW;
			break;
		case 'p':
			ok = strcmp(a, "hash") == 0 || strcmp(a, "spread") == 0;
			o->ecmp = strcmp(a, "spread") == 0 ? PLAN_ECMP_SPREAD : PLAN_ECMP_HASH;
			break;
		case 'r':
			ok = parse_int(a, &o->ranks) == 0;
			break;
		case 'n':
			ok = parse_int(a, &o->nodes) == 0;
			break;
		case 'h':
			help(out);
			return 1;
		default:
			fprintf(err,
				"arplan validate: unknown option or missing value '%s' (see "
				"--help)\n",
				argv[optind - 1]);
			return -EINVAL;
		}
		if (!ok) {
			static const char *const forms[] = {
				['x'] = "a fraction, e.g. 0.25 or 25%",
				['s'] = "a size, e.g. 1M",
				['e'] = "flow or closed",
				['p'] = "hash or spread",
				['r'] = "a rank count >= 1",
				['n'] = "a node count >= 1",
			};

			fprintf(err, "arplan validate: --%s '%s': expected %s\n",
				longs[strchr("tcjxseprnh", c) - "tcjxseprnh"].name, a, forms[c]);
			return -EINVAL;
		}
	}
	if (!o->topo) {
		fprintf(err, "arplan validate: no --topo T.yaml (expected the topology the results "
			     "were measured on)\n");
		return -EINVAL;
	}
	if (!o->ranks != !o->nodes) {
		fprintf(err, "arplan validate: --ranks and --nodes go together (nccl-tests "
			     "output needs both)\n");
		return -EINVAL;
	}
	if (optind >= argc) {
		fprintf(err, "arplan validate: no results file (usage: arplan validate "
			     "RESULTS.json... --topo T.yaml [--calib C.yaml])\n");
		return -EINVAL;
	}
	*first = optind;
	return 0;
}

/* ---- does the file describe the topology's cluster? ------------------------------------------ */

/* The topology's name of node n: the part before '/' of one of its GPUs' or NICs' names. */
static void node_name(const struct topo_graph *g, uint32_t n, char *buf, size_t len)
{
	uint32_t v;

	buf[0] = 0;
	for (v = 0; v < g->n_vertices; v++) {
		const struct topo_vertex *x = &g->vertices[v];
		const char *name;

		if (x->node != n || (x->kind != TOPO_V_NIC && x->kind != TOPO_V_GPU))
			continue;
		name = topo_vertex_name(g, v);
		snprintf(buf, len, "%.*s", (int)strcspn(name, "/"), name);
		return;
	}
}

static bool same_host(const char *host, const char *node)
{
	size_t h = strcspn(host, "."), n = strcspn(node, ".");

	return strcmp(host, node) == 0 || (h == n && strncmp(host, node, h) == 0);
}

/* One warning line per mismatch between the results and the topology. */
static void check_cluster(const struct plan_results *r, const struct topo_graph *g,
			  const char *topo, FILE *err)
{
	char name[256];
	int *per = calloc((size_t)r->nodes, sizeof(*per));
	int i, rpn = 0, missing = 0, first_missing = -1;
	uint32_t n;

	if (!per)
		return;
	if ((uint32_t)r->nodes > g->n_nodes)
		fprintf(err,
			"arplan validate: warning: %s was measured on %d nodes, but %s has %u: "
			"another cluster?\n",
			r->path, r->nodes, topo, g->n_nodes);
	for (i = 0; i < r->ranks; i++)
		if (++per[r->node_of_rank[i]] > rpn)
			rpn = per[r->node_of_rank[i]];
	if (g->gpus_per_node && (unsigned)rpn != g->gpus_per_node)
		fprintf(err,
			"arplan validate: warning: %s ran up to %d ranks per node, but the nodes "
			"of "
			"%s have %u GPUs\n",
			r->path, rpn, topo, g->gpus_per_node);
	free(per);
	if (r->arbench_version[0] == 0 && strncmp(r->hosts[0], "node", 4) == 0)
		return; /* nccl-tests without host lines: names made up */
	for (i = 0; i < r->nodes; i++) {
		for (n = 0; n < g->n_nodes; n++) {
			node_name(g, n, name, sizeof(name));
			if (same_host(r->hosts[i], name))
				break;
		}
		if (n == g->n_nodes && !missing++)
			first_missing = i;
	}
	if (missing) {
		node_name(g, 0, name, sizeof(name));
		fprintf(err,
			"arplan validate: warning: %s: %d of its %d hosts (e.g. %s) are not nodes "
			"of "
			"%s (whose nodes are named like %s)\n",
			r->path, missing, r->nodes, r->hosts[first_missing], topo, name);
	}
}

/* A measured call faster than the topology's links allow: the cluster's links are faster than
 * the topology says (the rates mismatch).  One warning, for the most telling row. */
static void check_rates(const struct vrow *v, size_t n, const char *topo, FILE *err)
{
	const struct vrow *worst = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].bound_us > 0 && v[i].measured_us < 0.95 * v[i].bound_us &&
		    (!worst ||
		     v[i].measured_us / v[i].bound_us < worst->measured_us / worst->bound_us))
			worst = &v[i];
	if (worst)
		fprintf(err,
			"arplan validate: warning: %s: %s on %zu bytes took %.1f us, faster than "
			"the "
			"links of %s allow (%.1f us at best): are its link rates this cluster's?\n",
			worst->file, worst->row->algo, worst->row->size, worst->measured_us, topo,
			worst->bound_us);
}

/* ---- statistics ------------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct stats {
	size_t n;
	double median, max;
	const struct vrow *worst;
};

/* |error| statistics of rows of algo (NULL: all) with size >= min. */
static int stats_of(const struct vrow *v, size_t n, const char *algo, size_t min, struct stats *s)
{
	double *e = malloc((n ? n : 1) * sizeof(*e));
	size_t i;

	if (!e)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++) {
		if (v[i].row->size < min || (algo && strcmp(v[i].row->algo, algo)))
			continue;
		e[s->n++] = fabs(v[i].error);
		if (!s->worst || fabs(v[i].error) > s->max) {
			s->max = fabs(v[i].error);
			s->worst = &v[i];
		}
	}
	if (s->n) {
		qsort(e, s->n, sizeof(*e), cmp_double);
		s->median = s->n % 2 ? e[s->n / 2] : (e[s->n / 2 - 1] + e[s->n / 2]) / 2;
	}
	free(e);
	return 0;
}

/* ---- predicting every row -------------------------------------------------------------------- */

struct skip {
	char algo[16];
	size_t rows;
};

/* The engine's context for the cluster of r: 0, or -EINVAL with one line on err (more ranks
 * than the topology has endpoints for, ...), or -ENOMEM. */
static int new_ctx(const struct plan_results *r, const struct topo_graph *g,
		   const struct plan_calib *calib, const struct vopts *o, struct plan_ctx **ctx,
		   FILE *err)
{
	struct plan_setup s = {
		.g = g,
		.ranks = r->ranks,
		.node_of_rank = r->node_of_rank,
		.lib = {.segment_bytes = r->segment_bytes, .max_inflight = r->max_inflight},
		.engine = o->engine,
		.ecmp = o->ecmp,
		.calib = calib,
	};
	char msg[600];
	int ret;

	ret = plan_ctx_new(&s, ctx, msg, sizeof(msg));
	if (ret == -EINVAL)
		fprintf(err, "arplan validate: %s on %s: %s\n", r->path, o->topo, msg);
	return ret;
}

static int predict_file(const struct plan_results *r, struct plan_ctx *ctx, const struct vopts *o,
			struct vrow **v, size_t *n, size_t *cap, struct skip *skips,
			size_t *n_skips, FILE *err)
{
	size_t i, j, first = *n;
	int ret;

	for (i = 0; i < r->n_rows; i++) {
		const struct plan_row *row = &r->rows[i];
		struct plan_prediction p;
		struct vrow *x;

		if (!(plan_row_seconds(row) > 0))
			continue;
		/* the same call measured again (other placement, type or op): predicted once */
		for (j = first; j < *n; j++)
			if ((*v)[j].row->size == row->size && (*v)[j].row->esize == row->esize &&
			    strcmp((*v)[j].row->algo, row->algo) == 0)
				break;
		if (j < *n) {
			p.time_s = (*v)[j].predicted_us * 1e-6;
			p.bound_s = (*v)[j].bound_us * 1e-6;
			p.extrapolated = (*v)[j].extrapolated;
		} else {
			for (j = 0; j < *n_skips && strcmp(skips[j].algo, row->algo); j++)
				;
			if (j < *n_skips) {
				skips[j].rows++;
				continue;
			}
			/* nccl-tests rows: NCCL's ring across nodes, as arplan fit models them */
			ret = plan_predict(ctx, strcmp(row->algo, "nccl") ? row->algo : "nccl-ring",
					   row->size, row->esize, &p);
			if (ret == -ENOENT) {
				if (*n_skips < PLAN_MAX_ALGOS * 2) {
					snprintf(skips[*n_skips].algo, sizeof(skips[0].algo), "%s",
						 row->algo);
					skips[(*n_skips)++].rows = 1;
				}
				continue;
			}
			if (ret)
				return ret;
		}
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 256;
			struct vrow *bigger = realloc(*v, c * sizeof(*bigger));

			if (!bigger)
				return -ENOMEM;
			*v = bigger;
			*cap = c;
		}
		x = &(*v)[(*n)++];
		x->row = row;
		x->file = r->path;
		x->predicted_us = p.time_s * 1e6;
		x->extrapolated = p.extrapolated;
		x->bound_us = p.bound_s > 0 ? p.bound_s * 1e6 : 0;
		x->measured_us = plan_row_seconds(row) * 1e6;
		x->error = (x->predicted_us - x->measured_us) / x->measured_us;
	}
	check_rates(*v + first, *n - first, o->topo, err);
	return 0;
}

/* ---- output ---------------------------------------------------------------------------------- */

static const char *algo_at(const struct vrow *v, size_t n, size_t k, size_t *count)
{
	size_t i, j, seen = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i && strcmp(v[j].row->algo, v[i].row->algo); j++)
			;
		if (j < i)
			continue;
		if (seen++ == k) {
			*count = seen;
			return v[i].row->algo;
		}
	}
	return NULL;
}

static int print_text(const struct vrow *v, size_t n, const struct skip *skips, size_t n_skips,
		      const struct vopts *o, FILE *out)
{
	const char *file = NULL, *algo;
	struct stats s;
	size_t i, k, cnt;
	int ret;

	for (i = 0; i < n; i++) {
		if (!file || strcmp(file, v[i].file)) {
			file = v[i].file;
			fprintf(out, "# %s\n%12s  %-8s %-8s %14s %14s %9s\n", file, "size", "algo",
				"inplace", "measured_us", "predicted_us", "error");
		}
		fprintf(out, "%12zu  %-8s %-8s %14.2f %14.2f %+8.1f%%%s\n", v[i].row->size,
			v[i].row->algo, v[i].row->inplace ? "yes" : "no", v[i].measured_us,
			v[i].predicted_us, 100 * v[i].error,
			v[i].extrapolated ? "  extrapolated" : "");
	}
	for (k = 0; k < n_skips; k++)
		fprintf(out, "note: skipped %zu rows of %s: the planner does not model it\n",
			skips[k].rows, skips[k].algo);
	fprintf(out, "\nsummary (sizes >= %zu bytes)\n%-10s %6s %12s %12s\n", o->min_size, "algo",
		"rows", "median|err|", "max|err|");
	for (k = 0; (algo = algo_at(v, n, k, &cnt)); k++) {
		ret = stats_of(v, n, algo, o->min_size, &s);
		if (ret)
			return ret;
		if (s.n)
			fprintf(out, "%-10s %6zu %11.1f%% %11.1f%%\n", algo, s.n, 100 * s.median,
				100 * s.max);
	}
	ret = stats_of(v, n, NULL, o->min_size, &s);
	if (ret)
		return ret;
	if (s.n)
		fprintf(out, "%-10s %6zu %11.1f%% %11.1f%%\n", "all", s.n, 100 * s.median,
			100 * s.max);
	else
		fprintf(out, "%-10s %6d %12s %12s\n", "all", 0, "-", "-");
	return 0;
}

static json_t *stats_json(const struct stats *s)
{
	return json_pack("{s:I, s:o, s:o}", "rows", (json_int_t)s->n, "median_abs_error",
			 s->n ? json_real(s->median) : json_null(), "max_abs_error",
			 s->n ? json_real(s->max) : json_null());
}

static int print_json(const struct vrow *v, size_t n, const struct skip *skips, size_t n_skips,
		      const struct vopts *o, FILE *out)
{
	json_t *doc = json_object(), *rows = json_array(), *per = json_object(),
	       *skipped = json_object(), *sum;
	const char *algo;
	struct stats s;
	size_t i, k, cnt;
	int ret = -ENOMEM, bad = !doc || !rows || !per || !skipped;

	for (i = 0; i < n && !bad; i++)
		bad |= json_array_append_new(
			rows, json_pack("{s:s, s:I, s:s, s:b, s:f, s:f, s:f, s:b}", "file",
					v[i].file, "size", (json_int_t)v[i].row->size, "algo",
					v[i].row->algo, "inplace", v[i].row->inplace, "measured_us",
					v[i].measured_us, "predicted_us", v[i].predicted_us,
					"error", v[i].error, "extrapolated", v[i].extrapolated));
	for (k = 0; !bad && (algo = algo_at(v, n, k, &cnt)); k++) {
		if ((ret = stats_of(v, n, algo, o->min_size, &s)))
			goto out;
		bad |= json_object_set_new(per, algo, stats_json(&s));
	}
	for (k = 0; k < n_skips && !bad; k++)
		bad |= json_object_set_new(skipped, skips[k].algo,
					   json_integer((json_int_t)skips[k].rows));
	if ((ret = stats_of(v, n, NULL, o->min_size, &s)))
		goto out;
	ret = -ENOMEM;
	sum = stats_json(&s);
	if (bad || !sum)
		goto out;
	bad |= json_object_set_new(sum, "min_size", json_integer((json_int_t)o->min_size));
	bad |= json_object_set(sum, "per_algo", per);
	bad |= json_object_set(sum, "skipped", skipped);
	bad |= json_object_set_new(doc, "rows", rows);
	rows = NULL;
	bad |= json_object_set_new(doc, "summary", sum);
	if (bad || json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(9)))
		goto out;
	fputc('\n', out);
	ret = 0;
out:
	json_decref(rows);
	json_decref(per);
	json_decref(skipped);
	json_decref(doc);
	return ret;
}

/* ---- the command ----------------------------------------------------------------------------- */

static int load_results(int n, char **paths, const struct vopts *o, struct plan_results **r,
			FILE *err)
{
	char msg[600];
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = o->ranks ? plan_results_load_nccl(paths[i], o->ranks, o->nodes, &r[i], msg,
							sizeof(msg))
			       : plan_results_load(paths[i], &r[i], msg, sizeof(msg));
		if (ret == -EINVAL)
			fprintf(err, "%s\n", msg);
		if (ret)
			return ret;
	}
	return 0;
}

int plan_cmd_validate(int argc, char **argv, FILE *out, FILE *err)
{
	struct plan_results **res = NULL;
	struct plan_ctx **ctx = NULL;
	struct topo_desc *d = NULL;
	struct topo_graph *g = NULL;
	struct plan_calib calib;
	struct vrow *v = NULL;
	struct skip skips[PLAN_MAX_ALGOS * 2];
	struct vopts o;
	struct stats s;
	size_t n = 0, cap = 0, n_skips = 0;
	int first, nfiles = 0, i, ret, rc = PLAN_EXIT_USAGE;

	ret = parse_args(argc, argv, &o, &first, out, err);
	if (ret)
		return ret > 0 ? PLAN_EXIT_OK : PLAN_EXIT_USAGE;
	rc = plan_load_topology(o.topo, &d, &g, err);
	plan_calib_defaults(&calib);
	if (!rc && o.calib)
		rc = plan_load_calib(o.calib, &calib, err);
	if (rc)
		goto out;
	rc = PLAN_EXIT_USAGE;
	nfiles = argc - first;
	res = calloc((size_t)nfiles, sizeof(*res));
	ret = res ? load_results(nfiles, argv + first, &o, res, err) : -ENOMEM;
	if (ret) {
		rc = ret == -EINVAL ? PLAN_EXIT_USAGE : PLAN_EXIT_INTERNAL;
		goto out;
	}
	/* every context first: a file that does not fit the topology is one line, alone */
	ctx = calloc((size_t)nfiles, sizeof(*ctx));
	for (i = 0, ret = ctx ? 0 : -ENOMEM; i < nfiles && !ret; i++)
		ret = new_ctx(res[i], g, o.calib ? &calib : NULL, &o, &ctx[i], err);
	if (ret) {
		rc = ret == -EINVAL ? PLAN_EXIT_USAGE : PLAN_EXIT_INTERNAL;
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		check_cluster(res[i], g, o.topo, err);
		ret = predict_file(res[i], ctx[i], &o, &v, &n, &cap, skips, &n_skips, err);
		if (ret) {
			rc = ret == -EINVAL ? PLAN_EXIT_USAGE : PLAN_EXIT_INTERNAL;
			goto out;
		}
	}
	ret = o.json ? print_json(v, n, skips, n_skips, &o, out)
		     : print_text(v, n, skips, n_skips, &o, out);
	if (ret || stats_of(v, n, NULL, o.min_size, &s)) {
		rc = PLAN_EXIT_INTERNAL;
		goto out;
	}
	rc = PLAN_EXIT_OK;
	if (o.max_error >= 0 && !s.n) {
		fprintf(err,
			"arplan validate: no rows of %zu bytes or more to check against "
			"--max-error\n",
			o.min_size);
		rc = PLAN_EXIT_CHECK;
	} else if (o.max_error >= 0 && s.max > o.max_error) {
		fprintf(err,
			"arplan validate: max |error| %.1f%% (%s at %zu bytes, %s) exceeds "
			"--max-error %.1f%%\n",
			100 * s.max, s.worst->row->algo, s.worst->row->size, s.worst->file,
			100 * o.max_error);
		rc = PLAN_EXIT_CHECK;
	}
out:
	for (i = 0; ctx && i < nfiles; i++)
		plan_ctx_free(ctx[i]);
	free(ctx);
	for (i = 0; res && i < nfiles; i++)
		plan_results_free(res[i]);
	free(res);
	free(v);
	topo_graph_free(g);
	topo_desc_free(d);
	return rc;
}
