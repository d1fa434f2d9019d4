/*
 * yamlerr.c - a number of the planner's YAML files in range, else a file:line:column error
 * with the key's expected form (yamlerr.h).  Loading and libcyaml's errors are topo's
 * (topo_yaml_load).
 */
#include <math.h>

#include "planner/yamlerr.h"

int plan_ycheck(const struct topo_yaml_doc *d, const char *file, const char *path, double v,
		double min, bool strict, struct topo_error *err)
{
	const char *form;

	if (isfinite(v) && (strict ? v > min : v >= min))
		return 0;
	form = topo_yaml_form_of(d, path);
	return topo_yaml_errf(err, file, path, false, "%g is out of range (expected %s)", v,
			      form ? form : "another value");
}
