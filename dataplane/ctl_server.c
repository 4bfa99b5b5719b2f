/* Control socket, served by the main lcore only: a unix stream socket
 * (mode 0660, optional group) speaking the line-based JSON protocol of
 * include/sluice/ctlproto.h. Policy compiles for reload and shadow run on a
 * separate control thread so the main lcore keeps writing records; the
 * swap itself happens here (pointer publish + RCU). Workers are reached
 * only through snapshot publication and their command rings. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "sluice.h"
#include "sluice/ctlproto.h"
#include "sluice/records.h"

#define MAX_CLIENTS 16
/* With every slot taken, a new client takes the slot of the one that made
 * no progress (nothing read from it, nothing written to it) for longest,
 * if that is at least this long, so idle or stalled clients cannot lock
 * operators out. A client waiting for its reload or shadow compile is
 * never taken. */
#define EVICT_IDLE_S 2.0

struct client {
	int fd;
	pid_t pid;
	uid_t uid;
	double progress_s;          /* accepted, or last byte read or written (mono_s) */
	size_t inlen;
	char *in;                   /* SL_CTL_MAX_LINE + 1 bytes */
	char *out;                  /* pending response bytes */
	size_t outlen, outoff;
	bool waiting;               /* a compile job answers for this client */
	bool closing;               /* close once out is written */
};

/* A policy compile running on the control thread. Written by the thread
 * until `done` is set (release); read by main afterwards (acquire). */
struct job {
	bool candidate;             /* shadow, not reload */
	char *path;
	struct client *client;
	pthread_t thread;
	struct sl_policy *policy;
	struct sl_diag diag;
	int rc;
	double compile_s;
	int done;
};

static int listen_fd = -1;
static char *sock_path;
static struct client clients[MAX_CLIENTS];
static struct job *job;
/* main lcore only: clients turned away (no slot) and clients whose slot
 * was given to a new one (see EVICT_IDLE_S) */
static uint64_t clients_refused, clients_evicted;

/* ---- helpers ------------------------------------------------------------ */

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *ju64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static void time_str(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_object *jtime(uint64_t ns)
{
	char b[32];

	if (ns == 0)
		return NULL;
	time_str(ns, b, sizeof(b));
	return json_object_new_string(b);
}

static json_object *jaddr(uint8_t family, const uint8_t *b)
{
	struct sl_addr a = { .family = family };
	char s[64];

	memcpy(a.b, b, 16);
	return json_object_new_string(sl_addr_str(&a, s, sizeof(s)));
}

static json_object *diag_json(const struct sl_diag *d)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < d->n; i++) {
		char *s = NULL;
		const struct sl_diag_msg *m = &d->m[i];

		int rc;

		if (m->file && m->line)
			rc = asprintf(&s, "%s:%u: %s%s", m->file, m->line,
				      m->is_warning ? "warning: " : "", m->msg ? m->msg : "");
		else
			rc = asprintf(&s, "%s%s%s%s", m->file ? m->file : "", m->file ? ": " : "",
				      m->is_warning ? "warning: " : "", m->msg ? m->msg : "");
		if (rc >= 0) {
			json_object_array_add(a, json_object_new_string(s));
			free(s);
		}
	}
	return a;
}

static void send_line(struct client *cl, char *line)
{
	size_t n;
	char *p;

	if (line == NULL) {
		cl->closing = true;
		return;
	}
	n = strlen(line);
	p = realloc(cl->out, cl->outlen + n);
	if (p == NULL) {
		free(line);
		cl->closing = true;
		return;
	}
	memcpy(p + cl->outlen, line, n);
	cl->out = p;
	cl->outlen += n;
	free(line);
}

static void reply_ok(struct client *cl, json_object *r)
{
	send_line(cl, sl_ctl_response_ok(r));
}

