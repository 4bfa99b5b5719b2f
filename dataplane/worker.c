/* The worker: run-to-completion loop over its rx queues. Per packet: decode,
 * reassemble IP fragments, find the flow, reassemble the TCP stream,
 * extract fields, scan payload, decide, and carry out the verdict (forward,
 * drop, inject RST / block page / NXDOMAIN), counting everything per lcore.
 * sl_worker_process() is the inspection path without I/O, also used by
 * the benchmarks. */
#include <errno.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>

#include "sluice.h"
#include "sluice/craft.h"

enum { V_FORWARD = 0, V_DROP = 1 };

/* What is known while one packet is processed; callbacks get it. */
struct pkt_ctx {
	struct sl_worker *w;
	struct sl_snapshot *s;
	struct sl_flow *f;          /* NULL: packet without a flow */
	struct rte_mbuf *m;
	const uint8_t *frame;       /* decoded frame (mbuf data or linbuf) */
	uint32_t frame_len;
	const struct sl_pkt *pkt;
	uint16_t in_port;
	uint8_t dir;                /* direction of the packet: SL_DIR_* */
	uint8_t cdir;               /* direction of the content being inspected */
	/* outcome so far */
	uint8_t verdict;            /* SL_ACT_* winning for this packet */
	uint8_t vfield;
	int32_t vrule;              /* rule idx, -1 */
	bool http_hit;              /* winner matched an HTTP field of this packet */
	bool overload_drop;         /* fail-closed overload: drop this packet */
	struct sl_snapshot *cs;     /* shadow candidate, or NULL */
	uint8_t cverdict;           /* candidate's would-be verdict */
	int32_t cvrule;
	const uint8_t *dns_msg;     /* DNS message (TCP) for an NXDOMAIN answer */
	uint32_t dns_len;
};

_Static_assert(sizeof(struct pkt_ctx) == 104, "pkt_ctx_init sets every field: update it");

/* Field by field: an initialiser zeroes the whole struct first, which gcc
 * does with "rep stos", whose start-up costs tens of cycles per packet. */
static inline void pkt_ctx_init(struct pkt_ctx *c, struct sl_worker *w, struct sl_snapshot *s,
				struct rte_mbuf *m, const uint8_t *frame, uint32_t len,
				const struct sl_pkt *p, uint16_t port)
{
	c->w = w;
	c->s = s;
	c->f = NULL;
	c->m = m;
	c->frame = frame;
	c->frame_len = len;
	c->pkt = p;
	c->in_port = port;
	c->dir = SL_DIR_NONE;
	c->cdir = 0;
	c->verdict = 0;
	c->vfield = 0;
	c->vrule = -1;
	c->http_hit = false;
	c->overload_drop = false;
	c->cs = w->cand;
	c->cverdict = 0;
	c->cvrule = -1;
	c->dns_msg = NULL;
	c->dns_len = 0;
}

/* ---- counters and events ---------------------------------------------- */

static bool recorded_before(const struct sl_flow *f, uint32_t id)
{
	if (f == NULL)
		return false;
	for (unsigned i = 0; i < f->nrec; i++)
		if (f->recorded[i] == id)
			return true;
	return false;
}

/* Only once its event is queued: a lost record is tried again. */
static void mark_recorded(struct sl_flow *f, uint32_t id)
{
	if (f != NULL && f->nrec < SL_FLOW_RECORDED)
		f->recorded[f->nrec++] = id;
}

/* Overload got in the way of this packet's inspection or of its record (no
 * buffer, no stream state, stream bytes skipped, an event lost); the
 * caller counts the cause. Fail-open: the packet goes on uninspected.
 * Fail-closed: it is dropped, and so is the rest of a TCP flow, whose
 * inspection can no longer be complete (the bytes it could not inspect
 * would come back as retransmissions the reassembly takes for old). */
static void overload_hit(struct pkt_ctx *c)
{
	struct sl_flow *f = c->f;

	if (sl_dp.cfg.overload != SL_FAIL_CLOSED)
		return;
	c->overload_drop = true;
	if (f != NULL && f->key.proto == SL_PROTO_TCP && f->state == SL_FLOW_INSPECT) {
		f->state = SL_FLOW_BLOCKED;
		f->action = SL_ACT_DROP;
		f->block_rule_id = 0;
		f->ovl_blocked = 1;
		f->closing = 1;
	}
}

static void fill_flow(struct pkt_ctx *c, struct sl_event *ev)
{
	const struct sl_pkt *p = c->pkt;
	const struct sl_flow *f = c->f;

	ev->proto = p->l4proto;
	ev->dir = c->dir;
	ev->nvlan = p->nvlan;
	for (unsigned i = 0; i < p->nvlan && i < 2; i++)
		ev->vlan[i] = p->vlan_tci[i] & 0x0fff;
	if (f != NULL) {
		ev->flow_id = f->id;
		memset(&ev->client, 0, sizeof(ev->client));
		memset(&ev->server, 0, sizeof(ev->server));
		ev->client.family = ev->server.family = f->key.family;
		memcpy(ev->client.b, f->client_is_a ? f->key.a : f->key.b, 16);
		memcpy(ev->server.b, f->client_is_a ? f->key.b : f->key.a, 16);
		ev->client_port = f->client_is_a ? f->key.pa : f->key.pb;
		ev->server_port = f->client_is_a ? f->key.pb : f->key.pa;
	} else {
		/* the event is a recycled pool object: say "no flow" */
		ev->flow_id = 0;
		ev->client = p->src;
		ev->server = p->dst;
		ev->client_port = p->sport;
		ev->server_port = p->dport;
	}
}

static int emit_event(struct pkt_ctx *c, const struct sl_rule *r, uint8_t field,
		      const void *value, uint32_t vlen)
{
	struct sl_worker *w = c->w;
	struct sl_event *ev = sl_event_get(w);

	if (ev == NULL)
		return -ENOBUFS;
	ev->kind = SL_EVT_MATCH;
	ev->action = r->action;
	ev->mode = r->mode;
	ev->field = field;
	ev->lcore = (uint16_t)w->lcore_id;
	ev->time_ns = w->now_ns;
	ev->pkt_time_ns = 0;
	ev->rule = r;
	ev->meta = c->s->meta;
	ev->count = 0;
	ev->text[0] = '\0';
	fill_flow(c, ev);
	ev->value_trunc = vlen > SL_EVENT_VALUE_MAX;
	ev->value_len = (uint16_t)RTE_MIN(vlen, (uint32_t)SL_EVENT_VALUE_MAX);
	if (ev->value_len)
		memcpy(ev->value, value, ev->value_len);
	ev->pkt_len = 0;
	ev->pkt_orig_len = c->frame_len;
	if (sl_dp.cfg.capture && c->frame != NULL) {  /* no frame: a match at flow end */
		ev->pkt_len = RTE_MIN(c->frame_len, (uint32_t)SL_EVENT_PKT_MAX);
		memcpy(ev->pkt, c->frame, ev->pkt_len);
	}
	return sl_event_put(w, ev);
}

/* Account for a hitset and fold its winner into the packet's verdict. */
static void handle_hits(struct pkt_ctx *c, const struct sl_hitset *hs,
			const struct sl_addr *origin, const void *value, uint32_t vlen,
			uint64_t chunk_off, uint32_t chunk_len)
{
	struct sl_snapshot *s = c->s;
	struct sl_worker *w = c->w;
	struct sl_match_ctx mc = {
		.proto = c->pkt->l4proto,
		.server_port = 0,
		.origin = origin,
		.now = w->now_s,
		.disabled = s->disabled,
	};
	struct sl_verdict v;

	if (hs->n == 0)
		return;
	w->st.hits_overflow += hs->overflow;
	if (c->f != NULL)
		mc.server_port = c->f->client_is_a ? c->f->key.pb : c->f->key.pa;
	sl_decide(s->policy, hs, &mc, &v);
	for (uint32_t i = 0; i < v.n; i++) {
		const struct sl_hit *h = &v.applied[i];
		const struct sl_rule *r = sl_policy_rule(s->policy, h->rule);
		struct sl_rule_ctr *ctr = &s->ctr[w->idx][h->rule];
		const void *val = value;
		uint32_t len = vlen;

		w->st.hits++;
		ctr->hits++;
		ctr->act[r->action]++;
		ctr->last_ns = w->now_ns;
		if (r->mode == SL_MODE_SHADOW)
			w->st.shadow[r->action]++;
		if (!r->record || recorded_before(c->f, r->id))
			continue;
		if (h->field == SL_FIELD_PAYLOAD && value != NULL) {
			/* excerpt: up to 96 bytes before the match end, 32 after */
			uint64_t end = h->to > chunk_off ? h->to - chunk_off : 0;
			uint64_t b;

			if (end > chunk_len)
				end = chunk_len;
			b = end > 96 ? end - 96 : 0;
			val = (const uint8_t *)value + b;
			len = (uint32_t)(RTE_MIN(end + 32, (uint64_t)chunk_len) - b);
		}
		if (emit_event(c, r, h->field, val, len) == 0)
			mark_recorded(c->f, r->id);
		else if (r->mode == SL_MODE_ENFORCE)
			overload_hit(c);  /* shadow rules never change traffic */
	}
	if (v.rule < 0)
		return;
	if (c->vrule < 0 || v.action > c->verdict ||
	    (v.action == c->verdict &&
	     sl_policy_rule(s->policy, (uint32_t)v.rule)->id <
		     sl_policy_rule(s->policy, (uint32_t)c->vrule)->id)) {
		c->verdict = v.action;
		c->vrule = v.rule;
		c->vfield = v.field;
		c->http_hit = v.field == SL_FIELD_HOST || v.field == SL_FIELD_URL;
	}
}

