/* Unit tests of packet crafting: TCP RST and payload segments (IPv4 and
 * IPv6, VLAN tags kept, reverse direction), DNS NXDOMAIN over UDP and TCP,
 * the block page, the IPv4 header checksum. Crafted frames are decoded
 * with sl_decode and their checksums verified by an independent
 * implementation (testutil.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/app.h"
#include "sluice/craft.h"
#include "sluice/decode.h"
#include "testutil.h"

static uint32_t ld32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void check_crafted(const uint8_t *f, uint32_t n, struct sl_pkt *p)
{
	assert_int_equal(sl_decode(f, n, p), SL_DEC_OK);
	assert_int_equal(p->ip_end, n);
	assert_int_equal(p->ttl, 64);
	if (p->ipver == 4) {
		const uint8_t *ip = f + p->l3_off;

		assert_int_equal(ip[0], 0x45);
		assert_int_equal(ip[6] & 0x40, 0x40); /* DF */
		assert_true(tu_ip4_csum_ok(ip));
		assert_int_equal(sl_csum_ipv4_hdr(ip, 20), 0);
		assert_int_equal(p->l4_off, p->l3_off + 20);
	} else {
		assert_int_equal(p->l4_off, p->l3_off + 40);
		assert_int_equal(p->frag_hdr_off, 0);
	}
	assert_true(tu_l4_csum_ok(f, p));
	if (p->l4proto == SL_PROTO_TCP)
		assert_int_equal(p->payload_off, p->l4_off + 20);
}

