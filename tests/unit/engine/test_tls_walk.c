/* Unit tests of the TLS record walk (sl_tls_walk_*): which bytes of each
 * direction are ciphertext, whatever the segment boundaries; that one side
 * alone cannot make its bytes pass as ciphertext; that anything off the
 * framing (first record, content type, version, length, gap, mid-stream)
 * turns the walk off and leaves the rest in plain sight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/app.h"
#include "testutil.h"

#define MAXS 70000

struct side {
	uint8_t d[MAXS];
	uint8_t enc[MAXS];  /* expected: 1 where the byte is ciphertext */
	uint32_t n;
};

/* Append a record of content type ct and n body bytes; its first body
 * byte is first (a handshake type), the rest a pattern. */
static void rec(struct side *s, uint8_t ct, uint8_t minor, uint32_t n, uint8_t first, int enc)
{
	uint8_t *o = s->d + s->n;

	assert_true(s->n + 5 + n <= MAXS);
	o[0] = ct;
	o[1] = 3;
	o[2] = minor;
	o[3] = (uint8_t)(n >> 8);
	o[4] = (uint8_t)n;
	for (uint32_t i = 0; i < n; i++)
		o[5 + i] = (uint8_t)(i * 7 + 1);
	if (n)
		o[5] = first;
	memset(s->enc + s->n, enc, 5 + n);
	s->n += 5 + n;
}

static void raw(struct side *s, const char *text, int enc)
{
	uint32_t n = (uint32_t)strlen(text);

	memcpy(s->d + s->n, text, n);
	memset(s->enc + s->n, enc, n);
	s->n += n;
}

/* Deliver s->d[from, to) in chunks of `chunk` bytes (stream offsets
 * continuing from `from`); check every run against s->enc. */
static void feed(struct sl_tls_walk *t, const struct sl_tls_walk *peer, struct side *s,
		 uint32_t from, uint32_t to, uint32_t chunk, int client)
{
	uint32_t pos = from;

	while (pos < to) {
		uint32_t end = pos + chunk < to ? pos + chunk : to;

		sl_tls_walk_begin(t, pos, 0);
		while (pos < end) {
			int enc = -1;
			uint32_t n = sl_tls_walk_run(t, peer, s->d + pos, end - pos, client, &enc);

			assert_true(n >= 1 && n <= end - pos);
			assert_true(enc == 0 || enc == 1);
			for (uint32_t i = 0; i < n; i++) {
				if (s->enc[pos + i] != enc)
					fail_msg("byte %u (%s): ciphertext %d, expected %d (chunk %u)",
						 pos + i, client ? "client" : "server", enc,
						 s->enc[pos + i], chunk);
			}
			pos += n;
		}
	}
}

static struct side cli, srv;

/* An empty exchange: both sides' bytes and walks from the start. */
static void fresh(struct sl_tls_walk *tc, struct sl_tls_walk *ts)
{
	cli.n = srv.n = 0;
	sl_tls_walk_init(tc);
	sl_tls_walk_init(ts);
}

static const uint32_t chunks[] = { 1, 2, 3, 4, 5, 6, 7, 13, 100, 1460, MAXS };

/* Both hellos (ClientHello 200 bytes, ServerHello 90), delivered in
 * chunks of `chunk`: the walks are where application data is told apart.
 * Returns the server stream's offset after its hello. */
static uint32_t hellos(struct sl_tls_walk *tc, struct sl_tls_walk *ts, uint32_t chunk)
{
	fresh(tc, ts);
	rec(&cli, 22, 1, 200, 1, 0);
	rec(&srv, 22, 3, 90, 2, 0);
	feed(tc, ts, &cli, 0, cli.n, chunk, 1);
	feed(ts, tc, &srv, 0, srv.n, chunk, 0);
	return srv.n;
}

/* A TLS 1.3-like exchange: hello, the server's flight with CCS and
 * encrypted records, then application data both ways. */
