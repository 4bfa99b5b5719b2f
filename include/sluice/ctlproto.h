/* Control protocol between sluice-ctl and a running dataplane: one table of
 * commands shared by server and client, and the request/response codec.
 *
 * Transport: a unix stream socket. Each message is one line of JSON:
 *   request   {"v":1,"cmd":"reload","args":["policy.cfg"],"opts":{"top":10}}
 *   response  {"v":1,"ok":true,"result":{...}}
 *             {"v":1,"ok":false,"error":"message","diag":["FILE:LINE: ..."]}
 * A connection may carry any number of requests; responses come in order.
 * No DPDK: fuzzed and unit-tested on plain buffers.
 */
#ifndef SLUICE_CTLPROTO_H
#define SLUICE_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define SL_CTL_VERSION 1
#define SL_CTL_DEFAULT_SOCKET "/run/sluice/sluice.sock"  /* live mode default */
#define SL_CTL_MAX_LINE (64 * 1024)   /* longest request or response line accepted */
#define SL_CTL_MAX_ARGS 4

enum sl_ctl_cmd {
	SL_CTL_STATUS = 0,
	SL_CTL_STATS,
	SL_CTL_RULES,
	SL_CTL_FLOWS,
	SL_CTL_RELOAD,
	SL_CTL_SHADOW,
	SL_CTL_DIFF,
	SL_CTL_RULE,
	SL_CTL__COUNT
};

/* One entry of the command table. */
struct sl_ctl_desc {
	const char *name;
	const char *usage;       /* arguments as shown in help */
	const char *summary;
	unsigned min_args, max_args;
	const char *const *opts; /* accepted option names (NULL-terminated), all integers or booleans */
};

extern const struct sl_ctl_desc sl_ctl_table[SL_CTL__COUNT];

/* Command index by name, or -ENOENT. */
int sl_ctl_find(const char *name);

/* A decoded request. Strings point into `obj`, which the caller frees with
 * sl_ctl_request_free. */
struct sl_ctl_request {
	int cmd;                      /* enum sl_ctl_cmd */
	unsigned argc;
	const char *argv[SL_CTL_MAX_ARGS];
	json_object *opts;            /* object (possibly empty), never NULL on success */
	json_object *obj;             /* whole request */
};

/* Decode one request line (without the newline). On error returns -EINVAL
 * (or -EPROTO for another protocol version) and a message in err. */
int sl_ctl_request_decode(const char *line, size_t len, struct sl_ctl_request *rq,
			  char *err, size_t errlen);
void sl_ctl_request_free(struct sl_ctl_request *rq);

/* Integer option (0 when absent or not an integer). */
long long sl_ctl_opt_int(const struct sl_ctl_request *rq, const char *name, long long def);
bool sl_ctl_opt_bool(const struct sl_ctl_request *rq, const char *name);

/* Build a request line (malloc'd, newline-terminated). opts may be NULL;
 * ownership of opts passes to the function. */
char *sl_ctl_request_encode(int cmd, unsigned argc, const char *const *argv,
			    json_object *opts);

/* Build response lines (malloc'd, newline-terminated). Ownership of result
 * / diag passes to the function. */
char *sl_ctl_response_ok(json_object *result);
char *sl_ctl_response_error(const char *msg, json_object *diag);

/* Decode a response line: 0 with *result (owned by *obj) on ok; 1 when the
 * server answered an error (*errmsg, *diag point into *obj); -EINVAL when
 * the line is not a valid response. */
int sl_ctl_response_decode(const char *line, size_t len, json_object **obj,
			   json_object **result, const char **errmsg, json_object **diag);

#endif
