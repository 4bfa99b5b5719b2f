/* Internal header of the sluice dataplane: configuration, the published
 * policy snapshot, flows, per-lcore worker context and counters. */
#ifndef SLUICE_DATAPLANE_H
#define SLUICE_DATAPLANE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_atomic.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ip_frag.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_per_lcore.h>
#include <rte_ring.h>
#include <time.h>

#include "sluice/app.h"
#include "sluice/backlog.h"
#include "sluice/decode.h"
#include "sluice/event.h"
#include "sluice/policy.h"
#include "sluice/reasm.h"

#define SL_MAX_PORTS 8
#define SL_MAX_WORKERS 32
#define SL_BURST 32
#define SL_TX_BURST 32
#define SL_INJECT_MAX 4         /* packets one verdict may inject */
#define SL_FLOW_RECORDED 4      /* rules remembered per flow for record dedup */

/* ---- configuration (config.c) -------------------------------------- */

enum sl_fail_mode { SL_FAIL_OPEN = 0, SL_FAIL_CLOSED = 1 };

struct sl_config {
	char *policy;               /* policy source or artefact path */
	char *records_dir;          /* NULL: records off */
	char *socket_path;          /* control socket, NULL: none */
	char *socket_group;         /* group owning the socket, NULL: keep */
	char *block_page_file;      /* NULL: built-in page */
	char *block_page;           /* template text loaded from the file */
	char *pseudonym_key_file;   /* for reports; passed through */

	/* ports: every port forwards to peer[port]; peer == port hairpins */
	uint16_t nports;
	uint16_t port[SL_MAX_PORTS];
	uint16_t peer[SL_MAX_PORTS];
	bool ports_given;

	uint16_t nworkers_req;      /* 0: every EAL worker lcore */
	uint16_t worker_lcore[SL_MAX_WORKERS];

	uint32_t flows;             /* flow table entries per worker */
	uint32_t tcp_timeout, tcp_closed_timeout, udp_timeout, other_timeout; /* s */
	uint32_t evict_min_idle_ms; /* LRU flows idle at least this long may be evicted */
	uint64_t inspect_depth;     /* bytes per direction */
	bool scan_encrypted;        /* payload rules also scan TLS application
				     * data (encrypted = "scan"; default skip) */
	uint32_t ooo_bytes_per_flow;
	uint32_t seg_chunks;        /* out-of-order chunks per worker */
	uint32_t app_buffers;       /* field accumulation buffers per worker */
	uint32_t stream_slots;      /* payload stream states per worker and size class (0: 2 x flows) */
	uint32_t frag_flows;        /* reassembly table entries per worker */
	uint32_t frag_mbufs;        /* mbufs for fragment copies per worker */
	uint32_t frag_timeout_ms;
	uint32_t mbufs;             /* packet mbufs per worker */
	uint16_t rx_desc, tx_desc;
	uint32_t rx_backlog;        /* packets waiting on an rx queue that make its
				     * worker shed inspection (UINT32_MAX: 3/4 of the
				     * ring; 0: never) */
	uint32_t event_ring;        /* event ring / pool size */
	bool capture;               /* evidence pcap beside records */
	uint64_t segment_bytes;
	uint32_t segment_seconds;
	uint32_t retention_days;

	enum sl_fail_mode overload; /* ring/flow/reassembly/stream overload */
	bool malformed_drop;        /* drop undecodable frames (else forward) */
	uint32_t idle_sleep_us;     /* sleep when a poll finds nothing (0: busy poll) */

	const char *file;           /* config file name, for messages */
};

void sl_config_defaults(struct sl_config *c);
/* Parse a dataplane config file over the defaults; errors as FILE:LINE on
 * stderr. 0 or -EINVAL. */
int sl_config_load(struct sl_config *c, const char *path);
void sl_config_finish(struct sl_config *c);
void sl_config_free(struct sl_config *c);

/* ---- snapshot (snapshot.c) ------------------------------------------ */

struct sl_rule_ctr {
	uint64_t hits;              /* matches counted (enforce or shadow) */
	uint64_t act[SL_ACT__COUNT];/* actions carried out (enforce) or would-be (shadow) */
	uint64_t last_ns;           /* time of the last hit */
	uint64_t flows_blocked;     /* candidate: flows it would block */
	uint64_t newly_blocked;     /* candidate: ... that the active policy let through */
} __rte_cache_aligned;

