/* HTTP/1.x request head parsing (see include/sluice/app.h): method,
 * request-target, Host, and the body framing (Content-Length,
 * Transfer-Encoding) the stream extractor needs to find the next request.
 * Works on one buffer, never reads past it, keeps pointers into it.
 */
#include <errno.h>
#include <string.h>

#include "engine.h"

struct method {
	const char *s;
	uint8_t n;
};

static const struct method methods[] = {
	{ "GET", 3 },     { "POST", 4 },     { "HEAD", 4 },      { "PUT", 3 },
	{ "DELETE", 6 },  { "OPTIONS", 7 },  { "CONNECT", 7 },   { "PATCH", 5 },
	{ "TRACE", 5 },   { "PROPFIND", 8 }, { "PROPPATCH", 9 }, { "MKCOL", 5 },
	{ "COPY", 4 },    { "MOVE", 4 },     { "LOCK", 4 },      { "UNLOCK", 6 },
	{ "SEARCH", 6 },  { "REPORT", 6 },   { "MKCALENDAR", 10 },
};

int sl_http_request_start(const uint8_t *d, uint32_t len)
{
	int maybe = 0;
	size_t i;

	if (len == 0)
		return 0;
	/* every method starts with one of C D G H L M O P R S T U */
	if (d[0] < 'C' || d[0] > 'U')
		return -EINVAL;
	for (i = 0; i < SL_ARRAY_SIZE(methods); i++) {
		const struct method *m = &methods[i];

		if (len > m->n) {
			if (d[m->n] == ' ' && memcmp(d, m->s, m->n) == 0)
				return 1;
		} else if (memcmp(d, m->s, len) == 0) {
			maybe = 1;
		}
	}
	return maybe ? 0 : -EINVAL;
}

static inline int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* a[0..n) equals the lowercase literal lit, ignoring ASCII case */
static int ci_eq(const uint8_t *a, uint32_t n, const char *lit)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = a[i];

		if (lit[i] == '\0')
			return 0;
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		if (c != (uint8_t)lit[i])
			return 0;
	}
	return lit[n] == '\0';
}

/* What the header lines told us so far. */
struct hdr_state {
	int host_seen;
	int cl_seen;
	int cl_bad;
	int te_seen;
	int te_chunked;
	uint64_t cl;
};

static void trim(const uint8_t **v, uint32_t *n)
{
	while (*n && is_ws((*v)[0])) {
		(*v)++;
		(*n)--;
	}
	while (*n && is_ws((*v)[*n - 1]))
		(*n)--;
}

static void header_line(struct sl_http_req *r, struct hdr_state *st,
			const uint8_t *l, uint32_t n)
{
	const uint8_t *colon = memchr(l, ':', n);
	const uint8_t *v;
	uint32_t nl, vn, i;

	if (colon == NULL)
		return; /* not a header: tolerated, ignored */
	nl = (uint32_t)(colon - l);
	while (nl && is_ws(l[nl - 1]))
		nl--;
	v = colon + 1;
	vn = n - (uint32_t)(v - l);
	trim(&v, &vn);

	switch (nl) {
	case 4:
		if (!st->host_seen && ci_eq(l, 4, "host")) {
			st->host_seen = 1;
			r->host = (const char *)v;
			r->host_len = (uint16_t)(vn > 0xffff ? 0xffff : vn);
		}
		break;
	case 14:
		if (ci_eq(l, 14, "content-length")) {
			uint64_t cl = 0;

			if (vn == 0 || vn > 19)
				st->cl_bad = 1;
			for (i = 0; i < vn && !st->cl_bad; i++) {
				if (v[i] < '0' || v[i] > '9')
					st->cl_bad = 1;
				cl = cl * 10 + (uint64_t)(v[i] - '0');
			}
			if (st->cl_seen && cl != st->cl)
				st->cl_bad = 1;
			st->cl_seen = 1;
			st->cl = cl;
		}
		break;
	case 17:
		if (ci_eq(l, 17, "transfer-encoding")) {
			/* the last coding decides */
			const uint8_t *last = v;
			uint32_t ln = vn;

			for (i = vn; i > 0; i--) {
				if (v[i - 1] == ',') {
					last = v + i;
					ln = vn - i;
					break;
				}
			}
			trim(&last, &ln);
			st->te_seen = 1;
			st->te_chunked = ci_eq(last, ln, "chunked");
		}
		break;
	default:
		break;
	}
}

