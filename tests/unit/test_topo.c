/*
 * test_topo.c - topology layer: units, known answers of every family (k-ary fat-trees, torus
 * and dragonfly link formulas, SuperPOD sizes), bisection of 2:1 against 1:1, ECMP routes and
 * their transit rule, the explicit lab file, the 128k-GPU fat-tree's size, and rails wiring
 * NICs to the leaves and networks of their rail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "topo/topo.h"

/* Load and expand a file; fails the test with the error on a problem. */
static void load(const char *path, struct topo_desc **d, struct topo_graph **g)
{
	struct topo_error e;
	char msg[1200];
	int ret = topo_load(path, d, &e);

	if (!ret)
		ret = topo_expand(*d, g, &e);
	if (ret) {
		topo_error_format(&e, msg, sizeof(msg));
		fail_msg("%s: %d: %s", path, ret, msg);
	}
}

/* Write text to a temporary YAML file; returns its path (static buffer per call site). */
static void write_tmp(char *path, size_t len, const char *fmt, ...)
{
	va_list ap;
	FILE *f;
	int fd;

	snprintf(path, len, "/tmp/test_topo_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void free_all(struct topo_desc *d, struct topo_graph *g)
{
	topo_graph_free(g);
	topo_desc_free(d);
}

static uint32_t nic_of_node(const struct topo_graph *g, uint32_t node, unsigned nic)
{
	uint32_t v;

	for (v = 0; v < g->n_vertices; v++)
		if (g->vertices[v].kind == TOPO_V_NIC && g->vertices[v].node == node &&
		    g->vertices[v].local == nic)
			return v;
	fail_msg("no NIC %u on node %u", nic, node);
	return 0;
}

static uint32_t gpu_of_node(const struct topo_graph *g, uint32_t node, unsigned gpu)
{
	uint32_t v;

	for (v = 0; v < g->n_vertices; v++)
		if (g->vertices[v].kind == TOPO_V_GPU && g->vertices[v].node == node &&
		    g->vertices[v].local == gpu)
			return v;
	fail_msg("no GPU %u on node %u", gpu, node);
	return 0;
}

static void test_units(void **state)
{
	double v;

	assert_int_equal(topo_parse_rate("100Mbit", &v), 0);
	assert_true(v == 12.5e6);
	assert_int_equal(topo_parse_rate("400Gbit", &v), 0);
	assert_true(v == 50e9);
	assert_int_equal(topo_parse_rate("400Gbit/s", &v), 0);
	assert_true(v == 50e9);
	assert_int_equal(topo_parse_rate("25GB/s", &v), 0);
	assert_true(v == 25e9);
	assert_int_equal(topo_parse_rate("100Gbps", &v), 0);
	assert_true(v == 12.5e9);
	assert_int_equal(topo_parse_rate("100", &v), -EINVAL);
	assert_int_equal(topo_parse_rate("100GB", &v), -EINVAL);
	assert_int_equal(topo_parse_rate("fast", &v), -EINVAL);
	assert_int_equal(topo_parse_time("1us", &v), 0);
	assert_true(fabs(v - 1e-6) < 1e-18);
	assert_int_equal(topo_parse_time("500ns", &v), 0);
	assert_true(fabs(v - 5e-7) < 1e-18);
	assert_int_equal(topo_parse_time("1", &v), -EINVAL);
}

static void test_error_format(void **state)
{
	struct topo_error e = {.file = "a.yaml", .line = 3, .column = 7, .message = "bad"};
	char buf[600];

	topo_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "a.yaml:3:7: bad");
}

static void check_kary(const char *path, unsigned k)
{
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_summary s;

	load(path, &d, &g);
	assert_int_equal(topo_summarize(d, g, &s), 0);
	assert_int_equal(s.nodes, k * k * k / 4);
	assert_int_equal(s.nics, k * k * k / 4);
	assert_int_equal(s.switches, 5 * k * k / 4);
	assert_int_equal(s.tiers, 3);
	assert_int_equal(s.switches_per_tier[0], k * k / 2);
	assert_int_equal(s.switches_per_tier[1], k * k / 2);
	assert_int_equal(s.switches_per_tier[2], k * k / 4);
	assert_int_equal(s.links_per_class[TOPO_L_HOST], k * k * k / 4);
	assert_int_equal(s.links_per_class[TOPO_L_FABRIC], k * k * k / 2);
	assert_true(fabs(s.oversub[0] - 1) < 1e-9 && fabs(s.oversub[1] - 1) < 1e-9);
	assert_int_equal(s.diameter, 6); /* NIC leaf agg core agg leaf NIC */
	free_all(d, g);
}

static void test_kary_fat_tree_4(void **state)
{
	check_kary("tests/data/topo/kary-fat-tree-4.yaml", 4);
}

static void test_kary_fat_tree_48(void **state)
{
	check_kary("tests/data/topo/kary-fat-tree-48.yaml", 48);
}

static void test_torus_formula(void **state)
{
	static const unsigned dims[][5] = {/* count, sizes */
					   {3, 4, 4, 4}, {3, 2, 3, 5}, {2, 1, 4},
					   {2, 2, 2},	 {1, 3},       {4, 5, 1, 2, 7}};
	size_t i;

	for (i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		char path[64], list[64] = "";
		unsigned n = 1, j, nd = dims[i][0];
		double expect = 0;
		struct topo_desc *d;
		struct topo_graph *g;
		struct topo_summary s;

		for (j = 1; j <= nd; j++) {
			n *= dims[i][j];
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%u",
				 j > 1 ? ", " : "", dims[i][j]);
		}
		for (j = 1; j <= nd; j++)
			expect += dims[i][j] >= 3 ? n : dims[i][j] == 2 ? n / 2.0 : 0;
		write_tmp(path, sizeof(path),
			  "name: t\nnode_types: [{name: n, nics: {count: 2}}]\n"
			  "fabric: {family: torus, node_type: n, dims: [%s], nodes_per_router: 2}\n"
			  "link_classes: {host: {rate: 100Gbit}, torus: {rate: 200Gbit}}\n",
			  list);
		load(path, &d, &g);
		assert_int_equal(topo_summarize(d, g, &s), 0);
		assert_int_equal(s.switches, n);
		assert_int_equal(s.nodes, 2 * n);
		assert_int_equal(s.links_per_class[TOPO_L_FABRIC], (uint64_t)expect);
		assert_int_equal(s.links_per_class[TOPO_L_HOST], 4 * n);
		free_all(d, g);
		unlink(path);
	}
}

