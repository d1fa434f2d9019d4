/*
 * cmd_topo.c - `arplan topo`: load and expand a topology file, then print what it is (text,
 * --json with jansson, or --dot for Graphviz); or, with --from-results, write the explicit
 * topology of a cluster measured by arbench.  Exit 0 ok, 2 bad input.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "planner/planner.h"
#include "topo/topo.h"

static const char *const class_names[TOPO_L_CLASS_COUNT] = {"intra", "host", "fabric"};

static void help(FILE *f)
{
	fprintf(f,
		"usage: arplan topo [--json | --dot] [--catalog DIR] FILE.yaml\n"
		"       arplan topo --from-results RESULTS.json [--nic-rate RATE]\n\n"
		"Validate a topology (configs/README.md), expand it to its graph and summarise "
		"it:\n"
		"nodes, GPUs, NICs, switches per tier, links per class, oversubscription per "
		"tier,\n"
		"bisection bandwidth, diameter in hops, bill of materials (optics as bought:\n"
		"twin-port modules per two links where cages hold two ports), switch ports and\n"
		"cages used per model, media by class (DAC, AOC, multimode, single-mode) and\n"
		"reach (rack, row, hall); NVLink domains and their switch trays where the fabric\n"
		"has scale-up domains (fabric.scale_up).\n\n"
		"  --json              the summary as JSON\n"
		"  --dot               the graph for Graphviz (dot -Tsvg)\n"
		"  --from-results F    print an explicit-family YAML of the cluster in arbench's\n"
		"                      results file F (one switch assumed between the nodes)\n"
		"  --nic-rate RATE     with --from-results: rate of NICs whose speed is unknown\n"
		"  --catalog DIR       part catalog for a file without catalog: (default:\n"
		"                      $ARPLAN_CATALOG, ../catalog beside the file, the shipped "
		"one)\n"
		"  --stats             print load+expand time and peak memory (RSS) on stderr\n"
		"  --help              this text\n\n"
		"Exit status: 0 ok, 2 bad input (file:line:column: message on stderr).\n");
}

static void fmt_rate(double bytes_per_s, char *buf, size_t len)
{
	double bits = bytes_per_s * 8;

	if (bits >= 1e12)
		snprintf(buf, len, "%.3g Tbit/s", bits / 1e12);
	else if (bits >= 1e9)
		snprintf(buf, len, "%.3g Gbit/s", bits / 1e9);
	else
		snprintf(buf, len, "%.3g Mbit/s", bits / 1e6);
}

/* Switch ports and cages per model, then media by class and reach with the totals. */
static void print_detail(FILE *out, const struct topo_bom_detail *x)
{
	struct topo_media_class t = {.links = 0};
	size_t i;

	if (x->n_switches)
		fprintf(out, "switch ports\n  %-16s %6s %12s %12s %12s %12s %8s\n", "model",
			"count", "ports used", "ports", "cages used", "cages", "busiest");
	for (i = 0; i < x->n_switches; i++) {
		const struct topo_switch_use *u = &x->switches[i];

		if (u->radix) /* else the radix is not known: explicit switches without a model */
			fprintf(out, "  %-16s %6u %12llu %12llu %12llu %12llu %8u\n", u->model,
				u->count, (unsigned long long)u->ports_used,
				(unsigned long long)u->ports, (unsigned long long)u->cages_used,
				(unsigned long long)u->cages, u->max_ports_used);
		else
			fprintf(out, "  %-16s %6u %12llu %12s %12llu %12s %8u\n", u->model,
				u->count, (unsigned long long)u->ports_used, "?",
				(unsigned long long)u->cages_used, "?", u->max_ports_used);
	}
	if (!x->n_media)
		return;
	fprintf(out, "media as bought\n  %-12s %-6s %10s %10s %10s %12s %10s\n", "class", "reach",
		"links", "cables", "modules", "USD", "W");
	for (i = 0; i < x->n_media; i++) {
		const struct topo_media_class *c = &x->media[i];

		fprintf(out, "  %-12s %-6s %10llu %10llu %10llu %12.0f %10.0f\n", c->media_class,
			c->reach_class, (unsigned long long)c->links, (unsigned long long)c->cables,
			(unsigned long long)c->modules, c->price_usd, c->watts);
		t.links += c->links;
		t.cables += c->cables;
		t.modules += c->modules;
		t.price_usd += c->price_usd;
		t.watts += c->watts;
	}
	fprintf(out, "  %-12s %-6s %10llu %10llu %10llu %12.0f %10.0f\n", "total", "",
		(unsigned long long)t.links, (unsigned long long)t.cables,
		(unsigned long long)t.modules, t.price_usd, t.watts);
}

