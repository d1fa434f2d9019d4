/*
 * workload.c - training workload files (configs/README.md, "Workload files"): the model, the
 * batch, the GPU and its achieved matmul efficiency, the parallel degrees, DDP's buckets and the
 * checkpoint.  Loaded with libcyaml; errors as topology and calibration files give them,
 * "file:line:column: path: message (expected FORM)" (topo_yaml_load).
 */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "planner/internal.h"
#include "planner/yamlerr.h"

#define WORKLOAD_SCHEMA 1

struct cy_model {
	double *params, *active_params;
	unsigned layers, hidden, heads, vocab, seq_len, experts, top_k;
};

struct cy_training {
	double global_batch_tokens;
	double *tokens;
	unsigned micro_batches;
	int grad_dtype, param_dtype;
	double *optimizer_bytes_per_param;
	bool shard_optimizer;
	int recompute;
};

struct cy_gpu {
	char *model;
	double matmul_efficiency;
	bool *follow_topology;
};

struct cy_parallel {
	unsigned data, tensor, pipeline, expert, virtual_stages;
};

struct cy_ddp {
	char *bucket;
	bool *overlap;
};

struct cy_ckpt {
	char *size, *write_bandwidth;
};

struct cy_top {
	unsigned version;
	char *name;
	struct cy_model *model;
	struct cy_training *training;
	struct cy_gpu *gpu;
	struct cy_parallel *parallel;
	struct cy_ddp *ddp;
	struct cy_ckpt *checkpoint;
};

#define OPT (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)
#define STR(key, flags, type, member)                                                              \
	CYAML_FIELD_STRING_PTR(key, flags, type, member, 0, CYAML_UNLIMITED)

static const cyaml_schema_field_t model_fields[] = {
	CYAML_FIELD_FLOAT_PTR("params", OPT, struct cy_model, params),
	CYAML_FIELD_FLOAT_PTR("active_params", OPT, struct cy_model, active_params),
	CYAML_FIELD_UINT("layers", CYAML_FLAG_OPTIONAL, struct cy_model, layers),
	CYAML_FIELD_UINT("hidden", CYAML_FLAG_OPTIONAL, struct cy_model, hidden),
	CYAML_FIELD_UINT("heads", CYAML_FLAG_OPTIONAL, struct cy_model, heads),
	CYAML_FIELD_UINT("vocab", CYAML_FLAG_OPTIONAL, struct cy_model, vocab),
	CYAML_FIELD_UINT("seq_len", CYAML_FLAG_DEFAULT, struct cy_model, seq_len),
	CYAML_FIELD_UINT("experts", CYAML_FLAG_OPTIONAL, struct cy_model, experts),
	CYAML_FIELD_UINT("top_k", CYAML_FLAG_OPTIONAL, struct cy_model, top_k),
	CYAML_FIELD_END,
};

/* Bytes per element of each dtype. */
static const cyaml_strval_t dtype_strings[] = {
	{"fp32", 4},
	{"bf16", 2},
	{"fp16", 2},
	{"fp8", 1},
};

/* Passes over the layers per micro-batch: forward, backward (2), and with full activation
 * recomputation the forward again during backward (Megatron's factor 4 instead of 3). */
static const cyaml_strval_t recompute_strings[] = {
	{"none", 3},
	{"full", 4},
};

