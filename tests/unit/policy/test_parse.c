/* Policy parser tests: every kind of error is reported as FILE:LINE with
 * the rule id, all of them in one run; warnings do not fail the compile. */
#include <errno.h>

#include "helpers.h"

static char *fx(const char *rest)
{
	static char buf[8][1024];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]), "%s/%s", fixtures(), rest);
	return b;
}

static void test_syntax_error(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR "rules = (\n  { id = = 1; }\n);\n", &d);
	assert_diag(&d, "p.cfg:3: syntax error");
	assert_int_equal(d.errors, 1);
	sl_diag_free(&d);
}

static void test_unknown_keys(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR
		    "foo = 1;\n"
		    "zones = { z = { cidr = [ \"192.0.2.0/24\" ]; cidrs = [ ]; }; };\n"
		    "authorities = ( { id = \"a\"; name = \"A\"; phone = \"1\"; } );\n"
		    "rules = ( { id = 7; name = \"r\"; basis = \"b\"; action = \"log\"; colour = 1;\n"
		    "  match = { domain = [ \"x.test\" ]; dommain = [ \"y.test\" ]; };\n"
		    "  tests = { match = [ \"domain:x.test\" ]; maybe = [ ]; }; } );\n",
		    &d);
	assert_diag(&d, "p.cfg:2: unknown key \"foo\"");
	assert_diag(&d, "p.cfg:3: zone z: unknown key \"cidrs\"");
	assert_diag(&d, "p.cfg:4: authority a: unknown key \"phone\"");
	assert_diag(&d, "p.cfg:5: rule 7: unknown key \"colour\"");
	assert_diag(&d, "p.cfg:6: rule 7: unknown key \"dommain\" in match");
	assert_diag(&d, "p.cfg:7: rule 7: unknown key \"maybe\" in tests");
	assert_int_equal(d.errors, 6);
	sl_diag_free(&d);

	compile_err("policy = { name = \"t\"; revision = \"1\"; owner = \"x\"; };\n", &d);
	assert_diag(&d, "p.cfg:1: unknown key \"owner\" in policy");
	sl_diag_free(&d);
}

static void test_wrong_types(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR
		    "rules = (\n"
		    " { id = \"7\"; name = \"r\"; basis = \"b\"; action = \"log\"; match = { domain = [ \"x.test\" ]; }; },\n"
		    " { id = 8; name = 8; basis = \"b\"; action = \"log\"; record = 1; match = { domain = \"x.test\"; }; },\n"
		    " { id = 9; name = \"r\"; basis = \"b\"; action = \"log\"; match = { domain = ( \"x.test\", 5 ); port = \"80\"; }; },\n"
		    " { id = 10; name = \"r\"; basis = \"b\"; action = \"log\"; match = [ 1 ]; }\n"
		    ");\n",
		    &d);
	assert_diag(&d, "p.cfg:3: rule #1: \"id\" must be a positive integer");
	assert_diag(&d, "p.cfg:4: rule 8: \"name\" must be a string");
	assert_diag(&d, "p.cfg:4: rule 8: \"record\" must be true or false");
	assert_diag(&d, "p.cfg:4: rule 8: \"domain\" must be a list of strings");
	assert_diag(&d, "p.cfg:5: rule 9: \"domain\" entries must be strings");
	assert_diag(&d, "p.cfg:5: rule 9: \"port\" must be a list of port numbers");
	assert_diag(&d, "p.cfg:6: rule 10: \"match\" must be a group");
	assert_int_equal(d.errors, 7);
	sl_diag_free(&d);

	compile_err(HDR "rules = { };\n", &d);
	assert_diag(&d, "p.cfg:2: \"rules\" must be a list");
	sl_diag_free(&d);
	compile_err(HDR "zones = ( );\nauthorities = { };\n", &d);
	assert_diag(&d, "p.cfg:2: \"zones\" must be a group");
	assert_diag(&d, "p.cfg:3: \"authorities\" must be a list");
	sl_diag_free(&d);
}

