/* Unit tests of the packet decoder: every result code, VLAN/QinQ, IPv4
 * options and padding, IPv6 extension headers, fragments, truncation at
 * every byte and random input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/decode.h"
#include "testutil.h"

static const uint8_t hello[] = "hello, world";

/* Consistency every successful decode must satisfy. */
static void check_invariants(const struct sl_pkt *p, uint32_t len)
{
	assert_true(p->l3_off <= len);
	assert_true(p->ip_end <= len);
	assert_true(p->l3_off < p->ip_end);
	assert_true((uint64_t)p->payload_off + p->payload_len <= p->ip_end);
	assert_true(p->payload_off >= p->l3_off);
	if (p->l4_off) {
		assert_true(p->l4_off > p->l3_off);
		assert_true(p->l4_off < p->payload_off);
	}
	assert_true(p->ipver == 4 || p->ipver == 6);
	assert_true(p->nvlan <= SL_MAX_VLAN);
}

static void test_ipv4_tcp(void **state)
{
	uint8_t f[256];
	struct tu_opts o;
	struct sl_pkt p;
	uint32_t n;

	(void)state;
	tu_opts_default(&o, 4, 6);
	o.seq = 0xdeadbeef;
	o.ack = 0x01020304;
	o.flags = SL_TCP_PSH | SL_TCP_ACK | SL_TCP_ECE;
	n = tu_build(f, &o, hello, sizeof(hello) - 1);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	check_invariants(&p, n);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.payload_off, 54);
	assert_int_equal(p.payload_len, sizeof(hello) - 1);
	assert_int_equal(p.ip_end, n);
	assert_int_equal(p.ipver, 4);
	assert_int_equal(p.l4proto, SL_PROTO_TCP);
	assert_int_equal(p.ttl, 61);
	assert_int_equal(p.src.family, 4);
	assert_memory_equal(p.src.b, ((uint8_t[]){ 10, 0, 0, 1 }), 4);
	assert_memory_equal(p.dst.b, ((uint8_t[]){ 10, 0, 0, 2 }), 4);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.seq, 0xdeadbeef);
	assert_int_equal(p.ack, 0x01020304);
	assert_int_equal(p.tcp_flags, SL_TCP_PSH | SL_TCP_ACK | SL_TCP_ECE);
	assert_int_equal(p.win, 29200);
	assert_int_equal(p.nvlan, 0);
	assert_int_equal(p.is_frag, 0);
	assert_memory_equal(f + p.payload_off, hello, p.payload_len);
}

static void test_options_and_padding(void **state)
{
	uint8_t f[256];
	struct tu_opts o;
	struct sl_pkt p;
	uint32_t n;

	(void)state;
	tu_opts_default(&o, 4, 6);
	o.ip4_opt = 8;
	o.tcp_opt = 12;
	o.pad = 18;
	n = tu_build(f, &o, "ab", 2);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	check_invariants(&p, n);
	assert_int_equal(p.l4_off, 14 + 28);
	assert_int_equal(p.payload_off, 14 + 28 + 32);
	assert_int_equal(p.payload_len, 2);
	assert_int_equal(p.ip_end, n - 18);
	assert_memory_equal(f + p.payload_off, "ab", 2);

	/* a minimum-size frame: a pure ACK padded to 60 bytes */
	o.ip4_opt = 0;
	o.tcp_opt = 0;
	o.pad = 6;
	n = tu_build(f, &o, NULL, 0);
	assert_int_equal(n, 60);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.ip_end, 54);

	/* UDP padded */
	tu_opts_default(&o, 4, 17);
	o.pad = 10;
	n = tu_build(f, &o, "xyz", 3);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	assert_int_equal(p.payload_len, 3);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 53);
}

