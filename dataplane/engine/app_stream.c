/* Field extraction from the client-to-server byte stream of a TCP flow
 * (see sl_app_feed in include/sluice/app.h): protocol detection, HTTP
 * request heads with body skipping (Content-Length, chunked), TLS
 * ClientHello SNI (defragmenting records), DNS over TCP.
 *
 * A message that is whole in one delivery is parsed where it lies. One
 * that spans deliveries is accumulated in a buffer borrowed from the
 * per-lcore pool and given back as soon as the message is complete. The
 * per-flow state is 12 bytes (struct sl_app_half): proto, a state byte,
 * the buffer index and fill, and a 32-bit counter whose meaning depends on
 * the state (bytes to skip, chunk size, DNS message length).
 */
#include <errno.h>
#include <string.h>

#include "engine.h"

/* HTTP states */
enum {
	H_HEAD = 0,        /* at (or inside, buffered) a request head */
	H_BODY,            /* skip: Content-Length bytes left */
	H_CHUNK_SIZE0,     /* chunk-size line, no digit yet */
	H_CHUNK_SIZE,      /* skip: size so far */
	H_CHUNK_EXT,       /* chunk extension, up to LF */
	H_CHUNK_LF,        /* CR seen after the size */
	H_CHUNK_DATA,      /* skip: chunk bytes left */
	H_CHUNK_DATA_END,  /* CRLF after the chunk data */
	H_CHUNK_DATA_LF,
	H_TRAILER_BOL,     /* start of a trailer line (or the final blank line) */
	H_TRAILER_CR,
	H_TRAILER_LINE,
	H_RESYNC,          /* after a gap: wait for a delivery starting a request */
};

/* TLS states: 0..4 = bytes of a record header pending at the end of the
 * buffer; the buffer otherwise holds handshake bytes without headers. */
enum {
	T_HDR0 = 0,
	T_BODY = 5,        /* skip: bytes left in the current record */
	T_RESYNC = 6,      /* skip: deliveries looked at since the gap */
};
#define T_RESYNC_MAX 16
#define TLS_REC_MAX (16384 + 2048)
#define TLS_HS_CAP (SL_APP_BUF_SIZE - 5)

/* DNS states */
enum {
	D_LEN0 = 0,        /* at a length prefix */
	D_LEN1,            /* skip: first length byte */
	D_MSG,             /* skip: message length; buffer holds its start */
	D_SKIP,            /* skip: rest of the message */
	D_RESYNC,
};
/* Bytes of a DNS message needed for its header and first question: the
 * name is at most 255 bytes in place (pointers only point backwards). */
#define DNS_PREFIX 512

struct fctx {
	struct sl_app_half *h;
	struct sl_app_pool *pool;
	sl_field_fn fn;
	void *ctx;
};

void sl_app_pool_init(struct sl_app_pool *pool, void *mem, uint32_t *links, uint32_t n)
{
	uint32_t i;

	if (mem == NULL || links == NULL)
		n = 0;
	if (n == SL_APP_NONE)
		n--;
	pool->nbufs = n;
	pool->next = links;
	pool->mem = mem;
	pool->exhausted = 0;
	for (i = 0; i < n; i++)
		links[i] = i + 1 < n ? i + 1 : SL_APP_NONE;
	pool->free_head = n ? 0 : SL_APP_NONE;
	pool->nfree = n;
}

void sl_app_half_init(struct sl_app_half *h)
{
	h->proto = SL_APP_UNKNOWN;
	h->state = 0;
	h->buf_len = 0;
	h->buf = SL_APP_NONE;
	h->skip = 0;
}

static uint8_t *buf_ptr(const struct sl_app_pool *pool, const struct sl_app_half *h)
{
	return pool->mem + (size_t)h->buf * SL_APP_BUF_SIZE;
}

static int buf_get(struct sl_app_pool *pool, struct sl_app_half *h)
{
	if (h->buf != SL_APP_NONE)
		return 0;
	if (pool->free_head == SL_APP_NONE) {
		pool->exhausted++;
		return -ENOBUFS;
	}
	h->buf = pool->free_head;
	pool->free_head = pool->next[h->buf];
	pool->nfree--;
	h->buf_len = 0;
	return 0;
}

static void buf_put(struct sl_app_pool *pool, struct sl_app_half *h)
{
	if (h->buf != SL_APP_NONE) {
		pool->next[h->buf] = pool->free_head;
		pool->free_head = h->buf;
		pool->nfree++;
	}
	h->buf = SL_APP_NONE;
	h->buf_len = 0;
}

