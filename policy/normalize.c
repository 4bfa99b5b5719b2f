/* Normalisation shared by the policy parser and the matchers: domain
 * names (selector entries and names from the wire), URLs (patterns and
 * host + request target), CIDR prefixes and dates. Both sides of every
 * comparison go through the same functions so they agree by construction.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"

/* ASCII lowercase; bytes >= 0x80 unchanged. */
const uint8_t sl_lower[256] = {
#define L4(i) L1(i), L1(i + 1), L1(i + 2), L1(i + 3)
#define L1(i) ((uint8_t)((i) >= 'A' && (i) <= 'Z' ? (i) + 32 : (i)))
#define L16(i) L4(i), L4(i + 4), L4(i + 8), L4(i + 12)
#define L64(i) L16(i), L16(i + 16), L16(i + 32), L16(i + 48)
	L64(0), L64(64), L64(128), L64(192)
#undef L64
#undef L16
#undef L4
#undef L1
};

uint64_t dom_hash(const char *key, size_t len)
{
	uint64_t h = DOM_FNV_OFF;

	while (len > 0) {
		len--;
		h = (h ^ sl_lower[(uint8_t)key[len]]) * DOM_FNV_PRIME;
	}
	return h;
}

static void why_char(char *why, const char *what, unsigned char c)
{
	if (isprint(c))
		snprintf(why, WHY_MAX, "%s '%c'", what, c);
	else
		snprintf(why, WHY_MAX, "%s 0x%02x", what, c);
}

int norm_domain_pattern(const char *s, size_t n, char *out, unsigned *kind,
			char *why)
{
	size_t label = 0;
	size_t o = 0;

	*kind = DOM_EXACT;
	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		*kind = DOM_SUB;
		s += 2;
		n -= 2;
	} else if (n >= 1 && s[0] == '.') {
		*kind = DOM_BOTH;
		s++;
		n--;
	}
	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0) {
		snprintf(why, WHY_MAX, "empty name");
		return -EINVAL;
	}
	if (n > DOM_MAX) {
		snprintf(why, WHY_MAX, "longer than %u characters", DOM_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0) {
				snprintf(why, WHY_MAX, "empty label");
				return -EINVAL;
			}
			label = 0;
			out[o++] = '.';
			continue;
		}
		if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63) {
				snprintf(why, WHY_MAX, "label longer than 63 characters");
				return -EINVAL;
			}
			out[o++] = (char)sl_lower[c];
			continue;
		}
		if (c == '*')
			snprintf(why, WHY_MAX, "'*' is only allowed as a leading \"*.\"");
		else if (c == ':')
			snprintf(why, WHY_MAX, "a domain has no :port (use the port constraint)");
		else if (c == '/')
			snprintf(why, WHY_MAX, "a domain has no path (use a url selector)");
		else if (c >= 0x80)
			snprintf(why, WHY_MAX, "non-ASCII byte 0x%02x (write internationalised names in their xn-- form)", c);
		else
			why_char(why, "invalid character", c);
		return -EINVAL;
	}
	if (label == 0) {
		snprintf(why, WHY_MAX, "empty label");
		return -EINVAL;
	}
	out[o] = '\0';
	return (int)o;
}

/* Position of ":port" to strip from a host, or n when there is none;
 * SIZE_MAX when the host is not a name (IPv6 literal, several colons). */
static size_t host_port_cut(const char *s, size_t n)
{
	size_t colon = n;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == ':') {
			if (colon != n)
				return SIZE_MAX;
			colon = i;
		}
	}
	for (size_t i = colon + 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return SIZE_MAX;
	return colon;
}

int norm_domain_wire(const char *s, size_t n, size_t *len)
{
	size_t cut;

	if (n == 0 || s[0] == '[')
		return -EINVAL;
	cut = host_port_cut(s, n);
	if (cut == SIZE_MAX)
		return -EINVAL;
	n = cut;
	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || s[0] == '.')
		return -EINVAL;
	for (size_t i = 1; i < n; i++)
		if (s[i] == '.' && s[i - 1] == '.')
			return -EINVAL;
	if (s[n - 1] == '.')
		return -EINVAL;
	*len = n;
	return 0;
}

