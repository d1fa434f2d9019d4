/*
 * report_html.c - `arplan report`'s page: one self-contained HTML5 file (inline CSS, charts as
 * inline SVG from gnuplot, no script, nothing fetched) that a fabric engineer can hand to a
 * vendor: the summary first (verdict against --expect, best algorithm per band of sizes, peak
 * busbw against the planner's bound, flagged links), then the system, the charts with their
 * tables, and every measured point.  Every string from the inputs goes through plan_html_text.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

static const char style[] =
	"body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 1.5em 3em;"
	"color:#222;line-height:1.45}\n"
	"h1{margin-bottom:.2em}h2{border-bottom:1px solid "
	"#ccc;padding-bottom:.2em;margin-top:2em}\n"
	".meta{color:#555;margin-top:0}\n"
	".verdict{font-size:1.2em;font-weight:600;padding:.5em .8em;border-radius:4px}\n"
	".pass{background:#e3f4e1;color:#1b5e20}.fail{background:#fbe3e1;color:#8e1b10}\n"
	".none{background:#eef1f5}\n"
	"table{border-collapse:collapse;margin:.6em 0;font-size:.92em}\n"
	"th,td{border:1px solid #d4d4d4;padding:.25em .6em;text-align:left;vertical-align:top}\n"
	"th{background:#f3f4f6}td.n{text-align:right;font-variant-numeric:tabular-nums;"
	"white-space:nowrap}\n"
	"tr.flagged td{background:#fdecea}\n"
	"figure.chart{margin:1em 0}figure.chart svg{width:100%;height:auto;max-width:900px}\n"
	"#chart-links svg{max-width:620px}\n"
	"figcaption{color:#555;font-size:.9em}\n"
	"@media print{h2{break-before:auto}figure.chart{break-inside:avoid}}\n";

static void text(FILE *f, const char *s)
{
	plan_html_text(f, s);
}

/* A number cell: "-" for < 0 (not recorded or not predicted); fmt NULL: 4 significant
 * digits, whole numbers from 10000 on (no exponent for a time in microseconds). */
static void num_cell(FILE *f, double v, const char *fmt)
{
	fputs("<td class=\"n\">", f);
	if (v < 0 || !isfinite(v))
		fputs("-", f);
	else if (!fmt && v >= 1e4)
		fprintf(f, "%.0f", v);
	else if (!fmt)
		fprintf(f, "%.4g", v);
	else
		fprintf(f, fmt, v);
	fputs("</td>", f);
}

static void text_cell(FILE *f, const char *s)
{
	fputs("<td>", f);
	text(f, s);
	fputs("</td>", f);
}

static void size_cell(FILE *f, size_t bytes)
{
	char buf[32];

	plan_rpt_size(bytes, buf, sizeof(buf));
	fprintf(f, "<td class=\"n\">%s</td>", buf);
}

/* ---- summary --------------------------------------------------------------------------------- */

