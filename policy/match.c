/* Matching and deciding: names of enums, hit sets, per-thread scratch,
 * the domain/url/ip/payload matchers (block and stream), zones, the
 * constraint check and the precedence rule of sl_decide. Nothing here
 * allocates except sl_scratch_alloc and sl_pstream_open.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

const char *sl_action_name(int action)
{
	switch (action) {
	case SL_ACT_LOG:
		return "log";
	case SL_ACT_DROP:
		return "drop";
	case SL_ACT_RESET:
		return "reset";
	case SL_ACT_BLOCK_PAGE:
		return "block-page";
	case SL_ACT_ALLOW:
		return "allow";
	default:
		return "none";
	}
}

int sl_action_parse(const char *s)
{
	for (int a = SL_ACT_LOG; a < SL_ACT__COUNT; a++)
		if (s && strcmp(s, sl_action_name(a)) == 0)
			return a;
	return -EINVAL;
}

const char *sl_mode_name(int mode)
{
	return mode == SL_MODE_SHADOW ? "shadow" : "enforce";
}

const char *sl_field_name(int field)
{
	static const char *const n[SL_FIELD__COUNT] = {
		[SL_FIELD_NONE] = "none",
		[SL_FIELD_HOST] = "host",
		[SL_FIELD_SNI] = "sni",
		[SL_FIELD_DNS] = "dns",
		[SL_FIELD_URL] = "url",
		[SL_FIELD_PAYLOAD] = "payload",
		[SL_FIELD_IP] = "ip",
	};

	return field >= 0 && field < SL_FIELD__COUNT ? n[field] : "none";
}

int sl_hitset_add(struct sl_hitset *h, uint32_t rule, uint8_t field, uint64_t to)
{
	for (uint32_t i = 0; i < h->n; i++)
		if (h->hit[i].rule == rule)
			return 0;
	if (h->n >= SL_HITS_MAX) {
		h->overflow++;
		return 0;
	}
	h->hit[h->n].rule = rule;
	h->hit[h->n].field = field;
	h->hit[h->n].to = to;
	h->n++;
	return 1;
}

/* ---- scratch --------------------------------------------------------- */

struct sl_scratch {
	hs_scratch_t *hs;
	char *ubuf;          /* normalised URL subject */
};

int sl_scratch_alloc(const struct sl_policy *p, struct sl_scratch **s)
{
	struct sl_scratch *x = *s;
	const hs_database_t *dbs[3] = { p->hs_url, p->hs_pstream, p->hs_pblock };

	if (x == NULL) {
		x = calloc(1, sizeof(*x));
		if (x == NULL)
			return -ENOMEM;
		x->ubuf = malloc(URL_MAX);
		if (x->ubuf == NULL) {
			free(x);
			return -ENOMEM;
		}
	}
	for (int i = 0; i < 3; i++) {
		if (dbs[i] && hs_alloc_scratch(dbs[i], &x->hs) != HS_SUCCESS) {
			if (*s == NULL)
				sl_scratch_free(x);
			return -ENOMEM;
		}
	}
	*s = x;
	return 0;
}

void sl_scratch_free(struct sl_scratch *s)
{
	if (s == NULL)
		return;
	if (s->hs)
		hs_free_scratch(s->hs);
	free(s->ubuf);
	free(s);
}

/* ---- selectors --------------------------------------------------------- */

int sl_match_domain(const struct sl_policy *p, const char *name, size_t len,
		    enum sl_field field, struct sl_hitset *hits)
{
	return domtab_lookup(p, name, len, field, hits);
}

struct mctx {
	const uint32_t *map;
	const uint8_t *open;
	uint32_t n;
	uint8_t field;
	bool trunc;
	int added;
	struct sl_hitset *hits;
};

static int on_match(unsigned int id, unsigned long long from,
		    unsigned long long to, unsigned int flags, void *ctx)
{
	struct mctx *m = ctx;

	(void)from;
	(void)flags;
	if (SL_UNLIKELY(id >= m->n))
		return 0;
	if (SL_UNLIKELY(m->trunc) && m->open && !m->open[id])
		return 0; /* an exact url cannot be judged on a cut subject */
	m->added += sl_hitset_add(m->hits, m->map[id], m->field, to);
	return 0;
}

int sl_match_url(const struct sl_policy *p, struct sl_scratch *s,
		 const char *host, size_t hlen, const char *target, size_t tlen,
		 struct sl_hitset *hits)
{
	struct mctx m = { p->url_rule, p->url_open, p->nurl, SL_FIELD_URL, false, 0, hits };
	ssize_t n;

	if (host == NULL)
		hlen = 0;
	if (target == NULL)
		tlen = 0;
	if (p->hs_url == NULL)
		return 0;
	if (s == NULL || s->hs == NULL)
		return -EINVAL;
	n = norm_url_wire(host ? host : "", hlen, target ? target : "", tlen,
			  s->ubuf, URL_MAX, &m.trunc);
	if (n < 0)
		return -EINVAL;
	if (hs_scan(p->hs_url, s->ubuf, (unsigned)n, 0, s->hs, on_match, &m) != HS_SUCCESS)
		return -EINVAL;
	return m.added;
}

int sl_match_ip(const struct sl_policy *p, const struct sl_addr *a,
		struct sl_hitset *hits)
{
	struct u128 v;
	int f = addr_key(a, &v);
	const uint32_t *r;
	uint32_t n;
	int added = 0;

	if (f == 0)
		return -EINVAL;
	n = rs_get(p, iptab_lookup(&p->ip[f == 6], v), &r);
	for (uint32_t i = 0; i < n; i++)
		added += sl_hitset_add(hits, r[i], SL_FIELD_IP, 0);
	return added;
}