/* ---- URLs ------------------------------------------------------------ */

struct obuf {
	char *p;
	size_t n;
	size_t cap;
	bool trunc;
};

static inline void oput(struct obuf *o, char c)
{
	if (o->n < o->cap)
		o->p[o->n++] = c;
	else
		o->trunc = true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool unreserved(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static void put_pct(struct obuf *o, unsigned c)
{
	static const char hx[] = "0123456789ABCDEF";

	oput(o, '%');
	oput(o, hx[c >> 4]);
	oput(o, hx[c & 15]);
}

/* RFC 3986 5.2.4 on b[0..n), which starts with '/'; returns new length. */
static size_t remove_dot_segments(char *b, size_t n)
{
	size_t in = 0;
	size_t out = 0;

	while (in < n) {
		size_t s = in + 1;
		size_t e = s;
		bool last;

		while (e < n && b[e] != '/')
			e++;
		last = e >= n;
		if (e - s == 1 && b[s] == '.') {
			if (last)
				b[out++] = '/';
		} else if (e - s == 2 && b[s] == '.' && b[s + 1] == '.') {
			while (out > 0 && b[--out] != '/')
				;
			if (last)
				b[out++] = '/';
		} else {
			memmove(b + out, b + in, e - in);
			out += e - in;
		}
		in = e;
	}
	if (out == 0)
		b[out++] = '/';
	return out;
}

/* Path (+query) normalisation: percent-encoded unreserved characters are
 * decoded, other escapes get uppercase hex, bytes outside 0x21..0x7e are
 * percent-encoded, then dot segments are removed from the path part. */
static void norm_path(struct obuf *o, const char *p, size_t n)
{
	size_t start = o->n;
	size_t qpos = SIZE_MAX;

	if (n == 0 || p[0] == '?')
		oput(o, '/');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 &&
		    hexval(p[i + 2]) >= 0) {
			unsigned v = (unsigned)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));

			if (unreserved((int)v))
				oput(o, (char)v);
			else
				put_pct(o, v);
			i += 2;
			continue;
		}
		if (c <= 0x20 || c >= 0x7f) {
			put_pct(o, c);
			continue;
		}
		if (c == '?' && qpos == SIZE_MAX)
			qpos = o->n;
		oput(o, (char)c);
	}
	if (o->trunc || o->n == start || o->p[start] != '/')
		return;
	{
		size_t plen = (qpos == SIZE_MAX ? o->n : qpos) - start;
		size_t nl = remove_dot_segments(o->p + start, plen);

		if (nl != plen) {
			memmove(o->p + start + nl, o->p + start + plen,
				o->n - start - plen);
			o->n -= plen - nl;
		}
	}
}

