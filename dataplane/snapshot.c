/* Policy snapshots: what workers read through one pointer (policy, per-worker
 * scratch, disabled-rule bitmap, LPM tables for ip selectors, per-rule
 * counters); publication with RCU; and the Hyperscan stream allocator that
 * takes payload stream state from per-worker mempools (no malloc on the
 * fast path). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <hs/hs.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_per_lcore.h>

#include "sluice.h"
#include "sluice/records.h"

/* ---- stream state allocator ------------------------------------------ */

#define SC_MIN_SHIFT 6   /* 64 B */
#define SC_COUNT 9       /* up to 16 KiB */
#define SC_HDR 16        /* keeps Hyperscan's 16-byte alignment */

/* Per-worker pools by size class: created by main (snapshot build), used by
 * the owning worker only. */
static struct rte_mempool *stream_pool[SL_MAX_WORKERS][SC_COUNT];

RTE_DEFINE_PER_LCORE(int, sl_worker_idx) = -1;

static int size_class(size_t size)
{
	for (int c = 0; c < SC_COUNT; c++)
		if (size <= ((size_t)1 << (SC_MIN_SHIFT + c)))
			return c;
	return -1;
}

static void *stream_alloc(size_t size)
{
	int w = RTE_PER_LCORE(sl_worker_idx);
	int c = size_class(size);
	void *obj;

	if (w < 0 || c < 0 || stream_pool[w][c] == NULL) {
		/* off the fast path (tools, tests, main lcore) */
		obj = malloc(size + SC_HDR);
		if (obj == NULL)
			return NULL;
		*(struct rte_mempool **)obj = NULL;
		return (uint8_t *)obj + SC_HDR;
	}
	if (rte_mempool_get(stream_pool[w][c], &obj) < 0)
		return NULL;
	*(struct rte_mempool **)obj = stream_pool[w][c];
	return (uint8_t *)obj + SC_HDR;
}

static void stream_free(void *p)
{
	void *obj;
	struct rte_mempool *mp;

	if (p == NULL)
		return;
	obj = (uint8_t *)p - SC_HDR;
	mp = *(struct rte_mempool **)obj;
	if (mp == NULL)
		free(obj);
	else
		rte_mempool_put(mp, obj);
}

int sl_stream_alloc_init(void)
{
	return hs_set_stream_allocator(stream_alloc, stream_free) == HS_SUCCESS ? 0 : -EINVAL;
}