#define SL_DIFF_IDS 64

/* Per worker, in a candidate snapshot: flows the active policy blocked that
 * the candidate would have let through, by active rule id. */
struct sl_diff_ctr {
	uint64_t flows;             /* flows the candidate inspected */
	uint64_t newly_blocked;
	uint64_t newly_allowed;
	uint32_t n;
	uint32_t id[SL_DIFF_IDS];
	uint64_t cnt[SL_DIFF_IDS];
	uint64_t other;             /* ids beyond the table */
} __rte_cache_aligned;

/* What workers see through sl_dp.snap. Immutable once published, except
 * the per-lcore counters (each written by its own lcore only). */
struct sl_snapshot {
	struct sl_policy *policy;   /* one reference held */
	const struct sl_policy_meta *meta;
	uint32_t gen;               /* generation, increments on every publish */
	uint32_t nrules;
	uint64_t *disabled;         /* bitmap over rule idx; written before publish */
	struct rte_lpm *lpm4;       /* ip selectors -> ruleset, NULL: none */
	struct rte_lpm6 *lpm6;
	bool has_payload, has_domain, has_url, has_ip;
	struct sl_scratch *scratch[SL_MAX_WORKERS];  /* one per worker */
	struct sl_rule_ctr *ctr[SL_MAX_WORKERS];     /* [worker][rule idx] */
	struct sl_diff_ctr diff[SL_MAX_WORKERS];     /* candidate only, by worker */
	bool candidate;             /* published as sl_dp.cand */
	uint64_t load_ns;           /* when compiled/loaded (CLOCK_REALTIME) */
	double compile_s;
	char *source;               /* path it came from */
};

/* ---- flows (flow.c) -------------------------------------------------- */

/* Canonical 5-tuple: the (address, port) end that sorts lower is `a`. VLAN
 * tags are not part of it (asymmetric tagging is one flow). */
struct sl_flow_key {
	uint8_t a[16];
	uint8_t b[16];
	uint16_t pa, pb;            /* network order */
	uint8_t proto;
	uint8_t family;             /* 4 or 6 */
	uint16_t pad;
};

enum sl_flow_state {
	SL_FLOW_INSPECT = 0,        /* fields and payload are inspected */
	SL_FLOW_PASS = 1,           /* cleared (allow, depth reached): fast path */
	SL_FLOW_BLOCKED = 2,        /* every packet dropped */
};

/* One flow. Owned by exactly one worker: read and written only by it,
 * except the main lcore reading it for `flows` after a ring request. */
struct sl_flow {
	struct sl_flow_key key;
	uint64_t id;                /* unique within the run (see flow.c) */
	uint64_t last_tsc;
	uint64_t first_ns;
	uint32_t lru_prev, lru_next;
	uint32_t gen;               /* snapshot generation of streams/verdict */
	uint32_t block_rule_id;     /* rule id that blocked or cleared it */
	uint8_t in_use;
	uint8_t state;              /* enum sl_flow_state */
	uint8_t action;             /* SL_ACT_* that set the state */
	uint8_t client_is_a;        /* 1: key.a is the client */
	uint8_t role_by_syn;        /* role learned from the handshake */
	uint8_t closing;            /* FIN/RST seen: short timeout */
	uint8_t depth_done;         /* bit per direction: depth reached */
	uint8_t nrec;
	uint8_t ovl_blocked;        /* blocked by fail-closed overload, not by a rule */
	uint8_t dns_blocked;        /* a DNS query of this flow was stopped ... */
	uint16_t dns_blocked_id;    /* ... with this id: its answers are dropped too */
	uint32_t recorded[SL_FLOW_RECORDED]; /* rule ids recorded on this flow */
	uint32_t lru_stamp;         /* (now_tsc >> SL_LRU_SHIFT) when last moved to
				     * the LRU tail (flow.c) */
	uint64_t pkts[2];           /* per direction (SL_DIR_C2S/S2C) */
	uint64_t bytes[2];
	struct sl_tcp_half half[2]; /* per direction */
	struct sl_app_half app;     /* client to server field extraction */
	/* shadow candidate (sluice-ctl shadow): evaluated, never enforced */
	uint8_t cstate;             /* enum sl_flow_state under the candidate */
	uint8_t cmark;              /* SL_DIFF_NEW_BLOCK / SL_DIFF_NEW_ALLOW */
	struct sl_pstream *ps[2];   /* payload streams per direction */
	struct sl_tls_walk tls[2];  /* TLS record framing per direction
				     * (encrypted = "skip") */
	uint32_t cgen;              /* candidate generation of cstate / cps */
	uint32_t crule_id;          /* candidate rule that would block or clear it */
	struct sl_pstream *cps[2];
} __rte_cache_aligned;

