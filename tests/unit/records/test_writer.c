/* Unit tests for the records writer: record format and seal, chain across
 * segments, rotation by size and by (injected) time, reopen, durability at
 * close, loss events, pcap capture, write errors (RLIMIT_FSIZE, which
 * applies to root too), open errors, crash recovery and retention. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>

#include "helpers.h"
#include "sluice/policy.h"

static int64_t at(const char *s)
{
	int64_t ns = 0;

	assert_int_equal(sl_records_parse_time(s, false, &ns), 0);
	return ns;
}

static json_object *jline(const char *buf, unsigned n)
{
	char *l = th_line(buf, n);
	json_object *o;

	assert_non_null(l);
	o = json_tokener_parse(l);
	free(l);
	assert_non_null(o);
	return o;
}

static json_object *jget(json_object *o, const char *path)
{
	char buf[256], *save = NULL, *k;
	json_object *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (!json_object_object_get_ex(v, k, &v))
			return NULL;
	}
	return v;
}

static const char *jgets(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	return v ? json_object_get_string(v) : NULL;
}

static int64_t jgeti(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	assert_non_null(v);
	return json_object_get_int64(v);
}

/* The documented seal, recomputed independently: SHA-256 of the line
 * without its trailing ,"hash":"..." member (plus the closing brace). */
static void seal_of(const char *line, char out[65])
{
	size_t len = strlen(line);
	uint8_t md[32];
	unsigned mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	const char *p = strstr(line, ",\"hash\":\"");

	assert_non_null(p);
	assert_int_equal(len - (size_t)(p - line), 75);
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, line, (size_t)(p - line));
	EVP_DigestUpdate(c, "}", 1);
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static struct sl_records *open_opts(const char *dir, int64_t *now, uint64_t seg_bytes,
				    uint32_t seg_seconds, uint32_t retention, bool capture)
{
	struct sl_records_opts o = {
		.dir = dir,
		.segment_bytes = seg_bytes,
		.segment_seconds = seg_seconds,
		.retention_days = retention,
		.capture = capture,
		.clock_ns = th_clock,
		.clock_arg = now,
	};
	struct sl_records *w = NULL;

	assert_int_equal(sl_records_open(&w, &o), 0);
	return w;
}

static unsigned count_events(const char *dir)
{
	char segs[64][64];
	size_t n = th_segments(dir, segs, 64);
	unsigned events = 0;

	for (size_t i = 0; i < n; i++) {
		char *buf = th_read(dir, segs[i], NULL);
		const char *p = buf;

		assert_non_null(buf);
		while ((p = strstr(p, "\"seq\":")) != NULL) {
			events++;
			p++;
		}
		free(buf);
	}
	return events;
}

static void write_n(struct sl_records *w, int64_t *now, unsigned n)
{
	struct sl_event *ev = calloc(1, sizeof(*ev));

	for (unsigned i = 0; i < n; i++) {
		th_match(ev, &th_rule_a, *now, "192.0.2.10", (uint16_t)(40000 + i),
			 "198.51.100.7", 443, i + 1, SL_FIELD_SNI, "news.example");
		assert_int_equal(sl_records_write(w, ev), 0);
	}
	free(ev);
}

