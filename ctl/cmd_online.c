/* Online verbs of sluice-ctl: talk to a running dataplane over its control
 * socket (status, stats, rules, flows, reload, shadow, diff, rule). Requests
 * are built from the shared command table; text output is formatted here
 * from the JSON result, --json prints the result itself. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "sluice/ctlproto.h"

#define REPLY_TIMEOUT_MS 600000  /* a reload of a huge list may take minutes */

static const char *sock_path(void)
{
	return ctl_g.socket ? ctl_g.socket : SL_CTL_DEFAULT_SOCKET;
}

static int connect_dp(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *p = sock_path();
	int fd;

	if (strlen(p) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sluice-ctl: socket path too long: %s\n", p);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, p);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		fprintf(stderr, "sluice-ctl: cannot reach the dataplane at %s: %s\n", p, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/* Send one request and read its response line. 0 ok (*resp owns *result),
 * 1 the dataplane answered an error (printed), <0 transport error. */
static int call(int fd, const char *req, json_object **resp, json_object **result)
{
	static char buf[SL_CTL_MAX_LINE * 16];
	size_t len = 0, off = strlen(req);
	const char *errmsg;
	json_object *diag;
	int rc;

	for (size_t done = 0; done < off;) {
		ssize_t n = send(fd, req + done, off - done, MSG_NOSIGNAL);

		if (n < 0) {
			fprintf(stderr, "sluice-ctl: send: %s\n", strerror(errno));
			return -errno;
		}
		done += (size_t)n;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t n;

		if (len && (nl = memchr(buf, '\n', len)) != NULL) {
			len = (size_t)(nl - buf);
			break;
		}
		if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "sluice-ctl: no answer from the dataplane\n");
			return -ETIMEDOUT;
		}
		if (len == sizeof(buf)) {
			fprintf(stderr, "sluice-ctl: answer too long\n");
			return -EMSGSIZE;
		}
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n <= 0) {
			fprintf(stderr, "sluice-ctl: the dataplane closed the connection\n");
			return -EPIPE;
		}
		len += (size_t)n;
	}
	rc = sl_ctl_response_decode(buf, len, resp, result, &errmsg, &diag);
	if (rc < 0) {
		fprintf(stderr, "sluice-ctl: malformed answer from the dataplane\n");
		return rc;
	}
	if (rc == 1) {
		if (diag && json_object_is_type(diag, json_type_array))
			for (size_t i = 0; i < json_object_array_length(diag); i++)
				fprintf(stderr, "%s\n", json_object_get_string(
					json_object_array_get_idx(diag, i)));
		fprintf(stderr, "sluice-ctl: %s\n", errmsg);
		json_object_put(*resp);
		*resp = NULL;
		return 1;
	}
	return 0;
}

/* ---- small accessors for formatting ------------------------------------- */

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (o && json_object_object_get_ex(o, k, &v))
		return v;
	return NULL;
}

static const char *gs(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : "-";
}

static uint64_t gu(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return v ? (uint64_t)json_object_get_int64(v) : 0;
}

static double gd(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return v ? json_object_get_double(v) : 0;
}

static void print_json(json_object *r)
{
	printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- text formatting per verb -------------------------------------------- */

static void fmt_policy_line(const char *label, json_object *p)
{
	json_object *dis = get(p, "disabled");

	printf("%-9s %s rev %s, digest %.16s, %" PRIu64 " rules, generation %" PRIu64 "\n",
	       label, gs(p, "name"), gs(p, "revision"), gs(p, "digest"), gu(p, "rules"),
	       gu(p, "generation"));
	printf("          from %s, loaded %s (compile %.3f s)", gs(p, "source"), gs(p, "loaded"),
	       gd(p, "compile_s"));
	if (dis && json_object_array_length(dis)) {
		printf(", disabled:");
		for (size_t i = 0; i < json_object_array_length(dis); i++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(dis, i)));
	}
	printf("\n");
}

