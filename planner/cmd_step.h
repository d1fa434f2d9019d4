/*
 * cmd_step.h - what `arplan step` (cmd_step.c) shares with `arplan compare` (cmd_compare.c):
 * their options, loading the workload and calibration, running the model on one topology, and
 * a step as JSON.
 */
#ifndef ARBENCH_PLANNER_CMD_STEP_H
#define ARBENCH_PLANNER_CMD_STEP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "planner/internal.h"

struct step_opts {
	const char *topo, *workload, *calib;
	const char **topos; /* compare: the topologies given as arguments */
	int n_topos;
	bool json, csv;
	long gpus;	     /* sweep: GPUs to build for */
	const char *catalog; /* sweep: the catalog directory (configs/catalog) */
	double scale;	     /* step: --scale (0: not given, 1) */
	const char *algo;    /* step: --algo, NULL for the fastest */
};

/* Options of `arplan cmd` ("step", "compare" or "sweep"): 0, 1 for --help, or -EINVAL after
 * one line on err. */
int plan_step_parse(const char *cmd, int argc, char **argv, struct step_opts *o, FILE *err);
/* The workload and calibration files: a plan_exit code, one line on err when not OK. */
int plan_step_inputs(const struct step_opts *o, struct plan_workload *w, struct plan_calib *c,
		     FILE *err);
/* Load topo and run the model into *s (its name into name): a plan_exit code, one line on err
 * when not OK. */
int plan_step_on(const char *cmd, const char *topo, const struct plan_workload *w,
		 const struct plan_calib *calib, struct plan_step *s, char *name, size_t len,
		 FILE *err);
/* "# " lines on what only some steps have: scale-up domains, the topology's GPU in place of
 * the workload's. */
void plan_step_notes(FILE *out, const struct plan_workload *w, const struct plan_step *s);
/* The step's figures as a JSON object (new reference). */
json_t *plan_step_json(const struct plan_step *s);

/* Steps s[0..n) on the topologies names[0..n) side by side: a table, --csv or --json (o). */
void plan_compare_print(FILE *out, const char *cmd, const struct step_opts *o,
			const struct plan_workload *w, const char (*names)[128],
			const struct plan_step *s, int n);

#endif /* ARBENCH_PLANNER_CMD_STEP_H */