static void print_text(FILE *out, const char *path, const struct topo_desc *d,
		       const struct topo_summary *s, const struct topo_bom_line *bom, size_t nb,
		       const struct topo_bom_detail *x)
{
	char rate[48];
	double price = 0, watts = 0;
	unsigned t;
	size_t i;

	fprintf(out, "topology          %s (%s) from %s\n", topo_desc_name(d), topo_desc_family(d),
		path);
	fprintf(out, "nodes             %u\n", s->nodes);
	fprintf(out, "GPUs              %u\n", s->gpus);
	fprintf(out, "NICs              %u\n", s->nics);
	if (s->domains) {
		fmt_rate(s->domain_nvlink, rate, sizeof(rate));
		fprintf(out,
			"NVLink domains    %u of %u nodes, %u GPUs each; %u NVLink switch trays; "
			"NVLink %.4g GB/s (%s) per GPU each way\n",
			s->domains, s->domain_nodes, s->domain_gpus, s->nvlink_switch_trays,
			s->domain_nvlink / 1e9, rate);
	}
	fprintf(out, "switches          %u", s->switches);
	for (t = 0; t < s->tiers; t++)
		fprintf(out, "%stier %u: %u", t ? ", " : " (", t, s->switches_per_tier[t]);
	fprintf(out, "%s", s->tiers ? ")" : "");
	if (s->domains)
		fprintf(out, " + %u NVLink switch trays", s->nvlink_switch_trays);
	else if (s->node_switches)
		fprintf(out, " + %u in-node", s->node_switches);
	fprintf(out, "\nlinks             ");
	for (t = 0; t < TOPO_L_CLASS_COUNT; t++)
		fprintf(out, "%s%s %llu", t ? ", " : "", class_names[t],
			(unsigned long long)s->links_per_class[t]);
	for (t = 0; t + 1 < s->tiers; t++)
		fprintf(out, "%stier %u-%u: %llu", t ? ", " : " (", t, t + 1,
			(unsigned long long)s->links_per_tier[t]);
	fprintf(out, "%s\n", s->tiers > 1 ? ")" : "");
	fprintf(out, "oversubscription  ");
	for (t = 0; t < s->tiers; t++)
		if (s->oversub[t] > 0)
			fprintf(out, "tier %u: %.2f:1  ", t, s->oversub[t]);
	fprintf(out, "%s\n", s->oversub[0] > 0 ? "" : "none (no tier has up links)");
	if (s->bisection >= 0) {
		fmt_rate(s->bisection, rate, sizeof(rate));
		fprintf(out, "bisection         %s%s (%.4g GB/s) each way%s\n",
			s->bisection_lower_bound ? ">= " : "", rate, s->bisection / 1e9,
			s->bisection_lower_bound ? " (tier-ratio formula, a lower bound: the "
						   "leaves are not all full)"
						 : "");
	} else {
		fprintf(out,
			"bisection         not computed (explicit graphs of more than 16 nodes)\n");
	}
	fprintf(out, "diameter          %u hops between %s%s\n", s->diameter,
		s->gpus ? "GPUs" : "NICs",
		s->diameter_exact ? "" : " (maximum over sampled pairs)");
	fprintf(out, "bill of materials\n  %-24s %-26s %10s %10s %8s\n", "item", "part", "count",
		"unit USD", "unit W");
	for (i = 0; i < nb; i++) {
		fprintf(out, "  %-24s %-26s %10llu %10.0f %8.1f\n", bom[i].what, bom[i].part,
			(unsigned long long)bom[i].count, bom[i].unit_price_usd, bom[i].unit_watts);
		price += bom[i].unit_price_usd * (double)bom[i].count;
		watts += bom[i].unit_watts * (double)bom[i].count;
	}
	fprintf(out, "  %-24s %-26s %10s %10.0f %8.0f  (parts with catalog figures only)\n",
		"total", "", "", price, watts);
	print_detail(out, x);
}

