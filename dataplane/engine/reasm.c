/* TCP stream reassembly for one direction of a flow (see
 * include/sluice/reasm.h).
 *
 * In-order data is handed to the consumer straight from the segment (no
 * copy). Out-of-order data is copied into fixed-size chunks from a
 * per-lcore pool, kept in a list sorted by sequence number without
 * overlaps; a byte is stored only where no byte was stored or delivered
 * before (first copy wins), and a segment whose bytes differ from bytes
 * held is refused whole (-EBADMSG): an inline path cannot know which copy
 * the receiver keeps. When the stream reaches buffered data, the
 * buffered bytes are delivered and the segment's own bytes fill the holes
 * between chunks, so each byte is delivered exactly once, in order.
 *
 * All loops are bounded by the number of chunks a half holds (itself
 * bounded by the pool and max_ooo_bytes) or by the segment length.
 */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <string.h>

#include "sluice/reasm.h"
#include "sluice/decode.h"

void sl_seg_pool_init(struct sl_seg_pool *pool, void *mem, uint32_t n)
{
	uint32_t i;

	if (mem == NULL)
		n = 0;
	if (n == SL_SEG_NONE)
		n--; /* that index means "none" */
	pool->nchunks = n;
	pool->chunk = mem;
	pool->exhausted = 0;
	for (i = 0; i < n; i++)
		pool->chunk[i].next = i + 1 < n ? i + 1 : SL_SEG_NONE;
	pool->free_head = n ? 0 : SL_SEG_NONE;
	pool->nfree = n;
}

static uint32_t chunk_get(struct sl_seg_pool *pool)
{
	uint32_t idx = pool->free_head;

	if (idx == SL_SEG_NONE) {
		pool->exhausted++;
		return SL_SEG_NONE;
	}
	pool->free_head = pool->chunk[idx].next;
	pool->nfree--;
	return idx;
}

static void chunk_put(struct sl_seg_pool *pool, uint32_t idx)
{
	pool->chunk[idx].next = pool->free_head;
	pool->free_head = idx;
	pool->nfree++;
}

void sl_tcp_half_init(struct sl_tcp_half *h)
{
	h->next_seq = 0;
	h->ooo_head = SL_SEG_NONE;
	h->ooo_bytes = 0;
	h->flags = 0;
	h->ooo_chunks = 0;
	h->delivered = 0;
}

/* Nothing delivered, buffered or skipped yet: a (new) ISN may be taken. */
static int half_fresh(const struct sl_tcp_half *h)
{
	return !(h->flags & SL_HALF_SEQ_KNOWN) ||
	       (h->delivered == 0 && h->ooo_head == SL_SEG_NONE &&
		!(h->flags & SL_HALF_GAP));
}

void sl_tcp_half_syn(struct sl_tcp_half *h, uint32_t isn)
{
	if (!half_fresh(h))
		return; /* a late retransmitted SYN must not rewind the stream */
	h->next_seq = isn + 1;
	h->flags |= SL_HALF_SEQ_KNOWN;
}

void sl_tcp_half_release(struct sl_tcp_half *h, struct sl_seg_pool *pool)
{
	uint32_t idx = h->ooo_head;
	uint32_t guard = pool->nchunks;

	while (idx != SL_SEG_NONE && guard--) {
		uint32_t next = pool->chunk[idx].next;

		chunk_put(pool, idx);
		idx = next;
	}
	h->ooo_head = SL_SEG_NONE;
	h->ooo_bytes = 0;
	h->ooo_chunks = 0;
	h->flags |= SL_HALF_CLOSED;
}

/* One delivery run: the half, its pool and consumer, bytes delivered. */
struct run {
	struct sl_tcp_half *h;
	struct sl_seg_pool *pool;
	sl_deliver_fn fn;
	void *ctx;
	uint64_t count;
	int stopped;
};

static int run_result(const struct run *r)
{
	return r->count > INT_MAX ? INT_MAX : (int)r->count;
}