int norm_url_pattern(const char *s, size_t n, char **out, char *why)
{
	size_t hl = 0;
	struct obuf o;

	*out = NULL;
	if (n == 0) {
		snprintf(why, WHY_MAX, "empty pattern");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f) {
			snprintf(why, WHY_MAX, "whitespace or control character");
			return -EINVAL;
		}
	}
	if (memmem(s, n, "://", 3) != NULL) {
		snprintf(why, WHY_MAX, "write host/path without a scheme (only plain HTTP URLs are visible)");
		return -EINVAL;
	}
	while (hl < n && s[hl] != '/')
		hl++;
	if (hl == 0) {
		snprintf(why, WHY_MAX, "missing host (write \"*/path\" for any host)");
		return -EINVAL;
	}
	if (s[0] == '[') {
		for (size_t i = 1; i < hl; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == ']') {
				if (i != hl - 1) {
					snprintf(why, WHY_MAX, "a url host has no :port (use the port constraint)");
					return -EINVAL;
				}
			} else if (!isxdigit(c) && c != ':' && c != '.' && c != '*') {
				why_char(why, "invalid character in IPv6 host", c);
				return -EINVAL;
			}
		}
		if (s[hl - 1] != ']') {
			snprintf(why, WHY_MAX, "missing ']' after IPv6 host");
			return -EINVAL;
		}
	} else {
		for (size_t i = 0; i < hl; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == ':') {
				snprintf(why, WHY_MAX, "a url host has no :port (use the port constraint)");
				return -EINVAL;
			}
			if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c != '*') {
				if (c >= 0x80)
					snprintf(why, WHY_MAX, "non-ASCII byte 0x%02x in host (write internationalised names in their xn-- form)", c);
				else
					why_char(why, "invalid character in host", c);
				return -EINVAL;
			}
		}
		if (hl > 1 && s[hl - 1] == '.' && s[hl - 2] != '*')
			hl--;
	}
	o.cap = 3 * n + 4;
	o.p = malloc(o.cap + 1);
	o.n = 0;
	o.trunc = false;
	if (o.p == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < hl; i++)
		oput(&o, (char)sl_lower[(unsigned char)s[i]]);
	while (hl < n && s[hl] != '/')
		hl++; /* skipped trailing dot */
	norm_path(&o, s + hl, n - hl);
	o.p[o.n] = '\0';
	*out = o.p;
	return 0;
}

static size_t norm_host_into(struct obuf *o, const char *h, size_t n)
{
	size_t cut;

	if (n > 0 && h[0] == '[') {
		size_t e = 1;

		while (e < n && h[e] != ']')
			e++;
		if (e >= n)
			return SIZE_MAX;
		if (e + 1 < n) {
			if (h[e + 1] != ':')
				return SIZE_MAX;
			for (size_t i = e + 2; i < n; i++)
				if (h[i] < '0' || h[i] > '9')
					return SIZE_MAX;
		}
		n = e + 1;
	} else {
		cut = host_port_cut(h, n);
		if (cut == SIZE_MAX)
			return SIZE_MAX;
		n = cut;
		if (n > 0 && h[n - 1] == '.')
			n--;
	}
	for (size_t i = 0; i < n; i++)
		oput(o, (char)sl_lower[(unsigned char)h[i]]);
	return n;
}

ssize_t norm_url_wire(const char *host, size_t hlen, const char *target,
		      size_t tlen, char *out, size_t cap, bool *trunc)
{
	struct obuf o = { .p = out, .n = 0, .cap = cap, .trunc = false };
	const char *path = target;
	size_t plen = tlen;

	if (tlen > 0 && target[0] != '/') {
		size_t skip = 0;

		if (tlen >= 7 && strncasecmp(target, "http://", 7) == 0)
			skip = 7;
		else if (tlen >= 8 && strncasecmp(target, "https://", 8) == 0)
			skip = 8;
		if (skip > 0) {
			size_t a = skip;
			size_t e = a;

			while (e < tlen && target[e] != '/' && target[e] != '?')
				e++;
			for (size_t i = a; i < e; i++)
				if (target[i] == '@')
					a = i + 1;
			host = target + a;
			hlen = e - a;
			path = target + e;
			plen = tlen - e;
		} else if (tlen == 1 && target[0] == '*') {
			plen = 0; /* OPTIONS *: the host's root */
		} else {
			/* authority-form (CONNECT host:port) */
			host = target;
			hlen = tlen;
			plen = 0;
		}
	}
	if (norm_host_into(&o, host, hlen) == SIZE_MAX)
		return -EINVAL;
	norm_path(&o, path, plen);
	*trunc = o.trunc;
	return (ssize_t)o.n;
}

/* ---- addresses ------------------------------------------------------- */

struct u128 u128_mask(struct u128 a, unsigned len)
{
	if (len == 0) {
		a.hi = 0;
		a.lo = 0;
	} else if (len < 64) {
		a.hi &= ~0ULL << (64 - len);
		a.lo = 0;
	} else if (len == 64) {
		a.lo = 0;
	} else if (len < 128) {
		a.lo &= ~0ULL << (128 - len);
	}
	return a;
}

