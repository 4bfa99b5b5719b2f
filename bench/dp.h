/* sluice-bench: the ring-port rig of the dataplane figures (a traffic
 * source and sink on the main lcore feeding sluice's workers through
 * rte_eth_from_rings ports), shared by the throughput and reload children. */
#ifndef SLUICE_BENCH_DP_H
#define SLUICE_BENCH_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench.h"
#include "sluice.h"

#define BT_MAXQ 32
#define BT_MAXCHUNKS 64

struct rte_ring;

/* rx ring depth of the paced rig (reload figure): a NIC's rx ring set
 * deep (mlx5 allows 32k descriptors, ice 8k), so a worker the host holds
 * off its cpu for a few ms is not counted as a reload's loss */
#define BT_RX_RING_PACED 16384

struct bt_rig {
	unsigned nq;
	bool loopback;
	const struct bt_traffic *t;
	uint16_t port_a, port_b;
	struct rte_ring *rx_a[BT_MAXQ], *tx_a[BT_MAXQ], *rx_b[BT_MAXQ], *tx_b[BT_MAXQ];
	uint32_t *qpkt[BT_MAXQ];    /* frame indexes per queue, wire order */
	uint32_t qn[BT_MAXQ], qnext[BT_MAXQ];
	struct bt_mbufs mb;
	uintptr_t chunk_lo[BT_MAXCHUNKS], chunk_hi[BT_MAXCHUNKS];   /* our mbufs' memory */
	unsigned nchunks;
	uint64_t returned;          /* frames taken back from the tx rings */
	bool flush_at_wrap;         /* end every flow when a queue's traffic starts over */
	struct sl_wcmd flush[BT_MAXQ];
	bool flush_busy[BT_MAXQ];
	uint64_t flushes;
	/* paced source */
	double rate_pps;
	double pace_t0;
	uint64_t pace_sent, pace_skipped;
	uint64_t offered;           /* frames offered to the rx rings */
	uint64_t ring_full;         /* paced: frames the rx rings could not take (lost) */
	/* paced: ring_full by 10 ms slot from hist_t0 (when losses happened) */
	uint32_t *loss_hist;
	uint32_t hist_slots;
	double hist_t0;
	double now;                 /* time of the current poll */
};

/* paced: NIC-sized rx rings (4096) for the reload figure. */
int bt_rig_setup(struct bt_rig *g, const struct bt_traffic *t, unsigned nq, bool loopback,
		 bool paced);
void bt_rig_free(struct bt_rig *g);
/* One round of the source/sink (main lcore). */
void bt_rig_poll(struct bt_rig *g, double now, bool paced);
void bt_workers_launch(bool io_only);
void bt_workers_stop(void);
uint64_t bt_rx_total(void);
/* Involuntary context switches of the worker threads so far: another task
 * took their cpu (noise, not sluice). */
uint64_t bt_workers_preempted(void);

#endif
