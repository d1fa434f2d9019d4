/*
 * verbs_progress.c - the verbs transport's engine: posting RDMA writes (data into a peer's ring,
 * credits back) from the registered pool, polling the one completion queue, delivering ring
 * chunks to the matching irecv or keeping them as unexpected, immediates to recv_imm, credits
 * and pushing queued sends as slots free up.  Every op of transport_verbs.c and fini's drain
 * make progress through ar__vb_progress().
 */
#include "allreduce/verbs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Record the first failure (later ones are its consequences).  Returns t->err. */
int ar__vb_fail(struct ar_transport *t, int err, const char *fmt, ...)
{
	va_list ap;

	if (t->err)
		return t->err;
	va_start(ap, fmt);
	vsnprintf(t->errtext, sizeof(t->errtext), fmt, ap);
	va_end(ap);
	t->err = err;
	return err;
}

int ar__vb_post_recv_slot(struct ar_transport *t, int q)
{
	struct ibv_recv_wr wr = {.wr_id = WR_RECV | (uint64_t)q, .num_sge = 0}, *bad;

	return ibv_post_recv(t->peers[q].qp, &wr, &bad);
}

static const char *op_name(uint64_t wr_id)
{
	return wr_id & WR_RECV ? "RDMA write with immediate from" : "RDMA write to";
}

/* Post one RDMA write (with imm: consuming a receive WQE of q) from the pool.  Signalled
 * when signal is set or every SIGNAL_EVERY-th WR of the QP. */
int ar__vb_post_write(struct ar_transport *t, int q, void *local, size_t len, uint64_t raddr,
		      bool with_imm, uint32_t imm, bool signal)
{
	struct peer *p = &t->peers[q];
	struct ibv_sge sge = {
		.addr = (uintptr_t)local, .length = (uint32_t)len, .lkey = t->mr->lkey};
	struct ibv_send_wr wr =
				   {
					   .wr_id = ((uint64_t)q << 40) | (p->sq_posted + 1),
					   .sg_list = &sge,
					   .num_sge = 1,
					   .opcode = with_imm ? IBV_WR_RDMA_WRITE_WITH_IMM
							      : IBV_WR_RDMA_WRITE,
					   .send_flags = signal || p->sq_posted % SIGNAL_EVERY ==
										 SIGNAL_EVERY - 1
								 ? IBV_SEND_SIGNALED
								 : 0,
					   .imm_data = htonl(imm),
					   .wr = {.rdma = {.remote_addr = raddr,
							   .rkey = p->remote.rkey}},
				   },
			   *bad;
	int rc = ibv_post_send(p->qp, &wr, &bad);

	if (rc)
		return ar__vb_fail(t, -EIO, "ibv_post_send of an RDMA write to rank %d failed: %s",
				   q, strerror(rc));
	p->sq_posted++;
	if (wr.send_flags & IBV_SEND_SIGNALED)
		p->last_signaled = p->sq_posted;
	return 0;
}

/* The data of a one-sided write: from the caller's registration to the peer's, signalled. */
static int post_write_key(struct ar_transport *t, int q, void *local, size_t len, uint32_t lkey,
			  uint64_t raddr, uint32_t rkey)
{
	struct peer *p = &t->peers[q];
	struct ibv_sge sge = {.addr = (uintptr_t)local, .length = (uint32_t)len, .lkey = lkey};
	struct ibv_send_wr wr =
				   {
					   .wr_id = ((uint64_t)q << 40) | (p->sq_posted + 1),
					   .sg_list = &sge,
					   .num_sge = 1,
					   .opcode = IBV_WR_RDMA_WRITE,
					   .send_flags = IBV_SEND_SIGNALED,
					   .wr = {.rdma = {.remote_addr = raddr, .rkey = rkey}},
				   },
			   *bad;
	int rc = ibv_post_send(p->qp, &wr, &bad);

	if (rc)
		return ar__vb_fail(t, -EIO,
				   "ibv_post_send of a one-sided write to rank %d failed: %s", q,
				   strerror(rc));
	p->sq_posted++;
	p->last_signaled = p->sq_posted;
	return 0;
}

bool ar__vb_sq_room(const struct peer *p)
{
	return p->sq_posted - p->sq_done < SQ_DEPTH;
}

/* Tell q how many of its chunks I consumed, every CREDIT_EVERY of them. */
static int send_credit(struct ar_transport *t, int q)
{
	struct peer *p = &t->peers[q];

	if (p->rseq - p->reported < CREDIT_EVERY || !ar__vb_sq_room(p))
		return 0;
	/* the word may be read by the NIC after a later update: it only grows, so that is
	 * still a true count of consumed slots */
	t->credit_out[q] = p->rseq;
	p->reported = p->rseq;
	return ar__vb_post_write(t, q, &t->credit_out[q], sizeof(uint64_t), p->remote.credit_addr,
				 false, 0, false);
}

