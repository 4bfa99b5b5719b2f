/* Control protocol codec and command table (see include/sluice/ctlproto.h).
 * Shared by the dataplane's control socket and sluice-ctl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/ctlproto.h"

static const char *const no_opts[] = { NULL };
static const char *const stats_opts[] = { NULL };
static const char *const rules_opts[] = { "top", NULL };
static const char *const flows_opts[] = { "limit", "blocked", NULL };
static const char *const diff_opts[] = { "top", NULL };

const struct sl_ctl_desc sl_ctl_table[SL_CTL__COUNT] = {
	[SL_CTL_STATUS] = { "status", "", "uptime, ports, lcores, policy, records", 0, 0, no_opts },
	[SL_CTL_STATS] = { "stats", "", "per port and per lcore counters", 0, 0, stats_opts },
	[SL_CTL_RULES] = { "rules", "[--top N]", "per rule hits, actions, shadow hits, last hit", 0, 0, rules_opts },
	[SL_CTL_FLOWS] = { "flows", "[--limit N] [--blocked]", "flows with state and verdict", 0, 0, flows_opts },
	[SL_CTL_RELOAD] = { "reload", "[POLICY|ARTEFACT]", "compile or load, swap atomically, free the old after RCU", 0, 1, no_opts },
	[SL_CTL_SHADOW] = { "shadow", "POLICY|off", "run a candidate policy beside the active one", 1, 1, no_opts },
	[SL_CTL_DIFF] = { "diff", "[--top N]", "what the candidate would have done differently", 0, 0, diff_opts },
	[SL_CTL_RULE] = { "rule", "enable|disable ID", "switch a rule on or off now (recorded)", 2, 2, no_opts },
};

int sl_ctl_find(const char *name)
{
	for (int i = 0; i < SL_CTL__COUNT; i++)
		if (strcmp(sl_ctl_table[i].name, name) == 0)
			return i;
	return -ENOENT;
}

static bool opt_known(const struct sl_ctl_desc *d, const char *name)
{
	for (const char *const *o = d->opts; *o; o++)
		if (strcmp(*o, name) == 0)
			return true;
	return false;
}

int sl_ctl_request_decode(const char *line, size_t len, struct sl_ctl_request *rq,
			  char *err, size_t errlen)
{
	struct json_tokener *tok;
	json_object *o, *v, *a;
	const struct sl_ctl_desc *d;
	int rc = -EINVAL;

	memset(rq, 0, sizeof(*rq));
	if (len > SL_CTL_MAX_LINE) {
		snprintf(err, errlen, "request longer than %d bytes", SL_CTL_MAX_LINE);
		return -EINVAL;
	}
	tok = json_tokener_new_ex(16);
	if (tok == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len) {
		snprintf(err, errlen, "request is not one JSON object");
		json_object_put(o);
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "request is not a JSON object");
		goto fail;
	}
	if (!json_object_object_get_ex(o, "v", &v) || !json_object_is_type(v, json_type_int)) {
		snprintf(err, errlen, "request has no protocol version \"v\"");
		goto fail;
	}
	if (json_object_get_int64(v) != SL_CTL_VERSION) {
		snprintf(err, errlen, "protocol version %lld not supported (this side speaks %d)",
			 (long long)json_object_get_int64(v), SL_CTL_VERSION);
		rc = -EPROTO;
		goto fail;
	}
	if (!json_object_object_get_ex(o, "cmd", &v) || !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "request has no command \"cmd\"");
		goto fail;
	}
	rq->cmd = sl_ctl_find(json_object_get_string(v));
	if (rq->cmd < 0) {
		snprintf(err, errlen, "unknown command \"%.64s\"", json_object_get_string(v));
		goto fail;
	}
	d = &sl_ctl_table[rq->cmd];
	if (json_object_object_get_ex(o, "args", &a)) {
		size_t n;

		if (!json_object_is_type(a, json_type_array)) {
			snprintf(err, errlen, "\"args\" must be an array of strings");
			goto fail;
		}
		n = json_object_array_length(a);
		if (n > SL_CTL_MAX_ARGS)
			n = SL_CTL_MAX_ARGS + 1;
		for (size_t i = 0; i < n && i < SL_CTL_MAX_ARGS; i++) {
			json_object *e = json_object_array_get_idx(a, i);

			if (!json_object_is_type(e, json_type_string)) {
				snprintf(err, errlen, "\"args\" must be an array of strings");
				goto fail;
			}
			rq->argv[i] = json_object_get_string(e);
		}
		rq->argc = (unsigned)n;
	}
	if (rq->argc < d->min_args || rq->argc > d->max_args) {
		snprintf(err, errlen, "%s takes %u to %u arguments: %s %s", d->name, d->min_args,
			 d->max_args, d->name, d->usage);
		goto fail;
	}
	if (json_object_object_get_ex(o, "opts", &a)) {
		if (!json_object_is_type(a, json_type_object)) {
			snprintf(err, errlen, "\"opts\" must be an object");
			goto fail;
		}
		json_object_object_foreach(a, key, val) {
			if (!opt_known(d, key)) {
				snprintf(err, errlen, "%s: unknown option \"%.64s\"", d->name, key);
				goto fail;
			}
			if (!json_object_is_type(val, json_type_int) &&
			    !json_object_is_type(val, json_type_boolean)) {
				snprintf(err, errlen, "%s: option \"%.64s\" must be a number or boolean",
					 d->name, key);
				goto fail;
			}
		}
		rq->opts = a;
	} else {
		rq->opts = json_object_new_object();
		json_object_object_add(o, "opts", rq->opts);
	}
	rq->obj = o;
	return 0;
fail:
	json_object_put(o);
	memset(rq, 0, sizeof(*rq));
	return rc;
}

void sl_ctl_request_free(struct sl_ctl_request *rq)
{
	json_object_put(rq->obj);
	memset(rq, 0, sizeof(*rq));
}

long long sl_ctl_opt_int(const struct sl_ctl_request *rq, const char *name, long long def)
{
	json_object *v;

	if (rq->opts && json_object_object_get_ex(rq->opts, name, &v) &&
	    json_object_is_type(v, json_type_int))
		return (long long)json_object_get_int64(v);
	return def;
}

bool sl_ctl_opt_bool(const struct sl_ctl_request *rq, const char *name)
{
	json_object *v;

	return rq->opts && json_object_object_get_ex(rq->opts, name, &v) &&
	       json_object_get_boolean(v);
}

static char *line_of(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	char *r = NULL;

	if (s == NULL || asprintf(&r, "%s\n", s) < 0)
		r = NULL;
	json_object_put(o);
	return r;
}

char *sl_ctl_request_encode(int cmd, unsigned argc, const char *const *argv,
			    json_object *opts)
{
	json_object *o = json_object_new_object();
	json_object *a = json_object_new_array();

	if (cmd < 0 || cmd >= SL_CTL__COUNT || o == NULL || a == NULL) {
		json_object_put(o);
		json_object_put(a);
		json_object_put(opts);
		return NULL;
	}
	json_object_object_add(o, "v", json_object_new_int(SL_CTL_VERSION));
	json_object_object_add(o, "cmd", json_object_new_string(sl_ctl_table[cmd].name));
	for (unsigned i = 0; i < argc; i++)
		json_object_array_add(a, json_object_new_string(argv[i]));
	json_object_object_add(o, "args", a);
	json_object_object_add(o, "opts", opts ? opts : json_object_new_object());
	return line_of(o);
}

char *sl_ctl_response_ok(json_object *result)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "v", json_object_new_int(SL_CTL_VERSION));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", result ? result : json_object_new_object());
	return line_of(o);
}

char *sl_ctl_response_error(const char *msg, json_object *diag)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "v", json_object_new_int(SL_CTL_VERSION));
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	if (diag)
		json_object_object_add(o, "diag", diag);
	return line_of(o);
}

int sl_ctl_response_decode(const char *line, size_t len, json_object **obj,
			   json_object **result, const char **errmsg, json_object **diag)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	json_object *o, *v;

	*obj = NULL;
	*result = NULL;
	*errmsg = NULL;
	*diag = NULL;
	if (tok == NULL)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "v", &v) || json_object_get_int(v) != SL_CTL_VERSION ||
	    !json_object_object_get_ex(o, "ok", &v)) {
		json_tokener_free(tok);
		json_object_put(o);
		return -EINVAL;
	}
	json_tokener_free(tok);
	*obj = o;
	if (json_object_get_boolean(v)) {
		if (!json_object_object_get_ex(o, "result", result))
			*result = NULL;
		return 0;
	}
	if (json_object_object_get_ex(o, "error", &v))
		*errmsg = json_object_get_string(v);
	else
		*errmsg = "error";
	if (!json_object_object_get_ex(o, "diag", diag))
		*diag = NULL;
	return 1;
}