static void reply_err(struct client *cl, json_object *diag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_err(struct client *cl, json_object *diag, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	send_line(cl, sl_ctl_response_error(msg, diag));
}

static void client_close(struct client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	free(cl->in);
	free(cl->out);
	if (job && job->client == cl)
		job->client = NULL;  /* the job finishes; nobody to answer */
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

/* ---- status, stats, rules, flows ------------------------------------------ */

static json_object *policy_json(const struct sl_snapshot *s)
{
	json_object *o = json_object_new_object();
	json_object *dis = json_object_new_array();

	json_object_object_add(o, "name", jstr(s->meta->name));
	json_object_object_add(o, "revision", jstr(s->meta->revision));
	json_object_object_add(o, "digest", jstr(s->meta->digest_hex));
	json_object_object_add(o, "source", jstr(s->source));
	json_object_object_add(o, "loaded", jtime(s->load_ns));
	json_object_object_add(o, "compile_s", json_object_new_double(s->compile_s));
	json_object_object_add(o, "rules", json_object_new_int((int)s->nrules));
	json_object_object_add(o, "generation", json_object_new_int64(s->gen));
	for (uint32_t r = 0; r < s->nrules; r++)
		if (s->disabled[r / 64] >> (r % 64) & 1)
			json_object_array_add(dis, json_object_new_int64(
				sl_policy_rule(s->policy, r)->id));
	json_object_object_add(o, "disabled", dis);
	return o;
}

static json_object *cmd_status(void)
{
	json_object *o = json_object_new_object();
	json_object *ports = json_object_new_array();
	json_object *workers = json_object_new_array();
	json_object *rec = json_object_new_object();
	const struct sl_config *c = &sl_dp.cfg;

	json_object_object_add(o, "version", jstr("0.1.0"));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "started", jtime(sl_dp.start_ns));
	json_object_object_add(o, "uptime_s",
			       json_object_new_double((double)(sl_now_ns() - sl_dp.start_ns) / 1e9));
	json_object_object_add(o, "mode", jstr(sl_dp.offline ? "offline" : "live"));
	json_object_object_add(o, "overload", jstr(c->overload == SL_FAIL_CLOSED ? "closed" : "open"));
	json_object_object_add(o, "main_lcore", json_object_new_int((int)rte_get_main_lcore()));
	for (unsigned i = 0; i < sl_dp.nworkers; i++) {
		json_object *w = json_object_new_object();

		json_object_object_add(w, "lcore", json_object_new_int((int)sl_dp.w[i]->lcore_id));
		json_object_object_add(w, "socket", json_object_new_int(sl_dp.w[i]->socket));
		json_object_object_add(w, "queue", json_object_new_int(i));
		json_object_array_add(workers, w);
	}
	json_object_object_add(o, "workers", workers);
	for (unsigned i = 0; i < c->nports; i++) {
		json_object *p = json_object_new_object();
		struct rte_eth_link link;
		struct rte_eth_dev_info info;
		char name[RTE_ETH_NAME_MAX_LEN] = "";

		rte_eth_dev_get_name_by_port(c->port[i], name);
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(c->port[i], &link);
		json_object_object_add(p, "id", json_object_new_int(c->port[i]));
		json_object_object_add(p, "name", jstr(name));
		if (rte_eth_dev_info_get(c->port[i], &info) == 0)
			json_object_object_add(p, "driver", jstr(info.driver_name));
		json_object_object_add(p, "peer", json_object_new_int(c->peer[i]));
		json_object_object_add(p, "link", jstr(link.link_status ? "up" : "down"));
		json_object_object_add(p, "speed_mbps", json_object_new_int64(
			link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed));
		json_object_array_add(ports, p);
	}
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "policy", policy_json(sl_dp.snap));
	if (sl_dp.cand) {
		json_object *sh = policy_json(sl_dp.cand);

		json_object_object_add(sh, "since", jtime(sl_dp.cand_since_ns));
		json_object_object_add(o, "shadow", sh);
	} else {
		json_object_object_add(o, "shadow", NULL);
	}
	if (sl_dp.records) {
		struct sl_records_stats rs;

		sl_records_get_stats(sl_dp.records, &rs);
		json_object_object_add(rec, "dir", jstr(c->records_dir));
		json_object_object_add(rec, "segment", jstr(sl_records_segment(sl_dp.records)));
		json_object_object_add(rec, "written", ju64(rs.written));
		json_object_object_add(rec, "lost", ju64(rs.lost));
		json_object_object_add(rec, "write_errors", ju64(rs.write_errors));
		json_object_object_add(rec, "seq", ju64(rs.seq));
		/* the last event fsynced: what survives a power cut */
		json_object_object_add(rec, "synced_seq", ju64(rs.synced_seq));
		json_object_object_add(rec, "head", jstr(rs.head));
		/* failing: no segment open, the writer retries every second
		 * (write_errors and lost keep the history) */
		json_object_object_add(rec, "state",
			jstr(sl_records_segment(sl_dp.records)[0] ? "ok" : "failing"));
	} else {
		json_object_object_add(rec, "state", jstr("off"));
	}
	json_object_object_add(o, "records", rec);
	{
		json_object *ctl = json_object_new_object();
		int n = 0;

		for (int i = 0; i < MAX_CLIENTS; i++)
			n += clients[i].fd >= 0;
		json_object_object_add(ctl, "clients", json_object_new_int(n));
		json_object_object_add(ctl, "slots", json_object_new_int(MAX_CLIENTS));
		json_object_object_add(ctl, "refused", ju64(clients_refused));
		json_object_object_add(ctl, "evicted", ju64(clients_evicted));
		json_object_object_add(o, "control", ctl);
	}
	return o;
}