static void test_vlan(void **state)
{
	uint8_t f[256];
	struct tu_opts o;
	struct sl_pkt p;
	uint32_t n;

	(void)state;
	tu_opts_default(&o, 4, 6);
	o.nvlan = 1;
	o.tpid[0] = 0x8100;
	o.tci[0] = 0xa123;  /* PCP 5, VID 0x123 */
	n = tu_build(f, &o, hello, 5);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	check_invariants(&p, n);
	assert_int_equal(p.nvlan, 1);
	assert_int_equal(p.vlan_tci[0], 0xa123);
	assert_int_equal(p.vlan_tpid[0], 0x8100);
	assert_int_equal(p.l3_off, 18);
	assert_int_equal(p.payload_len, 5);

	/* QinQ: 802.1ad outer, 802.1Q inner, over IPv6 */
	tu_opts_default(&o, 6, 6);
	o.nvlan = 2;
	o.tpid[0] = 0x88a8;
	o.tci[0] = 100;
	o.tpid[1] = 0x8100;
	o.tci[1] = 200;
	n = tu_build(f, &o, hello, 5);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	check_invariants(&p, n);
	assert_int_equal(p.nvlan, 2);
	assert_int_equal(p.vlan_tci[0], 100);
	assert_int_equal(p.vlan_tci[1], 200);
	assert_int_equal(p.vlan_tpid[0], 0x88a8);
	assert_int_equal(p.vlan_tpid[1], 0x8100);
	assert_int_equal(p.l3_off, 22);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(p.payload_len, 5);

	/* old QinQ TPID 0x9100 */
	o.tpid[0] = 0x9100;
	n = tu_build(f, &o, hello, 5);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	assert_int_equal(p.vlan_tpid[0], 0x9100);

	/* three tags */
	o.nvlan = 3;
	o.tpid[2] = 0x8100;
	o.tci[2] = 300;
	n = tu_build(f, &o, hello, 5);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_TOO_MANY_VLAN);

	/* tag cut short */
	o.nvlan = 1;
	o.tpid[0] = 0x8100;
	n = tu_build(f, &o, hello, 5);
	assert_int_equal(sl_decode(f, 16, &p), SL_DEC_TRUNC_L2);
	assert_int_equal(sl_decode(f, 17, &p), SL_DEC_TRUNC_L2);
	assert_int_equal(sl_decode(f, 18, &p), SL_DEC_TRUNC_L3);
}

static void test_not_ip(void **state)
{
	uint8_t f[64] = { 0 };
	struct sl_pkt p;

	(void)state;
	f[12] = 0x08;
	f[13] = 0x06; /* ARP */
	assert_int_equal(sl_decode(f, 60, &p), SL_DEC_NOT_IP);
	assert_int_equal(p.l3_off, 14);
	f[12] = 0x00;
	f[13] = 0x40; /* 802.3 length */
	assert_int_equal(sl_decode(f, 60, &p), SL_DEC_NOT_IP);
	f[12] = 0x88;
	f[13] = 0xcc; /* LLDP */
	assert_int_equal(sl_decode(f, 60, &p), SL_DEC_NOT_IP);
}

