/*
 * scaleup.c - fabric.scale_up: NVLink domains larger than a node, as in NVIDIA's GB200 NVL72
 * (18 compute trays of 4 GPUs whose 72 GPUs share the NVLink switch trays of their rack).  The
 * Clos families take it; the domain's nodes keep their NICs on the family's fabric, and their
 * GPUs reach each other through the domain's NVLink switches (graph.c, topo__add_node).
 *
 *   domain_nodes    nodes per domain; fabric nodes must be whole domains
 *   nvlink          per GPU, each direction, into the domain's switches (at most the GPU's own
 *                   NVLink rate from the catalog); the node type gives no intra.nvlink then
 *   nvlink_switch   the switch trays' catalog part (switches.yaml), optional
 *   switch_trays    trays per domain (default 1); with a part, their ports x speed must carry
 *                   every GPU's NVLink at once: the domain is modelled as one non-blocking
 *                   switch, which it is only when the trays are enough
 *   latency         one way, GPU to GPU through the switch (default: the node type's)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "topo/internal.h"

/* Most GPUs or NICs of one domain: their local indices are 16-bit. */
#define MAX_DOMAIN_ENDPOINTS 65535u

/* The node type's GPUs and NICs in a domain, and its NVLink: gpus and nvlink checked. */
static int check_domain_shape(struct topo_desc *d, const struct ty_scale_up *u,
			      struct topo_error *err)
{
	const struct topo__ntype *t = &d->ntypes[d->ntype];
	const struct ty_node_type *r = &d->raw->node_types[d->ntype];
	char q[160];

	if (!t->gpus)
		return topo__errf(err, d->path, "fabric.scale_up", true,
				  "node type %s has no GPUs to join in NVLink domains (expected "
				  "gpus: 4 in node_types[%u], or no scale_up)",
				  t->name, d->ntype);
	if ((uint64_t)d->su.domain_nodes * t->gpus > MAX_DOMAIN_ENDPOINTS ||
	    (uint64_t)d->su.domain_nodes * t->nics > MAX_DOMAIN_ENDPOINTS)
		return topo__errf(err, d->path, "fabric.scale_up.domain_nodes", false,
				  "%u nodes of %u GPUs and %u NICs are more than %u endpoints in "
				  "one domain (expected a smaller domain, e.g. domain_nodes: 18)",
				  d->su.domain_nodes, t->gpus, t->nics, MAX_DOMAIN_ENDPOINTS);
	if (r->intra && r->intra->nvlink) {
		snprintf(q, sizeof(q), "node_types[%u].intra.nvlink", d->ntype);
		return topo__errf(err, d->path, q, true,
				  "the GPUs of node type %s are joined by the NVLink domain of "
				  "fabric.scale_up, not inside the node (expected their rate as "
				  "fabric.scale_up.nvlink and no intra.nvlink)",
				  t->name);
	}
	return 0;
}

/* The GPU's catalog NVLink rate bounds the domain's; the trays must carry every GPU at once. */
static int check_capacity(struct topo_desc *d, struct topo_error *err)
{
	const struct topo__ntype *t = &d->ntypes[d->ntype];
	struct topo_part p;
	char a[32], b[32];
	double need, have;

	if (t->gpu_part >= 0 && topo__catalog_part(d->cat, TOPO_PART_GPU, t->gpu_part, &p) == 0 &&
	    p.nvlink_bw > 0 && d->su.nvlink > p.nvlink_bw * 1.000001) {
		topo__fmt_rate(d->su.nvlink, a, sizeof(a));
		topo__fmt_rate(p.nvlink_bw, b, sizeof(b));
		return topo__errf(err, d->path, "fabric.scale_up.nvlink", false,
				  "%s per GPU is faster than the NVLink of %s, %s each way "
				  "(expected nvlink <= %s)",
				  a, p.name, b, b);
	}
	if (d->su.part < 0 || topo__catalog_part(d->cat, TOPO_PART_SWITCH, d->su.part, &p) ||
	    !(p.speed > 0) || !p.radix)
		return 0;
	need = (double)d->su.domain_nodes * t->gpus * d->su.nvlink;
	have = (double)d->su.switch_trays * p.radix * p.speed;
	if (have >= need * 0.999999)
		return 0;
	topo__fmt_rate(have, a, sizeof(a));
	topo__fmt_rate(need, b, sizeof(b));
	return topo__errf(err, d->path, "fabric.scale_up.switch_trays", false,
			  "%u x %s (%u ports each) carry %s each way, less than the %u GPUs of "
			  "a domain send at once, %s (expected switch_trays: %u or more: the "
			  "domain is modelled as one non-blocking switch)",
			  d->su.switch_trays, p.name, p.radix, a, d->su.domain_nodes * t->gpus, b,
			  (unsigned)((need / (p.radix * p.speed)) + 0.999999));
}

int topo__check_scale_up(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_scale_up *u = d->raw->fabric ? d->raw->fabric->scale_up : NULL;
	const struct topo__ntype *t;
	int ret;

	memset(&d->su, 0, sizeof(d->su));
	d->su.part = -1;
	if (!u)
		return 0;
	t = &d->ntypes[d->ntype];
	if (!u->domain_nodes || !u->nvlink)
		return topo__errf(err, d->path, "fabric.scale_up", false,
				  "missing required field '%s' (expected domain_nodes: 18 and "
				  "nvlink: 900GB/s)",
				  u->domain_nodes ? "nvlink" : "domain_nodes");
	ret = topo__at_least(d, u->domain_nodes, 1, "fabric.scale_up.domain_nodes",
			     "domain_nodes: 18", err);
	if (ret)
		return ret;
	d->su.domain_nodes = *u->domain_nodes;
	if (d->nodes % d->su.domain_nodes)
		return topo__errf(err, d->path, "fabric.scale_up.domain_nodes", false,
				  "the fabric's %u nodes are not whole domains of %u (expected "
				  "fabric nodes a multiple of domain_nodes, e.g. %u for %u "
				  "domains)",
				  d->nodes, d->su.domain_nodes,
				  (d->nodes / d->su.domain_nodes + 1) * d->su.domain_nodes,
				  d->nodes / d->su.domain_nodes + 1);
	ret = check_domain_shape(d, u, err);
	if (!ret)
		ret = topo__check_rate(d, u->nvlink, "fabric.scale_up.nvlink", &d->su.nvlink, err);
	if (!ret && u->latency)
		ret = topo__check_time(d, u->latency, "fabric.scale_up.latency", &d->su.latency,
				       err);
	if (ret)
		return ret;
	if (!u->latency)
		d->su.latency = t->intra_lat;
	d->su.switch_trays = 1;
	if (u->switch_trays) {
		ret = topo__at_least(d, u->switch_trays, 1, "fabric.scale_up.switch_trays",
				     "switch_trays: 9", err);
		if (ret)
			return ret;
		d->su.switch_trays = *u->switch_trays;
	}
	ret = topo__check_part(d, TOPO_PART_SWITCH, u->nvlink_switch,
			       "fabric.scale_up.nvlink_switch", &d->su.part, err);
	return ret ? ret : check_capacity(d, err);
}
