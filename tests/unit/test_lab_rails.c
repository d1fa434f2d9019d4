/*
 * test_lab_rails.c - unit tests of the lab's rails (bench/lab/rails.c), no root needed: hosts
 * with several NICs come up routed, the shipped rail-optimized and rail-only lab topologies
 * map onto the hosts, switches and links `arplan topo` counts, the check refuses a rail whose
 * NICs no switch path joins (naming the nodes) but accepts rails that are not joined to each
 * other, and the plan gives each NIC of such a host its own route table and every switch a
 * route to every NIC it can reach, and none to a rail it cannot.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench/lab/lab.h"

#define MBIT(x) ((x)*1e6 / 8)

static bool plan_has(const struct lab_plan *p, const char *s)
{
	char line[1024];

	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(lab_cmd_line(&p->cmds[i], line, sizeof(line)), s))
			return true;
	return false;
}

/* Commands of p that start with prefix. */
static unsigned plan_count(const struct lab_plan *p, const char *prefix)
{
	char line[1024];
	unsigned c = 0;

	for (size_t i = 0; i < p->n; i++)
		c += !strncmp(lab_cmd_line(&p->cmds[i], line, sizeof(line)), prefix,
			      strlen(prefix));
	return c;
}

/* Load a shipped topology through topo/ (libcyaml) and map it onto a fabric. */
static struct lab_fabric *shipped(const char *name)
{
	struct topo_desc *d = NULL;
	struct topo_graph *g = NULL;
	struct topo_error te = {0};
	struct lab_fabric *f = NULL;
	char path[256], err[LAB_ERR_MAX];

	snprintf(path, sizeof(path), "configs/topologies/%s.yaml", name);
	if (topo_load(path, &d, &te) || topo_expand(d, &g, &te))
		fail_msg("%s: %s", path, te.message);
	assert_int_equal(lab_fabric_from_graph(g, topo_desc_name(d), &f, err, sizeof(err)), 0);
	topo_graph_free(g);
	topo_desc_free(d);
	assert_int_equal(lab_fabric_check(f, 64, err, sizeof(err)), 0);
	return f;
}

static void test_shipped_labs(void **state)
{
	struct lab_fabric *f = shipped("lab-rail-optimized");
	struct lab_plan p = {0};
	char note[512];

	/* arplan topo: 4 nodes, 6 switches, 8 host + 8 fabric links; GPUs are not emulated */
	assert_true(f->routed);
	assert_int_equal(f->n_hosts, 4);
	assert_int_equal(f->n_bridges, 6);
	assert_int_equal(f->n_links, 16);
	assert_int_equal(lab_fabric_max_nics(f), 2);
	assert_true(lab_rails_joined(f));
	lab_rails_describe(f, note, sizeof(note));
	assert_non_null(strstr(note, "2 rails"));
	assert_non_null(strstr(note, "joined by the switches"));
	assert_int_equal(lab_plan_up(f, &p), 0);
	/* node0's NIC 0 and NIC 1 each have a table chosen by source address */
	assert_true(plan_has(&p, "ip -n arl-node0 rule add from 10.77.1.1 lookup 101 pref 1001"));
	assert_true(plan_has(&p, "ip -n arl-node0 route add 10.77.0.0/16 via 10.79.0.1 dev "
				 "arl-eth1 onlink table 101"));
	assert_int_equal(plan_count(&p, "ip -n arl-node3 rule add"), 2);
	lab_plan_free(&p);
	lab_fabric_free(f);

	f = shipped("lab-rail-only");
	assert_true(f->routed); /* no loop: routed for its two NICs per host */
	assert_int_equal(f->n_hosts, 4);
	assert_int_equal(f->n_bridges, 2);
	assert_int_equal(f->n_links, 8);
	assert_false(lab_rails_joined(f));
	lab_rails_describe(f, note, sizeof(note));
	assert_non_null(strstr(note, "not joined (rail-only)"));
	assert_non_null(strstr(note, "without --rail-bind"));
	assert_int_equal(lab_plan_up(f, &p), 0);
	/* one switch per rail: no switch routes to another switch's hosts, none is reachable */
	assert_int_equal(plan_count(&p, "ip -n arl-sw_0 route add 10.77.1."), 0);
	assert_int_equal(plan_count(&p, "ip -n arl-sw_1 route add 10.77.0."), 0);
	assert_true(plan_has(&p, "ip -n arl-sw_0 route add 10.77.0.3 dev arl-p2"));
	lab_plan_free(&p);
	lab_fabric_free(f);
}

/* Hosts a and b with NICs 0 and 1: NIC k on switch railk; with spine, both rails go up to it.
 * Links: 0 a/0-rail0, 1 b/0-rail0, 2 a/1-rail1, 3 b/1-rail1, (4 rail0-spine, 5 rail1-spine). */
static struct lab_fabric *two_rails(bool spine)
{
	struct lab_fabric *f = NULL;
	const struct lab_end r0 = {LAB_END_BRIDGE, 0, 0}, r1 = {LAB_END_BRIDGE, 1, 0};

