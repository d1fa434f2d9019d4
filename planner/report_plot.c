/*
 * report_plot.c - the charts of `arplan report`, drawn by gnuplot (its svg terminal) in a child
 * process.  Each chart is a script NAME.gp and its data NAME.dat written into one directory
 * (--keep-plots DIR, or a private temporary one), so that `cd DIR && gnuplot NAME.gp` redraws
 * NAME.svg after a user restyles it.  Nothing from the input files reaches a script except
 * numbers and algorithm names reduced to [A-Za-z0-9._+-]: gnuplot is a language (system(),
 * string macros), and the results come from other people's machines.  report_gnuplot.c runs
 * gnuplot and reads the SVGs back.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "planner/internal.h"

#define SMALL_BYTES ((size_t)64 << 10) /* the latency chart: sizes up to this */
#define DIR_LEN	    4096	       /* the plot directory's name, at most */
#define PATH_LEN    (DIR_LEN + 64)     /* a file in it */

/* An algorithm name as a gnuplot title: only [A-Za-z0-9._+-], anything else '_'. */
static void safe_title(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' || c == '-';

		buf[i] = ok ? c : '_';
	}
	buf[i] = 0;
}

/* "8", "64K", "1M", "2G" (powers of 1024, as arbench's flags) */
static void tic_label(size_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTP";
	int u = -1;

	while (bytes >= 1024 && bytes % 1024 == 0 && u < 4) {
		bytes /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%zu", bytes);
	else
		snprintf(buf, len, "%zu%c", bytes, units[u]);
}

/* Log-2 x axis over [lo, hi] with at most 10 labelled powers of two. */
static void size_axis(FILE *gp, size_t lo, size_t hi)
{
	int elo = 0, ehi = 0, step, e;
	char label[32];

	while (elo < 62 && ((size_t)1 << (elo + 1)) <= lo)
		elo++;
	while (ehi < 62 && ((size_t)1 << ehi) < hi)
		ehi++;
	if (ehi <= elo)
		ehi = elo + 1;
	step = (ehi - elo) / 10 + 1;
	fprintf(gp, "set logscale x 2\nset xrange [%g:%g]\nset xtics (", (double)lo / 1.5,
		(double)hi * 1.5);
	for (e = elo; e <= ehi; e += step) {
		tic_label((size_t)1 << e, label, sizeof(label));
		fprintf(gp, "%s\"%s\" %zu", e == elo ? "" : ", ", label, (size_t)1 << e);
	}
	fputs(")\nset xlabel \"message size (bytes; K, M, G = 1024^n)\"\n", gp);
}

static FILE *open_in(const char *dir, const char *name, const char *ext)
{
	char path[PATH_LEN];

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	return fopen(path, "w");
}

static void preamble(FILE *gp, const char *id, const char *what, int width, int height)
{
	fprintf(gp,
		"# %s.gp - arplan report: %s.\n"
		"# Data: %s.dat.  Restyle, then redraw %s.svg with:  gnuplot %s.gp\n"
		"reset\n"
		"set terminal svg size %d,%d dynamic noenhanced font \"sans,12\" background "
		"\"#ffffff\"\n"
		"set output '%s.svg'\n"
		"set grid lc rgb \"#dddddd\"\nset border lc rgb \"#555555\"\n"
		"set key outside right top\n",
		id, what, id, id, id, width, height, id);
}

/* A value of a point for a chart; < 0: not plotted. */
typedef double (*point_value)(const struct plan_rpt_point *p);

static double v_busbw(const struct plan_rpt_point *p)
{
	return p->busbw;
}

static double v_p50(const struct plan_rpt_point *p)
{
	return p->size <= SMALL_BYTES ? p->p50_us : -1;
}

static double v_spread(const struct plan_rpt_point *p)
{
	return p->spread;
}

static double v_pred(const struct plan_rpt_point *p)
{
	return p->pred_us > 0 ? p->pred_busbw : -1;
}

struct series_chart {
	const char *id, *title, *caption, *ylabel;
	point_value value;
	bool logy_when_wide; /* log y when the values span more than 50x */
	const char *yrange;  /* otherwise */
};

static const struct series_chart series_charts[] = {
	{"busbw", "Bus bandwidth against message size",
	 "busbw = algbw x 2(p-1)/p, GB/s = 1e9 B/s; each point the median over the rows of that "
	 "algorithm and size (types, ops, in and out of place, files)",
	 "busbw (GB/s)", v_busbw, false, "[0:*]"},
	{"latency", "Latency at small sizes",
	 "the median over iterations (time_us.p50) of one all-reduce up to 64 KiB; each point the "
	 "median over the rows of that algorithm and size",
	 "time (us)", v_p50, true, "[0:*]"},
	{"spread", "Per-iteration spread",
	 "p99 / p50 of the per-iteration times of each row (1 = every iteration alike); each point "
	 "the median over the rows of that algorithm and size",
	 "p99 / p50", v_spread, false, "[*:*]"},
};

/* A chart of one line per algorithm; returns the points plotted (0: no chart), or -errno. */
static long plot_series(const struct plan_report *r, const char *dir, const struct series_chart *c)
{
	FILE *dat = open_in(dir, c->id, "dat"), *gp = open_in(dir, c->id, "gp");
	size_t i, a, lo = 0, hi = 0, index = 0;
	double vmin = 0, vmax = 0;
	long points = 0;
	char title[16];
	bool first = true;

	if (!dat || !gp)
		goto err_io;
	fprintf(dat, "# %s: one block per algorithm: size (B), %s\n", c->title, c->ylabel);
	for (i = 0; i < r->n_points; i++) {
		double v = c->value(&r->points[i]);

		if (r->points[i].size == 0 || !(v >= 0) || !isfinite(v))
			continue;
		lo = lo && lo < r->points[i].size ? lo : r->points[i].size;
		hi = hi > r->points[i].size ? hi : r->points[i].size;
		vmin = points && vmin < v ? vmin : v;
		vmax = vmax > v ? vmax : v;
		points++;
	}
	preamble(gp, c->id, c->title, 800, 420);
	if (points) {
		size_axis(gp, lo, hi);
		fprintf(gp, "set ylabel \"%s\"\n", c->ylabel);
		if (c->logy_when_wide && vmin > 0 && vmax > 50 * vmin)
			fputs("set logscale y 10\n", gp);
		else
			fprintf(gp, "set yrange %s\n", c->yrange);
		fputs("plot", gp);
	}
	for (a = 0; a < r->n_algos && points; a++) {
		long n = 0;

		for (i = 0; i < r->n_points; i++) {
			double v = c->value(&r->points[i]);

			if (strcmp(r->points[i].algo, r->algos[a]) || r->points[i].size == 0 ||
			    !(v >= 0) || !isfinite(v))
				continue;
			if (!n++)
				fprintf(dat, "%s# %zu\n", index ? "\n\n" : "", a);
			fprintf(dat, "%zu %.9g\n", r->points[i].size, v);
		}
		if (!n)
			continue;
		safe_title(r->algos[a], title, sizeof(title));
		fprintf(gp,
			"%s \\\n  '%s.dat' index %zu using 1:2 with linespoints lw 2 pt 7 ps 0.7 "
			"lc %zu title \"%s\"",
			first ? "" : ",", c->id, index++, a + 1, title);
		first = false;
	}
	if (points)
		fputc('\n', gp);
	if (fclose(dat) | fclose(gp))
		return -EIO;
	return points;
err_io:
	if (dat)
		fclose(dat);
	if (gp)
		fclose(gp);
	return -errno;
}

/* Measured busbw (points) against predicted (lines) and the lower bound (dashed). */
static long plot_predicted(const struct plan_report *r, const char *dir)
{
	FILE *dat, *gp;
	size_t i, a, lo = 0, hi = 0, index = 0, last = 0;
	long points = 0;
	char title[16];

	for (i = 0; i < r->n_points; i++) {
		const struct plan_rpt_point *p = &r->points[i];

		if (p->size == 0 || !(v_pred(p) >= 0))
			continue;
		lo = lo && lo < p->size ? lo : p->size;
		hi = hi > p->size ? hi : p->size;
		points += 2;
	}
	if (!points)
		return 0;
	dat = open_in(dir, "predicted", "dat");
	gp = open_in(dir, "predicted", "gp");
	if (!dat || !gp) {
		if (dat)
			fclose(dat);
		if (gp)
			fclose(gp);
		return -errno;
	}
	fputs("# one block per algorithm: size (B), measured busbw, predicted busbw (GB/s); the "
	      "last block: size, the lower bound's busbw\n",
	      dat);
	preamble(gp, "predicted", "measured (filled points) against predicted (lines) busbw", 800,
		 420);
	size_axis(gp, lo, hi);
	fputs("set ylabel \"busbw (GB/s)\"\nset yrange [0:*]\nplot", gp);
	for (a = 0; a < r->n_algos; a++) {
		long n = 0;

		for (i = 0; i < r->n_points; i++) {
			const struct plan_rpt_point *p = &r->points[i];

			if (strcmp(p->algo, r->algos[a]) || p->size == 0 || !(v_pred(p) >= 0))
				continue;
			if (!n++)
				fprintf(dat, "%s# %zu\n", index ? "\n\n" : "", a);
			fprintf(dat, "%zu %.9g %.9g\n", p->size, p->busbw, p->pred_busbw);
		}
		if (!n)
			continue;
		safe_title(r->algos[a], title, sizeof(title));
		fprintf(gp,
			"%s \\\n  'predicted.dat' index %zu using 1:2 with points pt 7 ps 0.8 lc "
			"%zu "
			"title \"%s measured\", \\\n  'predicted.dat' index %zu using 1:3 with "
			"linespoints "
			"lw 2 pt 6 ps 0.6 lc %zu title \"%s predicted\"",
			index ? "," : "", index, a + 1, title, index, a + 1, title);
		index++;
	}
	fputs("\n\n# lower bound\n", dat);
	for (;;) { /* sizes ascending over every algorithm: the next larger each round */
		const struct plan_rpt_point *next = NULL;

		for (i = 0; i < r->n_points; i++) {
			const struct plan_rpt_point *p = &r->points[i];

			if (p->size > last && p->bound_busbw > 0 && (!next || p->size < next->size))
				next = p;
		}
		if (!next)
			break;
		fprintf(dat, "%zu %.9g\n", next->size, next->bound_busbw);
		last = next->size;
	}
	if (last)
		fprintf(gp,
			", \\\n  'predicted.dat' index %zu using 1:2 with lines lw 1.5 dt 2 lc rgb "
			"\"#000000\" title \"lower bound\"",
			index);
	fputc('\n', gp);
	if (fclose(dat) | fclose(gp))
		return -EIO;
	return points;
}

/* The link matrix: one filled square per measured link (src row, dst column), its colour the
 * bandwidth; flagged links crossed.  Squares, not `with image` (which the svg terminal embeds as
 * a PNG): every link stays a shape in the SVG. */
static long plot_links(const struct plan_report *r, const char *dir)
{
	FILE *dat, *gp;
	double max = 0;
	size_t i;
	int step = r->link_ranks / 16 + 1;

	if (!r->n_links)
		return 0;
	dat = open_in(dir, "links", "dat");
	gp = open_in(dir, "links", "gp");
	if (!dat || !gp) {
		if (dat)
			fclose(dat);
		if (gp)
			fclose(gp);
		return -errno;
	}
	fprintf(dat, "# links at %zu bytes: dst rank, src rank, bandwidth (GB/s), flagged (0/1)\n",
		r->link_size);
	for (i = 0; i < r->n_links; i++) {
		const struct plan_rpt_link *l = r->links[i];

		fprintf(dat, "%d %d %.9g %d\n", l->dst, l->src, l->bw_gbps, l->flagged);
		max = max > l->bw_gbps ? max : l->bw_gbps;
	}
	preamble(gp, "links",
		 "the link matrix, bandwidth (GB/s) from each source rank (row) to each "
		 "destination rank (column)",
		 720, 600);
	fprintf(gp,
		"set size ratio -1\nset xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n"
		"set xtics %d out\nset ytics %d out\nset grid noxtics noytics\n"
		"set xlabel \"destination rank\"\nset ylabel \"source rank\"\n"
		"set cbrange [0:%.9g]\nset cblabel \"GB/s\"\n"
		"set palette defined (0 \"#d73027\", 0.5 \"#fee090\", 1 \"#4575b4\")\n"
		"set key below\n"
		"plot 'links.dat' using 1:2:(0.5):(0.5):3 with boxxyerror fillstyle solid noborder "
		"lc palette notitle",
		r->link_ranks - 1, r->link_ranks - 1, step, step, max > 0 ? max : 1);
	if (r->n_flagged)
		fputs(", \\\n  'links.dat' using 1:($4 > 0 ? $2 : NaN) with points pt 2 ps 1.5 lw "
		      "2 "
		      "lc rgb \"#000000\" title \"flagged\"",
		      gp);
	fputc('\n', gp);
	if (fclose(dat) | fclose(gp))
		return -EIO;
	return (long)r->n_links;
}

static const char *const file_exts[] = {"gp", "dat", "svg"};

static void remove_files(const char *dir, const char *id)
{
	char path[PATH_LEN];
	size_t e;

	for (e = 0; e < sizeof(file_exts) / sizeof(file_exts[0]); e++) {
		snprintf(path, sizeof(path), "%s/%s.%s", dir, id, file_exts[e]);
		unlink(path);
	}
}

void plan_rpt_charts_free(struct plan_rpt_chart *charts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(charts[i].svg);
		charts[i].svg = NULL;
	}
}

