/* Figure 1, the matcher: the same packets (pre-filled mbufs) go through
 *  - raw Hyperscan: hs_scan_stream per flow direction with the policy's
 *    stream database for TCP payload and hs_scan with its block database
 *    for UDP payload, in wire order, streams opened on first use and
 *    closed at the end of the pass (the limit),
 *  - the floor, for reference: raw Hyperscan behind what a stateful path
 *    must do in software. The same scans, but each frame is decoded
 *    (sl_decode) and its stream found by its 5-tuple in an rte_hash, as a
 *    path that is not handed the flow index must; no tracking, no
 *    verdicts, no tx.
 *    It must find the same matches as raw Hyperscan,
 *  - sluice's inspection path without I/O: sl_worker_process on bursts of
 *    32 (decode, flows, reassembly, field extraction, domain/URL/IP
 *    lookups, payload scan, verdicts) and the tx flush, on the main lcore
 *    as worker 0, transmitting into a ring emptied between passes; every
 *    payload byte scanned, as raw Hyperscan does (encrypted = "scan"),
 *  - the same as deployed (encrypted = "skip": TLS application data passed
 *    by): less work than raw Hyperscan, reported apart, not a goal.
 *  - the floor without its lookup: each frame decoded and keyed, then
 *    scanned in the stream of the flow index the bench hands over, as raw
 *    Hyperscan is: what decoding alone costs,
 * Passes alternate (raw, floor, decode floor, sluice, skip, raw, ...) after one warm-up pass of each;
 * with --io, raw Hyperscan's passes only (see fig_dataplane's cycles ratio);
 * between passes every flow is ended (untimed), so each pass meets the
 * traffic as new. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_per_lcore.h>

#include "../policy/internal.h"
#include "bench.h"
#include "setup.h"
#include "sluice.h"

struct raw {
	const struct sl_policy *p;
	hs_scratch_t *scratch;
	hs_stream_t **st;         /* [flow * 2 + dir] */
	uint32_t nst;
	uint64_t matches;
	/* the lookup pass's: 5-tuple -> position, streams [pos * 2 + dir] */
	struct rte_hash *h;
	hs_stream_t **lst;
	uint64_t fmatches;
	uint32_t nlst;
	/* the decode pass's */
	uint64_t dmatches;
	uint64_t keysum;
};

static int on_raw_match(unsigned int id, unsigned long long from, unsigned long long to,
			unsigned int flags, void *ctx)
{
	uint64_t *n = ctx;

	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(*n)++;
	return 0;
}

/* Scan one payload as both reference passes do: TCP in its flow
 * direction's stream *s (opened on first use), UDP as a block. Inline:
 * the raw pass is the limit, and must not pay a call per packet. */
static __rte_always_inline int scan_one(const struct raw *r, int proto, hs_stream_t **s,
					 const char *pl, uint32_t n, uint64_t *matches)
{
	const struct sl_policy *p = r->p;

	if (proto == SL_PROTO_TCP && p->hs_pstream) {
		if (*s == NULL && hs_open_stream(p->hs_pstream, 0, s) != HS_SUCCESS)
			return -ENOMEM;
		if (hs_scan_stream(*s, pl, n, 0, r->scratch, on_raw_match, matches) != HS_SUCCESS)
			return -EINVAL;
	} else if (proto == SL_PROTO_UDP && p->hs_pblock) {
		if (hs_scan(p->hs_pblock, pl, n, 0, r->scratch, on_raw_match, matches) != HS_SUCCESS)
			return -EINVAL;
	}
	return 0;
}

/* The end of a pass: every stream closed (timed, as its scans' end). */
static void close_streams(hs_stream_t **st, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (st[i]) {
			hs_close_stream(st[i], NULL, NULL, NULL);
			st[i] = NULL;
		}
	}
}

/* One pass of raw Hyperscan over the payloads. */
static int raw_pass(struct raw *r, const struct bt_traffic *t, const struct bt_mbufs *mb)
{
	for (uint32_t i = 0; i < t->n; i++) {
		const struct bt_pkt *k = &t->pkt[i];
		int rc;

		if (k->pl_len == 0)
			continue;
		rc = scan_one(r, k->proto, &r->st[(size_t)k->flow * 2 + k->dir],
			      rte_pktmbuf_mtod_offset(mb->m[i], const char *, k->pl_off), k->pl_len,
			      &r->matches);
		if (rc < 0)
			return rc;
	}
	close_streams(r->st, r->nst);
	return 0;
}