	assert_int_equal(lab_fabric_new("two-rails", &f), 0);
	lab_fabric_add_host(f, "a", NULL);
	lab_fabric_add_host(f, "b", NULL);
	lab_fabric_add_bridge(f, "rail0", NULL);
	lab_fabric_add_bridge(f, "rail1", NULL);
	for (uint16_t k = 0; k < 2; k++)
		for (uint32_t h = 0; h < 2; h++)
			lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, h, k}, k ? r1 : r0,
					    MBIT(100), 0);
	if (spine) {
		lab_fabric_add_bridge(f, "spine", NULL);
		lab_fabric_add_link(f, r0, (struct lab_end){LAB_END_BRIDGE, 2, 0}, MBIT(100), 0);
		lab_fabric_add_link(f, r1, (struct lab_end){LAB_END_BRIDGE, 2, 0}, MBIT(100), 0);
	}
	f->routed = lab_fabric_has_loop(f) || lab_fabric_max_nics(f) > 1;
	return f;
}

static void expect_check_fails(struct lab_fabric *f, const char *want)
{
	char err[LAB_ERR_MAX] = "";

	assert_int_equal(lab_fabric_check(f, 64, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not mention \"%s\"", err, want);
}

static void test_rails_check(void **state)
{
	struct lab_fabric *f = two_rails(false);
	char err[LAB_ERR_MAX] = "";

	/* rail-only: each rail joined, the rails not: routable, said so */
	assert_true(f->routed);
	assert_int_equal(lab_fabric_check(f, 64, err, sizeof(err)), 0);
	assert_false(lab_rails_joined(f));
	lab_fabric_free(f);

	f = two_rails(true);
	assert_int_equal(lab_fabric_check(f, 64, err, sizeof(err)), 0);
	assert_true(lab_rails_joined(f));
	lab_fabric_free(f);

	/* rail 1 split: b's NIC 1 on a switch of its own */
	assert_int_equal(lab_fabric_new("split-rail", &f), 0);
	lab_fabric_add_host(f, "a", NULL);
	lab_fabric_add_host(f, "b", NULL);
	for (uint32_t i = 0; i < 3; i++) {
		static const char *const names[] = {"rail0", "rail1", "island"};

		lab_fabric_add_bridge(f, names[i], NULL);
	}
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 0, 0},
			    (struct lab_end){LAB_END_BRIDGE, 0, 0}, MBIT(100), 0);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 1, 0},
			    (struct lab_end){LAB_END_BRIDGE, 0, 0}, MBIT(100), 0);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 0, 1},
			    (struct lab_end){LAB_END_BRIDGE, 1, 0}, MBIT(100), 0);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 1, 1},
			    (struct lab_end){LAB_END_BRIDGE, 2, 0}, MBIT(100), 0);
	f->routed = true;
	expect_check_fails(f, "no path between nodes a and b");
	expect_check_fails(f, "a/nic1 on rail1, b/nic1 on island");
	lab_fabric_free(f);

	/* a with NIC 0 only, c with NIC 1 only: nothing in common */
	assert_int_equal(lab_fabric_new("no-common-nic", &f), 0);
	lab_fabric_add_host(f, "a", NULL);
	lab_fabric_add_host(f, "c", NULL);
	lab_fabric_add_bridge(f, "sw", NULL);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 0, 0},
			    (struct lab_end){LAB_END_BRIDGE, 0, 0}, MBIT(100), 0);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 1, 1},
			    (struct lab_end){LAB_END_BRIDGE, 0, 0}, MBIT(100), 0);
	f->routed = true;
	expect_check_fails(f, "nodes a and c have no NIC number in common");
	lab_fabric_free(f);
}