static void test_dragonfly_formula(void **state)
{
	static const unsigned cases[][4] = {/* g, a, h, p */
					    {9, 4, 2, 2},
					    {5, 4, 2, 1},
					    {33, 8, 4, 1},
					    {1, 3, 1, 2}};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned g_ = cases[i][0], a = cases[i][1], h = cases[i][2], p = cases[i][3];
		uint64_t local = (uint64_t)g_ * a * (a - 1) / 2;
		uint64_t global = g_ > 1 ? (uint64_t)g_ * (g_ - 1) / 2 * (a * h / (g_ - 1)) : 0;
		unsigned *deg;
		char path[64];
		struct topo_desc *d;
		struct topo_graph *g;
		struct topo_summary s;
		uint64_t l;
		uint32_t v;

		write_tmp(
			path, sizeof(path),
			"name: df\nnode_types: [{name: n}]\n"
			"fabric: {family: dragonfly, node_type: n, groups: %u, routers_per_group: "
			"%u, global_links_per_router: %u, nodes_per_router: %u}\n"
			"link_classes: {host: {rate: 100Gbit}, local: {rate: 100Gbit}%s}\n",
			g_, a, h, p,
			g_ > 1 ? ", global: {rate: 50Gbit}" : ""); /* one group: no global links */
		load(path, &d, &g);
		assert_int_equal(topo_summarize(d, g, &s), 0);
		assert_int_equal(s.switches, g_ * a);
		assert_int_equal(s.nodes, g_ * a * p);
		assert_int_equal(s.links_per_class[TOPO_L_FABRIC], local + global);
		if (g_ == a * h + 1) /* balanced: every router uses all h global links */
			assert_int_equal(global, (uint64_t)g_ * a * h / 2);
		/* no router has more than h global links (the global ones run at 50 Gbit) */
		deg = calloc(g->n_vertices, sizeof(*deg));
		assert_non_null(deg);
		for (l = 0; l < g->n_links; l++)
			if (g->links[l].cls == TOPO_L_FABRIC && g->links[l].bandwidth < 10e9) {
				deg[g->links[l].a]++;
				deg[g->links[l].b]++;
			}
		for (v = 0; v < g->n_vertices; v++)
			assert_true(deg[v] <= h);
		free(deg);
		free_all(d, g);
		unlink(path);
	}
}

