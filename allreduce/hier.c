/*
 * hier.c - hierarchical all-reduce: intra-node reduce-scatter through shared memory, inter-node
 * all-reduce among same-local-index ranks, intra-node all-gather through shared memory.
 *
 * Placeholder so the registry links: supports() is false until the implementation lands.
 */
#include "allreduce/internal.h"

#include <errno.h>

/* Not implemented yet: -EOPNOTSUPP. */
static int hier_run(struct ar_comm *c, const void *sendbuf, void *recvbuf, size_t count,
		    enum ar_dtype dtype, enum ar_op op)
{
	return ar__fail(c, -EOPNOTSUPP, "hier: not implemented yet");
}

/* Never, until the implementation lands. */
static bool hier_supports(const struct ar_comm *c)
{
	return false;
}

const struct ar_algo ar__algo_hier = {
	.name = "hier",
	.summary = "intra-node shared-memory reduce-scatter, inter-node all-reduce, intra-node "
		   "all-gather",
	.run = hier_run,
	.supports = hier_supports,
};
