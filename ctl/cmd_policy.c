/* Offline policy verbs of sluice-ctl: check, compile, test, explain.
 * Each works on a policy source (or, for check and explain, a compiled
 * artefact) with libsluice-policy only: no dataplane needed. Problems are
 * printed as FILE:LINE: message on stderr (or in the JSON document with
 * --json); exit status 0 ok, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "ctl.h"
#include "sluice/policy.h"

struct popts {
	int json;
	const char *policy;
	const char *out;
	const char *arg;      /* explain FIELD:VALUE */
	int64_t now;
	long port;
	int proto;            /* -1: not given */
	const char *origin;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_long(const char *s, long min, long max, long *v)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || x < min || x > max)
		return -1;
	*v = (long)x;
	return 0;
}

/* Options anywhere after the verb; returns 0, 1 (help printed) or 2. */
static int parse_args(int argc, char **argv, struct popts *o, const char *usage,
		      bool want_out, bool want_arg, bool explain_opts)
{
	int npos = 0;

	memset(o, 0, sizeof(*o));
	o->json = ctl_g.json;
	o->proto = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long n;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return 1;
		} else if (strcmp(a, "--json") == 0) {
			o->json = 1;
		} else if (want_out && (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && v) {
			o->out = v;
			i++;
		} else if (strcmp(a, "--now") == 0 && v) {
			if (parse_long(v, 1, LONG_MAX, &n) < 0) {
				fprintf(stderr, "%s: bad --now %s (unix seconds)\n", argv[0], v);
				return 2;
			}
			o->now = n;
			i++;
		} else if (explain_opts && strcmp(a, "--port") == 0 && v) {
			if (parse_long(v, 1, 65535, &o->port) < 0) {
				fprintf(stderr, "%s: bad --port %s (1..65535)\n", argv[0], v);
				return 2;
			}
			i++;
		} else if (explain_opts && strcmp(a, "--proto") == 0 && v) {
			if (strcasecmp(v, "tcp") == 0) {
				o->proto = SL_PROTO_TCP;
			} else if (strcasecmp(v, "udp") == 0) {
				o->proto = SL_PROTO_UDP;
			} else {
				fprintf(stderr, "%s: bad --proto %s (tcp or udp)\n", argv[0], v);
				return 2;
			}
			i++;
		} else if (explain_opts && strcmp(a, "--origin") == 0 && v) {
			o->origin = v;
			i++;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "%s: unknown or incomplete option %s\n%s", argv[0], a, usage);
			return 2;
		} else if (npos == 0) {
			o->policy = a;
			npos++;
		} else if (npos == 1 && want_arg) {
			o->arg = a;
			npos++;
		} else {
			fprintf(stderr, "%s: unexpected argument %s\n%s", argv[0], a, usage);
			return 2;
		}
	}
	if (o->policy == NULL || (want_arg && o->arg == NULL) || (want_out && o->out == NULL)) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	if (o->now == 0)
		o->now = (int64_t)time(NULL);
	return 0;
}

static json_object *diag_json(const struct sl_diag *d, bool warnings)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < d->n; i++) {
		const struct sl_diag_msg *m = &d->m[i];
		json_object *e;

		if (m->is_warning != warnings)
			continue;
		e = json_object_new_object();
		json_object_object_add(e, "file", m->file ? json_object_new_string(m->file) : NULL);
		json_object_object_add(e, "line", json_object_new_int64(m->line));
		json_object_object_add(e, "message", json_object_new_string(m->msg ? m->msg : ""));
		json_object_array_add(a, e);
	}
	return a;
}

