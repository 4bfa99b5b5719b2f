/* The engine over the conformance captures (tests/fixtures/conformance):
 * every frame of every capture decodes without error, and a miniature
 * worker (flows, per-direction reassembly, field extraction, UDP DNS)
 * finds what each case is about: SNI, Host, URL, DNS names, payload on
 * each side of a stream gap and none across it. */
#include <dirent.h>
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
#include "sluice/reasm.h"
#include "testutil.h"

#define MAXFLOWS 32
#define NCHUNKS 1024
#define NBUF 8
#define STREAM_MAX (1 << 20)

struct field {
	int field;
	char v[512];
	char host[512];
	char target[512];
};

struct flow {
	int used;
	uint8_t proto;
	struct sl_addr a[2];    /* [0] client, [1] server */
	uint16_t port[2];
	struct sl_tcp_half half[2];
	struct sl_app_half app;
	uint8_t *stream[2];     /* delivered bytes per direction */
	size_t slen[2];
	int gaps[2];            /* deliveries with gap set */
	struct ev {
		uint64_t off;
		uint32_t len;
		int gap;
	} ev[2][64];
	int nev[2];
};

struct run {
	struct flow flow[MAXFLOWS];
	struct field field[64];
	int nfield;
	int nflows;
};

static struct sl_seg_chunk chunks[NCHUNKS];
static struct sl_seg_pool seg_pool;
static uint8_t app_mem[NBUF * SL_APP_BUF_SIZE];
static uint32_t app_links[NBUF];
static struct sl_app_pool app_pool;

struct dctx {
	struct run *run;
	struct flow *f;
	int dir;
};

static void cpy(char *dst, const char *s, uint32_t n)
{
	if (n > 511)
		n = 511;
	memcpy(dst, s ? s : "", n);
	dst[n] = '\0';
}

static int on_field(void *ctx, const struct sl_app_field *fl)
{
	struct run *r = ctx;
	struct field *f;

	assert_true(r->nfield < 64);
	f = &r->field[r->nfield++];
	f->field = fl->field;
	cpy(f->v, fl->value, fl->value ? fl->len : 0);
	if (fl->field == SL_FIELD_URL) {
		cpy(f->host, fl->host, fl->host_len);
		cpy(f->target, fl->target, fl->target_len);
	}
	return 0;
}

static int on_stream(void *ctx, const uint8_t *d, uint32_t len, uint64_t off, int gap)
{
	struct dctx *c = ctx;
	struct flow *f = c->f;
	int dir = c->dir;

	if (f->nev[dir] < 64) {
		f->ev[dir][f->nev[dir]].off = off;
		f->ev[dir][f->nev[dir]].len = len;
		f->ev[dir][f->nev[dir]].gap = gap;
		f->nev[dir]++;
	}
	if (gap)
		f->gaps[dir]++;
	if (f->slen[dir] + len <= STREAM_MAX) {
		memcpy(f->stream[dir] + f->slen[dir], d, len);
		f->slen[dir] += len;
	}
	if (dir == 0 && f->proto == SL_PROTO_TCP && f->app.proto != SL_APP_OTHER)
		sl_app_feed(&f->app, &app_pool, d, len, gap, f->port[1], on_field, c->run);
	return 0;
}

/* Find or create the flow of p (VLAN-agnostic). *dir: 0 client->server. */
static struct flow *lookup(struct run *r, const struct sl_pkt *p, int *dir)
{
	int i;

	for (i = 0; i < MAXFLOWS; i++) {
		struct flow *f = &r->flow[i];

		if (!f->used || f->proto != p->l4proto)
			continue;
		if (sl_addr_eq(&f->a[0], &p->src) && sl_addr_eq(&f->a[1], &p->dst) &&
		    f->port[0] == p->sport && f->port[1] == p->dport) {
			*dir = 0;
			return f;
		}
		if (sl_addr_eq(&f->a[1], &p->src) && sl_addr_eq(&f->a[0], &p->dst) &&
		    f->port[1] == p->sport && f->port[0] == p->dport) {
			*dir = 1;
			return f;
		}
	}
	for (i = 0; i < MAXFLOWS; i++) {
		struct flow *f = &r->flow[i];
		int client_is_src;

		if (f->used)
			continue;
		memset(f, 0, sizeof(*f));
		f->used = 1;
		f->proto = p->l4proto;
		if (p->l4proto == SL_PROTO_TCP && (p->tcp_flags & SL_TCP_SYN))
			client_is_src = !(p->tcp_flags & SL_TCP_ACK);
		else
			client_is_src = p->sport >= p->dport;
		f->a[0] = client_is_src ? p->src : p->dst;
		f->a[1] = client_is_src ? p->dst : p->src;
		f->port[0] = client_is_src ? p->sport : p->dport;
		f->port[1] = client_is_src ? p->dport : p->sport;
		sl_tcp_half_init(&f->half[0]);
		sl_tcp_half_init(&f->half[1]);
		sl_app_half_init(&f->app);
		f->stream[0] = malloc(STREAM_MAX);
		f->stream[1] = malloc(STREAM_MAX);
		r->nflows++;
		*dir = client_is_src ? 0 : 1;
		return f;
	}
	fail_msg("too many flows");
	return NULL;
}