static void test_format_and_seal(void **state)
{
	char *dir = *state;
	int64_t now = at("2026-11-23T10:00:00Z");
	struct sl_event *ev = calloc(1, sizeof(*ev));
	struct sl_records *w = th_open(dir, &now, 0, 0);
	char segs[4][64], h[65], h2[65];
	json_object *o;
	char *buf, *l;
	size_t n;

	assert_non_null(w);
	th_match(ev, &th_rule_a, now + 1, "192.0.2.10", 40001, "198.51.100.7", 443,
		 0xdeadbeef, SL_FIELD_SNI, "news.example");
	ev->nvlan = 2;
	ev->vlan[0] = 100;
	ev->vlan[1] = 200;
	assert_int_equal(sl_records_write(w, ev), 0);
	th_admin(ev, now + 2, "policy reloaded");
	assert_int_equal(sl_records_write(w, ev), 0);
	assert_int_equal(sl_records_note_lost(w, 2, "event ring full"), 0);
	assert_int_equal(sl_records_close(w), 0);

	n = th_segments(dir, segs, 4);
	assert_int_equal(n, 1);
	assert_string_equal(segs[0], "seg-20261123T100000Z-000000.jsonl");
	buf = th_read(dir, segs[0], NULL);
	assert_non_null(buf);
	assert_int_equal(th_count_lines(buf), 5);

	o = jline(buf, 1);
	assert_string_equal(jgets(o, "type"), "header");
	assert_string_equal(jgets(o, "format"), "sluice-records/1");
	assert_string_equal(jgets(o, "segment"), segs[0]);
	assert_int_equal(jgeti(o, "prev_seq"), 0);
	assert_string_equal(jgets(o, "prev_hash"),
			    "0000000000000000000000000000000000000000000000000000000000000000");
	assert_true(json_object_is_type(jget(o, "prev_segment"), json_type_null));
	json_object_put(o);

	o = jline(buf, 2);
	assert_int_equal(jgeti(o, "seq"), 1);
	assert_string_equal(jgets(o, "type"), "match");
	assert_string_equal(jgets(o, "time"), "2026-11-23T10:00:00.000000001Z");
	assert_int_equal(jgeti(o, "time_ns"), now + 1);
	assert_int_equal(jgeti(o, "rule.id"), 101);
	assert_string_equal(jgets(o, "rule.name"), "news-a");
	assert_string_equal(jgets(o, "rule.category"), "news");
	assert_string_equal(jgets(o, "rule.basis"), "PRC Cybersecurity Law art. 47");
	assert_true(json_object_get_boolean(jget(o, "rule.report")));
	assert_string_equal(jgets(o, "rule.authority.id"), "cac");
	assert_string_equal(jgets(o, "rule.authority.name"), "Cyberspace Administration");
	assert_string_equal(jgets(o, "rule.authority.order"), "CAC-2026-17");
	assert_string_equal(jgets(o, "action"), sl_action_name(SL_ACT_RESET));
	assert_string_equal(jgets(o, "mode"), sl_mode_name(SL_MODE_ENFORCE));
	assert_string_equal(jgets(o, "policy.name"), "national-list");
	assert_string_equal(jgets(o, "policy.revision"), "2026-11-01");
	assert_string_equal(jgets(o, "policy.digest"), th_meta.digest_hex);
	assert_string_equal(jgets(o, "flow.id"), "00000000deadbeef");
	assert_string_equal(jgets(o, "flow.proto"), "tcp");
	assert_string_equal(jgets(o, "flow.client"), "192.0.2.10");
	assert_int_equal(jgeti(o, "flow.client_port"), 40001);
	assert_string_equal(jgets(o, "flow.server"), "198.51.100.7");
	assert_int_equal(jgeti(o, "flow.server_port"), 443);
	assert_int_equal(json_object_array_length(jget(o, "flow.vlan")), 2);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(jget(o, "flow.vlan"), 1)), 200);
	assert_string_equal(jgets(o, "flow.dir"), "c2s");
	assert_string_equal(jgets(o, "field"), sl_field_name(SL_FIELD_SNI));
	assert_string_equal(jgets(o, "value"), "news.example");
	assert_int_equal(jgeti(o, "value_len"), 12);
	assert_false(json_object_get_boolean(jget(o, "value_trunc")));
	assert_int_equal(jgeti(o, "lcore"), 2);
	assert_null(jget(o, "capture"));
	assert_string_equal(jgets(o, "prev"),
			    "0000000000000000000000000000000000000000000000000000000000000000");
	l = th_line(buf, 2);
	seal_of(l, h);
	assert_string_equal(jgets(o, "hash"), h);
	free(l);
	json_object_put(o);

	o = jline(buf, 3);
	assert_string_equal(jgets(o, "type"), "admin");
	assert_string_equal(jgets(o, "text"), "policy reloaded");
	assert_string_equal(jgets(o, "prev"), h);
	l = th_line(buf, 3);
	seal_of(l, h2);
	free(l);
	json_object_put(o);

	o = jline(buf, 4);
	assert_string_equal(jgets(o, "type"), "loss");
	assert_int_equal(jgeti(o, "count"), 2);
	assert_string_equal(jgets(o, "cause"), "event ring full");
	assert_string_equal(jgets(o, "prev"), h2);
	l = th_line(buf, 4);
	seal_of(l, h);
	free(l);
	json_object_put(o);

	o = jline(buf, 5);
	assert_string_equal(jgets(o, "type"), "trailer");
	assert_int_equal(jgeti(o, "events"), 3);
	assert_int_equal(jgeti(o, "first_seq"), 1);
	assert_int_equal(jgeti(o, "last_seq"), 3);
	assert_string_equal(jgets(o, "last_hash"), h);
	assert_string_equal(jgets(o, "reason"), "close");
	json_object_put(o);
	free(buf);

	assert_int_equal(th_verify(dir, NULL, 0, NULL, 0), 0);
	free(ev);
}

