/*
 * test_workload.c - training workloads and the step model: the shipped workloads load with the
 * figures they write; every tests/data/planner/workload-bad/ file fails at the line:column its
 * first line names; known answers for the pipeline bubble, the checkpoint interval and share,
 * a bucket schedule computed by hand, and the step's identities (step = compute + bubble +
 * exposed communication, idle fraction, MFU; without overlap every bucket is exposed); the
 * run-time checks (degrees against the topology, memory, a GPU not in the catalog); every
 * shipped workload loads; the published runs of README "Training steps" run, and full
 * activation recomputation costs a second forward that MFU does not count.; the
 * schedule arbench overlap emulates equals the one the step model uses, scaled uniformly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

#define BAD  "tests/data/planner/workload-bad/"
#define RUN  "tests/data/planner/workload-run/"
#define TOPO "configs/topologies/single-switch-4x8.yaml"

static void assert_close(double a, double b)
{
	if (fabs(a - b) > 1e-9 * fmax(fabs(a), fabs(b)))
		fail_msg("%.17g != %.17g", a, b);
}

static void test_bubble(void **state)
{
	assert_close(plan_bubble(4, 16), 3.0 / 19);
	assert_close(plan_bubble(16, 32), 15.0 / 47);
	assert_close(plan_bubble(1, 8), 0);
	assert_close(plan_bubble(2, 1), 0.5);
}

static void test_checkpoint(void **state)
{
	/* 10 s to write, a job MTBF of 10 h: interval sqrt(2 x 10 x 36000) = 848.5 s, and the
	 * share 10/848.5 + 848.5/72000 = sqrt(2 x 10 / 36000) = 2.357% */
	assert_close(plan_ckpt_interval(10, 36000), sqrt(720000));
	assert_close(plan_ckpt_share(10, 36000), sqrt(20.0 / 36000));
	assert_close(plan_ckpt_share(0, 36000), 0);
	assert_close(plan_ckpt_share(10, INFINITY), 0);
	assert_close(plan_ckpt_share(1e6, 1), 1);
}

static void test_buckets(void **state)
{
	/* by hand: f0 = 1 + 1.5 = 2.5; f1 = max(2, 2.5) + 0.2 = 2.7; f2 = max(3, 2.7) + 1 = 4 */
	const double r[] = {1, 2, 3}, c[] = {1.5, 0.2, 1};
	/* all ready at once: the sum */
	const double r2[] = {5, 5, 5};

	assert_close(plan_bucket_finish(r, c, 3), 4);
	assert_close(plan_bucket_finish(r, c, 1), 2.5);
	assert_close(plan_bucket_finish(r2, c, 3), 7.7);
	assert_close(plan_bucket_finish(r, c, 0), 0);
}

static void test_shipped(void **state)
{
	const char *files[] = {"llama2-7b", "llama3-70b", "llama3-405b", "mixtral-8x22b"};
	struct plan_workload w;
	struct topo_error err;
	char path[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "configs/workloads/%s.yaml", files[i]);
		if (plan_workload_load(path, &w, &err))
			fail_msg("%s: %s", path, err.message);
		assert_string_equal(w.name, files[i]);
		assert_int_equal(w.bucket_bytes, 25u << 20);
		assert_true(w.overlap);
	}
	assert_int_equal(plan_workload_load("configs/workloads/llama3-405b.yaml", &w, &err), 0);
	assert_close(w.params, 405e9);
	assert_int_equal(w.tp, 8);
	assert_int_equal(w.pp, 16);
	assert_int_equal(w.dp, 0); /* from the topology */
	assert_int_equal(w.micro_batches, 16);
	assert_int_equal(w.vstages, 4);
	assert_int_equal(w.grad_bytes, 2);
	assert_close(w.ckpt_bytes, 5.2 * 1024.0 * 1024 * 1024 * 1024);
	assert_close(w.ckpt_rate, 500e9);
	assert_int_equal(plan_workload_load("configs/workloads/mixtral-8x22b.yaml", &w, &err), 0);
	assert_int_equal(w.experts, 8);
	assert_int_equal(w.top_k, 2);
	assert_int_equal(w.ep, 8);
	assert_close(w.active_params, 39e9);
	assert_int_equal(w.passes, 3); /* no recompute: forward and backward */
	assert_int_equal(plan_workload_load("configs/workloads/megatron-1t.yaml", &w, &err), 0);
	assert_int_equal(w.passes, 4); /* recompute: full */
	assert_int_equal(w.tp, 8);
	assert_int_equal(w.pp, 64);
	assert_false(w.overlap);
}

