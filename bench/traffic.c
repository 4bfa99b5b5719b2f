/* Benchmark traffic: a seeded generator of realistic frames (HTTP requests
 * and responses, TLS ClientHellos with SNI and encrypted records, DNS over
 * UDP, bulk TCP; an IPv6 share, some VLAN tags; 64 B / IMIX / 1500 B
 * segmentation; many flows interleaved at random), a loader for Ethernet
 * captures, and the per-frame index (flow, direction, payload) the matcher
 * figure scans. Nothing here is committed: every run builds it again from
 * the seed. */
#include <errno.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "sluice/decode.h"

/* ---- helpers ------------------------------------------------------------- */

uint32_t bt_logu(struct bt_rng *r, uint32_t lo, uint32_t hi)
{
	double u = (double)(bt_rand(r) >> 11) / (double)(1ull << 53);
	double v = exp(log((double)lo) + u * (log((double)hi) - log((double)lo)));

	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return (uint32_t)v;
}

const char *bt_profile_name(enum bt_profile p)
{
	switch (p) {
	case BT_P64:
		return "64";
	case BT_IMIX:
		return "imix";
	case BT_P1500:
		return "1500";
	}
	return "?";
}

int bt_profile_parse(const char *s)
{
	for (int p = BT_P64; p <= BT_P1500; p++)
		if (strcmp(s, bt_profile_name(p)) == 0)
			return p;
	return -EINVAL;
}

static const char *const syl[] = {
	"ka", "ro", "mi", "ne", "tu", "sa", "lo", "vi", "de", "pa", "zu", "fe", "go",
	"ha", "ji", "ku", "ma", "no", "ri", "te", "wa", "yo", "bi", "ce", "do", "ex",
	"in", "ul", "or", "an", "et", "is",
};
static const char *const tlds[] = {
	"com", "net", "org", "io", "de", "co.uk", "ru", "cn", "info", "fr", "jp", "nl",
};

/* A word of 2..4 syllables. */
static int put_word(struct bt_rng *r, char *o)
{
	unsigned n = 2 + bt_range(r, 3);
	int len = 0;

	for (unsigned i = 0; i < n; i++) {
		const char *s = syl[bt_range(r, SL_ARRAY_SIZE(syl))];

		o[len++] = s[0];
		o[len++] = s[1];
	}
	o[len] = '\0';
	return len;
}

const char *bt_traffic_name(uint64_t seed, uint32_t i)
{
	static __thread char name[96];
	struct bt_rng r;
	int n = 0;

	bt_rng_seed(&r, seed * 1000003u + i);
	switch (bt_range(&r, 4)) {
	case 0:
		n += sprintf(name + n, "www.");
		break;
	case 1: {
		static const char *const sub[] = { "cdn", "api", "img", "static", "m", "mail" };

		n += sprintf(name + n, "%s%u.", sub[bt_range(&r, 6)], bt_range(&r, 20));
		break;
	}
	default:
		break;
	}
	n += put_word(&r, name + n);
	n += sprintf(name + n, "%u.", i);   /* distinct for distinct i */
	sprintf(name + n, "%s", tlds[bt_range(&r, SL_ARRAY_SIZE(tlds))]);
	return name;
}

/* ---- frame building ---------------------------------------------------------- */

struct gflow {
	uint8_t fam;            /* 4 or 6 */
	uint8_t proto;          /* 6 or 17 */
	uint16_t vid;           /* 0: untagged */
	uint8_t addr[2][16];    /* [0] client, [1] server */
	uint16_t port[2];
	uint32_t seq[2];
	uint32_t unacked[2];    /* data segments sent by [d] since the peer acked */
	uint32_t name;          /* server name index */
};

struct gen {
	struct bt_traffic *t;
	const struct bt_gen_opts *o;
	struct bt_rng r;
	uint16_t ip_id;
	uint8_t *scratch;       /* message buffer */
	size_t scratch_cap;
};

