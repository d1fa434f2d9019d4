/*
 * plan.c - turns a checked lab_fabric into the ordered list of `ip` and `tc` commands that build
 * it: namespaces, bridges, veth pairs, addresses and a tbf qdisc on both ends of every link.
 * Every command names a lab namespace explicitly (`ip -n NS`, `tc -n NS`), so nothing is ever
 * created in the root namespace, not even for a moment.  The plan is data, so tests can check it
 * without root.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/lab/lab.h"

/* Queue limit of each shaped port, as time at the link rate.  Deep enough that the lab does not
 * drop: with 20 ms, rhd and tree on lab-2leaf-2to1 lost thousands of packets per run and the TCP
 * retransmission timeouts that followed made some sizes up to 1.7x slower than others in the same
 * run (bench/results/planner-lab/README.md); with 400 ms no packet was dropped.  InfiniBand and
 * RoCE fabrics with PFC are lossless, and so is the planner's flow model. */
#define TBF_LATENCY   "400ms"
#define TBF_MIN_BURST 65536 /* one GSO packet of a veth: smaller bursts cost throughput */

int lab_plan_add(struct lab_plan *p, const char *arg0, ...)
{
	struct lab_cmd c = {0, NULL};
	const char *a;
	va_list ap;
	int n = 0;

	va_start(ap, arg0);
	for (a = arg0; a; a = va_arg(ap, const char *))
		n++;
	va_end(ap);
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 32;
		struct lab_cmd *cmds = realloc(p->cmds, cap * sizeof(*cmds));

		if (!cmds)
			return -ENOMEM;
		p->cmds = cmds;
		p->cap = cap;
	}
	c.argv = calloc((size_t)n + 1, sizeof(*c.argv));
	if (!c.argv)
		return -ENOMEM;
	va_start(ap, arg0);
	for (a = arg0; a; a = va_arg(ap, const char *)) {
		c.argv[c.argc] = strdup(a);
		if (!c.argv[c.argc])
			break;
		c.argc++;
	}
	va_end(ap);
	if (c.argc != n) {
		for (int i = 0; i < c.argc; i++)
			free(c.argv[i]);
		free(c.argv);
		return -ENOMEM;
	}
	p->cmds[p->n++] = c;
	return 0;
}

int lab_plan_addv(struct lab_plan *p, int argc, const char *const *argv)
{
	struct lab_cmd c = {0, NULL};

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 32;
		struct lab_cmd *cmds = realloc(p->cmds, cap * sizeof(*cmds));

		if (!cmds)
			return -ENOMEM;
		p->cmds = cmds;
		p->cap = cap;
	}
	c.argv = calloc((size_t)argc + 1, sizeof(*c.argv));
	if (!c.argv)
		return -ENOMEM;
	for (; c.argc < argc; c.argc++) {
		c.argv[c.argc] = strdup(argv[c.argc]);
		if (!c.argv[c.argc]) {
			for (int i = 0; i < c.argc; i++)
				free(c.argv[i]);
			free(c.argv);
			return -ENOMEM;
		}
	}
	p->cmds[p->n++] = c;
	return 0;
}

char *lab_cmd_line(const struct lab_cmd *c, char *buf, size_t len)
{
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	for (int i = 0; i < c->argc && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " " : "", c->argv[i]);
	return buf;
}

void lab_plan_free(struct lab_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		for (int j = 0; j < p->cmds[i].argc; j++)
			free(p->cmds[i].argv[j]);
		free(p->cmds[i].argv);
	}
	free(p->cmds);
	memset(p, 0, sizeof(*p));
}

void lab_tbf_params(double rate, uint64_t *rate_bits, uint64_t *burst_bytes)
{
	uint64_t burst = (uint64_t)(rate * 1e-3); /* 1 ms at the link rate */

	*rate_bits = (uint64_t)(rate * 8 + 0.5);
	*burst_bytes = burst < TBF_MIN_BURST ? TBF_MIN_BURST : burst;
}

int lab_plan_tbf(struct lab_plan *p, const char *ns, const char *dev, double rate)
{
	char r[32], b[32];
	uint64_t rb, bb;

	lab_tbf_params(rate, &rb, &bb);
	snprintf(r, sizeof(r), "%llubit", (unsigned long long)rb);
	snprintf(b, sizeof(b), "%llu", (unsigned long long)bb);
	return lab_plan_add(p, "tc", "-n", ns, "qdisc", "add", "dev", dev, "root", "tbf", "rate", r,
			    "burst", b, "latency", TBF_LATENCY, NULL);
}

/* One end of a link: its namespace and interface name, filled by end_names. */
struct end_names {
	char ns[LAB_NAME_MAX + 8];
	char dev[32];
};

