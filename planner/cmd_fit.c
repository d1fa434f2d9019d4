/*
 * cmd_fit.c - `arplan fit`: a calibration (calib.yaml) fitted to arbench results files, or to
 * nccl-tests logs, each measured on the topology named by the --topo before it.  The fit
 * itself is planner/fit.c.  Exit 0 ok, 2 bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "planner/internal.h"

#define MAX_FILES 64

static void help(FILE *f)
{
	fprintf(f,
		"usage: arplan fit [--topo T.yaml] RESULTS... [--topo T2.yaml RESULTS...] -o "
		"calib.yaml\n"
		"                  [--min-size SIZE]\n\n"
		"Fit the link model to measurements: per link class (shm: ranks of one host; net:\n"
		"through NICs) a per-step latency and an efficiency (shm: a rate), the reduction\n"
		"cost gamma, and per algorithm a scale and an overhead; print each value with its\n"
		"residuals, and write them with where they came from to calib.yaml.\n\n"
		"  --topo FILE      the topology the results files after it were measured on (not\n"
		"                   needed for runs on one host)\n"
		"  RESULTS          arbench -J files; or nccl-tests all_reduce_perf output (text "
		"or\n"
		"                   -J JSON), whose ranks are the topology's GPUs (its rows are\n"
		"                   fitted as nccl-ring, NCCL's algorithm at large sizes)\n"
		"  -o FILE          write the calibration here (- for stdout)\n"
		"  --min-size SIZE  leave out rows below SIZE bytes (0)\n\n"
		"Keep calibration and validation data apart: fit on one set of runs, then check "
		"the\n"
		"model with `arplan validate` on runs it was not fitted on.\n\n"
		"Exit status: 0 ok, 2 bad input.\n");
}

struct input {
	struct plan_results *res;
	struct topo_desc *d;
	struct topo_graph *g;
	struct plan_ctx *ctx;
	const char *topo;
};

static bool is_arbench_json(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;

	if (!f)
		return true; /* let the loader report it */
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, "\"arbench_version\"") != NULL;
}

static int load_one(const char *path, const char *topo, struct input *in, FILE *err)
{
	struct topo_error te;
	char msg[600];
	int rc;

	in->topo = topo;
	if (topo && (topo_load(topo, &in->d, &te) || topo_expand(in->d, &in->g, &te))) {
		topo_error_format(&te, msg, sizeof(msg));
		fprintf(err, "%s\n", msg);
		return -EINVAL;
	}
	if (is_arbench_json(path)) {
		rc = plan_results_load(path, &in->res, msg, sizeof(msg));
	} else if (in->g) {
		uint32_t gpn = in->g->gpus_per_node ? in->g->gpus_per_node : 1;

		rc = plan_results_load_nccl(path, (int)(in->g->n_nodes * gpn), (int)in->g->n_nodes,
					    &in->res, msg, sizeof(msg));
		for (size_t i = 0; !rc && i < in->res->n_rows; i++)
			if (!strcmp(in->res->rows[i].algo, "nccl"))
				snprintf(in->res->rows[i].algo, sizeof(in->res->rows[i].algo),
					 "nccl-ring");
	} else {
		snprintf(
			msg, sizeof(msg),
			"%s: not an arbench results file; an nccl-tests log needs --topo before it "
			"(its ranks and nodes)",
			path);
		rc = -EINVAL;
	}
	if (rc) {
		fprintf(err, "arplan fit: %s\n", msg);
		return rc;
	}
	return 0;
}

