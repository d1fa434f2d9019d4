/*
 * comm.c - the all-reduce communicator: creation (dup of the user's communicator, transport,
 * cluster map), destruction (each algorithm's state through its cleanup, node-shared buffers,
 * transport), its accessors, and ar_allreduce(), which runs an algorithm by name with the
 * state its setup made on this communicator.
 */
#include "allreduce/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Text of the last ar_comm_create failure on this thread. */
static _Thread_local char last_error[512];

static int create_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int create_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

const char *ar_last_error_text(void)
{
	return last_error;
}

const char *ar_comm_error(const struct ar_comm *c)
{
	return c ? c->error : "no communicator";
}

int ar_comm_rank(const struct ar_comm *c)
{
	return c->rank;
}

int ar_comm_size(const struct ar_comm *c)
{
	return c->size;
}

int ar_comm_nodes(const struct ar_comm *c)
{
	return c->n_nodes;
}

int ar_comm_ranks_per_node_max(const struct ar_comm *c)
{
	return c->ppn_max;
}

/* ---- cluster map ------------------------------------------------------------------------- */

/*
 * Fill c->node_of_rank with dense node indices (0..n_nodes-1, numbered in order of each node's
 * lowest rank) from raw ids, and derive n_nodes, node, local_rank, local_size, ppn_min/max.
 */
static int cluster_map_from_ids(struct ar_comm *c, const int *ids)
{
	int *count;
	int n = 0;

	for (int r = 0; r < c->size; r++) {
		int first = r;

		for (int q = 0; q < r; q++) {
			if (ids[q] == ids[r]) {
				first = q;
				break;
			}
		}
		c->node_of_rank[r] = first == r ? n++ : c->node_of_rank[first];
	}
	c->n_nodes = n;
	count = calloc((size_t)n, sizeof(*count));
	if (!count)
		return create_fail(-ENOMEM, "out of memory building the cluster map");
	for (int r = 0; r < c->size; r++) {
		if (r == c->rank)
			c->local_rank = count[c->node_of_rank[r]];
		count[c->node_of_rank[r]]++;
	}
	c->node = c->node_of_rank[c->rank];
	c->local_size = count[c->node];
	c->ppn_min = c->ppn_max = count[0];
	for (int i = 1; i < n; i++) {
		c->ppn_min = count[i] < c->ppn_min ? count[i] : c->ppn_min;
		c->ppn_max = count[i] > c->ppn_max ? count[i] : c->ppn_max;
	}
	free(count);
	return 0;
}

/* Node ids from shared-memory domains: each rank's id is the lowest rank of its domain. */
static int node_ids_shared(struct ar_comm *c, int *ids)
{
	MPI_Comm local;
	MPI_Group g_local, g_comm;
	int zero = 0, leader;

	if (MPI_Comm_split_type(c->comm, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &local))
		return create_fail(-EIO, "rank %d: MPI_Comm_split_type(SHARED) failed", c->rank);
	MPI_Comm_group(local, &g_local);
	MPI_Comm_group(c->comm, &g_comm);
	MPI_Group_translate_ranks(g_local, 1, &zero, g_comm, &leader);
	MPI_Group_free(&g_local);
	MPI_Group_free(&g_comm);
	MPI_Comm_free(&local);
	if (MPI_Allgather(&leader, 1, MPI_INT, ids, 1, MPI_INT, c->comm))
		return create_fail(-EIO, "rank %d: MPI_Allgather of node ids failed", c->rank);
	return 0;
}

/* Set c->nodes_share_memory: do all ranks of each node of the map have the same
 * shared-memory domain leader shm_ids[r]?  Same answer on every rank (same inputs). */
static int check_nodes_share_memory(struct ar_comm *c, const int *shm_ids)
{
	int *leader = malloc((size_t)c->n_nodes * sizeof(*leader));

	if (!leader)
		return create_fail(-ENOMEM, "out of memory checking the cluster map");
	for (int i = 0; i < c->n_nodes; i++)
		leader[i] = -1;
	c->nodes_share_memory = true;
	for (int r = 0; r < c->size; r++) {
		int *l = &leader[c->node_of_rank[r]];

		if (*l < 0)
			*l = shm_ids[r];
		else if (*l != shm_ids[r])
			c->nodes_share_memory = false;
	}
	free(leader);
	return 0;
}

/* ---- create / destroy ---------------------------------------------------------------------- */

