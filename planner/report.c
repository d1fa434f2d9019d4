/*
 * report.c - `arplan report RESULTS.json... -o FILE`: the command.  Reads arbench results (and
 * `arbench links` files), optionally predicts every point on a topology with a calibration,
 * and writes one self-contained HTML page (or Markdown, or CSV).  The pieces: report_load.c
 * (inputs, --anonymize), report_model.c (points, links, summary, prediction), report_plot.c
 * (gnuplot), report_html.c and report_text.c (writers).  Exit 0 ok, 1 the peak busbw is below
 * --expect (the report is written all the same), 2 bad input, 3 gnuplot or the output failed.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "planner/internal.h"

enum report_format { FMT_HTML, FMT_MD, FMT_CSV };

static const char *const format_names[] = {[FMT_HTML] = "html", [FMT_MD] = "md", [FMT_CSV] = "csv"};

struct ropts {
	const char *topo, *calib, *out, *keep;
	double expect;
	bool anonymize;
	enum report_format format;
	int first; /* argv index of the first results file */
};

static void help(FILE *f)
{
	fprintf(f,
		"usage: arplan report RESULTS.json... -o FILE [--format html|md|csv]\n"
		"                     [--topo T.yaml [--calib C.yaml]] [--expect GBPS]\n"
		"                     [--anonymize] [--keep-plots DIR]\n\n"
		"Make a report of arbench results (and of `arbench links` files): one "
		"self-contained\n"
		"HTML page with charts drawn by gnuplot as inline SVG, nothing fetched when it is\n"
		"viewed.  It holds a summary (pass or fail against --expect, the best algorithm "
		"per\n"
		"band of sizes, the peak busbw against the planner's lower bound, flagged links),\n"
		"the system (runs, MPI, settings, each node's CPU, NICs and GPUs), busbw against\n"
		"size per algorithm, latency up to 64 KiB, the per-iteration spread (p99/p50), "
		"the\n"
		"link matrix with the flagged links, measured against predicted, and a table of\n"
		"every algorithm and size (medians over types, ops, placements and files).\n\n"
		"  -o, --output FILE   the report ('-': standard output); written whole or not at "
		"all\n"
		"  --format F          html (default), md (Markdown tables, no charts), csv (one\n"
		"                      table: a row per algorithm and size, and per link)\n"
		"  --topo T.yaml       the topology the results were measured on: adds the\n"
		"                      planner's prediction and lower bound for every point\n"
		"  --calib C.yaml      a calibration from `arplan fit` (needs --topo)\n"
		"  --expect GBPS       the bus bandwidth the fabric should reach (GB/s = 1e9 "
		"B/s):\n"
		"                      PASS when the best median busbw at 1 MiB or more reaches "
		"it\n"
		"  --anonymize         hosts become node0, node1, ...; no command line, paths, or\n"
		"                      MPI build details (user@host, directories) in the report\n"
		"  --keep-plots DIR    keep the gnuplot scripts, data and SVGs in DIR (made when\n"
		"                      missing); redraw one with: cd DIR && gnuplot busbw.gp\n"
		"  --help              this text\n\n"
		"Units: busbw and bandwidth in GB/s = 1e9 B/s, times in us, sizes in bytes.\n"
		"Exit status: 0 ok, 1 --expect not met (the report is written), 2 bad input (one\n"
		"line naming the file and what is wrong), 3 gnuplot or writing the report "
		"failed.\n");
}

