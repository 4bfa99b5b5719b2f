/* Policy parser: libconfig text -> intermediate representation (struct
 * ir). Checks every key, type and value, normalises selector entries,
 * reads list files, and reports each problem as FILE:LINE: message through
 * the caller's struct sl_diag. It never stops at the first problem: one
 * run reports all of them (a libconfig syntax error is the exception,
 * since nothing after it can be read).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libconfig.h>

#include "internal.h"

#define QMAX 128

/* ---- small utilities ----------------------------------------------- */

int sbuf_reserve(struct sbuf *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (p == NULL)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int sbuf_add(struct sbuf *b, const void *d, size_t n)
{
	if (sbuf_reserve(b, n) < 0)
		return -ENOMEM;
	if (n > 0)
		memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

void sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void *vec_grow(void **v, size_t *cap, size_t n, size_t elsz)
{
	char *p = *v;

	if (n >= *cap) {
		size_t nc = *cap ? *cap * 2 : 8;

		while (nc <= n)
			nc *= 2;
		p = realloc(*v, nc * elsz);
		if (p == NULL)
			return NULL;
		*v = p;
		*cap = nc;
	}
	memset(p + n * elsz, 0, elsz);
	return p + n * elsz;
}

/* "text" with escapes, cut after QMAX - 8 bytes. */
static const char *quote(char *buf, const char *s, size_t n)
{
	size_t o = 0;

	buf[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o > QMAX - 10) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, QMAX - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

#define Q(s) quote((char[QMAX]){ 0 }, (s), strlen(s))
#define QN(s, n) quote((char[QMAX]){ 0 }, (s), (n))

const char *ir_file(struct ir *ir, const char *name)
{
	char **f;

	for (size_t i = 0; i < ir->files.n; i++)
		if (strcmp(ir->files.v[i], name) == 0)
			return ir->files.v[i];
	f = VEC_PUSH(ir->files);
	if (f == NULL || (*f = strdup(name)) == NULL) {
		if (f)
			ir->files.n--;
		ir->oom = true;
		return ir->path;
	}
	return *f;
}

static const char *sfile(struct ir *ir, const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;

	return f ? f : ir->path;
}

static unsigned sline(const config_setting_t *s)
{
	return s ? config_setting_source_line(s) : 0;
}

static void __attribute__((format(printf, 6, 7)))
msg(struct ir *ir, bool warn, const char *file, unsigned line, const char *tag,
    const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (tag)
		sl_diag_add(ir->diag, warn, file, line, "%s: %s", tag, m ? m : "?");
	else
		sl_diag_add(ir->diag, warn, file, line, "%s", m ? m : "?");
	free(m);
}

#define SERR(ir, s, tag, ...) msg(ir, false, sfile(ir, s), sline(s), tag, __VA_ARGS__)
#define SWARN(ir, s, tag, ...) msg(ir, true, sfile(ir, s), sline(s), tag, __VA_ARGS__)
#define ERRAT(ir, f, l, tag, ...) msg(ir, false, f, l, tag, __VA_ARGS__)
#define WARNAT(ir, f, l, tag, ...) msg(ir, true, f, l, tag, __VA_ARGS__)

static char *xstrdup(struct ir *ir, const char *s)
{
	char *d = strdup(s ? s : "");

	if (d == NULL)
		ir->oom = true;
	return d;
}

static void check_keys(struct ir *ir, const config_setting_t *g, const char *tag,
		       const char *const *allowed, const char *where)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		bool ok = false;

		for (const char *const *a = allowed; *a; a++)
			if (name && strcmp(name, *a) == 0)
				ok = true;
		if (!ok)
			SERR(ir, m, tag, "unknown key \"%s\"%s%s", name ? name : "?",
			     where ? " in " : "", where ? where : "");
	}
}

/* 1 found, 0 absent (error when required), -1 wrong type (reported). */
static int get_str(struct ir *ir, const config_setting_t *g, const char *key,
		   const char *tag, bool req, const char **val,
		   config_setting_t **at)
{
	config_setting_t *m = config_setting_get_member(g, key);

	*val = NULL;
	if (at)
		*at = m;
	if (m == NULL) {
		if (req)
			SERR(ir, g, tag, "missing \"%s\"", key);
		return 0;
	}
	if (config_setting_type(m) != CONFIG_TYPE_STRING) {
		SERR(ir, m, tag, "\"%s\" must be a string", key);
		return -1;
	}
	*val = config_setting_get_string(m);
	return 1;
}

static int get_nonempty(struct ir *ir, const config_setting_t *g, const char *key,
			const char *tag, bool req, const char **val)
{
	config_setting_t *at;
	int r = get_str(ir, g, key, tag, req, val, &at);

	if (r == 1 && (*val)[0] == '\0') {
		SERR(ir, at, tag, "\"%s\" must not be empty", key);
		*val = NULL;
		return -1;
	}
	return r;
}

static void get_bool(struct ir *ir, const config_setting_t *g, const char *key,
		     const char *tag, uint8_t *val)
{
	config_setting_t *m = config_setting_get_member(g, key);

	if (m == NULL)
		return;
	if (config_setting_type(m) != CONFIG_TYPE_BOOL) {
		SERR(ir, m, tag, "\"%s\" must be true or false", key);
		return;
	}
	*val = config_setting_get_bool(m) ? 1 : 0;
}

static bool is_int(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	       config_setting_type(s) == CONFIG_TYPE_INT64;
}

typedef void (*entry_fn)(struct ir *ir, uint32_t owner, const char *tag,
			 const char *file, unsigned line, const char *s, size_t n);

/* Calls fn for every string of a list/array member; 1 present, 0 absent. */
static int for_each_str(struct ir *ir, const config_setting_t *g, const char *key,
			const char *tag, entry_fn fn, uint32_t owner)
{
	config_setting_t *m = config_setting_get_member(g, key);
	int t;

	if (m == NULL)
		return 0;
	t = config_setting_type(m);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		SERR(ir, m, tag, "\"%s\" must be a list of strings [ \"...\", ... ]", key);
		return 1;
	}
	for (int i = 0; i < config_setting_length(m); i++) {
		config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
		const char *s;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			SERR(ir, e, tag, "\"%s\" entries must be strings", key);
			continue;
		}
		s = config_setting_get_string(e);
		fn(ir, owner, tag, sfile(ir, e), sline(e), s, strlen(s));
	}
	return 1;
}

