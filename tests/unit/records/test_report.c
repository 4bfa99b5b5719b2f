/* Unit tests for reports: aggregation over the fixture (helpers.c) with
 * known counts per rule, action and mode, distinct flows and subscribers,
 * report = false rules left out, authority filter, time window, policy
 * revisions, chain head; CSV and JSON; pseudonymisation (stable per key,
 * different across keys, never real addresses) and --identify; key files
 * and the dataplane config lookup; tampered records flagged. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "helpers.h"
#include "sluice/policy.h"

static const uint8_t key1[] = "0123456789abcdef0123456789abcdef";
static const uint8_t key2[] = "fedcba9876543210fedcba9876543210";

struct fx {
	char *dir;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = th_tmpdir();
	if (f->dir == NULL || th_fixture(f->dir) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	th_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static int64_t at(const char *s, bool end)
{
	int64_t ns = 0;

	assert_int_equal(sl_records_parse_time(s, end, &ns), 0);
	return ns;
}

/* Run a report into a string. */
static char *run(const struct sl_report_opts *o, int want_rc)
{
	struct sl_diag d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	sl_diag_init(&d);
	rc = sl_report_write(o, f, &d);
	fclose(f);
	if (rc != want_rc) {
		sl_diag_print(&d, stderr);
		fail_msg("sl_report_write: %d, expected %d", rc, want_rc);
	}
	sl_diag_free(&d);
	return buf;
}

static struct sl_report_opts opts(const char *dir, const uint8_t *key)
{
	struct sl_report_opts o = {
		.dir = dir,
		.format = SL_REPORT_JSON,
		.key = key,
		.key_len = key ? 32 : 0,
		.identify = key == NULL,
		.now_ns = at("2026-11-23T06:00:00Z", false),
	};

	return o;
}

static json_object *jget(json_object *o, const char *path)
{
	char buf[256], *save = NULL, *k;
	json_object *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (v && json_object_is_type(v, json_type_array))
			v = json_object_array_get_idx(v, (size_t)atoi(k));
		else if (!json_object_object_get_ex(v, k, &v))
			return NULL;
	}
	return v;
}

static int64_t ji(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	if (v == NULL)
		fail_msg("no %s", path);
	return json_object_get_int64(v);
}

static const char *js(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	if (v == NULL)
		fail_msg("no %s", path);
	return json_object_get_string(v);
}

static int64_t by_action(json_object *o, const char *path, int action, int mode)
{
	char p[256];

	snprintf(p, sizeof(p), "%s.by_action.%s.%s", path, sl_action_name(action),
		 sl_mode_name(mode));
	return ji(o, p);
}

