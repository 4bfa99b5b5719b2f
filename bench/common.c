/* Helpers shared by the benchmark children: statistics over repeated
 * windows, EAL start-up (on hugepages when the system has them free),
 * mbufs pre-filled from a traffic set, the dataplane configuration sized
 * for it, and the dataplane's counters as JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "bench.h"
#include "sluice.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void bt_stat_of(const double *v, unsigned n, struct bt_stat *s)
{
	double tmp[256];

	memset(s, 0, sizeof(*s));
	if (n == 0)
		return;
	if (n > 256)
		n = 256;
	memcpy(tmp, v, n * sizeof(double));
	qsort(tmp, n, sizeof(double), cmp_double);
	s->n = n;
	s->min = tmp[0];
	s->max = tmp[n - 1];
	s->med = n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

json_object *bt_stat_json(const struct bt_stat *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "median", json_object_new_double(s->med));
	json_object_object_add(o, "min", json_object_new_double(s->min));
	json_object_object_add(o, "max", json_object_new_double(s->max));
	json_object_object_add(o, "n", json_object_new_int((int)s->n));
	return o;
}

double bt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

long bt_maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

void bt_boost(void)
{
	FILE *f;

	/* With scheduler autogroups (the default), nice only orders tasks of
	 * one session: a benchmark child runs in a session of its own (spawned
	 * with setsid) and raises that session's autogroup as well. Failure
	 * (not root, no autogroups) leaves the defaults. */
	f = fopen("/proc/self/autogroup", "w");
	if (f != NULL) {
		fprintf(f, "-20\n");
		fclose(f);
	}
	if (setpriority(PRIO_PROCESS, 0, -20) < 0 && errno != EACCES && errno != EPERM)
		fprintf(stderr, "sluice-bench: setpriority: %s\n", strerror(errno));
}

uint64_t bt_thread_preemptions(pid_t tid)
{
	char path[64], line[256];
	unsigned long long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "nonvoluntary_ctxt_switches: %llu", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

bool bt_eal_huge;

/* MB of free hugepages of the default size, when hugetlbfs is mounted;
 * 0 if not, or if SLUICE_BENCH_NO_HUGE is set (--no-hugepages). */
unsigned bt_huge_free_mb(void)
{
	unsigned long free_pages = 0, kb = 0;
	bool mounted = false;
	char line[512];
	FILE *f;

	if (getenv("SLUICE_BENCH_NO_HUGE"))
		return 0;
	f = fopen("/proc/mounts", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, " hugetlbfs "))
			mounted = true;
	if (f)
		fclose(f);
	f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %lu", &free_pages);
		sscanf(line, "Hugepagesize: %lu kB", &kb);
	}
	if (f)
		fclose(f);
	return mounted ? (unsigned)(free_pages * kb / 1024) : 0;
}

bool bt_huge_fits(unsigned mem_mb)
{
	return bt_huge_free_mb() >= mem_mb + 256;
}

int bt_eal_init(const char *lcores, unsigned mem_mb, bool verbose)
{
	char mem[16], lc[128];
	char *argv[16];
	int argc = 0;

	snprintf(mem, sizeof(mem), "%u", mem_mb);
	snprintf(lc, sizeof(lc), "%s", lcores);
	/* hugepages, as DPDK is deployed, when enough are free (fewer TLB
	 * misses on mbufs, flows and streams); else 4 KB pages */
	bt_eal_huge = bt_huge_fits(mem_mb);
	argv[argc++] = "sluice-bench";
	argv[argc++] = "--lcores";
	argv[argc++] = lc;
	argv[argc++] = bt_eal_huge ? "--in-memory" : "--no-huge";
	if (bt_eal_huge)   /* no device DMA here: pools in few large chunks */
		argv[argc++] = "--iova-mode=va";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-shconf";
	argv[argc++] = "--no-telemetry";
	argv[argc++] = "-m";
	argv[argc++] = mem;
	argv[argc++] = verbose ? "--log-level=*:info" : "--log-level=*:error";
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "sluice-bench: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -rte_errno ? -rte_errno : -EINVAL;
	}
	return 0;
}

/* ---- mbufs ---------------------------------------------------------------- */

static const uint32_t mb_class[5] = { 128, 640, 1536, 9216, 65000 };

static int class_of(uint32_t len)
{
	for (int c = 0; c < 5; c++)
		if (len <= mb_class[c])
			return c;
	return -1;
}

unsigned bt_mbufs_mem_mb(const struct bt_traffic *t)
{
	uint64_t cnt[5] = { 0 }, bytes = 0;

	for (uint32_t i = 0; i < t->n; i++) {
		int c = class_of(t->pkt[i].len);

		if (c >= 0)
			cnt[c]++;
	}
	for (int c = 0; c < 5; c++)
		bytes += cnt[c] * (mb_class[c] + RTE_PKTMBUF_HEADROOM + sizeof(struct rte_mbuf) + 128);
	return (unsigned)(bytes >> 20) + 16;
}