static char *resolve(struct ir *ir, const char *rel)
{
	char *p = NULL;

	if (rel[0] == '/' || strcmp(ir->dir, ".") == 0)
		p = strdup(rel);
	else if (asprintf(&p, "%s/%s", ir->dir, rel) < 0)
		p = NULL;
	if (p == NULL)
		ir->oom = true;
	return p;
}

/* One entry per line; '#' starts a comment; blanks are ignored. */
static void read_list(struct ir *ir, const config_setting_t *at, const char *tag,
		      const char *what, const char *rel, entry_fn fn, uint32_t owner)
{
	char *path = resolve(ir, rel);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	const char *fname;
	FILE *f;

	if (path == NULL)
		return;
	if (rel[0] == '\0') {
		SERR(ir, at, tag, "%s must not be empty", what);
		free(path);
		return;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		SERR(ir, at, tag, "cannot read %s %s: %s", what, Q(path), strerror(errno));
		free(path);
		return;
	}
	fname = ir_file(ir, path);
	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *s = line;
		char *h;

		lineno++;
		if (lineno == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3;
		h = strchr(s, '#');
		if (h)
			*h = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		n = (ssize_t)strlen(s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
				 s[n - 1] == '\r' || s[n - 1] == '\n'))
			n--;
		if (n == 0)
			continue;
		s[n] = '\0';
		fn(ir, owner, tag, fname, lineno, s, (size_t)n);
	}
	if (ferror(f))
		SERR(ir, at, tag, "cannot read %s %s: %s", what, Q(path),
		     strerror(errno ? errno : EIO));
	free(line);
	fclose(f);
	free(path);
}

/* A file name or a list of file names. */
static int for_each_file(struct ir *ir, const config_setting_t *g, const char *key,
			 const char *tag, entry_fn fn, uint32_t owner)
{
	config_setting_t *m = config_setting_get_member(g, key);
	int t;

	if (m == NULL)
		return 0;
	t = config_setting_type(m);
	if (t == CONFIG_TYPE_STRING) {
		read_list(ir, m, tag, key, config_setting_get_string(m), fn, owner);
		return 1;
	}
	if (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) {
		for (int i = 0; i < config_setting_length(m); i++) {
			config_setting_t *e = config_setting_get_elem(m, (unsigned)i);

			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				SERR(ir, e, tag, "\"%s\" entries must be file names (strings)", key);
			else
				read_list(ir, e, tag, key, config_setting_get_string(e), fn, owner);
		}
		return 1;
	}
	SERR(ir, m, tag, "\"%s\" must be a file name or a list of file names", key);
	return 1;
}

/* ---- selector entries ------------------------------------------------ */

static void add_domain(struct ir *ir, uint32_t ri, const char *tag,
		       const char *file, unsigned line, const char *s, size_t n)
{
	char key[DOM_MAX + 1];
	char why[WHY_MAX];
	unsigned kind;
	int kl = norm_domain_pattern(s, n, key, &kind, why);
	struct ir_dom *d;

	if (kl < 0) {
		ERRAT(ir, file, line, tag, "bad domain %s: %s", QN(s, n), why);
		return;
	}
	if (ir->dkeys.len + (size_t)kl >= UINT32_MAX) {
		ERRAT(ir, file, line, tag, "too many domain entries");
		return;
	}
	d = VEC_PUSH(ir->doms);
	if (d == NULL || sbuf_add(&ir->dkeys, key, (size_t)kl) < 0) {
		ir->oom = true;
		return;
	}
	d->hash = dom_hash(key, (size_t)kl);
	d->key_off = (uint32_t)(ir->dkeys.len - (size_t)kl);
	d->key_len = (uint16_t)kl;
	d->kind = (uint8_t)kind;
	d->rule = ri;
	ir->rules.v[ri].nsel++;
}

