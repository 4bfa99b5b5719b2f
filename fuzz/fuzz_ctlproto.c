/* libFuzzer target: the control-protocol decoder (sl_ctl_request_decode,
 * sl_ctl_response_decode) on arbitrary lines, exactly as the control
 * socket hands them over (not NUL-terminated). A request that decodes must
 * be within the command table's limits and survive an encode/decode round
 * trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static volatile size_t sink;

static void check_request(const struct sl_ctl_request *rq)
{
	const struct sl_ctl_desc *desc;
	struct sl_ctl_request again;
	json_object *opts;
	char err[256], *line;

	if (rq->cmd < 0 || rq->cmd >= SL_CTL__COUNT || rq->obj == NULL || rq->opts == NULL ||
	    !json_object_is_type(rq->opts, json_type_object))
		abort();
	desc = &sl_ctl_table[rq->cmd];
	if (rq->argc < desc->min_args || rq->argc > desc->max_args ||
	    rq->argc > SL_CTL_MAX_ARGS)
		abort();
	for (unsigned i = 0; i < rq->argc; i++)
		sink += strlen(rq->argv[i]);
	for (const char *const *o = desc->opts; *o; o++)
		sink += (size_t)sl_ctl_opt_int(rq, *o, 0) + sl_ctl_opt_bool(rq, *o);

	/* what the server understood, said again, means the same */
	opts = NULL;
	if (json_object_deep_copy(rq->opts, &opts, NULL) != 0)
		return;
	line = sl_ctl_request_encode(rq->cmd, rq->argc, rq->argv, opts);
	if (line == NULL)
		return;
	if (sl_ctl_request_decode(line, strlen(line) - 1, &again, err, sizeof(err)) != 0)
		abort();
	if (again.cmd != rq->cmd || again.argc != rq->argc)
		abort();
	for (unsigned i = 0; i < rq->argc; i++)
		if (strcmp(again.argv[i], rq->argv[i]) != 0)
			abort();
	sl_ctl_request_free(&again);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sl_ctl_request rq;
	json_object *obj, *result, *diag;
	const char *msg;
	char err[256];
	char *c;
	int rc;

	if (n > SL_CTL_MAX_LINE + 16)
		return 0;
	/* an exact-size copy: any read past the line is caught */
	c = malloc(n ? n : 1);
	if (c == NULL)
		return 0;
	memcpy(c, d, n);
	err[0] = '\0';
	rc = sl_ctl_request_decode(c, n, &rq, err, sizeof(err));
	if (rc == 0) {
		check_request(&rq);
		sl_ctl_request_free(&rq);
	} else if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL) {
		abort();  /* every refusal says why */
	}
	rc = sl_ctl_response_decode(c, n, &obj, &result, &msg, &diag);
	if (rc == 1 && msg != NULL)
		sink += strlen(msg);
	if (rc >= 0)
		json_object_put(obj);
	free(c);
	return 0;
}