static uint16_t server_port_of(const struct sl_flow *f)
{
	return f->client_is_a ? f->key.pb : f->key.pa;
}

static inline bool verdict_final(const struct pkt_ctx *c)
{
	return c->verdict >= SL_ACT_DROP;
}

/* ---- stream inspection ---------------------------------------------------- */

static const struct sl_addr *content_origin(struct pkt_ctx *c, struct sl_addr *tmp)
{
	const struct sl_flow *f = c->f;
	bool from_a = (c->cdir == SL_DIR_C2S) == (f->client_is_a != 0);

	memset(tmp, 0, sizeof(*tmp));
	tmp->family = f->key.family;
	memcpy(tmp->b, from_a ? f->key.a : f->key.b, 16);
	return tmp;
}

/* ---- shadow candidate ------------------------------------------------------ */

/* The candidate sees the same content as the active policy while its own
 * state for the flow is still open; it never changes traffic and writes no
 * evidence, it only counts what it would have done. */
static inline bool cand_open(const struct pkt_ctx *c)
{
	return c->cs != NULL && c->f != NULL && c->f->cstate == SL_FLOW_INSPECT;
}

static void cand_sync(struct pkt_ctx *c)
{
	struct sl_flow *f = c->f;

	if (f->cgen == (c->cs ? c->cs->gen : 0))
		return;
	for (int d = 0; d < 2; d++) {
		if (f->cps[d] != NULL) {
			sl_pstream_close(f->cps[d]);
			f->cps[d] = NULL;
		}
	}
	f->cstate = SL_FLOW_INSPECT;
	f->cmark = 0;
	f->crule_id = 0;
	f->cgen = c->cs ? c->cs->gen : 0;
	if (c->cs)
		c->cs->diff[c->w->idx].flows++;
}

static void cand_hits(struct pkt_ctx *c, const struct sl_hitset *hs,
		      const struct sl_addr *origin)
{
	struct sl_snapshot *cs = c->cs;
	struct sl_worker *w = c->w;
	struct sl_match_ctx mc = {
		.proto = c->pkt->l4proto,
		.server_port = c->f ? server_port_of(c->f) : 0,
		.origin = origin,
		.now = w->now_s,
		.disabled = cs->disabled,
	};
	struct sl_verdict v;

	if (hs->n == 0)
		return;
	sl_decide(cs->policy, hs, &mc, &v);
	for (uint32_t i = 0; i < v.n; i++) {
		const struct sl_rule *r = sl_policy_rule(cs->policy, v.applied[i].rule);
		struct sl_rule_ctr *ctr = &cs->ctr[w->idx][v.applied[i].rule];

		ctr->hits++;
		ctr->act[r->action]++;
		ctr->last_ns = w->now_ns;
	}
	if (v.rule >= 0 && (c->cvrule < 0 || v.action > c->cverdict ||
	    (v.action == c->cverdict && sl_policy_rule(cs->policy, (uint32_t)v.rule)->id <
					  sl_policy_rule(cs->policy, (uint32_t)c->cvrule)->id))) {
		c->cverdict = v.action;
		c->cvrule = v.rule;
	}
}

/* Settle the candidate's verdict for this packet and classify the flow
 * against the active verdict. */
static void cand_settle(struct pkt_ctx *c)
{
	struct sl_flow *f = c->f;
	struct sl_snapshot *cs = c->cs;
	struct sl_diff_ctr *d;
	bool active_blocks;

	if (cs == NULL || f == NULL)
		return;
	d = &cs->diff[c->w->idx];
	active_blocks = f->state == SL_FLOW_BLOCKED || c->verdict >= SL_ACT_DROP;
	if (f->cstate == SL_FLOW_INSPECT && c->cvrule >= 0) {
		struct sl_rule_ctr *ctr = &cs->ctr[c->w->idx][c->cvrule];

		f->crule_id = sl_policy_rule(cs->policy, (uint32_t)c->cvrule)->id;
		if (c->cverdict == SL_ACT_ALLOW) {
			f->cstate = SL_FLOW_PASS;
		} else if (c->cverdict >= SL_ACT_DROP) {
			f->cstate = SL_FLOW_BLOCKED;
			ctr->flows_blocked++;
			if (!active_blocks) {
				ctr->newly_blocked++;
				d->newly_blocked++;
				f->cmark = SL_DIFF_NEW_BLOCK;
			}
		}
	}
	if (c->verdict >= SL_ACT_DROP && c->vrule >= 0 && f->cstate != SL_FLOW_BLOCKED &&
	    f->cmark == 0) {
		uint32_t id = sl_policy_rule(c->s->policy, (uint32_t)c->vrule)->id;
		uint32_t i;

		f->cmark = SL_DIFF_NEW_ALLOW;
		d->newly_allowed++;
		for (i = 0; i < d->n && d->id[i] != id; i++)
			;
		if (i == d->n && d->n < SL_DIFF_IDS)
			d->id[d->n++] = id;
		if (i < d->n)
			d->cnt[i]++;
		else
			d->other++;
	}
}

/* ---- stream inspection ---------------------------------------------------- */

/* Domain and URL selectors of one snapshot against a field. */
static void match_field(struct sl_snapshot *s, struct sl_worker *w,
			const struct sl_app_field *fl, struct sl_hitset *hs)
{
	sl_hitset_clear(hs);
	switch (fl->field) {
	case SL_FIELD_HOST:
	case SL_FIELD_SNI:
	case SL_FIELD_DNS:
		if (s->has_domain)
			sl_match_domain(s->policy, fl->value, fl->len, fl->field, hs);
		break;
	case SL_FIELD_URL:
		if (s->has_url)
			sl_match_url(s->policy, s->scratch[w->idx], fl->host, fl->host_len,
				     fl->target, fl->target_len, hs);
		break;
	default:
		break;
	}
}

/* A DNS name is judged per query, whether it is blocked or allowed: an
 * allowed name clears its own query, not the packet or the flow (a
 * resolver's socket or connection), or any name asked after it on the same
 * 5-tuple, or later in the same segment, would pass unjudged. Counted as
 * an allow verdict here, since the packet's verdict does not carry it.
 * hs holds the active policy's hits for fl; the candidate is judged alike. */
static void dns_hits(struct pkt_ctx *c, const struct sl_app_field *fl, struct sl_hitset *hs,
		     const struct sl_addr *org)
{
	uint8_t v0 = c->verdict, f0 = c->vfield;
	int32_t r0 = c->vrule;
	bool h0 = c->http_hit;

	handle_hits(c, hs, org, fl->value, fl->len, 0, 0);
	if (c->verdict == SL_ACT_ALLOW && c->vrule != r0) {
		c->w->st.act[SL_ACT_ALLOW]++;
		c->verdict = v0;
		c->vrule = r0;
		c->vfield = f0;
		c->http_hit = h0;
	}
	if (cand_open(c)) {
		uint8_t cv0 = c->cverdict;
		int32_t cr0 = c->cvrule;

		match_field(c->cs, c->w, fl, hs);
		cand_hits(c, hs, org);
		if (c->cverdict == SL_ACT_ALLOW && c->cvrule != cr0) {
			c->cverdict = cv0;
			c->cvrule = cr0;
		}
	}
}

