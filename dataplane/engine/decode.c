/* Packet decoder (see include/sluice/decode.h): Ethernet with up to
 * SL_MAX_VLAN tags, IPv4, IPv6 with a bounded extension header chain,
 * TCP, UDP, IP fragments.
 *
 * Every load is preceded by a length check against the frame; no copies
 * of headers, no allocation, no recursion, loops bounded by constants.
 * The common path (untagged Ethernet, IPv4 without options, TCP) is a
 * straight line of checks that are all predicted not taken.
 */
#include <errno.h>
#include <string.h>

#include "sluice/decode.h"

#define ETH_HLEN 14
#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ_OLD 0x9100

#define IP6_HLEN 40
#define IP6_NH_HOP 0
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAG 44
#define IP6_NH_AH 51
#define IP6_NH_DSTOPTS 60

/* Largest offset we let the IPv6 header chain reach: every offset in
 * struct sl_pkt is 16 bits and the TCP header (up to 60 bytes) comes
 * after the chain. */
#define OFF_MAX (0xffffu - 60u)

static const char *const result_names[SL_DEC__COUNT] = {
	[SL_DEC_OK] = "ok",
	[SL_DEC_NOT_IP] = "not-ip",
	[SL_DEC_TRUNC_L2] = "trunc-l2",
	[SL_DEC_TOO_MANY_VLAN] = "too-many-vlan",
	[SL_DEC_TRUNC_L3] = "trunc-l3",
	[SL_DEC_BAD_IP_VERSION] = "bad-ip-version",
	[SL_DEC_BAD_IHL] = "bad-ihl",
	[SL_DEC_BAD_IP_LEN] = "bad-ip-len",
	[SL_DEC_BAD_IP6_EXT] = "bad-ip6-ext",
	[SL_DEC_TRUNC_L4] = "trunc-l4",
	[SL_DEC_BAD_TCP_OFF] = "bad-tcp-off",
	[SL_DEC_BAD_UDP_LEN] = "bad-udp-len",
	[SL_DEC_BAD_FRAG] = "bad-frag",
};

const char *sl_decode_result_name(int r)
{
	if (r < 0 || r >= SL_DEC__COUNT || result_names[r] == NULL)
		return "unknown";
	return result_names[r];
}

/* Big-endian loads; the compiler turns these into one load + bswap. */
static inline uint16_t ld16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t ld32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* Zero *p with six 16-byte stores: memset() of this size becomes
 * "rep stos", whose start-up cost is a third of a whole decode. */
typedef uint8_t sl_v16 __attribute__((vector_size(16), may_alias, aligned(1)));

_Static_assert(sizeof(struct sl_pkt) == 96, "pkt_zero covers 96 bytes");

static inline void pkt_zero(struct sl_pkt *p)
{
	sl_v16 *v = (sl_v16 *)(void *)p;
	const sl_v16 z = { 0 };

	v[0] = z;
	v[1] = z;
	v[2] = z;
	v[3] = z;
	v[4] = z;
	v[5] = z;
}

/* Upper layer at f[off..end): TCP/UDP header and payload. */
static inline __attribute__((always_inline)) int
decode_l4(const uint8_t *f, struct sl_pkt *p, uint32_t off, uint32_t end,
	  uint8_t proto)
{
	uint32_t avail = end - off;
	const uint8_t *l4 = f + off;

	p->l4proto = proto;
	if (SL_UNLIKELY(p->is_frag) && !p->frag_first)
		goto raw;

	if (SL_LIKELY(proto == SL_PROTO_TCP)) {
		uint32_t doff;

		if (SL_UNLIKELY(avail < 20)) {
			if (p->is_frag)
				goto raw;
			return SL_DEC_TRUNC_L4;
		}
		doff = (uint32_t)(l4[12] >> 4) * 4;
		if (SL_UNLIKELY(doff < 20))
			return SL_DEC_BAD_TCP_OFF;
		if (SL_UNLIKELY(doff > avail)) {
			if (p->is_frag)
				goto raw;
			return SL_DEC_BAD_TCP_OFF;
		}
		p->l4_off = (uint16_t)off;
		p->sport = ld16(l4);
		p->dport = ld16(l4 + 2);
		p->seq = ld32(l4 + 4);
		p->ack = ld32(l4 + 8);
		p->tcp_flags = l4[13];
		p->win = ld16(l4 + 14);
		p->payload_off = (uint16_t)(off + doff);
		p->payload_len = avail - doff;
		return SL_DEC_OK;
	}
	if (proto == SL_PROTO_UDP) {
		uint32_t ulen;

		if (SL_UNLIKELY(avail < 8)) {
			if (p->is_frag)
				goto raw;
			return SL_DEC_TRUNC_L4;
		}
		ulen = ld16(l4 + 4);
		if (SL_UNLIKELY(ulen < 8))
			return SL_DEC_BAD_UDP_LEN;
		if (p->is_frag) {
			/* first fragment: ulen covers the whole datagram */
			ulen = avail;
		} else if (SL_UNLIKELY(ulen > avail)) {
			return SL_DEC_BAD_UDP_LEN;
		}
		p->l4_off = (uint16_t)off;
		p->sport = ld16(l4);
		p->dport = ld16(l4 + 2);
		p->payload_off = (uint16_t)(off + 8);
		p->payload_len = ulen - 8;
		return SL_DEC_OK;
	}
raw:
	p->payload_off = (uint16_t)off;
	p->payload_len = avail;
	return SL_DEC_OK;
}