int plan_cmd_fit(int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option longs[] = {{"topo", required_argument, NULL, 'T'},
					      {"min-size", required_argument, NULL, 'm'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	struct input in[MAX_FILES] = {0};
	struct plan_fit_input fi[MAX_FILES];
	struct plan_calib calib;
	const char *topo = NULL, *outpath = NULL;
	size_t n = 0, min_bytes = 0;
	char msg[600];
	int ch, rc = PLAN_EXIT_USAGE;

	plan_calib_defaults(&calib);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "-:o:h", longs, NULL)) != -1) {
		switch (ch) {
		case 'T':
			topo = optarg;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'm':
			if (plan_parse_size(optarg, &min_bytes)) {
				fprintf(err, "arplan fit: bad size '%s' for --min-size\n", optarg);
				goto out;
			}
			break;
		case 'h':
			help(out);
			return PLAN_EXIT_OK;
		case 1:
			if (n == MAX_FILES) {
				fprintf(err, "arplan fit: more than %d results files\n", MAX_FILES);
				goto out;
			}
			if (load_one(optarg, topo, &in[n++], err))
				goto out;
			break;
		case ':':
			fprintf(err, "arplan fit: option %s needs a value\n", argv[optind - 1]);
			goto out;
		default:
			fprintf(err, "arplan fit: unknown option '%s' (arplan fit --help)\n",
				argv[optind - 1]);
			goto out;
		}
	}
	if (!n || !outpath) {
		fprintf(err, "arplan fit: %s (arplan fit --help)\n",
			!n ? "no results files given" : "-o calib.yaml is required");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct plan_setup s = {.g = in[i].g,
				       .ranks = in[i].res->ranks,
				       .node_of_rank = in[i].res->node_of_rank,
				       .lib = {.segment_bytes = in[i].res->segment_bytes,
					       .max_inflight = in[i].res->max_inflight},
				       .calib = &calib};
		int e = plan_ctx_new(&s, &in[i].ctx, msg, sizeof(msg));

		if (e) {
			fprintf(err, "arplan fit: %s%s%s: %s\n", in[i].res->path,
				in[i].topo ? " on " : "", in[i].topo ? in[i].topo : "",
				e == -EINVAL ? msg : "out of memory");
			rc = e == -EINVAL ? PLAN_EXIT_USAGE : PLAN_EXIT_INTERNAL;
			goto out;
		}
		fi[i] = (struct plan_fit_input){in[i].res, in[i].ctx, in[i].topo};
	}
	fprintf(out, "arplan fit: %zu files\n", n);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %s: %d ranks on %d nodes, %zu rows%s%s\n", in[i].res->path,
			in[i].res->ranks, in[i].res->nodes, in[i].res->n_rows,
			in[i].topo ? ", topology " : " (one host)", in[i].topo ? in[i].topo : "");
	int e = plan_fit(fi, n, min_bytes, &calib, out, msg, sizeof(msg));

	if (e) {
		fprintf(err, "arplan fit: %s\n", e == -EINVAL ? msg : "out of memory");
		rc = e == -EINVAL ? PLAN_EXIT_USAGE : PLAN_EXIT_INTERNAL;
		goto out;
	}
	/* provenance */
	{
		time_t now = time(NULL);
		struct tm tm;
		size_t used = 0;

		gmtime_r(&now, &tm);
		strftime(calib.date, sizeof(calib.date), "%Y-%m-%dT%H:%M:%SZ", &tm);
		calib.n_sources = 0;
		calib.hosts[0] = 0;
		for (size_t i = 0; i < n && i < PLAN_MAX_SOURCES; i++) {
			snprintf(calib.sources[calib.n_sources++], sizeof(calib.sources[0]),
				 "%.255s", in[i].res->path);
			for (int h = 0; h < in[i].res->nodes && used + 2 < sizeof(calib.hosts);
			     h++) {
				const char *name = in[i].res->hosts ? in[i].res->hosts[h] : NULL;

				if (!name || strstr(calib.hosts, name))
					continue;
				used += (size_t)snprintf(calib.hosts + used,
							 sizeof(calib.hosts) - used, "%s%s",
							 used ? "," : "", name);
				if (used >= sizeof(calib.hosts))
					used = sizeof(calib.hosts) - 1;
			}
			if (in[i].res->arbench_version[0])
				snprintf(calib.arbench_version, sizeof(calib.arbench_version), "%s",
					 in[i].res->arbench_version);
		}
	}
	{
		FILE *f = strcmp(outpath, "-") ? fopen(outpath, "w") : out;

		if (!f || plan_calib_write(&calib, f)) {
			fprintf(err, "arplan fit: cannot write %s\n", outpath);
			if (f && f != out)
				fclose(f);
			rc = PLAN_EXIT_USAGE;
			goto out;
		}
		if (f != out && fclose(f)) {
			fprintf(err, "arplan fit: cannot write %s\n", outpath);
			rc = PLAN_EXIT_USAGE;
			goto out;
		}
		if (f != out)
			fprintf(out, "wrote %s\n", outpath);
	}
	rc = PLAN_EXIT_OK;
out:
	for (size_t i = 0; i < n; i++) {
		plan_ctx_free(in[i].ctx);
		plan_results_free(in[i].res);
		topo_graph_free(in[i].g);
		topo_desc_free(in[i].d);
	}
	return rc;
}