static void summary(const struct plan_report *r, FILE *f)
{
	char size[32];
	size_t i, wrong = 0, rows = 0, shown = 0;

	fputs("<section id=\"summary\">\n<h2>Summary</h2>\n", f);
	if (r->verdict >= 0) {
		fprintf(f,
			"<p class=\"verdict %s\">%s: peak bus bandwidth %.3g GB/s is %.2f of the "
			"expected %.3g GB/s",
			r->verdict ? "pass" : "fail", r->verdict ? "PASS" : "FAIL", r->peak_busbw,
			r->expect_gbps > 0 ? r->peak_busbw / r->expect_gbps : 0, r->expect_gbps);
		if (!r->peak_large)
			fputs(" (no size of 1 MiB or more was measured, so none can pass)", f);
		fputs(".</p>\n", f);
	} else {
		fputs("<p class=\"verdict none\">No expected rate given (<code>--expect "
		      "GBPS</code>): no pass or fail.</p>\n",
		      f);
	}
	fputs("<ul>\n", f);
	if (r->peak_algo[0]) {
		plan_rpt_size(r->peak_size, size, sizeof(size));
		fprintf(f, "<li>Peak bus bandwidth: <strong>%.3g GB/s</strong> (", r->peak_busbw);
		text(f, r->peak_algo);
		fprintf(f, " at %s%s)", size, r->peak_large ? "" : "; no size of 1 MiB or more");
		if (r->peak_bound > 0)
			fprintf(f,
				", %.2f of the planner's lower-bound bandwidth %.3g GB/s on this "
				"topology",
				r->peak_busbw / r->peak_bound, r->peak_bound);
		fputs(".</li>\n", f);
	}
	for (i = 0; i < PLAN_RPT_BANDS; i++) {
		const struct plan_rpt_band *b = &r->bands[i];

		if (!b->best[0])
			continue;
		fprintf(f, "<li>Best algorithm, %s: <strong>", b->label);
		text(f, b->best);
		fprintf(f,
			"</strong>, fastest at %u of %u sizes (median busbw %.3g GB/s at the "
			"largest).</li>\n",
			b->wins, b->sizes, b->busbw);
	}
	for (i = 0; i < r->n_points; i++) {
		wrong += r->points[i].wrong;
		rows += r->points[i].rows;
	}
	if (rows)
		fprintf(f, "<li>Correctness: %zu wrong element%s in %zu rows%s.</li>\n", wrong,
			wrong == 1 ? "" : "s", rows,
			wrong ? " (<strong>results differ from the exact expected values</strong>)"
			      : " (rows measured with <code>-c 0</code> are not checked)");
	if (r->n_links) {
		fprintf(f, "<li>Links: <strong>%zu of %zu flagged</strong> (median %.3g GB/s at ",
			r->n_flagged, r->n_links, r->link_median);
		plan_rpt_size(r->link_size, size, sizeof(size));
		fprintf(f, "%s)%s", size, r->n_flagged ? ": " : ".");
		for (i = 0; i < r->n_links && shown < 5; i++) {
			const struct plan_rpt_link *l = r->links[i];

			if (!l->flagged)
				continue;
			fprintf(f, "%s%d (", shown++ ? "; " : "", l->src);
			text(f, l->src_host);
			fprintf(f, ") &rarr; %d (", l->dst);
			text(f, l->dst_host);
			fprintf(f, ") %.3g GB/s", l->bw_gbps);
		}
		fprintf(f, "%s</li>\n", r->n_flagged > shown ? "; more below" : "");
	}
	if (!r->topo_name)
		fputs("<li>No topology given: with <code>--topo T.yaml --calib C.yaml</code> the "
		      "page compares each point with the planner's prediction.</li>\n",
		      f);
	fputs("</ul>\n</section>\n", f);
}

/* ---- system ---------------------------------------------------------------------------------- */

static bool same_hardware(const struct plan_rpt_node *a, const struct plan_rpt_node *b)
{
	return a->cores == b->cores && a->pus == b->pus && a->numa_nodes == b->numa_nodes &&
	       !strcmp(a->cpu_model, b->cpu_model) && !strcmp(a->nics, b->nics) &&
	       !strcmp(a->gpus, b->gpus);
}

