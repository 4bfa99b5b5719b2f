/* IP datagrams that rte_ip_frag gives up on although nothing is wrong with
 * them: more fragments than it holds (RTE_LIBRTE_IP_FRAG_MAX_FRAG, 8 in
 * Debian's DPDK), or a fragment that came twice. Without this, a sender
 * could pass any content uninspected (fail-open) by cutting it into nine
 * fragments. The worker moves such a datagram's fragment copies off
 * rte_ip_frag's death row into one of a few slots here, which take the
 * rest of its fragments and give the whole datagram back when it is
 * complete. Fragments that cannot make one datagram (overlaps other
 * than an exact duplicate, ends that disagree, more pieces than a slot
 * holds) are refused: the slot keeps the datagram's key until it times
 * out and the worker drops every further fragment of it, as receivers do
 * (RFC 5722 for IPv6; Linux for IPv4 too), so that no receiver's way of
 * resolving an overlap can carry what was not inspected. Slots and their pieces are preallocated per
 * worker; pieces are the frag_pool copies the worker made. Worker lcore
 * only.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "sluice.h"

/* What a fragment copy says about itself (from its own headers). */
struct finfo {
	uint8_t ipver;
	uint8_t more;
	uint32_t id;
	uint32_t hdr_end;       /* offset of its data in the frame */
	uint32_t ofs, len;      /* of its data within the datagram */
	uint8_t src[16], dst[16];
};

/* cp: a fragment copy (l2_len = offset of its IP header, the IPv6
 * fragment header right after the fixed one, checked by the caller). */
static int finfo_of(const struct rte_mbuf *cp, struct finfo *fi)
{
	uint8_t buf[sizeof(struct rte_ipv6_hdr) + sizeof(struct rte_ipv6_fragment_ext)];
	const uint8_t *h = rte_pktmbuf_read(cp, cp->l2_len, 20, buf);
	uint32_t plen = rte_pktmbuf_pkt_len(cp);

	if (h == NULL)
		return -EINVAL;
	memset(fi, 0, sizeof(*fi));
	fi->ipver = h[0] >> 4;
	if (fi->ipver == 4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)h;
		uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
		uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
		uint32_t tot = rte_be_to_cpu_16(ip->total_length);

		fi->id = rte_be_to_cpu_16(ip->packet_id);
		fi->more = !!(fo & RTE_IPV4_HDR_MF_FLAG);
		fi->ofs = (uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) * 8u;
		fi->hdr_end = cp->l2_len + ihl;
		if (ihl < 20 || tot < ihl || cp->l2_len + tot > plen)
			return -EINVAL;
		fi->len = tot - ihl;
		memcpy(fi->src, &ip->src_addr, 4);
		memcpy(fi->dst, &ip->dst_addr, 4);
	} else if (fi->ipver == 6) {
		const struct rte_ipv6_hdr *ip;
		const struct rte_ipv6_fragment_ext *fh;
		uint16_t fd;
		uint32_t pl;

		h = rte_pktmbuf_read(cp, cp->l2_len, sizeof(buf), buf);
		if (h == NULL)
			return -EINVAL;
		ip = (const struct rte_ipv6_hdr *)h;
		fh = (const struct rte_ipv6_fragment_ext *)(h + sizeof(*ip));
		fd = rte_be_to_cpu_16(fh->frag_data);
		pl = rte_be_to_cpu_16(ip->payload_len);
		fi->id = rte_be_to_cpu_32(fh->id);
		fi->more = fd & 1;
		fi->ofs = fd & 0xfff8u;
		fi->hdr_end = cp->l2_len + (uint32_t)sizeof(buf);
		if (pl < sizeof(*fh) || cp->l2_len + sizeof(*ip) + pl > plen)
			return -EINVAL;
		fi->len = pl - (uint32_t)sizeof(*fh);
		memcpy(fi->src, ip->src_addr, 16);
		memcpy(fi->dst, ip->dst_addr, 16);
	} else {
		return -EINVAL;
	}
	/* every fragment but the last carries a multiple of 8 bytes */
	if ((fi->more && (fi->len == 0 || fi->len % 8)) || fi->ofs + fi->len > 65535)
		return -EINVAL;
	return 0;
}

static bool same_datagram(const struct sl_bigfrag *b, const struct finfo *fi)
{
	size_t n = fi->ipver == 4 ? 4 : 16;

	return b->start_tsc != 0 && b->ipver == fi->ipver && b->id == fi->id &&
	       memcmp(b->src, fi->src, n) == 0 && memcmp(b->dst, fi->dst, n) == 0;
}

