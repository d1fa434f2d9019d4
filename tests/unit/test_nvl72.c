/*
 * test_nvl72.c - scale-up NVLink domains (fabric.scale_up) on the shipped GB200 NVL72 cluster,
 * configs/topologies/nvl72-576-gb200.yaml, against figures worked out by hand:
 *
 *   8 racks x 18 trays = 144 nodes; x 4 = 576 GPUs and 576 ConnectX-7; 8 x 9 = 72 NVLink
 *   switch trays.  Fat-tree 1:1 of radix 64: a leaf has 32 down and 32 up ports, so
 *   576 / 32 = 18 leaves; 18 leaves x 2 parallel links <= 64 ports, so 32 / 2 = 16 spines;
 *   18 x 32 = 576 leaf-spine links; intra links = 576 NVLink + 576 PCIe; bisection 288 NICs x
 *   50 GB/s = 14.4 TB/s each way.
 *
 * Then the graph (GPUs of a domain meet at its NVLink switch, two hops, no NIC on the way), the
 * flow engine (an all-reduce of the 72 GPUs of one domain runs at the NVLink bound and its
 * bottleneck is an in-node link: a byte through a 400G NIC would make it 18 times slower), the
 * domain as the node level of the data-parallel all-reduce, the step model (an expert group of
 * 16 GPUs inside a rack against across two 8-GPU nodes: the all-to-all 900 / 50 = 18 times
 * faster), and a tensor group larger than the domain (placed across two, and said so).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"
#include "tests/unit/bom_json.h"

#define NVL72 "configs/topologies/nvl72-576-gb200.yaml"
#define HGX   "configs/topologies/hgx-b200-576.yaml"
#define RUN   "tests/data/planner/workload-run/"

static void assert_close(double a, double b)
{
	if (!(fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b))))
		fail_msg("%.12g != %.12g", a, b);
}

struct fabric {
	struct topo_desc *d;
	struct topo_graph *g;
};

static void load(const char *path, struct fabric *f)
{
	struct topo_error e;

	if (topo_load(path, &f->d, &e) || topo_expand(f->d, &f->g, &e))
		fail_msg("%s:%u:%u: %s", e.file, e.line, e.column, e.message);
}

static void unload(struct fabric *f)
{
	topo_graph_free(f->g);
	topo_desc_free(f->d);
}

/* Output of `arplan CMD ARGS...` (plan_cmd_*), its exit code in *rc; free() it. */
static char *arplan(int (*cmd)(int, char **, FILE *, FILE *), int argc, const char **argv, int *rc)
{
	FILE *out = tmpfile();
	char *buf;
	long n;

	assert_non_null(out);
	*rc = cmd(argc, (char **)argv, out, stderr);
	n = ftell(out);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	rewind(out);
	assert_int_equal(fread(buf, 1, (size_t)n, out), (size_t)n);
	fclose(out);
	return buf;
}

static json_int_t jint(const json_t *o, const char *a, const char *b)
{
	const json_t *x = json_object_get(o, a);

	if (b)
		x = json_object_get(x, b);
	if (!json_is_integer(x))
		fail_msg("no integer %s%s%s", a, b ? "." : "", b ? b : "");
	return json_integer_value(x);
}

