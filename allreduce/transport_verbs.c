/*
 * transport_verbs.c - the RDMA verbs transport: one RC queue pair per peer, connected with
 * data exchanged over MPI (LID, GID, QPN, PSN, ring address and rkey), messages carried by
 * RDMA_WRITE_WITH_IMM into per-peer receive rings.
 *
 *   sender                                   receiver (rank q)
 *   isend: copy a chunk (header + <= 64 KiB)  ring for me: NSLOT slots of SLOT_BYTES,
 *   into staging slot j, then                 a receive WQE pre-posted for each slot
 *   WRITE_WITH_IMM staging[j] --------------> ring[sent % NSLOT]; the CQE says it landed;
 *                                             copy out to the matching irecv (or to an
 *   credit_in[q] <--- RDMA_WRITE ------------ unexpected buffer), repost the WQE, and every
 *   (slots q consumed)                        NSLOT/2 slots write the consumed count back
 *
 * A slot is rewritten only after the receiver said it was consumed (credits), and a staging
 * slot only after the write reading it completed; only every SIGNAL_EVERY-th work request is
 * signalled, and in-order completion of a QP's send queue retires the ones before it.  One CQ
 * takes both directions; it is sized for every WQE that can be outstanding, so it cannot
 * overrun.  Progress is busy polling inside test and wait (yielding the core after a few
 * empty polls, since ranks may outnumber cores), and any call makes progress for every
 * request, so a wait on one peer never starves another.
 *
 * Two-sided traffic is copied through the rings (registered once at init), never registered
 * per call: no stale registration can outlive a buffer the caller frees.  reg_mem keeps a
 * cache (same range -> same MR, reference counted) of zero-based registrations (iova 0), so
 * that the rkey alone (mem_key) names a region and a peer writes at offsets into it.
 * write_imm is an RDMA_WRITE of the caller's data followed on the same QP by a ring chunk
 * that carries the immediate (RC places them in order), so one-sided and two-sided traffic
 * share the receive WQEs and credits without confusing each other.  Limits: NSLOT x
 * SLOT_BYTES x 2 (1 MiB) of pinned memory per peer; a completion error is sticky (the QPs
 * are in the error state; the communicator must be destroyed).
 */
#include "allreduce/verbs.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* Register buf[0..len) for remote writes, or take another reference on the same range.
 * Does not block. */