static void json_out(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Open the policy; on failure prints the problems and returns NULL. */
static struct sl_policy *open_policy(const struct popts *o, bool keep_tests,
				     struct sl_diag *d, json_object *doc)
{
	struct sl_compile_opts co = { .now = o->now, .keep_tests = keep_tests };
	struct sl_policy *p = NULL;
	int r = sl_policy_open(o->policy, &co, &p, d);

	if (doc) {
		json_object_object_add(doc, "warnings", diag_json(d, true));
		json_object_object_add(doc, "errors", diag_json(d, false));
	} else {
		sl_diag_print(d, stderr);
	}
	if (r < 0 || p == NULL) {
		if (!doc)
			fprintf(stderr, "%s: %u error%s\n", o->policy, d->errors,
				d->errors == 1 ? "" : "s");
		return NULL;
	}
	return p;
}

static void counts(const struct sl_policy *p, int64_t now, uint32_t *shadow,
		   uint32_t *expired)
{
	*shadow = 0;
	*expired = 0;
	for (uint32_t i = 0; i < sl_policy_nrules(p); i++) {
		const struct sl_rule *r = sl_policy_rule(p, i);

		*shadow += r->mode == SL_MODE_SHADOW;
		*expired += !sl_rule_active(r, now);
	}
}

static void add_stats(json_object *doc, const struct sl_policy *p, int64_t now)
{
	const struct sl_policy_meta *m = sl_policy_meta(p);
	struct sl_policy_stats st;
	uint32_t shadow, expired;

	sl_policy_get_stats(p, &st);
	counts(p, now, &shadow, &expired);
	json_object_object_add(doc, "name", json_object_new_string(m->name));
	json_object_object_add(doc, "revision", json_object_new_string(m->revision));
	json_object_object_add(doc, "digest", json_object_new_string(m->digest_hex));
	json_object_object_add(doc, "rules", json_object_new_int64(st.rules));
	json_object_object_add(doc, "shadow", json_object_new_int64(shadow));
	json_object_object_add(doc, "expired", json_object_new_int64(expired));
	json_object_object_add(doc, "domains", json_object_new_int64(st.domains));
	json_object_object_add(doc, "urls", json_object_new_int64(st.urls));
	json_object_object_add(doc, "payloads", json_object_new_int64(st.payloads));
	json_object_object_add(doc, "cidrs", json_object_new_int64(st.cidrs));
	json_object_object_add(doc, "zones", json_object_new_int64(st.zones));
	json_object_object_add(doc, "zone_cidrs", json_object_new_int64(st.zone_cidrs));
	json_object_object_add(doc, "authorities", json_object_new_int64(st.authorities));
	json_object_object_add(doc, "bytes", json_object_new_int64((int64_t)st.bytes));
	json_object_object_add(doc, "seconds", json_object_new_double(st.compile_s));
}

/* ---- check ------------------------------------------------------------ */

static const char check_usage[] =
	"usage: sluice-ctl check [--json] [--now UNIX] POLICY\n"
	"  Validate a policy source (or load a compiled artefact) and print a\n"
	"  one-line summary. Every problem is printed as FILE:LINE: message;\n"
	"  exit status 1 when there is any error.\n";

int cmd_check(int argc, char **argv)
{
	struct popts o;
	struct sl_diag d;
	struct sl_policy *p;
	json_object *doc = NULL;
	int r = parse_args(argc, argv, &o, check_usage, false, false, false);

	if (r)
		return r == 1 ? 0 : 2;
	sl_diag_init(&d);
	if (o.json) {
		doc = json_object_new_object();
		json_object_object_add(doc, "policy", json_object_new_string(o.policy));
	}
	p = open_policy(&o, false, &d, doc);
	if (doc) {
		json_object_object_add(doc, "ok", json_object_new_boolean(p != NULL));
		if (p)
			add_stats(doc, p, o.now);
		json_out(doc);
	} else if (p) {
		const struct sl_policy_meta *m = sl_policy_meta(p);
		struct sl_policy_stats st;
		uint32_t shadow, expired;

		sl_policy_get_stats(p, &st);
		counts(p, o.now, &shadow, &expired);
		printf("ok: %s revision %s: %u rules (%u shadow, %u expired), %u domains, %u urls, "
		       "%u payloads, %u cidrs, %u zones, digest %.12s\n",
		       m->name, m->revision, st.rules, shadow, expired, st.domains, st.urls,
		       st.payloads, st.cidrs, st.zones, m->digest_hex);
	}
	sl_diag_free(&d);
	if (p == NULL)
		return 1;
	sl_policy_unref(p);
	return 0;
}

/* ---- compile ------------------------------------------------------------ */

static const char compile_usage[] =
	"usage: sluice-ctl compile [--json] [--now UNIX] POLICY -o FILE\n"
	"  Compile a policy into an artefact that the dataplane (and every verb\n"
	"  taking a POLICY) loads without compiling again.\n";

int cmd_compile(int argc, char **argv)
{
	struct popts o;
	struct sl_diag d;
	struct sl_policy *p;
	json_object *doc = NULL;
	void *buf = NULL;
	size_t len = 0;
	double t0 = now_s(), tc;
	int r = parse_args(argc, argv, &o, compile_usage, true, false, false);

	if (r)
		return r == 1 ? 0 : 2;
	sl_diag_init(&d);
	if (o.json) {
		doc = json_object_new_object();
		json_object_object_add(doc, "policy", json_object_new_string(o.policy));
		json_object_object_add(doc, "output", json_object_new_string(o.out));
	}
	p = open_policy(&o, false, &d, doc);
	tc = now_s() - t0;
	if (p) {
		r = sl_policy_serialize(p, &buf, &len);
		if (r == 0)
			r = sl_policy_save(p, o.out);
		if (r < 0 && !doc)
			fprintf(stderr, "%s: cannot write artefact: %s\n", o.out, strerror(-r));
	}
	if (doc) {
		json_object_object_add(doc, "ok", json_object_new_boolean(p && r == 0));
		if (p) {
			add_stats(doc, p, o.now);
			json_object_object_add(doc, "compile_seconds", json_object_new_double(tc));
			json_object_object_add(doc, "artefact_bytes", json_object_new_int64((int64_t)len));
			if (r < 0)
				json_object_object_add(doc, "write_error",
						       json_object_new_string(strerror(-r)));
		}
		json_out(doc);
	} else if (p && r == 0) {
		printf("compiled %s -> %s: %u rules, %zu bytes in %.3f s (digest %.12s)\n",
		       o.policy, o.out, sl_policy_nrules(p), len, tc,
		       sl_policy_meta(p)->digest_hex);
	}
	free(buf);
	sl_diag_free(&d);
	if (p == NULL)
		return 1;
	sl_policy_unref(p);
	return r < 0 ? 1 : 0;
}

/* ---- test ------------------------------------------------------------------ */

static const char test_usage[] =
	"usage: sluice-ctl test [--json] [--now UNIX] POLICY\n"
	"  Run every rule's test vectors (tests = { match = [...]; nomatch = [...]; }).\n"
	"  Each failure is printed as FILE:LINE; exit status 1 on any failure.\n";

int cmd_test(int argc, char **argv)
{
	struct popts o;
	struct sl_diag d, td;
	struct sl_policy *p;
	json_object *doc = NULL;
	unsigned passed = 0;
	int failed = 0;
	int r = parse_args(argc, argv, &o, test_usage, false, false, false);
	char magic[8];
	FILE *f;

	if (r)
		return r == 1 ? 0 : 2;
	f = fopen(o.policy, "rb");
	if (f) {
		if (fread(magic, 1, 8, f) == 8 && memcmp(magic, SL_ARTEFACT_MAGIC, 8) == 0) {
			fclose(f);
			fprintf(stderr, "%s: an artefact has no test vectors: give the policy source\n",
				o.policy);
			return 1;
		}
		fclose(f);
	}
	sl_diag_init(&d);
	sl_diag_init(&td);
	if (o.json) {
		doc = json_object_new_object();
		json_object_object_add(doc, "policy", json_object_new_string(o.policy));
	}
	p = open_policy(&o, true, &d, doc);
	if (p) {
		failed = sl_policy_run_tests(p, &td, &passed);
		if (failed < 0) {
			sl_diag_add(&td, false, o.policy, 0, "cannot run tests: %s", strerror(-failed));
			failed = 1;
		}
	}
	if (doc) {
		json_object_object_add(doc, "ok", json_object_new_boolean(p && failed == 0));
		json_object_object_add(doc, "passed", json_object_new_int64(passed));
		json_object_object_add(doc, "failed", json_object_new_int64(failed));
		json_object_object_add(doc, "failures", diag_json(&td, false));
		json_out(doc);
	} else if (p) {
		sl_diag_print(&td, stderr);
		printf("%u passed, %d failed\n", passed, failed);
	}
	sl_diag_free(&d);
	sl_diag_free(&td);
	if (p == NULL)
		return 1;
	sl_policy_unref(p);
	return failed ? 1 : 0;
}

/* ---- explain ------------------------------------------------------------------ */

static const char explain_usage[] =
	"usage: sluice-ctl explain [--json] POLICY FIELD:VALUE [--port N] [--proto tcp|udp]\n"
	"                          [--origin ADDR] [--now UNIX]\n"
	"  FIELD is domain (also host, sni, dns), url (HOST/PATH), payload (\\xNN,\n"
	"  \\n, \\r, \\t, \\\\ escapes) or ip. Prints every rule whose selectors\n"
	"  match, whether its constraints apply (and which one fails), the winning\n"
	"  rule and the resulting action. --port is the server port; without it a\n"
	"  rule with a port constraint does not apply.\n";

static size_t unescape(const char *s, char *out)
{
	size_t n = 0;

	while (*s) {
		if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3] &&
		    strchr("0123456789abcdefABCDEF", s[2]) &&
		    strchr("0123456789abcdefABCDEF", s[3])) {
			char h[3] = { s[2], s[3], 0 };

			out[n++] = (char)strtol(h, NULL, 16);
			s += 4;
		} else if (s[0] == '\\' && (s[1] == 'n' || s[1] == 'r' || s[1] == 't' || s[1] == '\\')) {
			out[n++] = s[1] == 'n' ? '\n' : s[1] == 'r' ? '\r' : s[1] == 't' ? '\t' : '\\';
			s += 2;
		} else {
			out[n++] = *s++;
		}
	}
	return n;
}

