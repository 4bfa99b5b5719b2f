/* Unit tests of field extraction: HTTP request heads, TLS ClientHello SNI
 * (real bytes from the conformance captures), DNS queries, and the stream
 * extractor sl_app_feed (splits at every byte, keep-alive, chunked, gaps,
 * CONNECT, DNS over TCP, pool exhaustion). */
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
#include "sluice/decode.h"
#include "testutil.h"

#define NBUF 4

static uint8_t pool_mem[NBUF * SL_APP_BUF_SIZE];
static uint32_t pool_links[NBUF];
static struct sl_app_pool pool;

struct got {
	int n;
	int stop_after;
	struct {
		int field;
		char v[1024];
		char host[1024];
		char target[1024];
	} f[64];
};

static void cpy(char *dst, const char *s, uint32_t n)
{
	if (n > 1023)
		n = 1023;
	memcpy(dst, s ? s : "", n);
	dst[n] = '\0';
}

static int on_field(void *ctx, const struct sl_app_field *f)
{
	struct got *g = ctx;

	assert_true(g->n < 64);
	g->f[g->n].field = f->field;
	cpy(g->f[g->n].v, f->value, f->value ? f->len : 0);
	if (f->field == SL_FIELD_URL) {
		assert_non_null(f->host);
		assert_non_null(f->target);
		cpy(g->f[g->n].host, f->host, f->host_len);
		cpy(g->f[g->n].target, f->target, f->target_len);
	} else {
		assert_non_null(f->value);
		assert_true(f->len > 0);
	}
	if (f->field == SL_FIELD_DNS) {
		struct sl_dns_query q;

		/* the message is there to answer the query */
		assert_non_null(f->msg);
		assert_int_equal(sl_dns_parse_query(f->msg, f->msg_len, &q), 0);
		assert_int_equal(q.name_len, f->len);
		assert_memory_equal(q.name, f->value, f->len);
		assert_true(q.qend <= f->msg_len);
	}
	g->n++;
	return g->stop_after && g->n >= g->stop_after;
}

static int setup(void **state)
{
	(void)state;
	sl_app_pool_init(&pool, pool_mem, pool_links, NBUF);
	return 0;
}

static void expect_field(const struct got *g, int i, int field, const char *v)
{
	assert_true(i < g->n);
	assert_int_equal(g->f[i].field, field);
	assert_string_equal(g->f[i].v, v);
}

static void expect_url(const struct got *g, int i, const char *host, const char *target)
{
	assert_true(i < g->n);
	assert_int_equal(g->f[i].field, SL_FIELD_URL);
	assert_string_equal(g->f[i].host, host);
	assert_string_equal(g->f[i].target, target);
}

/* Feed s in pieces of the given sizes (0-terminated list; the rest in one). */
static int feed(struct sl_app_half *h, const void *s, size_t n, uint16_t port,
		struct got *g)
{
	return sl_app_feed(h, &pool, s, (uint32_t)n, 0, port, on_field, g);
}

/* Feed data cut at k into two deliveries. */
static void feed_split(struct sl_app_half *h, const uint8_t *d, size_t n, size_t k,
		       uint16_t port, struct got *g)
{
	if (k)
		assert_int_equal(feed(h, d, k, port, g), 0);
	if (n - k)
		assert_int_equal(feed(h, d + k, n - k, port, g), 0);
}

/* ---- HTTP parser ------------------------------------------------------- */

static void test_http_parse(void **state)
{
	struct sl_http_req r;
	const char *s;

	(void)state;
	s = "GET /a/b?c=d HTTP/1.1\r\nUser-Agent: x\r\nhOsT: \t www.Example.org:8080 \t\r\nAccept: */*\r\n\r\nrest";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), 1);
	assert_int_equal(r.method_len, 3);
	assert_memory_equal(r.method, "GET", 3);
	assert_int_equal(r.target_len, 8);
	assert_memory_equal(r.target, "/a/b?c=d", 8);
	assert_int_equal(r.host_len, 20);
	assert_memory_equal(r.host, "www.Example.org:8080", 20);
	assert_int_equal(r.head_len, strlen(s) - 4);
	assert_int_equal(r.body, SL_HTTP_BODY_NONE);

	/* bare LF, absolute form, no Host */
	s = "HEAD http://example.com/x HTTP/1.0\nX: y\n\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), 1);
	assert_int_equal(r.target_len, strlen("http://example.com/x"));
	assert_memory_equal(r.target, "http://example.com/x", r.target_len);
	assert_int_equal(r.host_len, 0);
	assert_int_equal(r.head_len, strlen(s));

	/* incomplete at every length, then complete */
	s = "PROPFIND /dav HTTP/1.1\r\nHost: d\r\nDepth: 1\r\n\r\n";
	for (size_t i = 0; i < strlen(s); i++)
		assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)i, &r), 0);
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), 1);
	assert_memory_equal(r.method, "PROPFIND", 8);

	/* body framing */
	s = "POST / HTTP/1.1\r\nContent-Length: 42\r\nHost: h\r\n\r\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), 1);
	assert_int_equal(r.body, SL_HTTP_BODY_LENGTH);
	assert_int_equal(r.content_length, 42);
	s = "POST / HTTP/1.1\r\nContent-Length: 42\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), 1);
	assert_int_equal(r.body, SL_HTTP_BODY_CHUNKED);
	s = "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), 1);
	assert_int_equal(r.body, SL_HTTP_BODY_UNKNOWN);
	s = "POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), 1);
	assert_int_equal(r.body, SL_HTTP_BODY_UNKNOWN);
	s = "POST / HTTP/1.1\r\nContent-Length: -4\r\n\r\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), 1);
	assert_int_equal(r.body, SL_HTTP_BODY_UNKNOWN);
	s = "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), 1);
	assert_int_equal(r.body, SL_HTTP_BODY_NONE);

	/* first Host wins; "Host :" tolerated */
	s = "GET / HTTP/1.1\r\nHost : first\r\nHost: second\r\n\r\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), 1);
	assert_int_equal(r.host_len, 5);
	assert_memory_equal(r.host, "first", 5);

	/* HTTP/0.9 */
	s = "GET /old\r\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), 1);
	assert_int_equal(r.target_len, 4);
	assert_int_equal(r.head_len, strlen(s));

	/* not HTTP */
	s = "get / HTTP/1.1\r\n\r\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), -EINVAL);
	s = "GET / FTP/1.1\r\n\r\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), -EINVAL);
	s = "GETS / HTTP/1.1\r\n\r\n";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), &r), -EINVAL);
	s = "\x16\x03\x01";
	assert_int_equal(sl_http_parse_request((const uint8_t *)s, 3, &r), -EINVAL);
	assert_int_equal(sl_http_parse_request(NULL, 0, &r), 0);
}

