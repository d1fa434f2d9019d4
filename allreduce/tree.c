/*
 * tree.c - placeholder so the registry links: supports() is false until the implementation lands.
 */
#include "allreduce/internal.h"

#include <errno.h>

/* Not implemented yet: -EOPNOTSUPP. */
static int tree_run(struct ar_comm *c, const void *sendbuf, void *recvbuf, size_t count,
		    enum ar_dtype dtype, enum ar_op op)
{
	return ar__fail(c, -EOPNOTSUPP, "tree: not implemented yet");
}

/* Never, until the implementation lands. */
static bool tree_supports(const struct ar_comm *c)
{
	return false;
}

const struct ar_algo ar__algo_tree = {
	.name = "tree",
	.summary = "placeholder",
	.run = tree_run,
	.supports = tree_supports,
};
