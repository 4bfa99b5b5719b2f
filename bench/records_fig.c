/* Figure 6, records: (a) events per second the records writer sustains
 * (sl_records_write of match events, flushed after every batch of up to
 * 4096 and synced every second, as the main lcore does), then (b) the
 * dataplane's event path (per-worker sl_event_get/put into the event ring,
 * main lcore draining into the writer) with a worker producing events at
 * twice that rate: how many are lost (counted, never silent). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "bench.h"
#include "setup.h"
#include "sluice.h"
#include "sluice/records.h"

static const char bench_policy[] =
	"policy = { name = \"bench-records\"; revision = \"1\"; };\n"
	"rules = ( { id = 1001; name = \"records\"; basis = \"benchmark\"; action = \"reset\";\n"
	"  match = { domain = [ \".example.test\" ]; }; } );\n";

static void fill_event(struct sl_event *ev, const struct sl_policy *p, uint64_t i)
{
	ev->kind = SL_EVT_MATCH;
	ev->action = SL_ACT_RESET;
	ev->mode = SL_MODE_ENFORCE;
	ev->field = SL_FIELD_HOST;
	ev->proto = SL_PROTO_TCP;
	ev->dir = SL_DIR_C2S;
	ev->nvlan = 0;
	ev->lcore = 1;
	ev->time_ns = sl_now_ns();
	ev->pkt_time_ns = 0;
	ev->flow_id = i;
	ev->count = 0;
	ev->rule = sl_policy_rule(p, 0);
	ev->meta = sl_policy_meta(p);
	memset(&ev->client, 0, sizeof(ev->client));
	memset(&ev->server, 0, sizeof(ev->server));
	ev->client.family = ev->server.family = 4;
	ev->client.b[0] = 10;
	ev->client.b[2] = (uint8_t)(i >> 8);
	ev->client.b[3] = (uint8_t)i;
	ev->server.b[0] = 198;
	ev->server.b[1] = 18;
	ev->server.b[3] = (uint8_t)(i >> 4);
	ev->client_port = (uint16_t)(1024 + i % 60000);
	ev->server_port = 443;
	ev->value_len = (uint16_t)snprintf(ev->value, sizeof(ev->value),
					   "www%u.shop-%u.example.test", (unsigned)(i % 97),
					   (unsigned)(i % 1013));
	ev->value_trunc = 0;
	ev->text[0] = '\0';
	ev->pkt_len = 0;
	ev->pkt_orig_len = 583;
}

struct producer {
	struct sl_worker *w;
	const struct sl_policy *p;
	double rate;
	int run;
};

static int producer_main(void *arg)
{
	struct producer *pr = arg;
	double t0 = bt_now();
	uint64_t made = 0;

	while (__atomic_load_n(&pr->run, __ATOMIC_ACQUIRE)) {
		double due = (bt_now() - t0) * pr->rate - (double)made;

		if (due < 1) {
			rte_pause();
			continue;
		}
		if (due > 64)
			due = 64;
		for (unsigned k = 0; k < (unsigned)due; k++, made++) {
			struct sl_event *ev = sl_event_get(pr->w);

			if (ev == NULL)
				continue;
			fill_event(ev, pr->p, made);
			sl_event_put(pr->w, ev);
		}
	}
	return 0;
}

int bt_child_records(const struct bt_child_opts *o, json_object *res)
{
	double secs = o->secs > 0 ? o->secs : 2.0;
	struct sl_records_opts ro = { 0 };
	struct sl_records_stats rs;
	struct sl_policy *p = NULL;
	struct sl_diag d;
	struct sl_event *ev;
	struct producer pr = { 0 };
	char dir[512], lcores[64];
	uint64_t n = 0, bytes0;
	double t0, t1, rate, next;
	int rc;

	snprintf(dir, sizeof(dir), "%s/records", o->workdir ? o->workdir : "/tmp");
	ro.dir = dir;
	sl_diag_init(&d);
	rc = sl_policy_compile_text(bench_policy, "bench-records.cfg", NULL, &p, &d);
	sl_diag_free(&d);
	if (rc < 0)
		return rc;
	snprintf(lcores, sizeof(lcores), "0@%u,1@%u", 0u, 1u);
	if (o->cpus) {
		unsigned a = 0, b = 1;

		sscanf(o->cpus, "%u,%u", &a, &b);
		snprintf(lcores, sizeof(lcores), "0@%u,1@%u", a, b);
	}
	rc = bt_eal_init(lcores, 256, o->verbose);
	if (rc < 0)
		return rc;
	sl_config_defaults(&sl_dp.cfg);
	sl_dp.tsc_hz = rte_get_tsc_hz();
	rc = sl_records_open(&sl_dp.records, &ro);
	if (rc < 0) {
		fprintf(stderr, "sluice-bench: records %s: %s\n", dir, strerror(-rc));
		return rc;
	}
	/* (a) the writer alone */
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return -ENOMEM;
	sl_records_get_stats(sl_dp.records, &rs);
	bytes0 = rs.bytes;
	t0 = bt_now();
	next = t0 + 1.0;
	while ((t1 = bt_now()) < t0 + secs) {
		for (unsigned k = 0; k < 4096; k++, n++) {
			fill_event(ev, p, n);
			sl_records_write(sl_dp.records, ev);
		}
		sl_records_flush(sl_dp.records, false);
		if (t1 >= next) {
			sl_records_flush(sl_dp.records, true);
			sl_records_maintain(sl_dp.records, 0);
			next += 1.0;
		}
	}
	sl_records_flush(sl_dp.records, true);
	t1 = bt_now();
	sl_records_get_stats(sl_dp.records, &rs);
	rate = (double)n / (t1 - t0);
	json_object_object_add(res, "writer_events_per_s", json_object_new_double(rate));
	json_object_object_add(res, "bytes_per_event",
			       json_object_new_double((double)(rs.bytes - bytes0) / (double)n));
	json_object_object_add(res, "write_errors", json_object_new_int64((int64_t)rs.write_errors));
	free(ev);

	/* (b) the event path at twice that rate */
	rc = sl_events_init(sl_dp.cfg.event_ring, (int)rte_socket_id());
	if (rc < 0)
		return rc;
	pr.w = rte_zmalloc("bt_producer", sizeof(*pr.w), RTE_CACHE_LINE_SIZE);
	if (pr.w == NULL)
		return -ENOMEM;
	pr.w->lcore_id = 1;
	pr.p = p;
	pr.rate = 2 * rate;
	pr.run = 1;
	sl_records_get_stats(sl_dp.records, &rs);
	n = rs.written;
	rte_eal_remote_launch(producer_main, &pr, 1);
	t0 = bt_now();
	next = t0 + 1.0;
	while ((t1 = bt_now()) < t0 + secs) {
		unsigned k = sl_events_drain(4096);

		if (k)
			sl_records_flush(sl_dp.records, false);
		if (t1 >= next) {
			sl_records_flush(sl_dp.records, true);
			sl_records_maintain(sl_dp.records, 0);
			next += 1.0;
		}
	}
	__atomic_store_n(&pr.run, 0, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(1);
	while (sl_events_drain(4096) > 0)
		;
	sl_records_flush(sl_dp.records, true);
	sl_records_get_stats(sl_dp.records, &rs);
	{
		uint64_t queued = pr.w->st.events, lost = pr.w->st.overload_events;

		json_object_object_add(res, "offered_events_per_s",
				       json_object_new_double((double)(queued + lost) / secs));
		json_object_object_add(res, "written", json_object_new_int64((int64_t)(rs.written - n)));
		json_object_object_add(res, "queued", json_object_new_int64((int64_t)queued));
		json_object_object_add(res, "lost", json_object_new_int64((int64_t)lost));
		json_object_object_add(res, "lost_share",
				       json_object_new_double(queued + lost ?
							      (double)lost / (double)(queued + lost) : 0));
		json_object_object_add(res, "seconds", json_object_new_double(secs));
	}
	sl_records_close(sl_dp.records);
	sl_dp.records = NULL;
	sl_events_free();
	rte_free(pr.w);
	sl_policy_unref(p);
	return 0;
}
