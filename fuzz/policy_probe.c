/* Probing a compiled policy for the policy and artefact fuzz targets (see
 * policy_probe.h). */
#include <stdlib.h>
#include <string.h>

#include "policy_probe.h"

static const char *const fixed[] = {
	"a.test", "x.b.test", "c.test", "www.example", "login.bank.example",
	"u.test/p1", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE", "re7", "lit",
	"198.51.100.7", "192.0.2.1", "2001:db8:bad::1", "2001:db8::1", "::ffff:198.51.100.7",
	"0.0.0.0", "255.255.255.255", "::", "A.TEST.", "a.test:443", "",
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

/* Order-insensitive fold of a hitset; every rule index must be valid. */
static uint64_t fold_hits(const struct sl_policy *p, const struct sl_hitset *hs)
{
	uint64_t h = 0;

	if (hs->n > SL_HITS_MAX)
		abort();
	for (uint32_t i = 0; i < hs->n; i++) {
		if (hs->hit[i].rule >= sl_policy_nrules(p))
			abort();
		h += mix(hs->hit[i].rule, hs->hit[i].field) * 31 + hs->hit[i].to;
	}
	return h + hs->overflow;
}

struct pfx_ctx {
	const struct sl_policy *p;
	uint64_t h;
};

static int on_prefix(void *ctx, const struct sl_addr *a, uint8_t depth, uint32_t rs)
{
	struct pfx_ctx *c = ctx;
	const uint32_t *rules;
	uint32_t n = sl_policy_ruleset(c->p, rs, &rules);

	if ((a->family == 4 && depth > 32) || (a->family == 6 && depth > 128) ||
	    (a->family != 4 && a->family != 6))
		abort();
	c->h = mix(c->h, depth);
	for (int i = 0; i < 16; i++)
		c->h = mix(c->h, a->b[i]);
	for (uint32_t i = 0; i < n; i++) {
		if (rules[i] >= sl_policy_nrules(c->p))
			abort();
		c->h = mix(c->h, rules[i]);
	}
	return 0;
}

static uint64_t probe_rules(const struct sl_policy *p)
{
	uint64_t h = sl_policy_nrules(p);
	struct pfx_ctx pc = { p, 0 };
	const char *z;

	for (uint32_t i = 0; i < sl_policy_nrules(p); i++) {
		const struct sl_rule *r = sl_policy_rule(p, i);

		if (r == NULL || r->idx != i || sl_policy_find_rule(p, r->id) != (int)i ||
		    r->action > SL_ACT_ALLOW || r->mode > SL_MODE_SHADOW)
			abort();
		h = mix(h, r->id);
		h = mix(h, (uint64_t)r->action << 8 | r->mode << 4 | r->record << 2 | r->report);
		h = mix(h, (uint64_t)r->proto << 16 | (uint16_t)r->origin_zone);
		h = mix(h, (uint64_t)r->expires);
		for (uint16_t k = 0; k < r->nports; k++)
			h = mix(h, r->ports[k]);
		h = mix(h, strlen(r->name) + strlen(r->category) + strlen(r->basis) +
			   strlen(r->file));
		if (r->authority)
			h = mix(h, strlen(r->authority) + strlen(r->authority_name) +
				   (r->order ? strlen(r->order) : 0));
		if (r->origin_zone >= 0 && sl_policy_zone_name(p, r->origin_zone) == NULL)
			abort();
	}
	if (sl_policy_rule(p, sl_policy_nrules(p)) != NULL)
		abort();
	for (int i = 0; (z = sl_policy_zone_name(p, i)) != NULL; i++) {
		if (sl_policy_find_zone(p, z) != i)
			abort();
		h = mix(h, strlen(z));
	}
	sl_policy_foreach_prefix(p, on_prefix, &pc);
	return mix(h, pc.h);
}

uint64_t fuzz_probe_policy(const struct sl_policy *p, const struct probe *pr, unsigned n)
{
	struct sl_scratch *scr = NULL;
	struct sl_hitset hs, all;
	struct sl_verdict v;
	struct sl_addr origin;
	uint64_t h = probe_rules(p);

	sl_hitset_clear(&all);
	if (sl_scratch_alloc(p, &scr) < 0)
		return h;
	sl_addr_parse("203.0.113.9", &origin);
	for (unsigned i = 0; i < n; i++) {
		const char *s = pr[i].s;
		size_t len = pr[i].len;
		const char *slash = memchr(s, '/', len);
		struct sl_pstream *st = NULL;
		struct sl_addr a;
		char tmp[128];

		sl_hitset_clear(&hs);
		sl_match_domain(p, s, len, SL_FIELD_HOST, &hs);
		sl_match_domain(p, s, len, SL_FIELD_DNS, &hs);
		if (slash)
			sl_match_url(p, scr, s, (size_t)(slash - s), slash, len - (size_t)(slash - s), &hs);
		else
			sl_match_url(p, scr, s, len, "/", 1, &hs);
		sl_match_payload(p, scr, (const uint8_t *)s, len, &hs);
		h = mix(h, fold_hits(p, &hs));
		sl_hitset_clear(&hs);
		if (sl_pstream_open(p, &st) == 0) {
			sl_pstream_scan(p, st, scr, (const uint8_t *)s, len / 2, &hs);
			sl_pstream_scan(p, st, scr, (const uint8_t *)s + len / 2, len - len / 2, &hs);
			sl_pstream_close(st);
		}
		if (len < sizeof(tmp)) {
			memcpy(tmp, s, len);
			tmp[len] = '\0';
			if (sl_addr_parse(tmp, &a) == 0) {
				sl_match_ip(p, &a, &hs);
				for (int z = 0; sl_policy_zone_name(p, z) != NULL; z++)
					h = mix(h, (uint64_t)sl_zone_contains(p, z, &a) << z % 64);
			}
		}
		h = mix(h, fold_hits(p, &hs));
		for (uint32_t k = 0; k < hs.n; k++)
			sl_hitset_add(&all, hs.hit[k].rule, hs.hit[k].field, hs.hit[k].to);
	}
	for (uint8_t proto = 0; proto < 2; proto++) {
		struct sl_match_ctx mc = {
			.proto = proto ? SL_PROTO_UDP : SL_PROTO_TCP,
			.server_port = proto ? 53 : 443,
			.origin = &origin,
			.now = 1800000000,
		};

		sl_decide(p, &all, &mc, &v);
		if (v.n > SL_HITS_MAX || v.rule >= (int32_t)sl_policy_nrules(p) ||
		    (v.rule < 0) != (v.action == SL_ACT_NONE))
			abort();
		if (v.rule >= 0 && sl_policy_rule(p, (uint32_t)v.rule)->mode == SL_MODE_SHADOW)
			abort();  /* shadow rules never win */
		h = mix(h, (uint64_t)(v.rule + 1) << 8 | v.action);
	}
	sl_scratch_free(scr);
	return h;
}

unsigned fuzz_probes_from_text(const char *text, size_t len, struct probe *pr, unsigned max)
{
	unsigned n = 0;
	const char *end = text + len;

	for (const char *s = text; s < end && n + SL_ARRAY_SIZE(fixed) < max;) {
		const char *q = memchr(s, '"', (size_t)(end - s));
		const char *e;

		if (q == NULL)
			break;
		e = memchr(q + 1, '"', (size_t)(end - q - 1));
		if (e == NULL)
			break;
		pr[n].s = q + 1;
		pr[n].len = (size_t)(e - q - 1);
		n++;
		s = e + 1;
	}
	for (unsigned i = 0; i < SL_ARRAY_SIZE(fixed) && n < max; i++) {
		pr[n].s = fixed[i];
		pr[n].len = strlen(fixed[i]);
		n++;
	}
	return n;
}
