/*
 * transport_stubs.c - the -EOPNOTSUPP defaults for transport slots a transport cannot provide
 * (one-sided writes with immediate data and memory keys on two-sided transports such as MPI).
 */
#include "allreduce/internal.h"

#include <errno.h>

/* Always -EOPNOTSUPP; *req is left untouched. */
int ar__stub_write_imm(struct ar_transport *t, const void *local, size_t len,
		       struct ar_mem_region *lmr, int peer, uint64_t remote_key,
		       size_t remote_offset, uint32_t imm, struct ar_request **req)
{
	return -EOPNOTSUPP;
}

/* Always -EOPNOTSUPP; *req is left untouched. */
int ar__stub_recv_imm(struct ar_transport *t, int peer, uint32_t *imm, struct ar_request **req)
{
	return -EOPNOTSUPP;
}

/* Always -EOPNOTSUPP; *key is left untouched. */
int ar__stub_mem_key(struct ar_transport *t, struct ar_mem_region *mr, uint64_t *key)
{
	return -EOPNOTSUPP;
}

/* Always NULL: the errno an op returned is the whole story. */
const char *ar__stub_last_error(struct ar_transport *t)
{
	return NULL;
}
