/* libFuzzer target: the policy parser and compiler on arbitrary policy
 * text (sl_policy_compile_text; relative list and zone files resolve in
 * the unit-test fixtures). A refused policy must say why; an accepted one
 * must pass the probe invariants (see policy_probe.h), run its own test
 * vectors, and survive serialisation to an artefact and back with the same
 * digest, rule table and answers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_probe.h"
#include "sluice/policy.h"

#ifndef SL_SRCDIR
#define SL_SRCDIR "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define MAX_PROBES 48

static const char *const name = SL_SRCDIR "/tests/unit/policy/fixtures/fuzz.cfg";

static void roundtrip(const struct sl_policy *p, const struct probe *pr, unsigned npr)
{
	struct sl_policy *q = NULL;
	struct sl_diag diag;
	void *buf = NULL;
	size_t len = 0;

	if (sl_policy_serialize(p, &buf, &len) < 0)
		return;  /* out of memory */
	sl_diag_init(&diag);
	if (sl_policy_deserialize(buf, len, "fuzz.art", &q, &diag) != 0 || q == NULL)
		abort();
	if (memcmp(sl_policy_meta(p)->digest, sl_policy_meta(q)->digest, 32) != 0 ||
	    strcmp(sl_policy_meta(p)->name, sl_policy_meta(q)->name) != 0 ||
	    strcmp(sl_policy_meta(p)->revision, sl_policy_meta(q)->revision) != 0 ||
	    sl_policy_nrules(p) != sl_policy_nrules(q))
		abort();
	if (fuzz_probe_policy(p, pr, npr) != fuzz_probe_policy(q, pr, npr))
		abort();
	sl_policy_unref(q);
	sl_diag_free(&diag);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sl_compile_opts o = { .now = 1800000000, .keep_tests = true };
	struct probe pr[MAX_PROBES];
	struct sl_policy *p = NULL;
	struct sl_diag diag, tdiag;
	unsigned npr, passed;
	char *text;
	int rc;

	if (n > 32768)
		return 0;
	text = malloc(n + 1);
	if (text == NULL)
		return 0;
	memcpy(text, d, n);
	text[n] = '\0';
	sl_diag_init(&diag);
	rc = sl_policy_compile_text(text, name, &o, &p, &diag);
	for (unsigned i = 0; i < diag.n; i++)
		if (diag.m[i].msg && strlen(diag.m[i].msg) == 0)
			abort();
	if (rc < 0) {
		if (p != NULL || diag.errors == 0)
			abort();  /* a refusal without a reason */
	} else {
		if (p == NULL || diag.errors != 0)
			abort();
		npr = fuzz_probes_from_text(text, n, pr, MAX_PROBES);
		fuzz_probe_policy(p, pr, npr);
		sl_diag_init(&tdiag);
		sl_policy_run_tests(p, &tdiag, &passed);
		sl_diag_free(&tdiag);
		roundtrip(p, pr, npr);
		sl_policy_unref(p);
	}
	sl_diag_free(&diag);
	free(text);
	return 0;
}
