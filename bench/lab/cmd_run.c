/*
 * cmd_run.c - `arlab run` and `arlab exec`, starting programs inside the lab: run launches
 * arbench with mpirun from the first emulated host (a hostfile of the lab's hosts, the rsh
 * agent of the state directory, MPI kept on the lab subnet, tunings measured on the lab);
 * exec runs one command on one host, under the host's own hostname.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/lab/lab.h"

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
 *   eagerly and 360 with the default, so hosts with several NICs keep the default.  The
 *   cost: rhd at 8 MiB on 8 hosts has sporadic iterations 1.6x the others with 4 MiB and
 *   none with the default (bench/results/routed-ecmp.md); ecmp-spread.sh uses the default.
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

#define EXEC_USAGE "usage: arlab exec HOST -- COMMAND...\n"

static void exec_help(FILE *f)
{
	fprintf(f, EXEC_USAGE
		"\n"
		"Run COMMAND (no shell) on the emulated host HOST: in its network namespace,\n"
		"under its own hostname.  Needs root and a lab that is up.\n"
		"\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit status: COMMAND's; 2 bad usage (no lab up, HOST not one of its hosts,\n"
		"not root), 3 it could not be started.\n");
}

int lab_cmd_exec(int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	char **hosts = NULL, ns[LAB_NAME_MAX + 8], **av;
	const char *host;
	size_t n = 0;
	bool found = false;
	int c, rc;

	optind = 0;
	opterr = 0; /* one usage line for anything else, as before getopt */
	c = getopt_long(argc, argv, "+h", opts, NULL);
	if (c == 'h' && argc == 2) {
		exec_help(out);
		return 0;
	}
	if (c != -1 || argc - optind < 3 || strcmp(argv[optind + 1], "--")) {
		fprintf(err, EXEC_USAGE);
		return ARB_EXIT_INPUT;
	}
	host = argv[optind];
	rc = lab_need_root("exec", err);
	if (!rc)
		rc = lab_hosts_or_fail(&hosts, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !found; i++)
		found = !strcmp(hosts[i], host);
	lab_free_names(hosts, n);
	if (!found) {
		fprintf(err, "arlab: %s is not a host of the lab (see arlab status)\n", host);
		return ARB_EXIT_INPUT;
	}
	av = enter_host_argv(host, argv + optind + 2, argc - optind - 2, ns, sizeof(ns));
	if (!av)
		return ARB_EXIT_RUNTIME;
	fflush(out);
	execvp(av[0], av);
	fprintf(err, "arlab: cannot run ip: %s\n", strerror(errno));
	free(av);
	return ARB_EXIT_RUNTIME;
}

#define RUN_USAGE                                                                                  \
	"usage: arlab run [--ranks-per-node N] [--np N] [--rail-bind local|matched]\n"             \
	"                 [--bench PATH] [--mpirun PATH] [-v] -- ARGS...\n"

static void run_help(FILE *f)
{
	fprintf(f, RUN_USAGE
		"\n"
		"Launch arbench ARGS into the lab that is up, with mpirun started on its first\n"
		"host: a hostfile of the lab's hosts, the state directory's rsh agent, MPI on the\n"
		"lab subnet " LAB_SUBNET " only (shared memory inside a host, TCP over the shaped\n"
		"links between hosts).  The link counters restart (see arlab counters).  Needs\n"
		"root.\n"
		"\n"
		"  -r, --ranks-per-node N  ranks (slots) on each host (default 1)\n"
		"  -n, --np N          ranks in all (default: hosts x ranks per node)\n"
		"  -R, --rail-bind MODE  hosts with several NICs: each rank on one NIC, local\n"
		"                      rank i on NIC i (local) or rotated per host so that ring\n"
		"                      steps between hosts stay on one rail (matched); refused\n"
		"                      when the rails are not joined (default: every rank on\n"
		"                      every NIC)\n"
		"  -b, --bench PATH    the benchmark (default: arbench beside arlab)\n"
		"  -m, --mpirun PATH   the launcher (default: $MPIRUN, else mpirun)\n"
		"  -v, --verbose       print the command line before running it\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit status: arbench's (through mpirun); 2 bad usage (no benchmark, no lab up,\n"
		"--np above the slots, not root), 3 it could not be started.\n");
}

