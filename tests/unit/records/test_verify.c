/* Unit tests for records verification: an intact directory passes; an
 * edited byte, a re-sealed edit, a dropped, reordered or appended line, a
 * deleted, renamed or truncated segment, and a missing first segment are
 * each reported as FILE:LINE: reason; --expect checks a chain head. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "helpers.h"
#include "sluice/policy.h"

struct fx {
	char *dir;
	char segs[16][64];
	size_t n;
};

/* 32 events over at least 3 closed segments, the newest not empty. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sl_event *ev = calloc(1, sizeof(*ev));
	int64_t now = 0;
	struct sl_records *w;

	sl_records_parse_time("2026-11-23T10:00:00Z", false, &now);
	f->dir = th_tmpdir();
	w = th_open(f->dir, &now, 8192, 0);
	if (w == NULL)
		return -1;
	for (unsigned i = 0; i < 32; i++) {
		th_match(ev, &th_rule_a, now + i, "192.0.2.10", (uint16_t)(40000 + i),
			 "198.51.100.7", 443, i + 1, SL_FIELD_SNI, "news.example");
		if (sl_records_write(w, ev) < 0)
			return -1;
	}
	if (sl_records_close(w) < 0)
		return -1;
	f->n = th_segments(f->dir, f->segs, 16);
	free(ev);
	*state = f;
	return f->n >= 3 ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	th_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void expect_error(struct fx *f, size_t seg, unsigned line, const char *what)
{
	char err[2048], want[256];

	assert_int_equal(th_verify(f->dir, err, sizeof(err), NULL, 0), -EBADMSG);
	snprintf(want, sizeof(want), "%s/%s:%u: ", f->dir, f->segs[seg], line);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error '%s' does not start with '%s'", err, want);
	if (strstr(err, what) == NULL)
		fail_msg("error '%s' does not say '%s'", err, what);
}

static void test_intact(void **state)
{
	struct fx *f = *state;
	struct sl_records_verify_result r;

	assert_int_equal(sl_records_verify(f->dir, NULL, &r), 0);
	assert_int_equal(r.events, 32);
	assert_int_equal(r.segments, f->n);
	assert_int_equal(r.first_seq, 1);
	assert_int_equal(r.last_seq, 32);
	assert_int_equal(strlen(r.head), 64);
	assert_int_equal(r.diag.n, 0);
	sl_records_verify_free(&r);
}

static void test_edited_byte(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *buf = th_read(f->dir, f->segs[1], &len);
	char *p = strstr(strstr(buf, "\n") + 1, "\n") + 1; /* line 3 */

	p = strstr(p, "news.example");
	p[0] = 'N';
	th_write(f->dir, f->segs[1], buf, len);
	free(buf);
	expect_error(f, 1, 3, "content altered");
}