static void test_rotation_by_size(void **state)
{
	char *dir = *state;
	int64_t now = at("2026-11-23T10:00:00Z");
	struct sl_records *w = th_open(dir, &now, 4096, 0);
	struct sl_records_stats st;
	struct sl_records_verify_result r;
	char segs[64][64];
	size_t n;

	write_n(w, &now, 40);
	sl_records_get_stats(w, &st);
	assert_true(st.segments >= 5);
	assert_int_equal(sl_records_close(w), 0);
	n = th_segments(dir, segs, 64);
	assert_int_equal(n, st.segments);
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		char *buf = th_read(dir, segs[i], &len);

		/* at most one event past the limit, plus the trailer */
		assert_true(len < 4096 + 2 * 1024);
		if (i > 0) {
			json_object *o = jline(buf, 1);

			assert_string_equal(jgets(o, "prev_segment"), segs[i - 1]);
			assert_true(json_object_get_boolean(jget(o, "prev_closed")));
			json_object_put(o);
		}
		free(buf);
	}
	assert_int_equal(sl_records_verify(dir, NULL, &r), 0);
	assert_int_equal(r.events, 40);
	assert_int_equal(r.segments, n);
	assert_int_equal(r.last_seq, 40);
	sl_records_verify_free(&r);
}

static void test_rotation_by_time(void **state)
{
	char *dir = *state;
	int64_t now = at("2026-11-23T10:00:00Z");
	struct sl_records *w = th_open(dir, &now, 0, 60);
	char segs[8][64];

	write_n(w, &now, 1);
	now += 30 * NS_PER_S;
	write_n(w, &now, 1);
	assert_int_equal(th_segments(dir, segs, 8), 1);
	now += 31 * NS_PER_S; /* 61 s after the segment opened: rotate on write */
	write_n(w, &now, 1);
	assert_int_equal(th_segments(dir, segs, 8), 2);
	assert_string_equal(segs[1], "seg-20261123T100101Z-000001.jsonl");
	now += 61 * NS_PER_S; /* and from maintain */
	assert_int_equal(sl_records_maintain(w, 0), 0);
	assert_int_equal(th_segments(dir, segs, 8), 3);
	assert_string_equal(segs[2], "seg-20261123T100202Z-000002.jsonl");
	now += 61 * NS_PER_S; /* an empty segment is not rotated */
	assert_int_equal(sl_records_maintain(w, 0), 0);
	assert_int_equal(th_segments(dir, segs, 8), 3);
	assert_int_equal(sl_records_close(w), 0);
	assert_int_equal(th_verify(dir, NULL, 0, NULL, 0), 0);
}

