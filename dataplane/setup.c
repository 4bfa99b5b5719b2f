/* Dataplane setup shared by the sluice application and the benchmarks:
 * the global state, worker contexts (pools, flow tables, reassembly), ports,
 * policy loading and the records writer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "sluice.h"
#include "sluice/records.h"

struct sl_dataplane sl_dp;

static uint8_t sym_rss_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

int sl_port_init(uint16_t port)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nq = sl_dp.nworkers;
	uint16_t rxd = sl_dp.cfg.rx_desc, txd = sl_dp.cfg.tx_desc;
	int rc;

	memset(&conf, 0, sizeof(conf));
	if (port >= SL_MAX_PORTS) {
		/* workers keep per-port state in arrays of SL_MAX_PORTS */
		fprintf(stderr, "sluice: port %u: port ids above %d are not supported\n", port,
			SL_MAX_PORTS - 1);
		return -EINVAL;
	}
	if (!rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, "sluice: port %u does not exist (%u ports available)\n", port,
			rte_eth_dev_count_avail());
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(port, &info);
	if (rc < 0)
		return rc;
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		fprintf(stderr, "sluice: port %u has %u rx / %u tx queues, %u workers need %u\n",
			port, info.max_rx_queues, info.max_tx_queues, nq, nq);
		return -EINVAL;
	}
	if (nq > 1 && info.flow_type_rss_offloads) {
		/* symmetric key over addresses only: both directions of a flow
		 * and all fragments of a datagram reach the same worker */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = sym_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(sym_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
	}
	/* link changes by interrupt where the device has them (as testpmd
	 * does). virtio-user in server mode needs it: without it, a peer
	 * that goes away leaves a closed fd among the EAL's interrupt
	 * sources, and stopping the port then panics the interrupt thread. */
	if (info.dev_flags != NULL && (*info.dev_flags & RTE_ETH_DEV_INTR_LSC))
		conf.intr_conf.lsc = 1;
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	rc = rte_eth_dev_configure(port, nq, nq, &conf);
	if (rc < 0) {
		fprintf(stderr, "sluice: port %u: configure: %s\n", port, strerror(-rc));
		return rc;
	}
	rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	sl_dp.rx_mark[port] = sl_dp.cfg.rx_backlog == UINT32_MAX ? rxd * 3u / 4 :
			      RTE_MIN(sl_dp.cfg.rx_backlog, (uint32_t)rxd);
	for (uint16_t q = 0; q < nq; q++) {
		struct sl_worker *w = sl_dp.w[q];

		rc = rte_eth_rx_queue_setup(port, q, rxd, w->socket, NULL, w->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q, txd, w->socket, NULL);
		if (rc < 0) {
			fprintf(stderr, "sluice: port %u queue %u: %s\n", port, q, strerror(-rc));
			return rc;
		}
	}
	rte_eth_promiscuous_enable(port);
	rc = rte_eth_dev_start(port);
	if (rc < 0) {
		fprintf(stderr, "sluice: port %u: start: %s\n", port, strerror(-rc));
		return rc;
	}
	/* asked once here, not on every full burst: net_ring, af_packet,
	 * tap, memif and virtio answer -ENOTSUP */
	sl_dp.rx_desc_status[port] = sl_dp.rx_mark[port] != 0 &&
		rte_eth_rx_descriptor_status(port, 0, (uint16_t)(sl_dp.rx_mark[port] - 1)) >= 0;
	return 0;
}