static void test_csum_vector(void **state)
{
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	(void)state;
	assert_int_equal(sl_csum_ipv4_hdr(h, 20), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	assert_int_equal(sl_csum_ipv4_hdr(h, 20), 0);
	assert_true(tu_ip4_csum_ok(h));
}

static void test_rst_qinq_v4(void **state)
{
	uint8_t ref_f[256], out[256];
	struct tu_opts o;
	struct sl_pkt ref, p;
	uint32_t rn;
	int n;

	(void)state;
	tu_opts_default(&o, 4, 6);
	o.nvlan = 2;
	o.tpid[0] = 0x88a8;
	o.tci[0] = 0x0064;
	o.tpid[1] = 0x8100;
	o.tci[1] = 0x20c8;
	o.ip4_opt = 8;
	o.tcp_opt = 12;
	o.pad = 4;
	rn = tu_build(ref_f, &o, "GET / HTTP/1.1\r\n", 16);
	assert_int_equal(sl_decode(ref_f, rn, &ref), SL_DEC_OK);

	/* forward: toward the server, as if from the client */
	n = sl_craft_tcp(out, sizeof(out), ref_f, &ref, SL_CRAFT_FORWARD,
			 SL_TCP_RST | SL_TCP_ACK, ref.seq + 16, ref.ack, NULL, 0);
	assert_int_equal(n, 22 + 20 + 20);
	check_crafted(out, (uint32_t)n, &p);
	assert_memory_equal(out, ref_f, 12);                 /* MACs */
	assert_memory_equal(out + 12, ref_f + 12, 10);       /* both tags, EtherType */
	assert_int_equal(p.nvlan, 2);
	assert_int_equal(p.vlan_tpid[0], 0x88a8);
	assert_int_equal(p.vlan_tci[0], 0x0064);
	assert_int_equal(p.vlan_tpid[1], 0x8100);
	assert_int_equal(p.vlan_tci[1], 0x20c8);
	assert_true(sl_addr_eq(&p.src, &ref.src));
	assert_true(sl_addr_eq(&p.dst, &ref.dst));
	assert_int_equal(p.sport, ref.sport);
	assert_int_equal(p.dport, ref.dport);
	assert_int_equal(p.tcp_flags, SL_TCP_RST | SL_TCP_ACK);
	assert_int_equal(p.seq, ref.seq + 16);
	assert_int_equal(p.ack, ref.ack);
	assert_int_equal(p.win, 0);
	assert_int_equal(p.payload_len, 0);

	/* reverse: back to the client */
	n = sl_craft_tcp(out, sizeof(out), ref_f, &ref, SL_CRAFT_REVERSE,
			 SL_TCP_RST | SL_TCP_ACK, ref.ack, ref.seq + 16, NULL, 0);
	check_crafted(out, (uint32_t)n, &p);
	assert_memory_equal(out, ref_f + 6, 6);
	assert_memory_equal(out + 6, ref_f, 6);
	assert_memory_equal(out + 12, ref_f + 12, 10);
	assert_true(sl_addr_eq(&p.src, &ref.dst));
	assert_true(sl_addr_eq(&p.dst, &ref.src));
	assert_int_equal(p.sport, ref.dport);
	assert_int_equal(p.dport, ref.sport);
	assert_int_equal(p.seq, ref.ack);
	assert_int_equal(p.ack, ref.seq + 16);

	/* errors */
	assert_int_equal(sl_craft_tcp(out, 61, ref_f, &ref, 0, SL_TCP_RST, 0, 0, NULL, 0), -ENOSPC);
	tu_opts_default(&o, 4, 17);
	rn = tu_build(ref_f, &o, "x", 1);
	assert_int_equal(sl_decode(ref_f, rn, &ref), SL_DEC_OK);
	assert_int_equal(sl_craft_tcp(out, sizeof(out), ref_f, &ref, 0, SL_TCP_RST, 0, 0, NULL, 0),
			 -EINVAL);
}

static void test_tcp_payload_v6(void **state)
{
	uint8_t ref_f[512], out[2048];
	static const char page[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
	struct tu_opts o;
	struct sl_pkt ref, p;
	uint32_t rn;
	int n;

	(void)state;
	tu_opts_default(&o, 6, 6);
	o.nvlan = 1;
	o.tpid[0] = 0x8100;
	o.tci[0] = 3136;
	rn = tu_build(ref_f, &o, "GET / HTTP/1.1\r\n\r\n", 18);
	assert_int_equal(sl_decode(ref_f, rn, &ref), SL_DEC_OK);
	n = sl_craft_tcp(out, sizeof(out), ref_f, &ref, SL_CRAFT_REVERSE,
			 SL_TCP_PSH | SL_TCP_ACK | SL_TCP_FIN, 777, ref.seq + 18,
			 page, sizeof(page) - 1);
	assert_true(n > 0);
	check_crafted(out, (uint32_t)n, &p);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(p.nvlan, 1);
	assert_int_equal(p.vlan_tci[0], 3136);
	assert_true(sl_addr_eq(&p.src, &ref.dst));
	assert_true(sl_addr_eq(&p.dst, &ref.src));
	assert_int_equal(p.sport, 80);
	assert_int_equal(p.dport, 40000);
	assert_int_equal(p.seq, 777);
	assert_int_equal(p.tcp_flags, SL_TCP_PSH | SL_TCP_ACK | SL_TCP_FIN);
	assert_true(p.win > 0);
	assert_int_equal(p.payload_len, sizeof(page) - 1);
	assert_memory_equal(out + p.payload_off, page, sizeof(page) - 1);
	/* the flow label is zero, hop limit 64 */
	assert_int_equal(ld32(out + p.l3_off), 0x60000000);

	/* odd payload length: checksum padding */
	n = sl_craft_tcp(out, sizeof(out), ref_f, &ref, SL_CRAFT_FORWARD,
			 SL_TCP_ACK, 1, 2, "abc", 3);
	check_crafted(out, (uint32_t)n, &p);
	assert_int_equal(p.payload_len, 3);
}

static size_t dns_query(uint8_t *m, uint16_t id, uint16_t flags, const char *name,
			int edns)
{
	size_t o = 12;
	const char *s = name;

	memset(m, 0, 12);
	m[0] = (uint8_t)(id >> 8);
	m[1] = (uint8_t)id;
	m[2] = (uint8_t)(flags >> 8);
	m[3] = (uint8_t)flags;
	m[5] = 1;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		m[o++] = (uint8_t)l;
		memcpy(m + o, s, l);
		o += l;
		s += l + (dot ? 1 : 0);
	}
	m[o++] = 0;
	m[o++] = 0;
	m[o++] = 28; /* AAAA */
	m[o++] = 0;
	m[o++] = 1;
	if (edns) {
		static const uint8_t opt[] = { 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0 };

		m[11] = 1;
		memcpy(m + o, opt, sizeof(opt));
		o += sizeof(opt);
	}
	return o;
}

/* The answer: same id, QR, RD/CD copied, RA, NXDOMAIN, question echoed. */
static void check_nxdomain(const uint8_t *a, size_t an, const uint8_t *q, size_t qn_question_end)
{
	assert_int_equal(an, qn_question_end);
	assert_memory_equal(a, q, 2);                        /* id */
	assert_int_equal(a[2] & 0x80, 0x80);                 /* QR */
	assert_int_equal(a[2] & 0x78, 0);                    /* opcode */
	assert_int_equal(a[2] & 0x04, 0);                    /* AA */
	assert_int_equal(a[2] & 0x01, q[2] & 0x01);          /* RD */
	assert_int_equal(a[3] & 0x80, 0x80);                 /* RA */
	assert_int_equal(a[3] & 0x10, q[3] & 0x10);          /* CD */
	assert_int_equal(a[3] & 0x0f, 3);                    /* NXDOMAIN */
	assert_int_equal(a[4] << 8 | a[5], 1);
	assert_int_equal(a[6] << 8 | a[7], 0);
	assert_int_equal(a[8] << 8 | a[9], 0);
	assert_int_equal(a[10] << 8 | a[11], 0);
	assert_memory_equal(a + 12, q + 12, qn_question_end - 12);
}

static void test_nxdomain_udp(void **state)
{
	uint8_t ref_f[512], out[1024], q[512];
	struct tu_opts o;
	struct sl_pkt ref, p;
	struct sl_dns_query dq, dq2;
	size_t qn;
	uint32_t rn;
	int n, v;

	(void)state;
	for (v = 0; v < 4; v++) {
		tu_opts_default(&o, v & 1 ? 6 : 4, 17);
		if (v & 2) {
			o.nvlan = 2;
			o.tpid[0] = 0x9100;
			o.tci[0] = 5;
			o.tpid[1] = 0x8100;
			o.tci[1] = 6;
		}
		o.sport = 5353 + (uint16_t)v;
		qn = dns_query(q, (uint16_t)(0x1234 + v), v & 1 ? 0x0110 : 0x0100,
			       "blocked.example.com", v & 2);
		rn = tu_build(ref_f, &o, q, (uint32_t)qn);
		assert_int_equal(sl_decode(ref_f, rn, &ref), SL_DEC_OK);
		assert_int_equal(sl_dns_parse_query(q, (uint32_t)qn, &dq), 0);

		n = sl_craft_dns_nxdomain(out, sizeof(out), ref_f, &ref);
		assert_true(n > 0);
		check_crafted(out, (uint32_t)n, &p);
		assert_int_equal(p.l4proto, SL_PROTO_UDP);
		assert_true(sl_addr_eq(&p.src, &ref.dst));
		assert_true(sl_addr_eq(&p.dst, &ref.src));
		assert_int_equal(p.sport, 53);
		assert_int_equal(p.dport, 5353 + v);
		assert_int_equal(p.nvlan, o.nvlan);
		assert_memory_equal(out + 12, ref_f + 12, p.l3_off - 12);
		assert_memory_equal(out, ref_f + 6, 6);
		check_nxdomain(out + p.payload_off, p.payload_len, q, dq.qend);
		/* it is an answer, not a query */
		assert_int_equal(sl_dns_parse_query(out + p.payload_off, p.payload_len, &dq2),
				 -EINVAL);
		/* the same question when read back as a query */
		out[p.payload_off + 2] &= 0x7f;
		assert_int_equal(sl_dns_parse_query(out + p.payload_off, p.payload_len, &dq2), 0);
		assert_string_equal(dq2.name, "blocked.example.com");
		assert_int_equal(dq2.qtype, 28);
	}
	/* not a query */
	q[2] |= 0x80;
	rn = tu_build(ref_f, &o, q, (uint32_t)qn);
	assert_int_equal(sl_decode(ref_f, rn, &ref), SL_DEC_OK);
	assert_int_equal(sl_craft_dns_nxdomain(out, sizeof(out), ref_f, &ref), -EINVAL);
	q[2] &= 0x7f;
	rn = tu_build(ref_f, &o, q, (uint32_t)qn);
	assert_int_equal(sl_decode(ref_f, rn, &ref), SL_DEC_OK);
	assert_int_equal(sl_craft_dns_nxdomain(out, 40, ref_f, &ref), -ENOSPC);
}

static void test_nxdomain_tcp(void **state)
{
	uint8_t ref_f[512], out[1024], q[512], seg[600];
	struct tu_opts o;
	struct sl_pkt ref, p;
	struct sl_dns_query dq;
	size_t qn;
	uint32_t rn;
	int n, v;

	(void)state;
	for (v = 0; v < 2; v++) {
		tu_opts_default(&o, v ? 6 : 4, 6);
		o.dport = 53;
		o.nvlan = 1;
		o.tpid[0] = 0x8100;
		o.tci[0] = 42;
		qn = dns_query(q, 0xabcd, 0x0100, "evil.example", 1);
		seg[0] = (uint8_t)(qn >> 8);
		seg[1] = (uint8_t)qn;
		memcpy(seg + 2, q, qn);
		rn = tu_build(ref_f, &o, seg, (uint32_t)qn + 2);
		assert_int_equal(sl_decode(ref_f, rn, &ref), SL_DEC_OK);
		assert_int_equal(sl_dns_parse_query(q, (uint32_t)qn, &dq), 0);
		n = sl_craft_dns_nxdomain_tcp(out, sizeof(out), ref_f, &ref, q, (uint32_t)qn,
					      5000, ref.seq + (uint32_t)qn + 2);
		assert_true(n > 0);
		check_crafted(out, (uint32_t)n, &p);
		assert_int_equal(p.tcp_flags, SL_TCP_PSH | SL_TCP_ACK);
		assert_int_equal(p.seq, 5000);
		assert_int_equal(p.ack, ref.seq + qn + 2);
		assert_int_equal(p.sport, 53);
		assert_int_equal(p.dport, 40000);
		assert_int_equal(p.nvlan, 1);
		assert_int_equal(p.vlan_tci[0], 42);
		assert_true(sl_addr_eq(&p.src, &ref.dst));
		assert_int_equal(out[p.payload_off] << 8 | out[p.payload_off + 1],
				 p.payload_len - 2);
		check_nxdomain(out + p.payload_off + 2, p.payload_len - 2, q, dq.qend);
	}
	assert_int_equal(sl_craft_dns_nxdomain_tcp(out, sizeof(out), ref_f, &ref, q, 5, 1, 2),
			 -EINVAL);
}

static void check_page(const char *out, int n)
{
	const char *body = strstr(out, "\r\n\r\n");
	const char *cl = strstr(out, "Content-Length: ");

	assert_true(n > 0);
	assert_int_equal(strlen(out), n);
	assert_non_null(body);
	assert_non_null(cl);
	body += 4;
	assert_int_equal(strtoul(cl + 16, NULL, 10), strlen(body));
	assert_true(strncmp(out, "HTTP/1.1 403 Forbidden\r\n", 24) == 0);
	assert_non_null(strstr(out, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
	assert_non_null(strstr(out, "\r\nConnection: close\r\n"));
	assert_non_null(strstr(out, "\r\nCache-Control: no-store\r\n"));
	assert_true(strstr(out, "\r\n\r\n") < strstr(out, "<") || strstr(out, "<") == NULL);
}

static void test_block_page(void **state)
{
	char out[8192];
	struct sl_rule r;
	struct sl_policy_meta m;
	const char *body;
	int n;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&m, 0, sizeof(m));
	r.id = 4242;
	r.name = "bad <site> & co";
	r.category = "gambling";
	r.basis = "Act \"X\" s.12 'b'";
	r.authority = "auth-1";
	r.authority_name = "Authority <One>";
	r.order = "ORD/2026/7";
	m.name = "national";
	m.revision = "r17";

	n = sl_block_page_render(out, sizeof(out), NULL, &r, &m);
	check_page(out, n);
	body = strstr(out, "\r\n\r\n") + 4;
	assert_non_null(strstr(body, "4242"));
	assert_non_null(strstr(body, "Act &quot;X&quot; s.12 &#39;b&#39;"));
	assert_non_null(strstr(body, "bad &lt;site&gt; &amp; co"));
	assert_non_null(strstr(body, "Authority &lt;One&gt;"));
	assert_non_null(strstr(body, "ORD/2026/7"));
	assert_non_null(strstr(body, "national"));
	assert_non_null(strstr(body, "r17"));
	assert_null(strstr(body, "<site>"));
	assert_null(strstr(body, "{"));

	/* custom template; unknown placeholders kept; a lone brace */
	n = sl_block_page_render(out, sizeof(out),
				 "<p>{rule_id}|{rule_name}|{category}|{basis}|{authority}|"
				 "{order}|{policy}|{revision}|{unknown}|{</p>", &r, &m);
	check_page(out, n);
	body = strstr(out, "\r\n\r\n") + 4;
	assert_string_equal(body, "<p>4242|bad &lt;site&gt; &amp; co|gambling|"
			    "Act &quot;X&quot; s.12 &#39;b&#39;|Authority &lt;One&gt;|"
			    "ORD/2026/7|national|r17|{unknown}|{</p>");

	/* authority id when there is no name; missing values are empty */
	r.authority_name = NULL;
	r.order = NULL;
	n = sl_block_page_render(out, sizeof(out), "{authority}/{order}/", &r, NULL);
	check_page(out, n);
	body = strstr(out, "\r\n\r\n") + 4;
	assert_string_equal(body, "auth-1//");
	n = sl_block_page_render(out, sizeof(out), "{rule_id}{basis}", NULL, NULL);
	check_page(out, n);
	assert_int_equal(strlen(strstr(out, "\r\n\r\n") + 4), 0);

	/* built-in page of a rule without authority or order */
	r.authority = NULL;
	n = sl_block_page_render(out, sizeof(out), NULL, &r, &m);
	check_page(out, n);
	body = strstr(out, "\r\n\r\n") + 4;
	assert_null(strstr(body, "Authority"));
	assert_non_null(strstr(body, "4242"));
	assert_non_null(strstr(body, "Legal basis: Act &quot;X&quot;"));
	r.authority = "auth-1";

	/* too small: -ENOSPC and an empty string; exactly enough works */
	n = sl_block_page_render(out, sizeof(out), NULL, &r, &m);
	assert_true(n > 0);
	assert_int_equal(sl_block_page_render(out, (size_t)n, NULL, &r, &m), -ENOSPC);
	assert_string_equal(out, "");
	assert_int_equal(sl_block_page_render(out, (size_t)n + 1, NULL, &r, &m), n);
	check_page(out, n);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_vector),
		cmocka_unit_test(test_rst_qinq_v4),
		cmocka_unit_test(test_tcp_payload_v6),
		cmocka_unit_test(test_nxdomain_udp),
		cmocka_unit_test(test_nxdomain_tcp),
		cmocka_unit_test(test_block_page),
	};

	tu_srcdir(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