static void set16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void test_result_codes(void **state)
{
	uint8_t f[256], g[256];
	struct tu_opts o;
	struct sl_pkt p;
	uint32_t n;
	int i, j;

	(void)state;
	/* names are distinct and known */
	for (i = 0; i < SL_DEC__COUNT; i++) {
		assert_string_not_equal(sl_decode_result_name(i), "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(sl_decode_result_name(i),
						sl_decode_result_name(j));
	}
	assert_string_equal(sl_decode_result_name(-1), "unknown");
	assert_string_equal(sl_decode_result_name(SL_DEC__COUNT), "unknown");
	assert_string_equal(sl_decode_result_name(SL_DEC_BAD_IHL), "bad-ihl");

	tu_opts_default(&o, 4, 6);
	n = tu_build(f, &o, hello, 8);

	/* zero length, short Ethernet */
	assert_int_equal(sl_decode(f, 0, &p), SL_DEC_TRUNC_L2);
	assert_int_equal(sl_decode(NULL, 0, &p), SL_DEC_TRUNC_L2);
	assert_int_equal(sl_decode(f, 13, &p), SL_DEC_TRUNC_L2);
	/* IPv4 header cut */
	assert_int_equal(sl_decode(f, 14, &p), SL_DEC_TRUNC_L3);
	assert_int_equal(sl_decode(f, 33, &p), SL_DEC_TRUNC_L3);
	/* total length says more than the frame has */
	assert_int_equal(sl_decode(f, n - 1, &p), SL_DEC_BAD_IP_LEN);

	/* version 6 behind EtherType IPv4 */
	memcpy(g, f, n);
	g[14] = 0x65;
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_BAD_IP_VERSION);
	/* IHL 4, IHL 15 beyond the frame */
	memcpy(g, f, n);
	g[14] = 0x44;
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_BAD_IHL);
	g[14] = 0x4f;
	assert_int_equal(sl_decode(g, 14 + 40, &p), SL_DEC_BAD_IHL);
	/* total length below IHL */
	memcpy(g, f, n);
	set16(g + 16, 19);
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_BAD_IP_LEN);
	/* TCP header cut: IP total length leaves 19 bytes */
	memcpy(g, f, n);
	set16(g + 16, 20 + 19);
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_TRUNC_L4);
	/* data offset 4, data offset beyond the segment */
	memcpy(g, f, n);
	g[34 + 12] = 0x40;
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_BAD_TCP_OFF);
	g[34 + 12] = 0xf0;
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_BAD_TCP_OFF);
	/* fragment: offset + length beyond 65535 */
	memcpy(g, f, n);
	set16(g + 20, 0x1fff);
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_BAD_FRAG);
	/* MF with a length not a multiple of 8 (28 + 8 payload = 36 bytes) */
	set16(g + 20, 0x2000);
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_BAD_FRAG);

	/* UDP */
	tu_opts_default(&o, 4, 17);
	n = tu_build(f, &o, hello, 8);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	memcpy(g, f, n);
	set16(g + 34 + 4, 7);
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_BAD_UDP_LEN);
	set16(g + 34 + 4, 17);
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_BAD_UDP_LEN);
	/* UDP length shorter than the IP payload: trimmed to it */
	set16(g + 34 + 4, 8 + 3);
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_OK);
	assert_int_equal(p.payload_len, 3);
	/* UDP header cut */
	memcpy(g, f, n);
	set16(g + 16, 20 + 7);
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_TRUNC_L4);

	/* IPv6: header cut, payload length beyond the frame */
	tu_opts_default(&o, 6, 6);
	n = tu_build(f, &o, hello, 8);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	assert_int_equal(sl_decode(f, 14 + 39, &p), SL_DEC_TRUNC_L3);
	assert_int_equal(sl_decode(f, n - 1, &p), SL_DEC_BAD_IP_LEN);
	memcpy(g, f, n);
	g[14] = 0x45;
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_BAD_IP_VERSION);
	/* payload length 0 with TCP next: TCP header missing */
	set16(g + 18, 0);
	g[14] = 0x60;
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_TRUNC_L4);
	/* sl_decode_l3 with a bad version nibble / nothing */
	memset(&p, 0, sizeof(p));
	assert_int_equal(sl_decode_l3(f + 14, 0, &p), SL_DEC_TRUNC_L3);
	g[14] = 0x50;
	assert_int_equal(sl_decode_l3(g + 14, n - 14, &p), SL_DEC_BAD_IP_VERSION);
}

/* IPv6 frame with the given extension headers (each given as type, len
 * field, 8*(len+1) bytes) in front of TCP. */
