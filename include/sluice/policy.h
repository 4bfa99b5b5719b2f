/* Public API of libsluice-policy: parse a libconfig policy, compile it into
 * an immutable snapshot (rule table, domain label-suffix table, address
 * tables, Hyperscan databases), match fields against it and decide a
 * verdict, and (de)serialise it as a compiled artefact.
 *
 * The library has no DPDK dependency: sluice-ctl, tests and benchmarks use
 * it as they are; the dataplane wraps a snapshot with its per-lcore state.
 *
 * Threading: a compiled struct sl_policy is immutable and may be read from
 * any number of threads at once. Each scanning thread needs its own
 * struct sl_scratch. Payload streams belong to the thread that opened them.
 */
#ifndef SLUICE_POLICY_H
#define SLUICE_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/common.h"
#include "sluice/diag.h"

/* Actions, ordered so that a larger value wins (see sl_decide): allow wins
 * over everything, then block-page > reset > drop > log. */
enum sl_action {
	SL_ACT_NONE = 0,
	SL_ACT_LOG = 1,
	SL_ACT_DROP = 2,
	SL_ACT_RESET = 3,
	SL_ACT_BLOCK_PAGE = 4,
	SL_ACT_ALLOW = 5,
	SL_ACT__COUNT
};

enum sl_mode { SL_MODE_ENFORCE = 0, SL_MODE_SHADOW = 1 };

/* Which field a hit was found in. Domain selectors hit through HOST, SNI or
 * DNS; the others are named after their selector. */
enum sl_field {
	SL_FIELD_NONE = 0,
	SL_FIELD_HOST = 1,    /* HTTP Host header */
	SL_FIELD_SNI = 2,     /* TLS ClientHello server_name */
	SL_FIELD_DNS = 3,     /* DNS query name */
	SL_FIELD_URL = 4,     /* HTTP host + path(+query) */
	SL_FIELD_PAYLOAD = 5, /* TCP stream bytes or UDP payload */
	SL_FIELD_IP = 6,      /* remote address of the flow */
	SL_FIELD__COUNT
};

const char *sl_action_name(int action);  /* "reset", ...; "none" */
const char *sl_mode_name(int mode);      /* "enforce" | "shadow" */
const char *sl_field_name(int field);    /* "domain"... see .c */
int sl_action_parse(const char *s);      /* SL_ACT_* or -EINVAL */

/* One rule of a compiled policy. Immutable; lives as long as its policy. */
struct sl_rule {
	uint32_t id;          /* policy rule id, unique, > 0 */
	uint32_t idx;         /* position in the rule table (0..nrules-1) */
	uint8_t action;       /* enum sl_action */
	uint8_t mode;         /* enum sl_mode */
	uint8_t record;       /* produce an evidence event on a match */
	uint8_t report;       /* include in reports */
	uint8_t proto;        /* constraint: SL_PROTO_ANY/TCP/UDP */
	uint8_t origin_negate;/* constraint: origin must NOT be in the zone */
	int16_t origin_zone;  /* constraint: zone index, -1 = none */
	uint16_t nports;      /* constraint: server port in ports[], 0 = any */
	const uint16_t *ports;/* sorted ascending */
	int64_t expires;      /* unix seconds at which the rule stops, 0 = never */
	const char *name;
	const char *category; /* "" when not given */
	const char *basis;    /* legal basis, never empty */
	const char *authority;      /* authority id, NULL when none */
	const char *authority_name; /* NULL when none */
	const char *order;          /* authority's order, NULL when none */
	const char *file;     /* policy file the rule came from */
	uint32_t line;        /* line of the rule in that file */
};

/* Identity of a compiled policy, as shown in records and reports. */
struct sl_policy_meta {
	const char *name;
	const char *revision;
	uint8_t digest[32];   /* SHA-256 of the policy's meaning */
	char digest_hex[65];
};

struct sl_policy_stats {
	uint32_t rules;
	uint32_t zones;
	uint32_t authorities;
	uint32_t domains;     /* distinct domain entries (all rules) */
	uint32_t urls;
	uint32_t payloads;    /* literals + regexes */
	uint32_t cidrs;       /* ip selector prefixes, v4 + v6 */
	uint32_t zone_cidrs;
	uint64_t bytes;       /* memory held by the snapshot, approximate */
	double compile_s;     /* wall time of compile or artefact load */
};

struct sl_policy;  /* compiled snapshot, opaque */
struct sl_scratch; /* per-thread scan scratch, opaque */
struct sl_pstream; /* payload stream state (one direction of a flow) */

/* ---- building ------------------------------------------------------ */