/* switch_ports, media_classes and media_total of the JSON summary. */
static void detail_json(json_t *j, const struct topo_bom_detail *x)
{
	json_t *sw = json_array(), *mc = json_array();
	struct topo_media_class t = {.links = 0};
	size_t i;

	for (i = 0; i < x->n_switches; i++) {
		const struct topo_switch_use *u = &x->switches[i];

		json_array_append_new(
			sw,
			json_pack("{s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:i}", "model",
				  u->model, "count", (int)u->count, "radix", (int)u->radix,
				  "cage_ports", (int)u->cage_ports, "ports_used",
				  (json_int_t)u->ports_used, "ports", (json_int_t)u->ports,
				  "cages_used", (json_int_t)u->cages_used, "cages",
				  (json_int_t)u->cages, "max_ports_used", (int)u->max_ports_used));
	}
	for (i = 0; i < x->n_media; i++) {
		const struct topo_media_class *c = &x->media[i];

		json_array_append_new(mc, json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:f}", "class",
						    c->media_class, "reach", c->reach_class,
						    "links", (json_int_t)c->links, "cables",
						    (json_int_t)c->cables, "modules",
						    (json_int_t)c->modules, "price_usd",
						    c->price_usd, "watts", c->watts));
		t.links += c->links;
		t.cables += c->cables;
		t.modules += c->modules;
		t.price_usd += c->price_usd;
		t.watts += c->watts;
	}
	json_object_set_new(j, "switch_ports", sw);
	json_object_set_new(j, "media_classes", mc);
	json_object_set_new(j, "media_total",
			    json_pack("{s:I, s:I, s:I, s:f, s:f}", "links", (json_int_t)t.links,
				      "cables", (json_int_t)t.cables, "modules",
				      (json_int_t)t.modules, "price_usd", t.price_usd, "watts",
				      t.watts));
}

