/* Start-up shared by the children that run the dataplane in-process: build
 * or load the traffic, start EAL with enough memory for it, configure the
 * workers and load the policy, exactly as the sluice application does
 * (dataplane/main.c) minus ports and the control socket. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include "bench.h"
#include "setup.h"
#include "sluice.h"

int bt_traffic_for(const struct bt_child_opts *o, struct bt_traffic *t)
{
	double t0 = bt_now();
	int rc;

	if (o->pcap)
		rc = bt_traffic_load_pcap(o->pcap, 65000, t);
	else
		rc = bt_traffic_generate(&o->gen, t);
	if (rc < 0) {
		fprintf(stderr, "sluice-bench: traffic: %s\n", strerror(-rc));
		return rc;
	}
	if (o->verbose)
		fprintf(stderr, "sluice-bench: traffic %s: %u frames, %u flows, %.1f MB in %.2f s\n",
			t->name, t->n, t->nflows, (double)t->frame_bytes / 1e6, bt_now() - t0);
	return 0;
}

/* "A,B,C" -> cpu numbers; at most max; returns the count. */
static unsigned parse_cpus(const char *s, unsigned *cpu, unsigned max)
{
	unsigned n = 0;

	while (s && *s && n < max) {
		char *end;

		cpu[n++] = (unsigned)strtoul(s, &end, 10);
		if (*end != ',')
			break;
		s = end + 1;
	}
	return n;
}

void bt_lcores(const char *cpus, unsigned nworkers, char *out, size_t len)
{
	unsigned cpu[64], n = parse_cpus(cpus, cpu, 64);
	size_t w;

	if (n == 0) {
		cpu[0] = 0;
		n = 1;
	}
	w = (size_t)snprintf(out, len, "0@%u", cpu[0]);
	for (unsigned i = 0; i < nworkers && w < len; i++) {
		/* worker i on the i-th worker cpu; past the list, round over
		 * every cpu listed, the main lcore's first (a shared cpu: the
		 * table says so) */
		unsigned c = i + 1 < n ? cpu[1 + i] : cpu[(1 + i) % n];

		w += (size_t)snprintf(out + w, len - w, ",%u@%u", i + 1, c);
	}
}

unsigned bt_dp_mem_mb(const struct bt_traffic *t, uint32_t flows, unsigned nworkers)
{
	struct sl_config c;
	uint64_t per, mb;

	bt_dp_config(&c, flows, nworkers);
	per = (uint64_t)c.flows * (sizeof(struct sl_flow) + 160) +
	      (uint64_t)c.stream_slots * 4096 +
	      (uint64_t)c.app_buffers * SL_APP_BUF_SIZE +
	      (uint64_t)c.seg_chunks * sizeof(struct sl_seg_chunk) +
	      (uint64_t)(c.mbufs + c.frag_mbufs) * 2560;
	mb = (per * nworkers >> 20) + (t ? bt_mbufs_mem_mb(t) : 0) + 512;
	return (unsigned)mb;
}

int bt_dp_start(const struct bt_child_opts *o, uint32_t flows, unsigned nworkers,
		const char *lcores, unsigned mem_mb, int only_lcore)
{
	unsigned mem = o->mem_mb ? o->mem_mb : mem_mb ? mem_mb : bt_dp_mem_mb(NULL, flows, nworkers);
	int rc;

	rc = bt_eal_init(lcores, mem, o->verbose);
	if (rc < 0)
		return rc;
	bt_dp_config(&sl_dp.cfg, flows, nworkers);
	if (o->shed)
		sl_dp.cfg.rx_backlog = UINT32_MAX;   /* sluice's default */
	if (only_lcore >= 0) {
		sl_dp.cfg.nworkers_req = 1;
		sl_dp.cfg.worker_lcore[0] = (uint16_t)only_lcore;
	}
	sl_dp.tsc_hz = rte_get_tsc_hz();
	sl_dp.start_ns = sl_now_ns();
	sl_dp.run_nonce = rte_rand() & 0xffff;
	if (sl_stream_alloc_init() < 0 || sl_workers_setup() < 0 ||
	    sl_events_init(sl_dp.cfg.event_ring, (int)rte_socket_id()) < 0) {
		fprintf(stderr, "sluice-bench: dataplane setup failed (EAL memory %u MB)\n", mem);
		return -ENOMEM;
	}
	if (o->policy) {
		rc = sl_load_policy(o->policy, NULL);
		if (rc < 0) {
			fprintf(stderr, "sluice-bench: policy %s not loaded\n", o->policy);
			return rc;
		}
	}
	return 0;
}

void bt_dp_stop(void)
{
	sl_snapshot_retired_free();
	sl_snapshot_free(sl_dp.snap);
	sl_dp.snap = NULL;
	for (unsigned i = 0; i < sl_dp.nworkers; i++)
		sl_worker_free(sl_dp.w[i]);
	sl_dp.nworkers = 0;
	sl_events_free();
	sl_stream_pools_free();
}

/* Drain the event ring (no records writer: events are just returned). */
void bt_events_drain(void)
{
	while (sl_events_drain(4096) > 0)
		;
}

void bt_add_traffic_json(json_object *res, const struct bt_traffic *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(t->name));
	json_object_object_add(o, "frames", json_object_new_int64(t->n));
	json_object_object_add(o, "flows", json_object_new_int64(t->nflows));
	json_object_object_add(o, "frame_bytes", json_object_new_int64((int64_t)t->frame_bytes));
	json_object_object_add(o, "payload_bytes",
			       json_object_new_int64((int64_t)t->payload_bytes));
	json_object_object_add(o, "avg_frame",
			       json_object_new_double(t->n ? (double)t->frame_bytes / t->n : 0));
	json_object_object_add(o, "ipv6_share",
			       json_object_new_double(t->n ? (double)t->ipv6_pkts / t->n : 0));
	json_object_object_add(o, "vlan_share",
			       json_object_new_double(t->n ? (double)t->vlan_pkts / t->n : 0));
	json_object_object_add(o, "skipped", json_object_new_int64(t->skipped));
	{
		/* frames without TCP/UDP payload: raw Hyperscan (figure 1) skips
		 * them, an inline path still decodes, tracks and forwards them */
		uint32_t none = 0;

		for (uint32_t i = 0; i < t->n; i++)
			none += t->pkt[i].pl_len == 0;
		json_object_object_add(o, "no_payload_share",
				       json_object_new_double(t->n ? (double)none / t->n : 0));
	}
	json_object_object_add(res, "traffic", o);
}