static void test_json_all(void **state)
{
	struct fx *f = *state;
	struct sl_report_opts o = opts(f->dir, key1);
	char *out = run(&o, 0);
	json_object *r = json_tokener_parse(out);
	struct sl_addr a;
	char p[SL_PSEUDONYM_LEN];

	assert_non_null(r);
	assert_string_equal(js(r, "format"), "sluice-report/1");
	assert_string_equal(js(r, "generated"), "2026-11-23T06:00:00.000000000Z");
	assert_true(json_object_get_boolean(jget(r, "records.verified")));
	assert_int_equal(ji(r, "records.events"), TH_FIXTURE_EVENTS);
	assert_int_equal(ji(r, "records.chain_head.seq"), TH_FIXTURE_EVENTS);
	assert_int_equal(strlen(js(r, "records.chain_head.hash")), 64);
	assert_true(json_object_is_type(jget(r, "window.from"), json_type_null));

	assert_int_equal(ji(r, "totals.matches"), 10);
	assert_int_equal(ji(r, "totals.rules"), 3);
	assert_int_equal(ji(r, "totals.flows"), 8);
	assert_int_equal(ji(r, "totals.subscribers"), 5);
	assert_int_equal(ji(r, "totals.lost_events"), 3);
	assert_int_equal(ji(r, "totals.loss_records"), 1);
	assert_int_equal(by_action(r, "totals", SL_ACT_RESET, SL_MODE_ENFORCE), 5);
	assert_int_equal(by_action(r, "totals", SL_ACT_RESET, SL_MODE_SHADOW), 0);
	assert_int_equal(by_action(r, "totals", SL_ACT_DROP, SL_MODE_SHADOW), 3);
	assert_int_equal(by_action(r, "totals", SL_ACT_BLOCK_PAGE, SL_MODE_ENFORCE), 2);
	assert_null(jget(r, "totals.by_action.log")); /* only rule 103, not reported */
	assert_string_equal(js(r, "totals.first"), "2026-11-20T08:00:00.000000000Z");
	assert_string_equal(js(r, "totals.last"), "2026-11-22T12:00:05.000000000Z");

	assert_int_equal(json_object_array_length(jget(r, "rules")), 3);
	assert_int_equal(ji(r, "rules.0.id"), 101);
	assert_int_equal(ji(r, "rules.1.id"), 102);
	assert_int_equal(ji(r, "rules.2.id"), 104);
	assert_null(strstr(out, "internal-watch"));
	assert_string_equal(js(r, "rules.0.name"), "news-a");
	assert_string_equal(js(r, "rules.0.basis"), "PRC Cybersecurity Law art. 47");
	assert_string_equal(js(r, "rules.0.authority.id"), "cac");
	assert_string_equal(js(r, "rules.0.authority.order"), "CAC-2026-17");
	assert_int_equal(ji(r, "rules.0.matches"), 5);
	assert_int_equal(ji(r, "rules.0.flows"), 3);
	assert_int_equal(ji(r, "rules.0.subscribers"), 3);
	assert_int_equal(by_action(r, "rules.0", SL_ACT_RESET, SL_MODE_ENFORCE), 5);
	assert_string_equal(js(r, "rules.0.first"), "2026-11-20T08:00:00.000000000Z");
	assert_string_equal(js(r, "rules.0.last"), "2026-11-21T10:00:02.000000000Z");
	assert_int_equal(json_object_array_length(jget(r, "rules.0.samples")), 3);
	assert_string_equal(js(r, "rules.0.samples.0.value"), "news.example");
	assert_string_equal(js(r, "rules.0.samples.0.server"), "198.51.100.7:443");
	sl_addr_parse("192.0.2.10", &a);
	assert_int_equal(sl_pseudonym(key1, 32, &a, p), 0);
	assert_string_equal(js(r, "rules.0.samples.0.client"), p);

	assert_int_equal(ji(r, "rules.1.matches"), 3);
	assert_int_equal(ji(r, "rules.1.flows"), 3);
	assert_int_equal(ji(r, "rules.1.subscribers"), 3);
	assert_int_equal(by_action(r, "rules.1", SL_ACT_DROP, SL_MODE_SHADOW), 3);
	assert_int_equal(by_action(r, "rules.1", SL_ACT_DROP, SL_MODE_ENFORCE), 0);
	assert_string_equal(js(r, "rules.1.samples.0.server"), "[2001:db8:1::80]:80");

	assert_int_equal(ji(r, "rules.2.matches"), 2);
	assert_int_equal(ji(r, "rules.2.flows"), 2);
	assert_int_equal(ji(r, "rules.2.subscribers"), 1);
	assert_true(json_object_is_type(jget(r, "rules.2.authority.id"), json_type_null));
	assert_string_equal(js(r, "rules.2.samples.0.value"), "203.0.113.5");
	/* binary payload: exact bytes, escaped */
	assert_string_equal(js(r, "rules.2.samples.1.field"), sl_field_name(SL_FIELD_PAYLOAD));
	assert_string_equal(js(r, "rules.2.samples.1.value"), "\\x16\\x03\\x01\\xff\\x00c2\\x1b");

	assert_int_equal(json_object_array_length(jget(r, "policy_revisions")), 2);
	assert_string_equal(js(r, "policy_revisions.0.revision"), "2026-11-01");
	assert_int_equal(ji(r, "policy_revisions.0.matches"), 6);
	assert_string_equal(js(r, "policy_revisions.0.digest"), th_meta.digest_hex);
	assert_string_equal(js(r, "policy_revisions.1.revision"), "2026-11-21");
	assert_int_equal(ji(r, "policy_revisions.1.matches"), 4);

	/* no subscriber address in clear */
	assert_string_equal(js(r, "subscribers.addresses"), "pseudonymised");
	assert_int_equal(strncmp(js(r, "subscribers.key_id"), "k:", 2), 0);
	assert_null(strstr(out, "192.0.2."));
	assert_null(strstr(out, "\"2001:db8::1\""));
	json_object_put(r);
	free(out);
}