/* Every file in configs/workloads/ loads and is named after its file. */
static void test_shipped_all(void **state)
{
	DIR *dir = opendir("configs/workloads");
	struct dirent *e;
	int n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir))) {
		char path[512], stem[256];
		struct plan_workload w;
		struct topo_error err;
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "configs/workloads/%s", e->d_name);
		snprintf(stem, sizeof(stem), "%.*s", (int)(len - 5), e->d_name);
		if (plan_workload_load(path, &w, &err))
			fail_msg("%s: %s", path, err.message);
		assert_string_equal(w.name, stem);
		n++;
	}
	closedir(dir);
	assert_true(n >= 6);
}

/* The published runs of README "Training steps" (megatron-1t on selene-3072-a100, bloom-176b
 * on jean-zay-384-a100) run, with full recomputation costing a second forward: compute is 4/3
 * of the model's FLOPs at the achieved rate, backward 3/4 of it, and MFU counts model FLOPs. */
static void test_published(void **state)
{
	const struct {
		const char *workload, *topo;
		int world;
	} runs[] = {
		{"configs/workloads/megatron-1t.yaml", "configs/topologies/selene-3072-a100.yaml",
		 3072},
		{"configs/workloads/bloom-176b.yaml", "configs/topologies/jean-zay-384-a100.yaml",
		 384},
	};

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct topo_desc *d = NULL;
		struct topo_graph *g = NULL;
		struct topo_error err;
		struct plan_workload w;
		struct plan_step s;
		char msg[600];
		double model_s;

		assert_int_equal(plan_workload_load(runs[i].workload, &w, &err), 0);
		assert_int_equal(topo_load(runs[i].topo, &d, &err), 0);
		assert_int_equal(topo_expand(d, &g, &err), 0);
		if (plan_step_run(&w, d, g, NULL, &s, msg, sizeof(msg)))
			fail_msg("%s: %s", runs[i].workload, msg);
		assert_int_equal(s.world, runs[i].world);
		assert_close(s.peak_flops, 312e12);
		model_s = s.flops_per_token * w.global_tokens /
			  (s.world * s.peak_flops * w.matmul_eff);
		assert_close(s.model_share, 0.75);
		assert_close(s.compute_s, model_s * 4 / 3);
		assert_close(s.bwd_window_s, s.compute_s * 3 / 4 / w.micro_batches);
		assert_close(s.step_s, s.compute_s + s.bubble_s + s.tp_s + s.ep_s + s.dp_exposed_s);
		/* no overlap: every bucket after backward */
		assert_close(s.dp_exposed_s, s.allreduce_s);
		assert_close(s.mfu, w.matmul_eff * model_s / s.step_s * (1 - s.ckpt_share));
		assert_true(s.mfu > 0.2 && s.mfu < w.matmul_eff * 0.75);
		topo_graph_free(g);
		topo_desc_free(d);
	}
}

/* Every workload-bad/X.yaml starts "# expect: LINE:COLUMN phrase". */
static void test_bad(void **state)
{
	DIR *dir = opendir(BAD);
	struct dirent *e;
	int checked = 0;

	assert_non_null(dir);
	while ((e = readdir(dir))) {
		char path[512], first[256], phrase[200], line[1200];
		unsigned li, co;
		struct plan_workload w;
		struct topo_error err;
		FILE *f;

		if (!strstr(e->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), BAD "%s", e->d_name);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(first, sizeof(first), f));
		fclose(f);
		if (sscanf(first, "# expect: %u:%u %199[^\n]", &li, &co, phrase) != 3)
			fail_msg("%s: no '# expect: LINE:COLUMN phrase' first line", path);
		assert_int_equal(plan_workload_load(path, &w, &err), -EINVAL);
		topo_error_format(&err, line, sizeof(line));
		assert_null(strchr(line, '\n'));
		if (err.line != li || err.column != co || !strstr(err.message, phrase) ||
		    !strstr(err.message, "(expected "))
			fail_msg("%s: expected %u:%u '%s', got %s", path, li, co, phrase, line);
		assert_string_equal(err.file, path);
		checked++;
	}
	closedir(dir);
	assert_true(checked >= 10);
}

