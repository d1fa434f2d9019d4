/*
 * cmd_step.c - `arplan step`: one training step of a workload on a topology (step.c's model),
 * as a table or JSON.  Exit 0 ok, 2 bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/cmd_step.h"

static void help(FILE *f)
{
	fprintf(f,
		"usage: arplan step --topo T.yaml --workload W.yaml [--calib C.yaml] [--json]\n"
		"                   [--scale X] [--algo NAME]\n\n"
		"One training step of the workload on the topology: compute from FLOPs (6 x "
		"active\n"
		"parameters + 12 x layers x hidden x sequence per token), the GPU's dense BF16 "
		"peak\n"
		"from the catalog and the workload's matmul efficiency; the pipeline bubble\n"
		"(p-1)/(v m+p-1) (v interleaved stages); tensor-parallel all-reduces and expert\n"
		"all-to-alls (exposed); the data-parallel gradient all-reduce in DDP buckets that\n"
		"become ready during the last micro-batch's backward, each predicted on the\n"
		"topology (flow engine, the fastest of nccl-ring and nccl-tree on GPU nodes),\n"
		"bucket i ending at f_i = max(r_i, f_(i-1)) + c_i; the GPU idle fraction = "
		"exposed\n"
		"communication / step time; the inter-node bandwidth per GPU that fits the\n"
		"all-reduce in the backward window; MFU = matmul efficiency x compute/step x\n"
		"(1 - checkpoint share), the checkpoint interval sqrt(2 x write time x MTBF of "
		"the\n"
		"whole job) from the catalog's failure rates; CapEx and power from the BOM.\n\n"
		"  --topo FILE      topology YAML (configs/README.md)\n"
		"  --workload FILE  workload YAML (configs/README.md, \"Workload files\")\n"
		"  --calib FILE     calibration from `arplan fit`\n"
		"  --json           JSON instead of the table\n"
		"  --scale X        a model X times smaller (0 < X <= 1): compute, gradients,\n"
		"                   bucket size, memory, checkpoint and tensor/expert traffic\n"
		"                   x X, the same tokens; what `arbench overlap --scale X` runs\n"
		"                   (default 1)\n"
		"  --algo NAME      all-reduce the buckets with NAME (ring, tree, hier, rhd,\n"
		"                   nccl-ring, nccl-tree; default: the fastest), e.g. the -A of\n"
		"                   `arbench overlap` on a lab of CPU hosts\n\n"
		"On hosts without GPUs (the emulated lab) every host is one data-parallel rank;\n"
		"the workload's GPU from the catalog sets the compute time.  Tensor and expert\n"
		"groups go inside the GPUs on one NVLink switch: a node, or an NVLink domain of\n"
		"several nodes (fabric.scale_up, e.g. a GB200 NVL72 rack), whose all-reduce node\n"
		"level is then the domain; a larger tensor group spans several (said above the\n"
		"table).  With gpu.follow_topology the topology's GPU replaces the workload's.\n\n"
		"Exit status: 0 ok, 2 bad input.\n");
}

static bool known_algo(const char *name)
{
	for (const char *const *a = plan_algos; *a; a++)
		if (!strcmp(*a, name))
			return true;
	for (const char *const *a = plan_gpu_algos; *a; a++)
		if (!strcmp(*a, name))
			return true;
	return false;
}

int plan_step_parse(const char *cmd, int argc, char **argv, struct step_opts *o, FILE *err)
{
	static const struct option longs[] = {{"topo", required_argument, NULL, 'T'},
					      {"workload", required_argument, NULL, 'W'},
					      {"calib", required_argument, NULL, 'C'},
					      {"json", no_argument, NULL, 'j'},
					      {"csv", no_argument, NULL, 'c'},
					      {"gpus", required_argument, NULL, 'G'},
					      {"catalog", required_argument, NULL, 'K'},
					      {"scale", required_argument, NULL, 'S'},
					      {"algo", required_argument, NULL, 'A'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	bool compare = strcmp(cmd, "compare") == 0, sweep = strcmp(cmd, "sweep") == 0;
	int ch;
	char *end;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
		switch (ch) {
		case 'T':
			if (compare || sweep)
				goto unknown;
			o->topo = optarg;
			break;
		case 'W':
			o->workload = optarg;
			break;
		case 'C':
			o->calib = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'c':
			if (!compare && !sweep)
				goto unknown;
			o->csv = true;
			break;
		case 'G':
			if (!sweep)
				goto unknown;
			o->gpus = strtol(optarg, &end, 10);
			if (*end || o->gpus < 8 || o->gpus > 1 << 20 || o->gpus % 8) {
				fprintf(err,
					"arplan sweep: bad value '%s' for --gpus (expected a "
					"multiple "
					"of 8 GPUs, 8 to 1048576)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'K':
			if (!sweep)
				goto unknown;
			o->catalog = optarg;
			break;
		case 'S':
			if (compare || sweep)
				goto unknown;
			o->scale = strtod(optarg, &end);
			if (*end || end == optarg || !(o->scale > 0 && o->scale <= 1)) {
				fprintf(err,
					"arplan step: bad value '%s' for --scale (expected a "
					"factor 0 < X <= 1, e.g. --scale 0.01)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'A':
			if (compare || sweep)
				goto unknown;
			if (!known_algo(optarg)) {
				fprintf(err,
					"arplan step: unknown algorithm '%s' for --algo (expected "
					"ring, tree, hier, rhd, nccl-ring or nccl-tree)\n",
					optarg);
				return -EINVAL;
			}
			o->algo = optarg;
			break;
		case 'h':
			return 1;
		case ':':
			fprintf(err, "arplan %s: option %s needs a value\n", cmd, argv[optind - 1]);
			return -EINVAL;
		default:
		unknown:
			fprintf(err, "arplan %s: unknown option '%s' (arplan %s --help)\n", cmd,
				argv[optind - 1], cmd);
			return -EINVAL;
		}
	}
	if (compare) {
		o->topos = (const char **)argv + optind;
		o->n_topos = argc - optind;
		if (!o->n_topos) {
			fprintf(err, "arplan compare: no topology given (arplan compare T1.yaml "
				     "T2.yaml ... --workload W.yaml)\n");
			return -EINVAL;
		}
		if (o->json && o->csv) {
			fprintf(err, "arplan compare: --json and --csv: choose one\n");
			return -EINVAL;
		}
	} else if (optind < argc) {
		fprintf(err, "arplan %s: unexpected argument '%s'\n", cmd, argv[optind]);
		return -EINVAL;
	} else if (sweep) {
		if (!o->gpus) {
			fprintf(err, "arplan sweep: --gpus N is required (arplan sweep --help)\n");
			return -EINVAL;
		}
		if (o->json && o->csv) {
			fprintf(err, "arplan sweep: --json and --csv: choose one\n");
			return -EINVAL;
		}
	} else if (!o->topo) {
		fprintf(err, "arplan step: --topo FILE is required (arplan step --help)\n");
		return -EINVAL;
	}
	if (!o->workload) {
		fprintf(err, "arplan %s: --workload FILE is required (arplan %s --help)\n", cmd,
			cmd);
		return -EINVAL;
	}
	return 0;
}

/* Load topo, run the model: PLAN_EXIT_OK, or an exit code after one line on err. */
int plan_step_on(const char *cmd, const char *topo, const struct plan_workload *w,
		 const struct plan_calib *calib, struct plan_step *s, char *name, size_t len,
		 FILE *err)
{
	struct topo_desc *d = NULL;
	struct topo_graph *g = NULL;
	char msg[700];
	int rc;

	rc = plan_load_topology(topo, &d, &g, err);
	if (rc)
		goto out;
	snprintf(name, len, "%s", topo_desc_name(d));
	rc = plan_step_run(w, d, g, calib, s, msg, sizeof(msg));
	if (rc) {
		fprintf(err, "arplan %s: %s\n", cmd, rc == -ENOMEM ? "out of memory" : msg);
		rc = rc == -ENOMEM ? PLAN_EXIT_INTERNAL : PLAN_EXIT_USAGE;
	}
out:
	topo_graph_free(g);
	topo_desc_free(d);
	return rc;
}

