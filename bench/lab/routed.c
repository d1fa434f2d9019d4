/*
 * routed.c - routed fabrics: when two switches are joined by more than one path (several
 * spines, parallel cables, a fat-tree), bridges without a spanning tree would loop, so every
 * switch becomes a layer-3 switch instead: a namespace of its own (arl-sw_<i>) that forwards
 * IPv4, with a route to every host over all its equal-cost next hops, hashed on the 5-tuple
 * (net.ipv4.fib_multipath_hash_policy=1), as a data-centre fabric's ECMP does.  Hosts with
 * several NICs (rails) are built routed too, with a route to each of their NICs (rails.c).
 *
 * Addressing: hosts keep the bridged labs' address and /24 (10.77.k.(h+1)), so Open MPI and
 * the rsh agent see the same lab; the leaf answers their ARP for any other host (proxy ARP, no
 * delay) and knows each host's MAC statically (every veth gets a MAC made from its link index).
 * A switch<->switch link l is the /30 10.78.0.0 + 4l (a end .1, b end .2).  Every port is shaped
 * with tbf exactly as in a bridged lab.  Sysctls are set only inside the lab's namespaces, so
 * deleting them (arlab down, or a failed up) restores everything.
 *
 *   host h --(proxy ARP, /32 route + static neighbour)-- leaf --(/30, ECMP)-- spine ...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/lab/lab.h"

#define MAX_NEXTHOPS 64

static const struct lab_end *end_of(const struct lab_link *k, int side)
{
	return side ? &k->b : &k->a;
}

void lab_link_end(const struct lab_fabric *f, uint32_t l, int side, char *ns, size_t nslen,
		  char *dev, size_t devlen)
{
	const struct lab_link *k = &f->links[l];
	const struct lab_end *e = end_of(k, side);
	bool both = k->a.kind == LAB_END_BRIDGE && k->b.kind == LAB_END_BRIDGE;

	if (e->kind == LAB_END_HOST) {
		lab_host_ns(f, e->index, ns, nslen);
		lab_host_ifname(e->nic, dev, devlen);
		return;
	}
	if (f->routed)
		lab_switch_ns(e->index, ns, nslen);
	else
		snprintf(ns, nslen, "%s", LAB_FABRIC_NS);
	lab_port_ifname(l, both ? side : -1, dev, devlen);
}

/* MAC of one end of link l: locally administered, unique in the lab. */
static void link_mac(uint32_t l, int side, char *buf, size_t len)
{
	snprintf(buf, len, "02:77:%02x:%02x:%02x:%02x", (l >> 16) & 0xff, (l >> 8) & 0xff, l & 0xff,
		 side ? 0x0b : 0x0a);
}

/* Address of one end of switch<->switch link l, with or without its /30. */
static void link_addr(uint32_t l, int side, bool with_prefix, char *buf, size_t len)
{
	uint32_t a = 4 * l + 1 + (uint32_t)side;

	snprintf(buf, len, LAB_LINK_NET ".%u.%u%s", a >> 8, a & 0xff, with_prefix ? "/30" : "");
}

/* Whether any NIC of host h is cabled to a switch. */
static bool host_cabled(const struct lab_fabric *f, uint32_t h)
{
	uint32_t sw, link;

	for (unsigned k = 0; k < f->hosts[h].n_nics; k++)
		if (lab_leaf_of_nic(f, h, (uint16_t)k, &sw, &link))
			return true;
	return false;
}

/* Hops from every switch to switch `to` over switch<->switch links (UINT32_MAX: no path). */
static void switch_dist(const struct lab_fabric *f, uint32_t to, uint32_t *dist, uint32_t *queue)
{
	size_t head = 0, tail = 0;

	for (uint32_t i = 0; i < f->n_bridges; i++)
		dist[i] = UINT32_MAX;
	dist[to] = 0;
	queue[tail++] = to;
	while (head < tail) {
		uint32_t v = queue[head++];

		for (uint32_t l = 0; l < f->n_links; l++) {
			const struct lab_link *k = &f->links[l];
			uint32_t w;

			if (k->a.kind != LAB_END_BRIDGE || k->b.kind != LAB_END_BRIDGE)
				continue;
			if (k->a.index == v)
				w = k->b.index;
			else if (k->b.index == v)
				w = k->a.index;
			else
				continue;
			if (dist[w] == UINT32_MAX) {
				dist[w] = dist[v] + 1;
				queue[tail++] = w;
			}
		}
	}
}

