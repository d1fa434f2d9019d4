/*
 * mem.c - node-shared buffers (ar_mem_alloc, arbench -R 1): each buffer is one MPI-3 shared
 * window over the ranks of a cluster-map node, so every local rank can read every other's part.
 * An algorithm asks whether a buffer lies in one (ar__mem_region_of) and where a node peer's
 * part is (ar__mem_region_at): hier reads its node peers' buffers in place instead of staging
 * them.  Buffers sit in AR__MEM_REGIONS slots, the same slot on every rank, since allocations
 * and frees are collective and in the same order everywhere.
 */
#include "allreduce/internal.h"

#include <errno.h>
#include <stdlib.h>

#define AR__MEM_REGIONS 16 /* ar_mem_alloc buffers per communicator */

/* One ar_mem_alloc buffer: a shared window over the node, with every local rank's part. */
struct mem_region {
	MPI_Win win; /* MPI_WIN_NULL: slot free */
	char **base; /* [lsize] */
	size_t *bytes;
};

struct ar__mem {
	MPI_Comm node_comm; /* the ranks of my cluster-map node, by global rank */
	int lrank, lsize;   /* my index in node_comm, its size */
	struct mem_region region[AR__MEM_REGIONS];
	int nregions; /* slots in use */
};

int ar__split_node(struct ar_comm *c, const char *who, MPI_Comm *out)
{
	if (MPI_Comm_split(c->comm, c->node, c->rank, out) != MPI_SUCCESS) {
		*out = MPI_COMM_NULL;
		return ar__fail(c, -EIO, "%s: MPI_Comm_split by node failed", who);
	}
	MPI_Comm_set_errhandler(*out, MPI_ERRORS_RETURN);
	return 0;
}

/* bytes rounded up to whole 4 KiB pages */
static size_t pages(size_t bytes)
{
	return (bytes + 4095) / 4096 * 4096;
}

/* Release one window (collective over the node) and empty its slot. */
static void region_free(struct ar__mem *m, struct mem_region *r)
{
	if (r->win != MPI_WIN_NULL) {
		MPI_Win_free(&r->win);
		m->nregions--;
	}
	free(r->base);
	free(r->bytes);
	r->base = NULL;
	r->bytes = NULL;
}

void ar__mem_cleanup(struct ar_comm *c)
{
	struct ar__mem *m = c->mem;

	if (!m)
		return;
	for (int i = 0; i < AR__MEM_REGIONS; i++)
		region_free(m, &m->region[i]);
	if (m->node_comm != MPI_COMM_NULL)
		MPI_Comm_free(&m->node_comm);
	free(m);
	c->mem = NULL;
}

/* c->mem with its node communicator.  Collective over c; on failure every rank fails. */
static int mem_setup(struct ar_comm *c)
{
	struct ar__mem *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		rc = ar__fail(c, -ENOMEM, "ar_mem_alloc: out of memory");
	else
		rc = ar__split_node(c, "ar_mem_alloc", &m->node_comm);
	if (!ar__all_ok(c, rc == 0)) {
		if (m && m->node_comm != MPI_COMM_NULL)
			MPI_Comm_free(&m->node_comm);
		free(m);
		return rc ? rc : ar__fail(c, -EIO, "ar_mem_alloc: setup failed on another rank");
	}
	MPI_Comm_rank(m->node_comm, &m->lrank);
	MPI_Comm_size(m->node_comm, &m->lsize);
	for (int i = 0; i < AR__MEM_REGIONS; i++)
		m->region[i].win = MPI_WIN_NULL;
	c->mem = m;
	return 0;
}

