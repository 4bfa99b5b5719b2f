/* Helpers shared by the policy unit tests: compile a policy from text or
 * file, and look for exact FILE:LINE: message diagnostics. */
#ifndef SLUICE_TEST_POLICY_HELPERS_H
#define SLUICE_TEST_POLICY_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/policy.h"

#define HDR "policy = { name = \"t\"; revision = \"1\"; };\n"

/* A fixed "now" (2026-06-01T00:00:00Z) so that expiry tests do not age. */
#define T_NOW 1780272000LL

static inline const char *fixtures(void)
{
	const char *f = getenv("SL_FIXTURES");

	return f ? f : "tests/unit/policy/fixtures";
}

static inline const char *source_root(void)
{
	const char *f = getenv("SL_SOURCE_ROOT");

	return f ? f : ".";
}

static inline void dump_diag(const struct sl_diag *d)
{
	sl_diag_print(d, stderr);
}

/* Compile text named `name`; on failure print the diagnostics and fail. */
static inline struct sl_policy *compile_ok_named(const char *text, const char *name)
{
	struct sl_compile_opts o = { .now = T_NOW, .keep_tests = true };
	struct sl_policy *p = NULL;
	struct sl_diag d;
	int r;

	sl_diag_init(&d);
	r = sl_policy_compile_text(text, name, &o, &p, &d);
	if (r != 0 || p == NULL) {
		dump_diag(&d);
		fail_msg("policy %s does not compile (%d)", name, r);
	}
	sl_diag_free(&d);
	return p;
}

static inline struct sl_policy *compile_ok(const char *text)
{
	return compile_ok_named(text, "p.cfg");
}

/* Compile text that must fail; diagnostics in d (initialised here). */
static inline void compile_err_named(const char *text, const char *name,
				     struct sl_diag *d)
{
	struct sl_compile_opts o = { .now = T_NOW, .keep_tests = true };
	struct sl_policy *p = NULL;
	int r;

	sl_diag_init(d);
	r = sl_policy_compile_text(text, name, &o, &p, d);
	if (r == 0 || p != NULL) {
		dump_diag(d);
		fail_msg("policy %s compiles but must not", name);
	}
	assert_true(d->errors > 0);
}

static inline void compile_err(const char *text, struct sl_diag *d)
{
	compile_err_named(text, "p.cfg", d);
}

/* True when an entry formats as "FILE:LINE: msg" starting with `want`. */
static inline bool diag_has(const struct sl_diag *d, const char *want)
{
	for (unsigned i = 0; i < d->n; i++) {
		char *line = NULL;
		const struct sl_diag_msg *m = &d->m[i];
		bool ok;

		if (asprintf(&line, "%s:%u: %s%s", m->file ? m->file : "", m->line,
			     m->is_warning ? "warning: " : "", m->msg ? m->msg : "") < 0)
			return false;
		ok = strncmp(line, want, strlen(want)) == 0;
		free(line);
		if (ok)
			return true;
	}
	return false;
}

#define assert_diag(d, want)                                                 \
	do {                                                                 \
		if (!diag_has((d), (want))) {                                \
			dump_diag(d);                                        \
			fail_msg("missing diagnostic: %s", (want));          \
		}                                                            \
	} while (0)

/* Rule ids of the hits, in hit order, as "1,2,3" (empty: ""). */
static inline const char *hit_ids(const struct sl_policy *p, const struct sl_hitset *h)
{
	static char buf[512];
	size_t o = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < h->n && o < sizeof(buf) - 16; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? "," : "",
				      sl_policy_rule(p, h->hit[i].rule)->id);
	return buf;
}

/* Sorted rule ids of the hits. */
static inline const char *hit_ids_sorted(const struct sl_policy *p, const struct sl_hitset *h)
{
	static char buf[512];
	uint32_t ids[SL_HITS_MAX];
	size_t o = 0;

	for (uint32_t i = 0; i < h->n; i++)
		ids[i] = sl_policy_rule(p, h->hit[i].rule)->id;
	for (uint32_t i = 1; i < h->n; i++)
		for (uint32_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			uint32_t t = ids[j];

			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	buf[0] = '\0';
	for (uint32_t i = 0; i < h->n && o < sizeof(buf) - 16; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? "," : "", ids[i]);
	return buf;
}

static inline const char *dom(const struct sl_policy *p, const char *name)
{
	struct sl_hitset h;
	int r;

	sl_hitset_clear(&h);
	r = sl_match_domain(p, name, strlen(name), SL_FIELD_DNS, &h);
	if (r < 0)
		return "EINVAL";
	return hit_ids_sorted(p, &h);
}

#endif