int plan_rpt_plot(const struct plan_report *r, const char *keep, struct plan_rpt_chart *charts,
		  size_t *n_charts, char *msg, size_t msglen)
{
	static const struct {
		const char *id, *title, *caption;
	} extra[] = {
		{"links", "Link matrix",
		 "point-to-point bandwidth of each measured pair of ranks (arbench links) at the "
		 "largest size it measured; crossed: flagged below arbench's threshold of the "
		 "median"},
		{"predicted", "Measured against predicted",
		 "measured busbw (points) and the planner's prediction (lines) on the topology "
		 "given, "
		 "and the lower bound 2(p-1)/p n / B (dashed): no all-reduce can be faster"},
	};
	char dir[DIR_LEN];
	const char *ids[PLAN_RPT_MAX_CHARTS];
	struct stat st;
	size_t i, n = 0;
	long points;
	int ret = 0;

	*n_charts = 0;
	if (keep) {
		if (strlen(keep) >= sizeof(dir))
			return snprintf(msg, msglen,
					"--keep-plots: the directory's name is too long"),
			       -EINVAL;
		if (mkdir(keep, 0777) && errno != EEXIST)
			return snprintf(msg, msglen, "--keep-plots %s: cannot create it: %s", keep,
					strerror(errno)),
			       -EINVAL;
		if (stat(keep, &st) || !S_ISDIR(st.st_mode))
			return snprintf(msg, msglen, "--keep-plots %s: not a directory", keep),
			       -EINVAL;
		snprintf(dir, sizeof(dir), "%s", keep);
	} else {
		const char *t = getenv("TMPDIR");

		if (!t || !*t || strlen(t) + 24 > sizeof(dir))
			t = "/tmp";
		snprintf(dir, sizeof(dir), "%s/arplan-report.XXXXXX", t);
		if (!mkdtemp(dir))
			return snprintf(msg, msglen, "cannot make a directory for gnuplot (%s): %s",
					dir, strerror(errno)),
			       -EIO;
	}
	for (i = 0; i < sizeof(series_charts) / sizeof(series_charts[0]) + 2 && !ret; i++) {
		const char *id, *title, *caption;

		if (i < sizeof(series_charts) / sizeof(series_charts[0])) {
			const struct series_chart *c = &series_charts[i];

			id = c->id, title = c->title, caption = c->caption;
			points = plot_series(r, dir, c);
		} else {
			size_t k = i - sizeof(series_charts) / sizeof(series_charts[0]);

			id = extra[k].id, title = extra[k].title, caption = extra[k].caption;
			points = k == 0 ? plot_links(r, dir) : plot_predicted(r, dir);
		}
		if (points < 0) {
			snprintf(msg, msglen, "cannot write %s/%s.gp: %s", dir, id,
				 strerror((int)-points));
			ret = -EIO;
			remove_files(dir, id);
		} else if (points == 0) {
			remove_files(dir, id);
		} else {
			charts[n] =
				(struct plan_rpt_chart){id, title, caption, NULL, (size_t)points};
			ids[n++] = id;
		}
	}
	if (!ret && n)
		ret = plan_rpt_gnuplot(dir, ids, n, msg, msglen);
	for (i = 0; i < n && !ret; i++) {
		charts[i].svg = plan_rpt_svg(dir, ids[i]);
		if (!charts[i].svg) {
			snprintf(msg, msglen, "cannot read gnuplot's %s/%s.svg", dir, ids[i]);
			ret = -EIO;
		}
	}
	if (!keep) {
		for (i = 0; i < n; i++)
			remove_files(dir, ids[i]);
		rmdir(dir);
	}
	if (ret)
		plan_rpt_charts_free(charts, n);
	else
		*n_charts = n;
	return ret;
}
