/*
 * arlab.c - the `arlab` program: builds an emulated multi-host fabric on this machine from a
 * topology YAML (up), shows it (status), removes it (down), launches arbench into it with
 * mpirun (run), and shows the bytes each link carried (counters).  A fabric with several paths
 * between switches is built routed (routed.c).  See README.md, "The emulated lab (arlab)".
 *
 *   arlab up [--max-hosts N] [--dry-run] [-v] TOPO.yaml
 *   arlab down [-v]
 *   arlab status
 *   arlab run [--ranks-per-node N] [--np N] [--rail-bind local|matched] [--bench PATH]
 *             [--mpirun PATH] [-v] -- ARGS...
 *   arlab exec HOST -- COMMAND...
 *   arlab counters [--fabric] [--reset]
 *
 * Exit status: 0 done, 1 a system command failed, 2 bad input (usage, topology, state).
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "bench/lab/lab.h"

#define EXIT_FAIL  ARB_EXIT_CHECK /* a system command failed: 1, as --help says */
#define EXIT_INPUT ARB_EXIT_INPUT

/* mpirun settings for the lab: launch through the rsh agent, talk only on the lab subnet,
 * shared memory inside a host and TCP (the shaped links) between hosts. */
static const char *const mpirun_lab_args[] = {"--bind-to",
					      "none",
					      "--oversubscribe",
					      "--mca",
					      "plm_rsh_no_tree_spawn",
					      "1",
					      "--mca",
					      "oob_tcp_if_include",
					      LAB_SUBNET,
					      "--mca",
					      "btl_tcp_if_include",
					      LAB_SUBNET,
					      "--mca",
					      "btl",
					      "self,vader,tcp",
					      NULL};

/* Tuning, passed as environment so that a caller's own OMPI_MCA_ setting wins.  Measured on a
 * 2-node lab (one rank per node, 32 MiB):
 * - btl_tcp_links 2: with one TCP connection per peer pair, a simultaneous exchange
 *   (MPI_Sendrecv, every ring step) alternates direction and gets half the link (190 of
 *   400 Mbit/s each way); with two it gets 370-380.
 * - eager limits 4 MiB (single-NIC hosts only): above the 64 KiB default every message (a
 *   1 MiB ring segment) waits for a rendezvous round trip whose control messages queue behind
 *   the other direction's data in the shaped links' queues; the ring got 320-370 of 400 Mbit/s
 *   and 570 of 800.  Sent eagerly it gets 396 and 756.  But an eager message goes over one
 *   BTL, while rendezvous stripes across NICs: with two 200 Mbit/s rails the ring got 195
 *   eagerly and 360 with the default, so hosts with several NICs keep the default.
 * - mpi_yield_when_idle 1: the emulated hosts share the machine's cores, but each one has a
 *   slot of its own, so Open MPI does not know it is oversubscribed and its ranks busy-poll.
 *   A rank whose message has arrived then waits for the scheduler to take a core from the
 *   others: 8 ranks on 2 cores spent 8-10 ms per ring step whatever the size (lab-2leaf-1to1,
 *   64 KiB: 130-156 ms against 9 ms on the wire).  Yielding when idle, as Open MPI does by
 *   itself when it knows about oversubscription, removes most of that. */
struct lab_env {
	const char *name, *value;
	bool single_nic_only;
};

static const struct lab_env mpirun_lab_env[] = {
	{"OMPI_MCA_btl_tcp_links", "2", false},
	{"OMPI_MCA_mpi_yield_when_idle", "1", false},
	{"OMPI_MCA_btl_tcp_eager_limit", "4194304", true},
	{"OMPI_MCA_btl_tcp_rndv_eager_limit", "4194304", true},
};

/* The most NICs of any host of the lab that is up (1 when not known). */
static unsigned lab_max_nics(void)
{
	char *data = NULL;
	unsigned n = 1;

	if (lab_read_file(LAB_STATE_DIR "/nics", &data, NULL) == 0 && sscanf(data, "%u", &n) != 1)
		n = 1;
	free(data);
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int need_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "arlab: %s needs root (it creates network namespaces); run it as root\n",
		what);
	return EXIT_INPUT;
}