void sl_app_half_release(struct sl_app_half *h, struct sl_app_pool *pool)
{
	buf_put(pool, h);
	h->proto = SL_APP_OTHER;
}

static void give_up(struct fctx *c)
{
	buf_put(c->pool, c->h);
	c->h->proto = SL_APP_OTHER;
}

/* ---- HTTP ------------------------------------------------------------ */

static int emit_http(struct fctx *c, const struct sl_http_req *r)
{
	struct sl_app_field f;
	int rc;

	if (r->host_len) {
		memset(&f, 0, sizeof(f));
		f.field = SL_FIELD_HOST;
		f.value = r->host;
		f.len = r->host_len;
		rc = c->fn(c->ctx, &f);
		if (rc)
			return rc;
	}
	memset(&f, 0, sizeof(f));
	f.field = SL_FIELD_URL;
	f.host = r->host_len ? r->host : "";
	f.host_len = r->host_len;
	f.target = r->target;
	f.target_len = r->target_len;
	return c->fn(c->ctx, &f);
}

/* What follows a request head. */
static void after_head(struct fctx *c, const struct sl_http_req *r)
{
	struct sl_app_half *h = c->h;

	if (r->method_len == 7 && memcmp(r->method, "CONNECT", 7) == 0) {
		/* a tunnel: detect what runs inside */
		h->proto = SL_APP_UNKNOWN;
		h->state = 0;
		h->skip = 0;
		return;
	}
	switch (r->body) {
	case SL_HTTP_BODY_NONE:
		h->state = H_HEAD;
		break;
	case SL_HTTP_BODY_LENGTH:
		if (r->content_length > UINT32_MAX) {
			give_up(c);
			break;
		}
		h->state = H_BODY;
		h->skip = (uint32_t)r->content_length;
		break;
	case SL_HTTP_BODY_CHUNKED:
		h->state = H_CHUNK_SIZE0;
		h->skip = 0;
		break;
	default:
		give_up(c);
		break;
	}
}

/* A head parsed: emit, release the buffer, move on. */
static int head_done(struct fctx *c, const struct sl_http_req *r)
{
	int rc = emit_http(c, r);

	buf_put(c->pool, c->h);
	if (rc == 0)
		after_head(c, r);
	return rc;
}

/* At a request head: returns bytes consumed, *rc the callback's value or
 * -ENOBUFS. */
static uint32_t http_head(struct fctx *c, const uint8_t *d, uint32_t len, int *rc)
{
	struct sl_app_half *h = c->h;
	struct sl_http_req req;
	uint32_t k, take, n, end;
	uint8_t *b;
	int r;

	if (h->buf == SL_APP_NONE) {
		r = sl_eng_http_parse_head(d, len, &req, 0);
		if (r < 0) {
			give_up(c);
			return len;
		}
		if (r == 1) {
			*rc = head_done(c, &req);
			return req.head_len;
		}
		if (len >= SL_APP_BUF_SIZE) {
			/* could never be buffered: take what the segment has */
			if (sl_eng_http_parse_head(d, len, &req, 1) == 1)
				*rc = emit_http(c, &req);
			give_up(c);
			return len;
		}
		if (buf_get(c->pool, h)) {
			*rc = -ENOBUFS;
			give_up(c);
			return len;
		}
		memcpy(buf_ptr(c->pool, h), d, len);
		h->buf_len = (uint16_t)len;
		return len;
	}

	b = buf_ptr(c->pool, h);
	k = h->buf_len;
	take = SL_APP_BUF_SIZE - k;
	if (take > len)
		take = len;
	memcpy(b + k, d, take);
	n = k + take;
	if (k <= SL_HTTP_METHOD_MAX && sl_http_request_start(b, n) < 0) {
		give_up(c);
		return len;
	}
	end = sl_eng_http_head_end(b, n, k >= 2 ? k - 2 : 0);
	if (end) {
		r = sl_eng_http_parse_head(b, end, &req, 0);
		if (r != 1 || req.head_len != end) {
			give_up(c);
			return len;
		}
		*rc = head_done(c, &req);
		return end > k ? end - k : 0;
	}
	if (n == SL_APP_BUF_SIZE) {
		if (sl_eng_http_parse_head(b, n, &req, 1) == 1)
			*rc = emit_http(c, &req);
		give_up(c);
		return len;
	}
	h->buf_len = (uint16_t)n;
	return take;
}

static int hexval(uint8_t b)
{
	if (b >= '0' && b <= '9')
		return b - '0';
	b |= 0x20;
	if (b >= 'a' && b <= 'f')
		return b - 'a' + 10;
	return -1;
}