static int on_field(void *ctx, const struct sl_app_field *fl)
{
	struct pkt_ctx *c = ctx;
	struct sl_hitset hs;
	struct sl_addr org;
	const char *val = fl->value;
	uint32_t vlen = fl->len;
	char url[SL_EVENT_VALUE_MAX];

	if (fl->field == SL_FIELD_DNS) {
		c->dns_msg = fl->msg;
		c->dns_len = fl->msg_len;
	}
	match_field(c->s, c->w, fl, &hs);
	/* what only a hit needs: the origin, and a URL's text for the record */
	if (hs.n || cand_open(c))
		content_origin(c, &org);
	if (hs.n && fl->field == SL_FIELD_URL) {
		vlen = (uint32_t)snprintf(url, sizeof(url), "%.*s%.*s", (int)fl->host_len,
					  fl->host, (int)fl->target_len, fl->target);
		if (vlen >= sizeof(url))
			vlen = sizeof(url) - 1;
		val = url;
	}
	if (fl->field == SL_FIELD_DNS) {
		dns_hits(c, fl, &hs, &org);
		return verdict_final(c);
	}
	handle_hits(c, &hs, &org, val, vlen, 0, 0);
	if (cand_open(c)) {
		match_field(c->cs, c->w, fl, &hs);
		cand_hits(c, &hs, &org);
	}
	return verdict_final(c) || c->verdict == SL_ACT_ALLOW;
}

static void pstream_close(struct sl_pstream **ps)
{
	if (*ps != NULL) {
		sl_pstream_close(*ps);
		*ps = NULL;
	}
}

static void stream_close(struct sl_flow *f, int d)
{
	pstream_close(&f->ps[d]);
	pstream_close(&f->cps[d]);
}

/* Scan a chunk with one snapshot's payload database on the stream *ps
 * (opened on demand). 0, or -ENOMEM when no stream state could be had. */
static int scan_stream(struct sl_snapshot *s, struct sl_worker *w, struct sl_pstream **ps,
		       const uint8_t *data, uint32_t len, struct sl_hitset *hs)
{
	sl_hitset_clear(hs);
	if (!s->has_payload)
		return 0;
	if (*ps == NULL && sl_pstream_open(s->policy, ps) < 0) {
		*ps = NULL;
		w->st.overload_stream++;
		return -ENOMEM;
	}
	sl_pstream_scan(s->policy, *ps, s->scratch[w->idx], data, len, hs);
	return 0;
}

/* Direction c->cdir has had its inspect_depth: no more scanning there. */
static void depth_reached(struct pkt_ctx *c)
{
	c->f->depth_done |= 1u << c->cdir;
	stream_close(c->f, c->cdir);
	c->w->st.depth_reached++;
}

static void scan_payload(struct pkt_ctx *c, const uint8_t *data, uint32_t len,
			 uint64_t off, int gap)
{
	struct sl_flow *f = c->f;
	struct sl_worker *w = c->w;
	int d = c->cdir;
	uint64_t depth = sl_dp.cfg.inspect_depth;
	struct sl_hitset hs;
	struct sl_addr org;

	if (f->depth_done & (1u << d))
		return;
	if (gap)
		stream_close(f, d);  /* nothing may match across a hole */
	if (off >= depth) {
		depth_reached(c);
		return;
	}
	if (off + len > depth)
		len = (uint32_t)(depth - off);
	if (scan_stream(c->s, w, &f->ps[d], data, len, &hs) < 0)
		overload_hit(c);
	if (hs.n || cand_open(c))
		content_origin(c, &org);   /* only what a hit needs */
	if (hs.n)
		handle_hits(c, &hs, &org, data, len, off, len);
	if (cand_open(c) && scan_stream(c->cs, w, &f->cps[d], data, len, &hs) == 0)
		cand_hits(c, &hs, &org);
	if (off + len >= depth)
		depth_reached(c);
}

/* Ciphertext passed by: a hole in the scanned stream, so the plaintext
 * after it (an alert, framing that broke) is scanned in a fresh stream,
 * never joined to the plaintext before it (whatever packet it comes in).
 * It counts towards the inspection depth like scanned bytes (the depth is
 * a stream offset). */
static void pass_encrypted(struct pkt_ctx *c, uint32_t len, uint64_t off)
{
	struct sl_flow *f = c->f;
	int d = c->cdir;

	stream_close(f, d);
	c->w->st.encrypted_bytes += len;
	if (!(f->depth_done & (1u << d)) && off + len >= sl_dp.cfg.inspect_depth)
		depth_reached(c);
}

/* Payload rules get the stream's plaintext: unless encrypted = "scan",
 * the TLS application data records of a flow that opened with a TLS
 * handshake on both sides are passed by (struct sl_tls_walk; see
 * pass_encrypted). The framing
 * is walked even without payload rules, so that a policy with them, loaded
 * later, finds it in step. */
static void payload_runs(struct pkt_ctx *c, const uint8_t *data, uint32_t len,
			 uint64_t off, int gap)
{
	struct sl_tls_walk *t = &c->f->tls[c->cdir];
	bool scan = c->s->has_payload || (cand_open(c) && c->cs->has_payload);

	if (!sl_dp.cfg.scan_encrypted && !(t->flags & SL_TLS_WALK_OFF)) {
		sl_tls_walk_begin(t, off, gap);
		while (len > 0 && !(t->flags & SL_TLS_WALK_OFF)) {
			int enc;
			uint32_t n = sl_tls_walk_run(t, &c->f->tls[!c->cdir], data, len,
						     c->cdir == SL_DIR_C2S, &enc);

			if (enc)
				pass_encrypted(c, n, off);
			else if (scan)
				scan_payload(c, data, n, off, gap);
			data += n;
			len -= n;
			off += n;
			gap = 0;
			if (verdict_final(c) || c->verdict == SL_ACT_ALLOW)
				return;
		}
	}
	if (len > 0 && scan)
		scan_payload(c, data, len, off, gap);
}

static inline bool wants_fields(const struct sl_snapshot *s)
{
	return s != NULL && (s->has_domain || s->has_url);
}

/* In-order stream bytes of direction c->cdir. */
static int on_stream(void *ctx, const uint8_t *data, uint32_t len, uint64_t off, int gap)
{
	struct pkt_ctx *c = ctx;
	struct sl_flow *f = c->f;

	if (f->state != SL_FLOW_INSPECT)
		return 1;
	if (c->cdir == SL_DIR_C2S && f->app.proto != SL_APP_OTHER &&
	    (wants_fields(c->s) || (cand_open(c) && wants_fields(c->cs)))) {
		uint16_t sport = f->client_is_a ? f->key.pb : f->key.pa;
		int rc = sl_app_feed(&f->app, &c->w->app_pool, data, len, gap, sport,
				     on_field, c);

		if (rc == -ENOBUFS) {
			c->w->st.overload_app++;
			overload_hit(c);
		}
		if (verdict_final(c) || c->verdict == SL_ACT_ALLOW)
			return 1;
	}
	payload_runs(c, data, len, off, gap);
	return verdict_final(c) || c->verdict == SL_ACT_ALLOW;
}

/* ---- injection ---------------------------------------------------------- */

/* A tx buffer goes out (full, or at the end of a poll); what the port
 * does not take is freed. */
static __rte_noinline void tx_send(struct sl_worker *w, uint16_t port, struct sl_tx *t)
{
	uint16_t sent = rte_eth_tx_burst(port, w->idx, t->m, t->n);

	for (uint16_t i = sent; i < t->n; i++) {
		rte_pktmbuf_free(t->m[i]);
		w->st.tx_fail++;
	}
	t->n = 0;
}

static inline void tx_enqueue(struct sl_worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct sl_tx *t = &w->tx[port];

	if (SL_UNLIKELY(w->no_tx)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (SL_UNLIKELY(t->n == SL_TX_BURST))
		tx_send(w, port, t);
	t->m[t->n++] = m;
}

void sl_worker_tx_flush(struct sl_worker *w)
{
	for (unsigned i = 0; i < sl_dp.cfg.nports; i++) {
		uint16_t port = sl_dp.cfg.port[i];
		struct sl_tx *t = &w->tx[port];

		if (t->n != 0)
			tx_send(w, port, t);
	}
}

static uint16_t peer_of(uint16_t port)
{
	for (unsigned i = 0; i < sl_dp.cfg.nports; i++)
		if (sl_dp.cfg.port[i] == port)
			return sl_dp.cfg.peer[i];
	return port;
}

/* Send a crafted frame toward the receiver of the packet (fwd) or back to
 * its sender. */
static void inject(struct pkt_ctx *c, const uint8_t *frame, int len, int dir)
{
	struct sl_worker *w = c->w;
	struct rte_mbuf *m;
	uint16_t port = dir == SL_CRAFT_FORWARD ? peer_of(c->in_port) : c->in_port;
	char *p;

	if (len <= 0) {
		w->st.inject_fail++;
		return;
	}
	m = rte_pktmbuf_alloc(w->pool);
	if (m == NULL) {
		w->st.inject_fail++;
		return;
	}
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		w->st.inject_fail++;
		return;
	}
	memcpy(p, frame, (size_t)len);
	tx_enqueue(w, port, m);
	w->st.injected++;
}