/* `arplan topo --json` and the text summary against the hand-derived counts. */
static void test_topo_counts(void **state)
{
	const char *argv[] = {"topo", "--json", NVL72};
	json_error_t je;
	json_t *doc, *tiers;
	char *out;
	int rc;

	out = arplan(plan_cmd_topo, 3, argv, &rc);
	assert_int_equal(rc, 0);
	doc = json_loads(out, 0, &je);
	if (!doc)
		fail_msg("not JSON: %s", je.text);
	assert_int_equal(jint(doc, "nodes", NULL), 144);
	assert_int_equal(jint(doc, "gpus", NULL), 576);
	assert_int_equal(jint(doc, "nics", NULL), 576);
	assert_int_equal(jint(doc, "scale_up", "domains"), 8);
	assert_int_equal(jint(doc, "scale_up", "nodes_per_domain"), 18);
	assert_int_equal(jint(doc, "scale_up", "gpus_per_domain"), 72);
	assert_int_equal(jint(doc, "scale_up", "nvlink_switch_trays"), 72);
	assert_close(json_real_value(json_object_get(json_object_get(doc, "scale_up"),
						     "nvlink_bytes_per_s")),
		     900e9);
	assert_int_equal(jint(doc, "switches", "total"), 34);
	tiers = json_object_get(json_object_get(doc, "switches"), "per_tier");
	assert_int_equal(json_array_size(tiers), 2);
	assert_int_equal(json_integer_value(json_array_get(tiers, 0)), 18);
	assert_int_equal(json_integer_value(json_array_get(tiers, 1)), 16);
	assert_int_equal(jint(doc, "links", "intra"), 576 + 576);
	assert_int_equal(jint(doc, "links", "host"), 576);
	assert_int_equal(jint(doc, "links", "fabric"), 18 * 32);
	assert_close(json_real_value(json_object_get(doc, "bisection_bytes_per_s")), 288 * 50e9);
	assert_int_equal(bom_count(doc, "GPU", "GB200"), 576);
	assert_int_equal(bom_count(doc, "NIC", "ConnectX-7"), 576);
	assert_int_equal(bom_count(doc, "switch (NVLink trays)", "NVLink5-Switch-Tray"), 72);
	assert_int_equal(bom_count(doc, "switch (tier 0)", "QM9700"), 18);
	assert_int_equal(bom_count(doc, "switch (tier 1)", "QM9700"), 16);
	json_decref(doc);
	free(out);

	out = arplan(plan_cmd_topo, 2, (const char *[]){"topo", NVL72}, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "nodes             144\n"));
	assert_non_null(strstr(out, "NVLink domains    8 of 18 nodes, 72 GPUs each; 72 NVLink "
				    "switch trays; NVLink 900 GB/s"));
	assert_non_null(strstr(out, "switches          34 (tier 0: 18, tier 1: 16) + 72 NVLink "
				    "switch trays\n"));
	free(out);
}

/* Every GPU pair of a domain meets at the domain's NVLink switch: 2 hops, every link of every
 * shortest path in-node (TOPO_L_INTRA), through the one switch vertex of the domain. */
static void test_routes_stay_in_domain(void **state)
{
	struct fabric f;
	struct topo_router *r;
	uint32_t gpu[72], n = 0, sw = UINT32_MAX;

	load(NVL72, &f);
	assert_int_equal(f.g->n_nodes, 8);
	assert_int_equal(f.g->gpus_per_node, 72);
	assert_int_equal(f.g->domain_nodes, 18);
	for (uint32_t v = 0; v < f.g->n_vertices; v++) {
		const struct topo_vertex *x = &f.g->vertices[v];

		if (x->node != 0)
			continue;
		if (x->kind == TOPO_V_GPU)
			gpu[n++] = v;
		if (x->kind == TOPO_V_SWITCH) {
			assert_int_equal(sw, UINT32_MAX); /* one switch vertex per domain */
			sw = v;
		}
	}
	assert_int_equal(n, 72);
	assert_int_not_equal(sw, UINT32_MAX);
	assert_int_equal(topo_router_new(f.g, &r), 0);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			uint64_t links[8];
			unsigned k;

			if (i == j)
				continue;
			assert_int_equal(topo_route(r, gpu[i], gpu[j]), 2);
			k = topo_route_next(r, gpu[i], links, 8);
			assert_int_equal(k, 1); /* no second way, e.g. out through the NIC */
			assert_int_equal(topo_link_other(f.g, links[0], gpu[i]), sw);
			assert_int_equal(f.g->links[links[0]].cls, TOPO_L_INTRA);
			assert_close(f.g->links[links[0]].bandwidth, 900e9);
			assert_int_equal(topo_route_path(r, (uint64_t)i * 131 + j, links, 8), 2);
			assert_int_equal(f.g->links[links[1]].cls, TOPO_L_INTRA);
		}
	topo_router_free(r);
	unload(&f);
}

static struct plan_ctx *ctx_on(const struct topo_graph *g, int ranks, int per_node)
{
	struct plan_setup s = {.g = g, .ranks = ranks, .ranks_per_node = per_node};
	struct plan_ctx *c;
	char msg[256];

	if (plan_ctx_new(&s, &c, msg, sizeof(msg)))
		fail_msg("%s", msg);
	return c;
}

