/*
 * test_topo_inputs.c - topology input that used to be refused or mis-written: rate notations
 * copied from datasheets and tc (100Gb/s, 100gbit, 100mbit), a torus of more than 8 dimensions,
 * and --dot output of names holding '"', '\' and a line break, which must stay valid DOT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "planner/planner.h"
#include "topo/topo.h"

static void test_rate_notations(void **state)
{
	static const struct {
		const char *s;
		double bytes;
	} ok[] = {
		{"100Gb/s", 12.5e9},	{"100gbit", 12.5e9},  {"100mbit", 12.5e6}, {"10kbit", 1250},
		{"100Gbits/s", 12.5e9}, {"400Gbit", 50e9},    {"100Gbps", 12.5e9}, {"25GB/s", 25e9},
		{"25GBps", 25e9},	{"1.6Tbit/s", 200e9}, {"900MB/s", 900e6},
	};
	static const char *const bad[] = {"100",	"100GB", "100B",  "100Xbit",
					  "100 Gbit/h", "Gbit",	 "100Gb", "100BPS"};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		double v = 0;

		if (topo_parse_rate(ok[i].s, &v) || v != ok[i].bytes)
			fail_msg("'%s': got %g bytes/s, expected %g", ok[i].s, v, ok[i].bytes);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		double v = 0;

		if (topo_parse_rate(bad[i], &v) == 0)
			fail_msg("'%s' accepted as %g bytes/s", bad[i], v);
	}
}

static char *write_tmp(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_topo_inputs_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_torus_nine_dims(void **state)
{
	char *path =
		write_tmp("name: t9\nnode_types:\n  - {name: n}\nfabric:\n  family: torus\n"
			  "  node_type: n\n  dims: [2, 2, 2, 2, 2, 2, 2, 2, 3]\n"
			  "link_classes:\n  host: {rate: 100Gb/s}\n  torus: {rate: 100gbit}\n");
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_error e;
	char msg[600];
	int rc = topo_load(path, &d, &e);

	if (rc) {
		topo_error_format(&e, msg, sizeof(msg));
		fail_msg("%s", msg);
	}
	assert_int_equal(topo_expand(d, &g, &e), 0);
	assert_int_equal(g->n_nodes, 768); /* 2^8 x 3 routers, one node each */
	topo_graph_free(g);
	topo_desc_free(d);
	unlink(path);
}

/* A torus of more than 256 endpoints: its diameter is exact (closed form), not sampled; on a
 * 1.68M-router torus sampling took minutes, the closed form 4 s with the expansion */
static void test_torus_diameter_exact(void **state)
{
	char *path =
		write_tmp("name: t985\nnode_types:\n  - {name: n, gpus: 2, intra: {nvlink: "
			  "450GB/s}, nics: {count: 1, speed: 100Gbit}}\nfabric: {family: torus, "
			  "node_type: n, dims: [9, 8, 5], nodes_per_router: 2}\nlink_classes:\n"
			  "  host: {rate: 100Gbit}\n  torus: {rate: 100Gbit}\n");
	struct topo_summary s;
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_error e;

	assert_int_equal(topo_load(path, &d, &e), 0);
	assert_int_equal(topo_expand(d, &g, &e), 0);
	assert_int_equal(topo_summarize(d, g, &s), 0);
	/* the farthest GPU is 4 hops from its router (as in the exact all-pairs answer of 13 for
	 * the same nodes on a [5, 4, 3] torus: 4 + 5 + 4), and 4 + 4 + 2 between routers; the
	 * sampling of main found the same 18 as a lower bound */
	assert_true(s.diameter_exact);
	assert_int_equal(s.diameter, 18);
	topo_graph_free(g);
	topo_desc_free(d);
	unlink(path);
}

/* A partly filled Clos tree: exact when small (the tier-ratio formula gave 167 Gbit/s against
 * the exact 300); the 1024-node 2:1 tree's last leaf is partial: a lower bound, said so */
static void test_clos_partly_filled(void **state)
{
	static const struct {
		const char *file;
		double gbit;
		bool bound;
	} cases[] = {
		{"tests/data/topo/fat-tree-10-partly-filled.yaml", 300, false},
		{"configs/topologies/fat-tree-1024-2to1.yaml", 102400, true},
		{"configs/topologies/fat-tree-1024-1to1.yaml", 204800, false},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct topo_summary s;
		struct topo_desc *d;
		struct topo_graph *g;
		struct topo_error e;

		assert_int_equal(topo_load(cases[i].file, &d, &e), 0);
		assert_int_equal(topo_expand(d, &g, &e), 0);
		assert_int_equal(topo_summarize(d, g, &s), 0);
		if (s.bisection * 8 / 1e9 < cases[i].gbit * 0.999 ||
		    s.bisection * 8 / 1e9 > cases[i].gbit * 1.001 ||
		    s.bisection_lower_bound != cases[i].bound)
			fail_msg("%s: %g Gbit/s%s, expected %g%s", cases[i].file,
				 s.bisection * 8 / 1e9, s.bisection_lower_bound ? " (bound)" : "",
				 cases[i].gbit, cases[i].bound ? " (bound)" : "");
		topo_graph_free(g);
		topo_desc_free(d);
	}
}

/* DOT: every '"' inside a quoted string is escaped, so quotes pair up on every line */
static void test_dot_escapes_names(void **state)
{
	char *path = write_tmp("name: 'q\"uote\\d'\nfabric: {family: explicit}\n"
			       "nodes:\n  - {name: 'h\"1'}\n  - {name: 'h\\2'}\n"
			       "switches:\n  - {name: \"s\\n0\"}\n"
			       "links:\n  - {a: 'h\"1', b: \"s\\n0\", rate: 100Gb/s}\n"
			       "  - {a: 'h\\2', b: \"s\\n0\", rate: 100Gb/s}\n");
	char *argv[] = {"topo", "--dot", path, NULL}, *buf = NULL, *line, *p;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len), *err = tmpfile();
	int rc;

	rc = plan_cmd_topo(3, argv, out, err);
	fclose(out);
	fclose(err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(buf, "graph \"q\\\"uote\\\\d\" {"));
	assert_non_null(strstr(buf, "[label=\"h\\\"1/nic0\""));
	assert_non_null(strstr(buf, "[label=\"s\\n0\""));
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned quotes = 0;

		for (p = line; *p; p++) {
			if (*p == '\\' && p[1]) {
				p++;
				continue;
			}
			quotes += *p == '"';
		}
		if (quotes % 2)
			fail_msg("unbalanced quotes in DOT line: %s", line);
	}
	free(buf);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_notations),
		cmocka_unit_test(test_torus_nine_dims),
		cmocka_unit_test(test_torus_diameter_exact),
		cmocka_unit_test(test_clos_partly_filled),
		cmocka_unit_test(test_dot_escapes_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