static json_t *summary_json(const char *path, const struct topo_desc *d,
			    const struct topo_summary *s, const struct topo_bom_line *bom,
			    size_t nb)
{
	json_t *tiers = json_array(), *ov = json_array(), *lt = json_array(), *b = json_array();
	json_t *doc;
	double price = 0, watts = 0;
	unsigned t;
	size_t i;

	for (t = 0; t < s->tiers; t++) {
		json_array_append_new(tiers, json_integer(s->switches_per_tier[t]));
		json_array_append_new(ov,
				      s->oversub[t] > 0 ? json_real(s->oversub[t]) : json_null());
		if (t + 1 < s->tiers)
			json_array_append_new(lt, json_integer((json_int_t)s->links_per_tier[t]));
	}
	for (i = 0; i < nb; i++) {
		json_array_append_new(b, json_pack("{s:s, s:s, s:I, s:f, s:f}", "item", bom[i].what,
						   "part", bom[i].part, "count",
						   (json_int_t)bom[i].count, "unit_price_usd",
						   bom[i].unit_price_usd, "unit_watts",
						   bom[i].unit_watts));
		price += bom[i].unit_price_usd * (double)bom[i].count;
		watts += bom[i].unit_watts * (double)bom[i].count;
	}
	doc = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:{s:i, s:o, s:i}, "
			"s:{s:I, s:I, s:I, s:o}, s:o, s:o, s:o, s:b, s:{s:i, s:b}, s:o, s:f, s:f}",
			"file", path, "name", topo_desc_name(d), "family", topo_desc_family(d),
			"nodes", s->nodes, "gpus", s->gpus, "nics", s->nics, "switches", "total",
			s->switches, "per_tier", tiers, "in_node", s->node_switches, "links",
			"intra", (json_int_t)s->links_per_class[TOPO_L_INTRA], "host",
			(json_int_t)s->links_per_class[TOPO_L_HOST], "fabric",
			(json_int_t)s->links_per_class[TOPO_L_FABRIC], "fabric_per_tier", lt,
			"oversubscription", ov, "bisection_bytes_per_s",
			s->bisection >= 0 ? json_real(s->bisection) : json_null(),
			"bisection_gbit_per_s",
			s->bisection >= 0 ? json_real(s->bisection * 8 / 1e9) : json_null(),
			"bisection_lower_bound", s->bisection_lower_bound, "diameter", "hops",
			s->diameter, "exact", s->diameter_exact, "bom", b, "total_price_usd", price,
			"total_watts", watts);
	if (doc && s->domains) /* only where the fabric has scale-up domains */
		json_object_set_new(doc, "scale_up",
				    json_pack("{s:i, s:i, s:i, s:i, s:f}", "domains", s->domains,
					      "nodes_per_domain", s->domain_nodes,
					      "gpus_per_domain", s->domain_gpus,
					      "nvlink_switch_trays", s->nvlink_switch_trays,
					      "nvlink_bytes_per_s", s->domain_nvlink));
	return doc;
}

/* A DOT double-quoted string: '"' and '\\' escaped (a backslash would start one of DOT's
 * label escapes), a line break as \n, other control characters as '?'. */
static void dot_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fputc('?', out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void print_dot(FILE *out, const struct topo_desc *d, const struct topo_graph *g)
{
	static const char *const shape[TOPO_V_KIND_COUNT] = {"ellipse", "box", "hexagon"};
	char rate[48];
	uint32_t v;
	uint64_t l;

	fputs("graph ", out);
	dot_str(out, topo_desc_name(d));
	fputs(" {\n  layout=dot; rankdir=BT; node [fontsize=9];\n", out);
	for (v = 0; v < g->n_vertices; v++) {
		fprintf(out, "  v%u [label=", v);
		dot_str(out, topo_vertex_name(g, v));
		fprintf(out, ", shape=%s];\n", shape[g->vertices[v].kind]);
	}
	for (l = 0; l < g->n_links; l++) {
		fmt_rate(g->links[l].bandwidth, rate, sizeof(rate));
		fprintf(out, "  v%u -- v%u [label=\"%s\", fontsize=7];\n", g->links[l].a,
			g->links[l].b, rate);
	}
	fprintf(out, "}\n");
}

enum fmt { FMT_TEXT, FMT_JSON, FMT_DOT };

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double peak_rss_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

static int run(const char *path, const char *catalog, enum fmt fmt, bool stats, FILE *out,
	       FILE *err)
{
	double t0 = now();
	struct topo_desc *d = NULL;
	struct topo_graph *g = NULL;
	struct topo_bom_line *bom = NULL;
	struct topo_bom_detail detail = {0};
	struct topo_summary s;
	struct topo_error e;
	char msg[1200];
	size_t nb = 0;
	int ret;

	ret = topo_load_catalog(path, catalog, &d, &e);
	if (!ret)
		ret = topo_expand(d, &g, &e);
	if (!ret && stats)
		fprintf(err,
			"arplan topo: load+expand %.3f s, %u vertices, %llu links, peak RSS %.1f "
			"MiB\n",
			now() - t0, g->n_vertices, (unsigned long long)g->n_links, peak_rss_mib());
	if (ret == -EINVAL) {
		topo_error_format(&e, msg, sizeof(msg));
		fprintf(err, "%s\n", msg);
		topo_desc_free(d);
		return PLAN_EXIT_USAGE;
	}
	if (ret) {
		fprintf(err, "arplan topo: %s: %s\n", path, strerror(-ret));
		topo_desc_free(d);
		return PLAN_EXIT_INTERNAL;
	}
	ret = PLAN_EXIT_OK;
	if (stats)
		t0 = now();
	if (fmt == FMT_DOT) {
		print_dot(out, d, g);
		goto free_graph;
	}
	if (topo_summarize(d, g, &s) || topo_bom(d, g, &bom, &nb) ||
	    topo_bom_detail(d, g, &detail)) {
		fprintf(err, "arplan topo: out of memory\n");
		ret = PLAN_EXIT_INTERNAL;
		goto free_graph;
	}
	if (fmt == FMT_JSON) {
		json_t *j = summary_json(path, d, &s, bom, nb);

		if (j)
			detail_json(j, &detail);

		if (!j || json_dumpf(j, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10))) {
			fprintf(err, "arplan topo: cannot write JSON\n");
			ret = PLAN_EXIT_INTERNAL;
		}
		fputc('\n', out);
		json_decref(j);
	} else {
		print_text(out, path, d, &s, bom, nb, &detail);
	}
	if (stats)
		fprintf(err, "arplan topo: summary %.3f s, peak RSS %.1f MiB\n", now() - t0,
			peak_rss_mib());
free_graph:
	free(bom);
	topo_bom_detail_free(&detail);
	topo_graph_free(g);
	topo_desc_free(d);
	return ret;
}

