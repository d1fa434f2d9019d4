/*
 * test_lab.c - unit tests of the emulated lab's pure parts (no root needed): mapping a topology
 * graph onto a lab_fabric, the checks `arlab up` makes before touching the system, and the
 * ip/tc plan (names, prefixes, namespaces, shaping on both ends of every link).
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

/* ---- a hand-built topo_graph: N nodes (GPU + NIC each), one leaf switch ------------------- */

struct gbuild {
	struct topo_graph g;
	struct topo_vertex v[64];
	struct topo_link l[64];
	char names[4096];
	size_t nlen;
};

static uint32_t gvert(struct gbuild *b, enum topo_vertex_kind k, uint32_t node, uint16_t local,
		      const char *name)
{
	uint32_t i = b->g.n_vertices++;

	b->v[i] = (struct topo_vertex){k, node, local, 0, (uint32_t)b->nlen};
	strcpy(b->names + b->nlen, name);
	b->nlen += strlen(name) + 1;
	return i;
}

static void glink(struct gbuild *b, uint32_t x, uint32_t y, enum topo_link_class c, double bw)
{
	b->l[b->g.n_links++] = (struct topo_link){x, y, c, bw, 1e-6};
}

static void gstar(struct gbuild *b, unsigned nodes, double rate)
{
	char name[64];
	uint32_t sw;

	memset(b, 0, sizeof(*b));
	b->g.vertices = b->v;
	b->g.links = b->l;
	b->g.names = b->names;
	b->g.n_nodes = nodes;
	sw = gvert(b, TOPO_V_SWITCH, UINT32_MAX, 0, "leaf0");
	for (unsigned n = 0; n < nodes; n++) {
		uint32_t gpu, nic;

		snprintf(name, sizeof(name), "node%u/gpu0", n);
		gpu = gvert(b, TOPO_V_GPU, n, 0, name);
		snprintf(name, sizeof(name), "node%u/nic0", n);
		nic = gvert(b, TOPO_V_NIC, n, 0, name);
		glink(b, gpu, nic, TOPO_L_INTRA, 32e9);
		glink(b, nic, sw, TOPO_L_HOST, rate);
	}
}

static void test_hostnames(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{"node0", true},
		{"a", true},
		{"Leaf-3x", true},
		{"", false},
		{"-node", false},
		{"node-", false},
		{"no.de", false},
		{"no_de", false},
		{"nöde", false},
		{"a b", false},
		{"a;rm", false},
		{"$(x)", false},
		{"0123456789012345678901234567890123456789012345678901234567890123", false},
		{"012345678901234567890123456789012345678901234567890123456789012", true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (lab_valid_hostname(cases[i].s) != cases[i].ok)
			fail_msg("lab_valid_hostname(\"%s\") != %d", cases[i].s, cases[i].ok);
	}
}

static void test_from_graph(void **state)
{
	struct gbuild b;
	struct lab_fabric *f = NULL;
	char err[LAB_ERR_MAX];

	gstar(&b, 3, MBIT(400));
	assert_int_equal(lab_fabric_from_graph(&b.g, "t", &f, err, sizeof(err)), 0);
	assert_int_equal(f->n_hosts, 3);
	assert_int_equal(f->n_bridges, 1);
	assert_int_equal(f->n_links, 3); /* the INTRA links are not emulated */
	assert_string_equal(f->hosts[0].name, "node0");
	assert_string_equal(f->hosts[2].name, "node2");
	assert_string_equal(f->bridges[0].name, "leaf0");
	for (uint32_t l = 0; l < f->n_links; l++) {
		assert_true(f->links[l].rate == MBIT(400));
		assert_int_equal(f->links[l].a.kind, LAB_END_HOST);
		assert_int_equal(f->links[l].a.index, l);
		assert_int_equal(f->links[l].b.kind, LAB_END_BRIDGE);
	}
	assert_int_equal(f->hosts[1].n_nics, 1);
	assert_int_equal(lab_fabric_check(f, 64, err, sizeof(err)), 0);
	lab_fabric_free(f);
}