int lab_routed_check(const struct lab_fabric *f, char *err, size_t errlen)
{
	if (f->n_links > LAB_ROUTED_MAX_LINKS)
		return lab_errf(err, errlen, "%u links: a routed lab numbers at most %u",
				f->n_links, LAB_ROUTED_MAX_LINKS);
	for (uint32_t l = 0; l < f->n_links; l++)
		if (f->links[l].a.kind == LAB_END_HOST && f->links[l].b.kind == LAB_END_HOST)
			return lab_errf(
				err, errlen,
				"link %s <-> %s joins two nodes directly; in a routed lab "
				"(several paths between switches, or nodes with several NICs) "
				"every NIC is cabled to a switch",
				f->hosts[f->links[l].a.index].name,
				f->hosts[f->links[l].b.index].name);
	for (uint32_t h = 0; h < f->n_hosts; h++)
		if (!host_cabled(f, h))
			return lab_errf(err, errlen,
					"node %s has no link to a switch: nothing could reach it",
					f->hosts[h].name);
	return lab_rails_check(f, err, errlen);
}

/* One switch's namespace: forwarding, 5-tuple multipath hash, no reverse-path filter (a reply
 * may come back over another spine), no redirects.  (The neighbour defaults are not per
 * namespace: proxy ARP's delay is set on each host port, plan_end.) */
static int plan_switch(struct lab_plan *p, uint32_t sw)
{
	char ns[32];
	int rc;

	lab_switch_ns(sw, ns, sizeof(ns));
	rc = lab_plan_add(p, "ip", "netns", "add", ns, NULL);
	if (!rc)
		rc = lab_plan_add(p, "ip", "-n", ns, "link", "set", "lo", "up", NULL);
	if (!rc)
		rc = lab_plan_add(
			p, "ip", "netns", "exec", ns, "sysctl", "-qw",
			"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
			"net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=1",
			"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
			"net.ipv4.conf.all.send_redirects=0",
			"net.ipv4.conf.default.send_redirects=0", NULL);
	return rc;
}

/* Configure one end of link l (created): address or host route, up, shaped. */
static int plan_end(const struct lab_fabric *f, uint32_t l, int side, struct lab_plan *p)
{
	const struct lab_link *k = &f->links[l];
	const struct lab_end *e = end_of(k, side), *o = end_of(k, !side);
	char ns[LAB_NAME_MAX + 8], dev[32], addr[40], mac[24], key[96], key2[96];
	int rc = 0;

	lab_link_end(f, l, side, ns, sizeof(ns), dev, sizeof(dev));
	if (e->kind == LAB_END_HOST) {
		lab_host_addr(e->index, e->nic, true, addr, sizeof(addr));
		rc = lab_plan_add(p, "ip", "-n", ns, "addr", "add", addr, "dev", dev, NULL);
	} else if (o->kind == LAB_END_BRIDGE) {
		link_addr(l, side, true, addr, sizeof(addr));
		rc = lab_plan_add(p, "ip", "-n", ns, "addr", "add", addr, "dev", dev, NULL);
	}
	if (!rc)
		rc = lab_plan_add(p, "ip", "-n", ns, "link", "set", dev, "mtu", LAB_MTU, "up",
				  NULL);
	if (!rc && e->kind == LAB_END_BRIDGE && o->kind == LAB_END_HOST) {
		/* the leaf's port to a host: answers the host's ARP for everyone else, knows the
		 * host's MAC, and routes the host's address to it */
		snprintf(key, sizeof(key), "net.ipv4.conf.%s.proxy_arp=1", dev);
		snprintf(key2, sizeof(key2), "net.ipv4.neigh.%s.proxy_delay=0", dev);
		rc = lab_plan_add(p, "ip", "netns", "exec", ns, "sysctl", "-qw", key, key2, NULL);
		lab_host_addr(o->index, o->nic, false, addr, sizeof(addr));
		link_mac(l, !side, mac, sizeof(mac));
		if (!rc)
			rc = lab_plan_add(p, "ip", "-n", ns, "neigh", "replace", addr, "lladdr",
					  mac, "dev", dev, "nud", "permanent", NULL);
		if (!rc)
			rc = lab_plan_add(p, "ip", "-n", ns, "route", "add", addr, "dev", dev,
					  NULL);
		if (!rc)
			rc = lab_plan_rail_port(f, o->index, ns, dev, p);
	}
	if (!rc)
		rc = lab_plan_tbf(p, ns, dev, k->rate);
	return rc;
}

static int plan_link(const struct lab_fabric *f, uint32_t l, struct lab_plan *p)
{
	char nsa[LAB_NAME_MAX + 8], deva[32], nsb[LAB_NAME_MAX + 8], devb[32], maca[24], macb[24];
	int rc;

	lab_link_end(f, l, 0, nsa, sizeof(nsa), deva, sizeof(deva));
	lab_link_end(f, l, 1, nsb, sizeof(nsb), devb, sizeof(devb));
	link_mac(l, 0, maca, sizeof(maca));
	link_mac(l, 1, macb, sizeof(macb));
	rc = lab_plan_add(p, "ip", "-n", nsa, "link", "add", deva, "address", maca, "type", "veth",
			  "peer", "name", devb, "address", macb, "netns", nsb, NULL);
	if (!rc)
		rc = plan_end(f, l, 0, p);
	if (!rc)
		rc = plan_end(f, l, 1, p);
	return rc;
}