#define SL_DIFF_NEW_BLOCK 1     /* the candidate would block, the active did not */
#define SL_DIFF_NEW_ALLOW 2     /* the active blocked, the candidate would not (yet) */

/* ---- counters --------------------------------------------------------- */

struct sl_lcore_stats {
	/* bytes: of the packets the inspection path handled; the bypass
	 * reads no mbuf (its bytes: the ports' dev_ibytes/dev_obytes) */
	uint64_t rx_pkts, rx_bytes;
	uint64_t tx_pkts, tx_bytes;       /* forwarded */
	uint64_t tx_fail;                 /* tx queue full: dropped by the device */
	uint64_t drop_policy;             /* dropped by a verdict */
	uint64_t drop_overload;           /* dropped by fail-closed overload */
	uint64_t drop_malformed;
	uint64_t injected, inject_fail;
	uint64_t non_ip;
	uint64_t decode_err[SL_DEC__COUNT];
	uint64_t flows_created, flows_expired, flows_evicted, flows_active;
	uint64_t overload_flow_table;     /* no flow entry could be had */
	uint64_t overload_ooo;            /* out-of-order data dropped (pool/limit) */
	uint64_t overload_app;            /* field buffer pool empty */
	uint64_t overload_stream;         /* payload stream state pool empty */
	uint64_t overload_frag;           /* reassembly table/mbufs exhausted */
	uint64_t overload_events;         /* events lost (pool or ring full) */
	uint64_t overload_rx;             /* packets not inspected: rx backlog (worker behind) */
	uint64_t rx_behind[SL_BEHIND__COUNT]; /* bursts found behind, by why (sluice/backlog.h) */
	uint64_t frags, frag_reassembled;
	/* datagrams rte_ip_frag gave up (more than 8 fragments, a fragment
	 * twice) reassembled by frag_big.c; its slots timed out; none free */
	uint64_t frag_big_reassembled, frag_big_expired, frag_big_full;
	uint64_t frag_big_refused;        /* datagrams whose fragments cannot fit together */
	uint64_t tcp_overlap_conflicts;   /* segments with other bytes than those held: dropped */
	uint64_t fastpath;                /* packets of cleared flows */
	uint64_t bypass;                  /* forwarded whole: policy without rules */
	uint64_t depth_reached;
	uint64_t encrypted_bytes;         /* TLS application data not scanned */
	uint64_t hits, hits_overflow;
	uint64_t act[SL_ACT__COUNT];      /* enforced verdicts by action */
	uint64_t shadow[SL_ACT__COUNT];   /* shadow would-be verdicts */
	uint64_t events;
	uint64_t resumed;                 /* blocked flows resumed after reload */
	uint64_t bursts, busy_tsc;
} __rte_cache_aligned;

/* ---- per-lcore worker context ------------------------------------------ */

struct sl_tx {
	uint16_t n;
	struct rte_mbuf *m[SL_TX_BURST];
};

/* frag_big.c: a datagram rte_ip_frag gave up, reassembled apart */
#define SL_BIGFRAG_SLOTS 16
#define SL_BIGFRAG_PIECES 128   /* 64 KB in 552-byte fragments (576 MTU) */
struct sl_bigfrag_piece {
	struct rte_mbuf *mb;        /* a frag_pool copy of the fragment */
	uint16_t ofs, len;          /* its data within the datagram */
	uint16_t hdr_end;           /* where its data starts in mb */
	uint8_t more;
};
struct sl_bigfrag {
	uint64_t start_tsc;         /* 0: the slot is free */
	uint32_t id;
	uint32_t total;             /* data length, once the last fragment came */
	uint32_t have;              /* data bytes held (pieces never overlap) */
	uint32_t maxend;            /* the furthest any piece reaches */
	uint16_t n;
	uint8_t ipver;
	uint8_t refused;            /* cannot be whole: its fragments are dropped */
	uint8_t src[16], dst[16];
	struct sl_bigfrag_piece f[SL_BIGFRAG_PIECES];
};