static json_object *lcore_stats_json(const struct sl_lcore_stats *t, uint32_t flows_max)
{
	json_object *o = json_object_new_object();
	json_object *dec = json_object_new_object();
	json_object *ov = json_object_new_object();
	json_object *act = json_object_new_object();
	json_object *sh = json_object_new_object();
	uint64_t decode = 0;

	for (int i = 1; i < SL_DEC__COUNT; i++) {
		decode += t->decode_err[i];
		if (t->decode_err[i])
			json_object_object_add(dec, sl_decode_result_name(i), ju64(t->decode_err[i]));
	}
	json_object_object_add(o, "rx_pkts", ju64(t->rx_pkts));
	json_object_object_add(o, "rx_bytes", ju64(t->rx_bytes));
	json_object_object_add(o, "tx_pkts", ju64(t->tx_pkts));
	json_object_object_add(o, "tx_bytes", ju64(t->tx_bytes));
	json_object_object_add(o, "dropped_policy", ju64(t->drop_policy));
	json_object_object_add(o, "dropped_overload", ju64(t->drop_overload));
	json_object_object_add(o, "dropped_malformed", ju64(t->drop_malformed));
	json_object_object_add(o, "tx_fail", ju64(t->tx_fail));
	json_object_object_add(o, "injected", ju64(t->injected));
	json_object_object_add(o, "inject_fail", ju64(t->inject_fail));
	json_object_object_add(o, "non_ip", ju64(t->non_ip));
	json_object_object_add(o, "decode_errors", ju64(decode));
	json_object_object_add(o, "decode_errors_by_kind", dec);
	json_object_object_add(o, "flows_active", ju64(t->flows_active));
	json_object_object_add(o, "flows_max", ju64(flows_max));
	json_object_object_add(o, "flows_created", ju64(t->flows_created));
	json_object_object_add(o, "flows_expired", ju64(t->flows_expired));
	json_object_object_add(o, "flows_evicted", ju64(t->flows_evicted));
	json_object_object_add(o, "flows_resumed", ju64(t->resumed));
	json_object_object_add(o, "fragments", ju64(t->frags));
	json_object_object_add(o, "reassembled", ju64(t->frag_reassembled));
	/* of those, datagrams rte_ip_frag gave up (more than 8 fragments, a
	 * fragment twice), reassembled apart; slots timed out; none free */
	json_object_object_add(o, "reassembled_apart", ju64(t->frag_big_reassembled));
	json_object_object_add(o, "reassembly_apart_expired", ju64(t->frag_big_expired));
	json_object_object_add(o, "reassembly_apart_full", ju64(t->frag_big_full));
	json_object_object_add(o, "reassembly_refused", ju64(t->frag_big_refused));
	json_object_object_add(o, "tcp_overlap_conflicts", ju64(t->tcp_overlap_conflicts));
	json_object_object_add(o, "fastpath_pkts", ju64(t->fastpath));
	json_object_object_add(o, "bypass_pkts", ju64(t->bypass));
	json_object_object_add(o, "depth_reached", ju64(t->depth_reached));
	json_object_object_add(o, "encrypted_bytes", ju64(t->encrypted_bytes));
	json_object_object_add(o, "hits", ju64(t->hits));
	json_object_object_add(o, "events", ju64(t->events));
	json_object_object_add(o, "events_lost", ju64(t->overload_events));
	json_object_object_add(ov, "flow_table", ju64(t->overload_flow_table));
	json_object_object_add(ov, "reassembly_ooo", ju64(t->overload_ooo));
	json_object_object_add(ov, "reassembly_ip", ju64(t->overload_frag));
	json_object_object_add(ov, "field_buffers", ju64(t->overload_app));
	json_object_object_add(ov, "stream_states", ju64(t->overload_stream));
	json_object_object_add(ov, "events", ju64(t->overload_events));
	json_object_object_add(ov, "rx_backlog", ju64(t->overload_rx));
	{
		/* bursts found behind, by what told: the device, or which
		 * rule of the estimate (docs/hardening.md) */
		static const char *const why[SL_BEHIND__COUNT] = {
			[SL_BEHIND_DEPTH] = "depth", [SL_BEHIND_SURGE] = "surge",
			[SL_BEHIND_NOT_DRAINING] = "not_draining", [SL_BEHIND_LONG] = "long_run",
			[SL_BEHIND_DEVICE] = "device",
		};
		json_object *rb = json_object_new_object();

		for (int k = 1; k < SL_BEHIND__COUNT; k++)
			json_object_object_add(rb, why[k], ju64(t->rx_behind[k]));
		json_object_object_add(o, "rx_behind_bursts", rb);
	}
	json_object_object_add(o, "overload", ov);
	for (int a = SL_ACT_LOG; a < SL_ACT__COUNT; a++) {
		json_object_object_add(act, sl_action_name(a), ju64(t->act[a]));
		json_object_object_add(sh, sl_action_name(a), ju64(t->shadow[a]));
	}
	json_object_object_add(o, "verdicts", act);
	json_object_object_add(o, "shadow_verdicts", sh);
	json_object_object_add(o, "cycles_per_pkt", ju64(t->rx_pkts ? t->busy_tsc / t->rx_pkts : 0));
	return o;
}

static json_object *cmd_stats(void)
{
	json_object *o = json_object_new_object();
	json_object *ports = json_object_new_array();
	json_object *lcores = json_object_new_array();
	struct sl_lcore_stats total;

	for (unsigned i = 0; i < sl_dp.cfg.nports; i++) {
		uint16_t port = sl_dp.cfg.port[i];
		json_object *p = json_object_new_object();
		struct rte_eth_stats es;
		uint64_t rx = 0, tx = 0, drop = 0;

		for (unsigned k = 0; k < sl_dp.nworkers; k++) {
			rx += sl_dp.w[k]->port_rx[port];
			tx += sl_dp.w[k]->port_tx[port];
			drop += sl_dp.w[k]->port_drop[port];
		}
		memset(&es, 0, sizeof(es));
		rte_eth_stats_get(port, &es);
		json_object_object_add(p, "id", json_object_new_int(port));
		json_object_object_add(p, "rx_pkts", ju64(rx));
		json_object_object_add(p, "tx_pkts", ju64(tx));
		json_object_object_add(p, "dropped", ju64(drop));
		json_object_object_add(p, "dev_ipackets", ju64(es.ipackets));
		json_object_object_add(p, "dev_opackets", ju64(es.opackets));
		json_object_object_add(p, "dev_ibytes", ju64(es.ibytes));
		json_object_object_add(p, "dev_obytes", ju64(es.obytes));
		json_object_object_add(p, "dev_imissed", ju64(es.imissed));
		json_object_object_add(p, "dev_ierrors", ju64(es.ierrors));
		json_object_object_add(p, "dev_oerrors", ju64(es.oerrors));
		json_object_object_add(p, "dev_rx_nombuf", ju64(es.rx_nombuf));
		json_object_array_add(ports, p);
	}
	for (unsigned i = 0; i < sl_dp.nworkers; i++) {
		json_object *l = lcore_stats_json(&sl_dp.w[i]->st, sl_dp.w[i]->nflows);

		json_object_object_add(l, "lcore", json_object_new_int((int)sl_dp.w[i]->lcore_id));
		json_object_array_add(lcores, l);
	}
	sl_stats_sum(&total);
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "lcores", lcores);
	json_object_object_add(o, "total", lcore_stats_json(&total, 0));
	if (sl_dp.records) {
		struct sl_records_stats rs;

		sl_records_get_stats(sl_dp.records, &rs);
		json_object_object_add(o, "records_written", ju64(rs.written));
		json_object_object_add(o, "records_write_errors", ju64(rs.write_errors));
	}
	return o;
}