/* On switch sw, the route to NIC nic of host h (whose leaf is another switch): every link to a
 * switch one hop nearer that leaf is a next hop.  dist: hops to the leaf. */
static int plan_route(const struct lab_fabric *f, uint32_t sw, uint32_t h, uint16_t nic,
		      const uint32_t *dist, struct lab_plan *p)
{
	const char *argv[8 + 5 * MAX_NEXTHOPS];
	char ns[32], dst[32], via[MAX_NEXTHOPS][32], dev[MAX_NEXTHOPS][32], tmp[LAB_NAME_MAX + 8];
	int argc = 0, n = 0;

	lab_switch_ns(sw, ns, sizeof(ns));
	lab_host_addr(h, nic, false, dst, sizeof(dst));
	for (uint32_t l = 0; l < f->n_links && n < MAX_NEXTHOPS; l++) {
		const struct lab_link *k = &f->links[l];

		if (k->a.kind != LAB_END_BRIDGE || k->b.kind != LAB_END_BRIDGE)
			continue;
		for (int s = 0; s < 2; s++) {
			if (end_of(k, s)->index != sw || dist[end_of(k, !s)->index] + 1 != dist[sw])
				continue;
			link_addr(l, !s, false, via[n], sizeof(via[n]));
			lab_link_end(f, l, s, tmp, sizeof(tmp), dev[n], sizeof(dev[n]));
			n++;
			break;
		}
	}
	if (n == 0)
		return 0; /* unreachable: lab_routed_check refused the fabric */
	argv[argc++] = "ip";
	argv[argc++] = "-n";
	argv[argc++] = ns;
	argv[argc++] = "route";
	argv[argc++] = "add";
	argv[argc++] = dst;
	for (int i = 0; i < n; i++) {
		if (n > 1)
			argv[argc++] = "nexthop";
		argv[argc++] = "via";
		argv[argc++] = via[i];
		argv[argc++] = "dev";
		argv[argc++] = dev[i];
	}
	return lab_plan_addv(p, argc, argv);
}

int lab_plan_routed(const struct lab_fabric *f, struct lab_plan *p)
{
	uint32_t *dist = malloc((f->n_bridges + 1) * sizeof(*dist));
	uint32_t *queue = malloc((f->n_bridges + 1) * sizeof(*queue));
	uint32_t leaf, link;
	int rc = -ENOMEM;

	if (!dist || !queue)
		goto out;
	rc = 0;
	for (uint32_t s = 0; s < f->n_bridges && !rc; s++)
		rc = plan_switch(p, s);
	if (!rc)
		rc = lab_plan_hosts(f, p);
	/* a connection keeps its path, as a switch hashing the 5-tuple keeps it: no new
	 * random hash after a retransmission timeout (-e: kernels without the knob) */
	for (uint32_t h = 0; h < f->n_hosts && !rc; h++) {
		char ns[LAB_NAME_MAX + 8];

		lab_host_ns(f, h, ns, sizeof(ns));
		rc = lab_plan_add(p, "ip", "netns", "exec", ns, "sysctl", "-qwe",
				  "net.core.txrehash=0", NULL);
	}
	for (uint32_t l = 0; l < f->n_links && !rc; l++)
		rc = plan_link(f, l, p);
	/* routes last: a gateway must be on a link that is up */
	for (uint32_t h = 0; h < f->n_hosts && !rc; h++)
		for (unsigned k = 0; k < f->hosts[h].n_nics && !rc; k++) {
			if (!lab_leaf_of_nic(f, h, (uint16_t)k, &leaf, &link))
				continue;
			switch_dist(f, leaf, dist, queue);
			for (uint32_t s = 0; s < f->n_bridges && !rc; s++)
				if (s != leaf && dist[s] != UINT32_MAX)
					rc = plan_route(f, s, h, (uint16_t)k, dist, p);
		}
	if (!rc)
		rc = lab_plan_rail_hosts(f, p);
out:
	free(dist);
	free(queue);
	return rc;
}

void lab_print_routes(const char *ns)
{
	char out[65536], *save = NULL, *tok;
	char *argv[] = {"ip", "-n", (char *)ns, "-4", "route", "show", NULL};
	bool any = false;

	if (lab_run(argv, out, sizeof(out), NULL, 0) != 0)
		return;
	/* a multipath route continues on lines starting with a tab: one line per route */
	for (tok = strtok_r(out, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		bool cont = tok[0] == '\t' || tok[0] == ' ';
		char *w;

		while (*tok == '\t' || *tok == ' ')
			tok++;
		if ((w = strstr(tok, " weight 1")))
			*w = '\0';
		if (strstr(tok, "proto kernel")) /* the /30s of its own links */
			continue;
		if (cont)
			printf(" %s", tok);
		else
			printf("%s      route %s", any ? "\n" : "", tok);
		any = true;
	}
	if (any)
		printf("\n");
}