struct sl_worker {
	/* set by main before launch; read-only afterwards */
	unsigned lcore_id;
	uint16_t idx;               /* worker index = queue id on every port */
	uint16_t socket;
	struct rte_mempool *pool;   /* rx mbufs and injected packets */
	struct rte_mempool *frag_pool;

	/* worker-private state */
	struct rte_hash *flow_hash;
	struct sl_flow *flows;      /* indexed by rte_hash position */
	uint32_t nflows;
	uint32_t hint_mask;
	uint32_t *flow_hint;        /* [sig & hint_mask]: a flow position (flow.c) */
	uint32_t lru_head, lru_tail;/* least recently used first */
	uint64_t flow_seq;
	struct sl_seg_pool seg_pool;
	struct sl_app_pool app_pool;
	struct rte_ip_frag_tbl *frag_tbl;
	struct rte_ip_frag_death_row death_row;
	struct sl_bigfrag *big;     /* [SL_BIGFRAG_SLOTS] (frag_big.c) */
	unsigned nbig;              /* slots in use */
	struct sl_tx tx[SL_MAX_PORTS];
	bool no_tx;                 /* benchmarks: free instead of transmitting */
	bool shed;                  /* this burst: the queue is backlogged, no inspection */
	struct sl_backlog rx_est[SL_MAX_PORTS]; /* rx backlog estimate, by port index */
	struct sl_snapshot *cand;   /* sl_dp.cand as loaded for this burst */
	uint64_t now_tsc;           /* at the start of the burst */
	uint64_t now_ns;            /* CLOCK_REALTIME at the start of the burst */
	int64_t now_s;
	uint8_t linbuf[65536 + 256];/* linearised reassembled datagram */
	uint8_t craftbuf[2048];

	/* requests from main: struct sl_wcmd * (main enqueues, worker dequeues) */
	struct rte_ring *cmd_ring;

	/* counters: written by the worker, read by main (torn reads OK) */
	struct sl_lcore_stats st;
	uint64_t port_rx[SL_MAX_PORTS], port_tx[SL_MAX_PORTS], port_drop[SL_MAX_PORTS];
} __rte_cache_aligned;

/* ---- requests from main to a worker (per-lcore ring) ------------------- */

enum sl_wop {
	SL_WOP_FLUSH = 1,           /* end every flow (offline end of capture) */
	SL_WOP_FLOWS = 2,           /* describe up to `limit` flows */
};

struct sl_flow_info {
	uint64_t id;
	uint8_t proto, family, state, action;
	uint8_t cstate;             /* candidate policy's state (shadow) */
	uint8_t app;                /* enum sl_app_proto of the client stream */
	uint16_t client_port, server_port;
	uint32_t rule_id;           /* rule that blocked or cleared it */
	uint32_t crule_id;
	uint8_t client[16], server[16];
	uint64_t pkts[2], bytes[2];
	uint64_t first_ns;
	uint64_t idle_ms;
};

/* Written by main before enqueueing; the worker fills the results and sets
 * done (release); main reads them after seeing done (acquire). */
struct sl_wcmd {
	int op;
	uint32_t limit;
	bool blocked_only;
	uint32_t n;                 /* flows described */
	uint64_t total;             /* flows matching the filter */
	struct sl_flow_info *out;
	uint32_t done;
};

/* Main lcore: run a request on a worker and wait for it (draining events
 * meanwhile). 0 or -ETIMEDOUT / -ENOBUFS. */
int sl_worker_call(struct sl_worker *w, struct sl_wcmd *c, unsigned timeout_ms);

/* ---- global dataplane state -------------------------------------------- */