static void test_reopen_continues_chain(void **state)
{
	char *dir = *state;
	int64_t now = at("2026-11-23T10:00:00Z");
	struct sl_records *w = th_open(dir, &now, 0, 0);
	struct sl_records_stats st;
	struct sl_records_verify_result r;
	char segs[4][64], head[65];
	json_object *o;
	char *buf;

	write_n(w, &now, 5);
	sl_records_get_stats(w, &st); /* buffered: nothing on disk yet */
	assert_int_equal(st.seq, 0);
	assert_int_equal(sl_records_flush(w, true), 0);
	sl_records_get_stats(w, &st);
	assert_int_equal(st.seq, 5);
	memcpy(head, st.head, 65);
	assert_int_equal(sl_records_close(w), 0);

	now += NS_PER_S;
	w = th_open(dir, &now, 0, 0);
	assert_non_null(w);
	sl_records_get_stats(w, &st);
	assert_int_equal(st.seq, 5);
	assert_string_equal(st.head, head);
	write_n(w, &now, 5);
	assert_int_equal(sl_records_close(w), 0);

	assert_int_equal(th_segments(dir, segs, 4), 2);
	buf = th_read(dir, segs[1], NULL);
	o = jline(buf, 1);
	assert_string_equal(jgets(o, "prev_segment"), segs[0]);
	assert_int_equal(jgeti(o, "prev_seq"), 5);
	assert_string_equal(jgets(o, "prev_hash"), head);
	assert_true(json_object_get_boolean(jget(o, "prev_closed")));
	json_object_put(o);
	o = jline(buf, 2);
	assert_int_equal(jgeti(o, "seq"), 6);
	assert_string_equal(jgets(o, "prev"), head);
	json_object_put(o);
	free(buf);

	assert_int_equal(sl_records_verify(dir, NULL, &r), 0);
	assert_int_equal(r.events, 10);
	assert_int_equal(r.first_seq, 1);
	assert_int_equal(r.last_seq, 10);
	sl_records_verify_free(&r);
}

static void test_all_on_disk_after_close(void **state)
{
	char *dir = *state;
	int64_t now = at("2026-11-23T10:00:00Z");
	struct sl_records *w = th_open(dir, &now, 0, 0);
	struct sl_records_stats st;

	write_n(w, &now, 1000);
	sl_records_get_stats(w, &st);
	assert_true(st.written < 1000); /* some still buffered */
	assert_int_equal(sl_records_flush(w, false), 0);
	assert_int_equal(count_events(dir), 1000);
	write_n(w, &now, 7);
	assert_int_equal(sl_records_close(w), 0);
	assert_int_equal(count_events(dir), 1007);
	assert_int_equal(th_verify(dir, NULL, 0, NULL, 0), 0);
}

static void test_loss_events(void **state)
{
	char *dir = *state;
	int64_t now = at("2026-11-23T10:00:00Z");
	struct sl_records *w = th_open(dir, &now, 0, 0);
	struct sl_event *ev = calloc(1, sizeof(*ev));
	struct sl_records_stats st;
	char segs[2][64];
	json_object *o;
	char *buf;

	assert_int_equal(sl_records_note_lost(w, 5, "event pool empty"), 0);
	ev->kind = SL_EVT_LOSS;
	ev->count = 2;
	ev->time_ns = (uint64_t)(now + 5);
	snprintf(ev->text, sizeof(ev->text), "ring full");
	assert_int_equal(sl_records_write(w, ev), 0);
	ev->kind = 99;
	assert_int_equal(sl_records_write(w, ev), -EINVAL);
	sl_records_get_stats(w, &st);
	assert_int_equal(st.lost, 7);
	assert_int_equal(st.write_errors, 0);
	assert_int_equal(sl_records_close(w), 0);
	th_segments(dir, segs, 2);
	buf = th_read(dir, segs[0], NULL);
	o = jline(buf, 2);
	assert_string_equal(jgets(o, "type"), "loss");
	assert_int_equal(jgeti(o, "count"), 5);
	assert_string_equal(jgets(o, "cause"), "event pool empty");
	assert_int_equal(jgeti(o, "time_ns"), now);
	json_object_put(o);
	o = jline(buf, 3);
	assert_int_equal(jgeti(o, "count"), 2);
	assert_string_equal(jgets(o, "cause"), "ring full");
	json_object_put(o);
	free(buf);
	assert_int_equal(th_verify(dir, NULL, 0, NULL, 0), 0);
	free(ev);
}