static void fmt_status(json_object *r)
{
	json_object *ports = get(r, "ports"), *workers = get(r, "workers");
	json_object *rec = get(r, "records"), *sh = get(r, "shadow");
	json_object *ctl = get(r, "control");

	printf("sluice %s, pid %" PRIu64 ", %s mode, up %.0f s (since %s), overload fail-%s\n",
	       gs(r, "version"), gu(r, "pid"), gs(r, "mode"), gd(r, "uptime_s"), gs(r, "started"),
	       gs(r, "overload"));
	printf("lcores    main %" PRIu64 ", workers", gu(r, "main_lcore"));
	for (size_t i = 0; workers && i < json_object_array_length(workers); i++)
		printf(" %" PRIu64, gu(json_object_array_get_idx(workers, i), "lcore"));
	printf("\n");
	for (size_t i = 0; ports && i < json_object_array_length(ports); i++) {
		json_object *p = json_object_array_get_idx(ports, i);

		printf("port %-4" PRIu64 " %-22s %-14s link %-4s %6" PRIu64 " Mb/s  -> port %" PRIu64 "\n",
		       gu(p, "id"), gs(p, "name"), gs(p, "driver"), gs(p, "link"),
		       gu(p, "speed_mbps"), gu(p, "peer"));
	}
	fmt_policy_line("policy", get(r, "policy"));
	if (sh && !json_object_is_type(sh, json_type_null))
		fmt_policy_line("shadow", sh);
	printf("records   %s", gs(rec, "state"));
	if (strcmp(gs(rec, "state"), "off") != 0)
		printf(": %s, %" PRIu64 " written, %" PRIu64 " lost, %" PRIu64
		       " write errors, head seq %" PRIu64 " %.16s",
		       gs(rec, "dir"), gu(rec, "written"), gu(rec, "lost"), gu(rec, "write_errors"),
		       gu(rec, "seq"), gs(rec, "head"));
	printf("\n");
	if (ctl)
		printf("control   %" PRIu64 " of %" PRIu64 " client slots in use, %" PRIu64
		       " turned away, %" PRIu64 " idle clients closed for new ones\n",
		       gu(ctl, "clients"), gu(ctl, "slots"), gu(ctl, "refused"), gu(ctl, "evicted"));
}

static void fmt_stats(json_object *r)
{
	json_object *ports = get(r, "ports"), *lc = get(r, "lcores");

	printf("%-6s %14s %14s %12s %12s %10s\n", "port", "rx pkts", "tx pkts", "dropped",
	       "dev missed", "dev errors");
	for (size_t i = 0; ports && i < json_object_array_length(ports); i++) {
		json_object *p = json_object_array_get_idx(ports, i);

		printf("%-6" PRIu64 " %14" PRIu64 " %14" PRIu64 " %12" PRIu64 " %12" PRIu64 " %10" PRIu64 "\n",
		       gu(p, "id"), gu(p, "rx_pkts"), gu(p, "tx_pkts"), gu(p, "dropped"),
		       gu(p, "dev_imissed"), gu(p, "dev_ierrors") + gu(p, "dev_oerrors"));
	}
	printf("\n%-6s %12s %12s %10s %9s %9s %8s %8s %10s %8s %8s %8s\n", "lcore", "rx pkts",
	       "tx pkts", "drop pol", "drop ovl", "injected", "decode", "flows", "evicted",
	       "reasm", "ev lost", "cyc/pkt");
	for (size_t i = 0; lc && i <= json_object_array_length(lc); i++) {
		json_object *l = i < json_object_array_length(lc) ?
			json_object_array_get_idx(lc, i) : get(r, "total");
		json_object *ov = get(l, "overload");
		char name[16];

		if (i < json_object_array_length(lc))
			snprintf(name, sizeof(name), "%" PRIu64, gu(l, "lcore"));
		else
			snprintf(name, sizeof(name), "total");
		printf("%-6s %12" PRIu64 " %12" PRIu64 " %10" PRIu64 " %9" PRIu64 " %9" PRIu64
		       " %8" PRIu64 " %8" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
		       name, gu(l, "rx_pkts"), gu(l, "tx_pkts"), gu(l, "dropped_policy"),
		       gu(l, "dropped_overload"), gu(l, "injected"), gu(l, "decode_errors"),
		       gu(l, "flows_active"), gu(l, "flows_evicted"),
		       gu(ov, "reassembly_ooo") + gu(ov, "reassembly_ip"), gu(l, "events_lost"),
		       gu(l, "cycles_per_pkt"));
	}
	{
		json_object *t = get(r, "total"), *ov = get(t, "overload"), *v = get(t, "verdicts");

		printf("\nverdicts ");
		json_object_object_foreach(v, k, val)
			printf(" %s %" PRIu64, k, (uint64_t)json_object_get_int64(val));
		printf("\noverload ");
		json_object_object_foreach(ov, k2, val2)
			printf(" %s %" PRIu64, k2, (uint64_t)json_object_get_int64(val2));
		printf("\npaths     fast path %" PRIu64 " (cleared flows), bypass %" PRIu64
		       " (policy without rules), TLS application data passed by %" PRIu64
		       " bytes", gu(t, "fastpath_pkts"), gu(t, "bypass_pkts"),
		       gu(t, "encrypted_bytes"));
		printf("\nrecords   %" PRIu64 " written, %" PRIu64 " write errors\n",
		       gu(r, "records_written"), gu(r, "records_write_errors"));
	}
}

