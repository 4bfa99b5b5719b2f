/* Figures 2 and 3 (and the load of figure 4): the real DPDK path. Worker
 * lcores run sl_worker_main, the dataplane's own burst loop, over two ring
 * ports (rte_eth_from_rings, what the net_ring vdev is made of): port A
 * receives the traffic, port B faces the other side; each forwards to the
 * other. The main lcore is the traffic source and sink: it keeps port A's
 * rx rings (1024 entries per queue, like a NIC ring) full of pre-filled
 * mbufs, spreading flows over the queues as RSS would, and takes back what
 * sluice transmits. mbufs are never copied nor written after filling:
 * each has a reference count of 65535, so the worker's free of a dropped
 * frame is a decrement, and what comes back on the tx rings is let go of;
 * the same mbufs are offered again on the next replay (every TCP
 * conversation opens with a SYN, so a replay is inspected again as a new
 * connection; a capture's flows are ended at each replay instead).
 *
 * Variants: io_only runs a plain rx/tx loop instead of sluice on the same
 * rig (the rig's forwarding limit); loopback uses two loopback ring ports
 * with 32 frames circulating per port and no source, the setup of
 * `dpdk-testpmd --vdev net_ring0 --vdev net_ring1 --tx-first` in io mode,
 * to compare with testpmd on the same devices. Paced mode (reload figure)
 * offers a fixed rate and counts what the rx rings could not take. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "bench.h"
#include "dp.h"
#include "setup.h"
#include "sluice.h"

#define RX_RING 1024    /* as sluice's default rx_desc */
#define TX_RING 4096