static void test_identify(void **state)
{
	struct fx *f = *state;
	struct sl_report_opts o = opts(f->dir, NULL);
	char *out = run(&o, 0);
	json_object *r = json_tokener_parse(out);

	assert_string_equal(js(r, "subscribers.addresses"), "identified");
	assert_string_equal(js(r, "rules.0.samples.0.client"), "192.0.2.10");
	assert_string_equal(js(r, "rules.1.samples.0.client"), "2001:db8::1");
	json_object_put(r);
	free(out);
}

static void test_authority_filter(void **state)
{
	struct fx *f = *state;
	struct sl_report_opts o = opts(f->dir, key1);
	char *out;
	json_object *r;

	o.authority = "cac";
	out = run(&o, 0);
	r = json_tokener_parse(out);
	assert_string_equal(js(r, "authority"), "cac");
	assert_int_equal(ji(r, "totals.matches"), 5);
	assert_int_equal(json_object_array_length(jget(r, "rules")), 1);
	assert_int_equal(ji(r, "rules.0.id"), 101);
	assert_int_equal(json_object_array_length(jget(r, "policy_revisions")), 1);
	json_object_put(r);
	free(out);
	o.authority = "nobody";
	out = run(&o, 0);
	r = json_tokener_parse(out);
	assert_int_equal(ji(r, "totals.matches"), 0);
	assert_int_equal(json_object_array_length(jget(r, "rules")), 0);
	json_object_put(r);
	free(out);
}

static void test_time_window(void **state)
{
	struct fx *f = *state;
	struct sl_report_opts o = opts(f->dir, key1);
	char *out;
	json_object *r;

	/* --from 2026-11-21 --to 2026-11-21: that whole day */
	o.from_ns = at("2026-11-21", false);
	o.to_ns = at("2026-11-21", true);
	out = run(&o, 0);
	r = json_tokener_parse(out);
	assert_string_equal(js(r, "window.from"), "2026-11-21T00:00:00.000000000Z");
	assert_string_equal(js(r, "window.to"), "2026-11-22T00:00:00.000000000Z");
	assert_int_equal(ji(r, "totals.matches"), 4);
	assert_int_equal(ji(r, "rules.0.id"), 101);
	assert_int_equal(ji(r, "rules.0.matches"), 2);
	assert_int_equal(ji(r, "rules.0.flows"), 1);
	assert_int_equal(ji(r, "rules.1.id"), 102);
	assert_int_equal(ji(r, "rules.1.matches"), 2);
	assert_int_equal(json_object_array_length(jget(r, "rules")), 2);
	assert_int_equal(ji(r, "totals.lost_events"), 3);
	/* the chain head is the records', not the window's */
	assert_int_equal(ji(r, "records.chain_head.seq"), TH_FIXTURE_EVENTS);
	json_object_put(r);
	free(out);

	/* RFC 3339 bounds: [from, to) */
	o.from_ns = at("2026-11-21T23:59:59Z", false);
	o.to_ns = at("2026-11-22T00:00:00+00:00", false);
	out = run(&o, 0);
	r = json_tokener_parse(out);
	assert_int_equal(ji(r, "totals.matches"), 1);
	json_object_put(r);
	free(out);
}

