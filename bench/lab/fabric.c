/*
 * fabric.c - the lab_fabric: what one machine emulates (hosts, bridges, shaped links), how it is
 * built from an expanded topology graph, the checks it must pass before anything is created,
 * and the names and addresses of its parts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench/lab/lab.h"

int lab_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Resize *arr (element size sz) to n elements; fabrics are small.  0 or -ENOMEM. */
static int grow(void **arr, uint32_t n, size_t sz)
{
	void *p = realloc(*arr, (size_t)n * sz);

	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

int lab_fabric_new(const char *name, struct lab_fabric **out)
{
	struct lab_fabric *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "lab");
	*out = f;
	return 0;
}

void lab_fabric_free(struct lab_fabric *f)
{
	if (!f)
		return;
	free(f->hosts);
	free(f->bridges);
	free(f->links);
	free(f);
}

int lab_fabric_add_host(struct lab_fabric *f, const char *name, uint32_t *index)
{
	if (strlen(name) >= LAB_NAME_MAX) /* never truncated: a cut name may be a valid one */
		return -ENAMETOOLONG;
	if (grow((void **)&f->hosts, f->n_hosts + 1, sizeof(*f->hosts)))
		return -ENOMEM;
	memset(&f->hosts[f->n_hosts], 0, sizeof(f->hosts[0]));
	snprintf(f->hosts[f->n_hosts].name, LAB_NAME_MAX, "%s", name);
	if (index)
		*index = f->n_hosts;
	f->n_hosts++;
	return 0;
}

int lab_fabric_add_bridge(struct lab_fabric *f, const char *name, uint32_t *index)
{
	if (grow((void **)&f->bridges, f->n_bridges + 1, sizeof(*f->bridges)))
		return -ENOMEM;
	snprintf(f->bridges[f->n_bridges].name, LAB_NAME_MAX, "%s", name);
	if (index)
		*index = f->n_bridges;
	f->n_bridges++;
	return 0;
}

int lab_fabric_add_link(struct lab_fabric *f, struct lab_end a, struct lab_end b, double rate,
			double latency)
{
	struct lab_end *ends[2] = {&a, &b};

	if (grow((void **)&f->links, f->n_links + 1, sizeof(*f->links)))
		return -ENOMEM;
	for (int i = 0; i < 2; i++)
		if (ends[i]->kind == LAB_END_HOST && ends[i]->index < f->n_hosts &&
		    ends[i]->nic >= f->hosts[ends[i]->index].n_nics)
			f->hosts[ends[i]->index].n_nics = ends[i]->nic + 1u;
	f->links[f->n_links++] = (struct lab_link){a, b, rate, latency};
	return 0;
}