static void run_capture(const char *name, struct run *r)
{
	struct tu_cap c;

	for (int i = 0; i < MAXFLOWS; i++) {
		free(r->flow[i].stream[0]);
		free(r->flow[i].stream[1]);
	}
	memset(r, 0, sizeof(*r));
	sl_seg_pool_init(&seg_pool, chunks, NCHUNKS);
	sl_app_pool_init(&app_pool, app_mem, app_links, NBUF);
	assert_int_equal(tu_cap_load(tu_conf_path(name), &c), 0);
	for (size_t i = 0; i < c.n; i++) {
		const uint8_t *fr = c.f[i].data;
		struct sl_pkt p;
		struct flow *f;
		struct dctx dc;
		int dir = 0;

		assert_int_equal(tu_cap_decode(&c, i, &p), SL_DEC_OK);
		if (p.l4_off == 0)
			continue;
		f = lookup(r, &p, &dir);
		dc.run = r;
		dc.f = f;
		if (p.l4proto == SL_PROTO_UDP) {
			struct sl_dns_query q;

			if (dir == 0 && p.dport == 53 &&
			    sl_dns_parse_query(fr + p.payload_off, p.payload_len, &q) == 0) {
				struct sl_app_field fl = { 0 };

				fl.field = SL_FIELD_DNS;
				fl.value = q.name;
				fl.len = q.name_len;
				on_field(r, &fl);
			}
			continue;
		}
		if (p.l4proto != SL_PROTO_TCP)
			continue;
		dc.dir = dir;
		sl_tcp_half_segment(&f->half[dir], &seg_pool, p.seq, fr + p.payload_off,
				    p.payload_len, p.tcp_flags, 65536, on_stream, &dc);
		if (p.tcp_flags & SL_TCP_ACK) {
			dc.dir = !dir;
			sl_tcp_half_ack(&f->half[!dir], &seg_pool, p.ack, on_stream, &dc);
		}
	}
	tu_cap_free(&c);
	for (int i = 0; i < MAXFLOWS; i++) {
		struct flow *f = &r->flow[i];
		struct dctx dc = { r, f, 0 };

		if (!f->used || f->proto != SL_PROTO_TCP)
			continue;
		for (dc.dir = 0; dc.dir < 2; dc.dir++) {
			sl_tcp_half_flush(&f->half[dc.dir], &seg_pool, on_stream, &dc);
			sl_tcp_half_release(&f->half[dc.dir], &seg_pool);
		}
		sl_app_half_release(&f->app, &app_pool);
	}
	assert_int_equal(seg_pool.nfree, NCHUNKS);
	assert_int_equal(app_pool.nfree, NBUF);
}

static void free_run(struct run *r)
{
	for (int i = 0; i < MAXFLOWS; i++) {
		free(r->flow[i].stream[0]);
		free(r->flow[i].stream[1]);
	}
	free(r);
}

static int count_field(const struct run *r, int field, const char *v)
{
	int n = 0;

	for (int i = 0; i < r->nfield; i++)
		if (r->field[i].field == field && strcmp(r->field[i].v, v) == 0)
			n++;
	return n;
}

static struct run *new_run(void)
{
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	return r;
}

/* Every frame of every capture decodes. */
static void test_decode_all(void **state)
{
	char dir[4096];
	struct dirent *de;
	DIR *d;
	int ncap = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/fixtures/conformance", tu_src);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[8192];
		struct tu_cap c;
		FILE *fp;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/capture.pcap", dir, de->d_name);
		fp = fopen(path, "rb");
		if (fp == NULL)
			continue;
		fclose(fp);
		assert_int_equal(tu_cap_load(path, &c), 0);
		assert_true(c.n > 0);
		for (size_t i = 0; i < c.n; i++) {
			struct sl_pkt p;
			int rc = tu_cap_decode(&c, i, &p);

			if (rc != SL_DEC_OK)
				fail_msg("%s frame %zu: %s", de->d_name, i + 1,
					 sl_decode_result_name(rc));
			assert_true(p.ip_end <= c.f[i].len);
			assert_true((uint64_t)p.payload_off + p.payload_len <= p.ip_end);
			assert_true(p.l4proto == SL_PROTO_TCP || p.l4proto == SL_PROTO_UDP);
			assert_true(p.l4_off > 0);
		}
		tu_cap_free(&c);
		ncap++;
	}
	closedir(d);
	assert_true(ncap >= 12);
}

