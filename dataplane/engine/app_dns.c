/* DNS query parsing (see include/sluice/app.h): header checks and the
 * first question's name as dotted text. Compression pointers must point
 * strictly backwards (before the labels that led to them), so following
 * them always terminates; their number is capped as well.
 */
#include <errno.h>
#include <string.h>

#include "engine.h"

#define DNS_HDR 12
#define DNS_QR 0x8000

/* Read the name at off into q->name; *end = offset just past the name as
 * it sits at off (its terminating zero or its first pointer). */
static int dns_name(const uint8_t *m, uint32_t len, uint32_t off,
		    struct sl_dns_query *q, uint32_t *end)
{
	uint32_t pos = off;
	uint32_t run = off;     /* where the current run of labels starts */
	uint32_t wire = 1;      /* wire length, terminating zero included */
	uint32_t o = 0;
	unsigned hops = 0;
	int jumped = 0;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return -EINVAL;
		c = m[pos];
		if (c == 0) {
			if (!jumped)
				*end = pos + 1;
			break;
		}
		if ((c & 0xc0) == 0xc0) {
			uint32_t ptr;

			if (pos + 1 >= len)
				return -EINVAL;
			ptr = (uint32_t)(c & 0x3f) << 8 | m[pos + 1];
			if (!jumped)
				*end = pos + 2;
			if (ptr < DNS_HDR || ptr >= run || ++hops > SL_DNS_MAX_PTR)
				return -EINVAL;
			jumped = 1;
			pos = ptr;
			run = ptr;
			continue;
		}
		if (c & 0xc0)
			return -EINVAL; /* extended / obsolete label types */
		if (len - pos - 1 < c)
			return -EINVAL;
		wire += 1u + c;
		if (wire > SL_DNS_NAME_MAX)
			return -EINVAL;
		if (o)
			q->name[o++] = '.';
		for (uint32_t i = 1; i <= c; i++) {
			uint8_t b = m[pos + i];

			if (o + 2 >= sizeof(q->name))
				return -EINVAL; /* cannot happen: wire <= 255 */
			if (b == '.' || b == '\\')
				q->name[o++] = '\\';
			q->name[o++] = (char)b;
		}
		pos += 1u + c;
	}
	q->name[o] = '\0';
	q->name_len = (uint16_t)o;
	return 0;
}

int sl_dns_parse_query(const uint8_t *msg, uint32_t len, struct sl_dns_query *q)
{
	uint32_t end = 0;

	q->name[0] = '\0';
	q->name_len = 0;
	if (msg == NULL || len < DNS_HDR)
		return -EINVAL;
	if (len > 65535)
		len = 65535;
	q->id = sl_ld16(msg);
	q->flags = sl_ld16(msg + 2);
	q->qdcount = sl_ld16(msg + 4);
	if ((q->flags & DNS_QR) || ((q->flags >> 11) & 0xf) != 0 ||
	    q->qdcount == 0)
		return -EINVAL;
	if (dns_name(msg, len, DNS_HDR, q, &end))
		return -EINVAL;
	if (len - end < 4)
		return -EINVAL;
	q->qtype = sl_ld16(msg + end);
	q->qclass = sl_ld16(msg + end + 2);
	q->qend = (uint16_t)(end + 4);
	return 0;
}