static void test_http_request_start(void **state)
{
	static const char *const ok[] = {
		"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ",
		"PATCH ", "TRACE ", "PROPFIND ", "PROPPATCH ", "MKCOL ", "COPY ",
		"MOVE ", "LOCK ", "UNLOCK ", "SEARCH ", "REPORT ", "MKCALENDAR ",
	};

	(void)state;
	for (size_t i = 0; i < SL_ARRAY_SIZE(ok); i++) {
		size_t n = strlen(ok[i]);

		assert_int_equal(sl_http_request_start((const uint8_t *)ok[i], (uint32_t)n), 1);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(sl_http_request_start((const uint8_t *)ok[i], (uint32_t)k), 0);
	}
	assert_int_equal(sl_http_request_start((const uint8_t *)"GETX", 4), -EINVAL);
	assert_int_equal(sl_http_request_start((const uint8_t *)"X", 1), -EINVAL);
	assert_int_equal(sl_http_request_start((const uint8_t *)"MKCALENDA", 9), 0);
	assert_int_equal(sl_http_request_start((const uint8_t *)"MKCALENDARX", 11), -EINVAL);
}

/* ---- HTTP stream -------------------------------------------------------- */

static void test_http_split_every_byte(void **state)
{
	static const char req[] =
		"GET /index.html?q=1 HTTP/1.1\r\nUser-Agent: t\r\nHost:  Example.COM \r\n"
		"Accept: */*\r\n\r\n";
	size_t n = strlen(req);

	(void)state;
	for (size_t k = 0; k <= n; k++) {
		struct sl_app_half h;
		struct got g = { 0 };

		sl_app_half_init(&h);
		feed_split(&h, (const uint8_t *)req, n, k, 80, &g);
		assert_int_equal(g.n, 2);
		expect_field(&g, 0, SL_FIELD_HOST, "Example.COM");
		expect_url(&g, 1, "Example.COM", "/index.html?q=1");
		assert_int_equal(h.proto, SL_APP_HTTP);
		assert_int_equal(pool.nfree, NBUF); /* buffer back once complete */
		sl_app_half_release(&h, &pool);
	}
}

static void check_keepalive(const char *s, size_t n, const size_t *cuts, int ncuts)
{
	struct sl_app_half h;
	struct got g = { 0 };
	size_t pos = 0;

	sl_app_half_init(&h);
	for (int i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n;

		if (end > pos)
			assert_int_equal(feed(&h, s + pos, end - pos, 8080, &g), 0);
		pos = end;
	}
	assert_int_equal(g.n, 5);
	expect_field(&g, 0, SL_FIELD_HOST, "a");
	expect_url(&g, 1, "a", "/upload");
	expect_url(&g, 2, "", "/nohost");
	expect_field(&g, 3, SL_FIELD_HOST, "b");
	expect_url(&g, 4, "b", "/second");
	assert_int_equal(pool.nfree, NBUF);
	sl_app_half_release(&h, &pool);
}

static void test_http_keepalive(void **state)
{
	/* body of 29 bytes that looks like a request: must be skipped */
	static const char s[] =
		"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 29\r\n\r\n"
		"GET /fake HTTP/1.1\r\nHost: f\r\n"
		"GET /nohost HTTP/1.0\r\n\r\n"
		"GET /second HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
	size_t n = strlen(s);
	size_t cuts[600];

	(void)state;
	assert_int_equal(strlen("GET /fake HTTP/1.1\r\nHost: f\r\n"), 29);
	check_keepalive(s, n, NULL, 0);
	for (size_t k = 1; k < n; k++)
		check_keepalive(s, n, &k, 1);
	/* one byte per delivery */
	for (size_t k = 0; k + 1 < n; k++)
		cuts[k] = k + 1;
	check_keepalive(s, n, cuts, (int)n - 1);
}

static void test_http_chunked(void **state)
{
	static const char s[] =
		"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5;ext=1\r\nGET /\r\n"
		"18\r\nGET /inside HTTP/1.1\r\n\r\n\r\n"
		"0\r\nTrailer: x\r\n\r\n"
		"GET /after HTTP/1.1\r\nHost: c\r\n\r\n";
	size_t n = strlen(s);

	(void)state;
	assert_int_equal(strlen("GET /inside HTTP/1.1\r\n\r\n"), 0x18);
	for (size_t k = 0; k <= n; k++) {
		struct sl_app_half h;
		struct got g = { 0 };

		sl_app_half_init(&h);
		feed_split(&h, (const uint8_t *)s, n, k, 80, &g);
		assert_int_equal(g.n, 4);
		expect_url(&g, 1, "a", "/c");
		expect_field(&g, 2, SL_FIELD_HOST, "c");
		expect_url(&g, 3, "c", "/after");
		sl_app_half_release(&h, &pool);
	}
	/* byte by byte */
	{
		struct sl_app_half h;
		struct got g = { 0 };

		sl_app_half_init(&h);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(feed(&h, s + k, 1, 80, &g), 0);
		assert_int_equal(g.n, 4);
		expect_url(&g, 3, "c", "/after");
		sl_app_half_release(&h, &pool);
	}
	/* bad chunk size: extraction stops */
	{
		static const char bad[] =
			"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
			"GET /x HTTP/1.1\r\n\r\n";
		struct sl_app_half h;
		struct got g = { 0 };

		sl_app_half_init(&h);
		assert_int_equal(feed(&h, bad, strlen(bad), 80, &g), 0);
		assert_int_equal(g.n, 1);
		assert_int_equal(h.proto, SL_APP_OTHER);
	}
}