static void pieces_free(struct sl_bigfrag *b)
{
	for (uint16_t i = 0; i < b->n; i++)
		rte_pktmbuf_free(b->f[i].mb);
	b->n = 0;
	b->have = 0;
}

static void slot_free(struct sl_worker *w, struct sl_bigfrag *b)
{
	pieces_free(b);
	b->start_tsc = 0;
	b->refused = 0;
	w->nbig--;
}

/* The datagram cannot be whole: its pieces go, its key stays until the
 * slot times out, so that every later fragment of it is dropped. */
static void slot_refuse(struct sl_worker *w, struct sl_bigfrag *b)
{
	pieces_free(b);
	b->refused = 1;
	w->st.frag_big_refused++;
}

int sl_bigfrag_init(struct sl_worker *w)
{
	w->big = rte_zmalloc_socket("sl_bigfrag", SL_BIGFRAG_SLOTS * sizeof(*w->big),
				    RTE_CACHE_LINE_SIZE, w->socket);
	w->nbig = 0;
	return w->big != NULL ? 0 : -ENOMEM;
}

void sl_bigfrag_release(struct sl_worker *w)
{
	if (w->big == NULL)
		return;
	sl_bigfrag_expire(w, UINT64_MAX);
	rte_free(w->big);
	w->big = NULL;
}

void sl_bigfrag_expire(struct sl_worker *w, uint64_t now_tsc)
{
	uint64_t max = sl_dp.tsc_hz / 1000 * sl_dp.cfg.frag_timeout_ms;

	for (unsigned i = 0; i < SL_BIGFRAG_SLOTS && w->nbig != 0; i++) {
		struct sl_bigfrag *b = &w->big[i];

		if (b->start_tsc != 0 && (now_tsc == UINT64_MAX || now_tsc - b->start_tsc > max)) {
			w->st.frag_big_expired++;
			slot_free(w, b);
		}
	}
}

/* Add a fragment copy to slot b: 0 held (or a duplicate let go), 1 the
 * datagram is complete, -EINVAL it cannot be (overlap that differs, more
 * pieces than a slot holds, lengths that disagree): the slot is to go. */
static int slot_add(struct sl_bigfrag *b, struct rte_mbuf *cp, const struct finfo *fi)
{
	uint32_t end = fi->ofs + fi->len;

	for (uint16_t i = 0; i < b->n; i++) {
		const struct sl_bigfrag_piece *q = &b->f[i];

		if (end <= q->ofs || fi->ofs >= q->ofs + q->len)
			continue;
		/* a fragment that came twice: the same bytes at the same place */
		if (q->ofs == fi->ofs && q->len == fi->len && q->more == fi->more &&
		    rte_pktmbuf_is_contiguous(cp) && rte_pktmbuf_is_contiguous(q->mb) &&
		    memcmp(rte_pktmbuf_mtod_offset(cp, const void *, fi->hdr_end),
			   rte_pktmbuf_mtod_offset(q->mb, const void *, q->hdr_end),
			   fi->len) == 0) {
			rte_pktmbuf_free(cp);
			return 0;
		}
		return -EINVAL;
	}
	if (b->n == SL_BIGFRAG_PIECES)
		return -EINVAL;
	if (!fi->more) {
		/* the end: where another last fragment ended, and past all
		 * data held so far */
		if ((b->total != 0 && b->total != end) || b->maxend > end)
			return -EINVAL;
		b->total = end;
	}
	if (b->total != 0 && end > b->total)
		return -EINVAL;
	if (end > b->maxend)
		b->maxend = end;
	b->f[b->n].mb = cp;
	b->f[b->n].ofs = (uint16_t)fi->ofs;
	b->f[b->n].len = (uint16_t)fi->len;
	b->f[b->n].hdr_end = (uint16_t)fi->hdr_end;
	b->f[b->n].more = fi->more;
	b->n++;
	b->have += fi->len;
	/* pieces never overlap, so covering the length is being whole */
	return b->total != 0 && b->have == b->total ? 1 : 0;
}

struct sl_bigfrag *sl_bigfrag_find(struct sl_worker *w, const struct rte_mbuf *cp)
{
	struct finfo fi;

	if (finfo_of(cp, &fi) < 0)
		return NULL;
	for (unsigned i = 0; i < SL_BIGFRAG_SLOTS; i++)
		if (same_datagram(&w->big[i], &fi))
			return &w->big[i];
	return NULL;
}

int sl_bigfrag_add(struct sl_worker *w, struct sl_bigfrag *b, struct rte_mbuf *cp)
{
	struct finfo fi;
	int rc = -EBADMSG;

	if (!b->refused && finfo_of(cp, &fi) == 0)
		rc = slot_add(b, cp, &fi);
	if (rc < 0) {
		rte_pktmbuf_free(cp);
		if (!b->refused)
			slot_refuse(w, b);
		rc = -EBADMSG;
	}
	return rc;
}

