/* Building the packets sluice injects (see include/sluice/craft.h): TCP
 * segments (RST, block page), DNS NXDOMAIN answers over UDP and TCP, the
 * HTTP 403 block page, and the Internet checksums they need.
 *
 * A crafted frame reuses the L2 header of the frame that triggered it
 * (addresses, every VLAN tag, the EtherType), then a fresh IP header
 * without options or extension headers and a fresh L4 header.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "sluice/craft.h"

#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_HLEN 20
#define UDP_HLEN 8
#define CRAFT_TTL 64
#define CRAFT_WIN 64240
#define DNS_MSG_MAX 512   /* header + first question: <= 12 + 255 + 4 */

/* One's complement sum of d[0..n) as big-endian 16-bit words. */
static uint64_t csum_add(uint64_t s, const uint8_t *d, uint32_t n)
{
	while (n >= 2) {
		s += (uint32_t)d[0] << 8 | d[1];
		d += 2;
		n -= 2;
	}
	if (n)
		s += (uint32_t)d[0] << 8;
	return s;
}

static uint16_t csum_fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint16_t sl_csum_ipv4_hdr(const void *iphdr, unsigned ihl_bytes)
{
	return (uint16_t)~csum_fold(csum_add(0, iphdr, ihl_bytes));
}

/* TCP/UDP checksum with the pseudo-header of the IP header at ip. */
static uint16_t l4_csum(const uint8_t *ip, int ver, uint8_t proto,
			const uint8_t *l4, uint32_t l4len)
{
	uint64_t s;

	if (ver == 4)
		s = csum_add(0, ip + 12, 8);
	else
		s = csum_add(0, ip + 8, 32);
	s += proto;
	s += l4len >> 16;
	s += l4len & 0xffff;
	s = csum_add(s, l4, l4len);
	return (uint16_t)~csum_fold(s);
}

/* L2 header of ref (MACs swapped when reverse) and a new IP header for an
 * L4 packet of l4len bytes. Returns the L4 offset, or -errno. */
static int build_l3(uint8_t *out, uint32_t cap, const uint8_t *ref_frame,
		    const struct sl_pkt *ref, int reverse, uint8_t proto,
		    uint32_t l4len)
{
	uint32_t l2 = ref->l3_off;
	uint32_t iphl = ref->ipver == 4 ? IP4_HLEN : IP6_HLEN;
	const struct sl_addr *src = reverse ? &ref->dst : &ref->src;
	const struct sl_addr *dst = reverse ? &ref->src : &ref->dst;
	uint8_t *ip;

	if (ref->ipver != 4 && ref->ipver != 6)
		return -EINVAL;
	if (l4len > 65535 - IP4_HLEN)
		return -ENOSPC;
	if ((uint64_t)l2 + iphl + l4len > cap)
		return -ENOSPC;
	memcpy(out, ref_frame, l2);
	if (reverse && l2 >= 12) {
		uint8_t mac[6];

		memcpy(mac, out, 6);
		memcpy(out, out + 6, 6);
		memcpy(out + 6, mac, 6);
	}
	ip = out + l2;
	if (ref->ipver == 4) {
		ip[0] = 0x45;
		ip[1] = 0;
		sl_st16(ip + 2, (uint16_t)(IP4_HLEN + l4len));
		sl_st16(ip + 4, 0);             /* id: DF set, never fragmented */
		sl_st16(ip + 6, 0x4000);        /* DF */
		ip[8] = CRAFT_TTL;
		ip[9] = proto;
		sl_st16(ip + 10, 0);
		memcpy(ip + 12, src->b, 4);
		memcpy(ip + 16, dst->b, 4);
		sl_st16(ip + 10, sl_csum_ipv4_hdr(ip, IP4_HLEN));
	} else {
		sl_st32(ip, 0x60000000);
		sl_st16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = CRAFT_TTL;
		memcpy(ip + 8, src->b, 16);
		memcpy(ip + 24, dst->b, 16);
	}
	return (int)(l2 + iphl);
}