static int parse_args(int argc, char **argv, struct ropts *o, FILE *out, FILE *err)
{
	static const struct option longs[] = {
		{"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'},
		{"topo", required_argument, NULL, 't'},
		{"calib", required_argument, NULL, 'c'},
		{"expect", required_argument, NULL, 'x'},
		{"anonymize", no_argument, NULL, 'a'},
		{"keep-plots", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	size_t i;
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 0; /* GNU: a full reset, so tests can call subcommands repeatedly */
	while ((c = getopt_long(argc, argv, "ho:", longs, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'f':
			for (i = 0; i < 3 && strcmp(optarg, format_names[i]); i++)
				;
			if (i == 3) {
				fprintf(err,
					"arplan report: --format '%s': expected html, md or csv\n",
					optarg);
				return -EINVAL;
			}
			o->format = (enum report_format)i;
			break;
		case 't':
			o->topo = optarg;
			break;
		case 'c':
			o->calib = optarg;
			break;
		case 'x':
			o->expect = strtod(optarg, &end);
			if (end == optarg || *end || !(o->expect > 0) || !isfinite(o->expect)) {
				fprintf(err,
					"arplan report: --expect '%s': expected a bandwidth in "
					"GB/s "
					"> 0, e.g. 23.5\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'a':
			o->anonymize = true;
			break;
		case 'k':
			o->keep = optarg;
			break;
		case 'h':
			help(out);
			return 1;
		default:
			fprintf(err,
				"arplan report: unknown option or missing value '%s' (see "
				"--help)\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		fprintf(err, "arplan report: no results file (usage: arplan report RESULTS.json... "
			     "-o FILE)\n");
		return -EINVAL;
	}
	if (!o->out) {
		fprintf(err, "arplan report: no -o FILE (where to write the report; '-' for "
			     "standard output)\n");
		return -EINVAL;
	}
	if (o->calib && !o->topo) {
		fprintf(err, "arplan report: --calib needs --topo (the topology the results were "
			     "measured on)\n");
		return -EINVAL;
	}
	o->first = optind;
	return 0;
}

/* -o must not name one of the inputs: the report would replace the results. */
static int check_output(const struct ropts *o, int argc, char **argv, FILE *err)
{
	struct stat so, si;
	int i;

	if (!strcmp(o->out, "-") || stat(o->out, &so))
		return 0;
	if (S_ISDIR(so.st_mode)) {
		fprintf(err, "arplan report: -o %s is a directory (expected a file name)\n",
			o->out);
		return -EINVAL;
	}
	for (i = o->first; i < argc; i++)
		if (!stat(argv[i], &si) && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
			fprintf(err,
				"arplan report: -o %s is the results file %s: the report would "
				"replace it\n",
				o->out, argv[i]);
			return -EINVAL;
		}
	return 0;
}

static int write_report(const struct plan_report *r, const struct plan_rpt_chart *charts, size_t n,
			enum report_format fmt, FILE *f)
{
	if (fmt == FMT_MD)
		return plan_rpt_markdown(r, f);
	if (fmt == FMT_CSV)
		return plan_rpt_csv(r, f);
	return plan_rpt_html(r, charts, n, f);
}

/* Write through a new file beside path, renamed over it when complete.  0 or -errno. */
static int write_file(const struct plan_report *r, const struct plan_rpt_chart *charts, size_t n,
		      enum report_format fmt, const char *path)
{
	size_t len = strlen(path) + 16;
	char *tmp = malloc(len);
	mode_t mask = umask(0);
	FILE *f;
	int fd, ret;

	umask(mask);
	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, len, "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		free(tmp);
		return ret;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto err_unlink;
	}
	fchmod(fd, 0666 & ~mask);
	ret = write_report(r, charts, n, fmt, f);
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		goto err_unlink;
	free(tmp);
	return 0;
err_unlink:
	unlink(tmp);
	free(tmp);
	return ret;
}

/* The topology and calibration: names into r, the graph into *g.  0 or a plan_exit code. */
static int load_topology(const struct ropts *o, struct plan_report *r, struct topo_desc **d,
			 struct topo_graph **g, struct plan_calib *calib, FILE *err)
{
	int ret;

	ret = plan_load_topology(o->topo, d, g, err);
	if (!ret && o->calib)
		ret = plan_load_calib(o->calib, calib, err);
	if (ret)
		return ret;
	r->topo_name = strdup(topo_desc_name(*d));
	r->topo_path = strdup(o->topo);
	r->calib_path = o->calib ? strdup(o->calib) : NULL;
	if (!r->topo_name || !r->topo_path || (o->calib && !r->calib_path))
		return PLAN_EXIT_INTERNAL;
	return 0;
}

static void stamp(struct plan_report *r)
{
	const char *epoch = getenv("SOURCE_DATE_EPOCH"); /* reproducible builds' convention */
	time_t now = epoch && *epoch ? (time_t)strtoll(epoch, NULL, 10) : time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(r->date, sizeof(r->date), "%Y-%m-%d %H:%M UTC", &tm);
}

int plan_cmd_report(int argc, char **argv, FILE *out, FILE *err)
{
	struct plan_report r = {0};
	struct plan_rpt_chart charts[PLAN_RPT_MAX_CHARTS] = {{0}};
	struct topo_desc *d = NULL;
	struct topo_graph *g = NULL;
	struct plan_calib calib;
	struct ropts o;
	size_t n_charts = 0;
	char msg[1200];
	int ret, rc;

	ret = parse_args(argc, argv, &o, out, err);
	if (ret)
		return ret > 0 ? PLAN_EXIT_OK : PLAN_EXIT_USAGE;
	if (check_output(&o, argc, argv, err))
		return PLAN_EXIT_USAGE;
	rc = PLAN_EXIT_INTERNAL;
	ret = plan_rpt_load(&r, argv + o.first, (size_t)(argc - o.first), msg, sizeof(msg));
	if (ret == -EINVAL) {
		fprintf(err, "%s\n", msg);
		rc = PLAN_EXIT_USAGE;
	}
	if (ret)
		goto out;
	plan_calib_defaults(&calib);
	if (o.topo && (rc = load_topology(&o, &r, &d, &g, &calib, err)))
		goto out;
	rc = PLAN_EXIT_INTERNAL;
	r.expect_gbps = o.expect;
	stamp(&r);
	if ((o.anonymize && plan_rpt_anonymize(&r)) || plan_rpt_aggregate(&r))
		goto out;
	if (g) {
		ret = plan_rpt_predict(&r, g, o.calib ? &calib : NULL, msg, sizeof(msg));
		if (ret == -EINVAL) {
			fprintf(err, "arplan report: %s\n", msg);
			rc = PLAN_EXIT_USAGE;
		}
		if (ret)
			goto out;
	}
	plan_rpt_summarise(&r);
	if (o.format == FMT_HTML || o.keep) {
		ret = plan_rpt_plot(&r, o.keep, charts, &n_charts, msg, sizeof(msg));
		if (ret) {
			fprintf(err, "arplan report: %s\n", msg);
			rc = ret == -EINVAL ? PLAN_EXIT_USAGE : PLAN_EXIT_INTERNAL;
			goto out;
		}
	}
	if (!strcmp(o.out, "-"))
		ret = write_report(&r, charts, n_charts, o.format, out);
	else
		ret = write_file(&r, charts, n_charts, o.format, o.out);
	if (ret) {
		fprintf(err, "arplan report: cannot write %s: %s\n", o.out, strerror(-ret));
		goto out;
	}
	if (strcmp(o.out, "-")) {
		fprintf(out, "arplan report: wrote %s (%s, %zu chart%s, %zu points", o.out,
			format_names[o.format], n_charts, n_charts == 1 ? "" : "s", r.n_points);
		if (r.n_links)
			fprintf(out, ", %zu links, %zu flagged", r.n_links, r.n_flagged);
		fputs(")", out);
		if (r.verdict >= 0)
			fprintf(out, ": %s, peak busbw %.3g GB/s of the expected %.3g",
				r.verdict ? "PASS" : "FAIL", r.peak_busbw, r.expect_gbps);
		fputs("\n", out);
	}
	rc = r.verdict == 0 ? PLAN_EXIT_CHECK : PLAN_EXIT_OK;
out:
	plan_rpt_charts_free(charts, n_charts);
	plan_rpt_free(&r);
	topo_graph_free(g);
	topo_desc_free(d);
	return rc;
}
