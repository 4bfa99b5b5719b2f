/* Internal definitions of libsluice-policy shared by its source files: the
 * flat tables a compiled policy is made of (identical in memory and in the
 * artefact), the parser's intermediate representation, and helpers.
 * Nothing here is part of the public API (see include/sluice/policy.h). */
#ifndef SLUICE_POLICY_INTERNAL_H
#define SLUICE_POLICY_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <hs/hs.h>

#include "sluice/policy.h"

#define SL_NONE32 UINT32_MAX

/* ---- small helpers -------------------------------------------------- */

/* Growable byte buffer. */
struct sbuf {
	char *p;
	size_t len;
	size_t cap;
};
int sbuf_reserve(struct sbuf *b, size_t extra);
/* Append n bytes; returns 0 or -ENOMEM. */
int sbuf_add(struct sbuf *b, const void *d, size_t n);
void sbuf_free(struct sbuf *b);

/* Grow *v (elements of elsz bytes, capacity *cap) to hold n + 1 elements;
 * returns a pointer to element n (zeroed), or NULL on ENOMEM. */
void *vec_grow(void **v, size_t *cap, size_t n, size_t elsz);
#define VEC(T) struct { T *v; size_t n; size_t cap; }
#define VEC_PUSH(vec) \
	((__typeof__((vec).v))vec_grow((void **)&(vec).v, &(vec).cap, (vec).n++, \
				       sizeof(*(vec).v)))

/* 128-bit unsigned address value, host order. IPv4 addresses are stored
 * left-aligned (hi = addr << 32), so one prefix engine serves both
 * families; each family has its own tables. */
struct u128 {
	uint64_t hi;
	uint64_t lo;
};

static inline int u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/* Keep the first len bits. */
struct u128 u128_mask(struct u128 a, unsigned len);
/* Set every bit after the first len bits (last address of the prefix). */
struct u128 u128_last(struct u128 a, unsigned len);
struct u128 u128_from_addr(const struct sl_addr *a);
void u128_to_addr(struct u128 v, int family, struct sl_addr *a);
/* IPv4-mapped IPv6 (::ffff:a.b.c.d) is looked up as IPv4: returns the
 * family to use (4 or 6) and the value, or 0 when a is unset. */
int addr_key(const struct sl_addr *a, struct u128 *v);

/* ---- flat tables (in memory and in the artefact) --------------------- */

enum sect_id {
	S_STR,       /* char: NUL-terminated strings, offset 0 = "" */
	S_RULES,     /* struct rule_rec, sorted by id */
	S_PORTS,     /* uint16_t, each rule's ports sorted */
	S_RS_OFF,    /* uint32_t [nrs + 1]: ruleset r = rs_data[off[r]..off[r+1]) */
	S_RS_DATA,   /* uint32_t rule indexes, each ruleset sorted; ruleset 0 = {} */
	S_DOM_SLOT,  /* struct dom_slot [cap]: open addressing, cap power of 2 */
	S_DOM_KEY,   /* char: domain keys (not NUL-terminated) */
	S_URL_RULE,  /* uint32_t: URL pattern id -> rule index */
	S_URL_OPEN,  /* uint8_t: URL pattern id -> pattern ends with '*' */
	S_PAY_RULE,  /* uint32_t: payload pattern id -> rule index */
	S_IP4_PFX,   /* struct ip_pfx: ip selector prefixes, sorted */
	S_IP4_IVS,   /* struct u128: disjoint interval starts, sorted, [0] = 0 */
	S_IP4_IVR,   /* uint32_t: interval -> covering ruleset */
	S_IP6_PFX,
	S_IP6_IVS,
	S_IP6_IVR,
	S_ZONES,     /* struct zone_rec, sorted by name */
	S_ZR4,       /* struct ip_range: merged ranges of every zone */
	S_ZR6,
	S_AUTH,      /* struct auth_rec, sorted by id */
	S_META,      /* struct meta_rec (exactly one) */
	S_HS_URL,    /* artefact only: serialised Hyperscan databases */
	S_HS_PSTREAM,
	S_HS_PBLOCK,
	S__COUNT
};

