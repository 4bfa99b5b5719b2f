/* Scale: a 100,000-entry domain list generated at test time (in a
 * temporary directory), compiled, spot-checked, and carried through an
 * artefact. No timing thresholds: docs/policy.md has the measurements. */
#include <errno.h>
#include <unistd.h>

#include "helpers.h"

#define N 100000

static char dir[64];
static char list[128];
static char pol[128];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sluice-scale-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(list, sizeof(list), "%s/list.txt", dir);
	snprintf(pol, sizeof(pol), "%s/policy.cfg", dir);
	f = fopen(list, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "# generated: %d entries\n", N);
	for (int i = 0; i < N; i++) {
		/* exact, "*." and "." forms in turn, some in upper case */
		const char *pre = i % 3 == 0 ? "" : i % 3 == 1 ? "*." : ".";

		fprintf(f, "%sh%d-%x.%s.test\n", pre, i, (unsigned)i * 2654435761u,
			i % 7 == 0 ? "BIG" : "big");
	}
	fclose(f);
	f = fopen(pol, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "policy = { name = \"scale\"; revision = \"1\"; };\n"
		   "rules = (\n"
		   "  { id = 1; name = \"list\"; basis = \"t\"; action = \"drop\";\n"
		   "    match = { domain_file = \"list.txt\"; }; },\n"
		   "  { id = 2; name = \"one\"; basis = \"t\"; action = \"log\";\n"
		   "    match = { domain = [ \"h3-%x.big.test\" ]; }; }\n"
		   ");\n", 3u * 2654435761u);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(list);
	unlink(pol);
	rmdir(dir);
	return 0;
}

static void name_of(int i, const char *sub, char *buf, size_t len)
{
	snprintf(buf, len, "%s%sh%d-%x.big.test", sub ? sub : "", sub ? "." : "", i,
		 (unsigned)i * 2654435761u);
}

static void spot_check(const struct sl_policy *p)
{
	char b[128];

	for (int i = 0; i < N; i += 997) {
		name_of(i, NULL, b, sizeof(b));
		/* exact and "." entries match the name itself, "*." do not */
		if (i == 3)
			assert_string_equal(dom(p, b), "1,2");
		else
			assert_string_equal(dom(p, b), i % 3 == 1 ? "" : "1");
		name_of(i, "www", b, sizeof(b));
		assert_string_equal(dom(p, b), i % 3 == 0 ? "" : "1");
		name_of(i, "a.b.c", b, sizeof(b));
		assert_string_equal(dom(p, b), i % 3 == 0 ? "" : "1");
		/* neighbours that are not in the list */
		snprintf(b, sizeof(b), "xh%d-%x.big.test", i, (unsigned)i * 2654435761u);
		assert_string_equal(dom(p, b), "");
	}
	name_of(3, NULL, b, sizeof(b));
	assert_string_equal(dom(p, b), "1,2");
	assert_string_equal(dom(p, "big.test"), "");
	assert_string_equal(dom(p, "h1-0.big.test"), "");
	name_of(N - 1, NULL, b, sizeof(b));
	for (char *c = b; *c; c++)
		*c = (char)((*c >= 'a' && *c <= 'z') ? *c - 32 : *c);
	assert_string_equal(dom(p, b), (N - 1) % 3 == 1 ? "" : "1");
}

static void test_100k_domains(void **state)
{
	struct sl_policy *p = NULL, *q = NULL;
	struct sl_policy_stats st;
	struct sl_diag d;
	void *buf;
	size_t len;

	(void)state;
	sl_diag_init(&d);
	if (sl_policy_compile_file(pol, NULL, &p, &d) != 0) {
		dump_diag(&d);
		fail();
	}
	sl_policy_get_stats(p, &st);
	assert_int_equal(st.domains, N + 0); /* h3 is both in the list and inline */
	assert_int_equal(st.rules, 2);
	spot_check(p);
	assert_int_equal(sl_policy_serialize(p, &buf, &len), 0);
	assert_int_equal(sl_policy_deserialize(buf, len, "scale", &q, &d), 0);
	assert_memory_equal(sl_policy_meta(p)->digest, sl_policy_meta(q)->digest, 32);
	spot_check(q);
	free(buf);
	sl_policy_unref(p);
	sl_policy_unref(q);
	sl_diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_100k_domains),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
