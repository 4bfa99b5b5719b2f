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

/* How the request body is framed (what follows the head in the stream). */
enum sl_http_body {
	SL_HTTP_BODY_NONE = 0,   /* no body: the next request follows the head */
	SL_HTTP_BODY_LENGTH,     /* content_length bytes (> 0) */
	SL_HTTP_BODY_CHUNKED,    /* Transfer-Encoding ending in "chunked" */
	SL_HTTP_BODY_UNKNOWN,    /* another transfer coding, or an invalid or
				  * conflicting Content-Length: cannot frame */
};

struct sl_http_req {
	const char *method; uint16_t method_len;
	const char *target; uint16_t target_len; /* request-target as sent */
	const char *host;   uint16_t host_len;   /* Host header value, trimmed; 0 if none */
	uint32_t head_len;  /* bytes up to and including the blank line */
	uint8_t body;       /* enum sl_http_body */
	uint64_t content_length; /* SL_HTTP_BODY_LENGTH: body bytes */
};

/* Longest known method; sl_http_request_start decides with this + 1 bytes. */
#define SL_HTTP_METHOD_MAX 10

/* Parse a request head at data[0]: request line, then header lines up to
 * the blank line. Methods (case-sensitive): GET HEAD POST PUT DELETE
 * OPTIONS CONNECT PATCH TRACE and the WebDAV/CalDAV ones PROPFIND
 * PROPPATCH MKCOL COPY MOVE LOCK UNLOCK SEARCH REPORT MKCALENDAR. Lines may
 * end in CRLF or a bare LF. The target is given as sent (origin-form,
 * absolute-form "http://host/path", authority-form for CONNECT, "*").
 * Host: name matched case-insensitively (spaces before the colon
 * tolerated), value trimmed of spaces and tabs; the first Host header
 * wins. An HTTP/0.9 request line without a version ends the head.
 * Pointers in *r point into data.
 * 1: complete request head parsed; 0: looks like HTTP, need more bytes;
 * -EINVAL: not an HTTP request. */
int sl_http_parse_request(const uint8_t *data, uint32_t len, struct sl_http_req *r);
/* 1 when data starts with "METHOD " of a known HTTP method; 0 (maybe)
 * when data is shorter than SL_HTTP_METHOD_MAX + 1 bytes and a prefix of
 * some "METHOD "; -EINVAL otherwise. */
int sl_http_request_start(const uint8_t *data, uint32_t len);

/* ---- TLS ------------------------------------------------------------- */

/* Largest ClientHello handshake message accepted (bytes after the 4-byte
 * handshake header): what the 24-bit length can say (servers take 128 KiB
 * and more). sl_app_feed buffers at most SL_APP_BUF_SIZE of it: past that
 * the name is taken from what the buffer holds, else the flow's fields are
 * given up as a field-buffer overload (-ENOBUFS), so that a padded
 * ClientHello cannot slip its name past the domain rules. */
#define SL_TLS_HELLO_MAX 0xffffff

/* Parse a ClientHello at the start of a TLS stream (one or more handshake
 * records, type 22, version 3.0..3.4, each 1..18432 bytes; the handshake
 * message may be fragmented over several records). Every length is checked
 * against its container. Returns the first host_name of the server_name
 * extension (bytes as sent, not validated: the matcher does that).
 * 1: found, *sni and *sni_len set (sni_len 0: no SNI extension, *sni NULL);
 * 0: need more, *need = total bytes required when known (else 0);
 * -EINVAL: not a TLS ClientHello (or malformed);
 * -EXDEV: the host name itself is split across two records, so it cannot
 * be returned as a pointer into data (sl_app_feed handles this case: it
 * defragments the records into its buffer). */
int sl_tls_client_hello(const uint8_t *data, uint32_t len,
			const uint8_t **sni, uint16_t *sni_len, uint32_t *need);

/* TLS record framing of one direction of a TCP stream, so that payload
 * rules see plaintext only: the records of application data (content type
 * 23, ciphertext) are told from the rest once both directions opened with
 * their hello (a ClientHello record from the client, a ServerHello record
 * from the server), so a client cannot switch inspection off on its own.
 * Anything else in the framing (another first record, a bad content type,
 * version or length, a gap in the stream, a stream picked up mid-way)
 * turns the direction off for good: every later byte is plaintext to it.
 * 4 bytes per direction, no allocation. */
struct sl_tls_walk {
	uint8_t st;          /* private: header bytes read (0..4) or in a body */
	uint8_t flags;       /* SL_TLS_WALK_* and private bits */
	uint16_t left;       /* private: record length read so far / body bytes left */
};

#define SL_TLS_WALK_HELLO 0x01  /* the direction opened with its hello record */
#define SL_TLS_WALK_OFF 0x02    /* not (or no longer) TLS framing: all plaintext */

void sl_tls_walk_init(struct sl_tls_walk *t);

/* A delivery begins: its stream offset and whether bytes were skipped
 * before it. A gap, or a first delivery not at offset 0, turns it off. */
void sl_tls_walk_begin(struct sl_tls_walk *t, uint64_t off, int gap);

/* The next run of in-order bytes d[0..len) (len > 0): returns its length
 * (1..len) and sets *enc to 1 when the run is ciphertext (application data
 * records, their headers included, after both hellos), else 0. Call again
 * with what follows the run. client: this is the client's direction;
 * peer: the other direction's walker. */
uint32_t sl_tls_walk_run(struct sl_tls_walk *t, const struct sl_tls_walk *peer,
			 const uint8_t *d, uint32_t len, int client, int *enc);

/* ---- DNS ------------------------------------------------------------- */