/* Run file's workload on TOPO: the return code, the step in *s, the message in msg. */
static int run(const char *file, struct plan_workload *w, struct plan_step *s, char *msg,
	       size_t len, bool overlap)
{
	struct topo_desc *d = NULL;
	struct topo_graph *g = NULL;
	struct topo_error err;
	int ret;

	assert_int_equal(plan_workload_load(file, w, &err), 0);
	w->overlap = overlap;
	assert_int_equal(topo_load(TOPO, &d, &err), 0);
	assert_int_equal(topo_expand(d, &g, &err), 0);
	ret = plan_step_run(w, d, g, NULL, s, msg, len);
	topo_graph_free(g);
	topo_desc_free(d);
	return ret;
}

static void test_step(void **state)
{
	struct plan_workload w;
	struct plan_step s, s2;
	char msg[600];
	double fpt = 6e9 + 12.0 * 2 * 1024 * 1024; /* 6 N + 12 L h s */

	assert_int_equal(run(RUN "small.yaml", &w, &s, msg, sizeof(msg), true), 0);
	assert_int_equal(s.world, 32);
	assert_int_equal(s.dp, 4);
	assert_close(s.flops_per_token, fpt);
	assert_close(s.compute_s, fpt * 1048576 / (32 * 989e12 * 0.5));
	assert_close(s.bubble_s, 0);
	assert_close(s.grad_bytes, 1e9 / 8 * 2);
	assert_int_equal(s.n_buckets, 10); /* 250 MB in 25 MiB buckets */
	assert_close(s.bwd_window_s, s.compute_s * 2 / 3 / 4);
	assert_true(s.bucket_s > 0 && s.tp_s > 0);
	assert_true(s.dp_exposed_s > 0 && s.dp_exposed_s < s.allreduce_s);
	assert_close(s.step_s, s.compute_s + s.bubble_s + s.tp_s + s.ep_s + s.dp_exposed_s);
	assert_close(s.idle_frac, (s.tp_s + s.dp_exposed_s) / s.step_s);
	assert_close(s.ckpt_write_s, 14.0 * 1024 * 1024 * 1024 / 10e9);
	assert_close(s.ckpt_interval_s, sqrt(2 * s.ckpt_write_s * s.job_mtbf_h * 3600));
	assert_close(s.mfu, 0.5 * s.compute_s / s.step_s * (1 - s.ckpt_share));
	assert_close(s.tokens_per_s, 1048576 / s.step_s);
	assert_true(s.capex_usd > 32 * 27000.0 && s.kw > 32 * 0.7);
	/* no overlap: every bucket waits for the end of backward, all of it exposed */
	assert_int_equal(run(RUN "small.yaml", &w, &s2, msg, sizeof(msg), false), 0);
	assert_close(s2.dp_exposed_s, s2.allreduce_s);
	assert_close(s2.allreduce_s, s.allreduce_s);
}