/*
 * up and down change the lab as a whole: one at a time per machine.  Takes an exclusive lock
 * on ARLAB_LOCK (held until this process exits; close-on-exec, so nothing arlab starts keeps
 * it), waiting up to ARLAB_LOCK_WAIT seconds (the environment variable of that name may set
 * fewer or more).  The lock lives in /run, which only root can write, not in the world-writable
 * /run/lock: nobody else can plant a file or symlink there, or open it to hold it.  It is
 * opened with O_NOFOLLOW all the same and must be a regular file owned by root with no other
 * link, mode 0600.  While waiting, says which process holds it (from /proc/locks).
 * 0 or an exit status (message printed).
 */
#define ARLAB_LOCK	"/run/arlab.lock"
#define ARLAB_LOCK_WAIT 120

/* "PID 123 (arlab down)" for the process holding a flock on the file of `st`, or "". */
static void lock_holder(const struct stat *st, char *buf, size_t len)
{
	FILE *f = fopen("/proc/locks", "r");
	char line[256];

	buf[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long ino;
		long pid;
		char type[16], path[64], cmd[200] = "";
		const char *p = strstr(line, "FLOCK");
		FILE *c;

		if (!p ||
		    sscanf(p, "FLOCK %*s %15s %ld %x:%x:%llu", type, &pid, &maj, &min, &ino) != 5)
			continue;
		if (ino != (unsigned long long)st->st_ino || makedev(maj, min) != st->st_dev)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		c = fopen(path, "r");
		if (c) {
			size_t n = fread(cmd, 1, sizeof(cmd) - 1, c), i;

			fclose(c);
			for (i = 0; i < n; i++) /* arguments are NUL-separated; no control chars */
				if ((unsigned char)cmd[i] < 0x20 || cmd[i] == 0x7f)
					cmd[i] = ' ';
			cmd[n] = 0;
			while (n && cmd[n - 1] == ' ')
				cmd[--n] = 0;
		}
		snprintf(buf, len, "PID %ld%s%.150s%s", pid, *cmd ? " (" : "", cmd,
			 *cmd ? ")" : "");
		break;
	}
	fclose(f);
}

static int lock_wait_seconds(void)
{
	const char *e = getenv("ARLAB_LOCK_WAIT");
	char *end;
	long v;

	if (!e || !*e)
		return ARLAB_LOCK_WAIT;
	v = strtol(e, &end, 10);
	return *end || v < 0 || v > 86400 ? ARLAB_LOCK_WAIT : (int)v;
}

static int lock_lab(const char *what)
{
	int fd, waited = 0, wait_s = lock_wait_seconds();
	char holder[200];
	struct stat st;

	fd = open(ARLAB_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "arlab: %s: cannot open %s: %s%s\n", what, ARLAB_LOCK,
			strerror(errno),
			errno == ELOOP ? " (a symlink: remove it, arlab makes its own lock)" : "");
		return EXIT_FAIL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1) {
		fprintf(stderr,
			"arlab: %s: %s is not a regular file of ours (owner uid %u, %u links); "
			"remove it, arlab makes its own lock\n",
			what, ARLAB_LOCK, (unsigned)st.st_uid, (unsigned)st.st_nlink);
		close(fd);
		return EXIT_FAIL;
	}
	if ((st.st_mode & 077) && fchmod(fd, 0600)) { /* nobody else may open it to hold it */
		fprintf(stderr, "arlab: %s: chmod %s: %s\n", what, ARLAB_LOCK, strerror(errno));
		close(fd);
		return EXIT_FAIL;
	}
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			fprintf(stderr, "arlab: %s: flock %s: %s\n", what, ARLAB_LOCK,
				strerror(errno));
			close(fd);
			return EXIT_FAIL;
		}
		if (waited == 0 || waited >= wait_s * 10)
			lock_holder(&st, holder, sizeof(holder));
		if (waited == 0)
			fprintf(stderr,
				"arlab: %s: waiting for another arlab up/down (%s held by %s)\n",
				what, ARLAB_LOCK,
				*holder ? holder : "a process not found in /proc/locks");
		if (waited++ >= wait_s * 10) {
			fprintf(stderr, "arlab: %s: %s held %s for %d s; try again\n", what,
				*holder ? holder : "another process", ARLAB_LOCK, wait_s);
			close(fd);
			return EXIT_INPUT;
		}
		usleep(100000);
	}
	return 0; /* fd stays open: the lock lasts as long as this process */
}

