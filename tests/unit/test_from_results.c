/*
 * test_from_results.c - `arplan topo --from-results` against careless or hostile results files:
 * every string it writes into YAML (host names, NIC names, the results file's own name) must be
 * quoted and escaped so that the file loads back with the same names and nothing added; numbers
 * out of range are refused; 200k hosts are not quadratic.  Each case writes a results
 * file, converts it with plan_topo_from_results() and loads what it wrote with topo_load().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "planner/planner.h"
#include "topo/topo.h"

struct conv {
	int rc;
	char msg[512];
	char *yaml;
	size_t len;
};

static char dir[] = "/tmp/test_from_results_XXXXXX";

/* Write `json` to dir/fname, convert it (every NIC with unknown speed at 10 Gbit). */
static struct conv convert(const char *fname, const char *json)
{
	struct conv c = {0};
	char path[1024];
	FILE *f, *out;

	snprintf(path, sizeof(path), "%s/%s", dir, fname);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	out = open_memstream(&c.yaml, &c.len);
	assert_non_null(out);
	c.rc = plan_topo_from_results(path, "10Gbit", out, c.msg, sizeof(c.msg));
	fclose(out);
	unlink(path);
	return c;
}

/* Load a conversion's YAML back; returns the graph (the caller frees it and *d). */
static struct topo_graph *load_back(const struct conv *c, struct topo_desc **d)
{
	char path[1024];
	struct topo_graph *g = NULL;
	struct topo_error e;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/back.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(c->yaml, 1, c->len, f);
	fclose(f);
	rc = topo_load(path, d, &e);
	if (rc) {
		char buf[1024];

		topo_error_format(&e, buf, sizeof(buf));
		fail_msg("written YAML does not load back: %s\n%s", buf, c->yaml);
	}
	assert_int_equal(topo_expand(*d, &g, &e), 0);
	unlink(path);
	return g;
}

/* Only the keys arplan writes start a line at column 0 (no injected top-level key). */
static void assert_top_keys(const char *yaml)
{
	static const char *const keys[] = {"#",		  "name: ", "description: ", "fabric:",
					   "node_types:", "nodes:", "switches:",     "links:"};
	const char *line = yaml;

	while (*line) {
		size_t i;
		bool ok = line[0] == ' ' || line[0] == '\n';

		for (i = 0; !ok && i < sizeof(keys) / sizeof(keys[0]); i++)
			ok = strncmp(line, keys[i], strlen(keys[i])) == 0;
		if (!ok)
			fail_msg("unexpected line in the YAML: %.80s", line);
		line = strchr(line, '\n');
		if (!line)
			break;
		line++;
	}
}

/* The NIC vertices' names are HOST/nicK: is `host` the name of node `n`'s first NIC? */
static void assert_node_named(const struct topo_graph *g, uint32_t n, const char *host)
{
	uint32_t v;

	for (v = 0; v < g->n_vertices; v++)
		if (g->vertices[v].kind == TOPO_V_NIC && g->vertices[v].node == n) {
			const char *name = topo_vertex_name(g, v);

			assert_int_equal(strncmp(name, host, strlen(host)), 0);
			assert_string_equal(name + strlen(host), "/nic0");
			return;
		}
	fail_msg("node %u has no NIC", n);
}

#define ONE_NIC(host, nic)                                                                         \
	"{\"name\": \"" host "\", \"nics\": [{\"name\": \"" nic "\", \"speed_bps\": 0}]}"

static void test_nic_name_injects_nothing(void **state)
{
	struct conv c = convert(
		"r.json",
		"{\"hosts\": [\"a\", \"b\"], \"nodes_info\": [" ONE_NIC(
			"a",
			"eth0\\ncatalog: /etc\\nx") ", " ONE_NIC("b",
								 "eth0\\u2028catalog: /etc") "]}");
	struct topo_desc *d;
	struct topo_graph *g;

	assert_int_equal(c.rc, 0);
	assert_top_keys(c.yaml);
	assert_null(strstr(c.yaml, "\ncatalog"));
	assert_null(strstr(c.yaml, "\xe2\x80\xa8")); /* LS, a line break to YAML */
	g = load_back(&c, &d);
	assert_int_equal(g->n_nodes, 2);
	topo_graph_free(g);
	topo_desc_free(d);
	free(c.yaml);
}

static void test_results_file_name(void **state)
{
	struct conv c = convert("r\nfabric: x: {y.json",
				"{\"hosts\": [\"a\"], \"nodes_info\": [" ONE_NIC("a", "eth0") "]}");
	struct topo_desc *d;
	struct topo_graph *g;

	assert_int_equal(c.rc, 0);
	assert_top_keys(c.yaml);
	g = load_back(&c, &d);
	assert_string_equal(topo_desc_name(d), "measured-1-node");
	topo_graph_free(g);
	topo_desc_free(d);
	free(c.yaml);
}

