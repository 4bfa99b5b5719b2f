/* Policy compiler: turns the parser's IR into an immutable, ref-counted
 * struct sl_policy (rule table, interned strings and rulesets, domain
 * table, Hyperscan databases, address tables, zones, meta and digest),
 * plus the entry points to compile or open a policy and the read-only
 * introspection functions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- ruleset interning --------------------------------------------------- */

struct rs_builder {
	VEC(uint32_t) off;   /* start of each ruleset in data */
	VEC(uint32_t) data;
	uint32_t *ht;
	size_t htcap;
	size_t count;
};

static uint64_t rs_hash(const uint32_t *r, uint32_t n)
{
	uint64_t h = DOM_FNV_OFF ^ n;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ r[i]) * DOM_FNV_PRIME;
	return dom_mix(h);
}

struct rs_builder *rsb_new(uint32_t nrules)
{
	struct rs_builder *rb = calloc(1, sizeof(*rb));
	uint32_t *o;

	(void)nrules;
	if (rb == NULL)
		return NULL;
	rb->htcap = 1024;
	rb->ht = malloc(rb->htcap * sizeof(*rb->ht));
	o = VEC_PUSH(rb->off);
	if (rb->ht == NULL || o == NULL) {
		rsb_free(rb);
		return NULL;
	}
	memset(rb->ht, 0xff, rb->htcap * sizeof(*rb->ht));
	*o = 0; /* ruleset 0: empty */
	return rb;
}

uint32_t rsb_rules(const struct rs_builder *rb, uint32_t rs, const uint32_t **rules)
{
	uint32_t end = rs + 1 < rb->off.n ? rb->off.v[rs + 1] : (uint32_t)rb->data.n;

	*rules = rb->data.v + rb->off.v[rs];
	return end - rb->off.v[rs];
}

static int rsb_grow(struct rs_builder *rb)
{
	size_t cap = rb->htcap * 2;
	uint32_t *ht = malloc(cap * sizeof(*ht));

	if (ht == NULL)
		return -ENOMEM;
	memset(ht, 0xff, cap * sizeof(*ht));
	for (uint32_t id = 1; id < rb->off.n; id++) {
		const uint32_t *r;
		uint32_t n = rsb_rules(rb, id, &r);
		size_t i = rs_hash(r, n) & (cap - 1);

		while (ht[i] != SL_NONE32)
			i = (i + 1) & (cap - 1);
		ht[i] = id;
	}
	free(rb->ht);
	rb->ht = ht;
	rb->htcap = cap;
	return 0;
}

uint32_t rsb_intern(struct rs_builder *rb, const uint32_t *rules, uint32_t n)
{
	size_t i;
	uint32_t *o;

	if (n == 0)
		return 0;
	if ((rb->count + 1) * 2 > rb->htcap && rsb_grow(rb) < 0)
		return SL_NONE32;
	i = rs_hash(rules, n) & (rb->htcap - 1);
	while (rb->ht[i] != SL_NONE32) {
		const uint32_t *r;
		uint32_t m = rsb_rules(rb, rb->ht[i], &r);

		if (m == n && memcmp(r, rules, n * sizeof(*r)) == 0)
			return rb->ht[i];
		i = (i + 1) & (rb->htcap - 1);
	}
	if (rb->data.n + n >= UINT32_MAX || rb->off.n >= UINT32_MAX - 1)
		return SL_NONE32;
	o = VEC_PUSH(rb->off);
	if (o == NULL)
		return SL_NONE32;
	*o = (uint32_t)rb->data.n;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t *d = VEC_PUSH(rb->data);

		if (d == NULL) {
			rb->data.n = *o;
			rb->off.n--;
			return SL_NONE32;
		}
		*d = rules[k];
	}
	rb->ht[i] = (uint32_t)rb->off.n - 1;
	rb->count++;
	return (uint32_t)rb->off.n - 1;
}

int rsb_finish(struct rs_builder *rb, struct sect *off, struct sect *data)
{
	uint32_t *o = VEC_PUSH(rb->off);

	if (o == NULL)
		return -ENOMEM;
	*o = (uint32_t)rb->data.n;
	off->p = rb->off.v;
	off->n = rb->off.n * sizeof(uint32_t);
	data->p = rb->data.v;
	data->n = rb->data.n * sizeof(uint32_t);
	rb->off.v = NULL;
	rb->data.v = NULL;
	rb->off.n = 0;
	rb->data.n = 0;
	return 0;
}

void rsb_free(struct rs_builder *rb)
{
	if (rb == NULL)
		return;
	free(rb->off.v);
	free(rb->data.v);
	free(rb->ht);
	free(rb);
}

uint32_t rs_get(const struct sl_policy *p, uint32_t rs, const uint32_t **rules)
{
	if (rs >= p->nrs) {
		*rules = NULL;
		return 0;
	}
	*rules = p->rs_data + p->rs_off[rs];
	return p->rs_off[rs + 1] - p->rs_off[rs];
}

/* ---- string pool ------------------------------------------------------- */

struct strpool {
	struct sbuf b;
	uint32_t *ht;
	size_t cap;
	size_t n;
	bool oom;
};

static uint64_t str_hash(const char *s)
{
	return dom_mix(dom_hash(s, strlen(s)) ^ strlen(s));
}

static int sp_init(struct strpool *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->cap = 256;
	sp->ht = malloc(sp->cap * sizeof(*sp->ht));
	if (sp->ht == NULL || sbuf_add(&sp->b, "", 1) < 0)
		return -ENOMEM;
	memset(sp->ht, 0xff, sp->cap * sizeof(*sp->ht));
	return 0;
}

