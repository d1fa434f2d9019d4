/*
 * yamlerr.h - the planner's one check of a YAML value beyond what topo's loader reports (a
 * number in range); the planner's YAML files (calibrations, workloads) load through
 * topo_yaml_load() and give their errors as file:line:column like topology files.
 */
#ifndef ARBENCH_PLANNER_YAMLERR_H
#define ARBENCH_PLANNER_YAMLERR_H

#include <stdbool.h>

#include "topo/topo.h"

/* v at path must be finite and >= min (> min when strict), else -EINVAL with the key's form. */
int plan_ycheck(const struct topo_yaml_doc *d, const char *file, const char *path, double v,
		double min, bool strict, struct topo_error *err);

#endif /* ARBENCH_PLANNER_YAMLERR_H */
