/* libFuzzer target: the dataplane's whole packet path in-process, on one
 * worker context of the real libsluice-dp (EAL without hugepages, no
 * ports): decode, IP fragment reassembly (rte_ip_frag), flow table and
 * eviction, TCP reassembly, HTTP/TLS/DNS extraction, payload streams,
 * matching, verdicts, crafted answers, shadow candidate and reloads, and
 * optionally the records writer. Tables are tiny so every overload path
 * is reachable.
 *
 * Input: 2 header bytes, then records [op u8][len u16 le][len bytes]:
 *   op & 3 == 0  a frame in one mbuf
 *   op & 3 == 1  a frame split over two chained mbufs
 *   op & 3 == 2  control: len % 4 = policy A, policy B (a reload: new
 *                generation), shadow candidate A or B (len / 4), shadow
 *                off (no bytes follow)
 *   op & 3 == 3  end the burst, free the fragment death row (as a worker
 *                does after polling all its ports) and advance the clock
 *                by len ms (no bytes)
 *   op & 0x80    end the burst after this frame (else every 32 frames)
 * Header byte 0: bit 0 fail-closed, bit 1 evict idle flows at once, bit 2
 * 300 out-of-order bytes per flow, bit 3 inspection depth 2048, bit 4
 * capture packets into events, bit 5 write and verify records. Byte 1:
 * bit 0 every other burst comes while the worker is behind (rx backlog:
 * inspection shed).
 *
 * After each input every flow is ended and every pool must be full again:
 * mbufs, fragment mbufs, out-of-order chunks, field buffers, events. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_mempool.h>

#include "sluice.h"
#include "sluice/records.h"

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/lsan_interface.h>

/* DPDK memory is invisible to LeakSanitizer: what only a snapshot or a
 * worker (both in rte_malloc memory) points to would look leaked. Scan it
 * as a root region. */
static int lsan_root(const struct rte_memseg_list *msl, void *arg)
{
	(void)arg;
	__lsan_register_root_region(msl->base_va, msl->len);
	return 0;
}
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static const char *const policy_a =
	"policy = { name = \"fuzz-a\"; revision = \"1\"; };\n"
	"zones = { home = { cidr = [ \"192.0.2.0/24\", \"2001:db8:1::/48\" ]; }; };\n"
	"rules = (\n"
	" { id = 1; name = \"bp\"; basis = \"b\"; action = \"block-page\";\n"
	"   match = { domain = [ \"login.bank.example\", \"*.phish.test\" ]; url = [ \"www.example/second/*\" ]; }; },\n"
	" { id = 2; name = \"rst\"; basis = \"b\"; action = \"reset\"; match = { domain = [ \".malware.test\" ]; }; },\n"
	" { id = 3; name = \"drop\"; basis = \"b\"; action = \"drop\";\n"
	"   match = { payload = [ \"EICAR-STANDARD-ANTIVIRUS-TEST-FILE\", \"/forbidden-(report|leaflet)/i\" ]; }; },\n"
	" { id = 4; name = \"ip\"; basis = \"b\"; action = \"drop\"; match = { ip = [ \"198.51.100.200/29\", \"2001:db8:bad::/48\" ]; }; },\n"
	" { id = 5; name = \"log\"; basis = \"b\"; action = \"log\"; match = { domain = [ \"www.example\" ]; payload = [ \"SECRETWORD\" ]; }; },\n"
	" { id = 6; name = \"allow\"; basis = \"b\"; action = \"allow\"; match = { domain = [ \"safe.bank.example\" ]; }; },\n"
	" { id = 7; name = \"shadow\"; basis = \"b\"; action = \"reset\"; mode = \"shadow\"; match = { domain = [ \".casino.test\" ]; }; },\n"
	" { id = 8; name = \"zone\"; basis = \"b\"; action = \"reset\"; match = { payload = [ \"KEYWORD\" ]; origin = \"!home\"; port = [ 80, 8080 ]; }; },\n"
	" { id = 9; name = \"dns\"; basis = \"b\"; action = \"drop\"; match = { domain = [ \"*.drop.test\" ]; proto = \"udp\"; }; }\n"
	");\n";

static const char *const policy_b =
	"policy = { name = \"fuzz-b\"; revision = \"2\"; };\n"
	"rules = (\n"
	" { id = 1; name = \"bp\"; basis = \"b\"; action = \"reset\"; match = { domain = [ \"login.bank.example\" ]; }; },\n"
	" { id = 5; name = \"log\"; basis = \"b\"; action = \"log\"; match = { payload = [ \"/S[A-Z]+WORD/\" ]; }; },\n"
	" { id = 10; name = \"new\"; basis = \"b\"; action = \"drop\"; match = { domain = [ \"www.example\", \".casino.test\" ]; url = [ \"*/verify*\" ]; ip = [ \"198.51.100.0/24\" ]; }; }\n"
	");\n";

