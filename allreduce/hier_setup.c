/*
 * hier_setup.c - what the hierarchical all-reduce (hier.c) runs on, made on its first call on a
 * communicator and freed with it: the node communicator (by cluster-map node, verified to be
 * one shared-memory domain), the node's shared segment (progress counters, staging and result
 * slots; (L+1) x HIER_DEPTH x slot bytes for L local ranks) and the inter-node sub-communicator
 * of the owners of each local index, one per node.  Everything here is collective over the
 * communicator, and every rank reaches the same verdict.
 */
#include "allreduce/hier.h"

#include <errno.h>
#include <stdlib.h>

/* Free everything ar__hier_setup made.  Collective over the communicator (window, sub-comm). */
void ar__hier_cleanup(struct ar_comm *c, void *state)
{
	struct ar__hier *h = state;

	if (!h)
		return;
	if (h->inter)
		ar_comm_destroy(h->inter);
	if (h->win != MPI_WIN_NULL)
		MPI_Win_free(&h->win);
	if (h->node_comm != MPI_COMM_NULL)
		MPI_Comm_free(&h->node_comm);
	free(h->grank);
	free(h->inter_grank);
	free(h);
}

/* The sub-communicator of the owners with my local index, one per node.  Collective. */
static int hier_make_inter(struct ar_comm *c, struct ar__hier *h)
{
	struct ar_comm_config cfg = {
		.transport = c->tops ? c->tops->name : NULL,
		.device = c->device,
		.gid_index = c->gid_index,
		.gid_index_set = c->gid_index_set,
		.segment_bytes = c->segment_bytes,
		.max_inflight = c->max_inflight,
		.timeout_sec = c->timeout_sec,
	};
	MPI_Comm sub;
	int *nodes, n, rc;

	if (MPI_Comm_split(c->comm, h->lrank < h->nown ? h->lrank : MPI_UNDEFINED, c->node, &sub) !=
	    MPI_SUCCESS)
		return ar__fail(c, -EIO, "hier: MPI_Comm_split for the inter-node phase failed");
	if (sub == MPI_COMM_NULL)
		return 0;
	MPI_Comm_size(sub, &n);
	nodes = malloc(sizeof(*nodes) * n);
	h->inter_grank = malloc(sizeof(*h->inter_grank) * n);
	if (!nodes || !h->inter_grank) {
		free(nodes);
		rc = ar__fail(c, -ENOMEM, "hier: out of memory");
		goto err_free_sub;
	}
	h->inter_size = n;
	MPI_Allgather(&c->rank, 1, MPI_INT, h->inter_grank, 1, MPI_INT, sub);
	for (int i = 0; i < n; i++)
		nodes[i] = i; /* one rank per node */
	cfg.node_of_rank = nodes;
	rc = ar_comm_create(sub, &cfg, &h->inter);
	if (rc)
		ar__fail(c, rc, "hier: inter-node communicator: %s", ar_last_error_text());
	free(nodes);
err_free_sub:
	MPI_Comm_free(&sub);
	return rc;
}

/* The shared segment of my node: flags, staging slots, result slots.  Collective over
 * node_comm. */
