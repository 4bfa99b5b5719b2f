/* Digest stability (comments, whitespace, order, duplicates, list file vs
 * inline do not change it; any semantic change does) and the compiled
 * artefact: round trip with the same answers and digest, and rejection of
 * corrupt, truncated, foreign or other-version artefacts with a clear
 * message. */
#include <errno.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "helpers.h"

static const char *BASE =
	"policy = { name = \"d\"; revision = \"1\"; };\n"
	"zones = { home = { cidr = [ \"192.0.2.0/24\", \"2001:db8::/32\" ]; }; out = { cidr = [ \"198.51.100.0/24\" ]; }; };\n"
	"authorities = ( { id = \"a1\"; name = \"Auth\"; order = \"O-1\"; }, { id = \"a0\"; name = \"Zero\"; } );\n"
	"rules = (\n"
	"  { id = 1; name = \"one\"; category = \"c\"; basis = \"b1\"; authority = \"a1\"; action = \"reset\";\n"
	"    expires = \"2030-01-01\";\n"
	"    match = { domain = [ \"a.test\", \"*.b.test\", \".c.test\", \"x.test\", \"*.x.test\" ];\n"
	"              url = [ \"u.test/p*\", \"v.test/q\" ];\n"
	"              payload = [ \"lit\", \"/re[0-9]/i\" ];\n"
	"              ip = [ \"198.51.100.0/24\", \"2001:db8:bad::/48\" ];\n"
	"              port = [ 443, 80 ]; proto = \"tcp\"; origin = \"!home\"; }; },\n"
	"  { id = 2; name = \"two\"; basis = \"b2\"; action = \"log\"; mode = \"shadow\"; record = false;\n"
	"    match = { domain = [ \"a.test\" ]; }; }\n"
	");\n";

/* Same meaning: rules, zones, authorities and entries reordered, comments,
 * whitespace, case, trailing dots, duplicates, "x"+"*.x" == ".x", split
 * zone prefixes, other policy name and revision. */
static const char *SAME =
	"# a comment\n"
	"policy = { revision = \"2\"; name = \"other label\"; };\n"
	"authorities = ( { id = \"a0\"; name = \"Zero\"; },\n"
	"                { name = \"Auth\"; id = \"a1\"; order = \"O-1\"; } );\n"
	"zones = { out = { cidr = [ \"198.51.100.0/24\" ]; };\n"
	"          home = { cidr = [ \"2001:db8::/32\", \"192.0.2.128/25\", \"192.0.2.0/25\" ]; }; };\n"
	"rules = (\n"
	"  { id = 2; name = \"two\"; basis = \"b2\"; action = \"log\"; mode = \"shadow\"; record = false;\n"
	"    match = { domain = [ \"A.TEST.\" ]; }; },\n"
	"  /* the first rule */\n"
	"  { match = { origin = \"!home\"; proto = \"tcp\"; port = [ 80, 443, 80 ];\n"
	"              ip = [ \"2001:db8:bad::/48\", \"198.51.100.0/24\" ];\n"
	"              payload = [ \"/re[0-9]/i\", \"lit\", \"lit\" ];\n"
	"              url = [ \"v.test/q\", \"U.TEST/p*\" ];\n"
	"              domain = [ \".x.test\", \".c.test\", \"*.b.test\", \"a.test\", \"a.test\" ]; };\n"
	"    id = 1; action = \"reset\"; authority = \"a1\"; basis = \"b1\"; category = \"c\"; name = \"one\";\n"
	"    expires = \"2030-01-01T00:00:00Z\"; }\n"
	");\n";

static void digest_of(const char *text, uint8_t out[32])
{
	struct sl_policy *p = compile_ok(text);

	memcpy(out, sl_policy_meta(p)->digest, 32);
	sl_policy_unref(p);
}

static void check_changed(const char *from, const char *to)
{
	uint8_t a[32], b[32];
	char *text = strdup(BASE);
	char *at = strstr(text, from);
	char *n;

	assert_non_null(at);
	n = malloc(strlen(text) + strlen(to) + 1);
	assert_non_null(n);
	memcpy(n, text, (size_t)(at - text));
	strcpy(n + (at - text), to);
	strcat(n, at + strlen(from));
	digest_of(BASE, a);
	digest_of(n, b);
	if (memcmp(a, b, 32) == 0)
		fail_msg("digest did not change when replacing '%s' with '%s'", from, to);
	free(n);
	free(text);
}