static void set_body(struct sl_http_req *r, const struct hdr_state *st)
{
	if (st->te_seen)
		r->body = st->te_chunked ? SL_HTTP_BODY_CHUNKED : SL_HTTP_BODY_UNKNOWN;
	else if (st->cl_bad)
		r->body = SL_HTTP_BODY_UNKNOWN;
	else if (st->cl_seen && st->cl > 0)
		r->body = SL_HTTP_BODY_LENGTH;
	else
		r->body = SL_HTTP_BODY_NONE;
	r->content_length = r->body == SL_HTTP_BODY_LENGTH ? st->cl : 0;
}

int sl_eng_http_parse_head(const uint8_t *d, uint32_t len,
			   struct sl_http_req *r, int final)
{
	struct hdr_state st = { 0 };
	const uint8_t *lf;
	uint32_t i, j, ts, pos, e, cend;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = sl_http_request_start(d, len);
	if (rc < 0)
		return -EINVAL;
	if (rc == 0)
		return final ? -EINVAL : 0;

	/* method: request_start saw "METHOD " inside len */
	for (i = 0; d[i] != ' '; i++)
		;
	r->method = (const char *)d;
	r->method_len = (uint16_t)i;
	while (i < len && d[i] == ' ')
		i++;
	ts = i;
	while (i < len && d[i] != ' ' && d[i] != '\r' && d[i] != '\n')
		i++;
	if (i == len)
		return final ? -EINVAL : 0;
	if (i == ts || i - ts > 0xffff)
		return -EINVAL;
	r->target = (const char *)d + ts;
	r->target_len = (uint16_t)(i - ts);

	/* protocol version, up to the end of the request line */
	lf = memchr(d + i, '\n', len - i);
	if (lf == NULL)
		return final ? -EINVAL : 0;
	e = (uint32_t)(lf - d);
	cend = e > i && d[e - 1] == '\r' ? e - 1 : e;
	j = i;
	while (j < cend && d[j] == ' ')
		j++;
	if (j == cend) {
		/* HTTP/0.9: "GET /path" alone, no headers */
		r->head_len = e + 1;
		r->body = SL_HTTP_BODY_NONE;
		return 1;
	}
	if (cend - j < 5 || memcmp(d + j, "HTTP/", 5) != 0)
		return -EINVAL;

	/* header lines up to the blank line; every iteration eats a line */
	pos = e + 1;
	for (;;) {
		if (pos >= len)
			goto incomplete;
		if (d[pos] == '\n') {
			pos++;
			break;
		}
		if (d[pos] == '\r') {
			if (pos + 1 >= len)
				goto incomplete;
			if (d[pos + 1] == '\n') {
				pos += 2;
				break;
			}
		}
		lf = memchr(d + pos, '\n', len - pos);
		if (lf == NULL)
			goto incomplete;
		e = (uint32_t)(lf - d);
		cend = e > pos && d[e - 1] == '\r' ? e - 1 : e;
		header_line(r, &st, d + pos, cend - pos);
		pos = e + 1;
	}
	r->head_len = pos;
	set_body(r, &st);
	return 1;

incomplete:
	if (!final)
		return 0;
	r->head_len = 0;
	r->body = SL_HTTP_BODY_UNKNOWN;
	return 1;
}

int sl_http_parse_request(const uint8_t *data, uint32_t len, struct sl_http_req *r)
{
	if (data == NULL)
		len = 0;
	return sl_eng_http_parse_head(data, len, r, 0);
}

uint32_t sl_eng_http_head_end(const uint8_t *d, uint32_t len, uint32_t from)
{
	uint32_t i = from;

	while (i < len) {
		const uint8_t *lf = memchr(d + i, '\n', len - i);
		uint32_t k;

		if (lf == NULL)
			return 0;
		k = (uint32_t)(lf - d);
		if (k + 1 < len && d[k + 1] == '\n')
			return k + 2;
		if (k + 2 < len && d[k + 1] == '\r' && d[k + 2] == '\n')
			return k + 3;
		i = k + 1;
	}
	return 0;
}
