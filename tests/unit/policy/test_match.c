/* Matcher tests: domain semantics (exact, "*.", ".", case, trailing dot,
 * :port, label boundaries), URL wildcards and exactness, payload literals
 * and regexes in block and stream mode (across chunk boundaries), CIDR
 * tables (nested prefixes, IPv6, foreach_prefix rulesets) and zones. */
#include <errno.h>

#include "helpers.h"

#define R(id, sel) "  { id = " #id "; name = \"r" #id "\"; basis = \"t\"; action = \"log\"; match = { " sel " }; },\n"
/* the last rule of a list (no comma) */
#define RL(id, sel) "  { id = " #id "; name = \"r" #id "\"; basis = \"t\"; action = \"log\"; match = { " sel " }; }\n"

static void test_domains(void **state)
{
	struct sl_policy *p;
	struct sl_hitset h;

	(void)state;
	p = compile_ok(HDR "rules = (\n"
		       R(1, "domain = [ \"exact.test\" ];")
		       R(2, "domain = [ \"*.wild.test\" ];")
		       R(3, "domain = [ \".dot.test\" ];")
		       R(4, "domain = [ \".google.test\" ];")
		       R(5, "domain = [ \".com\" ];")
		       R(6, "domain = [ \"nx2500-242-4-server\", \"UPPER.Test\", \"trailing.test.\", \"www.net1.bg\" ];")
		       R(7, "domain = [ \"exact.test\", \"*.exact.test\" ];")
		       "  { id = 8; name = \"r8\"; basis = \"t\"; action = \"log\"; match = { domain = [ \"*.wild.test\", \"*.wild.test\" ]; }; }\n"
		       ");\n");
	/* exact */
	assert_string_equal(dom(p, "exact.test"), "1,7");
	assert_string_equal(dom(p, "EXACT.Test"), "1,7");
	assert_string_equal(dom(p, "exact.test."), "1,7");
	assert_string_equal(dom(p, "exact.test:8080"), "1,7");
	assert_string_equal(dom(p, "Exact.Test.:443"), "1,7");
	assert_string_equal(dom(p, "a.exact.test"), "7");
	assert_string_equal(dom(p, "xexact.test"), "");
	assert_string_equal(dom(p, "exact.test.example"), "");
	/* *.name: subdomains only */
	assert_string_equal(dom(p, "wild.test"), "");
	assert_string_equal(dom(p, "a.wild.test"), "2,8");
	assert_string_equal(dom(p, "a.b.wild.test"), "2,8");
	assert_string_equal(dom(p, "A.WILD.TEST."), "2,8");
	/* .name: the name and subdomains */
	assert_string_equal(dom(p, "dot.test"), "3");
	assert_string_equal(dom(p, "x.dot.test"), "3");
	assert_string_equal(dom(p, "x.y.dot.test"), "3");
	/* labels, never substrings */
	assert_string_equal(dom(p, "google.test"), "4");
	assert_string_equal(dom(p, "www.google.test"), "4");
	assert_string_equal(dom(p, "agoogle.test"), "");
	assert_string_equal(dom(p, "a.agoogle.test"), "");
	assert_string_equal(dom(p, "google.test.example"), "");
	/* single-label suffix */
	assert_string_equal(dom(p, "com"), "5");
	assert_string_equal(dom(p, "example.com"), "5");
	assert_string_equal(dom(p, "a.b.c.com"), "5");
	assert_string_equal(dom(p, "comx"), "");
	assert_string_equal(dom(p, "com.example"), "");
	/* names of the conformance corpus, case folding of entries */
	assert_string_equal(dom(p, "nx2500-242-4-server"), "6");
	assert_string_equal(dom(p, "upper.test"), "6");
	assert_string_equal(dom(p, "trailing.test"), "6");
	assert_string_equal(dom(p, "www.net1.bg"), "6");
	/* odd bytes in a label do not hide a subdomain */
	assert_string_equal(dom(p, "\xff\x01.dot.test"), "3");
	/* not domain names */
	assert_string_equal(dom(p, ""), "EINVAL");
	assert_string_equal(dom(p, "."), "EINVAL");
	assert_string_equal(dom(p, "a..dot.test"), "EINVAL");
	assert_string_equal(dom(p, ".dot.test"), "EINVAL");
	assert_string_equal(dom(p, "dot.test.."), "EINVAL");
	assert_string_equal(dom(p, "[2001:db8::1]:80"), "EINVAL");
	assert_string_equal(dom(p, "a:b:c"), "EINVAL");
	assert_string_equal(dom(p, "dot.test:8o"), "EINVAL");
	/* fields and counts */
	sl_hitset_clear(&h);
	assert_int_equal(sl_match_domain(p, "a.exact.test", 12, SL_FIELD_SNI, &h), 1);
	assert_int_equal(h.hit[0].field, SL_FIELD_SNI);
	assert_int_equal(sl_match_domain(p, "exact.test", 10, SL_FIELD_HOST, &h), 1); /* 7 already in */
	assert_int_equal(h.n, 2);
	/* length is honoured: no NUL needed */
	sl_hitset_clear(&h);
	assert_int_equal(sl_match_domain(p, "exact.testXYZ", 10, SL_FIELD_DNS, &h), 2);
	assert_true(sl_policy_has(p, SL_FIELD_DNS));
	assert_false(sl_policy_has(p, SL_FIELD_URL));
	assert_false(sl_policy_has(p, SL_FIELD_PAYLOAD));
	assert_false(sl_policy_has(p, SL_FIELD_IP));
	sl_policy_unref(p);
}

