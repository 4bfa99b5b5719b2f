/* Helpers shared by the engine unit tests (see testutil.h). */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

const char *tu_src = ".";

const char *tu_srcdir(int argc, char **argv)
{
	const char *e = getenv("SLUICE_SRCDIR");

	if (argc > 1 && argv[1][0])
		tu_src = argv[1];
	else if (e && *e)
		tu_src = e;
	return tu_src;
}

const char *tu_conf_path(const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/tests/fixtures/conformance/%s/capture.pcap",
		 tu_src, name);
	return buf;
}

int tu_cap_load(const char *path, struct tu_cap *c)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *pc;
	size_t cap = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	pc = pcap_open_offline(path, err);
	if (pc == NULL) {
		fprintf(stderr, "%s: %s\n", path, err);
		return -1;
	}
	c->dlt = pcap_datalink(pc);
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		if (c->n == cap) {
			cap = cap ? cap * 2 : 64;
			c->f = realloc(c->f, cap * sizeof(*c->f));
			if (c->f == NULL)
				abort();
		}
		c->f[c->n].len = h->caplen;
		c->f[c->n].data = malloc(h->caplen ? h->caplen : 1);
		if (c->f[c->n].data == NULL)
			abort();
		memcpy(c->f[c->n].data, d, h->caplen);
		c->n++;
	}
	pcap_close(pc);
	return rc == PCAP_ERROR ? -1 : 0;
}

void tu_cap_free(struct tu_cap *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->f[i].data);
	free(c->f);
	memset(c, 0, sizeof(*c));
}

int tu_cap_decode(const struct tu_cap *c, size_t i, struct sl_pkt *p)
{
	if (c->dlt == DLT_EN10MB)
		return sl_decode(c->f[i].data, c->f[i].len, p);
	memset(p, 0, sizeof(*p));
	return sl_decode_l3(c->f[i].data, c->f[i].len, p);
}

/* ---- checksums ---- */