int bt_mbufs_fill(const struct bt_traffic *t, const char *tag, struct bt_mbufs *mb)
{
	uint32_t cnt[5] = { 0 };

	memset(mb, 0, sizeof(*mb));
	mb->m = calloc(t->n ? t->n : 1, sizeof(*mb->m));
	if (mb->m == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->n; i++) {
		int c = class_of(t->pkt[i].len);

		if (c < 0)
			return -E2BIG;
		cnt[c]++;
	}
	for (int c = 0; c < 5; c++) {
		char name[RTE_MEMPOOL_NAMESIZE];

		if (cnt[c] == 0)
			continue;
		snprintf(name, sizeof(name), "bt_%s_%d", tag, c);
		mb->pool[c] = rte_pktmbuf_pool_create(name, cnt[c], 0, 0,
			(uint16_t)(mb_class[c] + RTE_PKTMBUF_HEADROOM), (int)rte_socket_id());
		if (mb->pool[c] == NULL) {
			fprintf(stderr, "sluice-bench: mbuf pool of %u x %u B: %s\n", cnt[c],
				mb_class[c], rte_strerror(rte_errno));
			bt_mbufs_free(mb);
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < t->n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mb->pool[class_of(t->pkt[i].len)]);
		char *p;

		if (m == NULL) {
			bt_mbufs_free(mb);
			return -ENOMEM;
		}
		p = rte_pktmbuf_append(m, (uint16_t)t->pkt[i].len);
		memcpy(p, bt_frame(t, i), t->pkt[i].len);
		mb->m[i] = m;
		mb->n++;
	}
	return 0;
}

void bt_mbufs_free(struct bt_mbufs *mb)
{
	for (uint32_t i = 0; i < mb->n; i++)
		rte_pktmbuf_free(mb->m[i]);
	for (int c = 0; c < 5; c++)
		rte_mempool_free(mb->pool[c]);
	free(mb->m);
	memset(mb, 0, sizeof(*mb));
}

/* ---- dataplane ------------------------------------------------------------------ */

unsigned bt_stream_factor = 2;

void bt_dp_config(struct sl_config *c, uint32_t flows, unsigned workers)
{
	uint32_t per = workers ? (flows + workers - 1) / workers : flows;

	sl_config_defaults(c);
	/* every flow of the traffic set stays in the table: replays find it */
	if (per + per / 4 + 1024 > c->flows)
		c->flows = per + per / 4 + 1024;
	/* payload streams: both directions of every flow may be open at once */
	if (bt_stream_factor * per + 4096 > c->stream_slots)
		c->stream_slots = bt_stream_factor * per + 4096;
	/* fields split over segments (64 B frames) hold a buffer each */
	c->app_buffers = per < 16384 ? (per > 256 ? per : 256) : 16384;
	c->idle_sleep_us = 0;
	/* equal work: raw Hyperscan scans every payload byte, so sluice scans
	 * TLS application data too (figure 1 measures its default apart) */
	c->scan_encrypted = true;
	/* throughput: the source keeps the rx rings full, which is not a
	 * worker falling behind; the reload figure puts the default back */
	c->rx_backlog = 0;
}

uint64_t bt_dp_overloads(void)
{
	struct sl_lcore_stats t;

	sl_stats_sum(&t);
	return t.overload_flow_table + t.overload_ooo + t.overload_app + t.overload_stream +
	       t.overload_frag + t.overload_rx;
}

json_object *bt_dp_counters(void)
{
	struct sl_lcore_stats t;
	json_object *o = json_object_new_object();

	sl_stats_sum(&t);
#define C(x) json_object_object_add(o, #x, json_object_new_int64((int64_t)t.x))
	C(rx_pkts);
	C(tx_pkts);
	C(tx_fail);
	C(drop_policy);
	C(drop_overload);
	C(drop_malformed);
	C(injected);
	C(flows_created);
	C(flows_evicted);
	C(flows_expired);
	C(overload_flow_table);
	C(overload_ooo);
	C(overload_app);
	C(overload_stream);
	C(overload_frag);
	C(overload_events);
	C(overload_rx);
	C(fastpath);
	C(hits);
	C(events);
	C(non_ip);
	C(frags);
	C(depth_reached);
	C(encrypted_bytes);
	C(resumed);
#undef C
	{
		uint64_t dec = 0;

		for (int i = 0; i < SL_DEC__COUNT; i++)
			dec += t.decode_err[i];
		json_object_object_add(o, "decode_errors", json_object_new_int64((int64_t)dec));
	}
	return o;
}