static void test_hitset(void **state)
{
	struct sl_hitset h;

	(void)state;
	sl_hitset_clear(&h);
	for (uint32_t i = 0; i < SL_HITS_MAX + 5; i++)
		sl_hitset_add(&h, i, SL_FIELD_IP, 0);
	assert_int_equal(h.n, SL_HITS_MAX);
	assert_int_equal(h.overflow, 5);
	assert_int_equal(sl_hitset_add(&h, 3, SL_FIELD_IP, 0), 0);
	assert_int_equal(h.overflow, 5);
	sl_hitset_clear(&h);
	assert_int_equal(sl_hitset_add(&h, 7, SL_FIELD_URL, 9), 1);
	assert_int_equal(sl_hitset_add(&h, 7, SL_FIELD_HOST, 0), 0);
	assert_int_equal(h.hit[0].field, SL_FIELD_URL);
	assert_int_equal(h.hit[0].to, 9);
}

static const char *url(const struct sl_policy *p, struct sl_scratch *s,
		       const char *host, const char *target)
{
	struct sl_hitset h;

	sl_hitset_clear(&h);
	if (sl_match_url(p, s, host, strlen(host), target, strlen(target), &h) < 0)
		return "EINVAL";
	return hit_ids_sorted(p, &h);
}

static void test_urls(void **state)
{
	struct sl_policy *p;
	struct sl_scratch *s = NULL;
	char *longpath;

	(void)state;
	p = compile_ok(HDR "rules = (\n"
		       R(10, "url = [ \"login.bank.example/verify*\" ];")
		       R(11, "url = [ \"www.net1.bg/cgi-bin/cart32.exe\" ];")
		       R(12, "url = [ \"*.shop.test/cart/*/pay\" ];")
		       R(13, "url = [ \"root.test\" ];")
		       R(14, "url = [ \"Case.Test/Path\" ];")
		       R(15, "url = [ \"*/evil.php*\" ];")
		       R(16, "url = [ \"[2001:DB8::1]/v6\" ];")
		       R(17, "url = [ \"long.test/a*\" ];")
		       R(18, "url = [ \"enc.test/a%2fb/%7Euser/caf%c3%a9\" ];")
		       "  { id = 19; name = \"r19\"; basis = \"t\"; action = \"log\"; match = { url = [ \"q.test/s?x=1\" ]; }; }\n"
		       ");\n");
	assert_int_equal(sl_scratch_alloc(p, &s), 0);
	/* prefix wildcard; host case-insensitive, :port ignored */
	assert_string_equal(url(p, s, "login.bank.example", "/verify"), "10");
	assert_string_equal(url(p, s, "login.bank.example", "/verify?x=1"), "10");
	assert_string_equal(url(p, s, "LOGIN.Bank.Example:80", "/verify/more"), "10");
	assert_string_equal(url(p, s, "login.bank.example.", "/verify"), "10");
	/* path case-sensitive */
	assert_string_equal(url(p, s, "login.bank.example", "/Verify"), "");
	assert_string_equal(url(p, s, "login.bank.example", "/verif"), "");
	assert_string_equal(url(p, s, "xlogin.bank.example", "/verify"), "");
	/* exact: nothing before, nothing after */
	assert_string_equal(url(p, s, "www.net1.bg", "/cgi-bin/cart32.exe"), "11");
	assert_string_equal(url(p, s, "www.net1.bg", "/cgi-bin/cart32.exe?a=1"), "");
	assert_string_equal(url(p, s, "www.net1.bg", "/cgi-bin/cart32.exe/"), "");
	assert_string_equal(url(p, s, "www.net1.bg", "/x/cgi-bin/cart32.exe"), "");
	assert_string_equal(url(p, s, "a.www.net1.bg", "/cgi-bin/cart32.exe"), "");
	/* normalisation: %-encoded unreserved characters, dot segments */
	assert_string_equal(url(p, s, "www.net1.bg", "/cgi-bin/%63art32%2Eexe"), "11");
	assert_string_equal(url(p, s, "www.net1.bg", "/cgi-bin/../cgi-bin/./cart32.exe"), "11");
	assert_string_equal(url(p, s, "www.net1.bg", "/a/../../cgi-bin/cart32.exe"), "11");
	/* absolute-form target carries the host */
	assert_string_equal(url(p, s, "other.test", "http://www.net1.bg/cgi-bin/cart32.exe"), "11");
	assert_string_equal(url(p, s, "", "HTTP://user@WWW.net1.bg:8080/cgi-bin/cart32.exe"), "11");
	/* '*' spans labels and path segments */
	assert_string_equal(url(p, s, "a.shop.test", "/cart/123/pay"), "12");
	assert_string_equal(url(p, s, "a.b.shop.test", "/cart/1/2/pay"), "12");
	assert_string_equal(url(p, s, "shop.test", "/cart/1/pay"), "");
	assert_string_equal(url(p, s, "a.shop.test", "/cart/1/pay/x"), "");
	/* no '/' in the pattern: the root page only */
	assert_string_equal(url(p, s, "root.test", "/"), "13");
	assert_string_equal(url(p, s, "root.test", ""), "13");
	assert_string_equal(url(p, s, "root.test", "*"), "13");
	assert_string_equal(url(p, s, "root.test", "/x"), "");
	/* host folded, path kept */
	assert_string_equal(url(p, s, "CASE.TEST", "/Path"), "14");
	assert_string_equal(url(p, s, "case.test", "/path"), "");
	/* any host ('*' also spans path segments) */
	assert_string_equal(url(p, s, "any.test", "/dir/evil.php?a=1"), "15");
	assert_string_equal(url(p, s, "any.test", "/evil.phz"), "");
	assert_string_equal(url(p, s, "any.test", "/evil.php?a=1"), "15");
	/* IPv6 literal host */
	assert_string_equal(url(p, s, "[2001:db8::1]:8080", "/v6"), "16");
	assert_string_equal(url(p, s, "[2001:db8::1", "/v6"), "EINVAL");
	/* a very long URL still matches an open pattern */
	longpath = malloc(70003);
	assert_non_null(longpath);
	longpath[0] = '/';
	longpath[1] = 'a';
	memset(longpath + 2, 'x', 70000);
	longpath[70002] = '\0';
	assert_string_equal(url(p, s, "long.test", longpath), "17");
	free(longpath);
	/* %2f stays encoded (reserved), unreserved decoded, raw UTF-8 encoded */
	assert_string_equal(url(p, s, "enc.test", "/a%2Fb/~user/caf\xc3\xa9"), "18");
	assert_string_equal(url(p, s, "enc.test", "/a/b/~user/caf%C3%A9"), "");
	/* query is part of an exact url */
	assert_string_equal(url(p, s, "q.test", "/s?x=1"), "19");
	assert_string_equal(url(p, s, "q.test", "/s?x=12"), "");
	assert_true(sl_policy_has(p, SL_FIELD_URL));
	sl_scratch_free(s);
	sl_policy_unref(p);
}