struct rule_row {
	uint32_t id;
	const struct sl_rule *r;
	uint64_t hits, act[SL_ACT__COUNT], last_ns;
};

static int row_cmp(const void *a, const void *b)
{
	const struct rule_row *x = a, *y = b;

	if (x->hits != y->hits)
		return x->hits < y->hits ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Counters of the live snapshot plus those folded from retired ones. */
static json_object *cmd_rules(const struct sl_ctl_request *rq)
{
	const struct sl_snapshot *s = sl_dp.snap;
	long long top = sl_ctl_opt_int(rq, "top", 0);
	struct rule_row *rows = calloc(s->nrules + 1, sizeof(*rows));
	json_object *a = json_object_new_array();

	if (rows == NULL)
		return a;
	for (uint32_t r = 0; r < s->nrules; r++) {
		struct rule_row *w = &rows[r];
		const struct sl_rule_acc *acc;

		w->r = sl_policy_rule(s->policy, r);
		w->id = w->r->id;
		for (unsigned i = 0; i < sl_dp.nworkers; i++) {
			const struct sl_rule_ctr *c = &s->ctr[i][r];

			w->hits += c->hits;
			for (int k = 0; k < SL_ACT__COUNT; k++)
				w->act[k] += c->act[k];
			if (c->last_ns > w->last_ns)
				w->last_ns = c->last_ns;
		}
		acc = sl_rule_acc_get(w->id, false);
		if (acc) {
			w->hits += acc->hits;
			for (int k = 0; k < SL_ACT__COUNT; k++)
				w->act[k] += acc->act[k];
			if (acc->last_ns > w->last_ns)
				w->last_ns = acc->last_ns;
		}
	}
	qsort(rows, s->nrules, sizeof(*rows), row_cmp);
	for (uint32_t i = 0; i < s->nrules && (top <= 0 || i < (uint64_t)top); i++) {
		struct rule_row *w = &rows[i];
		json_object *o = json_object_new_object();
		json_object *act = json_object_new_object();
		bool shadow = w->r->mode == SL_MODE_SHADOW;

		json_object_object_add(o, "id", json_object_new_int64(w->id));
		json_object_object_add(o, "name", jstr(w->r->name));
		json_object_object_add(o, "category", jstr(w->r->category));
		json_object_object_add(o, "action", jstr(sl_action_name(w->r->action)));
		json_object_object_add(o, "mode", jstr(sl_mode_name(w->r->mode)));
		json_object_object_add(o, "enabled", json_object_new_boolean(
			!(s->disabled[w->r->idx / 64] >> (w->r->idx % 64) & 1)));
		json_object_object_add(o, "active", json_object_new_boolean(
			sl_rule_active(w->r, (int64_t)(sl_now_ns() / 1000000000ull))));
		json_object_object_add(o, "hits", ju64(shadow ? 0 : w->hits));
		json_object_object_add(o, "shadow_hits", ju64(shadow ? w->hits : 0));
		for (int k = SL_ACT_LOG; k < SL_ACT__COUNT; k++)
			if (w->act[k])
				json_object_object_add(act, sl_action_name(k), ju64(w->act[k]));
		json_object_object_add(o, "actions", act);
		json_object_object_add(o, "last_hit", jtime(w->last_ns));
		json_object_array_add(a, o);
	}
	free(rows);
	return a;
}

static const char *state_name(uint8_t st)
{
	return st == SL_FLOW_BLOCKED ? "blocked" : st == SL_FLOW_PASS ? "cleared" : "inspect";
}

static const char *app_name(uint8_t a)
{
	static const char *const n[] = { "-", "http", "tls", "dns", "other" };

	return a < SL_ARRAY_SIZE(n) ? n[a] : "?";
}

static int cmd_flows(struct client *cl, const struct sl_ctl_request *rq)
{
	long long limit = sl_ctl_opt_int(rq, "limit", 20);
	bool blocked = sl_ctl_opt_bool(rq, "blocked");
	json_object *o = json_object_new_object();
	json_object *a = json_object_new_array();
	uint64_t total = 0;

	if (limit < 0 || limit > 100000)
		limit = 100000;
	for (unsigned i = 0; i < sl_dp.nworkers; i++) {
		struct sl_wcmd *c = calloc(1, sizeof(*c));
		int rc;

		if (c == NULL || (c->out = calloc((size_t)limit + 1, sizeof(*c->out))) == NULL) {
			free(c);
			json_object_put(o);
			json_object_put(a);
			reply_err(cl, NULL, "out of memory");
			return -ENOMEM;
		}
		c->op = SL_WOP_FLOWS;
		c->limit = (uint32_t)limit;
		c->blocked_only = blocked;
		rc = sl_worker_call(sl_dp.w[i], c, 2000);
		if (rc < 0) {
			/* a timed-out request stays owned by the worker: leak it */
			json_object_put(o);
			json_object_put(a);
			reply_err(cl, NULL, "worker %u did not answer: %s", i, strerror(-rc));
			return rc;
		}
		total += c->total;
		for (uint32_t k = 0; k < c->n && json_object_array_length(a) < (size_t)limit; k++) {
			const struct sl_flow_info *fi = &c->out[k];
			json_object *f = json_object_new_object();
			char id[20];

			snprintf(id, sizeof(id), "%016" PRIx64, fi->id);
			json_object_object_add(f, "id", jstr(id));
			json_object_object_add(f, "proto", jstr(fi->proto == SL_PROTO_TCP ? "tcp" : "udp"));
			json_object_object_add(f, "client", jaddr(fi->family, fi->client));
			json_object_object_add(f, "client_port", json_object_new_int(fi->client_port));
			json_object_object_add(f, "server", jaddr(fi->family, fi->server));
			json_object_object_add(f, "server_port", json_object_new_int(fi->server_port));
			json_object_object_add(f, "state", jstr(state_name(fi->state)));
			json_object_object_add(f, "verdict", jstr(fi->state == SL_FLOW_INSPECT ? "-" :
							sl_action_name(fi->action)));
			json_object_object_add(f, "rule", fi->rule_id ? json_object_new_int64(fi->rule_id) : NULL);
			json_object_object_add(f, "app", jstr(app_name(fi->app)));
			json_object_object_add(f, "pkts_c2s", ju64(fi->pkts[0]));
			json_object_object_add(f, "pkts_s2c", ju64(fi->pkts[1]));
			json_object_object_add(f, "bytes_c2s", ju64(fi->bytes[0]));
			json_object_object_add(f, "bytes_s2c", ju64(fi->bytes[1]));
			json_object_object_add(f, "started", jtime(fi->first_ns));
			json_object_object_add(f, "idle_ms", ju64(fi->idle_ms));
			json_object_object_add(f, "lcore", json_object_new_int((int)sl_dp.w[i]->lcore_id));
			if (sl_dp.cand)
				json_object_object_add(f, "shadow_state", jstr(state_name(fi->cstate)));
			json_object_array_add(a, f);
		}
		free(c->out);
		free(c);
	}
	json_object_object_add(o, "total", ju64(total));
	json_object_object_add(o, "flows", a);
	reply_ok(cl, o);
	return 0;
}

/* ---- reload, shadow, rule enable/disable ----------------------------------- */

static void *job_main(void *arg)
{
	struct job *j = arg;
	double t0 = mono_s();
	struct sched_param sp = { .sched_priority = 0 };

	/* a compile may take seconds of cpu: it must never take a worker's */
	pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
	j->rc = sl_policy_open(j->path, NULL, &j->policy, &j->diag);
	j->compile_s = mono_s() - t0;
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The compile thread runs on the main lcore's cpus only, whatever cpuset
 * the process had: workers keep theirs to themselves. */
static int job_thread_start(struct job *j)
{
	pthread_attr_t attr;
	rte_cpuset_t cpus = rte_lcore_cpuset(rte_get_main_lcore());
	int rc;

	if (pthread_attr_init(&attr) != 0)
		return -1;
	if (CPU_COUNT(&cpus) > 0)
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	rc = pthread_create(&j->thread, &attr, job_main, j);
	pthread_attr_destroy(&attr);
	return rc;
}

static int job_start(struct client *cl, const char *path, bool candidate)
{
	struct job *j;

	if (job != NULL) {
		reply_err(cl, NULL, "a policy compile is already running (%s)", job->path);
		return -EBUSY;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL || (j->path = strdup(path)) == NULL) {
		free(j);
		reply_err(cl, NULL, "out of memory");
		return -ENOMEM;
	}
	sl_diag_init(&j->diag);
	j->candidate = candidate;
	j->client = cl;
	if (job_thread_start(j) != 0) {
		free(j->path);
		free(j);
		reply_err(cl, NULL, "cannot start the compile thread");
		return -EAGAIN;
	}
	job = j;
	cl->waiting = true;
	return 0;
}

/* Bitmap over a policy's rule indexes of the rule ids switched off. */
static uint64_t *disabled_bitmap(const struct sl_policy *p)
{
	uint32_t n = sl_policy_nrules(p);
	uint64_t *bm = calloc((n + 63) / 64 + 1, sizeof(uint64_t));

	if (bm == NULL)
		return NULL;
	for (uint32_t i = 0; i < sl_dp.ndisabled; i++) {
		int idx = sl_policy_find_rule(p, sl_dp.disabled_ids[i]);

		if (idx >= 0)
			bm[(unsigned)idx / 64] |= 1ull << ((unsigned)idx % 64);
	}
	return bm;
}

static void job_finish(void)
{
	struct job *j = job;
	struct client *cl = j->client;
	struct sl_snapshot *s = NULL;
	uint64_t *bm = NULL;
	double t0, t1;
	int rc = j->rc;

	pthread_join(j->thread, NULL);
	job = NULL;
	if (cl)
		cl->waiting = false;
	if (rc < 0) {
		sl_events_admin("%s rejected: %s: %u error(s); the running policy is unchanged",
				j->candidate ? "shadow" : "reload", j->path, j->diag.errors);
		if (cl)
			reply_err(cl, diag_json(&j->diag), "%s: policy not loaded (%u error%s); "
				  "the running policy is unchanged", j->path, j->diag.errors,
				  j->diag.errors == 1 ? "" : "s");
		goto out;
	}
	t0 = mono_s();
	bm = j->candidate ? NULL : disabled_bitmap(j->policy);
	rc = sl_snapshot_build(j->policy, j->path, bm, &s);
	if (rc < 0) {
		if (cl)
			reply_err(cl, NULL, "%s: cannot build the snapshot: %s", j->path, strerror(-rc));
		goto out;
	}
	s->compile_s = j->compile_s;
	t1 = mono_s();
	if (j->candidate)
		sl_snapshot_publish_candidate(s);
	else
		sl_snapshot_publish(s);
	if (cl) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "policy", policy_json(s));
		json_object_object_add(o, "compile_s", json_object_new_double(j->compile_s));
		json_object_object_add(o, "build_s", json_object_new_double(t1 - t0));
		json_object_object_add(o, "swap_s", json_object_new_double(mono_s() - t1));
		json_object_object_add(o, "warnings", diag_json(&j->diag));
		reply_ok(cl, o);
	}
	sl_events_admin("%s: policy %s rev %s digest %s from %s (compile %.3f s)",
			j->candidate ? "shadow candidate" : "reload", s->meta->name,
			s->meta->revision, s->meta->digest_hex, j->path, j->compile_s);
out:
	free(bm);
	sl_policy_unref(j->policy);
	sl_diag_free(&j->diag);
	free(j->path);
	free(j);
}

