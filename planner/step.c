/*
 * step.c - one training step of a workload on a topology (DESIGN.md, "Planner model",
 * Workload): compute from FLOPs, the GPU's peak and the achieved matmul efficiency; the pipeline
 * bubble; tensor-parallel all-reduces and expert all-to-alls on the critical path; the
 * data-parallel gradient all-reduce in DDP buckets that become ready during backward, each
 * predicted by the flow engine on the data-parallel group as the degrees place it, bucket i
 * finishing at f_i = max(r_i, f_{i-1}) + c_i; the GPU idle fraction; checkpoints from the
 * catalog's failure rates; CapEx and power from the bill of materials.
 *
 * Placement: ranks are numbered tensor fastest, then data, then pipeline, and fill the graph's
 * nodes in order; a graph node is the set of GPUs on one NVLink switch: a node, or a scale-up
 * domain (a GB200 NVL72 rack) where the topology has them.  So a tensor group and an expert
 * group that fit run at NVLink rate (larger ones cross the NICs, said in the output), and the
 * data-parallel all-reduce's node level (NCCL's ring and tree across nodes) is the domain.
 * With gpu.follow_topology the GPU is the topology's where its nodes name another catalog GPU.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

double plan_bubble(int p, int m)
{
	return p > 1 && m > 0 ? (double)(p - 1) / (double)(m + p - 1) : 0;
}

double plan_ckpt_interval(double cost_s, double mtbf_s)
{
	return sqrt(2 * cost_s * mtbf_s);
}

double plan_ckpt_share(double cost_s, double mtbf_s)
{
	double tau = plan_ckpt_interval(cost_s, mtbf_s), share;

	if (!(cost_s > 0) || !isfinite(mtbf_s))
		return 0;
	if (!(mtbf_s > 0))
		return 1;
	share = cost_s / tau + tau / (2 * mtbf_s);
	return share < 1 ? share : 1;
}

double plan_bucket_finish(const double *ready, const double *cost, size_t n)
{
	double f = 0;

	for (size_t i = 0; i < n; i++)
		f = (ready[i] > f ? ready[i] : f) + cost[i];
	return f;
}

/* The catalog kind of a bill-of-materials line ("switch (tier 0)" -> "switch"). */
static const struct {
	const char *prefix, *kind;
} bom_kinds[] = {
	{"GPU", "gpu"},
	{"NIC", "nic"},
	{"switch", "switch"},
	{"media", "media"},
};

/* CapEx, power, network share and failures per 1e9 hours of everything but the GPUs; the
 * topology's GPU model into gpu[len] ("" when it names none, or more than one). */
static int bill(const struct topo_desc *d, const struct topo_graph *g, struct plan_step *o,
		double *other_fit, char *gpu, size_t len)
{
	bool mixed = false;
	struct topo_bom_line *lines = NULL;
	size_t n = 0;
	int ret = topo_bom(d, g, &lines, &n);

	*other_fit = 0;
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		const struct topo_bom_line *l = &lines[i];
		double usd = l->unit_price_usd * (double)l->count;

		o->capex_usd += usd;
		o->kw += l->unit_watts * (double)l->count / 1e3;
		if (strcmp(l->what, "GPU") == 0 && strcmp(l->part, "(unspecified)")) {
			mixed = mixed || (gpu[0] && strcmp(gpu, l->part));
			snprintf(gpu, len, "%s", l->part);
		}
		if (strcmp(l->what, "GPU") == 0 || strcmp(l->part, "(unspecified)") == 0)
			continue;
		o->network_usd += usd;
		for (size_t k = 0; k < sizeof(bom_kinds) / sizeof(bom_kinds[0]); k++) {
			struct topo_part p;
			char names[256];

			if (strncmp(l->what, bom_kinds[k].prefix, strlen(bom_kinds[k].prefix)) ||
			    topo_catalog_part(d, bom_kinds[k].kind, l->part, &p, names,
					      sizeof(names)))
				continue;
			*other_fit += p.fit * (double)l->count;
			break;
		}
	}
	free(lines);
	if (mixed)
		gpu[0] = 0;
	return 0;
}