static void test_capture(void **state)
{
	char *dir = *state;
	int64_t now = at("2026-11-23T10:00:00Z");
	struct sl_records *w = open_opts(dir, &now, 0, 0, 0, true);
	struct sl_event *ev = calloc(1, sizeof(*ev));
	struct sl_records_verify_result r;
	char segs[2][64], pname[64], errbuf[PCAP_ERRBUF_SIZE], *path = NULL, err[512];
	struct pcap_pkthdr *h;
	const u_char *data;
	json_object *o;
	pcap_t *p;
	char *buf;
	size_t plen;

	for (int i = 0; i < 4; i++) {
		th_match(ev, &th_rule_a, now + i, "192.0.2.10", 40001, "198.51.100.7", 443,
			 7, SL_FIELD_SNI, "news.example");
		if (i != 2) {
			ev->pkt_len = 60;
			ev->pkt_orig_len = 1514;
			ev->pkt_time_ns = (uint64_t)(now + 1000 + i);
			for (int k = 0; k < 60; k++)
				ev->pkt[k] = (uint8_t)(k * 7 + i);
		}
		assert_int_equal(sl_records_write(w, ev), 0);
	}
	assert_int_equal(sl_records_close(w), 0);
	th_segments(dir, segs, 2);
	snprintf(pname, sizeof(pname), "%.27s.pcap", segs[0]);
	buf = th_read(dir, segs[0], NULL);
	o = jline(buf, 2);
	assert_string_equal(jgets(o, "capture.file"), pname);
	assert_int_equal(jgeti(o, "capture.index"), 1);
	assert_int_equal(jgeti(o, "capture.caplen"), 60);
	assert_int_equal(jgeti(o, "capture.len"), 1514);
	assert_int_equal(strlen(jgets(o, "capture.sha256")), 64);
	json_object_put(o);
	o = jline(buf, 4);
	assert_null(jget(o, "capture"));
	json_object_put(o);
	o = jline(buf, 5);
	assert_int_equal(jgeti(o, "capture.index"), 3);
	json_object_put(o);
	free(buf);

	assert_true(asprintf(&path, "%s/%s", dir, pname) > 0);
	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	for (int i = 0; i < 3; i++) {
		int src = i == 2 ? 3 : i;

		assert_int_equal(pcap_next_ex(p, &h, &data), 1);
		assert_int_equal(h->caplen, 60);
		assert_int_equal(h->len, 1514);
		assert_int_equal((int64_t)h->ts.tv_sec * NS_PER_S + h->ts.tv_usec, now + 1000 + src);
		assert_int_equal(data[1], (uint8_t)(7 + src));
	}
	assert_int_not_equal(pcap_next_ex(p, &h, &data), 1);
	pcap_close(p);
	free(path);

	assert_int_equal(sl_records_verify(dir, NULL, &r), 0);
	assert_int_equal(r.captures, 3);
	sl_records_verify_free(&r);

	/* alter one byte of the second packet: verify notices */
	buf = th_read(dir, pname, &plen);
	assert_true(plen == 24 + 3 * (16 + 60));
	buf[24 + 16 + 60 + 16 + 5] ^= 1;
	th_write(dir, pname, buf, plen);
	free(buf);
	assert_int_equal(th_verify(dir, err, sizeof(err), NULL, 0), -EBADMSG);
	assert_non_null(strstr(err, ".pcap"));
	assert_non_null(strstr(err, "packet 2"));
	assert_non_null(strstr(err, "altered"));
	free(ev);
}