static void test_http_pipelined_absolute(void **state)
{
	static const char s[] =
		"GET http://example.com/path?x HTTP/1.1\r\nHost: example.com\r\n\r\n"
		"GET http://other.example/ HTTP/1.1\r\n\r\n"
		"DELETE /thing HTTP/1.1\nHost: h\n\n";
	struct sl_app_half h;
	struct got g = { 0 };

	(void)state;
	sl_app_half_init(&h);
	assert_int_equal(feed(&h, s, strlen(s), 80, &g), 0);
	assert_int_equal(g.n, 5);
	expect_field(&g, 0, SL_FIELD_HOST, "example.com");
	expect_url(&g, 1, "example.com", "http://example.com/path?x");
	expect_url(&g, 2, "", "http://other.example/");
	expect_field(&g, 3, SL_FIELD_HOST, "h");
	expect_url(&g, 4, "h", "/thing");
	assert_int_equal(pool.nfree, NBUF);
	sl_app_half_release(&h, &pool);
}

static void test_http_other_and_stop(void **state)
{
	struct sl_app_half h;
	struct got g = { 0 };

	(void)state;
	sl_app_half_init(&h);
	assert_int_equal(feed(&h, "SSH-2.0-OpenSSH_9.2\r\n", 21, 22, &g), 0);
	assert_int_equal(h.proto, SL_APP_OTHER);
	assert_int_equal(feed(&h, "GET / HTTP/1.1\r\n\r\n", 18, 22, &g), 0);
	assert_int_equal(g.n, 0);

	/* a request, then something that is not a request: stop */
	sl_app_half_init(&h);
	assert_int_equal(feed(&h, "GET /ws HTTP/1.1\r\nHost: w\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
			      56, 80, &g), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(h.proto, SL_APP_OTHER);

	/* the consumer stops extraction */
	sl_app_half_init(&h);
	memset(&g, 0, sizeof(g));
	g.stop_after = 1;
	assert_int_equal(feed(&h, "GET / HTTP/1.1\r\nHost: s\r\n\r\n", 27, 80, &g), 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(h.proto, SL_APP_OTHER);
	assert_int_equal(pool.nfree, NBUF);
}

static void test_http_gap(void **state)
{
	static const char r1[] = "GET /one HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nbody";
	static const char r2[] = "GET /two HTTP/1.1\r\nHost: y\r\n\r\n";
	struct sl_app_half h;
	struct got g = { 0 };

	(void)state;
	sl_app_half_init(&h);
	assert_int_equal(feed(&h, r1, strlen(r1), 80, &g), 0);
	assert_int_equal(g.n, 2);
	/* bytes lost: the next delivery is mid-body, ignored */
	assert_int_equal(sl_app_feed(&h, &pool, (const uint8_t *)"dy bytes", 8, 1, 80,
				     on_field, &g), 0);
	assert_int_equal(feed(&h, "more body", 9, 80, &g), 0);
	assert_int_equal(g.n, 2);
	/* a delivery starting with a request: resynchronised */
	assert_int_equal(feed(&h, r2, strlen(r2), 80, &g), 0);
	assert_int_equal(g.n, 4);
	expect_url(&g, 3, "y", "/two");

	/* a gap inside a buffered head drops the buffer */
	assert_int_equal(feed(&h, "GET /three HTTP/1.1\r\nHo", 23, 80, &g), 0);
	assert_int_equal(pool.nfree, NBUF - 1);
	assert_int_equal(sl_app_feed(&h, &pool, (const uint8_t *)"st: z\r\n\r\n", 9, 1, 80,
				     on_field, &g), 0);
	assert_int_equal(pool.nfree, NBUF);
	assert_int_equal(g.n, 4);
	sl_app_half_release(&h, &pool);
}

static void test_http_huge_head(void **state)
{
	static char s[40000];
	struct sl_app_half h;
	struct got g = { 0 };
	size_t n, pos;

	(void)state;
	n = (size_t)snprintf(s, sizeof(s), "GET /big HTTP/1.1\r\nHost: big.example\r\nCookie: ");
	memset(s + n, 'c', 30000);
	n += 30000;
	memcpy(s + n, "\r\n\r\n", 4);
	n += 4;
	sl_app_half_init(&h);
	for (pos = 0; pos < n; pos += 1000)
		assert_int_equal(feed(&h, s + pos, n - pos < 1000 ? n - pos : 1000, 80, &g), 0);
	assert_int_equal(g.n, 2);
	expect_url(&g, 1, "big.example", "/big");
	assert_int_equal(h.proto, SL_APP_OTHER);
	assert_int_equal(pool.nfree, NBUF);
	/* the same head in one delivery larger than the buffer */
	sl_app_half_init(&h);
	memset(&g, 0, sizeof(g));
	assert_int_equal(feed(&h, s, n - 4, 80, &g), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(pool.nfree, NBUF);
}

/* ---- TLS ---------------------------------------------------------------- */

/* Client-to-server TCP payloads of a capture (port dport), in order. */
static size_t c2s_payloads(const char *capname, uint16_t dport, uint8_t *out,
			   size_t cap, size_t *seg_len, int maxseg, int *nseg)
{
	struct tu_cap c;
	size_t n = 0;

	assert_int_equal(tu_cap_load(tu_conf_path(capname), &c), 0);
	*nseg = 0;
	for (size_t i = 0; i < c.n; i++) {
		struct sl_pkt p;

		assert_int_equal(tu_cap_decode(&c, i, &p), SL_DEC_OK);
		if (p.l4proto != SL_PROTO_TCP || p.dport != dport || p.payload_len == 0)
			continue;
		assert_true(n + p.payload_len <= cap);
		memcpy(out + n, c.f[i].data + p.payload_off, p.payload_len);
		n += p.payload_len;
		if (*nseg < maxseg)
			seg_len[(*nseg)++] = p.payload_len;
	}
	tu_cap_free(&c);
	return n;
}

static uint8_t split_hello[2048];
static size_t split_len;      /* the three segments of sni-clienthello-split */
static size_t split_seg[3];
static uint8_t exact_hello[2048];
static size_t exact_len;      /* the first ClientHello of sni-exact */

static int tls_setup(void **state)
{
	uint8_t all[65536];
	size_t seg[64];
	int nseg;

	setup(state);
	if (split_len == 0) {
		c2s_payloads("sni-clienthello-split", 443, all, sizeof(all), seg, 64, &nseg);
		assert_true(nseg >= 3);
		split_len = seg[0] + seg[1] + seg[2];
		memcpy(split_seg, seg, sizeof(split_seg));
		memcpy(split_hello, all, split_len);
		c2s_payloads("sni-exact", 443, all, sizeof(all), seg, 64, &nseg);
		exact_len = seg[0];
		memcpy(exact_hello, all, exact_len);
	}
	return 0;
}

static void test_tls_captures(void **state)
{
	const uint8_t *sni;
	uint16_t sni_len;
	uint32_t need;
	struct sl_app_half h;
	struct got g = { 0 };
	size_t off = 0;

	(void)state;
	/* sni-exact: one segment */
	assert_int_equal(sl_tls_client_hello(exact_hello, (uint32_t)exact_len, &sni, &sni_len, &need), 1);
	assert_int_equal(sni_len, 12);
	assert_memory_equal(sni, "ftp.nluug.nl", 12);

	/* sni-clienthello-split: the three segments together */
	assert_int_equal(sl_tls_client_hello(split_hello, (uint32_t)split_len, &sni, &sni_len, &need), 1);
	assert_int_equal(sni_len, 14);
	assert_memory_equal(sni, "www.google.com", 14);
	/* the first two segments are not enough */
	assert_int_equal(sl_tls_client_hello(split_hello, (uint32_t)(split_seg[0] + split_seg[1]),
					     &sni, &sni_len, &need), 0);
	assert_int_equal(need, split_len);

	/* through the stream extractor, one segment at a time */
	sl_app_half_init(&h);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(feed(&h, split_hello + off, split_seg[i], 443, &g), 0);
		off += split_seg[i];
		if (i < 2) {
			assert_int_equal(h.proto, SL_APP_TLS);
			assert_int_equal(pool.nfree, NBUF - 1);
		}
	}
	assert_int_equal(g.n, 1);
	expect_field(&g, 0, SL_FIELD_SNI, "www.google.com");
	assert_int_equal(h.proto, SL_APP_OTHER);
	assert_int_equal(pool.nfree, NBUF);
}

static void test_tls_split_every_byte(void **state)
{
	uint64_t seed = 42;

	(void)state;
	for (size_t k = 0; k <= exact_len; k++) {
		struct sl_app_half h;
		struct got g = { 0 };

		sl_app_half_init(&h);
		feed_split(&h, exact_hello, exact_len, k, 443, &g);
		assert_int_equal(g.n, 1);
		expect_field(&g, 0, SL_FIELD_SNI, "ftp.nluug.nl");
		assert_int_equal(pool.nfree, NBUF);
	}
	/* three random pieces */
	for (int it = 0; it < 500; it++) {
		struct sl_app_half h;
		struct got g = { 0 };
		size_t a = tu_rand(&seed) % (split_len + 1);
		size_t b = tu_rand(&seed) % (split_len + 1);

		if (a > b) {
			size_t t = a;

			a = b;
			b = t;
		}
		sl_app_half_init(&h);
		if (a)
			assert_int_equal(feed(&h, split_hello, a, 443, &g), 0);
		if (b > a)
			assert_int_equal(feed(&h, split_hello + a, b - a, 443, &g), 0);
		if (split_len > b)
			assert_int_equal(feed(&h, split_hello + b, split_len - b, 443, &g), 0);
		assert_int_equal(g.n, 1);
		expect_field(&g, 0, SL_FIELD_SNI, "www.google.com");
		assert_int_equal(pool.nfree, NBUF);
	}
}

/* Re-frame a single-record ClientHello into records of at most k bytes. */
static size_t reframe(const uint8_t *in, size_t n, size_t k, uint8_t *out)
{
	const uint8_t *hs = in + 5;
	size_t hl = n - 5, o = 0;

	for (size_t i = 0; i < hl; i += k) {
		size_t m = hl - i < k ? hl - i : k;

		out[o++] = 22;
		out[o++] = 3;
		out[o++] = 1;
		out[o++] = (uint8_t)(m >> 8);
		out[o++] = (uint8_t)m;
		memcpy(out + o, hs + i, m);
		o += m;
	}
	return o;
}

static void test_tls_record_fragmentation(void **state)
{
	static uint8_t fr[8192];
	const uint8_t *sni;
	uint16_t sni_len;
	uint32_t need;
	size_t n, k;
	int exdev = 0, ok = 0;

	(void)state;
	/* the first record holds exactly the ClientHello */
	assert_int_equal((size_t)((exact_hello[3] << 8 | exact_hello[4]) + 5), exact_len);
	for (k = 1; k <= 600; k += (k < 20 ? 1 : 37)) {
		struct sl_app_half h;
		struct got g = { 0 };
		int r;

		n = reframe(exact_hello, exact_len, k, fr);
		r = sl_tls_client_hello(fr, (uint32_t)n, &sni, &sni_len, &need);
		if (r == 1) {
			ok++;
			assert_int_equal(sni_len, 12);
			assert_memory_equal(sni, "ftp.nluug.nl", 12);
		} else {
			assert_int_equal(r, -EXDEV);
			exdev++;
		}
		/* every prefix: need more (or the name already found) */
		for (size_t i = 0; i < n; i += 1 + i / 8) {
			int rp = sl_tls_client_hello(fr, (uint32_t)i, &sni, &sni_len, &need);

			assert_true(rp == 0 || rp == 1 || rp == -EXDEV);
			if (rp == 0)
				assert_true(need > i);
		}
		/* the extractor defragments: one delivery, then byte by byte */
		sl_app_half_init(&h);
		assert_int_equal(feed(&h, fr, n, 443, &g), 0);
		assert_int_equal(g.n, 1);
		expect_field(&g, 0, SL_FIELD_SNI, "ftp.nluug.nl");
		sl_app_half_init(&h);
		memset(&g, 0, sizeof(g));
		for (size_t i = 0; i < n; i++)
			assert_int_equal(feed(&h, fr + i, 1, 443, &g), 0);
		assert_int_equal(g.n, 1);
		expect_field(&g, 0, SL_FIELD_SNI, "ftp.nluug.nl");
		assert_int_equal(pool.nfree, NBUF);
	}
	assert_true(exdev > 0);
	assert_true(ok > 0);
}

/* A ClientHello built here: server_name (host) and a padding extension of
 * pad bytes, padding first or last; framed in records of at most 16384
 * bytes (by reframe, from one record too long to be valid). Returns the
 * stream's length. */
static size_t big_hello(uint8_t *out, const char *host, size_t pad, int pad_first)
{
	static uint8_t msg[70000];
	size_t hl = strlen(host), sni_ext = 4 + 2 + 3 + hl, pad_ext = 4 + pad;
	size_t ext = sni_ext + pad_ext, body = 2 + 32 + 1 + 4 + 2 + 2 + ext, m = 5;

	msg[m++] = 1;                                   /* ClientHello */
	msg[m++] = (uint8_t)(body >> 16);
	msg[m++] = (uint8_t)(body >> 8);
	msg[m++] = (uint8_t)body;
	msg[m++] = 3;
	msg[m++] = 3;
	memset(msg + m, 0x5a, 32);                      /* random */
	m += 32;
	msg[m++] = 0;                                   /* session_id */
	msg[m++] = 0;                                   /* cipher_suites */
	msg[m++] = 2;
	msg[m++] = 0x13;
	msg[m++] = 0x01;
	msg[m++] = 1;                                   /* compression */
	msg[m++] = 0;
	msg[m++] = (uint8_t)(ext >> 8);
	msg[m++] = (uint8_t)ext;
	for (int k = 0; k < 2; k++) {
		if ((k == 0) == (pad_first != 0)) {
			msg[m++] = 0;                   /* padding (21) */
			msg[m++] = 21;
			msg[m++] = (uint8_t)(pad >> 8);
			msg[m++] = (uint8_t)pad;
			memset(msg + m, 0, pad);
			m += pad;
		} else {
			msg[m++] = 0;                   /* server_name */
			msg[m++] = 0;
			msg[m++] = (uint8_t)((sni_ext - 4) >> 8);
			msg[m++] = (uint8_t)(sni_ext - 4);
			msg[m++] = (uint8_t)((hl + 3) >> 8);
			msg[m++] = (uint8_t)(hl + 3);
			msg[m++] = 0;                   /* host_name */
			msg[m++] = (uint8_t)(hl >> 8);
			msg[m++] = (uint8_t)hl;
			memcpy(msg + m, host, hl);
			m += hl;
		}
	}
	assert_int_equal(m, 5 + 4 + body);
	return reframe(msg, m, 16384, out);
}

/* Feed a stream in 1448-byte segments; the first non-zero return. */
static int feed_segments(struct sl_app_half *h, const uint8_t *d, size_t n, struct got *g)
{
	for (size_t i = 0; i < n; i += 1448) {
		int rc = feed(h, d + i, n - i < 1448 ? n - i : 1448, 443, g);

		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ClientHellos larger than the field buffer (padded: a way to slip a name
 * past the domain rules): the name is found when the part that fits holds
 * it; else the extractor says its buffer was too small (-ENOBUFS, which
 * the worker counts and treats as an overload). Up to the 24-bit limit. */
static void test_tls_larger_than_buffer(void **state)
{
	static uint8_t st[80000];
	static const size_t pads[] = { 100, 16000, 17000, 40000, 65000 };
	struct sl_app_half h;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		struct got g = { 0 };
		int fits = 4 + 2 + 32 + 1 + 4 + 2 + 2 + 4 + 9 + 13 + 4 + pads[i] < SL_APP_BUF_SIZE - 5;

		/* name first, padding after (as RFC 7685 places it) */
		n = big_hello(st, "big.example", pads[i], 0);
		sl_app_half_init(&h);
		assert_int_equal(feed_segments(&h, st, n, &g), 0);
		assert_int_equal(g.n, 1);
		expect_field(&g, 0, SL_FIELD_SNI, "big.example");
		assert_int_equal(h.proto, SL_APP_OTHER);
		assert_int_equal(pool.nfree, NBUF);
		/* padding first: found while the whole message fits, else the
		 * buffer was too small */
		memset(&g, 0, sizeof(g));
		n = big_hello(st, "big.example", pads[i], 1);
		sl_app_half_init(&h);
		assert_int_equal(feed_segments(&h, st, n, &g), fits ? 0 : -ENOBUFS);
		assert_int_equal(g.n, fits ? 1 : 0);
		if (fits)
			expect_field(&g, 0, SL_FIELD_SNI, "big.example");
		assert_int_equal(h.proto, SL_APP_OTHER);
		assert_int_equal(pool.nfree, NBUF);
	}
}

static void test_tls_garbage(void **state)
{
	static uint8_t m[2048];
	const uint8_t *sni;
	uint16_t sni_len;
	uint32_t need;
	uint64_t seed = 7;
	size_t i;

	(void)state;
	/* truncated at every length: need more, never found */
	for (i = 0; i < exact_len; i++) {
		uint8_t *c = malloc(i ? i : 1);

		memcpy(c, exact_hello, i);
		assert_int_equal(sl_tls_client_hello(c, (uint32_t)i, &sni, &sni_len, &need), 0);
		assert_true(need > i);
		free(c);
	}
	/* not TLS */
	assert_int_equal(sl_tls_client_hello((const uint8_t *)"GET / HTTP/1.1", 14, &sni, &sni_len, &need), -EINVAL);
	memcpy(m, exact_hello, exact_len);
	m[5] = 2; /* ServerHello */
	assert_int_equal(sl_tls_client_hello(m, (uint32_t)exact_len, &sni, &sni_len, &need), -EINVAL);
	memcpy(m, exact_hello, exact_len);
	m[3] = 0; m[4] = 0; /* empty record */
	assert_int_equal(sl_tls_client_hello(m, (uint32_t)exact_len, &sni, &sni_len, &need), -EINVAL);
	/* a 1 MiB handshake message: any 24-bit length is taken (servers
	 * accept ClientHellos far beyond 64 KiB): need more */
	memcpy(m, exact_hello, exact_len);
	m[6] = 0x10; m[7] = 0x00; m[8] = 0x01;
	assert_int_equal(sl_tls_client_hello(m, (uint32_t)exact_len, &sni, &sni_len, &need), 0);
	assert_true(need > exact_len);

	/* random corruption: any answer, but a found name lies in the buffer */
	for (int it = 0; it < 200000; it++) {
		uint32_t len = (uint32_t)exact_len;
		uint8_t *c;
		int k = 1 + (int)(tu_rand(&seed) % 3);
		int r;

		memcpy(m, exact_hello, exact_len);
		while (k--) {
			uint64_t q = tu_rand(&seed);

			m[q % exact_len] = (uint8_t)(q >> 32);
		}
		if (it & 1)
			len = (uint32_t)(tu_rand(&seed) % (exact_len + 1));
		c = malloc(len ? len : 1);
		memcpy(c, m, len);
		r = sl_tls_client_hello(c, len, &sni, &sni_len, &need);
		assert_true(r == 1 || r == 0 || r == -EINVAL || r == -EXDEV);
		if (r == 1 && sni_len) {
			assert_true(sni >= c && sni + sni_len <= c + len);
		}
		free(c);
		/* the same through the extractor, in two pieces */
		{
			struct sl_app_half h;
			struct got g = { 0 };
			uint32_t cut = len ? (uint32_t)(tu_rand(&seed) % len) : 0;

			sl_app_half_init(&h);
			sl_app_feed(&h, &pool, m, cut, 0, 443, on_field, &g);
			sl_app_feed(&h, &pool, m + cut, len - cut, 0, 443, on_field, &g);
			sl_app_half_release(&h, &pool);
			assert_true(g.n <= 1);
			assert_int_equal(pool.nfree, NBUF);
		}
	}
}

static void test_connect_then_tls(void **state)
{
	static uint8_t s[4096];
	static const char c[] = "CONNECT www.google.com:443 HTTP/1.1\r\nHost: www.google.com:443\r\n\r\n";
	size_t n = strlen(c);
	struct sl_app_half h;
	struct got g = { 0 };

	(void)state;
	memcpy(s, c, n);
	memcpy(s + n, exact_hello, exact_len);
	sl_app_half_init(&h);
	assert_int_equal(feed(&h, s, n + exact_len, 3128, &g), 0);
	assert_int_equal(g.n, 3);
	expect_field(&g, 0, SL_FIELD_HOST, "www.google.com:443");
	expect_url(&g, 1, "www.google.com:443", "www.google.com:443");
	expect_field(&g, 2, SL_FIELD_SNI, "ftp.nluug.nl");
	/* in separate deliveries */
	sl_app_half_init(&h);
	memset(&g, 0, sizeof(g));
	assert_int_equal(feed(&h, s, n, 3128, &g), 0);
	assert_int_equal(h.proto, SL_APP_UNKNOWN);
	assert_int_equal(feed(&h, s + n, 100, 3128, &g), 0);
	assert_int_equal(h.proto, SL_APP_TLS);
	assert_int_equal(feed(&h, s + n + 100, exact_len - 100, 3128, &g), 0);
	assert_int_equal(g.n, 3);
	expect_field(&g, 2, SL_FIELD_SNI, "ftp.nluug.nl");
	assert_int_equal(pool.nfree, NBUF);
}

/* ---- DNS ---------------------------------------------------------------- */

/* A query for name (dotted) with the given flags; returns its length. */
static size_t dns_query(uint8_t *m, uint16_t id, uint16_t flags, const char *name)
{
	size_t o = 12;
	const char *p = name;

	memset(m, 0, 12);
	m[0] = (uint8_t)(id >> 8);
	m[1] = (uint8_t)id;
	m[2] = (uint8_t)(flags >> 8);
	m[3] = (uint8_t)flags;
	m[5] = 1;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		m[o++] = (uint8_t)l;
		memcpy(m + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
	}
	m[o++] = 0;
	m[o++] = 0;
	m[o++] = 1;  /* A */
	m[o++] = 0;
	m[o++] = 1;  /* IN */
	return o;
}

static void test_dns_parse(void **state)
{
	uint8_t m[1024];
	struct sl_dns_query q;
	size_t n;

	(void)state;
	n = dns_query(m, 0xbeef, 0x0100, "www.Example.com");
	assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), 0);
	assert_int_equal(q.id, 0xbeef);
	assert_int_equal(q.flags, 0x0100);
	assert_int_equal(q.qdcount, 1);
	assert_int_equal(q.qtype, 1);
	assert_int_equal(q.qclass, 1);
	assert_int_equal(q.qend, n);
	assert_string_equal(q.name, "www.Example.com");
	assert_int_equal(q.name_len, 15);
	/* truncated at every length */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sl_dns_parse_query(m, (uint32_t)i, &q), -EINVAL);
	/* a response, another opcode, no question */
	m[2] |= 0x80;
	assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), -EINVAL);
	m[2] = 0x01 | (2 << 3);
	assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), -EINVAL);
	m[2] = 0x01;
	m[5] = 0;
	assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), -EINVAL);
	m[5] = 1;

	/* root name */
	n = dns_query(m, 1, 0, "");
	assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), 0);
	assert_int_equal(q.name_len, 0);
	assert_string_equal(q.name, "");

	/* a '.' and a '\' inside a label are escaped */
	n = dns_query(m, 1, 0, "ab.evil.com");
	m[12 + 1 + 1] = '.';   /* label "a.": one label */
	m[12 + 0] = 2;
	assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), 0);
	assert_string_equal(q.name, "a\\..evil.com");
	m[12 + 1 + 1] = '\\';
	assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), 0);
	assert_string_equal(q.name, "a\\\\.evil.com");

	/* label types 01 and 10 */
	n = dns_query(m, 1, 0, "abc.com");
	m[12] = 0x43;
	assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), -EINVAL);
	m[12] = 0x83;
	assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), -EINVAL);

	/* name of 255 bytes on the wire is too long (max 255 incl. root) */
	{
		char name[300];
		size_t o = 0;

		/* 4 labels of 63 = 4 * 64 + 1 = 257 */
		for (int i = 0; i < 4; i++) {
			memset(name + o, 'a' + i, 63);
			o += 63;
			name[o++] = '.';
		}
		name[o - 1] = '\0';
		n = dns_query(m, 1, 0, name);
		assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), -EINVAL);
		/* 3 * 64 + 62 + 1 = 255: accepted */
		name[3 * 64 + 61] = '\0';
		n = dns_query(m, 1, 0, name);
		assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), 0);
		assert_int_equal(q.name_len, 3 * 64 + 61);
	}
	/* label longer than 63 is a type 01 label: rejected above */
}

