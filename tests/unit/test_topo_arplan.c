/*
 * test_topo_arplan.c - `arplan topo` driven through plan_cmd_topo(): the JSON summary and bill
 * of materials of a shipped topology, --dot, exit codes, and --from-results turning a
 * hand-written arbench results file into an explicit topology that loads back.
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
#include <unistd.h>

#include "planner/planner.h"
#include "topo/topo.h"

struct run {
	int rc;
	char *out, *err;
};

static char *slurp(FILE *f)
{
	long n;
	char *buf;

	fflush(f);
	n = ftell(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	return buf;
}

static struct run arplan(int argc, const char **argv)
{
	FILE *out = tmpfile(), *err = tmpfile();
	struct run r;

	assert_non_null(out);
	assert_non_null(err);
	r.rc = plan_cmd_topo(argc, (char **)argv, out, err);
	r.out = slurp(out);
	r.err = slurp(err);
	fclose(out);
	fclose(err);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static const json_t *bom_line(const json_t *bom, const char *item, const char *part)
{
	size_t i;
	const json_t *l;

	json_array_foreach(bom, i, l)
	{
		if (strcmp(json_string_value(json_object_get(l, "item")), item) == 0 &&
		    strcmp(json_string_value(json_object_get(l, "part")), part) == 0)
			return l;
	}
	fail_msg("no BOM line %s / %s", item, part);
	return NULL;
}

static void test_json_summary(void **state)
{
	const char *argv[] = {"topo", "--json", "configs/topologies/dgx-h100-superpod-1su.yaml"};
	struct run r = arplan(3, argv);
	json_error_t je;
	json_t *j, *bom;

	assert_int_equal(r.rc, PLAN_EXIT_OK);
	j = json_loads(r.out, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "family")), "rail-optimized");
	assert_int_equal(json_integer_value(json_object_get(j, "nodes")), 32);
	assert_int_equal(json_integer_value(json_object_get(j, "gpus")), 256);
	assert_int_equal(json_integer_value(json_object_get(j, "nics")), 256);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(j, "switches"), "total")), 12);
	assert_true(fabs(json_number_value(json_object_get(j, "bisection_gbit_per_s")) - 51200) <
		    1e-6);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(j, "diameter"), "hops")), 6);
	bom = json_object_get(j, "bom");
	assert_int_equal(
		json_integer_value(json_object_get(bom_line(bom, "GPU", "H100-SXM"), "count")),
		256);
	/* 256 host links: one twin-port module per two links at each end (4 per DGX H100, 32 per
	 * leaf), as bought; test_bom.c derives every count */
	assert_int_equal(json_integer_value(json_object_get(
				 bom_line(bom, "media (host links)", "OSFP-800G-2xSR4"), "count")),
			 256);
	assert_int_equal(json_integer_value(json_object_get(
				 bom_line(bom, "switch (tier 1)", "QM9700"), "count")),
			 4);
	assert_true(json_number_value(json_object_get(j, "total_price_usd")) > 0);
	json_decref(j);
	run_free(&r);
}

static void test_text_and_dot(void **state)
{
	const char *a1[] = {"topo", "configs/topologies/torus-4x4x4.yaml"};
	const char *a2[] = {"topo", "--dot", "configs/topologies/explicit-2leaf.yaml"};
	struct run r = arplan(2, a1);
	size_t edges = 0;
	char *p;

	assert_int_equal(r.rc, PLAN_EXIT_OK);
	assert_non_null(strstr(r.out, "links             intra 64, host 64, fabric 192"));
	assert_non_null(strstr(r.out, "bisection"));
	run_free(&r);
	r = arplan(3, a2);
	assert_int_equal(r.rc, PLAN_EXIT_OK);
	assert_memory_equal(r.out, "graph \"explicit-2leaf\" {", 24);
	for (p = r.out; (p = strstr(p, " -- ")); p++)
		edges++;
	assert_int_equal(edges, 10);
	run_free(&r);
}

static void test_exit_codes(void **state)
{
	const char *help[] = {"topo", "--help"};
	const char *none[] = {"topo"};
	const char *bad_opt[] = {"topo", "--frobnicate", "x.yaml"};
	const char *missing[] = {"topo", "/nonexistent.yaml"};
	const char *bad[] = {"topo", "tests/data/topo-bad/zero-rate.yaml"};
	struct run r;

	r = arplan(2, help);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "usage: arplan topo"));
	run_free(&r);
	r = arplan(1, none);
	assert_int_equal(r.rc, 2);
	run_free(&r);
	r = arplan(3, bad_opt);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "--frobnicate"));
	run_free(&r);
	r = arplan(2, missing);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "/nonexistent.yaml"));
	run_free(&r);
	r = arplan(2, bad);
	assert_int_equal(r.rc, 2);
	assert_memory_equal(r.err, "tests/data/topo-bad/zero-rate.yaml:11:27: ", 41);
	run_free(&r);
}

static void test_from_results(void **state)
{
	const char *no_rate[] = {"topo", "--from-results", "tests/data/topo/results-2node.json"};
	const char *with_rate[] = {"topo", "--from-results", "tests/data/topo/results-2node.json",
				   "--nic-rate", "10Gbit"};
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_error e;
	char path[] = "/tmp/test_topo_arplan_XXXXXX";
	struct run r;
	uint64_t l;
	unsigned fast = 0, slow = 0;
	FILE *f;
	int fd;

	/* beta reports no NIC speed: the user must say */
	r = arplan(3, no_rate);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "node beta.example: no network interface"));
	run_free(&r);
	r = arplan(5, with_rate);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "family: explicit"));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(r.out, f);
	fclose(f);
	run_free(&r);
	assert_int_equal(topo_load(path, &d, &e), 0);
	assert_int_equal(topo_expand(d, &g, &e), 0);
	assert_int_equal(g->n_nodes, 2);
	/* alpha: its two RDMA NICs at 200 Gbit (eth0 and lo left out), 2 GPUs; beta: eth0 at the
	 * --nic-rate 10 Gbit (its ifb and veth software interfaces left out) */
	for (l = 0; l < g->n_links; l++) {
		if (g->links[l].cls != TOPO_L_HOST)
			continue;
		if (g->links[l].bandwidth == 25e9)
			fast++;
		else if (g->links[l].bandwidth == 1.25e9)
			slow++;
		else
			fail_msg("unexpected host link rate %g", g->links[l].bandwidth);
	}
	assert_int_equal(fast, 2);
	assert_int_equal(slow, 1);
	assert_int_equal(g->gpus_per_node, 2);
	topo_graph_free(g);
	topo_desc_free(d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_summary),
		cmocka_unit_test(test_text_and_dot),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_from_results),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