/* check() must fail on g with a message containing want. */
static void expect_check_fails(struct lab_fabric *f, unsigned max_hosts, const char *want)
{
	char err[LAB_ERR_MAX] = "";

	assert_int_equal(lab_fabric_check(f, max_hosts, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not mention \"%s\"", err, want);
}

static void test_check_bad_input(void **state)
{
	struct gbuild b;
	struct lab_fabric *f = NULL;
	char err[LAB_ERR_MAX];

	/* no nodes */
	assert_int_equal(lab_fabric_new("empty", &f), 0);
	expect_check_fails(f, 64, "no nodes");
	lab_fabric_free(f);

	/* a rate of 0 */
	gstar(&b, 2, MBIT(100));
	b.l[3].bandwidth = 0;
	assert_int_equal(lab_fabric_from_graph(&b.g, "t", &f, err, sizeof(err)), 0);
	expect_check_fails(f, 64, "rate");
	lab_fabric_free(f);

	/* a node name that is not a hostname */
	gstar(&b, 2, MBIT(100));
	strcpy(b.names + b.v[4].name, "no_de/nic0");
	assert_int_equal(lab_fabric_from_graph(&b.g, "t", &f, err, sizeof(err)), 0);
	expect_check_fails(f, 64, "not a valid hostname");
	lab_fabric_free(f);

	/* more hosts than the cap */
	gstar(&b, 5, MBIT(100));
	assert_int_equal(lab_fabric_from_graph(&b.g, "t", &f, err, sizeof(err)), 0);
	expect_check_fails(f, 4, "more than the cap of 4");
	assert_int_equal(lab_fabric_check(f, 5, err, sizeof(err)), 0);
	lab_fabric_free(f);
}

/* gstar's node1 renamed to name (its NIC vertex; names are packed, so appended at the end). */
static void rename_node1(struct gbuild *b, const char *name)
{
	b->v[4].name = (uint32_t)b->nlen;
	b->nlen += (size_t)sprintf(b->names + b->nlen, "%s/nic0", name) + 1;
}

/* A node name of 64 characters or more is an error that names it in full; it is never cut to
 * a valid 63-character hostname.  63 characters are fine. */
static void test_long_node_name(void **state)
{
	static const char n63[] = "n12345678901234567890123456789012345678901234567890123456789012";
	char n64[sizeof(n63) + 1], err[LAB_ERR_MAX] = "";
	struct lab_fabric *f = NULL;
	struct gbuild b;

	assert_int_equal(strlen(n63), 63);
	snprintf(n64, sizeof(n64), "%sx", n63);

	gstar(&b, 2, MBIT(100));
	rename_node1(&b, n63);
	assert_int_equal(lab_fabric_from_graph(&b.g, "t", &f, err, sizeof(err)), 0);
	assert_string_equal(f->hosts[1].name, n63);
	assert_int_equal(lab_fabric_check(f, 64, err, sizeof(err)), 0);
	lab_fabric_free(f);

	gstar(&b, 2, MBIT(100));
	rename_node1(&b, n64);
	f = NULL;
	assert_int_equal(lab_fabric_from_graph(&b.g, "t", &f, err, sizeof(err)), -EINVAL);
	assert_null(f);
	if (!strstr(err, n64) || !strstr(err, "not a valid hostname") ||
	    !strstr(err, "64 characters"))
		fail_msg("error \"%s\" does not name the 64-character node", err);

	/* the same holds for a fabric built by hand */
	assert_int_equal(lab_fabric_new("t", &f), 0);
	assert_int_equal(lab_fabric_add_host(f, n63, NULL), 0);
	assert_int_equal(lab_fabric_add_host(f, n64, NULL), -ENAMETOOLONG);
	assert_int_equal(f->n_hosts, 1);
	lab_fabric_free(f);
}

static void test_check_structure(void **state)
{
	struct lab_fabric *f = NULL;
	uint32_t h0, h1, s0, s1, s2;
	struct lab_end e0 = {LAB_END_HOST, 0, 0}, e1 = {LAB_END_HOST, 1, 0};

	/* two leaves and two spines: a loop without STP */
	assert_int_equal(lab_fabric_new("loop", &f), 0);
	assert_int_equal(lab_fabric_add_host(f, "a", &h0), 0);
	assert_int_equal(lab_fabric_add_host(f, "b", &h1), 0);
	assert_int_equal(lab_fabric_add_bridge(f, "leaf0", &s0), 0);
	assert_int_equal(lab_fabric_add_bridge(f, "leaf1", &s1), 0);
	assert_int_equal(lab_fabric_add_bridge(f, "spine0", &s2), 0);
	lab_fabric_add_link(f, e0, (struct lab_end){LAB_END_BRIDGE, s0, 0}, MBIT(100), 0);
	lab_fabric_add_link(f, e1, (struct lab_end){LAB_END_BRIDGE, s1, 0}, MBIT(100), 0);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_BRIDGE, s0, 0},
			    (struct lab_end){LAB_END_BRIDGE, s2, 0}, MBIT(400), 0);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_BRIDGE, s1, 0},
			    (struct lab_end){LAB_END_BRIDGE, s2, 0}, MBIT(400), 0);
	{
		char err[LAB_ERR_MAX];

		assert_int_equal(lab_fabric_check(f, 64, err, sizeof(err)), 0); /* one spine */
	}
	lab_fabric_add_bridge(f, "spine1", NULL);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_BRIDGE, s0, 0},
			    (struct lab_end){LAB_END_BRIDGE, 3, 0}, MBIT(400), 0);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_BRIDGE, s1, 0},
			    (struct lab_end){LAB_END_BRIDGE, 3, 0}, MBIT(400), 0);
	expect_check_fails(f, 64, "loop");   /* bridged: refused */
	assert_true(lab_fabric_has_loop(f)); /* from a topology: built routed */
	f->routed = true;
	{
		char err[LAB_ERR_MAX];

		assert_int_equal(lab_fabric_check(f, 64, err, sizeof(err)), 0);
	}
	lab_fabric_free(f);

	/* two parallel cables between the same two switches are a loop too */
	assert_int_equal(lab_fabric_new("parallel", &f), 0);
	lab_fabric_add_host(f, "a", NULL);
	lab_fabric_add_bridge(f, "s0", NULL);
	lab_fabric_add_bridge(f, "s1", NULL);
	lab_fabric_add_link(f, e0, (struct lab_end){LAB_END_BRIDGE, 0, 0}, MBIT(100), 0);
	for (int i = 0; i < 2; i++)
		lab_fabric_add_link(f, (struct lab_end){LAB_END_BRIDGE, 0, 0},
				    (struct lab_end){LAB_END_BRIDGE, 1, 0}, MBIT(100), 0);
	expect_check_fails(f, 64, "loop");
	lab_fabric_free(f);

	/* duplicate names (hostnames ignore case), a reserved name, a NIC with two cables */
	assert_int_equal(lab_fabric_new("dup", &f), 0);
	lab_fabric_add_host(f, "node0", NULL);
	lab_fabric_add_host(f, "NODE0", NULL);
	lab_fabric_add_link(f, e0, e1, MBIT(100), 0);
	expect_check_fails(f, 64, "two nodes are named");
	strcpy(f->hosts[1].name, "fabric");
	expect_check_fails(f, 64, "reserved");
	strcpy(f->hosts[1].name, "node1");
	lab_fabric_add_bridge(f, "sw", NULL);
	lab_fabric_add_link(f, e0, (struct lab_end){LAB_END_BRIDGE, 0, 0}, MBIT(100), 0);
	expect_check_fails(f, 64, "more than one link");
	lab_fabric_free(f);
}