static void test_write_errors(void **state)
{
	char *dir = *state;
	int64_t now = at("2026-11-23T10:00:00Z");
	struct sl_records *w = th_open(dir, &now, 0, 0);
	struct sl_records_stats st;
	struct rlimit old, lim;
	struct stat sb;
	char segs[4][64], *path = NULL, notes[2048];
	char *buf;
	int rc;

	signal(SIGXFSZ, SIG_IGN);
	write_n(w, &now, 2);
	assert_int_equal(sl_records_flush(w, false), 0);
	th_segments(dir, segs, 4);
	assert_true(asprintf(&path, "%s/%s", dir, segs[0]) > 0);
	assert_int_equal(stat(path, &sb), 0);

	/* the file may grow by 1000 bytes only: like a full disk */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size + 1000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	write_n(w, &now, 10); /* buffered */
	rc = sl_records_flush(w, false);
	assert_int_equal(rc, -EFBIG);
	sl_records_get_stats(w, &st);
	assert_int_equal(st.write_errors, 10);
	assert_int_equal(st.seq, 2); /* nothing of the failed write is chained */
	assert_int_equal(st.written, 2);
	/* the segment was cut back to its last good line */
	assert_int_equal(stat(path, &sb), 0);
	buf = th_read(dir, segs[0], NULL);
	assert_int_equal(th_count_lines(buf), 3);
	assert_int_equal(strlen(buf), (size_t)sb.st_size);
	free(buf);
	/* no new segment before the retry delay: counted, no crash */
	{
		struct sl_event *ev = calloc(1, sizeof(*ev));

		th_match(ev, &th_rule_a, now, "192.0.2.10", 1, "198.51.100.7", 443, 1,
			 SL_FIELD_SNI, "x.example");
		assert_true(sl_records_write(w, ev) < 0);
		free(ev);
	}
	sl_records_get_stats(w, &st);
	assert_int_equal(st.write_errors, 11);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);

	/* space again: after the retry delay a new segment opens and records
	 * the loss in the chain */
	now += 2 * NS_PER_S;
	write_n(w, &now, 1);
	assert_int_equal(sl_records_close(w), 0);
	assert_int_equal(th_segments(dir, segs, 4), 2);
	buf = th_read(dir, segs[1], NULL);
	{
		json_object *o = jline(buf, 1);

		assert_false(json_object_get_boolean(jget(o, "prev_closed")));
		assert_int_equal(jgeti(o, "prev_seq"), 2);
		json_object_put(o);
		o = jline(buf, 2);
		assert_string_equal(jgets(o, "type"), "loss");
		assert_int_equal(jgeti(o, "seq"), 3);
		assert_int_equal(jgeti(o, "count"), 11);
		assert_non_null(strstr(jgets(o, "cause"), "write error"));
		json_object_put(o);
		o = jline(buf, 3);
		assert_string_equal(jgets(o, "type"), "match");
		assert_int_equal(jgeti(o, "seq"), 4);
		json_object_put(o);
	}
	free(buf);
	assert_int_equal(th_verify(dir, NULL, 0, notes, sizeof(notes)), 0);
	assert_non_null(strstr(notes, "not closed cleanly"));
	free(path);
}

static void test_open_errors(void **state)
{
	char *dir = *state;
	char *file = NULL, *sub = NULL;
	struct sl_records_opts o = { 0 };
	struct sl_records *w = (struct sl_records *)&o, *w2 = NULL;
	int64_t now = at("2026-11-23T10:00:00Z");

	assert_true(asprintf(&file, "%s/file", dir) > 0);
	assert_true(asprintf(&sub, "%s/file/sub", dir) > 0);
	assert_int_equal(th_write(dir, "file", "x", 1), 0);
	o.dir = file;
	assert_int_equal(sl_records_open(&w, &o), -ENOTDIR);
	assert_null(w);
	o.dir = sub;
	assert_int_equal(sl_records_open(&w, &o), -ENOTDIR);
	o.dir = NULL;
	assert_int_equal(sl_records_open(&w, &o), -EINVAL);
	assert_int_equal(sl_records_close(NULL), 0);

	/* one writer per directory */
	w = th_open(dir, &now, 0, 0);
	assert_non_null(w);
	o.dir = dir;
	assert_int_equal(sl_records_open(&w2, &o), -EBUSY);
	assert_int_equal(sl_records_close(w), 0);
	assert_int_equal(sl_records_open(&w2, &o), 0);
	assert_int_equal(sl_records_close(w2), 0);
	free(file);
	free(sub);
}

