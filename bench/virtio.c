/* Figure 2 over virtio: the traffic source of the virtio rows. The
 * forwarder under test (the sluice binary itself, or dpdk-testpmd in io
 * mode for the limit) runs in a process of its own on a virtio-user port
 * in server mode, hairpinned; this child is the other end, a vhost-user
 * port (client mode) in a second process, as a hypervisor's vhost backend
 * would be. It offers the pre-filled traffic as fast as the virtio ring
 * takes it (a full ring pushes back, nothing is dropped at the source)
 * and counts what comes back, per window: the forwarder's Mpps. The
 * forwarder's own cycles per packet come from its counters (the parent
 * asks sluice for them). Each frame crosses between the two processes
 * twice, copied by the vhost library, as between a guest and its host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bench.h"
#include "setup.h"

#define V_RING 1024
#define V_BURST 32

/* vdev is the vhost port's devargs (the parent names the socket) */
static int vhost_port(const char *vdev, struct rte_mempool *rx_pool, uint16_t *port)
{
	struct rte_eth_conf conf = { 0 };
	char name[64];
	int rc;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(vdev, ","), vdev);
	rc = rte_dev_probe(vdev);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_get_port_by_name(name, port);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_configure(*port, 1, 1, &conf);
	if (rc < 0)
		return rc;
	rc = rte_eth_rx_queue_setup(*port, 0, V_RING, (unsigned)rte_socket_id(), NULL, rx_pool);
	if (rc < 0)
		return rc;
	rc = rte_eth_tx_queue_setup(*port, 0, V_RING, (unsigned)rte_socket_id(), NULL);
	if (rc < 0)
		return rc;
	return rte_eth_dev_start(*port);
}

static bool link_up(uint16_t port)
{
	struct rte_eth_link l;

	return rte_eth_link_get_nowait(port, &l) == 0 && l.link_status == RTE_ETH_LINK_UP;
}

/* Offer and take back for secs seconds; returns frames that came back
 * (and adds those offered to *sent). */
static uint64_t run_window(uint16_t port, const struct bt_mbufs *mb, uint32_t *next,
			   double secs, uint64_t *sent)
{
	struct rte_mbuf *rx[V_BURST];
	uint64_t back = 0, out = 0;
	uint64_t end = rte_rdtsc() + (uint64_t)(secs * (double)rte_get_tsc_hz());
	uint32_t i = *next;

	while (rte_rdtsc() < end) {
		for (int k = 0; k < 64; k++) {
			uint16_t n = (uint16_t)RTE_MIN((uint32_t)V_BURST, mb->n - i);
			uint16_t s = rte_eth_tx_burst(port, 0, &mb->m[i], n);
			uint16_t r;

			out += s;
			i += s;
			if (i == mb->n) {
				i = 0;
				/* the vhost port frees what it sent: a
				 * decrement of the 65535 each frame holds */
				if (rte_mbuf_refcnt_read(mb->m[0]) < 4096)
					for (uint32_t j = 0; j < mb->n; j++)
						rte_mbuf_refcnt_set(mb->m[j], UINT16_MAX);
			}
			/* take back all that waits: the forwarder's tx ring
			 * must never fill (its device would drop) */
			do {
				r = rte_eth_rx_burst(port, 0, rx, V_BURST);
				back += r;
				rte_pktmbuf_free_bulk(rx, r);
			} while (r == V_BURST);
		}
	}
	*next = i;
	*sent += out;
	return back;
}

int bt_child_vhost_src(const struct bt_child_opts *o, json_object *res)
{
	struct bt_traffic t;
	struct bt_mbufs mb;
	struct rte_mempool *rx_pool;
	char lcores[64], vdev[512];
	unsigned reps = o->reps ? o->reps : 5;
	double secs = o->secs > 0 ? o->secs : 1.0, until, *mpps;
	uint64_t sent = 0, back = 0;
	uint32_t next = 0;
	struct bt_stat st;
	uint16_t port;
	int rc;

	if (o->workdir == NULL || o->policy == NULL)
		return -EINVAL;
	/* --policy names the vhost socket here */
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,client=1,queues=1", o->policy);
	rc = bt_traffic_for(o, &t);
	if (rc < 0)
		return rc;
	bt_lcores(o->cpus ? o->cpus : "0", 0, lcores, sizeof(lcores));
	rc = bt_eal_init(lcores, bt_mbufs_mem_mb(&t) + 256, o->verbose);
	if (rc < 0)
		return rc;
	rc = bt_mbufs_fill(&t, "v", &mb);
	if (rc < 0)
		return rc;
	for (uint32_t j = 0; j < mb.n; j++)
		rte_mbuf_refcnt_set(mb.m[j], UINT16_MAX);
	rx_pool = rte_pktmbuf_pool_create("vrx", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (rx_pool == NULL)
		return -ENOMEM;
	rc = vhost_port(vdev, rx_pool, &port);
	if (rc < 0) {
		fprintf(stderr, "sluice-bench: vhost port %s: %s\n", vdev, strerror(-rc));
		return rc;
	}
	until = bt_now() + 20;
	while (!link_up(port)) {
		if (bt_now() > until) {
			fprintf(stderr, "sluice-bench: the virtio link never came up\n");
			return -ETIMEDOUT;
		}
		rte_delay_ms(10);
	}
	mpps = calloc(reps, sizeof(*mpps));
	if (mpps == NULL)
		return -ENOMEM;
	/* until frames come back: the forwarder may still be starting (testpmd
	 * checks its links for a while before it forwards) */
	until = bt_now() + 30;
	while (run_window(port, &mb, &next, 0.05, &sent) == 0) {
		if (bt_now() > until) {
			fprintf(stderr, "sluice-bench: nothing came back over virtio\n");
			return -ETIMEDOUT;
		}
	}
	/* warm-up: the forwarder's flows and pools, and its policy's first use */
	(void)run_window(port, &mb, &next, o->warmup > 0 ? o->warmup : 1.0, &sent);
	sent = 0;
	for (unsigned k = 0; k < reps; k++) {
		uint64_t b = run_window(port, &mb, &next, secs, &sent);

		back += b;
		mpps[k] = (double)b / secs / 1e6;
	}
	bt_stat_of(mpps, reps, &st);
	bt_add_traffic_json(res, &t);
	json_object_object_add(res, "mpps", bt_stat_json(&st));
	json_object_object_add(res, "mpps_per_worker", bt_stat_json(&st));
	json_object_object_add(res, "gbps", json_object_new_double(
		st.med * 1e6 * ((double)t.frame_bytes / t.n + 4) * 8 / 1e9));
	json_object_object_add(res, "offered", json_object_new_int64((int64_t)sent));
	json_object_object_add(res, "returned", json_object_new_int64((int64_t)back));
	json_object_object_add(res, "window_s", json_object_new_double(secs));
	rte_eth_dev_stop(port);
	free(mpps);
	return 0;
}