/* A context for ranks at global positions pos[0..n) (node = pos / per_node). */
static int group_ctx(const struct topo_graph *g, const struct plan_calib *calib, const int *pos,
		     int n, int per_node, struct plan_ctx **ctx, char *msg, size_t len)
{
	int *node = malloc(sizeof(int) * (size_t)n);
	int ret;

	if (!node)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		node[i] = pos[i] / per_node;
	/* nodes numbered from 0 in order: the group's first node is node 0 of the topology */
	struct plan_setup s = {.g = g, .ranks = n, .node_of_rank = node, .calib = calib};

	ret = plan_ctx_new(&s, ctx, msg, len);
	free(node);
	return ret;
}

/* The fastest of the algorithms for one all-reduce of bytes: NCCL's forms on GPU nodes, the
 * library's on CPU hosts; only the one named by only when it is not NULL or "". */
static int fastest(struct plan_ctx *ctx, bool gpus, const char *only, size_t bytes, double *t,
		   char *algo, size_t len)
{
	const char *const one[] = {only, NULL};
	const char *const *list = only && *only ? one : gpus ? plan_gpu_algos : plan_algos;
	size_t n = bytes < 4 ? 4 : bytes - bytes % 4; /* whole float elements */
	int ret = 0;

	*t = INFINITY;
	for (const char *const *a = list; *a; a++) {
		struct plan_prediction p;

		ret = plan_predict(ctx, *a, n, 4, &p);
		if (ret)
			return ret;
		if (p.time_s < *t) {
			*t = p.time_s;
			if (algo)
				snprintf(algo, len, "%s", *a);
		}
	}
	return 0;
}

/* The bytes/s of a GPU's in-node link (NVLink), 0 when there is none. */
static double intra_rate(const struct topo_graph *g)
{
	for (uint64_t l = 0; l < g->n_links; l++) {
		const struct topo_link *k = &g->links[l];

		if (k->cls == TOPO_L_INTRA &&
		    (g->vertices[k->a].kind == TOPO_V_GPU || g->vertices[k->b].kind == TOPO_V_GPU))
			return k->bandwidth;
	}
	return 0;
}

/* The catalog figures of GPU name into *gpu (the peak checked): 0 or -EINVAL/-ENOMEM with msg
 * (not in the catalog, no catalog, no bf16_tflops). */
static int gpu_part(const struct plan_workload *w, const struct topo_desc *d, const char *name,
		    struct topo_part *gpu, char *msg, size_t len)
{
	char names[400];
	int ret = topo_catalog_part(d, "gpu", name, gpu, names, sizeof(names));

	if (ret == -ENOENT) {
		snprintf(msg, len, "%s: GPU '%s' is not in the catalog of %s (expected one of: %s)",
			 w->path, name, topo_desc_name(d), names);
		return -EINVAL;
	}
	if (ret) {
		snprintf(msg, len, "%s: GPU '%s': %s", w->path, name,
			 ret == -EINVAL ? names : strerror(-ret));
		return ret == -ENOMEM ? ret : -EINVAL;
	}
	if (!(gpu->bf16_tflops > 0)) {
		snprintf(msg, len, "%s: GPU '%s' has no bf16_tflops in the catalog", w->path, name);
		return -EINVAL;
	}
	return 0;
}

/* Checks of the degrees against the topology (nodes of per_node GPUs, called nodes_word), the
 * GPU against the catalog and memory.  The GPU is the workload's, or topo_gpu when it is given
 * and another model: the topology's nodes are what would be bought and run. */
static int resolve(const struct plan_workload *w, const struct topo_desc *d, unsigned nodes,
		   int per_node, const char *nodes_word, const char *topo_gpu, struct plan_step *o,
		   struct topo_part *gpu, char *msg, size_t len)
{
	int gpus = (int)nodes * per_node;
	int ret;
	double shard, opt;