static void test_digest_stable(void **state)
{
	uint8_t a[32], b[32];
	struct sl_policy *p;

	(void)state;
	digest_of(BASE, a);
	digest_of(SAME, b);
	assert_memory_equal(a, b, 32);
	p = compile_ok(BASE);
	assert_int_equal(strlen(sl_policy_meta(p)->digest_hex), 64);
	for (int i = 0; i < 32; i++) {
		char h[3];

		snprintf(h, sizeof(h), "%02x", a[i]);
		assert_memory_equal(sl_policy_meta(p)->digest_hex + 2 * i, h, 2);
	}
	sl_policy_unref(p);
}

static void test_digest_list_file_vs_inline(void **state)
{
	struct sl_policy *p1, *p2;
	struct sl_diag d;
	char f1[1024], f2[1024];

	(void)state;
	snprintf(f1, sizeof(f1), "%s/digest-file.cfg", fixtures());
	snprintf(f2, sizeof(f2), "%s/digest-inline.cfg", fixtures());
	sl_diag_init(&d);
	assert_int_equal(sl_policy_compile_file(f1, NULL, &p1, &d), 0);
	assert_int_equal(sl_policy_compile_file(f2, NULL, &p2, &d), 0);
	assert_memory_equal(sl_policy_meta(p1)->digest, sl_policy_meta(p2)->digest, 32);
	assert_string_equal(dom(p1, "www.example.test"), "1");
	assert_string_equal(dom(p1, "exact.test"), "1");
	sl_policy_unref(p1);
	sl_policy_unref(p2);
	sl_diag_free(&d);
}

static void test_digest_changes(void **state)
{
	(void)state;
	check_changed("action = \"reset\"", "action = \"drop\"");
	check_changed("action = \"log\"; mode = \"shadow\"", "action = \"log\"");
	check_changed("record = false", "record = true");
	check_changed("\"b1\"", "\"b1 \"");
	check_changed("name = \"one\"", "name = \"One\"");
	check_changed("category = \"c\"", "category = \"d\"");
	check_changed("authority = \"a1\"; ", "");
	check_changed("name = \"Auth\"", "name = \"Auth2\"");
	check_changed("order = \"O-1\"", "order = \"O-2\"");
	check_changed("2030-01-01", "2030-01-02");
	check_changed("    expires = \"2030-01-01\";\n", "");
	check_changed("\"a.test\", \"*.b.test\"", "\"a.test\", \".b.test\"");
	check_changed("\"a.test\", \"*.b.test\"", "\"a.test\", \"*.b.test\", \"d.test\"");
	check_changed("\"u.test/p*\"", "\"u.test/p\"");
	check_changed("\"/re[0-9]/i\"", "\"/re[0-9]/\"");
	check_changed("\"lit\"", "\"Lit\"");
	check_changed("\"198.51.100.0/24\", \"2001", "\"198.51.100.0/25\", \"2001");
	check_changed("port = [ 443, 80 ]", "port = [ 443 ]");
	check_changed("proto = \"tcp\"", "proto = \"udp\"");
	check_changed("origin = \"!home\"", "origin = \"home\"");
	check_changed("origin = \"!home\"", "origin = \"!out\"");
	check_changed("\"192.0.2.0/24\"", "\"192.0.2.0/23\"");
	check_changed("{ id = 2;", "{ id = 3;");
	check_changed("domain = [ \"a.test\" ]; }; }", "domain = [ \"a.test\" ]; url = [ \"a.test/\" ]; }; }");
}

/* ---- artefact ---------------------------------------------------------- */

static void same_hits(const struct sl_hitset *x, const struct sl_hitset *y)
{
	assert_int_equal(x->n, y->n);
	for (uint32_t i = 0; i < x->n; i++) {
		assert_int_equal(x->hit[i].rule, y->hit[i].rule);
		assert_int_equal(x->hit[i].field, y->hit[i].field);
		assert_int_equal(x->hit[i].to, y->hit[i].to);
	}
}