static void test_tbf_params(void **state)
{
	uint64_t r, burst;

	lab_tbf_params(MBIT(400), &r, &burst);
	assert_int_equal(r, 400000000ull);
	assert_true(burst >= 65536);
	lab_tbf_params(MBIT(100000), &r, &burst); /* 100 Gbit/s: 1 ms of it */
	assert_int_equal(r, 100000000000ull);
	assert_int_equal(burst, 12500000ull);
}

/* Does the plan contain a command whose argv, joined with spaces, equals s? */
static bool plan_has(const struct lab_plan *p, const char *s)
{
	char line[1024];

	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(lab_cmd_line(&p->cmds[i], line, sizeof(line)), s))
			return true;
	return false;
}

static void test_plan(void **state)
{
	struct gbuild b;
	struct lab_fabric *f = NULL;
	struct lab_plan p = {0};
	char err[LAB_ERR_MAX];
	unsigned tbf = 0;

	gstar(&b, 2, MBIT(200));
	assert_int_equal(lab_fabric_from_graph(&b.g, "t", &f, err, sizeof(err)), 0);
	assert_int_equal(lab_plan_up(f, &p), 0);
	for (size_t i = 0; i < p.n; i++) {
		char **av = p.cmds[i].argv;
		bool netns = !strcmp(av[0], "ip") && !strcmp(av[1], "netns");

		/* every command names one of the lab's namespaces: nothing in the root namespace */
		assert_true(!strcmp(av[0], "ip") || !strcmp(av[0], "tc"));
		if (netns)
			assert_int_equal(strncmp(av[3], LAB_PREFIX, strlen(LAB_PREFIX)), 0);
		else {
			assert_string_equal(av[1], "-n");
			assert_int_equal(strncmp(av[2], LAB_PREFIX, strlen(LAB_PREFIX)), 0);
		}
		/* every interface it creates has the prefix and fits IFNAMSIZ */
		for (int j = 0; j + 1 < p.cmds[i].argc; j++)
			if (!strcmp(av[j], "dev") || !strcmp(av[j], "name") ||
			    (!strcmp(av[j], "add") && !strcmp(av[j - 1], "link"))) {
				assert_int_equal(strncmp(av[j + 1], LAB_PREFIX, 4), 0);
				assert_true(strlen(av[j + 1]) <= 15);
			}
		tbf += !strcmp(av[0], "tc");
	}
	assert_int_equal(tbf, 2 * f->n_links); /* shaped on both ends */
	assert_true(plan_has(&p, "ip netns add arl-fabric"));
	assert_true(plan_has(&p, "ip netns add arl-node1"));
	assert_true(plan_has(&p, "ip -n arl-fabric link add arl-s0 type bridge stp_state 0"));
	assert_true(plan_has(&p, "ip -n arl-node0 link add arl-eth0 type veth peer name arl-p0 "
				 "netns arl-fabric"));
	assert_true(plan_has(&p, "ip -n arl-node1 addr add 10.77.0.2/24 dev arl-eth0"));
	assert_true(plan_has(&p, "ip -n arl-fabric link set arl-p1 master arl-s0 mtu 9000 up"));
	assert_true(plan_has(&p, "tc -n arl-fabric qdisc add dev arl-p1 root tbf rate 200000000bit "
				 "burst 65536 latency 400ms"));
	assert_true(plan_has(&p, "tc -n arl-node1 qdisc add dev arl-eth0 root tbf rate "
				 "200000000bit burst 65536 latency 400ms"));
	lab_plan_free(&p);
	lab_fabric_free(f);
}