int ar_comm_create(MPI_Comm comm, const struct ar_comm_config *cfg, struct ar_comm **out)
{
	static const struct ar_comm_config defaults;
	char terr[400];
	const char *tname;
	struct ar_comm *c;
	int *ids = NULL;
	int err;

	*out = NULL;
	last_error[0] = '\0';
	if (!cfg)
		cfg = &defaults;
	tname = cfg->transport ? cfg->transport : "mpi";
	if (cfg->max_inflight < 0 || cfg->timeout_sec < 0)
		return create_fail(-EINVAL, "max_inflight and timeout_sec must not be negative");

	c = calloc(1, sizeof(*c) + ar_algo_count() * sizeof(c->algo_state[0]));
	if (!c)
		return create_fail(-ENOMEM, "out of memory creating the communicator");
	c->tops = ar_transport_find(tname);
	if (!c->tops) {
		err = create_fail(-ENOENT, "unknown transport '%s'", tname);
		goto err_free_comm_struct;
	}
	if (MPI_Comm_dup(comm, &c->comm)) {
		err = create_fail(-EIO, "MPI_Comm_dup failed");
		goto err_free_comm_struct;
	}
	/* errors come back as return codes and become negative errnos, never an abort */
	MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
	MPI_Comm_rank(c->comm, &c->rank);
	MPI_Comm_size(c->comm, &c->size);
	c->gid_index = cfg->gid_index;
	c->gid_index_set = cfg->gid_index_set;
	c->segment_bytes = cfg->segment_bytes ? cfg->segment_bytes : AR__DEFAULT_SEGMENT;
	c->max_inflight = cfg->max_inflight ? cfg->max_inflight : AR__DEFAULT_INFLIGHT;
	c->timeout_sec = cfg->timeout_sec;
	c->phase = "idle";

	c->node_of_rank = calloc((size_t)c->size, sizeof(*c->node_of_rank));
	ids = calloc((size_t)c->size, sizeof(*ids));
	c->device = cfg->device ? strdup(cfg->device) : NULL;
	if (!c->node_of_rank || !ids || (cfg->device && !c->device)) {
		err = create_fail(-ENOMEM, "out of memory for the cluster map");
		goto err_free_map;
	}
	if (cfg->node_of_rank) {
		for (int r = 0; r < c->size; r++) {
			if (cfg->node_of_rank[r] < 0) {
				err = create_fail(-EINVAL, "node_of_rank[%d] = %d is negative", r,
						  cfg->node_of_rank[r]);
				goto err_free_map;
			}
		}
		memcpy(ids, cfg->node_of_rank, (size_t)c->size * sizeof(*ids));
		err = cluster_map_from_ids(c, ids);
		if (!err)
			err = node_ids_shared(c, ids);
		if (!err)
			err = check_nodes_share_memory(c, ids);
	} else {
		err = node_ids_shared(c, ids);
		if (!err)
			err = cluster_map_from_ids(c, ids);
		c->nodes_share_memory = true;
	}
	if (err)
		goto err_free_map;

	terr[0] = '\0';
	err = c->tops->init(c->comm, cfg, &c->tr, terr, sizeof(terr));
	if (err) {
		if (terr[0])
			create_fail(err, "rank %d: transport '%s': %s", c->rank, tname, terr);
		else
			create_fail(err, "rank %d: transport '%s' failed to initialise (%s)",
				    c->rank, tname, strerror(-err));
		goto err_free_map;
	}
	free(ids);
	*out = c;
	return 0;

err_free_map:
	free(ids);
	free(c->device);
	free(c->node_of_rank);
	MPI_Comm_free(&c->comm);
err_free_comm_struct:
	free(c);
	return err;
}

void ar_comm_destroy(struct ar_comm *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ar_algo_count(); i++) {
		const struct ar_algo *a = ar_algo_at(i);

		if (c->algo_state[i] && a->cleanup)
			a->cleanup(c, c->algo_state[i]);
	}
	ar__mem_cleanup(c);
	c->tops->fini(c->tr);
	free(c->scratch);
	free(c->device);
	free(c->node_of_rank);
	MPI_Comm_free(&c->comm);
	free(c);
}

/* ---- running an algorithm ------------------------------------------------------------------ */

int ar_allreduce(struct ar_comm *c, const char *algo, const void *sendbuf, void *recvbuf,
		 size_t count, enum ar_dtype dtype, enum ar_op op)
{
	const struct ar_algo *a = NULL;
	void **state;
	size_t i;
	int err;

	for (i = 0; algo && i < ar_algo_count(); i++)
		if (!strcmp(ar_algo_at(i)->name, algo))
			break;
	if (algo && i < ar_algo_count())
		a = ar_algo_at(i);
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
	state = &c->algo_state[i];
	if (a->setup && !*state) {
		err = a->setup(c, state);
		if (err)
			return err;
	}
	return a->run(c, *state, sendbuf, recvbuf, count, dtype, op);
}