static void test_dns_compression(void **state)
{
	uint8_t m[512];
	struct sl_dns_query q;
	size_t n;

	(void)state;
	/* pointer to itself: a loop */
	memset(m, 0, sizeof(m));
	m[5] = 1;
	m[12] = 0xc0;
	m[13] = 12;
	m[14] = 0; m[15] = 1; m[16] = 0; m[17] = 1;
	assert_int_equal(sl_dns_parse_query(m, 18, &q), -EINVAL);
	/* label then pointer back to that label: loop */
	m[12] = 1; m[13] = 'a'; m[14] = 0xc0; m[15] = 12;
	m[16] = 0; m[17] = 1; m[18] = 0; m[19] = 1;
	assert_int_equal(sl_dns_parse_query(m, 20, &q), -EINVAL);
	/* forward pointer */
	m[12] = 0xc0; m[13] = 40;
	m[40] = 1; m[41] = 'x'; m[42] = 0;
	assert_int_equal(sl_dns_parse_query(m, 60, &q), -EINVAL);
	/* pointer into the header */
	m[12] = 0xc0; m[13] = 2;
	assert_int_equal(sl_dns_parse_query(m, 60, &q), -EINVAL);
	/* pointer cut */
	m[12] = 0xc0;
	assert_int_equal(sl_dns_parse_query(m, 13, &q), -EINVAL);

	/* the first question can never hold a valid pointer (nothing lies
	 * before it but the header); a later question parses as usual and
	 * QDCOUNT > 1 is accepted */
	n = dns_query(m, 9, 0, "a.example.com");
	m[5] = 2;
	assert_int_equal(sl_dns_parse_query(m, (uint32_t)n, &q), 0);
	assert_string_equal(q.name, "a.example.com");
	memset(m, 0, sizeof(m));
	m[5] = 1;
	m[12] = 0xc0;
	m[13] = 11;
	assert_int_equal(sl_dns_parse_query(m, 30, &q), -EINVAL);
}