/* Two leaves, two spines, one host per leaf: hosts a (leaf0) and b (leaf1); links 0, 1 the host
 * links, 2: leaf0-spine0, 3: leaf0-spine1, 4: leaf1-spine0, 5: leaf1-spine1. */
static struct lab_fabric *two_spines(void)
{
	struct lab_fabric *f = NULL;
	struct lab_end h0 = {LAB_END_HOST, 0, 0}, h1 = {LAB_END_HOST, 1, 0};
	struct lab_end sw[4];

	assert_int_equal(lab_fabric_new("two-spines", &f), 0);
	lab_fabric_add_host(f, "a", NULL);
	lab_fabric_add_host(f, "b", NULL);
	for (uint32_t i = 0; i < 4; i++) {
		static const char *const names[] = {"leaf0", "leaf1", "spine0", "spine1"};

		lab_fabric_add_bridge(f, names[i], NULL);
		sw[i] = (struct lab_end){LAB_END_BRIDGE, i, 0};
	}
	lab_fabric_add_link(f, h0, sw[0], MBIT(100), 0);
	lab_fabric_add_link(f, h1, sw[1], MBIT(100), 0);
	lab_fabric_add_link(f, sw[0], sw[2], MBIT(200), 0);
	lab_fabric_add_link(f, sw[0], sw[3], MBIT(200), 0);
	lab_fabric_add_link(f, sw[1], sw[2], MBIT(200), 0);
	lab_fabric_add_link(f, sw[1], sw[3], MBIT(200), 0);
	f->routed = lab_fabric_has_loop(f);
	return f;
}