static const char *pay(const struct sl_policy *p, struct sl_scratch *s, const char *data,
		       uint64_t *to)
{
	struct sl_hitset h;

	sl_hitset_clear(&h);
	if (sl_match_payload(p, s, (const uint8_t *)data, strlen(data), &h) < 0)
		return "EINVAL";
	if (to)
		*to = h.n ? h.hit[0].to : 0;
	return hit_ids_sorted(p, &h);
}

static const char *PAYLOAD_POLICY =
	HDR "rules = (\n"
	R(20, "payload = [ \"EICAR-STANDARD-ANTIVIRUS-TEST-FILE\" ];")
	R(21, "payload = [ \"/evil[0-9]+payload/i\" ];")
	R(22, "payload = [ \"/^line2$/m\" ];")
	R(23, "payload = [ \"/a.b/s\" ];")
	R(24, "payload = [ \"/a.c/\" ];")
	R(25, "payload = [ \"Case\", \"\\x00\\x01bin\" ];")
	"  { id = 26; name = \"r26\"; basis = \"t\"; action = \"log\"; match = { payload = [ \"/^start/\" ]; }; }\n"
	");\n";

static void test_payload_block(void **state)
{
	struct sl_policy *p;
	struct sl_scratch *s = NULL;
	uint64_t to;

	(void)state;
	p = compile_ok(PAYLOAD_POLICY);
	assert_int_equal(sl_scratch_alloc(p, &s), 0);
	assert_string_equal(pay(p, s, "xxEICAR-STANDARD-ANTIVIRUS-TEST-FILEyy", &to), "20");
	assert_int_equal(to, 36);
	assert_string_equal(pay(p, s, "EICAR-STANDARD-ANTIVIRUS-TEST-FIL", NULL), "");
	assert_string_equal(pay(p, s, "..EVIL123PAYLOAD..", NULL), "21");
	assert_string_equal(pay(p, s, "evil7payload", NULL), "21");
	assert_string_equal(pay(p, s, "evilpayload", NULL), "");
	assert_string_equal(pay(p, s, "line1\nline2\nline3", NULL), "22");
	assert_string_equal(pay(p, s, "line1\nxline2\n", NULL), "");
	assert_string_equal(pay(p, s, "a\nb", NULL), "23");
	assert_string_equal(pay(p, s, "a\nc", NULL), "");
	assert_string_equal(pay(p, s, "abc", NULL), "24");
	assert_string_equal(pay(p, s, "case", NULL), "");
	assert_string_equal(pay(p, s, "a Case", NULL), "25");
	assert_string_equal(pay(p, s, "start here, evil1payload", NULL), "21,26");
	assert_string_equal(pay(p, s, "not at start", NULL), "");
	{
		struct sl_hitset h;
		const uint8_t bin[] = { 'x', 0, 1, 'b', 'i', 'n' };

		sl_hitset_clear(&h);
		assert_int_equal(sl_match_payload(p, s, bin, sizeof(bin), &h), 1);
		assert_int_equal(h.hit[0].field, SL_FIELD_PAYLOAD);
	}
	assert_true(sl_policy_has(p, SL_FIELD_PAYLOAD));
	sl_scratch_free(s);
	sl_policy_unref(p);
}