struct sl_dataplane {
	struct sl_config cfg;
	/* published snapshot: written by main (release), read by workers (acquire) */
	struct sl_snapshot *snap;
	/* shadow candidate, NULL when off: same publication rules as snap */
	struct sl_snapshot *cand;
	uint64_t cand_since_ns;
	uint32_t next_gen;
	/* rule ids switched off at run time (main lcore); every snapshot built
	 * gets its bitmap from this set */
	uint32_t *disabled_ids;
	uint32_t ndisabled;
	struct rte_rcu_qsbr *qsbr;
	struct rte_ring *ev_ring;   /* workers -> main: struct sl_event * */
	struct rte_mempool *ev_pool;
	struct sl_records *records; /* main lcore only */
	uint16_t nworkers;
	struct sl_worker *w[SL_MAX_WORKERS];
	volatile int stop;          /* set by main/signal; workers exit */
	uint64_t tsc_hz;
	uint64_t start_ns;
	uint64_t run_nonce;
	/* per-rule counters accumulated from retired snapshots, by rule id:
	 * main lcore only */
	struct sl_rule_acc *acc;
	uint32_t nacc;
	/* offline mode */
	bool offline;
	uint64_t offline_expect;    /* packets to receive before stopping */
	/* rx backlog mark by port id (set by sl_port_init, 0: off) */
	uint32_t rx_mark[SL_MAX_PORTS];
	/* the port's driver reports rx descriptor status (probed once by
	 * sl_port_init; read by workers): else the backlog is estimated */
	bool rx_desc_status[SL_MAX_PORTS];
};

extern struct sl_dataplane sl_dp;

/* snapshot.c */
int sl_snapshot_build(struct sl_policy *p, const char *source,
		      const uint64_t *disabled, struct sl_snapshot **out);
void sl_snapshot_free(struct sl_snapshot *s);
/* Publish s (main lcore), wait for every worker to pass a quiescent state,
 * drain events, fold counters, free the previous snapshot. */
int sl_snapshot_publish(struct sl_snapshot *s);
int sl_snapshot_publish_candidate(struct sl_snapshot *s);  /* NULL: shadow off */
void sl_snapshot_events_consumed(unsigned n);
void sl_snapshot_retired_free(void);
int sl_snapshot_ip_lookup(const struct sl_snapshot *s, const struct sl_addr *a,
			  struct sl_hitset *hits);

struct sl_rule_acc {
	uint32_t id;
	uint64_t hits;
	uint64_t act[SL_ACT__COUNT];
	uint64_t last_ns;
};
struct sl_rule_acc *sl_rule_acc_get(uint32_t id, bool create);
int sl_stream_alloc_init(void);
void sl_stream_pools_free(void);
/* worker index of the calling lcore (-1 off the workers): stream allocator */
RTE_DECLARE_PER_LCORE(int, sl_worker_idx);

/* flow.c */
int sl_flows_init(struct sl_worker *w, uint32_t n);
void sl_flows_free(struct sl_worker *w);
struct sl_flow *sl_flow_lookup_slow(struct sl_worker *w, const struct sl_flow_key *k,
				    hash_sig_t sig, int *created);
void sl_flow_lru_move(struct sl_worker *w, struct sl_flow *f);

/* four cache lines: the worker prefetches all of them ahead of a packet */
_Static_assert(sizeof(struct sl_flow) == 4 * RTE_CACHE_LINE_SIZE, "struct sl_flow grew");

/* every byte of a key is written by sl_flow_key_make: no padding to clear */
_Static_assert(sizeof(struct sl_flow_key) == 16 + 16 + 2 + 2 + 1 + 1 + 2,
	       "struct sl_flow_key has padding");

/* A packet's flow key, the same for both directions: side a is the lower
 * address (as 16 big-endian bytes: memcmp's order; an IPv4 address is zero
 * past its 4), or with equal addresses the lower port as stored. *from_a:
 * the packet was sent by side a. Without branches: which side is lower is
 * a coin toss per packet, a branch on it mispredicted every other time. */