	o->tp = (int)w->tp;
	o->pp = (int)w->pp;
	o->ep = (int)w->ep;
	o->dp = w->dp ? (int)w->dp : gpus / (o->tp * o->pp);
	o->world = o->dp * o->tp * o->pp;
	if (o->world != gpus || o->dp < 1) {
		snprintf(msg, len,
			 "%s: parallel degrees data %d x tensor %d x pipeline %d = %d GPUs, but %s "
			 "has %d (%u %s x %d)",
			 w->path, o->dp, o->tp, o->pp, o->world, topo_desc_name(d), gpus, nodes,
			 nodes_word, per_node);
		return -EINVAL;
	}
	if (w->global_tokens / ((double)o->dp * w->micro_batches) < w->seq_len) {
		snprintf(
			msg, len,
			"%s: %.0f tokens per step over data %d x %u micro-batches is less than one "
			"sequence of %u per micro-batch (expected a larger global_batch_tokens, "
			"fewer micro_batches or more tensor/pipeline parallelism)",
			w->path, w->global_tokens, o->dp, w->micro_batches, w->seq_len);
		return -EINVAL;
	}
	if (o->dp % o->ep) {
		snprintf(msg, len, "%s: expert parallel %d does not divide data parallel %d",
			 w->path, o->ep, o->dp);
		return -EINVAL;
	}
	ret = gpu_part(w, d, w->gpu, gpu, msg, len);
	if (ret)
		return ret;
	snprintf(o->gpu, sizeof(o->gpu), "%s", w->gpu);
	if (topo_gpu && topo_gpu[0] && strcmp(topo_gpu, w->gpu)) {
		ret = gpu_part(w, d, topo_gpu, gpu, msg, len);
		if (ret)
			return ret;
		snprintf(o->gpu, sizeof(o->gpu), "%s", topo_gpu);
		o->gpu_of_topology = true;
	}
	o->peak_flops = gpu->bf16_tflops * 1e12;
	shard = w->params * w->scale / ((double)o->tp * o->pp * o->ep);
	opt = w->params * w->scale * w->optimizer_bytes /
	      ((double)o->tp * o->pp * (w->shard_optimizer ? o->dp : o->ep));
	o->grad_bytes = shard * w->grad_bytes;
	o->mem_gb = (shard * (w->param_bytes + w->grad_bytes) + opt) / 1e9;
	if (gpu->memory_gb > 0 && o->mem_gb > gpu->memory_gb) {
		snprintf(
			msg, len,
			"%s: the model does not fit: %.0f GB per GPU of weights, gradients and "
			"optimizer states at tensor %d x pipeline %d x expert %d%s, %s has %.0f GB "
			"(expected more tensor or pipeline parallelism%s)",
			w->path, o->mem_gb, o->tp, o->pp, o->ep,
			w->shard_optimizer ? " (optimizer sharded)" : "", o->gpu, gpu->memory_gb,
			w->shard_optimizer ? "" : ", or shard_optimizer: true");
		return -EINVAL;
	}
	return 0;
}

/* The data-parallel all-reduce of the timeline's buckets.  The tensor-parallel ranks of a
 * pipeline stage run their data-parallel all-reduces at the same time, each on its own GPUs and
 * NICs: modelled as one NCCL all-reduce of tp buckets over the stage's dp x tp GPUs (the same
 * bytes through every NIC, and the fabric sees all of them at once).  Ranks: tensor fastest,
 * then data, then pipeline, so stage 0 is the block of the first dp x tp GPUs. */
static int data_parallel(const struct plan_workload *w, const struct topo_graph *g,
			 const struct plan_calib *calib, const struct plan_timeline *t,
			 struct plan_step *o, char *msg, size_t len)
{
	int per_node = g->gpus_per_node ? (int)g->gpus_per_node : 1;
	int n = o->dp * o->tp, nodes, ret;
	size_t nb = t->n_buckets;
	double *cost = NULL, last_s, net_max, window = o->bwd_window_s;
	bool gpus = g->gpus_per_node > 0;
	struct plan_ctx *ctx = NULL;
	int *pos = malloc(sizeof(int) * (size_t)n);

