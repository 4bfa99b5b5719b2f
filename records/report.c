/* Report for the competent authority (`sluice-ctl report`): verifies the
 * records, then aggregates the matches of rules with report = true in a
 * time window (optionally one authority's rules): per rule counts by action
 * and mode, first/last time, distinct flows and subscribers, basis,
 * authority and order, a few samples; totals, losses, the policy revisions
 * seen, and the records' chain head so the report can be checked against
 * the records later. Subscriber (client-side) addresses are pseudonymised
 * with a keyed HMAC-SHA256 unless the caller asks to identify them.
 * Output as JSON or CSV (see docs/records.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/hmac.h>

#include "internal.h"
#include "sluice/policy.h"

#define SAMPLES_MAX 3
#define KEY_FILE_MAX 4096

/* ---- pseudonyms ------------------------------------------------------ */

static int hmac_hex(const uint8_t *key, size_t klen, const char *text, char *out, size_t nhex)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)text, strlen(text),
		 md, &mdlen) == NULL)
		return -EIO;
	rec_hex(md, nhex / 2, out);
	return 0;
}

int sl_pseudonym(const uint8_t *key, size_t key_len, const struct sl_addr *a,
		 char out[SL_PSEUDONYM_LEN])
{
	char text[64];

	if (key == NULL || key_len == 0 || a->family == 0)
		return -EINVAL;
	sl_addr_str(a, text, sizeof(text));
	out[0] = 'p';
	out[1] = ':';
	return hmac_hex(key, key_len, text, out + 2, 16);
}

int sl_report_load_key(const char *path, uint8_t **key, size_t *len, struct sl_diag *diag)
{
	uint8_t *buf;
	ssize_t n;
	int fd, rc;

	*key = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		sl_diag_add(diag, false, path, 0, "cannot read pseudonym key: %s", strerror(-rc));
		return rc;
	}
	buf = malloc(KEY_FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, KEY_FILE_MAX + 1);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0 || n > KEY_FILE_MAX) {
		sl_diag_add(diag, false, path, 0, "cannot read pseudonym key: %s",
			    rc < 0 ? strerror(-rc) : "file too large");
		free(buf);
		return rc < 0 ? rc : -EINVAL;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
			 buf[n - 1] == '\t'))
		n--;
	if (n < SL_PSEUDONYM_KEY_MIN) {
		sl_diag_add(diag, false, path, 0,
			    "pseudonym key too short (%zd bytes, need at least %d): e.g. "
			    "openssl rand -hex 32 > %s", n, SL_PSEUDONYM_KEY_MIN, path);
		free(buf);
		return -EINVAL;
	}
	*key = buf;
	*len = (size_t)n;
	return 0;
}

int sl_report_key_file_from_config(const char *config, char **path, struct sl_diag *diag)
{
	config_t cfg;
	const char *s = NULL;
	const char *slash;
	int rc = 0;

	*path = NULL;
	config_init(&cfg);
	if (config_read_file(&cfg, config) != CONFIG_TRUE) {
		sl_diag_add(diag, false, config_error_file(&cfg) ? config_error_file(&cfg) : config,
			    (unsigned)config_error_line(&cfg), "%s", config_error_text(&cfg));
		rc = -EINVAL;
		goto out;
	}
	if (config_lookup_string(&cfg, "records.pseudonym_key_file", &s) != CONFIG_TRUE ||
	    s[0] == '\0') {
		sl_diag_add(diag, false, config, 0, "records.pseudonym_key_file is not set");
		rc = -ENOENT;
		goto out;
	}
	slash = strrchr(config, '/');
	if (s[0] == '/' || slash == NULL) {
		*path = strdup(s);
	} else if (asprintf(path, "%.*s/%s", (int)(slash - config), config, s) < 0) {
		*path = NULL;
	}
	if (*path == NULL)
		rc = -ENOMEM;
out:
	config_destroy(&cfg);
	return rc;
}