struct sl_bigfrag *sl_bigfrag_adopt(struct sl_worker *w, const struct rte_mbuf *cp,
				    uint32_t row, int *complete)
{
	struct rte_ip_frag_death_row *dr = &w->death_row;
	struct sl_bigfrag *b = NULL;
	struct finfo key, fi;
	uint32_t mine = 0, k;
	int rc = 0;

	*complete = 0;
	if (finfo_of(cp, &key) < 0)
		return NULL;
	for (uint32_t i = row; i < dr->cnt; i++)
		if (finfo_of(dr->row[i], &fi) == 0 && fi.ipver == key.ipver && fi.id == key.id &&
		    memcmp(fi.src, key.src, 16) == 0 && memcmp(fi.dst, key.dst, 16) == 0)
			mine++;
	/* one: rte_ip_frag had no entry to give it (its table is full), an
	 * overload as before; more: it held the datagram and gave it up */
	if (mine < 2)
		return NULL;
	sl_bigfrag_expire(w, w->now_tsc);
	for (unsigned i = 0; i < SL_BIGFRAG_SLOTS && b == NULL; i++)
		if (w->big[i].start_tsc == 0)
			b = &w->big[i];
	if (b == NULL) {
		w->st.frag_big_full++;
		return NULL;
	}
	memset(b, 0, offsetof(struct sl_bigfrag, f));
	b->start_tsc = w->now_tsc ? w->now_tsc : 1;
	b->ipver = key.ipver;
	b->id = key.id;
	memcpy(b->src, key.src, 16);
	memcpy(b->dst, key.dst, 16);
	w->nbig++;
	/* off the death row, into the slot, in the order they came */
	for (uint32_t i = k = row; i < dr->cnt; i++) {
		struct rte_mbuf *m = dr->row[i];

		if (rc >= 0 && finfo_of(m, &fi) == 0 && same_datagram(b, &fi)) {
			rc = slot_add(b, m, &fi);
			if (rc >= 0)
				continue;   /* the slot has it (or let a duplicate go) */
		}
		dr->row[k++] = m;
	}
	dr->cnt = k;
	if (rc < 0)
		slot_refuse(w, b);
	*complete = rc == 1;
	return b;
}

uint32_t sl_bigfrag_linearise(struct sl_worker *w, struct sl_bigfrag *b)
{
	const struct sl_bigfrag_piece *first = NULL;
	struct rte_ipv6_fragment_ext fhb;
	const struct rte_ipv6_fragment_ext *fh = NULL;
	uint8_t *o = w->linbuf;
	uint32_t l3, hlen, n = 0;
	const void *d;

	for (uint16_t i = 0; i < b->n; i++)
		if (b->f[i].ofs == 0)
			first = &b->f[i];
	if (first == NULL)
		goto out;
	l3 = first->mb->l2_len;
	/* the first fragment's L2 and IP headers (IPv6: without the
	 * fragment header), then every piece's data at its offset */
	hlen = b->ipver == 4 ? first->hdr_end : l3 + (uint32_t)sizeof(struct rte_ipv6_hdr);
	/* IPv4's total length counts its header too */
	if (hlen + b->total > sizeof(w->linbuf) ||
	    (b->ipver == 4 && hlen - l3 + b->total > 65535))
		goto out;
	if (b->ipver == 6) {
		fh = rte_pktmbuf_read(first->mb, hlen, sizeof(fhb), &fhb);
		if (fh == NULL)
			goto out;
	}
	d = rte_pktmbuf_read(first->mb, 0, hlen, o);
	if (d == NULL)
		goto out;
	if (d != o)
		memcpy(o, d, hlen);
	for (uint16_t i = 0; i < b->n; i++) {
		const struct sl_bigfrag_piece *q = &b->f[i];
		uint8_t *at = o + hlen + q->ofs;

		d = rte_pktmbuf_read(q->mb, q->hdr_end, q->len, at);
		if (d == NULL)
			goto out;
		if (d != at)
			memcpy(at, d, q->len);
	}
	if (b->ipver == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(o + l3);

		ip->total_length = rte_cpu_to_be_16((uint16_t)(hlen - l3 + b->total));
		ip->fragment_offset &= rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(o + l3);

		ip->payload_len = rte_cpu_to_be_16((uint16_t)b->total);
		ip->proto = fh->next_header;
	}
	n = hlen + b->total;
	w->st.frag_big_reassembled++;
out:
	slot_free(w, b);
	return n;
}