int lab_run_parse(int argc, char **argv, struct lab_run_opts *o, FILE *out, FILE *err)
{
	static const struct option opts[] = {{"ranks-per-node", required_argument, NULL, 'r'},
					     {"np", required_argument, NULL, 'n'},
					     {"bench", required_argument, NULL, 'b'},
					     {"mpirun", required_argument, NULL, 'm'},
					     {"rail-bind", required_argument, NULL, 'R'},
					     {"verbose", no_argument, NULL, 'v'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int c, rc = 0;

	*o = (struct lab_run_opts){.ranks_per_node = 1,
				   .mpirun = getenv("MPIRUN") ? getenv("MPIRUN") : "mpirun"};
	optind = 0; /* GNU: a full reset, so that tests can parse again */
	opterr = 1; /* getopt names an unknown option itself ("run: unrecognized option") */
	while (!rc && (c = getopt_long(argc, argv, "+r:n:b:m:R:vh", opts, NULL)) != -1) {
		if (c == 'r')
			rc = lab_parse_count("--ranks-per-node", optarg, 256, &o->ranks_per_node,
					     err);
		else if (c == 'n')
			rc = lab_parse_count("--np", optarg, 65536, &o->np, err);
		else if (c == 'b')
			o->bench = optarg;
		else if (c == 'm')
			o->mpirun = optarg;
		else if (c == 'R') {
			o->rail_bind = optarg;
			rc = lab_rail_bind_mode(optarg) ? ARB_EXIT_INPUT : 0;
			if (rc)
				fprintf(err, "arlab: --rail-bind %s: expected local or matched\n",
					optarg);
		} else if (c == 'v')
			o->verbose = true;
		else if (c == 'h')
			o->help = true;
		else
			rc = ARB_EXIT_INPUT;
		if (o->help) {
			run_help(out);
			break;
		}
	}
	o->first_arg = optind;
	return rc;
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

/* Set the measured tunings (a caller's own setting wins) and exec mpirun on the first host of
 * the lab with the lab's arguments, the benchmark and its args.  Returns only on a failure. */
static int exec_mpirun(const struct lab_run_opts *o, const char *bench, char **hosts,
		       const char *hostfile, char **args, int nargs, FILE *out, FILE *err)
{
	size_t k = 0, nlab = sizeof(mpirun_lab_args) / sizeof(mpirun_lab_args[0]);
	char npbuf[16], ppr[32], rpnbuf[16], ns[LAB_NAME_MAX + 8];
	char **cmd = calloc(32 + nlab + (size_t)nargs, sizeof(*cmd)), **av;

	if (!cmd)
		return ARB_EXIT_RUNTIME;
	snprintf(npbuf, sizeof(npbuf), "%u", o->np);
	snprintf(ppr, sizeof(ppr), "ppr:%u:node", o->ranks_per_node);
	cmd[k++] = (char *)o->mpirun;
	if (geteuid() == 0)
		cmd[k++] = "--allow-run-as-root";
	cmd[k++] = "--hostfile";
	cmd[k++] = (char *)hostfile;
	cmd[k++] = "-np";
	cmd[k++] = npbuf;
	cmd[k++] = "--map-by";
	cmd[k++] = ppr;
	cmd[k++] = "--mca";
	cmd[k++] = "plm_rsh_agent";
	cmd[k++] = LAB_STATE_DIR "/rsh-agent";
	for (size_t i = 0; mpirun_lab_args[i]; i++)
		cmd[k++] = (char *)mpirun_lab_args[i];
	if (o->rail_bind) { /* each rank through the wrapper that binds it to one NIC (rails.c) */
		snprintf(rpnbuf, sizeof(rpnbuf), "%u", o->ranks_per_node);
		cmd[k++] = LAB_STATE_DIR "/rail-bind";
		cmd[k++] = (char *)o->rail_bind;
		cmd[k++] = rpnbuf;
	}
	cmd[k++] = (char *)bench;
	/* a rank bound to one NIC does not stripe: the one-NIC eager limits apply */
	for (size_t i = 0; i < sizeof(mpirun_lab_env) / sizeof(mpirun_lab_env[0]); i++)
		if (!mpirun_lab_env[i].single_nic_only || lab_max_nics() <= 1 || o->rail_bind)
			setenv(mpirun_lab_env[i].name, mpirun_lab_env[i].value, 0);
	for (int i = 0; i < nargs; i++)
		cmd[k++] = args[i];
	/* mpirun itself runs on the first emulated host, so its daemon reaches the others over the
	 * lab subnet and nothing listens outside the lab's namespaces */
	av = enter_host_argv(hosts[0], cmd, (int)k, ns, sizeof(ns));
	if (!av) {
		free(cmd);
		return ARB_EXIT_RUNTIME;
	}
	if (o->verbose) {
		for (size_t i = 0; av[i]; i++)
			fprintf(out, "%s%s", i ? " " : "+ ", av[i]);
		fprintf(out, "\n");
	}
	fflush(out);
	execvp(av[0], av);
	fprintf(err, "arlab: cannot run ip: %s\n", strerror(errno));
	free(av);
	free(cmd);
	return ARB_EXIT_RUNTIME;
}

int lab_cmd_run(int argc, char **argv, FILE *out, FILE *err)
{
	struct lab_run_opts o;
	char bench[PATH_MAX], hostfile[PATH_MAX];
	char **hosts = NULL;
	size_t nhosts = 0;
	int rc;

	rc = lab_run_parse(argc, argv, &o, out, err);
	if (rc || o.help)
		return rc;
	if (o.bench)
		snprintf(bench, sizeof(bench), "%s", o.bench);
	else
		default_bench(bench, sizeof(bench));
	if (access(bench, X_OK)) {
		fprintf(err, "arlab: benchmark %s: %s (build it, or pass --bench PATH)\n", bench,
			strerror(errno));
		return ARB_EXIT_INPUT;
	}
	rc = lab_need_root("run", err);
	if (!rc)
		rc = lab_hosts_or_fail(&hosts, &nhosts, err);
	if (rc)
		return rc;
	if (o.np == 0)
		o.np = (unsigned)nhosts * o.ranks_per_node;
	if (o.np > nhosts * o.ranks_per_node) {
		fprintf(err,
			"arlab: --np %u is more than %zu hosts x %u ranks per node; raise "
			"--ranks-per-node\n",
			o.np, nhosts, o.ranks_per_node);
		rc = ARB_EXIT_INPUT;
		goto out;
	}
	if (o.rail_bind) {
		char msg[LAB_ERR_MAX];

		if (lab_rail_bind_check(LAB_STATE_DIR, o.rail_bind, o.ranks_per_node, o.np, msg,
					sizeof(msg))) {
			fprintf(err, "arlab: --rail-bind %s: %s\n", o.rail_bind, msg);
			rc = ARB_EXIT_INPUT;
			goto out;
		}
	}
	rc = write_hostfile(hosts, nhosts, o.ranks_per_node, hostfile, sizeof(hostfile));
	if (rc) {
		fprintf(err, "arlab: cannot write %s: %s\n", hostfile, strerror(-rc));
		rc = ARB_EXIT_RUNTIME;
		goto out;
	}
	/* `arlab counters` then shows what this run carried */
	if (lab_counters_reset(LAB_STATE_DIR))
		fprintf(err, "arlab: warning: cannot save the link counters' baseline\n");
	rc = exec_mpirun(&o, bench, hosts, hostfile, argv + o.first_arg, argc - o.first_arg, out,
			 err);
out:
	lab_free_names(hosts, nhosts);
	return rc;
}