/* ---- aggregation ----------------------------------------------------- */

/* Set of 64-bit keys (open addressing; key 0 is stored as 1). */
struct idset {
	uint64_t *v;
	size_t n;
	size_t cap;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

static int idset_add(struct idset *s, uint64_t k)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *nv = calloc(cap, sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		for (size_t j = 0; j < s->cap; j++) {
			if (s->v[j] == 0)
				continue;
			for (i = s->v[j] & (cap - 1); nv[i]; i = (i + 1) & (cap - 1))
				;
			nv[i] = s->v[j];
		}
		free(s->v);
		s->v = nv;
		s->cap = cap;
	}
	for (i = k & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == k)
			return 0;
	s->v[i] = k;
	s->n++;
	return 1;
}

struct sample {
	int64_t time;
	char *field;
	char *value;
	char *client;
	char *server;
};

struct rrule {
	uint32_t id;
	char *name, *category, *basis, *auth_id, *auth_name, *order;
	uint64_t n[SL_ACT__COUNT][2];
	uint64_t total;
	int64_t first, last;
	struct idset flows, clients;
	struct sample s[SAMPLES_MAX];
	unsigned ns;
};

struct rrev {
	char *name, *revision, *digest;
	uint64_t matches;
	int64_t first, last;
};

struct agg {
	const struct sl_report_opts *o;
	struct rrule *rules;
	size_t nrules, caprules;
	struct rrev *revs;
	size_t nrevs, caprevs;
	uint64_t n[SL_ACT__COUNT][2];
	uint64_t total;
	struct idset flows, clients;
	int64_t first, last;
	uint64_t lost, loss_events;
	uint64_t events;            /* all events in the records */
	uint64_t last_seq;          /* chain head */
	char head[65];
	int err;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = dup_or_null(s);
}