static void test_superpod_sizes(void **state)
{
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_summary s;

	load("configs/topologies/dgx-h100-superpod-1su.yaml", &d, &g);
	assert_int_equal(topo_summarize(d, g, &s), 0);
	assert_int_equal(s.gpus, 256);
	assert_int_equal(s.switches_per_tier[0], 8);
	assert_int_equal(s.switches_per_tier[1], 4);
	assert_int_equal(s.diameter, 6);
	/* rail placement: NIC i of every node is on a leaf of rail i */
	for (uint64_t l = 0; l < g->n_links; l++) {
		const struct topo_link *k = &g->links[l];

		if (k->cls == TOPO_L_HOST)
			assert_int_equal(g->vertices[k->a].rail, g->vertices[k->b].rail);
	}
	free_all(d, g);
	load("configs/topologies/dgx-h100-superpod-4su.yaml", &d, &g);
	assert_int_equal(topo_summarize(d, g, &s), 0);
	assert_int_equal(s.gpus, 1024);
	assert_int_equal(s.switches_per_tier[0], 32);
	assert_int_equal(s.switches_per_tier[1], 16);
	free_all(d, g);
}

static void test_bisection_2to1_is_half(void **state)
{
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_summary s1, s2;

	load("configs/topologies/fat-tree-1024-1to1.yaml", &d, &g);
	assert_int_equal(topo_summarize(d, g, &s1), 0);
	free_all(d, g);
	load("configs/topologies/fat-tree-1024-2to1.yaml", &d, &g);
	assert_int_equal(topo_summarize(d, g, &s2), 0);
	free_all(d, g);
	assert_int_equal(s1.gpus, 1024);
	assert_int_equal(s2.gpus, 1024);
	assert_true(fabs(s1.oversub[0] - 1) < 1e-9);
	assert_true(fabs(s2.oversub[0] - 2) < 1e-9);
	/* 1024 NICs x 400 Gbit / 2 */
	assert_true(fabs(s1.bisection - 512 * 50e9) < 1);
	assert_true(fabs(s2.bisection / s1.bisection - 0.5) < 1e-12);
}

static void test_bisection_explicit_exact(void **state)
{
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_summary s;

	/* 4 hosts per leaf at 100 Mbit, one 400 Mbit uplink per leaf: the best 4/4 split cuts
	 * one uplink */
	load("configs/topologies/explicit-2leaf.yaml", &d, &g);
	assert_int_equal(topo_summarize(d, g, &s), 0);
	assert_true(fabs(s.bisection - 400e6 / 8) < 1e-3);
	assert_true(fabs(s.oversub[0] - 1) < 1e-9);
	assert_int_equal(s.diameter, 4);
	free_all(d, g);
}

static void test_explicit_lab(void **state)
{
	struct topo_desc *d;
	struct topo_graph *g;
	uint64_t l, up = 0;

	load("configs/topologies/explicit-2leaf.yaml", &d, &g);
	assert_string_equal(topo_desc_family(d), "explicit");
	assert_string_equal(topo_desc_name(d), "explicit-2leaf");
	assert_int_equal(g->n_vertices, 11);
	assert_int_equal(g->n_links, 10);
	assert_int_equal(g->n_nodes, 8);
	for (l = 0; l < g->n_links; l++) {
		const struct topo_link *k = &g->links[l];

		assert_true(fabs(k->latency - 5e-6) < 1e-15);
		if (k->cls == TOPO_L_FABRIC) {
			up++;
			assert_true(k->bandwidth == 50e6);
		} else {
			assert_int_equal(k->cls, TOPO_L_HOST);
			assert_true(k->bandwidth == 12.5e6);
			assert_int_equal(g->vertices[k->a].kind, TOPO_V_NIC);
		}
	}
	assert_int_equal(up, 2);
	assert_string_equal(topo_vertex_name(g, 0), "h1/nic0");
	for (uint32_t v = 0; v < g->n_vertices; v++)
		if (strcmp(topo_vertex_name(g, v), "spine1") == 0)
			assert_int_equal(g->vertices[v].local, 1);
	/* CSR adjacency lists every link at both ends */
	assert_int_equal(g->adj_start[g->n_vertices], 2 * g->n_links);
	free_all(d, g);
}

/* Follow a path's links from src and check it ends at dst. */
static void check_path(const struct topo_graph *g, const uint64_t *links, int n, uint32_t src,
		       uint32_t dst)
{
	uint32_t v = src;
	int i;

	for (i = 0; i < n; i++) {
		assert_true(g->links[links[i]].a == v || g->links[links[i]].b == v);
		v = topo_link_other(g, links[i], v);
	}
	assert_int_equal(v, dst);
}