static void test_duplicate_id(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR
		    "rules = (\n"
		    "  { id = 5; name = \"a\"; basis = \"b\"; action = \"log\"; match = { domain = [ \"a.test\" ]; }; },\n"
		    "  { id = 6; name = \"b\"; basis = \"b\"; action = \"log\"; match = { domain = [ \"b.test\" ]; }; },\n"
		    "  { id = 5; name = \"c\"; basis = \"b\"; action = \"log\"; match = { domain = [ \"c.test\" ]; }; }\n"
		    ");\n",
		    &d);
	assert_diag(&d, "p.cfg:5: rule 5: duplicate id (also used at p.cfg:3)");
	assert_int_equal(d.errors, 1);
	sl_diag_free(&d);
}

static void test_bad_ids(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR
		    "rules = (\n"
		    "  { id = 0; name = \"a\"; basis = \"b\"; action = \"log\"; match = { domain = [ \"a.test\" ]; }; },\n"
		    "  { id = 4294967296L; name = \"b\"; basis = \"b\"; action = \"log\"; match = { domain = [ \"b.test\" ]; }; },\n"
		    "  { name = \"c\"; basis = \"b\"; action = \"log\"; match = { domain = [ \"c.test\" ]; }; },\n"
		    "  { id = -3; name = \"d\"; basis = \"b\"; action = \"lg\"; match = { domain = [ \"c.test\" ]; }; }\n"
		    ");\n",
		    &d);
	assert_diag(&d, "p.cfg:3: rule #1: \"id\" must be a positive integer below 2^32, not 0");
	assert_diag(&d, "p.cfg:4: rule #2: \"id\" must be a positive integer below 2^32, not 4294967296");
	assert_diag(&d, "p.cfg:5: rule #3: missing \"id\"");
	assert_diag(&d, "p.cfg:6: rule #4: \"id\" must be a positive integer below 2^32, not -3");
	assert_diag(&d, "p.cfg:6: rule #4: unknown action \"lg\"");
	assert_int_equal(d.errors, 5);
	sl_diag_free(&d);
}

static void test_missing_basis(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR
		    "rules = (\n"
		    "  { id = 5; name = \"a\"; action = \"log\"; match = { domain = [ \"a.test\" ]; }; },\n"
		    "  { id = 6; name = \"b\"; basis = \"\"; action = \"log\"; match = { domain = [ \"b.test\" ]; }; },\n"
		    "  { id = 7; basis = \"x\"; action = \"log\"; match = { domain = [ \"b.test\" ]; }; },\n"
		    "  { id = 8; name = \"d\"; basis = \"x\"; action = \"log\"; }\n"
		    ");\n",
		    &d);
	assert_diag(&d, "p.cfg:3: rule 5: missing \"basis\" (the legal basis is required)");
	assert_diag(&d, "p.cfg:4: rule 6: \"basis\" must not be empty");
	assert_diag(&d, "p.cfg:5: rule 7: missing \"name\"");
	assert_diag(&d, "p.cfg:6: rule 8: missing \"match\"");
	assert_int_equal(d.errors, 4);
	sl_diag_free(&d);
}