static struct sl_policy *pol[2];
/* Snapshots of both policies, active and candidate, built once: an input
 * switches between them as a reload would (a new generation each), without
 * the cost of building address tables per input (publication and RCU are
 * covered by the control tests). */
static struct sl_snapshot *snap[2], *cand[2];
static struct sl_worker *w;
static uint64_t clock_tsc, clock_ns;
static char rec_dir[64];
static bool shed_every_other;

static int build(int which, bool candidate, struct sl_snapshot **out)
{
	if (sl_snapshot_build(pol[which], which ? "b.cfg" : "a.cfg", NULL, out) < 0)
		return -1;
	(*out)->candidate = candidate;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = {
		"fuzz_dataplane", "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry",
		"-m", "512", "-l", "0-1", "--log-level=*:error", NULL,
	};
	struct sl_config *c = &sl_dp.cfg;
	struct sl_diag diag;

	(void)argc;
	(void)argv;
	if (rte_eal_init((int)SL_ARRAY_SIZE(eal) - 1, eal) < 0) {
		fprintf(stderr, "fuzz_dataplane: EAL init failed\n");
		exit(1);
	}
	sl_config_defaults(c);
	c->flows = 64;
	c->seg_chunks = 24;
	c->app_buffers = 2;
	c->stream_slots = 8;
	c->frag_flows = 4;
	c->frag_mbufs = 512;
	c->mbufs = 1024;
	c->event_ring = 16;
	c->nports = 1;
	c->port[0] = 0;
	c->peer[0] = 0;
	sl_config_finish(c);
	sl_dp.tsc_hz = rte_get_tsc_hz();
	sl_dp.start_ns = sl_now_ns();
	sl_dp.run_nonce = 1;
	sl_diag_init(&diag);
	if (sl_stream_alloc_init() < 0 || sl_workers_setup() < 0 ||
	    sl_events_init(c->event_ring, 0) < 0 ||
	    sl_policy_compile_text(policy_a, "a.cfg", NULL, &pol[0], &diag) < 0 ||
	    sl_policy_compile_text(policy_b, "b.cfg", NULL, &pol[1], &diag) < 0 ||
	    build(0, false, &snap[0]) < 0 || build(1, false, &snap[1]) < 0 ||
	    build(0, true, &cand[0]) < 0 || build(1, true, &cand[1]) < 0) {
		sl_diag_print(&diag, stderr);
		fprintf(stderr, "fuzz_dataplane: setup failed\n");
		exit(1);
	}
	sl_diag_free(&diag);
	sl_dp.snap = snap[0];
#ifdef FUZZ_ASAN
	rte_memseg_list_walk(lsan_root, NULL);
#endif
	w = sl_dp.w[0];
	w->no_tx = true;
	RTE_PER_LCORE(sl_worker_idx) = 0;
	clock_tsc = rte_get_tsc_cycles();
	clock_ns = 1800000000ull * 1000000000ull;
	snprintf(rec_dir, sizeof(rec_dir), "%s/sluice-fuzz-records-%d", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
	return 0;
}

static void tick(uint64_t ms)
{
	clock_tsc += ms * sl_dp.tsc_hz / 1000 + 1;
	clock_ns += ms * 1000000ull + 1;
	w->now_tsc = clock_tsc;
	w->now_ns = clock_ns;
	w->now_s = (int64_t)(clock_ns / 1000000000ull);
}

static void run_burst(struct rte_mbuf **pkts, unsigned *k)
{
	if (*k == 0)
		return;
	w->cand = sl_dp.cand;
	w->shed = shed_every_other && !w->shed;
	sl_worker_process(w, sl_dp.snap, pkts, (uint16_t)*k, 0);
	sl_worker_tx_flush(w);
	sl_events_drain(UINT32_MAX);
	*k = 0;
}

static struct rte_mbuf *make_mbuf(const uint8_t *d, uint32_t len, bool split)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool), *m2;
	uint32_t first = split ? len / 2 : len;
	char *p;

	if (m == NULL)
		return NULL;
	if (first > rte_pktmbuf_tailroom(m))
		first = rte_pktmbuf_tailroom(m);
	p = rte_pktmbuf_append(m, (uint16_t)first);
	if (p == NULL && first)
		goto fail;
	if (first)
		memcpy(p, d, first);
	while (first < len) {
		uint32_t k;

		m2 = rte_pktmbuf_alloc(w->pool);
		if (m2 == NULL)
			goto fail;
		k = RTE_MIN(len - first, (uint32_t)rte_pktmbuf_tailroom(m2));
		memcpy(rte_pktmbuf_append(m2, (uint16_t)k), d + first, k);
		if (rte_pktmbuf_chain(m, m2) < 0) {
			rte_pktmbuf_free(m2);
			goto fail;
		}
		first += k;
	}
	return m;