static void cmd_reload(struct client *cl, const struct sl_ctl_request *rq)
{
	const char *path = rq->argc ? rq->argv[0] : sl_dp.snap->source;

	if (path == NULL) {
		reply_err(cl, NULL, "no policy path given and none known");
		return;
	}
	job_start(cl, path, false);
}

static void cmd_shadow(struct client *cl, const struct sl_ctl_request *rq)
{
	if (strcmp(rq->argv[0], "off") == 0) {
		bool was = sl_dp.cand != NULL;

		sl_snapshot_publish_candidate(NULL);
		if (was)
			sl_events_admin("shadow candidate removed");
		reply_ok(cl, json_object_new_object());
		return;
	}
	job_start(cl, rq->argv[0], true);
}

static json_object *cmd_diff(const struct sl_ctl_request *rq)
{
	const struct sl_snapshot *c = sl_dp.cand;
	const struct sl_snapshot *s = sl_dp.snap;
	long long top = sl_ctl_opt_int(rq, "top", 0);
	json_object *o, *rules, *allowed;
	uint64_t flows = 0, nb = 0, na = 0, other = 0;
	struct { uint32_t id; uint64_t n; } na_ids[SL_DIFF_IDS * SL_MAX_WORKERS];
	unsigned nna = 0;

	if (c == NULL)
		return NULL;
	o = json_object_new_object();
	rules = json_object_new_array();
	allowed = json_object_new_array();
	for (unsigned i = 0; i < sl_dp.nworkers; i++) {
		const struct sl_diff_ctr *d = &c->diff[i];

		flows += d->flows;
		nb += d->newly_blocked;
		na += d->newly_allowed;
		other += d->other;
		for (uint32_t k = 0; k < d->n; k++) {
			unsigned j;

			for (j = 0; j < nna && na_ids[j].id != d->id[k]; j++)
				;
			if (j == nna) {
				na_ids[nna].id = d->id[k];
				na_ids[nna++].n = 0;
			}
			na_ids[j].n += d->cnt[k];
		}
	}
	json_object_object_add(o, "active", policy_json(s));
	json_object_object_add(o, "candidate", policy_json(c));
	json_object_object_add(o, "since", jtime(sl_dp.cand_since_ns));
	json_object_object_add(o, "flows_compared", ju64(flows));
	json_object_object_add(o, "newly_blocked_flows", ju64(nb));
	json_object_object_add(o, "newly_allowed_flows", ju64(na));
	for (uint32_t r = 0, shown = 0; r < c->nrules; r++) {
		const struct sl_rule *rule = sl_policy_rule(c->policy, r);
		uint64_t hits = 0, fb = 0, nbr = 0, wb = 0;
		int aidx = sl_policy_find_rule(s->policy, rule->id);
		json_object *e;

		for (unsigned i = 0; i < sl_dp.nworkers; i++) {
			const struct sl_rule_ctr *k = &c->ctr[i][r];

			hits += k->hits;
			fb += k->flows_blocked;
			nbr += k->newly_blocked;
			wb += k->act[SL_ACT_DROP] + k->act[SL_ACT_RESET] + k->act[SL_ACT_BLOCK_PAGE];
		}
		if (hits == 0 && aidx >= 0 &&
		    sl_policy_rule(s->policy, (uint32_t)aidx)->action == rule->action &&
		    sl_policy_rule(s->policy, (uint32_t)aidx)->mode == rule->mode)
			continue;  /* unchanged and silent */
		if (top > 0 && shown++ >= (uint64_t)top)
			break;
		e = json_object_new_object();
		json_object_object_add(e, "id", json_object_new_int64(rule->id));
		json_object_object_add(e, "name", jstr(rule->name));
		json_object_object_add(e, "action", jstr(sl_action_name(rule->action)));
		json_object_object_add(e, "mode", jstr(sl_mode_name(rule->mode)));
		json_object_object_add(e, "change", jstr(aidx < 0 ? "new" :
			sl_policy_rule(s->policy, (uint32_t)aidx)->action != rule->action ||
			sl_policy_rule(s->policy, (uint32_t)aidx)->mode != rule->mode ? "changed" : "same"));
		json_object_object_add(e, "hits", ju64(hits));
		json_object_object_add(e, "would_block", ju64(wb));
		json_object_object_add(e, "flows_blocked", ju64(fb));
		json_object_object_add(e, "newly_blocked_flows", ju64(nbr));
		json_object_array_add(rules, e);
	}
	json_object_object_add(o, "rules", rules);
	for (unsigned j = 0; j < nna; j++) {
		json_object *e = json_object_new_object();
		int cidx = sl_policy_find_rule(c->policy, na_ids[j].id);
		int aidx = sl_policy_find_rule(s->policy, na_ids[j].id);

		json_object_object_add(e, "id", json_object_new_int64(na_ids[j].id));
		if (aidx >= 0)
			json_object_object_add(e, "name", jstr(sl_policy_rule(s->policy, (uint32_t)aidx)->name));
		json_object_object_add(e, "in_candidate", json_object_new_boolean(cidx >= 0));
		json_object_object_add(e, "newly_allowed_flows", ju64(na_ids[j].n));
		json_object_array_add(allowed, e);
	}
	json_object_object_add(o, "newly_allowed_by_rule", allowed);
	json_object_object_add(o, "newly_allowed_other", ju64(other));
	return o;
}

