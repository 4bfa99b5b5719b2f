/* Address tables without DPDK: ip selectors as a sorted array of disjoint
 * intervals, each labelled with the ruleset of the longest prefix that
 * covers it (a binary search answers "every rule with a prefix containing
 * the address"), plus the prefixes themselves with their covering
 * rulesets for sl_policy_foreach_prefix. Zones are sorted arrays of merged
 * ranges. Both families use 128-bit values, IPv4 left-aligned.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int cmp_in(const void *a, const void *b)
{
	const struct ip_in *x = a;
	const struct ip_in *y = b;
	int c = u128_cmp(x->a, y->a);

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return 0;
}

struct ivb {
	struct u128 *s;
	uint32_t *r;
	size_t n;
	size_t cap;
	bool oom;
};

/* From `start` on, the label is rs (until the next boundary). */
static void emit(struct ivb *b, struct u128 start, uint32_t rs)
{
	if (b->n > 0 && u128_cmp(b->s[b->n - 1], start) == 0) {
		b->r[b->n - 1] = rs;
		if (b->n > 1 && b->r[b->n - 2] == rs)
			b->n--;
		return;
	}
	if (b->n > 0 && b->r[b->n - 1] == rs)
		return;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct u128 *s = realloc(b->s, cap * sizeof(*s));
		uint32_t *r;

		if (s == NULL) {
			b->oom = true;
			return;
		}
		b->s = s;
		r = realloc(b->r, cap * sizeof(*r));
		if (r == NULL) {
			b->oom = true;
			return;
		}
		b->r = r;
		b->cap = cap;
	}
	b->s[b->n] = start;
	b->r[b->n] = rs;
	b->n++;
}

static struct u128 u128_inc(struct u128 a)
{
	a.lo++;
	if (a.lo == 0)
		a.hi++;
	return a;
}

static bool u128_is_max(struct u128 a)
{
	return a.hi == ~0ULL && a.lo == ~0ULL;
}

struct frame {
	struct u128 last;
	uint32_t rs;
};

int iptab_build(struct ip_in *in, size_t n, struct rs_builder *rb,
		struct sect *pfx, struct sect *ivs, struct sect *ivr,
		uint32_t *ndistinct)
{
	struct ip_pfx *out = NULL;
	struct frame *st = NULL;
	uint32_t *own = NULL;
	uint32_t *cov = NULL;
	struct ivb b = { 0 };
	size_t np = 0;
	size_t depth = 0;
	int ret = -ENOMEM;

	memset(pfx, 0, sizeof(*pfx));
	memset(ivs, 0, sizeof(*ivs));
	memset(ivr, 0, sizeof(*ivr));
	*ndistinct = 0;
	if (n == 0)
		return 0;
	qsort(in, n, sizeof(*in), cmp_in);
	out = calloc(n, sizeof(*out));
	st = calloc(129, sizeof(*st));
	own = malloc(n * sizeof(*own));
	cov = malloc(n * sizeof(*cov));
	if (out == NULL || st == NULL || own == NULL || cov == NULL)
		goto fail;
	emit(&b, (struct u128){ 0, 0 }, 0);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint32_t no = 0;
		uint32_t nc = 0;
		uint32_t rs;

		while (j < n && u128_cmp(in[j].a, in[i].a) == 0 && in[j].len == in[i].len) {
			if (no == 0 || own[no - 1] != in[j].rule)
				own[no++] = in[j].rule;
			j++;
		}
		while (depth > 0 && u128_cmp(st[depth - 1].last, in[i].a) < 0) {
			struct u128 next = u128_inc(st[depth - 1].last);

			depth--;
			emit(&b, next, depth ? st[depth - 1].rs : 0);
		}
		/* covering set: own rules + the enclosing prefix's */
		if (depth > 0) {
			const uint32_t *pr;
			uint32_t pn;
			uint32_t a = 0, c = 0;

			pn = rsb_rules(rb, st[depth - 1].rs, &pr);
			while (a < no || c < pn) {
				uint32_t v;

				if (c >= pn || (a < no && own[a] < pr[c]))
					v = own[a++];
				else if (a >= no || pr[c] < own[a])
					v = pr[c++];
				else {
					v = own[a++];
					c++;
				}
				cov[nc++] = v;
			}
		} else {
			memcpy(cov, own, no * sizeof(*own));
			nc = no;
		}
		rs = rsb_intern(rb, cov, nc);
		if (rs == SL_NONE32)
			goto fail;
		out[np].a = in[i].a;
		out[np].len = in[i].len;
		out[np].rs = rs;
		np++;
		emit(&b, in[i].a, rs);
		st[depth].last = u128_last(in[i].a, in[i].len);
		st[depth].rs = rs;
		depth++;
		i = j;
	}
	while (depth > 0) {
		struct u128 last = st[depth - 1].last;

		depth--;
		if (u128_is_max(last))
			continue;
		emit(&b, u128_inc(last), depth ? st[depth - 1].rs : 0);
	}
	if (b.oom)
		goto fail;
	pfx->p = out;
	pfx->n = np * sizeof(*out);
	ivs->p = b.s;
	ivs->n = b.n * sizeof(*b.s);
	ivr->p = b.r;
	ivr->n = b.n * sizeof(*b.r);
	*ndistinct = (uint32_t)np;
	out = NULL;
	b.s = NULL;
	b.r = NULL;
	ret = 0;
fail:
	free(out);
	free(st);
	free(own);
	free(cov);
	free(b.s);
	free(b.r);
	return ret;
}

uint32_t iptab_lookup(const struct iptab *t, struct u128 v)
{
	uint32_t lo = 0;
	uint32_t hi = t->niv;

	if (t->niv == 0)
		return 0;
	/* last interval whose start <= v; ivs[0] is 0 */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (u128_cmp(t->ivs[mid], v) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	return t->ivr[lo];
}

static int cmp_in_addr(const void *a, const void *b)
{
	const struct ip_in *x = a;
	const struct ip_in *y = b;

	return u128_cmp(x->a, y->a);
}

int ranges_build(struct ip_in *in, size_t n, struct range_vec *out)
{
	struct ip_range cur;
	bool have = false;

	qsort(in, n, sizeof(*in), cmp_in_addr);
	for (size_t i = 0; i < n; i++) {
		struct u128 lo = in[i].a;
		struct u128 hi = u128_last(in[i].a, in[i].len);

		if (have && (u128_is_max(cur.hi) ||
			     u128_cmp(lo, u128_inc(cur.hi)) <= 0)) {
			if (u128_cmp(hi, cur.hi) > 0)
				cur.hi = hi;
			continue;
		}
		if (have) {
			struct ip_range *r = vec_grow((void **)&out->v, &out->cap,
						      out->n, sizeof(*r));
			if (r == NULL)
				return -ENOMEM;
			*r = cur;
			out->n++;
		}
		cur.lo = lo;
		cur.hi = hi;
		have = true;
	}
	if (have) {
		struct ip_range *r = vec_grow((void **)&out->v, &out->cap, out->n,
					      sizeof(*r));
		if (r == NULL)
			return -ENOMEM;
		*r = cur;
		out->n++;
	}
	return 0;
}

bool ranges_contain(const struct ip_range *r, uint32_t n, struct u128 v)
{
	uint32_t lo = 0;
	uint32_t hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (u128_cmp(r[mid].hi, v) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && u128_cmp(r[lo].lo, v) <= 0;
}