int sl_craft_tcp(uint8_t *out, uint32_t cap, const uint8_t *ref_frame,
		 const struct sl_pkt *ref, int dir, uint8_t flags,
		 uint32_t seq, uint32_t ack, const void *payload, uint32_t plen)
{
	int reverse = dir == SL_CRAFT_REVERSE;
	uint8_t *ip, *t;
	int off;

	if (ref->l4proto != SL_PROTO_TCP || ref->l4_off == 0)
		return -EINVAL;
	if (payload == NULL)
		plen = 0;
	off = build_l3(out, cap, ref_frame, ref, reverse, SL_PROTO_TCP,
		       TCP_HLEN + plen);
	if (off < 0)
		return off;
	ip = out + ref->l3_off;
	t = out + off;
	sl_st16(t, reverse ? ref->dport : ref->sport);
	sl_st16(t + 2, reverse ? ref->sport : ref->dport);
	sl_st32(t + 4, seq);
	sl_st32(t + 8, ack);
	t[12] = (TCP_HLEN / 4) << 4;
	t[13] = flags;
	sl_st16(t + 14, (flags & SL_TCP_RST) ? 0 : CRAFT_WIN);
	sl_st16(t + 16, 0);
	sl_st16(t + 18, 0);
	if (plen)
		memcpy(t + TCP_HLEN, payload, plen);
	sl_st16(t + 16, l4_csum(ip, ref->ipver, SL_PROTO_TCP, t, TCP_HLEN + plen));
	return off + TCP_HLEN + (int)plen;
}

/* The NXDOMAIN message answering query (header + first question). */
static int nxdomain_msg(uint8_t *dst, uint32_t cap, const uint8_t *query,
			uint32_t qlen)
{
	struct sl_dns_query q;
	uint16_t flags;

	if (query == NULL || sl_dns_parse_query(query, qlen, &q) != 0)
		return -EINVAL;
	if (q.qend > cap)
		return -ENOSPC;
	memcpy(dst, query, q.qend);
	flags = 0x8000                  /* QR: response; opcode 0; AA 0 */
		| (q.flags & 0x0100)    /* RD copied */
		| 0x0080                /* RA */
		| (q.flags & 0x0010)    /* CD copied */
		| 3;                    /* RCODE NXDOMAIN */
	sl_st16(dst + 2, flags);
	sl_st16(dst + 4, 1);
	sl_st16(dst + 6, 0);
	sl_st16(dst + 8, 0);
	sl_st16(dst + 10, 0);
	return q.qend;
}

int sl_craft_dns_nxdomain(uint8_t *out, uint32_t cap, const uint8_t *ref_frame,
			  const struct sl_pkt *ref)
{
	uint8_t msg[DNS_MSG_MAX];
	uint8_t *u;
	int n, off;

	if (ref->l4proto != SL_PROTO_UDP || ref->l4_off == 0 || ref->is_frag)
		return -EINVAL;
	n = nxdomain_msg(msg, sizeof(msg), ref_frame + ref->payload_off,
			 ref->payload_len);
	if (n < 0)
		return n;
	off = build_l3(out, cap, ref_frame, ref, 1, SL_PROTO_UDP,
		       UDP_HLEN + (uint32_t)n);
	if (off < 0)
		return off;
	u = out + off;
	sl_st16(u, ref->dport);
	sl_st16(u + 2, ref->sport);
	sl_st16(u + 4, (uint16_t)(UDP_HLEN + n));
	sl_st16(u + 6, 0);
	memcpy(u + UDP_HLEN, msg, (size_t)n);
	{
		uint16_t cs = l4_csum(out + ref->l3_off, ref->ipver, SL_PROTO_UDP,
				      u, UDP_HLEN + (uint32_t)n);

		sl_st16(u + 6, cs ? cs : 0xffff);
	}
	return off + UDP_HLEN + n;
}

int sl_craft_dns_nxdomain_tcp(uint8_t *out, uint32_t cap, const uint8_t *ref_frame,
			      const struct sl_pkt *ref, const uint8_t *query,
			      uint32_t qlen, uint32_t seq, uint32_t ack)
{
	uint8_t msg[2 + DNS_MSG_MAX];
	int n;

	n = nxdomain_msg(msg + 2, DNS_MSG_MAX, query, qlen);
	if (n < 0)
		return n;
	sl_st16(msg, (uint16_t)n);
	return sl_craft_tcp(out, cap, ref_frame, ref, SL_CRAFT_REVERSE,
			    SL_TCP_PSH | SL_TCP_ACK, seq, ack, msg,
			    (uint32_t)n + 2);
}

/* ---- block page -------------------------------------------------------- */