/* Load, expand, map and check a topology.  0 or an exit status (message printed). */
static int load_fabric(const char *path, unsigned max_hosts, struct lab_fabric **out)
{
	struct topo_desc *d = NULL;
	struct topo_graph *g = NULL;
	struct topo_error te = {0};
	char msg[LAB_ERR_MAX + 600];
	char err[LAB_ERR_MAX];
	int rc;

	rc = topo_load(path, &d, &te);
	if (!rc)
		rc = topo_expand(d, &g, &te);
	if (rc) {
		topo_error_format(&te, msg, sizeof(msg));
		fprintf(stderr, "arlab: %s\n", te.message[0] ? msg : strerror(-rc));
		topo_desc_free(d);
		return rc == -ENOMEM ? EXIT_FAIL : EXIT_INPUT;
	}
	rc = lab_fabric_from_graph(g, topo_desc_name(d), out, err, sizeof(err));
	topo_graph_free(g);
	topo_desc_free(d);
	if (rc) {
		fprintf(stderr, "arlab: %s: %s\n", path, rc == -EINVAL ? err : strerror(-rc));
		return rc == -EINVAL ? EXIT_INPUT : EXIT_FAIL;
	}
	rc = lab_fabric_check(*out, max_hosts, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "arlab: %s: %s\n", path, rc == -EINVAL ? err : strerror(-rc));
		lab_fabric_free(*out);
		*out = NULL;
		return rc == -EINVAL ? EXIT_INPUT : EXIT_FAIL;
	}
	return 0;
}