static struct ar_request *queue_pop_match(struct ar_request **head, struct ar_request **tail,
					  uint32_t tag)
{
	struct ar_request *prev = NULL;

	for (struct ar_request *r = *head; r; prev = r, r = r->qnext) {
		if ((uint32_t)r->tag != tag)
			continue;
		if (prev)
			prev->qnext = r->qnext;
		else
			*head = r->qnext;
		if (*tail == r)
			*tail = prev;
		r->qnext = NULL;
		return r;
	}
	return NULL;
}

/* A chunk of len bytes from q: part of the message in progress, or the first of a new one. */
int ar__vb_deliver(struct ar_transport *t, int q, const struct chunk_hdr *h, const char *data)
{
	struct peer *p = &t->peers[q];
	char *dst;

	if (!p->in_msg) {
		p->in_msg = true;
		p->in_tag = h->tag;
		p->in_total = h->total;
		p->in_got = 0;
		p->in_ux = NULL;
		p->in_req = queue_pop_match(&p->recvq, &p->recvq_tail, h->tag);
		if (p->in_req && p->in_req->len != h->total)
			return ar__vb_fail(
				t, -EMSGSIZE,
				"message of %llu bytes from rank %d (tag %u) where %zu were "
				"expected",
				(unsigned long long)h->total, q, h->tag, p->in_req->len);
		if (!p->in_req) {
			struct unexpected *u = calloc(1, sizeof(*u)), **end;

			if (u)
				u->buf = malloc(h->total ? h->total : 1);
			if (!u || !u->buf) {
				free(u);
				return ar__vb_fail(
					t, -ENOMEM,
					"out of memory keeping an unexpected message of %llu "
					"bytes from rank %d",
					(unsigned long long)h->total, q);
			}
			u->tag = h->tag;
			u->total = h->total;
			for (end = &p->unexq; *end; end = &(*end)->next)
				;
			*end = u;
			p->in_ux = u;
		}
	}
	if (h->tag != p->in_tag || p->in_got + h->len > p->in_total)
		return ar__vb_fail(t, -EPROTO, "chunk from rank %d does not continue its message",
				   q);
	dst = p->in_req ? p->in_req->buf : p->in_ux->buf;
	memcpy(dst + p->in_got, data, h->len);
	p->in_got += h->len;
	if (p->in_ux)
		p->in_ux->got = p->in_got;
	if (p->in_got == p->in_total) {
		if (p->in_req)
			p->in_req->done = true;
		p->in_msg = false;
	}
	return 0;
}

/* A write_imm from q announced imm: complete the oldest recv_imm, or keep it. */
int ar__vb_deliver_imm(struct ar_transport *t, int q, uint32_t imm)
{
	struct peer *p = &t->peers[q];
	struct ar_request *r = p->immq;

	if (r) {
		*r->imm_out = imm;
		r->done = true;
		p->immq = r->qnext;
		if (!p->immq)
			p->immq_tail = NULL;
		return 0;
	}
	if (p->early_tail - p->early_head >= IMMQ)
		return ar__vb_fail(
			t, -ENOBUFS,
			"more than %d immediates from rank %d arrived before any recv_imm", IMMQ,
			q);
	p->early_imm[p->early_tail++ % IMMQ] = imm;
	return 0;
}