struct sl_compile_opts {
	int64_t now;       /* unix seconds used for expiry warnings; 0 = time() */
	bool keep_tests;   /* keep rules' test vectors (sluice-ctl test) */
};

/* Parse and compile a policy file. Relative list/zone file paths are
 * resolved against the policy file's directory. On error returns -EINVAL
 * (or -errno for I/O), *out stays NULL and every problem found is in diag
 * as FILE:LINE: message. Warnings (e.g. an already expired rule) are added
 * to diag with is_warning set and do not fail the compile. */
int sl_policy_compile_file(const char *path, const struct sl_compile_opts *opts,
			   struct sl_policy **out, struct sl_diag *diag);

/* Same from text in memory; `name` is used in messages and as the base for
 * relative paths (its directory). */
int sl_policy_compile_text(const char *text, const char *name,
			   const struct sl_compile_opts *opts,
			   struct sl_policy **out, struct sl_diag *diag);

/* Load a policy: a compiled artefact when the file starts with the artefact
 * magic, otherwise a policy source to compile. */
int sl_policy_open(const char *path, const struct sl_compile_opts *opts,
		   struct sl_policy **out, struct sl_diag *diag);

/* Reference counting: a policy starts with one reference. */
struct sl_policy *sl_policy_ref(struct sl_policy *p);
void sl_policy_unref(struct sl_policy *p);

/* ---- artefact --------------------------------------------------------- */

#define SL_ARTEFACT_MAGIC "SLUICEPA"

/* Serialise into a newly malloc'd buffer. */
int sl_policy_serialize(const struct sl_policy *p, void **buf, size_t *len);
int sl_policy_save(const struct sl_policy *p, const char *path);
/* Rejects with -EINVAL and a message in diag when the buffer is corrupt,
 * from another format version or another Hyperscan version/platform. */
int sl_policy_deserialize(const void *buf, size_t len, const char *name,
			  struct sl_policy **out, struct sl_diag *diag);
int sl_policy_load_artefact(const char *path, struct sl_policy **out,
			    struct sl_diag *diag);

/* ---- introspection ------------------------------------------------- */

const struct sl_policy_meta *sl_policy_meta(const struct sl_policy *p);
void sl_policy_get_stats(const struct sl_policy *p, struct sl_policy_stats *st);
uint32_t sl_policy_nrules(const struct sl_policy *p);
const struct sl_rule *sl_policy_rule(const struct sl_policy *p, uint32_t idx);
/* Rule index of a rule id, or -ENOENT. */
int sl_policy_find_rule(const struct sl_policy *p, uint32_t id);
/* Zone index of a zone name, or -ENOENT; name of a zone index. */
int sl_policy_find_zone(const struct sl_policy *p, const char *name);
const char *sl_policy_zone_name(const struct sl_policy *p, int zone);
/* True when the policy has any selector of this kind (lets the dataplane
 * skip work: e.g. no payload rules -> no stream scanning). */
bool sl_policy_has(const struct sl_policy *p, enum sl_field f);
static inline bool sl_rule_active(const struct sl_rule *r, int64_t now)
{
	return r->expires == 0 || now < r->expires;
}

/* ---- matching ------------------------------------------------------ */

#define SL_HITS_MAX 32

struct sl_hit {
	uint32_t rule;    /* rule index */
	uint8_t field;    /* enum sl_field */
	uint64_t to;      /* payload: stream offset just past the match end */
};

/* Rules found for one piece of content. Deduplicated by rule index; hits
 * beyond SL_HITS_MAX are counted in `overflow` and dropped. */
struct sl_hitset {
	uint32_t n;
	uint32_t overflow;
	struct sl_hit hit[SL_HITS_MAX];
};

static inline void sl_hitset_clear(struct sl_hitset *h)
{
	h->n = 0;
	h->overflow = 0;
}

/* Append unless already present. Returns 1 when added, 0 otherwise. */
int sl_hitset_add(struct sl_hitset *h, uint32_t rule, uint8_t field, uint64_t to);

/* Allocate scratch for every database of p (and grow an existing one for a
 * new policy: pass *s non-NULL). 0 or -ENOMEM. */
int sl_scratch_alloc(const struct sl_policy *p, struct sl_scratch **s);
void sl_scratch_free(struct sl_scratch *s);

/* Domain selectors. `name` is as seen on the wire: any case, with or
 * without a trailing dot or ":port". field is HOST, SNI or DNS. Returns the
 * number of hits added, or -EINVAL for a name that is not a domain name. */
int sl_match_domain(const struct sl_policy *p, const char *name, size_t len,
		    enum sl_field field, struct sl_hitset *hits);

