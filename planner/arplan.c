/*
 * arplan.c - the planner's command line: `arplan SUBCOMMAND ...`, one table entry per
 * subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "planner/planner.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv, FILE *out, FILE *err);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{"topo", plan_cmd_topo, "validate a topology YAML file and summarise its graph"},
	{"fit", plan_cmd_fit, "fit a calibration (calib.yaml) to arbench results"},
	{"predict", plan_cmd_predict,
	 "predict all-reduce time per algorithm and size on a topology"},
	{"validate", plan_cmd_validate,
	 "compare the planner's predictions with measured results (arbench, nccl-tests)"},
	{"step", plan_cmd_step, "one training step of a workload: GPU idle fraction, MFU, days"},
	{"compare", plan_cmd_compare,
	 "topologies side by side for a workload: idle fraction, MFU, CapEx, power"},
	{"sweep", plan_cmd_sweep, "build the usual fabrics for N GPUs and compare them"},
	{"report", plan_cmd_report, "an HTML (or Markdown, CSV) report of arbench results"},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: arplan SUBCOMMAND [OPTIONS]   (arplan SUBCOMMAND --help for its "
		   "options)\n\n"
		   "subcommands:\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return PLAN_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return PLAN_EXIT_OK;
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1, stdout, stderr);
	fprintf(stderr, "arplan: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return PLAN_EXIT_USAGE;
}