static void cmd_rule(struct client *cl, const struct sl_ctl_request *rq)
{
	bool disable;
	char *end;
	unsigned long id = strtoul(rq->argv[1], &end, 10);
	struct sl_snapshot *s = NULL;
	uint64_t *bm;
	uint32_t i;
	int rc;

	if (strcmp(rq->argv[0], "disable") == 0)
		disable = true;
	else if (strcmp(rq->argv[0], "enable") == 0)
		disable = false;
	else {
		reply_err(cl, NULL, "rule: expected enable or disable, got \"%s\"", rq->argv[0]);
		return;
	}
	if (*end != '\0' || id == 0 || id > UINT32_MAX ||
	    sl_policy_find_rule(sl_dp.snap->policy, (uint32_t)id) < 0) {
		reply_err(cl, NULL, "rule %s: no such rule in the running policy", rq->argv[1]);
		return;
	}
	for (i = 0; i < sl_dp.ndisabled && sl_dp.disabled_ids[i] != id; i++)
		;
	if (disable && i == sl_dp.ndisabled) {
		uint32_t *n = realloc(sl_dp.disabled_ids, (sl_dp.ndisabled + 1) * sizeof(*n));

		if (n == NULL) {
			reply_err(cl, NULL, "out of memory");
			return;
		}
		sl_dp.disabled_ids = n;
		sl_dp.disabled_ids[sl_dp.ndisabled++] = (uint32_t)id;
	} else if (!disable && i < sl_dp.ndisabled) {
		sl_dp.disabled_ids[i] = sl_dp.disabled_ids[--sl_dp.ndisabled];
	}
	bm = disabled_bitmap(sl_dp.snap->policy);
	rc = bm ? sl_snapshot_build(sl_dp.snap->policy, sl_dp.snap->source, bm, &s) : -ENOMEM;
	free(bm);
	if (rc < 0) {
		reply_err(cl, NULL, "cannot build the snapshot: %s", strerror(-rc));
		return;
	}
	s->compile_s = sl_dp.snap->compile_s;
	s->load_ns = sl_dp.snap->load_ns;
	sl_snapshot_publish(s);
	sl_events_admin("rule %lu %s by uid %u (pid %d)", id, disable ? "disabled" : "enabled",
			(unsigned)cl->uid, (int)cl->pid);
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "rule", json_object_new_int64((int64_t)id));
		json_object_object_add(o, "enabled", json_object_new_boolean(!disable));
		json_object_object_add(o, "generation", json_object_new_int64(s->gen));
		reply_ok(cl, o);
	}
}

