/* The documented example (samples/example/policy.cfg with its zone and
 * list files) compiles and its test vectors pass; every policy of the
 * conformance corpus compiles. */
#include <glob.h>

#include "helpers.h"

static void test_example(void **state)
{
	struct sl_compile_opts o = { .now = T_NOW, .keep_tests = true };
	struct sl_policy *p = NULL;
	struct sl_policy_stats st;
	struct sl_scratch *s = NULL;
	struct sl_hitset h;
	struct sl_verdict v;
	struct sl_match_ctx c;
	struct sl_addr foreign, home;
	struct sl_diag d;
	char path[1024];
	unsigned passed = 0;
	const struct sl_rule *r;

	(void)state;
	snprintf(path, sizeof(path), "%s/samples/example/policy.cfg", source_root());
	sl_diag_init(&d);
	if (sl_policy_compile_file(path, &o, &p, &d) != 0) {
		dump_diag(&d);
		fail();
	}
	assert_int_equal(d.n, 0); /* not even a warning */
	assert_string_equal(sl_policy_meta(p)->name, "example-operator");
	assert_string_equal(sl_policy_meta(p)->revision, "2026-11-23.1");
	sl_policy_get_stats(p, &st);
	assert_int_equal(st.rules, 1);
	assert_int_equal(st.zones, 1);
	assert_int_equal(st.authorities, 1);
	assert_int_equal(st.domains, 6);
	assert_int_equal(st.urls, 1);
	assert_int_equal(st.payloads, 2);
	assert_int_equal(st.cidrs, 2);

	assert_int_equal(sl_policy_run_tests(p, &d, &passed), 0);
	assert_int_equal(passed, 3);
	assert_int_equal(d.n, 0);

	r = sl_policy_rule(p, 0);
	assert_int_equal(r->id, 1001);
	assert_string_equal(r->basis, "CSL Art.47");
	assert_string_equal(r->authority, "dept-2026-017");
	assert_string_equal(r->authority_name, "Example competent department");
	assert_string_equal(r->order, "Order 2026-017");
	assert_int_equal(r->action, SL_ACT_RESET);
	assert_int_equal(r->expires, 1798761600); /* 2027-01-01T00:00:00Z */

	/* the domains from lists/phish.txt */
	assert_string_equal(dom(p, "secure-login.bank.test"), "1001");
	assert_string_equal(dom(p, "x.account-verify.test"), "1001");
	assert_string_equal(dom(p, "account-verify.test"), "");
	assert_string_equal(dom(p, "paypal-login.example"), "1001");
	assert_string_equal(dom(p, "a.malware.test"), "1001");

	/* constraints: tcp, ports 80/443, origin outside "domestic" (inline
	 * CIDRs plus zones/domestic.txt) */
	sl_addr_parse("203.0.113.5", &foreign);
	sl_addr_parse("2001:db8:1000::7", &home);
	assert_int_equal(sl_zone_contains(p, 0, &home), 1);
	memset(&c, 0, sizeof(c));
	c.proto = SL_PROTO_TCP;
	c.server_port = 443;
	c.origin = &foreign;
	c.now = T_NOW;
	assert_int_equal(sl_scratch_alloc(p, &s), 0);
	sl_hitset_clear(&h);
	assert_int_equal(sl_match_payload(p, s, (const uint8_t *)"..Evil42PayLoad..", 17, &h), 1);
	sl_decide(p, &h, &c, &v);
	assert_int_equal(v.action, SL_ACT_RESET);
	c.origin = &home;
	sl_decide(p, &h, &c, &v);
	assert_int_equal(v.action, SL_ACT_NONE);
	c.origin = &foreign;
	c.now = 1798761600;
	sl_decide(p, &h, &c, &v);
	assert_int_equal(v.action, SL_ACT_NONE);
	sl_scratch_free(s);
	sl_policy_unref(p);
	sl_diag_free(&d);
}

static void test_failing_vectors(void **state)
{
	struct sl_policy *p;
	struct sl_diag d;
	unsigned passed = 0;

	(void)state;
	p = compile_ok(HDR "rules = (\n"
		       "  { id = 5; name = \"r\"; basis = \"b\"; action = \"log\";\n"
		       "    match = { domain = [ \"*.a.test\" ]; url = [ \"u.test/x*\" ];\n"
		       "              payload = [ \"/ab+c/\" ]; ip = [ \"192.0.2.0/24\" ]; port = [ 1 ]; };\n"
		       "    tests = {\n"
		       "      match = [ \"domain:x.a.test\", \"domain:a.test\", \"url:u.test/xyz\",\n"
		       "                \"payload:abbbc\", \"ip:192.0.2.9\", \"ip:2001:db8::1\" ];\n"
		       "      nomatch = [ \"domain:b.test\",\n"
		       "                  \"payload:zabcz\" ];\n"
		       "    };\n"
		       "  }\n"
		       ");\n");
	sl_diag_init(&d);
	assert_int_equal(sl_policy_run_tests(p, &d, &passed), 3);
	assert_int_equal(passed, 5);
	assert_diag(&d, "p.cfg:7: rule 5: test \"domain:a.test\" should match but does not");
	assert_diag(&d, "p.cfg:8: rule 5: test \"ip:2001:db8::1\" should match but does not");
	assert_diag(&d, "p.cfg:10: rule 5: test \"payload:zabcz\" should not match but does");
	sl_policy_unref(p);
	sl_diag_free(&d);
}

static void test_conformance_policies(void **state)
{
	char pat[1024];
	glob_t g;
	size_t n = 0;

	(void)state;
	snprintf(pat, sizeof(pat), "%s/tests/fixtures/conformance/*/policy.cfg", source_root());
	if (glob(pat, 0, NULL, &g) != 0)
		skip();
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct sl_policy *p = NULL;
		struct sl_diag d;

		sl_diag_init(&d);
		if (sl_policy_compile_file(g.gl_pathv[i], NULL, &p, &d) != 0) {
			dump_diag(&d);
			fail_msg("%s does not compile", g.gl_pathv[i]);
		}
		assert_int_equal(d.errors, 0);
		sl_policy_unref(p);
		sl_diag_free(&d);
		n++;
	}
	globfree(&g);
	assert_true(n >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_failing_vectors),
		cmocka_unit_test(test_conformance_policies),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