static void fmt_rules(json_object *r)
{
	printf("%-8s %-10s %-7s %10s %10s  %-20s %s\n", "rule", "action", "mode", "hits",
	       "shadow", "last hit", "name");
	for (size_t i = 0; i < json_object_array_length(r); i++) {
		json_object *e = json_object_array_get_idx(r, i);
		const char *state = !json_object_get_boolean(get(e, "enabled")) ? " (disabled)" :
				    !json_object_get_boolean(get(e, "active")) ? " (expired)" : "";

		printf("%-8" PRIu64 " %-10s %-7s %10" PRIu64 " %10" PRIu64 "  %-20s %s%s\n",
		       gu(e, "id"), gs(e, "action"), gs(e, "mode"), gu(e, "hits"),
		       gu(e, "shadow_hits"), gs(e, "last_hit"), gs(e, "name"), state);
	}
}

static void fmt_flows(json_object *r)
{
	json_object *a = get(r, "flows");

	printf("%-16s %-4s %-40s %-9s %-10s %6s %-5s %8s %8s %8s\n", "flow", "prot",
	       "client -> server", "state", "verdict", "rule", "app", "pkts c>s", "pkts s>c",
	       "idle ms");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *f = json_object_array_get_idx(a, i);
		char ends[96];

		snprintf(ends, sizeof(ends), "%s:%" PRIu64 " -> %s:%" PRIu64, gs(f, "client"),
			 gu(f, "client_port"), gs(f, "server"), gu(f, "server_port"));
		printf("%-16s %-4s %-40s %-9s %-10s %6s %-5s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
		       gs(f, "id"), gs(f, "proto"), ends, gs(f, "state"), gs(f, "verdict"),
		       gs(f, "rule"), gs(f, "app"), gu(f, "pkts_c2s"), gu(f, "pkts_s2c"),
		       gu(f, "idle_ms"));
	}
	printf("%zu shown of %" PRIu64 "\n", a ? json_object_array_length(a) : 0, gu(r, "total"));
}

static void fmt_loaded(const char *what, json_object *r)
{
	json_object *p = get(r, "policy"), *w = get(r, "warnings");

	for (size_t i = 0; w && i < json_object_array_length(w); i++)
		fprintf(stderr, "%s\n", json_object_get_string(json_object_array_get_idx(w, i)));
	printf("%s: %s rev %s digest %.16s (%" PRIu64 " rules): compile %.3f s, build %.3f s, "
	       "swap %.6f s\n", what, gs(p, "name"), gs(p, "revision"), gs(p, "digest"),
	       gu(p, "rules"), gd(r, "compile_s"), gd(r, "build_s"), gd(r, "swap_s"));
}

static void fmt_diff(json_object *r)
{
	json_object *a = get(r, "active"), *c = get(r, "candidate");
	json_object *rules = get(r, "rules"), *na = get(r, "newly_allowed_by_rule");

	printf("active    %s rev %s\ncandidate %s rev %s (since %s)\n", gs(a, "name"),
	       gs(a, "revision"), gs(c, "name"), gs(c, "revision"), gs(r, "since"));
	printf("flows compared %" PRIu64 ": newly blocked %" PRIu64 ", newly allowed %" PRIu64 "\n\n",
	       gu(r, "flows_compared"), gu(r, "newly_blocked_flows"), gu(r, "newly_allowed_flows"));
	printf("%-8s %-8s %-10s %-7s %8s %11s %13s %14s  %s\n", "rule", "change", "action", "mode",
	       "hits", "would block", "flows blocked", "newly blocked", "name");
	for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
		json_object *e = json_object_array_get_idx(rules, i);

		printf("%-8" PRIu64 " %-8s %-10s %-7s %8" PRIu64 " %11" PRIu64 " %13" PRIu64
		       " %14" PRIu64 "  %s\n", gu(e, "id"), gs(e, "change"), gs(e, "action"),
		       gs(e, "mode"), gu(e, "hits"), gu(e, "would_block"), gu(e, "flows_blocked"),
		       gu(e, "newly_blocked_flows"), gs(e, "name"));
	}
	for (size_t i = 0; na && i < json_object_array_length(na); i++) {
		json_object *e = json_object_array_get_idx(na, i);

		printf("active rule %" PRIu64 " (%s) blocked %" PRIu64 " flow(s) the candidate "
		       "would let through%s\n", gu(e, "id"), gs(e, "name"),
		       gu(e, "newly_allowed_flows"),
		       json_object_get_boolean(get(e, "in_candidate")) ? "" : " (rule not in candidate)");
	}
}

