/*
 * hier.h - private to hier.c and hier_setup.c: the hierarchical all-reduce's state per
 * communicator (node communicator, the node's shared segment of progress counters, staging and
 * result slots, the inter-node sub-communicator) and what both files need of its layout.
 */
#ifndef ARBENCH_ALLREDUCE_HIER_H
#define ARBENCH_ALLREDUCE_HIER_H

#include "allreduce/internal.h"

#include <stdatomic.h>

#define HIER_DEPTH    4		  /* staging slots per rank */
#define HIER_SLOT_MIN (64u << 10) /* slot size bounds (from c->segment_bytes) */
#define HIER_SLOT_MAX (4u << 20)
#define HIER_LINE     128 /* flags of different ranks never share this */

/* A local rank's progress counters, in the shared segment: the sequence number (1-based,
 * counting every chunk ever handled by this node) of the last chunk it staged, reduced (owners
 * only) and copied out, and the number of the last zero-copy call it described its buffers
 * for. */
enum hier_counter { HC_STAGED, HC_REDUCED, HC_GATHERED, HC_CALL, HC_COUNT };

struct hier_flags {
	_Atomic uint64_t n[HC_COUNT];
	/* node-shared buffers: my in and out of zero-copy call number n[HC_CALL] (region index
	 * + 1, 0 when not node-shared, and the offset in it); written before the call is
	 * released */
	uint64_t in_region, in_off, out_region, out_off;
	char pad[HIER_LINE - (HC_COUNT + 4) * sizeof(uint64_t)];
};

struct ar__hier {
	MPI_Comm node_comm;    /* the ranks of my cluster-map node, by global rank */
	MPI_Win win;	       /* owns the shared segment */
	int lrank, lsize;      /* my index in node_comm, its size */
	int nown;	       /* local ranks 0..nown-1 own one slice of each chunk */
	int *grank;	       /* [lsize] global rank of each local index, for error messages */
	struct ar_comm *inter; /* owners of my local index on every node; NULL if none */
	int inter_size;
	int *inter_grank; /* [inter_size] global rank of each rank of inter (= node order) */
	size_t slot_bytes;
	struct hier_flags *flags; /* [lsize] */
	char *stage;		  /* [lsize][HIER_DEPTH][slot_bytes] */
	char *out;		  /* [HIER_DEPTH][slot_bytes]: reduced chunks */
	uint64_t seq;		  /* chunks this node has handled in earlier calls */
	bool broken;		  /* a wait failed: the counters are out of step */
	uint64_t zc_calls;	  /* calls that exchanged buffer descriptors */
};

static inline size_t hier_round_up(size_t x, size_t a)
{
	return (x + a - 1) / a * a;
}

/* The hier entry of struct ar_algo (hier_setup.c): make *state, a struct ar__hier, for c
 * (node communicator, shared segment, inter-node sub-communicator; nothing, NULL, on one
 * rank); collective over c, every rank returns the same verdict.  And free it, collectively. */
int ar__hier_setup(struct ar_comm *c, void **state);
void ar__hier_cleanup(struct ar_comm *c, void *state);

#endif /* ARBENCH_ALLREDUCE_HIER_H */
