/* Internal header of sluice-bench: the seeded traffic generator and capture
 * loader, the policy generator, the measurement children (one per figure)
 * and the helpers the parent uses to run them, collect their JSON results
 * and print the table. */
#ifndef SLUICE_BENCH_H
#define SLUICE_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <json-c/json.h>

/* ---- deterministic random numbers (xorshift64*) ------------------------ */

struct bt_rng {
	uint64_t s;
};

static inline void bt_rng_seed(struct bt_rng *r, uint64_t seed)
{
	/* splitmix64 of the seed: never 0 */
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	r->s = (z ^ (z >> 31)) | 1;
}

static inline uint64_t bt_rand(struct bt_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* uniform in [0, n) */
static inline uint32_t bt_range(struct bt_rng *r, uint32_t n)
{
	return (uint32_t)(((bt_rand(r) >> 32) * (uint64_t)n) >> 32);
}

/* log-uniform in [lo, hi] */
uint32_t bt_logu(struct bt_rng *r, uint32_t lo, uint32_t hi);

/* ---- traffic ------------------------------------------------------------- */

enum bt_profile {
	BT_P64 = 0,     /* minimum-size frames: tiny segments */
	BT_IMIX = 1,    /* 7:4:1 of 64/594/1518 B frames */
	BT_P1500 = 2,   /* full-size data segments, ACKs piggybacked */
};

enum bt_shape {
	BT_SHAPE_NORMAL = 0,   /* web-like flows of a few KB to tens of KB */
	BT_SHAPE_SHORT = 1,    /* one request and one answer per flow */
};

/* One frame of a traffic set, in wire order. */
struct bt_pkt {
	uint64_t off;       /* frame bytes at buf + off */
	uint32_t len;       /* frame length (no FCS) */
	uint32_t flow;      /* flow index (both directions) */
	uint16_t pl_off;    /* L4 payload offset in the frame */
	uint16_t pl_len;    /* L4 payload bytes, 0 when none or not TCP/UDP */
	uint8_t proto;      /* 6, 17, other, 0: not IP */
	uint8_t dir;        /* 0: from the flow key's lower end, 1: other */
};

struct bt_traffic {
	char name[48];
	uint8_t *buf;
	size_t used, cap;
	struct bt_pkt *pkt;
	uint32_t n, pcap_cap;
	uint32_t nflows;
	uint64_t frame_bytes;     /* sum of frame lengths */
	uint64_t payload_bytes;   /* sum of TCP/UDP payload lengths */
	uint64_t tcp_payload_bytes;
	uint32_t max_frame;
	uint32_t ipv6_pkts, vlan_pkts;
	uint32_t skipped;         /* frames left out (capture: too large) */
};

struct bt_gen_opts {
	uint32_t flows;
	enum bt_profile profile;
	enum bt_shape shape;
	uint64_t seed;
	unsigned v6_pct;    /* share of flows over IPv6 */
	unsigned vlan_pct;  /* share of flows VLAN-tagged */
};

const char *bt_profile_name(enum bt_profile p);
int bt_profile_parse(const char *s);

/* Names servers have in generated traffic (deterministic for a seed). */
#define BT_NAME_POOL 20000
const char *bt_traffic_name(uint64_t seed, uint32_t i);
/* The payload literal and regex subject planted in a few HTTP bodies. */
#define BT_PLANTED_LITERAL "X5O-SLUICE-BENCH-PLANTED-MARKER"
#define BT_PLANTED_REGEX_SUBJECT "sluicebench-token=0123456789abcdef"

int bt_traffic_generate(const struct bt_gen_opts *o, struct bt_traffic *t);
/* Ethernet capture; frames larger than max_frame are skipped (counted). */
int bt_traffic_load_pcap(const char *path, uint32_t max_frame, struct bt_traffic *t);
/* Fill flow/dir/payload fields of every packet by decoding it (sl_decode)
 * and numbering 5-tuples; both the generator and the loader call it. */
int bt_traffic_index(struct bt_traffic *t);
void bt_traffic_free(struct bt_traffic *t);
int bt_traffic_write_pcap(const struct bt_traffic *t, const char *path);
static inline const uint8_t *bt_frame(const struct bt_traffic *t, uint32_t i)
{
	return t->buf + t->pkt[i].off;
}

/* ---- policies ------------------------------------------------------------- */

enum bt_policy_kind {
	BT_POL_NONE = 0,        /* no rules: forward only */
	BT_POL_DOM1K,
	BT_POL_DOM100K,
	BT_POL_DOM1M,
	BT_POL_LIT1K,
	BT_POL_RE100,
	BT_POL_CIDR10K,
	BT_POL_DOM100K_LIT1K,   /* the goal policy of figure 2 */
	BT_POL_MIXED,
	BT_POL__COUNT
};

const char *bt_policy_name(int kind);
int bt_policy_parse(const char *s);
/* Write policy `kind` (revision rev) into dir; *path gets the file name
 * (malloc'd). extra_names: names known to occur in a capture, some of which
 * are put in the domain lists (may be NULL). */
int bt_policy_write(int kind, const char *dir, uint64_t seed, const char *rev,
		    char **const extra_names, uint32_t nextra, char **path);

/* ---- results --------------------------------------------------------------- */

struct bt_stat {
	double med, min, max;
	unsigned n;
};

void bt_stat_of(const double *v, unsigned n, struct bt_stat *s);
json_object *bt_stat_json(const struct bt_stat *s);
double bt_now(void);                /* CLOCK_MONOTONIC seconds */
long bt_maxrss_kb(void);            /* this process, from getrusage */
/* Run at the highest non-real-time priority this process may have: own
 * autogroup at -20 (the process should lead its own session), nice -20. */
void bt_boost(void);
/* Involuntary context switches of a thread of this process. */
uint64_t bt_thread_preemptions(pid_t tid);

/* ---- children -------------------------------------------------------------- */

/* Common options of a child run (parsed from the child's command line). */
struct bt_child_opts {
	const char *kind;       /* matcher, dp, testpmd-like io, reload, memory, records, compile, load */
	const char *out;        /* JSON result file */
	const char *policy;     /* artefact or source */
	const char *policy2;    /* reload: the other revision */
	const char *pcap;       /* traffic from a capture instead of the generator */
	struct bt_gen_opts gen;
	unsigned workers;
	unsigned reps;
	double secs;            /* per measurement window */
	double warmup;
	double load_pct;        /* reload: offered load, % of measured capacity */
	bool io_only;           /* dp: plain rx/tx loop instead of sluice */
	bool loopback;          /* dp: net_ring loopback ports like testpmd */
	bool shed;              /* keep sluice's rx backlog shedding (reload figure) */
	const char *cpus;       /* "0,1": main lcore cpu, worker cpus */
	unsigned mem_mb;        /* EAL -m, 0: computed */
	const char *workdir;
	bool verbose;
};

int bt_child_matcher(const struct bt_child_opts *o, json_object *res);
int bt_child_dp(const struct bt_child_opts *o, json_object *res);
int bt_child_reload(const struct bt_child_opts *o, json_object *res);
int bt_child_memory(const struct bt_child_opts *o, json_object *res);
int bt_child_records(const struct bt_child_opts *o, json_object *res);
int bt_child_compile(const struct bt_child_opts *o, json_object *res);
int bt_child_load(const struct bt_child_opts *o, json_object *res);
int bt_child_vhost_src(const struct bt_child_opts *o, json_object *res);

/* EAL for a child: no PCI, no shared config, lcores as given
 * ("0@1,1@0"), -m mem_mb; hugepages (--in-memory) when bt_huge_free_mb()
 * leaves room, else --no-huge. Sets bt_eal_huge. 0 or -errno. */
int bt_eal_init(const char *lcores, unsigned mem_mb, bool verbose);
unsigned bt_huge_free_mb(void);
/* Enough free hugepages for a process of mem_mb (with 256 MB to spare):
 * sluice's children (bt_eal_init) and testpmd decide alike. */
bool bt_huge_fits(unsigned mem_mb);
extern bool bt_eal_huge;

/* mbufs holding a traffic set, one per frame, allocated from pools sized
 * by frame size class; refcnt kept at 1 by the owner (see dp.c). */
struct rte_mbuf;
struct rte_mempool;
struct bt_mbufs {
	struct rte_mbuf **m;
	uint32_t n;
	struct rte_mempool *pool[5];
};
/* MB of EAL memory the mbufs of t need. */
unsigned bt_mbufs_mem_mb(const struct bt_traffic *t);
int bt_mbufs_fill(const struct bt_traffic *t, const char *tag, struct bt_mbufs *mb);
void bt_mbufs_free(struct bt_mbufs *mb);

/* Dataplane config a child starts from: sluice defaults sized for the
 * traffic (flow table, stream slots, field buffers). */
struct sl_config;
extern unsigned bt_stream_factor;   /* stream slots per flow (default 2) */
void bt_dp_config(struct sl_config *c, uint32_t flows, unsigned workers);
/* Stream state / field buffers / reassembly / flow table overloads of all
 * workers, summed (0 expected: otherwise the figure is not comparable). */
uint64_t bt_dp_overloads(void);
json_object *bt_dp_counters(void);

#endif