static const cyaml_schema_field_t training_fields[] = {
	CYAML_FIELD_FLOAT("global_batch_tokens", CYAML_FLAG_DEFAULT, struct cy_training,
			  global_batch_tokens),
	CYAML_FIELD_FLOAT_PTR("tokens", OPT, struct cy_training, tokens),
	CYAML_FIELD_UINT("micro_batches", CYAML_FLAG_OPTIONAL, struct cy_training, micro_batches),
	CYAML_FIELD_ENUM("grad_dtype", CYAML_FLAG_STRICT | CYAML_FLAG_OPTIONAL, struct cy_training,
			 grad_dtype, dtype_strings, CYAML_ARRAY_LEN(dtype_strings)),
	CYAML_FIELD_ENUM("param_dtype", CYAML_FLAG_STRICT | CYAML_FLAG_OPTIONAL, struct cy_training,
			 param_dtype, dtype_strings, CYAML_ARRAY_LEN(dtype_strings)),
	CYAML_FIELD_FLOAT_PTR("optimizer_bytes_per_param", OPT, struct cy_training,
			      optimizer_bytes_per_param),
	CYAML_FIELD_BOOL("shard_optimizer", CYAML_FLAG_OPTIONAL, struct cy_training,
			 shard_optimizer),
	CYAML_FIELD_ENUM("recompute", CYAML_FLAG_STRICT | CYAML_FLAG_OPTIONAL, struct cy_training,
			 recompute, recompute_strings, CYAML_ARRAY_LEN(recompute_strings)),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t gpu_fields[] = {
	STR("model", CYAML_FLAG_POINTER, struct cy_gpu, model),
	CYAML_FIELD_FLOAT("matmul_efficiency", CYAML_FLAG_DEFAULT, struct cy_gpu,
			  matmul_efficiency),
	CYAML_FIELD_BOOL_PTR("follow_topology", OPT, struct cy_gpu, follow_topology),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t parallel_fields[] = {
	CYAML_FIELD_UINT("data", CYAML_FLAG_OPTIONAL, struct cy_parallel, data),
	CYAML_FIELD_UINT("tensor", CYAML_FLAG_OPTIONAL, struct cy_parallel, tensor),
	CYAML_FIELD_UINT("pipeline", CYAML_FLAG_OPTIONAL, struct cy_parallel, pipeline),
	CYAML_FIELD_UINT("expert", CYAML_FLAG_OPTIONAL, struct cy_parallel, expert),
	CYAML_FIELD_UINT("virtual_stages", CYAML_FLAG_OPTIONAL, struct cy_parallel, virtual_stages),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t ddp_fields[] = {
	STR("bucket", OPT, struct cy_ddp, bucket),
	CYAML_FIELD_BOOL_PTR("overlap", OPT, struct cy_ddp, overlap),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t ckpt_fields[] = {
	STR("size", CYAML_FLAG_POINTER, struct cy_ckpt, size),
	STR("write_bandwidth", CYAML_FLAG_POINTER, struct cy_ckpt, write_bandwidth),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t top_fields[] = {
	CYAML_FIELD_UINT("version", CYAML_FLAG_DEFAULT, struct cy_top, version),
	STR("name", CYAML_FLAG_POINTER, struct cy_top, name),
	CYAML_FIELD_MAPPING_PTR("model", CYAML_FLAG_POINTER, struct cy_top, model, model_fields),
	CYAML_FIELD_MAPPING_PTR("training", CYAML_FLAG_POINTER, struct cy_top, training,
				training_fields),
	CYAML_FIELD_MAPPING_PTR("gpu", CYAML_FLAG_POINTER, struct cy_top, gpu, gpu_fields),
	CYAML_FIELD_MAPPING_PTR("parallel", OPT, struct cy_top, parallel, parallel_fields),
	CYAML_FIELD_MAPPING_PTR("ddp", OPT, struct cy_top, ddp, ddp_fields),
	CYAML_FIELD_MAPPING_PTR("checkpoint", OPT, struct cy_top, checkpoint, ckpt_fields),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t top_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct cy_top, top_fields),
};

static const struct topo_yaml_form forms[] = {
	{"version", "version: 1"},
	{"name", "a name of at most 63 characters, e.g. name: llama3-70b"},
	{"model", "a mapping of params, layers, hidden, heads, vocab, seq_len, experts, top_k"},
	{"params", "a parameter count > 0, e.g. params: 70.6e9"},
	{"active_params", "parameters used per token, 0 < active_params <= params, e.g. "
			  "active_params: 12.9e9"},
	{"layers", "a whole number of transformer layers, e.g. layers: 80"},
	{"hidden", "the hidden size, e.g. hidden: 8192"},
	{"heads", "attention heads, e.g. heads: 64"},
	{"vocab", "the vocabulary size, e.g. vocab: 128256"},
	{"seq_len", "the sequence length in tokens >= 1, e.g. seq_len: 8192"},
	{"experts", "experts per MoE layer (1: dense), e.g. experts: 8"},
	{"top_k", "experts per token, 1 <= top_k <= experts, e.g. top_k: 2"},
	{"training", "a mapping of global_batch_tokens, tokens, micro_batches, grad_dtype, "
		     "param_dtype, optimizer_bytes_per_param, shard_optimizer, recompute"},
	{"global_batch_tokens", "tokens per step >= seq_len, e.g. global_batch_tokens: 16777216"},
	{"tokens", "tokens to train > 0, e.g. tokens: 15e12"},
	{"micro_batches", "micro-batches per step >= 1, e.g. micro_batches: 16"},
	{"grad_dtype", "fp32, bf16, fp16 or fp8, e.g. grad_dtype: bf16"},
	{"param_dtype", "fp32, bf16, fp16 or fp8, e.g. param_dtype: bf16"},
	{"optimizer_bytes_per_param", "bytes >= 0, e.g. optimizer_bytes_per_param: 12 (Adam "
				      "moments and an fp32 master copy)"},
	{"shard_optimizer", "true or false (ZeRO-1: optimizer states split over data parallel)"},
	{"recompute", "none or full (activations recomputed: the forward runs again in "
		      "backward), e.g. recompute: full"},
	{"gpu", "{model: H100-SXM, matmul_efficiency: 0.55}"},
	{"matmul_efficiency", "a fraction of the GPU's peak, 0 < x <= 1, e.g. matmul_efficiency: "
			      "0.55"},
	{"follow_topology", "true or false: on a topology whose nodes name another catalog GPU, "
			    "take that GPU (to compare topologies of different GPUs), e.g. "
			    "follow_topology: true"},
	{"parallel", "{data: 128, tensor: 8, pipeline: 16, expert: 1}"},
	{"data", "data-parallel degree >= 1, or leave it out: the topology's GPUs / (tensor x "
		 "pipeline)"},
	{"tensor", "tensor-parallel degree >= 1, e.g. tensor: 8"},
	{"pipeline", "pipeline-parallel degree >= 1, e.g. pipeline: 4"},
	{"expert", "expert-parallel degree >= 1 dividing data and experts, e.g. expert: 8"},
	{"virtual_stages", "pipeline stages per GPU, interleaved 1F1B (1: none), e.g. "
			   "virtual_stages: 4"},
	{"ddp", "{bucket: 25M, overlap: true}"},
	{"bucket", "a size, K/M/G = 1024^n, e.g. bucket: 25M (DDP's default)"},
	{"overlap", "true or false, e.g. overlap: true"},
	{"checkpoint", "{size: 1T, write_bandwidth: 100GB/s}"},
	{"size", "a size, K/M/G/T = 1024^n, e.g. size: 1.1T"},
	{"write_bandwidth", "a rate, e.g. write_bandwidth: 100GB/s"},
	{NULL, NULL},
};

static const struct topo_yaml_doc doc = {
	.schema = &top_schema,
	.forms = forms,
	.what = "a workload YAML file",
	.top_form = "a mapping with version: 1, name:, model:, training:, gpu:, see "
		    "configs/README.md",
};

static int check_whole(const char *file, const char *path, unsigned v, unsigned min,
		       struct topo_error *err)
{
	if (v >= min)
		return 0;
	return topo_yaml_errf(err, file, path, false, "%u is out of range (expected %s)", v,
			      topo_yaml_form_of(&doc, path));
}

static int convert_model(const char *file, const struct cy_model *m, struct plan_workload *w,
			 struct topo_error *err)
{
	int ret;

	w->layers = m->layers;
	w->hidden = m->hidden;
	w->heads = m->heads;
	w->vocab = m->vocab;
	w->seq_len = m->seq_len;
	w->experts = m->experts ? m->experts : 1;
	w->top_k = m->top_k ? m->top_k : 1;
	if (m->params) {
		ret = plan_ycheck(&doc, file, "model.params", *m->params, 0, true, err);
		if (ret)
			return ret;
		w->params = *m->params;
	} else if (m->layers && m->hidden && m->vocab) {
		/* attention 4h^2 + MLP 8h^2 per layer, embedding and output layer */
		w->params = 12.0 * m->layers * (double)m->hidden * m->hidden +
			    2.0 * m->vocab * (double)m->hidden;
	} else {
		return topo_yaml_errf(
			err, file, "model", false,
			"missing required field 'params' (expected params: 70.6e9, or "
			"layers, hidden and vocab to count them)");
	}
	w->active_params = w->params;
	if (m->active_params) {
		if (!(*m->active_params > 0 && *m->active_params <= w->params))
			return topo_yaml_errf(err, file, "model.active_params", false,
					      "%g is out of range (expected %s)", *m->active_params,
					      topo_yaml_form_of(&doc, "active_params"));
		w->active_params = *m->active_params;
	}
	ret = check_whole(file, "model.seq_len", m->seq_len, 1, err);
	if (!ret && m->top_k > w->experts)
		ret = topo_yaml_errf(err, file, "model.top_k", false,
				     "%u is more than the %u experts (expected %s)", m->top_k,
				     w->experts, topo_yaml_form_of(&doc, "top_k"));
	return ret;
}

static int convert_training(const char *file, const struct cy_training *t, struct plan_workload *w,
			    struct topo_error *err)
{
	int ret;

	if (!(t->global_batch_tokens >= w->seq_len) || !isfinite(t->global_batch_tokens))
		return topo_yaml_errf(err, file, "training.global_batch_tokens", false,
				      "%g is out of range (expected %s)", t->global_batch_tokens,
				      topo_yaml_form_of(&doc, "global_batch_tokens"));
	w->global_tokens = t->global_batch_tokens;
	if (t->tokens) {
		ret = plan_ycheck(&doc, file, "training.tokens", *t->tokens, 0, true, err);
		if (ret)
			return ret;
		w->train_tokens = *t->tokens;
	}
	w->micro_batches = t->micro_batches ? t->micro_batches : 1;
	w->grad_bytes = t->grad_dtype ? (unsigned)t->grad_dtype : 2;
	w->param_bytes = t->param_dtype ? (unsigned)t->param_dtype : 2;
	w->optimizer_bytes = 12;
	if (t->optimizer_bytes_per_param) {
		ret = plan_ycheck(&doc, file, "training.optimizer_bytes_per_param",
				  *t->optimizer_bytes_per_param, 0, false, err);
		if (ret)
			return ret;
		w->optimizer_bytes = *t->optimizer_bytes_per_param;
	}
	w->shard_optimizer = t->shard_optimizer;
	w->passes = t->recompute ? (unsigned)t->recompute : 3;
	return 0;
}

static int convert(const char *file, const struct cy_top *y, struct plan_workload *w,
		   struct topo_error *err)
{
	double v;
	int ret;

	if (y->version != WORKLOAD_SCHEMA)
		return topo_yaml_errf(err, file, "version", false,
				      "unknown workload schema %u (expected version: 1)",
				      y->version);
	if (strlen(y->name) >= sizeof(w->name))
		return topo_yaml_errf(err, file, "name", false, "too long (expected %s)",
				      topo_yaml_form_of(&doc, "name"));
	snprintf(w->name, sizeof(w->name), "%s", y->name);
	ret = convert_model(file, y->model, w, err);
	if (!ret)
		ret = convert_training(file, y->training, w, err);
	if (ret)
		return ret;
	if (strlen(y->gpu->model) >= sizeof(w->gpu))
		return topo_yaml_errf(err, file, "gpu.model", false,
				      "too long (expected a GPU from "
				      "the catalog, e.g. model: H100-SXM)");
	snprintf(w->gpu, sizeof(w->gpu), "%s", y->gpu->model);
	v = y->gpu->matmul_efficiency;
	if (!(v > 0 && v <= 1))
		return topo_yaml_errf(err, file, "gpu.matmul_efficiency", false,
				      "%g is out of range (expected %s)", v,
				      topo_yaml_form_of(&doc, "matmul_efficiency"));
	w->matmul_eff = v;
	w->gpu_follow_topology = y->gpu->follow_topology && *y->gpu->follow_topology;
	w->tp = w->pp = w->ep = w->vstages = 1;
	if (y->parallel) {
		const struct cy_parallel *p = y->parallel;

		w->dp = p->data;
		w->tp = p->tensor ? p->tensor : 1;
		w->pp = p->pipeline ? p->pipeline : 1;
		w->ep = p->expert ? p->expert : 1;
		w->vstages = p->virtual_stages ? p->virtual_stages : 1;
		if (w->experts % w->ep)
			return topo_yaml_errf(err, file, "parallel.expert", false,
					      "%u does not divide the %u experts (expected %s)",
					      w->ep, w->experts, topo_yaml_form_of(&doc, "expert"));
		if (w->dp && w->dp % w->ep)
			return topo_yaml_errf(err, file, "parallel.expert", false,
					      "%u does not divide data %u (expected %s)", w->ep,
					      w->dp, topo_yaml_form_of(&doc, "expert"));
	}
	w->bucket_bytes = 25u << 20;
	w->overlap = true;
	if (y->ddp && y->ddp->bucket &&
	    (plan_parse_size(y->ddp->bucket, &w->bucket_bytes) || !w->bucket_bytes))
		return topo_yaml_errf(err, file, "ddp.bucket", false,
				      "'%s' is not a size > 0 (expected %s)", y->ddp->bucket,
				      topo_yaml_form_of(&doc, "bucket"));
	if (y->ddp && y->ddp->overlap)
		w->overlap = *y->ddp->overlap;
	if (y->checkpoint) {
		size_t sz;

		if (plan_parse_size(y->checkpoint->size, &sz) || !sz)
			return topo_yaml_errf(err, file, "checkpoint.size", false,
					      "'%s' is not a size > 0 (expected %s)",
					      y->checkpoint->size, topo_yaml_form_of(&doc, "size"));
		w->ckpt_bytes = (double)sz;
		if (topo_parse_rate(y->checkpoint->write_bandwidth, &w->ckpt_rate))
			return topo_yaml_errf(err, file, "checkpoint.write_bandwidth", false,
					      "'%s' is not a rate (expected %s)",
					      y->checkpoint->write_bandwidth,
					      topo_yaml_form_of(&doc, "write_bandwidth"));
	}
	return 0;
}

int plan_workload_load(const char *path, struct plan_workload *out, struct topo_error *err)
{
	struct cy_top *y = NULL;
	struct stat st;
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(out->path, sizeof(out->path), "%s", path);
	out->scale = 1;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return topo_yaml_errf(err, path, "", false,
				      "not a regular file (expected a workload YAML file)");
	ret = topo_yaml_load(path, &doc, (void **)&y, err);
	if (ret)
		return ret;
	if (!y)
		return topo_yaml_errf(err, path, "", false,
				      "the file holds no YAML document (expected %s)",
				      doc.top_form);
	ret = convert(path, y, out, err);
	topo_yaml_free(&doc, y);
	return ret;
}
