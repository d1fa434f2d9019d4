/*
 * registry.c - the algorithm and transport tables, lookups by name and index, and
 * ar_allreduce(), which runs an algorithm by name.
 */
#include "allreduce/internal.h"

#include <errno.h>
#include <string.h>

static const struct ar_algo *const algos[] = {
	&ar__algo_ring, &ar__algo_tree, &ar__algo_hier, &ar__algo_rhd, &ar__algo_mpi,
};

static const struct ar_transport_ops *const transports[] = {
	&ar__transport_mpi,
	&ar__transport_verbs,
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

size_t ar_algo_count(void)
{
	return ARRAY_LEN(algos);
}

/* NULL when i is out of range. */
const struct ar_algo *ar_algo_at(size_t i)
{
	return i < ARRAY_LEN(algos) ? algos[i] : NULL;
}

/* NULL when no algorithm has that name. */
const struct ar_algo *ar_algo_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_LEN(algos); i++)
		if (!strcmp(algos[i]->name, name))
			return algos[i];
	return NULL;
}

size_t ar_transport_count(void)
{
	return ARRAY_LEN(transports);
}

/* NULL when i is out of range. */
const struct ar_transport_ops *ar_transport_at(size_t i)
{
	return i < ARRAY_LEN(transports) ? transports[i] : NULL;
}

/* NULL when no transport has that name. */
const struct ar_transport_ops *ar_transport_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_LEN(transports); i++)
		if (!strcmp(transports[i]->name, name))
			return transports[i];
	return NULL;
}

bool ar_transport_one_sided(const struct ar_transport_ops *ops)
{
	return ops->write_imm != ar__stub_write_imm && ops->recv_imm != ar__stub_recv_imm &&
	       ops->mem_key != ar__stub_mem_key;
}

int ar_allreduce(struct ar_comm *c, const char *algo, const void *sendbuf, void *recvbuf,
		 size_t count, enum ar_dtype dtype, enum ar_op op)
{
	const struct ar_algo *a = ar_algo_find(algo);

	if (!a)
		return ar__fail(c, -ENOENT, "unknown algorithm '%s'", algo ? algo : "(null)");
	if ((unsigned)dtype >= AR_DTYPE_COUNT || (unsigned)op >= AR_OP_COUNT)
		return ar__fail(c, -EINVAL, "%s: bad dtype %d or op %d", a->name, (int)dtype,
				(int)op);
	if (!a->supports(c))
		return ar__fail(c, -EOPNOTSUPP,
				"algorithm '%s' is not supported on this "
				"communicator (transport %s, %d ranks on %d nodes)",
				a->name, c->tops->name, c->size, c->n_nodes);
	c->error[0] = '\0';
	return a->run(c, sendbuf, recvbuf, count, dtype, op);
}
