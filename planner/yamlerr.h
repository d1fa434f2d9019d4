/*
 * yamlerr.h - file:line:column errors for the planner's YAML files loaded with libcyaml
 * (calibrations, workloads; the same standard as topology files): a failed cyaml load turned
 * into one line naming the YAML path, the position and the expected form of the key.
 */
#ifndef ARBENCH_PLANNER_YAMLERR_H
#define ARBENCH_PLANNER_YAMLERR_H

#include <cyaml/cyaml.h>
#include <stdarg.h>
#include <stdbool.h>

#include "topo/topo.h"

/* What a key expects, for messages: {"seq_len", "a whole number of tokens, e.g. seq_len: 8192"}. */
struct plan_yform {
	const char *key, *form;
};

/* A kind of file: its root fields and the expected forms of its keys. */
struct plan_ydoc {
	const cyaml_schema_field_t *root;
	const struct plan_yform *forms; /* ends with {NULL, NULL} */
	const char *what;		/* "a workload YAML file" */
	const char *top_form;		/* what the document as a whole should be */
};

/* libcyaml's log captured (the first error line, the backtrace frames innermost first); pass
 * plan_ylog_fn as cyaml_config_t.log_fn and a zeroed struct plan_ylog as its log_ctx. */
struct plan_ylog {
	char first[256];
	char frames[16][160];
	unsigned line[16], col[16];
	int n_frames;
	bool in_backtrace;
};
void plan_ylog_fn(cyaml_log_t level, void *ctx, const char *fmt, va_list ap);

/* The expected form of key, or NULL. */
const char *plan_yform_of(const struct plan_ydoc *d, const char *key);
/* The last key of a YAML path ("links.net.alpha_us" -> "alpha_us", "algorithms[2]" ->
 * "algorithms") into buf. */
void plan_ylast_key(const char *path, char *buf, size_t len);
/* Fill *err for the YAML path ("training.micro_batches", "" = the document) in file, pointing
 * at the key (key true) or its value.  Returns -EINVAL. */
int plan_yerrf(struct topo_error *err, const char *file, const char *path, bool key,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A failed cyaml_load_file (error ce, log l) into *err: -EINVAL (or -ENOMEM). */
int plan_ycy_error(const struct plan_ydoc *d, const char *file, const struct plan_ylog *l,
		   cyaml_err_t ce, struct topo_error *err);
/* v at path must be finite and >= min (> min when strict), else -EINVAL with the key's form. */
int plan_ycheck(const struct plan_ydoc *d, const char *file, const char *path, double v, double min,
		bool strict, struct topo_error *err);

#endif /* ARBENCH_PLANNER_YAMLERR_H */