static void test_step_errors(void **state)
{
	const struct {
		const char *file, *phrase;
	} cases[] = {
		{RUN "degrees-mismatch.yaml", "= 24 GPUs, but single-switch-4x8 has 32"},
		{RUN "too-big.yaml", "does not fit"},
		{RUN "gpu-unknown.yaml", "GPU 'H900' is not in the catalog"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct plan_workload w;
		struct plan_step s;
		char msg[600];

		assert_int_equal(run(cases[i].file, &w, &s, msg, sizeof(msg), true), -EINVAL);
		assert_null(strchr(msg, '\n'));
		if (!strstr(msg, cases[i].phrase) ||
		    strncmp(msg, cases[i].file, strlen(cases[i].file)))
			fail_msg("%s: expected '%s', got %s", cases[i].file, cases[i].phrase, msg);
	}
}

/* The schedule arbench overlap emulates (plan_timeline_load) is the one plan_step_run
 * predicts on; --scale shrinks it uniformly and keeps the buckets as many. */
static void test_timeline(void **state)
{
	const char *wl = "configs/workloads/llama2-7b.yaml",
		   *topo = "configs/topologies/lab-2node.yaml";
	double fpt = 6 * 6.74e9 + 12.0 * 32 * 4096 * 4096, sum = 0;
	struct plan_timeline t, ts;
	struct plan_workload w;
	struct plan_step s;
	struct topo_error err;
	struct topo_desc *d = NULL;
	struct topo_graph *g = NULL;
	char msg[600];

	assert_int_equal(plan_timeline_load(wl, topo, 2, 1, &t, msg, sizeof(msg)), 0);
	assert_int_equal(t.world, 2);
	assert_close(t.compute_s, fpt * 4194304 / (2 * 989e12 * 0.6));
	assert_close(t.window_s, t.compute_s * 2 / 3);
	assert_close(t.bwd_end_s, t.compute_s);
	assert_close(t.grad_bytes, 6.74e9 * 2);
	assert_int_equal(t.n_buckets, (size_t)ceil(6.74e9 * 2 / (25 << 20)));
	for (size_t i = 0; i < t.n_buckets; i++) {
		sum += t.bytes[i];
		assert_true(t.ready_s[i] > t.bwd_end_s - t.window_s && t.ready_s[i] <= t.bwd_end_s);
		assert_true(i == 0 || t.ready_s[i] > t.ready_s[i - 1]);
		if (i + 1 < t.n_buckets)
			assert_close(t.bytes[i], 25 << 20);
	}
	assert_close(sum, t.grad_bytes);
	assert_close(t.ready_s[t.n_buckets - 1], t.bwd_end_s);
	/* x 0.01: every time and byte, the same number of buckets */
	assert_int_equal(plan_timeline_load(wl, topo, 2, 0.01, &ts, msg, sizeof(msg)), 0);
	assert_int_equal(ts.n_buckets, t.n_buckets);
	assert_close(ts.compute_s, 0.01 * t.compute_s);
	assert_close(ts.bucket_bytes, 0.01 * (25 << 20));
	for (size_t i = 0; i < t.n_buckets; i++) {
		assert_close(ts.bytes[i], 0.01 * t.bytes[i]);
		assert_close(ts.ready_s[i], 0.01 * t.ready_s[i]);
	}
	/* arplan step on the same lab and scale: the same compute and buckets */
	assert_int_equal(plan_workload_load(wl, &w, &err), 0);
	w.scale = 0.01;
	assert_int_equal(topo_load(topo, &d, &err), 0);
	assert_int_equal(topo_expand(d, &g, &err), 0);
	assert_int_equal(plan_step_run(&w, d, g, NULL, &s, msg, sizeof(msg)), 0);
	assert_close(s.compute_s, ts.compute_s);
	assert_int_equal(s.n_buckets, ts.n_buckets);
	assert_close(s.grad_bytes, ts.grad_bytes);
	assert_true(s.dp_exposed_s > 0 && s.dp_exposed_s < s.allreduce_s);
	topo_graph_free(g);
	topo_desc_free(d);
	plan_timeline_free(&t);
	plan_timeline_free(&ts);
	/* only data parallelism; the data degree must be the ranks */
	assert_int_equal(plan_timeline_load("configs/workloads/llama3-70b.yaml", topo, 2, 1, &t,
					    msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "only data parallelism is emulated"));
	assert_int_equal(plan_timeline_load("tests/data/overlap/data-3.yaml", topo, 2, 1, &t, msg,
					    sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "parallel.data is 3 but the run has 2 ranks"));
	assert_int_equal(plan_timeline_load(wl, topo, 2, 0, &t, msg, sizeof(msg)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bubble),	    cmocka_unit_test(test_checkpoint),
		cmocka_unit_test(test_buckets),	    cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_bad),	    cmocka_unit_test(test_step),
		cmocka_unit_test(test_step_errors), cmocka_unit_test(test_shipped_all),
		cmocka_unit_test(test_published),   cmocka_unit_test(test_timeline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
