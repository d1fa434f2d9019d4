/*
 * cmd_sweep.c - `arplan sweep --workload W.yaml --gpus N`: builds the usual fabric options for N
 * GPUs itself (fat-tree 1:1, 2:1, 3:1, rail-optimized, rail-only, each on nodes of 8 of the
 * workload's GPUs with 8 ConnectX-7 400G NICs), runs the step model on each and prints them as
 * `arplan compare` does, with the cheapest per unit of effective compute.  Each option is
 * written as a topology YAML file (a temporary file naming the catalog) and loaded the usual
 * way; the first (switch, tiers) that builds is taken: QM9700 in 2 then 3 tiers, then
 * TH5-128x400G.  When the catalog says the workload's GPU comes in rack-scale NVLink domains
 * (nvlink_domain, e.g. GB200: 72), one more option: those domains (trays of 4 GPUs and 4
 * ConnectX-7, NVLink5-Switch-Tray trays enough to carry every GPU's NVLink) on the 1:1
 * fat-tree.  Exit 0 ok, 2 bad input.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "planner/cmd_step.h"

static void help(FILE *f)
{
	fprintf(f,
		"usage: arplan sweep --workload W.yaml --gpus N [--calib C.yaml]\n"
		"                    [--catalog DIR] [--json|--csv]\n\n"
		"Build fat-tree 1:1, 2:1 and 3:1, rail-optimized (SUs of 32 nodes) and rail-only\n"
		"fabrics for N GPUs (nodes of 8 of the workload's GPUs, 8 ConnectX-7 400G NICs,\n"
		"media by reach (`media: auto`: DAC in a rack, optics beyond); QM9700 switches in "
		"2\n"
		"or 3 tiers, else TH5-128x400G), run `arplan step` on each and print them side by\n"
		"side as `arplan compare` does, then the cheapest per unit of effective compute\n"
		"(PFLOP/s per M$).\n"
		"When the catalog gives the workload's GPU an nvlink_domain (GB200: 72, as in "
		"GB200\n"
		"NVL72 racks), also that: NVLink domains of trays of 4 GPUs and 4 ConnectX-7,\n"
		"NVLink5-Switch-Tray switch trays, on the 1:1 fat-tree (when N is whole domains).\n"
		"The workload's data-parallel degree must be left out (each option has N GPUs).\n\n"
		"  --workload FILE  workload YAML (configs/README.md, \"Workload files\")\n"
		"  --gpus N         GPUs, a multiple of 8\n"
		"  --calib FILE     calibration from `arplan fit`\n"
		"  --catalog DIR    the part catalog (configs/catalog)\n"
		"  --json, --csv    JSON or CSV instead of the table\n\n"
		"Exit status: 0 ok, 2 bad input.\n");
}

struct fabric_option {
	const char *label, *family;
	unsigned oversub;
	bool rails; /* rail-only: tier1 only when a rail needs two tiers */
};