static int rig_ports(struct bt_rig *g, bool loopback, bool paced)
{
	char name[64];

	for (unsigned q = 0; q < g->nq; q++) {
		snprintf(name, sizeof(name), "bt_rxa%u", q);
		g->rx_a[q] = rte_ring_create(name, paced ? BT_RX_RING_PACED : RX_RING,
					     (int)rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (loopback) {
			/* one ring per queue for rx and tx: what is sent comes back */
			snprintf(name, sizeof(name), "bt_rxb%u", q);
			g->rx_b[q] = rte_ring_create(name, RX_RING, (int)rte_socket_id(),
						     RING_F_SP_ENQ | RING_F_SC_DEQ);
			g->tx_a[q] = g->rx_a[q];
			g->tx_b[q] = g->rx_b[q];
		} else {
			snprintf(name, sizeof(name), "bt_rxb%u", q);
			g->rx_b[q] = rte_ring_create(name, 64, (int)rte_socket_id(),
						     RING_F_SP_ENQ | RING_F_SC_DEQ);
			/* paced: room for the source to fall behind (it shares
			 * a cpu with the main lcore and a policy compile) */
			snprintf(name, sizeof(name), "bt_txa%u", q);
			g->tx_a[q] = rte_ring_create(name, paced ? 4 * TX_RING : TX_RING,
						     (int)rte_socket_id(),
						     RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(name, sizeof(name), "bt_txb%u", q);
			g->tx_b[q] = rte_ring_create(name, paced ? 4 * TX_RING : TX_RING,
						     (int)rte_socket_id(),
						     RING_F_SP_ENQ | RING_F_SC_DEQ);
		}
		if (!g->rx_a[q] || !g->rx_b[q] || !g->tx_a[q] || !g->tx_b[q])
			return -ENOMEM;
	}
	g->port_a = (uint16_t)rte_eth_from_rings("bt_a", g->rx_a, g->nq, g->tx_a, g->nq,
						 rte_socket_id());
	g->port_b = (uint16_t)rte_eth_from_rings("bt_b", g->rx_b, g->nq, g->tx_b, g->nq,
						 rte_socket_id());
	if ((int16_t)g->port_a < 0 || (int16_t)g->port_b < 0)
		return -ENODEV;
	sl_dp.cfg.nports = 2;
	sl_dp.cfg.port[0] = g->port_a;
	sl_dp.cfg.peer[0] = g->port_b;
	sl_dp.cfg.port[1] = g->port_b;
	sl_dp.cfg.peer[1] = g->port_a;
	sl_dp.cfg.ports_given = true;
	if (sl_port_init(g->port_a) < 0 || sl_port_init(g->port_b) < 0)
		return -EIO;
	return 0;
}

static void add_chunk(struct rte_mempool *mp, void *opaque, struct rte_mempool_memhdr *h,
		      unsigned idx)
{
	struct bt_rig *g = opaque;

	(void)mp;
	(void)idx;
	if (g->nchunks < BT_MAXCHUNKS) {
		g->chunk_lo[g->nchunks] = (uintptr_t)h->addr;
		g->chunk_hi[g->nchunks] = (uintptr_t)h->addr + h->len;
	}
	g->nchunks++;
}

int bt_rig_setup(struct bt_rig *g, const struct bt_traffic *t, unsigned nq, bool loopback,
		 bool paced)
{
	int rc;

	memset(g, 0, sizeof(*g));
	g->nq = nq;
	g->t = t;
	g->loopback = loopback;
	rc = rig_ports(g, loopback, paced);
	if (rc < 0) {
		fprintf(stderr, "sluice-bench: ring ports: %s\n", strerror(-rc));
		return rc;
	}
	rc = bt_mbufs_fill(t, "dp", &g->mb);
	if (rc < 0)
		return rc;
	if (loopback) {
		/* 32 frames per port circulate, as testpmd --tx-first sends */
		uint32_t k = 0;

		for (unsigned q = 0; q < nq; q++) {
			for (int side = 0; side < 2; side++) {
				struct rte_ring *r = side ? g->rx_b[q] : g->rx_a[q];

				for (unsigned i = 0; i < 32 && k < g->mb.n; i++, k++) {
					rte_ring_enqueue(r, g->mb.m[k]);
					g->mb.m[k] = NULL;  /* owned by the circulation */
				}
			}
		}
		return 0;
	}
	/* per queue: the frames of the flows RSS would give it, in wire order */
	for (unsigned q = 0; q < nq; q++) {
		g->qpkt[q] = malloc((size_t)t->n * sizeof(uint32_t));
		if (g->qpkt[q] == NULL)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t f = t->pkt[i].flow;
		unsigned q = (f == UINT32_MAX ? i : f) % nq;

		g->qpkt[q][g->qn[q]++] = i;
	}
	/* The source never writes an mbuf again: a large reference count
	 * makes the worker's frees of dropped frames decrements, and what
	 * comes back on the tx rings is just let go of. Nothing bounces
	 * between the source's cpu and the worker's (a NIC's rx path writes
	 * the mbufs on the worker's own cpu). */
	for (uint32_t i = 0; i < g->mb.n; i++)
		rte_mbuf_refcnt_set(g->mb.m[i], UINT16_MAX);
	for (int c = 0; c < 5; c++)
		if (g->mb.pool[c])
			rte_mempool_mem_iter(g->mb.pool[c], add_chunk, g);
	if (g->nchunks > BT_MAXCHUNKS) {
		/* ours() would take some of ours for the workers' own */
		fprintf(stderr, "sluice-bench: the frame pools are in %u pieces (at most %u)\n",
			g->nchunks, BT_MAXCHUNKS);
		return -E2BIG;
	}
	for (unsigned q = 0; q < nq; q++) {
		if (g->qn[q] && g->qn[q] < BT_RX_RING_PACED + 4 * SL_BURST) {
			fprintf(stderr, "sluice-bench: %u frames per queue: too few to replay "
				"without reusing a frame still in flight\n", g->qn[q]);
			return -EINVAL;
		}
	}
	return 0;
}

void bt_rig_free(struct bt_rig *g)
{
	for (unsigned q = 0; q < g->nq; q++)
		free(g->qpkt[q]);
	/* mbufs may still sit in rings: the process exits right after */
	free(g->mb.m);
	g->mb.m = NULL;
}

static bool ours(const struct bt_rig *g, const void *m)
{
	for (unsigned i = 0; i < g->nchunks; i++)
		if ((uintptr_t)m >= g->chunk_lo[i] && (uintptr_t)m < g->chunk_hi[i])
			return true;
	return false;
}

/* Take back what the workers transmitted: ours are let go of, packets the
 * workers made (RST, block pages, NXDOMAIN) are freed. */
static void rig_collect(struct bt_rig *g)
{
	struct rte_mbuf *m[64];

	for (unsigned q = 0; q < g->nq; q++) {
		for (int side = 0; side < 2; side++) {
			struct rte_ring *r = side ? g->tx_a[q] : g->tx_b[q];
			unsigned n;

			while ((n = rte_ring_sc_dequeue_burst(r, (void **)m, 64, NULL)) > 0) {
				g->returned += n;
				for (unsigned i = 0; i < n; i++)
					if (!ours(g, m[i]))
						rte_pktmbuf_free(m[i]);
			}
		}
	}
}

/* A capture replayed: its mid-stream TCP flows would be retransmissions
 * from the second replay on, so the worker of queue q ends every flow when
 * its queue starts over (a request on its command ring, served between
 * bursts, its cost counted in the worker's time). */
static void flush_worker(struct bt_rig *g, unsigned q)
{
	struct sl_wcmd *c = &g->flush[q];

	if (g->flush_busy[q] && !__atomic_load_n(&c->done, __ATOMIC_ACQUIRE))
		return;  /* the last one is still pending */
	memset(c, 0, sizeof(*c));
	c->op = SL_WOP_FLUSH;
	g->flush_busy[q] = rte_ring_sp_enqueue(sl_dp.w[q]->cmd_ring, c) == 0;
	g->flushes += g->flush_busy[q];
}

/* Offer up to `budget` frames to queue q. Paced: what the ring cannot take
 * is lost (counted), like a NIC whose rx ring is full. Returns frames put. */
static unsigned rig_feed(struct bt_rig *g, unsigned q, unsigned budget, bool paced)
{
	void *m[64];
	unsigned k, put;
	uint32_t next = g->qnext[q];

	if (budget > 64)
		budget = 64;
	for (k = 0; k < budget; k++) {
		m[k] = g->mb.m[g->qpkt[q][next]];
		if (++next == g->qn[q])
			next = 0;
	}
	if (next < g->qnext[q] && g->flush_at_wrap)
		flush_worker(g, q);
	put = rte_ring_sp_enqueue_burst(g->rx_a[q], m, k, NULL);
	if (paced || put == k) {
		g->qnext[q] = next;
		g->ring_full += k - put;
		if (put < k && g->loss_hist && g->now >= g->hist_t0) {
			uint64_t slot = (uint64_t)((g->now - g->hist_t0) * 100);

			if (slot < g->hist_slots)
				g->loss_hist[slot] += k - put;
		}
		g->offered += k;
	} else {
		/* as fast as possible: offer the rest again later */
		g->qnext[q] = (g->qnext[q] + put) % g->qn[q];
		g->offered += put;
	}
	return put;
}

void bt_rig_poll(struct bt_rig *g, double now, bool paced)
{
	if (g->loopback)
		return;
	g->now = now;
	rig_collect(g);
	if (!paced) {
		for (unsigned q = 0; q < g->nq; q++)
			if (g->qn[q])
				rig_feed(g, q, 64, false);
		return;
	}
	if (g->pace_t0 == 0) {
		g->pace_t0 = now;
		g->pace_sent = 0;
	}
	{
		double due = (now - g->pace_t0) * g->rate_pps - (double)g->pace_sent;
		uint64_t n;

		if (due < 1)
			return;
		if (due > 256) {
			/* the source itself was descheduled: do not burst to catch up */
			g->pace_skipped += (uint64_t)due - 256;
			g->pace_sent += (uint64_t)due - 256;
			due = 256;
		}
		n = (uint64_t)due;
		g->pace_sent += n;
		/* spread over the queues; every frame offered counts, put or lost */
		for (unsigned q = 0; q < g->nq && n; q++) {
			uint64_t share = (n + g->nq - 1 - q) / (g->nq - q);

			n -= share;
			while (share && g->qn[q]) {
				unsigned k = share > 64 ? 64 : (unsigned)share;

				rig_feed(g, q, k, true);
				share -= k;
			}
		}
	}
}

/* ---- workers ---------------------------------------------------------------- */

/* A plain rx/tx loop over the same ports and queues: the rig's limit. */
static int io_loop(void *arg)
{
	struct sl_worker *w = arg;
	struct rte_mbuf *pkts[SL_BURST];

	while (!__atomic_load_n(&sl_dp.stop, __ATOMIC_RELAXED)) {
		for (unsigned i = 0; i < sl_dp.cfg.nports; i++) {
			uint16_t n = rte_eth_rx_burst(sl_dp.cfg.port[i], w->idx, pkts, SL_BURST);
			uint16_t s;

			if (n == 0)
				continue;
			s = rte_eth_tx_burst(sl_dp.cfg.peer[i], w->idx, pkts, n);
			for (uint16_t k = s; k < n; k++)
				rte_pktmbuf_free(pkts[k]);
			w->st.rx_pkts += n;
			w->st.tx_pkts += s;
		}
	}
	return 0;
}

static int get_tid(void *arg)
{
	*(pid_t *)arg = (pid_t)rte_sys_gettid();
	return 0;
}

pid_t bt_worker_tid[SL_MAX_WORKERS];

uint64_t bt_workers_preempted(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < sl_dp.nworkers; i++)
		n += bt_thread_preemptions(bt_worker_tid[i]);
	return n;
}

void bt_workers_launch(bool io_only)
{
	for (unsigned i = 0; i < sl_dp.nworkers; i++) {
		rte_eal_remote_launch(get_tid, &bt_worker_tid[i], sl_dp.w[i]->lcore_id);
		rte_eal_wait_lcore(sl_dp.w[i]->lcore_id);
	}
	__atomic_store_n(&sl_dp.stop, 0, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < sl_dp.nworkers; i++)
		rte_eal_remote_launch(io_only ? io_loop : sl_worker_main, sl_dp.w[i],
				      sl_dp.w[i]->lcore_id);
}

void bt_workers_stop(void)
{
	__atomic_store_n(&sl_dp.stop, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
}

uint64_t bt_rx_total(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < sl_dp.nworkers; i++)
		n += __atomic_load_n(&sl_dp.w[i]->st.rx_pkts, __ATOMIC_RELAXED);
	return n;
}

/* ---- figure 2/3 child ---------------------------------------------------------- */

int bt_child_dp(const struct bt_child_opts *o, json_object *res)
{
	unsigned nw = o->workers ? o->workers : 1;
	unsigned reps = o->reps ? o->reps : 5;
	double secs = o->secs > 0 ? o->secs : 1.0, warm = o->warmup > 0 ? o->warmup : 0.5;
	struct bt_traffic t;
	struct bt_rig g;
	char lcores[256];
	double mpps[256], per_w[256], cpp[256], busy_cpp[256];
	struct bt_stat st;
	uint64_t hz, busy0 = 0, pre0;
	double avg_frame;
	int rc;

	if (reps > 256)
		reps = 256;
	rc = bt_traffic_for(o, &t);
	if (rc < 0)
		return rc;
	bt_lcores(o->cpus ? o->cpus : "0,1", nw, lcores, sizeof(lcores));
	rc = bt_dp_start(o, t.nflows, nw, lcores, bt_dp_mem_mb(&t, t.nflows, nw), -1);
	if (rc < 0)
		return rc;
	rc = bt_rig_setup(&g, &t, nw, o->loopback, false);
	if (rc < 0)
		return rc;
	g.flush_at_wrap = o->pcap != NULL;
	hz = rte_get_tsc_hz();
	avg_frame = (double)t.frame_bytes / t.n;
	if (o->loopback) {
		/* the circulating frames: their average size */
		uint64_t b = 0, k = 0;

		for (uint32_t i = 0; i < t.n && k < 64u * nw; i++, k++)
			b += t.pkt[i].len;
		avg_frame = k ? (double)b / k : avg_frame;
	}
	bt_workers_launch(o->io_only);
	pre0 = bt_workers_preempted();
	{
		double t0 = bt_now(), next = t0 + warm;
		unsigned k = 0;
		uint64_t rx0 = 0;

		while (k <= reps) {
			double now = bt_now();

			bt_rig_poll(&g, now, false);
			if (sl_events_drain(256) == 0 && g.loopback)
				usleep(1000);  /* nothing to source: stay off the cores */
			if (now < next)
				continue;
			{
				uint64_t rx = bt_rx_total(), busy = 0;

				for (unsigned i = 0; i < sl_dp.nworkers; i++)
					busy += sl_dp.w[i]->st.busy_tsc;
				if (k > 0) {
					double dt = now - t0;
					double pk = (double)(rx - rx0);

					mpps[k - 1] = pk / dt / 1e6;
					per_w[k - 1] = mpps[k - 1] / nw;
					cpp[k - 1] = pk ? dt * (double)hz * nw / pk : 0;
					busy_cpp[k - 1] = pk ? (double)(busy - busy0) / pk : 0;
				}
				rx0 = rx;
				busy0 = busy;
				t0 = now;
				next = now + secs;
				k++;
			}
		}
	}
	json_object_object_add(res, "worker_preempted",
			       json_object_new_int64((int64_t)(bt_workers_preempted() - pre0)));
	bt_workers_stop();
	bt_add_traffic_json(res, &t);
	json_object_object_add(res, "workers", json_object_new_int((int)nw));
	json_object_object_add(res, "lcores", json_object_new_string(lcores));
	json_object_object_add(res, "mode", json_object_new_string(
		o->loopback ? "loopback" : o->io_only ? "io" : "sluice"));
	json_object_object_add(res, "window_s", json_object_new_double(secs));
	json_object_object_add(res, "avg_frame", json_object_new_double(avg_frame));
	bt_stat_of(mpps, reps, &st);
	json_object_object_add(res, "mpps", bt_stat_json(&st));
	json_object_object_add(res, "gbps", json_object_new_double(st.med * (avg_frame + 4) * 8 / 1e3));
	bt_stat_of(per_w, reps, &st);
	json_object_object_add(res, "mpps_per_worker", bt_stat_json(&st));
	bt_stat_of(cpp, reps, &st);
	json_object_object_add(res, "cycles_per_pkt", bt_stat_json(&st));
	if (!o->io_only) {
		bt_stat_of(busy_cpp, reps, &st);
		json_object_object_add(res, "busy_cycles_per_pkt", bt_stat_json(&st));
	}
	json_object_object_add(res, "counters", bt_dp_counters());
	json_object_object_add(res, "overloads", json_object_new_int64((int64_t)bt_dp_overloads()));
	json_object_object_add(res, "tsc_hz", json_object_new_int64((int64_t)hz));
	json_object_object_add(res, "flow_flushes", json_object_new_int64((int64_t)g.flushes));
	bt_rig_free(&g);
	bt_traffic_free(&t);
	return 0;
}