static void inject_rst(struct pkt_ctx *c, int dir)
{
	const struct sl_pkt *p = c->pkt;
	uint32_t seq, ack;
	uint8_t flags = SL_TCP_RST | SL_TCP_ACK;
	uint32_t seglen = p->payload_len + ((p->tcp_flags & SL_TCP_SYN) ? 1 : 0) +
			  ((p->tcp_flags & SL_TCP_FIN) ? 1 : 0);
	int n;

	if (dir == SL_CRAFT_FORWARD) {
		/* the receiver expects the dropped packet's sequence number */
		seq = p->seq;
		ack = p->ack;
		if (!(p->tcp_flags & SL_TCP_ACK))
			flags = SL_TCP_RST;
	} else {
		/* the sender expects what it acknowledged */
		if (p->tcp_flags & SL_TCP_ACK) {
			seq = p->ack;
		} else {
			seq = 0;
		}
		ack = p->seq + seglen;
	}
	n = sl_craft_tcp(c->w->craftbuf, sizeof(c->w->craftbuf), c->frame, p, dir,
			 flags, seq, ack, NULL, 0);
	inject(c, c->w->craftbuf, n, dir);
}

static void inject_block_page(struct pkt_ctx *c)
{
	const struct sl_pkt *p = c->pkt;
	const struct sl_rule *r = sl_policy_rule(c->s->policy, (uint32_t)c->vrule);
	char page[4096];
	int plen = sl_block_page_render(page, sizeof(page), sl_dp.cfg.block_page, r, c->s->meta);
	int n;

	if (plen < 0) {
		inject_rst(c, SL_CRAFT_REVERSE);
		return;
	}
	n = sl_craft_tcp(c->w->craftbuf, sizeof(c->w->craftbuf), c->frame, p,
			 SL_CRAFT_REVERSE, SL_TCP_PSH | SL_TCP_ACK | SL_TCP_FIN,
			 p->ack, p->seq + p->payload_len, page, (uint32_t)plen);
	inject(c, c->w->craftbuf, n, SL_CRAFT_REVERSE);
}

static void inject_dns_tcp(struct pkt_ctx *c)
{
	const struct sl_pkt *p = c->pkt;
	int n = sl_craft_dns_nxdomain_tcp(c->w->craftbuf, sizeof(c->w->craftbuf), c->frame, p,
					  c->dns_msg, c->dns_len, p->ack,
					  p->seq + p->payload_len);

	inject(c, c->w->craftbuf, n, SL_CRAFT_REVERSE);
}

/* Carry out the packet's verdict. Returns V_FORWARD or V_DROP. */
static int apply_verdict(struct pkt_ctx *c)
{
	struct sl_worker *w = c->w;
	struct sl_flow *f = c->f;
	const struct sl_pkt *p = c->pkt;
	bool tcp = p->l4proto == SL_PROTO_TCP;
	bool dns_udp = c->vfield == SL_FIELD_DNS && p->l4proto == SL_PROTO_UDP;
	uint8_t act = c->verdict;

	cand_settle(c);
	if (c->vrule < 0 || act == SL_ACT_NONE) {
		if (c->overload_drop) {
			w->st.drop_overload++;
			return V_DROP;
		}
		return V_FORWARD;
	}
	w->st.act[act]++;
	if (act == SL_ACT_LOG)
		return c->overload_drop ? (w->st.drop_overload++, V_DROP) : V_FORWARD;
	if (act == SL_ACT_ALLOW) {
		if (f != NULL) {
			f->state = SL_FLOW_PASS;
			f->ovl_blocked = 0;
			f->action = act;
			f->block_rule_id = sl_policy_rule(c->s->policy, (uint32_t)c->vrule)->id;
		}
		return V_FORWARD;
	}
	/* drop, reset or block-page: stop the transmission */
	w->st.drop_policy++;
	if (dns_udp) {
		/* per query: the flow (a resolver's socket) stays inspected, the
		 * answers to this query are dropped */
		if (f != NULL && p->payload_len >= 2) {
			const uint8_t *q = c->frame + p->payload_off;

			f->dns_blocked = 1;
			f->dns_blocked_id = (uint16_t)(q[0] << 8 | q[1]);
		}
		if (act >= SL_ACT_RESET) {
			int n = sl_craft_dns_nxdomain(w->craftbuf, sizeof(w->craftbuf),
						      c->frame, p);

			inject(c, w->craftbuf, n, SL_CRAFT_REVERSE);
		}
		return V_DROP;
	}
	if (f != NULL) {
		f->state = SL_FLOW_BLOCKED;
		f->ovl_blocked = 0;
		f->action = act;
		f->block_rule_id = sl_policy_rule(c->s->policy, (uint32_t)c->vrule)->id;
		f->closing = 1;
	}
	if (!tcp || act == SL_ACT_DROP)
		return V_DROP;
	if (c->vfield == SL_FIELD_DNS && c->dns_msg != NULL && c->dir == SL_DIR_C2S) {
		inject_dns_tcp(c);
		inject_rst(c, SL_CRAFT_FORWARD);
	} else if (act == SL_ACT_BLOCK_PAGE && c->http_hit && c->dir == SL_DIR_C2S) {
		inject_block_page(c);
		inject_rst(c, SL_CRAFT_FORWARD);
	} else {
		inject_rst(c, SL_CRAFT_REVERSE);
		inject_rst(c, SL_CRAFT_FORWARD);
	}
	return V_DROP;
}

/* The usual packet: no rule matched, no candidate to settle, no
 * overload drop; everything else through apply_verdict. */
static inline int verdict_of(struct pkt_ctx *c)
{
	if (SL_LIKELY(c->vrule < 0 && c->cs == NULL && !c->overload_drop))
		return V_FORWARD;
	return apply_verdict(c);
}

/* ---- flows -------------------------------------------------------------- */

/* Decide who is the client of a new flow from its first packet. */
static void learn_roles(struct sl_flow *f, const struct sl_pkt *p, int from_a)
{
	int sender_is_client;

	if (p->l4proto == SL_PROTO_TCP && (p->tcp_flags & SL_TCP_SYN)) {
		sender_is_client = !(p->tcp_flags & SL_TCP_ACK);
		f->role_by_syn = 1;
	} else if (p->sport != p->dport) {
		/* the lower port is the service, unless both are ephemeral-looking
		 * and the sender uses a well-known one */
		sender_is_client = p->dport < p->sport;
	} else {
		sender_is_client = 1;
	}
	f->client_is_a = sender_is_client ? (uint8_t)from_a : (uint8_t)!from_a;
}

static void flow_reset_inspection(struct sl_worker *w, struct sl_flow *f)
{
	for (int d = 0; d < 2; d++) {
		stream_close(f, d);
		sl_tcp_half_release(&f->half[d], &w->seg_pool);
		sl_tcp_half_init(&f->half[d]);
	}
	sl_app_half_release(&f->app, &w->app_pool);
	sl_app_half_init(&f->app);
	sl_tls_walk_init(&f->tls[0]);
	sl_tls_walk_init(&f->tls[1]);
	f->depth_done = 0;
}

/* End a flow: deliver what reassembly still holds (skipping gaps), then
 * free its state. May produce events; there is no packet to act upon. */
static void end_flow(struct sl_worker *w, struct sl_snapshot *s, struct sl_flow *f)
{
	if (f->state == SL_FLOW_INSPECT && f->key.proto == SL_PROTO_TCP && s != NULL &&
	    f->gen == s->gen) {
		struct sl_pkt pkt;
		struct pkt_ctx c = {
			.w = w, .s = s, .f = f, .pkt = &pkt, .vrule = -1,
			.frame = NULL, .frame_len = 0,
		};

		memset(&pkt, 0, sizeof(pkt));
		pkt.l4proto = f->key.proto;
		pkt.ipver = f->key.family;
		for (int d = 0; d < 2; d++) {
			c.cdir = c.dir = (uint8_t)d;
			sl_tcp_half_flush(&f->half[d], &w->seg_pool, on_stream, &c);
		}
	}
	for (int d = 0; d < 2; d++) {
		stream_close(f, d);
		sl_tcp_half_release(&f->half[d], &w->seg_pool);
	}
	sl_app_half_release(&f->app, &w->app_pool);
	sl_flow_release(w, f);
}

