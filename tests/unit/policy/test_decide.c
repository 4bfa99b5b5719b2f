/* sl_decide / sl_rule_applies: precedence (allow beats all, then
 * block-page > reset > drop > log, ties to the lowest id), shadow rules
 * (never win, always in applied[]), expiry, the disabled bitmap and the
 * constraints port, proto, origin and !origin. */
#include "helpers.h"

#define RULE(id, act, extra) \
	"  { id = " #id "; name = \"r" #id "\"; basis = \"t\"; action = \"" act "\"; " extra \
	" match = { domain = [ \".x.test\" ]; }; },\n"
#define RULEM(id, act, extra, m) \
	"  { id = " #id "; name = \"r" #id "\"; basis = \"t\"; action = \"" act "\"; " extra \
	" match = { domain = [ \".x.test\" ]; " m " }; },\n"

static const char *POLICY =
	HDR
	"zones = { home = { cidr = [ \"192.0.2.0/24\", \"2001:db8::/32\" ]; }; };\n"
	"rules = (\n"
	RULE(1, "log", "")
	RULE(2, "drop", "")
	RULE(3, "reset", "")
	RULE(4, "block-page", "")
	RULE(5, "allow", "")
	RULE(6, "block-page", "")
	RULE(7, "allow", "mode = \"shadow\";")
	RULE(8, "block-page", "mode = \"shadow\";")
	RULE(9, "drop", "expires = \"2026-01-01\";")
	RULEM(10, "reset", "", "port = [ 443, 8443 ]; proto = \"tcp\";")
	RULEM(11, "reset", "", "origin = \"home\";")
	RULEM(12, "reset", "", "origin = \"!home\";")
	RULEM(13, "log", "", "proto = \"udp\";")
	"  { id = 14; name = \"r14\"; basis = \"t\"; action = \"log\"; match = { domain = [ \"x.test\" ]; }; }\n"
	");\n";

static struct sl_policy *P;

static int setup(void **state)
{
	(void)state;
	P = compile_ok(POLICY);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sl_policy_unref(P);
	return 0;
}

/* hitset from "4,1,..." rule ids, in that order */
static void mk(struct sl_hitset *h, const char *ids)
{
	char *copy = strdup(ids), *save = NULL;

	sl_hitset_clear(h);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int idx = sl_policy_find_rule(P, (uint32_t)atoi(t));

		assert_true(idx >= 0);
		sl_hitset_add(h, (uint32_t)idx, SL_FIELD_HOST, 0);
	}
	free(copy);
}

static struct sl_match_ctx ctx(void)
{
	struct sl_match_ctx c;

	memset(&c, 0, sizeof(c));
	c.proto = SL_PROTO_TCP;
	c.server_port = 80;
	c.now = T_NOW;
	return c;
}

/* "id:action" of the winner, or "none" */
static const char *win(const char *ids, const struct sl_match_ctx *c, struct sl_verdict *v)
{
	static char buf[64];
	struct sl_hitset h;
	struct sl_verdict local;

	if (v == NULL)
		v = &local;
	mk(&h, ids);
	sl_decide(P, &h, c, v);
	if (v->rule < 0) {
		assert_int_equal(v->action, SL_ACT_NONE);
		return "none";
	}
	snprintf(buf, sizeof(buf), "%u:%s", sl_policy_rule(P, (uint32_t)v->rule)->id,
		 sl_action_name(v->action));
	return buf;
}

static const char *applied(const struct sl_verdict *v)
{
	static char buf[256];
	size_t o = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < v->n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? "," : "",
				      sl_policy_rule(P, v->applied[i].rule)->id);
	return buf;
}

static void test_precedence(void **state)
{
	struct sl_match_ctx c = ctx();
	struct sl_verdict v;

	(void)state;
	assert_string_equal(win("1", &c, NULL), "1:log");
	assert_string_equal(win("1,2", &c, NULL), "2:drop");
	assert_string_equal(win("2,1,3", &c, NULL), "3:reset");
	assert_string_equal(win("1,2,3,4", &c, NULL), "4:block-page");
	/* allow beats everything, wherever it is */
	assert_string_equal(win("1,2,3,4,5", &c, NULL), "5:allow");
	assert_string_equal(win("5,4,6", &c, NULL), "5:allow");
	/* ties go to the lowest id, whatever the hit order */
	assert_string_equal(win("6,4", &c, NULL), "4:block-page");
	assert_string_equal(win("4,6", &c, NULL), "4:block-page");
	assert_string_equal(win("", &c, &v), "none");
	assert_int_equal(v.n, 0);
	assert_int_equal(v.field, SL_FIELD_NONE);
}