static int decode_ipv4(const uint8_t *f, uint32_t len, uint32_t l3,
		       struct sl_pkt *p)
{
	const uint8_t *ip = f + l3;
	uint32_t avail = len - l3;
	uint32_t ihl, tot;
	uint16_t fo;

	if (SL_UNLIKELY(avail < 20))
		return SL_DEC_TRUNC_L3;
	if (SL_UNLIKELY((ip[0] >> 4) != 4))
		return SL_DEC_BAD_IP_VERSION;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (SL_UNLIKELY(ihl < 20 || ihl > avail))
		return SL_DEC_BAD_IHL;
	tot = ld16(ip + 2);
	if (SL_UNLIKELY(tot < ihl || tot > avail))
		return SL_DEC_BAD_IP_LEN;

	p->ipver = 4;
	p->ttl = ip[8];
	p->l4proto = ip[9];
	sl_addr_v4(&p->src, ip + 12);
	sl_addr_v4(&p->dst, ip + 16);
	p->ip_end = l3 + tot;

	fo = ld16(ip + 6);
	if (SL_UNLIKELY(fo & 0x3fff)) {
		uint32_t data = tot - ihl;

		p->is_frag = 1;
		p->frag_more = (fo & 0x2000) != 0;
		p->frag_off = (uint16_t)((fo & 0x1fff) * 8);
		p->frag_first = p->frag_off == 0;
		p->frag_id = ld16(ip + 4);
		if ((uint32_t)p->frag_off + tot > 65535 || data == 0 ||
		    (p->frag_more && (data & 7)))
			return SL_DEC_BAD_FRAG;
	}
	return decode_l4(f, p, l3 + ihl, p->ip_end, ip[9]);
}

static int decode_ipv6(const uint8_t *f, uint32_t len, uint32_t l3,
		       struct sl_pkt *p)
{
	const uint8_t *ip = f + l3;
	uint32_t avail = len - l3;
	uint32_t end, off, n;
	uint8_t nh;

	if (SL_UNLIKELY(avail < IP6_HLEN))
		return SL_DEC_TRUNC_L3;
	if (SL_UNLIKELY((ip[0] >> 4) != 6))
		return SL_DEC_BAD_IP_VERSION;
	end = IP6_HLEN + (uint32_t)ld16(ip + 4);
	if (SL_UNLIKELY(end > avail))
		return SL_DEC_BAD_IP_LEN;

	p->ipver = 6;
	p->ttl = ip[7];
	sl_addr_v6(&p->src, ip + 8);
	sl_addr_v6(&p->dst, ip + 24);
	end += l3;
	p->ip_end = end;
	nh = ip[6];
	off = l3 + IP6_HLEN;
	p->l4proto = nh;

