/* Rx backlog estimate for queues whose device does not report descriptor
 * status (see include/sluice/backlog.h). */
#include "sluice/backlog.h"

#define RATE_NEW 0.25   /* weight of a closed window in the rate */
#define DRAINING 1.1    /* taken at least this much faster than the rate: draining */

double sl_backlog_waiting(const struct sl_backlog *b, uint64_t now)
{
	if (b->streak == 0)
		return 0;
	return b->rate * (double)(now - b->dry) - (double)b->streak;
}

int sl_backlog_behind(struct sl_backlog *b, uint64_t now, uint32_t n, uint32_t burst,
		      uint32_t mark, uint64_t window)
{
	double w;

	if (n < burst) {
		/* the queue ran dry: all that arrived since `win` was received */
		b->dry = now;
		b->streak = 0;
		if (b->win == 0) {
			b->win = now;
			b->win_pkts = 0;
		} else if (now - b->win >= window) {
			double r = (double)(b->win_pkts + n) / (double)(now - b->win);

			b->rate = b->rate == 0 ? r : b->rate + RATE_NEW * (r - b->rate);
			b->win = now;
			b->win_pkts = 0;
		} else {
			b->win_pkts += n;
		}
		return SL_BEHIND_NO;
	}
	if (b->streak == 0)
		b->first = now;
	b->streak += n;
	b->win_pkts += n;
	if (mark == 0)
		return SL_BEHIND_NO;
	w = sl_backlog_waiting(b, now);
	if (w >= (double)mark)
		return SL_BEHIND_DEPTH;
	if (b->streak < mark)
		return SL_BEHIND_NO;
	if (w <= -(double)mark)
		return SL_BEHIND_SURGE;
	/* received since `first` against the rate's arrivals over that time */
	if ((double)b->streak < DRAINING * b->rate * (double)(now - b->first))
		return SL_BEHIND_NOT_DRAINING;
	if (b->streak >= 2 * (uint64_t)mark)
		return SL_BEHIND_LONG;
	return SL_BEHIND_NO;
}