static void test_routed_plan(void **state)
{
	struct lab_fabric *f = two_spines();
	struct lab_plan p = {0};
	char err[LAB_ERR_MAX];
	unsigned tbf = 0;

	assert_true(f->routed);
	assert_int_equal(lab_fabric_check(f, 64, err, sizeof(err)), 0);
	assert_int_equal(lab_plan_up(f, &p), 0);
	for (size_t i = 0; i < p.n; i++) {
		char **av = p.cmds[i].argv;

		/* every command names a lab namespace; no bridge, no fabric namespace */
		if (!strcmp(av[1], "netns"))
			assert_int_equal(strncmp(av[3], LAB_PREFIX, strlen(LAB_PREFIX)), 0);
		else
			assert_int_equal(strncmp(av[2], LAB_PREFIX, strlen(LAB_PREFIX)), 0);
		for (int j = 0; j < p.cmds[i].argc; j++) {
			assert_null(strstr(av[j], "bridge"));
			assert_null(strstr(av[j], LAB_FABRIC_NS));
		}
		tbf += !strcmp(av[0], "tc");
	}
	assert_int_equal(tbf, 2 * f->n_links);
	assert_true(plan_has(&p, "ip netns add arl-sw_3"));
	assert_true(plan_has(&p,
			     "ip netns exec arl-sw_0 sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
			     "net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=1 "
			     "net.ipv4.fib_multipath_hash_policy=1 net.ipv4.conf.all.rp_filter=0 "
			     "net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0 "
			     "net.ipv4.conf.default.send_redirects=0"));
	/* hosts keep the bridged labs' addresses; the leaf knows the host's MAC and routes to it */
	assert_true(plan_has(&p, "ip -n arl-b addr add 10.77.0.2/24 dev arl-eth0"));
	assert_true(plan_has(&p,
			     "ip -n arl-a link add arl-eth0 address 02:77:00:00:00:0a type veth "
			     "peer name arl-p0 address 02:77:00:00:00:0b netns arl-sw_0"));
	assert_true(plan_has(&p, "ip -n arl-sw_1 neigh replace 10.77.0.2 lladdr 02:77:00:00:01:0a "
				 "dev arl-p1 nud permanent"));
	assert_true(plan_has(&p, "ip -n arl-sw_1 route add 10.77.0.2 dev arl-p1"));
	/* switch links: a /30 each; leaf0 reaches b over both spines, a spine over one link */
	assert_true(plan_has(&p, "ip -n arl-sw_0 addr add 10.78.0.9/30 dev arl-p2a"));
	assert_true(plan_has(&p, "ip -n arl-sw_2 addr add 10.78.0.10/30 dev arl-p2b"));
	assert_true(plan_has(&p, "ip -n arl-sw_0 route add 10.77.0.2 nexthop via 10.78.0.10 dev "
				 "arl-p2a nexthop via 10.78.0.14 dev arl-p3a"));
	assert_true(plan_has(&p, "ip -n arl-sw_2 route add 10.77.0.2 via 10.78.0.17 dev arl-p4b"));
	assert_true(plan_has(&p, "ip -n arl-sw_1 route add 10.77.0.1 nexthop via 10.78.0.18 dev "
				 "arl-p4a nexthop via 10.78.0.22 dev arl-p5a"));
	lab_plan_free(&p);
	lab_fabric_free(f);
}

static void test_routed_check(void **state)
{
	struct lab_fabric *f = two_spines();
	char err[LAB_ERR_MAX];

	/* a node with a second NIC on the other leaf: routed like rails (test_lab_rails) */
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 0, 1},
			    (struct lab_end){LAB_END_BRIDGE, 1, 0}, MBIT(100), 0);
	assert_int_equal(lab_fabric_check(f, 64, err, sizeof(err)), 0);
	lab_fabric_free(f);

	/* a cable between two nodes */
	f = two_spines();
	lab_fabric_add_host(f, "c", NULL);
	lab_fabric_add_host(f, "d", NULL);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 2, 0},
			    (struct lab_end){LAB_END_HOST, 3, 0}, MBIT(100), 0);
	expect_check_fails(f, 64, "joins two nodes directly");
	lab_fabric_free(f);

	/* a node on a switch that no path joins to the others */
	f = two_spines();
	lab_fabric_add_host(f, "e", NULL);
	lab_fabric_add_bridge(f, "island", NULL);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 2, 0},
			    (struct lab_end){LAB_END_BRIDGE, 4, 0}, MBIT(100), 0);
	expect_check_fails(f, 64, "no path between nodes a and e");
	lab_fabric_free(f);

	/* a node without a link */
	f = two_spines();
	lab_fabric_add_host(f, "lonely", NULL);
	expect_check_fails(f, 64, "node lonely has no link");
	assert_int_equal(lab_fabric_check(f, 64, err, sizeof(err)), -EINVAL);
	lab_fabric_free(f);
}

