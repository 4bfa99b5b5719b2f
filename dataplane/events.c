/* Evidence events between workers and the records writer: workers take an
 * event object from a mempool, fill it and enqueue it on a multi-producer
 * ring without ever waiting; the main lcore drains the ring into the
 * records writer. A full pool or ring is counted per worker (no silent
 * loss) and reported into the records as a loss event. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <rte_lcore.h>

#include "sluice.h"
#include "sluice/records.h"

int sl_events_init(uint32_t n, int socket)
{
	uint32_t ring_sz = rte_align32pow2(n + 1);

	sl_dp.ev_pool = rte_mempool_create("sl_events", n, sizeof(struct sl_event),
		n >= 1024 ? 64 : 0, 0, NULL, NULL, NULL, NULL, socket, 0);
	if (sl_dp.ev_pool == NULL)
		return -ENOMEM;
	sl_dp.ev_ring = rte_ring_create("sl_events", ring_sz, socket, RING_F_SC_DEQ);
	if (sl_dp.ev_ring == NULL)
		return -ENOMEM;
	return 0;
}

void sl_events_free(void)
{
	rte_ring_free(sl_dp.ev_ring);
	rte_mempool_free(sl_dp.ev_pool);
	sl_dp.ev_ring = NULL;
	sl_dp.ev_pool = NULL;
}

/* Worker side: an event to fill, or NULL (counted). */
struct sl_event *sl_event_get(struct sl_worker *w)
{
	void *ev;

	if (SL_UNLIKELY(rte_mempool_get(sl_dp.ev_pool, &ev) < 0)) {
		w->st.overload_events++;
		return NULL;
	}
	return ev;
}

/* Worker side: hand a filled event to the writer. 0 or -ENOBUFS (counted). */
int sl_event_put(struct sl_worker *w, struct sl_event *ev)
{
	if (SL_UNLIKELY(rte_ring_mp_enqueue(sl_dp.ev_ring, ev) < 0)) {
		rte_mempool_put(sl_dp.ev_pool, ev);
		w->st.overload_events++;
		return -ENOBUFS;
	}
	w->st.events++;
	return 0;
}

/* Main lcore: write up to max queued events. Returns how many. */
unsigned sl_events_drain(unsigned max)
{
	void *evs[64];
	unsigned done = 0;

	if (sl_dp.ev_ring == NULL)
		return 0;
	while (done < max) {
		unsigned n = rte_ring_sc_dequeue_burst(sl_dp.ev_ring, evs,
			RTE_MIN(64u, max - done), NULL);

		if (n == 0)
			break;
		for (unsigned i = 0; i < n; i++) {
			if (sl_dp.records)
				sl_records_write(sl_dp.records, evs[i]);
		}
		rte_mempool_put_bulk(sl_dp.ev_pool, evs, n);
		done += n;
	}
	if (done)
		sl_snapshot_events_consumed(done);
	return done;
}

/* Main lcore: record an administrative event (reload, rule switched off,
 * start, stop). Written directly: the main lcore owns the writer. */
int sl_events_admin(const char *fmt, ...)
{
	struct sl_event *ev;
	va_list ap;
	int rc;

	if (sl_dp.records == NULL)
		return 0;
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return -ENOMEM;
	ev->kind = SL_EVT_ADMIN;
	ev->time_ns = sl_now_ns();
	ev->lcore = (uint16_t)rte_lcore_id();
	ev->dir = SL_DIR_NONE;
	if (sl_dp.snap)
		ev->meta = sl_dp.snap->meta;
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	va_end(ap);
	rc = sl_records_write(sl_dp.records, ev);
	free(ev);
	return rc;
}