/* ---- the verbs ---------------------------------------------------------- */

static void usage_online(FILE *f, int cmd)
{
	const struct sl_ctl_desc *d = &sl_ctl_table[cmd];

	fprintf(f, "usage: sluice-ctl [--socket PATH] %s %s%s [--json]\n  %s\n"
		"  socket: %s (default %s)\n", d->name, d->usage,
		cmd == SL_CTL_STATS ? " [--watch SECONDS]" : "", d->summary, sock_path(),
		SL_CTL_DEFAULT_SOCKET);
}

int cmd_online(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "top", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'l' },
		{ "blocked", no_argument, NULL, 'b' },
		{ "watch", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int cmd = sl_ctl_find(argv[0]);
	json_object *opts = json_object_new_object();
	unsigned watch = 0;
	int c, fd, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			json_object_object_add(opts, "top", json_object_new_int(atoi(optarg)));
			break;
		case 'l':
			json_object_object_add(opts, "limit", json_object_new_int(atoi(optarg)));
			break;
		case 'b':
			json_object_object_add(opts, "blocked", json_object_new_boolean(1));
			break;
		case 'w':
			watch = (unsigned)atoi(optarg);
			break;
		case 'j':
			ctl_g.json = 1;
			break;
		case 's':
			ctl_g.socket = optarg;
			break;
		case 'h':
			usage_online(stdout, cmd);
			json_object_put(opts);
			return 0;
		default:
			usage_online(stderr, cmd);
			json_object_put(opts);
			return 2;
		}
	}
	if ((unsigned)(argc - optind) < sl_ctl_table[cmd].min_args ||
	    (unsigned)(argc - optind) > sl_ctl_table[cmd].max_args) {
		usage_online(stderr, cmd);
		json_object_put(opts);
		return 2;
	}
	/* a policy path is read by the dataplane, from its own working
	 * directory: name the file the caller means */
	if ((cmd == SL_CTL_RELOAD || cmd == SL_CTL_SHADOW) && optind < argc &&
	    argv[optind][0] != '/' && strcmp(argv[optind], "off") != 0) {
		char *abs = realpath(argv[optind], NULL);

		if (abs != NULL)
			argv[optind] = abs;   /* lives until exit */
	}
	fd = connect_dp();
	if (fd < 0) {
		json_object_put(opts);
		return 1;
	}
	for (;;) {
		char *req = sl_ctl_request_encode(cmd, (unsigned)(argc - optind),
						  (const char *const *)(argv + optind),
						  json_object_get(opts));
		json_object *resp = NULL, *result = NULL;

		rc = req ? call(fd, req, &resp, &result) : -ENOMEM;
		free(req);
		if (rc != 0)
			break;
		if (watch)
			printf("\033[H\033[2J");
		if (ctl_g.json)
			print_json(result);
		else if (cmd == SL_CTL_STATUS)
			fmt_status(result);
		else if (cmd == SL_CTL_STATS)
			fmt_stats(result);
		else if (cmd == SL_CTL_RULES)
			fmt_rules(result);
		else if (cmd == SL_CTL_FLOWS)
			fmt_flows(result);
		else if (cmd == SL_CTL_RELOAD)
			fmt_loaded("reloaded", result);
		else if (cmd == SL_CTL_SHADOW)
			if (get(result, "policy"))
				fmt_loaded("shadow candidate", result);
			else
				printf("shadow off\n");
		else if (cmd == SL_CTL_DIFF)
			fmt_diff(result);
		else if (cmd == SL_CTL_RULE)
			printf("rule %" PRIu64 " %s (generation %" PRIu64 ")\n", gu(result, "rule"),
			       json_object_get_boolean(get(result, "enabled")) ? "enabled" : "disabled",
			       gu(result, "generation"));
		fflush(stdout);
		json_object_put(resp);
		if (!watch || cmd != SL_CTL_STATS)
			break;
		sleep(watch);
	}
	close(fd);
	json_object_put(opts);
	return rc == 0 ? 0 : 1;
}