static int scan(const struct sl_policy *p, struct sl_pstream *st, struct sl_scratch *s,
		const char *chunk, struct sl_hitset *h)
{
	sl_hitset_clear(h);
	return sl_pstream_scan(p, st, s, (const uint8_t *)chunk, strlen(chunk), h);
}

static void test_payload_stream(void **state)
{
	struct sl_policy *p;
	struct sl_scratch *s = NULL;
	struct sl_pstream *a = NULL, *b = NULL;
	struct sl_hitset h;

	(void)state;
	p = compile_ok(PAYLOAD_POLICY);
	assert_int_equal(sl_scratch_alloc(p, &s), 0);
	assert_true(sl_pstream_size(p) > 0);
	assert_int_equal(sl_pstream_open(p, &a), 0);
	assert_int_equal(sl_pstream_open(p, &b), 0);
	/* a literal split over three chunks */
	assert_int_equal(scan(p, a, s, "xxEICAR-STAN", &h), 0);
	assert_int_equal(scan(p, b, s, "EVIL12", &h), 0);
	assert_int_equal(scan(p, a, s, "DARD-ANTIVIRUS-TE", &h), 0);
	assert_int_equal(scan(p, a, s, "ST-FILEyy", &h), 1);
	assert_string_equal(hit_ids(p, &h), "20");
	assert_int_equal(h.hit[0].to, 36); /* stream offset, not chunk offset */
	assert_int_equal(h.hit[0].field, SL_FIELD_PAYLOAD);
	/* a regex split over two chunks of another stream */
	assert_int_equal(scan(p, b, s, "3payLOAD", &h), 1);
	assert_string_equal(hit_ids(p, &h), "21");
	assert_int_equal(h.hit[0].to, 14);
	/* matches keep being reported on later chunks (no single-match) */
	assert_int_equal(scan(p, b, s, "..evil9payload", &h), 1);
	assert_int_equal(h.hit[0].to, 28);
	/* anchored regex only at the start of the stream */
	assert_int_equal(scan(p, a, s, "start", &h), 0);
	sl_pstream_close(a);
	sl_pstream_close(b);
	sl_pstream_close(NULL);
	assert_int_equal(sl_pstream_open(p, &a), 0);
	assert_int_equal(scan(p, a, s, "sta", &h), 0);
	assert_int_equal(scan(p, a, s, "rt", &h), 1);
	assert_string_equal(hit_ids(p, &h), "26");
	/* closing needs no policy: drop the policy first */
	sl_scratch_free(s);
	sl_policy_unref(p);
	sl_pstream_close(a);

	p = compile_ok(HDR "rules = (\n" RL(1, "domain = [ \"a.test\" ];") ");\n");
	assert_int_equal(sl_pstream_size(p), 0);
	assert_int_equal(sl_pstream_open(p, &a), -ENOENT);
	assert_null(a);
	s = NULL;
	assert_int_equal(sl_scratch_alloc(p, &s), 0);
	sl_hitset_clear(&h);
	assert_int_equal(sl_match_payload(p, s, (const uint8_t *)"x", 1, &h), 0);
	sl_scratch_free(s);
	sl_policy_unref(p);
}

