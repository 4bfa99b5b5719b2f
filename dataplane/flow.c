/* Per-worker flow table: an rte_hash keyed by the canonical 5-tuple (both
 * directions map to one entry, VLAN tags ignored), the flow array indexed
 * by the hash's key position, a direct-mapped hint array in front of the
 * hash, and an intrusive LRU list used for timeouts and eviction. Only the
 * owning worker touches it: no locks. */
#include <errno.h>
#include <stdio.h>

#include <rte_byteorder.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "sluice.h"

#define SL_NONE UINT32_MAX

int sl_flows_init(struct sl_worker *w, uint32_t n)
{
	char name[RTE_HASH_NAMESIZE];
	uint32_t hint_n;
	struct rte_hash_parameters hp = {
		.entries = n,
		.key_len = sizeof(struct sl_flow_key),
		.hash_func = rte_hash_crc,
		.hash_func_init_val = SL_FLOW_HASH_INIT,
		.socket_id = w->socket,
		/* guaranteed capacity: a full table is a counted overload, not a
		 * hash-collision accident */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct sl_flow_key probe = { .a = { 192, 0, 2, 1 }, .pa = 80, .proto = 6, .family = 4 };

	snprintf(name, sizeof(name), "sl_flows_%u", w->idx);
	hp.name = name;
	w->flow_hash = rte_hash_create(&hp);
	if (w->flow_hash == NULL)
		return -ENOMEM;
	if (sl_flow_hash(&probe) != rte_hash_hash(w->flow_hash, &probe)) {
		/* sl_flow_hash no longer matches the table's hash function */
		sl_flows_free(w);
		return -EINVAL;
	}
	w->flows = rte_zmalloc_socket("sl_flows", (size_t)n * sizeof(struct sl_flow),
				      RTE_CACHE_LINE_SIZE, w->socket);
	/* four slots per flow: few live flows share a slot */
	hint_n = rte_align32pow2(RTE_MAX(n, 16u) * 4);
	w->flow_hint = rte_malloc_socket("sl_flow_hint", (size_t)hint_n * sizeof(uint32_t),
					 RTE_CACHE_LINE_SIZE, w->socket);
	if (w->flows == NULL || w->flow_hint == NULL) {
		sl_flows_free(w);
		return -ENOMEM;
	}
	memset(w->flow_hint, 0xff, (size_t)hint_n * sizeof(uint32_t));   /* SL_NONE */
	w->hint_mask = hint_n - 1;
	w->nflows = n;
	w->lru_head = w->lru_tail = SL_NONE;
	return 0;
}

void sl_flows_free(struct sl_worker *w)
{
	rte_hash_free(w->flow_hash);
	rte_free(w->flows);
	rte_free(w->flow_hint);
	w->flow_hash = NULL;
	w->flows = NULL;
	w->flow_hint = NULL;
}

static void lru_unlink(struct sl_worker *w, struct sl_flow *f)
{
	if (f->lru_prev != SL_NONE)
		w->flows[f->lru_prev].lru_next = f->lru_next;
	else
		w->lru_head = f->lru_next;
	if (f->lru_next != SL_NONE)
		w->flows[f->lru_next].lru_prev = f->lru_prev;
	else
		w->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = SL_NONE;
}

static void lru_append(struct sl_worker *w, struct sl_flow *f)
{
	uint32_t i = sl_flow_idx(w, f);

	f->lru_next = SL_NONE;
	f->lru_prev = w->lru_tail;
	if (w->lru_tail != SL_NONE)
		w->flows[w->lru_tail].lru_next = i;
	else
		w->lru_head = i;
	w->lru_tail = i;
}

/* A flow moves to the LRU tail at most once per 1/16 s, not on every
 * packet: a move writes the entries of its two neighbours in the list,
 * cache misses that cost more than the rest of the lookup. The list stays
 * sorted by the time of the last move, and a flow's last packet is less
 * than one slack after it, so timeouts and eviction (which look at the
 * head) act at most 1/16 s late. Stamps count TSC >> SL_LRU_SHIFT (about a
 * millisecond; 32 bits wrap after weeks, and only differences are used).
 * This is sl_flow_touch's (sluice.h) slow part: the flow goes to the tail. */
void sl_flow_lru_move(struct sl_worker *w, struct sl_flow *f)
{
	f->lru_stamp = sl_lru_now(w);
	lru_unlink(w, f);
	lru_append(w, f);
}

/* Remove a flow from the table. Its inspection state must already be
 * released (see worker.c end_flow). */
void sl_flow_release(struct sl_worker *w, struct sl_flow *f)
{
	if (!f->in_use)
		return;
	lru_unlink(w, f);
	rte_hash_del_key(w->flow_hash, &f->key);
	f->in_use = 0;
	f->key.family = 0;   /* a hint to this entry no longer matches any key */
	w->st.flows_active--;
}

_Static_assert(sizeof(struct sl_flow_key) == 5 * sizeof(uint64_t),
	       "sl_flow_key_eq compares 40 bytes");

/* sl_flow_lookup_or_create (sluice.h) when the hint slot does not name the
 * flow: rte_hash, the authority, and the slot learns its answer. */
struct sl_flow *sl_flow_lookup_slow(struct sl_worker *w, const struct sl_flow_key *k,
				    hash_sig_t sig, int *created)
{
	uint32_t *hint = &w->flow_hint[sig & w->hint_mask];
	int32_t pos;
	struct sl_flow *f;

	*created = 0;
	pos = rte_hash_lookup_with_hash(w->flow_hash, k, sig);
	if (pos >= 0) {
		*hint = (uint32_t)pos;
		return &w->flows[pos];
	}
	pos = rte_hash_add_key_with_hash(w->flow_hash, k, sig);
	if (pos < 0)
		return NULL;
	*hint = (uint32_t)pos;
	f = &w->flows[pos];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->in_use = 1;
	f->last_tsc = w->now_tsc;
	f->lru_stamp = sl_lru_now(w);
	f->first_ns = w->now_ns;
	/* unique per run: nonce (16 bits) | worker (8) | sequence (40) */
	f->id = (sl_dp.run_nonce << 48) | ((uint64_t)w->idx << 40) |
		(++w->flow_seq & ((1ull << 40) - 1));
	f->lru_prev = f->lru_next = SL_NONE;
	lru_append(w, f);
	w->st.flows_created++;
	w->st.flows_active++;
	*created = 1;
	return f;
}

/* The least recently used flow, or NULL. */
struct sl_flow *sl_flow_lru_head(struct sl_worker *w)
{
	return w->lru_head == SL_NONE ? NULL : &w->flows[w->lru_head];
}