static void test_unknown_authority_and_zone(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR
		    "zones = { home = { cidr = [ \"192.0.2.0/24\" ]; }; };\n"
		    "authorities = ( { id = \"a1\"; name = \"A\"; } );\n"
		    "rules = (\n"
		    "  { id = 1; name = \"r\"; basis = \"b\"; action = \"log\"; authority = \"a2\";\n"
		    "    match = { domain = [ \"a.test\" ]; origin = \"abroad\"; }; },\n"
		    "  { id = 2; name = \"r\"; basis = \"b\"; action = \"log\"; authority = \"a1\";\n"
		    "    match = { domain = [ \"a.test\" ]; origin = \"!nowhere\"; }; }\n"
		    ");\n",
		    &d);
	assert_diag(&d, "p.cfg:5: rule 1: unknown authority \"a2\"");
	assert_diag(&d, "p.cfg:6: rule 1: unknown zone \"abroad\" in origin");
	assert_diag(&d, "p.cfg:8: rule 2: unknown zone \"nowhere\" in origin");
	assert_int_equal(d.errors, 3);
	sl_diag_free(&d);

	compile_err(HDR
		    "authorities = ( { id = \"a1\"; name = \"A\"; },\n"
		    "                { id = \"a1\"; name = \"B\"; },\n"
		    "                { name = \"C\"; } );\n",
		    &d);
	assert_diag(&d, "p.cfg:3: authority a1: duplicate id (also used at p.cfg:2)");
	assert_diag(&d, "p.cfg:4: authority #3: missing \"id\"");
	sl_diag_free(&d);
}

static void test_bad_cidr(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR
		    "zones = { home = { cidr = [ \"192.0.2.0/24\", \"192.0.2.0/\", \"2001:db8::/129\" ]; }; };\n"
		    "rules = ( { id = 1; name = \"r\"; basis = \"b\"; action = \"log\";\n"
		    "  match = { ip = [ \"198.51.100.0/24\",\n"
		    "                   \"198.51.100.0/33\",\n"
		    "                   \"198.51.100.300\",\n"
		    "                   \"2001:db8::/64/1\" ]; }; } );\n",
		    &d);
	assert_diag(&d, "p.cfg:2: zone home: bad CIDR \"192.0.2.0/\": bad prefix length (0..32)");
	assert_diag(&d, "p.cfg:2: zone home: bad CIDR \"2001:db8::/129\": prefix length 129 out of range (0..128)");
	assert_diag(&d, "p.cfg:5: rule 1: bad CIDR \"198.51.100.0/33\": prefix length 33 out of range (0..32)");
	assert_diag(&d, "p.cfg:6: rule 1: bad CIDR \"198.51.100.300\": \"198.51.100.300\" is not an IPv4 or IPv6 address");
	assert_diag(&d, "p.cfg:7: rule 1: bad CIDR \"2001:db8::/64/1\": bad prefix length (0..128)");
	assert_int_equal(d.errors, 5);
	sl_diag_free(&d);
}

static void test_host_bits_warning(void **state)
{
	struct sl_compile_opts o = { .now = T_NOW };
	struct sl_policy *p = NULL;
	struct sl_diag d;
	struct sl_addr a;
	struct sl_hitset h;

	(void)state;
	sl_diag_init(&d);
	assert_int_equal(sl_policy_compile_text(HDR
		"rules = ( { id = 1; name = \"r\"; basis = \"b\"; action = \"log\";\n"
		"  match = { ip = [ \"198.51.100.7/24\" ]; }; } );\n", "p.cfg", &o, &p, &d), 0);
	assert_non_null(p);
	assert_int_equal(d.errors, 0);
	assert_diag(&d, "p.cfg:3: warning: rule 1: \"198.51.100.7/24\" has host bits set; using 198.51.100.0/24");
	sl_addr_parse("198.51.100.200", &a);
	sl_hitset_clear(&h);
	assert_int_equal(sl_match_ip(p, &a, &h), 1);
	sl_policy_unref(p);
	sl_diag_free(&d);
}