static uint32_t build_v6_ext(uint8_t *f, const uint8_t *types, const uint8_t *lens,
			     int next, int n, uint32_t plen)
{
	struct tu_opts o;
	uint8_t tmp[512];
	uint32_t base, ext = 0, tcp_len;
	int i;

	static uint8_t pl[256];

	if (pl[0] == 0)
		for (i = 0; i < (int)sizeof(pl); i++)
			pl[i] = i < (int)sizeof(hello) - 1 ? hello[i] : (uint8_t)('A' + i % 26);
	tu_opts_default(&o, 6, 6);
	base = tu_build(tmp, &o, pl, plen);
	/* tmp: 14 eth + 40 ipv6 + tcp */
	tcp_len = base - 54;
	memcpy(f, tmp, 54);
	for (i = 0; i < n; i++) {
		uint8_t *x = f + 54 + ext;
		uint32_t hl = types[i] == 51 ? ((uint32_t)lens[i] + 2) * 4
					     : ((uint32_t)lens[i] + 1) * 8;

		if (types[i] == 44)
			hl = 8;
		memset(x, 0, hl);
		x[0] = i + 1 < n ? types[i + 1] : (uint8_t)next;
		x[1] = types[i] == 44 ? 0 : lens[i];
		if (types[i] == 0 || types[i] == 60) {
			x[2] = 1;       /* PadN option covering the rest */
			x[3] = (uint8_t)(hl - 4);
		}
		ext += hl;
	}
	f[14 + 6] = n ? types[0] : (uint8_t)next;
	memcpy(f + 54 + ext, tmp + 54, tcp_len);
	set16(f + 18, ext + tcp_len);
	return 54 + ext + tcp_len;
}

static void test_ipv6_ext(void **state)
{
	uint8_t f[1024];
	struct sl_pkt p;
	uint32_t n;
	static const uint8_t t1[] = { 0, 43, 60, 51 };
	static const uint8_t l1[] = { 0, 2, 1, 4 };
	static const uint8_t t2[] = { 60, 0 };
	static const uint8_t l2[] = { 0, 0 };
	uint8_t t3[SL_MAX_IP6_EXT + 1], l3[SL_MAX_IP6_EXT + 1];

	(void)state;
	n = build_v6_ext(f, t1, l1, 6, 4, 6);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	check_invariants(&p, n);
	assert_int_equal(p.l4proto, SL_PROTO_TCP);
	assert_int_equal(p.l4_off, 54 + 8 + 24 + 16 + 24);
	assert_int_equal(p.payload_len, 6);
	assert_memory_equal(f + p.payload_off, hello, 6);
	assert_int_equal(p.sport, 40000);
	assert_true(tu_l4_csum_ok(f, &p));

	/* hop-by-hop not first */
	n = build_v6_ext(f, t2, l2, 6, 2, 6);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_BAD_IP6_EXT);

	/* too many */
	memset(t3, 60, sizeof(t3));
	memset(l3, 0, sizeof(l3));
	n = build_v6_ext(f, t3, l3, 6, SL_MAX_IP6_EXT, 6);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	n = build_v6_ext(f, t3, l3, 6, SL_MAX_IP6_EXT + 1, 6);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_BAD_IP6_EXT);

	/* extension header longer than the payload */
	n = build_v6_ext(f, t1, l1, 6, 4, 6);
	f[54 + 1] = 200;
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_BAD_IP6_EXT);
	/* extension header cut (payload ends inside it) */
	n = build_v6_ext(f, t1, l1, 6, 1, 0);
	set16(f + 18, 4);
	assert_int_equal(sl_decode(f, 58, &p), SL_DEC_BAD_IP6_EXT);

	/* no next header after a destination options header */
	n = build_v6_ext(f, t2, l2, 59, 1, 0);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	assert_int_equal(p.l4proto, 59);
	assert_int_equal(p.l4_off, 0);
	assert_int_equal(p.sport, 0);
}

