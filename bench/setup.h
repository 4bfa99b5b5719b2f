/* sluice-bench: start-up of the children that run the dataplane in-process
 * (EAL, workers, policy), shared by the matcher, dataplane, reload and
 * memory figures. */
#ifndef SLUICE_BENCH_SETUP_H
#define SLUICE_BENCH_SETUP_H

#include "bench.h"

/* Traffic of a child: the capture when given, else the generator. */
int bt_traffic_for(const struct bt_child_opts *o, struct bt_traffic *t);
/* EAL --lcores for a main lcore and nworkers workers on the cpus listed
 * ("main,worker,worker..."). */
void bt_lcores(const char *cpus, unsigned nworkers, char *out, size_t len);
unsigned bt_dp_mem_mb(const struct bt_traffic *t, uint32_t flows, unsigned nworkers);
/* EAL (-m mem_mb, 0: enough for the tables), config sized for `flows`,
 * workers, events, o->policy. only_lcore >= 0: one worker, on that lcore
 * (the other worker lcores stay free). */
int bt_dp_start(const struct bt_child_opts *o, uint32_t flows, unsigned nworkers,
		const char *lcores, unsigned mem_mb, int only_lcore);
void bt_dp_stop(void);
void bt_events_drain(void);
void bt_add_traffic_json(json_object *res, const struct bt_traffic *t);

#endif
