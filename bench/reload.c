/* Figure 4, reload under load: the ring rig with the traffic source on its
 * own lcore, paced at a share of the capacity measured first, and a policy
 * reload every second done the way the control socket does it (compile on
 * a control thread, snapshot build and RCU swap on the main lcore,
 * alternating two revisions). Packets lost = what the rx rings could not
 * take (a worker that stalls) + tx failures + overload drops, compared
 * with the same run without reloads, and placed in time against the
 * compiles and swaps (as are the packets shed by the rx-backlog rule). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "bench.h"
#include "dp.h"
#include "setup.h"
#include "sluice.h"

struct source {
	struct bt_rig *g;
	int run;      /* 1: keep going; 0: stop */
	int paced;
};

static int source_main(void *arg)
{
	struct source *s = arg;

	while (__atomic_load_n(&s->run, __ATOMIC_ACQUIRE))
		bt_rig_poll(s->g, bt_now(), __atomic_load_n(&s->paced, __ATOMIC_RELAXED) != 0);
	return 0;
}

struct compile_job {
	const char *path;
	struct sl_policy *p;
	struct sl_diag diag;
	double secs;
	int rc;
	int done;
};

static void *compile_main(void *arg)
{
	struct compile_job *j = arg;
	double t0 = bt_now();

	j->rc = sl_policy_open(j->path, NULL, &j->p, &j->diag);
	j->secs = bt_now() - t0;
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* the most frames seen waiting in the first rx ring since the last
 * phase_mark (sampled each round of main_duties, every few hundred us) */
static uint32_t ring_max;

struct phase {
	uint64_t offered, ring_full, skipped, preempted;
	uint32_t ring_max;          /* deepest rx ring seen since the previous mark */
	struct sl_lcore_stats st;
};

static void phase_mark(const struct bt_rig *g, struct phase *p)
{
	p->offered = __atomic_load_n(&g->offered, __ATOMIC_RELAXED);
	p->ring_full = __atomic_load_n(&g->ring_full, __ATOMIC_RELAXED);
	p->skipped = __atomic_load_n(&g->pace_skipped, __ATOMIC_RELAXED);
	p->preempted = bt_workers_preempted();
	p->ring_max = ring_max;
	ring_max = 0;
	sl_stats_sum(&p->st);
}

/* Run the main lcore's duties for secs seconds: events, and reloads every
 * second when paths are given. */
#define MAX_SWAPS 256
#define SWAP_WINDOW_S 0.1   /* "after a swap": this long after a publish */

/* [begin, end) of each window, in bt_now() time */
static double swap_win[MAX_SWAPS][2];     /* a publish and SWAP_WINDOW_S after */
static double compile_win[MAX_SWAPS][2];  /* a compile, start to end */
static unsigned nswaps, ncompiles;

/* By 10 ms slot of the rig's loss timeline (its hist_t0 and hist_slots),
 * sampled by the main lcore: packets shed (not inspected), and the
 * workers' packets received and busy TSC cycles (what a packet cost in
 * that slot) */
static const struct bt_rig *slot_rig;
static uint32_t *shed_hist;
static uint64_t *rx_hist, *busy_hist;
static uint64_t shed_last, rx_last, busy_last;
/* the most frames seen waiting in the first rx ring, by slot */
static uint32_t *ring_hist;

static void slot_sample(void)
{
	struct sl_lcore_stats st;
	double now = bt_now();
	uint64_t slot;
	uint32_t depth;

	if (slot_rig == NULL)
		return;
	depth = rte_ring_count(slot_rig->rx_a[0]);
	if (depth > ring_max)
		ring_max = depth;
	if (shed_hist == NULL || now < slot_rig->hist_t0)
		return;
	sl_stats_sum(&st);
	slot = (uint64_t)((now - slot_rig->hist_t0) * 100);
	if (slot < slot_rig->hist_slots) {
		shed_hist[slot] += (uint32_t)(st.overload_rx - shed_last);
		rx_hist[slot] += st.rx_pkts - rx_last;
		busy_hist[slot] += st.busy_tsc - busy_last;
		if (depth > ring_hist[slot])
			ring_hist[slot] = depth;
	}
	shed_last = st.overload_rx;
	rx_last = st.rx_pkts;
	busy_last = st.busy_tsc;
}

/* Does the 10 ms slot starting at t0 overlap one of the n windows? */
static bool in_windows(double t0, const double (*win)[2], unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		if (t0 + 0.01 > win[k][0] && t0 < win[k][1])
			return true;
	return false;
}

static int main_duties(double secs, const char *const paths[2], json_object *reloads)
{
	double end = bt_now() + secs, next = bt_now() + 1.0;
	unsigned k = 0;
	struct compile_job *job = NULL;
	pthread_t th;

	while (bt_now() < end || job != NULL) {
		if (sl_events_drain(1024) == 0)
			usleep(200);
		slot_sample();
		if (paths && job == NULL && bt_now() >= next && bt_now() < end) {
			job = calloc(1, sizeof(*job));
			if (job == NULL)
				return -ENOMEM;
			job->path = paths[k % 2];
			sl_diag_init(&job->diag);
			if (ncompiles < MAX_SWAPS)
				compile_win[ncompiles][0] = bt_now();
			if (pthread_create(&th, NULL, compile_main, job) != 0)
				return -EAGAIN;
			next += 1.0;
		}
		if (job != NULL && __atomic_load_n(&job->done, __ATOMIC_ACQUIRE)) {
			struct sl_snapshot *s = NULL;
			double t0, t1, t2;
			json_object *o;

			pthread_join(th, NULL);
			if (ncompiles < MAX_SWAPS)
				compile_win[ncompiles++][1] = bt_now();
			if (job->rc < 0) {
				sl_diag_print(&job->diag, stderr);
				return job->rc;
			}
			t0 = bt_now();
			if (sl_snapshot_build(job->p, job->path, NULL, &s) < 0)
				return -ENOMEM;
			s->compile_s = job->secs;
			t1 = bt_now();
			sl_snapshot_publish(s);
			t2 = bt_now();
			if (nswaps < MAX_SWAPS) {
				swap_win[nswaps][0] = t1;
				swap_win[nswaps++][1] = t1 + SWAP_WINDOW_S;
			}
			o = json_object_new_object();
			json_object_object_add(o, "compile_s", json_object_new_double(job->secs));
			json_object_object_add(o, "build_s", json_object_new_double(t1 - t0));
			json_object_object_add(o, "swap_s", json_object_new_double(t2 - t1));
			json_object_array_add(reloads, o);
			sl_policy_unref(job->p);
			sl_diag_free(&job->diag);
			free(job);
			job = NULL;
			k++;
		}
	}
	return 0;
}

static json_object *phase_json(const struct phase *a, const struct phase *b, double secs)
{
	json_object *o = json_object_new_object();
	uint64_t lost = (b->ring_full - a->ring_full) + (b->st.tx_fail - a->st.tx_fail) +
			(b->st.drop_overload - a->st.drop_overload);

	json_object_object_add(o, "seconds", json_object_new_double(secs));
	json_object_object_add(o, "offered", json_object_new_int64((int64_t)(b->offered - a->offered)));
	json_object_object_add(o, "offered_mpps",
			       json_object_new_double((double)(b->offered - a->offered) / secs / 1e6));
	json_object_object_add(o, "rx", json_object_new_int64((int64_t)(b->st.rx_pkts - a->st.rx_pkts)));
	json_object_object_add(o, "rx_ring_full",
			       json_object_new_int64((int64_t)(b->ring_full - a->ring_full)));
	json_object_object_add(o, "tx_fail",
			       json_object_new_int64((int64_t)(b->st.tx_fail - a->st.tx_fail)));
	json_object_object_add(o, "drop_overload",
			       json_object_new_int64((int64_t)(b->st.drop_overload - a->st.drop_overload)));
	json_object_object_add(o, "drop_policy",
			       json_object_new_int64((int64_t)(b->st.drop_policy - a->st.drop_policy)));
	json_object_object_add(o, "source_lag",
			       json_object_new_int64((int64_t)(b->skipped - a->skipped)));
	json_object_object_add(o, "lost", json_object_new_int64((int64_t)lost));
	json_object_object_add(o, "shed",
			       json_object_new_int64((int64_t)(b->st.overload_rx - a->st.overload_rx)));
	json_object_object_add(o, "worker_preempted",
			       json_object_new_int64((int64_t)(b->preempted - a->preempted)));
	json_object_object_add(o, "rx_ring_max", json_object_new_int64(b->ring_max));
	{
		/* bursts found behind, by which rule of the estimate */
		json_object *w = json_object_new_object();

		json_object_object_add(w, "depth", json_object_new_int64((int64_t)(
			b->st.rx_behind[SL_BEHIND_DEPTH] - a->st.rx_behind[SL_BEHIND_DEPTH])));
		json_object_object_add(w, "surge", json_object_new_int64((int64_t)(
			b->st.rx_behind[SL_BEHIND_SURGE] - a->st.rx_behind[SL_BEHIND_SURGE])));
		json_object_object_add(w, "not_draining", json_object_new_int64((int64_t)(
			b->st.rx_behind[SL_BEHIND_NOT_DRAINING] -
			a->st.rx_behind[SL_BEHIND_NOT_DRAINING])));
		json_object_object_add(w, "long_run", json_object_new_int64((int64_t)(
			b->st.rx_behind[SL_BEHIND_LONG] - a->st.rx_behind[SL_BEHIND_LONG])));
		json_object_object_add(o, "behind_bursts", w);
	}
	return o;
}

int bt_child_reload(const struct bt_child_opts *o, json_object *res)
{
	double secs = o->secs > 0 ? o->secs : 5.0;
	double load = o->load_pct > 0 ? o->load_pct : 50.0;
	const char *paths[2] = { o->policy, o->policy2 ? o->policy2 : o->policy };
	struct source src = { 0 };
	struct bt_traffic t;
	struct bt_rig g;
	struct phase a, b, c;
	char lcores[256], cpus[64];
	unsigned mcpu = 0, wcpu = 1;
	json_object *reloads = json_object_new_array();
	uint32_t marks[SL_MAX_PORTS];
	double cap;
	int rc;

	rc = bt_traffic_for(o, &t);
	if (rc < 0)
		return rc;
	/* main and source share the first cpu, the worker has the second */
	if (o->cpus)
		sscanf(o->cpus, "%u,%u", &mcpu, &wcpu);
	snprintf(cpus, sizeof(cpus), "%u,%u", mcpu, mcpu);
	bt_lcores(cpus, 1, lcores, sizeof(lcores));
	snprintf(lcores + strlen(lcores), sizeof(lcores) - strlen(lcores), ",2@%u", wcpu);
	{
		/* as deployed: a worker that falls behind sheds inspection
		 * (counted as shed) rather than losing packets */
		struct bt_child_opts oo = *o;

		oo.shed = true;
		rc = bt_dp_start(&oo, t.nflows, 1, lcores, bt_dp_mem_mb(&t, t.nflows, 1), 2);
	}
	if (rc < 0)
		return rc;
	sl_dp.cfg.rx_desc = BT_RX_RING_PACED;   /* the rig's paced rx rings */
	rc = bt_rig_setup(&g, &t, 1, false, true);
	if (rc < 0)
		return rc;
	/* capacity is measured with the rings full on purpose: no shedding */
	memcpy(marks, sl_dp.rx_mark, sizeof(marks));
	memset(sl_dp.rx_mark, 0, sizeof(sl_dp.rx_mark));
	src.g = &g;
	src.run = 1;
	bt_workers_launch(false);
	rte_eal_remote_launch(source_main, &src, 1);
	/* capacity, as fast as the worker goes: median of 3 windows */
	usleep(300000);
	{
		double w[3];
		struct bt_stat cs;

		for (int i = 0; i < 3 && rc == 0; i++) {
			phase_mark(&g, &a);
			rc = main_duties(0.5, NULL, NULL);
			phase_mark(&g, &b);
			w[i] = (double)(b.st.rx_pkts - a.st.rx_pkts) / 0.5;
		}
		bt_stat_of(w, 3, &cs);
		cap = cs.med;
	}
	memcpy(sl_dp.rx_mark, marks, sizeof(marks));
	/* paced: load% of capacity, without then with reloads */
	g.rate_pps = cap * load / 100.0;
	g.pace_t0 = 0;
	__atomic_store_n(&src.paced, 1, __ATOMIC_RELEASE);
	usleep(200000);
	slot_rig = &g;
	phase_mark(&g, &a);
	if (rc == 0)
		rc = main_duties(secs, NULL, NULL);
	phase_mark(&g, &b);
	/* losses and shed packets by 10 ms slot during the reload phase:
	 * which of them came within SWAP_WINDOW_S after a swap, or while a
	 * compile ran */
	g.hist_slots = (uint32_t)(secs * 100) + 200;
	g.loss_hist = calloc(g.hist_slots, sizeof(*g.loss_hist));
	if (g.loss_hist == NULL)
		rc = -ENOMEM;
	g.hist_t0 = bt_now();
	shed_hist = calloc(g.hist_slots, sizeof(*shed_hist));
	rx_hist = calloc(g.hist_slots, sizeof(*rx_hist));
	busy_hist = calloc(g.hist_slots, sizeof(*busy_hist));
	ring_hist = calloc(g.hist_slots, sizeof(*ring_hist));
	if (shed_hist == NULL || rx_hist == NULL || busy_hist == NULL || ring_hist == NULL)
		rc = -ENOMEM;
	shed_last = b.st.overload_rx;   /* the reload phase starts at b */
	rx_last = b.st.rx_pkts;
	busy_last = b.st.busy_tsc;
	if (rc == 0)
		rc = main_duties(secs, paths, reloads);
	phase_mark(&g, &c);
	__atomic_store_n(&src.run, 0, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(1);
	usleep(100000);
	bt_workers_stop();
	if (rc < 0)
		return rc;
	bt_add_traffic_json(res, &t);
	json_object_object_add(res, "capacity_mpps", json_object_new_double(cap / 1e6));
	json_object_object_add(res, "load_pct", json_object_new_double(load));
	json_object_object_add(res, "rx_desc", json_object_new_int64(sl_dp.cfg.rx_desc));
	json_object_object_add(res, "baseline", phase_json(&a, &b, secs));
	json_object_object_add(res, "reloading", phase_json(&b, &c, secs));
	json_object_object_add(res, "reloads", reloads);
	{
		uint64_t near = 0, compiling = 0, shed_near = 0, shed_compiling = 0;
		uint64_t rx_near = 0, busy_near = 0, rx_else = 0, busy_else = 0;
		/* SLUICE_BENCH_SLOTS=FILE: one line a slot: slot, after a swap,
		 * compiling, shed, rx, busy cycles, lost, most waiting */
		const char *dump = getenv("SLUICE_BENCH_SLOTS");
		FILE *df = dump ? fopen(dump, "w") : NULL;

		for (uint32_t i = 0; i < g.hist_slots; i++) {
			double t0 = g.hist_t0 + i * 0.01;
			bool after_swap = in_windows(t0, swap_win, nswaps);
			bool compile = in_windows(t0, compile_win, ncompiles);

			if (after_swap) {
				near += g.loss_hist[i];
				shed_near += shed_hist[i];
				rx_near += rx_hist[i];
				busy_near += busy_hist[i];
			}
			if (compile) {
				compiling += g.loss_hist[i];
				shed_compiling += shed_hist[i];
			}
			if (!after_swap && !compile) {
				rx_else += rx_hist[i];
				busy_else += busy_hist[i];
			}
			if (df)
				fprintf(df, "%u %d %d %u %" PRIu64 " %" PRIu64 " %u %u\n", i,
					after_swap, compile, shed_hist[i], rx_hist[i], busy_hist[i],
					g.loss_hist[i], ring_hist[i]);
		}
		if (df)
			fclose(df);
		/* the workers' busy cycles per packet received: after a swap
		 * (the new snapshot's first use), and away from swaps and
		 * compiles. Below capacity a poll finds few packets, so this
		 * also moves with how the source's packets bunch (fewer,
		 * fuller bursts while a compile holds the source's cpu). */
		json_object_object_add(res, "cycles_per_pkt_after_swaps",
				       json_object_new_double(rx_near ? (double)busy_near / rx_near : 0));
		json_object_object_add(res, "cycles_per_pkt_otherwise",
				       json_object_new_double(rx_else ? (double)busy_else / rx_else : 0));
		json_object_object_add(res, "lost_after_swaps", json_object_new_int64((int64_t)near));
		json_object_object_add(res, "lost_while_compiling",
				       json_object_new_int64((int64_t)compiling));
		json_object_object_add(res, "shed_after_swaps", json_object_new_int64((int64_t)shed_near));
		json_object_object_add(res, "shed_while_compiling",
				       json_object_new_int64((int64_t)shed_compiling));
		json_object_object_add(res, "swap_window_s", json_object_new_double(SWAP_WINDOW_S));
	}
	free(g.loss_hist);
	free(shed_hist);
	free(rx_hist);
	free(busy_hist);
	free(ring_hist);
	ring_hist = NULL;
	slot_rig = NULL;
	shed_hist = NULL;
	rx_hist = busy_hist = NULL;
	json_object_object_add(res, "counters", bt_dp_counters());
	bt_rig_free(&g);
	bt_traffic_free(&t);
	return 0;
}
