/*
 * from_results.c - `arplan topo --from-results RESULTS.json`: turn the cluster arbench measured
 * (its results file's "hosts", "nodes_info" and "ranks_per_node", read with jansson) into an
 * explicit-family topology YAML.  Nodes of the same shape (GPU count, NIC speeds) share a node
 * type.  Fabric NICs are the RDMA ones when a node has any, else every NIC with a known speed
 * (or --nic-rate) other than software interfaces (loopback, ifb, veth, bridges, tunnels).  The
 * results do not describe switches, so one switch joining every NIC is assumed and the file says
 * so.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"
#include "topo/topo.h"

#define MAX_TYPES 64
#define MAX_BPS	  1e15 /* 1 Pbit/s: above any NIC, and rate_str's forms stay exact */

struct shape {
	unsigned gpus, nics;
	double bps[TOPO_MAX_NICS]; /* bits/s of each fabric NIC */
};

struct rnode {
	const char *name;
	struct shape sh;
	const char *nic_names[TOPO_MAX_NICS];
	int type;
	json_int_t ranks, cores, numa;
};

static void rate_str(double bps, char *buf, size_t len)
{
	if (bps >= 1e12 && bps / 1e12 == (double)(long long)(bps / 1e12))
		snprintf(buf, len, "%gTbit", bps / 1e12);
	else if (bps >= 1e9)
		snprintf(buf, len, "%.6gGbit", bps / 1e9);
	else if (bps >= 1e6)
		snprintf(buf, len, "%.6gMbit", bps / 1e6);
	else
		snprintf(buf, len, "%.6gKbit", bps / 1e3);
}

/* Next code point of UTF-8 text at *p (advanced); an invalid byte gives U+FFFD. */
static unsigned long utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned long cp;
	int n, i;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0];
	}
	n = (s[0] & 0xe0) == 0xc0 ? 1 : (s[0] & 0xf0) == 0xe0 ? 2 : (s[0] & 0xf8) == 0xf0 ? 3 : 0;
	cp = n == 1 ? s[0] & 0x1fu : n == 2 ? s[0] & 0x0fu : s[0] & 0x07u;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			break;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (n == 0 || i <= n || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp < (n == 1   ? 0x80u
		  : n == 2 ? 0x800u
			   : 0x10000u)) {
		*p = s + 1;
		return 0xfffd;
	}
	*p = s + n + 1;
	return cp;
}

/* The inside of a double-quoted YAML scalar: printable ASCII as is, everything else escaped
 * (control characters, and every non-ASCII character, among them NEL, LS and PS, which YAML
 * reads as line breaks), so that nothing written can end the scalar or the line. */
static void yaml_escaped(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned long c = utf8_next(&p);

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", (int)c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c >= 0x20 && c < 0x7f)
			fputc((int)c, out);
		else if (c < 0x100)
			fprintf(out, "\\x%02lx", c);
		else if (c < 0x10000)
			fprintf(out, "\\u%04lx", c);
		else
			fprintf(out, "\\U%08lx", c);
	}
}

/* A YAML scalar: plain when it is only letters, digits and . _ - /, else double-quoted with
 * everything escaped.  Also used for text in comments, which a line break would end. */
static void yaml_str(FILE *out, const char *s)
{
	const char *p;
	bool plain = *s && strchr("-?:,[]{}#&*!|>'\"%@`", *s) == NULL;

	for (p = s; plain && *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-' ||
		      *p == '/'))
			plain = false;
	if (plain && strcmp(s, "null") && strcmp(s, "true") && strcmp(s, "false")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	yaml_escaped(out, s);
	fputc('"', out);
}

static int fail(char *msg, size_t len, const char *path, const char *fmt, const char *what)
{
	char tmp[400];

	char *p;

	snprintf(tmp, sizeof(tmp), fmt, what);
	snprintf(msg, len, "%s: %s", path, tmp);
	for (p = msg; *p; p++) /* a host name's control characters never reach the terminal */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -EINVAL;
}

/* Software interfaces that carry no fabric traffic (loopback, tc's ifb, bridges, veths,
 * tunnels): never counted as a node's NICs. */
static const char *const virtual_prefixes[] = {"lo",  "ifb", "veth",  "docker", "br-",	  "virbr",
					       "tun", "tap", "dummy", "cni",	"flannel"};

static bool virtual_nic(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(virtual_prefixes) / sizeof(virtual_prefixes[0]); i++)
		if (strncmp(name, virtual_prefixes[i], strlen(virtual_prefixes[i])) == 0)
			return true;
	return false;
}