/* Hand n bytes at next_seq to the consumer. Non-zero: consumer stopped. */
static int deliver(struct run *r, const uint8_t *d, uint32_t n)
{
	struct sl_tcp_half *h = r->h;
	uint64_t off = h->delivered;
	int gap = (h->flags & SL_HALF_GAP) != 0;

	h->flags &= (uint16_t)~SL_HALF_GAP;
	h->next_seq += n;
	h->delivered += n;
	r->count += n;
	if (r->fn(r->ctx, d, n, off, gap) != 0) {
		sl_tcp_half_release(h, r->pool);
		r->stopped = 1;
		return -1;
	}
	return 0;
}

/* Bytes up to target will never come: count them and flag a gap. */
static void skip_to(struct sl_tcp_half *h, uint32_t target)
{
	uint32_t n = target - h->next_seq;

	if (n == 0)
		return;
	h->delivered += n;
	h->next_seq = target;
	h->flags |= SL_HALF_GAP;
}

/* Deliver buffered chunks that start at or before next_seq. */
static int drain(struct run *r)
{
	struct sl_tcp_half *h = r->h;
	struct sl_seg_pool *pool = r->pool;

	while (h->ooo_head != SL_SEG_NONE) {
		uint32_t idx = h->ooo_head;
		struct sl_seg_chunk *c = &pool->chunk[idx];
		uint32_t end = c->seq + c->len;
		int rc = 0;

		if (sl_seq_lt(h->next_seq, c->seq))
			break;
		h->ooo_head = c->next;
		h->ooo_chunks--;
		h->ooo_bytes -= c->len;
		if (sl_seq_lt(h->next_seq, end)) {
			uint32_t skip = h->next_seq - c->seq;

			/* unlinked but not yet free: its data stays valid
			 * during the callback */
			rc = deliver(r, c->data + skip, c->len - skip);
		}
		chunk_put(pool, idx);
		if (rc)
			return rc;
	}
	return 0;
}

/* Store the bytes of [seq, end) that lie beyond next_seq and are not
 * buffered yet. 0, or -ENOBUFS when a chunk or max_ooo bytes ran out
 * (what was stored before stays). */
static int buffer(struct sl_tcp_half *h, struct sl_seg_pool *pool,
		  uint32_t seq, const uint8_t *data, uint32_t end,
		  uint32_t max_ooo)
{
	uint32_t s = seq;
	uint32_t prev = SL_SEG_NONE;
	uint32_t cur = h->ooo_head;

	if (sl_seq_lt(s, h->next_seq))
		s = h->next_seq;
	while (sl_seq_lt(s, end)) {
		uint32_t hole_end = end;
		uint32_t k;
		uint32_t idx;
		struct sl_seg_chunk *c;

		/* first chunk that ends after s */
		while (cur != SL_SEG_NONE &&
		       sl_seq_leq(pool->chunk[cur].seq + pool->chunk[cur].len, s)) {
			prev = cur;
			cur = pool->chunk[cur].next;
		}
		if (cur != SL_SEG_NONE && sl_seq_leq(pool->chunk[cur].seq, s)) {
			/* already held: the first copy wins */
			s = pool->chunk[cur].seq + pool->chunk[cur].len;
			prev = cur;
			cur = pool->chunk[cur].next;
			continue;
		}
		if (cur != SL_SEG_NONE && sl_seq_lt(pool->chunk[cur].seq, hole_end))
			hole_end = pool->chunk[cur].seq;
		k = hole_end - s;

		/* fill the tail of the previous chunk when contiguous */
		if (prev != SL_SEG_NONE) {
			c = &pool->chunk[prev];
			if (c->seq + c->len == s && c->len < SL_SEG_CHUNK) {
				uint32_t room = SL_SEG_CHUNK - c->len;

				if (k > room)
					k = room;
				if ((uint64_t)h->ooo_bytes + k > max_ooo)
					return -ENOBUFS;
				memcpy(c->data + c->len, data + (s - seq), k);
				c->len = (uint16_t)(c->len + k);
				h->ooo_bytes += k;
				s += k;
				continue;
			}
		}
		if (k > SL_SEG_CHUNK)
			k = SL_SEG_CHUNK;
		if ((uint64_t)h->ooo_bytes + k > max_ooo ||
		    h->ooo_chunks == UINT16_MAX)
			return -ENOBUFS;
		idx = chunk_get(pool);
		if (idx == SL_SEG_NONE)
			return -ENOBUFS;
		c = &pool->chunk[idx];
		c->seq = s;
		c->len = (uint16_t)k;
		c->pad = 0;
		memcpy(c->data, data + (s - seq), k);
		c->next = cur;
		if (prev == SL_SEG_NONE)
			h->ooo_head = idx;
		else
			pool->chunk[prev].next = idx;
		h->ooo_chunks++;
		h->ooo_bytes += k;
		prev = idx;
		s += k;
	}
	return 0;
}

