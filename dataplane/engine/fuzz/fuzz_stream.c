/* libFuzzer target: TCP reassembly driven by a byte program (segments at
 * arbitrary offsets with arbitrary flags, ACKs, flushes), checked against
 * a first-copy model (a segment refused for other bytes where bytes are
 * held counts for nothing), with the in-order stream fed to sl_app_feed and to
 * the TLS record walk (whose runs must cover each delivery exactly). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/app.h"
#include "sluice/decode.h"
#include "sluice/reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define SPAN 65536
#define NCHUNKS 48
#define NBUF 2

static uint8_t first[SPAN];
static uint8_t have[SPAN];
static struct sl_seg_chunk chunks[NCHUNKS];
static uint8_t app_mem[NBUF * SL_APP_BUF_SIZE];
static uint32_t app_links[NBUF];

struct st {
	struct sl_app_half app;
	struct sl_tls_walk tls, peer;
	struct sl_app_pool *apool;
	uint64_t end;
	uint16_t port;
	int stop;
	int model;     /* offsets are relative to a known ISN */
};

static volatile uint8_t sink;

static int on_field(void *ctx, const struct sl_app_field *f)
{
	uint8_t s = 0;
	uint32_t i;

	(void)ctx;
	/* the field bytes must be readable */
	if (f->value)
		for (i = 0; i < f->len; i++)
			s ^= (uint8_t)f->value[i];
	if (f->target)
		for (i = 0; i < f->target_len; i++)
			s ^= (uint8_t)f->target[i];
	if (f->host)
		for (i = 0; i < f->host_len; i++)
			s ^= (uint8_t)f->host[i];
	sink = s;
	return 0;
}

static int on_data(void *ctx, const uint8_t *data, uint32_t len, uint64_t off, int gap)
{
	struct st *s = ctx;
	uint32_t i;

	if (len == 0 || (gap ? off <= s->end : off != s->end))
		abort();
	s->end = off + len;
	/* offsets count sequence space from ISN + 1 */
	for (i = 0; i < len; i++) {
		uint64_t pos = off + i;

		if (s->model && pos < SPAN && have[pos] && first[pos] != data[i])
			abort();
	}
	sl_app_feed(&s->app, s->apool, data, len, gap, s->port, on_field, NULL);
	sl_tls_walk_begin(&s->tls, off, gap);
	for (i = 0; i < len;) {
		int enc = -1;
		uint32_t k = sl_tls_walk_run(&s->tls, &s->peer, data + i, len - i, s->model,
					     &enc);

		if (k == 0 || k > len - i || (enc != 0 && enc != 1))
			abort();
		i += k;
	}
	return s->stop && off + len > 4096;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sl_seg_pool pool;
	struct sl_app_pool apool;
	struct sl_tcp_half h;
	struct st s;
	uint32_t isn;
	size_t i = 5;

	if (n < 5)
		return 0;
	memset(have, 0, sizeof(have));
	sl_seg_pool_init(&pool, chunks, NCHUNKS);
	sl_app_pool_init(&apool, app_mem, app_links, NBUF);
	memset(&s, 0, sizeof(s));
	sl_app_half_init(&s.app);
	sl_tls_walk_init(&s.tls);
	sl_tls_walk_init(&s.peer);
	s.peer.flags |= SL_TLS_WALK_HELLO;   /* so that runs of ciphertext occur */
	s.apool = &apool;
	s.port = (d[4] & 1) ? 53 : 443;
	s.stop = (d[4] & 2) != 0;
	isn = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	sl_tcp_half_init(&h);
	s.model = !(d[4] & 4);
	if (s.model)
		sl_tcp_half_syn(&h, isn);
	while (i + 4 <= n) {
		uint8_t op = d[i];
		uint32_t off = (uint32_t)d[i + 1] << 8 | d[i + 2];
		uint32_t len = d[i + 3];

		i += 4;
		switch (op & 3) {
		case 0:
		case 1: {
			const uint8_t *data;
			uint8_t had[256], was[256];
			uint32_t j;
			int rc;

			if (len > n - i)
				len = (uint32_t)(n - i);
			data = d + i;
			i += len;
			if (op & 0x80)
				len = 0;
			/* the model: first copy of each position (only bytes
			 * at or after what was delivered can still change) */
			for (j = 0; j < len && off + j < SPAN; j++) {
				had[j] = have[off + j];
				was[j] = first[off + j];
			}
			if (!(op & SL_TCP_RST << 2) && (h.flags & SL_HALF_SEQ_KNOWN) &&
			    !(h.flags & SL_HALF_CLOSED)) {
				for (j = 0; j < len && off + j < SPAN; j++) {
					if (!have[off + j]) {
						have[off + j] = 1;
						first[off + j] = data[j];
					}
				}
			}
			rc = sl_tcp_half_segment(&h, &pool, isn + 1 + off, data, len,
						 (uint8_t)((op >> 2) & ~SL_TCP_SYN),
						 (op & 0x40) ? 300 : 100000, on_data, &s);
			if (rc == -EBADMSG) {
				/* other bytes for bytes held: refused whole,
				 * nothing of it counts */
				for (j = 0; j < len && off + j < SPAN; j++) {
					have[off + j] = had[j];
					first[off + j] = was[j];
				}
			}
			break;
		}
		case 2:
			sl_tcp_half_ack(&h, &pool, isn + 1 + off * 4, on_data, &s);
			break;
		default:
			sl_tcp_half_flush(&h, &pool, on_data, &s);
			break;
		}
	}
	sl_tcp_half_flush(&h, &pool, on_data, &s);
	sl_tcp_half_release(&h, &pool);
	sl_app_half_release(&s.app, &apool);
	if (pool.nfree != NCHUNKS || apool.nfree != NBUF)
		abort();
	return 0;
}