static void test_host_names_round_trip(void **state)
{
	char json[4096], long_name[301];
	const char *names[] = {"h\\u0001\\u001b[31m\\t\\r", "x: y # z", "\\\"q\\\\",
			       "n\\u0085\\u2029e", long_name};
	const char *decoded[] = {"h\x01\x1b[31m\t\r", "x: y # z", "\"q\\",
				 "n\xc2\x85\xe2\x80\xa9"
				 "e",
				 long_name};
	struct topo_desc *d;
	struct topo_graph *g;
	struct conv c;
	size_t n = 0, i;

	memset(long_name, 'h', 300);
	long_name[300] = 0;
	n += (size_t)snprintf(json + n, sizeof(json) - n, "{\"hosts\": [");
	for (i = 0; i < 5; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "%s\"%s\"", i ? ", " : "",
				      names[i]);
	n += (size_t)snprintf(json + n, sizeof(json) - n, "], \"nodes_info\": [");
	for (i = 0; i < 5; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n,
				      "%s{\"nics\": [{\"name\": \"e\", \"speed_bps\": 0}]}",
				      i ? ", " : "");
	snprintf(json + n, sizeof(json) - n, "]}");
	c = convert("r.json", json);
	assert_int_equal(c.rc, 0);
	assert_top_keys(c.yaml);
	for (i = 0; i < c.len; i++) /* no raw control character but the line ends */
		assert_true((unsigned char)c.yaml[i] >= 0x20 || c.yaml[i] == '\n');
	g = load_back(&c, &d);
	assert_int_equal(g->n_nodes, 5);
	for (i = 0; i < 5; i++)
		assert_node_named(g, (uint32_t)i, decoded[i]);
	topo_graph_free(g);
	topo_desc_free(d);
	free(c.yaml);
}

/* found by fuzz_from_results: one GPU and NICs of two speeds gave a node type with neither a
 * PCIe generation nor a NIC speed, which the loader refuses (no GPU-NIC bandwidth) */
static void test_one_gpu_mixed_nics(void **state)
{
	struct conv c = convert("r.json", "{\"hosts\": [\"a\"], \"nodes_info\": [{\"gpus\": 1, "
					  "\"nics\": [{\"name\": \"ib0\", \"speed_bps\": 4e11}, "
					  "{\"name\": \"ib1\", \"speed_bps\": 2e11}]}]}");
	struct topo_desc *d;
	struct topo_graph *g;

	assert_int_equal(c.rc, 0);
	g = load_back(&c, &d);
	assert_int_equal(g->gpus_per_node, 1);
	topo_graph_free(g);
	topo_desc_free(d);
	free(c.yaml);
}

static void test_refused(void **state)
{
	static const struct {
		const char *json, *says;
	} cases[] = {
		/* "a/0" and "a": NIC 0 of a would be the node a/0 */
		{"{\"hosts\": [\"a/0\", \"a\"], \"nodes_info\": [" ONE_NIC("a/0", "e") ", " ONE_NIC(
			 "a", "e") "]}",
		 "'/' cannot be in a node name"},
		{"{\"hosts\": [\"a\"], \"nodes_info\": [{\"gpus\": -1, \"nics\": [{\"name\": "
		 "\"e\"}]}]}",
		 "\"gpus\" is not"},
		{"{\"hosts\": [\"a\"], \"nodes_info\": [{\"gpus\": 17, \"nics\": [{\"name\": "
		 "\"e\"}]}]}",
		 "\"gpus\" is not"},
		{"{\"hosts\": [\"a\"], \"nodes_info\": [{\"gpus\": 2.5, \"nics\": [{\"name\": "
		 "\"e\"}]}]}",
		 "\"gpus\" is not"},
		{"{\"hosts\": [\"a\"], \"nodes_info\": [{\"nics\": [{\"name\": \"e\", "
		 "\"speed_bps\": "
		 "-5}]}]}",
		 "speed_bps"},
		{"{\"hosts\": [\"a\"], \"nodes_info\": [{\"nics\": [{\"name\": \"e\", "
		 "\"speed_bps\": "
		 "1e300}]}]}",
		 "speed_bps"},
		{"{\"hosts\": [\"a\"], \"nodes_info\": [{\"nics\": [{\"name\": \"e\", "
		 "\"speed_bps\": "
		 "\"fast\"}]}]}",
		 "speed_bps"},
		{"{\"hosts\": [\"a\", \"b\", \"a\"], \"nodes_info\": [" ONE_NIC(
			 "a", "e") ", " ONE_NIC("b", "e") ", " ONE_NIC("a", "e") "]}",
		 "host a appears twice"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conv c = convert("r.json", cases[i].json);

		if (c.rc != -EINVAL || !strstr(c.msg, cases[i].says))
			fail_msg("case %zu: rc %d, message '%s', expected -EINVAL and '%s'", i,
				 c.rc, c.msg, cases[i].says);
		free(c.yaml);
	}
}

/* 200k hosts: the duplicate check was all pairs (52 s at 100k, over an hour at 1M); the
 * million is in bench/scripts/topo-scale.sh. */
static void test_many_hosts(void **state)
{
#ifdef __SANITIZE_ADDRESS__ /* the sanitizer build is far slower: the size, not the time */
	const size_t n = 20000;
#else
	const size_t n = 200000;
#endif
	char path[1024], *msg = calloc(1, 512);
	struct timespec t0, t1;
	FILE *f, *out;
	size_t i;
	double s;
	int rc;

	assert_non_null(msg);
	snprintf(path, sizeof(path), "%s/big.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"hosts\": [", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s\"node%zu\"", i ? "," : "", (i * 7919) % n); /* not in order */
	fputs("], \"nodes_info\": [", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s{\"nics\":[{\"name\":\"e\",\"speed_bps\":1e11}]}", i ? "," : "");
	fputs("]}", f);
	fclose(f);
	out = fopen("/dev/null", "w");
	assert_non_null(out);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = plan_topo_from_results(path, NULL, out, msg, 512);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fclose(out);
	unlink(path);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	printf("# %zu hosts converted in %.2f s\n", n, s);
	if (rc)
		fail_msg("rc %d: %s", rc, msg);
	free(msg);
#ifndef __SANITIZE_ADDRESS__ /* under ASan on a shared machine: 0.1 to 12 s, not a measure */
	assert_true(s < 10);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nic_name_injects_nothing),
		cmocka_unit_test(test_results_file_name),
		cmocka_unit_test(test_host_names_round_trip),
		cmocka_unit_test(test_one_gpu_mixed_nics),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_many_hosts),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