static void print_cmd(const struct lab_cmd *c)
{
	for (int i = 0; i < c->argc; i++)
		printf("%s%s", i ? " " : "", c->argv[i]);
	printf("\n");
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

static int teardown_quiet(bool verbose, char *err, size_t errlen)
{
	unsigned nn, nl, np;

	return lab_teardown(verbose, &nn, &nl, &np, err, errlen);
}

static void print_fabric(const struct lab_fabric *f)
{
	double lo = 1e300, hi = 0;

	for (uint32_t l = 0; l < f->n_links; l++) {
		lo = f->links[l].rate < lo ? f->links[l].rate : lo;
		hi = f->links[l].rate > hi ? f->links[l].rate : hi;
	}
	printf("%u hosts, %u %s, %u links (%.0f", f->n_hosts, f->n_bridges,
	       f->routed ? "routed switches (ECMP, 5-tuple hash)" : "bridges", f->n_links,
	       lo * 8 / 1e6);
	if (hi > lo)
		printf("-%.0f", hi * 8 / 1e6);
	printf(" Mbit/s each way; latency not emulated)");
}

static int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {{"max-hosts", required_argument, NULL, 'm'},
					     {"dry-run", no_argument, NULL, 'n'},
					     {"verbose", no_argument, NULL, 'v'},
					     {NULL, 0, NULL, 0}};
	unsigned max_hosts = LAB_DEFAULT_MAX_HOSTS;
	bool dry = false, verbose = false, rebuilt = false;
	struct lab_fabric *f = NULL;
	struct lab_plan plan = {0};
	char what[4096], err[LAB_ERR_MAX], path[PATH_MAX];
	double t0 = now();
	int c, rc;

	while ((c = getopt_long(argc, argv, "+m:nv", opts, NULL)) != -1) {
		char *end;
		unsigned long v;

		if (c == 'm') {
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v == 0 || v > LAB_HARD_MAX_HOSTS) {
				fprintf(stderr,
					"arlab: --max-hosts %s: expected a number from 1 to %u\n",
					optarg, LAB_HARD_MAX_HOSTS);
				return EXIT_INPUT;
			}
			max_hosts = (unsigned)v;
		} else if (c == 'n') {
			dry = true;
		} else if (c == 'v') {
			verbose = true;
		} else {
			return EXIT_INPUT;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: arlab up [--max-hosts N] [--dry-run] [-v] TOPO.yaml\n");
		return EXIT_INPUT;
	}
	if (!realpath(argv[optind], path)) {
		fprintf(stderr, "arlab: %s: %s\n", argv[optind], strerror(errno));
		return EXIT_INPUT;
	}
	rc = load_fabric(path, max_hosts, &f);
	if (rc)
		return rc;
	rc = lab_plan_up(f, &plan);
	if (rc) {
		fprintf(stderr, "arlab: %s\n", strerror(-rc));
		rc = EXIT_FAIL;
		goto out;
	}
	if (dry) {
		for (size_t i = 0; i < plan.n; i++)
			print_cmd(&plan.cmds[i]);
		goto out;
	}
	rc = need_root("up");
	if (!rc)
		rc = lock_lab("up");
	if (rc)
		goto out;
	switch (existing_lab(f, path, what, sizeof(what))) {
	case LAB_NONE:
		break;
	case LAB_SAME_INTACT:
		printf("arlab: lab \"%s\" is already up from %s: no-op\n", f->name, path);
		goto out;
	case LAB_SAME_BROKEN:
		printf("arlab: lab \"%s\" from %s is incomplete: rebuilding\n", f->name, path);
		rc = teardown_quiet(verbose, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "arlab: cannot remove the old lab: %s\n", err);
			rc = EXIT_FAIL;
			goto out;
		}
		rebuilt = true;
		break;
	case LAB_OTHER:
		fprintf(stderr,
			"arlab: another lab is up (built from %s); run 'arlab down' first\n", what);
		rc = EXIT_INPUT;
		goto out;
	}
	for (size_t i = 0; i < plan.n; i++) {
		int r = lab_run_cmd(&plan.cmds[i], verbose, err, sizeof(err));

		if (r) {
			fprintf(stderr, "arlab: up failed at '");
			for (int j = 0; j < plan.cmds[i].argc; j++)
				fprintf(stderr, "%s%s", j ? " " : "", plan.cmds[i].argv[j]);
			fprintf(stderr, "': %s; removing what was built\n",
				r < 0 ? strerror(-r) : err);
			goto err_teardown;
		}
	}
	rc = lab_state_write(f, path, LAB_STATE_DIR);
	if (rc) {
		fprintf(stderr, "arlab: cannot write %s: %s; removing what was built\n",
			LAB_STATE_DIR, strerror(-rc));
		goto err_teardown;
	}
	printf("arlab: lab \"%s\" %s: ", f->name, rebuilt ? "rebuilt" : "up");
	print_fabric(f);
	printf(" in %.1f s\n", now() - t0);
	lab_rails_describe(f, what, sizeof(what));
	if (*what)
		printf("arlab: %s\n", what);
	rc = 0;
	goto out;

err_teardown:
	if (teardown_quiet(verbose, err, sizeof(err)))
		fprintf(stderr, "arlab: cleanup failed too: %s\n", err);
	rc = EXIT_FAIL;
out:
	lab_plan_free(&plan);
	lab_fabric_free(f);
	return rc;
}

static int cmd_down(int argc, char **argv)
{
	bool verbose = argc > 1 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose"));
	unsigned nn, nl, np;
	char err[LAB_ERR_MAX] = "";
	int rc;

	if (argc > 2 || (argc == 2 && !verbose)) {
		fprintf(stderr, "usage: arlab down [-v]\n");
		return EXIT_INPUT;
	}
	rc = need_root("down");
	if (!rc)
		rc = lock_lab("down");
	if (rc)
		return rc;
	rc = lab_teardown(verbose, &nn, &nl, &np, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "arlab: down: %s\n", err[0] ? err : strerror(-rc));
		return EXIT_FAIL;
	}
	if (nn + nl == 0)
		printf("arlab: no lab was up; nothing removed\n");
	else
		printf("arlab: down: removed %u namespaces, %u root links, stopped %u processes\n",
		       nn, nl, np);
	return 0;
}