static void same_answers(const struct sl_policy *a, const struct sl_policy *b)
{
	static const char *names[] = { "a.test", "x.b.test", "c.test", "y.c.test", "x.test",
				       "z.x.test", "nope.test", "b.test" };
	static const char *addrs[] = { "198.51.100.7", "2001:db8:bad::1", "192.0.2.1", "2001:db8::1" };
	struct sl_scratch *sa = NULL, *sb = NULL;
	struct sl_policy_stats x, y;

	assert_memory_equal(sl_policy_meta(a)->digest, sl_policy_meta(b)->digest, 32);
	assert_string_equal(sl_policy_meta(a)->digest_hex, sl_policy_meta(b)->digest_hex);
	assert_string_equal(sl_policy_meta(a)->name, sl_policy_meta(b)->name);
	assert_string_equal(sl_policy_meta(a)->revision, sl_policy_meta(b)->revision);
	sl_policy_get_stats(a, &x);
	sl_policy_get_stats(b, &y);
	assert_int_equal(x.rules, y.rules);
	assert_int_equal(x.zones, y.zones);
	assert_int_equal(x.authorities, y.authorities);
	assert_int_equal(x.domains, y.domains);
	assert_int_equal(x.urls, y.urls);
	assert_int_equal(x.payloads, y.payloads);
	assert_int_equal(x.cidrs, y.cidrs);
	assert_int_equal(x.zone_cidrs, y.zone_cidrs);
	assert_int_equal(sl_policy_nrules(a), sl_policy_nrules(b));
	for (uint32_t i = 0; i < sl_policy_nrules(a); i++) {
		const struct sl_rule *r = sl_policy_rule(a, i), *q = sl_policy_rule(b, i);

		assert_int_equal(r->id, q->id);
		assert_int_equal(r->idx, q->idx);
		assert_int_equal(r->action, q->action);
		assert_int_equal(r->mode, q->mode);
		assert_int_equal(r->record, q->record);
		assert_int_equal(r->report, q->report);
		assert_int_equal(r->proto, q->proto);
		assert_int_equal(r->origin_zone, q->origin_zone);
		assert_int_equal(r->origin_negate, q->origin_negate);
		assert_int_equal(r->nports, q->nports);
		if (r->nports)
			assert_memory_equal(r->ports, q->ports, r->nports * 2);
		assert_int_equal(r->expires, q->expires);
		assert_string_equal(r->name, q->name);
		assert_string_equal(r->category, q->category);
		assert_string_equal(r->basis, q->basis);
		assert_string_equal(r->file, q->file);
		assert_int_equal(r->line, q->line);
		if (r->authority) {
			assert_string_equal(r->authority, q->authority);
			assert_string_equal(r->authority_name, q->authority_name);
			assert_string_equal(r->order ? r->order : "-", q->order ? q->order : "-");
		} else {
			assert_null(q->authority);
		}
	}
	for (size_t i = 0; i < SL_ARRAY_SIZE(names); i++) {
		char x1[512];

		snprintf(x1, sizeof(x1), "%s", dom(a, names[i]));
		assert_string_equal(x1, dom(b, names[i]));
	}
	for (size_t i = 0; i < SL_ARRAY_SIZE(addrs); i++) {
		struct sl_addr ad;
		struct sl_hitset h1, h2;

		sl_addr_parse(addrs[i], &ad);
		sl_hitset_clear(&h1);
		sl_hitset_clear(&h2);
		assert_int_equal(sl_match_ip(a, &ad, &h1), sl_match_ip(b, &ad, &h2));
		same_hits(&h1, &h2);
		for (int z = 0; z < 2; z++)
			assert_int_equal(sl_zone_contains(a, z, &ad), sl_zone_contains(b, z, &ad));
	}
	assert_int_equal(sl_scratch_alloc(a, &sa), 0);
	assert_int_equal(sl_scratch_alloc(b, &sb), 0);
	{
		static const char *pays[] = { "xxlityy", "RE5", "nothing" };
		static const char *urls[][2] = { { "u.test", "/pq" }, { "v.test", "/q" }, { "v.test", "/qq" } };

		for (size_t i = 0; i < 3; i++) {
			struct sl_hitset h1, h2;

			sl_hitset_clear(&h1);
			sl_hitset_clear(&h2);
			assert_int_equal(sl_match_payload(a, sa, (const uint8_t *)pays[i], strlen(pays[i]), &h1),
					 sl_match_payload(b, sb, (const uint8_t *)pays[i], strlen(pays[i]), &h2));
			same_hits(&h1, &h2);
			sl_hitset_clear(&h1);
			sl_hitset_clear(&h2);
			assert_int_equal(sl_match_url(a, sa, urls[i][0], strlen(urls[i][0]), urls[i][1],
						      strlen(urls[i][1]), &h1),
					 sl_match_url(b, sb, urls[i][0], strlen(urls[i][0]), urls[i][1],
						      strlen(urls[i][1]), &h2));
			same_hits(&h1, &h2);
		}
	}
	assert_int_equal(sl_pstream_size(a), sl_pstream_size(b));
	sl_scratch_free(sa);
	sl_scratch_free(sb);
}