static void add_url(struct ir *ir, uint32_t ri, const char *tag,
		    const char *file, unsigned line, const char *s, size_t n)
{
	char why[WHY_MAX];
	char *pat;
	struct ir_url *u;
	int r = norm_url_pattern(s, n, &pat, why);

	if (r == -ENOMEM) {
		ir->oom = true;
		return;
	}
	if (r < 0) {
		ERRAT(ir, file, line, tag, "bad url %s: %s", QN(s, n), why);
		return;
	}
	u = VEC_PUSH(ir->urls);
	if (u == NULL) {
		free(pat);
		ir->oom = true;
		return;
	}
	u->rule = ri;
	u->pat = pat;
	u->file = ir_file(ir, file);
	u->line = line;
	ir->rules.v[ri].nsel++;
}

static void add_payload(struct ir *ir, uint32_t ri, const char *tag,
			const char *file, unsigned line, const char *s, size_t n)
{
	struct sbuf ex = { 0 };
	struct sbuf cn = { 0 };
	unsigned flags = 0;
	bool regex = false;
	struct ir_pay *p;

	if (n == 0) {
		ERRAT(ir, file, line, tag, "empty payload");
		return;
	}
	if (s[0] == '/') {
		const char *last = NULL;
		char fl[4] = "";
		size_t nf = 0;

		for (size_t i = n; i > 1; i--) {
			if (s[i - 1] == '/') {
				last = s + i - 1;
				break;
			}
		}
		if (last == NULL) {
			ERRAT(ir, file, line, tag,
			      "payload regex %s must be /expression/flags (to match a literal that starts with '/', write it as a regex: \"/\\\\/.../\")",
			      QN(s, n));
			return;
		}
		for (const char *f = last + 1; f < s + n; f++) {
			unsigned bit = *f == 'i' ? HS_FLAG_CASELESS :
				       *f == 's' ? HS_FLAG_DOTALL :
				       *f == 'm' ? HS_FLAG_MULTILINE : 0;

			if (bit == 0) {
				ERRAT(ir, file, line, tag,
				      "payload regex %s: unknown flag '%c' (flags are i, s and m; to match a literal that starts with '/', write it as a regex: \"/\\\\/.../\")",
				      QN(s, n), *f);
				return;
			}
			flags |= bit;
		}
		if (last == s + 1) {
			ERRAT(ir, file, line, tag, "payload regex %s is empty", QN(s, n));
			return;
		}
		if (flags & HS_FLAG_CASELESS)
			fl[nf++] = 'i';
		if (flags & HS_FLAG_MULTILINE)
			fl[nf++] = 'm';
		if (flags & HS_FLAG_DOTALL)
			fl[nf++] = 's';
		if (sbuf_add(&ex, s + 1, (size_t)(last - s - 1)) < 0 ||
		    sbuf_add(&ex, "", 1) < 0 || sbuf_add(&cn, "R", 1) < 0 ||
		    sbuf_add(&cn, fl, nf) < 0 || sbuf_add(&cn, "/", 1) < 0 ||
		    sbuf_add(&cn, ex.p, ex.len) < 0)
			goto oom;
		regex = true;
		{
			hs_expr_info_t *info = NULL;
			hs_compile_error_t *err = NULL;

			if (hs_expression_info(ex.p, flags, &info, &err) != HS_SUCCESS) {
				ERRAT(ir, file, line, tag, "payload regex %s: %s", QN(s, n),
				      err && err->message ? err->message : "rejected by Hyperscan");
				hs_free_compile_error(err);
				sbuf_free(&ex);
				sbuf_free(&cn);
				ir->rules.v[ri].nsel++;
				return;
			}
			free(info);
		}
	} else {
		if (sbuf_add(&cn, "L", 1) < 0 || sbuf_add(&cn, s, n + 1) < 0)
			goto oom;
		for (size_t i = 0; i < n; i++) {
			char h[5];

			snprintf(h, sizeof(h), "\\x%02x", (unsigned char)s[i]);
			if (sbuf_add(&ex, h, 4) < 0)
				goto oom;
		}
		if (sbuf_add(&ex, "", 1) < 0)
			goto oom;
	}
	p = VEC_PUSH(ir->pays);
	if (p == NULL)
		goto oom;
	p->rule = ri;
	p->regex = regex;
	p->flags = flags;
	p->expr = ex.p;
	p->canon = cn.p;
	p->file = ir_file(ir, file);
	p->line = line;
	ir->rules.v[ri].nsel++;
	return;
oom:
	sbuf_free(&ex);
	sbuf_free(&cn);
	ir->oom = true;
}