/* One byte of chunked framing outside chunk data. */
static void chunk_byte(struct fctx *c, uint8_t b)
{
	struct sl_app_half *h = c->h;
	int v;

	switch (h->state) {
	case H_CHUNK_SIZE0:
		v = hexval(b);
		if (v < 0)
			break;
		h->skip = (uint32_t)v;
		h->state = H_CHUNK_SIZE;
		return;
	case H_CHUNK_SIZE:
		v = hexval(b);
		if (v >= 0) {
			if (h->skip > 0x0fffffff)
				break;
			h->skip = h->skip << 4 | (uint32_t)v;
			return;
		}
		if (b == ';' || b == ' ' || b == '\t') {
			h->state = H_CHUNK_EXT;
			return;
		}
		if (b == '\r') {
			h->state = H_CHUNK_LF;
			return;
		}
		if (b == '\n')
			goto size_done;
		break;
	case H_CHUNK_EXT:
		if (b == '\n')
			goto size_done;
		return;
	case H_CHUNK_LF:
		if (b == '\n')
			goto size_done;
		break;
	case H_CHUNK_DATA_END:
		if (b == '\r') {
			h->state = H_CHUNK_DATA_LF;
			return;
		}
		if (b == '\n') {
			h->state = H_CHUNK_SIZE0;
			return;
		}
		break;
	case H_CHUNK_DATA_LF:
		if (b == '\n') {
			h->state = H_CHUNK_SIZE0;
			return;
		}
		break;
	case H_TRAILER_BOL:
		if (b == '\n')
			h->state = H_HEAD;
		else if (b == '\r')
			h->state = H_TRAILER_CR;
		else
			h->state = H_TRAILER_LINE;
		return;
	case H_TRAILER_CR:
		if (b == '\n') {
			h->state = H_HEAD;
			return;
		}
		break;
	case H_TRAILER_LINE:
		if (b == '\n')
			h->state = H_TRAILER_BOL;
		return;
	default:
		break;
	}
	give_up(c);
	return;
size_done:
	h->state = h->skip ? H_CHUNK_DATA : H_TRAILER_BOL;
}

static int feed_http(struct fctx *c, const uint8_t **pd, uint32_t *plen)
{
	struct sl_app_half *h = c->h;
	const uint8_t *d = *pd;
	uint32_t len = *plen;
	uint32_t k;
	int rc = 0;

	while (len > 0 && h->proto == SL_APP_HTTP) {
		switch (h->state) {
		case H_RESYNC:
			if (sl_http_request_start(d, len) < 0) {
				len = 0; /* not here: wait for the next delivery */
				break;
			}
			h->state = H_HEAD;
			break;
		case H_HEAD:
			k = http_head(c, d, len, &rc);
			d += k;
			len -= k;
			if (rc)
				goto out;
			break;
		case H_BODY:
		case H_CHUNK_DATA:
			k = h->skip < len ? h->skip : len;
			h->skip -= k;
			d += k;
			len -= k;
			if (h->skip == 0)
				h->state = h->state == H_BODY ? H_HEAD : H_CHUNK_DATA_END;
			break;
		default:
			chunk_byte(c, *d);
			d++;
			len--;
			break;
		}
	}
out:
	*pd = d;
	*plen = len;
	return rc;
}

/* ---- TLS ------------------------------------------------------------- */

static int rec_prefix_ok(const uint8_t *d, uint32_t n)
{
	if (n >= 1 && d[0] != 22)
		return 0;
	if (n >= 2 && d[1] != 3)
		return 0;
	if (n >= 3 && d[2] > 4)
		return 0;
	return 1;
}

/* Start of a ClientHello record (as far as the bytes go). */
static int looks_like_hello(const uint8_t *d, uint32_t len)
{
	return len > 0 && rec_prefix_ok(d, len) && (len < 6 || d[5] == 1);
}

static int emit_sni(struct fctx *c, const uint8_t *sni, uint16_t n)
{
	struct sl_app_field f;

	if (n == 0)
		return 0;
	memset(&f, 0, sizeof(f));
	f.field = SL_FIELD_SNI;
	f.value = (const char *)sni;
	f.len = n;
	return c->fn(c->ctx, &f);
}

/* Copy record fragments into the buffer without their headers, until the
 * handshake message is complete. */