int sl_zone_contains(const struct sl_policy *p, int zone, const struct sl_addr *a)
{
	const struct zone_rec *z;
	struct u128 v;
	int f;

	if (zone < 0 || (uint32_t)zone >= p->nzones || a == NULL)
		return 0;
	f = addr_key(a, &v);
	z = &p->zones[zone];
	if (f == 4)
		return ranges_contain(p->zr[0] + z->r4_off, z->r4_n, v);
	if (f == 6)
		return ranges_contain(p->zr[1] + z->r6_off, z->r6_n, v);
	return 0;
}

int sl_match_payload(const struct sl_policy *p, struct sl_scratch *s,
		     const uint8_t *data, size_t len, struct sl_hitset *hits)
{
	struct mctx m = { p->pay_rule, NULL, p->npay, SL_FIELD_PAYLOAD, false, 0, hits };

	if (p->hs_pblock == NULL || len == 0)
		return 0;
	if (s == NULL || s->hs == NULL || len > UINT32_MAX)
		return -EINVAL;
	if (hs_scan(p->hs_pblock, (const char *)data, (unsigned)len, 0, s->hs,
		    on_match, &m) != HS_SUCCESS)
		return -EINVAL;
	return m.added;
}

size_t sl_pstream_size(const struct sl_policy *p)
{
	size_t sz = 0;

	if (p->hs_pstream == NULL || hs_stream_size(p->hs_pstream, &sz) != HS_SUCCESS)
		return 0;
	return sz;
}

int sl_pstream_open(const struct sl_policy *p, struct sl_pstream **st)
{
	hs_stream_t *h = NULL;

	*st = NULL;
	if (p->hs_pstream == NULL)
		return -ENOENT;
	if (hs_open_stream(p->hs_pstream, 0, &h) != HS_SUCCESS)
		return -ENOMEM;
	*st = (struct sl_pstream *)h;
	return 0;
}

int sl_pstream_scan(const struct sl_policy *p, struct sl_pstream *st,
		    struct sl_scratch *s, const uint8_t *data, size_t len,
		    struct sl_hitset *hits)
{
	struct mctx m = { p->pay_rule, NULL, p->npay, SL_FIELD_PAYLOAD, false, 0, hits };

	if (st == NULL || s == NULL || s->hs == NULL || len > UINT32_MAX)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (hs_scan_stream((hs_stream_t *)st, (const char *)data, (unsigned)len, 0,
			   s->hs, on_match, &m) != HS_SUCCESS)
		return -EINVAL;
	return m.added;
}

void sl_pstream_close(struct sl_pstream *st)
{
	if (st)
		hs_close_stream((hs_stream_t *)st, NULL, NULL, NULL);
}

int sl_policy_foreach_prefix(const struct sl_policy *p, sl_prefix_fn fn, void *ctx)
{
	for (int f = 0; f < 2; f++) {
		const struct iptab *t = &p->ip[f];

		for (uint32_t i = 0; i < t->npfx; i++) {
			struct sl_addr a;
			int r;

			u128_to_addr(t->pfx[i].a, f ? 6 : 4, &a);
			r = fn(ctx, &a, (uint8_t)t->pfx[i].len, t->pfx[i].rs);
			if (r != 0)
				return r;
		}
	}
	return 0;
}

uint32_t sl_policy_ruleset(const struct sl_policy *p, uint32_t ruleset,
			   const uint32_t **rules)
{
	return rs_get(p, ruleset, rules);
}

/* ---- deciding ----------------------------------------------------------- */

bool sl_rule_applies(const struct sl_policy *p, const struct sl_rule *r,
		     const struct sl_match_ctx *ctx)
{
	int64_t now = ctx->now ? ctx->now : (int64_t)time(NULL);

	if (ctx->disabled && (ctx->disabled[r->idx / 64] >> (r->idx % 64)) & 1)
		return false;
	if (!sl_rule_active(r, now))
		return false;
	if (r->proto != SL_PROTO_ANY && r->proto != ctx->proto)
		return false;
	if (r->nports) {
		uint32_t lo = 0;
		uint32_t hi = r->nports;

		if (ctx->server_port == 0)
			return false;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (r->ports[mid] < ctx->server_port)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo >= r->nports || r->ports[lo] != ctx->server_port)
			return false;
	}
	if (r->origin_zone >= 0) {
		if (ctx->origin == NULL || ctx->origin->family == 0)
			return false;
		if (sl_zone_contains(p, r->origin_zone, ctx->origin) == (r->origin_negate != 0))
			return false;
	}
	return true;
}

void sl_decide(const struct sl_policy *p, const struct sl_hitset *hits,
	       const struct sl_match_ctx *ctx, struct sl_verdict *v)
{
	const struct sl_rule *best = NULL;
	struct sl_match_ctx c = *ctx;

	if (c.now == 0)
		c.now = (int64_t)time(NULL);
	v->rule = -1;
	v->action = SL_ACT_NONE;
	v->field = SL_FIELD_NONE;
	v->n = 0;
	for (uint32_t i = 0; i < hits->n && i < SL_HITS_MAX; i++) {
		const struct sl_hit *h = &hits->hit[i];
		const struct sl_rule *r;

		if (h->rule >= p->nrules)
			continue;
		r = &p->rules[h->rule];
		if (!sl_rule_applies(p, r, &c))
			continue;
		v->applied[v->n++] = *h;
		if (r->mode != SL_MODE_ENFORCE)
			continue;
		if (best == NULL || r->action > best->action ||
		    (r->action == best->action && r->id < best->id)) {
			best = r;
			v->field = h->field;
		}
	}
	if (best) {
		v->rule = (int32_t)best->idx;
		v->action = best->action;
	}
}