#define PAGE_HEAD \
	"<!DOCTYPE html>\n" \
	"<html lang=\"en\"><head><meta charset=\"utf-8\">" \
	"<title>Access blocked</title></head>\n" \
	"<body>\n" \
	"<h1>Access to this resource has been blocked</h1>\n" \
	"<p>This request was blocked under rule {rule_id} ({rule_name}).</p>\n" \
	"<p>Legal basis: {basis}</p>\n"
#define PAGE_TAIL \
	"<p>Policy {policy}, revision {revision}.</p>\n" \
	"</body></html>\n"

/* Built-in pages: with the authority line when the rule names one. */
static const char default_page[] =
	PAGE_HEAD "<p>Authority: {authority}. Order: {order}.</p>\n" PAGE_TAIL;
static const char default_page_noauth[] = PAGE_HEAD PAGE_TAIL;

/* Output cursor: writes while there is room, always counts. */
struct sink {
	char *p;
	size_t cap;
	size_t n;
};

static void put(struct sink *s, const char *d, size_t n)
{
	if (s->p && s->n < s->cap) {
		size_t k = s->cap - s->n < n ? s->cap - s->n : n;

		memcpy(s->p + s->n, d, k);
	}
	s->n += n;
}

static void put_esc(struct sink *s, const char *v)
{
	if (v == NULL)
		return;
	for (; *v; v++) {
		switch (*v) {
		case '&': put(s, "&amp;", 5); break;
		case '<': put(s, "&lt;", 4); break;
		case '>': put(s, "&gt;", 4); break;
		case '"': put(s, "&quot;", 6); break;
		case '\'': put(s, "&#39;", 5); break;
		default: put(s, v, 1); break;
		}
	}
}

static void render_body(struct sink *s, const char *t, const struct sl_rule *r,
			const struct sl_policy_meta *m)
{
	static const char *const names[] = {
		"rule_id", "rule_name", "category", "basis", "authority",
		"order", "policy", "revision",
	};

	while (*t) {
		const char *close;
		size_t i, n;

		if (*t != '{' || (close = strchr(t + 1, '}')) == NULL) {
			put(s, t, 1);
			t++;
			continue;
		}
		n = (size_t)(close - t - 1);
		for (i = 0; i < SL_ARRAY_SIZE(names); i++)
			if (strlen(names[i]) == n && memcmp(t + 1, names[i], n) == 0)
				break;
		if (i == SL_ARRAY_SIZE(names)) {
			put(s, t, 1);   /* not a placeholder: keep as is */
			t++;
			continue;
		}
		switch (i) {
		case 0:
			if (r) {
				char num[16];

				snprintf(num, sizeof(num), "%" PRIu32, r->id);
				put(s, num, strlen(num));
			}
			break;
		case 1: put_esc(s, r ? r->name : NULL); break;
		case 2: put_esc(s, r ? r->category : NULL); break;
		case 3: put_esc(s, r ? r->basis : NULL); break;
		case 4:
			put_esc(s, r ? (r->authority_name ? r->authority_name
					: r->authority) : NULL);
			break;
		case 5: put_esc(s, r ? r->order : NULL); break;
		case 6: put_esc(s, m ? m->name : NULL); break;
		case 7: put_esc(s, m ? m->revision : NULL); break;
		default: break;
		}
		t = close + 1;
	}
}

int sl_block_page_render(char *out, size_t cap, const char *tmpl,
			 const struct sl_rule *r, const struct sl_policy_meta *m)
{
	struct sink count = { NULL, 0, 0 };
	struct sink s;
	char head[256];
	int hl;

	if (tmpl == NULL)
		tmpl = r && (r->authority || r->authority_name || r->order)
		       ? default_page : default_page_noauth;
	render_body(&count, tmpl, r, m);
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.1 403 Forbidden\r\n"
		      "Content-Type: text/html; charset=utf-8\r\n"
		      "Content-Length: %zu\r\n"
		      "Connection: close\r\n"
		      "Cache-Control: no-store\r\n"
		      "\r\n", count.n);
	if (hl < 0 || (size_t)hl >= sizeof(head))
		return -EINVAL;
	if (out == NULL || cap == 0 || (size_t)hl + count.n + 1 > cap ||
	    (size_t)hl + count.n > INT32_MAX) {
		if (out && cap)
			out[0] = '\0';
		return -ENOSPC;
	}
	memcpy(out, head, (size_t)hl);
	s.p = out + hl;
	s.cap = count.n;
	s.n = 0;
	render_body(&s, tmpl, r, m);
	out[hl + count.n] = '\0';
	return (int)((size_t)hl + count.n);
}