/* Every constraint of r that does not hold, "; "-separated, or NULL when
 * the rule applies. */
static const char *why_not(const struct sl_policy *p, const struct sl_rule *r,
			   const struct sl_match_ctx *c, char *buf, size_t len)
{
	size_t o = 0;

#define ADD(...) do { \
		if (o < len) { \
			int k_ = snprintf(buf + o, len - o, "%s", o ? "; " : ""); \
			if (k_ > 0) \
				o += (size_t)k_; \
		} \
		if (o < len) { \
			int k_ = snprintf(buf + o, len - o, __VA_ARGS__); \
			if (k_ > 0) \
				o += (size_t)k_; \
		} \
	} while (0)

	buf[0] = '\0';
	if (!sl_rule_active(r, c->now)) {
		time_t t = (time_t)r->expires;
		struct tm tm;
		char d[32] = "?";

		if (gmtime_r(&t, &tm))
			strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%SZ", &tm);
		ADD("expired at %s", d);
	}
	if (r->proto != SL_PROTO_ANY && r->proto != c->proto)
		ADD("proto: the rule needs %s, %s", r->proto == SL_PROTO_TCP ? "tcp" : "udp",
		    c->proto == 0 ? "the traffic's is unknown (use --proto)" :
		    c->proto == SL_PROTO_TCP ? "the traffic is tcp" : "the traffic is udp");
	if (r->nports) {
		bool in = false;
		char pl[128];
		size_t k = 0;

		pl[0] = '\0';
		for (uint16_t i = 0; i < r->nports; i++) {
			in |= r->ports[i] == c->server_port;
			if (k < sizeof(pl)) {
				int w = snprintf(pl + k, sizeof(pl) - k, "%s%u", i ? ", " : "",
						 r->ports[i]);
				if (w > 0)
					k += (size_t)w;
			}
		}
		if (c->server_port == 0)
			ADD("port: server port unknown (use --port), the rule needs [%s]", pl);
		else if (!in)
			ADD("port: %u not in [%s]", c->server_port, pl);
	}
	if (r->origin_zone >= 0) {
		const char *z = sl_policy_zone_name(p, r->origin_zone);
		char a[64];

		if (c->origin == NULL) {
			ADD("origin: unknown (use --origin), the rule needs %s%s",
			    r->origin_negate ? "!" : "", z);
		} else if (sl_zone_contains(p, r->origin_zone, c->origin) ==
			   (r->origin_negate != 0)) {
			sl_addr_str(c->origin, a, sizeof(a));
			ADD("origin: %s is %s zone %s", a, r->origin_negate ? "in" : "not in", z);
		}
	}