static void test_routes_fat_tree(void **state)
{
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_router *r;
	uint64_t links[16], first[4][6];
	unsigned distinct = 0, h, i;
	uint32_t n0, n1, n2, n15;

	load("tests/data/topo/kary-fat-tree-4.yaml", &d, &g);
	assert_int_equal(topo_router_new(g, &r), 0);
	n0 = nic_of_node(g, 0, 0);
	n1 = nic_of_node(g, 1, 0);
	n2 = nic_of_node(g, 2, 0);
	n15 = nic_of_node(g, 15, 0);
	assert_int_equal(topo_route(r, n0, n0), 0);
	assert_int_equal(topo_route(r, n0, n1), 2); /* same leaf */
	assert_true(topo_route_count(r) == 1);
	assert_int_equal(topo_route(r, n0, n2), 4); /* same pod: k/2 aggregation switches */
	assert_true(topo_route_count(r) == 2);
	assert_int_equal(topo_route(r, n0, n15), 6); /* other pod: (k/2)^2 cores */
	assert_true(topo_route_count(r) == 4);
	assert_int_equal(topo_route_next(r, n0, links, 16), 1);
	check_path(g, links, 0, n0, n0);
	{
		uint32_t leaf = topo_link_other(g, links[0], n0);

		assert_int_equal(topo_route_next(r, leaf, links, 16), 2);
	}
	/* hashing spreads flows over all 4 paths */
	for (h = 0; h < 64; h++) {
		int n = topo_route_path(r, h, links, 16);

		assert_int_equal(n, 6);
		check_path(g, links, n, n0, n15);
		for (i = 0; i < distinct; i++)
			if (memcmp(first[i], links, sizeof(first[i])) == 0)
				break;
		if (i == distinct && distinct < 4)
			memcpy(first[distinct++], links, sizeof(first[0]));
	}
	assert_int_equal(distinct, 4);
	assert_int_equal(topo_route_path(r, 1, links, 3), -ENOSPC);
	assert_int_equal(topo_route(r, n0, g->n_vertices), -EINVAL);
	topo_router_free(r);
	free_all(d, g);
}

static void test_routes_rail_only_transit(void **state)
{
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_router *r;
	uint64_t links[32];
	uint32_t src, dst;
	unsigned h;
	int hops;

	load("configs/topologies/rail-only-1024.yaml", &d, &g);
	assert_int_equal(topo_router_new(g, &r), 0);
	src = gpu_of_node(g, 0, 0);
	dst = gpu_of_node(g, 127, 1);
	/* different rails: one NVLink hop at either end, plus leaf-spine-leaf on one rail */
	hops = topo_route(r, src, dst);
	assert_int_equal(hops, 8);
	assert_true(topo_route_count(r) >= 2);
	for (h = 0; h < 32; h++) {
		int n = topo_route_path(r, h, links, 32);
		uint32_t v = src;
		int i;

		assert_int_equal(n, hops);
		check_path(g, links, n, src, dst);
		for (i = 0; i < n; i++) {
			uint32_t node;

			v = topo_link_other(g, links[i], v);
			node = g->vertices[v].node;
			assert_true(node == UINT32_MAX || node == 0 || node == 127);
		}
	}
	topo_router_free(r);
	free_all(d, g);
}

static void test_scale_128k(void **state)
{
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_router *r;
	struct timespec t0, t1;
	uint32_t src, dst;
	int hops;

	load("configs/topologies/fat-tree-128k-3tier.yaml", &d, &g);
	/* 131,072 GPUs + 131,072 NICs + 16,384 NVSwitches + 5,120 switches */
	assert_int_equal(g->n_vertices, 283648);
	assert_true(g->n_vertices > 250000 && g->n_vertices < 400000);
	/* 262,144 intra + 131,072 host + 262,144 fabric */
	assert_int_equal(g->n_links, 655360);
	assert_true(g->n_links > 500000 && g->n_links < 1000000);
	assert_int_equal(g->n_nodes, 16384);
	assert_int_equal(g->gpus_per_node, 8);
	assert_int_equal(topo_router_new(g, &r), 0);
	src = gpu_of_node(g, 0, 0);
	dst = gpu_of_node(g, 16383, 7);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	hops = topo_route(r, src, dst);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(hops, 8); /* GPU NIC leaf agg core agg leaf NIC GPU */
	assert_true(topo_route_count(r) > 1);
	print_message("128k fat-tree: route GPU 0 -> GPU 131071 in %.0f us\n",
		      ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3);
	topo_router_free(r);
	free_all(d, g);
}

/* ---- rails: NIC i attaches to the leaf or network of rail rails[i] -------------------------- */

