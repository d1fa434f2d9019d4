/*
 * report_text.c - `arplan report --format md|csv`, and the escaping every report writer uses.
 * Every string in a report may come from someone else's machine (host names, NIC and CPU
 * names, file names), so each goes through one of plan_html_text, plan_md_text or
 * plan_csv_text: invalid UTF-8, control characters, non-characters and bidirectional
 * overrides (which could make a host name read as another) become U+FFFD first, then the
 * format's own special characters are escaped.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "planner/internal.h"

#define REPLACEMENT 0xFFFD

/* The next code point of s (advancing *s); REPLACEMENT for anything not to be shown. */
static uint32_t next_cp(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t cp, min;
	int n, i;

	if (p[0] < 0x80) {
		n = 1, cp = p[0], min = 0;
	} else if ((p[0] & 0xE0) == 0xC0) {
		n = 2, cp = p[0] & 0x1F, min = 0x80;
	} else if ((p[0] & 0xF0) == 0xE0) {
		n = 3, cp = p[0] & 0x0F, min = 0x800;
	} else if ((p[0] & 0xF8) == 0xF0) {
		n = 4, cp = p[0] & 0x07, min = 0x10000;
	} else {
		*s = p + 1;
		return REPLACEMENT;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) { /* cut short: resume at the byte that broke it */
			*s = p + i;
			return REPLACEMENT;
		}
		cp = cp << 6 | (p[i] & 0x3F);
	}
	*s = p + n;
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return REPLACEMENT;
	if ((cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7F && cp <= 0x9F))
		return REPLACEMENT; /* control characters */
	if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
		return REPLACEMENT; /* non-characters */
	if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
	    cp == 0x200F || cp == 0x061C)
		return REPLACEMENT; /* bidirectional controls */
	return cp;
}

static void put_cp(FILE *f, uint32_t cp)
{
	if (cp < 0x80) {
		fputc((int)cp, f);
	} else if (cp < 0x800) {
		fputc((int)(0xC0 | cp >> 6), f);
		fputc((int)(0x80 | (cp & 0x3F)), f);
	} else if (cp < 0x10000) {
		fputc((int)(0xE0 | cp >> 12), f);
		fputc((int)(0x80 | (cp >> 6 & 0x3F)), f);
		fputc((int)(0x80 | (cp & 0x3F)), f);
	} else {
		fputc((int)(0xF0 | cp >> 18), f);
		fputc((int)(0x80 | (cp >> 12 & 0x3F)), f);
		fputc((int)(0x80 | (cp >> 6 & 0x3F)), f);
		fputc((int)(0x80 | (cp & 0x3F)), f);
	}
}

void plan_html_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		uint32_t cp = next_cp(&p);

		switch (cp) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			put_cp(f, cp);
		}
	}
}

void plan_md_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		uint32_t cp = next_cp(&p);

		if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '\n' || cp == '\t')
			fputc(' ', f); /* a newline would end the table row */
		else if (cp < 0x80 && strchr("\\`*_{}[]()#+-.!|~", (int)cp))
			fprintf(f, "\\%c", (int)cp); /* CommonMark: any ASCII punctuation */
		else
			put_cp(f, cp);
	}
}

void plan_csv_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	/* a cell a spreadsheet would run as a formula starts with a quote mark instead */
	if (*p && strchr("=+-@", *p))
		fputc('\'', f);
	while (*p) {
		uint32_t cp = next_cp(&p);

		if (cp == '"')
			fputs("\"\"", f);
		else if (cp == '\n' || cp == '\t')
			fputc(' ', f);
		else
			put_cp(f, cp);
	}
	fputc('"', f);
}

void plan_rpt_size(size_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%zu B", bytes);
	else if (v == floor(v))
		snprintf(buf, len, "%.0f %s", v, units[u]);
	else
		snprintf(buf, len, "%.3g %s", v, units[u]);
}

/* ---- Markdown -------------------------------------------------------------------------------- */

static void md_num(FILE *f, double v, const char *fmt)
{
	fputs(" | ", f);
	if (v < 0 || !isfinite(v))
		fputs("-", f);
	else
		fprintf(f, fmt, v);
}