static struct rrule *find_rule(struct agg *a, uint32_t id)
{
	for (size_t i = 0; i < a->nrules; i++)
		if (a->rules[i].id == id)
			return &a->rules[i];
	if (a->nrules == a->caprules) {
		size_t cap = a->caprules ? a->caprules * 2 : 16;
		struct rrule *n = realloc(a->rules, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		a->rules = n;
		a->caprules = cap;
	}
	memset(&a->rules[a->nrules], 0, sizeof(a->rules[0]));
	a->rules[a->nrules].id = id;
	return &a->rules[a->nrules++];
}

static void note_rev(struct agg *a, json_object *p, int64_t t)
{
	const char *name = rec_jstr(p, "name");
	const char *rev = rec_jstr(p, "revision");
	const char *dig = rec_jstr(p, "digest");
	struct rrev *r = NULL;

	for (size_t i = 0; i < a->nrevs; i++) {
		struct rrev *x = &a->revs[i];

		if (!strcmp(x->name ? x->name : "", name ? name : "") &&
		    !strcmp(x->revision ? x->revision : "", rev ? rev : "") &&
		    !strcmp(x->digest ? x->digest : "", dig ? dig : "")) {
			r = x;
			break;
		}
	}
	if (r == NULL) {
		if (a->nrevs == a->caprevs) {
			size_t cap = a->caprevs ? a->caprevs * 2 : 8;
			struct rrev *n = realloc(a->revs, cap * sizeof(*n));

			if (n == NULL) {
				a->err = -ENOMEM;
				return;
			}
			a->revs = n;
			a->caprevs = cap;
		}
		r = &a->revs[a->nrevs++];
		memset(r, 0, sizeof(*r));
		r->name = dup_or_null(name);
		r->revision = dup_or_null(rev);
		r->digest = dup_or_null(dig);
		r->first = t;
		r->last = t;
	}
	r->matches++;
	if (t < r->first)
		r->first = t;
	if (t > r->last)
		r->last = t;
}

static int action_index(const char *s)
{
	for (int i = 1; s && i < SL_ACT__COUNT; i++)
		if (strcmp(s, sl_action_name(i)) == 0)
			return i;
	return -1;
}

static int mode_index(const char *s)
{
	if (s && strcmp(s, sl_mode_name(SL_MODE_SHADOW)) == 0)
		return SL_MODE_SHADOW;
	if (s && strcmp(s, sl_mode_name(SL_MODE_ENFORCE)) == 0)
		return SL_MODE_ENFORCE;
	return -1;
}

/* Subscriber address as shown in the report. */
static char *show_client(struct agg *a, const char *addr)
{
	struct sl_addr x;
	char p[SL_PSEUDONYM_LEN];

	if (addr == NULL)
		return NULL;
	if (a->o->identify)
		return strdup(addr);
	if (sl_addr_parse(addr, &x) != 0 || sl_pseudonym(a->o->key, a->o->key_len, &x, p) != 0)
		return strdup("p:?");
	return strdup(p);
}

static void add_sample(struct agg *a, struct rrule *r, json_object *o, int64_t t,
		       const char *client)
{
	json_object *fl = rec_jobj(o, "flow");
	const char *field = rec_jstr(o, "field");
	const char *server = rec_jstr(fl, "server");
	struct sample *s;
	int64_t sp = 0;
	char buf[128];
	uint8_t *raw;
	char *value;
	size_t n;

	if (r->ns >= SAMPLES_MAX)
		return;
	raw = rec_value_bytes(o, &n);
	value = raw ? rec_safe_text(raw, n) : NULL;
	free(raw);
	if (value == NULL)
		return;
	for (unsigned i = 0; i < r->ns; i++) {
		if (!strcmp(r->s[i].value, value) && !strcmp(r->s[i].field, field ? field : "")) {
			free(value);
			return;
		}
	}
	s = &r->s[r->ns++];
	s->time = t;
	s->field = strdup(field ? field : "");
	/* an address value that is the subscriber's is shown like one */
	if (client && strcmp(value, client) == 0) {
		s->value = show_client(a, value);
		free(value);
	} else {
		s->value = value;
	}
	s->client = show_client(a, client);
	rec_jint(fl, "server_port", &sp);
	if (server && sp == 0) {
		s->server = strdup(server); /* no ports (e.g. ICMP) */
	} else if (server) {
		snprintf(buf, sizeof(buf), strchr(server, ':') ? "[%s]:%lld" : "%s:%lld",
			 server, (long long)sp);
		s->server = strdup(buf);
	}
}

static void add_match(struct agg *a, json_object *o, int64_t t)
{
	json_object *ru = rec_jobj(o, "rule");
	json_object *au = rec_jobj(ru, "authority");
	json_object *fl = rec_jobj(o, "flow");
	const char *client = rec_jstr(fl, "client");
	const char *auth = rec_jstr(au, "id");
	int act = action_index(rec_jstr(o, "action"));
	int mode = mode_index(rec_jstr(o, "mode"));
	struct rrule *r;
	char key[512];
	int64_t id, cp = 0, sp = 0;
	bool report = false;
	uint64_t fk;

	if (!rec_jint(ru, "id", &id) || !rec_jbool(ru, "report", &report) || !report)
		return;
	if (a->o->authority && (auth == NULL || strcmp(auth, a->o->authority) != 0))
		return;
	if (act < 0 || mode < 0)
		return;
	r = find_rule(a, (uint32_t)id);
	if (r == NULL) {
		a->err = -ENOMEM;
		return;
	}
	/* metadata as of the latest match */
	set_str(&r->name, rec_jstr(ru, "name"));
	set_str(&r->category, rec_jstr(ru, "category"));
	set_str(&r->basis, rec_jstr(ru, "basis"));
	set_str(&r->auth_id, auth);
	set_str(&r->auth_name, rec_jstr(au, "name"));
	set_str(&r->order, rec_jstr(au, "order"));
	if (r->total == 0 || t < r->first)
		r->first = t;
	if (r->total == 0 || t > r->last)
		r->last = t;
	r->n[act][mode]++;
	r->total++;
	if (a->total == 0 || t < a->first)
		a->first = t;
	if (a->total == 0 || t > a->last)
		a->last = t;
	a->n[act][mode]++;
	a->total++;
	rec_jint(fl, "client_port", &cp);
	rec_jint(fl, "server_port", &sp);
	snprintf(key, sizeof(key), "%s|%s|%s|%lld|%s|%lld", rec_jstr(fl, "id") ?: "",
		 rec_jstr(fl, "proto") ?: "", client ?: "", (long long)cp,
		 rec_jstr(fl, "server") ?: "", (long long)sp);
	fk = fnv(key);
	if (idset_add(&r->flows, fk) < 0 || idset_add(&a->flows, fk) < 0)
		a->err = -ENOMEM;
	if (client && (idset_add(&r->clients, fnv(client)) < 0 ||
		       idset_add(&a->clients, fnv(client)) < 0))
		a->err = -ENOMEM;
	add_sample(a, r, o, t, client);
	note_rev(a, rec_jobj(o, "policy"), t);
}

static int agg_line(void *ctx, const char *name, unsigned lineno, const char *line, size_t len)
{
	struct agg *a = ctx;
	const char *type, *why;
	char hash[65];
	json_object *o;
	int64_t t = 0, seq = 0, v;

	(void)name;
	(void)lineno;
	if (rec_seal_check(line, len, hash, &why) != 0)
		return 0;
	o = rec_parse(line, len);
	if (o == NULL)
		return 0;
	type = rec_jstr(o, "type");
	if (!rec_is_event_type(type)) {
		json_object_put(o);
		return 0;
	}
	a->events++;
	if (rec_jint(o, "seq", &seq) && (uint64_t)seq > a->last_seq) {
		a->last_seq = (uint64_t)seq;
		memcpy(a->head, hash, 65);
	}
	rec_jint(o, "time_ns", &t);
	if ((a->o->from_ns && t < a->o->from_ns) || (a->o->to_ns && t >= a->o->to_ns)) {
		json_object_put(o);
		return 0;
	}
	if (strcmp(type, "loss") == 0) {
		a->loss_events++;
		if (rec_jint(o, "count", &v) && v > 0)
			a->lost += (uint64_t)v;
	} else if (strcmp(type, "match") == 0) {
		add_match(a, o, t);
	}
	json_object_put(o);
	return a->err;
}

static void agg_free(struct agg *a)
{
	for (size_t i = 0; i < a->nrules; i++) {
		struct rrule *r = &a->rules[i];

		free(r->name);
		free(r->category);
		free(r->basis);
		free(r->auth_id);
		free(r->auth_name);
		free(r->order);
		free(r->flows.v);
		free(r->clients.v);
		for (unsigned k = 0; k < r->ns; k++) {
			free(r->s[k].field);
			free(r->s[k].value);
			free(r->s[k].client);
			free(r->s[k].server);
		}
	}
	free(a->rules);
	for (size_t i = 0; i < a->nrevs; i++) {
		free(a->revs[i].name);
		free(a->revs[i].revision);
		free(a->revs[i].digest);
	}
	free(a->revs);
	free(a->flows.v);
	free(a->clients.v);
}

static int cmp_rule(const void *x, const void *y)
{
	const struct rrule *a = x, *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

static int cmp_rev(const void *x, const void *y)
{
	const struct rrev *a = x, *b = y;

	return a->first < b->first ? -1 : a->first > b->first;
}

/* ---- output ---------------------------------------------------------- */

static json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : json_object_new_null();
}

static json_object *jtime(int64_t ns)
{
	char ts[REC_TIME_LEN];

	rec_time_str(ns, ts, sizeof(ts));
	return json_object_new_string(ts);
}

static json_object *by_action(const uint64_t n[SL_ACT__COUNT][2])
{
	json_object *o = json_object_new_object();

	for (int i = 1; i < SL_ACT__COUNT; i++) {
		json_object *m;

		if (n[i][0] == 0 && n[i][1] == 0)
			continue;
		m = json_object_new_object();
		json_object_object_add(m, sl_mode_name(SL_MODE_ENFORCE),
				       json_object_new_int64((int64_t)n[i][0]));
		json_object_object_add(m, sl_mode_name(SL_MODE_SHADOW),
				       json_object_new_int64((int64_t)n[i][1]));
		json_object_object_add(o, sl_action_name(i), m);
	}
	return o;
}

struct meta {
	const char *dir;
	int64_t generated;
	const struct sl_records_verify_result *vr;
	bool verified;
	char key_id[24];
};

static json_object *report_json(const struct agg *a, const struct meta *m)
{
	const struct sl_report_opts *o = a->o;
	json_object *r = json_object_new_object();
	json_object *rec = json_object_new_object();
	json_object *head = json_object_new_object();
	json_object *win = json_object_new_object();
	json_object *sub = json_object_new_object();
	json_object *tot = json_object_new_object();
	json_object *rules = json_object_new_array();
	json_object *revs = json_object_new_array();
	json_object *notes = json_object_new_array();

	json_object_object_add(r, "report", json_object_new_string("sluice evidence report"));
	json_object_object_add(r, "format", json_object_new_string("sluice-report/1"));
	json_object_object_add(r, "generated", jtime(m->generated));

	json_object_object_add(rec, "dir", json_object_new_string(m->dir));
	json_object_object_add(rec, "segments", json_object_new_int64((int64_t)m->vr->segments));
	json_object_object_add(rec, "events", json_object_new_int64((int64_t)a->events));
	json_object_object_add(rec, "first_seq", json_object_new_int64((int64_t)m->vr->first_seq));
	json_object_object_add(head, "seq", json_object_new_int64((int64_t)a->last_seq));
	json_object_object_add(head, "hash", json_object_new_string(a->head));
	json_object_object_add(rec, "chain_head", head);
	json_object_object_add(rec, "verified", json_object_new_boolean(m->verified));
	for (unsigned i = 0; i < m->vr->diag.n; i++) {
		const struct sl_diag_msg *d = &m->vr->diag.m[i];
		char *s = NULL;

		if (d->file && d->line)
			(void)!asprintf(&s, "%s%s:%u: %s", d->is_warning ? "" : "error: ",
					d->file, d->line, d->msg ? d->msg : "");
		else if (d->file)
			(void)!asprintf(&s, "%s%s: %s", d->is_warning ? "" : "error: ",
					d->file, d->msg ? d->msg : "");
		else
			(void)!asprintf(&s, "%s%s", d->is_warning ? "" : "error: ",
					d->msg ? d->msg : "");
		if (s)
			json_object_array_add(notes, json_object_new_string(s));
		free(s);
	}
	json_object_object_add(rec, "notes", notes);
	json_object_object_add(r, "records", rec);

	json_object_object_add(win, "from", o->from_ns ? jtime(o->from_ns) : json_object_new_null());
	json_object_object_add(win, "to", o->to_ns ? jtime(o->to_ns) : json_object_new_null());
	json_object_object_add(r, "window", win);
	json_object_object_add(r, "authority", jstr_or_null(o->authority));

	json_object_object_add(sub, "addresses", json_object_new_string(o->identify ?
								      "identified" : "pseudonymised"));
	if (!o->identify) {
		json_object_object_add(sub, "scheme", json_object_new_string(
			"p: + first 16 hex digits of HMAC-SHA256(key, address)"));
		json_object_object_add(sub, "key_id", json_object_new_string(m->key_id));
	}
	json_object_object_add(r, "subscribers", sub);

	json_object_object_add(tot, "matches", json_object_new_int64((int64_t)a->total));
	json_object_object_add(tot, "by_action", by_action(a->n));
	json_object_object_add(tot, "rules", json_object_new_int64((int64_t)a->nrules));
	json_object_object_add(tot, "flows", json_object_new_int64((int64_t)a->flows.n));
	json_object_object_add(tot, "subscribers", json_object_new_int64((int64_t)a->clients.n));
	json_object_object_add(tot, "first", a->total ? jtime(a->first) : json_object_new_null());
	json_object_object_add(tot, "last", a->total ? jtime(a->last) : json_object_new_null());
	json_object_object_add(tot, "lost_events", json_object_new_int64((int64_t)a->lost));
	json_object_object_add(tot, "loss_records", json_object_new_int64((int64_t)a->loss_events));
	json_object_object_add(r, "totals", tot);

	for (size_t i = 0; i < a->nrules; i++) {
		const struct rrule *x = &a->rules[i];
		json_object *ro = json_object_new_object();
		json_object *au = json_object_new_object();
		json_object *sa = json_object_new_array();

		json_object_object_add(ro, "id", json_object_new_int64(x->id));
		json_object_object_add(ro, "name", jstr_or_null(x->name));
		json_object_object_add(ro, "category", jstr_or_null(x->category));
		json_object_object_add(ro, "basis", jstr_or_null(x->basis));
		json_object_object_add(au, "id", jstr_or_null(x->auth_id));
		json_object_object_add(au, "name", jstr_or_null(x->auth_name));
		json_object_object_add(au, "order", jstr_or_null(x->order));
		json_object_object_add(ro, "authority", au);
		json_object_object_add(ro, "matches", json_object_new_int64((int64_t)x->total));
		json_object_object_add(ro, "by_action", by_action(x->n));
		json_object_object_add(ro, "first", jtime(x->first));
		json_object_object_add(ro, "last", jtime(x->last));
		json_object_object_add(ro, "flows", json_object_new_int64((int64_t)x->flows.n));
		json_object_object_add(ro, "subscribers", json_object_new_int64((int64_t)x->clients.n));
		for (unsigned k = 0; k < x->ns; k++) {
			json_object *s = json_object_new_object();

			json_object_object_add(s, "time", jtime(x->s[k].time));
			json_object_object_add(s, "field", jstr_or_null(x->s[k].field));
			json_object_object_add(s, "value", jstr_or_null(x->s[k].value));
			json_object_object_add(s, "client", jstr_or_null(x->s[k].client));
			json_object_object_add(s, "server", jstr_or_null(x->s[k].server));
			json_object_array_add(sa, s);
		}
		json_object_object_add(ro, "samples", sa);
		json_object_array_add(rules, ro);
	}
	json_object_object_add(r, "rules", rules);

	for (size_t i = 0; i < a->nrevs; i++) {
		const struct rrev *x = &a->revs[i];
		json_object *ro = json_object_new_object();

		json_object_object_add(ro, "name", jstr_or_null(x->name));
		json_object_object_add(ro, "revision", jstr_or_null(x->revision));
		json_object_object_add(ro, "digest", jstr_or_null(x->digest));
		json_object_object_add(ro, "matches", json_object_new_int64((int64_t)x->matches));
		json_object_object_add(ro, "first", jtime(x->first));
		json_object_object_add(ro, "last", jtime(x->last));
		json_object_array_add(revs, ro);
	}
	json_object_object_add(r, "policy_revisions", revs);
	return r;
}

/* One CSV cell: quoted, quotes doubled, control bytes as \xHH, and a
 * leading = + - @ neutralised with ' so spreadsheets do not run it. */
static void csv_cell(FILE *f, const char *s)
{
	fputc('"', f);
	if (s && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@'))
		fputc('\'', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"')
			fputs("\"\"", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void csv_time(FILE *f, int64_t ns)
{
	char ts[REC_TIME_LEN];

	rec_time_str(ns, ts, sizeof(ts));
	fputs(ts, f);
}

static void csv_counts(FILE *f, const uint64_t n[SL_ACT__COUNT][2])
{
	for (int i = 1; i < SL_ACT__COUNT; i++)
		for (int mo = 0; mo < 2; mo++)
			fprintf(f, ",%llu", (unsigned long long)n[i][mo]);
}

static void report_csv(FILE *f, const struct agg *a, const struct meta *m)
{
	const struct sl_report_opts *o = a->o;

	fputs("# sluice evidence report (sluice-report/1), generated ", f);
	csv_time(f, m->generated);
	fputs("\n# records ", f);
	csv_cell(f, m->dir);
	fprintf(f, ": %llu segment%s, %llu events, chain head seq %llu hash %s, %s\n",
		(unsigned long long)m->vr->segments, m->vr->segments == 1 ? "" : "s",
		(unsigned long long)a->events,
		(unsigned long long)a->last_seq, a->head,
		m->verified ? "verified" : "FAILED VERIFICATION");
	fputs("# window ", f);
	if (o->from_ns)
		csv_time(f, o->from_ns);
	else
		fputs("-", f);
	fputs(" to ", f);
	if (o->to_ns)
		csv_time(f, o->to_ns);
	else
		fputs("-", f);
	fputs(o->authority ? ", authority " : "", f);
	if (o->authority)
		csv_cell(f, o->authority);
	if (o->identify)
		fputs("\n# subscribers identified\n", f);
	else
		fprintf(f, "\n# subscribers pseudonymised: p: + first 16 hex digits of "
			"HMAC-SHA256(key, address), key id %s\n", m->key_id);
	fprintf(f, "# lost events %llu in %llu loss records\n",
		(unsigned long long)a->lost, (unsigned long long)a->loss_events);
	for (size_t i = 0; i < a->nrevs; i++) {
		fputs("# policy ", f);
		csv_cell(f, a->revs[i].name);
		fputs(" revision ", f);
		csv_cell(f, a->revs[i].revision);
		fprintf(f, " digest %s: %llu matches, ", a->revs[i].digest ? a->revs[i].digest : "-",
			(unsigned long long)a->revs[i].matches);
		csv_time(f, a->revs[i].first);
		fputs(" to ", f);
		csv_time(f, a->revs[i].last);
		fputc('\n', f);
	}
	fputs("rule_id,name,category,basis,authority,authority_name,order,matches", f);
	for (int i = 1; i < SL_ACT__COUNT; i++)
		for (int mo = 0; mo < 2; mo++)
			fprintf(f, ",%s_%s", sl_action_name(i), sl_mode_name(mo));
	fputs(",flows,subscribers,first,last,samples\n", f);
	for (size_t i = 0; i < a->nrules; i++) {
		const struct rrule *x = &a->rules[i];
		char *samples = NULL;
		size_t slen = 0;
		FILE *sf = open_memstream(&samples, &slen);

		fprintf(f, "%u,", x->id);
		csv_cell(f, x->name);
		fputc(',', f);
		csv_cell(f, x->category);
		fputc(',', f);
		csv_cell(f, x->basis);
		fputc(',', f);
		csv_cell(f, x->auth_id);
		fputc(',', f);
		csv_cell(f, x->auth_name);
		fputc(',', f);
		csv_cell(f, x->order);
		fprintf(f, ",%llu", (unsigned long long)x->total);
		csv_counts(f, x->n);
		fprintf(f, ",%zu,%zu,", x->flows.n, x->clients.n);
		csv_time(f, x->first);
		fputc(',', f);
		csv_time(f, x->last);
		fputc(',', f);
		if (sf) {
			for (unsigned k = 0; k < x->ns; k++)
				fprintf(sf, "%s%s=%s %s>%s", k ? " | " : "", x->s[k].field,
					x->s[k].value, x->s[k].client ? x->s[k].client : "?",
					x->s[k].server ? x->s[k].server : "?");
			fclose(sf);
		}
		csv_cell(f, samples);
		free(samples);
		fputc('\n', f);
	}
	fprintf(f, "total,,,,,,,%llu", (unsigned long long)a->total);
	csv_counts(f, a->n);
	fprintf(f, ",%zu,%zu,", a->flows.n, a->clients.n);
	if (a->total)
		csv_time(f, a->first);
	fputc(',', f);
	if (a->total)
		csv_time(f, a->last);
	fputs(",\n", f);
}

int sl_report_write(const struct sl_report_opts *o, FILE *out, struct sl_diag *diag)
{
	struct sl_records_verify_result vr;
	struct agg a;
	struct meta m;
	struct rec_seglist l = { 0 };
	int dfd, rc, vrc;

	if (o == NULL || o->dir == NULL)
		return -EINVAL;
	if (!o->identify && (o->key == NULL || o->key_len < SL_PSEUDONYM_KEY_MIN)) {
		sl_diag_add(diag, false, NULL, 0,
			    "subscriber addresses are pseudonymised in reports: give a key "
			    "(--key-file FILE, or --config FILE with records.pseudonym_key_file), "
			    "or --identify to show real addresses");
		return -EINVAL;
	}
	vrc = sl_records_verify(o->dir, NULL, &vr);
	if (vrc < 0 && vrc != -EBADMSG) {
		for (unsigned i = 0; i < vr.diag.n; i++)
			sl_diag_add(diag, vr.diag.m[i].is_warning, vr.diag.m[i].file,
				    vr.diag.m[i].line, "%s", vr.diag.m[i].msg ? vr.diag.m[i].msg : "");
		sl_records_verify_free(&vr);
		return vrc;
	}
	memset(&a, 0, sizeof(a));
	a.o = o;
	memcpy(a.head, REC_ZERO_HASH, 65);
	memset(&m, 0, sizeof(m));
	m.dir = o->dir;
	m.generated = o->now_ns ? o->now_ns : rec_clock_real();
	m.vr = &vr;
	m.verified = vrc == 0;
	if (!o->identify) {
		memcpy(m.key_id, "k:", 2);
		hmac_hex(o->key, o->key_len, "sluice pseudonym key id", m.key_id + 2, 16);
	}
	dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = -errno;
		goto out;
	}
	rc = rec_seg_list(dfd, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = rec_scan(dfd, l.name[i], 0, NULL, agg_line, &a);
	rec_seg_list_free(&l);
	close(dfd);
	if (rc < 0)
		goto out;
	if (a.nrules > 1)
		qsort(a.rules, a.nrules, sizeof(*a.rules), cmp_rule);
	if (a.nrevs > 1)
		qsort(a.revs, a.nrevs, sizeof(*a.revs), cmp_rev);
	if (o->format == SL_REPORT_CSV) {
		report_csv(out, &a, &m);
	} else {
		json_object *r = report_json(&a, &m);

		fputs(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE), out);
		fputc('\n', out);
		json_object_put(r);
	}
	if (fflush(out) != 0 || ferror(out))
		rc = -(errno ? errno : EIO);
	if (rc == 0 && !m.verified) {
		for (unsigned i = 0; i < vr.diag.n; i++)
			if (!vr.diag.m[i].is_warning)
				sl_diag_add(diag, false, vr.diag.m[i].file, vr.diag.m[i].line,
					    "records failed verification: %s",
					    vr.diag.m[i].msg ? vr.diag.m[i].msg : "");
		rc = -EBADMSG;
	}
out:
	if (rc < 0 && diag->errors == 0)
		sl_diag_add(diag, false, o->dir, 0, "%s", strerror(-rc));
	agg_free(&a);
	sl_records_verify_free(&vr);
	return rc;
}
