/* TLS ClientHello parsing (see include/sluice/app.h): finds the first
 * host_name of the server_name extension. The handshake message may be
 * fragmented over several TLS records; it is read through a forward-only
 * reader that crosses record boundaries, so nothing is copied. Every
 * length field is checked against its container before it is used.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "engine.h"

#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_REC_MAX (16384 + 2048)
#define TLS_EXT_SERVER_NAME 0

/* Forward-only reader over handshake bytes. Framed: d holds TLS records
 * and the reader hops over record headers; unframed: d is the handshake
 * message itself. */
struct rd {
	const uint8_t *d;
	uint32_t len;
	uint32_t pos;       /* offset in d of the next byte */
	uint32_t frag_end;  /* end of the readable part of this fragment */
	uint32_t rec_end;   /* end of this record (next header), framed */
	uint32_t hs;        /* handshake bytes consumed */
	int framed;
	int bad;
};

static int rd_next_frag(struct rd *r)
{
	const uint8_t *h;
	uint32_t rlen;

	if (!r->framed || r->rec_end > r->len || r->len - r->rec_end < 5)
		goto bad;
	h = r->d + r->rec_end;
	rlen = sl_ld16(h + 3);
	if (h[0] != TLS_CT_HANDSHAKE || h[1] != 3 || h[2] > 4 || rlen == 0 ||
	    rlen > TLS_REC_MAX)
		goto bad;
	r->pos = r->rec_end + 5;
	r->rec_end = r->pos + rlen;
	r->frag_end = r->rec_end < r->len ? r->rec_end : r->len;
	return 0;
bad:
	r->bad = 1;
	return -1;
}

static void rd_skip(struct rd *r, uint32_t n)
{
	while (n && !r->bad) {
		uint32_t k;

		if (r->pos >= r->frag_end && rd_next_frag(r))
			return;
		k = r->frag_end - r->pos;
		if (k > n)
			k = n;
		r->pos += k;
		r->hs += k;
		n -= k;
	}
}

static uint32_t rd_uint(struct rd *r, int nbytes)
{
	uint32_t v = 0;

	while (nbytes-- > 0) {
		if (r->pos >= r->frag_end && rd_next_frag(r))
			return 0;
		v = v << 8 | r->d[r->pos++];
		r->hs++;
	}
	return v;
}

/* n contiguous bytes, or NULL (*split set when they cross a record) */
static const uint8_t *rd_ptr(struct rd *r, uint32_t n, int *split)
{
	const uint8_t *p;

	if (r->pos >= r->frag_end && rd_next_frag(r))
		return NULL;
	if (r->frag_end - r->pos < n) {
		*split = 1;
		return NULL;
	}
	p = r->d + r->pos;
	r->pos += n;
	r->hs += n;
	return p;
}

/* ClientHello body: legacy_version, random, session_id, cipher_suites,
 * compression_methods, then extensions. avail: handshake bytes readable;
 * the caller made sure that is the whole message (4 + length bytes), or
 * passes a prefix of it (cut): then running out of bytes is not an error
 * but "no name in this prefix" (0). */
static int parse_hello(struct rd *r, uint32_t avail, const uint8_t **sni, uint16_t *sni_len)
{
	uint32_t end, n, ext_end;
	bool cut = false;

#define NEED(x) do { if (r->bad || (uint64_t)r->hs + (x) > end) return cut ? 0 : -EINVAL; } while (0)
	*sni = NULL;
	*sni_len = 0;
	if (rd_uint(r, 1) != TLS_HS_CLIENT_HELLO)
		return -EINVAL;
	end = rd_uint(r, 3) + 4;
	if (avail < end) {
		end = avail;
		cut = true;
	}
	NEED(2 + 32 + 1);
	rd_skip(r, 2 + 32);
	n = rd_uint(r, 1);              /* session_id */
	if (n > 32)
		return -EINVAL;
	NEED(n + 2);
	rd_skip(r, n);
	n = rd_uint(r, 2);              /* cipher_suites */
	if (n < 2 || (n & 1))
		return -EINVAL;
	NEED(n + 1);
	rd_skip(r, n);
	n = rd_uint(r, 1);              /* compression_methods */
	if (n < 1)
		return -EINVAL;
	NEED(n);
	rd_skip(r, n);
	if (r->bad)
		return -EINVAL;
	if (r->hs == end)
		return cut ? 0 : 1;     /* no extensions */
	NEED(2);
	n = rd_uint(r, 2);
	if (cut && (uint64_t)r->hs + n > end)
		n = end - r->hs;        /* the extensions this prefix holds */
	NEED(n);
	ext_end = r->hs + n;
	while (r->hs < ext_end) {
		uint32_t type, elen, list, lend;

		if (ext_end - r->hs < 4)
			return cut ? 0 : -EINVAL;
		type = rd_uint(r, 2);
		elen = rd_uint(r, 2);
		if (r->bad || elen > ext_end - r->hs)
			return cut && !r->bad ? 0 : -EINVAL;
		if (type != TLS_EXT_SERVER_NAME) {
			rd_skip(r, elen);
			continue;
		}
		if (elen < 2)
			return -EINVAL;
		list = rd_uint(r, 2);
		if (list > elen - 2)
			return -EINVAL;
		lend = r->hs + list;
		while (!r->bad && lend - r->hs >= 3) {
			uint32_t nt = rd_uint(r, 1);
			uint32_t nl = rd_uint(r, 2);

			if (r->bad || nl > lend - r->hs)
				return -EINVAL;
			if (nt == 0) {
				const uint8_t *p;
				int split = 0;

				if (nl == 0)
					return -EINVAL;
				p = rd_ptr(r, nl, &split);
				if (p == NULL)
					return split ? -EXDEV : -EINVAL;
				*sni = p;
				*sni_len = (uint16_t)nl;
				return 1;
			}
			rd_skip(r, nl);
		}
		return r->bad ? -EINVAL : 1; /* server_name without host_name */
	}
	return r->bad ? -EINVAL : cut ? 0 : 1;
#undef NEED
}