static void test_csv(void **state)
{
	struct fx *f = *state;
	struct sl_report_opts o = opts(f->dir, key1);
	char *out, *l, hdr[1024];
	unsigned first = 0;

	o.format = SL_REPORT_CSV;
	out = run(&o, 0);
	assert_int_equal(strncmp(out, "# sluice evidence report", 24), 0);
	assert_non_null(strstr(out, "chain head seq 19 hash "));
	assert_non_null(strstr(out, "# policy \"national-list\" revision \"2026-11-01\""));
	for (unsigned i = 1; (l = th_line(out, i)) != NULL; i++) {
		if (l[0] != '#' && first == 0)
			first = i;
		free(l);
	}
	assert_true(first > 0);
	snprintf(hdr, sizeof(hdr), "rule_id,name,category,basis,authority,authority_name,order,"
		 "matches,%s_%s,%s_%s", sl_action_name(SL_ACT_LOG), sl_mode_name(SL_MODE_ENFORCE),
		 sl_action_name(SL_ACT_LOG), sl_mode_name(SL_MODE_SHADOW));
	l = th_line(out, first);
	assert_int_equal(strncmp(l, hdr, strlen(hdr)), 0);
	assert_non_null(strstr(l, ",flows,subscribers,first,last,samples"));
	free(l);
	l = th_line(out, first + 1);
	{
		const char *want = "101,\"news-a\",\"news\",\"PRC Cybersecurity Law art. 47\","
				   "\"cac\",\"Cyberspace Administration\",\"CAC-2026-17\",5,";

		assert_int_equal(strncmp(l, want, strlen(want)), 0);
	}
	/* log, drop, reset (enforce 5), block-page, allow; flows 3, subscribers 3 */
	assert_non_null(strstr(l, ",5,0,0,0,0,0,3,3,2026-11-20T08:00:00.000000000Z,"));
	assert_null(strstr(l, "192.0.2."));
	free(l);
	l = th_line(out, first + 2);
	assert_int_equal(strncmp(l, "102,", 4), 0);
	assert_non_null(strstr(l, "host==cmd|' /C calc'!A0 p:"));
	free(l);
	l = th_line(out, first + 3);
	assert_int_equal(strncmp(l, "104,", 4), 0);
	free(l);
	l = th_line(out, first + 4);
	assert_int_equal(strncmp(l, "total,,,,,,,10,", 15), 0);
	free(l);
	assert_null(th_line(out, first + 5));
	free(out);
}

static void test_csv_formula_guard(void **state)
{
	char *dir = th_tmpdir();
	int64_t now = at("2026-11-23T10:00:00Z", false);
	struct sl_rule r = th_rule_a;
	struct sl_event *ev = calloc(1, sizeof(*ev));
	struct sl_records *w = th_open(dir, &now, 0, 0);
	struct sl_report_opts o = opts(dir, key1);
	char *out;

	(void)state;
	r.name = "=HYPERLINK(\"http://x\")";
	r.basis = "line one\nline two";
	th_match(ev, &r, now, "192.0.2.10", 1, "198.51.100.7", 443, 1, SL_FIELD_SNI, "a.example");
	assert_int_equal(sl_records_write(w, ev), 0);
	assert_int_equal(sl_records_close(w), 0);
	o.format = SL_REPORT_CSV;
	out = run(&o, 0);
	assert_non_null(strstr(out, "\n101,\"'=HYPERLINK(\"\"http://x\"\")\",\"news\",\"line one\\x0aline two\","));
	free(out);
	free(ev);
	th_rmrf(dir);
	free(dir);
}

static void test_pseudonyms(void **state)
{
	struct fx *f = *state;
	struct sl_report_opts o = opts(f->dir, key1);
	struct sl_addr a, b;
	char p1[SL_PSEUDONYM_LEN], p1b[SL_PSEUDONYM_LEN], p2[SL_PSEUDONYM_LEN], pb[SL_PSEUDONYM_LEN];
	char *r1, *r1b, *r2;

	(void)state;
	sl_addr_parse("192.0.2.10", &a);
	sl_addr_parse("192.0.2.11", &b);
	assert_int_equal(sl_pseudonym(key1, 32, &a, p1), 0);
	assert_int_equal(sl_pseudonym(key1, 32, &a, p1b), 0);
	assert_int_equal(sl_pseudonym(key2, 32, &a, p2), 0);
	assert_int_equal(sl_pseudonym(key1, 32, &b, pb), 0);
	assert_int_equal(strlen(p1), 18);
	assert_int_equal(strncmp(p1, "p:", 2), 0);
	assert_string_equal(p1, p1b);
	assert_string_not_equal(p1, p2);
	assert_string_not_equal(p1, pb);
	assert_int_equal(sl_pseudonym(NULL, 0, &a, p1), -EINVAL);

	/* whole reports: same key, same report; other key, other pseudonyms */
	r1 = run(&o, 0);
	r1b = run(&o, 0);
	o.key = key2;
	r2 = run(&o, 0);
	assert_string_equal(r1, r1b);
	assert_non_null(strstr(r1, p1));
	assert_null(strstr(r2, p1));
	assert_non_null(strstr(r2, p2));
	free(r1);
	free(r1b);
	free(r2);
}

