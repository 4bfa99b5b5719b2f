/* Unit tests for dataplane/frag_big.c: datagrams rte_ip_frag gave up,
 * reassembled apart. Fragment copies are put on the death row as
 * rte_ip_frag leaves them, adopted into a slot, the rest added in any
 * order; the datagram that comes out must be the one that was cut, with
 * its IP header made whole again. Duplicates are let go, conflicting
 * overlaps and impossible lengths refused, and every mbuf goes back to
 * its pool whatever happens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "sluice.h"

#define ETH 14
#define MAXD 4000

static struct rte_mempool *pool;
static struct sl_worker w;
static uint8_t data[MAXD];   /* the datagram's payload (after the IP header) */

/* An IPv4 fragment of datagram `id` carrying data[ofs, ofs + len), with
 * `fill` instead of the data when not 0. */
static struct rte_mbuf *frag4(uint16_t id, uint32_t ofs, uint32_t len, int more, uint8_t fill)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *f;
	struct rte_ipv4_hdr *ip;

	assert_non_null(m);
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ETH + 20 + len));
	assert_non_null(f);
	memset(f, 0, ETH);
	f[12] = 0x08;
	ip = (struct rte_ipv4_hdr *)(f + ETH);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + len));
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->fragment_offset = rte_cpu_to_be_16((uint16_t)((ofs / 8) | (more ? RTE_IPV4_HDR_MF_FLAG : 0)));
	ip->time_to_live = 64;
	ip->next_proto_id = 17;
	ip->src_addr = rte_cpu_to_be_32(0xc0000201);   /* 192.0.2.1 */
	ip->dst_addr = rte_cpu_to_be_32(0xc6336402);   /* 198.51.100.2 */
	if (fill)
		memset(f + ETH + 20, fill, len);
	else
		memcpy(f + ETH + 20, data + ofs, len);
	m->l2_len = ETH;
	return m;
}

/* The same for IPv6: fixed header, fragment header, data. */
static struct rte_mbuf *frag6(uint32_t id, uint32_t ofs, uint32_t len, int more)
{
	static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ipv6_hdr *ip;
	struct rte_ipv6_fragment_ext *fh;
	uint8_t *f;

	assert_non_null(m);
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ETH + 48 + len));
	assert_non_null(f);
	memset(f, 0, ETH);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip = (struct rte_ipv6_hdr *)(f + ETH);
	memset(ip, 0, sizeof(*ip));
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(8 + len));
	ip->proto = 44;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
	fh = (struct rte_ipv6_fragment_ext *)(ip + 1);
	fh->next_header = 17;
	fh->reserved = 0;
	fh->frag_data = rte_cpu_to_be_16((uint16_t)(ofs | (more ? 1 : 0)));
	fh->id = rte_cpu_to_be_32(id);
	memcpy(f + ETH + 48, data + ofs, len);
	m->l2_len = ETH;
	return m;
}

/* As rte_ip_frag leaves a datagram it gave up: its copies on the death
 * row. */
static void to_death_row(struct rte_mbuf **m, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		w.death_row.row[w.death_row.cnt++] = m[i];
}

/* Datagram id's first fragment (len0 bytes) and a second one, given up by
 * rte_ip_frag (on the death row) and adopted: their slot. */
static struct sl_bigfrag *adopted(uint16_t id, uint32_t len0, uint32_t ofs1, uint32_t len1,
				  int more1)
{
	struct rte_mbuf *m[2] = { frag4(id, 0, len0, 1, 0), frag4(id, ofs1, len1, more1, 0) };
	uint32_t row = w.death_row.cnt;
	struct sl_bigfrag *b;
	int complete;

	to_death_row(m, 2);
	b = sl_bigfrag_adopt(&w, m[1], row, &complete);
	assert_non_null(b);
	assert_false(complete);
	return b;
}

/* Every mbuf back in its pool once the slots are let go (refused ones
 * stay until they time out). */
static void pool_full(void)
{
	rte_ip_frag_free_death_row(&w.death_row, 0);
	sl_bigfrag_expire(&w, UINT64_MAX);
	assert_int_equal(w.nbig, 0);
	assert_int_equal(rte_mempool_avail_count(pool), pool->size);
}