static int tls_accumulate(struct fctx *c, const uint8_t *d, uint32_t len)
{
	struct sl_app_half *h = c->h;
	uint8_t *b = buf_ptr(c->pool, h);
	const uint8_t *sni;
	uint16_t sni_len;
	uint32_t take, total;
	int rc;

	while (len > 0) {
		if (h->state < T_BODY) {
			uint32_t k = h->state;
			const uint8_t *hdr;
			uint32_t rlen;

			take = 5 - k < len ? 5 - k : len;
			memcpy(b + h->buf_len, d, take);
			h->buf_len = (uint16_t)(h->buf_len + take);
			k += take;
			d += take;
			len -= take;
			hdr = b + h->buf_len - k;
			if (!rec_prefix_ok(hdr, k))
				goto bad;
			if (k < 5) {
				h->state = (uint8_t)k;
				return 0;
			}
			rlen = sl_ld16(hdr + 3);
			if (rlen == 0 || rlen > TLS_REC_MAX)
				goto bad;
			h->buf_len = (uint16_t)(h->buf_len - 5);
			h->skip = rlen;
			h->state = T_BODY;
			continue;
		}
		take = h->skip < len ? h->skip : len;
		if (take > (uint32_t)TLS_HS_CAP - h->buf_len)
			take = (uint32_t)TLS_HS_CAP - h->buf_len;
		if (take == 0)
			goto full;
		memcpy(b + h->buf_len, d, take);
		h->buf_len = (uint16_t)(h->buf_len + take);
		h->skip -= take;
		d += take;
		len -= take;
		if (b[0] != 1)
			goto bad;
		if (h->buf_len >= 4) {
			total = 4 + sl_ld24(b + 1);
			if (h->buf_len < total && h->buf_len == TLS_HS_CAP)
				goto full;
			if (h->buf_len >= total) {
				rc = 0;
				if (sl_eng_tls_parse_hello_msg(b, h->buf_len, &sni,
							       &sni_len) == 1)
					rc = emit_sni(c, sni, sni_len);
				give_up(c); /* done: nothing more to extract */
				return rc;
			}
		}
		if (h->skip == 0)
			h->state = T_HDR0;
	}
	return 0;
full:
	/* a ClientHello larger than the buffer (padded, or huge extensions):
	 * the name is usually early in it; if it is not in what the buffer
	 * holds, the fields are lost to a too small buffer, an overload */
	rc = sl_eng_tls_parse_hello_prefix(b, h->buf_len, &sni, &sni_len);
	give_up(c);
	if (rc == 1)
		return sni ? emit_sni(c, sni, sni_len) : 0;  /* 0: server_name without a host_name */
	return rc < 0 ? 0 : -ENOBUFS;
bad:
	give_up(c);
	return 0;
}

static int feed_tls(struct fctx *c, const uint8_t *d, uint32_t len)
{
	struct sl_app_half *h = c->h;
	const uint8_t *sni;
	uint16_t sni_len;
	uint32_t need;
	int r, rc;

	if (h->state == T_RESYNC) {
		if (!looks_like_hello(d, len)) {
			if (++h->skip >= T_RESYNC_MAX)
				give_up(c);
			return 0;
		}
		h->state = T_HDR0;
		h->skip = 0;
	}
	if (h->buf == SL_APP_NONE) {
		r = sl_tls_client_hello(d, len, &sni, &sni_len, &need);
		if (r == 1) {
			rc = emit_sni(c, sni, sni_len);
			give_up(c);
			return rc;
		}
		if (r < 0 && r != -EXDEV) {
			give_up(c);
			return 0;
		}
		if (buf_get(c->pool, h)) {
			give_up(c);
			return -ENOBUFS;
		}
		h->state = T_HDR0;
	}
	return tls_accumulate(c, d, len);
}

/* ---- DNS over TCP ------------------------------------------------------ */

static int dns_emit(struct fctx *c, const uint8_t *msg, uint32_t n)
{
	struct sl_dns_query q;
	struct sl_app_field f;

	if (sl_dns_parse_query(msg, n, &q) != 0 || q.name_len == 0)
		return 0;
	memset(&f, 0, sizeof(f));
	f.field = SL_FIELD_DNS;
	f.value = q.name;
	f.len = q.name_len;
	f.msg = msg;
	f.msg_len = n;
	return c->fn(c->ctx, &f);
}

/* A delivery that starts with the length prefix of a query. */
static int dns_plausible(const uint8_t *d, uint32_t len)
{
	const uint8_t *m = d + 2;

	return len >= 14 && sl_ld16(d) >= 17 && !(m[2] & 0x80) &&
	       (m[2] & 0x78) == 0 && sl_ld16(m + 4) == 1 &&
	       sl_ld16(m + 6) == 0 && sl_ld16(m + 8) == 0;
}