static void test_bad_regex_lines(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR
		    "rules = ( { id = 42; name = \"r\"; basis = \"b\"; action = \"log\";\n"
		    "  match = { payload = [\n"
		    "    \"literal\",\n"
		    "    \"/ok[0-9]+/i\",\n"
		    "    \"/bad(/\",\n"
		    "    \"/x/z\",\n"
		    "    \"/a*/\"\n"
		    "  ]; }; } );\n",
		    &d);
	assert_diag(&d, "p.cfg:6: rule 42: payload regex \"/bad(/\": Missing close parenthesis");
	assert_diag(&d, "p.cfg:7: rule 42: payload regex \"/x/z\": unknown flag 'z'");
	assert_diag(&d, "p.cfg:8: rule 42: payload regex \"/a*/\": Pattern matches empty buffer");
	assert_int_equal(d.errors, 3);
	sl_diag_free(&d);

	compile_err(HDR
		    "rules = ( { id = 43; name = \"r\"; basis = \"b\"; action = \"log\";\n"
		    "  match = { payload = [ \"\", \"/unterminated\", \"//\" ]; }; } );\n",
		    &d);
	assert_diag(&d, "p.cfg:3: rule 43: empty payload");
	assert_diag(&d, "p.cfg:3: rule 43: payload regex \"/unterminated\" must be /expression/flags");
	assert_diag(&d, "p.cfg:3: rule 43: payload regex \"//\" is empty");
	sl_diag_free(&d);
}

static void test_list_file_errors(void **state)
{
	struct sl_diag d;
	char want[2048];

	(void)state;
	compile_err_named(HDR
			  "zones = { home = { file = \"zones/bad.txt\"; }; };\n"
			  "rules = ( { id = 3; name = \"r\"; basis = \"b\"; action = \"log\";\n"
			  "  match = { domain_file = [ \"lists/bad.txt\",\n"
			  "                            \"lists/none.txt\" ]; }; } );\n",
			  fx("inline.cfg"), &d);
	snprintf(want, sizeof(want), "%s:3: zone home: bad CIDR \"192.0.2.0/40\"", fx("zones/bad.txt"));
	assert_diag(&d, want);
	snprintf(want, sizeof(want), "%s:3: rule 3: bad domain \"bad..test\": empty label", fx("lists/bad.txt"));
	assert_diag(&d, want);
	snprintf(want, sizeof(want), "%s:7: rule 3: bad domain \"white space.test\": invalid character ' '",
		 fx("lists/bad.txt"));
	assert_diag(&d, want);
	snprintf(want, sizeof(want), "%s:5: rule 3: cannot read domain_file \"%s\": No such file or directory",
		 fx("inline.cfg"), fx("lists/none.txt"));
	assert_diag(&d, want);
	assert_int_equal(d.errors, 4);
	sl_diag_free(&d);
}

static void test_bad_vectors(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR
		    "rules = ( { id = 9; name = \"r\"; basis = \"b\"; action = \"log\";\n"
		    "  match = { domain = [ \"a.test\" ]; };\n"
		    "  tests = { match = [ \"foo:bar\", \"nocolon\" ];\n"
		    "            nomatch = [ \"domain:\", \"ip:300.1.1.1\", \"url:nohost\", \"domain:a..test\" ]; }; } );\n",
		    &d);
	assert_diag(&d, "p.cfg:4: rule 9: bad test vector \"foo:bar\": unknown field \"foo\"");
	assert_diag(&d, "p.cfg:4: rule 9: bad test vector \"nocolon\": expected FIELD:VALUE");
	assert_diag(&d, "p.cfg:5: rule 9: bad test vector \"domain:\": empty value");
	assert_diag(&d, "p.cfg:5: rule 9: bad test vector \"ip:300.1.1.1\": not an IP address");
	assert_diag(&d, "p.cfg:5: rule 9: bad test vector \"url:nohost\": expected url:HOST/PATH");
	assert_diag(&d, "p.cfg:5: rule 9: bad test vector \"domain:a..test\": not a domain name");
	assert_int_equal(d.errors, 6);
	sl_diag_free(&d);
}