	if (!pos)
		return -ENOMEM;
	for (int j = 0; j < n; j++)
		pos[j] = j;
	ret = group_ctx(g, calib, pos, n, per_node, &ctx, msg, len);
	free(pos);
	if (ret)
		return ret;
	plan_ctx_rates(ctx, &o->net_rate, &net_max, &nodes);
	o->n_buckets = (unsigned)nb;
	if (o->dp < 2 || !nb)
		goto out;
	ret = fastest(ctx, gpus, w->algo, (size_t)t->bucket_bytes * (size_t)o->tp, &o->bucket_s,
		      o->algo, sizeof(o->algo));
	if (!ret)
		ret = fastest(ctx, gpus, w->algo, (size_t)t->bytes[nb - 1] * (size_t)o->tp, &last_s,
			      NULL, 0);
	if (ret == -ENOENT)
		snprintf(msg, len,
			 "unknown algorithm '%s' (expected one of ring, tree, hier, rhd, "
			 "nccl-ring, nccl-tree)",
			 w->algo);
	if (ret)
		goto out;
	/* busbw of one data-parallel group's bucket */
	o->bucket_busbw = t->bucket_bytes / o->bucket_s / 1e9 * 2.0 * (o->dp - 1) / o->dp;
	cost = malloc(sizeof(double) * nb);
	if (!cost) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nb; i++) {
		cost[i] = i + 1 < nb ? o->bucket_s : last_s;
		o->allreduce_s += cost[i];
	}
	o->dp_exposed_s = fmax(0, plan_bucket_finish(t->ready_s, cost, nb) - t->bwd_end_s);
	o->hide_rate = window > 0 ? o->net_rate * o->allreduce_s / window : INFINITY;
out:
	free(cost);
	plan_ctx_free(ctx);
	return ret;
}

/* Tensor-parallel all-reduces (4 per layer and micro-batch: 2 forward, 2 backward, of the
 * micro-batch's activations) and expert all-to-alls (4 per MoE layer and micro-batch:
 * dispatch and combine, forward and backward), all on the critical path. */
static int model_parallel(const struct plan_workload *w, const struct topo_graph *g,
			  const struct plan_calib *calib, struct plan_step *o, char *msg,
			  size_t len)
{
	int per_node = g->gpus_per_node ? (int)g->gpus_per_node : 1;
	double mb_tokens = w->global_tokens / ((double)o->dp * w->micro_batches);
	double act = mb_tokens * w->hidden * 2.0 * w->scale; /* bf16 activations */
	double calls = (double)w->layers / o->pp * w->micro_batches;
	int ret = 0;

	if (!w->hidden || !w->layers)
		return 0; /* no shapes: nothing to size the activations by */
	if (o->tp > 1) {
		struct plan_ctx *ctx = NULL;
		int *pos = malloc(sizeof(int) * (size_t)o->tp);
		double t;

		if (!pos)
			return -ENOMEM;
		for (int i = 0; i < o->tp; i++)
			pos[i] = i;
		ret = group_ctx(g, calib, pos, o->tp, per_node, &ctx, msg, len);
		free(pos);
		if (!ret)
			ret = fastest(ctx, g->gpus_per_node > 0, NULL, (size_t)act, &t, NULL, 0);
		plan_ctx_free(ctx);
		if (ret)
			return ret;
		o->tp_s = 4 * calls * t;
	}
	if (w->experts > 1 && o->ep > 1) {
		/* each GPU sends (ep-1)/ep of its tokens' top_k copies; in-node when the expert
		 * group (ep consecutive data ranks, tp apart) fits in a node */
		double rate = o->tp * o->ep <= per_node ? intra_rate(g) : o->net_rate;
		double bytes = act * w->top_k * (o->ep - 1) / o->ep;

		if (rate > 0)
			o->ep_s = 4 * calls * bytes / rate;
	}
	return 0;
}