static int worker_init(struct sl_worker *w)
{
	const struct sl_config *c = &sl_dp.cfg;
	char name[RTE_MEMPOOL_NAMESIZE];
	void *mem;
	uint32_t *links;
	int rc;

	snprintf(name, sizeof(name), "sl_mbuf_%u", w->idx);
	w->pool = rte_pktmbuf_pool_create(name, c->mbufs, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, w->socket);
	snprintf(name, sizeof(name), "sl_frag_%u", w->idx);
	w->frag_pool = rte_pktmbuf_pool_create(name, c->frag_mbufs, 32, 0,
					       RTE_MBUF_DEFAULT_BUF_SIZE, w->socket);
	if (w->pool == NULL || w->frag_pool == NULL) {
		fprintf(stderr, "sluice: mbuf pools: %s\n", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rc = sl_flows_init(w, c->flows);
	if (rc < 0) {
		fprintf(stderr, "sluice: flow table of %u entries: out of memory\n", c->flows);
		return rc;
	}
	mem = rte_zmalloc_socket("sl_seg", (size_t)c->seg_chunks * sizeof(struct sl_seg_chunk),
				 RTE_CACHE_LINE_SIZE, w->socket);
	if (mem == NULL)
		return -ENOMEM;
	sl_seg_pool_init(&w->seg_pool, mem, c->seg_chunks);
	mem = rte_malloc_socket("sl_app", (size_t)c->app_buffers * SL_APP_BUF_SIZE,
				RTE_CACHE_LINE_SIZE, w->socket);
	links = rte_malloc_socket("sl_app_l", (size_t)c->app_buffers * sizeof(uint32_t), 0,
				  w->socket);
	if (mem == NULL || links == NULL)
		return -ENOMEM;
	sl_app_pool_init(&w->app_pool, mem, links, c->app_buffers);
	snprintf(name, sizeof(name), "sl_cmd_%u", w->idx);
	w->cmd_ring = rte_ring_create(name, 16, w->socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->cmd_ring == NULL)
		return -ENOMEM;
	w->frag_tbl = rte_ip_frag_table_create(c->frag_flows, 16, c->frag_flows,
		(sl_dp.tsc_hz + 999) / 1000 * c->frag_timeout_ms, w->socket);
	if (w->frag_tbl == NULL) {
		fprintf(stderr, "sluice: fragment table: %s\n", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return sl_bigfrag_init(w);
}

void sl_worker_free(struct sl_worker *w)
{
	if (w == NULL)
		return;
	sl_flows_free(w);
	rte_free(w->seg_pool.chunk);
	rte_free(w->app_pool.mem);
	rte_free(w->app_pool.next);
	sl_bigfrag_release(w);
	if (w->frag_tbl) {
		rte_ip_frag_free_death_row(&w->death_row, 0);
		rte_ip_frag_table_destroy(w->frag_tbl);
	}
	rte_ring_free(w->cmd_ring);
	rte_mempool_free(w->frag_pool);
	rte_mempool_free(w->pool);
	rte_free(w);
}

int sl_workers_setup(void)
{
	const struct sl_config *c = &sl_dp.cfg;
	unsigned lc;
	size_t sz;

	if (c->nworkers_req) {
		for (unsigned i = 0; i < c->nworkers_req; i++) {
			lc = c->worker_lcore[i];
			if (!rte_lcore_is_enabled(lc) || lc == rte_get_main_lcore()) {
				fprintf(stderr, "sluice: worker lcore %u is not an EAL worker lcore\n", lc);
				return -EINVAL;
			}
			sl_dp.w[sl_dp.nworkers++] = (void *)(uintptr_t)(lc + 1);
		}
	} else {
		RTE_LCORE_FOREACH_WORKER(lc) {
			if (sl_dp.nworkers == SL_MAX_WORKERS)
				break;
			sl_dp.w[sl_dp.nworkers++] = (void *)(uintptr_t)(lc + 1);
		}
	}
	if (sl_dp.nworkers == 0) {
		fprintf(stderr, "sluice: no worker lcore: give EAL at least two lcores (-l 0-1)\n");
		return -EINVAL;
	}
	for (unsigned i = 0; i < sl_dp.nworkers; i++) {
		struct sl_worker *w;

		lc = (unsigned)(uintptr_t)sl_dp.w[i] - 1;
		w = rte_zmalloc_socket("sl_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
				       (int)rte_lcore_to_socket_id(lc));
		if (w == NULL)
			return -ENOMEM;
		w->lcore_id = lc;
		w->idx = (uint16_t)i;
		w->socket = (uint16_t)rte_lcore_to_socket_id(lc);
		sl_dp.w[i] = w;
		if (worker_init(w) < 0)
			return -ENOMEM;
	}
	sz = rte_rcu_qsbr_get_memsize(sl_dp.nworkers);
	sl_dp.qsbr = rte_zmalloc("sl_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (sl_dp.qsbr == NULL || rte_rcu_qsbr_init(sl_dp.qsbr, sl_dp.nworkers) < 0)
		return -ENOMEM;
	return 0;
}

/* Load (compile or artefact) a policy and publish it. Errors to stderr
 * (or into diag when given). */
int sl_load_policy(const char *path, struct sl_diag *diag)
{
	struct sl_diag local;
	struct sl_diag *d = diag ? diag : &local;
	struct sl_policy *p = NULL;
	struct sl_snapshot *s = NULL;
	uint64_t t0 = rte_rdtsc();
	int rc;

	if (diag == NULL)
		sl_diag_init(&local);
	rc = sl_policy_open(path, NULL, &p, d);
	if (diag == NULL) {
		sl_diag_print(&local, stderr);
		sl_diag_free(&local);
	}
	if (rc < 0)
		return rc;
	rc = sl_snapshot_build(p, path, NULL, &s);
	sl_policy_unref(p);
	if (rc < 0)
		return rc;
	s->compile_s = (double)(rte_rdtsc() - t0) / (double)sl_dp.tsc_hz;
	return sl_snapshot_publish(s);
}

int sl_records_start(void)
{
	const struct sl_config *c = &sl_dp.cfg;
	struct sl_records_opts ro = {
		.dir = c->records_dir,
		.segment_bytes = c->segment_bytes,
		.segment_seconds = c->segment_seconds,
		.retention_days = c->retention_days,
		.capture = c->capture,
	};
	int rc;

	if (c->records_dir == NULL)
		return 0;
	rc = sl_records_open(&sl_dp.records, &ro);
	if (rc < 0)
		fprintf(stderr, "sluice: records %s: %s\n", c->records_dir, strerror(-rc));
	return rc;
}

/* ---- statistics ------------------------------------------------------------ */

void sl_stats_sum(struct sl_lcore_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < sl_dp.nworkers; i++) {
		const uint64_t *src = (const uint64_t *)&sl_dp.w[i]->st;
		uint64_t *dst = (uint64_t *)t;

		for (size_t k = 0; k < sizeof(*t) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
}