static int on_completion(struct ar_transport *t, const struct ibv_wc *wc)
{
	int q = (int)(wc->wr_id & WR_RECV ? wc->wr_id & 0xffffffffu : wc->wr_id >> 40);
	struct peer *p;
	int rc;

	if (q < 0 || q >= t->size || q == t->rank)
		return ar__vb_fail(t, -EPROTO, "completion with an unknown work request id 0x%llx",
				   (unsigned long long)wc->wr_id);
	p = &t->peers[q];
	if (wc->status != IBV_WC_SUCCESS) {
		if (wc->status == IBV_WC_WR_FLUSH_ERR)
			return ar__vb_fail(
				t, -ECONNRESET,
				"%s rank %d flushed (%s): the queue pair went to the error "
				"state after a failure on the other side",
				op_name(wc->wr_id), q, ibv_wc_status_str(wc->status));
		return ar__vb_fail(t, -EIO,
				   "%s rank %d completed with '%s' (status %d, vendor error 0x%x)",
				   op_name(wc->wr_id), q, ibv_wc_status_str(wc->status), wc->status,
				   wc->vendor_err);
	}
	if (!(wc->wr_id & WR_RECV)) {
		uint64_t idx = wc->wr_id & ((1ull << 40) - 1);

		if (idx > p->sq_done)
			p->sq_done = idx; /* in order: every WR before it completed too */
		return 0;
	}
	if (wc->opcode != IBV_WC_RECV_RDMA_WITH_IMM || ntohl(wc->imm_data) != (uint32_t)p->rseq)
		return ar__vb_fail(
			t, -EPROTO,
			"unexpected receive completion from rank %d (opcode %d, immediate "
			"%u, expected chunk %u)",
			q, wc->opcode, ntohl(wc->imm_data), (uint32_t)p->rseq);
	{
		const char *slot = ring_slot(t, q, p->rseq);
		struct chunk_hdr h;

		memcpy(&h, slot, sizeof(h));
		if (h.len > PAYLOAD || wc->byte_len != sizeof(h) + h.len)
			return ar__vb_fail(t, -EPROTO, "malformed chunk from rank %d (%u bytes)", q,
					   wc->byte_len);
		rc = h.tag == NOTIFY_TAG ? ar__vb_deliver_imm(t, q, (uint32_t)h.total)
					 : ar__vb_deliver(t, q, &h, slot + sizeof(h));
		if (rc)
			return rc;
	}
	p->rseq++;
	rc = ar__vb_post_recv_slot(t, q);
	if (rc)
		return ar__vb_fail(t, -EIO, "ibv_post_recv for rank %d failed: %s", q,
				   strerror(rc));
	return send_credit(t, q);
}

/* Push the head of q's send queue as far as credits, staging slots and the SQ allow. */
static int push_sends(struct ar_transport *t, int q)
{
	struct peer *p = &t->peers[q];
	struct ar_request *r;
	int rc;

	while ((r = p->sendq)) {
		uint64_t credit = __atomic_load_n(&t->credit_in[q], __ATOMIC_ACQUIRE);
		size_t n = r->len - r->off < PAYLOAD ? r->len - r->off : PAYLOAD;
		unsigned j = (unsigned)(p->sent % NSLOT);
		struct chunk_hdr h = {.tag = (uint32_t)r->tag, .len = (uint32_t)n, .total = r->len};
		char *st;

		if (p->sent - credit >= NSLOT || p->stage_wr[j] > p->sq_done || !ar__vb_sq_room(p))
			return 0;
		st = stage_slot(t, q, p->sent);
		if (r->kind == REQ_WRITE) {
			/* the data, signalled (its completion frees the caller's buffer), then
			 * the announcement behind it: RC places them in this order */
			if (p->sq_posted + 2 - p->sq_done > SQ_DEPTH)
				return 0;
			rc = post_write_key(t, q, r->buf, r->len, r->lkey, r->raddr, r->rkey);
			if (rc)
				return rc;
			r->wr_idx = p->sq_posted;
			h.tag = NOTIFY_TAG;
			h.len = 0;
			h.total = r->imm;
			n = 0;
			r->off = r->len;
		}
		memcpy(st, &h, sizeof(h));
		memcpy(st + sizeof(h), r->buf + r->off, n);
		rc = ar__vb_post_write(t, q, st, sizeof(h) + n,
				       p->remote.ring_addr + (uint64_t)j * SLOT_BYTES, true,
				       (uint32_t)p->sent, false);
		if (rc)
			return rc;
		p->stage_wr[j] = p->sq_posted;
		p->sent++;
		r->off += n;
		if (r->off == r->len) {
			r->done = r->kind == REQ_SEND; /* a write is done when its WR completed */
			p->sendq = r->qnext;
			if (!p->sendq)
				p->sendq_tail = NULL;
			r->qnext = NULL;
		}
	}
	return 0;
}

/* Poll the CQ once and move every peer's sends along.  Returns completions seen, or a
 * negative errno (sticky). */
int ar__vb_progress(struct ar_transport *t)
{
	struct ibv_wc wc[POLL_BATCH];
	int n, rc;

	if (t->err)
		return t->err;
	n = ibv_poll_cq(t->cq, POLL_BATCH, wc);
	if (n < 0)
		return ar__vb_fail(t, -EIO,
				   "ibv_poll_cq failed (%d): completion queue overrun or "
				   "device error",
				   n);
	for (int i = 0; i < n; i++) {
		rc = on_completion(t, &wc[i]);
		if (rc)
			return rc;
	}
	for (int q = 0; q < t->size; q++) {
		if (q == t->rank)
			continue;
		rc = push_sends(t, q);
		if (!rc)
			rc = send_credit(t, q);
		if (rc)
			return rc;
	}
	return n;
}