static void test_bad_values(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR
		    "rules = (\n"
		    "  { id = 1; name = \"r\"; basis = \"b\"; action = \"rst\"; match = { domain = [ \"a.test\" ]; }; },\n"
		    "  { id = 2; name = \"r\"; basis = \"b\"; action = \"log\"; mode = \"audit\"; match = { domain = [ \"a.test\" ]; }; },\n"
		    "  { id = 3; name = \"r\"; basis = \"b\"; action = \"log\"; expires = \"2027-02-30\"; match = { domain = [ \"a.test\" ]; }; },\n"
		    "  { id = 4; name = \"r\"; basis = \"b\"; action = \"log\"; expires = \"2027-01-01T24:00:00Z\"; match = { domain = [ \"a.test\" ]; }; },\n"
		    "  { id = 5; name = \"r\"; basis = \"b\"; action = \"log\"; expires = \"next week\"; match = { domain = [ \"a.test\" ]; }; },\n"
		    "  { id = 6; name = \"r\"; basis = \"b\"; action = \"log\"; match = { domain = [ \"a.test\" ]; port = [ 80, 0, 65536 ]; }; },\n"
		    "  { id = 7; name = \"r\"; basis = \"b\"; action = \"log\"; match = { domain = [ \"a.test\" ]; proto = \"sctp\"; }; },\n"
		    "  { id = 8; name = \"r\"; basis = \"b\"; match = { domain = [ \"a.test\" ]; }; }\n"
		    ");\n",
		    &d);
	assert_diag(&d, "p.cfg:3: rule 1: unknown action \"rst\" (allow, log, drop, reset or block-page)");
	assert_diag(&d, "p.cfg:4: rule 2: unknown mode \"audit\" (enforce or shadow)");
	assert_diag(&d, "p.cfg:5: rule 3: bad date \"2027-02-30\" in expires");
	assert_diag(&d, "p.cfg:6: rule 4: bad date \"2027-01-01T24:00:00Z\" in expires");
	assert_diag(&d, "p.cfg:7: rule 5: bad date \"next week\" in expires");
	assert_diag(&d, "p.cfg:8: rule 6: bad port 0 (must be 1..65535)");
	assert_diag(&d, "p.cfg:8: rule 6: bad port 65536 (must be 1..65535)");
	assert_diag(&d, "p.cfg:9: rule 7: unknown proto \"sctp\" (tcp or udp)");
	assert_diag(&d, "p.cfg:10: rule 8: missing \"action\"");
	assert_int_equal(d.errors, 9);
	sl_diag_free(&d);
}

static void test_bad_domains_and_urls(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err(HDR
		    "rules = ( { id = 1; name = \"r\"; basis = \"b\"; action = \"log\"; match = {\n"
		    "  domain = [ \"ok.test\", \"a..b\", \"*.\", \"x*.test\", \"a.test:443\", \"\\xc3\\xbcmlaut.test\", \"a/b\", \".\" ];\n"
		    "  url = [ \"https://a.test/\", \"/path\", \"a.test:8080/x\", \"a b.test/\", \"ok.test/*\" ]; }; } );\n",
		    &d);
	assert_diag(&d, "p.cfg:3: rule 1: bad domain \"a..b\": empty label");
	assert_diag(&d, "p.cfg:3: rule 1: bad domain \"*.\": empty name");
	assert_diag(&d, "p.cfg:3: rule 1: bad domain \"x*.test\": '*' is only allowed as a leading \"*.\"");
	assert_diag(&d, "p.cfg:3: rule 1: bad domain \"a.test:443\": a domain has no :port");
	assert_diag(&d, "p.cfg:3: rule 1: bad domain \"\xc3\xbcmlaut.test\": non-ASCII byte 0xc3");
	assert_diag(&d, "p.cfg:3: rule 1: bad domain \"a/b\": a domain has no path");
	assert_diag(&d, "p.cfg:3: rule 1: bad domain \".\": empty name");
	assert_diag(&d, "p.cfg:4: rule 1: bad url \"https://a.test/\": write host/path without a scheme");
	assert_diag(&d, "p.cfg:4: rule 1: bad url \"/path\": missing host");
	assert_diag(&d, "p.cfg:4: rule 1: bad url \"a.test:8080/x\": a url host has no :port");
	assert_diag(&d, "p.cfg:4: rule 1: bad url \"a b.test/\": whitespace or control character");
	assert_int_equal(d.errors, 11);
	sl_diag_free(&d);
}