static void test_run(void **state)
{
	char *ok[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	char *missing[] = {"/nonexistent/arlab-no-such-program", NULL};
	char out[64], err[64], tiny[4];

	assert_int_equal(lab_run(ok, out, sizeof(out), err, sizeof(err)), 3);
	assert_string_equal(out, "out\n");
	assert_string_equal(err, "err"); /* one line: trailing newline stripped */
	assert_int_equal(lab_run(ok, tiny, sizeof(tiny), NULL, 0), 3); /* truncated, not overrun */
	assert_string_equal(tiny, "out");
	assert_int_equal(lab_run(missing, NULL, 0, err, sizeof(err)), 127);
	assert_non_null(strstr(err, "cannot run"));
}

static void test_state(void **state)
{
	char dir[] = "/tmp/test_lab.XXXXXX", topo[256], path[300], **names = NULL, *data = NULL;
	struct lab_fabric *f = NULL;
	size_t n = 0;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(topo, sizeof(topo), "%s/t.yaml", dir);
	fp = fopen(topo, "w");
	assert_non_null(fp);
	fputs("name: t\n", fp);
	fclose(fp);
	assert_int_equal(lab_fabric_new("t", &f), 0);
	lab_fabric_add_host(f, "alpha", NULL);
	lab_fabric_add_host(f, "beta", NULL);
	lab_fabric_add_bridge(f, "leaf0", NULL);
	lab_fabric_add_link(f, (struct lab_end){LAB_END_HOST, 1, 1},
			    (struct lab_end){LAB_END_BRIDGE, 0, 0}, MBIT(100), 0);
	assert_int_equal(lab_state_write(f, topo, dir), 0);
	assert_int_equal(lab_state_hosts(dir, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "alpha");
	assert_string_equal(names[1], "beta");
	lab_free_names(names, n);
	snprintf(path, sizeof(path), "%s/topology.yaml", dir);
	assert_int_equal(lab_read_file(path, &data, &n), 0);
	assert_string_equal(data, "name: t\n");
	free(data);
	snprintf(path, sizeof(path), "%s/bridges", dir);
	assert_int_equal(lab_read_file(path, &data, NULL), 0);
	assert_string_equal(data, "arl-s0 leaf0\n");
	free(data);
	snprintf(path, sizeof(path), "%s/nics", dir);
	assert_int_equal(lab_read_file(path, &data, NULL), 0);
	assert_string_equal(data, "2\n"); /* beta's NIC 1 */
	free(data);
	snprintf(path, sizeof(path), "%s/links", dir); /* both ends of every link, for counters */
	assert_int_equal(lab_read_file(path, &data, NULL), 0);
	assert_string_equal(data, "arl-beta arl-eth1 arl-fabric arl-p0 beta/nic1 leaf0 host\n");
	free(data);
	snprintf(path, sizeof(path), "%s/rsh-agent", dir);
	assert_int_equal(access(path, X_OK), 0);
	snprintf(path, sizeof(path), "%s/rail-bind", dir);
	assert_int_equal(access(path, X_OK), 0);
	lab_fabric_free(f);
	for (const char *const *fn = (const char *const[]){"t.yaml", "topology.yaml", "source",
							   "hosts", "bridges", "links", "nics",
							   "rsh-agent", "rails", "rail-bind", NULL};
	     *fn; fn++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *fn);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostnames),
		cmocka_unit_test(test_from_graph),
		cmocka_unit_test(test_check_bad_input),
		cmocka_unit_test(test_long_node_name),
		cmocka_unit_test(test_check_structure),
		cmocka_unit_test(test_tbf_params),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_routed_plan),
		cmocka_unit_test(test_routed_check),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