struct rule_rec {
	uint32_t id;
	uint8_t action;
	uint8_t mode;
	uint8_t record;
	uint8_t report;
	uint8_t proto;
	uint8_t origin_negate;
	int16_t origin_zone;
	uint32_t nports;
	uint32_t ports_off;
	int64_t expires;
	uint32_t name_off;
	uint32_t category_off;
	uint32_t basis_off;
	uint32_t auth;       /* index in S_AUTH or SL_NONE32 */
	uint32_t file_off;
	uint32_t line;
};

struct dom_slot {
	uint64_t hash;       /* dom_hash() of the key */
	uint32_t key_off;    /* in S_DOM_KEY */
	uint32_t key_len;    /* 0: empty slot */
	uint32_t exact_rs;   /* rules matching the name itself */
	uint32_t sub_rs;     /* rules matching every subdomain of it */
};

struct ip_pfx {
	struct u128 a;       /* masked */
	uint32_t len;        /* 0..32 (v4) or 0..128 (v6) */
	uint32_t rs;         /* covering ruleset: own rules + shorter prefixes' */
};

struct ip_range {
	struct u128 lo;
	struct u128 hi;      /* inclusive */
};

struct zone_rec {
	uint32_t name_off;
	uint32_t r4_off;
	uint32_t r4_n;
	uint32_t r6_off;
	uint32_t r6_n;
};

struct auth_rec {
	uint32_t id_off;
	uint32_t name_off;
	uint32_t order_off;  /* SL_NONE32 when not given */
};

struct meta_rec {
	uint32_t name_off;
	uint32_t revision_off;
	uint32_t domains;
	uint32_t urls;
	uint32_t payloads;
	uint32_t cidrs;
	uint32_t zone_cidrs;
	uint32_t has_payload;
	uint8_t digest[32];
};

struct iptab {
	const struct ip_pfx *pfx;
	uint32_t npfx;
	const struct u128 *ivs;
	const uint32_t *ivr;
	uint32_t niv;
};

/* A rule test vector (kept only with sl_compile_opts.keep_tests). */
enum tv_field { TV_DOMAIN = 1, TV_URL, TV_PAYLOAD, TV_IP };
struct tvec {
	uint32_t rule;       /* rule index */
	bool expect;         /* true: "match", false: "nomatch" */
	uint8_t field;       /* enum tv_field */
	char *text;          /* the whole vector as written, "domain:x" */
	const char *value;   /* points after the colon in text */
	size_t vlen;
	char *file;
	uint32_t line;
};

struct sect {
	void *p;
	uint64_t n;          /* bytes */
};

struct sl_policy {
	atomic_uint ref;
	struct sl_policy_meta meta;
	struct sl_policy_stats stats;
	void *body;          /* artefact body: sections point into it */
	struct sect s[S__COUNT];

	/* typed views of the sections (set by policy_bind) */
	const char *str;
	const struct rule_rec *rrec;
	struct sl_rule *rules;
	uint32_t nrules;
	const uint16_t *ports;
	const uint32_t *rs_off;
	const uint32_t *rs_data;
	uint32_t nrs;
	const struct dom_slot *dom;
	uint64_t dom_mask;   /* cap - 1; 0 with no domains (cap 0) */
	uint32_t dom_cap;
	const char *dom_key;
	const uint32_t *url_rule;
	const uint8_t *url_open;
	uint32_t nurl;
	const uint32_t *pay_rule;
	uint32_t npay;
	struct iptab ip[2];  /* [0] IPv4, [1] IPv6 */
	const struct zone_rec *zones;
	uint32_t nzones;
	const struct ip_range *zr[2];
	const struct auth_rec *auth;
	uint32_t nauth;
	const struct meta_rec *mrec;

	hs_database_t *hs_url;
	hs_database_t *hs_pstream;
	hs_database_t *hs_pblock;

	struct tvec *tv;
	uint32_t ntv;
};

/* Set the typed views from s[] and validate every offset and index (an
 * artefact is hostile input). 0 or -EINVAL with a message in why. */
