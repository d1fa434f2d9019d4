/*
 * registry.c - the algorithm and transport tables and their lookups by name and index (the
 * tables name every algorithm and transport; nothing else in allreduce/ names one).
 */
#include "allreduce/internal.h"

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