static inline void sl_flow_key_make(const struct sl_pkt *p, struct sl_flow_key *k, int *from_a)
{
	uint64_t s[2], d[2], x[2], m;
	uint64_t s0, s1, d0, d1;
	uint32_t pm;
	bool swap;

	memcpy(s, p->src.b, 16);
	memcpy(d, p->dst.b, 16);
	s0 = rte_be_to_cpu_64(s[0]);
	s1 = rte_be_to_cpu_64(s[1]);
	d0 = rte_be_to_cpu_64(d[0]);
	d1 = rte_be_to_cpu_64(d[1]);
	/* & and | rather than && and ||: one flag, no jumps */
	swap = (s0 > d0) | ((s0 == d0) & ((s1 > d1) | ((s1 == d1) & (p->sport > p->dport))));
	*from_a = !swap;
	m = -(uint64_t)swap;       /* all ones: b is the source */
	x[0] = (s[0] ^ d[0]) & m;
	x[1] = (s[1] ^ d[1]) & m;
	s[0] ^= x[0];
	s[1] ^= x[1];
	d[0] ^= x[0];
	d[1] ^= x[1];
	memcpy(k->a, s, 16);
	memcpy(k->b, d, 16);
	pm = (uint32_t)m & ((uint32_t)p->sport ^ p->dport);
	k->pa = (uint16_t)(p->sport ^ pm);
	k->pb = (uint16_t)(p->dport ^ pm);
	k->proto = p->l4proto;
	k->family = p->ipver;
	k->pad = 0;
}

/* The flow table's hash: CRC32-C over the key's five 8-byte words from
 * SL_FLOW_HASH_INIT, which is what rte_hash_crc(k, 40, SL_FLOW_HASH_INIT),
 * the table's own hash function, computes (checked by sl_flows_init), in a
 * few instructions instead of a call through rte_hash_hash. */
#define SL_FLOW_HASH_INIT 0x5117ce
static inline hash_sig_t sl_flow_hash(const struct sl_flow_key *k)
{
	uint64_t w[5];
	uint32_t h = SL_FLOW_HASH_INIT;

	memcpy(w, k, sizeof(w));
#ifdef RTE_ARCH_X86_64
	/* DPDK requires SSE4.2 on x86; rte_hash_crc_8byte would test which
	 * CRC to use on every call */
#pragma GCC unroll 5
	for (int i = 0; i < 5; i++)
		h = crc32c_sse42_u64(w[i], h);
#else
	for (int i = 0; i < 5; i++)
		h = rte_hash_crc_8byte(w[i], h);
#endif
	return h;
}

/* For a lookup a few packets later (worker.c's pipeline): the hint slot of
 * a hash, then the flow entry that slot names (all of it). */
static inline void sl_flow_hint_prefetch(const struct sl_worker *w, hash_sig_t sig)
{
	rte_prefetch0(&w->flow_hint[sig & w->hint_mask]);
}

static inline void sl_flow_prefetch(const struct sl_worker *w, hash_sig_t sig)
{
	uint32_t i = w->flow_hint[sig & w->hint_mask];

	if (i < w->nflows) {
		const char *f = (const char *)&w->flows[i];

#pragma GCC unroll 8
		for (size_t o = 0; o < sizeof(struct sl_flow); o += RTE_CACHE_LINE_SIZE)
			rte_prefetch0(f + o);
	}
}

/* The hint: slot (sig & hint_mask) holds the position of the flow last
 * found or made with a hash ending in those bits, or SL_NONE. A hit whose
 * entry holds the same key skips rte_hash (its bucket and key store, two
 * dependent misses); a released entry's key has family 0, which no packet's
 * key has. Anything else asks rte_hash, the authority, and the slot learns
 * its answer (sl_flow_lookup_slow, flow.c). */
static inline bool sl_flow_key_eq(const struct sl_flow_key *x, const struct sl_flow_key *y)
{
	uint64_t a[5], b[5];

	memcpy(a, x, sizeof(a));
	memcpy(b, y, sizeof(b));
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) |
		(a[4] ^ b[4])) == 0;
}

/* The flow of key k (hash sig), made if new (*created 1); NULL when the
 * table is full. */
static inline struct sl_flow *sl_flow_lookup_or_create(struct sl_worker *w,
						       const struct sl_flow_key *k,
						       hash_sig_t sig, int *created)
{
	uint32_t i = w->flow_hint[sig & w->hint_mask];

	*created = 0;
	if (SL_LIKELY(i < w->nflows && sl_flow_key_eq(&w->flows[i].key, k)))
		return &w->flows[i];
	return sl_flow_lookup_slow(w, k, sig, created);
}