static void test_rails_plan(void **state)
{
	struct lab_fabric *f = two_rails(true);
	struct lab_plan p = {0};

	assert_int_equal(lab_plan_up(f, &p), 0);
	/* both NICs addressed on their rail's subnet; the leaf's port is the hosts' gateway */
	assert_true(plan_has(&p, "ip -n arl-a addr add 10.77.0.1/24 dev arl-eth0"));
	assert_true(plan_has(&p, "ip -n arl-a addr add 10.77.1.1/24 dev arl-eth1"));
	assert_true(plan_has(&p, "ip -n arl-sw_1 addr add 10.79.0.1/32 dev arl-p3"));
	/* per-NIC tables: the own rail directly, every other lab address through the leaf */
	assert_true(plan_has(&p, "ip -n arl-b route add 10.77.1.0/24 dev arl-eth1 table 101"));
	assert_true(plan_has(&p, "ip -n arl-b route add 10.77.0.0/16 via 10.79.0.1 dev arl-eth1 "
				 "onlink table 101"));
	assert_true(plan_has(&p, "ip -n arl-b rule add from 10.77.0.2 lookup 100 pref 1000"));
	/* rail 0's switch reaches the rail-1 NICs over the spine, and back */
	assert_true(plan_has(&p, "ip -n arl-sw_0 route add 10.77.1.2 via 10.78.0.18 dev arl-p4a"));
	assert_true(plan_has(&p, "ip -n arl-sw_1 route add 10.77.0.1 via 10.78.0.22 dev arl-p5a"));
	assert_true(plan_has(&p, "ip -n arl-sw_2 route add 10.77.1.1 via 10.78.0.21 dev arl-p5b"));
	/* the host tables come last, after every link is up */
	assert_non_null(strstr(p.cmds[p.n - 1].argv[3], "rule"));
	lab_plan_free(&p);
	lab_fabric_free(f);

	/* one NIC per host: no gateway address, no table, no rule (the plan of before rails) */
	assert_int_equal(lab_fabric_new("one-nic", &f), 0);
	lab_fabric_add_host(f, "a", NULL);
	lab_fabric_add_host(f, "b", NULL);
	lab_fabric_add_bridge(f, "leaf0", NULL);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 0, 0},
			    (struct lab_end){LAB_END_BRIDGE, 0, 0}, MBIT(100), 0);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 1, 0},
			    (struct lab_end){LAB_END_BRIDGE, 0, 0}, MBIT(100), 0);
	f->routed = true;
	assert_int_equal(lab_plan_up(f, &p), 0);
	assert_int_equal(plan_count(&p, "ip -n arl-a rule"), 0);
	assert_int_equal(plan_count(&p, "ip -n arl-sw_0 addr add 10.79."), 0);
	lab_plan_free(&p);
	lab_fabric_free(f);
}

static void test_rail_bind_mode(void **state)
{
	assert_int_equal(lab_rail_bind_mode("local"), 0);
	assert_int_equal(lab_rail_bind_mode("matched"), 0);
	assert_int_equal(lab_rail_bind_mode("Matched"), -EINVAL);
	assert_int_equal(lab_rail_bind_mode(""), -EINVAL);
	assert_int_equal(lab_rail_bind_mode(NULL), -EINVAL);
}

/* A state directory as `up` leaves it, with the files lab_rail_bind_check reads. */
static void write_state(const char *dir, const char *nics, const char *rails)
{
	static const char *const names[] = {"nics", "rails", "hosts"};
	const char *data[] = {nics, rails, "node0\nnode1\nnode2\nnode3\n"};
	char path[512];

	for (int i = 0; i < 3; i++) {
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		fp = fopen(path, "w");
		assert_non_null(fp);
		fputs(data[i], fp);
		fclose(fp);
	}
}

static void test_rail_bind_check(void **state)
{
	char dir[] = "/tmp/test_lab_rails.XXXXXX", err[LAB_ERR_MAX] = "", path[512];

	assert_non_null(mkdtemp(dir));
	/* rails joined (rail-optimized): any binding has a path */
	write_state(dir, "2\n", "joined\n");
	assert_int_equal(lab_rail_bind_check(dir, "local", 2, 8, err, sizeof(err)), 0);
	assert_int_equal(lab_rail_bind_check(dir, "matched", 2, 8, err, sizeof(err)), 0);
	assert_int_equal(lab_rail_bind_check(dir, "both", 2, 8, err, sizeof(err)), -EINVAL);
	/* rail-only: ranks 1 (node0, NIC 1) and 2 (node1, NIC 0) could not talk; refused */
	write_state(dir, "2\n", "separate\n");
	assert_int_equal(lab_rail_bind_check(dir, "local", 2, 8, err, sizeof(err)), -EINVAL);
	if (!strstr(err, "ranks 0 (node0, NIC 0) and 3 (node1, NIC 1) would have no path"))
		fail_msg("local on rail-only: %s", err);
	assert_int_equal(lab_rail_bind_check(dir, "matched", 2, 8, err, sizeof(err)), -EINVAL);
	if (!strstr(err, "ranks 0 (node0, NIC 0) and 2 (node1, NIC 1) would have no path"))
		fail_msg("matched on rail-only: %s", err);
	/* one rank per node: every rank on NIC 0, one rail; two ranks of one host: shared memory */
	assert_int_equal(lab_rail_bind_check(dir, "matched", 1, 4, err, sizeof(err)), 0);
	assert_int_equal(lab_rail_bind_check(dir, "local", 2, 2, err, sizeof(err)), 0);
	/* hosts with one NIC: nothing to bind */
	write_state(dir, "1\n", "joined\n");
	assert_int_equal(lab_rail_bind_check(dir, "local", 2, 8, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "one NIC"));
	for (const char *const *fn = (const char *const[]){"nics", "rails", "hosts", NULL}; *fn;
	     fn++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *fn);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_labs),	cmocka_unit_test(test_rails_check),
		cmocka_unit_test(test_rails_plan),	cmocka_unit_test(test_rail_bind_mode),
		cmocka_unit_test(test_rail_bind_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