static const struct fabric_option options[] = {
	{"fat-tree-1to1", "fat-tree", 1, false}, {"fat-tree-2to1", "fat-tree", 2, false},
	{"fat-tree-3to1", "fat-tree", 3, false}, {"rail-optimized", "rail-optimized", 1, false},
	{"rail-only", "rail-only", 1, true},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* (switch, tiers, tier1 link class given) in the order tried. */
static const struct {
	const char *sw;
	unsigned tiers;
	bool tier1;
} attempts[] = {
	{"QM9700", 2, false},	    {"QM9700", 2, true},       {"QM9700", 3, true},
	{"TH5-128x400G", 2, false}, {"TH5-128x400G", 2, true}, {"TH5-128x400G", 3, true},
};

/* A rack-scale NVLink domain (the GPU's catalog nvlink_domain): trays of DOMAIN_TRAY_GPUS
 * GPUs, each with as many ConnectX-7, and switch_trays NVLINK_TRAY per domain. */
struct domain_option {
	unsigned gpus, switch_trays; /* 0 gpus: 8-GPU nodes */
	char label[64];
};
#define DOMAIN_TRAY_GPUS 4 /* a GB200 NVL72 compute tray */
#define NVLINK_TRAY	 "NVLink5-Switch-Tray"

/* Write option x for nodes nodes (trays of domain dom when dom->gpus) as a topology file. */
static int write_yaml(const char *path, const struct fabric_option *x, long nodes, unsigned a,
		      const char *catalog, const char *gpu, double nvlink,
		      const struct domain_option *dom)
{
	FILE *f = fopen(path, "w");
	unsigned tiers = attempts[a].tiers;

	if (!f)
		return -errno;
	if (dom->gpus)
		fprintf(f,
			"name: %s\n"
			"catalog: %s\n"
			"node_types:\n"
			"  - {name: tray, gpus: %u, gpu_model: %s, intra: {pcie_gen: 5, "
			"pcie_width: 16, latency: 1us}, nics: {count: %u, speed: 400Gbit, model: "
			"ConnectX-7}}\n"
			"fabric:\n"
			"  family: %s\n"
			"  node_type: tray\n"
			"  switch: %s\n"
			"  scale_up: {domain_nodes: %u, nvlink: %.6gGB/s, nvlink_switch: %s, "
			"switch_trays: %u, latency: 1us}\n",
			dom->label, catalog, DOMAIN_TRAY_GPUS, gpu, DOMAIN_TRAY_GPUS, x->family,
			attempts[a].sw, dom->gpus / DOMAIN_TRAY_GPUS, nvlink, NVLINK_TRAY,
			dom->switch_trays);
	else
		fprintf(f,
			"name: %s\n"
			"catalog: %s\n"
			"node_types:\n"
			"  - {name: node, gpus: 8, gpu_model: %s, intra: {nvlink: %.6gGB/s, "
			"pcie_gen: "
			"5, pcie_width: 16, latency: 1us}, nics: {count: 8, speed: 400Gbit, model: "
			"ConnectX-7}}\n"
			"fabric:\n"
			"  family: %s\n"
			"  node_type: node\n"
			"  switch: %s\n",
			x->label, catalog, gpu, nvlink, x->family, attempts[a].sw);
	if (strcmp(x->family, "rail-optimized") == 0)
		fprintf(f, "  su_nodes: %ld\n  sus: %ld\n  tiers: %u\n", nodes < 32 ? nodes : 32,
			nodes < 32 ? 1 : nodes / 32, tiers);
	else
		fprintf(f, "  nodes: %ld\n", nodes);
	if (strcmp(x->family, "fat-tree") == 0)
		fprintf(f, "  tiers: %u\n  oversubscription: [%u%s]\n  placement: node\n", tiers,
			x->oversub, tiers == 3 ? ", 1" : "");
	fprintf(f, "link_classes:\n  host:  {rate: 400Gbit, latency: 1us, media: auto}\n");
	if (!x->rails || attempts[a].tier1)
		fprintf(f, "  tier1: {rate: 400Gbit, latency: 1us, media: auto}\n");
	if (tiers == 3 && !x->rails)
		fprintf(f, "  tier2: {rate: 400Gbit, latency: 1us, media: auto}\n");
	return fclose(f) ? -EIO : 0;
}

/* Build option x: the first attempt that loads and expands.  0, or -EINVAL when none does. */
static int build(const char *path, const struct fabric_option *x, long nodes, const char *catalog,
		 const char *gpu, double nvlink, const struct domain_option *dom,
		 struct topo_desc **d, struct topo_graph **g, struct topo_error *te)
{
	for (unsigned a = 0; a < sizeof(attempts) / sizeof(attempts[0]); a++) {
		if ((x->rails && attempts[a].tiers == 3) || (!x->rails && !attempts[a].tier1))
			continue; /* rail-only has 1 or 2 tiers; the others always give tier1 */
		if (write_yaml(path, x, nodes, a, catalog, gpu, nvlink, dom))
			return -EIO;
		if (topo_load(path, d, te) == 0 && topo_expand(*d, g, te) == 0)
			return 0;
		topo_desc_free(*d);
		*d = NULL;
	}
	return -EINVAL;
}

/* The rack-scale NVLink domain of the workload's GPU (its catalog nvlink_domain) into *dom:
 * dom->gpus stays 0 when it has none beyond an 8-GPU node, or its domains cannot be built
 * (a note on err says why). */
static void domain_option(const struct topo_desc *d, const char *gpu, long gpus,
			  struct domain_option *dom, FILE *err)
{
	struct topo_part p, tray;
	char names[300];

	memset(dom, 0, sizeof(*dom));
	if (topo_catalog_part(d, "gpu", gpu, &p, names, sizeof(names)) || p.nvlink_domain <= 8)
		return;
	if (p.nvlink_domain % DOMAIN_TRAY_GPUS || !(p.nvlink_bw > 0) ||
	    topo_catalog_part(d, "switch", NVLINK_TRAY, &tray, names, sizeof(names)) ||
	    !(tray.speed > 0) || !tray.radix) {
		fprintf(err,
			"arplan sweep: NVLink domains of %u %s left out (expected trays of %d "
			"GPUs, the GPU's nvlink and the catalog's %s)\n",
			p.nvlink_domain, gpu, DOMAIN_TRAY_GPUS, NVLINK_TRAY);
		return;
	}
	if (gpus % p.nvlink_domain) {
		fprintf(err,
			"arplan sweep: NVLink domains of %u %s for %ld GPUs left out (not whole "
			"domains: expected --gpus a multiple of %u)\n",
			p.nvlink_domain, gpu, gpus, p.nvlink_domain);
		return;
	}
	dom->gpus = p.nvlink_domain;
	/* enough trays to carry every GPU's NVLink at once (a GB200 NVL72: 9) */
	dom->switch_trays =
		(unsigned)((double)dom->gpus * p.nvlink_bw / (tray.radix * tray.speed) + 0.999999);
	snprintf(dom->label, sizeof(dom->label), "nvl%u-fat-tree-1to1", dom->gpus);
}

int plan_cmd_sweep(int argc, char **argv, FILE *out, FILE *err)
{
	struct step_opts o = {0};
	struct plan_workload w;
	struct plan_calib calib;
	struct plan_step s[N_OPTIONS + 1];
	struct domain_option none = {0}, dom = {0};
	char names[N_OPTIONS + 1][128], catalog[PATH_MAX], path[] = "/tmp/arplan-sweep.XXXXXX";
	const char *cat_arg;
	double nvlink = 450;
	bool gpu_read = false;
	struct stat st;
	int rc, fd, n = 0, best = -1;

	rc = plan_step_parse("sweep", argc, argv, &o, err);
	if (rc) {
		if (rc > 0)
			help(out);
		return rc > 0 ? PLAN_EXIT_OK : PLAN_EXIT_USAGE;
	}
	rc = plan_step_inputs(&o, &w, &calib, err);
	if (rc)
		return rc;
	if (w.dp) {
		fprintf(err,
			"arplan sweep: %s sets parallel.data %u (expected it left out: each option "
			"has %ld GPUs)\n",
			w.path, w.dp, o.gpus);
		return PLAN_EXIT_USAGE;
	}
	cat_arg = o.catalog ? o.catalog : "configs/catalog";
	if (!realpath(cat_arg, catalog) || stat(catalog, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(err, "arplan sweep: no catalog directory %s (give --catalog DIR)\n",
			cat_arg);
		return PLAN_EXIT_USAGE;
	}
	fd = mkstemp(path);
	if (fd < 0) {
		fprintf(err, "arplan sweep: cannot create a temporary file: %s\n", strerror(errno));
		return PLAN_EXIT_INTERNAL;
	}
	close(fd);
	/* the options, then the GPU's NVLink domains on the first (1:1) fabric when it has any */
	for (size_t i = 0; i <= N_OPTIONS; i++) {
		bool domains = i == N_OPTIONS;
		const struct fabric_option *x = &options[domains ? 0 : i];
		const char *label = domains ? dom.label : x->label;
		long nodes = domains ? o.gpus / DOMAIN_TRAY_GPUS : o.gpus / 8;
		struct topo_desc *d = NULL;
		struct topo_graph *g = NULL;
		struct topo_error te;
		char msg[700];

		if (domains && !dom.gpus)
			break;
		if (build(path, x, nodes, catalog, w.gpu, nvlink, domains ? &dom : &none, &d, &g,
			  &te)) {
			topo_error_format(&te, msg, sizeof(msg));
			fprintf(err, "arplan sweep: %s for %ld GPUs not built, left out (%s)\n",
				label, o.gpus, te.message);
			continue;
		}
		if (!gpu_read) { /* the GPU's NVLink rate from the catalog, for every option */
			struct topo_part p;
			char names_buf[300];

			gpu_read = true;
			domain_option(d, w.gpu, o.gpus, &dom, err);
			if (topo_catalog_part(d, "gpu", w.gpu, &p, names_buf, sizeof(names_buf)) ==
				    0 &&
			    p.nvlink_bw > 0 && p.nvlink_bw / 1e9 != nvlink) {
				nvlink = p.nvlink_bw / 1e9;
				topo_graph_free(g);
				topo_desc_free(d);
				i--;
				continue;
			}
		}
		rc = plan_step_run(&w, d, g, o.calib ? &calib : NULL, &s[n], msg, sizeof(msg));
		snprintf(names[n], sizeof(names[n]), "%s", label);
		topo_graph_free(g);
		topo_desc_free(d);
		if (rc) {
			fprintf(err, "arplan sweep: %s\n", rc == -ENOMEM ? "out of memory" : msg);
			unlink(path);
			return rc == -ENOMEM ? PLAN_EXIT_INTERNAL : PLAN_EXIT_USAGE;
		}
		if (s[n].capex_usd > 0 &&
		    (best < 0 ||
		     s[n].eff_pflops / s[n].capex_usd > s[best].eff_pflops / s[best].capex_usd))
			best = n;
		n++;
	}
	unlink(path);
	if (!n) {
		fprintf(err, "arplan sweep: no fabric option builds for %ld GPUs\n", o.gpus);
		return PLAN_EXIT_USAGE;
	}
	plan_compare_print(out, "sweep", &o, &w, (const char(*)[128])names, s, n);
	if (best >= 0 && !o.json && !o.csv)
		fprintf(out,
			"# cheapest per unit of effective compute: %s, %.3f PFLOP/s per M$ "
			"(MFU %.1f%%, CapEx %.1f M$)\n",
			names[best], s[best].eff_pflops / (s[best].capex_usd / 1e6),
			s[best].mfu * 100, s[best].capex_usd / 1e6);
	return PLAN_EXIT_OK;
}