/* position of flow f in the table (and in rte_hash) */
static inline uint32_t sl_flow_idx(const struct sl_worker *w, const struct sl_flow *f)
{
	return (uint32_t)(f - w->flows);
}

/* LRU stamps count TSC >> SL_LRU_SHIFT (about a millisecond); see flow.c */
#define SL_LRU_SHIFT 20

static inline uint32_t sl_lru_now(const struct sl_worker *w)
{
	return (uint32_t)(w->now_tsc >> SL_LRU_SHIFT);
}

/* A packet of flow f: its last-seen time, and its place at the LRU tail,
 * moved there at most once per 1/16 s (flow.c explains why). */
static inline void sl_flow_touch(struct sl_worker *w, struct sl_flow *f)
{
	uint32_t now = sl_lru_now(w);

	f->last_tsc = w->now_tsc;
	if (now - f->lru_stamp <= (uint32_t)((sl_dp.tsc_hz >> 4) >> SL_LRU_SHIFT) ||
	    w->lru_tail == sl_flow_idx(w, f))
		return;
	sl_flow_lru_move(w, f);
}

void sl_flow_release(struct sl_worker *w, struct sl_flow *f);
struct sl_flow *sl_flow_lru_head(struct sl_worker *w);

/* worker.c */
int sl_worker_main(void *arg);
void sl_worker_process(struct sl_worker *w, struct sl_snapshot *s,
		       struct rte_mbuf **pkts, uint16_t n, uint16_t port);
void sl_worker_tx_flush(struct sl_worker *w);
void sl_worker_end_flows(struct sl_worker *w, struct sl_snapshot *s);

/* events.c */
int sl_events_init(uint32_t n, int socket);
struct sl_event *sl_event_get(struct sl_worker *w);
int sl_event_put(struct sl_worker *w, struct sl_event *ev);
void sl_events_free(void);
unsigned sl_events_drain(unsigned max);
int sl_events_admin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* setup.c */
int sl_workers_setup(void);         /* workers on the EAL worker lcores (or cfg list) */
void sl_worker_free(struct sl_worker *w);
int sl_port_init(uint16_t port);    /* one rx/tx queue pair per worker */

/* frag_big.c (worker lcore): slots for datagrams rte_ip_frag gives up */
int sl_bigfrag_init(struct sl_worker *w);
void sl_bigfrag_release(struct sl_worker *w);
/* free slots older than limits.fragment_ms at now_tsc (UINT64_MAX: all) */
void sl_bigfrag_expire(struct sl_worker *w, uint64_t now_tsc);
/* the slot holding cp's datagram, or NULL */
struct sl_bigfrag *sl_bigfrag_find(struct sl_worker *w, const struct rte_mbuf *cp);
/* cp into slot b (which owns it then): 0 held, 1 complete, -EBADMSG the
 * datagram is refused (now or before): cp is freed, drop the fragment */
int sl_bigfrag_add(struct sl_worker *w, struct sl_bigfrag *b, struct rte_mbuf *cp);
/* rte_ip_frag just gave cp's datagram up, putting its copies on the death
 * row from index row: take them into a slot (*complete when that made it
 * whole; the slot is `refused` when they cannot fit together: those taken
 * are freed, the rest stay on the death row, drop the fragment). NULL: it
 * did not hold the datagram (its table was full) or no slot is free; the
 * death row keeps what it had. */
struct sl_bigfrag *sl_bigfrag_adopt(struct sl_worker *w, const struct rte_mbuf *cp,
				    uint32_t row, int *complete);
/* the whole datagram into w->linbuf (L2 header of the first fragment
 * included): its length, 0 if it would not fit; the slot is freed */
uint32_t sl_bigfrag_linearise(struct sl_worker *w, struct sl_bigfrag *b);
int sl_load_policy(const char *path, struct sl_diag *diag);
int sl_records_start(void);
void sl_stats_sum(struct sl_lcore_stats *t);

/* telemetry.c: /sluice/... endpoints for dpdk-telemetry.py */
int sl_telemetry_init(void);
extern pthread_mutex_t sl_tel_lock;  /* held while a snapshot is freed */

/* ctl_server.c: control socket on the main lcore */
int sl_ctl_open(const char *path, const char *group);
void sl_ctl_poll(int timeout_ms);
void sl_ctl_close(void);

static inline uint64_t sl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