static int verbs_reg_mem(struct ar_transport *t, void *buf, size_t len, struct ar_mem_region **out)
{
	struct ar_mem_region *m;

	for (m = t->regions; m; m = m->next) {
		if (m->buf == buf && m->len == len) {
			m->refs++;
			*out = m;
			return 0;
		}
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* iova 0: a peer addresses the region by offset, so the key alone names it */
	m->mr = ibv_reg_mr_iova2(t->pd, buf, len, 0,
				 IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (!m->mr) {
		int rc = errno ? -errno : -ENOMEM;

		free(m);
		if (rc == -ENOMEM)
			ar__vb_fail(t, rc,
				    "ibv_reg_mr of %zu bytes failed: out of lockable memory; "
				    "raise the limit (ulimit -l unlimited)",
				    len);
		return rc;
	}
	m->buf = buf;
	m->len = len;
	m->refs = 1;
	m->next = t->regions;
	t->regions = m;
	*out = m;
	return 0;
}

/* Drop a reference; the last one deregisters.  The buffer stays the caller's. */
static void verbs_dereg_mem(struct ar_transport *t, struct ar_mem_region *mr)
{
	struct ar_mem_region **pp;

	if (!mr || --mr->refs > 0)
		return;
	for (pp = &t->regions; *pp; pp = &(*pp)->next) {
		if (*pp == mr) {
			*pp = mr->next;
			break;
		}
	}
	ibv_dereg_mr(mr->mr);
	free(mr);
}

static struct ar_request *req_new(struct ar_transport *t, enum req_kind kind, void *buf, size_t len,
				  int peer, int tag)
{
	struct ar_request *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->kind = kind;
	r->buf = buf;
	r->len = len;
	r->peer = peer;
	r->tag = tag;
	r->lnext = t->live;
	if (t->live)
		t->live->lprev = r;
	t->live = r;
	return r;
}

static void req_free(struct ar_transport *t, struct ar_request *r)
{
	if (r->lprev)
		r->lprev->lnext = r->lnext;
	else
		t->live = r->lnext;
	if (r->lnext)
		r->lnext->lprev = r->lprev;
	free(r);
}

static int check_peer(struct ar_transport *t, int peer, int tag)
{
	if (peer < 0 || peer >= t->size || tag < 0)
		return -EINVAL;
	return t->err;
}

/* A message to myself: straight into the matching receive or the unexpected list. */
static int self_send(struct ar_transport *t, struct ar_request *r)
{
	struct chunk_hdr h = {.tag = (uint32_t)r->tag, .len = (uint32_t)r->len, .total = r->len};
	struct peer *p = &t->peers[t->rank];

	if (r->len > UINT32_MAX)
		return -EMSGSIZE;
	r->done = true;
	return p->in_msg ? -EPROTO : ar__vb_deliver(t, t->rank, &h, r->buf);
}

/* Put r behind the sends queued for peer and make progress (a send or a write_imm: both go
 * through the ring in order).  Does not block. */
static int queue_send(struct ar_transport *t, int peer, struct ar_request *r)
{
	struct peer *p = &t->peers[peer];
	int rc;

	if (p->sendq_tail)
		p->sendq_tail->qnext = r;
	else
		p->sendq = r;
	p->sendq_tail = r;
	rc = ar__vb_progress(t);
	return rc < 0 ? rc : 0;
}

/* Queue len bytes of buf for peer; copied into staging as credits allow.  Does not block;
 * buf stays untouched by the caller until the request completes. */
static int verbs_isend(struct ar_transport *t, const void *buf, size_t len, int peer, int tag,
		       struct ar_request **req)
{
	struct ar_request *r;
	int rc = check_peer(t, peer, tag);

	if (rc)
		return rc;
	r = req_new(t, REQ_SEND, (void *)buf, len, peer, tag);
	if (!r)
		return -ENOMEM;
	*req = r;
	if (peer == t->rank)
		return self_send(t, r);
	return queue_send(t, peer, r);
}

/* Match the oldest unexpected message from peer with tag, or queue the receive.  Does not
 * block. */
static int verbs_irecv(struct ar_transport *t, void *buf, size_t len, int peer, int tag,
		       struct ar_request **req)
{
	struct unexpected **pu, *u;
	struct ar_request *r;
	struct peer *p;
	int rc = check_peer(t, peer, tag);

	if (rc)
		return rc;
	r = req_new(t, REQ_RECV, buf, len, peer, tag);
	if (!r)
		return -ENOMEM;
	*req = r;
	p = &t->peers[peer];
	for (pu = &p->unexq; (u = *pu); pu = &u->next)
		if (u->tag == (uint32_t)tag)
			break;
	if (u) {
		if (u->total != len)
			return ar__vb_fail(
				t, -EMSGSIZE,
				"message of %zu bytes from rank %d (tag %d) where %zu were "
				"expected",
				u->total, peer, tag, len);
		memcpy(buf, u->buf, u->got);
		if (p->in_msg && p->in_ux == u) { /* the rest goes straight to buf */
			p->in_ux = NULL;
			p->in_req = r;
		} else {
			r->done = true;
		}
		*pu = u->next;
		free(u->buf);
		free(u);
	} else {
		if (p->recvq_tail)
			p->recvq_tail->qnext = r;
		else
			p->recvq = r;
		p->recvq_tail = r;
	}
	if (peer == t->rank)
		return 0;
	rc = ar__vb_progress(t);
	return rc < 0 ? rc : 0;
}

/* Has a one-sided write's data WR completed (in order: so has everything before it)? */
static void check_write(struct ar_transport *t, struct ar_request *r)
{
	if (r->kind == REQ_WRITE && r->wr_idx && t->peers[r->peer].sq_done >= r->wr_idx)
		r->done = true;
}

/* Poll once; never blocks.  Frees r when done. */
static int verbs_test(struct ar_transport *t, struct ar_request *r, bool *done)
{
	int rc = ar__vb_progress(t);

	if (rc < 0)
		return rc;
	check_write(t, r);
	*done = r->done;
	if (r->done)
		req_free(t, r);
	return 0;
}

/* Busy-poll until r completes (freed) or the deadline passes (-ETIMEDOUT, r outstanding). */
static int verbs_wait(struct ar_transport *t, struct ar_request *r, double deadline)
{
	unsigned idle = 0, spins = 0;
	int rc;

	for (;;) {
		rc = ar__vb_progress(t);
		if (rc < 0)
			return rc;
		check_write(t, r);
		if (r->done) {
			req_free(t, r);
			return 0;
		}
		/* the clock even while other traffic keeps completing */
		if (++spins % 64 == 0 && deadline > 0 && MPI_Wtime() > deadline) {
			t->timed_out = true;
			return -ETIMEDOUT;
		}
		idle = rc > 0 ? 0 : idle + 1;
		if (idle && idle % 16 == 0)
			sched_yield(); /* ranks may outnumber cores */
	}
}

/* One-sided: write len bytes from local (inside lmr) to remote_offset of the peer's region
 * remote_key (an rkey of a zero-based registration, see mem_key), then announce imm to the
 * peer's next recv_imm.  Queued behind earlier sends to peer; does not block; local stays
 * the caller's until the request completes (the write's completion). */
static int verbs_write_imm(struct ar_transport *t, const void *local, size_t len,
			   struct ar_mem_region *lmr, int peer, uint64_t remote_key,
			   size_t remote_offset, uint32_t imm, struct ar_request **req)
{
	struct ar_request *r;
	int rc = check_peer(t, peer, 0);

	if (rc)
		return rc;
	if (!lmr || remote_key > UINT32_MAX || len > INT32_MAX ||
	    (const char *)local < (const char *)lmr->buf ||
	    (const char *)local + len > (const char *)lmr->buf + lmr->len)
		return -EINVAL;
	r = req_new(t, REQ_WRITE, (void *)local, len, peer, 0);
	if (!r)
		return -ENOMEM;
	*req = r;
	if (peer == t->rank) { /* into my own region: a copy, with the NIC's bounds check */
		struct ar_mem_region *m;

		for (m = t->regions; m && m->mr->rkey != remote_key; m = m->next)
			;
		if (!m || remote_offset > m->len || len > m->len - remote_offset)
			return ar__vb_fail(
				t, -EFAULT,
				"write_imm to my own region (key 0x%llx, offset %zu, %zu "
				"bytes) is outside it",
				(unsigned long long)remote_key, remote_offset, len);
		memcpy((char *)m->buf + remote_offset, local, len);
		r->done = true;
		return ar__vb_deliver_imm(t, peer, imm);
	}
	r->lkey = lmr->mr->lkey;
	r->rkey = (uint32_t)remote_key;
	r->raddr = remote_offset;
	r->imm = imm;
	return queue_send(t, peer, r);
}

/* One-sided: the next immediate announced by peer goes to *imm.  Does not block. */
static int verbs_recv_imm(struct ar_transport *t, int peer, uint32_t *imm, struct ar_request **req)
{
	struct ar_request *r;
	struct peer *p;
	int rc = check_peer(t, peer, 0);

	if (rc)
		return rc;
	r = req_new(t, REQ_IMM, NULL, 0, peer, 0);
	if (!r)
		return -ENOMEM;
	r->imm_out = imm;
	p = &t->peers[peer];
	if (p->early_head != p->early_tail) {
		*imm = p->early_imm[p->early_head++ % IMMQ];
		r->done = true;
	} else if (p->immq_tail) {
		p->immq_tail->qnext = r;
		p->immq_tail = r;
	} else {
		p->immq = p->immq_tail = r;
	}
	*req = r;
	rc = ar__vb_progress(t);
	return rc < 0 ? rc : 0;
}

/* The rkey of mr's zero-based registration: a peer writes at offsets from its start. */
static int verbs_mem_key(struct ar_transport *t, struct ar_mem_region *mr, uint64_t *key)
{
	if (!mr)
		return -EINVAL;
	*key = mr->mr->rkey;
	return 0;
}

/* The sticky failure's text, once there is one. */
static const char *verbs_last_error(struct ar_transport *t)
{
	return t && t->err ? t->errtext : NULL;
}

const struct ar_transport_ops ar__transport_verbs = {
	.name = "verbs",
	.init = ar__vb_init,
	.fini = ar__vb_fini,
	.reg_mem = verbs_reg_mem,
	.dereg_mem = verbs_dereg_mem,
	.isend = verbs_isend,
	.irecv = verbs_irecv,
	.test = verbs_test,
	.wait = verbs_wait,
	.write_imm = verbs_write_imm,
	.recv_imm = verbs_recv_imm,
	.mem_key = verbs_mem_key,
	.last_error = verbs_last_error,
};