static void test_missing_policy_group(void **state)
{
	struct sl_diag d;

	(void)state;
	compile_err("rules = ( );\n", &d);
	assert_diag(&d, "p.cfg:1: missing \"policy\" group");
	sl_diag_free(&d);
	compile_err("policy = { name = \"x\"; };\n", &d);
	assert_diag(&d, "p.cfg:1: policy: missing \"revision\"");
	sl_diag_free(&d);
}

static void test_expired_warning(void **state)
{
	struct sl_compile_opts o = { .now = T_NOW };
	struct sl_policy *p = NULL;
	struct sl_diag d;
	const struct sl_rule *r;

	(void)state;
	sl_diag_init(&d);
	assert_int_equal(sl_policy_compile_text(HDR
		"rules = (\n"
		"  { id = 1; name = \"old\"; basis = \"b\"; action = \"drop\"; expires = \"2026-01-01\";\n"
		"    match = { domain = [ \"a.test\" ]; }; },\n"
		"  { id = 2; name = \"new\"; basis = \"b\"; action = \"drop\"; expires = \"2026-07-01T12:30:00Z\";\n"
		"    match = { domain = [ \"a.test\" ]; }; }\n"
		");\n", "p.cfg", &o, &p, &d), 0);
	assert_int_equal(d.errors, 0);
	assert_diag(&d, "p.cfg:3: warning: rule 1: expired at 2026-01-01T00:00:00Z: loaded but inactive");
	assert_false(diag_has(&d, "p.cfg:5: warning"));
	r = sl_policy_rule(p, 0);
	assert_int_equal(r->id, 1);
	assert_int_equal(r->expires, 1767225600);
	assert_false(sl_rule_active(r, T_NOW));
	r = sl_policy_rule(p, 1);
	assert_int_equal(r->expires, 1782909000);
	assert_true(sl_rule_active(r, T_NOW));
	assert_false(sl_rule_active(r, 1782909000));
	sl_policy_unref(p);
	sl_diag_free(&d);
}

static void test_minimal_form(void **state)
{
	struct sl_policy *p;
	const struct sl_rule *r;

	(void)state;
	p = compile_ok("policy = { name = \"x\"; revision = \"1\"; }; rules = ( { id = 1; name = \"r1\"; basis = \"test\"; action = \"log\"; match = { domain = [ \".windowsupdate.com\" ]; }; } );");
	assert_int_equal(sl_policy_nrules(p), 1);
	r = sl_policy_rule(p, 0);
	assert_int_equal(r->action, SL_ACT_LOG);
	assert_int_equal(r->mode, SL_MODE_ENFORCE);
	assert_int_equal(r->record, 1);
	assert_int_equal(r->report, 1);
	assert_int_equal(r->proto, SL_PROTO_ANY);
	assert_int_equal(r->origin_zone, -1);
	assert_int_equal(r->nports, 0);
	assert_int_equal(r->expires, 0);
	assert_string_equal(r->category, "");
	assert_null(r->authority);
	assert_string_equal(r->file, "p.cfg");
	assert_int_equal(r->line, 1);
	assert_string_equal(sl_policy_meta(p)->name, "x");
	assert_string_equal(sl_policy_meta(p)->revision, "1");
	sl_policy_unref(p);
}