/* Nodes of the same hardware share a row; its first 8 names are listed. */
static void nodes_table(const struct plan_rpt_file *fl, FILE *f)
{
	bool *done = calloc((size_t)fl->n_nodes + 1, sizeof(*done));
	int i, j;

	if (!done)
		return;
	fputs("<table class=\"nodes\">\n<thead><tr><th>nodes</th><th>CPU</th><th>cores</th>"
	      "<th>PUs</th><th>NUMA nodes</th><th>NICs</th><th>GPUs</th></tr></thead>\n<tbody>\n",
	      f);
	for (i = 0; i < fl->n_nodes; i++) {
		const struct plan_rpt_node *n = &fl->nodes[i];
		int count = 0, listed = 0;

		if (done[i])
			continue;
		fputs("<tr><td>", f);
		for (j = i; j < fl->n_nodes; j++) {
			if (done[j] || !same_hardware(n, &fl->nodes[j]))
				continue;
			done[j] = true;
			if (count++ < 8) {
				fputs(listed++ ? ", " : "", f);
				text(f, fl->nodes[j].name);
			}
		}
		if (count > 8)
			fprintf(f, " and %d more", count - 8);
		fprintf(f, " (%d)</td>", count);
		text_cell(f, n->cpu_model);
		num_cell(f, n->cores, "%.0f");
		num_cell(f, n->pus, "%.0f");
		num_cell(f, n->numa_nodes, "%.0f");
		text_cell(f, n->nics);
		text_cell(f, n->gpus);
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
	free(done);
}

/* An earlier file that lists the same nodes (names and hardware) as file i, or NULL. */
static const struct plan_rpt_file *same_nodes_as(const struct plan_report *r, size_t i)
{
	const struct plan_rpt_file *fl = &r->files[i];

	for (size_t j = 0; j < i && fl->n_nodes; j++) {
		const struct plan_rpt_file *e = &r->files[j];
		int n = 0;

		if (e->n_nodes != fl->n_nodes)
			continue;
		while (n < fl->n_nodes && !strcmp(e->nodes[n].name, fl->nodes[n].name) &&
		       same_hardware(&e->nodes[n], &fl->nodes[n]))
			n++;
		if (n == fl->n_nodes)
			return e;
	}
	return NULL;
}

static void system_section(const struct plan_report *r, FILE *f)
{
	size_t i;

	fputs("<section id=\"system\">\n<h2>System</h2>\n<table class=\"runs\">\n<thead><tr>"
	      "<th>file</th><th>ranks</th><th>nodes</th><th>transport</th><th>MPI library</th>"
	      "<th>arbench</th><th>settings</th><th>rows</th><th>links</th></tr></thead>\n"
	      "<tbody>\n",
	      f);
	for (i = 0; i < r->n_files; i++) {
		const struct plan_rpt_file *fl = &r->files[i];

		fputs("<tr>", f);
		text_cell(f, fl->name);
		fprintf(f, "<td class=\"n\">%d</td><td class=\"n\">%d</td>", fl->res->ranks,
			fl->res->nodes);
		text_cell(f, fl->transport);
		text_cell(f, fl->mpi_library);
		text_cell(f, fl->arbench_version);
		text_cell(f, fl->settings);
		fprintf(f, "<td class=\"n\">%zu</td><td class=\"n\">%zu</td></tr>\n",
			fl->res->n_rows, fl->n_links);
	}
	fputs("</tbody>\n</table>\n", f);
	for (i = 0; i < r->n_files; i++) {
		const struct plan_rpt_file *fl = &r->files[i];

		if (fl->command[0]) {
			fputs("<p>Command (", f);
			text(f, fl->name);
			fputs("): <code>", f);
			text(f, fl->command);
			fputs("</code></p>\n", f);
		}
		fputs("<h3>Nodes of ", f);
		text(f, fl->name);
		fputs("</h3>\n", f);
		if (same_nodes_as(r, i)) {
			fputs("<p>The same nodes as ", f);
			text(f, same_nodes_as(r, i)->name);
			fputs(".</p>\n", f);
		} else if (fl->n_nodes) {
			nodes_table(fl, f);
		} else {
			fputs("<p>Not recorded in this file (hwloc discovery did not run, or the "
			      "file is not arbench's).</p>\n",
			      f);
		}
	}
	if (r->topo_name) {
		fputs("<p>Predictions: topology <code>", f);
		text(f, r->topo_name);
		fputs("</code>", f);
		if (r->topo_path && r->topo_path[0]) {
			fputs(" (", f);
			text(f, r->topo_path);
			fputs(")", f);
		}
		if (r->calib_path) {
			fputs(", calibrated", f);
			if (r->calib_path[0]) {
				fputs(" by <code>", f);
				text(f, r->calib_path);
				fputs("</code>", f);
			}
		} else {
			fputs(", without a calibration (the topology's link rates only)", f);
		}
		fputs(".</p>\n", f);
	}
	fputs("</section>\n", f);
}

/* ---- charts and their tables ----------------------------------------------------------------- */

static void chart(const struct plan_rpt_chart *c, FILE *f)
{
	fprintf(f,
		"<figure class=\"chart\" id=\"chart-%s\" data-chart=\"%s\" data-points=\"%zu\">\n",
		c->id, c->id, c->points);
	fputs(c->svg ? c->svg : "", f);
	fprintf(f, "\n<figcaption>%s.</figcaption>\n</figure>\n", c->caption);
}

static const struct plan_rpt_chart *find_chart(const struct plan_rpt_chart *c, size_t n,
					       const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].id, id) && c[i].svg)
			return &c[i];
	return NULL;
}

