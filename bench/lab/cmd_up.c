/*
 * cmd_up.c - `arlab up` and `arlab down`, the lab's life: up loads and checks a topology
 * (everything it refuses, it refuses before touching the system), compares it with the lab
 * that is up (same text intact: no-op; damaged: rebuilt; another: refused), runs the plan of
 * ip/tc commands and writes the state directory, removing what it built when a command fails;
 * down removes every lab object.  Both hold the up/down lock (cmd_guard.c).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/lab/lab.h"

#define UP_USAGE "usage: arlab up [--max-hosts N] [--dry-run] [-v] TOPO.yaml\n"

static void up_help(FILE *f)
{
	fprintf(f,
		UP_USAGE
		"\n"
		"Build the emulated lab of a topology YAML on this machine: a network\n"
		"namespace per node (with its own hostname), a Linux bridge per switch, a veth\n"
		"pair per link shaped with tc tbf at the link's rate on both ends.  A fabric\n"
		"with several paths between switches is built routed (every switch a namespace\n"
		"forwarding IPv4, ECMP).  The same topology again is a no-op, a damaged lab of\n"
		"it is rebuilt, another lab up is refused.  A topology the lab cannot build is\n"
		"refused before anything is created.  Needs root (--dry-run does not).\n"
		"\n"
		"  -m, --max-hosts N   refuse more than N hosts (default %u, at most %u)\n"
		"  -n, --dry-run       print the ip/tc commands, run nothing\n"
		"  -v, --verbose       print each command as it runs\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit status: 0 ok, 2 bad input (usage, topology, another lab up, not root),\n"
		"3 a system command failed (what was built is removed).\n",
		LAB_DEFAULT_MAX_HOSTS, LAB_HARD_MAX_HOSTS);
}

int lab_up_parse(int argc, char **argv, struct lab_up_opts *o, FILE *out, FILE *err)
{
	static const struct option opts[] = {{"max-hosts", required_argument, NULL, 'm'},
					     {"dry-run", no_argument, NULL, 'n'},
					     {"verbose", no_argument, NULL, 'v'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int c;

	*o = (struct lab_up_opts){.max_hosts = LAB_DEFAULT_MAX_HOSTS};
	optind = 0; /* GNU: a full reset, so that tests can parse again */
	opterr = 1; /* getopt names an unknown option itself ("up: unrecognized option") */
	while ((c = getopt_long(argc, argv, "+m:nvh", opts, NULL)) != -1) {
		if (c == 'm') {
			if (lab_parse_count("--max-hosts", optarg, LAB_HARD_MAX_HOSTS,
					    &o->max_hosts, err))
				return ARB_EXIT_INPUT;
		} else if (c == 'n') {
			o->dry_run = true;
		} else if (c == 'v') {
			o->verbose = true;
		} else if (c == 'h') {
			o->help = true;
			up_help(out);
			return 0;
		} else {
			return ARB_EXIT_INPUT;
		}
	}
	if (optind != argc - 1) {
		fprintf(err, UP_USAGE);
		return ARB_EXIT_INPUT;
	}
	o->topo = argv[optind];
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Load, expand, map and check a topology.  0 or an exit status (message printed). */
static int load_fabric(const char *path, unsigned max_hosts, struct lab_fabric **out, FILE *err)
{
	struct topo_desc *d = NULL;
	struct topo_graph *g = NULL;
	struct topo_error te = {0};
	char msg[LAB_ERR_MAX + 600];
	char why[LAB_ERR_MAX];
	int rc;

	rc = topo_load(path, &d, &te);
	if (!rc)
		rc = topo_expand(d, &g, &te);
	if (rc) {
		topo_error_format(&te, msg, sizeof(msg));
		fprintf(err, "arlab: %s\n", te.message[0] ? msg : strerror(-rc));
		topo_desc_free(d);
		return rc == -ENOMEM ? ARB_EXIT_RUNTIME : ARB_EXIT_INPUT;
	}
	rc = lab_fabric_from_graph(g, topo_desc_name(d), out, why, sizeof(why));
	topo_graph_free(g);
	topo_desc_free(d);
	if (rc) {
		fprintf(err, "arlab: %s: %s\n", path, rc == -EINVAL ? why : strerror(-rc));
		return rc == -EINVAL ? ARB_EXIT_INPUT : ARB_EXIT_RUNTIME;
	}
	rc = lab_fabric_check(*out, max_hosts, why, sizeof(why));
	if (rc) {
		fprintf(err, "arlab: %s: %s\n", path, rc == -EINVAL ? why : strerror(-rc));
		lab_fabric_free(*out);
		*out = NULL;
		return rc == -EINVAL ? ARB_EXIT_INPUT : ARB_EXIT_RUNTIME;
	}
	return 0;
}

