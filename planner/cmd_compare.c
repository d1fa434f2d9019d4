/*
 * cmd_compare.c - `arplan compare`: one workload on several topologies side by side (the step
 * model of step.c on each): the bucket all-reduce, GPU idle fraction, MFU, step time, CapEx
 * and power from the bill of materials, effective compute per dollar and per watt, and the
 * network's share of the cost.  Table, JSON or CSV.  Exit 0 ok, 2 bad input.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "planner/cmd_step.h"

static void help(FILE *f)
{
	fprintf(f,
		"usage: arplan compare T1.yaml T2.yaml ... --workload W.yaml [--calib C.yaml]\n"
		"                      [--json|--csv]\n\n"
		"The workload's training step (arplan step) on each topology, side by side.  A\n"
		"workload without parallel.data takes each topology's GPUs / (tensor x "
		"pipeline).\n\n"
		"Columns: GPUs; the all-reduce of one gradient bucket over the data-parallel "
		"group\n"
		"(ms) and its busbw (GB/s); GPU idle fraction (%%); MFU (%%); step time (s); "
		"CapEx\n"
		"(M$) and power (kW) from the bill of materials (GPUs, NICs, switches, optics and\n"
		"cables; no servers, storage or facility); effective PFLOP/s (GPUs x peak x MFU)\n"
		"per M$ and per MW; the network's share of the CapEx (%%).\n\n"
		"Tensor and expert groups are placed inside the GPUs on one NVLink switch: a\n"
		"node, or an NVLink domain of several nodes (fabric.scale_up, e.g. GB200 NVL72).\n"
		"With the workload's gpu.follow_topology, a topology whose nodes name another\n"
		"GPU is run with that GPU's peak, memory and failure rate (said below the "
		"table).\n\n"
		"Exit status: 0 ok, 2 bad input.\n");
}

struct column {
	const char *name, *label, *unit; /* CSV and JSON name; the table's heading and unit */
	int width;
	const char *fmt;
};

static const struct column cols[] = {
	{"gpus", "GPUs", "", 7, "%*.0f"},
	{"bucket_ms", "bucket", "(ms)", 8, "%*.3f"},
	{"busbw", "busbw", "(GB/s)", 7, "%*.1f"},
	{"idle", "idle", "(%)", 6, "%*.1f"},
	{"mfu", "MFU", "(%)", 6, "%*.1f"},
	{"step", "step", "(s)", 7, "%*.2f"},
	{"capex", "CapEx", "(M$)", 8, "%*.1f"},
	{"power", "power", "(kW)", 7, "%*.0f"},
	{"pflops_per_musd", "PF/s/M$", "", 8, "%*.3f"},
	{"pflops_per_mw", "PF/s/MW", "", 8, "%*.1f"},
	{"network_share", "network", "(%)", 8, "%*.1f"},
};
#define N_COLS (sizeof(cols) / sizeof(cols[0]))

static void values(const struct plan_step *s, double *v)
{
	double v2[N_COLS] = {
		s->world,
		s->bucket_s * 1e3,
		s->bucket_busbw,
		s->idle_frac * 100,
		s->mfu * 100,
		s->step_s,
		s->capex_usd / 1e6,
		s->kw,
		s->capex_usd > 0 ? s->eff_pflops / (s->capex_usd / 1e6) : 0,
		s->kw > 0 ? s->eff_pflops / (s->kw / 1e3) : 0,
		s->capex_usd > 0 ? s->network_usd / s->capex_usd * 100 : 0,
	};

	memcpy(v, v2, sizeof(v2));
}