static void test_crash_recovery(void **state)
{
	char *dir = *state;
	int64_t now = at("2026-11-23T10:00:00Z");
	struct sl_records_stats st;
	char segs[4][64], err[1024], notes[2048];
	struct sl_records *w;
	int status = 0;
	pid_t pid;
	char *buf;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static const char torn[] = "{\"seq\":4,\"type\":\"ma";

		w = th_open(dir, &now, 0, 0);
		if (w == NULL)
			_exit(1);
		write_n(w, &now, 3);
		sl_records_flush(w, false);
		th_segments(dir, segs, 4);
		buf = th_read(dir, segs[0], NULL);
		if (buf == NULL)
			_exit(1);
		{
			size_t l = strlen(buf);
			char *nb = malloc(l + sizeof(torn));

			memcpy(nb, buf, l);
			memcpy(nb + l, torn, sizeof(torn) - 1);
			th_write(dir, segs[0], nb, l + sizeof(torn) - 1);
		}
		_exit(0); /* crash: no close */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* before a restart: the open segment has no trailer and no writer */
	assert_int_equal(th_verify(dir, err, sizeof(err), NULL, 0), -EBADMSG);
	assert_non_null(strstr(err, "no trailer and no writer is running"));

	now += NS_PER_S;
	w = th_open(dir, &now, 0, 0);
	assert_non_null(w);
	sl_records_get_stats(w, &st);
	assert_int_equal(st.seq, 4); /* 3 events + the recovery record */
	write_n(w, &now, 1);
	assert_int_equal(sl_records_close(w), 0);
	assert_int_equal(th_segments(dir, segs, 4), 2);
	buf = th_read(dir, segs[1], NULL);
	assert_non_null(strstr(buf, "\"what\":\"recovery\""));
	free(buf);
	assert_int_equal(th_verify(dir, err, sizeof(err), notes, sizeof(notes)), 0);
	assert_non_null(strstr(notes, "torn last line"));
	assert_non_null(strstr(notes, "not closed cleanly"));
}

/* The writer finds the chain end even behind more than 64 KiB of lines that
 * are not records (the end-of-segment scan falls back to reading it all). */
static void test_resume_after_garbage(void **state)
{
	char *dir = *state;
	int64_t now = at("2026-11-23T10:00:00Z");
	struct sl_records_stats st;
	struct sl_records *w;
	char segs[4][64], err[1024];
	int status = 0;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t len;
		char *buf, *nb;

		w = th_open(dir, &now, 0, 0);
		if (w == NULL)
			_exit(1);
		write_n(w, &now, 3);
		sl_records_flush(w, false);
		th_segments(dir, segs, 4);
		buf = th_read(dir, segs[0], &len);
		nb = malloc(len + 100000);
		if (buf == NULL || nb == NULL)
			_exit(1);
		memcpy(nb, buf, len);
		for (size_t i = 0; i < 9000; i++)
			memcpy(nb + len + 10 * i, "garbage..\n", 10);
		memcpy(nb + len + 90000, "{\"torn\":", 8);
		th_write(dir, segs[0], nb, len + 90008);
		_exit(0); /* crash: no close */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	now += NS_PER_S;
	w = th_open(dir, &now, 0, 0);
	assert_non_null(w);
	sl_records_get_stats(w, &st);
	assert_int_equal(st.seq, 4); /* 3 events + the recovery record */
	assert_int_equal(sl_records_close(w), 0);
	/* verify rejects the garbage, at its first line */
	assert_int_equal(th_verify(dir, err, sizeof(err), NULL, 0), -EBADMSG);
	if (strstr(err, ":5: not a sealed record line") == NULL)
		fail_msg("%s", err);
}