static int reserve(struct bt_traffic *t, size_t frame_len)
{
	if (t->used + frame_len > t->cap) {
		size_t nc = t->cap ? t->cap * 2 : (64u << 20);
		uint8_t *nb;

		while (nc < t->used + frame_len)
			nc *= 2;
		nb = realloc(t->buf, nc);
		if (nb == NULL)
			return -ENOMEM;
		t->buf = nb;
		t->cap = nc;
	}
	if (t->n == t->pcap_cap) {
		uint32_t nc = t->pcap_cap ? t->pcap_cap * 2 : 65536;
		struct bt_pkt *np = realloc(t->pkt, (size_t)nc * sizeof(*np));

		if (np == NULL)
			return -ENOMEM;
		t->pkt = np;
		t->pcap_cap = nc;
	}
	return 0;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	while (n > 1) {
		s += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		n -= 2;
	}
	if (n)
		s += (uint32_t)(p[0] << 8);
	return s;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t hdr_len(const struct gflow *f)
{
	return (f->vid ? 18u : 14u) + (f->fam == 4 ? 20u : 40u) + (f->proto == 6 ? 20u : 8u);
}

/* Append one frame of flow f sent by end d (0 client, 1 server). */
static int emit(struct gen *g, struct gflow *f, int d, uint8_t flags, const uint8_t *pl,
		uint32_t plen)
{
	struct bt_traffic *t = g->t;
	uint32_t l2 = f->vid ? 18 : 14, l3 = f->fam == 4 ? 20 : 40;
	uint32_t l4 = f->proto == 6 ? 20 : 8;
	uint32_t len = l2 + l3 + l4 + plen, flen = len < 60 ? 60 : len;
	uint8_t *p, *ip, *th;
	uint32_t s;
	int rc = reserve(t, flen);

	if (rc < 0)
		return rc;
	p = t->buf + t->used;
	memset(p, 0, flen);
	/* 02:00:00:00:00:01 is the client side, :02 the server side */
	p[0] = 0x02;
	p[5] = d == 0 ? 2 : 1;
	p[6] = 0x02;
	p[11] = d == 0 ? 1 : 2;
	if (f->vid) {
		st16(p + 12, 0x8100);
		st16(p + 14, f->vid);
	}
	st16(p + l2 - 2, f->fam == 4 ? 0x0800 : 0x86dd);
	ip = p + l2;
	th = ip + l3;
	if (f->fam == 4) {
		ip[0] = 0x45;
		st16(ip + 2, (uint16_t)(l3 + l4 + plen));
		st16(ip + 4, g->ip_id++);
		ip[6] = 0x40;  /* DF */
		ip[8] = 64;
		ip[9] = f->proto;
		memcpy(ip + 12, f->addr[d], 4);
		memcpy(ip + 16, f->addr[!d], 4);
		st16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	} else {
		ip[0] = 0x60;
		st16(ip + 4, (uint16_t)(l4 + plen));
		ip[6] = f->proto;
		ip[7] = 64;
		memcpy(ip + 8, f->addr[d], 16);
		memcpy(ip + 24, f->addr[!d], 16);
	}
	st16(th, f->port[d]);
	st16(th + 2, f->port[!d]);
	if (f->proto == 6) {
		st32(th + 4, f->seq[d]);
		st32(th + 8, (flags & 0x10) ? f->seq[!d] : 0);
		th[12] = 0x50;
		th[13] = flags;
		st16(th + 14, 64240);
	} else {
		st16(th + 4, (uint16_t)(8 + plen));
	}
	if (plen)
		memcpy(th + l4, pl, plen);
	/* L4 checksum over the pseudo-header */
	s = f->fam == 4 ? csum_add(0, ip + 12, 8) : csum_add(0, ip + 8, 32);
	s += f->proto + l4 + plen;
	s = csum_add(s, th, l4 + plen);
	st16(th + (f->proto == 6 ? 16 : 6), csum_fold(s));

	t->pkt[t->n].off = t->used;
	t->pkt[t->n].len = flen;
	t->pkt[t->n].flow = 0;
	t->n++;
	t->used += flen;
	t->frame_bytes += flen;
	if (flen > t->max_frame)
		t->max_frame = flen;
	if (f->proto == 6)
		f->seq[d] += plen + ((flags & 0x02) ? 1 : 0) + ((flags & 0x01) ? 1 : 0);
	return 0;
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_PSH 0x08
#define F_ACK 0x10

/* Payload bytes of the next data segment. */
static uint32_t seg_size(struct gen *g, const struct gflow *f)
{
	uint32_t h = hdr_len(f);
	uint32_t mss = 1514 + (f->vid ? 4u : 0u) - h;

	switch (g->o->profile) {
	case BT_P64:
		return 6;
	case BT_IMIX:
		/* data frames of 594 and 1518 B (4:1); ACKs make up the 64 B share */
		if (bt_range(&g->r, 5) < 4)
			return 590 + (f->vid ? 4u : 0u) - h;
		return mss;
	case BT_P1500:
	default:
		return mss;
	}
}

static int ack(struct gen *g, struct gflow *f, int d)
{
	return emit(g, f, d, F_ACK, NULL, 0);
}

/* Send a message from end d, segmented by the profile, with the receiver's
 * pure ACKs as the profile has them. */
static int send_msg(struct gen *g, struct gflow *f, int d, const uint8_t *data, uint32_t len)
{
	int rc;

	while (len) {
		uint32_t s = seg_size(g, f);

		if (s > len)
			s = len;
		rc = emit(g, f, d, F_ACK | (s == len ? F_PSH : 0), data, s);
		if (rc < 0)
			return rc;
		data += s;
		len -= s;
		f->unacked[d]++;
		switch (g->o->profile) {
		case BT_P64:
			if (f->unacked[d] >= 2) {
				rc = ack(g, f, !d);
				f->unacked[d] = 0;
			}
			break;
		case BT_IMIX:
			rc = ack(g, f, !d);
			if (rc == 0 && bt_range(&g->r, 10) < 4)
				rc = ack(g, f, !d);
			f->unacked[d] = 0;
			break;
		default:
			break;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int tcp_open(struct gen *g, struct gflow *f)
{
	int rc = emit(g, f, 0, F_SYN, NULL, 0);

	if (rc == 0)
		rc = emit(g, f, 1, F_SYN | F_ACK, NULL, 0);
	if (rc == 0)
		rc = ack(g, f, 0);
	return rc;
}

static int tcp_close(struct gen *g, struct gflow *f)
{
	int rc = emit(g, f, 0, F_FIN | F_ACK, NULL, 0);

	if (rc == 0)
		rc = emit(g, f, 1, F_FIN | F_ACK, NULL, 0);
	if (rc == 0)
		rc = ack(g, f, 0);
	return rc;
}

/* ---- content ------------------------------------------------------------------ */

static uint8_t *msgbuf(struct gen *g, size_t n)
{
	if (n > g->scratch_cap) {
		uint8_t *p = realloc(g->scratch, n);

		if (p == NULL)
			return NULL;
		g->scratch = p;
		g->scratch_cap = n;
	}
	return g->scratch;
}

static void rand_bytes(struct bt_rng *r, uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t v = bt_rand(r);

		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = bt_rand(r);

		memcpy(p, &v, n);
	}
}

/* HTML-ish text of exactly n bytes; sometimes with a planted marker. */
static void text_bytes(struct gen *g, uint8_t *p, size_t n, bool plant)
{
	static const char *const tags[] = { "<p>", "</p>\n", "<div class=\"c\">", "</div>\n",
					    "<a href=\"/x\">", "</a> ", "<li>", "\n" };
	size_t i = 0;
	char w[16];

	while (i < n) {
		const char *s;
		size_t l;

		if (bt_range(&g->r, 8) == 0) {
			s = tags[bt_range(&g->r, SL_ARRAY_SIZE(tags))];
		} else {
			l = (size_t)put_word(&g->r, w);
			w[l++] = ' ';
			w[l] = '\0';
			s = w;
		}
		l = strlen(s);
		if (l > n - i)
			l = n - i;
		memcpy(p + i, s, l);
		i += l;
	}
	if (plant && n > 200) {
		size_t at = bt_range(&g->r, (uint32_t)(n - 100));
		const char *m = bt_range(&g->r, 2) ? BT_PLANTED_LITERAL : BT_PLANTED_REGEX_SUBJECT;

		memcpy(p + at, m, strlen(m));
	}
}

static uint32_t http_request(struct gen *g, const struct gflow *f, uint8_t *o)
{
	char path[128], w[16];
	int n = 0, pl = 0;
	unsigned depth = 1 + bt_range(&g->r, 3);

	for (unsigned i = 0; i < depth; i++) {
		put_word(&g->r, w);
		pl += sprintf(path + pl, "/%s", w);
	}
	if (bt_range(&g->r, 2))
		sprintf(path + pl, ".html?id=%u", bt_range(&g->r, 100000));
	n += sprintf((char *)o + n, "GET %s HTTP/1.1\r\nHost: %s\r\n", path,
		     bt_traffic_name(g->o->seed, f->name));
	n += sprintf((char *)o + n,
		     "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
		     "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"
		     "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
		     "Accept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate\r\n");
	if (bt_range(&g->r, 2))
		n += sprintf((char *)o + n, "Cookie: sid=%016llx%08x\r\n",
			     (unsigned long long)bt_rand(&g->r), bt_range(&g->r, 1u << 31));
	n += sprintf((char *)o + n, "Connection: keep-alive\r\n\r\n");
	return (uint32_t)n;
}

static int http_flow(struct gen *g, struct gflow *f)
{
	bool short_ = g->o->shape == BT_SHAPE_SHORT;
	unsigned reqs = (!short_ && bt_range(&g->r, 10) < 3) ? 2 : 1;
	int rc = tcp_open(g, f);

	for (unsigned k = 0; rc == 0 && k < reqs; k++) {
		uint8_t *o = msgbuf(g, 1024);
		uint32_t body = short_ ? bt_logu(&g->r, 100, 1200) : bt_logu(&g->r, 200, 24000);
		uint32_t n, hl;

		if (o == NULL)
			return -ENOMEM;
		n = http_request(g, f, o);
		rc = send_msg(g, f, 0, o, n);
		if (rc < 0)
			return rc;
		o = msgbuf(g, body + 512);
		if (o == NULL)
			return -ENOMEM;
		hl = (uint32_t)sprintf((char *)o,
				       "HTTP/1.1 200 OK\r\nServer: nginx\r\n"
				       "Content-Type: text/html; charset=utf-8\r\n"
				       "Content-Length: %u\r\nCache-Control: max-age=600\r\n\r\n",
				       body);
		text_bytes(g, o + hl, body, bt_range(&g->r, 200) == 0);
		rc = send_msg(g, f, 1, o, hl + body);
	}
	return rc == 0 ? tcp_close(g, f) : rc;
}

static uint32_t client_hello(struct gen *g, const struct gflow *f, uint8_t *o)
{
	const char *name = bt_traffic_name(g->o->seed, f->name);
	uint32_t nl = (uint32_t)strlen(name);
	uint8_t *p = o + 9, *ext;
	static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
					   0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
					   0x009d, 0x002f, 0x0035, 0x000a };
	uint32_t hs_len, ext_len;

	*p++ = 3;
	*p++ = 3;
	rand_bytes(&g->r, p, 32);           /* random */
	p += 32;
	*p++ = 32;                          /* session id */
	rand_bytes(&g->r, p, 32);
	p += 32;
	st16(p, sizeof(suites));
	p += 2;
	for (unsigned i = 0; i < SL_ARRAY_SIZE(suites); i++, p += 2)
		st16(p, suites[i]);
	*p++ = 1;
	*p++ = 0;
	ext = p;
	p += 2;
	st16(p, 0);                         /* server_name */
	st16(p + 2, (uint16_t)(nl + 5));
	st16(p + 4, (uint16_t)(nl + 3));
	p[6] = 0;
	st16(p + 7, (uint16_t)nl);
	memcpy(p + 9, name, nl);
	p += 9 + nl;
	memcpy(p, "\x00\x0a\x00\x08\x00\x06\x00\x1d\x00\x17\x00\x18", 12);   /* groups */
	p += 12;
	memcpy(p, "\x00\x0b\x00\x02\x01\x00", 6);                            /* ec points */
	p += 6;
	memcpy(p, "\x00\x0d\x00\x12\x00\x10\x04\x03\x08\x04\x04\x01\x05\x03"
		  "\x08\x05\x05\x01\x08\x06\x06\x01", 22);                      /* sig algs */
	p += 22;
	memcpy(p, "\x00\x10\x00\x0e\x00\x0c\x02h2\x08http/1.1", 18);         /* alpn */
	p += 18;
	memcpy(p, "\x00\x2b\x00\x03\x02\x03\x04", 7);                        /* versions */
	p += 7;
	memcpy(p, "\x00\x33\x00\x26\x00\x24\x00\x1d\x00\x20", 10);           /* key share */
	p += 10;
	rand_bytes(&g->r, p, 32);
	p += 32;
	/* padding extension up to a 512-byte ClientHello, like browsers */
	hs_len = (uint32_t)(p - (o + 9));
	if (hs_len + 4 + 4 < 508) {
		uint32_t pad = 508 - hs_len - 4 - 4;

		st16(p, 0x0015);
		st16(p + 2, (uint16_t)pad);
		memset(p + 4, 0, pad);
		p += 4 + pad;
	}
	ext_len = (uint32_t)(p - ext - 2);
	st16(ext, (uint16_t)ext_len);
	hs_len = (uint32_t)(p - (o + 9));
	o[0] = 0x16;
	o[1] = 3;
	o[2] = 1;
	st16(o + 3, (uint16_t)(hs_len + 4));
	o[5] = 1;
	o[6] = 0;
	st16(o + 7, (uint16_t)hs_len);
	return hs_len + 9;
}

/* TLS records of content type ct carrying n random bytes in total. */
static uint32_t tls_records(struct gen *g, uint8_t ct, uint32_t n, uint8_t *o)
{
	uint32_t w = 0;

	while (n) {
		uint32_t r = n > 16384 ? 16384 : n;

		o[w] = ct;
		o[w + 1] = 3;
		o[w + 2] = 3;
		st16(o + w + 3, (uint16_t)r);
		rand_bytes(&g->r, o + w + 5, r);
		w += 5 + r;
		n -= r;
	}
	return w;
}

static int tls_flow(struct gen *g, struct gflow *f)
{
	bool short_ = g->o->shape == BT_SHAPE_SHORT;
	uint32_t srv_hs = short_ ? bt_logu(&g->r, 1200, 1400) : bt_logu(&g->r, 2500, 4500);
	uint32_t c_app = short_ ? bt_logu(&g->r, 100, 300) : bt_logu(&g->r, 100, 2000);
	uint32_t s_app = short_ ? 0 : bt_logu(&g->r, 1000, 32000);
	uint8_t *o;
	uint32_t n;
	int rc = tcp_open(g, f);

	o = msgbuf(g, 70000);
	if (o == NULL)
		return -ENOMEM;
	if (rc == 0)
		rc = send_msg(g, f, 0, o, client_hello(g, f, o));
	if (rc == 0) {
		n = tls_records(g, 0x16, srv_hs, o);
		o[5] = 2;       /* the flight opens with a ServerHello */
		rc = send_msg(g, f, 1, o, n);
	}
	if (rc == 0 && !short_) {
		n = tls_records(g, 0x14, 1, o);
		n += tls_records(g, 0x16, 48, o + n);
		rc = send_msg(g, f, 0, o, n);
	}
	if (rc == 0)
		rc = send_msg(g, f, 0, o, tls_records(g, 0x17, c_app, o));
	if (rc == 0 && s_app)
		rc = send_msg(g, f, 1, o, tls_records(g, 0x17, s_app, o));
	return rc == 0 ? tcp_close(g, f) : rc;
}

static uint32_t dns_name(const char *name, uint8_t *o)
{
	uint32_t w = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		uint32_t l = dot ? (uint32_t)(dot - name) : (uint32_t)strlen(name);

		o[w++] = (uint8_t)l;
		memcpy(o + w, name, l);
		w += l;
		name += l;
		if (*name == '.')
			name++;
	}
	o[w++] = 0;
	return w;
}

static int dns_flow(struct gen *g, struct gflow *f)
{
	uint8_t q[300], a[400];
	uint16_t id = (uint16_t)bt_range(&g->r, 65536);
	static const uint16_t types[] = { 1, 1, 1, 28, 28, 65 };
	uint16_t type = types[bt_range(&g->r, SL_ARRAY_SIZE(types))];
	uint32_t n, m;
	int rc;

	memset(q, 0, 12);
	st16(q, id);
	st16(q + 2, 0x0100);
	st16(q + 4, 1);
	n = 12 + dns_name(bt_traffic_name(g->o->seed, f->name), q + 12);
	st16(q + n, type);
	st16(q + n + 2, 1);
	n += 4;
	rc = emit(g, f, 0, 0, q, n);
	if (rc < 0)
		return rc;
	memcpy(a, q, n);
	st16(a + 2, 0x8180);
	st16(a + 6, 1);
	m = n;
	st16(a + m, 0xc00c);
	st16(a + m + 2, type);
	st16(a + m + 4, 1);
	st32(a + m + 6, 300);
	if (type == 28) {
		st16(a + m + 10, 16);
		rand_bytes(&g->r, a + m + 12, 16);
		m += 28;
	} else {
		st16(a + m + 10, 4);
		rand_bytes(&g->r, a + m + 12, 4);
		m += 16;
	}
	return emit(g, f, 1, 0, a, m);
}

static int bulk_flow(struct gen *g, struct gflow *f)
{
	bool short_ = g->o->shape == BT_SHAPE_SHORT;
	uint32_t n = short_ ? bt_logu(&g->r, 200, 4000) : bt_logu(&g->r, 8000, 64000);
	int d = (int)bt_range(&g->r, 2);
	uint8_t *o = msgbuf(g, n);
	int rc;

	if (o == NULL)
		return -ENOMEM;
	if (bt_range(&g->r, 2))
		rand_bytes(&g->r, o, n);
	else
		text_bytes(g, o, n, false);
	rc = tcp_open(g, f);
	if (rc == 0)
		rc = send_msg(g, f, d, o, n);
	return rc == 0 ? tcp_close(g, f) : rc;
}

/* ---- flows and interleaving ---------------------------------------------------- */

static void flow_setup(struct gen *g, struct gflow *f, uint32_t i, uint32_t nclients)
{
	uint32_t c = i % nclients, k = i / nclients;
	uint32_t kind = bt_range(&g->r, 100);
	static const uint16_t bulk_ports[] = { 22, 445, 8080, 3306, 5001 };

	memset(f, 0, sizeof(*f));
	f->fam = bt_range(&g->r, 100) < g->o->v6_pct ? 6 : 4;
	if (bt_range(&g->r, 100) < g->o->vlan_pct)
		f->vid = (uint16_t)(1 + bt_range(&g->r, 4094));
	f->name = bt_range(&g->r, BT_NAME_POOL < g->o->flows ? BT_NAME_POOL : g->o->flows);
	/* clients 10.0.0.0/16 (fd00::/112), servers 198.18.0.0/15
	 * (2001:db8::/32) by name: one name, one address */
	if (f->fam == 4) {
		f->addr[0][0] = 10;
		f->addr[0][2] = (uint8_t)(c >> 8);
		f->addr[0][3] = (uint8_t)c;
		f->addr[1][0] = 198;
		f->addr[1][1] = (uint8_t)(18 + ((f->name >> 16) & 1));
		f->addr[1][2] = (uint8_t)(f->name >> 8);
		f->addr[1][3] = (uint8_t)f->name;
	} else {
		f->addr[0][0] = 0xfd;
		f->addr[0][14] = (uint8_t)(c >> 8);
		f->addr[0][15] = (uint8_t)c;
		f->addr[1][0] = 0x20;
		f->addr[1][1] = 0x01;
		f->addr[1][2] = 0x0d;
		f->addr[1][3] = 0xb8;
		f->addr[1][13] = (uint8_t)(f->name >> 16);
		f->addr[1][14] = (uint8_t)(f->name >> 8);
		f->addr[1][15] = (uint8_t)f->name;
	}
	f->port[0] = (uint16_t)(1024 + (k % 64000));
	f->seq[0] = (uint32_t)bt_rand(&g->r);
	f->seq[1] = (uint32_t)bt_rand(&g->r);
	f->proto = 6;
	if (kind < 30) {
		f->port[1] = 80;
	} else if (kind < 65) {
		f->port[1] = 443;
	} else if (kind < 90) {
		f->port[1] = 53;
		f->proto = 17;
	} else {
		f->port[1] = bulk_ports[bt_range(&g->r, SL_ARRAY_SIZE(bulk_ports))];
	}
}

static int flow_run(struct gen *g, struct gflow *f)
{
	switch (f->port[1]) {
	case 80:
		return http_flow(g, f);
	case 443:
		return tls_flow(g, f);
	case 53:
		return dns_flow(g, f);
	default:
		return bulk_flow(g, f);
	}
}

/* Random merge of the flows' packet sequences (each flow keeps its order). */
static int interleave(struct bt_traffic *t, const uint32_t *first, uint32_t nflows,
		      struct bt_rng *r)
{
	uint32_t *slot = malloc((size_t)t->n * sizeof(*slot));
	uint32_t *taken = calloc(nflows, sizeof(*taken));
	struct bt_pkt *out = malloc((size_t)t->n * sizeof(*out));

	if (slot == NULL || taken == NULL || out == NULL) {
		free(slot);
		free(taken);
		free(out);
		return -ENOMEM;
	}
	for (uint32_t f = 0; f < nflows; f++)
		for (uint32_t i = first[f]; i < first[f + 1]; i++)
			slot[i] = f;
	for (uint32_t i = t->n - 1; i > 0; i--) {
		uint32_t j = bt_range(r, i + 1), x = slot[i];

		slot[i] = slot[j];
		slot[j] = x;
	}
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t f = slot[i];

		out[i] = t->pkt[first[f] + taken[f]++];
	}
	free(t->pkt);
	t->pkt = out;
	t->pcap_cap = t->n;
	free(slot);
	free(taken);
	return 0;
}

int bt_traffic_generate(const struct bt_gen_opts *o, struct bt_traffic *t)
{
	struct gen g = { .t = t, .o = o };
	uint32_t nclients = o->flows / 8 ? o->flows / 8 : 1;
	uint32_t *first;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s/%u%s", bt_profile_name(o->profile), o->flows,
		 o->shape == BT_SHAPE_SHORT ? "s" : "");
	if (nclients > 65536)
		nclients = 65536;
	first = malloc(((size_t)o->flows + 1) * sizeof(*first));
	if (first == NULL)
		return -ENOMEM;
	bt_rng_seed(&g.r, o->seed ^ ((uint64_t)o->flows << 32) ^ ((uint64_t)o->profile << 8) ^
		    o->shape);
	for (uint32_t i = 0; i < o->flows && rc == 0; i++) {
		struct gflow f;

		first[i] = t->n;
		flow_setup(&g, &f, i, nclients);
		rc = flow_run(&g, &f);
	}
	first[o->flows] = t->n;
	free(g.scratch);
	if (rc == 0)
		rc = interleave(t, first, o->flows, &g.r);
	free(first);
	if (rc == 0)
		rc = bt_traffic_index(t);
	if (rc < 0)
		bt_traffic_free(t);
	return rc;
}