static void test_fields_parsed(void **state)
{
	struct sl_policy *p;
	const struct sl_rule *r;

	(void)state;
	p = compile_ok(HDR
		       "zones = { b = { cidr = [ \"192.0.2.0/24\" ]; }; a = { cidr = [ \"198.51.100.0/24\" ]; }; };\n"
		       "authorities = ( { id = \"dept\"; name = \"Department\"; order = \"Order 1\"; } );\n"
		       "rules = (\n"
		       "  { id = 20; name = \"second\"; category = \"c\"; basis = \"Art. 1\"; authority = \"dept\";\n"
		       "    action = \"block-page\"; mode = \"shadow\"; record = false; report = false;\n"
		       "    match = { domain = [ \"a.test\" ]; port = [ 443, 80, 443 ]; proto = \"udp\"; origin = \"!b\"; }; },\n"
		       "  { id = 10; name = \"first\"; basis = \"Art. 2\"; action = \"allow\";\n"
		       "    match = { domain = [ \"a.test\" ]; port = 8080; origin = \"a\"; }; }\n"
		       ");\n");
	/* rules sorted by id, zones by name */
	assert_int_equal(sl_policy_nrules(p), 2);
	assert_int_equal(sl_policy_find_zone(p, "a"), 0);
	assert_int_equal(sl_policy_find_zone(p, "b"), 1);
	assert_int_equal(sl_policy_find_zone(p, "c"), -ENOENT);
	assert_string_equal(sl_policy_zone_name(p, 1), "b");
	assert_int_equal(sl_policy_find_rule(p, 10), 0);
	assert_int_equal(sl_policy_find_rule(p, 20), 1);
	assert_int_equal(sl_policy_find_rule(p, 15), -ENOENT);
	r = sl_policy_rule(p, 1);
	assert_int_equal(r->id, 20);
	assert_int_equal(r->idx, 1);
	assert_string_equal(r->name, "second");
	assert_string_equal(r->category, "c");
	assert_string_equal(r->basis, "Art. 1");
	assert_string_equal(r->authority, "dept");
	assert_string_equal(r->authority_name, "Department");
	assert_string_equal(r->order, "Order 1");
	assert_int_equal(r->action, SL_ACT_BLOCK_PAGE);
	assert_int_equal(r->mode, SL_MODE_SHADOW);
	assert_int_equal(r->record, 0);
	assert_int_equal(r->report, 0);
	assert_int_equal(r->proto, SL_PROTO_UDP);
	assert_int_equal(r->nports, 2);
	assert_int_equal(r->ports[0], 80);
	assert_int_equal(r->ports[1], 443);
	assert_int_equal(r->origin_zone, 1);
	assert_int_equal(r->origin_negate, 1);
	assert_int_equal(r->line, 5);
	r = sl_policy_rule(p, 0);
	assert_int_equal(r->nports, 1);
	assert_int_equal(r->ports[0], 8080);
	assert_int_equal(r->origin_zone, 0);
	assert_int_equal(r->origin_negate, 0);
	assert_null(r->authority);
	sl_policy_unref(p);
}

static void test_all_errors_in_one_run(void **state)
{
	struct sl_compile_opts o = { .now = T_NOW };
	struct sl_policy *p = NULL;
	struct sl_diag d;
	char w[2048];
	const char *f = fx("errors.cfg");

	(void)state;
	sl_diag_init(&d);
	assert_int_equal(sl_policy_compile_file(f, &o, &p, &d), -EINVAL);
	assert_null(p);
#define W(line, msg) do { snprintf(w, sizeof(w), "%s:%d: %s", f, line, msg); assert_diag(&d, w); } while (0)
	W(2, "unknown key \"colour\" in policy");
	W(4, "zone home: bad CIDR \"192.0.2.0/33\"");
	W(4, "zone home: cannot read file");
	W(12, "rule 1001: unknown authority \"nobody\"");
	W(13, "rule 1001: unknown action \"rst\"");
	W(14, "rule 1001: unknown mode \"audit\"");
	W(15, "rule 1001: \"record\" must be true or false");
	W(16, "rule 1001: bad date \"2027-02-30\"");
	W(18, "rule 1001: bad domain \"a..b.test\": empty label");
	W(19, "rule 1001: cannot read domain_file");
	W(20, "rule 1001: bad url \"http://x.test/\"");
	W(23, "rule 1001: payload regex \"/evil(/\": Missing close parenthesis");
	W(25, "rule 1001: bad CIDR \"198.51.100.0/33\"");
	W(26, "rule 1001: bad port 0");
	W(27, "rule 1001: unknown proto \"icmp\"");
	W(28, "rule 1001: unknown zone \"abroad\" in origin");
	W(29, "rule 1001: unknown key \"colour\" in match");
	W(31, "rule 1001: bad test vector \"nocolon\"");
	W(33, "rule 1001: missing \"basis\"");
	snprintf(w, sizeof(w), "%s:33: rule 1001: duplicate id (also used at %s:8)", f, f);
	assert_diag(&d, w);
#undef W
	snprintf(w, sizeof(w), "%s:3: rule 1001: bad domain \"bad..test\"", fx("lists/bad.txt"));
	assert_diag(&d, w);
	snprintf(w, sizeof(w), "%s:7: rule 1001: bad domain \"white space.test\"", fx("lists/bad.txt"));
	assert_diag(&d, w);
	assert_int_equal(d.errors, 22);
	sl_diag_free(&d);
}