static void test_ipv4_fragments(void **state)
{
	uint8_t f[256], g[256];
	struct tu_opts o;
	struct sl_pkt p;
	uint32_t n;

	(void)state;
	tu_opts_default(&o, 4, 17);
	n = tu_build(f, &o, "0123456789abcdef", 16); /* UDP 8 + 16 = 24 */

	/* first fragment: MF, offset 0; L4 decoded */
	memcpy(g, f, n);
	set16(g + 20, 0x2000);
	set16(g + 18, 0x4242);
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_OK);
	check_invariants(&p, n);
	assert_int_equal(p.is_frag, 1);
	assert_int_equal(p.frag_first, 1);
	assert_int_equal(p.frag_more, 1);
	assert_int_equal(p.frag_off, 0);
	assert_int_equal(p.frag_id, 0x4242);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.payload_len, 16);

	/* a first fragment whose UDP length covers the whole datagram */
	set16(g + 34 + 4, 1000);
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_OK);
	assert_int_equal(p.payload_len, 16);

	/* middle fragment: offset 1480, L4 not decoded */
	set16(g + 20, 0x2000 | (1480 / 8));
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_OK);
	check_invariants(&p, n);
	assert_int_equal(p.is_frag, 1);
	assert_int_equal(p.frag_first, 0);
	assert_int_equal(p.frag_more, 1);
	assert_int_equal(p.frag_off, 1480);
	assert_int_equal(p.l4_off, 0);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.payload_off, 34);
	assert_int_equal(p.payload_len, 24);
	assert_int_equal(p.l4proto, SL_PROTO_UDP);

	/* last fragment: no MF, offset > 0 */
	set16(g + 20, 2960 / 8);
	assert_int_equal(sl_decode(g, n, &p), SL_DEC_OK);
	assert_int_equal(p.is_frag, 1);
	assert_int_equal(p.frag_more, 0);
	assert_int_equal(p.frag_off, 2960);

	/* tiny first fragment of TCP (less than a TCP header): no L4, OK */
	tu_opts_default(&o, 4, 6);
	n = tu_build(f, &o, NULL, 0);
	set16(f + 20, 0x2000);
	set16(f + 16, 20 + 8);
	assert_int_equal(sl_decode(f, 14 + 28, &p), SL_DEC_OK);
	assert_int_equal(p.is_frag, 1);
	assert_int_equal(p.l4_off, 0);
	assert_int_equal(p.payload_len, 8);
	/* zero-length fragment */
	set16(f + 16, 20);
	set16(f + 20, 10);
	assert_int_equal(sl_decode(f, 14 + 20, &p), SL_DEC_BAD_FRAG);
}

static void test_ipv6_fragments(void **state)
{
	uint8_t f[512];
	struct sl_pkt p;
	uint32_t n;
	static const uint8_t tf[] = { 44 };
	static const uint8_t lf[] = { 0 };
	static const uint8_t tff[] = { 44, 44 };
	static const uint8_t lff[] = { 0, 0 };

	(void)state;
	/* atomic fragment (offset 0, M clear): a whole datagram */
	n = build_v6_ext(f, tf, lf, 6, 1, 12);
	set16(f + 54 + 4, 0x1234);
	set16(f + 54 + 6, 0x5678);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	check_invariants(&p, n);
	assert_int_equal(p.is_frag, 0);
	assert_int_equal(p.frag_hdr_off, 54);
	assert_int_equal(p.l4_off, 62);
	assert_int_equal(p.payload_len, 12);

	/* first fragment: M set; TCP header whole inside: decoded */
	set16(f + 54 + 2, 1);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	assert_int_equal(p.is_frag, 1);
	assert_int_equal(p.frag_first, 1);
	assert_int_equal(p.frag_more, 1);
	assert_int_equal(p.frag_id, 0x12345678);
	assert_int_equal(p.l4_off, 62);
	assert_int_equal(p.sport, 40000);

	/* non-first fragment: offset 1448 */
	set16(f + 54 + 2, 1448);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	check_invariants(&p, n);
	assert_int_equal(p.is_frag, 1);
	assert_int_equal(p.frag_first, 0);
	assert_int_equal(p.frag_more, 0);
	assert_int_equal(p.frag_off, 1448);
	assert_int_equal(p.l4_off, 0);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.l4proto, SL_PROTO_TCP);
	assert_int_equal(p.payload_off, 62);
	assert_int_equal(p.payload_len, n - 62);

	/* beyond 65535 */
	set16(f + 54 + 2, 65528);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_BAD_FRAG);
	/* two fragment headers */
	n = build_v6_ext(f, tff, lff, 6, 2, 8);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_BAD_FRAG);
}