static uint32_t vertex_named(const struct topo_graph *g, const char *name)
{
	uint32_t v;

	for (v = 0; v < g->n_vertices; v++)
		if (strcmp(topo_vertex_name(g, v), name) == 0)
			return v;
	fail_msg("no vertex %s", name);
	return 0;
}

/* Links of vertex v of a class. */
static unsigned links_of(const struct topo_graph *g, uint32_t v, enum topo_link_class cls)
{
	unsigned n = 0;
	uint64_t e;

	for (e = g->adj_start[v]; e < g->adj_start[v + 1]; e++)
		n += g->links[g->adj[e]].cls == cls;
	return n;
}

/* Switches leaf0..leaf<n-1> each have `host` host links and `fabric` fabric links. */
static void assert_leaves(const struct topo_graph *g, unsigned n, unsigned host, unsigned fabric)
{
	char name[16];

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "leaf%u", i);
		assert_int_equal(links_of(g, vertex_named(g, name), TOPO_L_HOST), host);
		assert_int_equal(links_of(g, vertex_named(g, name), TOPO_L_FABRIC), fabric);
	}
}

/* The switch NIC i of node n is linked to. */
static uint32_t switch_of_nic(const struct topo_graph *g, uint32_t node, unsigned nic)
{
	uint32_t v = nic_of_node(g, node, nic);
	uint64_t e;

	for (e = g->adj_start[v]; e < g->adj_start[v + 1]; e++)
		if (g->links[g->adj[e]].cls == TOPO_L_HOST)
			return topo_link_other(g, g->adj[e], v);
	fail_msg("NIC %u of node %u has no host link", nic, node);
	return 0;
}

#define EIGHT_ON_FOUR "rails: [0, 0, 1, 1, 2, 2, 3, 3]"

static void load_text(struct topo_desc **d, struct topo_graph **g, const char *fmt, ...)
{
	char path[64], text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	write_tmp(path, sizeof(path), "%s", text);
	load(path, d, g);
	unlink(path);
}

/* rail-only, 16 nodes x 8 NICs on a radix-64 switch per rail: 8 rails of 16 hosts by default,
 * 4 rails of 32 NICs (two per node) with rails [0, 0, 1, 1, ...]. */
static void test_rails_rail_only(void **state)
{
	static const char *const text =
		"name: ro\nnode_types: [{name: n, gpus: 8, intra: {nvlink: 450GB/s}, "
		"nics: {count: 8%s}}]\n"
		"fabric: {family: rail-only, node_type: n, nodes: %u, radix: 64}\n"
		"link_classes: {host: {rate: 400Gbit}%s}\n";
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_summary s;
	char name[32];
	unsigned r, n, i;

	load_text(&d, &g, text, "", 16, "");
	assert_int_equal(topo_summarize(d, g, &s), 0);
	assert_int_equal(s.switches, 8);
	for (r = 0; r < 8; r++) {
		snprintf(name, sizeof(name), "rail%u", r);
		assert_int_equal(links_of(g, vertex_named(g, name), TOPO_L_HOST), 16);
	}
	free_all(d, g);

	load_text(&d, &g, text, ", " EIGHT_ON_FOUR, 16, "");
	assert_int_equal(topo_summarize(d, g, &s), 0);
	assert_int_equal(s.switches, 4);
	assert_int_equal(s.links_per_class[TOPO_L_HOST], 128);
	for (r = 0; r < 4; r++) {
		uint32_t sw;

		snprintf(name, sizeof(name), "rail%u", r);
		sw = vertex_named(g, name);
		assert_int_equal(links_of(g, sw, TOPO_L_HOST), 32); /* twice the hosts */
		assert_int_equal(g->vertices[sw].rail, r);
	}
	for (n = 0; n < 16; n++)
		for (i = 0; i < 8; i++) {
			snprintf(name, sizeof(name), "rail%u", i / 2);
			assert_int_equal(switch_of_nic(g, n, i), vertex_named(g, name));
			assert_int_equal(g->vertices[nic_of_node(g, n, i)].rail, i / 2);
		}
	free_all(d, g);

	/* 64 nodes x 2 NICs per rail = 128 ports: a 2-tier Clos per rail of 4 leaves (16 nodes,
	 * 32 NICs, 32 up links each) and 2 spines (16 links from each leaf) */
	load_text(&d, &g, text, ", " EIGHT_ON_FOUR, 64, ", tier1: {rate: 400Gbit}");
	assert_int_equal(topo_summarize(d, g, &s), 0);
	assert_int_equal(s.switches_per_tier[0], 16);
	assert_int_equal(s.switches_per_tier[1], 8);
	assert_true(fabs(s.oversub[0] - 1) < 1e-9);
	for (r = 0; r < 4; r++) {
		for (i = 0; i < 4; i++) {
			snprintf(name, sizeof(name), "rail%u-leaf%u", r, i);
			assert_int_equal(links_of(g, vertex_named(g, name), TOPO_L_HOST), 32);
			assert_int_equal(links_of(g, vertex_named(g, name), TOPO_L_FABRIC), 32);
		}
		for (i = 0; i < 2; i++) {
			snprintf(name, sizeof(name), "rail%u-spine%u", r, i);
			assert_int_equal(links_of(g, vertex_named(g, name), TOPO_L_FABRIC), 64);
		}
	}
	/* both NICs of a node on one rail share its leaf: node 17 is on leaf 1 */
	assert_int_equal(switch_of_nic(g, 17, 4), vertex_named(g, "rail2-leaf1"));
	assert_int_equal(switch_of_nic(g, 17, 5), vertex_named(g, "rail2-leaf1"));
	free_all(d, g);
}