int sl_eng_tls_parse_hello_msg(const uint8_t *hs, uint32_t len,
			       const uint8_t **sni, uint16_t *sni_len)
{
	struct rd r = { hs, len, 0, len, len, 0, 0, 0 };

	*sni = NULL;
	*sni_len = 0;
	if (len < 4 || hs[0] != TLS_HS_CLIENT_HELLO ||
	    sl_ld24(hs + 1) > SL_TLS_HELLO_MAX || 4 + sl_ld24(hs + 1) > len)
		return -EINVAL;
	return parse_hello(&r, UINT32_MAX, sni, sni_len);
}

int sl_eng_tls_parse_hello_prefix(const uint8_t *hs, uint32_t len,
				  const uint8_t **sni, uint16_t *sni_len)
{
	struct rd r = { hs, len, 0, len, len, 0, 0, 0 };

	*sni = NULL;
	*sni_len = 0;
	if (len < 4 || hs[0] != TLS_HS_CLIENT_HELLO || sl_ld24(hs + 1) > SL_TLS_HELLO_MAX)
		return -EINVAL;
	return parse_hello(&r, len, sni, sni_len);
}

/* Prefix of a record header: plausible so far? */
static int rec_hdr_prefix_ok(const uint8_t *h, uint32_t n)
{
	if (n >= 1 && h[0] != TLS_CT_HANDSHAKE)
		return 0;
	if (n >= 2 && h[1] != 3)
		return 0;
	if (n >= 3 && h[2] > 4)
		return 0;
	return 1;
}

int sl_tls_client_hello(const uint8_t *d, uint32_t len,
			const uint8_t **sni, uint16_t *sni_len, uint32_t *need)
{
	uint8_t hdr4[4];
	uint32_t have = 0;      /* handshake bytes seen */
	uint32_t total = 0;     /* handshake message length, once known */
	uint32_t off = 0;       /* current record header */
	uint32_t rlen0 = 0;
	struct rd r;

	*sni = NULL;
	*sni_len = 0;
	*need = 0;
	if (d == NULL || len == 0) {
		*need = 5;
		return 0;
	}
	for (;;) {
		uint32_t rlen, frag, fend, avail, i;

		if (len - off < 5) {
			if (!rec_hdr_prefix_ok(d + off, len - off))
				return -EINVAL;
			*need = off + 5;
			return 0;
		}
		rlen = sl_ld16(d + off + 3);
		if (!rec_hdr_prefix_ok(d + off, 5) || rlen == 0 ||
		    rlen > TLS_REC_MAX)
			return -EINVAL;
		if (off == 0)
			rlen0 = rlen;
		frag = off + 5;
		fend = frag + rlen;
		avail = (fend < len ? fend : len) - frag;
		for (i = 0; have + i < 4 && i < avail; i++)
			hdr4[have + i] = d[frag + i];
		if (have == 0 && avail > 0 && hdr4[0] != TLS_HS_CLIENT_HELLO)
			return -EINVAL;
		have += avail;
		if (total == 0 && have >= 4) {
			uint32_t l = sl_ld24(hdr4 + 1);

			if (l > SL_TLS_HELLO_MAX)
				return -EINVAL;
			total = 4 + l;
		}
		if (total && have >= total)
			break;
		if (fend > len) {
			*need = fend;
			return 0;
		}
		off = fend;
	}

	memset(&r, 0, sizeof(r));
	r.d = d;
	r.len = len;
	r.pos = 5;
	r.rec_end = 5 + rlen0;
	r.frag_end = r.rec_end < len ? r.rec_end : len;
	r.framed = 1;
	return parse_hello(&r, UINT32_MAX, sni, sni_len);
}