static int feed_dns(struct fctx *c, const uint8_t *d, uint32_t len)
{
	struct sl_app_half *h = c->h;
	uint32_t m, p, k;
	int rc;

	if (h->state == D_RESYNC) {
		if (!dns_plausible(d, len))
			return 0;
		h->state = D_LEN0;
	}
	while (len > 0) {
		switch (h->state) {
		case D_LEN0:
			if (len < 2) {
				h->skip = d[0];
				h->state = D_LEN1;
				return 0;
			}
			m = sl_ld16(d);
			d += 2;
			len -= 2;
			break;
		case D_LEN1:
			m = h->skip << 8 | d[0];
			d++;
			len--;
			break;
		case D_MSG: {
			uint8_t *b = buf_ptr(c->pool, h);

			m = h->skip;
			p = m < DNS_PREFIX ? m : DNS_PREFIX;
			k = p - h->buf_len < len ? p - h->buf_len : len;
			memcpy(b + h->buf_len, d, k);
			h->buf_len = (uint16_t)(h->buf_len + k);
			d += k;
			len -= k;
			if (h->buf_len < p)
				return 0;
			rc = dns_emit(c, b, p);
			buf_put(c->pool, h);
			h->skip = m - p;
			h->state = h->skip ? D_SKIP : D_LEN0;
			if (rc)
				return rc;
			continue;
		}
		case D_SKIP:
			k = h->skip < len ? h->skip : len;
			h->skip -= k;
			d += k;
			len -= k;
			if (h->skip == 0)
				h->state = D_LEN0;
			continue;
		default:
			give_up(c);
			return 0;
		}

		/* a length prefix was read: message of m bytes */
		h->state = D_LEN0;
		if (m == 0)
			continue;
		p = m < DNS_PREFIX ? m : DNS_PREFIX;
		if (len >= p) {
			rc = dns_emit(c, d, p);
			k = m < len ? m : len;
			d += k;
			len -= k;
			h->skip = m - k;
			if (h->skip)
				h->state = D_SKIP;
			if (rc)
				return rc;
			continue;
		}
		if (buf_get(c->pool, h)) {
			give_up(c);
			return -ENOBUFS;
		}
		memcpy(buf_ptr(c->pool, h), d, len);
		h->buf_len = (uint16_t)len;
		h->skip = m;
		h->state = D_MSG;
		return 0;
	}
	return 0;
}

/* ---- detection and entry --------------------------------------------- */

static void detect(struct sl_app_half *h, const uint8_t *d, uint32_t len,
		   int gap, uint16_t server_port)
{
	h->state = 0;
	h->skip = 0;
	if (server_port == 53) {
		h->proto = SL_APP_DNS;
		h->state = gap ? D_RESYNC : D_LEN0;
		return;
	}
	if (d[0] == 22) {
		h->proto = looks_like_hello(d, len) ? SL_APP_TLS : SL_APP_OTHER;
		h->state = T_HDR0;
		return;
	}
	h->proto = sl_http_request_start(d, len) >= 0 ? SL_APP_HTTP : SL_APP_OTHER;
	h->state = H_HEAD;
}

int sl_app_feed(struct sl_app_half *h, struct sl_app_pool *pool,
		const uint8_t *data, uint32_t len, int gap, uint16_t server_port,
		sl_field_fn fn, void *ctx)
{
	struct fctx c = { h, pool, fn, ctx };
	unsigned rounds;
	int rc = 0;

	if (h->proto == SL_APP_OTHER)
		return 0;
	if (data == NULL)
		len = 0;
	if (gap) {
		/* whatever was being accumulated is lost */
		buf_put(pool, h);
		switch (h->proto) {
		case SL_APP_HTTP:
			h->state = H_RESYNC;
			break;
		case SL_APP_TLS:
			h->state = T_RESYNC;
			h->skip = 0;
			break;
		case SL_APP_DNS:
			h->state = D_RESYNC;
			break;
		default:
			break;
		}
	}
	/* more than one round only after CONNECT (each eats a head) */
	for (rounds = 0; len > 0 && rounds < 64; rounds++) {
		if (h->proto == SL_APP_UNKNOWN)
			detect(h, data, len, gap, server_port);
		switch (h->proto) {
		case SL_APP_HTTP:
			rc = feed_http(&c, &data, &len);
			break;
		case SL_APP_TLS:
			rc = feed_tls(&c, data, len);
			len = 0;
			break;
		case SL_APP_DNS:
			rc = feed_dns(&c, data, len);
			len = 0;
			break;
		default:
			len = 0;
			break;
		}
		if (rc)
			break;
		gap = 0;
	}
	if (rc || h->proto == SL_APP_OTHER)
		give_up(&c);
	return rc;
}