static int cidr_entry(struct ir *ir, const char *tag, const char *file,
		      unsigned line, const char *s, size_t n, int *fam,
		      struct u128 *a, unsigned *len)
{
	char why[WHY_MAX];
	char buf[80];
	bool masked;

	if (n >= sizeof(buf)) {
		ERRAT(ir, file, line, tag, "bad CIDR %s: too long", QN(s, n));
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (parse_cidr(buf, fam, a, len, &masked, why) < 0) {
		ERRAT(ir, file, line, tag, "bad CIDR %s: %s", QN(s, n), why);
		return -1;
	}
	if (masked) {
		struct sl_addr ad;
		char as[64];

		u128_to_addr(*a, *fam, &ad);
		WARNAT(ir, file, line, tag, "%s has host bits set; using %s/%u",
		       QN(s, n), sl_addr_str(&ad, as, sizeof(as)), *len);
	}
	return 0;
}

static void add_ip(struct ir *ir, uint32_t ri, const char *tag,
		   const char *file, unsigned line, const char *s, size_t n)
{
	struct ir_ip *ip;
	struct u128 a;
	unsigned len;
	int fam;

	if (cidr_entry(ir, tag, file, line, s, n, &fam, &a, &len) < 0)
		return;
	ip = VEC_PUSH(ir->ips);
	if (ip == NULL) {
		ir->oom = true;
		return;
	}
	ip->rule = ri;
	ip->family = (uint8_t)fam;
	ip->len = (uint8_t)len;
	ip->a = a;
	ir->rules.v[ri].nsel++;
}

static void add_zone_cidr(struct ir *ir, uint32_t zi, const char *tag,
			  const char *file, unsigned line, const char *s, size_t n)
{
	struct ir_zpfx *z;
	struct u128 a;
	unsigned len;
	int fam;

	if (cidr_entry(ir, tag, file, line, s, n, &fam, &a, &len) < 0)
		return;
	z = VEC_PUSH(ir->zones.v[zi].pfx);
	if (z == NULL) {
		ir->oom = true;
		return;
	}
	z->family = (uint8_t)fam;
	z->len = (uint8_t)len;
	z->a = a;
}

static void add_test(struct ir *ir, uint32_t ri, const char *tag, const char *file,
		     unsigned line, const char *s, size_t n, bool expect)
{
	static const char *const fields[] = { NULL, "domain", "url", "payload", "ip" };
	const char *colon = memchr(s, ':', n);
	const char *v;
	size_t vl;
	unsigned f = 0;
	struct ir_test *t;

	if (colon == NULL) {
		ERRAT(ir, file, line, tag,
		      "bad test vector %s: expected FIELD:VALUE with FIELD domain, url, payload or ip",
		      QN(s, n));
		return;
	}
	for (unsigned i = 1; i < SL_ARRAY_SIZE(fields); i++)
		if ((size_t)(colon - s) == strlen(fields[i]) &&
		    memcmp(s, fields[i], strlen(fields[i])) == 0)
			f = i;
	if (f == 0) {
		ERRAT(ir, file, line, tag,
		      "bad test vector %s: unknown field %s (domain, url, payload or ip)",
		      QN(s, n), QN(s, (size_t)(colon - s)));
		return;
	}
	v = colon + 1;
	vl = n - (size_t)(v - s);
	if (vl == 0) {
		ERRAT(ir, file, line, tag, "bad test vector %s: empty value", QN(s, n));
		return;
	}
	if (f == TV_DOMAIN) {
		size_t l;

		if (norm_domain_wire(v, vl, &l) < 0) {
			ERRAT(ir, file, line, tag, "bad test vector %s: not a domain name",
			      QN(s, n));
			return;
		}
	} else if (f == TV_URL) {
		const char *sl = memchr(v, '/', vl);
		char buf[256];
		bool tr;

		if (sl == NULL || sl == v ||
		    norm_url_wire(v, (size_t)(sl - v), sl, vl - (size_t)(sl - v),
				  buf, sizeof(buf), &tr) < 0) {
			ERRAT(ir, file, line, tag, "bad test vector %s: expected url:HOST/PATH",
			      QN(s, n));
			return;
		}
	} else if (f == TV_IP) {
		char buf[64];
		struct sl_addr a;

		if (vl >= sizeof(buf) || (memcpy(buf, v, vl), buf[vl] = '\0',
					  sl_addr_parse(buf, &a) < 0)) {
			ERRAT(ir, file, line, tag, "bad test vector %s: not an IP address",
			      QN(s, n));
			return;
		}
	}
	if (!ir->keep_tests)
		return;
	t = VEC_PUSH(ir->tests);
	if (t == NULL || (t->text = strndup(s, n)) == NULL) {
		if (t)
			ir->tests.n--;
		ir->oom = true;
		return;
	}
	t->rule = ri;
	t->expect = expect;
	t->field = (uint8_t)f;
	t->off = (size_t)(v - s);
	t->vlen = vl;
	t->file = ir_file(ir, file);
	t->line = line;
}

static void add_test_match(struct ir *ir, uint32_t ri, const char *tag,
			   const char *file, unsigned line, const char *s, size_t n)
{
	add_test(ir, ri, tag, file, line, s, n, true);
}

static void add_test_nomatch(struct ir *ir, uint32_t ri, const char *tag,
			     const char *file, unsigned line, const char *s, size_t n)
{
	add_test(ir, ri, tag, file, line, s, n, false);
}

/* ---- sections ------------------------------------------------------- */

static const char *const top_keys[] = { "policy", "zones", "authorities", "rules", NULL };
static const char *const policy_keys[] = { "name", "revision", NULL };
static const char *const zone_keys[] = { "cidr", "file", NULL };
static const char *const auth_keys[] = { "id", "name", "order", NULL };
static const char *const rule_keys[] = {
	"id", "name", "category", "basis", "authority", "action", "mode",
	"record", "report", "expires", "match", "tests", NULL
};
static const char *const match_keys[] = {
	"domain", "domain_file", "url", "payload", "ip", "port", "proto",
	"origin", NULL
};
static const char *const test_keys[] = { "match", "nomatch", NULL };

static void parse_meta(struct ir *ir, const config_setting_t *root)
{
	config_setting_t *p = config_setting_get_member(root, "policy");
	const char *v;

	if (p == NULL) {
		sl_diag_add(ir->diag, false, ir->path, 1,
			    "missing \"policy\" group (policy = { name = \"...\"; revision = \"...\"; };)");
		return;
	}
	if (!config_setting_is_group(p)) {
		SERR(ir, p, NULL, "\"policy\" must be a group { name = \"...\"; revision = \"...\"; }");
		return;
	}
	check_keys(ir, p, NULL, policy_keys, "policy");
	if (get_nonempty(ir, p, "name", "policy", true, &v) == 1)
		ir->name = xstrdup(ir, v);
	if (get_nonempty(ir, p, "revision", "policy", true, &v) == 1)
		ir->revision = xstrdup(ir, v);
}

static void parse_zones(struct ir *ir, const config_setting_t *root)
{
	config_setting_t *zs = config_setting_get_member(root, "zones");

	if (zs == NULL)
		return;
	if (!config_setting_is_group(zs)) {
		SERR(ir, zs, NULL,
		     "\"zones\" must be a group of named zones: zones = { NAME = { cidr = [ ... ]; file = \"...\"; }; }");
		return;
	}
	for (int i = 0; i < config_setting_length(zs); i++) {
		config_setting_t *z = config_setting_get_elem(zs, (unsigned)i);
		const char *name = config_setting_name(z);
		unsigned errs = ir->diag->errors;
		struct ir_zone *iz;
		uint32_t zi;
		char tag[96];

		snprintf(tag, sizeof(tag), "zone %s", name);
		if (!config_setting_is_group(z)) {
			SERR(ir, z, tag, "must be a group { cidr = [ ... ]; file = \"...\"; }");
			continue;
		}
		if (ir->zones.n >= INT16_MAX) {
			SERR(ir, z, tag, "too many zones (at most %d)", INT16_MAX);
			return;
		}
		iz = VEC_PUSH(ir->zones);
		if (iz == NULL) {
			ir->oom = true;
			return;
		}
		zi = (uint32_t)ir->zones.n - 1;
		iz->name = xstrdup(ir, name);
		iz->file = ir_file(ir, sfile(ir, z));
		iz->line = sline(z);
		check_keys(ir, z, tag, zone_keys, NULL);
		for_each_str(ir, z, "cidr", tag, add_zone_cidr, zi);
		for_each_file(ir, z, "file", tag, add_zone_cidr, zi);
		if (ir->zones.v[zi].pfx.n == 0 && errs == ir->diag->errors)
			SWARN(ir, z, tag, "no addresses");
	}
}

static void parse_auths(struct ir *ir, const config_setting_t *root)
{
	config_setting_t *as = config_setting_get_member(root, "authorities");

	if (as == NULL)
		return;
	if (!config_setting_is_list(as)) {
		SERR(ir, as, NULL,
		     "\"authorities\" must be a list ( { id = \"...\"; name = \"...\"; order = \"...\"; }, ... )");
		return;
	}
	for (int i = 0; i < config_setting_length(as); i++) {
		config_setting_t *a = config_setting_get_elem(as, (unsigned)i);
		struct ir_auth *ia;
		const char *v;
		char tag[96];

		snprintf(tag, sizeof(tag), "authority #%d", i + 1);
		if (!config_setting_is_group(a)) {
			SERR(ir, a, tag, "must be a group { id = \"...\"; name = \"...\"; }");
			continue;
		}
		if (get_nonempty(ir, a, "id", tag, true, &v) == 1) {
			snprintf(tag, sizeof(tag), "authority %s", v);
			for (size_t k = 0; k < ir->auths.n; k++) {
				if (strcmp(ir->auths.v[k].id, v) == 0) {
					SERR(ir, config_setting_get_member(a, "id"), tag,
					     "duplicate id (also used at %s:%u)",
					     ir->auths.v[k].file, ir->auths.v[k].line);
					v = NULL;
					break;
				}
			}
		}
		check_keys(ir, a, tag, auth_keys, NULL);
		ia = NULL;
		if (v) {
			ia = VEC_PUSH(ir->auths);
			if (ia == NULL) {
				ir->oom = true;
				return;
			}
			ia->id = xstrdup(ir, v);
			ia->file = ir_file(ir, sfile(ir, a));
			ia->line = sline(a);
		}
		if (get_nonempty(ir, a, "name", tag, true, &v) == 1 && ia)
			ia->name = xstrdup(ir, v);
		if (get_str(ir, a, "order", tag, false, &v, NULL) == 1 && ia)
			ia->order = xstrdup(ir, v);
	}
}

static void parse_ports(struct ir *ir, uint32_t ri, const config_setting_t *g,
			const char *tag)
{
	config_setting_t *m = config_setting_get_member(g, "port");
	int n = 1;

	if (m == NULL)
		return;
	if (!is_int(m)) {
		if (config_setting_type(m) != CONFIG_TYPE_ARRAY &&
		    config_setting_type(m) != CONFIG_TYPE_LIST) {
			SERR(ir, m, tag, "\"port\" must be a list of port numbers [ 80, 443 ]");
			return;
		}
		n = config_setting_length(m);
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *e = is_int(m) ? m : config_setting_get_elem(m, (unsigned)i);
		long long v;
		uint16_t *pp;

		if (!is_int(e)) {
			SERR(ir, e, tag, "\"port\" entries must be integers");
			continue;
		}
		v = config_setting_get_int64(e);
		if (v < 1 || v > 65535) {
			SERR(ir, e, tag, "bad port %lld (must be 1..65535)", v);
			continue;
		}
		pp = VEC_PUSH(ir->rules.v[ri].ports);
		if (pp == NULL) {
			ir->oom = true;
			return;
		}
		*pp = (uint16_t)v;
	}
}

static void parse_match(struct ir *ir, uint32_t ri, config_setting_t *g,
			const char *tag)
{
	unsigned errs = ir->diag->errors;
	int nkeys = 0;
	const char *v;
	config_setting_t *at;

	if (!config_setting_is_group(g)) {
		SERR(ir, g, tag, "\"match\" must be a group { domain = [ ... ]; ... }");
		return;
	}
	check_keys(ir, g, tag, match_keys, "match");
	nkeys += for_each_str(ir, g, "domain", tag, add_domain, ri);
	nkeys += for_each_file(ir, g, "domain_file", tag, add_domain, ri);
	nkeys += for_each_str(ir, g, "url", tag, add_url, ri);
	nkeys += for_each_str(ir, g, "payload", tag, add_payload, ri);
	nkeys += for_each_str(ir, g, "ip", tag, add_ip, ri);
	parse_ports(ir, ri, g, tag);
	if (get_str(ir, g, "proto", tag, false, &v, &at) == 1) {
		if (strcasecmp(v, "tcp") == 0)
			ir->rules.v[ri].proto = SL_PROTO_TCP;
		else if (strcasecmp(v, "udp") == 0)
			ir->rules.v[ri].proto = SL_PROTO_UDP;
		else
			SERR(ir, at, tag, "unknown proto %s (tcp or udp)", Q(v));
	}
	if (get_str(ir, g, "origin", tag, false, &v, &at) == 1) {
		struct ir_rule *r = &ir->rules.v[ri];
		const char *zn = v;
		bool neg = false;

		if (zn[0] == '!') {
			neg = true;
			zn++;
		}
		r->origin_zone = -1;
		for (size_t z = 0; z < ir->zones.n; z++)
			if (strcmp(ir->zones.v[z].name, zn) == 0)
				r->origin_zone = (int)z;
		if (r->origin_zone < 0) {
			SERR(ir, at, tag, "unknown zone %s in origin%s", Q(zn),
			     ir->zones.n ? "" : " (no zones are defined)");
		} else {
			r->origin_negate = neg;
			r->origin = xstrdup(ir, v);
		}
	}
	if (nkeys == 0)
		SERR(ir, g, tag, "match has no selector (domain, domain_file, url, payload or ip)");
	else if (ir->rules.v[ri].nsel == 0 && errs == ir->diag->errors)
		SWARN(ir, g, tag, "no selector entries: the rule never matches");
}

static void parse_rule(struct ir *ir, config_setting_t *rs, unsigned pos)
{
	struct ir_rule *r;
	config_setting_t *m;
	config_setting_t *at;
	const char *v;
	uint32_t ri;
	char tag[48];

	snprintf(tag, sizeof(tag), "rule #%u", pos);
	if (!config_setting_is_group(rs)) {
		SERR(ir, rs, tag, "must be a group { id = ...; ... }");
		return;
	}
	r = VEC_PUSH(ir->rules);
	if (r == NULL) {
		ir->oom = true;
		return;
	}
	ri = (uint32_t)ir->rules.n - 1;
	r->file = ir_file(ir, sfile(ir, rs));
	r = &ir->rules.v[ri];
	r->line = sline(rs);
	r->record = 1;
	r->report = 1;
	r->mode = SL_MODE_ENFORCE;
	r->auth = -1;
	r->origin_zone = -1;

	m = config_setting_get_member(rs, "id");
	if (m == NULL) {
		SERR(ir, rs, tag, "missing \"id\"");
	} else if (!is_int(m)) {
		SERR(ir, m, tag, "\"id\" must be a positive integer");
	} else {
		long long id = config_setting_get_int64(m);

		if (id < 1 || id > (long long)UINT32_MAX) {
			SERR(ir, m, tag, "\"id\" must be a positive integer below 2^32, not %lld", id);
		} else {
			r->id = (uint32_t)id;
			r->has_id = true;
			snprintf(tag, sizeof(tag), "rule %u", r->id);
		}
	}
	check_keys(ir, rs, tag, rule_keys, NULL);
	if (get_nonempty(ir, rs, "name", tag, true, &v) == 1)
		ir->rules.v[ri].name = xstrdup(ir, v);
	if (get_str(ir, rs, "category", tag, false, &v, NULL) == 1)
		ir->rules.v[ri].category = xstrdup(ir, v);
	if (config_setting_get_member(rs, "basis") == NULL)
		SERR(ir, rs, tag, "missing \"basis\" (the legal basis is required)");
	else if (get_nonempty(ir, rs, "basis", tag, true, &v) == 1)
		ir->rules.v[ri].basis = xstrdup(ir, v);
	if (get_str(ir, rs, "authority", tag, false, &v, &at) == 1) {
		int found = -1;

		for (size_t k = 0; k < ir->auths.n; k++)
			if (strcmp(ir->auths.v[k].id, v) == 0)
				found = (int)k;
		if (found < 0)
			SERR(ir, at, tag, "unknown authority %s%s", Q(v),
			     ir->auths.n ? "" : " (no authorities are defined)");
		ir->rules.v[ri].auth = found;
	}
	if (get_str(ir, rs, "action", tag, true, &v, &at) == 1) {
		int a = sl_action_parse(v);

		if (a < 0)
			SERR(ir, at, tag, "unknown action %s (allow, log, drop, reset or block-page)", Q(v));
		else
			ir->rules.v[ri].action = (uint8_t)a;
	}
	if (get_str(ir, rs, "mode", tag, false, &v, &at) == 1) {
		if (strcmp(v, "enforce") == 0)
			ir->rules.v[ri].mode = SL_MODE_ENFORCE;
		else if (strcmp(v, "shadow") == 0)
			ir->rules.v[ri].mode = SL_MODE_SHADOW;
		else
			SERR(ir, at, tag, "unknown mode %s (enforce or shadow)", Q(v));
	}
	get_bool(ir, rs, "record", tag, &ir->rules.v[ri].record);
	get_bool(ir, rs, "report", tag, &ir->rules.v[ri].report);
	if (get_str(ir, rs, "expires", tag, false, &v, &at) == 1) {
		int64_t t;

		if (parse_date(v, &t) < 0) {
			SERR(ir, at, tag,
			     "bad date %s in expires (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC)", Q(v));
		} else {
			char d[40];

			ir->rules.v[ri].expires = t;
			fmt_date(t, d, sizeof(d));
			if (t <= ir->now)
				SWARN(ir, at, tag, "expired at %s: loaded but inactive", d);
		}
	}
	m = config_setting_get_member(rs, "match");
	if (m == NULL)
		SERR(ir, rs, tag, "missing \"match\"");
	else
		parse_match(ir, ri, m, tag);
	m = config_setting_get_member(rs, "tests");
	if (m != NULL) {
		if (!config_setting_is_group(m)) {
			SERR(ir, m, tag,
			     "\"tests\" must be a group { match = [ ... ]; nomatch = [ ... ]; }");
		} else {
			check_keys(ir, m, tag, test_keys, "tests");
			for_each_str(ir, m, "match", tag, add_test_match, ri);
			for_each_str(ir, m, "nomatch", tag, add_test_nomatch, ri);
		}
	}
}

static int cmp_rule_id(const void *a, const void *b, void *ctx)
{
	const struct ir *ir = ctx;
	const struct ir_rule *x = &ir->rules.v[*(const uint32_t *)a];
	const struct ir_rule *y = &ir->rules.v[*(const uint32_t *)b];

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static void check_duplicate_ids(struct ir *ir)
{
	uint32_t *ord = calloc(ir->rules.n + 1, sizeof(*ord));
	size_t n = 0;

	if (ord == NULL) {
		ir->oom = true;
		return;
	}
	for (uint32_t i = 0; i < ir->rules.n; i++)
		if (ir->rules.v[i].has_id)
			ord[n++] = i;
	qsort_r(ord, n, sizeof(*ord), cmp_rule_id, ir);
	for (size_t i = 1; i < n; i++) {
		const struct ir_rule *a = &ir->rules.v[ord[i - 1]];
		const struct ir_rule *b = &ir->rules.v[ord[i]];
		size_t first = i - 1;

		if (a->id != b->id)
			continue;
		while (first > 0 && ir->rules.v[ord[first - 1]].id == b->id)
			first--;
		a = &ir->rules.v[ord[first]];
		ERRAT(ir, b->file, b->line, NULL, "rule %u: duplicate id (also used at %s:%u)",
		      b->id, a->file, a->line);
	}
	free(ord);
}

static void parse_rules(struct ir *ir, const config_setting_t *root)
{
	config_setting_t *rl = config_setting_get_member(root, "rules");

	if (rl == NULL) {
		sl_diag_add(ir->diag, true, ir->path, 1, "no \"rules\": the policy matches nothing");
		return;
	}
	if (!config_setting_is_list(rl)) {
		SERR(ir, rl, NULL, "\"rules\" must be a list ( { id = ...; ... }, ... )");
		return;
	}
	for (int i = 0; i < config_setting_length(rl); i++)
		parse_rule(ir, config_setting_get_elem(rl, (unsigned)i), (unsigned)i + 1);
	check_duplicate_ids(ir);
}

void ir_init(struct ir *ir, struct sl_diag *diag, const char *path,
	     const struct sl_compile_opts *opts)
{
	const char *slash;

	memset(ir, 0, sizeof(*ir));
	ir->diag = diag;
	ir->path = path;
	ir->now = opts && opts->now ? opts->now : (int64_t)time(NULL);
	ir->keep_tests = opts && opts->keep_tests;
	slash = strrchr(path, '/');
	if (slash == NULL)
		ir->dir = strdup(".");
	else if (slash == path)
		ir->dir = strdup("/");
	else
		ir->dir = strndup(path, (size_t)(slash - path));
	if (ir->dir == NULL)
		ir->oom = true;
}

void ir_free(struct ir *ir)
{
	for (size_t i = 0; i < ir->files.n; i++)
		free(ir->files.v[i]);
	free(ir->files.v);
	for (size_t i = 0; i < ir->rules.n; i++) {
		struct ir_rule *r = &ir->rules.v[i];

		free(r->name);
		free(r->category);
		free(r->basis);
		free(r->auth_ref);
		free(r->origin);
		free(r->ports.v);
	}
	free(ir->rules.v);
	for (size_t i = 0; i < ir->zones.n; i++) {
		free(ir->zones.v[i].name);
		free(ir->zones.v[i].pfx.v);
	}
	free(ir->zones.v);
	for (size_t i = 0; i < ir->auths.n; i++) {
		free(ir->auths.v[i].id);
		free(ir->auths.v[i].name);
		free(ir->auths.v[i].order);
	}
	free(ir->auths.v);
	free(ir->doms.v);
	sbuf_free(&ir->dkeys);
	for (size_t i = 0; i < ir->urls.n; i++)
		free(ir->urls.v[i].pat);
	free(ir->urls.v);
	for (size_t i = 0; i < ir->pays.n; i++) {
		free(ir->pays.v[i].expr);
		free(ir->pays.v[i].canon);
	}
	free(ir->pays.v);
	free(ir->ips.v);
	for (size_t i = 0; i < ir->tests.n; i++)
		free(ir->tests.v[i].text);
	free(ir->tests.v);
	free(ir->name);
	free(ir->revision);
	free(ir->dir);
	memset(ir, 0, sizeof(*ir));
}

void ir_parse(struct ir *ir, const char *text)
{
	config_t cfg;
	config_setting_t *root;

	config_init(&cfg);
	config_set_include_dir(&cfg, ir->dir);
	if (!config_read_string(&cfg, text)) {
		const char *f = config_error_file(&cfg);

		sl_diag_add(ir->diag, false, f ? f : ir->path,
			    (unsigned)config_error_line(&cfg), "%s",
			    config_error_text(&cfg) ? config_error_text(&cfg) : "syntax error");
		config_destroy(&cfg);
		return;
	}
	cfg_fix_lines(&cfg, text);
	root = config_root_setting(&cfg);
	check_keys(ir, root, NULL, top_keys, NULL);
	parse_meta(ir, root);
	parse_zones(ir, root);
	parse_auths(ir, root);
	parse_rules(ir, root);
	config_destroy(&cfg);
	if (ir->oom)
		sl_diag_add(ir->diag, false, ir->path, 0, "out of memory");
}