/* Do the segment's bytes [seq, seq + len) agree with every byte already
 * held out of order? */
static bool agrees_with_held(const struct sl_tcp_half *h, const struct sl_seg_pool *pool,
			     uint32_t seq, const uint8_t *data, uint32_t len)
{
	uint32_t end = seq + len;

	for (uint32_t i = h->ooo_head; i != SL_SEG_NONE; i = pool->chunk[i].next) {
		const struct sl_seg_chunk *c = &pool->chunk[i];
		uint32_t cend = c->seq + c->len;
		uint32_t from, to;

		if (!sl_seq_lt(c->seq, end))
			break;          /* sorted: the rest lie beyond */
		if (sl_seq_leq(cend, seq))
			continue;
		from = sl_seq_lt(seq, c->seq) ? c->seq : seq;
		to = sl_seq_lt(end, cend) ? end : cend;
		if (memcmp(data + (from - seq), c->data + (from - c->seq), to - from) != 0)
			return false;
	}
	return true;
}

int sl_tcp_half_segment(struct sl_tcp_half *h, struct sl_seg_pool *pool,
			uint32_t seq, const uint8_t *data, uint32_t len,
			uint8_t tcp_flags, uint32_t max_ooo_bytes,
			sl_deliver_fn fn, void *ctx)
{
	struct run r = { h, pool, fn, ctx, 0, 0 };
	uint32_t seg_seq, seg_end, fin_seq;
	int enobufs = 0;

	if (h->flags & SL_HALF_CLOSED)
		return 0;
	if (SL_UNLIKELY(tcp_flags & SL_TCP_RST)) {
		h->flags |= SL_HALF_RST;
		return 0;
	}
	if (data == NULL)
		len = 0;
	if (SL_UNLIKELY(tcp_flags & SL_TCP_SYN)) {
		/* a new ISN is taken as long as nothing was seen after it */
		sl_tcp_half_syn(h, seq);
		seq++;
	}
	if (SL_UNLIKELY(!(h->flags & SL_HALF_SEQ_KNOWN))) {
		if (len == 0)
			return 0;
		h->next_seq = seq;
		h->flags |= SL_HALF_SEQ_KNOWN;
	}
	fin_seq = seq + len;
	if (len == 0)
		goto fin;

	/* drop what was delivered already */
	if (sl_seq_lt(seq, h->next_seq)) {
		uint32_t old = h->next_seq - seq;

		if (old >= len)
			goto fin;
		data += old;
		len -= old;
		seq = h->next_seq;
	} else if (SL_UNLIKELY(seq - h->next_seq > SL_REASM_MAX_AHEAD ||
			       len > SL_REASM_MAX_AHEAD)) {
		return -ERANGE;
	}

	/* fast path: in order, nothing buffered */
	if (SL_LIKELY(seq == h->next_seq && h->ooo_head == SL_SEG_NONE)) {
		if (deliver(&r, data, len))
			return run_result(&r);
		goto fin;
	}
	/* other bytes where bytes are held: the receiver may keep either
	 * copy, and only the first was inspected */
	if (!agrees_with_held(h, pool, seq, data, len))
		return -EBADMSG;

	seg_seq = seq;
	seg_end = seq + len;
	for (;;) {
		uint32_t target;

		/* deliver alternately from the chunks and from the segment */
		for (;;) {
			if (drain(&r))
				return run_result(&r);
			if (sl_seq_leq(seg_seq, h->next_seq) &&
			    sl_seq_lt(h->next_seq, seg_end)) {
				uint32_t limit = seg_end;
				uint32_t head = h->ooo_head;

				if (head != SL_SEG_NONE &&
				    sl_seq_lt(pool->chunk[head].seq, limit))
					limit = pool->chunk[head].seq;
				if (deliver(&r, data + (h->next_seq - seg_seq),
					    limit - h->next_seq))
					return run_result(&r);
				continue;
			}
			break;
		}
		if (sl_seq_leq(seg_end, h->next_seq))
			break;
		/* the rest of the segment lies beyond a hole */
		if (buffer(h, pool, seg_seq, data, seg_end, max_ooo_bytes) == 0)
			break;
		/* out of room: give up the hole before the earliest byte held */
		enobufs = 1;
		target = seg_seq;
		if (h->ooo_head != SL_SEG_NONE &&
		    sl_seq_lt(pool->chunk[h->ooo_head].seq, target))
			target = pool->chunk[h->ooo_head].seq;
		if (!sl_seq_lt(h->next_seq, target))
			break; /* cannot happen: keeps the loop finite */
		skip_to(h, target);
	}
fin:
	if ((tcp_flags & SL_TCP_FIN) && sl_seq_leq(fin_seq, h->next_seq))
		h->flags |= SL_HALF_FIN;
	if (enobufs)
		return -ENOBUFS;
	return run_result(&r);
}