/* Workload and calibration: PLAN_EXIT_OK or PLAN_EXIT_USAGE after one line on err. */
int plan_step_inputs(const struct step_opts *o, struct plan_workload *w, struct plan_calib *c,
		     FILE *err)
{
	struct topo_error te;
	char msg[700];
	int ret;

	ret = plan_workload_load(o->workload, w, &te);
	if (!ret && o->scale > 0)
		w->scale = o->scale;
	if (!ret && o->algo)
		snprintf(w->algo, sizeof(w->algo), "%s", o->algo);
	if (!ret && o->calib)
		ret = plan_calib_load(o->calib, c, &te);
	if (ret == -ENOMEM) {
		fprintf(err, "arplan: out of memory\n");
		return PLAN_EXIT_INTERNAL;
	}
	if (ret) {
		topo_error_format(&te, msg, sizeof(msg));
		fprintf(err, "%s\n", msg);
		return PLAN_EXIT_USAGE;
	}
	return PLAN_EXIT_OK;
}

void plan_step_notes(FILE *out, const struct plan_workload *w, const struct plan_step *s)
{
	if (s->domain_gpus)
		fprintf(out,
			"# NVLink domains of %d GPUs (%d nodes): tensor and expert groups go "
			"inside one where they fit; the all-reduce's node level is the domain\n",
			s->domain_gpus, s->domain_nodes);
	if (s->gpu_of_topology)
		fprintf(out, "# GPU: %s, the topology's (the workload names %s)\n", s->gpu, w->gpu);
	if (s->tp_span > 1)
		fprintf(out,
			"# tensor %d is larger than %s of %d GPU%s: it spans %d, and its "
			"all-reduces cross the NIC fabric\n",
			s->tp, s->domain_gpus ? "an NVLink domain" : "a node", s->node_gpus,
			s->node_gpus == 1 ? "" : "s", s->tp_span);
}