static void test_dns_random(void **state)
{
	uint8_t base[512], m[512];
	struct sl_dns_query q;
	uint64_t seed = 99;
	size_t n;

	(void)state;
	n = dns_query(base, 7, 0x0100, "mail.sub.evil.com");
	for (int it = 0; it < 200000; it++) {
		uint32_t len = (uint32_t)n;
		int k = 1 + (int)(tu_rand(&seed) % 3);
		uint8_t *c;

		memcpy(m, base, n);
		while (k--) {
			uint64_t r = tu_rand(&seed);

			m[r % n] = (uint8_t)(r >> 32);
		}
		if (it & 1)
			len = (uint32_t)(tu_rand(&seed) % (n + 1));
		c = malloc(len ? len : 1);
		memcpy(c, m, len);
		if (sl_dns_parse_query(c, len, &q) == 0) {
			assert_true(q.qend <= len);
			/* raw label bytes may include NUL: name_len counts */
			assert_true(strlen(q.name) <= q.name_len);
			assert_int_equal(q.name[q.name_len], '\0');
			assert_true(q.name_len <= SL_DNS_TEXT_MAX);
		}
		free(c);
	}
}

static void test_dns_over_tcp(void **state)
{
	struct tu_cap c;
	struct sl_app_half h[2];
	struct got g = { 0 };
	uint16_t cport[2] = { 0, 0 };
	uint8_t m[1024], s[2048];
	size_t n1, n2, o;

	(void)state;
	/* the capture: two connections, one query each */
	assert_int_equal(tu_cap_load(tu_conf_path("dns-over-tcp"), &c), 0);
	sl_app_half_init(&h[0]);
	sl_app_half_init(&h[1]);
	for (size_t i = 0; i < c.n; i++) {
		struct sl_pkt p;
		int k;

		assert_int_equal(tu_cap_decode(&c, i, &p), SL_DEC_OK);
		if (p.dport != 53 || p.payload_len == 0)
			continue;
		for (k = 0; k < 2; k++) {
			if (cport[k] == 0)
				cport[k] = p.sport;
			if (cport[k] == p.sport)
				break;
		}
		assert_true(k < 2);
		assert_int_equal(sl_app_feed(&h[k], &pool, c.f[i].data + p.payload_off,
					     p.payload_len, 0, 53, on_field, &g), 0);
	}
	tu_cap_free(&c);
	assert_int_equal(g.n, 2);
	expect_field(&g, 0, SL_FIELD_DNS, "google.com");
	expect_field(&g, 1, SL_FIELD_DNS, "aol.com");

	/* two queries in one segment, then split at every byte */
	n1 = dns_query(m, 1, 0x0100, "one.example");
	s[0] = 0;
	s[1] = (uint8_t)n1;
	memcpy(s + 2, m, n1);
	o = 2 + n1;
	n2 = dns_query(m, 2, 0x0100, "two.example.org");
	/* padding after the question (EDNS-like junk) makes it longer */
	memset(m + n2, 0, 600);
	n2 += 600;
	s[o] = (uint8_t)(n2 >> 8);
	s[o + 1] = (uint8_t)n2;
	memcpy(s + o + 2, m, n2);
	o += 2 + n2;
	for (size_t k = 0; k <= o; k++) {
		struct sl_app_half hh;
		struct got gg = { 0 };

		sl_app_half_init(&hh);
		feed_split(&hh, s, o, k, 53, &gg);
		assert_int_equal(gg.n, 2);
		expect_field(&gg, 0, SL_FIELD_DNS, "one.example");
		expect_field(&gg, 1, SL_FIELD_DNS, "two.example.org");
		assert_int_equal(hh.proto, SL_APP_DNS);
		assert_int_equal(pool.nfree, NBUF);
		sl_app_half_release(&hh, &pool);
	}
	/* byte by byte, and a gap resynchronising on the next query */
	{
		struct sl_app_half hh;
		struct got gg = { 0 };

		sl_app_half_init(&hh);
		for (size_t k = 0; k < o; k++)
			assert_int_equal(feed(&hh, s + k, 1, 53, &gg), 0);
		assert_int_equal(gg.n, 2);
		assert_int_equal(sl_app_feed(&hh, &pool, s + 5, 20, 1, 53, on_field, &gg), 0);
		assert_int_equal(gg.n, 2);
		assert_int_equal(sl_app_feed(&hh, &pool, s, (uint32_t)(2 + n1), 0, 53, on_field, &gg), 0);
		assert_int_equal(gg.n, 3);
		expect_field(&gg, 2, SL_FIELD_DNS, "one.example");
		sl_app_half_release(&hh, &pool);
	}
}