/* A node of an earlier file (or earlier in this one) of the same name: listed once. */
static bool listed_before(const struct plan_report *r, size_t file, int node)
{
	const char *name = r->files[file].nodes[node].name;

	for (size_t i = 0; i <= file; i++)
		for (int n = 0; n < (i < file ? r->files[i].n_nodes : node); n++)
			if (!strcmp(r->files[i].nodes[n].name, name))
				return true;
	return false;
}

int plan_rpt_markdown(const struct plan_report *r, FILE *f)
{
	char size[32];
	size_t i;
	bool pred = r->topo_name != NULL;

	fputs("# All-reduce report\n\n", f);
	fprintf(f, "%d rank%s on %d node%s; generated %s by arplan report.\n\n", r->ranks,
		r->ranks == 1 ? "" : "s", r->nodes, r->nodes == 1 ? "" : "s", r->date);
	fputs("## Summary\n\n", f);
	if (r->verdict >= 0) {
		fprintf(f, "- **%s**: peak busbw %.3g GB/s is %.2f of the expected %.3g GB/s%s\n",
			r->verdict ? "PASS" : "FAIL", r->peak_busbw, r->peak_busbw / r->expect_gbps,
			r->expect_gbps,
			r->peak_large ? "" : " (no size of 1 MiB or more measured)");
	}
	if (r->peak_algo[0]) {
		plan_rpt_size(r->peak_size, size, sizeof(size));
		fprintf(f, "- peak busbw %.3g GB/s: ", r->peak_busbw);
		plan_md_text(f, r->peak_algo);
		fprintf(f, " at %s", size);
		if (r->peak_bound > 0)
			fprintf(f, ", %.2f of the planner's lower-bound bandwidth %.3g GB/s",
				r->peak_busbw / r->peak_bound, r->peak_bound);
		fputs("\n", f);
	}
	for (i = 0; i < PLAN_RPT_BANDS; i++) {
		const struct plan_rpt_band *b = &r->bands[i];

		if (!b->best[0])
			continue;
		fprintf(f, "- best, %s: ", b->label);
		plan_md_text(f, b->best);
		fprintf(f, ", fastest at %u of %u sizes\n", b->wins, b->sizes);
	}
	if (r->n_links)
		fprintf(f, "- links: %zu of %zu flagged (median %.3g GB/s at %zu B)\n",
			r->n_flagged, r->n_links, r->link_median, r->link_size);
	fputs("\n## Runs\n\n| file | ranks | nodes | transport | MPI library | arbench | settings "
	      "|\n|---|---|---|---|---|---|---|\n",
	      f);
	for (i = 0; i < r->n_files; i++) {
		const struct plan_rpt_file *fl = &r->files[i];

		fputs("| ", f);
		plan_md_text(f, fl->name);
		fprintf(f, " | %d | %d | ", fl->res->ranks, fl->res->nodes);
		plan_md_text(f, fl->transport);
		fputs(" | ", f);
		plan_md_text(f, fl->mpi_library);
		fputs(" | ", f);
		plan_md_text(f, fl->arbench_version);
		fputs(" | ", f);
		plan_md_text(f, fl->settings);
		fputs(" |\n", f);
	}
	fputs("\n## Nodes\n\n| node | CPU | cores | PUs | NUMA nodes | NICs | GPUs |\n"
	      "|---|---|---|---|---|---|---|\n",
	      f);
	for (i = 0; i < r->n_files; i++)
		for (int n = 0; n < r->files[i].n_nodes; n++) {
			const struct plan_rpt_node *nd = &r->files[i].nodes[n];

			if (listed_before(r, i, n))
				continue;
			fputs("| ", f);
			plan_md_text(f, nd->name);
			fputs(" | ", f);
			plan_md_text(f, nd->cpu_model);
			md_num(f, nd->cores, "%.0f");
			md_num(f, nd->pus, "%.0f");
			md_num(f, nd->numa_nodes, "%.0f");
			fputs(" | ", f);
			plan_md_text(f, nd->nics);
			fputs(" | ", f);
			plan_md_text(f, nd->gpus);
			fputs(" |\n", f);
		}
	fprintf(f,
		"\n## Measurements\n\nMedians over the rows of each algorithm and size.\n\n"
		"| algorithm | size (B) | rows | busbw (GB/s) | time p50 (us) | time p99 (us) | "
		"p99/p50 | wrong%s |\n|---|---|---|---|---|---|---|---%s|\n",
		pred ? " | predicted (us) | lower bound busbw (GB/s)" : "", pred ? "|---|---" : "");
	for (i = 0; i < r->n_points; i++) {
		const struct plan_rpt_point *p = &r->points[i];

		fputs("| ", f);
		plan_md_text(f, p->algo);
		fprintf(f, " | %zu | %zu", p->size, p->rows);
		md_num(f, p->busbw, "%.6g");
		md_num(f, p->p50_us, "%.6g");
		md_num(f, p->p99_us, "%.6g");
		md_num(f, p->spread, "%.3f");
		fprintf(f, " | %zu", p->wrong);
		if (pred) {
			md_num(f, p->pred_us, "%.6g");
			md_num(f, p->bound_busbw, "%.6g");
		}
		fputs(" |\n", f);
	}
	if (r->n_links) {
		fprintf(f,
			"\n## Links\n\n%zu B per message; the median is %.6g GB/s.\n\n"
			"| src rank | src host | dst rank | dst host | bw (GB/s) | of median | "
			"latency (us) | flagged |\n|---|---|---|---|---|---|---|---|\n",
			r->link_size, r->link_median);
		for (i = 0; i < r->n_links; i++) {
			const struct plan_rpt_link *l = r->links[i];

			fprintf(f, "| %d | ", l->src);
			plan_md_text(f, l->src_host);
			fprintf(f, " | %d | ", l->dst);
			plan_md_text(f, l->dst_host);
			fprintf(f, " | %.6g | %.2f | %.6g | %s |\n", l->bw_gbps,
				r->link_median > 0 ? l->bw_gbps / r->link_median : 0, l->lat_us,
				l->flagged ? "**yes**" : "no");
		}
	}
	return ferror(f) ? -EIO : 0;
}