	for (n = 0;; n++) {
		const uint8_t *x = f + off;
		uint32_t hl;

		if (nh != IP6_NH_HOP && nh != IP6_NH_ROUTING &&
		    nh != IP6_NH_DSTOPTS && nh != IP6_NH_FRAG && nh != IP6_NH_AH)
			break;
		/* hop-by-hop only right after the IPv6 header; bounded chain */
		if (n >= SL_MAX_IP6_EXT || (nh == IP6_NH_HOP && n != 0))
			return SL_DEC_BAD_IP6_EXT;
		/* every extension header is at least 8 bytes */
		if (end - off < 8)
			return SL_DEC_BAD_IP6_EXT;
		if (nh == IP6_NH_FRAG) {
			uint16_t fo = ld16(x + 2);

			if (p->frag_hdr_off)
				return SL_DEC_BAD_FRAG;
			p->frag_hdr_off = (uint16_t)off;
			nh = x[0];
			off += 8;
			if (fo & 0xfff9) {
				/* a real fragment (not an atomic one) */
				uint32_t data = end - off;

				p->is_frag = 1;
				p->frag_more = fo & 1;
				p->frag_off = fo & 0xfff8;
				p->frag_first = p->frag_off == 0;
				p->frag_id = ld32(x + 4);
				if ((uint32_t)p->frag_off + data > 65535 ||
				    data == 0 || (p->frag_more && (data & 7)))
					return SL_DEC_BAD_FRAG;
				if (!p->frag_first) {
					/* the rest is fragment data */
					p->l4proto = nh;
					p->payload_off = (uint16_t)off;
					p->payload_len = data;
					return SL_DEC_OK;
				}
			}
		} else {
			if (nh == IP6_NH_AH)
				hl = ((uint32_t)x[1] + 2) * 4;
			else
				hl = ((uint32_t)x[1] + 1) * 8;
			if (hl > end - off)
				return SL_DEC_BAD_IP6_EXT;
			nh = x[0];
			off += hl;
		}
		p->l4proto = nh;
		if (off > OFF_MAX)
			return SL_DEC_BAD_IP6_EXT;
	}
	return decode_l4(f, p, off, end, nh);
}

int sl_decode(const uint8_t *f, uint32_t len, struct sl_pkt *p)
{
	uint32_t off = ETH_HLEN;
	uint16_t type;

	pkt_zero(p);
	if (SL_UNLIKELY(f == NULL || len < ETH_HLEN))
		return SL_DEC_TRUNC_L2;
	type = ld16(f + 12);
	if (SL_LIKELY(type == ETH_P_IPV4)) {
		p->l3_off = ETH_HLEN;
		return decode_ipv4(f, len, ETH_HLEN, p);
	}
	while (type == ETH_P_8021Q || type == ETH_P_8021AD ||
	       type == ETH_P_QINQ_OLD) {
		if (p->nvlan == SL_MAX_VLAN)
			return SL_DEC_TOO_MANY_VLAN;
		if (len - off < 4)
			return SL_DEC_TRUNC_L2;
		p->vlan_tpid[p->nvlan] = type;
		p->vlan_tci[p->nvlan] = ld16(f + off);
		p->nvlan++;
		type = ld16(f + off + 2);
		off += 4;
	}
	p->l3_off = (uint16_t)off;
	if (type == ETH_P_IPV4)
		return decode_ipv4(f, len, off, p);
	if (type == ETH_P_IPV6)
		return decode_ipv6(f, len, off, p);
	return SL_DEC_NOT_IP;
}

int sl_decode_l3(const uint8_t *ip, uint32_t len, struct sl_pkt *p)
{
	uint16_t tci[SL_MAX_VLAN], tpid[SL_MAX_VLAN];
	uint8_t nvlan = p->nvlan;

	if (nvlan > SL_MAX_VLAN)
		nvlan = SL_MAX_VLAN;
	memcpy(tci, p->vlan_tci, sizeof(tci));
	memcpy(tpid, p->vlan_tpid, sizeof(tpid));
	pkt_zero(p);
	p->nvlan = nvlan;
	memcpy(p->vlan_tci, tci, sizeof(tci));
	memcpy(p->vlan_tpid, tpid, sizeof(tpid));

	if (ip == NULL || len < 1)
		return SL_DEC_TRUNC_L3;
	switch (ip[0] >> 4) {
	case 4:
		return decode_ipv4(ip, len, 0, p);
	case 6:
		return decode_ipv6(ip, len, 0, p);
	default:
		return SL_DEC_BAD_IP_VERSION;
	}
}