static void test_scratch_grow(void **state)
{
	struct sl_policy *p1, *p2;
	struct sl_scratch *s = NULL;
	struct sl_hitset h;

	(void)state;
	p1 = compile_ok(HDR "rules = (\n" RL(1, "payload = [ \"abc\" ];") ");\n");
	p2 = compile_ok(HDR "rules = (\n" RL(2, "payload = [ \"/x[0-9]{2,40}y/\", \"zzz\" ]; url = [ \"a.test/*\" ];") ");\n");
	assert_int_equal(sl_scratch_alloc(p1, &s), 0);
	assert_int_equal(sl_scratch_alloc(p2, &s), 0);
	sl_hitset_clear(&h);
	assert_int_equal(sl_match_payload(p1, s, (const uint8_t *)"abc", 3, &h), 1);
	sl_hitset_clear(&h); /* rule indexes belong to one policy */
	assert_int_equal(sl_match_payload(p2, s, (const uint8_t *)"x1234y", 6, &h), 1);
	assert_int_equal(sl_match_url(p2, s, "a.test", 6, "/x", 2, &h), 0); /* rule 2 already in */
	assert_int_equal(h.n, 1);
	sl_scratch_free(s);
	sl_policy_unref(p1);
	sl_policy_unref(p2);
}

static const char *ip(const struct sl_policy *p, const char *a)
{
	struct sl_addr ad;
	struct sl_hitset h;

	assert_int_equal(sl_addr_parse(a, &ad), 0);
	sl_hitset_clear(&h);
	if (sl_match_ip(p, &ad, &h) < 0)
		return "EINVAL";
	for (uint32_t i = 0; i < h.n; i++)
		assert_int_equal(h.hit[i].field, SL_FIELD_IP);
	return hit_ids_sorted(p, &h);
}