/* Pick node i's fabric NICs. */
static int node_nics(json_t *info, struct rnode *rn, double default_bps, const char *path,
		     char *msg, size_t len)
{
	json_t *nics = json_object_get(info, "nics"), *nic;
	bool any_rdma = false;
	size_t k;

	if (nics && !json_is_array(nics))
		return fail(msg, len, path, "nodes_info entry for %s: \"nics\" is not an array",
			    rn->name);
	json_array_foreach(nics, k, nic)
	{
		if (json_is_true(json_object_get(nic, "rdma")))
			any_rdma = true;
	}
	json_array_foreach(nics, k, nic)
	{
		const char *name = json_string_value(json_object_get(nic, "name"));
		json_t *speed = json_object_get(nic, "speed_bps");
		double bps = json_number_value(speed);

		if (!name || virtual_nic(name))
			continue;
		if ((speed && !json_is_number(speed)) || bps < 0 || bps > MAX_BPS)
			return fail(msg, len, path,
				    "node %s: a NIC's \"speed_bps\" is not a number of bits/s in "
				    "0..1e15 (expected 0 for unknown, or e.g. 400000000000)",
				    rn->name);
		if (any_rdma && !json_is_true(json_object_get(nic, "rdma")))
			continue;
		if (bps <= 0)
			bps = default_bps;
		if (bps <= 0 || rn->sh.nics == TOPO_MAX_NICS)
			continue;
		rn->nic_names[rn->sh.nics] = name;
		rn->sh.bps[rn->sh.nics++] = bps;
	}
	if (!rn->sh.nics && default_bps > 0) {
		rn->nic_names[0] = "(unnamed)";
		rn->sh.bps[rn->sh.nics++] = default_bps;
	}
	if (!rn->sh.nics)
		return fail(msg, len, path,
			    "node %s: no network interface with a known speed (expected "
			    "--nic-rate RATE, e.g. --nic-rate 100Gbit)",
			    rn->name);
	return 0;
}

static int name_cmp(const void *x, const void *y)
{
	const struct rnode *const *a = x, *const *b = y;

	return strcmp((*a)->name, (*b)->name);
}

/* Every host once: sorted, O(n log n) (a million hosts in about a second). */
static int check_unique(struct rnode *nodes, size_t n, const char *path, char *msg, size_t len)
{
	struct rnode **by_name = malloc(n * sizeof(*by_name));
	size_t i;
	int ret = 0;

	if (!by_name)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		by_name[i] = &nodes[i];
	qsort(by_name, n, sizeof(*by_name), name_cmp);
	for (i = 1; i < n && !ret; i++)
		if (strcmp(by_name[i - 1]->name, by_name[i]->name) == 0)
			ret = fail(msg, len, path, "host %s appears twice in \"hosts\"",
				   by_name[i]->name);
	free(by_name);
	return ret;
}