/* The floors' prefetching, the usual DPDK way: the next burst's mbuf
 * headers and this burst's frames (n of them from index i). */
static inline void prefetch_burst(const struct bt_mbufs *mb, uint32_t i, uint32_t n)
{
	for (uint32_t j = i + SL_BURST; j < i + 2 * SL_BURST && j < mb->n; j++)
		rte_prefetch0(mb->m[j]);
	for (uint32_t j = 0; j < n; j++)
		rte_prefetch0(rte_pktmbuf_mtod(mb->m[i + j], void *));
}

/* One pass of the floor: raw Hyperscan behind decode and a flow lookup,
 * done the usual DPDK way: bursts of 32, mbuf headers and frames
 * prefetched ahead, the burst's keys looked up with rte_hash_lookup_bulk
 * (which prefetches buckets and keys), then each payload scanned. */
static int lookup_pass(struct raw *r, const struct bt_mbufs *mb)
{
	for (uint32_t i = 0; i < mb->n; i += SL_BURST) {
		uint32_t n = RTE_MIN((uint32_t)SL_BURST, mb->n - i), nk = 0;
		struct sl_pkt pk[SL_BURST];
		struct sl_flow_key k[SL_BURST];
		const void *kp[SL_BURST];
		int32_t pos[SL_BURST];
		uint8_t idx[SL_BURST], dir[SL_BURST];

		prefetch_burst(mb, i, n);
		for (uint32_t j = 0; j < n; j++) {
			const struct rte_mbuf *m = mb->m[i + j];
			int from_a;

			if (sl_decode(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				      &pk[j]) != SL_DEC_OK || pk[j].is_frag ||
			    (pk[j].l4proto != SL_PROTO_TCP && pk[j].l4proto != SL_PROTO_UDP))
				continue;
			sl_flow_key_make(&pk[j], &k[nk], &from_a);
			kp[nk] = &k[nk];
			dir[nk] = (uint8_t)!from_a;
			idx[nk++] = (uint8_t)j;
		}
		if (nk && rte_hash_lookup_bulk(r->h, kp, nk, pos) < 0)
			return -EINVAL;
		for (uint32_t q = 0; q < nk; q++) {
			const struct sl_pkt *x = &pk[idx[q]];
			int rc;

			if (pos[q] < 0)
				pos[q] = rte_hash_add_key(r->h, kp[q]);
			if (pos[q] < 0 || (uint32_t)pos[q] * 2 + 1 >= r->nlst)
				return -ENOSPC;
			if (x->payload_len == 0)
				continue;
			rc = scan_one(r, x->l4proto, &r->lst[(size_t)pos[q] * 2 + dir[q]],
				      rte_pktmbuf_mtod_offset(mb->m[i + idx[q]], const char *,
							      x->payload_off),
				      x->payload_len, &r->fmatches);
			if (rc < 0)
				return rc;
		}
	}
	close_streams(r->lst, r->nlst);
	return 0;
}

/* The floor without its lookup: each frame decoded and keyed as in
 * lookup_pass (same bursts and prefetches), then scanned in the stream of
 * the flow index the bench hands over, as raw Hyperscan is: what decoding
 * alone costs. Its stream array is raw Hyperscan's own (closed after each
 * pass). */
static int decode_pass(struct raw *r, const struct bt_traffic *t, const struct bt_mbufs *mb)
{
	uint64_t keys = 0;

	for (uint32_t i = 0; i < mb->n; i += SL_BURST) {
		uint32_t n = RTE_MIN((uint32_t)SL_BURST, mb->n - i);
		struct sl_pkt pk;
		struct sl_flow_key k;

		prefetch_burst(mb, i, n);
		for (uint32_t j = 0; j < n; j++) {
			const struct rte_mbuf *m = mb->m[i + j];
			const struct bt_pkt *b = &t->pkt[i + j];
			int from_a, rc;

			if (sl_decode(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				      &pk) != SL_DEC_OK || pk.is_frag ||
			    (pk.l4proto != SL_PROTO_TCP && pk.l4proto != SL_PROTO_UDP))
				continue;
			sl_flow_key_make(&pk, &k, &from_a);
			keys += k.pa;   /* keep the key */
			if (pk.payload_len == 0)
				continue;
			rc = scan_one(r, pk.l4proto, &r->st[(size_t)b->flow * 2 + b->dir],
				      rte_pktmbuf_mtod_offset(m, const char *, pk.payload_off),
				      pk.payload_len, &r->dmatches);
			if (rc < 0)
				return rc;
		}
	}
	close_streams(r->st, r->nst);
	r->keysum += keys;
	return 0;
}

