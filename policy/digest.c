/* Policy digest: SHA-256 over a canonical binary encoding of what the
 * policy means. Every string is length-prefixed, every number fixed width
 * big-endian; rules come in id order, zones in name order, authorities in
 * id order, and selector entries normalised, deduplicated and sorted, so
 * comments, whitespace, entry order and list-file vs inline placement do
 * not change the digest while any change of behaviour or of what records
 * and reports show about a rule does. The policy's own name and revision
 * are labels and are not part of it. See docs/policy.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"

struct dg {
	EVP_MD_CTX *c;
	int err;
};

static void put_u64(struct dg *d, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	if (EVP_DigestUpdate(d->c, b, 8) != 1)
		d->err = -EIO;
}

static void put_mem(struct dg *d, const void *s, size_t n)
{
	put_u64(d, n);
	if (n && EVP_DigestUpdate(d->c, s, n) != 1)
		d->err = -EIO;
}

static void put_str(struct dg *d, const char *s)
{
	if (s == NULL) {
		put_u64(d, UINT64_MAX);
		return;
	}
	put_mem(d, s, strlen(s));
}

static void put_u128(struct dg *d, struct u128 v)
{
	put_u64(d, v.hi);
	put_u64(d, v.lo);
}

static int cmp_auth(const void *a, const void *b, void *ctx)
{
	const struct ir *ir = ctx;

	return strcmp(ir->auths.v[*(const uint32_t *)a].id,
		      ir->auths.v[*(const uint32_t *)b].id);
}

static int cmp_url(const void *a, const void *b, void *ctx)
{
	const struct ir *ir = ctx;
	const struct ir_url *x = &ir->urls.v[*(const uint32_t *)a];
	const struct ir_url *y = &ir->urls.v[*(const uint32_t *)b];
	uint32_t rx = ir->rules.v[x->rule].idx, ry = ir->rules.v[y->rule].idx;

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return strcmp(x->pat, y->pat);
}

static int cmp_pay(const void *a, const void *b, void *ctx)
{
	const struct ir *ir = ctx;
	const struct ir_pay *x = &ir->pays.v[*(const uint32_t *)a];
	const struct ir_pay *y = &ir->pays.v[*(const uint32_t *)b];
	uint32_t rx = ir->rules.v[x->rule].idx, ry = ir->rules.v[y->rule].idx;

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return strcmp(x->canon, y->canon);
}

static int cmp_ip(const void *a, const void *b)
{
	const struct ir_ip *x = a;
	const struct ir_ip *y = b;
	int c;

	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = u128_cmp(x->a, y->a);
	if (c != 0)
		return c;
	return (int)x->len - (int)y->len;
}

static uint32_t *iota(size_t n)
{
	uint32_t *v = calloc(n + 1, sizeof(*v));

	if (v)
		for (size_t i = 0; i < n; i++)
			v[i] = (uint32_t)i;
	return v;
}

static int put_zones(struct dg *d, struct ir *ir)
{
	uint32_t *zord = calloc(ir->zones.n + 1, sizeof(*zord));
	int ret = 0;

	if (zord == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < ir->zones.n; i++)
		zord[ir->zones.v[i].idx] = i;
	put_u64(d, ir->zones.n);
	for (uint32_t k = 0; k < ir->zones.n && ret == 0; k++) {
		struct ir_zone *z = &ir->zones.v[zord[k]];

		put_str(d, z->name);
		for (int f = 0; f < 2; f++) {
			struct ip_in *in = calloc(z->pfx.n + 1, sizeof(*in));
			struct range_vec rv = { 0 };
			size_t n = 0;

			if (in == NULL) {
				ret = -ENOMEM;
				break;
			}
			for (size_t i = 0; i < z->pfx.n; i++) {
				if (z->pfx.v[i].family != (f ? 6 : 4))
					continue;
				in[n].a = z->pfx.v[i].a;
				in[n].len = z->pfx.v[i].len;
				n++;
			}
			if (ranges_build(in, n, &rv) < 0)
				ret = -ENOMEM;
			put_u64(d, rv.n);
			for (size_t i = 0; i < rv.n; i++) {
				put_u128(d, rv.v[i].lo);
				put_u128(d, rv.v[i].hi);
			}
			free(rv.v);
			free(in);
		}
	}
	free(zord);
	return ret;
}

int digest_ir(struct ir *ir, uint8_t out[32])
{
	struct dg d = { EVP_MD_CTX_new(), 0 };
	uint32_t *rord = calloc(ir->rules.n + 1, sizeof(*rord));
	uint32_t *aord = iota(ir->auths.n);
	uint32_t *uord = iota(ir->urls.n);
	uint32_t *pord = iota(ir->pays.n);
	struct ir_ip *ips = calloc(ir->ips.n + 1, sizeof(*ips));
	unsigned int mdlen = 0;
	int ret = -ENOMEM;

	if (d.c == NULL || rord == NULL || aord == NULL || uord == NULL ||
	    pord == NULL || ips == NULL)
		goto out;
	ret = -EIO;
	if (EVP_DigestInit_ex(d.c, EVP_sha256(), NULL) != 1)
		goto out;
	put_str(&d, "sluice-policy-digest/1");

	/* zones */
	ret = put_zones(&d, ir);
	if (ret < 0)
		goto out;

	/* authorities */
	qsort_r(aord, ir->auths.n, sizeof(*aord), cmp_auth, ir);
	put_u64(&d, ir->auths.n);
	for (size_t k = 0; k < ir->auths.n; k++) {
		struct ir_auth *a = &ir->auths.v[aord[k]];

		put_str(&d, a->id);
		put_str(&d, a->name);
		put_str(&d, a->order);
	}

	/* rules, by id */
	for (uint32_t i = 0; i < ir->rules.n; i++)
		rord[ir->rules.v[i].idx] = i;
	put_u64(&d, ir->rules.n);
	for (uint32_t k = 0; k < ir->rules.n; k++) {
		struct ir_rule *r = &ir->rules.v[rord[k]];

		put_u64(&d, r->id);
		put_str(&d, r->name);
		put_str(&d, r->category ? r->category : "");
		put_str(&d, r->basis);
		put_str(&d, r->auth >= 0 ? ir->auths.v[r->auth].id : NULL);
		put_u64(&d, r->action);
		put_u64(&d, r->mode);
		put_u64(&d, r->record);
		put_u64(&d, r->report);
		put_u64(&d, r->proto);
		put_str(&d, r->origin_zone >= 0 ? ir->zones.v[r->origin_zone].name : NULL);
		put_u64(&d, r->origin_negate);
		put_u64(&d, r->ports.n);
		for (size_t i = 0; i < r->ports.n; i++)
			put_u64(&d, r->ports.v[i]);
		put_u64(&d, (uint64_t)r->expires);
	}

	/* domains: ir->doms is sorted by (hash, key, rule, kind) by
	 * domtab_build; kinds of one rule for one name are merged
	 * ("a.test" + "*.a.test" == ".a.test") */
	put_str(&d, "domain");
	for (size_t i = 0; i < ir->doms.n;) {
		const struct ir_dom *x = &ir->doms.v[i];
		unsigned kind = 0;
		size_t j = i;

		while (j < ir->doms.n && ir->doms.v[j].rule == x->rule &&
		       ir->doms.v[j].hash == x->hash && ir->doms.v[j].key_len == x->key_len &&
		       memcmp(ir->dkeys.p + ir->doms.v[j].key_off,
			      ir->dkeys.p + x->key_off, x->key_len) == 0)
			kind |= ir->doms.v[j++].kind;
		put_mem(&d, ir->dkeys.p + x->key_off, x->key_len);
		put_u64(&d, ir->rules.v[rord[x->rule]].id);
		put_u64(&d, kind);
		i = j;
	}

	put_str(&d, "url");
	qsort_r(uord, ir->urls.n, sizeof(*uord), cmp_url, ir);
	for (size_t k = 0; k < ir->urls.n; k++) {
		if (k > 0 && cmp_url(&uord[k - 1], &uord[k], ir) == 0)
			continue;
		put_u64(&d, ir->rules.v[ir->urls.v[uord[k]].rule].id);
		put_str(&d, ir->urls.v[uord[k]].pat);
	}

	put_str(&d, "payload");
	qsort_r(pord, ir->pays.n, sizeof(*pord), cmp_pay, ir);
	for (size_t k = 0; k < ir->pays.n; k++) {
		if (k > 0 && cmp_pay(&pord[k - 1], &pord[k], ir) == 0)
			continue;
		put_u64(&d, ir->rules.v[ir->pays.v[pord[k]].rule].id);
		put_str(&d, ir->pays.v[pord[k]].canon);
	}

	put_str(&d, "ip");
	if (ir->ips.n)
		memcpy(ips, ir->ips.v, ir->ips.n * sizeof(*ips));
	qsort(ips, ir->ips.n, sizeof(*ips), cmp_ip); /* rules are final indexes */
	for (size_t k = 0; k < ir->ips.n; k++) {
		if (k > 0 && cmp_ip(&ips[k - 1], &ips[k]) == 0)
			continue;
		put_u64(&d, ir->rules.v[rord[ips[k].rule]].id);
		put_u64(&d, ips[k].family);
		put_u128(&d, ips[k].a);
		put_u64(&d, ips[k].len);
	}

	ret = d.err;
	if (ret == 0 && (EVP_DigestFinal_ex(d.c, out, &mdlen) != 1 || mdlen != 32))
		ret = -EIO;
out:
	EVP_MD_CTX_free(d.c);
	free(rord);
	free(aord);
	free(uord);
	free(pord);
	free(ips);
	return ret;
}