/* An all-reduce of the 72 GPUs of one domain: NVLink-bound, no NIC on the way. */
static void test_allreduce_inside_domain(void **state)
{
	const double bytes = 256.0 * 1024 * 1024, bound = 2.0 * 71 / 72 * bytes / 900e9;
	const char *algos[] = {"nccl-ring", "ring"};
	struct fabric f;
	double net_min, net_max;
	int nodes;

	load(NVL72, &f);
	for (size_t a = 0; a < 2; a++) {
		struct plan_ctx *c = ctx_on(f.g, 72, 72);
		struct plan_prediction p;

		plan_ctx_rates(c, &net_min, &net_max, &nodes);
		assert_int_equal(nodes, 1); /* 18 trays, one node of the schedule: the domain */
		assert_int_equal(plan_predict(c, algos[a], (size_t)bytes, 4, &p), 0);
		assert_int_equal(p.bottleneck_class, TOPO_L_INTRA);
		/* at the bound of a 900 GB/s link per GPU; through a 50 GB/s NIC it would be
		 * at least 18 times longer */
		if (fabs(p.time_s / bound - 1) > 0.01)
			fail_msg("%s: %.6g s, NVLink bound %.6g s", algos[a], p.time_s, bound);
		plan_ctx_free(c);
	}
	/* two domains: the data-parallel all-reduce's node level is the domain, not the tray */
	{
		struct plan_ctx *c = ctx_on(f.g, 144, 72);

		plan_ctx_rates(c, &net_min, &net_max, &nodes);
		assert_int_equal(nodes, 2);
		assert_close(net_min, 50e9);
		plan_ctx_free(c);
	}
	unload(&f);
}

static void step_on(const char *topo, const char *workload, struct plan_step *s)
{
	struct plan_workload w;
	struct topo_error e;
	struct fabric f;
	char msg[600];

	if (plan_workload_load(workload, &w, &e))
		fail_msg("%s:%u:%u: %s", e.file, e.line, e.column, e.message);
	load(topo, &f);
	if (plan_step_run(&w, f.d, f.g, NULL, s, msg, sizeof(msg)))
		fail_msg("%s", msg);
	unload(&f);
}

/* Mixtral's shape on 576 GPUs: an expert group of tensor 2 x expert 8 = 16 GPUs is inside a
 * rack of NVL72 and across two HGX nodes, so its all-to-all runs at 900 against 50 GB/s; the
 * tensor pair is inside a node on both; each fabric at its own GPU (follow_topology). */
static void test_step_places_groups(void **state)
{
	struct plan_step nvl, hgx;

	step_on(NVL72, "configs/workloads/mixtral-8x22b-gb200.yaml", &nvl);
	step_on(HGX, "configs/workloads/mixtral-8x22b-gb200.yaml", &hgx);
	assert_int_equal(nvl.world, 576);
	assert_int_equal(nvl.dp, 72);
	assert_int_equal(nvl.domain_gpus, 72);
	assert_int_equal(nvl.domain_nodes, 18);
	assert_int_equal(hgx.domain_gpus, 0);
	assert_int_equal(nvl.tp_span, 1);
	assert_int_equal(hgx.tp_span, 1);
	assert_close(nvl.peak_flops, 2500e12);
	assert_false(nvl.gpu_of_topology);
	assert_close(hgx.peak_flops, 2250e12);
	assert_true(hgx.gpu_of_topology);
	assert_string_equal(hgx.gpu, "B200");
	assert_true(nvl.ep_s > 0);
	assert_close(hgx.ep_s / nvl.ep_s, 900.0 / 50.0);
	assert_true(nvl.idle_frac < hgx.idle_frac);
}

/* A tensor group of 144 on 72-GPU domains: placed across two, said in the output. */
static void test_tp_larger_than_domain(void **state)
{
	const char *argv[] = {"step", "--topo", NVL72, "--workload", RUN "tp144-gb200.yaml"};
	struct plan_step s72, s144;
	char *out;
	int rc;

	step_on(NVL72, RUN "tp72-gb200.yaml", &s72);
	step_on(NVL72, RUN "tp144-gb200.yaml", &s144);
	assert_int_equal(s72.tp_span, 1);
	assert_int_equal(s144.tp_span, 2);
	out = arplan(plan_cmd_step, 5, argv, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "# tensor 144 is larger than an NVLink domain of 72 GPUs: it "
				    "spans 2, and its all-reduces cross the NIC fabric\n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topo_counts),
		cmocka_unit_test(test_routes_stay_in_domain),
		cmocka_unit_test(test_allreduce_inside_domain),
		cmocka_unit_test(test_step_places_groups),
		cmocka_unit_test(test_tp_larger_than_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