static void test_round_trip(void **state)
{
	struct sl_policy *p = compile_ok(BASE), *q = NULL, *r = NULL;
	struct sl_diag d;
	void *buf;
	size_t len;
	char path[] = "/tmp/sluice-artefact-XXXXXX";
	int fd;

	(void)state;
	sl_diag_init(&d);
	assert_int_equal(sl_policy_serialize(p, &buf, &len), 0);
	assert_true(len > 256);
	assert_memory_equal(buf, SL_ARTEFACT_MAGIC, 8);
	assert_int_equal(sl_policy_deserialize(buf, len, "mem", &q, &d), 0);
	assert_int_equal(d.n, 0);
	same_answers(p, q);
	/* serialising a loaded artefact gives the same bytes */
	{
		void *buf2;
		size_t len2;

		assert_int_equal(sl_policy_serialize(q, &buf2, &len2), 0);
		assert_int_equal(len, len2);
		assert_memory_equal(buf, buf2, len);
		free(buf2);
	}
	/* through a file, and sl_policy_open detects the magic */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sl_policy_save(p, path), 0);
	assert_int_equal(sl_policy_load_artefact(path, &r, &d), 0);
	same_answers(p, r);
	sl_policy_unref(r);
	assert_int_equal(sl_policy_open(path, NULL, &r, &d), 0);
	same_answers(p, r);
	sl_policy_unref(r);
	unlink(path);
	/* reference counting */
	assert_ptr_equal(sl_policy_ref(q), q);
	sl_policy_unref(q);
	sl_policy_unref(q);
	sl_policy_unref(p);
	free(buf);
	sl_diag_free(&d);
}

static void expect_reject(const void *buf, size_t len, const char *want)
{
	struct sl_policy *q = NULL;
	struct sl_diag d;
	char w[256];

	sl_diag_init(&d);
	assert_int_equal(sl_policy_deserialize(buf, len, "a.slp", &q, &d), -EINVAL);
	assert_null(q);
	snprintf(w, sizeof(w), "a.slp:0: %s", want);
	assert_diag(&d, w);
	sl_diag_free(&d);
}

/* Recompute the header checksum so that a deliberate change gets past it
 * and reaches the deeper checks. Offsets as documented in artefact.c. */
static void reseal(uint8_t *b, size_t len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned n;

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, b, 224);
	EVP_DigestUpdate(c, b + 256, len - 256);
	EVP_DigestFinal_ex(c, b + 224, &n);
	EVP_MD_CTX_free(c);
}