/* Where the groups go: a tensor group fills graph nodes from the first (the GPUs on one NVLink
 * switch: a node, or a scale-up domain); one larger than a graph node spans tp_span of them
 * and its all-reduces cross the NIC fabric (said in the output).  Sets the domain figures. */
static void placement(const struct topo_graph *g, struct plan_step *o)
{
	int per_node = (int)g->gpus_per_node;

	if (g->domain_nodes) {
		o->domain_gpus = per_node;
		o->domain_nodes = (int)g->domain_nodes;
	}
	o->node_gpus = per_node;
	o->tp_span = per_node ? (o->tp + per_node - 1) / per_node : 1;
}

void plan_timeline_free(struct plan_timeline *t)
{
	free(t->bytes);
	free(t->ready_s);
	t->bytes = t->ready_s = NULL;
	t->n_buckets = 0;
}

int plan_step_timeline(const struct plan_workload *w, struct plan_step *o, struct plan_timeline *t)
{
	/* bucket count from the unscaled sizes: scaling both must not add a sliver of a bucket */
	double grad = o->grad_bytes / w->scale;
	size_t nb = (size_t)ceil(grad / (double)w->bucket_bytes);

	memset(t, 0, sizeof(*t));
	snprintf(t->workload, sizeof(t->workload), "%s", w->name);
	o->flops_per_token = 6 * w->active_params;
	if (w->layers && w->hidden) /* attention scores (PaLM, appendix B) */
		o->flops_per_token += 12.0 * w->layers * (double)w->hidden * w->seq_len;
	o->flops_per_token *= w->scale; /* a model scale times smaller, on the same tokens */
	/* full activation recomputation runs the forward (1/3 of the model's FLOPs) again */
	o->model_share = w->passes ? 3.0 / w->passes : 1;
	o->compute_s = o->flops_per_token * w->global_tokens /
		       (o->world * o->peak_flops * w->matmul_eff * o->model_share);
	/* interleaved 1F1B with v stages per GPU: bubble (p - 1) / v micro-batch times */
	o->bubble_frac = plan_bubble(o->pp, (int)(w->vstages * w->micro_batches));
	o->bubble_s = o->compute_s * (o->pp - 1) / ((double)w->vstages * w->micro_batches);
	/* backward (and any recomputed forward) is all passes but the first; the last
	 * micro-batch's backward ends the step's compute */
	o->bwd_window_s = o->compute_s * (1 - o->model_share / 3) / w->micro_batches;
	t->world = o->dp;
	t->scale = w->scale;
	t->compute_s = o->compute_s;
	t->window_s = o->bwd_window_s;
	t->bwd_end_s = o->compute_s + o->bubble_s;
	t->grad_bytes = o->grad_bytes;
	t->bucket_bytes = (double)w->bucket_bytes * w->scale;
	t->micro_batches = w->micro_batches;
	t->overlap = w->overlap;
	if (!nb)
		return 0;
	t->bytes = malloc(sizeof(double) * nb);
	t->ready_s = malloc(sizeof(double) * nb);
	if (!t->bytes || !t->ready_s) {
		plan_timeline_free(t);
		return -ENOMEM;
	}
	t->n_buckets = nb;
	for (size_t i = 0; i < nb; i++) {
		double done = i + 1 < nb ? (double)(i + 1) * (double)w->bucket_bytes : grad;

		t->bytes[i] = (done - (double)i * (double)w->bucket_bytes) * w->scale;
		/* gradients appear at an even rate over the last micro-batch's backward */
		t->ready_s[i] = w->overlap ? t->bwd_end_s - t->window_s + t->window_s * done / grad
					   : t->bwd_end_s;
	}
	return 0;
}