#define SL_DNS_NAME_MAX 255     /* wire form, length octets included */
/* Text form with escapes: at most 2 * (255 - 2) label bytes and dots. */
#define SL_DNS_TEXT_MAX 511
#define SL_DNS_MAX_PTR 16       /* compression pointers followed per name */

struct sl_dns_query {
	uint16_t id;
	uint16_t flags;       /* header flags as on the wire (host order) */
	uint16_t qdcount;
	uint16_t qtype, qclass;
	uint16_t qend;        /* offset just past the first question */
	uint16_t name_len;    /* 0 for the root name */
	char name[SL_DNS_TEXT_MAX + 1]; /* dotted, NUL-terminated, case kept, no trailing dot */
};

/* Parse a DNS message that is a query (QR=0, opcode QUERY, QDCOUNT >= 1)
 * and its first question. 0 or -EINVAL (malformed, a response, or no
 * question).
 * Compression pointers are followed safely: each must point strictly
 * before the labels that led to it (so no loop is possible) and at most
 * SL_DNS_MAX_PTR are followed; label types 01/10 are rejected; the wire
 * name is at most 255 bytes.
 * Labels are validated by length only (1..63 bytes, any byte value). In
 * the text form a '.' or '\' inside a label is escaped with a backslash
 * ("a\.b" is one label "a.b"), so a label cannot pass for two; every other
 * byte (including non-ASCII and NUL) is copied as is: use name_len. A
 * query for such a name still matches a rule on its parent domains. */
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

/* Extraction state for the client-to-server half of a TCP flow (12 bytes).
 * Initialise with sl_app_half_init (a zeroed struct is NOT valid: buf). */
struct sl_app_half {
	uint8_t proto;        /* enum sl_app_proto */
	uint8_t state;        /* parser state, private */
	uint16_t buf_len;     /* bytes accumulated in buf */
	uint32_t buf;         /* pool buffer index or SL_APP_NONE */
	uint32_t skip;        /* bytes to skip before the next message */
};

/* A field found in the stream. For URL, host and target are both set
 * (host may be empty when the request had no Host header). The pointers
 * are valid during the callback (they point into the delivered data, a
 * pool buffer or the stack: value of DNS). msg (DNS) is not on the stack:
 * when the callback returns non-zero it stays intact until the next
 * sl_app_feed / sl_tcp_half_segment on this lcore's pools, so a verdict
 * taken in the callback can still answer the query afterwards. */
struct sl_app_field {
	uint8_t field;        /* SL_FIELD_HOST, SL_FIELD_URL, SL_FIELD_SNI, SL_FIELD_DNS */
	const char *value; uint32_t len;           /* HOST, SNI, DNS */
	const char *host; uint32_t host_len;       /* URL */
	const char *target; uint32_t target_len;   /* URL */
	const uint8_t *msg; uint32_t msg_len;      /* DNS: the message without its length
						    * prefix, to answer it (its first 512
						    * bytes at most: header and first
						    * question are always inside) */
};

/* Called for each field; return non-zero to stop extraction (verdict). */
typedef int (*sl_field_fn)(void *ctx, const struct sl_app_field *f);

void sl_app_half_init(struct sl_app_half *h);

/* Feed in-order stream bytes (gap != 0: bytes were lost before data);
 * call it from the reassembly consumer of the client-to-server half, while
 * h->proto != SL_APP_OTHER.
 *
 * Detection on the first bytes of the stream: server_port 53 -> DNS over
 * TCP; 0x16 0x03 0x00..0x04 with handshake type 1 -> TLS; a known method
 * followed by a space -> HTTP; anything else -> SL_APP_OTHER (a mid-stream
 * pickup that does not start on a message is OTHER). A message complete
 * in one call is parsed in place; otherwise it is accumulated in a pool
 * buffer (held only while a message is incomplete).
 *
 * HTTP: fn is called with HOST (when there is a Host header) then URL for
 * every request head (keep-alive and pipelining included). Bodies are
 * skipped by Content-Length, or by parsing chunk sizes for
 * "Transfer-Encoding: chunked" (trailers included). Extraction stops
 * (OTHER) after a request whose body cannot be framed (other transfer
 * coding, invalid Content-Length, > 4 GiB) and when the bytes after a
 * request are not a request (protocol upgrade, garbage). After CONNECT the
 * tunnelled stream is detected again (TLS inside gives its SNI). A head
 * longer than the buffer yields the fields found in the part that fits
 * (request line, Host if there), then OTHER.
 * TLS: the ClientHello may span records and segments; SNI is emitted once
 * (when present), then OTHER. A ClientHello longer than the buffer: SNI
 * when the part that fits holds it, else -ENOBUFS (as a too small buffer),
 * then OTHER.
 * DNS: each query message (2-byte length prefix, several per segment or
 * one over several) emits DNS with its first question name; responses and
 * malformed messages are skipped.
 * After a gap, buffered bytes are dropped and extraction resumes only at
 * the start of a delivery that looks like a message start (HTTP method;
 * TLS ClientHello record, within 16 deliveries; a DNS query header with a
 * plausible length prefix).
 *
 * Returns 0, the callback's non-zero value (extraction stops: OTHER), or
 * -ENOBUFS when a buffer was needed and the pool was empty, or a
 * ClientHello did not fit one with its name (the half then gives up:
 * proto = SL_APP_OTHER). */
int sl_app_feed(struct sl_app_half *h, struct sl_app_pool *pool,
		const uint8_t *data, uint32_t len, int gap, uint16_t server_port,
		sl_field_fn fn, void *ctx);

/* Give back any buffer (flow end); the half becomes SL_APP_OTHER. */
void sl_app_half_release(struct sl_app_half *h, struct sl_app_pool *pool);

#endif