static void test_binary_values(void **state)
{
	static const uint8_t bin[] = { 'a', 0x00, 0xff, 0x1b, 'z' };
	char *dir = *state;
	int64_t now = at("2026-11-23T10:00:00Z");
	struct sl_records *w = th_open(dir, &now, 0, 0);
	struct sl_event *ev = calloc(1, sizeof(*ev));
	char segs[2][64], *buf, *l, *h;
	json_object *o;

	th_match(ev, &th_rule_a, now, "192.0.2.10", 1, "198.51.100.7", 443, 1,
		 SL_FIELD_PAYLOAD, NULL);
	memcpy(ev->value, bin, sizeof(bin));
	ev->value_len = sizeof(bin);
	ev->value_trunc = 1;
	assert_int_equal(sl_records_write(w, ev), 0);
	th_match(ev, &th_rule_a, now, "2001:db8::5", 2, "2001:db8::80", 443, 2,
		 SL_FIELD_HOST, "caf\xc3\xa9.example");
	assert_int_equal(sl_records_write(w, ev), 0);
	assert_int_equal(sl_records_close(w), 0);
	th_segments(dir, segs, 2);
	buf = th_read(dir, segs[0], NULL);
	o = jline(buf, 2);
	assert_string_equal(jgets(o, "value_b64"), "YQD/G3o=");
	assert_int_equal(json_object_get_string_len(jget(o, "value")), 8);
	assert_memory_equal(jgets(o, "value"), "a\0\\xff\x1bz", 8);
	assert_true(json_object_get_boolean(jget(o, "value_trunc")));
	json_object_put(o);
	o = jline(buf, 3);
	assert_string_equal(jgets(o, "value"), "caf\xc3\xa9.example");
	assert_null(jget(o, "value_b64"));
	json_object_put(o);

	/* the readable form never passes control bytes to a terminal */
	l = th_line(buf, 2);
	h = sl_records_format_line(l, strlen(l));
	assert_non_null(h);
	assert_null(strchr(h, 0x1b));
	assert_non_null(strstr(h, "payload=\"a\\x00\\xff\\x1bz\"..."));
	assert_non_null(strstr(h, "rule 101 \"news-a\""));
	free(h);
	free(l);
	l = th_line(buf, 3);
	h = sl_records_format_line(l, strlen(l));
	assert_non_null(strstr(h, "[2001:db8::5]:2 -> [2001:db8::80]:443"));
	free(h);
	free(l);
	l = th_line(buf, 1);
	assert_null(sl_records_format_line(l, strlen(l))); /* header: not an event */
	free(l);
	free(buf);
	assert_int_equal(th_verify(dir, NULL, 0, NULL, 0), 0);
	free(ev);
}

static void test_retention(void **state)
{
	char *dir = *state;
	int64_t base = (int64_t)time(NULL) * NS_PER_S;
	int64_t now = base;
	struct sl_records *w = open_opts(dir, &now, 0, 60, 1, false);
	struct sl_records_stats st;
	struct sl_records_verify_result r;
	char segs[8][64], notes[2048], err[1024];
	char *buf;

	write_n(w, &now, 2);
	now += 61 * NS_PER_S;
	write_n(w, &now, 2);
	now += 61 * NS_PER_S;
	write_n(w, &now, 2);
	assert_int_equal(sl_records_close(w), 0);
	assert_int_equal(th_segments(dir, segs, 8), 3);

	w = open_opts(dir, &now, 0, 60, 1, false);
	/* never earlier than the retention */
	assert_int_equal(sl_records_maintain(w, base / NS_PER_S + 12 * 3600), 0);
	assert_int_equal(th_segments(dir, segs, 8), 4);
	/* a day and an hour later: the three closed segments go */
	assert_int_equal(sl_records_maintain(w, base / NS_PER_S + 25 * 3600), 3);
	sl_records_get_stats(w, &st);
	assert_int_equal(st.removed, 3);
	assert_int_equal(sl_records_close(w), 0);
	assert_int_equal(th_segments(dir, segs, 8), 1);
	buf = th_read(dir, segs[0], NULL);
	assert_non_null(strstr(buf, "\"what\":\"retention\""));
	assert_int_equal(th_count_lines(buf), 1 + 3 + 1);
	free(buf);

	assert_int_equal(sl_records_verify(dir, NULL, &r), 0);
	assert_int_equal(r.events, 3);
	assert_int_equal(r.first_seq, 7);
	sl_records_verify_free(&r);
	assert_int_equal(th_verify(dir, err, sizeof(err), notes, sizeof(notes)), 0);
	assert_non_null(strstr(notes, "chain starts at seq 7: earlier segments removed by retention"));
}

/* Each test gets its own mkdtemp directory, removed even when it fails. */
static int dir_setup(void **state)
{
	*state = th_tmpdir();
	return *state ? 0 : -1;
}

static int dir_teardown(void **state)
{
	th_rmrf(*state);
	free(*state);
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dir_setup, dir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_format_and_seal),
		T(test_rotation_by_size),
		T(test_rotation_by_time),
		T(test_reopen_continues_chain),
		T(test_all_on_disk_after_close),
		T(test_loss_events),
		T(test_capture),
		T(test_write_errors),
		T(test_open_errors),
		T(test_crash_recovery),
		T(test_resume_after_garbage),
		T(test_binary_values),
		T(test_retention),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