/* fat-tree, placement rail, radix 8, 4 NICs on rails [0, 0, 1, 1]: a leaf has 4 down ports, so
 * a group is 2 nodes with 2 leaves (one per rail); 8 nodes make 8 leaves of 4 host + 4 up
 * links, and 4 spines.  The identity rails give the same graph as no rails. */
static void test_rails_fat_tree(void **state)
{
	static const char *const text =
		"name: ft\nnode_types: [{name: n, nics: {count: 4%s}}]\n"
		"fabric: {family: fat-tree, node_type: n, nodes: 8, tiers: 2, radix: 8, placement: "
		"rail}\n"
		"link_classes: {host: {rate: 100Gbit}, tier1: {rate: 100Gbit}}\n";
	struct topo_desc *d, *d2;
	struct topo_graph *g, *g2;
	struct topo_summary s;
	char name[16];
	uint64_t l;
	unsigned i;

	load_text(&d, &g, text, ", rails: [0, 0, 1, 1]");
	assert_int_equal(topo_summarize(d, g, &s), 0);
	assert_int_equal(s.switches_per_tier[0], 8);
	assert_int_equal(s.switches_per_tier[1], 4);
	assert_leaves(g, 8, 4, 4);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "leaf%u", i);
		assert_int_equal(g->vertices[vertex_named(g, name)].rail, i % 2);
	}
	assert_int_equal(switch_of_nic(g, 0, 0), switch_of_nic(g, 0, 1));
	assert_int_equal(switch_of_nic(g, 0, 0), switch_of_nic(g, 1, 1)); /* same group */
	assert_int_equal(switch_of_nic(g, 0, 2), vertex_named(g, "leaf1"));
	assert_int_equal(switch_of_nic(g, 2, 0), vertex_named(g, "leaf2")); /* next group */
	assert_int_equal(switch_of_nic(g, 7, 3), vertex_named(g, "leaf7"));
	free_all(d, g);

	load_text(&d, &g, text, "");
	load_text(&d2, &g2, text, ", rails: [0, 1, 2, 3]");
	assert_int_equal(g->n_vertices, g2->n_vertices);
	assert_int_equal(g->n_links, g2->n_links);
	for (l = 0; l < g->n_links; l++)
		assert_true(g->links[l].a == g2->links[l].a && g->links[l].b == g2->links[l].b);
	free_all(d, g);
	free_all(d2, g2);
}

/* rail-optimized SUs of 16 nodes x 8 NICs on 4 rails: 4 leaves per SU of 32 NICs each. */
static void test_rails_rail_optimized(void **state)
{
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_summary s;

	load_text(
		&d, &g,
		"name: ro\nnode_types: [{name: n, gpus: 8, intra: {nvlink: 450GB/s}, "
		"nics: {count: 8, %s}}]\n"
		"fabric: {family: rail-optimized, node_type: n, su_nodes: 16, sus: 2, radix: 64}\n"
		"link_classes: {host: {rate: 400Gbit}, tier1: {rate: 400Gbit}}\n",
		EIGHT_ON_FOUR);
	assert_int_equal(topo_summarize(d, g, &s), 0);
	assert_int_equal(s.gpus, 256);
	assert_int_equal(s.switches_per_tier[0], 8);
	assert_int_equal(s.switches_per_tier[1], 4);
	assert_leaves(g, 8, 32, 32);
	/* node 20 is in SU 1: NICs 6 and 7 on rail 3 go to its fourth leaf */
	assert_int_equal(switch_of_nic(g, 20, 6), vertex_named(g, "leaf7"));
	assert_int_equal(switch_of_nic(g, 20, 7), vertex_named(g, "leaf7"));
	free_all(d, g);
}