static void print_cmd(const struct lab_cmd *c, FILE *f)
{
	char line[4096];

	fprintf(f, "%s\n", lab_cmd_line(c, line, sizeof(line)));
}

static bool same_names(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		bool found = false;

		for (size_t j = 0; j < nb && !found; j++)
			found = !strcmp(a[i], b[j]);
		if (!found)
			return false;
	}
	return true;
}

enum existing { LAB_NONE, LAB_SAME_INTACT, LAB_SAME_BROKEN, LAB_OTHER };

/* What is up already, compared with the fabric f built from path.  Fills what with a short
 * description of the other lab for messages. */
static enum existing existing_lab(const struct lab_fabric *f, const char *path, char *what,
				  size_t len)
{
	char **have = NULL, **want = NULL, **links = NULL, *old = NULL, *new = NULL, *src = NULL;
	size_t nh = 0, nw = 0, nl = 0, lo = 0, ln = 0;
	enum existing r = LAB_NONE;
	bool state;

	lab_list_netns(&have, &nh);
	lab_list_root_links(&links, &nl);
	state = lab_read_file(LAB_STATE_DIR "/topology.yaml", &old, &lo) == 0;
	lab_read_file(LAB_STATE_DIR "/source", &src, NULL);
	snprintf(what, len, "%s", src ? src : "unknown topology (no state in " LAB_STATE_DIR ")");
	if (!state && nh == 0 && nl == 0)
		goto out;
	r = LAB_OTHER;
	/* the same topology is the same text, wherever the file is */
	if (!state || lab_read_file(path, &new, &ln) || lo != ln || memcmp(old, new, lo))
		goto out;
	r = LAB_SAME_BROKEN;
	if (nl == 0 && lab_fabric_netns(f, &want, &nw) == 0 && same_names(have, nh, want, nw))
		r = LAB_SAME_INTACT;
out:
	lab_free_names(have, nh);
	lab_free_names(want, nw);
	lab_free_names(links, nl);
	free(old);
	free(new);
	free(src);
	return r;
}

static int teardown_quiet(bool verbose, char *why, size_t len)
{
	unsigned nn, nl, np;

	return lab_teardown(verbose, &nn, &nl, &np, why, len);
}

static void print_fabric(const struct lab_fabric *f, FILE *out)
{
	double lo = 1e300, hi = 0;

	for (uint32_t l = 0; l < f->n_links; l++) {
		lo = f->links[l].rate < lo ? f->links[l].rate : lo;
		hi = f->links[l].rate > hi ? f->links[l].rate : hi;
	}
	fprintf(out, "%u hosts, %u %s, %u links (%.0f", f->n_hosts, f->n_bridges,
		f->routed ? "routed switches (ECMP, 5-tuple hash)" : "bridges", f->n_links,
		lo * 8 / 1e6);
	if (hi > lo)
		fprintf(out, "-%.0f", hi * 8 / 1e6);
	fprintf(out, " Mbit/s each way; latency not emulated)");
}

/* Make room for the lab of f: 0 to build it, -1 when it is up already (message printed),
 * or an exit status.  *rebuilt: a damaged lab of the same topology was removed. */
static int clear_the_way(const struct lab_fabric *f, const char *path, bool verbose, bool *rebuilt,
			 FILE *out, FILE *err)
{
	char what[4096], why[LAB_ERR_MAX];

	switch (existing_lab(f, path, what, sizeof(what))) {
	case LAB_NONE:
		return 0;
	case LAB_SAME_INTACT:
		fprintf(out, "arlab: lab \"%s\" is already up from %s: no-op\n", f->name, path);
		return -1;
	case LAB_SAME_BROKEN:
		fprintf(out, "arlab: lab \"%s\" from %s is incomplete: rebuilding\n", f->name,
			path);
		if (teardown_quiet(verbose, why, sizeof(why))) {
			fprintf(err, "arlab: cannot remove the old lab: %s\n", why);
			return ARB_EXIT_RUNTIME;
		}
		*rebuilt = true;
		return 0;
	case LAB_OTHER:
		break;
	}
	fprintf(err, "arlab: another lab is up (built from %s); run 'arlab down' first\n", what);
	return ARB_EXIT_INPUT;
}

