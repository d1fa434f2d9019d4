/*
 * ring.c - placeholder so the registry links: supports() is false until the implementation lands.
 */
#include "allreduce/internal.h"

#include <errno.h>

/* Not implemented yet: -EOPNOTSUPP. */
static int ring_run(struct ar_comm *c, const void *sendbuf, void *recvbuf, size_t count,
		    enum ar_dtype dtype, enum ar_op op)
{
	return ar__fail(c, -EOPNOTSUPP, "ring: not implemented yet");
}

/* Never, until the implementation lands. */
static bool ring_supports(const struct ar_comm *c)
{
	return false;
}

const struct ar_algo ar__algo_ring = {
	.name = "ring",
	.summary = "placeholder",
	.run = ring_run,
	.supports = ring_supports,
};