/* ---- captures ---------------------------------------------------------------- */

int bt_traffic_load_pcap(const char *path, uint32_t max_frame, struct bt_traffic *t)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "pcap");
	p = pcap_open_offline(path, err);
	if (p == NULL) {
		fprintf(stderr, "sluice-bench: %s: %s\n", path, err);
		return -ENOENT;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "sluice-bench: %s: not an Ethernet capture\n", path);
		pcap_close(p);
		return -ENOTSUP;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		if (h->caplen > max_frame || h->caplen < 14) {
			t->skipped++;
			continue;
		}
		rc = reserve(t, h->caplen);
		if (rc < 0)
			break;
		memcpy(t->buf + t->used, d, h->caplen);
		t->pkt[t->n].off = t->used;
		t->pkt[t->n].len = h->caplen;
		t->n++;
		t->used += h->caplen;
		t->frame_bytes += h->caplen;
		if (h->caplen > t->max_frame)
			t->max_frame = h->caplen;
	}
	pcap_close(p);
	if (rc == 0)
		rc = bt_traffic_index(t);
	if (rc < 0)
		bt_traffic_free(t);
	return rc;
}

int bt_traffic_write_pcap(const struct bt_traffic *t, const char *path)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *dump = dead ? pcap_dump_open(dead, path) : NULL;

	if (dump == NULL) {
		if (dead)
			pcap_close(dead);
		return -EIO;
	}
	for (uint32_t i = 0; i < t->n; i++) {
		struct pcap_pkthdr h = {
			.ts = { .tv_sec = 1700000000 + i / 100000, .tv_usec = (i % 100000) * 10 },
			.caplen = t->pkt[i].len,
			.len = t->pkt[i].len,
		};

		pcap_dump((u_char *)dump, &h, bt_frame(t, i));
	}
	pcap_dump_close(dump);
	pcap_close(dead);
	return 0;
}