/* ---- CSV ------------------------------------------------------------------------------------- */

static void csv_num(FILE *f, double v)
{
	fputc(',', f);
	if (v >= 0 && isfinite(v))
		fprintf(f, "%.9g", v);
}

/* One table: a row per algorithm and size ("point") and per link ("link"), empty cells where a
 * column does not apply. */
int plan_rpt_csv(const struct plan_report *r, FILE *f)
{
	size_t i;

	fputs("record,algo,size_B,rows,busbw_GBps,time_p50_us,time_p99_us,p99_over_p50,"
	      "time_min_us,time_max_us,wrong,predicted_us,predicted_busbw_GBps,bound_busbw_GBps,"
	      "src_rank,src_host,dst_rank,dst_host,link_bw_GBps,link_lat_us,flagged\r\n",
	      f);
	for (i = 0; i < r->n_points; i++) {
		const struct plan_rpt_point *p = &r->points[i];

		fputs("point,", f);
		plan_csv_text(f, p->algo);
		fprintf(f, ",%zu,%zu", p->size, p->rows);
		csv_num(f, p->busbw);
		csv_num(f, p->p50_us);
		csv_num(f, p->p99_us);
		csv_num(f, p->spread);
		csv_num(f, p->min_us);
		csv_num(f, p->max_us);
		fprintf(f, ",%zu", p->wrong);
		csv_num(f, p->pred_us);
		csv_num(f, p->pred_busbw);
		csv_num(f, p->bound_busbw);
		fputs(",,,,,,,\r\n", f);
	}
	for (i = 0; i < r->n_links; i++) {
		const struct plan_rpt_link *l = r->links[i];

		fprintf(f, "link,,%zu,,,,,,,,,,,,%d,", l->size, l->src);
		plan_csv_text(f, l->src_host);
		fprintf(f, ",%d,", l->dst);
		plan_csv_text(f, l->dst_host);
		csv_num(f, l->bw_gbps);
		csv_num(f, l->lat_us);
		fprintf(f, ",%d\r\n", l->flagged);
	}
	return ferror(f) ? -EIO : 0;
}
