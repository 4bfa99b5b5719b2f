/* Domain selectors: a flat open-addressing hash table keyed by the
 * normalised name (lowercase, no trailing dot). Each slot holds the
 * ruleset matching the name itself (entries "name" and ".name") and the
 * ruleset matching every subdomain of it ("*.name" and ".name").
 *
 * Lookup of a.b.example probes a.b.example for its exact ruleset, then
 * each proper label suffix (b.example, example) for its subdomain ruleset:
 * one probe per label, whatever the size of the table. The hash is
 * computed from the last byte to the first, so the hash of every suffix
 * falls out of a single pass over the name and no copy is needed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int cmp_dom(const void *a, const void *b, void *ctx)
{
	const struct ir_dom *x = a;
	const struct ir_dom *y = b;
	const char *keys = ctx;
	int c;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	c = memcmp(keys + x->key_off, keys + y->key_off, x->key_len);
	if (c != 0)
		return c;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static bool same_key(const struct ir_dom *x, const struct ir_dom *y, const char *keys)
{
	return x->hash == y->hash && x->key_len == y->key_len &&
	       memcmp(keys + x->key_off, keys + y->key_off, x->key_len) == 0;
}

int domtab_build(struct ir *ir, struct rs_builder *rb, struct sect *slots,
		 struct sect *keys, uint32_t *ndistinct)
{
	struct ir_dom *d = ir->doms.v;
	size_t n = ir->doms.n;
	const char *kp = ir->dkeys.p;
	uint32_t *ex = NULL;
	uint32_t *sub = NULL;
	struct dom_slot *tab = NULL;
	struct sbuf kb = { 0 };
	size_t distinct = 0;
	uint64_t cap = 0;
	int ret = -ENOMEM;

	*ndistinct = 0;
	slots->p = NULL;
	slots->n = 0;
	keys->p = NULL;
	keys->n = 0;
	if (n == 0)
		return 0;
	/* sorted by (hash, key, rule, kind): groups by name, and the digest
	 * walks the same order */
	qsort_r(d, n, sizeof(*d), cmp_dom, (void *)kp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || !same_key(&d[i - 1], &d[i], kp))
			distinct++;
	if (distinct > UINT32_MAX / 4)
		return -E2BIG;
	cap = 16;
	while (cap < distinct * 2)
		cap *= 2;
	tab = calloc(cap, sizeof(*tab));
	ex = malloc(n * sizeof(*ex));
	sub = malloc(n * sizeof(*sub));
	if (tab == NULL || ex == NULL || sub == NULL)
		goto out;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint32_t ne = 0;
		uint32_t ns = 0;
		uint64_t h;
		struct dom_slot *s;

		while (j < n && same_key(&d[i], &d[j], kp)) {
			if ((d[j].kind & DOM_EXACT) && (ne == 0 || ex[ne - 1] != d[j].rule))
				ex[ne++] = d[j].rule;
			if ((d[j].kind & DOM_SUB) && (ns == 0 || sub[ns - 1] != d[j].rule))
				sub[ns++] = d[j].rule;
			j++;
		}
		h = dom_mix(d[i].hash) & (cap - 1);
		while (tab[h].key_len != 0)
			h = (h + 1) & (cap - 1);
		s = &tab[h];
		s->hash = d[i].hash;
		s->key_off = (uint32_t)kb.len;
		s->key_len = d[i].key_len;
		s->exact_rs = rsb_intern(rb, ex, ne);
		s->sub_rs = rsb_intern(rb, sub, ns);
		if (s->exact_rs == SL_NONE32 || s->sub_rs == SL_NONE32 ||
		    sbuf_add(&kb, kp + d[i].key_off, d[i].key_len) < 0)
			goto out;
		i = j;
	}
	slots->p = tab;
	slots->n = cap * sizeof(*tab);
	keys->p = kb.p;
	keys->n = kb.len;
	tab = NULL;
	kb.p = NULL;
	*ndistinct = (uint32_t)distinct;
	ret = 0;
out:
	free(tab);
	free(ex);
	free(sub);
	sbuf_free(&kb);
	return ret;
}

static const struct dom_slot *probe(const struct sl_policy *p, uint64_t h,
				    const char *name, size_t len)
{
	uint64_t i = dom_mix(h) & p->dom_mask;

	for (;;) {
		const struct dom_slot *s = &p->dom[i];

		if (s->key_len == 0)
			return NULL;
		if (s->hash == h && s->key_len == len) {
			const char *k = p->dom_key + s->key_off;
			size_t j = 0;

			while (j < len && k[j] == (char)sl_lower[(uint8_t)name[j]])
				j++;
			if (j == len)
				return s;
		}
		i = (i + 1) & p->dom_mask;
	}
}

static int add_rs(const struct sl_policy *p, uint32_t rs, enum sl_field field,
		  struct sl_hitset *hits)
{
	const uint32_t *r;
	uint32_t n = rs_get(p, rs, &r);
	int added = 0;

	for (uint32_t i = 0; i < n; i++)
		added += sl_hitset_add(hits, r[i], (uint8_t)field, 0);
	return added;
}

int domtab_lookup(const struct sl_policy *p, const char *name, size_t len,
		  enum sl_field field, struct sl_hitset *hits)
{
	const struct dom_slot *s;
	uint64_t h = DOM_FNV_OFF;
	int added = 0;
	size_t n;

	if (name == NULL || norm_domain_wire(name, len, &n) < 0)
		return -EINVAL;
	if (p->dom_cap == 0)
		return 0;
	for (size_t i = n; i > 0; i--) {
		uint8_t c = sl_lower[(uint8_t)name[i - 1]];

		if (c == '.') {
			/* name[i..n) is a proper label suffix */
			s = probe(p, h, name + i, n - i);
			if (s && s->sub_rs)
				added += add_rs(p, s->sub_rs, field, hits);
		}
		h = (h ^ c) * DOM_FNV_PRIME;
	}
	s = probe(p, h, name, n);
	if (s && s->exact_rs)
		added += add_rs(p, s->exact_rs, field, hits);
	return added;
}