static void test_handshake_then_app_data(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		struct sl_tls_walk tc, ts;
		uint32_t c1, s1;

		fresh(&tc, &ts);
		rec(&cli, 22, 1, 512, 1, 0);              /* ClientHello */
		c1 = cli.n;
		rec(&srv, 22, 3, 90, 2, 0);               /* ServerHello */
		rec(&srv, 20, 3, 1, 1, 0);                /* change_cipher_spec */
		rec(&srv, 23, 3, 2000, 0x55, 1);          /* encrypted flight */
		rec(&srv, 23, 3, 80, 0x66, 1);
		s1 = srv.n;
		rec(&cli, 20, 3, 1, 1, 0);
		rec(&cli, 23, 3, 53, 0x17, 1);            /* client Finished */
		rec(&cli, 23, 3, 300, 0x17, 1);           /* request */
		rec(&srv, 23, 3, 16384, 0x17, 1);         /* response */
		rec(&srv, 23, 3, 18432, 0x17, 1);         /* the largest record allowed */
		rec(&srv, 21, 3, 2, 1, 0);                /* a (TLS 1.2 style) alert */
		rec(&srv, 23, 3, 7, 0x17, 1);

		feed(&tc, &ts, &cli, 0, c1, chunks[k], 1);
		feed(&ts, &tc, &srv, 0, s1, chunks[k], 0);
		feed(&tc, &ts, &cli, c1, cli.n, chunks[k], 1);
		feed(&ts, &tc, &srv, s1, srv.n, chunks[k], 0);
		assert_true(tc.flags & SL_TLS_WALK_HELLO);
		assert_true(ts.flags & SL_TLS_WALK_HELLO);
		assert_false(tc.flags & SL_TLS_WALK_OFF);
		assert_false(ts.flags & SL_TLS_WALK_OFF);
	}
}

/* Application data before the server's hello (0-RTT) is scanned. */
static void test_before_server_hello(void **state)
{
	struct sl_tls_walk tc, ts;

	(void)state;
	fresh(&tc, &ts);
	rec(&cli, 22, 1, 300, 1, 0);
	rec(&cli, 23, 3, 200, 0x17, 0);
	feed(&tc, &ts, &cli, 0, cli.n, 7, 1);
	assert_false(tc.flags & SL_TLS_WALK_OFF);
}

/* A client that sends a ClientHello, then records of "application data"
 * to a server that answers in plain HTTP: nothing passes as ciphertext,
 * either way. */
static void test_server_not_tls(void **state)
{
	struct sl_tls_walk tc, ts;
	uint32_t c1;

	(void)state;
	fresh(&tc, &ts);
	rec(&cli, 22, 1, 300, 1, 0);
	c1 = cli.n;
	raw(&srv, "HTTP/1.1 200 OK\r\nContent-Length: 68\r\n\r\n"
		  "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*", 0);
	rec(&cli, 23, 3, 100, 0x17, 0);
	feed(&tc, &ts, &cli, 0, c1, 5, 1);
	feed(&ts, &tc, &srv, 0, srv.n, 5, 0);
	assert_true(ts.flags & SL_TLS_WALK_OFF);
	feed(&tc, &ts, &cli, c1, cli.n, 5, 1);
}

/* A server flight that opens with a ServerHello answering a client that
 * did not send a ClientHello: scanned. So is a client whose first record
 * is a ServerHello (roles swapped). */