int policy_bind(struct sl_policy *p, char *why, size_t whylen);
void policy_free(struct sl_policy *p);
/* Whole file into a malloc'd, NUL-terminated buffer. 0 or -errno. */
int policy_read_file(const char *path, char **buf, size_t *len);

/* ---- normalisation (normalize.c) ------------------------------------- */

#define DOM_EXACT 1u  /* "name" */
#define DOM_SUB 2u    /* "*.name" */
#define DOM_BOTH 3u   /* ".name" */
#define DOM_MAX 253u  /* longest name accepted in a policy */

#define DOM_FNV_OFF 0xcbf29ce484222325ULL
#define DOM_FNV_PRIME 0x100000001b3ULL

/* Hash of a (lowercase) key, computed from its last byte to its first so
 * that the hash of every label suffix falls out of one pass. */
uint64_t dom_hash(const char *key, size_t len);
static inline uint64_t dom_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}
extern const uint8_t sl_lower[256];

/* A domain selector entry: "name", "*.name" or ".name". Writes the
 * lowercase key (no trailing dot) to out (DOM_MAX + 1 bytes) and the kind.
 * Returns the key length or -EINVAL with a reason in *why. */
#define WHY_MAX 160
int norm_domain_pattern(const char *s, size_t n, char *out, unsigned *kind,
			char *why);
/* A name from the wire: strips ":port" and one trailing dot and checks
 * the labels; *len is the length of the name proper (it starts at s).
 * 0 or -EINVAL. */
int norm_domain_wire(const char *s, size_t n, size_t *len);

#define URL_MAX 65536
/* A url selector entry: sets *out to the normalised pattern (malloc'd).
 * 0, -EINVAL with a reason in why (WHY_MAX bytes), or -ENOMEM. */
int norm_url_pattern(const char *s, size_t n, char **out, char *why);
/* host + target from the wire into out (cap bytes); sets *trunc when the
 * result did not fit. Returns the length or -EINVAL. */
ssize_t norm_url_wire(const char *host, size_t hlen, const char *target,
		      size_t tlen, char *out, size_t cap, bool *trunc);

/* "a.b.c.d/len", "v6/len" or a bare address. Host bits are cleared and
 * *masked set when there were any. 0 or -EINVAL with *why. */
int parse_cidr(const char *s, int *family, struct u128 *a, unsigned *len,
	       bool *masked, char *why);
/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" -> unix seconds; 0 or -EINVAL. */
int parse_date(const char *s, int64_t *t);
void fmt_date(int64_t t, char *buf, size_t len);

/* ---- parser IR (parse.c) ------------------------------------------------ */

struct ir_rule {
	uint32_t id;
	bool has_id;
	const char *file;    /* interned in ir.files */
	uint32_t line;
	char *name;
	char *category;
	char *basis;
	char *auth_ref;
	uint32_t auth_line;
	int auth;            /* ir authority index, -1 */
	uint8_t action;
	uint8_t mode;
	uint8_t record;
	uint8_t report;
	uint8_t proto;
	bool origin_negate;
	char *origin;
	uint32_t origin_line;
	const char *origin_file;
	int origin_zone;     /* ir zone index, -1 */
	VEC(uint16_t) ports;
	int64_t expires;
	uint32_t nsel;       /* selector entries */
	uint32_t idx;        /* final rule index */
};

struct ir_dom {
	uint64_t hash;
	uint32_t key_off;    /* in ir.dkeys */
	uint16_t key_len;
	uint8_t kind;
	uint32_t rule;       /* ir rule index, then final rule index */
};

struct ir_url {
	uint32_t rule;
	char *pat;           /* normalised */
	const char *file;
	uint32_t line;
};

struct ir_pay {
	uint32_t rule;
	bool regex;
	unsigned flags;      /* HS_FLAG_CASELESS | DOTALL | MULTILINE */
	char *expr;          /* Hyperscan expression */
	char *canon;         /* canonical form for the digest */
	const char *file;
	uint32_t line;
	bool bad;
};

struct ir_ip {
	uint32_t rule;
	uint8_t family;
	uint8_t len;
	struct u128 a;
};

struct ir_zpfx {
	uint8_t family;
	uint8_t len;
	struct u128 a;
};