static void test_key_required(void **state)
{
	struct fx *f = *state;
	struct sl_report_opts o = opts(f->dir, key1);
	struct sl_diag d;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	sl_diag_init(&d);
	o.key = NULL;
	o.key_len = 0;
	o.identify = false;
	assert_int_equal(sl_report_write(&o, out, &d), -EINVAL);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.m[0].msg, "--identify"));
	fclose(out);
	assert_int_equal(len, 0); /* nothing printed */
	free(buf);
	sl_diag_free(&d);
}

static void test_key_files(void **state)
{
	struct fx *f = *state;
	struct sl_diag d;
	uint8_t *key = NULL;
	size_t len = 0;
	char *path = NULL, *cfg = NULL, *kf = NULL;

	sl_diag_init(&d);
	assert_int_equal(th_write(f->dir, "key", "0123456789abcdef0123\n", 21), 0);
	assert_true(asprintf(&path, "%s/key", f->dir) > 0);
	assert_int_equal(sl_report_load_key(path, &key, &len, &d), 0);
	assert_int_equal(len, 20);
	assert_memory_equal(key, "0123456789abcdef0123", 20);
	free(key);
	assert_int_equal(th_write(f->dir, "key", "short\n", 6), 0);
	assert_int_equal(sl_report_load_key(path, &key, &len, &d), -EINVAL);
	assert_null(key);
	free(path);
	assert_true(asprintf(&path, "%s/nokey", f->dir) > 0);
	assert_int_equal(sl_report_load_key(path, &key, &len, &d), -ENOENT);
	free(path);

	/* the dataplane config names the key file, relative to itself */
	{
		const char *c = "records = {\n  dir = \"/var/lib/sluice\";\n"
				"  pseudonym_key_file = \"key\";\n};\n";

		assert_int_equal(th_write(f->dir, "sluice.cfg", c, strlen(c)), 0);
	}
	assert_true(asprintf(&cfg, "%s/sluice.cfg", f->dir) > 0);
	assert_int_equal(sl_report_key_file_from_config(cfg, &kf, &d), 0);
	assert_true(asprintf(&path, "%s/key", f->dir) > 0);
	assert_string_equal(kf, path);
	free(kf);
	free(path);
	assert_int_equal(th_write(f->dir, "sluice.cfg", "records = { dir = \"x\"; };\n",
				  strlen("records = { dir = \"x\"; };\n")), 0);
	assert_int_equal(sl_report_key_file_from_config(cfg, &kf, &d), -ENOENT);
	assert_int_equal(th_write(f->dir, "sluice.cfg", "records = {\n", 12), 0);
	assert_int_equal(sl_report_key_file_from_config(cfg, &kf, &d), -EINVAL);
	free(cfg);
	sl_diag_free(&d);
}

static void test_tampered(void **state)
{
	struct fx *f = *state;
	struct sl_report_opts o = opts(f->dir, key1);
	char segs[16][64];
	size_t len;
	char *buf, *p, *out;
	json_object *r;

	th_segments(f->dir, segs, 16);
	/* the first segment holding a match of rule 101 */
	for (size_t i = 0;; i++) {
		assert_true(i < 16 && segs[i][0]);
		buf = th_read(f->dir, segs[i], &len);
		p = strstr(buf, "news.example");
		if (p) {
			memcpy(segs[0], segs[i], 64);
			break;
		}
		free(buf);
	}
	p[0] = 'N';
	th_write(f->dir, segs[0], buf, len);
	free(buf);
	out = run(&o, -EBADMSG);
	r = json_tokener_parse(out);
	assert_false(json_object_get_boolean(jget(r, "records.verified")));
	assert_non_null(strstr(js(r, "records.notes.0"), "content altered"));
	json_object_put(r);
	free(out);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_json_all),
		T(test_identify),
		T(test_authority_filter),
		T(test_time_window),
		T(test_csv),
		cmocka_unit_test(test_csv_formula_guard),
		T(test_pseudonyms),
		T(test_key_required),
		T(test_key_files),
		T(test_tampered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