static void test_one_sided(void **state)
{
	struct sl_tls_walk tc, ts;

	(void)state;
	fresh(&tc, &ts);
	raw(&cli, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", 0);
	rec(&srv, 22, 3, 90, 2, 0);
	rec(&srv, 23, 3, 500, 0x17, 0);
	feed(&tc, &ts, &cli, 0, cli.n, 3, 1);
	feed(&ts, &tc, &srv, 0, srv.n, 3, 0);
	assert_true(tc.flags & SL_TLS_WALK_OFF);

	fresh(&tc, &ts);
	rec(&cli, 22, 3, 90, 2, 0);                 /* a ServerHello from the client */
	rec(&cli, 23, 3, 50, 0x17, 0);
	feed(&tc, &ts, &cli, 0, cli.n, 1000, 1);
	assert_true(tc.flags & SL_TLS_WALK_OFF);
	assert_false(tc.flags & SL_TLS_WALK_HELLO);
}

/* Framing that breaks after the handshake: the ciphertext before the bad
 * header byte passes, that byte and all after it are scanned, whatever
 * the segment boundaries. */
static void test_framing_lost(void **state)
{
	static const struct { uint8_t b[5]; uint32_t bad; } hdr[] = {
		{ { 23, 9, 3, 0, 10 }, 1 },       /* version */
		{ { 23, 3, 5, 0, 10 }, 2 },       /* minor version */
		{ { 23, 3, 3, 0, 0 }, 4 },        /* empty record */
		{ { 23, 3, 3, 0x48, 1 }, 4 },     /* 18433 bytes: too long */
		{ { 19, 3, 3, 0, 10 }, 0 },       /* content type */
		{ { 25, 3, 3, 0, 10 }, 0 },
	};

	(void)state;
	for (size_t h = 0; h < sizeof(hdr) / sizeof(hdr[0]); h++) {
		for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			struct sl_tls_walk tc, ts;
			uint32_t s1 = hellos(&tc, &ts, chunks[k]), at;

			rec(&srv, 23, 3, 1000, 0x17, 1);
			at = srv.n;
			memcpy(srv.d + at, hdr[h].b, 5);
			memset(srv.enc + at, 1, hdr[h].bad);
			memset(srv.enc + at + hdr[h].bad, 0, 5 - hdr[h].bad);
			srv.n += 5;
			rec(&srv, 23, 3, 100, 0x17, 0);     /* after the loss: scanned */
			feed(&ts, &tc, &srv, s1, srv.n, chunks[k], 0);
			assert_true(ts.flags & SL_TLS_WALK_OFF);
		}
	}
}

/* A gap, or a first delivery that is not at the stream's start. */
static void test_gap_and_midstream(void **state)
{
	struct sl_tls_walk tc, ts;
	uint32_t s1;
	int enc;

	(void)state;
	s1 = hellos(&tc, &ts, 100);
	rec(&srv, 23, 3, 1000, 0x17, 0);
	sl_tls_walk_begin(&ts, s1 + 10, 1);         /* bytes were lost */
	assert_int_equal(sl_tls_walk_run(&ts, &tc, srv.d + s1, srv.n - s1, 0, &enc),
			 srv.n - s1);
	assert_int_equal(enc, 0);
	assert_true(ts.flags & SL_TLS_WALK_OFF);

	sl_tls_walk_init(&ts);
	sl_tls_walk_begin(&ts, 4000, 0);             /* picked up mid-stream */
	assert_int_equal(sl_tls_walk_run(&ts, &tc, srv.d + s1, srv.n - s1, 0, &enc),
			 srv.n - s1);
	assert_int_equal(enc, 0);
	assert_true(ts.flags & SL_TLS_WALK_OFF);
}

/* Random bytes never pass as ciphertext without both hellos. */
static void test_random(void **state)
{
	uint64_t r = 0x5eed;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct sl_tls_walk tc, ts;
		uint32_t n = 1 + (uint32_t)(tu_rand(&r) % 4000);
		uint32_t pos = 0;

		sl_tls_walk_init(&tc);
		sl_tls_walk_init(&ts);
		for (uint32_t i = 0; i < n; i++)
			srv.d[i] = (uint8_t)tu_rand(&r);
		if (round & 1)
			srv.d[0] = 22;
		while (pos < n) {
			uint32_t end = pos + 1 + (uint32_t)(tu_rand(&r) % 64);
			int enc;

			if (end > n)
				end = n;
			sl_tls_walk_begin(&ts, pos, 0);
			while (pos < end) {
				uint32_t k = sl_tls_walk_run(&ts, &tc, srv.d + pos, end - pos, 0,
							     &enc);

				assert_true(k >= 1 && k <= end - pos);
				assert_int_equal(enc, 0);
				pos += k;
			}
		}
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_then_app_data),
		cmocka_unit_test(test_before_server_hello),
		cmocka_unit_test(test_server_not_tls),
		cmocka_unit_test(test_one_sided),
		cmocka_unit_test(test_framing_lost),
		cmocka_unit_test(test_gap_and_midstream),
		cmocka_unit_test(test_random),
	};

	tu_srcdir(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
