/* Application-layer field extraction: HTTP request line and Host, TLS
 * ClientHello SNI, DNS query names (UDP datagrams and TCP streams).
 *
 * Low-level parsers work on one buffer and never read past it. The stream
 * extractor (sl_app_feed) runs on the in-order client-to-server byte stream
 * of a TCP flow, detects the protocol from content (any port; DNS from port
 * 53), and accumulates a message that spans segments in a buffer borrowed
 * from a bounded per-lcore pool. No allocation.
 */
#ifndef SLUICE_APP_H
#define SLUICE_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/policy.h"

/* ---- HTTP ------------------------------------------------------------ */

struct sl_http_req {
	const char *method; uint16_t method_len;
	const char *target; uint16_t target_len; /* request-target as sent */
	const char *host;   uint16_t host_len;   /* Host header value, trimmed; 0 if none */
	uint32_t head_len;  /* bytes up to and including the blank line */
};

/* 1: complete request head parsed; 0: looks like HTTP, need more bytes;
 * -EINVAL: not an HTTP request. */
int sl_http_parse_request(const uint8_t *data, uint32_t len, struct sl_http_req *r);
/* 1 when data starts with "METHOD " of a known HTTP method (needs >= 8
 * bytes or the whole buffer to be a method prefix: then 0 = maybe). */
int sl_http_request_start(const uint8_t *data, uint32_t len);

/* ---- TLS ------------------------------------------------------------- */

/* Parse a ClientHello at the start of a TLS stream (one or more handshake
 * records). 1: found, *sni/*sni_len set (sni_len 0: no SNI extension);
 * 0: need more, *need = total bytes required when known (else 0);
 * -EINVAL: not a TLS ClientHello. */
int sl_tls_client_hello(const uint8_t *data, uint32_t len,
			const uint8_t **sni, uint16_t *sni_len, uint32_t *need);

/* ---- DNS ------------------------------------------------------------- */

#define SL_DNS_NAME_MAX 255

struct sl_dns_query {
	uint16_t id;
	uint16_t flags;       /* header flags as on the wire (host order) */
	uint16_t qdcount;
	uint16_t qtype, qclass;
	uint16_t qend;        /* offset just past the first question */
	uint16_t name_len;
	char name[SL_DNS_NAME_MAX + 1]; /* dotted, NUL-terminated, as on the wire (case kept) */
};

/* Parse a DNS message that is a query (QR=0, opcode QUERY) and its first
 * question. 0 or -EINVAL (malformed, a response, or no question).
 * Compression pointers are followed safely (bounded, no loops). */
int sl_dns_parse_query(const uint8_t *msg, uint32_t len, struct sl_dns_query *q);

/* ---- stream extraction ---------------------------------------------- */

#define SL_APP_BUF_SIZE (16384 + 5 + 256) /* a full TLS record fits */
#define SL_APP_NONE UINT32_MAX

/* Per-lcore pool of accumulation buffers. */
struct sl_app_pool {
	uint32_t nbufs;
	uint32_t free_head;
	uint32_t nfree;
	uint64_t exhausted;   /* a buffer was needed and none was free */
	uint32_t *next;       /* free-list links, nbufs entries */
	uint8_t *mem;         /* nbufs * SL_APP_BUF_SIZE bytes */
};

/* mem holds n * SL_APP_BUF_SIZE bytes, links n uint32_t. */
void sl_app_pool_init(struct sl_app_pool *pool, void *mem, uint32_t *links, uint32_t n);

enum sl_app_proto {
	SL_APP_UNKNOWN = 0,   /* not decided yet */
	SL_APP_HTTP,
	SL_APP_TLS,
	SL_APP_DNS,           /* DNS over TCP (2-byte length prefix) */
	SL_APP_OTHER,         /* nothing to extract: stop feeding */
};

/* Extraction state for the client-to-server half of a TCP flow (12 bytes). */
struct sl_app_half {
	uint8_t proto;        /* enum sl_app_proto */
	uint8_t state;        /* parser state, private */
	uint16_t buf_len;     /* bytes accumulated in buf */
	uint32_t buf;         /* pool buffer index or SL_APP_NONE */
	uint32_t skip;        /* bytes to skip before the next message */
};

/* A field found in the stream. For URL, host and target are both set
 * (host may be empty when the request had no Host header). */
struct sl_app_field {
	uint8_t field;        /* SL_FIELD_HOST, SL_FIELD_URL, SL_FIELD_SNI, SL_FIELD_DNS */
	const char *value; uint32_t len;           /* HOST, SNI, DNS */
	const char *host; uint32_t host_len;       /* URL */
	const char *target; uint32_t target_len;   /* URL */
};

/* Called for each field; return non-zero to stop extraction (verdict). */
typedef int (*sl_field_fn)(void *ctx, const struct sl_app_field *f);

void sl_app_half_init(struct sl_app_half *h);

/* Feed in-order stream bytes (gap != 0: bytes were lost before data).
 * For HTTP, fn is called with HOST then URL for every request head in the
 * stream (keep-alive and pipelining included). Returns 0, the callback's
 * non-zero value, or -ENOBUFS when a buffer was needed and the pool was
 * empty (the half then gives up: proto = SL_APP_OTHER). */
int sl_app_feed(struct sl_app_half *h, struct sl_app_pool *pool,
		const uint8_t *data, uint32_t len, int gap, uint16_t server_port,
		sl_field_fn fn, void *ctx);

/* Give back any buffer (flow end). */
void sl_app_half_release(struct sl_app_half *h, struct sl_app_pool *pool);

#endif
