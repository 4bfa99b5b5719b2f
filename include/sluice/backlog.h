/* How far behind a worker is on an rx queue whose device cannot say
 * (no rte_eth_rx_descriptor_status: net_ring, af_packet, tap, memif,
 * virtio...). A plain function of what the worker sees, the size of each
 * burst and the time of each poll, so it is unit-tested without DPDK.
 *
 * The queue is empty whenever a receive comes back short of a full burst.
 * Between two such moments everything that arrived was received, which
 * gives the arrival rate. While bursts come back full, what is waiting is
 * about rate * (now - last short receive) - packets received since.
 * The older rule ("a ring's worth of full bursts in a row") also fired
 * when a worker was only slowly draining a short queue, and shed
 * inspection it did not need to (bench/NOTES.md); it now applies only
 * where the estimate cannot tell draining from filling.
 */
#ifndef SLUICE_BACKLOG_H
#define SLUICE_BACKLOG_H

#include <stdbool.h>
#include <stdint.h>

/* One per rx queue a worker polls; all zero to start. Written and read
 * by that worker only. Times in any unit (the worker uses the TSC). */
struct sl_backlog {
	uint64_t dry;       /* last receive that was not a full burst */
	uint64_t first;     /* first full burst since `dry` */
	uint64_t win;       /* start of the rate window (a short receive); 0: none yet */
	uint64_t streak;    /* packets received in full bursts since `dry` */
	uint64_t win_pkts;  /* packets received since `win` */
	double rate;        /* arrivals per time unit (EWMA of windows); 0 until one closes */
};

/* Why a queue counts as behind (what sl_backlog_behind returns; 0: it
 * does not). SL_BEHIND_DEVICE is the device's own descriptor status,
 * not returned here, for the worker's counters. */
enum sl_behind_why {
	SL_BEHIND_NO = 0,
	SL_BEHIND_DEPTH,        /* the estimate reached the mark */
	SL_BEHIND_SURGE,        /* a mark more than the rate accounts for */
	SL_BEHIND_NOT_DRAINING, /* a mark's worth, taken no faster than 1.1x the rate */
	SL_BEHIND_LONG,         /* twice the mark in full bursts in a row */
	SL_BEHIND_DEVICE,
	SL_BEHIND__COUNT
};

/* After a receive of n packets (burst: the most it asked for) at time
 * now: is at least `mark` still waiting? Not (0), or why (enum
 * sl_behind_why, in the order checked):
 * - the estimate says so; or
 * - the full bursts brought at least `mark` more than the rate accounts
 *   for: the rate is too low (a surge since it was measured, or none
 *   measured yet), so what waits is not known; or
 * - a mark's worth came in full bursts in a row and the worker has been
 *   taking them no faster than 1.1 times the rate: by the estimate the
 *   queue is not draining, and a surge would not show (the worker could
 *   be slowed just as arrivals rose; this is the older rule); or
 * - twice the mark came in full bursts in a row, whatever the estimate.
 * A rate window closes at the first short receive at least `window` after
 * it opened. Times must be > 0. */
int sl_backlog_behind(struct sl_backlog *b, uint64_t now, uint32_t n, uint32_t burst,
		      uint32_t mark, uint64_t window);

/* The estimate itself after the last receive: arrivals since the queue
 * was last empty (rate * time) less the packets received since; negative
 * when more came than the rate accounts for; 0 after a short receive. */
double sl_backlog_waiting(const struct sl_backlog *b, uint64_t now);

#endif