/* ---- request dispatch ---------------------------------------------------- */

static void handle_line(struct client *cl, const char *line, size_t len)
{
	struct sl_ctl_request rq;
	char err[256];
	json_object *r;

	if (sl_ctl_request_decode(line, len, &rq, err, sizeof(err)) < 0) {
		reply_err(cl, NULL, "%s", err);
		return;
	}
	switch (rq.cmd) {
	case SL_CTL_STATUS:
		reply_ok(cl, cmd_status());
		break;
	case SL_CTL_STATS:
		reply_ok(cl, cmd_stats());
		break;
	case SL_CTL_RULES:
		reply_ok(cl, cmd_rules(&rq));
		break;
	case SL_CTL_FLOWS:
		cmd_flows(cl, &rq);
		break;
	case SL_CTL_RELOAD:
		cmd_reload(cl, &rq);
		break;
	case SL_CTL_SHADOW:
		cmd_shadow(cl, &rq);
		break;
	case SL_CTL_DIFF:
		r = cmd_diff(&rq);
		if (r)
			reply_ok(cl, r);
		else
			reply_err(cl, NULL, "no shadow candidate: start one with 'shadow POLICY'");
		break;
	case SL_CTL_RULE:
		cmd_rule(cl, &rq);
		break;
	default:
		reply_err(cl, NULL, "command not handled");
	}
	sl_ctl_request_free(&rq);
}

/* Take complete lines from the client's buffer, one at a time: not while
 * it waits on a job or has a response still to read (a client that sends
 * and never reads holds one response, not an ever growing queue). */
static void client_lines(struct client *cl)
{
	size_t start = 0;

	while (!cl->waiting && !cl->closing && cl->outlen == 0) {
		char *nl = memchr(cl->in + start, '\n', cl->inlen - start);

		if (nl == NULL)
			break;
		handle_line(cl, cl->in + start, (size_t)(nl - (cl->in + start)));
		start = (size_t)(nl - cl->in) + 1;
	}
	if (start) {
		memmove(cl->in, cl->in + start, cl->inlen - start);
		cl->inlen -= start;
	}
	if (cl->inlen > SL_CTL_MAX_LINE && memchr(cl->in, '\n', cl->inlen) == NULL) {
		reply_err(cl, NULL, "request longer than %d bytes", SL_CTL_MAX_LINE);
		cl->closing = true;
	}
}

/* hup: the peer is gone both ways (else end of input is a client done
 * sending, still reading its answers). */
static void client_read(struct client *cl, bool hup)
{
	ssize_t n = 0;

	if (cl->inlen <= SL_CTL_MAX_LINE)
		n = read(cl->fd, cl->in + cl->inlen, SL_CTL_MAX_LINE + 1 - cl->inlen);
	else if (!hup)
		return;
	if (n == 0 && !hup && (cl->waiting || cl->outlen)) {
		cl->closing = true;  /* answer, then close */
		return;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(cl);  /* client went away, maybe mid-request */
		return;
	}
	if (n > 0) {
		cl->progress_s = mono_s();
		cl->inlen += (size_t)n;
		client_lines(cl);
	}
}