int plan_timeline_load(const char *workload_path, const char *topo_path, int world, double scale,
		       struct plan_timeline *out, char *msg, size_t msglen)
{
	struct plan_workload w;
	struct topo_desc *d = NULL;
	struct topo_error te;
	struct topo_part gpu;
	struct plan_step o;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	ret = plan_workload_load(workload_path, &w, &te);
	if (!ret)
		ret = topo_load(topo_path, &d, &te);
	if (ret) {
		if (ret == -ENOMEM)
			goto out;
		topo_error_format(&te, msg, msglen);
		ret = -EINVAL;
		goto out;
	}
	if (w.tp != 1 || w.pp != 1 || w.ep != 1) {
		snprintf(msg, msglen,
			 "%s: tensor %u x pipeline %u x expert %u: only data parallelism is "
			 "emulated (expected parallel: {tensor: 1, pipeline: 1, expert: 1})",
			 workload_path, w.tp, w.pp, w.ep);
		ret = -EINVAL;
		goto out;
	}
	if (w.dp && (int)w.dp != world) {
		snprintf(msg, msglen,
			 "%s: parallel.data is %u but the run has %d ranks (expected as many "
			 "ranks as data-parallel GPUs, or no parallel.data)",
			 workload_path, w.dp, world);
		ret = -EINVAL;
		goto out;
	}
	if (!(scale > 0 && scale <= 1)) {
		snprintf(msg, msglen, "scale %g is out of range (expected 0 < scale <= 1)", scale);
		ret = -EINVAL;
		goto out;
	}
	w.scale = scale;
	ret = resolve(&w, d, (unsigned)world, 1, "nodes", NULL, &o, &gpu, msg, msglen);
	if (!ret)
		ret = plan_step_timeline(&w, &o, out);
out:
	topo_desc_free(d);
	return ret;
}

int plan_step_run(const struct plan_workload *w, const struct topo_desc *d,
		  const struct topo_graph *g, const struct plan_calib *calib, struct plan_step *o,
		  char *msg, size_t msglen)
{
	struct topo_part gpu;
	struct plan_timeline t;
	double other_fit, fit, comm;
	char topo_gpu[64] = "";
	int ret, per_node = g->gpus_per_node ? (int)g->gpus_per_node : 1;

	memset(o, 0, sizeof(*o));
	ret = bill(d, g, o, &other_fit, topo_gpu, sizeof(topo_gpu));
	if (ret)
		return ret;
	ret = resolve(w, d, g->n_nodes, per_node, g->domain_nodes ? "NVLink domains" : "nodes",
		      w->gpu_follow_topology ? topo_gpu : NULL, o, &gpu, msg, msglen);
	if (ret)
		return ret;
	placement(g, o);
	ret = plan_step_timeline(w, o, &t);
	if (ret)
		return ret;
	ret = data_parallel(w, g, calib, &t, o, msg, msglen);
	plan_timeline_free(&t);
	if (!ret)
		ret = model_parallel(w, g, calib, o, msg, msglen);
	if (ret)
		return ret;
	comm = o->dp_exposed_s + o->tp_s + o->ep_s;
	o->step_s = o->compute_s + o->bubble_s + comm;
	o->idle_frac = comm / o->step_s;
	o->tokens_per_s = w->global_tokens / o->step_s;
	fit = gpu.fit * o->world + other_fit;
	o->job_mtbf_h = fit > 0 ? 1e9 / fit : INFINITY;
	o->ckpt_write_s = w->ckpt_rate > 0 ? w->ckpt_bytes * w->scale / w->ckpt_rate : 0;
	o->ckpt_interval_s = plan_ckpt_interval(o->ckpt_write_s, o->job_mtbf_h * 3600);
	o->ckpt_share = plan_ckpt_share(o->ckpt_write_s, o->job_mtbf_h * 3600);
	o->system_eff = o->compute_s / o->step_s;
	o->mfu = w->matmul_eff * o->system_eff * o->model_share * (1 - o->ckpt_share);
	o->eff_pflops = o->world * o->peak_flops * o->mfu / 1e15;
	if (w->train_tokens > 0 && o->ckpt_share < 1)
		o->days = w->train_tokens / (o->tokens_per_s * (1 - o->ckpt_share)) / 86400;
	return 0;
}