static uint32_t sp_add(struct strpool *sp, const char *s)
{
	size_t i;
	size_t len;

	if (s == NULL || s[0] == '\0')
		return 0;
	if ((sp->n + 1) * 2 > sp->cap) {
		size_t cap = sp->cap * 2;
		uint32_t *ht = malloc(cap * sizeof(*ht));

		if (ht == NULL) {
			sp->oom = true;
			return 0;
		}
		memset(ht, 0xff, cap * sizeof(*ht));
		for (size_t k = 0; k < sp->cap; k++) {
			if (sp->ht[k] == SL_NONE32)
				continue;
			i = str_hash(sp->b.p + sp->ht[k]) & (cap - 1);
			while (ht[i] != SL_NONE32)
				i = (i + 1) & (cap - 1);
			ht[i] = sp->ht[k];
		}
		free(sp->ht);
		sp->ht = ht;
		sp->cap = cap;
	}
	i = str_hash(s) & (sp->cap - 1);
	while (sp->ht[i] != SL_NONE32) {
		if (strcmp(sp->b.p + sp->ht[i], s) == 0)
			return sp->ht[i];
		i = (i + 1) & (sp->cap - 1);
	}
	len = strlen(s) + 1;
	if (sp->b.len + len >= UINT32_MAX || sbuf_add(&sp->b, s, len) < 0) {
		sp->oom = true;
		return 0;
	}
	sp->ht[i] = (uint32_t)(sp->b.len - len);
	sp->n++;
	return sp->ht[i];
}

/* ---- Hyperscan databases -------------------------------------------------- */

struct hs_item {
	const char *expr;
	unsigned flags;
	const char *file;
	uint32_t line;
	uint32_t ir_rule;
	const char *shown;   /* entry as written, for messages */
	const char *what;    /* "payload regex", "payload", "url" */
	bool bad;
};

static void rule_tag(const struct ir *ir, uint32_t ri, char *buf, size_t len)
{
	if (ir->rules.v[ri].has_id)
		snprintf(buf, len, "rule %u", ir->rules.v[ri].id);
	else
		snprintf(buf, len, "rule #%u", ri + 1);
}

/* Compile the items not marked bad. An expression Hyperscan rejects is
 * reported at its line, marked bad, and the rest compiled again, so one
 * run reports every rejected expression. */
static int hs_build(struct ir *ir, struct hs_item *it, size_t n, unsigned mode,
		    unsigned extra_flags, hs_database_t **db)
{
	const char **ex = calloc(n + 1, sizeof(*ex));
	unsigned *fl = calloc(n + 1, sizeof(*fl));
	unsigned *ids = calloc(n + 1, sizeof(*ids));
	size_t *map = calloc(n + 1, sizeof(*map));
	int ret = -ENOMEM;

	*db = NULL;
	if (ex == NULL || fl == NULL || ids == NULL || map == NULL)
		goto out;
	for (;;) {
		hs_compile_error_t *err = NULL;
		unsigned k = 0;

		for (size_t i = 0; i < n; i++) {
			if (it[i].bad)
				continue;
			ex[k] = it[i].expr;
			fl[k] = it[i].flags | extra_flags;
			ids[k] = k;
			map[k] = i;
			k++;
		}
		if (k == 0) {
			ret = 0;
			break;
		}
		if (hs_compile_multi(ex, fl, ids, k, mode, NULL, db, &err) == HS_SUCCESS) {
			ret = 0;
			break;
		}
		*db = NULL;
		if (err && err->expression >= 0 && (unsigned)err->expression < k) {
			struct hs_item *b = &it[map[err->expression]];
			char tag[48];

			rule_tag(ir, b->ir_rule, tag, sizeof(tag));
			b->bad = true;
			sl_diag_add(ir->diag, false, b->file, b->line, "%s: %s %s: %s%s",
				    tag, b->what, b->shown, err->message,
				    mode == HS_MODE_STREAM ? " (stream mode)" : "");
			hs_free_compile_error(err);
			continue;
		}
		sl_diag_add(ir->diag, false, ir->path, 0, "Hyperscan: %s",
			    err && err->message ? err->message : "compile failed");
		hs_free_compile_error(err);
		ret = -EINVAL;
		break;
	}
out:
	free(ex);
	free(fl);
	free(ids);
	free(map);
	return ret;
}

/* "/expr/flags" or "literal" (quoted) for messages. */
static char *pay_shown(const struct ir_pay *p)
{
	char *s = NULL;
	const char *c = p->canon;

	if (c[0] == 'R') {
		const char *sl = strchr(c, '/');

		if (asprintf(&s, "\"/%s/%.*s\"", sl + 1, (int)(sl - c - 1), c + 1) < 0)
			s = NULL;
	} else if (asprintf(&s, "\"%s\"", c + 1) < 0) {
		s = NULL;
	}
	return s;
}

int compile_payloads(struct ir *ir, hs_database_t **blk, hs_database_t **str)
{
	size_t n = ir->pays.n;
	struct hs_item *it;
	int ret = -ENOMEM;

	*blk = NULL;
	*str = NULL;
	if (n == 0)
		return 0;
	it = calloc(n, sizeof(*it));
	if (it == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct ir_pay *p = &ir->pays.v[i];

		it[i].expr = p->expr;
		it[i].flags = p->flags;
		it[i].file = p->file;
		it[i].line = p->line;
		it[i].ir_rule = p->rule;
		it[i].what = p->regex ? "payload regex" : "payload";
		it[i].shown = pay_shown(p);
		it[i].bad = p->bad;
		if (it[i].shown == NULL)
			goto out;
	}
	ret = hs_build(ir, it, n, HS_MODE_BLOCK, HS_FLAG_SINGLEMATCH, blk);
	if (ret == 0)
		ret = hs_build(ir, it, n, HS_MODE_STREAM, 0, str);
	for (size_t i = 0; i < n; i++)
		ir->pays.v[i].bad = it[i].bad;
out:
	for (size_t i = 0; i < n; i++)
		free((char *)it[i].shown);
	free(it);
	return ret;
}

