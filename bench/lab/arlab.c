/*
 * arlab.c - the `arlab` program: builds an emulated multi-host fabric on this machine from a
 * topology YAML (up), shows it (status), removes it (down), launches arbench into it with
 * mpirun (run) or any command on one host (exec), and shows the bytes each link carried
 * (counters).  One table entry per subcommand; the commands are in cmd_*.c (lab.h), each with
 * its own --help.  See README.md, "The emulated lab (arlab)".
 *
 * Exit status: 0 done, 1 a check failed (status: the lab is incomplete), 2 bad input (usage,
 * topology, state), 3 a runtime failure (a system command failed).
 */
#include <stdio.h>
#include <string.h>

#include "bench/lab/lab.h"

struct subcommand {
	const char *name;
	lab_cmd_fn *fn; /* cmd_*.c */
	const char *usage;
};

static const struct subcommand subcommands[] = {
	{"up", lab_cmd_up, "up [--max-hosts N] [--dry-run] [-v] TOPO.yaml   build the lab"},
	{"down", lab_cmd_down, "down [-v]                                     remove the lab"},
	{"status", lab_cmd_status, "status                                        show the lab"},
	{"run", lab_cmd_run,
	 "run [--ranks-per-node N] [--np N] [--rail-bind local|matched] [--bench PATH]\n"
	 "      [--mpirun PATH] [-v] -- ARGS              launch arbench ARGS into the lab;\n"
	 "                                                --rail-bind (hosts with several NICs):\n"
	 "                                                each rank on one NIC, local rank i on\n"
	 "                                                NIC i (local) or rotated per host so\n"
	 "                                                that ring steps between hosts stay on\n"
	 "                                                one rail (matched); refused when rails\n"
	 "                                                are not joined; default: every rank\n"
	 "                                                on every NIC"},
	{"exec", lab_cmd_exec,
	 "exec HOST -- COMMAND...                       run a command on a host"},
	{"counters", lab_cmd_counters,
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
		return ARB_EXIT_INPUT;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return ARB_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1, stdout, stderr);
	fprintf(stderr, "arlab: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return ARB_EXIT_INPUT;
}