/* Print WHAT NAME for key from a state file of "KEY SWITCH" lines. */
static void print_state_name(const char *file, const char *key, const char *what)
{
	char *data = NULL, *save = NULL, *tok;

	if (lab_read_file(file, &data, NULL))
		return;
	for (tok = strtok_r(data, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(key);

		if (!strncmp(tok, key, n) && tok[n] == ' ') {
			printf("%s%s", what, tok + n + 1);
			break;
		}
	}
	free(data);
}

static void print_bridge_name(const char *dev)
{
	print_state_name(LAB_STATE_DIR "/bridges", dev, " bridge for switch ");
}

static void print_switch_name(const char *ns)
{
	print_state_name(LAB_STATE_DIR "/switches", ns, " (routed) switch ");
}

/* Print one namespace: its interfaces with address and tbf rate. */
static void status_netns(const char *ns)
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
	printf("  %s%s", ns, fabric ? " (switches)" : "");
	if (router)
		print_switch_name(ns);
	printf("\n");
	for (tok = strtok_r(addrs, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		char dev[64] = "", st[32] = "", rest[256] = "", *at, *q;

		if (sscanf(tok, "%63s %31s %255[^\n]", dev, st, rest) < 2 || !strcmp(dev, "lo"))
			continue;
		if ((at = strchr(dev, '@')))
			*at = '\0';
		if (fabric)
			rest[0] = '\0'; /* link addresses: not interesting */
		snprintf(line, sizeof(line), "dev %s ", dev);
		printf("    %-12s %-8s %-20s", dev, st, rest);
		q = strstr(qd, line);
		if (q) {
			char rate[32] = "", *eol = strchr(q, '\n'), *r = strstr(q, " rate ");

			if (r && (!eol || r < eol) && sscanf(r, " rate %31s", rate) == 1)
				printf(" tbf %s", rate);
		}
		if (fabric && !strncmp(dev, LAB_PREFIX "s", strlen(LAB_PREFIX) + 1))
			print_bridge_name(dev);
		printf("\n");
	}
	if (router)
		lab_print_routes(ns);
}

static int cmd_status(int argc, char **argv)
{
	char **have = NULL, **hosts = NULL, **links = NULL, *src = NULL;
	size_t nh = 0, nhosts = 0, nl = 0;
	unsigned missing = 0;
	char ns[LAB_NAME_MAX + 8];
	int rc = 0;

	if (argc > 1) {
		fprintf(stderr, "usage: arlab status\n");
		return EXIT_INPUT;
	}
	lab_list_netns(&have, &nh);
	lab_list_root_links(&links, &nl);
	lab_read_file(LAB_STATE_DIR "/source", &src, NULL);
	lab_state_hosts(LAB_STATE_DIR, &hosts, &nhosts);
	if (!src && nh == 0 && nl == 0) {
		printf("arlab: no lab is up\n");
		goto out;
	}
	printf("arlab: lab built from %s: %zu hosts, %zu namespaces\n",
	       src ? src : "(no state in " LAB_STATE_DIR ")", nhosts, nh);
	for (size_t i = 0; i < nh; i++)
		status_netns(have[i]);
	for (size_t i = 0; i < nhosts; i++) {
		bool found = false;

		snprintf(ns, sizeof(ns), LAB_PREFIX "%s", hosts[i]);
		for (size_t j = 0; j < nh && !found; j++)
			found = !strcmp(have[j], ns);
		if (!found) {
			printf("  missing: namespace %s\n", ns);
			missing++;
		}
	}
	for (size_t i = 0; i < nl; i++)
		printf("  stray link in the root namespace: %s\n", links[i]);
	if (src) {
		printf("  link counters:\n");
		lab_counters_print(LAB_STATE_DIR, false, stdout);
	}
	if (missing || nl || !src) {
		printf("arlab: the lab is incomplete; 'arlab down' removes it\n");
		rc = EXIT_FAIL;
	}
out:
	lab_free_names(have, nh);
	lab_free_names(hosts, nhosts);
	lab_free_names(links, nl);
	free(src);
	return rc;
}

/* argv to enter host's namespace with its own hostname and exec cmd (no shell parsing of cmd). */
static char **enter_host_argv(const char *host, char *const *cmd, int ncmd, char *ns, size_t nslen)
{
	static const char *const pre[] = {
		"ip",	 "netns", "exec", NULL /* ns */, "unshare",
		"--uts", "--",	  "sh",	  "-c",		 "hostname \"$0\" && exec \"$@\"",
		NULL /* host */};
	size_t npre = sizeof(pre) / sizeof(pre[0]);
	char **av = calloc(npre + (size_t)ncmd + 1, sizeof(*av));

	if (!av)
		return NULL;
	snprintf(ns, nslen, LAB_PREFIX "%s", host);
	for (size_t i = 0; i < npre; i++)
		av[i] = (char *)pre[i];
	av[3] = ns;
	av[npre - 1] = (char *)host;
	for (int i = 0; i < ncmd; i++)
		av[npre + (size_t)i] = cmd[i];
	return av;
}

static int lab_hosts_or_fail(char ***hosts, size_t *n)
{
	if (lab_state_hosts(LAB_STATE_DIR, hosts, n) || *n == 0) {
		fprintf(stderr, "arlab: no lab is up (no %s/hosts); run 'arlab up TOPO.yaml'\n",
			LAB_STATE_DIR);
		return EXIT_INPUT;
	}
	return 0;
}

static int cmd_exec(int argc, char **argv)
{
	char **hosts = NULL, ns[LAB_NAME_MAX + 8], **av;
	size_t n = 0;
	bool found = false;
	int rc;

	if (argc < 4 || strcmp(argv[2], "--")) {
		fprintf(stderr, "usage: arlab exec HOST -- COMMAND...\n");
		return EXIT_INPUT;
	}
	rc = need_root("exec");
	if (!rc)
		rc = lab_hosts_or_fail(&hosts, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !found; i++)
		found = !strcmp(hosts[i], argv[1]);
	lab_free_names(hosts, n);
	if (!found) {
		fprintf(stderr, "arlab: %s is not a host of the lab (see arlab status)\n", argv[1]);
		return EXIT_INPUT;
	}
	av = enter_host_argv(argv[1], argv + 3, argc - 3, ns, sizeof(ns));
	if (!av)
		return EXIT_FAIL;
	execvp(av[0], av);
	fprintf(stderr, "arlab: cannot run ip: %s\n", strerror(errno));
	free(av);
	return EXIT_FAIL;
}

static int parse_count(const char *opt, const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v > max) {
		fprintf(stderr, "arlab: %s %s: expected a number from 1 to %u\n", opt, s, max);
		return EXIT_INPUT;
	}
	*out = (unsigned)v;
	return 0;
}