struct ir_zone {
	char *name;
	const char *file;
	uint32_t line;
	VEC(struct ir_zpfx) pfx;
	uint32_t idx;        /* final zone index */
};

struct ir_auth {
	char *id;
	char *name;
	char *order;
	const char *file;
	uint32_t line;
};

struct ir_test {
	uint32_t rule;
	bool expect;
	uint8_t field;
	char *text;
	size_t off;          /* value offset in text */
	size_t vlen;
	const char *file;
	uint32_t line;
};

struct ir {
	struct sl_diag *diag;
	const char *path;    /* policy name used in messages */
	char *dir;           /* base for relative list paths */
	int64_t now;
	bool keep_tests;
	VEC(char *) files;   /* interned file names */
	char *name;
	char *revision;
	VEC(struct ir_rule) rules;
	VEC(struct ir_zone) zones;
	VEC(struct ir_auth) auths;
	VEC(struct ir_dom) doms;
	struct sbuf dkeys;
	VEC(struct ir_url) urls;
	VEC(struct ir_pay) pays;
	VEC(struct ir_ip) ips;
	VEC(struct ir_test) tests;
	bool oom;
};

void ir_init(struct ir *ir, struct sl_diag *diag, const char *path,
	     const struct sl_compile_opts *opts);
void ir_free(struct ir *ir);
/* Parse policy text into ir; problems go to ir->diag. */
void ir_parse(struct ir *ir, const char *text);
const char *ir_file(struct ir *ir, const char *name);

/* libconfig helpers (cfgline.c): record the true source line of every
 * scalar (libconfig reports the line of the token after it). */
struct config_t;
void cfg_fix_lines(struct config_t *cfg, const char *text);

/* ---- compile pieces ------------------------------------------------ */

/* Payload databases (compile.c). Compiles block and stream databases of
 * the payload entries not marked bad, reporting (and marking) each
 * expression Hyperscan rejects at its line. Pattern ids are positions in
 * the list of good entries. */
int compile_payloads(struct ir *ir, hs_database_t **blk, hs_database_t **str);

/* Domain table (domtab.c): builds S_DOM_SLOT/S_DOM_KEY and the rulesets
 * from ir->doms (rules already final indexes). */
struct rs_builder;
int domtab_build(struct ir *ir, struct rs_builder *rb, struct sect *slots,
		 struct sect *keys, uint32_t *ndistinct);
int domtab_lookup(const struct sl_policy *p, const char *name, size_t len,
		  enum sl_field field, struct sl_hitset *hits);

/* Ruleset interning (compile.c). */
struct rs_builder *rsb_new(uint32_t nrules);
/* Intern a sorted, deduplicated rule list; returns the ruleset id or
 * SL_NONE32 on ENOMEM. The empty list is 0. */
uint32_t rsb_intern(struct rs_builder *rb, const uint32_t *rules, uint32_t n);
/* Rules of an interned ruleset (valid until the next rsb_intern). */
uint32_t rsb_rules(const struct rs_builder *rb, uint32_t rs, const uint32_t **rules);
int rsb_finish(struct rs_builder *rb, struct sect *off, struct sect *data);
void rsb_free(struct rs_builder *rb);
uint32_t rs_get(const struct sl_policy *p, uint32_t rs, const uint32_t **rules);

/* Address tables (iptab.c). entries sorted in place. */
struct ip_in {
	struct u128 a;
	uint32_t len;
	uint32_t rule;
};
int iptab_build(struct ip_in *in, size_t n, struct rs_builder *rb,
		struct sect *pfx, struct sect *ivs, struct sect *ivr,
		uint32_t *ndistinct);
uint32_t iptab_lookup(const struct iptab *t, struct u128 v);
/* Merge prefixes into sorted disjoint ranges appended to out. */
struct range_vec {
	struct ip_range *v;
	size_t n;
	size_t cap;
};
int ranges_build(struct ip_in *in, size_t n, struct range_vec *out);
bool ranges_contain(const struct ip_range *r, uint32_t n, struct u128 v);

/* Digest (digest.c) over the IR once rules are final. */
int digest_ir(struct ir *ir, uint8_t out[32]);

#endif