/* Run the plan and write the state; on a failure remove what was built.  0 or an exit status. */
static int build(const struct lab_fabric *f, const struct lab_plan *plan, const char *path,
		 bool verbose, FILE *err)
{
	char why[LAB_ERR_MAX];
	int rc;

	for (size_t i = 0; i < plan->n; i++) {
		const struct lab_cmd *c = &plan->cmds[i];
		int r = lab_run_cmd(c, verbose, why, sizeof(why));

		if (r) {
			fprintf(err, "arlab: up failed at '");
			for (int j = 0; j < c->argc; j++)
				fprintf(err, "%s%s", j ? " " : "", c->argv[j]);
			fprintf(err, "': %s; removing what was built\n",
				r < 0 ? strerror(-r) : why);
			goto err_teardown;
		}
	}
	rc = lab_state_write(f, path, LAB_STATE_DIR);
	if (rc) {
		fprintf(err, "arlab: cannot write %s: %s; removing what was built\n", LAB_STATE_DIR,
			strerror(-rc));
		goto err_teardown;
	}
	return 0;

err_teardown:
	if (teardown_quiet(verbose, why, sizeof(why)))
		fprintf(err, "arlab: cleanup failed too: %s\n", why);
	return ARB_EXIT_RUNTIME;
}

int lab_cmd_up(int argc, char **argv, FILE *out, FILE *err)
{
	struct lab_up_opts o;
	struct lab_fabric *f = NULL;
	struct lab_plan plan = {0};
	char path[PATH_MAX];
	bool rebuilt = false;
	double t0 = now();
	int rc;

	rc = lab_up_parse(argc, argv, &o, out, err);
	if (rc || o.help)
		return rc;
	if (!realpath(o.topo, path)) {
		fprintf(err, "arlab: %s: %s\n", o.topo, strerror(errno));
		return ARB_EXIT_INPUT;
	}
	rc = load_fabric(path, o.max_hosts, &f, err);
	if (rc)
		return rc;
	rc = lab_plan_up(f, &plan);
	if (rc) {
		fprintf(err, "arlab: %s\n", strerror(-rc));
		rc = ARB_EXIT_RUNTIME;
		goto out;
	}
	if (o.dry_run) {
		for (size_t i = 0; i < plan.n; i++)
			print_cmd(&plan.cmds[i], out);
		goto out;
	}
	rc = lab_need_root("up", err);
	if (!rc)
		rc = lab_lock("up", err);
	if (!rc)
		rc = clear_the_way(f, path, o.verbose, &rebuilt, out, err);
	if (rc) {
		rc = rc < 0 ? 0 : rc;
		goto out;
	}
	rc = build(f, &plan, path, o.verbose, err);
	if (rc)
		goto out;
	fprintf(out, "arlab: lab \"%s\" %s: ", f->name, rebuilt ? "rebuilt" : "up");
	print_fabric(f, out);
	fprintf(out, " in %.1f s\n", now() - t0);
	{
		char rails[256];

		lab_rails_describe(f, rails, sizeof(rails));
		if (*rails)
			fprintf(out, "arlab: %s\n", rails);
	}
out:
	lab_plan_free(&plan);
	lab_fabric_free(f);
	return rc;
}

#define DOWN_USAGE "usage: arlab down [-v]\n"

static void down_help(FILE *f)
{
	fprintf(f, DOWN_USAGE
		"\n"
		"Remove the lab: stop the processes left in its namespaces, delete every\n"
		"namespace and root-namespace link named " LAB_PREFIX "..., and " LAB_STATE_DIR
		".\n"
		"Nothing else is touched; with no lab up it does nothing.  Needs root.\n"
		"\n"
		"  -v, --verbose       print each command as it runs\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit status: 0 ok, 2 bad usage (or not root), 3 a system command failed.\n");
}

int lab_cmd_down(int argc, char **argv, FILE *out, FILE *err)
{
	bool verbose;
	const struct lab_flag flags[] = {{"verbose", 'v', &verbose}, {NULL, 0, NULL}};
	char why[LAB_ERR_MAX] = "";
	unsigned nn, nl, np;
	int rc = lab_parse_flags(argc, argv, flags, DOWN_USAGE, down_help, out, err);

	if (rc < 0 && argc > 2) { /* one -v at most */
		fprintf(err, DOWN_USAGE);
		rc = ARB_EXIT_INPUT;
	}
	if (rc >= 0)
		return rc;
	rc = lab_need_root("down", err);
	if (!rc)
		rc = lab_lock("down", err);
	if (rc)
		return rc;
	rc = lab_teardown(verbose, &nn, &nl, &np, why, sizeof(why));
	if (rc) {
		fprintf(err, "arlab: down: %s\n", why[0] ? why : strerror(-rc));
		return ARB_EXIT_RUNTIME;
	}
	if (nn + nl == 0)
		fprintf(out, "arlab: no lab was up; nothing removed\n");
	else
		fprintf(out,
			"arlab: down: removed %u namespaces, %u root links, stopped %u processes\n",
			nn, nl, np);
	return 0;
}