static void test_pool_exhaustion(void **state)
{
	static const char head1[] = "GET /a HTTP/1.1\r\nHo";
	struct sl_app_half h[NBUF + 1];
	struct got g = { 0 };
	int i;

	(void)state;
	for (i = 0; i < NBUF; i++) {
		sl_app_half_init(&h[i]);
		assert_int_equal(feed(&h[i], head1, strlen(head1), 80, &g), 0);
	}
	assert_int_equal(pool.nfree, 0);
	sl_app_half_init(&h[NBUF]);
	assert_int_equal(feed(&h[NBUF], head1, strlen(head1), 80, &g), -ENOBUFS);
	assert_int_equal(h[NBUF].proto, SL_APP_OTHER);
	assert_true(pool.exhausted > 0);
	/* TLS and DNS also give up */
	sl_app_half_init(&h[NBUF]);
	assert_int_equal(feed(&h[NBUF], split_hello, 100, 443, &g), -ENOBUFS);
	sl_app_half_init(&h[NBUF]);
	assert_int_equal(feed(&h[NBUF], "\x00\x30\x00\x01", 4, 53, &g), -ENOBUFS);
	/* a complete message in one delivery needs no buffer */
	sl_app_half_init(&h[NBUF]);
	assert_int_equal(feed(&h[NBUF], "GET / HTTP/1.1\r\nHost: q\r\n\r\n", 27, 80, &g), 0);
	assert_int_equal(g.n, 2);
	/* completing one head gives its buffer back: recovery */
	assert_int_equal(feed(&h[0], "st: a\r\n\r\n", 9, 80, &g), 0);
	assert_int_equal(g.n, 4);
	assert_int_equal(pool.nfree, 1);
	sl_app_half_init(&h[NBUF]);
	assert_int_equal(feed(&h[NBUF], head1, strlen(head1), 80, &g), 0);
	assert_int_equal(pool.nfree, 0);
	for (i = 0; i <= NBUF; i++)
		sl_app_half_release(&h[i], &pool);
	assert_int_equal(pool.nfree, NBUF);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_http_parse, setup),
		cmocka_unit_test_setup(test_http_request_start, setup),
		cmocka_unit_test_setup(test_http_split_every_byte, setup),
		cmocka_unit_test_setup(test_http_keepalive, setup),
		cmocka_unit_test_setup(test_http_chunked, setup),
		cmocka_unit_test_setup(test_http_pipelined_absolute, setup),
		cmocka_unit_test_setup(test_http_other_and_stop, setup),
		cmocka_unit_test_setup(test_http_gap, setup),
		cmocka_unit_test_setup(test_http_huge_head, setup),
		cmocka_unit_test_setup(test_tls_captures, tls_setup),
		cmocka_unit_test_setup(test_tls_split_every_byte, tls_setup),
		cmocka_unit_test_setup(test_tls_record_fragmentation, tls_setup),
		cmocka_unit_test_setup(test_tls_garbage, tls_setup),
		cmocka_unit_test_setup(test_tls_larger_than_buffer, setup),
		cmocka_unit_test_setup(test_connect_then_tls, tls_setup),
		cmocka_unit_test_setup(test_dns_parse, setup),
		cmocka_unit_test_setup(test_dns_compression, setup),
		cmocka_unit_test_setup(test_dns_random, setup),
		cmocka_unit_test_setup(test_dns_over_tcp, setup),
		cmocka_unit_test_setup(test_pool_exhaustion, tls_setup),
	};

	tu_srcdir(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
