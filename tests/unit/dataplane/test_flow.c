/* Unit tests for the flow table (dataplane/flow.c): rte_hash behind the
 * direct-mapped hint. Whatever the hint says, a lookup must return the
 * entry of exactly the key asked for, the same entry for as long as the
 * flow lives, and a new one once it was released; checked against a model
 * over a table small enough that hint slots are shared all the time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_malloc.h>

#include "sluice.h"

#define NFLOWS 16
#define NKEYS 48

static struct sl_flow_key key_of(unsigned i)
{
	struct sl_pkt p;
	struct sl_flow_key k;
	int from_a;

	memset(&p, 0, sizeof(p));
	p.ipver = 4;
	p.l4proto = i % 3 ? SL_PROTO_TCP : SL_PROTO_UDP;
	p.src.family = p.dst.family = 4;
	memcpy(p.src.b, (uint8_t[]){ 192, 0, 2, (uint8_t)(1 + i % 7) }, 4);
	memcpy(p.dst.b, (uint8_t[]){ 198, 51, 100, 10 }, 4);
	p.sport = (uint16_t)(40000 + i);
	p.dport = 443;
	sl_flow_key_make(&p, &k, &from_a);
	return k;
}

/* The key is the same from both sides: side a is the address lower in
 * memcmp order over 16 bytes, or with equal addresses the lower port as
 * stored; from_a says which side sent. Checked against that rule written
 * plainly, over addresses that differ in the first word, only in the
 * second, or not at all. */
static void key_ref(const struct sl_pkt *p, struct sl_flow_key *k, int *from_a)
{
	int c = memcmp(p->src.b, p->dst.b, 16);

	if (c == 0)
		c = p->sport < p->dport ? -1 : p->sport > p->dport;
	*from_a = c <= 0;
	memcpy(k->a, c <= 0 ? p->src.b : p->dst.b, 16);
	memcpy(k->b, c <= 0 ? p->dst.b : p->src.b, 16);
	k->pa = c <= 0 ? p->sport : p->dport;
	k->pb = c <= 0 ? p->dport : p->sport;
	k->proto = p->l4proto;
	k->family = p->ipver;
	k->pad = 0;
}