/* JSON of one step; infinities (no failure rates, no window) become null. */
static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *plan_step_json(const struct plan_step *s)
{
	json_t *o = json_pack("{s:i, s:i, s:i, s:i, s:i}", "gpus", s->world, "data", s->dp,
			      "tensor", s->tp, "pipeline", s->pp, "expert", s->ep);
	const struct {
		const char *key;
		double v;
	} f[] = {
		{"peak_tflops", s->peak_flops / 1e12},
		{"flops_per_token", s->flops_per_token},
		{"compute_s", s->compute_s},
		{"backward_window_s", s->bwd_window_s},
		{"bubble_s", s->bubble_s},
		{"bubble_fraction", s->bubble_frac},
		{"tensor_parallel_s", s->tp_s},
		{"expert_all_to_all_s", s->ep_s},
		{"gradient_bytes_per_gpu", s->grad_bytes},
		{"memory_gb_per_gpu", s->mem_gb},
		{"bucket_allreduce_s", s->bucket_s},
		{"bucket_busbw", s->bucket_busbw},
		{"allreduce_s", s->allreduce_s},
		{"exposed_s", s->dp_exposed_s},
		{"step_s", s->step_s},
		{"idle_fraction", s->idle_frac},
		{"net_rate_GB_per_s", s->net_rate / 1e9},
		{"hide_rate_GB_per_s", s->hide_rate / 1e9},
		{"tokens_per_s", s->tokens_per_s},
		{"job_mtbf_h", s->job_mtbf_h},
		{"checkpoint_write_s", s->ckpt_write_s},
		{"checkpoint_interval_s", s->ckpt_interval_s},
		{"checkpoint_share", s->ckpt_share},
		{"system_efficiency", s->system_eff},
		{"model_flops_share", s->model_share},
		{"mfu", s->mfu},
		{"days", s->days},
		{"capex_usd", s->capex_usd},
		{"network_usd", s->network_usd},
		{"power_kw", s->kw},
		{"effective_pflops", s->eff_pflops},
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		json_object_set_new(o, f[i].key, num(f[i].v));
	json_object_set_new(o, "buckets", json_integer(s->n_buckets));
	json_object_set_new(o, "bucket_algo", json_string(s->algo));
	if (s->domain_gpus) /* only on topologies with scale-up domains */
		json_object_set_new(
			o, "nvlink_domain",
			json_pack("{s:i, s:i}", "gpus", s->domain_gpus, "nodes", s->domain_nodes));
	if (s->gpu_of_topology)
		json_object_set_new(o, "gpu_of_topology", json_string(s->gpu));
	if (s->tp_span > 1)
		json_object_set_new(o, "tensor_group_spans", json_integer(s->tp_span));
	return o;
}

static void table(FILE *out, const struct plan_workload *w, const char *topo,
		  const struct plan_step *s, bool calib)
{
	fprintf(out, "# arplan step: %s on %s, %d GPUs = data %d x tensor %d x pipeline %d",
		w->name, topo, s->world, s->dp, s->tp, s->pp);
	if (s->ep > 1)
		fprintf(out, " (expert %d inside data)", s->ep);
	fputc('\n', out);
	fprintf(out, "# %s; %s", calib ? "calibrated" : "topology figures (no calibration)",
		w->overlap ? "buckets overlap backward" : "no overlap");
	if (w->scale != 1)
		fprintf(out, "; scaled x %g (compute, gradients, buckets)", w->scale);
	fputc('\n', out);
	plan_step_notes(out, w, s);
	fprintf(out, "compute          %10.3f s   %.3g FLOP/token, peak %.0f TFLOP/s x %.2f\n",
		s->compute_s, s->flops_per_token, s->peak_flops / 1e12, w->matmul_eff);
	fprintf(out, "pipeline bubble  %10.3f s   %.1f%% of compute+bubble ((p-1)/(v m+p-1))\n",
		s->bubble_s, s->bubble_frac * 100);
	fprintf(out, "tensor parallel  %10.3f s   all-reduces, exposed\n", s->tp_s);
	if (s->ep > 1)
		fprintf(out, "expert all2all   %10.3f s   exposed\n", s->ep_s);
	fprintf(out,
		"gradients        %10.3f GB per GPU, %u buckets of %zu B; memory %.1f GB/GPU\n",
		s->grad_bytes / 1e9, s->n_buckets, (size_t)((double)w->bucket_bytes * w->scale),
		s->mem_gb);
	fprintf(out, "bucket all-red.  %10.3f ms  %s, busbw %.3g GB/s over %d ranks\n",
		s->bucket_s * 1e3, s->algo[0] ? s->algo : "-", s->bucket_busbw, s->dp);
	fprintf(out, "all-reduce total %10.3f s   backward window %.3f s\n", s->allreduce_s,
		s->bwd_window_s);
	fprintf(out, "exposed (DP)     %10.3f s   (%.2f ms)\n", s->dp_exposed_s,
		s->dp_exposed_s * 1e3);
	fprintf(out, "step             %10.3f s   %.0f tokens/s\n", s->step_s, s->tokens_per_s);
	fprintf(out, "GPU idle         %10.1f %%   (DP exposed + TP + EP) / step; bubble apart\n",
		s->idle_frac * 100);
	fprintf(out,
		"net per GPU      %10.1f GB/s now; %.1f GB/s fits the all-reduce in backward\n",
		s->net_rate / 1e9, s->hide_rate / 1e9);
	fprintf(out, "job MTBF         %10.1f h   checkpoint %.0f s every %.0f s: %.2f%% lost\n",
		s->job_mtbf_h, s->ckpt_write_s, s->ckpt_interval_s, s->ckpt_share * 100);
	fprintf(out, "MFU              %10.1f %%   = %.2f matmul x %.3f system x %.4f checkpoint",
		s->mfu * 100, w->matmul_eff, s->system_eff, 1 - s->ckpt_share);
	if (s->model_share < 1)
		fprintf(out, " x %.3f recompute", s->model_share);
	fputc('\n', out);
	if (s->days > 0)
		fprintf(out, "days             %10.1f     for %.3g tokens\n", s->days,
			w->train_tokens);
	fprintf(out,
		"CapEx            %10.2f M$  network %.1f%%, %.0f kW (BOM), %.4g PFLOP/s eff.\n",
		s->capex_usd / 1e6, s->capex_usd > 0 ? s->network_usd / s->capex_usd * 100 : 0,
		s->kw, s->eff_pflops);
}

int plan_cmd_step(int argc, char **argv, FILE *out, FILE *err)
{
	struct step_opts o = {0};
	struct plan_workload w;
	struct plan_calib calib;
	struct plan_step s;
	char name[128];
	int rc;

	rc = plan_step_parse("step", argc, argv, &o, err);
	if (rc) {
		if (rc > 0)
			help(out);
		return rc > 0 ? PLAN_EXIT_OK : PLAN_EXIT_USAGE;
	}
	rc = plan_step_inputs(&o, &w, &calib, err);
	if (!rc)
		rc = plan_step_on("step", o.topo, &w, o.calib ? &calib : NULL, &s, name,
				  sizeof(name), err);
	if (rc)
		return rc;
	if (o.json) {
		json_t *doc = json_pack("{s:i, s:s, s:s, s:b, s:f}", "version", 1, "workload",
					w.name, "topology", name, "calibrated", o.calib != NULL,
					"scale", w.scale);

		json_object_set_new(doc, "step", plan_step_json(&s));
		json_dumpf(doc, out, JSON_INDENT(2));
		fputc('\n', out);
		json_decref(doc);
	} else {
		table(out, &w, name, &s, o.calib != NULL);
	}
	return PLAN_EXIT_OK;
}