static int write_hostfile(char **hosts, size_t n, unsigned rpn, char *path, size_t len)
{
	FILE *fp;

	snprintf(path, len, "%s/hostfile", LAB_STATE_DIR);
	fp = fopen(path, "w");
	if (!fp)
		return -errno;
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s slots=%u\n", hosts[i], rpn);
	return fclose(fp) ? -errno : 0;
}

/* Default benchmark: arbench next to this arlab binary. */
static void default_bench(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(buf, len, "arbench");
		return;
	}
	self[n] = '\0';
	snprintf(buf, len, "%s/arbench", dirname(self));
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {{"ranks-per-node", required_argument, NULL, 'r'},
					     {"np", required_argument, NULL, 'n'},
					     {"bench", required_argument, NULL, 'b'},
					     {"mpirun", required_argument, NULL, 'm'},
					     {"rail-bind", required_argument, NULL, 'R'},
					     {"verbose", no_argument, NULL, 'v'},
					     {NULL, 0, NULL, 0}};
	char bench[PATH_MAX], hostfile[PATH_MAX], npbuf[16], ppr[32], ns[LAB_NAME_MAX + 8];
	char rpnbuf[16], errmsg[LAB_ERR_MAX];
	const char *rail_bind = NULL;
	const char *mpirun = getenv("MPIRUN") ? getenv("MPIRUN") : "mpirun";
	unsigned rpn = 1, np = 0;
	bool verbose = false;
	char **hosts = NULL, **cmd, **av;
	size_t nhosts = 0, k = 0, nlab = sizeof(mpirun_lab_args) / sizeof(mpirun_lab_args[0]);
	int c, rc;

	default_bench(bench, sizeof(bench));
	while ((c = getopt_long(argc, argv, "+r:n:b:m:R:v", opts, NULL)) != -1) {
		rc = 0;
		if (c == 'r')
			rc = parse_count("--ranks-per-node", optarg, 256, &rpn);
		else if (c == 'n')
			rc = parse_count("--np", optarg, 65536, &np);
		else if (c == 'b')
			snprintf(bench, sizeof(bench), "%s", optarg);
		else if (c == 'm')
			mpirun = optarg;
		else if (c == 'R') {
			rail_bind = optarg;
			rc = lab_rail_bind_mode(optarg) ? EXIT_INPUT : 0;
		} else if (c == 'v')
			verbose = true;
		else
			rc = EXIT_INPUT;
		if (rc == EXIT_INPUT && c == 'R')
			fprintf(stderr, "arlab: --rail-bind %s: expected local or matched\n",
				optarg);
		if (rc)
			return rc;
	}
	if (access(bench, X_OK)) {
		fprintf(stderr, "arlab: benchmark %s: %s (build it, or pass --bench PATH)\n", bench,
			strerror(errno));
		return EXIT_INPUT;
	}
	rc = need_root("run");
	if (!rc)
		rc = lab_hosts_or_fail(&hosts, &nhosts);
	if (rc)
		return rc;
	if (np == 0)
		np = (unsigned)nhosts * rpn;
	if (np > nhosts * rpn) {
		fprintf(stderr,
			"arlab: --np %u is more than %zu hosts x %u ranks per node; raise "
			"--ranks-per-node\n",
			np, nhosts, rpn);
		rc = EXIT_INPUT;
		goto out;
	}
	if (rail_bind &&
	    lab_rail_bind_check(LAB_STATE_DIR, rail_bind, rpn, np, errmsg, sizeof(errmsg))) {
		fprintf(stderr, "arlab: --rail-bind %s: %s\n", rail_bind, errmsg);
		rc = EXIT_INPUT;
		goto out;
	}
	rc = write_hostfile(hosts, nhosts, rpn, hostfile, sizeof(hostfile));
	if (rc) {
		fprintf(stderr, "arlab: cannot write %s: %s\n", hostfile, strerror(-rc));
		rc = EXIT_FAIL;
		goto out;
	}
	/* `arlab counters` then shows what this run carried */
	if (lab_counters_reset(LAB_STATE_DIR))
		fprintf(stderr, "arlab: warning: cannot save the link counters' baseline\n");
	snprintf(npbuf, sizeof(npbuf), "%u", np);
	snprintf(ppr, sizeof(ppr), "ppr:%u:node", rpn);
	cmd = calloc(32 + nlab + (size_t)(argc - optind), sizeof(*cmd));
	if (!cmd) {
		rc = EXIT_FAIL;
		goto out;
	}
	cmd[k++] = (char *)mpirun;
	if (geteuid() == 0)
		cmd[k++] = "--allow-run-as-root";
	cmd[k++] = "--hostfile";
	cmd[k++] = hostfile;
	cmd[k++] = "-np";
	cmd[k++] = npbuf;
	cmd[k++] = "--map-by";
	cmd[k++] = ppr;
	cmd[k++] = "--mca";
	cmd[k++] = "plm_rsh_agent";
	cmd[k++] = LAB_STATE_DIR "/rsh-agent";
	for (size_t i = 0; mpirun_lab_args[i]; i++)
		cmd[k++] = (char *)mpirun_lab_args[i];
	if (rail_bind) { /* each rank through the wrapper that binds it to one NIC (rails.c) */
		snprintf(rpnbuf, sizeof(rpnbuf), "%u", rpn);
		cmd[k++] = LAB_STATE_DIR "/rail-bind";
		cmd[k++] = (char *)rail_bind;
		cmd[k++] = rpnbuf;
	}
	cmd[k++] = bench;
	/* a rank bound to one NIC does not stripe: the one-NIC eager limits apply */
	for (size_t i = 0; i < sizeof(mpirun_lab_env) / sizeof(mpirun_lab_env[0]); i++)
		if (!mpirun_lab_env[i].single_nic_only || lab_max_nics() <= 1 || rail_bind)
			setenv(mpirun_lab_env[i].name, mpirun_lab_env[i].value, 0);
	for (int i = optind; i < argc; i++)
		cmd[k++] = argv[i];
	/* mpirun itself runs on the first emulated host, so its daemon reaches the others over the
	 * lab subnet and nothing listens outside the lab's namespaces */
	av = enter_host_argv(hosts[0], cmd, (int)k, ns, sizeof(ns));
	if (!av) {
		free(cmd);
		rc = EXIT_FAIL;
		goto out;
	}
	if (verbose) {
		for (size_t i = 0; av[i]; i++)
			printf("%s%s", i ? " " : "+ ", av[i]);
		printf("\n");
		fflush(stdout);
	}
	execvp(av[0], av);
	fprintf(stderr, "arlab: cannot run ip: %s\n", strerror(errno));
	free(av);
	free(cmd);
	rc = EXIT_FAIL;