static uint64_t flow_timeout_tsc(const struct sl_flow *f)
{
	const struct sl_config *cf = &sl_dp.cfg;
	uint32_t t;

	if (f->key.proto == SL_PROTO_TCP)
		t = f->closing ? cf->tcp_closed_timeout : cf->tcp_timeout;
	else if (f->key.proto == SL_PROTO_UDP)
		t = cf->udp_timeout;
	else
		t = cf->other_timeout;
	return (uint64_t)t * sl_dp.tsc_hz;
}

static void expire_flows(struct sl_worker *w, struct sl_snapshot *s, unsigned max)
{
	for (unsigned i = 0; i < max; i++) {
		struct sl_flow *f = sl_flow_lru_head(w);

		if (f == NULL || w->now_tsc - f->last_tsc < flow_timeout_tsc(f))
			return;
		end_flow(w, s, f);
		w->st.flows_expired++;
	}
}

void sl_worker_end_flows(struct sl_worker *w, struct sl_snapshot *s)
{
	struct sl_flow *f;

	while ((f = sl_flow_lru_head(w)) != NULL)
		end_flow(w, s, f);
}

/* A TCP/UDP packet's flow key and its hash, computed by the pipeline of
 * sl_worker_process ahead of the packet (or on the spot). */
struct fkey {
	struct sl_flow_key k;
	hash_sig_t sig;
	int from_a;
};

static void fkey_make(const struct sl_pkt *p, struct fkey *fk)
{
	sl_flow_key_make(p, &fk->k, &fk->from_a);
	fk->sig = sl_flow_hash(&fk->k);
}

static struct sl_flow *get_flow(struct pkt_ctx *c, const struct fkey *fk, int *created)
{
	struct sl_worker *w = c->w;
	struct sl_flow *f;

	f = sl_flow_lookup_or_create(w, &fk->k, fk->sig, created);
	if (f == NULL) {
		/* full: evict the least recently used flow if it is idle enough */
		struct sl_flow *old = sl_flow_lru_head(w);
		uint64_t min_idle = (uint64_t)sl_dp.cfg.evict_min_idle_ms * sl_dp.tsc_hz / 1000;

		if (old != NULL && w->now_tsc - old->last_tsc >= min_idle) {
			end_flow(w, c->s, old);
			w->st.flows_evicted++;
			f = sl_flow_lookup_or_create(w, &fk->k, fk->sig, created);
		}
	}
	return f;
}

/* Packets without a flow (not TCP/UDP): ip selectors against either end. */
static int process_flowless(struct pkt_ctx *c)
{
	struct sl_hitset hs;

	if (!c->s->has_ip)
		return V_FORWARD;
	sl_hitset_clear(&hs);
	sl_snapshot_ip_lookup(c->s, &c->pkt->dst, &hs);
	sl_snapshot_ip_lookup(c->s, &c->pkt->src, &hs);
	if (hs.n) {
		char a[64];

		sl_addr_str(&c->pkt->dst, a, sizeof(a));
		handle_hits(c, &hs, &c->pkt->src, a, (uint32_t)strlen(a), 0, 0);
	}
	return apply_verdict(c);
}

static void new_flow_checks(struct pkt_ctx *c)
{
	struct sl_flow *f = c->f;
	struct sl_hitset hs;
	struct sl_addr server, org;
	char a[64];

	if (!c->s->has_ip && !(cand_open(c) && c->cs->has_ip))
		return;
	memset(&server, 0, sizeof(server));
	server.family = f->key.family;
	memcpy(server.b, f->client_is_a ? f->key.b : f->key.a, 16);
	sl_hitset_clear(&hs);
	sl_snapshot_ip_lookup(c->s, &server, &hs);
	org = c->pkt->src;
	if (hs.n) {
		sl_addr_str(&server, a, sizeof(a));
		handle_hits(c, &hs, &org, a, (uint32_t)strlen(a), 0, 0);
	}
	if (cand_open(c) && c->cs->has_ip) {
		sl_hitset_clear(&hs);
		sl_snapshot_ip_lookup(c->cs, &server, &hs);
		cand_hits(c, &hs, &org);
	}
}

/* A blocked or cleared flow from an older snapshot: keep its verdict
 * unless the rule that set it is gone (or switched off). */
static void flow_new_generation(struct pkt_ctx *c)
{
	struct sl_flow *f = c->f;
	struct sl_snapshot *s = c->s;

	for (int d = 0; d < 2; d++)
		stream_close(f, d);
	if (f->state == SL_FLOW_BLOCKED && f->block_rule_id != 0) {
		int idx = sl_policy_find_rule(s->policy, f->block_rule_id);

		if (idx < 0 || (s->disabled[(unsigned)idx / 64] >> ((unsigned)idx % 64) & 1)) {
			f->state = SL_FLOW_INSPECT;
			f->closing = 0;
			c->w->st.resumed++;
		}
	}
	f->gen = s->gen;
}

static int process_udp(struct pkt_ctx *c)
{
	struct sl_flow *f = c->f;
	struct sl_snapshot *s = c->s;
	const struct sl_pkt *p = c->pkt;
	const uint8_t *pl = c->frame + p->payload_off;
	struct sl_hitset hs;
	struct sl_addr org;
	int d = c->dir;

	c->cdir = c->dir;
	if (f->dns_blocked && d == SL_DIR_S2C && p->payload_len >= 2 &&
	    (uint16_t)(pl[0] << 8 | pl[1]) == f->dns_blocked_id) {
		/* the answer to a query we stopped (it got past us some other way) */
		c->w->st.drop_policy++;
		return V_DROP;
	}
	content_origin(c, &org);
	if (d == SL_DIR_C2S && server_port_of(f) == 53 &&
	    (s->has_domain || (cand_open(c) && c->cs->has_domain))) {
		struct sl_dns_query q;

		if (sl_dns_parse_query(pl, p->payload_len, &q) == 0) {
			struct sl_app_field fl = {
				.field = SL_FIELD_DNS, .value = q.name, .len = q.name_len,
			};

			match_field(s, c->w, &fl, &hs);
			dns_hits(c, &fl, &hs, &org);
		}
	}
	if (p->payload_len && !verdict_final(c) && !(f->depth_done & (1u << d))) {
		if (s->has_payload) {
			sl_hitset_clear(&hs);
			sl_match_payload(s->policy, s->scratch[c->w->idx], pl, p->payload_len, &hs);
			handle_hits(c, &hs, &org, pl, p->payload_len, 0, p->payload_len);
		}
		if (cand_open(c) && c->cs->has_payload) {
			sl_hitset_clear(&hs);
			sl_match_payload(c->cs->policy, c->cs->scratch[c->w->idx], pl,
					 p->payload_len, &hs);
			cand_hits(c, &hs, &org);
		}
		/* UDP depth: bytes seen per direction */
		if (f->half[d].delivered + p->payload_len >= sl_dp.cfg.inspect_depth)
			f->depth_done |= 1u << d;
		f->half[d].delivered += p->payload_len;
	}
	return verdict_of(c);
}