static int setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < MAXD; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	memset(&w.st, 0, sizeof(w.st));
	w.death_row.cnt = 0;
	w.now_tsc = 1000;
	return 0;
}

/* The datagram in w.linbuf (n bytes) is the IPv4 one cut: header made
 * whole (length, no fragment bits, checksum) and every data byte. */
static void check_whole4(uint32_t n, uint32_t total)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(w.linbuf + ETH);

	assert_int_equal(n, ETH + 20 + total);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), 20 + total);
	assert_int_equal(ip->fragment_offset & rte_cpu_to_be_16(0x3fff), 0);
	{
		struct rte_ipv4_hdr h = *ip;
		uint16_t want = h.hdr_checksum;

		h.hdr_checksum = 0;
		assert_int_equal(rte_ipv4_cksum(&h), want);
	}
	assert_memory_equal(w.linbuf + ETH + 20, data, total);
}

/* 12 fragments of 32 bytes and a short last one: rte_ip_frag held the
 * first 8 and gave up at the 9th; the rest come in reverse order. */
static void test_v4_many_out_of_order(void **state)
{
	struct rte_mbuf *m[13];
	struct sl_bigfrag *b;
	uint32_t total = 12 * 32 + 20, n;
	int complete, rc = 0;

	(void)state;
	for (unsigned i = 0; i < 12; i++)
		m[i] = frag4(0x1111, i * 32, 32, 1, 0);
	m[12] = frag4(0x1111, 12 * 32, 20, 0, 0);
	to_death_row(m, 9);
	b = sl_bigfrag_adopt(&w, m[8], 0, &complete);
	assert_non_null(b);
	assert_false(complete);
	assert_int_equal(w.death_row.cnt, 0);   /* all taken off the death row */
	for (int i = 12; i >= 9; i--) {
		assert_ptr_equal(sl_bigfrag_find(&w, m[i]), b);
		rc = sl_bigfrag_add(&w, b, m[i]);
		assert_int_equal(rc, i == 9 ? 1 : 0);
	}
	n = sl_bigfrag_linearise(&w, b);
	check_whole4(n, total);
	assert_int_equal(w.st.frag_big_reassembled, 1);
	assert_int_equal(w.nbig, 0);
	pool_full();
}

/* IPv6: the fragment header goes, its next header comes back. */
static void test_v6(void **state)
{
	struct rte_mbuf *m[10];
	struct sl_bigfrag *b;
	const struct rte_ipv6_hdr *ip;
	uint32_t n;
	int complete;

	(void)state;
	for (unsigned i = 0; i < 9; i++)
		m[i] = frag6(0xabcdef, i * 64, 64, 1);
	m[9] = frag6(0xabcdef, 9 * 64, 10, 0);
	to_death_row(m, 9);
	b = sl_bigfrag_adopt(&w, m[8], 0, &complete);
	assert_non_null(b);
	assert_false(complete);
	assert_int_equal(sl_bigfrag_add(&w, b, m[9]), 1);
	n = sl_bigfrag_linearise(&w, b);
	assert_int_equal(n, ETH + 40 + 9 * 64 + 10);
	ip = (const struct rte_ipv6_hdr *)(w.linbuf + ETH);
	assert_int_equal(ip->proto, 17);
	assert_int_equal(rte_be_to_cpu_16(ip->payload_len), 9 * 64 + 10);
	assert_memory_equal(w.linbuf + ETH + 40, data, 9 * 64 + 10);
	pool_full();
}

/* A fragment twice (rte_ip_frag gives up on a second first fragment):
 * the copy is let go, the datagram completes. */
static void test_duplicate(void **state)
{
	struct rte_mbuf *m[4];
	struct sl_bigfrag *b;
	int complete;

	(void)state;
	m[0] = frag4(0x2222, 0, 48, 1, 0);
	m[1] = frag4(0x2222, 0, 48, 1, 0);
	m[2] = frag4(0x2222, 48, 48, 1, 0);
	m[3] = frag4(0x2222, 96, 30, 0, 0);
	to_death_row(m, 2);
	b = sl_bigfrag_adopt(&w, m[1], 0, &complete);
	assert_non_null(b);
	assert_int_equal(b->n, 1);
	assert_int_equal(sl_bigfrag_add(&w, b, m[2]), 0);
	assert_int_equal(sl_bigfrag_add(&w, b, m[3]), 1);
	check_whole4(sl_bigfrag_linearise(&w, b), 126);
	pool_full();
}

