/* Unit tests for the control protocol codec (ctl/proto.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/ctlproto.h"

static int decode(const char *line, struct sl_ctl_request *rq, char *err)
{
	return sl_ctl_request_decode(line, strlen(line), rq, err, 256);
}

static void test_roundtrip(void **state)
{
	const char *args[] = { "policy.cfg" };
	json_object *opts = json_object_new_object();
	struct sl_ctl_request rq;
	char err[256], *line;

	(void)state;
	json_object_object_add(opts, "top", json_object_new_int(5));
	line = sl_ctl_request_encode(SL_CTL_RULES, 0, NULL, opts);
	assert_non_null(line);
	assert_int_equal(line[strlen(line) - 1], '\n');
	assert_int_equal(sl_ctl_request_decode(line, strlen(line) - 1, &rq, err, sizeof(err)), 0);
	assert_int_equal(rq.cmd, SL_CTL_RULES);
	assert_int_equal(sl_ctl_opt_int(&rq, "top", 0), 5);
	sl_ctl_request_free(&rq);
	free(line);

	line = sl_ctl_request_encode(SL_CTL_RELOAD, 1, args, NULL);
	assert_int_equal(sl_ctl_request_decode(line, strlen(line) - 1, &rq, err, sizeof(err)), 0);
	assert_int_equal(rq.argc, 1);
	assert_string_equal(rq.argv[0], "policy.cfg");
	assert_false(sl_ctl_opt_bool(&rq, "blocked"));
	sl_ctl_request_free(&rq);
	free(line);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"", "garbage", "[]", "{}", "{\"v\":1}", "{\"v\":\"1\",\"cmd\":\"status\"}",
		"{\"v\":1,\"cmd\":\"nope\"}", "{\"v\":1,\"cmd\":\"status\",\"args\":[\"x\"]}",
		"{\"v\":1,\"cmd\":\"reload\",\"args\":[1]}", "{\"v\":1,\"cmd\":\"reload\",\"args\":\"x\"}",
		"{\"v\":1,\"cmd\":\"rules\",\"opts\":{\"bogus\":1}}",
		"{\"v\":1,\"cmd\":\"rules\",\"opts\":{\"top\":\"x\"}}",
		"{\"v\":1,\"cmd\":\"rules\",\"opts\":[]}",
		"{\"v\":1,\"cmd\":\"rule\",\"args\":[\"disable\"]}",
		"{\"v\":1,\"cmd\":\"status\"} trailing",
		"{\"v\":1,\"cmd\":\"shadow\",\"args\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}",
	};
	struct sl_ctl_request rq;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_true(decode(bad[i], &rq, err) < 0);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(decode("{\"v\":2,\"cmd\":\"status\"}", &rq, err), -EPROTO);
}

static void test_oversize(void **state)
{
	size_t n = SL_CTL_MAX_LINE + 10;
	char *big = malloc(n + 1);
	struct sl_ctl_request rq;
	char err[256];

	(void)state;
	memset(big, ' ', n);
	big[n] = '\0';
	assert_int_equal(sl_ctl_request_decode(big, n, &rq, err, sizeof(err)), -EINVAL);
	free(big);
}

static void test_responses(void **state)
{
	json_object *r = json_object_new_object(), *obj, *res, *diag, *d;
	const char *msg;
	char *line;

	(void)state;
	json_object_object_add(r, "x", json_object_new_int(3));
	line = sl_ctl_response_ok(r);
	assert_int_equal(sl_ctl_response_decode(line, strlen(line) - 1, &obj, &res, &msg, &diag), 0);
	assert_non_null(res);
	json_object_put(obj);
	free(line);

	d = json_object_new_array();
	json_object_array_add(d, json_object_new_string("p.cfg:3: rule 1: bad"));
	line = sl_ctl_response_error("not loaded", d);
	assert_int_equal(sl_ctl_response_decode(line, strlen(line) - 1, &obj, &res, &msg, &diag), 1);
	assert_string_equal(msg, "not loaded");
	assert_int_equal(json_object_array_length(diag), 1);
	json_object_put(obj);
	free(line);
	assert_int_equal(sl_ctl_response_decode("nope", 4, &obj, &res, &msg, &diag), -EINVAL);
}

static void test_table(void **state)
{
	(void)state;
	for (int i = 0; i < SL_CTL__COUNT; i++) {
		assert_non_null(sl_ctl_table[i].name);
		assert_int_equal(sl_ctl_find(sl_ctl_table[i].name), i);
		assert_true(sl_ctl_table[i].min_args <= sl_ctl_table[i].max_args);
		assert_true(sl_ctl_table[i].max_args <= SL_CTL_MAX_ARGS);
	}
	assert_int_equal(sl_ctl_find("nope"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
