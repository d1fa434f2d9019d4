/*
 * rails.c - hosts with several NICs in a routed lab: rail-optimized fabrics (the rails joined
 * by spines) and rail-only ones (no path between rails).
 *
 * NIC k of host h is 10.77.k.(h+1)/24 on arl-eth<k>, as in every lab, so a host's main table
 * sends traffic for a peer's NIC-k address out of its own NIC k: the peer's rail.  On top of
 * that, each such host has one route table per NIC, chosen by the source address (`ip rule
 * from ADDR lookup 100+k`): what leaves NIC k's address goes out of NIC k whatever the
 * destination, to its own rail directly and to the other rails through the leaf (gateway
 * LAB_RAIL_GATEWAY, a /32 on every leaf port facing such a host).  Open MPI's TCP BTL binds
 * each connection to one NIC's address, so a rank bound to rail 0 that talks to a peer's
 * rail-1 address really sends into rail 0, and the fabric decides: a rail-optimized fabric
 * routes it across the spines, a rail-only leaf has no route and answers "network
 * unreachable".  Nothing forwards between a host's NICs (no PXN): on a rail-only fabric every
 * Open MPI rank uses every NIC (its TCP BTL pairs a NIC with the peer's NIC on the same
 * subnet, and stripes large messages over both), and `arlab run --rail-bind` (one NIC per
 * rank) is refused whenever two ranks on different hosts would be on different rails, since
 * MPI connects every pair of ranks that talk, not only ring neighbours.
 *
 *   host --eth0 (10.77.0.h)-- rail-0 leaf --+-- spine (rail-optimized only) --+
 *        --eth1 (10.77.1.h)-- rail-1 leaf --+---------------------------------+
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/lab/lab.h"

/* Union-find root with path halving. */
static uint32_t root(uint32_t *parent, uint32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

/* parent[]: the connected sets of switches (switch<->switch links).  NULL: no memory. */
static uint32_t *switch_sets(const struct lab_fabric *f)
{
	uint32_t *parent = malloc((f->n_bridges + 1) * sizeof(*parent));

	if (!parent)
		return NULL;
	for (uint32_t i = 0; i < f->n_bridges; i++)
		parent[i] = i;
	for (uint32_t l = 0; l < f->n_links; l++) {
		const struct lab_link *k = &f->links[l];

		if (k->a.kind == LAB_END_BRIDGE && k->b.kind == LAB_END_BRIDGE)
			parent[root(parent, k->a.index)] = root(parent, k->b.index);
	}
	return parent;
}

/* Bit k set when NIC k of host h is cabled to a switch. */
static uint32_t cabled_nics(const struct lab_fabric *f, uint32_t h)
{
	uint32_t sw, link, mask = 0;

	for (unsigned k = 0; k < f->hosts[h].n_nics && k < 32; k++)
		if (lab_leaf_of_nic(f, h, (uint16_t)k, &sw, &link))
			mask |= 1u << k;
	return mask;
}

int lab_rails_check(const struct lab_fabric *f, char *err, size_t errlen)
{
	unsigned nics = lab_fabric_max_nics(f);
	uint32_t *parent = switch_sets(f), sw, link, first_sw = 0, first = 0;
	int rc = 0;

	if (!parent)
		return -ENOMEM;
	/* NIC by NIC: the NICs k of all hosts on one connected set of switches */
	for (unsigned k = 0; k < nics && !rc; k++) {
		bool seen = false;

		for (uint32_t h = 0; h < f->n_hosts && !rc; h++) {
			if (!lab_leaf_of_nic(f, h, (uint16_t)k, &sw, &link))
				continue;
			if (!seen) {
				seen = true;
				first = h;
				first_sw = sw;
			} else if (root(parent, sw) != root(parent, first_sw)) {
				rc = lab_errf(
					err, errlen,
					"no path between nodes %s and %s through the switches "
					"(%s/nic%u on %s, %s/nic%u on %s: not connected); expected "
					"every node's NIC %u joined to every other node's NIC %u, "
					"since "
					"traffic to a NIC-%u address leaves NIC %u",
					f->hosts[first].name, f->hosts[h].name,
					f->hosts[first].name, k, f->bridges[first_sw].name,
					f->hosts[h].name, k, f->bridges[sw].name, k, k, k, k);
			}
		}
	}
	/* two hosts with no cabled NIC index in common could not address each other */
	for (uint32_t a = 0; a < f->n_hosts && !rc; a++)
		for (uint32_t b = a + 1; b < f->n_hosts && !rc; b++)
			if (!(cabled_nics(f, a) & cabled_nics(f, b)))
				rc = lab_errf(
					err, errlen,
					"nodes %s and %s have no NIC number in common (%s has %u "
					"NICs, %s %u); traffic to a NIC-k address leaves NIC k, so "
					"they could not reach each other (expected NIC 0 of every "
					"node cabled)",
					f->hosts[a].name, f->hosts[b].name, f->hosts[a].name,
					f->hosts[a].n_nics, f->hosts[b].name, f->hosts[b].n_nics);
	free(parent);
	return rc;
}

bool lab_rails_joined(const struct lab_fabric *f)
{
	uint32_t *parent = switch_sets(f), sw, link, set = UINT32_MAX;
	bool joined = true;

	if (!parent)
		return false;
	for (uint32_t h = 0; h < f->n_hosts && joined; h++)
		for (unsigned k = 0; k < f->hosts[h].n_nics && joined; k++) {
			if (!lab_leaf_of_nic(f, h, (uint16_t)k, &sw, &link))
				continue;
			if (set == UINT32_MAX)
				set = root(parent, sw);
			joined = root(parent, sw) == set;
		}
	free(parent);
	return joined;
}

void lab_rails_describe(const struct lab_fabric *f, char *buf, size_t len)
{
	unsigned nics = lab_fabric_max_nics(f);

	if (nics <= 1) {
		snprintf(buf, len, "%s", "");
		return;
	}
	if (lab_rails_joined(f))
		snprintf(buf, len,
			 "%u rails (NIC k of every host on 10.77.k.0/24), joined by the switches: "
			 "traffic from NIC k's address to another rail crosses them",
			 nics);
	else
		snprintf(buf, len,
			 "%u rails (NIC k of every host on 10.77.k.0/24), not joined (rail-only): "
			 "traffic from NIC k's address to another rail is refused by the leaf "
			 "(network unreachable) and nothing forwards between a host's NICs, so "
			 "every rank uses every NIC (arlab run without --rail-bind)",
			 nics);
}

int lab_plan_rail_hosts(const struct lab_fabric *f, struct lab_plan *p)
{
	char ns[LAB_NAME_MAX + 8], dev[32], addr[32], net[32], table[16], pref[16];
	uint32_t sw, link;
	int rc = 0;

	for (uint32_t h = 0; h < f->n_hosts && !rc; h++) {
		if (f->hosts[h].n_nics <= 1)
			continue;
		lab_host_ns(f, h, ns, sizeof(ns));
		for (unsigned k = 0; k < f->hosts[h].n_nics && !rc; k++) {
			if (!lab_leaf_of_nic(f, h, (uint16_t)k, &sw, &link))
				continue;
			lab_host_ifname((uint16_t)k, dev, sizeof(dev));
			lab_host_addr(h, (uint16_t)k, false, addr, sizeof(addr));
			snprintf(net, sizeof(net), "10.77.%u.0/24", k);
			snprintf(table, sizeof(table), "%u", LAB_RAIL_TABLE + k);
			snprintf(pref, sizeof(pref), "%u", 1000 + k);
			rc = lab_plan_add(p, "ip", "-n", ns, "route", "add", net, "dev", dev,
					  "table", table, NULL);
			if (!rc)
				rc = lab_plan_add(p, "ip", "-n", ns, "route", "add", LAB_SUBNET,
						  "via", LAB_RAIL_GATEWAY, "dev", dev, "onlink",
						  "table", table, NULL);
			if (!rc)
				rc = lab_plan_add(p, "ip", "-n", ns, "rule", "add", "from", addr,
						  "lookup", table, "pref", pref, NULL);
		}
	}
	return rc;
}

int lab_plan_rail_port(const struct lab_fabric *f, uint32_t h, const char *ns, const char *dev,
		       struct lab_plan *p)
{
	if (f->hosts[h].n_nics <= 1)
		return 0;
	return lab_plan_add(p, "ip", "-n", ns, "addr", "add", LAB_RAIL_GATEWAY "/32", "dev", dev,
			    NULL);
}

int lab_rail_bind_mode(const char *mode)
{
	return mode && (!strcmp(mode, "local") || !strcmp(mode, "matched")) ? 0 : -EINVAL;
}

/* The NIC rail-bind gives rank r (the script below, in C). */
static unsigned bound_nic(bool matched, unsigned r, unsigned rpn, unsigned nics)
{
	unsigned h = r / rpn, l = r % rpn;

	return (matched ? l + h * (rpn - 1) : l) % nics;
}

int lab_rail_bind_check(const char *dir, const char *mode, unsigned rpn, unsigned np, char *err,
			size_t errlen)
{
	char path[4096], *data = NULL, **hosts = NULL;
	unsigned nics = 1;
	bool separate;
	size_t nh = 0;
	int rc;

	if (lab_rail_bind_mode(mode))
		return lab_errf(err, errlen, "expected local or matched");
	snprintf(path, sizeof(path), "%s/nics", dir);
	if (lab_read_file(path, &data, NULL) == 0 && sscanf(data, "%u", &nics) != 1)
		nics = 1;
	free(data);
	if (nics <= 1)
		return lab_errf(err, errlen, "the lab's hosts have one NIC each (or no lab is up)");
	snprintf(path, sizeof(path), "%s/rails", dir);
	data = NULL;
	separate = lab_read_file(path, &data, NULL) == 0 && !strncmp(data, "separate", 8);
	free(data);
	rc = lab_state_hosts(dir, &hosts, &nh);
	if (rc || !separate)
		goto out;
	/* rails not joined: two ranks on different hosts and NICs could not reach each other */
	for (unsigned a = 0; a < np && !rc; a++)
		for (unsigned b = a + 1; b < np && !rc; b++) {
			unsigned na = bound_nic(mode[0] == 'm', a, rpn, nics);
			unsigned nb = bound_nic(mode[0] == 'm', b, rpn, nics);

			if (a / rpn == b / rpn || na == nb || b / rpn >= nh)
				continue;
			rc = lab_errf(
				err, errlen,
				"ranks %u (%s, NIC %u) and %u (%s, NIC %u) would have no path: the "
				"lab's rails are not joined (rail-only) and nothing forwards "
				"between "
				"a host's NICs, while MPI connects every pair of ranks that talk "
				"(expected no --rail-bind: every rank on every NIC, on the peer's "
				"rail; or one rank per node)",
				a, hosts[a / rpn], na, b, hosts[b / rpn], nb);
		}
out:
	lab_free_names(hosts, nh);
	return rc == -EINVAL ? rc : 0;
}

/* Open MPI starts every rank as "rail-bind MODE RANKS_PER_NODE PROGRAM ARGS..." (arlab run
 * puts it before the benchmark).  Ranks are placed in host order (--map-by ppr:N:node), so
 * rank r is local rank l of host r / N. */
static const char rail_bind_script[] =
	"#!/bin/sh\n"
	"# rail-bind, written by `arlab up`: `arlab run --rail-bind MODE` starts every rank as\n"
	"# \"rail-bind MODE RANKS_PER_NODE PROGRAM ARGS...\".  It binds the rank to one NIC of "
	"its host\n"
	"# (Open MPI's btl_tcp_if_include set to that NIC's subnet, 10.77.K.0/24), then runs "
	"PROGRAM.\n"
	"#   local    local rank l of a host uses NIC l mod NICS: rank i on rail i\n"
	"#   matched  local rank l of host h uses NIC (l + h (RANKS_PER_NODE - 1)) mod NICS: "
	"with ranks\n"
	"#            in host order, every ring step between two hosts stays on one rail\n"
	"mode=$1 rpn=$2\n"
	"shift 2\n"
	"nics=$(cat " LAB_STATE_DIR "/nics 2>/dev/null) || nics=1\n"
	"l=${OMPI_COMM_WORLD_LOCAL_RANK:?rail-bind: not started by Open MPI}\n"
	"r=${OMPI_COMM_WORLD_RANK:?rail-bind: not started by Open MPI}\n"
	"size=${OMPI_COMM_WORLD_SIZE:-1}\n"
	"h=$((r / rpn))\n"
	"case $mode in\n"
	"local) k=$((l % nics)) ;;\n"
	"matched) k=$(((l + h * (rpn - 1)) % nics)) ;;\n"
	"*) echo \"arlab rail-bind: unknown mode '$mode' (expected local or matched)\" >&2; exit 2 "
	";;\n"
	"esac\n"
	"hosts=$(((size + rpn - 1) / rpn))\n"
	"if [ \"$r\" = 0 ] && [ \"$mode\" = matched ] && [ $((hosts * (rpn - 1) % nics)) != 0 ]; "
	"then\n"
	"\techo \"arlab rail-bind: $hosts hosts x $rpn ranks: the ring's step from the last host "
	"back to the first crosses rails\" >&2\n"
	"fi\n"
	"export OMPI_MCA_btl_tcp_if_include=10.77.$k.0/24\n"
	"exec \"$@\"\n";

int lab_state_write_rails(const struct lab_fabric *f, const char *dir)
{
	const char *rails = lab_rails_joined(f) ? "joined\n" : "separate\n";
	int rc = lab_state_file(dir, "rails", rails, strlen(rails), 0644);

	return rc ? rc
		  : lab_state_file(dir, "rail-bind", rail_bind_script, strlen(rail_bind_script),
				   0755);
}