static int process_tcp(struct pkt_ctx *c)
{
	struct sl_worker *w = c->w;
	struct sl_flow *f = c->f;
	const struct sl_pkt *p = c->pkt;
	int d = c->dir;
	int rc;

	if ((p->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN && f->closing &&
	    f->state != SL_FLOW_BLOCKED) {
		/* a new connection on a closed 5-tuple */
		flow_reset_inspection(w, f);
		f->closing = 0;
		f->nrec = 0;
	}
	if (p->tcp_flags & SL_TCP_SYN)
		sl_tcp_half_syn(&f->half[d], p->seq);
	if (p->payload_len || (p->tcp_flags & (SL_TCP_FIN | SL_TCP_RST))) {
		c->cdir = (uint8_t)d;
		rc = sl_tcp_half_segment(&f->half[d], &w->seg_pool, p->seq,
					 c->frame + p->payload_off, p->payload_len,
					 p->tcp_flags, sl_dp.cfg.ooo_bytes_per_flow,
					 on_stream, c);
		if (rc == -ENOBUFS) {
			w->st.overload_ooo++;
			overload_hit(c);
		} else if (SL_UNLIKELY(rc == -EBADMSG)) {
			/* other bytes for bytes held out of order: the receiver
			 * might keep these, which were not inspected; dropped
			 * whatever `malformed` says (it keeps the first copy) */
			w->st.tcp_overlap_conflicts++;
			w->st.drop_malformed++;
			return V_DROP;
		}
	}
	if ((p->tcp_flags & SL_TCP_ACK) && f->state == SL_FLOW_INSPECT && !verdict_final(c) &&
	    !sl_seq_leq(p->ack, f->half[!d].next_seq)) {
		/* the peer's data before this ACK that we never saw is lost to us
		 * (the test above is sl_tcp_half_ack's own first one, without
		 * the call for the usual ACK of what we have) */
		c->cdir = (uint8_t)!d;
		sl_tcp_half_ack(&f->half[!d], &w->seg_pool, p->ack, on_stream, c);
	}
	if (p->tcp_flags & (SL_TCP_FIN | SL_TCP_RST))
		f->closing = 1;
	return verdict_of(c);
}

/* Inspect one decoded frame and decide what happens to mbuf m. fk: the
 * flow key of a TCP/UDP frame, or NULL to compute it here. */
static int process_frame(struct sl_worker *w, struct sl_snapshot *s, struct rte_mbuf *m,
			 const uint8_t *frame, uint32_t len, const struct sl_pkt *p,
			 const struct fkey *fk, uint16_t port)
{
	struct pkt_ctx c;
	struct fkey here;
	int from_a, created;
	struct sl_flow *f;

	pkt_ctx_init(&c, w, s, m, frame, len, p, port);
	if (p->l4proto != SL_PROTO_TCP && p->l4proto != SL_PROTO_UDP)
		return process_flowless(&c);
	if (fk == NULL) {
		fkey_make(p, &here);
		fk = &here;
	}
	from_a = fk->from_a;
	f = get_flow(&c, fk, &created);
	if (f == NULL) {
		w->st.overload_flow_table++;
		if (sl_dp.cfg.overload == SL_FAIL_CLOSED) {
			w->st.drop_overload++;
			return V_DROP;
		}
		return process_flowless(&c);
	}
	c.f = f;
	if (created) {
		learn_roles(f, p, from_a);
		f->gen = s->gen;
		sl_tcp_half_init(&f->half[0]);
		sl_tcp_half_init(&f->half[1]);
		sl_app_half_init(&f->app);
		sl_tls_walk_init(&f->tls[0]);
		sl_tls_walk_init(&f->tls[1]);
	} else if (!f->role_by_syn && p->l4proto == SL_PROTO_TCP &&
		   (p->tcp_flags & SL_TCP_SYN) && f->half[0].delivered == 0 &&
		   f->half[1].delivered == 0) {
		learn_roles(f, p, from_a);
	}
	sl_flow_touch(w, f);
	c.dir = (from_a == (int)f->client_is_a) ? SL_DIR_C2S : SL_DIR_S2C;
	f->pkts[c.dir]++;
	f->bytes[c.dir] += len;
	if (f->gen != s->gen)
		flow_new_generation(&c);
	if (c.cs != NULL || f->cgen != 0)
		cand_sync(&c);
	if (created)
		new_flow_checks(&c);
	switch (f->state) {
	case SL_FLOW_BLOCKED:
		if (!created) {
			if (f->ovl_blocked)
				w->st.drop_overload++;
			else
				w->st.drop_policy++;
			return V_DROP;
		}
		return apply_verdict(&c);
	case SL_FLOW_PASS:
		w->st.fastpath++;
		return created ? apply_verdict(&c) : V_FORWARD;
	default:
		break;
	}
	if (verdict_final(&c) || c.verdict == SL_ACT_ALLOW)
		return apply_verdict(&c);
	if (p->l4proto == SL_PROTO_UDP)
		return process_udp(&c);
	return process_tcp(&c);
}

/* Did rte_ip_frag give the mbuf up (no table room, or a datagram it cannot
 * reassemble: overlaps, more than RTE_LIBRTE_IP_FRAG_MAX_FRAG fragments)?
 * It puts such mbufs on the death row. */
static bool frag_given_up(const struct sl_worker *w, uint32_t row_before,
			  const struct rte_mbuf *cp)
{
	for (uint32_t i = row_before; i < w->death_row.cnt; i++)
		if (w->death_row.row[i] == cp)
			return true;
	return false;
}

/* IP fragments: a copy goes to rte_ip_frag; the original is forwarded as it
 * came unless the datagram it completes is to be dropped. Datagrams it
 * gives up are reassembled apart (frag_big.c); fragments that cannot make
 * one datagram are dropped. A fragment the reassembly cannot take (mbufs,
 * table or slots exhausted) is an overload: forwarded uninspected
 * (fail-open) or dropped. */
static int process_fragment(struct sl_worker *w, struct sl_snapshot *s, struct rte_mbuf *m,
			    const struct sl_pkt *p, uint16_t port)
{
	struct rte_mbuf *cp, *mo;
	struct sl_bigfrag *b;
	struct sl_pkt rp;
	uint32_t n, row;
	int rc, whole;

	w->st.frags++;
	/* rte_ip_frag never checks the death row's room: one call adds at
	 * most a stale entry's fragments and this one */
	if (w->death_row.cnt + RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1 > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN)
		rte_ip_frag_free_death_row(&w->death_row, 0);
	/* the copy ends with the datagram: frame padding is not data (the
	 * receiver ignores it; reassembled in, it would hide what it splits) */
	cp = rte_pktmbuf_copy(m, w->frag_pool, 0, p->ip_end);
	if (cp == NULL)
		goto overload;
	cp->l2_len = p->l3_off;
	if (p->ipver == 6 && p->frag_hdr_off != p->l3_off + sizeof(struct rte_ipv6_hdr)) {
		/* rte_ip_frag (and frag_big.c) need the fragment header right
		 * after the fixed header: forward uninspected */
		rte_pktmbuf_free(cp);
		goto overload;
	}
	/* a datagram rte_ip_frag gave up earlier: its slot takes the rest */
	b = w->nbig != 0 ? sl_bigfrag_find(w, cp) : NULL;
	if (b != NULL) {
		rc = sl_bigfrag_add(w, b, cp);
		if (rc < 0)
			goto refused;
		if (rc == 0)
			return V_FORWARD;  /* held for reassembly */
		n = sl_bigfrag_linearise(w, b);
		goto whole;
	}
	row = w->death_row.cnt;
	if (p->ipver == 4) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(cp, struct rte_ipv4_hdr *,
								   p->l3_off);

		cp->l3_len = (ip->version_ihl & 0x0f) * 4;
		mo = rte_ipv4_frag_reassemble_packet(w->frag_tbl, &w->death_row, cp,
						     w->now_tsc, ip);
	} else {
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(cp, struct rte_ipv6_hdr *,
								   p->l3_off);
		struct rte_ipv6_fragment_ext *fh = rte_pktmbuf_mtod_offset(cp,
			struct rte_ipv6_fragment_ext *, p->frag_hdr_off);

		cp->l3_len = sizeof(*ip) + sizeof(*fh);
		mo = rte_ipv6_frag_reassemble_packet(w->frag_tbl, &w->death_row, cp,
						     w->now_tsc, ip, fh);
	}
	if (mo == NULL) {
		if (!frag_given_up(w, row, cp))
			return V_FORWARD;  /* held for reassembly */
		/* more fragments than it holds, or one twice: reassembled
		 * apart (frag_big.c) unless its table was full or they conflict */
		b = sl_bigfrag_adopt(w, cp, row, &whole);
		if (b == NULL)
			goto overload;
		if (b->refused)
			goto refused;
		if (!whole)
			return V_FORWARD;
		n = sl_bigfrag_linearise(w, b);
		goto whole;
	}
	n = rte_pktmbuf_pkt_len(mo);
	if (n > sizeof(w->linbuf)) {
		rte_pktmbuf_free(mo);
		goto overload;
	}
	{
		/* copies into linbuf when segmented, else points into the mbuf */
		const void *d = rte_pktmbuf_read(mo, 0, n, w->linbuf);

		if (d != w->linbuf)
			memcpy(w->linbuf, d, n);
	}
	rte_pktmbuf_free(mo);
whole:
	if (n == 0)
		goto overload;
	w->st.frag_reassembled++;
	rc = sl_decode(w->linbuf, n, &rp);
	if (rc != SL_DEC_OK && rc != SL_DEC_NOT_IP) {
		/* the datagram is malformed, not the fragment */
		w->st.decode_err[rc]++;
		if (sl_dp.cfg.malformed_drop) {
			w->st.drop_malformed++;
			return V_DROP;
		}
	}
	if (rc != SL_DEC_OK || rp.is_frag)
		return V_FORWARD;
	return process_frame(w, s, m, w->linbuf, n, &rp, NULL, port);
refused:
	/* fragments that cannot make one datagram (conflicting overlaps):
	 * receivers discard them, and how one would resolve them is not
	 * known here; dropped whatever `malformed` says */
	w->st.drop_malformed++;
	return V_DROP;
overload:
	w->st.overload_frag++;
	if (sl_dp.cfg.overload == SL_FAIL_CLOSED) {
		w->st.drop_overload++;
		return V_DROP;
	}
	return V_FORWARD;
}