int plan_cmd_topo(int argc, char **argv, FILE *out, FILE *err)
{
	const char *file = NULL, *results = NULL, *nic_rate = NULL, *catalog = NULL;
	enum fmt fmt = FMT_TEXT;
	bool stats = false;
	char msg[600];
	int i, ret;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help(out);
			return PLAN_EXIT_OK;
		} else if (strcmp(a, "--json") == 0) {
			fmt = FMT_JSON;
		} else if (strcmp(a, "--dot") == 0) {
			fmt = FMT_DOT;
		} else if (strcmp(a, "--stats") == 0) {
			stats = true;
		} else if ((strcmp(a, "--from-results") == 0 || strcmp(a, "--nic-rate") == 0) &&
			   i + 1 < argc) {
			*(a[2] == 'f' ? &results : &nic_rate) = argv[++i];
		} else if (strcmp(a, "--catalog") == 0 && i + 1 < argc) {
			catalog = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(err,
				"arplan topo: unknown or incomplete option '%s' (see --help)\n", a);
			return PLAN_EXIT_USAGE;
		} else if (!file) {
			file = a;
		} else {
			fprintf(err, "arplan topo: one topology file at a time ('%s' is extra)\n",
				a);
			return PLAN_EXIT_USAGE;
		}
	}
	if (results) {
		if (file) {
			fprintf(err, "arplan topo: --from-results takes no topology file\n");
			return PLAN_EXIT_USAGE;
		}
		ret = plan_topo_from_results(results, nic_rate, out, msg, sizeof(msg));
		if (ret == -EINVAL) {
			fprintf(err, "%s\n", msg);
			return PLAN_EXIT_USAGE;
		}
		return ret ? PLAN_EXIT_INTERNAL : PLAN_EXIT_OK;
	}
	if (!file) {
		fprintf(err, "arplan topo: no topology file (usage: arplan topo [--json|--dot] "
			     "FILE.yaml)\n");
		return PLAN_EXIT_USAGE;
	}
	return run(file, catalog, fmt, stats, out, err);
}