static void end_names(const struct lab_fabric *f, uint32_t l, const struct lab_end *e, int side,
		      struct end_names *out)
{
	if (e->kind == LAB_END_HOST) {
		lab_host_ns(f, e->index, out->ns, sizeof(out->ns));
		lab_host_ifname(e->nic, out->dev, sizeof(out->dev));
	} else {
		const struct lab_link *k = &f->links[l];
		bool both = k->a.kind == LAB_END_BRIDGE && k->b.kind == LAB_END_BRIDGE;

		snprintf(out->ns, sizeof(out->ns), "%s", LAB_FABRIC_NS);
		lab_port_ifname(l, both ? side : -1, out->dev, sizeof(out->dev));
	}
}

/* Configure one end of a created veth pair: bridge port or addressed host interface, up,
 * shaped. */
static int plan_end(const struct lab_fabric *f, uint32_t l, const struct lab_end *e,
		    const struct end_names *n, struct lab_plan *p)
{
	char br[32], addr[32];
	int rc;

	if (e->kind == LAB_END_BRIDGE) {
		lab_bridge_ifname(e->index, br, sizeof(br));
		rc = lab_plan_add(p, "ip", "-n", n->ns, "link", "set", n->dev, "master", br, "mtu",
				  LAB_MTU, "up", NULL);
	} else {
		lab_host_addr(e->index, e->nic, true, addr, sizeof(addr));
		rc = lab_plan_add(p, "ip", "-n", n->ns, "addr", "add", addr, "dev", n->dev, NULL);
		if (!rc)
			rc = lab_plan_add(p, "ip", "-n", n->ns, "link", "set", n->dev, "mtu",
					  LAB_MTU, "up", NULL);
	}
	if (!rc)
		rc = lab_plan_tbf(p, n->ns, n->dev, f->links[l].rate);
	return rc;
}

int lab_plan_hosts(const struct lab_fabric *f, struct lab_plan *p)
{
	char ns[LAB_NAME_MAX + 8];
	int rc = 0;

	for (uint32_t h = 0; h < f->n_hosts && !rc; h++) {
		lab_host_ns(f, h, ns, sizeof(ns));
		rc = lab_plan_add(p, "ip", "netns", "add", ns, NULL);
		if (!rc)
			rc = lab_plan_add(p, "ip", "-n", ns, "link", "set", "lo", "up", NULL);
		/* No IPv6: no router solicitations or DAD chatter on the shaped links.  TCP's
		 * congestion control pinned to reno, which every kernel allows in a namespace:
		 * a namespace inherits the machine's default, and BBR (some machines' default)
		 * paces each connection rhd has not used since its last step below the link rate
		 * (8 hosts, 100 Mbit/s: rhd 58-70 Mbit/s with BBR, 97-99 with reno). */
		if (!rc)
			rc = lab_plan_add(p, "ip", "netns", "exec", ns, "sysctl", "-qw",
					  "net.ipv6.conf.all.disable_ipv6=1",
					  "net.ipv6.conf.default.disable_ipv6=1",
					  "net.ipv4.tcp_congestion_control=reno", NULL);
	}
	return rc;
}

int lab_plan_bridged(const struct lab_fabric *f, struct lab_plan *p)
{
	char br[32];
	int rc = 0;

	if (f->n_bridges) {
		rc = lab_plan_add(p, "ip", "netns", "add", LAB_FABRIC_NS, NULL);
		if (!rc)
			rc = lab_plan_add(p, "ip", "netns", "exec", LAB_FABRIC_NS, "sysctl", "-qw",
					  "net.ipv6.conf.all.disable_ipv6=1", NULL);
	}
	if (!rc)
		rc = lab_plan_hosts(f, p);
	for (uint32_t b = 0; b < f->n_bridges && !rc; b++) {
		lab_bridge_ifname(b, br, sizeof(br));
		rc = lab_plan_add(p, "ip", "-n", LAB_FABRIC_NS, "link", "add", br, "type", "bridge",
				  "stp_state", "0", NULL);
		if (!rc)
			rc = lab_plan_add(p, "ip", "-n", LAB_FABRIC_NS, "link", "set", br, "mtu",
					  LAB_MTU, "up", NULL);
	}
	for (uint32_t l = 0; l < f->n_links && !rc; l++) {
		const struct lab_link *k = &f->links[l];
		struct end_names a, b;

		end_names(f, l, &k->a, 0, &a);
		end_names(f, l, &k->b, 1, &b);
		/* created inside a's namespace with its peer placed straight into b's */
		rc = lab_plan_add(p, "ip", "-n", a.ns, "link", "add", a.dev, "type", "veth", "peer",
				  "name", b.dev, "netns", b.ns, NULL);
		if (!rc)
			rc = plan_end(f, l, &k->a, &a, p);
		if (!rc)
			rc = plan_end(f, l, &k->b, &b, p);
	}
	return rc;
}