#undef ADD
	return o ? buf : NULL;
}

int cmd_explain(int argc, char **argv)
{
	struct popts o;
	struct sl_diag d;
	struct sl_policy *p = NULL;
	struct sl_scratch *s = NULL;
	struct sl_hitset h;
	struct sl_verdict v;
	struct sl_match_ctx c;
	struct sl_addr origin, ip;
	json_object *doc = NULL, *hits = NULL;
	const char *colon, *val;
	char field[16];
	char *buf = NULL;
	size_t blen;
	int fld = 0, n = 0, ret = 1;
	int r = parse_args(argc, argv, &o, explain_usage, false, true, true);

	if (r)
		return r == 1 ? 0 : 2;
	colon = strchr(o.arg, ':');
	if (colon == NULL || (size_t)(colon - o.arg) >= sizeof(field)) {
		fprintf(stderr, "explain: expected FIELD:VALUE, got \"%s\"\n%s", o.arg, explain_usage);
		return 2;
	}
	memcpy(field, o.arg, (size_t)(colon - o.arg));
	field[colon - o.arg] = '\0';
	val = colon + 1;
	if (strcmp(field, "domain") == 0 || strcmp(field, "host") == 0)
		fld = SL_FIELD_HOST;
	else if (strcmp(field, "sni") == 0)
		fld = SL_FIELD_SNI;
	else if (strcmp(field, "dns") == 0)
		fld = SL_FIELD_DNS;
	else if (strcmp(field, "url") == 0)
		fld = SL_FIELD_URL;
	else if (strcmp(field, "payload") == 0)
		fld = SL_FIELD_PAYLOAD;
	else if (strcmp(field, "ip") == 0)
		fld = SL_FIELD_IP;
	if (fld == 0) {
		fprintf(stderr, "explain: unknown field \"%s\" (domain, host, sni, dns, url, payload, ip)\n",
			field);
		return 2;
	}
	if (o.origin && sl_addr_parse(o.origin, &origin) < 0) {
		fprintf(stderr, "explain: bad --origin %s (an IPv4 or IPv6 address)\n", o.origin);
		return 2;
	}
	if (fld == SL_FIELD_IP && sl_addr_parse(val, &ip) < 0) {
		fprintf(stderr, "explain: \"%s\" is not an IP address\n", val);
		return 2;
	}
	sl_diag_init(&d);
	if (o.json) {
		doc = json_object_new_object();
		json_object_object_add(doc, "policy", json_object_new_string(o.policy));
	}
	p = open_policy(&o, false, &d, doc);
	if (p == NULL) {
		if (doc)
			json_object_object_add(doc, "ok", json_object_new_boolean(0));
		goto out;
	}
	if (sl_scratch_alloc(p, &s) < 0) {
		fprintf(stderr, "explain: out of memory\n");
		goto out;
	}
	sl_hitset_clear(&h);
	switch (fld) {
	case SL_FIELD_URL: {
		const char *sl = strchr(val, '/');
		size_t hl = sl ? (size_t)(sl - val) : strlen(val);

		n = sl_match_url(p, s, val, hl, sl ? sl : "/", sl ? strlen(sl) : 1, &h);
		break;
	}
	case SL_FIELD_PAYLOAD:
		buf = malloc(strlen(val) + 1);
		if (buf == NULL)
			goto out;
		blen = unescape(val, buf);
		n = sl_match_payload(p, s, (const uint8_t *)buf, blen, &h);
		break;
	case SL_FIELD_IP:
		n = sl_match_ip(p, &ip, &h);
		break;
	default:
		n = sl_match_domain(p, val, strlen(val), fld, &h);
		break;
	}
	if (n < 0) {
		if (doc) {
			json_object_object_add(doc, "ok", json_object_new_boolean(0));
			json_object_object_add(doc, "error",
					       json_object_new_string("value is not valid for this field"));
		} else {
			fprintf(stderr, "explain: \"%s\" is not a valid %s\n", val, field);
		}
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.proto = o.proto < 0 ? 0 : (uint8_t)o.proto;
	c.server_port = (uint16_t)o.port;
	c.origin = o.origin ? &origin : NULL;
	c.now = o.now;
	sl_decide(p, &h, &c, &v);
	if (doc) {
		json_object *in = json_object_new_object();

		json_object_object_add(in, "field", json_object_new_string(sl_field_name(fld)));
		json_object_object_add(in, "value", json_object_new_string(val));
		if (o.port)
			json_object_object_add(in, "port", json_object_new_int64(o.port));
		if (o.proto >= 0)
			json_object_object_add(in, "proto",
					       json_object_new_string(o.proto == SL_PROTO_TCP ? "tcp" : "udp"));
		if (o.origin)
			json_object_object_add(in, "origin", json_object_new_string(o.origin));
		json_object_object_add(in, "now", json_object_new_int64(o.now));
		json_object_object_add(doc, "input", in);
		hits = json_object_new_array();
	} else {
		printf("explain %s", o.arg);
		if (o.port)
			printf(" port %ld", o.port);
		if (o.proto >= 0)
			printf(" proto %s", o.proto == SL_PROTO_TCP ? "tcp" : "udp");
		if (o.origin)
			printf(" origin %s", o.origin);
		printf("\n");
		if (h.n == 0)
			printf("no rule matches\n");
	}
	for (uint32_t i = 0; i < h.n; i++) {
		const struct sl_rule *rr = sl_policy_rule(p, h.hit[i].rule);
		char why[256];
		const char *wn = why_not(p, rr, &c, why, sizeof(why));

		if (hits) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "id", json_object_new_int64(rr->id));
			json_object_object_add(e, "name", json_object_new_string(rr->name));
			json_object_object_add(e, "action", json_object_new_string(sl_action_name(rr->action)));
			json_object_object_add(e, "mode", json_object_new_string(sl_mode_name(rr->mode)));
			json_object_object_add(e, "field", json_object_new_string(sl_field_name(h.hit[i].field)));
			json_object_object_add(e, "basis", json_object_new_string(rr->basis));
			json_object_object_add(e, "file", json_object_new_string(rr->file));
			json_object_object_add(e, "line", json_object_new_int64(rr->line));
			json_object_object_add(e, "applies", json_object_new_boolean(wn == NULL));
			json_object_object_add(e, "reason", wn ? json_object_new_string(wn) : NULL);
			json_object_array_add(hits, e);
		} else {
			printf("rule %u \"%s\" (%s:%u): %s, %s, matched %s: %s%s\n", rr->id, rr->name,
			       rr->file, rr->line, sl_action_name(rr->action), sl_mode_name(rr->mode),
			       sl_field_name(h.hit[i].field), wn ? "does not apply: " : "applies",
			       wn ? wn : "");
		}
	}
	if (doc) {
		json_object *vj = NULL;

		json_object_object_add(doc, "ok", json_object_new_boolean(1));
		json_object_object_add(doc, "hits", hits);
		json_object_object_add(doc, "overflow", json_object_new_int64(h.overflow));
		if (v.rule >= 0) {
			vj = json_object_new_object();
			json_object_object_add(vj, "id", json_object_new_int64(sl_policy_rule(p, (uint32_t)v.rule)->id));
			json_object_object_add(vj, "action", json_object_new_string(sl_action_name(v.action)));
		}
		json_object_object_add(doc, "winner", vj);
		json_object_object_add(doc, "action", json_object_new_string(sl_action_name(v.action)));
	} else {
		if (h.overflow)
			printf("note: %u more matching rules were not examined (limit %u)\n",
			       h.overflow, SL_HITS_MAX);
		for (uint32_t i = 0; i < v.n; i++) {
			const struct sl_rule *rr = sl_policy_rule(p, v.applied[i].rule);

			if (rr->mode == SL_MODE_SHADOW)
				printf("shadow: rule %u would %s (recorded only)\n", rr->id,
				       sl_action_name(rr->action));
		}
		if (v.rule >= 0)
			printf("verdict: rule %u -> %s\n", sl_policy_rule(p, (uint32_t)v.rule)->id,
			       sl_action_name(v.action));
		else
			printf("verdict: no enforce rule applies -> none (traffic passes)\n");
	}
	ret = 0;
out:
	if (doc)
		json_out(doc);
	free(buf);
	sl_scratch_free(s);
	if (p)
		sl_policy_unref(p);
	sl_diag_free(&d);
	return ret;
}