struct u128 u128_last(struct u128 a, unsigned len)
{
	struct u128 m = u128_mask((struct u128){ ~0ULL, ~0ULL }, len);

	a.hi |= ~m.hi;
	a.lo |= ~m.lo;
	return a;
}

static uint64_t be64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

struct u128 u128_from_addr(const struct sl_addr *a)
{
	struct u128 v = { 0, 0 };

	if (a->family == 4) {
		v.hi = (uint64_t)a->b[0] << 56 | (uint64_t)a->b[1] << 48 |
		       (uint64_t)a->b[2] << 40 | (uint64_t)a->b[3] << 32;
	} else {
		v.hi = be64(a->b);
		v.lo = be64(a->b + 8);
	}
	return v;
}

void u128_to_addr(struct u128 v, int family, struct sl_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	for (int i = 0; i < 8; i++) {
		a->b[i] = (uint8_t)(v.hi >> (56 - 8 * i));
		a->b[8 + i] = (uint8_t)(v.lo >> (56 - 8 * i));
	}
	if (family == 4)
		memset(a->b + 4, 0, 12);
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int addr_key(const struct sl_addr *a, struct u128 *v)
{
	if (a->family == 4) {
		*v = u128_from_addr(a);
		return 4;
	}
	if (a->family != 6)
		return 0;
	if (memcmp(a->b, v4mapped, 12) == 0) {
		struct sl_addr t;

		sl_addr_v4(&t, a->b + 12);
		*v = u128_from_addr(&t);
		return 4;
	}
	*v = u128_from_addr(a);
	return 6;
}

int parse_cidr(const char *s, int *family, struct u128 *a, unsigned *len,
	       bool *masked, char *why)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct sl_addr ad;
	unsigned max;
	struct u128 m;

	if (alen == 0 || alen >= sizeof(buf)) {
		snprintf(why, WHY_MAX, "not an address");
		return -EINVAL;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (sl_addr_parse(buf, &ad) != 0) {
		snprintf(why, WHY_MAX, "\"%s\" is not an IPv4 or IPv6 address", buf);
		return -EINVAL;
	}
	max = ad.family == 4 ? 32 : 128;
	if (slash) {
		const char *d = slash + 1;
		unsigned v = 0;

		if (*d == '\0' || strlen(d) > 3) {
			snprintf(why, WHY_MAX, "bad prefix length (0..%u)", max);
			return -EINVAL;
		}
		for (; *d; d++) {
			if (*d < '0' || *d > '9') {
				snprintf(why, WHY_MAX, "bad prefix length (0..%u)", max);
				return -EINVAL;
			}
			v = v * 10 + (unsigned)(*d - '0');
		}
		if (v > max) {
			snprintf(why, WHY_MAX, "prefix length %u out of range (0..%u)", v, max);
			return -EINVAL;
		}
		*len = v;
	} else {
		*len = max;
	}
	*family = ad.family;
	if (ad.family == 6 && *len >= 96 && memcmp(ad.b, v4mapped, 12) == 0) {
		/* IPv4-mapped: the IPv4 table answers for these */
		struct sl_addr t;

		sl_addr_v4(&t, ad.b + 12);
		ad = t;
		*len -= 96;
		*family = 4;
	}
	*a = u128_from_addr(&ad);
	m = u128_mask(*a, *len);
	*masked = u128_cmp(m, *a) != 0;
	*a = m;
	return 0;
}

/* ---- dates ------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

int parse_date(const char *s, int64_t *t)
{
	static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t n = strlen(s);
	unsigned y, mo, d, h = 0, mi = 0, se = 0;

	if (n != 10 && n != 20)
		return -EINVAL;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d))
		return -EINVAL;
	if (n == 20 && (s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
			digits(s + 14, 2, &mi) || s[16] != ':' ||
			digits(s + 17, 2, &se) || s[19] != 'Z'))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || se > 59)
		return -EINVAL;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -EINVAL;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

void fmt_date(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}
