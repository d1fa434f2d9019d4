/*
 * kinds.c - the two kinds of lab fabric side by side: bridged (every switch a Linux bridge in
 * one namespace; fabric.c's checks, plan.c's commands) and routed (every switch a namespace of
 * its own that routes, with ECMP; routed.c).  lab_fabric_from_graph chooses the kind; here the
 * check and the plan of a fabric go to the files of its kind, so that neither kind's file
 * needs to know the other.
 */
#include "bench/lab/lab.h"

int lab_fabric_check(const struct lab_fabric *f, unsigned max_hosts, char *err, size_t errlen)
{
	int rc = lab_fabric_check_common(f, max_hosts, err, errlen);

	if (!rc && f->routed)
		rc = lab_routed_check(f, err, errlen);
	return rc;
}

int lab_plan_up(const struct lab_fabric *f, struct lab_plan *p)
{
	return f->routed ? lab_plan_routed(f, p) : lab_plan_bridged(f, p);
}