struct pfx_seen {
	const struct sl_policy *p;
	char out[2048];
	size_t o;
	int n;
};

static int collect(void *ctx, const struct sl_addr *prefix, uint8_t depth, uint32_t ruleset)
{
	struct pfx_seen *c = ctx;
	const uint32_t *r;
	uint32_t n = sl_policy_ruleset(c->p, ruleset, &r);
	char a[64];

	c->o += (size_t)snprintf(c->out + c->o, sizeof(c->out) - c->o, "%s/%u=",
				 sl_addr_str(prefix, a, sizeof(a)), depth);
	for (uint32_t i = 0; i < n; i++)
		c->o += (size_t)snprintf(c->out + c->o, sizeof(c->out) - c->o, "%s%u",
					 i ? "," : "", sl_policy_rule(c->p, r[i])->id);
	c->o += (size_t)snprintf(c->out + c->o, sizeof(c->out) - c->o, " ");
	c->n++;
	return 0;
}

static int stop_at_two(void *ctx, const struct sl_addr *prefix, uint8_t depth, uint32_t ruleset)
{
	int *n = ctx;

	(void)prefix;
	(void)depth;
	(void)ruleset;
	return ++*n == 2 ? 7 : 0;
}

static void test_cidr(void **state)
{
	struct sl_policy *p;
	struct pfx_seen c;
	struct sl_addr unset;
	struct sl_hitset h;
	int n = 0;

	(void)state;
	p = compile_ok(HDR "rules = (\n"
		       R(30, "ip = [ \"198.51.100.0/24\" ];")
		       R(31, "ip = [ \"198.51.100.128/25\" ];")
		       R(32, "ip = [ \"198.51.100.200/32\", \"2001:db8:bad::/48\" ];")
		       R(33, "ip = [ \"0.0.0.0/0\" ];")
		       R(34, "ip = [ \"2001:db8::/32\", \"2001:db8::/32\" ];")
		       R(35, "ip = [ \"2001:db8:bad:1::/64\", \"::ffff:203.0.113.0/120\" ];")
		       "  { id = 36; name = \"r36\"; basis = \"t\"; action = \"log\"; match = { ip = [ \"198.51.100.0/24\", \"203.0.113.9\" ]; }; }\n"
		       ");\n");
	assert_string_equal(ip(p, "198.51.100.1"), "30,33,36");
	assert_string_equal(ip(p, "198.51.100.127"), "30,33,36");
	assert_string_equal(ip(p, "198.51.100.128"), "30,31,33,36");
	assert_string_equal(ip(p, "198.51.100.200"), "30,31,32,33,36");
	assert_string_equal(ip(p, "198.51.100.201"), "30,31,33,36");
	assert_string_equal(ip(p, "198.51.100.255"), "30,31,33,36");
	assert_string_equal(ip(p, "198.51.101.0"), "33");
	assert_string_equal(ip(p, "192.0.2.1"), "33");
	assert_string_equal(ip(p, "255.255.255.255"), "33");
	assert_string_equal(ip(p, "0.0.0.0"), "33");
	assert_string_equal(ip(p, "203.0.113.9"), "33,35,36");
	assert_string_equal(ip(p, "203.0.113.10"), "33,35");
	assert_string_equal(ip(p, "2001:db8::1"), "34");
	assert_string_equal(ip(p, "2001:db8:bad::1"), "32,34");
	assert_string_equal(ip(p, "2001:db8:bad:1::5"), "32,34,35");
	assert_string_equal(ip(p, "2001:db8:bad:2::5"), "32,34");
	assert_string_equal(ip(p, "2001:db8:bae::"), "34");
	assert_string_equal(ip(p, "2001:db9::1"), "");
	assert_string_equal(ip(p, "::"), "");
	assert_string_equal(ip(p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "");
	/* IPv4-mapped IPv6 is looked up as IPv4 */
	assert_string_equal(ip(p, "::ffff:198.51.100.200"), "30,31,32,33,36");
	memset(&unset, 0, sizeof(unset));
	sl_hitset_clear(&h);
	assert_int_equal(sl_match_ip(p, &unset, &h), -EINVAL);

	memset(&c, 0, sizeof(c));
	c.p = p;
	assert_int_equal(sl_policy_foreach_prefix(p, collect, &c), 0);
	assert_int_equal(c.n, 9);
	assert_string_equal(c.out,
		"0.0.0.0/0=33 "
		"198.51.100.0/24=30,33,36 "
		"198.51.100.128/25=30,31,33,36 "
		"198.51.100.200/32=30,31,32,33,36 "
		"203.0.113.0/24=33,35 "
		"203.0.113.9/32=33,35,36 "
		"2001:db8::/32=34 "
		"2001:db8:bad::/48=32,34 "
		"2001:db8:bad:1::/64=32,34,35 ");
	assert_int_equal(sl_policy_foreach_prefix(p, stop_at_two, &n), 7);
	assert_int_equal(n, 2);
	{
		struct sl_policy_stats st;

		sl_policy_get_stats(p, &st);
		assert_int_equal(st.cidrs, 9);
	}
	{
		const uint32_t *r;

		assert_int_equal(sl_policy_ruleset(p, 0, &r), 0);
		assert_int_equal(sl_policy_ruleset(p, 1u << 30, &r), 0);
	}
	assert_true(sl_policy_has(p, SL_FIELD_IP));
	sl_policy_unref(p);
}

static int zone_has(const struct sl_policy *p, const char *z, const char *a)
{
	struct sl_addr ad;

	assert_int_equal(sl_addr_parse(a, &ad), 0);
	return sl_zone_contains(p, sl_policy_find_zone(p, z), &ad);
}

static void test_zones_file(void **state)
{
	struct sl_policy *p;
	struct sl_policy_stats st;
	char name[1024];

	(void)state;
	snprintf(name, sizeof(name), "%s/zones.cfg", fixtures());
	p = compile_ok_named(HDR
			     "zones = {\n"
			     "  home = { cidr = [ \"192.0.2.0/25\", \"192.0.2.128/25\", \"2001:db8:1::/48\", \"192.0.2.7\" ]; };\n"
			     "  lab = { cidr = [ \"198.51.100.64/26\" ]; file = [ \"zones/lab.txt\" ]; };\n"
			     "};\n"
			     "rules = (\n" RL(1, "domain = [ \"a.test\" ]; origin = \"home\";") ");\n",
			     name);
	assert_int_equal(zone_has(p, "home", "192.0.2.0"), 1);
	assert_int_equal(zone_has(p, "home", "192.0.2.200"), 1);
	assert_int_equal(zone_has(p, "home", "192.0.2.255"), 1);
	assert_int_equal(zone_has(p, "home", "192.0.3.0"), 0);
	assert_int_equal(zone_has(p, "home", "192.0.1.255"), 0);
	assert_int_equal(zone_has(p, "home", "2001:db8:1::9"), 1);
	assert_int_equal(zone_has(p, "home", "2001:db8:2::1"), 0);
	assert_int_equal(zone_has(p, "home", "::ffff:192.0.2.9"), 1);
	assert_int_equal(zone_has(p, "lab", "198.51.100.70"), 1);
	assert_int_equal(zone_has(p, "lab", "198.51.100.1"), 0);
	/* from zones/lab.txt */
	assert_int_equal(zone_has(p, "lab", "203.0.113.77"), 1);
	assert_int_equal(zone_has(p, "lab", "2001:db8:ab::1"), 1);
	assert_int_equal(zone_has(p, "lab", "192.0.2.1"), 0);
	assert_int_equal(zone_has(p, "nosuch", "192.0.2.1"), 0);
	assert_int_equal(sl_zone_contains(p, 0, NULL), 0);
	sl_policy_get_stats(p, &st);
	assert_int_equal(st.zones, 2);
	assert_int_equal(st.zone_cidrs, 7);
	sl_policy_unref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_hitset),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_payload_block),
		cmocka_unit_test(test_payload_stream),
		cmocka_unit_test(test_scratch_grow),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_zones_file),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