/* Between floor passes (untimed, like end_flows): forget the flows. */
static void lookup_end(struct raw *r)
{
	rte_hash_reset(r->h);
}

static int lookup_open(struct raw *r, uint32_t nflows)
{
	struct rte_hash_parameters hp = {
		.name = "bt_floor",
		.entries = nflows * 2 + 1024,
		.key_len = sizeof(struct sl_flow_key),
		.hash_func = rte_hash_crc,
		.hash_func_init_val = SL_FLOW_HASH_INIT,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	r->h = rte_hash_create(&hp);
	r->nlst = 2 * (nflows * 2 + 1024);
	r->lst = calloc(r->nlst, sizeof(*r->lst));
	return r->h != NULL && r->lst != NULL ? 0 : -ENOMEM;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Where the inspection path transmits: a ring port whose tx ring holds a
 * whole pass, emptied between passes (untimed). So the path is the real
 * one (tx buffering, rte_eth_tx_burst), minus receiving. */
struct sink {
	uint16_t port;
	struct rte_ring *tx;
	void **tmp;
	uint32_t cap;
};

static int sink_open(struct sink *k, uint32_t frames)
{
	struct rte_ring *rx;

	k->cap = rte_align32pow2(2 * frames + 1024);
	rx = rte_ring_create("bt_mrx", 64, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	k->tx = rte_ring_create("bt_mtx", k->cap, (int)rte_socket_id(),
				RING_F_SP_ENQ | RING_F_SC_DEQ);
	k->tmp = malloc(4096 * sizeof(void *));
	if (rx == NULL || k->tx == NULL || k->tmp == NULL)
		return -ENOMEM;
	k->port = (uint16_t)rte_eth_from_rings("bt_m", &rx, 1, &k->tx, 1, rte_socket_id());
	if ((int16_t)k->port < 0 || k->port >= SL_MAX_PORTS)
		return -ENODEV;
	sl_dp.cfg.nports = 1;
	sl_dp.cfg.port[0] = k->port;
	sl_dp.cfg.peer[0] = k->port;
	return sl_port_init(k->port);
}

/* Let go of what was transmitted: ours are held by the caller; frames the
 * path made (RST, block pages) go back to the worker's pool. */
static void sink_drain(struct sink *k, const struct sl_worker *w)
{
	unsigned n;

	while ((n = rte_ring_sc_dequeue_burst(k->tx, k->tmp, 4096, NULL)) > 0)
		for (unsigned i = 0; i < n; i++)
			if (((struct rte_mbuf *)k->tmp[i])->pool == w->pool)
				rte_pktmbuf_free(k->tmp[i]);
}

/* One pass of the inspection path over every frame. */
static void sluice_pass(struct sl_worker *w, struct sl_snapshot *s, const struct bt_mbufs *mb,
			uint16_t port)
{
	for (uint32_t i = 0; i < mb->n; i += SL_BURST) {
		uint16_t n = (uint16_t)RTE_MIN((uint32_t)SL_BURST, mb->n - i);

		/* what sl_worker_main does per poll */
		w->now_tsc = rte_rdtsc();
		w->now_ns = sl_now_ns();
		w->now_s = (int64_t)(w->now_ns / 1000000000ull);
		sl_worker_process(w, s, &mb->m[i], n, port);
		sl_worker_tx_flush(w);
	}
}

/* Between passes: every flow ends (untimed), so each pass meets the
 * traffic as new, as the raw side does (streams opened on first use); a
 * capture's mid-stream flows would otherwise be retransmissions. */
static void end_flows(struct sl_worker *w, struct sl_snapshot *s)
{
	w->now_ns = sl_now_ns();
	sl_worker_end_flows(w, s);
	bt_events_drain();
}

/* The owner keeps one reference on every mbuf: the path's free of a dropped
 * frame only drops the second. */
static void hold(const struct bt_mbufs *mb)
{
	for (uint32_t i = 0; i < mb->n; i++)
		rte_mbuf_refcnt_set(mb->m[i], 2);
}

/* One timed pass of sluice's path from a cold cache (wall and thread cpu
 * seconds), then its output drained and its flows ended, untimed. */
static void timed_sluice_pass(struct sl_worker *w, struct sl_snapshot *s,
			      const struct bt_mbufs *mb, struct sink *k, uint64_t hz,
			      double *wall_s, double *cpu_s)
{
	double c0;
	uint64_t a;

	hold(mb);
	c0 = thread_cpu_s();
	a = rte_rdtsc();
	sluice_pass(w, s, mb, k->port);
	*wall_s = (double)(rte_rdtsc() - a) / (double)hz;
	*cpu_s = thread_cpu_s() - c0;
	sink_drain(k, w);
	end_flows(w, s);
}

static double median_of(const double *v, unsigned n)
{
	struct bt_stat st;

	bt_stat_of(v, n, &st);
	return st.med;
}

/* res[key] = median, min, max of v[0..n); returns the median */
static double add_stat(json_object *res, const char *key, const double *v, unsigned n)
{
	struct bt_stat st;

	bt_stat_of(v, n, &st);
	json_object_object_add(res, key, bt_stat_json(&st));
	return st.med;
}

/* res[key] = the statistics of num[k] / den[k] (tmp: n doubles) */
static void add_ratio(json_object *res, const char *key, const double *num, const double *den,
		      double *tmp, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		tmp[k] = num[k] / den[k];
	add_stat(res, key, tmp, n);
}

/* res[key] = cycles per packet of a pass that took secs */
static void add_cycles(json_object *res, const char *key, double secs, uint64_t hz, uint32_t pkts)
{
	json_object_object_add(res, key, json_object_new_double(secs * (double)hz / pkts));
}

int bt_child_matcher(const struct bt_child_opts *o, json_object *res)
{
	struct bt_traffic t;
	struct bt_mbufs mb;
	struct raw r = { 0 };
	struct sink sink = { 0 };
	char lcores[256];
	double *rs, *ss, *ratio, *rc_s, *sc_s, *fs, *fc_s, *ds, *dc_s, *es, *ec_s;
	double med;
	struct sl_worker *w;
	struct sl_snapshot *s;
	unsigned reps = o->reps ? o->reps : 5;
	uint64_t hz, hits0, fhits0, dhits0;
	double prof_until;
	int rc;

	rc = bt_traffic_for(o, &t);
	if (rc < 0)
		return rc;
	bt_lcores(o->cpus ? o->cpus : "1,0", 1, lcores, sizeof(lcores));
	bt_stream_factor = 6;   /* raw and floor streams come from the same pool */
	rc = bt_dp_start(o, t.nflows, 1, lcores, bt_dp_mem_mb(&t, t.nflows, 1) + 256, -1);
	if (rc < 0)
		return rc;
	rc = bt_mbufs_fill(&t, "m", &mb);
	if (rc < 0)
		return rc;
	hz = rte_get_tsc_hz();
	w = sl_dp.w[0];
	rc = sink_open(&sink, t.n);
	if (rc < 0)
		return rc;
	RTE_PER_LCORE(sl_worker_idx) = w->idx;
	s = sl_dp.snap;
	r.p = s->policy;
	r.nst = t.nflows * 2;
	r.st = calloc(r.nst ? r.nst : 1, sizeof(*r.st));
	if (r.st == NULL)
		return -ENOMEM;
	if (r.p->hs_pstream && hs_alloc_scratch(r.p->hs_pstream, &r.scratch) != HS_SUCCESS)
		return -ENOMEM;
	if (r.p->hs_pblock && hs_alloc_scratch(r.p->hs_pblock, &r.scratch) != HS_SUCCESS)
		return -ENOMEM;
	rc = lookup_open(&r, t.nflows);
	if (rc < 0)
		return rc;

	/* profiling aid: loop one side only, for perf/callgrind */
	if (o->secs > 0 && o->io_only) {
		prof_until = bt_now() + o->secs;
		while (bt_now() < prof_until)
			if (raw_pass(&r, &t, &mb) < 0)
				return -EINVAL;
		return 0;
	}
	if (o->secs > 0) {
		prof_until = bt_now() + o->secs;
		while (bt_now() < prof_until) {
			hold(&mb);
			sluice_pass(w, s, &mb, sink.port);
			sink_drain(&sink, w);
			end_flows(w, s);
		}
		return 0;
	}

	rc_s = calloc(reps, sizeof(double));
	sc_s = calloc(reps, sizeof(double));
	fs = calloc(reps, sizeof(double));
	fc_s = calloc(reps, sizeof(double));
	ds = calloc(reps, sizeof(double));
	dc_s = calloc(reps, sizeof(double));
	if (rc_s == NULL || sc_s == NULL || fs == NULL || fc_s == NULL || ds == NULL ||
	    dc_s == NULL)
		return -ENOMEM;
	rs = calloc(reps, sizeof(double));
	ss = calloc(reps, sizeof(double));
	ratio = calloc(reps, sizeof(double));
	es = calloc(reps, sizeof(double));
	ec_s = calloc(reps, sizeof(double));
	if (rs == NULL || ss == NULL || ratio == NULL || es == NULL || ec_s == NULL)
		return -ENOMEM;
	/* warm-up: creates the flows, opens the pools' pages */
	if (raw_pass(&r, &t, &mb) < 0)
		return -EINVAL;
	if (o->io_only) {
		/* raw Hyperscan alone: the dataplane figure measures it next
		 * to its own run, for a cycles ratio of one time window */
		for (unsigned k = 0; k < reps; k++) {
			uint64_t a;
			double c0;

			hold(&mb);
			c0 = thread_cpu_s();
			a = rte_rdtsc();
			if (raw_pass(&r, &t, &mb) < 0)
				return -EINVAL;
			rs[k] = (double)(rte_rdtsc() - a) / (double)hz;
			rc_s[k] = thread_cpu_s() - c0;
		}
		bt_add_traffic_json(res, &t);
		json_object_object_add(res, "passes", json_object_new_int((int)reps));
		med = add_stat(res, "raw_s", rs, reps);
		json_object_object_add(res, "raw_gbps", json_object_new_double(
			(double)t.payload_bytes * 8 / med / 1e9));
		add_cycles(res, "raw_cycles_per_pkt", med, hz, t.n);
		add_cycles(res, "raw_cpu_cycles_per_pkt", median_of(rc_s, reps), hz, t.n);
		json_object_object_add(res, "tsc_hz", json_object_new_int64((int64_t)hz));
		goto out;
	}
	if (lookup_pass(&r, &mb) < 0)
		return -EINVAL;
	lookup_end(&r);
	if (decode_pass(&r, &t, &mb) < 0)
		return -EINVAL;
	hold(&mb);
	sluice_pass(w, s, &mb, sink.port);
	sink_drain(&sink, w);
	end_flows(w, s);
	hits0 = r.matches;
	fhits0 = r.fmatches;
	dhits0 = r.dmatches;
	{
		struct sl_lcore_stats z;

		sl_stats_sum(&z);
		(void)z;
	}
	memset(&w->st, 0, sizeof(w->st));
	for (unsigned k = 0; k < reps; k++) {
		uint64_t a, b;
		double c0;

		hold(&mb);   /* same cache state for both sides */
		c0 = thread_cpu_s();
		a = rte_rdtsc();
		if (raw_pass(&r, &t, &mb) < 0)
			return -EINVAL;
		b = rte_rdtsc();
		rs[k] = (double)(b - a) / (double)hz;
		rc_s[k] = thread_cpu_s() - c0;
		c0 = thread_cpu_s();
		a = rte_rdtsc();
		if (lookup_pass(&r, &mb) < 0)
			return -EINVAL;
		b = rte_rdtsc();
		fs[k] = (double)(b - a) / (double)hz;
		fc_s[k] = thread_cpu_s() - c0;
		lookup_end(&r);
		c0 = thread_cpu_s();
		a = rte_rdtsc();
		if (decode_pass(&r, &t, &mb) < 0)
			return -EINVAL;
		b = rte_rdtsc();
		es[k] = (double)(b - a) / (double)hz;
		ec_s[k] = thread_cpu_s() - c0;
		timed_sluice_pass(w, s, &mb, &sink, hz, &ss[k], &sc_s[k]);
		/* sluice as deployed: TLS application data passed by
		 * (encrypted = "skip"), so it scans fewer bytes than raw */
		sl_dp.cfg.scan_encrypted = false;
		timed_sluice_pass(w, s, &mb, &sink, hz, &ds[k], &dc_s[k]);
		sl_dp.cfg.scan_encrypted = true;
	}
	if (r.fmatches - fhits0 != r.matches - hits0 || r.dmatches - dhits0 != r.matches - hits0) {
		/* the floors must scan the same bytes as raw Hyperscan */
		fprintf(stderr, "sluice-bench: floor passes found %" PRIu64 " and %" PRIu64
			" matches, raw %" PRIu64 "\n", r.fmatches - fhits0, r.dmatches - dhits0,
			r.matches - hits0);
		return -EPROTO;
	}
	bt_add_traffic_json(res, &t);
	json_object_object_add(res, "passes", json_object_new_int((int)reps));
	med = add_stat(res, "raw_s", rs, reps);
	json_object_object_add(res, "raw_gbps",
			       json_object_new_double((double)t.payload_bytes * 8 / med / 1e9));
	add_cycles(res, "raw_cycles_per_pkt", med, hz, t.n);
	med = add_stat(res, "sluice_s", ss, reps);
	json_object_object_add(res, "sluice_gbps",
			       json_object_new_double((double)t.payload_bytes * 8 / med / 1e9));
	json_object_object_add(res, "sluice_mpps", json_object_new_double((double)t.n / med / 1e6));
	add_cycles(res, "sluice_cycles_per_pkt", med, hz, t.n);
	add_ratio(res, "ratio", rs, ss, ratio, reps);
	/* the same on thread cpu time: what preemption by other tasks does
	 * not inflate (cache sharing still does) */
	add_ratio(res, "ratio_cpu_time", rc_s, sc_s, ratio, reps);
	add_cycles(res, "sluice_cpu_cycles_per_pkt", median_of(sc_s, reps), hz, t.n);
	add_cycles(res, "raw_cpu_cycles_per_pkt", median_of(rc_s, reps), hz, t.n);
	/* the floor: raw Hyperscan behind decode and a flow lookup */
	add_cycles(res, "floor_cycles_per_pkt", add_stat(res, "floor_s", fs, reps), hz, t.n);
	add_cycles(res, "floor_cpu_cycles_per_pkt", median_of(fc_s, reps), hz, t.n);
	add_ratio(res, "floor_ratio", rs, fs, ratio, reps);
	add_ratio(res, "floor_ratio_cpu_time", rc_s, fc_s, ratio, reps);
	/* the floor without its lookup: decoding and keying alone */
	add_cycles(res, "decode_floor_cycles_per_pkt", add_stat(res, "decode_floor_s", es, reps),
		   hz, t.n);
	add_ratio(res, "decode_floor_ratio", rs, es, ratio, reps);
	add_ratio(res, "decode_floor_ratio_cpu_time", rc_s, ec_s, ratio, reps);
	/* sluice with its default encrypted = "skip": not the same bytes */
	add_cycles(res, "skip_cycles_per_pkt", add_stat(res, "skip_s", ds, reps), hz, t.n);
	add_cycles(res, "skip_cpu_cycles_per_pkt", median_of(dc_s, reps), hz, t.n);
	add_ratio(res, "skip_ratio", rs, ds, ratio, reps);
	add_ratio(res, "skip_ratio_cpu_time", rc_s, dc_s, ratio, reps);
	json_object_object_add(res, "encrypted_share",
			       json_object_new_double(t.payload_bytes ?
				       (double)w->st.encrypted_bytes / reps / (double)t.payload_bytes : 0));
	/* sluice against the floor: what tracking and deciding cost beyond it */
	add_ratio(res, "sluice_vs_floor", fs, ss, ratio, reps);
	json_object_object_add(res, "raw_matches_per_pass",
			       json_object_new_int64((int64_t)((r.matches - hits0) / reps)));
	json_object_object_add(res, "floor_matches_per_pass",
			       json_object_new_int64((int64_t)((r.fmatches - fhits0) / reps)));
	json_object_object_add(res, "counters", bt_dp_counters());
	json_object_object_add(res, "overloads", json_object_new_int64((int64_t)bt_dp_overloads()));
	json_object_object_add(res, "tsc_hz", json_object_new_int64((int64_t)hz));
out:
	free(rs);
	free(ss);
	free(rc_s);
	free(sc_s);
	free(fs);
	free(fc_s);
	free(ds);
	free(dc_s);
	free(es);
	free(ec_s);
	free(r.lst);
	rte_hash_free(r.h);
	free(ratio);
	free(r.st);
	hs_free_scratch(r.scratch);
	bt_mbufs_free(&mb);
	bt_dp_stop();
	bt_traffic_free(&t);
	return 0;
}