static int hier_make_segment(struct ar_comm *c, struct ar__hier *h)
{
	size_t flags_bytes = hier_round_up(sizeof(struct hier_flags) * h->lsize, 4096);
	size_t slots = (size_t)(h->lsize + 1) * HIER_DEPTH * h->slot_bytes;
	MPI_Aint size = h->lrank == 0 ? (MPI_Aint)(flags_bytes + slots) : 0, qsize;
	int disp, err;
	char *base;

	err = MPI_Win_allocate_shared(size, 1, MPI_INFO_NULL, h->node_comm, &base, &h->win);
	if (err != MPI_SUCCESS) {
		h->win = MPI_WIN_NULL;
		return ar__fail(c, -ENOMEM, "hier: MPI_Win_allocate_shared of %zu bytes failed",
				flags_bytes + slots);
	}
	err = MPI_Win_shared_query(h->win, 0, &qsize, &disp, &base);
	if (err != MPI_SUCCESS || (size_t)qsize < flags_bytes + slots)
		return ar__fail(c, -EIO, "hier: MPI_Win_shared_query failed");
	h->flags = (struct hier_flags *)base;
	/* counters shared between processes must not hide behind a per-process lock */
	if (!atomic_is_lock_free(&h->flags[0].n[HC_STAGED]))
		return ar__fail(c, -EOPNOTSUPP, "hier: 64-bit atomics are not lock-free here");
	h->stage = base + flags_bytes;
	h->out = h->stage + (size_t)h->lsize * HIER_DEPTH * h->slot_bytes;
	if (h->lrank == 0)
		for (int i = 0; i < h->lsize; i++) {
			for (int j = 0; j < HC_COUNT; j++)
				atomic_init(&h->flags[i].n[j], 0);
		}
	atomic_thread_fence(memory_order_seq_cst);
	return 0;
}

/* Make hier's state for c: node communicator (by cluster-map node), shared segment,
 * inter-node sub-communicator.  Collective over c->comm; on failure every rank fails.  One rank
 * has nothing to share: no state. */
int ar__hier_setup(struct ar_comm *c, void **state)
{
	struct ar__hier *h;
	int shm_size = -1, ppn_min, multi, rc = 0;
	MPI_Comm shm;

	*state = NULL;
	if (c->size == 1)
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h)
		return ar__fail(c, -ENOMEM, "hier: out of memory");
	h->win = MPI_WIN_NULL;
	rc = ar__split_node(c, "hier", &h->node_comm);
	if (!ar__all_ok(c, rc == 0))
		goto err_cleanup;
	MPI_Comm_rank(h->node_comm, &h->lrank);
	MPI_Comm_size(h->node_comm, &h->lsize);
	/* the node of the cluster map must be one shared-memory domain */
	if (MPI_Comm_split_type(h->node_comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &shm) ==
	    MPI_SUCCESS) {
		MPI_Comm_size(shm, &shm_size);
		MPI_Comm_free(&shm);
	}
	if (shm_size != h->lsize)
		rc = ar__fail(c, -EOPNOTSUPP,
			      "hier: the %d ranks of node %d share memory only in groups of %d; "
			      "the cluster map must group ranks by host",
			      h->lsize, c->node, shm_size);
	if (!ar__all_ok(c, rc == 0))
		goto err_cleanup;
	MPI_Allreduce(&h->lsize, &ppn_min, 1, MPI_INT, MPI_MIN, c->comm);
	multi = h->lsize < c->size;
	h->nown = multi ? ppn_min : h->lsize;
	h->slot_bytes = c->segment_bytes ? c->segment_bytes : AR__DEFAULT_SEGMENT;
	if (h->slot_bytes < HIER_SLOT_MIN)
		h->slot_bytes = HIER_SLOT_MIN;
	if (h->slot_bytes > HIER_SLOT_MAX)
		h->slot_bytes = HIER_SLOT_MAX;
	h->slot_bytes = hier_round_up(h->slot_bytes, 4096);
	h->grank = malloc(sizeof(*h->grank) * h->lsize);
	if (!h->grank)
		rc = ar__fail(c, -ENOMEM, "hier: out of memory");
	else
		MPI_Allgather(&c->rank, 1, MPI_INT, h->grank, 1, MPI_INT, h->node_comm);
	if (!ar__all_ok(c, rc == 0))
		goto err_cleanup;
	rc = hier_make_segment(c, h);
	if (!ar__all_ok(c, rc == 0))
		goto err_cleanup;
	if (multi)
		rc = hier_make_inter(c, h);
	if (!ar__all_ok(c, rc == 0))
		goto err_cleanup;
	/* the segment's flags are zeroed before anyone uses them */
	MPI_Barrier(h->node_comm);
	*state = h;
	return 0;

err_cleanup:
	ar__hier_cleanup(c, h);
	return rc ? rc : ar__fail(c, -EIO, "hier: setup failed on another rank");
}