static void test_unreadable_policy(void **state)
{
	struct sl_policy *p = NULL;
	struct sl_diag d;

	(void)state;
	sl_diag_init(&d);
	assert_int_equal(sl_policy_compile_file("/nonexistent/p.cfg", NULL, &p, &d), -ENOENT);
	assert_diag(&d, "/nonexistent/p.cfg:0: cannot read policy: No such file or directory");
	assert_int_equal(sl_policy_open("/nonexistent/p.cfg", NULL, &p, &d), -ENOENT);
	sl_diag_free(&d);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(sl_action_name(SL_ACT_ALLOW), "allow");
	assert_string_equal(sl_action_name(SL_ACT_LOG), "log");
	assert_string_equal(sl_action_name(SL_ACT_DROP), "drop");
	assert_string_equal(sl_action_name(SL_ACT_RESET), "reset");
	assert_string_equal(sl_action_name(SL_ACT_BLOCK_PAGE), "block-page");
	assert_string_equal(sl_action_name(SL_ACT_NONE), "none");
	assert_string_equal(sl_action_name(99), "none");
	assert_int_equal(sl_action_parse("block-page"), SL_ACT_BLOCK_PAGE);
	assert_int_equal(sl_action_parse("allow"), SL_ACT_ALLOW);
	assert_int_equal(sl_action_parse("none"), -EINVAL);
	assert_int_equal(sl_action_parse("rst"), -EINVAL);
	assert_string_equal(sl_mode_name(SL_MODE_ENFORCE), "enforce");
	assert_string_equal(sl_mode_name(SL_MODE_SHADOW), "shadow");
	assert_string_equal(sl_field_name(SL_FIELD_HOST), "host");
	assert_string_equal(sl_field_name(SL_FIELD_SNI), "sni");
	assert_string_equal(sl_field_name(SL_FIELD_DNS), "dns");
	assert_string_equal(sl_field_name(SL_FIELD_URL), "url");
	assert_string_equal(sl_field_name(SL_FIELD_PAYLOAD), "payload");
	assert_string_equal(sl_field_name(SL_FIELD_IP), "ip");
	assert_string_equal(sl_field_name(SL_FIELD_NONE), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_duplicate_id),
		cmocka_unit_test(test_bad_ids),
		cmocka_unit_test(test_missing_basis),
		cmocka_unit_test(test_unknown_authority_and_zone),
		cmocka_unit_test(test_bad_cidr),
		cmocka_unit_test(test_host_bits_warning),
		cmocka_unit_test(test_bad_regex_lines),
		cmocka_unit_test(test_list_file_errors),
		cmocka_unit_test(test_bad_vectors),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_domains_and_urls),
		cmocka_unit_test(test_missing_policy_group),
		cmocka_unit_test(test_expired_warning),
		cmocka_unit_test(test_minimal_form),
		cmocka_unit_test(test_fields_parsed),
		cmocka_unit_test(test_all_errors_in_one_run),
		cmocka_unit_test(test_unreadable_policy),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