/* Rails out of range, with a gap, or too many NICs per rail for a leaf. */
static void test_rails_errors(void **state)
{
	static const struct {
		const char *rails, *fabric, *says;
		unsigned line, col;
	} cases[] = {
		{"[0, 1, 2, 4]", "family: rail-only, node_type: n, nodes: 4, radix: 8",
		 "rail 4 out of range (expected 0..3", 2, 58},
		{"[0, 0, 2, 2]", "family: rail-only, node_type: n, nodes: 4, radix: 8",
		 "no NIC on rail 1", 2, 48},
		{"[0, 0, 0, 0]", "family: rail-only, node_type: n, nodes: 4, radix: 4",
		 "4 NICs of a node on one rail are more than the 2 down ports", 2, 48},
		{"[0, 0, 1, 1]",
		 "family: rail-optimized, node_type: n, su_nodes: 32, sus: 1, radix: 64",
		 "a leaf of 32 nodes need 64 down + 64 up ports", 2, 48},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct topo_desc *d = NULL;
		struct topo_error e;
		char path[64];

		write_tmp(path, sizeof(path),
			  "name: bad\nnode_types: [{name: n, nics: {count: 4, rails: %s}}]\n"
			  "fabric: {%s}\nlink_classes: {host: {rate: 100Gbit}, tier1: {rate: "
			  "100Gbit}}\n",
			  cases[i].rails, cases[i].fabric);
		assert_int_equal(topo_load(path, &d, &e), -EINVAL);
		if (!strstr(e.message, cases[i].says))
			fail_msg("case %zu: %s", i, e.message);
		assert_int_equal(e.line, cases[i].line);
		assert_int_equal(e.column, cases[i].col);
		unlink(path);
	}
}

static void test_load_errors(void **state)
{
	struct topo_desc *d = NULL;
	struct topo_error e;
	char path[64];

	assert_int_equal(topo_load("/nonexistent/x.yaml", &d, &e), -EINVAL);
	assert_null(d);
	assert_string_equal(e.file, "/nonexistent/x.yaml");
	write_tmp(path, sizeof(path),
		  "name: x\nfabric:\n  family: explicit\nnodes: [{name: a}]\nswitches: "
		  "[{name: s}]\nlinks:\n  - {a: a, b: s, rate: 0Gbit}\n");
	assert_int_equal(topo_load(path, &d, &e), -EINVAL);
	assert_int_equal(e.line, 7);
	assert_int_equal(e.column, 24);
	assert_non_null(strstr(e.message, "rate must be > 0"));
	unlink(path);
}

/* Reference: plain BFS from src under the same transit rule, counting shortest paths (as link
 * sequences).  Returns the hop count to dst or -1. */
static int ref_route(const struct topo_graph *g, uint32_t src, uint32_t dst, double *count)
{
	uint32_t *dist = malloc(g->n_vertices * sizeof(*dist)), *q = malloc(g->n_vertices * 4);
	double *cnt = calloc(g->n_vertices, sizeof(double));
	uint32_t h = 0, t = 0, sn = g->vertices[src].node, dn = g->vertices[dst].node, v;
	int hops;

	assert_non_null(dist);
	assert_non_null(q);
	assert_non_null(cnt);
	for (v = 0; v < g->n_vertices; v++)
		dist[v] = UINT32_MAX;
	dist[src] = 0;
	cnt[src] = 1;
	q[t++] = src;
	while (h < t) {
		uint32_t u = q[h++], node = g->vertices[u].node;
		uint64_t e;

		if (u != src && u != dst && node != UINT32_MAX && node != sn && node != dn)
			continue; /* another node's GPU, NIC or in-node switch: no transit */
		if (u == dst)
			continue;
		for (e = g->adj_start[u]; e < g->adj_start[u + 1]; e++) {
			uint32_t w = topo_link_other(g, g->adj[e], u);

			if (dist[w] == UINT32_MAX) {
				dist[w] = dist[u] + 1;
				q[t++] = w;
			}
			if (dist[w] == dist[u] + 1)
				cnt[w] += cnt[u];
		}
	}
	hops = dist[dst] == UINT32_MAX ? -1 : (int)dist[dst];
	*count = cnt[dst];
	free(dist);
	free(q);
	free(cnt);
	return hops;
}