bool lab_valid_hostname(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

/* The node name of a NIC vertex: its vertex name up to the first '/', which topo/ puts between
 * the node and the device ("node3/nic0").  A name without '/' is the node name itself.  Its
 * length goes to *len. */
static const char *node_name_of(const struct topo_graph *g, uint32_t v, size_t *len)
{
	const char *name = topo_vertex_name(g, v);

	*len = strcspn(name, "/");
	return name;
}

/* Host index of each node, created on first sight.  UINT32_MAX in node_host means none yet.
 * A node name too long for a hostname is refused here, by name: the host keeps no cut copy. */
static int host_of_node(struct lab_fabric *f, const struct topo_graph *g, uint32_t v,
			uint32_t *node_host, uint32_t *out, char *err, size_t errlen)
{
	uint32_t node = g->vertices[v].node;
	char name[LAB_NAME_MAX];
	const char *full;
	size_t n;
	int rc;

	if (node >= g->n_nodes)
		return lab_errf(err, errlen, "NIC %s has no valid node index",
				topo_vertex_name(g, v));
	if (node_host[node] == UINT32_MAX) {
		full = node_name_of(g, v, &n);
		if (n >= LAB_NAME_MAX)
			return lab_errf(err, errlen,
					"node name \"%.*s\" is not a valid hostname: it has %zu "
					"characters (expected at most %d)",
					(int)n, full, n, LAB_NAME_MAX - 1);
		snprintf(name, sizeof(name), "%.*s", (int)n, full);
		rc = lab_fabric_add_host(f, name, &node_host[node]);
		if (rc)
			return rc;
	}
	*out = node_host[node];
	return 0;
}

static int end_of(struct lab_fabric *f, const struct topo_graph *g, uint32_t v, uint32_t *node_host,
		  uint32_t *vert_bridge, struct lab_end *e, char *err, size_t errlen)
{
	const struct topo_vertex *tv = &g->vertices[v];
	int rc;

	if (tv->kind == TOPO_V_NIC) {
		e->kind = LAB_END_HOST;
		e->nic = tv->local;
		return host_of_node(f, g, v, node_host, &e->index, err, errlen);
	}
	if (tv->kind == TOPO_V_SWITCH) {
		e->kind = LAB_END_BRIDGE;
		if (vert_bridge[v] == UINT32_MAX) {
			rc = lab_fabric_add_bridge(f, topo_vertex_name(g, v), &vert_bridge[v]);
			if (rc)
				return rc;
		}
		e->index = vert_bridge[v];
		e->nic = 0;
		return 0;
	}
	return lab_errf(err, errlen, "a network link ends at %s, which is not a NIC or a switch",
			topo_vertex_name(g, v));
}

int lab_fabric_from_graph(const struct topo_graph *g, const char *name, struct lab_fabric **out,
			  char *err, size_t errlen)
{
	struct lab_fabric *f = NULL;
	uint32_t *node_host, *vert_bridge;
	int rc;

	node_host = malloc((g->n_nodes + 1) * sizeof(*node_host));
	vert_bridge = malloc((g->n_vertices + 1) * sizeof(*vert_bridge));
	rc = -ENOMEM;
	if (!node_host || !vert_bridge)
		goto err_free_maps;
	memset(node_host, 0xff, (g->n_nodes + 1) * sizeof(*node_host));
	memset(vert_bridge, 0xff, (g->n_vertices + 1) * sizeof(*vert_bridge));
	rc = lab_fabric_new(name, &f);
	if (rc)
		goto err_free_maps;

	/* Hosts in node order, so that host h is node h whatever the link order. */
	for (uint32_t v = 0; v < g->n_vertices; v++) {
		uint32_t h;

		if (g->vertices[v].kind != TOPO_V_NIC)
			continue;
		rc = host_of_node(f, g, v, node_host, &h, err, errlen);
		if (rc)
			goto err_free_fabric;
	}
	for (uint64_t l = 0; l < g->n_links; l++) {
		const struct topo_link *tl = &g->links[l];
		struct lab_end a, b;

		if (tl->cls != TOPO_L_HOST && tl->cls != TOPO_L_FABRIC)
			continue;
		rc = end_of(f, g, tl->a, node_host, vert_bridge, &a, err, errlen);
		if (!rc)
			rc = end_of(f, g, tl->b, node_host, vert_bridge, &b, err, errlen);
		if (!rc)
			rc = lab_fabric_add_link(f, a, b, tl->bandwidth, tl->latency);
		if (rc)
			goto err_free_fabric;
	}
	free(vert_bridge);
	free(node_host);
	/* several paths between switches, or hosts with several NICs (rails.c): routed */
	f->routed = lab_fabric_has_loop(f) || lab_fabric_max_nics(f) > 1;
	*out = f;
	return 0;

err_free_fabric:
	lab_fabric_free(f);
err_free_maps:
	free(vert_bridge);
	free(node_host);
	return rc;
}

/* Union-find root with path halving. */
static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

/* The first link that closes a loop among switches, or -1 (-2: out of memory). */
static int64_t first_loop_link(const struct lab_fabric *f)
{
	uint32_t *parent = malloc((f->n_bridges + 1) * sizeof(*parent));
	int64_t found = -1;

	if (!parent)
		return -2;
	for (uint32_t i = 0; i < f->n_bridges; i++)
		parent[i] = i;
	for (uint32_t l = 0; l < f->n_links && found < 0; l++) {
		const struct lab_link *k = &f->links[l];
		uint32_t ra, rb;

		if (k->a.kind != LAB_END_BRIDGE || k->b.kind != LAB_END_BRIDGE)
			continue;
		ra = uf_find(parent, k->a.index);
		rb = uf_find(parent, k->b.index);
		if (ra == rb)
			found = l;
		parent[ra] = rb;
	}
	free(parent);
	return found;
}

bool lab_fabric_has_loop(const struct lab_fabric *f)
{
	return first_loop_link(f) >= 0;
}

static int check_bridge_loops(const struct lab_fabric *f, char *err, size_t errlen)
{
	int64_t l = first_loop_link(f);

	if (l == -2)
		return -ENOMEM;
	if (l < 0)
		return 0;
	return lab_errf(
		err, errlen,
		"the link %s <-> %s closes a loop among switches (several spines or parallel "
		"links); bridges have no spanning tree protocol: such a fabric is built routed",
		f->bridges[f->links[l].a.index].name, f->bridges[f->links[l].b.index].name);
}

static int check_hosts(const struct lab_fabric *f, unsigned max_hosts, char *err, size_t errlen)
{
	if (f->n_hosts == 0)
		return lab_errf(err, errlen,
				"the topology has no nodes with a NIC (expected at least "
				"one node with a network link)");
	if (max_hosts > LAB_HARD_MAX_HOSTS)
		return lab_errf(err, errlen, "--max-hosts %u is above the lab's limit of %u",
				max_hosts, LAB_HARD_MAX_HOSTS);
	if (f->n_hosts > max_hosts)
		return lab_errf(
			err, errlen,
			"the topology has %u nodes, more than the cap of %u namespaces (raise "
			"it with --max-hosts, up to %u)",
			f->n_hosts, max_hosts, LAB_HARD_MAX_HOSTS);
	for (uint32_t h = 0; h < f->n_hosts; h++) {
		const char *n = f->hosts[h].name;

		if (!lab_valid_hostname(n))
			return lab_errf(
				err, errlen,
				"node name \"%s\" is not a valid hostname (expected 1-63 letters, "
				"digits or '-', not starting or ending with '-', no dots)",
				n);
		if (strcasecmp(n, &LAB_FABRIC_NS[strlen(LAB_PREFIX)]) == 0)
			return lab_errf(err, errlen,
					"node name \"fabric\" is reserved by the lab "
					"(it names the switches' namespace)");
		if (f->hosts[h].n_nics > LAB_MAX_NICS)
			return lab_errf(err, errlen, "node %s has %u NICs, more than the lab's %u",
					n, f->hosts[h].n_nics, LAB_MAX_NICS);
		for (uint32_t j = 0; j < h; j++)
			if (strcasecmp(n, f->hosts[j].name) == 0)
				return lab_errf(err, errlen,
						"two nodes are named \"%s\" (hostnames "
						"must be unique, ignoring case)",
						n);
	}
	return 0;
}

static void end_str(const struct lab_fabric *f, const struct lab_end *e, char *buf, size_t len)
{
	if (e->kind == LAB_END_HOST)
		snprintf(buf, len, "%s/nic%u", f->hosts[e->index].name, e->nic);
	else
		snprintf(buf, len, "%s", f->bridges[e->index].name);
}

static int check_links(const struct lab_fabric *f, char *err, size_t errlen)
{
	char a[LAB_NAME_MAX + 16], b[LAB_NAME_MAX + 16];

	if (f->n_links == 0)
		return lab_errf(err, errlen,
				"the topology has no network links (expected links between "
				"NICs and switches)");
	for (uint32_t l = 0; l < f->n_links; l++) {
		const struct lab_link *k = &f->links[l];

		end_str(f, &k->a, a, sizeof(a));
		end_str(f, &k->b, b, sizeof(b));
		if (!(k->rate > 0))
			return lab_errf(
				err, errlen,
				"link %s <-> %s has rate %g bytes/s (expected a rate > 0, e.g. "
				"400Mbit)",
				a, b, k->rate);
		if (k->rate * 8 < 1e3)
			return lab_errf(err, errlen,
					"link %s <-> %s: rate below 1 kbit/s cannot be "
					"shaped with tbf",
					a, b);
		if (k->a.kind == LAB_END_HOST && k->b.kind == LAB_END_HOST &&
		    k->a.index == k->b.index)
			return lab_errf(err, errlen, "link %s <-> %s connects a node to itself", a,
					b);
		if (k->a.kind == LAB_END_BRIDGE && k->b.kind == LAB_END_BRIDGE &&
		    k->a.index == k->b.index)
			return lab_errf(err, errlen, "link %s <-> %s connects a switch to itself",
					a, b);
		/* one link per NIC: a NIC is one interface */
		for (uint32_t m = 0; m < l; m++) {
			const struct lab_end *mine[2] = {&k->a, &k->b};
			const struct lab_end *its[2] = {&f->links[m].a, &f->links[m].b};

			for (int i = 0; i < 2; i++)
				for (int j = 0; j < 2; j++)
					if (mine[i]->kind == LAB_END_HOST &&
					    its[j]->kind == LAB_END_HOST &&
					    mine[i]->index == its[j]->index &&
					    mine[i]->nic == its[j]->nic) {
						end_str(f, mine[i], a, sizeof(a));
						return lab_errf(
							err, errlen,
							"NIC %s has more than one link (the lab "
							"gives each NIC one cable)",
							a);
					}
		}
	}
	return 0;
}

int lab_fabric_check_common(const struct lab_fabric *f, unsigned max_hosts, char *err,
			    size_t errlen)
{
	int rc = check_hosts(f, max_hosts, err, errlen);

	if (!rc)
		rc = check_links(f, err, errlen);
	if (!rc && !f->routed)
		rc = check_bridge_loops(f, err, errlen);
	return rc;
}

void lab_host_ns(const struct lab_fabric *f, uint32_t host, char *buf, size_t len)
{
	snprintf(buf, len, LAB_PREFIX "%s", f->hosts[host].name);
}

void lab_host_ifname(uint16_t nic, char *buf, size_t len)
{
	snprintf(buf, len, LAB_PREFIX "eth%u", nic);
}

void lab_bridge_ifname(uint32_t bridge, char *buf, size_t len)
{
	snprintf(buf, len, LAB_PREFIX "s%u", bridge);
}

void lab_switch_ns(uint32_t sw, char *buf, size_t len)
{
	snprintf(buf, len, LAB_SWITCH_NS_FMT, sw);
}

void lab_port_ifname(uint32_t link, int side, char *buf, size_t len)
{
	if (side < 0)
		snprintf(buf, len, LAB_PREFIX "p%u", link);
	else
		snprintf(buf, len, LAB_PREFIX "p%u%c", link, side ? 'b' : 'a');
}

void lab_host_addr(uint32_t host, uint16_t nic, bool with_prefix, char *buf, size_t len)
{
	snprintf(buf, len, "10.77.%u.%u%s", nic, host + 1, with_prefix ? "/24" : "");
}

int lab_fabric_netns(const struct lab_fabric *f, char ***names, size_t *n)
{
	char ns[LAB_NAME_MAX + 8];
	uint32_t sw = f->routed ? f->n_bridges : (f->n_bridges ? 1 : 0);

	*n = 0;
	*names = calloc((size_t)f->n_hosts + sw + 1, sizeof(**names));
	if (!*names)
		return -ENOMEM;
	for (uint32_t i = 0; i < sw; i++) {
		if (f->routed)
			lab_switch_ns(i, ns, sizeof(ns));
		else
			snprintf(ns, sizeof(ns), "%s", LAB_FABRIC_NS);
		(*names)[(*n)++] = strdup(ns);
	}
	for (uint32_t h = 0; h < f->n_hosts; h++) {
		lab_host_ns(f, h, ns, sizeof(ns));
		(*names)[(*n)++] = strdup(ns);
	}
	for (size_t i = 0; i < *n; i++)
		if (!(*names)[i])
			return -ENOMEM;
	return 0;
}

unsigned lab_fabric_max_nics(const struct lab_fabric *f)
{
	unsigned most = 0;

	for (uint32_t h = 0; h < f->n_hosts; h++)
		most = f->hosts[h].n_nics > most ? f->hosts[h].n_nics : most;
	return most;
}

bool lab_leaf_of_nic(const struct lab_fabric *f, uint32_t h, uint16_t nic, uint32_t *sw,
		     uint32_t *link)
{
	for (uint32_t l = 0; l < f->n_links; l++) {
		const struct lab_link *k = &f->links[l];

		for (int s = 0; s < 2; s++) {
			const struct lab_end *e = s ? &k->b : &k->a, *o = s ? &k->a : &k->b;

			if (e->kind == LAB_END_HOST && e->index == h && e->nic == nic &&
			    o->kind == LAB_END_BRIDGE) {
				*sw = o->index;
				*link = l;
				return true;
			}
		}
	}
	return false;
}