static uint64_t le64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void test_corrupt(void **state)
{
	struct sl_policy *p = compile_ok(BASE);
	uint8_t *buf, *c;
	size_t len;

	(void)state;
	assert_int_equal(sl_policy_serialize(p, (void **)&buf, &len), 0);
	c = malloc(len + 16);
	assert_non_null(c);

	/* a flipped byte anywhere: body start, middle, end, header fields */
	{
		size_t at[] = { 256, 300, len / 2, len - 1, 184, 200, 230, 176 };

		for (size_t i = 0; i < SL_ARRAY_SIZE(at); i++) {
			memcpy(c, buf, len);
			c[at[i]] ^= 0x40;
			expect_reject(c, len, "corrupt artefact: checksum mismatch");
		}
	}
	/* truncated */
	expect_reject(buf, len - 1, "truncated artefact: the header promises");
	expect_reject(buf, len / 2, "truncated artefact: the header promises");
	expect_reject(buf, 100, "truncated artefact: 100 bytes, the header alone is 256");
	expect_reject(buf, 3, "not a sluice policy artefact (bad magic)");
	/* trailing garbage */
	memcpy(c, buf, len);
	memset(c + len, 0, 16);
	expect_reject(c, len + 16, "corrupt artefact: 16 unexpected bytes after the body");
	/* bad magic */
	memcpy(c, buf, len);
	c[0] = 'X';
	expect_reject(c, len, "not a sluice policy artefact (bad magic)");
	/* other format version */
	memcpy(c, buf, len);
	c[8] = 99;
	expect_reject(c, len, "artefact format version 99, this build reads version 1");
	/* other Hyperscan version (even with a valid checksum) */
	memcpy(c, buf, len);
	memcpy(c + 16, "4.7.0 2018-01-24", 17);
	reseal(c, len);
	expect_reject(c, len, "artefact built with Hyperscan \"4.7.0 2018-01-24\"");
	/* other platform */
	memcpy(c, buf, len);
	memcpy(c + 112, "sparc64 be ptr64", 17);
	reseal(c, len);
	expect_reject(c, len, "artefact built for platform \"sparc64 be ptr64\"");
	/* a damaged Hyperscan database behind a valid checksum */
	{
		const uint8_t *sect = buf + 256 + 8 + 16 * 21; /* url database */
		uint64_t off = le64(sect), n = le64(sect + 8);

		assert_true(n > 16);
		memcpy(c, buf, len);
		memset(c + 256 + off, 0xee, 8);
		reseal(c, len);
		expect_reject(c, len, "cannot load the url database");
	}
	/* a hostile table behind a valid checksum: rule action out of range */
	{
		const uint8_t *sect = buf + 256 + 8 + 16 * 1; /* rules */
		uint64_t off = le64(sect);

		memcpy(c, buf, len);
		c[256 + off + 4] = 77;
		reseal(c, len);
		expect_reject(c, len, "corrupt artefact: bad rule 1");
	}
	/* a section that points outside the body */
	{
		memcpy(c, buf, len);
		c[256 + 8 + 16 * 5 + 7] = 0x10;
		reseal(c, len);
		expect_reject(c, len, "corrupt artefact: bad domain table section");
	}
	/* the original still loads */
	{
		struct sl_policy *q = NULL;

		assert_int_equal(sl_policy_deserialize(buf, len, "ok", &q, NULL), 0);
		sl_policy_unref(q);
	}
	/* files: a source is compiled, a damaged artefact is not mistaken for one */
	{
		char path[] = "/tmp/sluice-artefact-XXXXXX";
		int fd = mkstemp(path);
		struct sl_policy *q = NULL;
		struct sl_diag d;
		char w[512];

		assert_true(fd >= 0);
		assert_int_equal(write(fd, buf, len - 10), (ssize_t)(len - 10));
		close(fd);
		sl_diag_init(&d);
		assert_int_equal(sl_policy_open(path, NULL, &q, &d), -EINVAL);
		snprintf(w, sizeof(w), "%s:0: truncated artefact", path);
		assert_diag(&d, w);
		unlink(path);
		sl_diag_free(&d);
	}
	free(c);
	free(buf);
	sl_policy_unref(p);
}

static void test_empty_policy_artefact(void **state)
{
	struct sl_policy *p, *q = NULL;
	void *buf;
	size_t len;
	struct sl_hitset h;
	struct sl_addr a;

	(void)state;
	p = compile_ok("policy = { name = \"empty\"; revision = \"0\"; };\n");
	assert_int_equal(sl_policy_nrules(p), 0);
	assert_int_equal(sl_policy_serialize(p, &buf, &len), 0);
	assert_int_equal(sl_policy_deserialize(buf, len, "e", &q, NULL), 0);
	assert_string_equal(sl_policy_meta(q)->name, "empty");
	assert_string_equal(dom(q, "a.test"), "");
	sl_addr_parse("192.0.2.1", &a);
	sl_hitset_clear(&h);
	assert_int_equal(sl_match_ip(q, &a, &h), 0);
	assert_false(sl_policy_has(q, SL_FIELD_HOST));
	sl_policy_unref(q);
	sl_policy_unref(p);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_stable),
		cmocka_unit_test(test_digest_list_file_vs_inline),
		cmocka_unit_test(test_digest_changes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_empty_policy_artefact),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
