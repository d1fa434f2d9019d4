/*
 * cmd_sweep.c - `arplan sweep --workload W.yaml --gpus N`: builds the usual fabric options for N
 * GPUs itself (fat-tree 1:1, 2:1, 3:1, rail-optimized, rail-only, each on nodes of 8 of the
 * workload's GPUs with 8 ConnectX-7 400G NICs), runs the step model on each and prints them as
 * `arplan compare` does, with the cheapest per unit of effective compute.  Each option is
 * written as a topology YAML file (a temporary file naming the catalog) and loaded the usual
 * way; the first (switch, tiers) that builds is taken: QM9700 in 2 then 3 tiers, then
 * TH5-128x400G.  Exit 0 ok, 2 bad input.
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
		"OSFP-400G-SR4 optics, DR4 on a third tier; QM9700 switches in 2 or 3 tiers, else\n"
		"TH5-128x400G), run `arplan step` on each and print them side by side as `arplan\n"
		"compare` does, then the cheapest per unit of effective compute (PFLOP/s per M$).\n"
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

/* Write option x for nodes nodes as a topology YAML file. */
static int write_yaml(const char *path, const struct fabric_option *x, long nodes, unsigned a,
		      const char *catalog, const char *gpu, double nvlink)
{
	FILE *f = fopen(path, "w");
	unsigned tiers = attempts[a].tiers;

	if (!f)
		return -errno;
	fprintf(f,
		"name: %s\n"
		"catalog: %s\n"
		"node_types:\n"
		"  - {name: node, gpus: 8, gpu_model: %s, intra: {nvlink: %.6gGB/s, pcie_gen: 5, "
		"pcie_width: 16, latency: 1us}, nics: {count: 8, speed: 400Gbit, model: "
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
	fprintf(f, "link_classes:\n  host:  {rate: 400Gbit, latency: 1us, media: OSFP-400G-SR4}\n");
	if (!x->rails || attempts[a].tier1)
		fprintf(f, "  tier1: {rate: 400Gbit, latency: 1us, media: OSFP-400G-SR4}\n");
	if (tiers == 3 && !x->rails)
		fprintf(f, "  tier2: {rate: 400Gbit, latency: 1us, media: OSFP-400G-DR4}\n");
	return fclose(f) ? -EIO : 0;
}

/* Build option x: the first attempt that loads and expands.  0, or -EINVAL when none does. */
static int build(const char *path, const struct fabric_option *x, long nodes, const char *catalog,
		 const char *gpu, double nvlink, struct topo_desc **d, struct topo_graph **g,
		 struct topo_error *te)
{
	for (unsigned a = 0; a < sizeof(attempts) / sizeof(attempts[0]); a++) {
		if ((x->rails && attempts[a].tiers == 3) || (!x->rails && !attempts[a].tier1))
			continue; /* rail-only has 1 or 2 tiers; the others always give tier1 */
		if (write_yaml(path, x, nodes, a, catalog, gpu, nvlink))
			return -EIO;
		if (topo_load(path, d, te) == 0 && topo_expand(*d, g, te) == 0)
			return 0;
		topo_desc_free(*d);
		*d = NULL;
	}
	return -EINVAL;
}

int plan_cmd_sweep(int argc, char **argv, FILE *out, FILE *err)
{
	struct step_opts o = {0};
	struct plan_workload w;
	struct plan_calib calib;
	struct plan_step s[N_OPTIONS];
	char names[N_OPTIONS][128], catalog[PATH_MAX], path[] = "/tmp/arplan-sweep.XXXXXX";
	const char *cat_arg;
	double nvlink = 450;
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
	for (size_t i = 0; i < N_OPTIONS; i++) {
		struct topo_desc *d = NULL;
		struct topo_graph *g = NULL;
		struct topo_error te;
		char msg[700];

		if (build(path, &options[i], o.gpus / 8, catalog, w.gpu, nvlink, &d, &g, &te)) {
			topo_error_format(&te, msg, sizeof(msg));
			fprintf(err, "arplan sweep: %s for %ld GPUs not built, left out (%s)\n",
				options[i].label, o.gpus, te.message);
			continue;
		}
		if (i == 0) { /* the GPU's NVLink rate from the catalog, for every option */
			struct topo_part p;
			char names_buf[300];

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
		snprintf(names[n], sizeof(names[n]), "%s", options[i].label);
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
