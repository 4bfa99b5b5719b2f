/* Figure 5, memory per flow: the flow table (rte_hash with its extension
 * table + the flow array) measured as heap growth when a table of N
 * entries is created, and the payload stream state actually held after N
 * flows went through the inspection path (stream pool objects in use, by
 * size class), with the policy given. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_per_lcore.h>

#include "bench.h"
#include "setup.h"
#include "sluice.h"

static uint64_t heap_used(void)
{
	struct rte_malloc_socket_stats s;

	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &s) < 0)
		return 0;
	return s.heap_allocsz_bytes;
}

int bt_child_memory(const struct bt_child_opts *o, json_object *res)
{
	struct bt_traffic t;
	struct sl_worker *probe, *w;
	struct rte_mempool *pool;
	char lcores[256];
	uint64_t h0, h1, stream_bytes = 0, stream_objs = 0;
	uint32_t n;
	int rc;

	rc = bt_traffic_for(o, &t);
	if (rc < 0)
		return rc;
	n = t.nflows;
	bt_lcores(o->cpus ? o->cpus : "1,0", 1, lcores, sizeof(lcores));
	/* mbufs go through in chunks: no room for the whole set */
	rc = bt_dp_start(o, n, 1, lcores, bt_dp_mem_mb(NULL, n, 1) + 512, -1);
	if (rc < 0)
		return rc;
	/* the table sluice makes for n flows, measured as heap growth */
	probe = rte_zmalloc("bt_probe", sizeof(*probe), RTE_CACHE_LINE_SIZE);
	if (probe == NULL)
		return -ENOMEM;
	probe->idx = 31;
	h0 = heap_used();
	rc = sl_flows_init(probe, n);
	h1 = heap_used();
	if (rc < 0)
		return rc;
	sl_flows_free(probe);
	rte_free(probe);
	json_object_object_add(res, "flows", json_object_new_int64(n));
	json_object_object_add(res, "table_bytes", json_object_new_int64((int64_t)(h1 - h0)));
	json_object_object_add(res, "table_bytes_per_flow",
			       json_object_new_double((double)(h1 - h0) / n));
	json_object_object_add(res, "flow_entry_bytes",
			       json_object_new_int64((int64_t)sizeof(struct sl_flow)));

	/* stream state held once every flow has been seen */
	pool = rte_pktmbuf_pool_create("bt_mem", 65536, 256, 0, 1536 + RTE_PKTMBUF_HEADROOM,
				       (int)rte_socket_id());
	if (pool == NULL)
		return -ENOMEM;
	if (sl_dp.cfg.flows < n + n / 4) {
		fprintf(stderr, "sluice-bench: flow table too small\n");
		return -EINVAL;
	}
	w = sl_dp.w[0];
	w->no_tx = true;
	sl_dp.cfg.nports = 1;
	RTE_PER_LCORE(sl_worker_idx) = w->idx;
	for (uint32_t i = 0; i < t.n;) {
		struct rte_mbuf *m[SL_BURST];
		uint16_t k = 0;

		for (; k < SL_BURST && i < t.n; i++) {
			if (t.pkt[i].len > 1536)
				continue;
			m[k] = rte_pktmbuf_alloc(pool);
			if (m[k] == NULL)
				return -ENOMEM;
			memcpy(rte_pktmbuf_append(m[k], (uint16_t)t.pkt[i].len), bt_frame(&t, i),
			       t.pkt[i].len);
			k++;
		}
		w->now_tsc = rte_rdtsc();
		w->now_ns = sl_now_ns();
		w->now_s = (int64_t)(w->now_ns / 1000000000ull);
		sl_worker_process(w, sl_dp.snap, m, k, 0);
		bt_events_drain();
	}
	for (int c = 0; c < 9; c++) {
		char name[RTE_MEMPOOL_NAMESIZE];
		struct rte_mempool *sp;

		snprintf(name, sizeof(name), "sl_st%u_%d", w->idx, c);
		sp = rte_mempool_lookup(name);
		if (sp == NULL)
			continue;
		stream_objs += rte_mempool_in_use_count(sp);
		stream_bytes += (uint64_t)rte_mempool_in_use_count(sp) *
				(sp->header_size + sp->elt_size + sp->trailer_size);
	}
	{
		uint64_t active = w->st.flows_active;

		json_object_object_add(res, "flows_active", json_object_new_int64((int64_t)active));
		json_object_object_add(res, "pstream_state_bytes",
				       json_object_new_int64((int64_t)sl_pstream_size(sl_dp.snap->policy)));
		json_object_object_add(res, "streams_open", json_object_new_int64((int64_t)stream_objs));
		json_object_object_add(res, "stream_bytes", json_object_new_int64((int64_t)stream_bytes));
		json_object_object_add(res, "stream_bytes_per_flow",
				       json_object_new_double(active ? (double)stream_bytes / active : 0));
		json_object_object_add(res, "bytes_per_flow",
				       json_object_new_double((double)(h1 - h0) / n +
							      (active ? (double)stream_bytes / active : 0)));
	}
	json_object_object_add(res, "counters", bt_dp_counters());
	json_object_object_add(res, "overloads", json_object_new_int64((int64_t)bt_dp_overloads()));
	bt_add_traffic_json(res, &t);
	bt_traffic_free(&t);
	return 0;
}