void plan_compare_print(FILE *out, const char *cmd, const struct step_opts *o,
			const struct plan_workload *w, const char (*names)[128],
			const struct plan_step *s, int n)
{
	if (o->json) {
		json_t *doc = json_pack("{s:i, s:s, s:b}", "version", 1, "workload", w->name,
					"calibrated", o->calib != NULL);
		json_t *rows = json_array();

		for (int i = 0; i < n; i++) {
			json_t *x = plan_step_json(&s[i]);
			double v[N_COLS];

			values(&s[i], v);
			json_object_set_new(x, "topology", json_string(names[i]));
			json_object_set_new(x, "pflops_per_musd", json_real(v[8]));
			json_object_set_new(x, "pflops_per_mw", json_real(v[9]));
			json_object_set_new(x, "network_share", json_real(v[10] / 100));
			json_array_append_new(rows, x);
		}
		json_object_set_new(doc, "topologies", rows);
		json_dumpf(doc, out, JSON_INDENT(2));
		fputc('\n', out);
		json_decref(doc);
		return;
	}
	if (o->csv) {
		fputs("topology", out);
		for (size_t c = 0; c < N_COLS; c++)
			fprintf(out, ",%s", cols[c].name);
		fputc('\n', out);
	} else {
		fprintf(out, "# arplan %s: %s, %s\n", cmd, w->name,
			o->calib ? "calibrated" : "topology figures (no calibration)");
		fprintf(out, "#%-27s", "topology");
		for (size_t c = 0; c < N_COLS; c++)
			fprintf(out, " %*s", cols[c].width, cols[c].label);
		fprintf(out, "\n#%-27s", "");
		for (size_t c = 0; c < N_COLS; c++)
			fprintf(out, " %*s", cols[c].width, cols[c].unit);
		fputc('\n', out);
	}
	for (int i = 0; i < n; i++) {
		double v[N_COLS];

		values(&s[i], v);
		fprintf(out, o->csv ? "%s" : "%-28s", names[i]);
		for (size_t c = 0; c < N_COLS; c++) {
			if (o->csv)
				fprintf(out, ",%.6g", v[c]);
			else {
				fputc(' ', out);
				fprintf(out, cols[c].fmt, cols[c].width, v[c]);
			}
		}
		fputc('\n', out);
	}
	for (int i = 0; !o->csv && i < n; i++) { /* only for what some topologies have */
		if (s[i].domain_gpus)
			fprintf(out,
				"# %s: NVLink domains of %d GPUs (%d nodes) hold the tensor and "
				"expert groups\n",
				names[i], s[i].domain_gpus, s[i].domain_nodes);
		if (s[i].gpu_of_topology)
			fprintf(out, "# %s: GPU %s, the topology's (the workload names %s)\n",
				names[i], s[i].gpu, w->gpu);
		if (s[i].tp_span > 1)
			fprintf(out,
				"# %s: tensor %d spans %d groups of %d GPU%s on one NVLink switch: "
				"its all-reduces cross the NIC fabric\n",
				names[i], s[i].tp, s[i].tp_span, s[i].node_gpus,
				s[i].node_gpus == 1 ? "" : "s");
	}
}

int plan_cmd_compare(int argc, char **argv, FILE *out, FILE *err)
{
	struct step_opts o = {0};
	struct plan_workload w;
	struct plan_calib calib;
	struct plan_step *s = NULL;
	char(*names)[128] = NULL;
	int rc;

	rc = plan_step_parse("compare", argc, argv, &o, err);
	if (rc) {
		if (rc > 0)
			help(out);
		return rc > 0 ? PLAN_EXIT_OK : PLAN_EXIT_USAGE;
	}
	rc = plan_step_inputs(&o, &w, &calib, err);
	if (rc)
		return rc;
	s = calloc((size_t)o.n_topos, sizeof(*s));
	names = calloc((size_t)o.n_topos, sizeof(*names));
	if (!s || !names) {
		fprintf(err, "arplan compare: out of memory\n");
		rc = PLAN_EXIT_INTERNAL;
		goto out;
	}
	for (int i = 0; i < o.n_topos; i++) {
		rc = plan_step_on("compare", o.topos[i], &w, o.calib ? &calib : NULL, &s[i],
				  names[i], sizeof(names[i]), err);
		if (rc)
			goto out;
	}
	plan_compare_print(out, "compare", &o, &w, (const char(*)[128])names, s, o.n_topos);
	rc = PLAN_EXIT_OK;
out:
	free(s);
	free(names);
	return rc;
}