int sl_tcp_half_ack(struct sl_tcp_half *h, struct sl_seg_pool *pool,
		    uint32_t ack, sl_deliver_fn fn, void *ctx)
{
	struct run r = { h, pool, fn, ctx, 0, 0 };

	if (SL_LIKELY(sl_seq_leq(ack, h->next_seq)) ||
	    (h->flags & (SL_HALF_CLOSED | SL_HALF_SEQ_KNOWN)) != SL_HALF_SEQ_KNOWN)
		return 0;
	if (ack - h->next_seq > SL_REASM_MAX_AHEAD)
		return -ERANGE;
	if ((h->flags & SL_HALF_FIN) && ack == h->next_seq + 1)
		return 0;
	while (sl_seq_lt(h->next_seq, ack)) {
		uint32_t target = ack;

		if (drain(&r))
			return run_result(&r);
		if (!sl_seq_lt(h->next_seq, ack))
			break;
		if (h->ooo_head != SL_SEG_NONE &&
		    sl_seq_lt(pool->chunk[h->ooo_head].seq, target))
			target = pool->chunk[h->ooo_head].seq;
		skip_to(h, target);
	}
	drain(&r);
	return run_result(&r);
}

int sl_tcp_half_flush(struct sl_tcp_half *h, struct sl_seg_pool *pool,
		      sl_deliver_fn fn, void *ctx)
{
	struct run r = { h, pool, fn, ctx, 0, 0 };

	if ((h->flags & (SL_HALF_CLOSED | SL_HALF_SEQ_KNOWN)) != SL_HALF_SEQ_KNOWN)
		return 0;
	while (h->ooo_head != SL_SEG_NONE) {
		if (drain(&r))
			break;
		if (h->ooo_head != SL_SEG_NONE)
			skip_to(h, pool->chunk[h->ooo_head].seq);
	}
	return run_result(&r);
}