uint16_t tu_csum(const uint8_t *d, size_t n, uint32_t init)
{
	uint32_t s = init;
	size_t i;

	for (i = 0; i + 1 < n; i += 2) {
		s += (uint32_t)(d[i] << 8 | d[i + 1]);
		s = (s & 0xffff) + (s >> 16);
	}
	if (n & 1) {
		s += (uint32_t)d[n - 1] << 8;
		s = (s & 0xffff) + (s >> 16);
	}
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int tu_ip4_csum_ok(const uint8_t *ip)
{
	return tu_csum(ip, (size_t)(ip[0] & 15) * 4, 0) == 0;
}

static uint32_t pseudo(const uint8_t *frame, const struct sl_pkt *p, uint32_t l4len)
{
	const uint8_t *ip = frame + p->l3_off;
	uint32_t s = 0;
	int i;

	if (p->ipver == 4) {
		for (i = 12; i < 20; i += 2)
			s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	} else {
		for (i = 8; i < 40; i += 2)
			s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	}
	s += p->l4proto;
	s += l4len >> 16;
	s += l4len & 0xffff;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

int tu_l4_csum_ok(const uint8_t *frame, const struct sl_pkt *p)
{
	uint32_t l4len = p->ip_end - p->l4_off;

	return tu_csum(frame + p->l4_off, l4len, pseudo(frame, p, l4len)) == 0;
}

void tu_l4_csum_fill(uint8_t *frame, const struct sl_pkt *p)
{
	uint32_t l4len = p->ip_end - p->l4_off;
	uint8_t *l4 = frame + p->l4_off;
	int at = p->l4proto == 6 ? 16 : 6;
	uint16_t cs;

	l4[at] = l4[at + 1] = 0;
	cs = tu_csum(l4, l4len, pseudo(frame, p, l4len));
	if (cs == 0 && p->l4proto == 17)
		cs = 0xffff;
	l4[at] = (uint8_t)(cs >> 8);
	l4[at + 1] = (uint8_t)cs;
}

/* ---- building ---- */

void tu_opts_default(struct tu_opts *o, uint8_t ipver, uint8_t l4)
{
	memset(o, 0, sizeof(*o));
	o->ipver = ipver;
	o->l4 = l4;
	o->sport = 40000;
	o->dport = l4 == 17 ? 53 : 80;
	o->seq = 1000;
	o->ack = 2000;
	o->flags = l4 == 6 ? 0x18 : 0;
}

static void st16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void st32(uint8_t *b, uint32_t v)
{
	st16(b, v >> 16);
	st16(b + 2, v & 0xffff);
}

uint32_t tu_build(uint8_t *out, const struct tu_opts *o, const void *payload,
		  uint32_t plen)
{
	static const uint8_t mac_d[6] = { 2, 0, 0, 0, 0, 2 };
	static const uint8_t mac_s[6] = { 2, 0, 0, 0, 0, 1 };
	uint32_t off = 12, l3, l4, l4len, hl;
	struct sl_pkt p;
	uint8_t *ip;

	memcpy(out, mac_d, 6);
	memcpy(out + 6, mac_s, 6);
	for (int i = 0; i < o->nvlan; i++) {
		st16(out + off, o->tpid[i]);
		st16(out + off + 2, o->tci[i]);
		off += 4;
	}
	st16(out + off, o->ipver == 4 ? 0x0800 : 0x86dd);
	off += 2;
	l3 = off;
	ip = out + l3;
	hl = o->ipver == 4 ? 20u + o->ip4_opt : 40u;
	l4 = l3 + hl;
	l4len = (o->l4 == 6 ? 20u + o->tcp_opt : 8u) + plen;
	memset(ip, 0, hl);
	if (o->ipver == 4) {
		ip[0] = (uint8_t)(0x40 | (hl / 4));
		st16(ip + 2, hl + l4len);
		st16(ip + 4, 0x1234);
		st16(ip + 6, 0x4000);
		ip[8] = 61;
		ip[9] = o->l4;
		ip[12] = 10; ip[15] = 1;
		ip[16] = 10; ip[19] = 2;
		for (uint32_t i = 20; i < hl; i++)
			ip[i] = 1; /* NOP options */
		st16(ip + 10, tu_csum(ip, hl, 0));
	} else {
		st32(ip, 0x60000000);
		st16(ip + 4, l4len);
		ip[6] = o->l4;
		ip[7] = 61;
		ip[8] = 0x20; ip[9] = 0x01; ip[10] = 0x0d; ip[11] = 0xb8; ip[23] = 1;
		ip[24] = 0x20; ip[25] = 0x01; ip[26] = 0x0d; ip[27] = 0xb8; ip[39] = 2;
	}
	memset(out + l4, 0, l4len - plen);
	st16(out + l4, o->sport);
	st16(out + l4 + 2, o->dport);
	if (o->l4 == 6) {
		st32(out + l4 + 4, o->seq);
		st32(out + l4 + 8, o->ack);
		out[l4 + 12] = (uint8_t)(((20u + o->tcp_opt) / 4) << 4);
		out[l4 + 13] = o->flags;
		st16(out + l4 + 14, 29200);
		for (uint32_t i = 0; i < o->tcp_opt; i++)
			out[l4 + 20 + i] = 1;
	} else {
		st16(out + l4 + 4, l4len);
	}
	if (plen)
		memcpy(out + l4 + l4len - plen, payload, plen);
	memset(&p, 0, sizeof(p));
	p.l3_off = (uint16_t)l3;
	p.l4_off = (uint16_t)l4;
	p.ip_end = l4 + l4len;
	p.ipver = o->ipver;
	p.l4proto = o->l4;
	tu_l4_csum_fill(out, &p);
	memset(out + l4 + l4len, 0, o->pad);
	return l4 + l4len + o->pad;
}

uint64_t tu_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

int tu_memmem(const void *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}