fail:
	rte_pktmbuf_free(m);
	return NULL;
}

static void rm_records(void)
{
	DIR *dir = opendir(rec_dir);
	struct dirent *de;
	char p[512];

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || de->d_name[1] == '.'))
			continue;
		snprintf(p, sizeof(p), "%s/%s", rec_dir, de->d_name);
		unlink(p);
	}
	closedir(dir);
	rmdir(rec_dir);
}

static void check_pools(void)
{
	if (rte_mempool_avail_count(w->pool) != w->pool->size ||
	    rte_mempool_avail_count(w->frag_pool) != w->frag_pool->size ||
	    rte_mempool_avail_count(sl_dp.ev_pool) != sl_dp.ev_pool->size ||
	    w->seg_pool.nfree != w->seg_pool.nchunks ||
	    w->app_pool.nfree != w->app_pool.nbufs ||
	    w->st.flows_active != 0 || w->lru_head != UINT32_MAX) {
		fprintf(stderr, "pools not full after the input: mbufs %u/%u frag %u/%u events %u/%u "
			"chunks %u/%u buffers %u/%u flows %lu\n",
			rte_mempool_avail_count(w->pool), w->pool->size,
			rte_mempool_avail_count(w->frag_pool), w->frag_pool->size,
			rte_mempool_avail_count(sl_dp.ev_pool), sl_dp.ev_pool->size,
			w->seg_pool.nfree, w->seg_pool.nchunks, w->app_pool.nfree,
			w->app_pool.nbufs, (unsigned long)w->st.flows_active);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct rte_mbuf *pkts[SL_BURST];
	struct sl_config *c = &sl_dp.cfg;
	unsigned k = 0;
	size_t i = 2;
	bool records;

	if (n < 2 || n > 200000)
		return 0;
	c->overload = d[0] & 1 ? SL_FAIL_CLOSED : SL_FAIL_OPEN;
	c->evict_min_idle_ms = d[0] & 2 ? 0 : 1000;
	c->ooo_bytes_per_flow = d[0] & 4 ? 300 : 65536;
	c->inspect_depth = d[0] & 8 ? 2048 : 1 << 20;
	c->capture = (d[0] & 16) != 0;
	records = (d[0] & 32) != 0;
	shed_every_other = (d[1] & 1) != 0;
	w->shed = false;
	if (records) {
		struct sl_records_opts ro = { .dir = rec_dir, .capture = c->capture };

		rm_records();
		if (sl_records_open(&sl_dp.records, &ro) < 0)
			abort();
	}
	tick(0);
	while (i + 3 <= n) {
		uint8_t op = d[i];
		uint32_t len = (uint32_t)d[i + 1] | (uint32_t)d[i + 2] << 8;

		i += 3;
		switch (op & 3) {
		case 0:
		case 1: {
			struct rte_mbuf *m;

			if (len > n - i)
				len = (uint32_t)(n - i);
			m = make_mbuf(d + i, len, (op & 3) == 1);
			i += len;
			if (m == NULL)
				break;
			pkts[k++] = m;
			if (k == SL_BURST || (op & 0x80))
				run_burst(pkts, &k);
			break;
		}
		case 2:
			run_burst(pkts, &k);
			switch (len % 4) {
			case 0:
			case 1:
				sl_dp.snap = snap[len % 4];
				break;
			case 2:
				sl_dp.cand = cand[len / 4 % 2];
				break;
			default:
				sl_dp.cand = NULL;
				break;
			}
			break;
		default:
			/* the worker frees the fragment death row once per poll
			 * of all its ports; here only on this op */
			run_burst(pkts, &k);
			rte_ip_frag_free_death_row(&w->death_row, 0);
			tick(len);
			break;
		}
	}
	run_burst(pkts, &k);

	/* end of input: every flow ends, held fragments expire */
	sl_worker_end_flows(w, sl_dp.snap);
	sl_events_drain(UINT32_MAX);
	tick(600000);
	rte_ip_frag_table_del_expired_entries(w->frag_tbl, &w->death_row, w->now_tsc);
	rte_ip_frag_free_death_row(&w->death_row, 0);
	sl_bigfrag_expire(w, w->now_tsc);
	sl_dp.snap = snap[0];
	sl_dp.cand = NULL;
	w->shed = false;
	check_pools();
	if (records) {
		struct sl_records_verify_result vr;
		int rc;

		if (sl_records_close(sl_dp.records) < 0)
			abort();
		sl_dp.records = NULL;
		rc = sl_records_verify(rec_dir, NULL, &vr);
		if (rc != 0) {
			sl_diag_print(&vr.diag, stderr);
			abort();  /* records made from hostile packets must verify */
		}
		sl_records_verify_free(&vr);
		rm_records();
	}
	return 0;
}