/* The worker is behind on this queue (see rx_behind): no inspection.
 * Verdicts already taken still hold (blocked flows stay dropped, cleared
 * flows pass); the rest is forwarded uninspected (fail-open) or dropped
 * (fail-closed), and counted. fk: the flow key of a whole TCP/UDP
 * datagram, else NULL. */
static int shed_frame(struct sl_worker *w, const struct fkey *fk)
{
	if (fk != NULL) {
		int32_t pos = rte_hash_lookup_with_hash(w->flow_hash, &fk->k, fk->sig);

		if (pos >= 0 && w->flows[pos].state == SL_FLOW_BLOCKED) {
			if (w->flows[pos].ovl_blocked)
				w->st.drop_overload++;
			else
				w->st.drop_policy++;
			return V_DROP;
		}
		if (pos >= 0 && w->flows[pos].state == SL_FLOW_PASS) {
			w->st.fastpath++;
			return V_FORWARD;
		}
	}
	w->st.overload_rx++;
	if (sl_dp.cfg.overload == SL_FAIL_CLOSED) {
		w->st.drop_overload++;
		return V_DROP;
	}
	return V_FORWARD;
}

/* The pipeline of sl_worker_process: while packet i is inspected, packet
 * i + 2's flow entry (named by its hint slot), i + 4's hint slot (it is
 * decoded and keyed), i + 8's frame and i + 12's mbuf header are on their
 * way into the cache. Each of these is a miss that would otherwise stall
 * the packet it belongs to; ahead, they overlap with inspection. Only the
 * decode and the key are computed ahead (functions of the frame alone);
 * every lookup and decision is taken in order, at the packet's turn. */
#define AHEAD_MBUF  12
#define AHEAD_FRAME 8
#define AHEAD_KEY   4
#define AHEAD_ENTRY 2
#define AHEAD_SLOTS 8           /* power of 2 > AHEAD_KEY */

struct ahead {
	struct sl_pkt p;
	struct fkey fk;
	int rc;                     /* sl_decode's, or AHEAD_LATER */
	bool keyed;                 /* fk is set: whole TCP/UDP datagram */
};

/* multi-segment frames are linearised into w->linbuf, one at a time: at
 * their turn */
#define AHEAD_LATER (-1)

static inline void prefetch_frame(struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);

	/* Ethernet, VLANs, IPv6 and TCP headers can end in the second line */
	rte_prefetch0(d);
	rte_prefetch0(d + RTE_CACHE_LINE_SIZE);
}

/* a->p as decoded (a->rc): its flow key if it is a whole TCP/UDP datagram */
static inline void key_decoded(struct ahead *a)
{
	a->keyed = a->rc == SL_DEC_OK && !a->p.is_frag &&
		   (a->p.l4proto == SL_PROTO_TCP || a->p.l4proto == SL_PROTO_UDP);
	if (a->keyed)
		fkey_make(&a->p, &a->fk);
}

static void decode_ahead(struct sl_worker *w, struct rte_mbuf *m, struct ahead *a)
{
	if (SL_UNLIKELY(m->nb_segs != 1)) {
		a->rc = AHEAD_LATER;
		a->keyed = false;
		return;
	}
	a->rc = sl_decode(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_pkt_len(m), &a->p);
	key_decoded(a);
	if (a->keyed)
		sl_flow_hint_prefetch(w, a->fk.sig);
}

/* Packet m (len bytes) at its turn: a->p decoded ahead (or not yet).
 * Sends or frees it; returns whether it was forwarded (the caller counts). */
static bool process_one(struct sl_worker *w, struct sl_snapshot *s, struct rte_mbuf *m,
			uint32_t len, struct ahead *a, uint16_t port, uint16_t out)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct fkey *fk;
	int rc, v;

	if (SL_UNLIKELY(a->rc == AHEAD_LATER)) {
		if (len > sizeof(w->linbuf))
			len = sizeof(w->linbuf);
		frame = rte_pktmbuf_read(m, 0, len, w->linbuf);
		a->rc = sl_decode(frame, len, &a->p);
		key_decoded(a);
	}
	rc = a->rc;
	fk = a->keyed ? &a->fk : NULL;
	if (SL_UNLIKELY(rc != SL_DEC_OK)) {
		if (rc == SL_DEC_NOT_IP) {
			w->st.non_ip++;
			v = V_FORWARD;
		} else {
			w->st.decode_err[rc]++;
			v = sl_dp.cfg.malformed_drop ? V_DROP : V_FORWARD;
			if (v == V_DROP)
				w->st.drop_malformed++;
		}
	} else if (SL_UNLIKELY(w->shed)) {
		v = shed_frame(w, fk);
	} else if (SL_UNLIKELY(a->p.is_frag)) {
		v = process_fragment(w, s, m, &a->p, port);
	} else {
		v = process_frame(w, s, m, frame, len, &a->p, fk, port);
	}
	if (v == V_FORWARD) {
		tx_enqueue(w, out, m);
		return true;
	}
	rte_pktmbuf_free(m);
	return false;
}

void sl_worker_process(struct sl_worker *w, struct sl_snapshot *s,
		       struct rte_mbuf **pkts, uint16_t n, uint16_t port)
{
	struct ahead ah[AHEAD_SLOTS];
	uint16_t out = peer_of(port);
	uint64_t rx_bytes = 0, tx_bytes = 0;
	uint16_t i, fwd = 0;

	/* fill the pipeline (the first packets wait for their misses) */
	for (i = 0; i < n && i < AHEAD_MBUF; i++)
		rte_prefetch0(pkts[i]);
	for (i = 0; i < n && i < AHEAD_FRAME; i++)
		prefetch_frame(pkts[i]);
	for (i = 0; i < n && i < AHEAD_KEY; i++)
		decode_ahead(w, pkts[i], &ah[i]);
	for (i = 0; i < n && i < AHEAD_ENTRY; i++)
		if (ah[i].keyed)
			sl_flow_prefetch(w, ah[i].fk.sig);
	for (i = 0; i < n; i++) {
		struct ahead *next = &ah[(i + AHEAD_ENTRY) % AHEAD_SLOTS];

		if (i + AHEAD_MBUF < n)
			rte_prefetch0(pkts[i + AHEAD_MBUF]);
		if (i + AHEAD_FRAME < n)
			prefetch_frame(pkts[i + AHEAD_FRAME]);
		if (i + AHEAD_KEY < n)
			decode_ahead(w, pkts[i + AHEAD_KEY], &ah[(i + AHEAD_KEY) % AHEAD_SLOTS]);
		if (i + AHEAD_ENTRY < n && next->keyed)
			sl_flow_prefetch(w, next->fk.sig);
		{
			uint32_t len = rte_pktmbuf_pkt_len(pkts[i]);

			rx_bytes += len;
			if (process_one(w, s, pkts[i], len, &ah[i % AHEAD_SLOTS], port, out)) {
				fwd++;
				tx_bytes += len;
			}
		}
	}
	/* counted per burst, not per packet */
	w->st.rx_pkts += n;
	w->st.rx_bytes += rx_bytes;
	w->port_rx[port] += n;
	w->st.tx_pkts += fwd;
	w->st.tx_bytes += tx_bytes;
	w->port_tx[out] += fwd;
	w->port_drop[port] += n - fwd;
}

/* ---- requests from main ---------------------------------------------------- */

#define FLOWS_SCAN_MAX 200000  /* bound the time a `flows` request takes */

static void describe_flow(const struct sl_worker *w, const struct sl_flow *f,
			  struct sl_flow_info *fi)
{
	memset(fi, 0, sizeof(*fi));
	fi->id = f->id;
	fi->proto = f->key.proto;
	fi->family = f->key.family;
	fi->state = f->state;
	fi->action = f->action;
	fi->cstate = f->cstate;
	fi->app = f->app.proto;
	fi->rule_id = f->block_rule_id;
	fi->crule_id = f->crule_id;
	memcpy(fi->client, f->client_is_a ? f->key.a : f->key.b, 16);
	memcpy(fi->server, f->client_is_a ? f->key.b : f->key.a, 16);
	fi->client_port = f->client_is_a ? f->key.pa : f->key.pb;
	fi->server_port = f->client_is_a ? f->key.pb : f->key.pa;
	memcpy(fi->pkts, f->pkts, sizeof(fi->pkts));
	memcpy(fi->bytes, f->bytes, sizeof(fi->bytes));
	fi->first_ns = f->first_ns;
	fi->idle_ms = (w->now_tsc - f->last_tsc) * 1000 / sl_dp.tsc_hz;
}