int ar_mem_alloc(struct ar_comm *c, size_t bytes, void **out)
{
	struct ar__mem *m;
	struct mem_region *r = NULL;
	MPI_Info info = MPI_INFO_NULL;
	char *mine = NULL;
	int rc = 0, err;

	*out = NULL;
	if (!c->nodes_share_memory)
		return ar__fail(
			c, -EOPNOTSUPP,
			"ar_mem_alloc: the cluster map's nodes are not shared-memory domains");
	if (!c->mem && (rc = mem_setup(c)))
		return rc;
	m = c->mem;
	for (int i = 0; i < AR__MEM_REGIONS && !r; i++)
		if (m->region[i].win == MPI_WIN_NULL)
			r = &m->region[i];
	if (!r) /* the same on every rank: allocations and frees are collective */
		return ar__fail(c, -ENOSPC, "ar_mem_alloc: more than %d buffers", AR__MEM_REGIONS);
	r->base = calloc((size_t)m->lsize, sizeof(*r->base));
	r->bytes = calloc((size_t)m->lsize, sizeof(*r->bytes));
	if (!r->base || !r->bytes)
		rc = ar__fail(c, -ENOMEM, "ar_mem_alloc: out of memory");
	/* each rank's part on its own pages (first touch by its owner) */
	MPI_Info_create(&info);
	MPI_Info_set(info, "alloc_shared_noncontig", "true");
	err = MPI_Win_allocate_shared(rc ? 0 : (MPI_Aint)pages(bytes ? bytes : 1), 1, info,
				      m->node_comm, &mine, &r->win);
	MPI_Info_free(&info);
	if (err != MPI_SUCCESS) {
		r->win = MPI_WIN_NULL;
		rc = rc ? rc
			: ar__fail(c, -ENOMEM,
				   "ar_mem_alloc: %zu bytes of node-shared "
				   "memory: MPI_Win_allocate_shared failed",
				   bytes);
	}
	for (int x = 0; !rc && x < m->lsize; x++) {
		MPI_Aint size;
		int disp;

		if (MPI_Win_shared_query(r->win, x, &size, &disp, &r->base[x]) != MPI_SUCCESS)
			rc = ar__fail(c, -EIO, "ar_mem_alloc: MPI_Win_shared_query failed");
		r->bytes[x] = (size_t)size;
	}
	if (r->win != MPI_WIN_NULL)
		m->nregions++;
	if (!ar__all_ok(c, rc == 0)) {
		region_free(m, r);
		return rc ? rc : ar__fail(c, -ENOMEM, "ar_mem_alloc failed on another rank");
	}
	*out = mine;
	return 0;
}

void ar_mem_free(struct ar_comm *c, void *p)
{
	struct ar__mem *m = c->mem;

	for (int i = 0; p && m && i < AR__MEM_REGIONS; i++)
		if (m->region[i].win != MPI_WIN_NULL && m->region[i].base[m->lrank] == p)
			region_free(m, &m->region[i]);
}

int ar__mem_count(const struct ar_comm *c)
{
	return c->mem ? c->mem->nregions : 0;
}

void ar__mem_region_of(const struct ar_comm *c, const void *p, size_t bytes, uint64_t *idx,
		       uint64_t *off)
{
	const struct ar__mem *m = c->mem;
	const char *q = p;

	*idx = 0;
	*off = 0;
	for (int i = 0; m && i < AR__MEM_REGIONS; i++) {
		const struct mem_region *r = &m->region[i];
		const char *b = r->win == MPI_WIN_NULL ? NULL : r->base[m->lrank];

		if (b && q >= b && bytes <= r->bytes[m->lrank] &&
		    (size_t)(q - b) <= r->bytes[m->lrank] - bytes) {
			*idx = (uint64_t)i + 1;
			*off = (uint64_t)(q - b);
			return;
		}
	}
}

const char *ar__mem_region_at(const struct ar_comm *c, int x, uint64_t idx, uint64_t off)
{
	const struct ar__mem *m = c->mem;

	if (!m || !idx || idx > AR__MEM_REGIONS || m->region[idx - 1].win == MPI_WIN_NULL)
		return NULL;
	return m->region[idx - 1].base[x] + off;
}