/* Replace line n of a segment by itself with s/from/to/ and a new seal. */
static void reseal_edit(struct fx *f, size_t seg, unsigned n, const char *from, const char *to)
{
	size_t len;
	char *buf = th_read(f->dir, f->segs[seg], &len);
	char *line = th_line(buf, n);
	char *p = strstr(line, from), *body, *nl, *out;
	uint8_t md[32];
	unsigned mdlen = 0;
	char hex[65];
	size_t blen;
	const char *start = buf;

	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
	/* body = line without ,"hash":"..." plus } */
	blen = strlen(line) - 75;
	body = malloc(blen + 2);
	memcpy(body, line, blen);
	body[blen] = '}';
	body[blen + 1] = '\0';
	EVP_Digest(body, blen + 1, md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	memcpy(line + blen + 9, hex, 64);
	for (unsigned i = 1; i < n; i++)
		start = strchr(start, '\n') + 1;
	nl = strchr(start, '\n');
	out = malloc(len + 1);
	memcpy(out, buf, (size_t)(start - buf));
	memcpy(out + (start - buf), line, strlen(line));
	memcpy(out + (start - buf) + strlen(line), nl, len - (size_t)(nl - buf));
	th_write(f->dir, f->segs[seg], out, len);
	free(out);
	free(body);
	free(line);
	free(buf);
}

static void test_resealed_edit(void **state)
{
	struct fx *f = *state;

	/* a forger who recomputes the line's own hash breaks the next link */
	reseal_edit(f, 1, 3, "news.example", "nows.example");
	expect_error(f, 1, 4, "chain broken");
}

static void test_dropped_line(void **state)
{
	struct fx *f = *state;

	assert_int_equal(th_delete_line(f->dir, f->segs[0], 4), 0);
	expect_error(f, 0, 4, "out of order: seq 4 where 3 was expected");
}

static void test_reordered_lines(void **state)
{
	struct fx *f = *state;

	assert_int_equal(th_swap_lines(f->dir, f->segs[0], 3), 0);
	expect_error(f, 0, 3, "out of order: seq 3 where 2 was expected");
}

static void test_deleted_middle_segment(void **state)
{
	struct fx *f = *state;
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", f->dir, f->segs[1]) > 0);
	assert_int_equal(unlink(p), 0);
	free(p);
	expect_error(f, 2, 1, "a segment was removed, renamed or added");
}

static void test_truncated_middle_segment(void **state)
{
	struct fx *f = *state;

	assert_int_equal(th_keep_lines(f->dir, f->segs[1], 3), 0);
	expect_error(f, 2, 1, "was truncated or altered");
}

static void test_middle_segment_without_trailer(void **state)
{
	struct fx *f = *state;
	char *buf = th_read(f->dir, f->segs[1], NULL);
	unsigned n = th_count_lines(buf);

	free(buf);
	assert_int_equal(th_keep_lines(f->dir, f->segs[1], n - 1), 0);
	expect_error(f, 1, n - 1, "segment truncated: no trailer");
}

static void test_truncated_newest_segment(void **state)
{
	struct fx *f = *state;
	size_t last = f->n - 1;
	char *buf = th_read(f->dir, f->segs[last], NULL);
	unsigned n = th_count_lines(buf);

	free(buf);
	assert_int_equal(th_keep_lines(f->dir, f->segs[last], n - 2), 0);
	expect_error(f, last, n - 2, "no trailer and no writer is running");
}

static void test_trailer_count(void **state)
{
	struct fx *f = *state;
	char *buf = th_read(f->dir, f->segs[1], NULL);
	unsigned n = th_count_lines(buf);

	free(buf);
	/* drop the last event but keep the trailer */
	assert_int_equal(th_delete_line(f->dir, f->segs[1], n - 1), 0);
	expect_error(f, 1, n - 1, "trailer says");
}

static void test_data_after_trailer(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *buf = th_read(f->dir, f->segs[0], &len);
	char *nb = malloc(len + 16);

	memcpy(nb, buf, len);
	memcpy(nb + len, "{}\n", 3);
	th_write(f->dir, f->segs[0], nb, len + 3);
	free(nb);
	free(buf);
	expect_error(f, 0, th_count_lines(buf = th_read(f->dir, f->segs[0], NULL)),
		     "data after the trailer");
	free(buf);
}

static void test_renamed_segment(void **state)
{
	struct fx *f = *state;
	size_t last = f->n - 1;
	char *a = NULL, *b = NULL;

	/* still the newest by name, but not the name its header gives */
	assert_true(asprintf(&a, "%s/%s", f->dir, f->segs[last]) > 0);
	snprintf(f->segs[last], 64, "seg-20261123T235959Z-000099.jsonl");
	assert_true(asprintf(&b, "%s/%s", f->dir, f->segs[last]) > 0);
	assert_int_equal(rename(a, b), 0);
	free(a);
	free(b);
	expect_error(f, last, 1, "file renamed or copied");
}

static void test_missing_first_segment(void **state)
{
	struct fx *f = *state;
	char err[2048], *p = NULL;

	assert_true(asprintf(&p, "%s/%s", f->dir, f->segs[0]) > 0);
	assert_int_equal(unlink(p), 0);
	free(p);
	assert_int_equal(th_verify(f->dir, err, sizeof(err), NULL, 0), -EBADMSG);
	assert_non_null(strstr(err, f->segs[1]));
	assert_non_null(strstr(err, "no retention record explains it"));
}

static void test_expect_head(void **state)
{
	struct fx *f = *state;
	struct sl_records_verify_result r;
	struct sl_records_verify_opts o = { 0 };
	char head[65];

	assert_int_equal(sl_records_verify(f->dir, NULL, &r), 0);
	memcpy(head, r.head, 65);
	sl_records_verify_free(&r);
	o.expect_seq = 32;
	o.expect_hash = head;
	assert_int_equal(sl_records_verify(f->dir, &o, &r), 0);
	sl_records_verify_free(&r);
	o.expect_hash = "0123456789012345678901234567890123456789012345678901234567890123";
	assert_int_equal(sl_records_verify(f->dir, &o, &r), -EBADMSG);
	sl_records_verify_free(&r);
	o.expect_seq = 33;
	o.expect_hash = head;
	assert_int_equal(sl_records_verify(f->dir, &o, &r), -EBADMSG);
	assert_non_null(strstr(r.diag.m[0].msg, "records truncated"));
	sl_records_verify_free(&r);
}

static void test_no_segments(void **state)
{
	struct fx *f = *state;
	struct sl_records_verify_result r;
	char *p = NULL;

	assert_true(asprintf(&p, "%s/empty", f->dir) > 0);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(sl_records_verify(p, NULL, &r), -ENOENT);
	sl_records_verify_free(&r);
	assert_int_equal(sl_records_verify("/nonexistent/sluice", NULL, &r), -ENOENT);
	sl_records_verify_free(&r);
	free(p);
}

static void test_writer_running(void **state)
{
	struct fx *f = *state;
	int64_t now = 0;
	struct sl_records *w;
	char notes[2048];

	sl_records_parse_time("2026-11-23T11:00:00Z", false, &now);
	w = th_open(f->dir, &now, 0, 0);
	assert_non_null(w);
	assert_int_equal(sl_records_flush(w, false), 0);
	assert_int_equal(th_verify(f->dir, NULL, 0, notes, sizeof(notes)), 0);
	assert_non_null(strstr(notes, "open segment: a writer is running"));
	assert_int_equal(sl_records_close(w), 0);
	assert_int_equal(th_verify(f->dir, NULL, 0, notes, sizeof(notes)), 0);
	assert_string_equal(notes, "");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_intact),
		T(test_edited_byte),
		T(test_resealed_edit),
		T(test_dropped_line),
		T(test_reordered_lines),
		T(test_deleted_middle_segment),
		T(test_truncated_middle_segment),
		T(test_middle_segment_without_trailer),
		T(test_truncated_newest_segment),
		T(test_trailer_count),
		T(test_data_after_trailer),
		T(test_renamed_segment),
		T(test_missing_first_segment),
		T(test_expect_head),
		T(test_no_segments),
		T(test_writer_running),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
