/* libFuzzer target: the application parsers on one buffer, and the stream
 * extractor over the same bytes cut at fuzzer-chosen points. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/app.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define NBUF 2

static uint8_t app_mem[NBUF * SL_APP_BUF_SIZE];
static uint32_t app_links[NBUF];

static volatile uint8_t sink;

static int on_field(void *ctx, const struct sl_app_field *f)
{
	uint8_t s = 0;
	uint32_t i;

	(void)ctx;
	if (f->value)
		for (i = 0; i < f->len; i++)
			s ^= (uint8_t)f->value[i];
	if (f->target)
		for (i = 0; i < f->target_len; i++)
			s ^= (uint8_t)f->target[i];
	if (f->host)
		for (i = 0; i < f->host_len; i++)
			s ^= (uint8_t)f->host[i];
	sink = s;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sl_app_pool pool;
	struct sl_app_half h;
	struct sl_http_req r;
	struct sl_dns_query q;
	const uint8_t *sni;
	uint16_t sni_len, port;
	uint32_t need, len, pos = 0;
	uint8_t *c;
	size_t cuts;
	int rc;

	if (n < 3 || n > 200000)
		return 0;
	port = d[0] & 1 ? 53 : 80;
	cuts = d[1];
	d += 2;
	n -= 2;
	len = (uint32_t)n;
	c = malloc(n);
	if (c == NULL)
		return 0;
	memcpy(c, d, n);

	rc = sl_http_parse_request(c, len, &r);
	if (rc == 1 && (r.head_len > len ||
			(r.host_len && ((const uint8_t *)r.host < c ||
					(const uint8_t *)r.host + r.host_len > c + len))))
		abort();
	sl_http_request_start(c, len);
	rc = sl_tls_client_hello(c, len, &sni, &sni_len, &need);
	if (rc == 1 && sni_len && (sni < c || sni + sni_len > c + len))
		abort();
	if (sl_dns_parse_query(c, len, &q) == 0 &&
	    (q.qend > len || q.name_len > SL_DNS_TEXT_MAX || q.name[q.name_len]))
		abort();

	/* the stream extractor, cut into pieces of sizes derived from the
	 * data itself */
	sl_app_pool_init(&pool, app_mem, app_links, NBUF);
	sl_app_half_init(&h);
	while (pos < len) {
		uint32_t k = len - pos;

		if (cuts) {
			k = 1 + (c[pos] * 7u + cuts) % 97u;
			if (k > len - pos)
				k = len - pos;
		}
		sl_app_feed(&h, &pool, c + pos, k, (cuts & 0x80) && pos && c[pos] == 0x42,
			    port, on_field, NULL);
		pos += k;
	}
	sl_app_half_release(&h, &pool);
	if (pool.nfree != NBUF)
		abort();
	free(c);
	return 0;
}