static void links_section(const struct plan_report *r, const struct plan_rpt_chart *c, FILE *f)
{
	char size[32];
	size_t i;
	int last_src = -1;

	fputs("<section id=\"links\">\n<h2 id=\"links-title\">Link matrix</h2>\n", f);
	plan_rpt_size(r->link_size, size, sizeof(size));
	fprintf(f, "<p>%zu links measured at %s per message; median %.4g GB/s; %zu flagged.</p>\n",
		r->n_links, size, r->link_median, r->n_flagged);
	if (c)
		chart(c, f);
	if (r->n_flagged) {
		fputs("<h3>Flagged links</h3>\n<table class=\"flagged\">\n<thead><tr><th>src "
		      "rank</th><th>src host</th><th>dst rank</th><th>dst host</th><th>bw "
		      "(GB/s)</th><th>of the median</th><th>latency (us)</th></tr></thead>\n"
		      "<tbody>\n",
		      f);
		for (i = 0; i < r->n_links; i++) {
			const struct plan_rpt_link *l = r->links[i];

			if (!l->flagged)
				continue;
			fprintf(f, "<tr class=\"flagged\"><td class=\"n\">%d</td>", l->src);
			text_cell(f, l->src_host);
			fprintf(f, "<td class=\"n\">%d</td>", l->dst);
			text_cell(f, l->dst_host);
			num_cell(f, l->bw_gbps, NULL);
			num_cell(f, r->link_median > 0 ? l->bw_gbps / r->link_median : -1, "%.2f");
			num_cell(f, l->lat_us, NULL);
			fputs("</tr>\n", f);
		}
		fputs("</tbody>\n</table>\n", f);
	}
	fputs("<h3>Ranks of the matrix</h3>\n<table class=\"ranks\">\n<thead><tr><th>rank</th>"
	      "<th>host</th></tr></thead>\n<tbody>\n",
	      f);
	for (i = 0; i < r->n_links; i++) { /* sorted by source */
		if (r->links[i]->src == last_src)
			continue;
		last_src = r->links[i]->src;
		fprintf(f, "<tr><td class=\"n\">%d</td>", last_src);
		text_cell(f, r->links[i]->src_host);
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n</section>\n", f);
}

static void predicted_section(const struct plan_report *r, const struct plan_rpt_chart *c, FILE *f)
{
	size_t i;

	fputs("<section id=\"predicted\">\n<h2 id=\"predicted-title\">Measured against "
	      "predicted</h2>\n",
	      f);
	if (c)
		chart(c, f);
	fputs("<table class=\"predicted\">\n<thead><tr><th>algorithm</th><th>size</th>"
	      "<th>measured p50 (us)</th><th>predicted (us)</th><th>error</th><th>measured busbw "
	      "(GB/s)</th><th>predicted busbw (GB/s)</th><th>lower-bound busbw (GB/s)</th>"
	      "<th>note</th></tr></thead>\n<tbody>\n",
	      f);
	for (i = 0; i < r->n_points; i++) {
		const struct plan_rpt_point *p = &r->points[i];

		if (p->pred_us < 0)
			continue;
		fputs("<tr>", f);
		text_cell(f, p->algo);
		size_cell(f, p->size);
		num_cell(f, p->p50_us, NULL);
		num_cell(f, p->pred_us, NULL);
		fprintf(f, "<td class=\"n\">%+.1f%%</td>",
			p->p50_us > 0 ? 100 * (p->pred_us - p->p50_us) / p->p50_us : 0);
		num_cell(f, p->busbw, NULL);
		num_cell(f, p->pred_busbw, NULL);
		num_cell(f, p->bound_busbw, NULL);
		fprintf(f, "<td>%s</td></tr>\n", p->extrapolated ? "extrapolated" : "");
	}
	fputs("</tbody>\n</table>\n</section>\n", f);
}

static void measurements(const struct plan_report *r, FILE *f)
{
	size_t i;

	fputs("<section id=\"data\">\n<h2>Measurements</h2>\n<p>One row per algorithm and "
	      "size: the median over its rows (types, ops, in and out of place, files); min and "
	      "max over all of their iterations.</p>\n<table class=\"points\">\n<thead><tr>"
	      "<th>algorithm</th><th>size</th><th>rows</th><th>busbw (GB/s)</th><th>time p50 "
	      "(us)</th><th>time p99 (us)</th><th>p99/p50</th><th>min (us)</th><th>max (us)</th>"
	      "<th>wrong</th></tr></thead>\n<tbody>\n",
	      f);
	for (i = 0; i < r->n_points; i++) {
		const struct plan_rpt_point *p = &r->points[i];

		fputs("<tr>", f);
		text_cell(f, p->algo);
		size_cell(f, p->size);
		fprintf(f, "<td class=\"n\">%zu</td>", p->rows);
		num_cell(f, p->busbw, NULL);
		num_cell(f, p->p50_us, NULL);
		num_cell(f, p->p99_us, NULL);
		num_cell(f, p->spread, "%.3f");
		num_cell(f, p->min_us, NULL);
		num_cell(f, p->max_us, NULL);
		fprintf(f, "<td class=\"n\">%zu</td></tr>\n", p->wrong);
	}
	fputs("</tbody>\n</table>\n</section>\n", f);
}

/* "8 ranks on 4 nodes" (of the first file with results) */
static void cluster(const struct plan_report *r, FILE *f)
{
	fprintf(f, "%d rank%s on %d node%s", r->ranks, r->ranks == 1 ? "" : "s", r->nodes,
		r->nodes == 1 ? "" : "s");
}

int plan_rpt_html(const struct plan_report *r, const struct plan_rpt_chart *charts, size_t n,
		  FILE *f)
{
	static const char *const series[] = {"busbw", "latency", "spread"};
	const struct plan_rpt_chart *c;
	size_t i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"arplan report\">\n<title>All-reduce report: ",
	      f);
	cluster(r, f);
	fprintf(f,
		"</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>\n%s</style>\n</head>\n"
		"<body>\n<header>\n<h1>All-reduce report</h1>\n<p class=\"meta\">",
		style);
	cluster(r, f);
	fprintf(f, "; generated %s by arplan report%s.</p>\n</header>\n<main>\n", r->date,
		r->anonymized ? "; host names, paths and the command line anonymised" : "");
	summary(r, f);
	system_section(r, f);
	for (i = 0; i < sizeof(series) / sizeof(series[0]); i++) {
		c = find_chart(charts, n, series[i]);
		if (!c)
			continue;
		fprintf(f, "<section id=\"%s\">\n<h2 id=\"%s-title\">%s</h2>\n", c->id, c->id,
			c->title);
		chart(c, f);
		fputs("</section>\n", f);
	}
	if (r->n_links)
		links_section(r, find_chart(charts, n, "links"), f);
	if (r->topo_name)
		predicted_section(r, find_chart(charts, n, "predicted"), f);
	measurements(r, f);
	fputs("</main>\n<footer>\n<p class=\"meta\">Bandwidths in GB/s = 1e9 bytes/s; busbw = "
	      "algbw x 2(p-1)/p (nccl-tests' definition); sizes in bytes (KiB, MiB = 1024, "
	      "1024^2).  Made by <code>arplan report</code> from arbench results.</p>\n"
	      "</footer>\n</body>\n</html>\n",
	      f);
	return ferror(f) ? -EIO : 0;
}