static void test_sni(void **state)
{
	struct run *r = new_run();

	(void)state;
	run_capture("sni-exact", r);
	assert_int_equal(count_field(r, SL_FIELD_SNI, "ftp.nluug.nl"), 1);
	assert_int_equal(r->nflows, 1);
	run_capture("sni-clienthello-split", r);
	assert_int_equal(count_field(r, SL_FIELD_SNI, "www.google.com"), 1);
	free_run(r);
}

static void test_http(void **state)
{
	struct run *r = new_run();
	int i, urls = 0;

	(void)state;
	run_capture("http-host-vlan-asymmetric", r);
	assert_int_equal(r->nflows, 1); /* tagged and untagged sides: one flow */
	assert_int_equal(count_field(r, SL_FIELD_HOST, "nx2500-242-4-server"), 1);
	for (i = 0; i < r->nfield; i++) {
		if (r->field[i].field != SL_FIELD_URL)
			continue;
		urls++;
		assert_string_equal(r->field[i].host, "nx2500-242-4-server");
		assert_string_equal(r->field[i].target,
				    "/malware/ppt/mal/51f14eb6c874686e5f593132cf0f742d.ppt");
	}
	assert_int_equal(urls, 1);

	run_capture("http-url-ipv6", r);
	assert_int_equal(count_field(r, SL_FIELD_HOST, "www.net1.bg"), 1);
	for (i = 0; i < r->nfield; i++)
		if (r->field[i].field == SL_FIELD_URL)
			break;
	assert_true(i < r->nfield);
	assert_string_equal(r->field[i].host, "www.net1.bg");
	assert_string_equal(r->field[i].target, "/cgi-bin/cart32.exe");
	free_run(r);
}

static void test_dns(void **state)
{
	struct run *r = new_run();

	(void)state;
	run_capture("dns-over-tcp", r);
	assert_int_equal(r->nflows, 2);
	assert_int_equal(count_field(r, SL_FIELD_DNS, "google.com"), 1);
	assert_int_equal(count_field(r, SL_FIELD_DNS, "aol.com"), 1);
	assert_int_equal(r->nfield, 2);

	run_capture("dns-query-exact", r);
	assert_int_equal(count_field(r, SL_FIELD_DNS, "google.com"), 1);
	run_capture("dns-dot-suffix", r);
	assert_int_equal(count_field(r, SL_FIELD_DNS, "www.download.windowsupdate.com"), 1);
	assert_int_equal(r->nfield, 1); /* the answer is not a query */
	run_capture("dns-label-boundary", r);
	assert_int_equal(count_field(r, SL_FIELD_DNS, "agoogle.com"), 2);
	run_capture("dns-subdomain-list", r);
	assert_int_equal(count_field(r, SL_FIELD_DNS, "mail.evil.com"), 1);
	assert_int_equal(count_field(r, SL_FIELD_DNS, "sub.mail.evil.com"), 1);
	assert_int_equal(count_field(r, SL_FIELD_DNS, "example.com"), 1);
	free_run(r);
}

static void test_stream_gap(void **state)
{
	struct run *r = new_run();
	struct flow *f;

	(void)state;
	run_capture("stream-gap", r);
	assert_int_equal(r->nflows, 1);
	f = &r->flow[0];
	assert_int_equal(f->nev[0], 2);
	assert_int_equal(f->ev[0][0].off, 0);
	assert_int_equal(f->ev[0][0].len, 4);
	assert_int_equal(f->ev[0][0].gap, 0);
	assert_int_equal(f->ev[0][1].off, 8);
	assert_int_equal(f->ev[0][1].len, 4);
	assert_int_equal(f->ev[0][1].gap, 1);
	assert_int_equal(f->slen[0], 8);
	assert_memory_equal(f->stream[0], "VERYDATA", 8);
	assert_int_equal(f->half[0].delivered, 12);
	free_run(r);
}

static void test_payload_cases(void **state)
{
	struct run *r = new_run();

	(void)state;
	run_capture("ipv6-midstream", r);
	assert_int_equal(r->nflows, 1);
	assert_true(tu_memmem(r->flow[0].stream[0], r->flow[0].slen[0], "hello") ||
		    tu_memmem(r->flow[0].stream[1], r->flow[0].slen[1], "hello"));
	run_capture("payload-uid-root", r);
	assert_true(tu_memmem(r->flow[0].stream[1], r->flow[0].slen[1], "uid=0(root)"));
	assert_int_equal(r->flow[0].gaps[0] + r->flow[0].gaps[1], 0);
	assert_int_equal(count_field(r, SL_FIELD_URL, ""), 1);
	free_run(r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_all),
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_stream_gap),
		cmocka_unit_test(test_payload_cases),
	};

	tu_srcdir(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