static void worker_exec(struct sl_worker *w, struct sl_snapshot *s, struct sl_wcmd *c)
{
	switch (c->op) {
	case SL_WOP_FLUSH:
		w->now_ns = sl_now_ns();
		sl_worker_end_flows(w, s);
		sl_worker_tx_flush(w);
		break;
	case SL_WOP_FLOWS: {
		/* most recently active first */
		uint32_t i = w->lru_tail, scanned = 0;

		c->n = 0;
		c->total = 0;
		while (i != UINT32_MAX && scanned++ < FLOWS_SCAN_MAX) {
			const struct sl_flow *f = &w->flows[i];

			i = f->lru_prev;
			if (c->blocked_only && f->state != SL_FLOW_BLOCKED)
				continue;
			c->total++;
			if (c->n < c->limit)
				describe_flow(w, f, &c->out[c->n++]);
		}
		break;
	}
	default:
		break;
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
}

int sl_worker_call(struct sl_worker *w, struct sl_wcmd *c, unsigned timeout_ms)
{
	uint64_t deadline = rte_rdtsc() + (uint64_t)timeout_ms * sl_dp.tsc_hz / 1000;

	c->done = 0;
	if (rte_ring_sp_enqueue(w->cmd_ring, c) < 0)
		return -ENOBUFS;
	while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE)) {
		if (rte_rdtsc() > deadline)
			return -ETIMEDOUT;  /* the worker still owns c: caller must not free it */
		if (sl_events_drain(1024) == 0)
			rte_delay_us_sleep(50);
	}
	return 0;
}

/* After a burst of n from port index i: is the worker behind on that
 * queue, with at least rx_mark packets still waiting? 0, or why (enum
 * sl_behind_why, counted per burst). The device tells when it reports
 * descriptor status (most NICs, probed at setup; asked only when the
 * burst came back full); otherwise it is estimated from the bursts' sizes
 * and times (sluice/backlog.h), with rate windows of at least tsc_ms TSC
 * cycles. A replayed capture is never behind. */
static int rx_behind(struct sl_worker *w, unsigned i, uint16_t port, uint16_t n,
		     uint64_t tsc_ms)
{
	uint32_t mark = sl_dp.rx_mark[port];
	int why;

	if (mark == 0 || sl_dp.offline)
		return SL_BEHIND_NO;
	if (!sl_dp.rx_desc_status[port])
		why = sl_backlog_behind(&w->rx_est[i], w->now_tsc, n, SL_BURST, mark, tsc_ms);
	else
		why = n == SL_BURST && rte_eth_rx_descriptor_status(port, w->idx,
			(uint16_t)(mark - 1)) == RTE_ETH_RX_DESC_DONE ? SL_BEHIND_DEVICE : SL_BEHIND_NO;
	if (SL_UNLIKELY(why != SL_BEHIND_NO))
		w->st.rx_behind[why]++;
	return why;
}

/* A policy without rules and no candidate: the burst goes to the peer
 * port as it came, counted but not decoded, no flow kept. Called at the
 * start of a poll's port loop only, when every tx buffer is empty, so
 * order holds against packets of earlier bursts. No mbuf is read: the
 * packets are counted here, their bytes by the ports (dev_ibytes and
 * dev_obytes in the control server's stats). Reading each length was a
 * quarter of a bypass poll's time (bench/NOTES.md). */
static void forward_burst(struct sl_worker *w, struct rte_mbuf **pkts, uint16_t n,
			  uint16_t port)
{
	uint16_t out = peer_of(port);
	uint16_t sent;

	w->st.rx_pkts += n;
	w->st.bypass += n;
	w->port_rx[port] += n;
	w->st.tx_pkts += n;
	w->port_tx[out] += n;
	if (SL_UNLIKELY(w->no_tx)) {
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	sent = rte_eth_tx_burst(out, w->idx, pkts, n);
	if (SL_UNLIKELY(sent < n)) {
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		w->st.tx_fail += n - sent;
	}
}

/* bypass polls between two reads of the TSC (see sl_worker_main) */
#define TSC_EVERY 16

/* Read the TSC; the time since the last read (*mark) counts busy if
 * `busy`. Returns the TSC, now the mark. */
static inline uint64_t tsc_mark(struct sl_worker *w, uint64_t *mark, bool busy)
{
	uint64_t t = rte_rdtsc();

	if (busy)
		w->st.busy_tsc += t - *mark;
	*mark = t;
	return t;
}

int sl_worker_main(void *arg)
{
	struct sl_worker *w = arg;
	struct rte_mbuf *pkts[SL_BURST];
	const struct sl_config *cf = &sl_dp.cfg;

	unsigned got = 0;           /* packets the previous poll received */
	unsigned unread = 0;        /* polls since the TSC was last read ... */
	uint64_t t_mark = rte_rdtsc(); /* ... which it then said */
	const uint64_t tsc_ms = sl_dp.tsc_hz / 1000;

	RTE_PER_LCORE(sl_worker_idx) = w->idx;
	rte_rcu_qsbr_thread_register(sl_dp.qsbr, w->idx);
	rte_rcu_qsbr_thread_online(sl_dp.qsbr, w->idx);
	while (!__atomic_load_n(&sl_dp.stop, __ATOMIC_RELAXED)) {
		struct sl_snapshot *s = __atomic_load_n(&sl_dp.snap, __ATOMIC_ACQUIRE);

		w->cand = __atomic_load_n(&sl_dp.cand, __ATOMIC_ACQUIRE);
		/* nothing to enforce or to try: forward whole bursts (flows
		 * seen now are picked up mid-stream once a policy has rules) */
		bool bypass = s->nrules == 0 && w->cand == NULL && !sl_dp.offline;
		bool flows = sl_flow_lru_head(w) != NULL;

		/* Busy time: a poll that received packets counts busy until
		 * the next one starts. The TSC (~12 ns a read on a VM) is read
		 * at the start of every poll that inspects or follows an idle
		 * one; in a run of bypass polls that all receive, every
		 * TSC_EVERY polls, and the run's first idle poll closes it
		 * (below) before sleeping. */
		if (got)
			w->st.bursts++;
		if (!bypass || flows || got == 0 || ++unread >= TSC_EVERY) {
			/* a bypass without flows does not use now_tsc */
			w->now_tsc = tsc_mark(w, &t_mark, got != 0);
			unread = 0;
		}
		got = 0;
		if (!bypass || flows) {
			/* wall clock for events and flows: none in a bypass */
			w->now_ns = sl_now_ns();   /* vDSO, ~20 ns per poll */
			w->now_s = (int64_t)(w->now_ns / 1000000000ull);
		}
		for (unsigned i = 0; i < cf->nports; i++) {
			uint16_t port = cf->port[i];
			uint16_t want = SL_BURST;
			uint16_t n;

			if (SL_UNLIKELY(sl_dp.offline)) {
				/* a replayed capture: take exactly the packets asked for */
				uint64_t left = sl_dp.offline_expect - w->st.rx_pkts;

				want = (uint16_t)RTE_MIN(left, (uint64_t)SL_BURST);
				if (want == 0)
					continue;
			}
			n = rte_eth_rx_burst(port, w->idx, pkts, want);
			if (bypass) {
				if (n != 0)
					forward_burst(w, pkts, n, port);
				got += n;
				continue;
			}
			w->shed = rx_behind(w, i, port, n, tsc_ms) != SL_BEHIND_NO;
			if (n == 0)
				continue;
			got += n;
			sl_worker_process(w, s, pkts, n, port);
		}
		/* a bypass poll buffers nothing (forward_burst transmits at
		 * once) and every poll ends flushed */
		if (!bypass)
			sl_worker_tx_flush(w);
		if (flows)
			expire_flows(w, s, 8);
		if (w->death_row.cnt != 0)
			rte_ip_frag_free_death_row(&w->death_row, 3);
		if (SL_UNLIKELY(w->nbig != 0))
			sl_bigfrag_expire(w, w->now_tsc);
		if (SL_UNLIKELY(rte_ring_count(w->cmd_ring) != 0)) {
			void *req;

			if (rte_ring_sc_dequeue(w->cmd_ring, &req) == 0)
				worker_exec(w, s, req);
		}
		rte_rcu_qsbr_quiescent(sl_dp.qsbr, w->idx);
		if (got == 0 && unread != 0) {
			/* the end of a run of bypass polls (this idle one's
			 * receive attempts count with it) */
			tsc_mark(w, &t_mark, true);
			unread = 0;
		}
		if (got == 0 && cf->idle_sleep_us)
			rte_delay_us_sleep(cf->idle_sleep_us);
	}
	rte_rcu_qsbr_thread_offline(sl_dp.qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(sl_dp.qsbr, w->idx);
	return 0;
}