static void test_tfo_syn_and_flags(void **state)
{
	uint8_t f[256];
	struct tu_opts o;
	struct sl_pkt p;
	uint32_t n;

	(void)state;
	tu_opts_default(&o, 6, 6);
	o.flags = SL_TCP_SYN;
	o.tcp_opt = 20;
	n = tu_build(f, &o, "GET / HTTP/1.1\r\n\r\n", 18);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	assert_int_equal(p.tcp_flags, SL_TCP_SYN);
	assert_int_equal(p.payload_len, 18);
	assert_memory_equal(f + p.payload_off, "GET /", 5);

	o.flags = 0; /* no flag at all */
	n = tu_build(f, &o, "x", 1);
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	assert_int_equal(p.tcp_flags, 0);
}

static void test_decode_l3(void **state)
{
	uint8_t f[256];
	struct tu_opts o;
	struct sl_pkt p;
	uint32_t n;

	(void)state;
	tu_opts_default(&o, 4, 6);
	n = tu_build(f, &o, hello, 7);
	memset(&p, 0xee, sizeof(p));
	p.nvlan = 1;
	p.vlan_tci[0] = 77;
	p.vlan_tpid[0] = 0x8100;
	assert_int_equal(sl_decode_l3(f + 14, n - 14, &p), SL_DEC_OK);
	check_invariants(&p, n - 14);
	assert_int_equal(p.nvlan, 1);
	assert_int_equal(p.vlan_tci[0], 77);
	assert_int_equal(p.vlan_tpid[0], 0x8100);
	assert_int_equal(p.l3_off, 0);
	assert_int_equal(p.l4_off, 20);
	assert_int_equal(p.payload_off, 40);
	assert_int_equal(p.payload_len, 7);
	assert_int_equal(p.is_frag, 0);
	assert_int_equal(p.frag_hdr_off, 0);

	tu_opts_default(&o, 6, 17);
	n = tu_build(f, &o, hello, 7);
	memset(&p, 0, sizeof(p));
	assert_int_equal(sl_decode_l3(f + 14, n - 14, &p), SL_DEC_OK);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(p.payload_off, 48);
	assert_int_equal(p.payload_len, 7);
}

/* A frame cut at every length never reads past it (ASan/valgrind catch
 * it if it does) and only the full one decodes OK. */
static void test_truncation(void **state)
{
	uint8_t f[512];
	static const uint8_t t1[] = { 0, 43, 44, 60 };
	static const uint8_t l1[] = { 0, 0, 0, 1 };
	struct tu_opts o;
	struct sl_pkt p;
	uint32_t n, i;

	(void)state;
	/* IPv6 + extension headers + TCP with options, behind QinQ */
	n = build_v6_ext(f, t1, l1, 6, 4, 32);
	{
		uint8_t g[512];

		/* insert two VLAN tags */
		memcpy(g, f, 12);
		set16(g + 12, 0x88a8);
		set16(g + 14, 10);
		set16(g + 16, 0x8100);
		set16(g + 18, 20);
		memcpy(g + 20, f + 12, n - 12);
		n += 8;
		memcpy(f, g, n);
	}
	assert_int_equal(sl_decode(f, n, &p), SL_DEC_OK);
	assert_int_equal(p.payload_len, 32);
	for (i = 0; i < n; i++) {
		uint8_t *c = malloc(i ? i : 1);
		int r;

		memcpy(c, f, i);
		r = sl_decode(c, i, &p);
		assert_int_not_equal(r, SL_DEC_OK);
		assert_true(r > SL_DEC_OK && r < SL_DEC__COUNT);
		free(c);
	}

	/* IPv4 TCP with options */
	tu_opts_default(&o, 4, 6);
	o.ip4_opt = 4;
	o.tcp_opt = 12;
	n = tu_build(f, &o, hello, 12);
	for (i = 0; i <= n; i++) {
		uint8_t *c = malloc(i ? i : 1);
		int r;

		memcpy(c, f, i);
		r = sl_decode(c, i, &p);
		if (i == n)
			assert_int_equal(r, SL_DEC_OK);
		else
			assert_int_not_equal(r, SL_DEC_OK);
		free(c);
	}
}