int plan_topo_from_results(const char *results_path, const char *nic_rate, FILE *out, char *msg,
			   size_t msglen)
{
	struct shape types[MAX_TYPES];
	struct rnode *nodes = NULL;
	json_t *doc, *hosts, *infos, *rpn;
	json_error_t je;
	double default_bps = 0;
	unsigned n_types = 0, i, j, k;
	size_t n;
	char rate[32];
	int ret = -EINVAL;
	const char *base = strrchr(results_path, '/');

	if (nic_rate) {
		if (topo_parse_rate(nic_rate, &default_bps) || default_bps <= 0) {
			snprintf(msg, msglen,
				 "--nic-rate '%s': not a rate with a unit (expected e.g. 100Gbit)",
				 nic_rate);
			return -EINVAL;
		}
		default_bps *= 8;
	}
	doc = json_load_file(results_path, 0, &je);
	if (!doc) {
		snprintf(msg, msglen, "%s:%d:%d: %s", results_path, je.line, je.column, je.text);
		return -EINVAL;
	}
	hosts = json_object_get(doc, "hosts");
	infos = json_object_get(doc, "nodes_info");
	rpn = json_object_get(doc, "ranks_per_node");
	if (!json_is_array(hosts) || !json_array_size(hosts)) {
		ret = fail(msg, msglen, results_path, "%s",
			   "no \"hosts\" array (expected an arbench results file)");
		goto free_doc;
	}
	if (!json_is_array(infos) || json_array_size(infos) != json_array_size(hosts)) {
		ret = fail(msg, msglen, results_path, "%s",
			   "\"nodes_info\" is missing or does not have one entry per host "
			   "(expected results from an arbench run that discovered its nodes)");
		goto free_doc;
	}
	n = json_array_size(hosts);
	nodes = calloc(n, sizeof(*nodes));
	if (!nodes) {
		ret = -ENOMEM;
		goto free_doc;
	}
	for (i = 0; i < n; i++) {
		json_t *info = json_array_get(infos, i), *gpus = json_object_get(info, "gpus");
		struct rnode *rn = &nodes[i];

		rn->name = json_string_value(json_array_get(hosts, i));
		if (!rn->name || !*rn->name) {
			ret = fail(msg, msglen, results_path, "%s", "a host name is not a string");
			goto free_doc;
		}
		if (strchr(rn->name, '/')) {
			ret = fail(msg, msglen, results_path,
				   "host %s: a '/' cannot be in a node name (expected a host name; "
				   "in a topology NODE/N names NIC N of NODE)",
				   rn->name);
			goto free_doc;
		}
		if (json_is_array(gpus) && json_array_size(gpus) <= TOPO_MAX_GPUS) {
			rn->sh.gpus = (unsigned)json_array_size(gpus);
		} else if (!gpus || (json_is_integer(gpus) && json_integer_value(gpus) >= 0 &&
				     json_integer_value(gpus) <= TOPO_MAX_GPUS)) {
			rn->sh.gpus = (unsigned)json_integer_value(gpus);
		} else {
			ret = fail(msg, msglen, results_path,
				   "node %s: \"gpus\" is not a list or count of 0..16 GPUs",
				   rn->name);
			goto free_doc;
		}
		rn->ranks = json_integer_value(json_array_get(rpn, i));
		rn->cores = json_integer_value(json_object_get(info, "cores"));
		rn->numa = json_integer_value(json_object_get(info, "numa_nodes"));
		ret = node_nics(info, rn, default_bps, results_path, msg, msglen);
		if (ret)
			goto free_doc;
		for (k = 0; k < n_types; k++)
			if (memcmp(&types[k], &rn->sh, sizeof(rn->sh)) == 0)
				break;
		if (k == n_types) {
			if (n_types == MAX_TYPES) {
				ret = fail(msg, msglen, results_path, "%s",
					   "more than 64 different node shapes");
				goto free_doc;
			}
			types[n_types++] = rn->sh;
		}
		rn->type = (int)k;
	}
	ret = check_unique(nodes, n, results_path, msg, msglen);
	if (ret)
		goto free_doc;
	fputs("# Generated by arplan topo --from-results ", out);
	yaml_str(out, base ? base + 1 : results_path);
	fprintf(out,
		": the %zu node%s an arbench run\n"
		"# measured.  The results do not describe switches: one switch joining every\n"
		"# fabric NIC is assumed; edit the switches and links to match the real fabric.\n",
		n, n == 1 ? "" : "s");
	fprintf(out, "name: measured-%zu-node%s\ndescription: \"cluster measured by arbench (", n,
		n == 1 ? "" : "s");
	yaml_escaped(out, base ? base + 1 : results_path);
	fputs(")\"\n", out);
	fprintf(out, "fabric:\n  family: explicit\nnode_types:\n");
	for (k = 0; k < n_types; k++) {
		bool same = true;

		for (j = 1; j < types[k].nics; j++)
			same &= types[k].bps[j] == types[k].bps[0];
		fprintf(out, "  - name: type%u\n    gpus: %u\n", k, types[k].gpus);
		if (types[k].gpus >= 1) /* a GPU-NIC path is needed even for one GPU */
			fprintf(out,
				"    intra: {pcie_gen: 4}   # assumed: the results do not say\n");
		rate_str(types[k].bps[0], rate, sizeof(rate));
		fprintf(out, "    nics: {count: %u", types[k].nics);
		if (same)
			fprintf(out, ", speed: %s", rate);
		fprintf(out, "}\n");
	}
	fprintf(out, "nodes:\n");
	for (i = 0; i < n; i++) {
		fprintf(out, "  - {name: ");
		yaml_str(out, nodes[i].name);
		fprintf(out, ", type: type%d}   # %lld ranks, %lld cores, %lld NUMA nodes\n",
			nodes[i].type, (long long)nodes[i].ranks, (long long)nodes[i].cores,
			(long long)nodes[i].numa);
	}
	fprintf(out, "switches:\n  - {name: arplan-switch0, tier: 0}   # assumed\nlinks:\n");
	for (i = 0; i < n; i++) {
		for (k = 0; k < nodes[i].sh.nics; k++) {
			rate_str(nodes[i].sh.bps[k], rate, sizeof(rate));
			fprintf(out, "  - {a: \"");
			yaml_escaped(out, nodes[i].name);
			fprintf(out, "/%u\", b: arplan-switch0, rate: %s}   # ", k, rate);
			yaml_str(out, nodes[i].nic_names[k]);
			fputc('\n', out);
		}
	}
	ret = 0;
free_doc:
	free(nodes);
	json_decref(doc);
	return ret;
}