static void client_write(struct client *cl)
{
	while (cl->outoff < cl->outlen) {
		ssize_t n = send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			client_close(cl);
			return;
		}
		cl->outoff += (size_t)n;
		cl->progress_s = mono_s();
	}
	free(cl->out);
	cl->out = NULL;
	cl->outlen = cl->outoff = 0;
	if (cl->closing)
		client_close(cl);
	else
		client_lines(cl);  /* requests that came meanwhile */
}

/* Every slot is taken: free the one of the client that made no progress
 * for longest, if that is EVICT_IDLE_S or more. Returns its index or -1. */
static int evict_idle(double now)
{
	static const char note[] =
		"{\"v\":1,\"ok\":false,\"error\":\"closed: idle while every control slot was taken\"}\n";
	int k = -1;

	for (int i = 0; i < MAX_CLIENTS; i++) {
		const struct client *cl = &clients[i];

		if (cl->waiting || now - cl->progress_s < EVICT_IDLE_S)
			continue;
		if (k < 0 || cl->progress_s < clients[k].progress_s)
			k = i;
	}
	if (k < 0)
		return -1;
	/* say why, unless an answer is half written (it would garble it) */
	if (clients[k].outoff == 0)
		(void)!send(clients[k].fd, note, sizeof(note) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	client_close(&clients[k]);
	clients_evicted++;
	return k;
}

static void accept_clients(void)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cr;
		socklen_t crl = sizeof(cr);
		int i;

		if (fd < 0)
			return;
		for (i = 0; i < MAX_CLIENTS && clients[i].fd >= 0; i++)
			;
		if (i == MAX_CLIENTS)
			i = evict_idle(mono_s());
		if (i < 0) {
			static const char busy[] =
				"{\"v\":1,\"ok\":false,\"error\":\"too many control clients\"}\n";

			(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			clients_refused++;
			continue;
		}
		memset(&clients[i], 0, sizeof(clients[i]));
		clients[i].fd = fd;
		clients[i].progress_s = mono_s();
		clients[i].in = malloc(SL_CTL_MAX_LINE + 1);
		if (clients[i].in == NULL) {
			close(fd);
			clients[i].fd = -1;
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0) {
			clients[i].pid = cr.pid;
			clients[i].uid = cr.uid;
		}
	}
}

/* ---- public -------------------------------------------------------------- */

int sl_ctl_open(const char *path, const char *group)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sluice: control socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a socket file left by a dead instance is replaced; a live one is not */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		fprintf(stderr, "sluice: %s: another sluice is listening there\n", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0660) < 0 || listen(fd, 16) < 0) {
		int e = errno;

		fprintf(stderr, "sluice: control socket %s: %s\n", path, strerror(e));
		close(fd);
		return -e;
	}
	if (group) {
		struct group *g = getgrnam(group);

		if (g == NULL || chown(path, (uid_t)-1, g->gr_gid) < 0) {
			fprintf(stderr, "sluice: control socket %s: group %s: %s\n", path, group,
				g ? strerror(errno) : "no such group");
			close(fd);
			unlink(path);
			return -EINVAL;
		}
	}
	listen_fd = fd;
	sock_path = strdup(path);
	return 0;
}

void sl_ctl_poll(int timeout_ms)
{
	struct pollfd pfd[MAX_CLIENTS + 1];
	struct client *who[MAX_CLIENTS + 1];
	int n = 0;

	if (job && __atomic_load_n(&job->done, __ATOMIC_ACQUIRE)) {
		struct client *cl = job->client;

		job_finish();
		if (cl && cl->fd >= 0)
			client_lines(cl);  /* requests queued behind the job */
	}
	if (listen_fd < 0) {
		if (timeout_ms > 0)
			rte_delay_us_sleep((unsigned)timeout_ms * 1000);
		return;
	}
	pfd[n].fd = listen_fd;
	pfd[n].events = POLLIN;
	who[n++] = NULL;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i].fd >= 0 && clients[i].closing && !clients[i].waiting &&
		    clients[i].outlen == 0)
			client_close(&clients[i]);  /* nothing left to say */
		if (clients[i].fd < 0)
			continue;
		pfd[n].fd = clients[i].fd;
		pfd[n].events = (short)((clients[i].waiting || clients[i].closing ||
					 clients[i].outlen ? 0 : POLLIN) |
					(clients[i].outlen ? POLLOUT : 0));
		who[n++] = &clients[i];
	}
	if (poll(pfd, (nfds_t)n, job ? 0 : timeout_ms) <= 0)
		return;
	for (int i = 1; i < n; i++) {
		struct client *cl = who[i];

		if (cl->fd < 0)
			continue;
		if (pfd[i].revents & (POLLERR | POLLNVAL)) {
			client_close(cl);
			continue;
		}
		if (pfd[i].revents & (POLLIN | POLLHUP))
			client_read(cl, (pfd[i].revents & POLLHUP) != 0);
		if (cl->fd >= 0 && cl->outlen)
			client_write(cl);
	}
	if (pfd[0].revents & POLLIN)
		accept_clients();
}

void sl_ctl_close(void)
{
	if (job) {
		/* shutting down: finish the compile, publish nothing */
		pthread_join(job->thread, NULL);
		sl_policy_unref(job->policy);
		sl_diag_free(&job->diag);
		free(job->path);
		free(job);
		job = NULL;
	}
	if (listen_fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_close(&clients[i]);
	{
		close(listen_fd);
		listen_fd = -1;
	}
	if (sock_path) {
		unlink(sock_path);
		free(sock_path);
		sock_path = NULL;
	}
}