/* Random bytes and random mutations of valid frames: no crash, results
 * in range, invariants hold on OK. */
static void test_random(void **state)
{
	uint64_t seed = 0x5eed1234abcdull;
	uint8_t base[4][512];
	uint32_t blen[4];
	struct tu_opts o;
	struct sl_pkt p;
	static const uint8_t t1[] = { 0, 43, 44, 51 };
	static const uint8_t l1[] = { 0, 0, 0, 1 };
	int it, counts[SL_DEC__COUNT] = { 0 };

	(void)state;
	tu_opts_default(&o, 4, 6);
	o.ip4_opt = 4;
	blen[0] = tu_build(base[0], &o, hello, 10);
	tu_opts_default(&o, 6, 17);
	o.nvlan = 2;
	o.tpid[0] = 0x88a8;
	o.tpid[1] = 0x8100;
	blen[1] = tu_build(base[1], &o, hello, 10);
	blen[2] = build_v6_ext(base[2], t1, l1, 6, 4, 10);
	tu_opts_default(&o, 4, 17);
	blen[3] = tu_build(base[3], &o, hello, 10);

	for (it = 0; it < 300000; it++) {
		uint8_t buf[512];
		uint32_t len;
		uint64_t r = tu_rand(&seed);
		int rc;

		if (it % 3 == 0) {
			/* pure random bytes, sometimes with an IP EtherType */
			len = (uint32_t)(r % 160);
			for (uint32_t i = 0; i < len; i++)
				buf[i] = (uint8_t)tu_rand(&seed);
			if (len > 14 && (r & 0x100)) {
				buf[12] = (r & 0x200) ? 0x86 : 0x08;
				buf[13] = (r & 0x200) ? 0xdd : 0x00;
				buf[14] = (uint8_t)((r & 0x200 ? 0x60 : 0x45) |
						    (buf[14] & 0x0f));
			}
		} else {
			/* a valid frame with a few random bytes changed, cut */
			int b = (int)(r % 4);
			int k = 1 + (int)((r >> 8) % 4);

			len = blen[b];
			memcpy(buf, base[b], len);
			while (k--) {
				uint64_t q = tu_rand(&seed);

				buf[q % len] = (uint8_t)(q >> 32);
			}
			if (r & 0x10000)
				len = (uint32_t)((r >> 20) % (len + 1));
		}
		{
			uint8_t *c = malloc(len ? len : 1);

			memcpy(c, buf, len);
			rc = sl_decode(c, len, &p);
			assert_true(rc >= 0 && rc < SL_DEC__COUNT);
			if (rc == SL_DEC_OK)
				check_invariants(&p, len);
			counts[rc]++;
			if (len > 14) {
				memset(&p, 0, sizeof(p));
				rc = sl_decode_l3(c + 14, len - 14, &p);
				assert_true(rc >= 0 && rc < SL_DEC__COUNT);
				if (rc == SL_DEC_OK)
					check_invariants(&p, len - 14);
			}
			free(c);
		}
	}
	/* the mutations reached deep into the decoder */
	assert_true(counts[SL_DEC_OK] > 1000);
	assert_true(counts[SL_DEC_BAD_TCP_OFF] > 0);
	assert_true(counts[SL_DEC_BAD_IP6_EXT] > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp),
		cmocka_unit_test(test_options_and_padding),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_result_codes),
		cmocka_unit_test(test_ipv6_ext),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_tfo_syn_and_flags),
		cmocka_unit_test(test_decode_l3),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_random),
	};

	tu_srcdir(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
