/* TCP stream reassembly for one direction of a flow: delivers the byte
 * stream in order to a consumer (field extractors, payload scanner), keeps
 * out-of-order data in a bounded per-lcore chunk pool, and uses the first
 * copy of any byte that is sent twice. A gap that will never be filled
 * (the peer acknowledged past it, the pool is exhausted, or the flow ends)
 * is skipped and reported to the consumer, so nothing matches across it.
 *
 * No allocation: chunks come from a pool the caller creates once.
 */
#ifndef SLUICE_REASM_H
#define SLUICE_REASM_H

#include <stdbool.h>
#include <stdint.h>

#define SL_SEG_CHUNK 256            /* bytes of data per pool chunk */
#define SL_SEG_NONE UINT32_MAX
/* A segment (or an ACK) further than this ahead of the next expected byte
 * is garbage (forged, or another connection reusing the ports): ignored,
 * -ERANGE. */
#define SL_REASM_MAX_AHEAD (1u << 30)

/* Per-lcore pool of fixed-size chunks for out-of-order data. */
struct sl_seg_pool {
	uint32_t nchunks;
	uint32_t free_head;           /* free list (indexes), SL_SEG_NONE = empty */
	uint32_t nfree;
	uint64_t exhausted;           /* times a chunk was needed and none was free */
	struct sl_seg_chunk *chunk;   /* array of nchunks */
};

struct sl_seg_chunk {
	uint32_t next;                /* next chunk (list or free list) */
	uint32_t seq;                 /* sequence number of data[0] */
	uint16_t len;                 /* valid bytes */
	uint16_t pad;
	uint8_t data[SL_SEG_CHUNK];
};

/* mem must hold n chunks: n * sizeof(struct sl_seg_chunk). */
void sl_seg_pool_init(struct sl_seg_pool *pool, void *mem, uint32_t n);

/* Reassembly state of one direction; lives in the flow entry (24 bytes).
 * Initialise with sl_tcp_half_init (zeroed memory is not a valid half:
 * ooo_head 0 would name chunk 0). One pool per lcore; a half must always
 * be used with the same pool. */
struct sl_tcp_half {
	uint32_t next_seq;            /* next byte expected in order */
	uint32_t ooo_head;            /* first buffered chunk (sorted by seq) or SL_SEG_NONE */
	uint32_t ooo_bytes;           /* bytes buffered */
	uint16_t flags;               /* SL_HALF_* */
	uint16_t ooo_chunks;
	uint64_t delivered;           /* stream offset: bytes delivered so far (gaps count) */
};

#define SL_HALF_SEQ_KNOWN 0x0001     /* next_seq is valid */
#define SL_HALF_FIN 0x0002           /* FIN seen (in order) */
#define SL_HALF_RST 0x0004
#define SL_HALF_CLOSED 0x0008        /* no more delivery (depth reached, released) */
#define SL_HALF_GAP 0x0010           /* bytes were skipped: the next delivery has gap set */

/* Consumer of in-order data. `off` is the stream offset of data[0]; `gap`
 * is non-zero when bytes were skipped just before data (reset any
 * cross-segment matching state). Return non-zero to stop delivery (the
 * flow got a final verdict); remaining buffered data is then released. */
typedef int (*sl_deliver_fn)(void *ctx, const uint8_t *data, uint32_t len,
			     uint64_t off, int gap);

void sl_tcp_half_init(struct sl_tcp_half *h);

/* Start the sequence space from a SYN (isn = its sequence number): data
 * starts at isn + 1. Ignored once data was delivered, buffered or skipped
 * (a late retransmitted SYN must not rewind the stream); before that a new
 * SYN replaces the ISN. sl_tcp_half_segment does this itself for a segment
 * with SYN set, so calling both is harmless. */
void sl_tcp_half_syn(struct sl_tcp_half *h, uint32_t isn);

/* Feed one segment (seq = the TCP header's sequence number, payload,
 * flags SL_TCP_*). With SYN set the segment's sequence number becomes the
 * ISN (unless data was already seen) and its data (TCP Fast Open) starts
 * at seq + 1. When the sequence is unknown (mid-stream pickup) the first
 * segment with data sets it; segments without data are then ignored, and
 * no flag (not even ACK) is required. Data before next_seq (retransmitted)
 * is dropped; bytes already buffered are kept (first copy wins). Delivers
 * what became contiguous, in order, possibly in several calls of fn.
 * RST: sets SL_HALF_RST, its data is ignored. FIN: SL_HALF_FIN once the
 * stream is complete up to it.
 * A segment whose bytes differ from out-of-order bytes already held
 * changes nothing and returns -EBADMSG (receivers keep one copy or the
 * other; the caller should drop it, so that the receiver gets the copy
 * that was inspected). Data before next_seq is not compared (it is not
 * kept).
 * Returns the number of bytes delivered, -ENOBUFS when out-of-order data
 * could not be buffered because the pool or max_ooo_bytes was exhausted
 * (the gap before the earliest data held is then skipped as if
 * acknowledged, so data may have been delivered anyway: count it),
 * or -ERANGE for a segment more than SL_REASM_MAX_AHEAD ahead (ignored).
 * After fn returned non-zero (or after release) the half is
 * SL_HALF_CLOSED and every call returns 0. */
int sl_tcp_half_segment(struct sl_tcp_half *h, struct sl_seg_pool *pool,
			uint32_t seq, const uint8_t *data, uint32_t len,
			uint8_t tcp_flags, uint32_t max_ooo_bytes,
			sl_deliver_fn fn, void *ctx);

/* The other direction acknowledged up to `ack`: data before it that we
 * never saw is lost to us; skip the gap and deliver what is buffered.
 * Call it for every segment with ACK set, on the opposite half (cheap when
 * nothing is missing). No-op while the sequence is unknown, and for an ack
 * of just the FIN. Returns bytes delivered or -ERANGE (ack too far ahead,
 * ignored). */
int sl_tcp_half_ack(struct sl_tcp_half *h, struct sl_seg_pool *pool,
		    uint32_t ack, sl_deliver_fn fn, void *ctx);

/* Flow end: deliver everything buffered, skipping gaps (gap set on the
 * data after each). Returns bytes delivered. Does not release. */
int sl_tcp_half_flush(struct sl_tcp_half *h, struct sl_seg_pool *pool,
		      sl_deliver_fn fn, void *ctx);

/* Return buffered chunks to the pool and mark the half closed. */
void sl_tcp_half_release(struct sl_tcp_half *h, struct sl_seg_pool *pool);

/* Sequence arithmetic (mod 2^32). */
static inline bool sl_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool sl_seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

#endif
