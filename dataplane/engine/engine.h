/* Internal interfaces between the files of libsluice-engine. Not a public
 * header: the contracts are in include/sluice/. */
#ifndef SLUICE_ENGINE_INT_H
#define SLUICE_ENGINE_INT_H

#include <stdint.h>

#include "sluice/app.h"

/* Big-endian loads and stores (compiled to a load/store and a bswap). */
static inline uint16_t sl_ld16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t sl_ld24(const uint8_t *b)
{
	return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

static inline uint32_t sl_ld32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static inline void sl_st16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void sl_st32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* sl_http_parse_request with `final` set: no more bytes will come (the
 * accumulation buffer is full). Then a head without its blank line is
 * returned as parsed (1, head_len 0) as long as the request line is
 * complete. */
int sl_eng_http_parse_head(const uint8_t *d, uint32_t len,
			   struct sl_http_req *r, int final);

/* Offset just past the blank line ending a request head, searching LFs
 * from `from`; 0 when not found. */
uint32_t sl_eng_http_head_end(const uint8_t *d, uint32_t len, uint32_t from);

/* Parse a defragmented ClientHello handshake message (4-byte handshake
 * header included) in hs[0..len). 1 found (sni_len 0: none), -EINVAL. */
int sl_eng_tls_parse_hello_msg(const uint8_t *hs, uint32_t len,
			       const uint8_t **sni, uint16_t *sni_len);
/* The same on the first len bytes of a ClientHello longer than that (a
 * message larger than the field buffer): 1 found (within those bytes), 0
 * not in them, -EINVAL malformed in them. */
int sl_eng_tls_parse_hello_prefix(const uint8_t *hs, uint32_t len,
				  const uint8_t **sni, uint16_t *sni_len);

#endif