/* url pattern -> anchored expression: '*' is ".*", everything else is
 * literal; a pattern without a trailing '*' must end with the subject. */
static char *url_expr(const char *pat)
{
	struct sbuf b = { 0 };
	size_t n = strlen(pat);

	if (sbuf_add(&b, "^", 1) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pat[i];
		char h[5];
		int r;

		if (c == '*')
			r = sbuf_add(&b, ".*", 2);
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9'))
			r = sbuf_add(&b, &c, 1);
		else
			r = (snprintf(h, sizeof(h), "\\x%02x", c), sbuf_add(&b, h, 4));
		if (r < 0) {
			sbuf_free(&b);
			return NULL;
		}
	}
	if ((n == 0 || pat[n - 1] != '*') && sbuf_add(&b, "\\z", 2) < 0) {
		sbuf_free(&b);
		return NULL;
	}
	if (sbuf_add(&b, "", 1) < 0) {
		sbuf_free(&b);
		return NULL;
	}
	return b.p;
}

/* ---- building the snapshot ---------------------------------------------- */

static int cmp_u32p(const void *a, const void *b, void *ctx)
{
	const struct ir *ir = ctx;
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	if (ir->rules.v[x].id != ir->rules.v[y].id)
		return ir->rules.v[x].id < ir->rules.v[y].id ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int cmp_zone_idx(const void *a, const void *b, void *ctx)
{
	const struct ir *ir = ctx;

	return strcmp(ir->zones.v[*(const uint32_t *)a].name,
		      ir->zones.v[*(const uint32_t *)b].name);
}

static int cmp_auth_idx(const void *a, const void *b, void *ctx)
{
	const struct ir *ir = ctx;

	return strcmp(ir->auths.v[*(const uint32_t *)a].id,
		      ir->auths.v[*(const uint32_t *)b].id);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Orders in which rules, zones and authorities end up (shared with the
 * digest): fills ir_rule.idx and ir_zone.idx. */
static int ir_order(struct ir *ir, uint32_t **rord, uint32_t **zord, uint32_t **aord)
{
	*rord = calloc(ir->rules.n + 1, sizeof(uint32_t));
	*zord = calloc(ir->zones.n + 1, sizeof(uint32_t));
	*aord = calloc(ir->auths.n + 1, sizeof(uint32_t));
	if (*rord == NULL || *zord == NULL || *aord == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < ir->rules.n; i++)
		(*rord)[i] = i;
	qsort_r(*rord, ir->rules.n, sizeof(uint32_t), cmp_u32p, ir);
	for (uint32_t i = 0; i < ir->rules.n; i++)
		ir->rules.v[(*rord)[i]].idx = i;
	for (uint32_t i = 0; i < ir->zones.n; i++)
		(*zord)[i] = i;
	qsort_r(*zord, ir->zones.n, sizeof(uint32_t), cmp_zone_idx, ir);
	for (uint32_t i = 0; i < ir->zones.n; i++)
		ir->zones.v[(*zord)[i]].idx = i;
	for (uint32_t i = 0; i < ir->auths.n; i++)
		(*aord)[i] = i;
	qsort_r(*aord, ir->auths.n, sizeof(uint32_t), cmp_auth_idx, ir);
	/* selectors refer to final rule indexes from here on */
	for (size_t i = 0; i < ir->doms.n; i++)
		ir->doms.v[i].rule = ir->rules.v[ir->doms.v[i].rule].idx;
	for (size_t i = 0; i < ir->ips.n; i++)
		ir->ips.v[i].rule = ir->rules.v[ir->ips.v[i].rule].idx;
	for (uint32_t i = 0; i < ir->rules.n; i++) {
		struct ir_rule *r = &ir->rules.v[i];

		if (r->ports.n > 1) {
			size_t k = 1;

			qsort(r->ports.v, r->ports.n, sizeof(uint16_t), cmp_u16);
			for (size_t j = 1; j < r->ports.n; j++)
				if (r->ports.v[j] != r->ports.v[k - 1])
					r->ports.v[k++] = r->ports.v[j];
			r->ports.n = k;
		}
	}
	return 0;
}

static int build_ip(struct sl_policy *p, struct ir *ir, struct rs_builder *rb,
		    uint32_t *ncidr)
{
	struct ip_in *in = calloc(ir->ips.n + 1, sizeof(*in));
	uint32_t nd[2] = { 0, 0 };
	int ret = 0;

	if (in == NULL)
		return -ENOMEM;
	for (int f = 0; f < 2 && ret == 0; f++) {
		size_t n = 0;

		for (size_t i = 0; i < ir->ips.n; i++) {
			if (ir->ips.v[i].family != (f ? 6 : 4))
				continue;
			in[n].a = ir->ips.v[i].a;
			in[n].len = ir->ips.v[i].len;
			in[n].rule = ir->ips.v[i].rule;
			n++;
		}
		ret = iptab_build(in, n, rb, &p->s[f ? S_IP6_PFX : S_IP4_PFX],
				  &p->s[f ? S_IP6_IVS : S_IP4_IVS],
				  &p->s[f ? S_IP6_IVR : S_IP4_IVR], &nd[f]);
	}
	*ncidr = nd[0] + nd[1];
	free(in);
	return ret;
}

static int build_zones(struct sl_policy *p, struct ir *ir, struct strpool *sp,
		       const uint32_t *zord, uint32_t *zcidr)
{
	struct zone_rec *zr = calloc(ir->zones.n + 1, sizeof(*zr));
	struct range_vec rv[2] = { { 0 }, { 0 } };
	struct ip_in *in = NULL;
	size_t maxp = 0;
	int ret = -ENOMEM;

	*zcidr = 0;
	for (size_t z = 0; z < ir->zones.n; z++)
		if (ir->zones.v[z].pfx.n > maxp)
			maxp = ir->zones.v[z].pfx.n;
	in = calloc(maxp + 1, sizeof(*in));
	if (zr == NULL || in == NULL)
		goto out;
	for (uint32_t k = 0; k < ir->zones.n; k++) {
		struct ir_zone *z = &ir->zones.v[zord[k]];

		zr[k].name_off = sp_add(sp, z->name);
		*zcidr += (uint32_t)z->pfx.n;
		for (int f = 0; f < 2; f++) {
			size_t n = 0;
			size_t before = rv[f].n;

			for (size_t i = 0; i < z->pfx.n; i++) {
				if (z->pfx.v[i].family != (f ? 6 : 4))
					continue;
				in[n].a = z->pfx.v[i].a;
				in[n].len = z->pfx.v[i].len;
				n++;
			}
			if (ranges_build(in, n, &rv[f]) < 0)
				goto out;
			if (f == 0) {
				zr[k].r4_off = (uint32_t)before;
				zr[k].r4_n = (uint32_t)(rv[f].n - before);
			} else {
				zr[k].r6_off = (uint32_t)before;
				zr[k].r6_n = (uint32_t)(rv[f].n - before);
			}
		}
	}
	p->s[S_ZONES].p = zr;
	p->s[S_ZONES].n = ir->zones.n * sizeof(*zr);
	p->s[S_ZR4].p = rv[0].v;
	p->s[S_ZR4].n = rv[0].n * sizeof(struct ip_range);
	p->s[S_ZR6].p = rv[1].v;
	p->s[S_ZR6].n = rv[1].n * sizeof(struct ip_range);
	zr = NULL;
	rv[0].v = rv[1].v = NULL;
	ret = 0;
out:
	free(zr);
	free(rv[0].v);
	free(rv[1].v);
	free(in);
	return ret;
}

static int build_urls(struct sl_policy *p, struct ir *ir)
{
	size_t n = ir->urls.n;
	struct hs_item *it;
	uint32_t *rule;
	uint8_t *open;
	int ret = -ENOMEM;

	if (n == 0)
		return 0;
	it = calloc(n, sizeof(*it));
	rule = calloc(n, sizeof(*rule));
	open = calloc(n, 1);
	if (it == NULL || rule == NULL || open == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct ir_url *u = &ir->urls.v[i];
		size_t l = strlen(u->pat);

		it[i].expr = url_expr(u->pat);
		if (it[i].expr == NULL)
			goto out;
		it[i].flags = HS_FLAG_DOTALL;
		it[i].file = u->file;
		it[i].line = u->line;
		it[i].ir_rule = u->rule;
		it[i].what = "url";
		it[i].shown = u->pat;
		rule[i] = ir->rules.v[u->rule].idx;
		open[i] = l > 0 && u->pat[l - 1] == '*';
	}
	ret = hs_build(ir, it, n, HS_MODE_BLOCK, HS_FLAG_SINGLEMATCH, &p->hs_url);
	for (size_t i = 0; i < n; i++)
		if (it[i].bad)
			ret = -EINVAL;
	if (ret == 0) {
		p->s[S_URL_RULE].p = rule;
		p->s[S_URL_RULE].n = n * sizeof(*rule);
		p->s[S_URL_OPEN].p = open;
		p->s[S_URL_OPEN].n = n;
		rule = NULL;
		open = NULL;
	}
out:
	if (it)
		for (size_t i = 0; i < n; i++)
			free((char *)it[i].expr);
	free(it);
	free(rule);
	free(open);
	return ret;
}

static int build_tests(struct sl_policy *p, struct ir *ir)
{
	if (ir->tests.n == 0)
		return 0;
	p->tv = calloc(ir->tests.n, sizeof(*p->tv));
	if (p->tv == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < ir->tests.n; i++) {
		struct ir_test *t = &ir->tests.v[i];
		struct tvec *v = &p->tv[i];

		v->rule = ir->rules.v[t->rule].idx;
		v->expect = t->expect;
		v->field = t->field;
		v->text = t->text;
		t->text = NULL;
		v->value = v->text + t->off;
		v->vlen = t->vlen;
		v->file = strdup(t->file);
		v->line = t->line;
		p->ntv++;
		if (v->file == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int build(struct ir *ir, hs_database_t **pblk, hs_database_t **pstr,
		 struct sl_policy **out)
{
	struct sl_policy *p = calloc(1, sizeof(*p));
	struct rs_builder *rb = rsb_new((uint32_t)ir->rules.n);
	uint32_t *rord = NULL, *zord = NULL, *aord = NULL, *azmap = NULL;
	struct strpool sp;
	struct rule_rec *rr = NULL;
	struct auth_rec *ar = NULL;
	struct meta_rec *mr = NULL;
	VEC(uint16_t) ports = { 0 };
	uint32_t npay = 0;
	char why[256];
	int ret = -ENOMEM;

	memset(&sp, 0, sizeof(sp));
	if (p == NULL || rb == NULL || sp_init(&sp) < 0)
		goto fail;
	atomic_init(&p->ref, 1);
	if (ir_order(ir, &rord, &zord, &aord) < 0)
		goto fail;
	azmap = calloc(ir->auths.n + 1, sizeof(*azmap));
	rr = calloc(ir->rules.n + 1, sizeof(*rr));
	ar = calloc(ir->auths.n + 1, sizeof(*ar));
	mr = calloc(1, sizeof(*mr));
	if (azmap == NULL || rr == NULL || ar == NULL || mr == NULL)
		goto fail;
	for (uint32_t k = 0; k < ir->auths.n; k++) {
		struct ir_auth *a = &ir->auths.v[aord[k]];

		azmap[aord[k]] = k;
		ar[k].id_off = sp_add(&sp, a->id);
		ar[k].name_off = sp_add(&sp, a->name);
		ar[k].order_off = a->order ? sp_add(&sp, a->order) : SL_NONE32;
	}
	for (uint32_t k = 0; k < ir->rules.n; k++) {
		struct ir_rule *r = &ir->rules.v[rord[k]];
		struct rule_rec *x = &rr[k];

		x->id = r->id;
		x->action = r->action;
		x->mode = r->mode;
		x->record = r->record;
		x->report = r->report;
		x->proto = r->proto;
		x->origin_negate = r->origin_negate;
		x->origin_zone = r->origin_zone >= 0 ?
			(int16_t)ir->zones.v[r->origin_zone].idx : -1;
		x->nports = (uint32_t)r->ports.n;
		x->ports_off = (uint32_t)ports.n;
		for (size_t i = 0; i < r->ports.n; i++) {
			uint16_t *pp = VEC_PUSH(ports);

			if (pp == NULL)
				goto fail;
			*pp = r->ports.v[i];
		}
		x->expires = r->expires;
		x->name_off = sp_add(&sp, r->name);
		x->category_off = sp_add(&sp, r->category);
		x->basis_off = sp_add(&sp, r->basis);
		x->auth = r->auth >= 0 ? azmap[r->auth] : SL_NONE32;
		x->file_off = sp_add(&sp, r->file);
		x->line = r->line;
	}
	p->s[S_RULES].p = rr;
	p->s[S_RULES].n = ir->rules.n * sizeof(*rr);
	rr = NULL;
	p->s[S_PORTS].p = ports.v ? (void *)ports.v : calloc(1, 2);
	p->s[S_PORTS].n = ports.n * sizeof(uint16_t);
	ports.v = NULL;
	p->s[S_AUTH].p = ar;
	p->s[S_AUTH].n = ir->auths.n * sizeof(*ar);
	ar = NULL;

	ret = build_zones(p, ir, &sp, zord, &mr->zone_cidrs);
	if (ret < 0)
		goto fail;
	ret = domtab_build(ir, rb, &p->s[S_DOM_SLOT], &p->s[S_DOM_KEY], &mr->domains);
	if (ret < 0)
		goto fail;
	ret = build_urls(p, ir);
	if (ret < 0)
		goto fail;
	mr->urls = (uint32_t)ir->urls.n;
	{
		uint32_t *pr = calloc(ir->pays.n + 1, sizeof(*pr));

		ret = -ENOMEM;
		if (pr == NULL)
			goto fail;
		for (size_t i = 0; i < ir->pays.n; i++)
			if (!ir->pays.v[i].bad)
				pr[npay++] = ir->rules.v[ir->pays.v[i].rule].idx;
		p->s[S_PAY_RULE].p = pr;
		p->s[S_PAY_RULE].n = npay * sizeof(*pr);
		mr->payloads = npay;
		mr->has_payload = npay > 0;
	}
	p->hs_pblock = *pblk;
	p->hs_pstream = *pstr;
	*pblk = NULL;
	*pstr = NULL;
	ret = build_ip(p, ir, rb, &mr->cidrs);
	if (ret < 0)
		goto fail;
	ret = -ENOMEM;
	if (rsb_finish(rb, &p->s[S_RS_OFF], &p->s[S_RS_DATA]) < 0)
		goto fail;
	mr->name_off = sp_add(&sp, ir->name);
	mr->revision_off = sp_add(&sp, ir->revision);
	ret = digest_ir(ir, mr->digest);
	if (ret < 0)
		goto fail;
	ret = -ENOMEM;
	if (sp.oom)
		goto fail;
	p->s[S_META].p = mr;
	p->s[S_META].n = sizeof(*mr);
	mr = NULL;
	p->s[S_STR].p = sp.b.p;
	p->s[S_STR].n = sp.b.len;
	sp.b.p = NULL;
	for (int i = 0; i < S__COUNT; i++)
		if (p->s[i].p == NULL && i != S_HS_URL && i != S_HS_PSTREAM &&
		    i != S_HS_PBLOCK && (p->s[i].p = calloc(1, 8)) == NULL)
			goto fail;
	if (policy_bind(p, why, sizeof(why)) < 0) {
		sl_diag_add(ir->diag, false, ir->path, 0, "internal error: %s", why);
		ret = -EINVAL;
		goto fail;
	}
	ret = build_tests(p, ir);
	if (ret < 0)
		goto fail;
	*out = p;
	p = NULL;
	ret = 0;
fail:
	if (p)
		policy_free(p);
	rsb_free(rb);
	free(rord);
	free(zord);
	free(aord);
	free(azmap);
	free(rr);
	free(ar);
	free(mr);
	free(ports.v);
	sbuf_free(&sp.b);
	free(sp.ht);
	return ret;
}

/* ---- public entry points -------------------------------------------------- */

struct dsort {
	struct sl_diag_msg m;
	unsigned rank;       /* order of the file's first message */
	unsigned pos;
};

static int cmp_diag(const void *a, const void *b)
{
	const struct dsort *x = a;
	const struct dsort *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->m.line != y->m.line)
		return x->m.line < y->m.line ? -1 : 1;
	return x->pos < y->pos ? -1 : 1;
}

static bool same_file(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Messages of one compile grouped by file (in the order the files first
 * appear) and sorted by line within a file; stable otherwise. */
static void sort_diag(struct sl_diag *d, unsigned from)
{
	unsigned n = d->n - from;
	const char **files;
	unsigned nfiles = 0;
	struct dsort *t;

	if (n < 2)
		return;
	t = malloc(n * sizeof(*t));
	files = malloc(n * sizeof(*files));
	if (t == NULL || files == NULL) {
		free(t);
		free(files);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned k = 0;

		t[i].m = d->m[from + i];
		t[i].pos = i;
		/* few distinct files: a linear search is fine */
		while (k < nfiles && !same_file(files[k], t[i].m.file))
			k++;
		if (k == nfiles)
			files[nfiles++] = t[i].m.file;
		t[i].rank = k;
	}
	qsort(t, n, sizeof(*t), cmp_diag);
	for (unsigned i = 0; i < n; i++)
		d->m[from + i] = t[i].m;
	free(t);
	free(files);
}

int sl_policy_compile_text(const char *text, const char *name,
			   const struct sl_compile_opts *opts,
			   struct sl_policy **out, struct sl_diag *diag)
{
	struct sl_diag local;
	struct ir ir;
	hs_database_t *blk = NULL, *str = NULL;
	unsigned errs0, n0;
	double t0 = mono_now();
	int ret;

	if (diag == NULL) {
		sl_diag_init(&local);
		diag = &local;
	}
	errs0 = diag->errors;
	n0 = diag->n;
	*out = NULL;
	if (name == NULL)
		name = "<policy>";
	ir_init(&ir, diag, name, opts);
	ir_parse(&ir, text);
	ret = compile_payloads(&ir, &blk, &str);
	if (ret == -ENOMEM)
		sl_diag_add(diag, false, name, 0, "out of memory");
	if (ir.oom || diag->errors != errs0) {
		ret = ir.oom ? -ENOMEM : -EINVAL;
		goto out;
	}
	ret = build(&ir, &blk, &str, out);
	if (ret == -ENOMEM)
		sl_diag_add(diag, false, name, 0, "out of memory");
	else if (ret < 0 && diag->errors == errs0)
		sl_diag_add(diag, false, name, 0, "compile failed: %s", strerror(-ret));
	if (ret == 0)
		(*out)->stats.compile_s = mono_now() - t0;
out:
	if (blk)
		hs_free_database(blk);
	if (str)
		hs_free_database(str);
	ir_free(&ir);
	sort_diag(diag, n0);
	if (diag == &local)
		sl_diag_free(&local);
	return ret;
}

int policy_read_file(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *b;
	size_t n = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : errno;

		close(fd);
		return -e;
	}
	b = malloc((size_t)st.st_size + 1);
	if (b == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;

			free(b);
			close(fd);
			return -e;
		}
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int sl_policy_compile_file(const char *path, const struct sl_compile_opts *opts,
			   struct sl_policy **out, struct sl_diag *diag)
{
	char *text;
	size_t len;
	int ret;

	*out = NULL;
	ret = policy_read_file(path, &text, &len);
	if (ret < 0) {
		if (diag)
			sl_diag_add(diag, false, path, 0, "cannot read policy: %s",
				    strerror(-ret));
		return ret;
	}
	if (strlen(text) != len) {
		if (diag)
			sl_diag_add(diag, false, path, 0,
				    "not a policy (NUL byte in text) and not an artefact");
		free(text);
		return -EINVAL;
	}
	ret = sl_policy_compile_text(text, path, opts, out, diag);
	free(text);
	return ret;
}

int sl_policy_open(const char *path, const struct sl_compile_opts *opts,
		   struct sl_policy **out, struct sl_diag *diag)
{
	char magic[8];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd >= 0) {
		n = read(fd, magic, sizeof(magic));
		close(fd);
	}
	if (n == (ssize_t)sizeof(magic) && memcmp(magic, SL_ARTEFACT_MAGIC, 8) == 0)
		return sl_policy_load_artefact(path, out, diag);
	return sl_policy_compile_file(path, opts, out, diag);
}

/* ---- lifetime ----------------------------------------------------------- */

void policy_free(struct sl_policy *p)
{
	if (p->hs_url)
		hs_free_database(p->hs_url);
	if (p->hs_pstream)
		hs_free_database(p->hs_pstream);
	if (p->hs_pblock)
		hs_free_database(p->hs_pblock);
	if (p->body == NULL)
		for (int i = 0; i < S__COUNT; i++)
			free(p->s[i].p);
	free(p->body);
	free(p->rules);
	for (uint32_t i = 0; i < p->ntv; i++) {
		free(p->tv[i].text);
		free(p->tv[i].file);
	}
	free(p->tv);
	free(p);
}

struct sl_policy *sl_policy_ref(struct sl_policy *p)
{
	if (p)
		atomic_fetch_add_explicit(&p->ref, 1, memory_order_relaxed);
	return p;
}

void sl_policy_unref(struct sl_policy *p)
{
	if (p && atomic_fetch_sub_explicit(&p->ref, 1, memory_order_acq_rel) == 1)
		policy_free(p);
}

/* ---- binding and validation ------------------------------------------- */

static bool str_ok(const struct sl_policy *p, uint32_t off)
{
	return off < p->s[S_STR].n;
}

#define BAD(...) do { snprintf(why, whylen, __VA_ARGS__); return -EINVAL; } while (0)

static int bind_iptab(struct sl_policy *p, int f, char *why, size_t whylen)
{
	struct iptab *t = &p->ip[f];
	const struct sect *sp = &p->s[f ? S_IP6_PFX : S_IP4_PFX];
	const struct sect *ss = &p->s[f ? S_IP6_IVS : S_IP4_IVS];
	const struct sect *sr = &p->s[f ? S_IP6_IVR : S_IP4_IVR];

	if (sp->n % sizeof(struct ip_pfx) || ss->n % sizeof(struct u128) ||
	    sr->n % sizeof(uint32_t))
		BAD("address table %d: bad section size", f ? 6 : 4);
	t->pfx = sp->p;
	t->npfx = (uint32_t)(sp->n / sizeof(struct ip_pfx));
	t->ivs = ss->p;
	t->ivr = sr->p;
	t->niv = (uint32_t)(ss->n / sizeof(struct u128));
	if (t->niv != sr->n / sizeof(uint32_t))
		BAD("address table %d: interval arrays differ", f ? 6 : 4);
	for (uint32_t i = 0; i < t->npfx; i++)
		if (t->pfx[i].len > (f ? 128u : 32u) || t->pfx[i].rs >= p->nrs)
			BAD("address table %d: bad prefix %u", f ? 6 : 4, i);
	for (uint32_t i = 0; i < t->niv; i++) {
		if (t->ivr[i] >= p->nrs)
			BAD("address table %d: bad ruleset", f ? 6 : 4);
		if (i == 0 ? (t->ivs[0].hi || t->ivs[0].lo) :
			     u128_cmp(t->ivs[i - 1], t->ivs[i]) >= 0)
			BAD("address table %d: intervals not sorted", f ? 6 : 4);
	}
	return 0;
}

int policy_bind(struct sl_policy *p, char *why, size_t whylen)
{
	const struct sect *s = p->s;
	uint32_t nports;

	if (s[S_STR].n == 0 || ((const char *)s[S_STR].p)[s[S_STR].n - 1] != '\0')
		BAD("string table not terminated");
	p->str = s[S_STR].p;
	if (s[S_META].n != sizeof(struct meta_rec))
		BAD("bad meta section");
	p->mrec = s[S_META].p;
	if (!str_ok(p, p->mrec->name_off) || !str_ok(p, p->mrec->revision_off))
		BAD("bad meta strings");
	if (s[S_RS_OFF].n % 4 || s[S_RS_DATA].n % 4 || s[S_RS_OFF].n < 8)
		BAD("bad ruleset sections");
	p->rs_off = s[S_RS_OFF].p;
	p->rs_data = s[S_RS_DATA].p;
	p->nrs = (uint32_t)(s[S_RS_OFF].n / 4 - 1);
	if (s[S_RULES].n % sizeof(struct rule_rec))
		BAD("bad rule section");
	p->rrec = s[S_RULES].p;
	p->nrules = (uint32_t)(s[S_RULES].n / sizeof(struct rule_rec));
	if (s[S_PORTS].n % 2)
		BAD("bad port section");
	p->ports = s[S_PORTS].p;
	nports = (uint32_t)(s[S_PORTS].n / 2);
	if (s[S_ZONES].n % sizeof(struct zone_rec) || s[S_ZR4].n % sizeof(struct ip_range) ||
	    s[S_ZR6].n % sizeof(struct ip_range))
		BAD("bad zone sections");
	p->zones = s[S_ZONES].p;
	p->nzones = (uint32_t)(s[S_ZONES].n / sizeof(struct zone_rec));
	p->zr[0] = s[S_ZR4].p;
	p->zr[1] = s[S_ZR6].p;
	if (s[S_AUTH].n % sizeof(struct auth_rec))
		BAD("bad authority section");
	p->auth = s[S_AUTH].p;
	p->nauth = (uint32_t)(s[S_AUTH].n / sizeof(struct auth_rec));

	if (p->rs_off[0] != 0 || p->rs_off[p->nrs] != s[S_RS_DATA].n / 4)
		BAD("bad ruleset offsets");
	for (uint32_t i = 0; i < p->nrs; i++)
		if (p->rs_off[i] > p->rs_off[i + 1])
			BAD("bad ruleset offsets");
	for (uint64_t i = 0; i < s[S_RS_DATA].n / 4; i++)
		if (p->rs_data[i] >= p->nrules)
			BAD("ruleset names rule %u of %u", p->rs_data[i], p->nrules);
	for (uint32_t i = 0; i < p->nauth; i++)
		if (!str_ok(p, p->auth[i].id_off) || !str_ok(p, p->auth[i].name_off) ||
		    (p->auth[i].order_off != SL_NONE32 && !str_ok(p, p->auth[i].order_off)))
			BAD("bad authority %u", i);
	for (uint32_t i = 0; i < p->nzones; i++) {
		const struct zone_rec *z = &p->zones[i];

		if (!str_ok(p, z->name_off) ||
		    (uint64_t)z->r4_off + z->r4_n > s[S_ZR4].n / sizeof(struct ip_range) ||
		    (uint64_t)z->r6_off + z->r6_n > s[S_ZR6].n / sizeof(struct ip_range))
			BAD("bad zone %u", i);
	}
	for (uint32_t i = 0; i < p->nrules; i++) {
		const struct rule_rec *r = &p->rrec[i];

		if ((i > 0 && r->id <= p->rrec[i - 1].id) || r->id == 0)
			BAD("rule table not sorted by id");
		if (r->action < SL_ACT_LOG || r->action > SL_ACT_ALLOW || r->mode > 1 ||
		    (r->proto != 0 && r->proto != SL_PROTO_TCP && r->proto != SL_PROTO_UDP) ||
		    r->origin_zone >= (int)p->nzones || r->origin_zone < -1 ||
		    (uint64_t)r->ports_off + r->nports > nports ||
		    !str_ok(p, r->name_off) || !str_ok(p, r->category_off) ||
		    !str_ok(p, r->basis_off) || !str_ok(p, r->file_off) ||
		    (r->auth != SL_NONE32 && r->auth >= p->nauth))
			BAD("bad rule %u", r->id);
	}
	if (s[S_DOM_SLOT].n % sizeof(struct dom_slot))
		BAD("bad domain table size");
	p->dom = s[S_DOM_SLOT].p;
	p->dom_cap = (uint32_t)(s[S_DOM_SLOT].n / sizeof(struct dom_slot));
	p->dom_key = s[S_DOM_KEY].p;
	if (p->dom_cap & (p->dom_cap - 1))
		BAD("domain table size not a power of two");
	p->dom_mask = p->dom_cap ? p->dom_cap - 1 : 0;
	{
		uint32_t empty = 0;

		for (uint32_t i = 0; i < p->dom_cap; i++) {
			const struct dom_slot *d = &p->dom[i];

			if (d->key_len == 0) {
				empty++;
				continue;
			}
			if ((uint64_t)d->key_off + d->key_len > s[S_DOM_KEY].n ||
			    d->exact_rs >= p->nrs || d->sub_rs >= p->nrs)
				BAD("bad domain slot %u", i);
		}
		if (p->dom_cap && empty == 0)
			BAD("domain table full");
	}
	if (s[S_URL_RULE].n % 4 || s[S_URL_OPEN].n != s[S_URL_RULE].n / 4)
		BAD("bad url sections");
	p->url_rule = s[S_URL_RULE].p;
	p->url_open = s[S_URL_OPEN].p;
	p->nurl = (uint32_t)(s[S_URL_RULE].n / 4);
	if (s[S_PAY_RULE].n % 4)
		BAD("bad payload section");
	p->pay_rule = s[S_PAY_RULE].p;
	p->npay = (uint32_t)(s[S_PAY_RULE].n / 4);
	for (uint32_t i = 0; i < p->nurl; i++)
		if (p->url_rule[i] >= p->nrules)
			BAD("bad url rule");
	for (uint32_t i = 0; i < p->npay; i++)
		if (p->pay_rule[i] >= p->nrules)
			BAD("bad payload rule");
	if ((p->nurl > 0) != (p->hs_url != NULL) ||
	    (p->npay > 0) != (p->hs_pblock != NULL) ||
	    (p->npay > 0) != (p->hs_pstream != NULL))
		BAD("Hyperscan databases do not match the pattern tables");
	for (int f = 0; f < 2; f++)
		if (bind_iptab(p, f, why, whylen) < 0)
			return -EINVAL;

	/* materialise the public rule table */
	free(p->rules);
	p->rules = calloc(p->nrules + 1, sizeof(*p->rules));
	if (p->rules == NULL)
		BAD("out of memory");
	for (uint32_t i = 0; i < p->nrules; i++) {
		const struct rule_rec *x = &p->rrec[i];
		struct sl_rule *r = &p->rules[i];

		r->id = x->id;
		r->idx = i;
		r->action = x->action;
		r->mode = x->mode;
		r->record = x->record;
		r->report = x->report;
		r->proto = x->proto;
		r->origin_negate = x->origin_negate;
		r->origin_zone = x->origin_zone;
		r->nports = (uint16_t)x->nports;
		r->ports = p->ports + x->ports_off;
		r->expires = x->expires;
		r->name = p->str + x->name_off;
		r->category = p->str + x->category_off;
		r->basis = p->str + x->basis_off;
		if (x->auth != SL_NONE32) {
			r->authority = p->str + p->auth[x->auth].id_off;
			r->authority_name = p->str + p->auth[x->auth].name_off;
			r->order = p->auth[x->auth].order_off != SL_NONE32 ?
				p->str + p->auth[x->auth].order_off : NULL;
		}
		r->file = p->str + x->file_off;
		r->line = x->line;
	}
	/* meta and stats */
	p->meta.name = p->str + p->mrec->name_off;
	p->meta.revision = p->str + p->mrec->revision_off;
	memcpy(p->meta.digest, p->mrec->digest, 32);
	for (int i = 0; i < 32; i++)
		snprintf(p->meta.digest_hex + 2 * i, 3, "%02x", p->meta.digest[i]);
	p->stats.rules = p->nrules;
	p->stats.zones = p->nzones;
	p->stats.authorities = p->nauth;
	p->stats.domains = p->mrec->domains;
	p->stats.urls = p->mrec->urls;
	p->stats.payloads = p->mrec->payloads;
	p->stats.cidrs = p->mrec->cidrs;
	p->stats.zone_cidrs = p->mrec->zone_cidrs;
	p->stats.bytes = sizeof(*p) + (uint64_t)p->nrules * sizeof(struct sl_rule);
	for (int i = 0; i < S__COUNT; i++)
		if (i != S_HS_URL && i != S_HS_PSTREAM && i != S_HS_PBLOCK)
			p->stats.bytes += p->s[i].n;
	{
		hs_database_t *dbs[3] = { p->hs_url, p->hs_pstream, p->hs_pblock };

		for (int i = 0; i < 3; i++) {
			size_t sz;

			if (dbs[i] && hs_database_size(dbs[i], &sz) == HS_SUCCESS)
				p->stats.bytes += sz;
		}
	}
	return 0;
}

/* ---- introspection ----------------------------------------------------------- */

const struct sl_policy_meta *sl_policy_meta(const struct sl_policy *p)
{
	return &p->meta;
}

void sl_policy_get_stats(const struct sl_policy *p, struct sl_policy_stats *st)
{
	*st = p->stats;
}

uint32_t sl_policy_nrules(const struct sl_policy *p)
{
	return p->nrules;
}

const struct sl_rule *sl_policy_rule(const struct sl_policy *p, uint32_t idx)
{
	return idx < p->nrules ? &p->rules[idx] : NULL;
}

int sl_policy_find_rule(const struct sl_policy *p, uint32_t id)
{
	uint32_t lo = 0;
	uint32_t hi = p->nrules;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->rules[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->nrules && p->rules[lo].id == id ? (int)lo : -ENOENT;
}

int sl_policy_find_zone(const struct sl_policy *p, const char *name)
{
	for (uint32_t i = 0; i < p->nzones; i++)
		if (strcmp(p->str + p->zones[i].name_off, name) == 0)
			return (int)i;
	return -ENOENT;
}

const char *sl_policy_zone_name(const struct sl_policy *p, int zone)
{
	if (zone < 0 || (uint32_t)zone >= p->nzones)
		return NULL;
	return p->str + p->zones[zone].name_off;
}

bool sl_policy_has(const struct sl_policy *p, enum sl_field f)
{
	switch (f) {
	case SL_FIELD_HOST:
	case SL_FIELD_SNI:
	case SL_FIELD_DNS:
		return p->dom_cap > 0;
	case SL_FIELD_URL:
		return p->nurl > 0;
	case SL_FIELD_PAYLOAD:
		return p->npay > 0;
	case SL_FIELD_IP:
		return p->ip[0].npfx + p->ip[1].npfx > 0;
	default:
		return false;
	}
}