static void test_key_both_directions(void **state)
{
	static const uint8_t addr[][16] = {
		{ 192, 0, 2, 1 },
		{ 192, 0, 2, 200 },
		{ 198, 51, 100, 7 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 1 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	};
	static const uint16_t port[] = { 53, 443, 0xbb01, 0x01bb };
	unsigned na = sizeof(addr) / sizeof(addr[0]), np = sizeof(port) / sizeof(port[0]);

	(void)state;
	for (unsigned i = 0; i < na; i++)
		for (unsigned j = 0; j < na; j++)
			for (unsigned x = 0; x < np * np; x++) {
				struct sl_pkt p, q;
				struct sl_flow_key k, kq, kr;
				int fa, fq, fr;

				memset(&p, 0, sizeof(p));
				p.ipver = addr[i][15] || addr[i][8] || addr[i][4] ? 6 : 4;
				p.l4proto = SL_PROTO_TCP;
				memcpy(p.src.b, addr[i], 16);
				memcpy(p.dst.b, addr[j], 16);
				p.sport = port[x % np];
				p.dport = port[x / np];
				q = p;
				q.src = p.dst;
				q.dst = p.src;
				q.sport = p.dport;
				q.dport = p.sport;
				sl_flow_key_make(&p, &k, &fa);
				sl_flow_key_make(&q, &kq, &fq);
				key_ref(&p, &kr, &fr);
				assert_memory_equal(&k, &kr, sizeof(k));
				assert_int_equal(fa, fr);
				assert_memory_equal(&k, &kq, sizeof(k));
				if (i != j || p.sport != p.dport)
					assert_int_not_equal(fa, fq);
			}
}

static struct sl_worker *worker(void)
{
	struct sl_worker *w = rte_zmalloc("test_w", sizeof(*w), RTE_CACHE_LINE_SIZE);

	assert_non_null(w);
	assert_int_equal(sl_flows_init(w, NFLOWS), 0);
	w->now_tsc = 1;
	return w;
}

static void done(struct sl_worker *w)
{
	sl_flows_free(w);
	rte_free(w);
}

/* the inline hash is the table's */
static void test_hash_matches_rte_hash(void **state)
{
	struct sl_worker *w = worker();

	(void)state;
	for (unsigned i = 0; i < NKEYS; i++) {
		struct sl_flow_key k = key_of(i);

		assert_int_equal(sl_flow_hash(&k), rte_hash_hash(w->flow_hash, &k));
	}
	done(w);
}

/* two keys sharing a hint slot: each finds its own entry, in any order */
static void test_shared_hint_slot(void **state)
{
	struct sl_worker *w = worker();
	struct sl_flow_key a = key_of(0), b;
	struct sl_flow *fa, *fb;
	unsigned i;
	int created;

	(void)state;
	for (i = 1; i < 100000; i++) {
		b = key_of(i);
		if (((sl_flow_hash(&a) ^ sl_flow_hash(&b)) & w->hint_mask) == 0)
			break;
	}
	assert_true(i < 100000);
	fa = sl_flow_lookup_or_create(w, &a, sl_flow_hash(&a), &created);
	assert_non_null(fa);
	assert_true(created);
	fb = sl_flow_lookup_or_create(w, &b, sl_flow_hash(&b), &created);
	assert_non_null(fb);
	assert_true(created);
	assert_ptr_not_equal(fa, fb);
	for (int round = 0; round < 3; round++) {
		assert_ptr_equal(sl_flow_lookup_or_create(w, &a, sl_flow_hash(&a), &created), fa);
		assert_false(created);
		assert_ptr_equal(sl_flow_lookup_or_create(w, &b, sl_flow_hash(&b), &created), fb);
		assert_false(created);
	}
	/* released, its slot still naming it: the next packet makes a new flow */
	sl_flow_release(w, fa);
	fa = sl_flow_lookup_or_create(w, &a, sl_flow_hash(&a), &created);
	assert_non_null(fa);
	assert_true(created);
	assert_memory_equal(&fa->key, &a, sizeof(a));
	done(w);
}

/* random creates, lookups and releases against a model */
static void test_model(void **state)
{
	struct sl_worker *w = worker();
	struct sl_flow *live[NKEYS] = { 0 };
	unsigned nlive = 0;

	(void)state;
	srand(7);
	for (unsigned step = 0; step < 200000; step++) {
		unsigned i = (unsigned)rand() % NKEYS;
		struct sl_flow_key k = key_of(i);
		struct sl_flow *f;
		int created;

		if (live[i] != NULL && rand() % 4 == 0) {
			sl_flow_release(w, live[i]);
			live[i] = NULL;
			nlive--;
			continue;
		}
		f = sl_flow_lookup_or_create(w, &k, sl_flow_hash(&k), &created);
		if (live[i] != NULL) {
			assert_ptr_equal(f, live[i]);
			assert_false(created);
			continue;
		}
		if (nlive == NFLOWS) {
			assert_null(f);   /* full: the caller evicts */
			continue;
		}
		assert_non_null(f);
		assert_true(created);
		assert_true(f->in_use);
		assert_memory_equal(&f->key, &k, sizeof(k));
		live[i] = f;
		nlive++;
	}
	assert_int_equal(w->st.flows_active, nlive);
	done(w);
}

int main(void)
{
	char *eal[] = { "test_dp_flow", "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry",
			"-m", "64", "--lcores", "0", "--log-level=*:error", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_both_directions),
		cmocka_unit_test(test_hash_matches_rte_hash),
		cmocka_unit_test(test_shared_hint_slot),
		cmocka_unit_test(test_model),
	};

	if (rte_eal_init(10, eal) < 0)
		return 1;
	sl_dp.tsc_hz = rte_get_tsc_hz();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