/* URL selectors: host (as in the Host header, any case, optional :port) and
 * the request target (origin-form "/path?q", or absolute-form
 * "http://host/path"). */
int sl_match_url(const struct sl_policy *p, struct sl_scratch *s,
		 const char *host, size_t hlen, const char *target, size_t tlen,
		 struct sl_hitset *hits);

/* IP selectors: every rule with a prefix containing a. */
int sl_match_ip(const struct sl_policy *p, const struct sl_addr *a,
		struct sl_hitset *hits);

/* Zone membership (for origin constraints): 1 in zone, 0 not. */
int sl_zone_contains(const struct sl_policy *p, int zone, const struct sl_addr *a);

/* Payload selectors over one datagram (block mode). */
int sl_match_payload(const struct sl_policy *p, struct sl_scratch *s,
		     const uint8_t *data, size_t len, struct sl_hitset *hits);

/* Payload selectors over a byte stream, one stream per flow direction.
 * Stream memory comes from Hyperscan's stream allocator
 * (hs_set_stream_allocator), which the dataplane points at its per-lcore
 * pools. sl_pstream_scan reports matches whose end lies in this chunk;
 * hit.to is the stream offset just past the match. */
size_t sl_pstream_size(const struct sl_policy *p); /* 0: no payload rules */
int sl_pstream_open(const struct sl_policy *p, struct sl_pstream **st);
int sl_pstream_scan(const struct sl_policy *p, struct sl_pstream *st,
		    struct sl_scratch *s, const uint8_t *data, size_t len,
		    struct sl_hitset *hits);
/* Close without reporting end-of-data matches (needs no scratch, and is
 * safe after the policy that opened the stream has been freed). */
void sl_pstream_close(struct sl_pstream *st);

/* Iterate the prefixes of the ip selectors with the rule set that covers
 * each (its own rules and those of every shorter prefix containing it), so
 * a longest-prefix-match table (rte_lpm, rte_lpm6) built from them gives
 * the full answer. ruleset ids index sl_policy_ruleset(). IPv4 prefixes
 * come first, each family in address order, containing prefixes before
 * the prefixes they contain (IPv4-mapped IPv6 entries are IPv4). A
 * non-zero return of fn stops the walk and is returned. */
typedef int (*sl_prefix_fn)(void *ctx, const struct sl_addr *prefix,
			    uint8_t depth, uint32_t ruleset);
int sl_policy_foreach_prefix(const struct sl_policy *p, sl_prefix_fn fn, void *ctx);
/* Rule indexes of an ip ruleset; returns count and sets *rules. */
uint32_t sl_policy_ruleset(const struct sl_policy *p, uint32_t ruleset,
			   const uint32_t **rules);

/* ---- deciding ------------------------------------------------------ */

/* What is known about the traffic a hitset came from. */
struct sl_match_ctx {
	uint8_t proto;              /* SL_PROTO_TCP/UDP, or other IP proto */
	uint16_t server_port;       /* 0 when unknown (no L4) */
	const struct sl_addr *origin; /* sender of the matched content; NULL: unknown */
	int64_t now;                /* unix seconds, for expiry; 0 = time(NULL) */
	const uint64_t *disabled;   /* bitmap over rule idx (rules switched off
				     * at run time), or NULL */
};

/* Constraint check for one rule (port, proto, origin, expiry, disabled). */
bool sl_rule_applies(const struct sl_policy *p, const struct sl_rule *r,
		     const struct sl_match_ctx *ctx);

struct sl_verdict {
	int32_t rule;      /* winning enforce rule idx, or -1 */
	uint8_t action;    /* its action; SL_ACT_NONE when rule < 0 */
	uint8_t field;     /* field of the winning hit */
	/* every hit whose rule applies (enforce and shadow), for records and
	 * counters, in hitset order */
	uint32_t n;
	struct sl_hit applied[SL_HITS_MAX];
};

/* Keep the hits whose rules apply under ctx and pick the winner among the
 * enforce-mode ones: allow beats everything, then block-page > reset >
 * drop > log; ties go to the lowest rule id. Shadow rules never win. */
void sl_decide(const struct sl_policy *p, const struct sl_hitset *hits,
	       const struct sl_match_ctx *ctx, struct sl_verdict *v);

/* ---- rule test vectors (sluice-ctl test) ------------------------------ */

/* Run every rule's tests; each failure goes to diag as FILE:LINE. Returns
 * the number of failures, or -errno. Needs opts.keep_tests at compile. */
int sl_policy_run_tests(const struct sl_policy *p, struct sl_diag *diag,
			unsigned *passed);

#endif