/* Refused: -EBADMSG, the slot's pieces freed, its key kept so that
 * every later fragment of the datagram is refused too. */
static void refused(struct sl_bigfrag *b, int rc, uint16_t id)
{
	assert_int_equal(rc, -EBADMSG);
	assert_true(b->refused);
	assert_int_equal(b->n, 0);
	assert_int_equal(sl_bigfrag_add(&w, b, frag4(id, 300, 8, 1, 0)), -EBADMSG);
	{
		struct rte_mbuf *m = frag4(id, 0, 8, 1, 0);

		assert_ptr_equal(sl_bigfrag_find(&w, m), b);
		rte_pktmbuf_free(m);
	}
	sl_bigfrag_expire(&w, UINT64_MAX);
}

/* The same place with other bytes: refused. So is a partial overlap,
 * even with the same bytes. */
static void test_conflicting_overlap(void **state)
{
	struct sl_bigfrag *b;
	struct rte_mbuf *m[2];
	int complete;

	(void)state;
	b = adopted(0x3333, 48, 48, 48, 1);
	refused(b, sl_bigfrag_add(&w, b, frag4(0x3333, 48, 48, 1, 'X')), 0x3333);
	b = adopted(0x3333, 48, 48, 48, 1);
	refused(b, sl_bigfrag_add(&w, b, frag4(0x3333, 40, 16, 1, 0)), 0x3333);
	/* conflicting pieces on the death row itself: a refused slot; what
	 * was taken is freed, the rest stays on the death row */
	m[0] = frag4(0x3333, 0, 48, 1, 0);
	m[1] = frag4(0x3333, 0, 48, 1, 'Y');
	to_death_row(m, 2);
	b = sl_bigfrag_adopt(&w, m[1], 0, &complete);
	assert_non_null(b);
	assert_true(b->refused);
	assert_int_equal(w.death_row.cnt, 1);
	assert_int_equal(w.st.frag_big_refused, 3);
	pool_full();
}

/* Lengths that cannot be: two last fragments that end apart, data past
 * the end, a middle fragment not a multiple of 8. */
static void test_impossible_lengths(void **state)
{
	struct sl_bigfrag *b;

	(void)state;
	b = adopted(0x4444, 48, 96, 20, 0);
	refused(b, sl_bigfrag_add(&w, b, frag4(0x4444, 200, 8, 0, 0)), 0x4444);
	b = adopted(0x4444, 48, 96, 20, 0);
	refused(b, sl_bigfrag_add(&w, b, frag4(0x4444, 120, 8, 1, 0)), 0x4444);
	b = adopted(0x4444, 48, 96, 20, 0);
	refused(b, sl_bigfrag_add(&w, b, frag4(0x4444, 48, 12, 1, 0)), 0x4444);
	/* a last fragment that ends before data already held: with a gap
	 * left, the bytes held would add up to its end */
	b = adopted(0x4444, 48, 200, 48, 1);
	refused(b, sl_bigfrag_add(&w, b, frag4(0x4444, 96, 48, 0, 0)), 0x4444);
	pool_full();
}

/* Complete, but longer than an IPv4 datagram can be with its header
 * (65515 bytes of data at most): not given out. */
static void test_v4_too_long(void **state)
{
	struct sl_bigfrag *b = adopted(0x9999, 1480, 1480, 1480, 1);
	int rc = 0;

	(void)state;
	for (uint32_t ofs = 2960; rc == 0; ofs += 1480) {
		uint32_t len = ofs + 1480 >= 65520 ? 65520 - ofs : 1480;

		rc = sl_bigfrag_add(&w, b, frag4(0x9999, ofs, len, ofs + len < 65520, 'z'));
	}
	assert_int_equal(rc, 1);
	assert_int_equal(sl_bigfrag_linearise(&w, b), 0);
	pool_full();
}

/* rte_ip_frag had no entry for the datagram (its table was full): one
 * copy on the death row, not adopted; nor are other datagrams' copies
 * around it touched. */