/* topo_route() agrees with a plain BFS on hop counts and path counts for pseudo-random pairs
 * of endpoints in every family, and its sampled paths are shortest and well formed. */
static void test_routes_match_reference(void **state)
{
	static const char *const files[] = {
		"configs/topologies/fat-tree-1024-2to1.yaml",
		"configs/topologies/rail-only-1024.yaml",
		"configs/topologies/dgx-h100-superpod-1su.yaml",
		"configs/topologies/torus-4x4x4.yaml",
		"configs/topologies/dragonfly-9x4.yaml",
		"configs/topologies/explicit-2leaf.yaml",
		"tests/data/topo/kary-fat-tree-4.yaml",
	};
	uint64_t seed = 12345, links[64];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct topo_desc *d;
		struct topo_graph *g;
		struct topo_router *r;
		uint32_t *ep, n = 0, v;
		int k;

		load(files[i], &d, &g);
		ep = malloc(g->n_vertices * sizeof(*ep));
		assert_non_null(ep);
		for (v = 0; v < g->n_vertices; v++)
			if (g->vertices[v].kind != TOPO_V_SWITCH)
				ep[n++] = v;
		assert_int_equal(topo_router_new(g, &r), 0);
		for (k = 0; k < 200; k++) {
			uint32_t a, b;
			double want, got;
			int hops, ref, p;

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			a = ep[(seed >> 33) % n];
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			b = ep[(seed >> 33) % n];
			ref = ref_route(g, a, b, &want);
			hops = topo_route(r, a, b);
			assert_int_equal(hops, ref);
			got = topo_route_count(r);
			if (fabs(got - want) > 1e-9 * want)
				fail_msg("%s: %s -> %s: %g paths, reference %g", files[i],
					 topo_vertex_name(g, a), topo_vertex_name(g, b), got, want);
			p = topo_route_path(r, seed, links, 64);
			assert_int_equal(p, hops);
			check_path(g, links, p, a, b);
		}
		topo_router_free(r);
		free(ep);
		free_all(d, g);
	}
}

/* A catalog error is reported in the catalog file, at its line and column. */
static void test_catalog_errors(void **state)
{
	char dir[] = "/tmp/test_topo_cat_XXXXXX", path[128], topo[160];
	struct topo_desc *d = NULL;
	struct topo_error e;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/switches.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "parts:\n  - name: tiny\n    radix: 1\n  - name: ok\n    radix: x\n");
	fclose(f);
	snprintf(topo, sizeof(topo), "%s/t.yaml", dir);
	f = fopen(topo, "w");
	assert_non_null(f);
	fprintf(f, "name: t\ncatalog: .\nnode_types: [{name: n}]\n"
		   "fabric: {family: single-switch, node_type: n, nodes: 2, switch: ok}\n"
		   "link_classes: {host: {rate: 1Gbit}}\n");
	fclose(f);
	assert_int_equal(topo_load(topo, &d, &e), -EINVAL);
	/* catalog: . is resolved next to the topology file */
	assert_memory_equal(e.file, dir, strlen(dir));
	assert_non_null(strstr(e.file, "/switches.yaml"));
	assert_int_equal(e.line, 5);
	assert_int_equal(e.column, 12);
	assert_non_null(strstr(e.message, "'x' is not a whole number"));
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "parts:\n  - name: tiny\n    radix: 1\n");
	fclose(f);
	assert_int_equal(topo_load(topo, &d, &e), -EINVAL);
	assert_int_equal(e.line, 3); /* at the value */
	assert_int_equal(e.column, 12);
	assert_non_null(strstr(e.message, "needs radix >= 2"));
	unlink(path);
	unlink(topo);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_kary_fat_tree_4),
		cmocka_unit_test(test_kary_fat_tree_48),
		cmocka_unit_test(test_torus_formula),
		cmocka_unit_test(test_dragonfly_formula),
		cmocka_unit_test(test_superpod_sizes),
		cmocka_unit_test(test_bisection_2to1_is_half),
		cmocka_unit_test(test_bisection_explicit_exact),
		cmocka_unit_test(test_explicit_lab),
		cmocka_unit_test(test_routes_fat_tree),
		cmocka_unit_test(test_routes_rail_only_transit),
		cmocka_unit_test(test_routes_match_reference),
		cmocka_unit_test(test_scale_128k),
		cmocka_unit_test(test_rails_rail_only),
		cmocka_unit_test(test_rails_fat_tree),
		cmocka_unit_test(test_rails_rail_optimized),
		cmocka_unit_test(test_rails_errors),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_catalog_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