static void test_shadow(void **state)
{
	struct sl_match_ctx c = ctx();
	struct sl_verdict v;

	(void)state;
	/* a shadow allow does not override anything; a shadow block-page does
	 * not win, but both are applied (recorded) */
	assert_string_equal(win("7,1", &c, &v), "1:log");
	assert_string_equal(applied(&v), "7,1");
	assert_string_equal(win("8,2", &c, &v), "2:drop");
	assert_string_equal(applied(&v), "8,2");
	assert_string_equal(win("8", &c, &v), "none");
	assert_string_equal(applied(&v), "8");
	assert_string_equal(win("7,8", &c, &v), "none");
	assert_string_equal(applied(&v), "7,8");
}

static void test_expiry(void **state)
{
	struct sl_match_ctx c = ctx();
	struct sl_verdict v;

	(void)state;
	assert_string_equal(win("9,1", &c, &v), "1:log");
	assert_string_equal(applied(&v), "1");
	c.now = 1767225599; /* one second before 2026-01-01 */
	assert_string_equal(win("9,1", &c, &v), "9:drop");
	c.now = 1767225600;
	assert_string_equal(win("9,1", &c, &v), "1:log");
}

static void test_disabled(void **state)
{
	struct sl_match_ctx c = ctx();
	uint64_t bits[1] = { 0 };
	struct sl_verdict v;
	int i4 = sl_policy_find_rule(P, 4);
	int i5 = sl_policy_find_rule(P, 5);

	(void)state;
	bits[0] |= 1ull << i4;
	bits[0] |= 1ull << i5;
	c.disabled = bits;
	assert_string_equal(win("4,3,5", &c, &v), "3:reset");
	assert_string_equal(applied(&v), "3");
	assert_false(sl_rule_applies(P, sl_policy_rule(P, (uint32_t)i4), &c));
	assert_true(sl_rule_applies(P, sl_policy_rule(P, 0), &c));
}

static void test_port_proto(void **state)
{
	struct sl_match_ctx c = ctx();

	(void)state;
	c.server_port = 443;
	assert_string_equal(win("10,1", &c, NULL), "10:reset");
	c.server_port = 8443;
	assert_string_equal(win("10,1", &c, NULL), "10:reset");
	c.server_port = 80;
	assert_string_equal(win("10,1", &c, NULL), "1:log");
	c.server_port = 0; /* unknown: a port constraint does not hold */
	assert_string_equal(win("10,1", &c, NULL), "1:log");
	c.server_port = 443;
	c.proto = SL_PROTO_UDP;
	assert_string_equal(win("10,1", &c, NULL), "1:log");
	assert_string_equal(win("13", &c, NULL), "13:log");
	c.proto = SL_PROTO_TCP;
	assert_string_equal(win("13", &c, NULL), "none");
	c.proto = 1; /* ICMP */
	assert_string_equal(win("13,10,1", &c, NULL), "1:log");
}

static void test_origin(void **state)
{
	struct sl_match_ctx c = ctx();
	struct sl_addr in4, out4, in6, out6, unset;

	(void)state;
	sl_addr_parse("192.0.2.5", &in4);
	sl_addr_parse("198.51.100.1", &out4);
	sl_addr_parse("2001:db8::5", &in6);
	sl_addr_parse("2001:db9::5", &out6);
	memset(&unset, 0, sizeof(unset));
	c.origin = &in4;
	assert_string_equal(win("11", &c, NULL), "11:reset");
	assert_string_equal(win("12", &c, NULL), "none");
	c.origin = &in6;
	assert_string_equal(win("11", &c, NULL), "11:reset");
	assert_string_equal(win("12", &c, NULL), "none");
	c.origin = &out4;
	assert_string_equal(win("11", &c, NULL), "none");
	assert_string_equal(win("12", &c, NULL), "12:reset");
	c.origin = &out6;
	assert_string_equal(win("12", &c, NULL), "12:reset");
	/* unknown origin: neither zone nor !zone holds */
	c.origin = NULL;
	assert_string_equal(win("11", &c, NULL), "none");
	assert_string_equal(win("12", &c, NULL), "none");
	c.origin = &unset;
	assert_string_equal(win("12", &c, NULL), "none");
}

static void test_end_to_end(void **state)
{
	struct sl_match_ctx c = ctx();
	struct sl_hitset h;
	struct sl_verdict v;
	struct sl_addr out4;

	(void)state;
	sl_addr_parse("198.51.100.1", &out4);
	c.origin = &out4;
	sl_hitset_clear(&h);
	assert_int_equal(sl_match_domain(P, "www.x.test", 10, SL_FIELD_SNI, &h), 13);
	sl_decide(P, &h, &c, &v);
	assert_int_equal(sl_policy_rule(P, (uint32_t)v.rule)->id, 5);
	assert_int_equal(v.action, SL_ACT_ALLOW);
	assert_int_equal(v.field, SL_FIELD_SNI);
	/* 1-8 (7 and 8 shadow), 12 (origin outside home); not 9 (expired),
	 * 10 (port), 11 (origin), 13 (proto) */
	assert_int_equal(v.n, 9);
	sl_hitset_clear(&h);
	assert_int_equal(sl_match_domain(P, "x.test", 6, SL_FIELD_DNS, &h), 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_shadow),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_port_proto),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_end_to_end),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