out:
	lab_free_names(hosts, nhosts);
	return rc;
}

static int cmd_counters(int argc, char **argv)
{
	bool reset = false, fabric = false;
	char **hosts = NULL;
	size_t n = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reset")) {
			reset = true;
		} else if (!strcmp(argv[i], "--fabric")) {
			fabric = true;
		} else {
			fprintf(stderr, "usage: arlab counters [--fabric] [--reset]\n");
			return EXIT_INPUT;
		}
	}
	rc = need_root("counters");
	if (!rc)
		rc = lab_hosts_or_fail(&hosts, &n);
	lab_free_names(hosts, n);
	if (rc)
		return rc;
	if (reset) {
		rc = lab_counters_reset(LAB_STATE_DIR);
		if (rc)
			fprintf(stderr, "arlab: counters --reset: %s\n", strerror(-rc));
		else
			printf("arlab: link counters reset\n");
		return rc ? EXIT_FAIL : 0;
	}
	return lab_counters_print(LAB_STATE_DIR, fabric, stdout) ? EXIT_FAIL : 0;
}

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct subcommand subcommands[] = {
	{"up", cmd_up, "up [--max-hosts N] [--dry-run] [-v] TOPO.yaml   build the lab"},
	{"down", cmd_down, "down [-v]                                     remove the lab"},
	{"status", cmd_status, "status                                        show the lab"},
	{"run", cmd_run,
	 "run [--ranks-per-node N] [--np N] [--rail-bind local|matched] [--bench PATH]\n"
	 "      [--mpirun PATH] [-v] -- ARGS              launch arbench ARGS into the lab;\n"
	 "                                                --rail-bind (hosts with several NICs):\n"
	 "                                                each rank on one NIC, local rank i on\n"
	 "                                                NIC i (local) or rotated per host so\n"
	 "                                                that ring steps between hosts stay on\n"
	 "                                                one rail (matched); refused when rails\n"
	 "                                                are not joined; default: every rank\n"
	 "                                                on every NIC"},
	{"exec", cmd_exec, "exec HOST -- COMMAND...                       run a command on a host"},
	{"counters", cmd_counters,
	 "counters [--fabric] [--reset]                 bytes each link carried each way since\n"
	 "                                                the last `run` (or --reset); --fabric:\n"
	 "                                                switch<->switch links only"},
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(fp, "  arlab %s\n", subcommands[i].usage);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_INPUT;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "arlab: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_INPUT;
}