/* Make sure every worker has a pool for streams of this size. */
static int stream_pools_ensure(size_t size)
{
	int c = size_class(size);

	if (size == 0)
		return 0;
	if (c < 0) {
		fprintf(stderr, "sluice: payload stream state of %zu bytes is too large\n", size);
		return -E2BIG;
	}
	for (unsigned i = 0; i < sl_dp.nworkers; i++) {
		char name[RTE_MEMPOOL_NAMESIZE];

		if (stream_pool[i][c] != NULL)
			continue;
		snprintf(name, sizeof(name), "sl_st%u_%d", i, c);
		stream_pool[i][c] = rte_mempool_create(name, sl_dp.cfg.stream_slots,
			((size_t)1 << (SC_MIN_SHIFT + c)) + SC_HDR, 0, 0, NULL, NULL,
			NULL, NULL, sl_dp.w[i]->socket,
			RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
		if (stream_pool[i][c] == NULL) {
			fprintf(stderr, "sluice: cannot create stream pool (%u x %zu B): %s\n",
				sl_dp.cfg.stream_slots, (size_t)1 << (SC_MIN_SHIFT + c),
				rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	return 0;
}

void sl_stream_pools_free(void)
{
	for (unsigned i = 0; i < SL_MAX_WORKERS; i++)
		for (int c = 0; c < SC_COUNT; c++) {
			rte_mempool_free(stream_pool[i][c]);
			stream_pool[i][c] = NULL;
		}
}

/* ---- LPM tables for ip selectors --------------------------------------- */

struct lpm_build {
	struct sl_snapshot *s;
	uint32_t n4, n6;
	int err;
};

static int count_prefix(void *ctx, const struct sl_addr *pfx, uint8_t depth, uint32_t rs)
{
	struct lpm_build *b = ctx;

	(void)depth;
	(void)rs;
	if (pfx->family == 4)
		b->n4++;
	else
		b->n6++;
	return 0;
}

static int add_prefix(void *ctx, const struct sl_addr *pfx, uint8_t depth, uint32_t rs)
{
	struct lpm_build *b = ctx;
	int rc;

	if (pfx->family == 4) {
		uint32_t ip = ((uint32_t)pfx->b[0] << 24) | ((uint32_t)pfx->b[1] << 16) |
			      ((uint32_t)pfx->b[2] << 8) | pfx->b[3];

		rc = rte_lpm_add(b->s->lpm4, ip, depth, rs);
	} else {
		rc = rte_lpm6_add(b->s->lpm6, pfx->b, depth, rs);
	}
	if (rc < 0 && b->err == 0)
		b->err = rc;
	return 0;
}

static int build_lpm(struct sl_snapshot *s)
{
	struct lpm_build b = { .s = s };
	char name[64];

	sl_policy_foreach_prefix(s->policy, count_prefix, &b);
	if (b.n4) {
		struct rte_lpm_config c = {
			.max_rules = b.n4 + 16,
			.number_tbl8s = b.n4 + 256,
		};

		snprintf(name, sizeof(name), "sl_lpm4_%u", s->gen);
		s->lpm4 = rte_lpm_create(name, SOCKET_ID_ANY, &c);
		if (s->lpm4 == NULL)
			return -ENOMEM;
	}
	if (b.n6) {
		struct rte_lpm6_config c = {
			.max_rules = b.n6 + 16,
			.number_tbl8s = b.n6 * 14 + 256,
		};

		snprintf(name, sizeof(name), "sl_lpm6_%u", s->gen);
		s->lpm6 = rte_lpm6_create(name, SOCKET_ID_ANY, &c);
		if (s->lpm6 == NULL)
			return -ENOMEM;
	}
	if (b.n4 || b.n6)
		sl_policy_foreach_prefix(s->policy, add_prefix, &b);
	return b.err;
}

int sl_snapshot_ip_lookup(const struct sl_snapshot *s, const struct sl_addr *a,
			  struct sl_hitset *hits)
{
	uint32_t rs, n;
	const uint32_t *rules;
	int rc;

	if (a->family == 4) {
		uint32_t ip = ((uint32_t)a->b[0] << 24) | ((uint32_t)a->b[1] << 16) |
			      ((uint32_t)a->b[2] << 8) | a->b[3];

		if (s->lpm4 == NULL)
			return 0;
		rc = rte_lpm_lookup(s->lpm4, ip, &rs);
	} else {
		if (s->lpm6 == NULL)
			return 0;
		rc = rte_lpm6_lookup(s->lpm6, a->b, &rs);
	}
	if (rc != 0)
		return 0;
	n = sl_policy_ruleset(s->policy, rs, &rules);
	for (uint32_t i = 0; i < n; i++)
		sl_hitset_add(hits, rules[i], SL_FIELD_IP, 0);
	return (int)n;
}

/* ---- build, publish, free ----------------------------------------------- */

int sl_snapshot_build(struct sl_policy *p, const char *source,
		      const uint64_t *disabled, struct sl_snapshot **out)
{
	struct sl_snapshot *s;
	size_t bm;
	int rc;

	s = rte_zmalloc("sl_snapshot", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (s == NULL)
		return -ENOMEM;
	s->policy = sl_policy_ref(p);
	s->meta = sl_policy_meta(p);
	s->gen = ++sl_dp.next_gen;
	s->nrules = sl_policy_nrules(p);
	s->source = source ? strdup(source) : NULL;
	s->load_ns = sl_now_ns();
	bm = ((size_t)s->nrules + 63) / 64 + 1;
	s->disabled = rte_zmalloc("sl_disabled", bm * sizeof(uint64_t), 0);
	if (s->disabled == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if (disabled)
		memcpy(s->disabled, disabled, bm * sizeof(uint64_t));
	s->has_payload = sl_policy_has(p, SL_FIELD_PAYLOAD);
	s->has_domain = sl_policy_has(p, SL_FIELD_HOST);
	s->has_url = sl_policy_has(p, SL_FIELD_URL);
	s->has_ip = sl_policy_has(p, SL_FIELD_IP);
	rc = build_lpm(s);
	if (rc < 0) {
		fprintf(stderr, "sluice: cannot build address tables: %s\n", strerror(-rc));
		goto fail;
	}
	rc = stream_pools_ensure(sl_pstream_size(p));
	if (rc < 0)
		goto fail;
	for (unsigned i = 0; i < sl_dp.nworkers; i++) {
		rc = sl_scratch_alloc(p, &s->scratch[i]);
		if (rc < 0)
			goto fail;
		s->ctr[i] = rte_zmalloc_socket("sl_rule_ctr",
			((size_t)s->nrules + 1) * sizeof(struct sl_rule_ctr),
			RTE_CACHE_LINE_SIZE, sl_dp.w[i]->socket);
		if (s->ctr[i] == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	sl_snapshot_free(s);
	return rc;
}

void sl_snapshot_free(struct sl_snapshot *s)
{
	if (s == NULL)
		return;
	/* the telemetry thread may be reading it (it cannot once we hold the
	 * lock: s is unpublished) */
	pthread_mutex_lock(&sl_tel_lock);
	pthread_mutex_unlock(&sl_tel_lock);
	for (unsigned i = 0; i < SL_MAX_WORKERS; i++) {
		sl_scratch_free(s->scratch[i]);
		rte_free(s->ctr[i]);
	}
	rte_lpm_free(s->lpm4);
	rte_lpm6_free(s->lpm6);
	rte_free(s->disabled);
	free(s->source);
	sl_policy_unref(s->policy);
	rte_free(s);
}

/* Fold a retiring snapshot's per-rule counters into the by-id accumulator
 * (main lcore only; the snapshot is quiescent). */
static void fold_counters(const struct sl_snapshot *s)
{
	for (uint32_t r = 0; r < s->nrules; r++) {
		struct sl_rule_acc *a = sl_rule_acc_get(sl_policy_rule(s->policy, r)->id, true);

		if (a == NULL)
			continue;
		for (unsigned i = 0; i < sl_dp.nworkers; i++) {
			const struct sl_rule_ctr *c = &s->ctr[i][r];

			a->hits += c->hits;
			for (int k = 0; k < SL_ACT__COUNT; k++)
				a->act[k] += c->act[k];
			if (c->last_ns > a->last_ns)
				a->last_ns = c->last_ns;
		}
	}
}

struct sl_rule_acc *sl_rule_acc_get(uint32_t id, bool create)
{
	struct sl_rule_acc *a;

	for (uint32_t i = 0; i < sl_dp.nacc; i++)
		if (sl_dp.acc[i].id == id)
			return &sl_dp.acc[i];
	if (!create)
		return NULL;
	a = realloc(sl_dp.acc, (sl_dp.nacc + 1) * sizeof(*a));
	if (a == NULL)
		return NULL;
	sl_dp.acc = a;
	a = &sl_dp.acc[sl_dp.nacc++];
	memset(a, 0, sizeof(*a));
	a->id = id;
	return a;
}

/* Snapshots no worker uses any more, waiting for the writer to consume the
 * events queued before they were retired (events point at their rule
 * table). Main lcore only. */
#define MAX_RETIRED 64

static struct retired {
	struct sl_snapshot *s;
	unsigned events_before;     /* events still ahead of the retirement point */
} retired[MAX_RETIRED];
static unsigned nretired;

static void free_retired(unsigned i)
{
	sl_snapshot_free(retired[i].s);
	retired[i] = retired[--nretired];
}

/* The writer consumed n events (FIFO): free what they were holding back. */
void sl_snapshot_events_consumed(unsigned n)
{
	for (unsigned i = 0; i < nretired;) {
		if (retired[i].events_before <= n) {
			free_retired(i);
			continue;
		}
		retired[i].events_before -= n;
		i++;
	}
}

/* Wait until every worker has finished the burst it may have started with
 * the snapshot just unpublished, then retire it. A burst takes
 * microseconds: for the first millisecond just wait; after that keep
 * writing events in small batches meanwhile, so the event ring does not
 * fill while a worker is slow to report (writing a batch can take
 * milliseconds when the writer is behind: done at once, it made every swap
 * that long). The ring is FIFO and workers enqueue before they report
 * quiescent: its events are among those queued now. */
static void retire(struct sl_snapshot *old, bool fold)
{
	uint64_t token = rte_rcu_qsbr_start(sl_dp.qsbr);
	uint64_t spin_end = rte_rdtsc() + rte_get_tsc_hz() / 1000;

	while (rte_rcu_qsbr_check(sl_dp.qsbr, token, false) == 0) {
		if (rte_rdtsc() < spin_end || sl_events_drain(32) == 0)
			rte_pause();
	}
	if (nretired == MAX_RETIRED) {
		/* too many reloads in flight: write what holds the oldest back */
		while (nretired == MAX_RETIRED && sl_events_drain(1024) > 0)
			;
		if (nretired == MAX_RETIRED)
			free_retired(0);
	}
	if (fold)
		fold_counters(old);  /* final: no worker writes them any more */
	retired[nretired].s = old;
	retired[nretired].events_before = rte_ring_count(sl_dp.ev_ring);
	nretired++;
	sl_snapshot_events_consumed(0);
}

/* Shutdown: the ring is empty, workers are gone. */
void sl_snapshot_retired_free(void)
{
	while (nretired)
		free_retired(0);
}

int sl_snapshot_publish(struct sl_snapshot *s)
{
	struct sl_snapshot *old = sl_dp.snap;

	__atomic_store_n(&sl_dp.snap, s, __ATOMIC_RELEASE);
	if (old != NULL)
		retire(old, true);
	return 0;
}

int sl_snapshot_publish_candidate(struct sl_snapshot *s)
{
	struct sl_snapshot *old = sl_dp.cand;

	if (s != NULL)
		s->candidate = true;
	__atomic_store_n(&sl_dp.cand, s, __ATOMIC_RELEASE);
	sl_dp.cand_since_ns = s ? sl_now_ns() : 0;
	if (old != NULL)
		retire(old, false);  /* the candidate emits no events: freed at once */
	return 0;
}