/* ---- index: flows by canonical 5-tuple ------------------------------------------- */

struct tkey {
	uint8_t a[16], b[16];
	uint16_t pa, pb;
	uint8_t proto, fam;
	uint16_t pad;
};

static uint64_t tkey_hash(const struct tkey *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

int bt_traffic_index(struct bt_traffic *t)
{
	uint32_t cap = 1024;
	struct tkey *keys;
	uint32_t *ids;

	while (cap < t->n * 2u)
		cap *= 2;
	keys = calloc(cap, sizeof(*keys));
	ids = malloc((size_t)cap * sizeof(*ids));
	if (keys == NULL || ids == NULL) {
		free(keys);
		free(ids);
		return -ENOMEM;
	}
	memset(ids, 0xff, (size_t)cap * sizeof(*ids));
	t->nflows = 0;
	t->payload_bytes = t->tcp_payload_bytes = 0;
	t->ipv6_pkts = t->vlan_pkts = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		struct bt_pkt *m = &t->pkt[i];
		struct sl_pkt p;
		struct tkey k;
		unsigned alen;
		int cmp;
		uint32_t s;

		m->flow = UINT32_MAX;
		m->proto = 0;
		m->dir = 0;
		m->pl_off = m->pl_len = 0;
		if (sl_decode(bt_frame(t, i), m->len, &p) != SL_DEC_OK)
			continue;
		m->proto = p.l4proto;
		t->ipv6_pkts += p.ipver == 6;
		t->vlan_pkts += p.nvlan > 0;
		if (p.is_frag || (p.l4proto != 6 && p.l4proto != 17) || p.l4_off == 0)
			continue;
		memset(&k, 0, sizeof(k));
		alen = p.ipver == 4 ? 4 : 16;
		cmp = memcmp(p.src.b, p.dst.b, alen);
		if (cmp == 0)
			cmp = (int)p.sport - (int)p.dport;
		if (cmp <= 0) {
			memcpy(k.a, p.src.b, alen);
			memcpy(k.b, p.dst.b, alen);
			k.pa = p.sport;
			k.pb = p.dport;
		} else {
			memcpy(k.a, p.dst.b, alen);
			memcpy(k.b, p.src.b, alen);
			k.pa = p.dport;
			k.pb = p.sport;
		}
		k.proto = p.l4proto;
		k.fam = p.ipver;
		m->dir = cmp <= 0 ? 0 : 1;
		m->pl_off = (uint16_t)p.payload_off;
		m->pl_len = (uint16_t)p.payload_len;
		t->payload_bytes += p.payload_len;
		if (p.l4proto == 6)
			t->tcp_payload_bytes += p.payload_len;
		s = (uint32_t)tkey_hash(&k) & (cap - 1);
		while (ids[s] != UINT32_MAX && memcmp(&keys[s], &k, sizeof(k)) != 0)
			s = (s + 1) & (cap - 1);
		if (ids[s] == UINT32_MAX) {
			keys[s] = k;
			ids[s] = t->nflows++;
		}
		m->flow = ids[s];
	}
	free(keys);
	free(ids);
	return 0;
}

void bt_traffic_free(struct bt_traffic *t)
{
	free(t->buf);
	free(t->pkt);
	memset(t, 0, sizeof(*t));
}