static void test_adopt_only_its_own(void **state)
{
	struct rte_mbuf *m[4];
	struct sl_bigfrag *b;
	int complete;

	(void)state;
	m[0] = frag4(0x5555, 0, 48, 1, 0);
	to_death_row(m, 1);
	assert_null(sl_bigfrag_adopt(&w, m[0], 0, &complete));
	assert_int_equal(w.death_row.cnt, 1);
	/* ours among another datagram's */
	m[0] = frag4(0x6666, 0, 48, 1, 0);
	m[1] = frag4(0x5555, 48, 48, 1, 0);
	m[2] = frag4(0x6666, 48, 48, 1, 0);
	m[3] = frag4(0x5555, 96, 48, 1, 0);
	to_death_row(m, 4);
	b = sl_bigfrag_adopt(&w, m[3], 1, &complete);
	assert_non_null(b);
	assert_int_equal(b->n, 2);
	assert_int_equal(w.death_row.cnt, 3);   /* the first one and 0x6666's two */
	assert_ptr_equal(w.death_row.row[1], m[0]);
	assert_ptr_equal(w.death_row.row[2], m[2]);
	pool_full();
}

/* All slots taken: not adopted, counted. Slots time out. */
static void test_slots_full_and_expiry(void **state)
{
	struct rte_mbuf *m[2];
	uint64_t ms = sl_dp.tsc_hz / 1000;
	int complete;

	(void)state;
	for (unsigned i = 0; i < SL_BIGFRAG_SLOTS; i++)
		adopted((uint16_t)(0x7000 + i), 48, 48, 48, 1);
	m[0] = frag4(0x7fff, 0, 48, 1, 0);
	m[1] = frag4(0x7fff, 48, 48, 1, 0);
	to_death_row(m, 2);
	assert_null(sl_bigfrag_adopt(&w, m[1], 0, &complete));
	assert_int_equal(w.st.frag_big_full, 1);
	assert_int_equal(w.nbig, SL_BIGFRAG_SLOTS);
	/* not yet */
	sl_bigfrag_expire(&w, w.now_tsc + ms * sl_dp.cfg.frag_timeout_ms / 2);
	assert_int_equal(w.nbig, SL_BIGFRAG_SLOTS);
	sl_bigfrag_expire(&w, w.now_tsc + ms * sl_dp.cfg.frag_timeout_ms * 2);
	assert_int_equal(w.nbig, 0);
	assert_int_equal(w.st.frag_big_expired, SL_BIGFRAG_SLOTS);
	pool_full();
}

/* More fragments than a slot holds: refused. */
static void test_too_many_pieces(void **state)
{
	struct sl_bigfrag *b = adopted(0x8888, 8, 8, 8, 1);
	int rc = 0;

	(void)state;
	for (unsigned i = 2; i <= SL_BIGFRAG_PIECES && rc == 0; i++) {
		rc = sl_bigfrag_add(&w, b, frag4(0x8888, i * 8, 8, 1, 0));
		if (i < SL_BIGFRAG_PIECES)
			assert_int_equal(rc, 0);
	}
	assert_int_equal(rc, -EBADMSG);
	assert_true(b->refused);
	pool_full();
}

int main(void)
{
	char *eal[] = { "test_dp_frag_big", "--no-huge", "--no-pci", "--no-shconf",
			"--no-telemetry", "-m", "64", "--lcores", "0", "--log-level=*:error",
			NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_v4_many_out_of_order, setup),
		cmocka_unit_test_setup(test_v6, setup),
		cmocka_unit_test_setup(test_duplicate, setup),
		cmocka_unit_test_setup(test_conflicting_overlap, setup),
		cmocka_unit_test_setup(test_impossible_lengths, setup),
		cmocka_unit_test_setup(test_v4_too_long, setup),
		cmocka_unit_test_setup(test_adopt_only_its_own, setup),
		cmocka_unit_test_setup(test_slots_full_and_expiry, setup),
		cmocka_unit_test_setup(test_too_many_pieces, setup),
	};
	int rc;

	if (rte_eal_init(10, eal) < 0)
		return 1;
	sl_dp.tsc_hz = rte_get_tsc_hz();
	sl_dp.cfg.frag_timeout_ms = 2000;
	pool = rte_pktmbuf_pool_create("frag", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	w.socket = 0;
	if (pool == NULL || sl_bigfrag_init(&w) < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	sl_bigfrag_release(&w);
	return rc;
}
