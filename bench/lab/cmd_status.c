/*
 * cmd_status.c - `arlab status` and `arlab counters`, looking at the lab without changing it:
 * status lists every lab namespace with its interfaces, addresses and tbf rates (a routed
 * switch also its routes), what is missing or stray, and the link counters; counters prints the
 * bytes each link carried each way since the last `run` (or --reset).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/lab/lab.h"

/* Print WHAT NAME for key from a state file of "KEY SWITCH" lines. */
static void print_state_name(const char *file, const char *key, const char *what, FILE *out)
{
	char *data = NULL, *save = NULL, *tok;

	if (lab_read_file(file, &data, NULL))
		return;
	for (tok = strtok_r(data, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(key);

		if (!strncmp(tok, key, n) && tok[n] == ' ') {
			fprintf(out, "%s%s", what, tok + n + 1);
			break;
		}
	}
	free(data);
}

/* Print one namespace: its interfaces with address and tbf rate. */
static void status_netns(const char *ns, FILE *out)
{
	char addrs[16384], qd[16384], line[80];
	char *argv_a[] = {"ip", "-n", (char *)ns, "-br", "-4", "addr", "show", NULL};
	char *argv_r[] = {"ip", "-n", (char *)ns, "-br", "addr", "show", NULL}; /* all ports */
	char *argv_l[] = {"ip", "-n", (char *)ns, "-br", "link", "show", NULL};
	char *argv_q[] = {"tc", "-n", (char *)ns, "qdisc", "show", NULL};
	char *save = NULL, *tok;
	bool fabric = !strcmp(ns, LAB_FABRIC_NS);
	bool router = !strncmp(ns, LAB_PREFIX "sw_", strlen(LAB_PREFIX) + 3);

	lab_run(fabric ? argv_l : router ? argv_r : argv_a, addrs, sizeof(addrs), NULL, 0);
	lab_run(argv_q, qd, sizeof(qd), NULL, 0);
	fprintf(out, "  %s%s", ns, fabric ? " (switches)" : "");
	if (router)
		print_state_name(LAB_STATE_DIR "/switches", ns, " (routed) switch ", out);
	fprintf(out, "\n");
	for (tok = strtok_r(addrs, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		char dev[64] = "", st[32] = "", rest[256] = "", *at, *q;

		if (sscanf(tok, "%63s %31s %255[^\n]", dev, st, rest) < 2 || !strcmp(dev, "lo"))
			continue;
		if ((at = strchr(dev, '@')))
			*at = '\0';
		if (fabric)
			rest[0] = '\0'; /* link addresses: not interesting */
		snprintf(line, sizeof(line), "dev %s ", dev);
		fprintf(out, "    %-12s %-8s %-20s", dev, st, rest);
		q = strstr(qd, line);
		if (q) {
			char rate[32] = "", *eol = strchr(q, '\n'), *r = strstr(q, " rate ");

			if (r && (!eol || r < eol) && sscanf(r, " rate %31s", rate) == 1)
				fprintf(out, " tbf %s", rate);
		}
		if (fabric && !strncmp(dev, LAB_PREFIX "s", strlen(LAB_PREFIX) + 1))
			print_state_name(LAB_STATE_DIR "/bridges", dev, " bridge for switch ", out);
		fprintf(out, "\n");
	}
	if (router) {
		fflush(out); /* lab_print_routes (routed.c) writes to stdout */
		lab_print_routes(ns);
	}
}

static void status_help(FILE *f)
{
	fprintf(f, "usage: arlab status\n"
		   "\n"
		   "Show the lab: where it was built from, every lab namespace with its\n"
		   "interfaces, IPv4 addresses and tbf rates (a routed switch also its routes),\n"
		   "namespaces missing and stray links in the root namespace, and the bytes each\n"
		   "link carried (as arlab counters).\n"
		   "\n"
		   "  -h, --help          this text\n"
		   "\n"
		   "Exit status: 0 ok (or no lab up), 1 the lab is incomplete ('arlab down'\n"
		   "removes it), 2 bad usage.\n");
}

int lab_cmd_status(int argc, char **argv, FILE *out, FILE *err)
{
	char **have = NULL, **hosts = NULL, **links = NULL, *src = NULL;
	size_t nh = 0, nhosts = 0, nl = 0;
	unsigned missing = 0;
	char ns[LAB_NAME_MAX + 8];
	const struct lab_flag no_flags[] = {{NULL, 0, NULL}};
	int rc = lab_parse_flags(argc, argv, no_flags, "usage: arlab status\n", status_help, out,
				 err);

	if (rc >= 0)
		return rc;
	rc = 0;
	lab_list_netns(&have, &nh);
	lab_list_root_links(&links, &nl);
	lab_read_file(LAB_STATE_DIR "/source", &src, NULL);
	lab_state_hosts(LAB_STATE_DIR, &hosts, &nhosts);
	if (!src && nh == 0 && nl == 0) {
		fprintf(out, "arlab: no lab is up\n");
		goto out;
	}
	fprintf(out, "arlab: lab built from %s: %zu hosts, %zu namespaces\n",
		src ? src : "(no state in " LAB_STATE_DIR ")", nhosts, nh);
	for (size_t i = 0; i < nh; i++)
		status_netns(have[i], out);
	for (size_t i = 0; i < nhosts; i++) {
		bool found = false;

		snprintf(ns, sizeof(ns), LAB_PREFIX "%s", hosts[i]);
		for (size_t j = 0; j < nh && !found; j++)
			found = !strcmp(have[j], ns);
		if (!found) {
			fprintf(out, "  missing: namespace %s\n", ns);
			missing++;
		}
	}
	for (size_t i = 0; i < nl; i++)
		fprintf(out, "  stray link in the root namespace: %s\n", links[i]);
	if (src) {
		fprintf(out, "  link counters:\n");
		lab_counters_print(LAB_STATE_DIR, false, out);
	}
	if (missing || nl || !src) {
		fprintf(out, "arlab: the lab is incomplete; 'arlab down' removes it\n");
		rc = ARB_EXIT_CHECK;
	}
out:
	lab_free_names(have, nh);
	lab_free_names(hosts, nhosts);
	lab_free_names(links, nl);
	free(src);
	return rc;
}

#define COUNTERS_USAGE "usage: arlab counters [--fabric] [--reset]\n"

static void counters_help(FILE *f)
{
	fprintf(f, COUNTERS_USAGE
		"\n"
		"Print the bytes each link of the lab carried each way since the last\n"
		"`arlab run` (or --reset; before either, since `up`).  Needs root.\n"
		"\n"
		"  --fabric            switch<->switch links only\n"
		"  --reset             count from now on (prints nothing else)\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit status: 0 ok, 2 bad usage (or no lab up, not root), 3 the counters\n"
		"could not be read or saved.\n");
}

int lab_cmd_counters(int argc, char **argv, FILE *out, FILE *err)
{
	bool reset, fabric;
	const struct lab_flag flags[] = {
		{"fabric", 0, &fabric}, {"reset", 0, &reset}, {NULL, 0, NULL}};
	char **hosts = NULL;
	size_t n = 0;
	int rc = lab_parse_flags(argc, argv, flags, COUNTERS_USAGE, counters_help, out, err);

	if (rc >= 0)
		return rc;
	rc = lab_need_root("counters", err);
	if (!rc)
		rc = lab_hosts_or_fail(&hosts, &n, err);
	lab_free_names(hosts, n);
	if (rc)
		return rc;
	if (reset) {
		rc = lab_counters_reset(LAB_STATE_DIR);
		if (rc)
			fprintf(err, "arlab: counters --reset: %s\n", strerror(-rc));
		else
			fprintf(out, "arlab: link counters reset\n");
		return rc ? ARB_EXIT_RUNTIME : 0;
	}
	return lab_counters_print(LAB_STATE_DIR, fabric, out) ? ARB_EXIT_RUNTIME : 0;
}
