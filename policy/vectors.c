/* Rule test vectors (`sluice-ctl test`): every "match" vector of a rule
 * must select the rule, every "nomatch" vector must not. Only selectors
 * count: constraints (port, proto, origin), expiry and mode are ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int run_one(const struct sl_policy *p, struct sl_scratch *s,
		   const struct tvec *t, struct sl_hitset *h)
{
	char buf[64];
	struct sl_addr a;
	const char *sl;

	sl_hitset_clear(h);
	switch (t->field) {
	case TV_DOMAIN:
		return sl_match_domain(p, t->value, t->vlen, SL_FIELD_HOST, h);
	case TV_URL:
		sl = memchr(t->value, '/', t->vlen);
		if (sl == NULL)
			return -EINVAL;
		return sl_match_url(p, s, t->value, (size_t)(sl - t->value), sl,
				    t->vlen - (size_t)(sl - t->value), h);
	case TV_PAYLOAD:
		return sl_match_payload(p, s, (const uint8_t *)t->value, t->vlen, h);
	case TV_IP:
		if (t->vlen >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, t->value, t->vlen);
		buf[t->vlen] = '\0';
		if (sl_addr_parse(buf, &a) < 0)
			return -EINVAL;
		return sl_match_ip(p, &a, h);
	default:
		return -EINVAL;
	}
}

int sl_policy_run_tests(const struct sl_policy *p, struct sl_diag *diag,
			unsigned *passed)
{
	struct sl_scratch *s = NULL;
	struct sl_hitset h;
	unsigned ok = 0;
	int failed = 0;

	if (passed)
		*passed = 0;
	if (p->ntv == 0)
		return 0;
	if (sl_scratch_alloc(p, &s) < 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->ntv; i++) {
		const struct tvec *t = &p->tv[i];
		const struct sl_rule *r = &p->rules[t->rule];
		bool found = false;
		int n = run_one(p, s, t, &h);

		for (uint32_t k = 0; n >= 0 && k < h.n; k++)
			if (h.hit[k].rule == t->rule)
				found = true;
		if (n >= 0 && found == t->expect) {
			ok++;
			continue;
		}
		failed++;
		if (n < 0)
			sl_diag_add(diag, false, t->file, t->line,
				    "rule %u: test \"%s\": cannot be evaluated", r->id, t->text);
		else if (!found && h.overflow)
			sl_diag_add(diag, false, t->file, t->line,
				    "rule %u: test \"%s\": inconclusive, more than %u rules match",
				    r->id, t->text, SL_HITS_MAX);
		else if (t->expect)
			sl_diag_add(diag, false, t->file, t->line,
				    "rule %u: test \"%s\" should match but does not", r->id, t->text);
		else
			sl_diag_add(diag, false, t->file, t->line,
				    "rule %u: test \"%s\" should not match but does", r->id, t->text);
	}
	sl_scratch_free(s);
	if (passed)
		*passed = ok;
	return failed;
}
