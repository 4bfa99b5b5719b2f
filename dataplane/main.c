/* sluice: the dataplane application. Live mode takes EAL options and a
 * config file; offline mode (--pcap) starts DPDK itself with a net_pcap
 * device and runs the same code path over a capture. The main lcore loads
 * policies, writes records and serves the control socket; workers forward
 * and inspect. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "sluice.h"
#include "sluice/ctlproto.h"
#include "sluice/records.h"

struct opts {
	const char *config;
	const char *pcap_in;
	const char *pcap_dev_in;   /* what the device reads: pcap_in or a converted copy */
	const char *pcap_out;
	const char *policy;
	const char *records;
	const char *socket;
	unsigned loop;
	unsigned mem_mb;
	bool json;
	bool quiet;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice [EAL options] -- --config FILE [--policy P] [--records DIR] [--socket PATH]\n"
		"       sluice --pcap IN.pcap --out OUT.pcap --policy POLICY [--records DIR]\n"
		"              [--config FILE] [--socket PATH] [--loop N] [--mem MB] [--json]\n"
		"\n"
		"Live mode runs on the ports EAL gives it (NICs, virtio, any vdev).\n"
		"Offline mode runs the same code path over a capture and prints a summary.\n");
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
	__atomic_store_n(&sl_dp.stop, 1, __ATOMIC_RELAXED);
}

static int parse_app_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pcap", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "policy", required_argument, NULL, 'p' },
		{ "records", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 's' },
		{ "loop", required_argument, NULL, 'l' },
		{ "mem", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'i': o->pcap_in = optarg; break;
		case 'o': o->pcap_out = optarg; break;
		case 'p': o->policy = optarg; break;
		case 'r': o->records = optarg; break;
		case 's': o->socket = optarg; break;
		case 'l': o->loop = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': o->mem_mb = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'j': o->json = true; break;
		case 'q': o->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* ---- offline mode helpers -------------------------------------------- */

/* Ethertype of a non-Ethernet frame's payload, and its header length. */
static int l3_of(int dlt, const u_char *d, uint32_t len, uint16_t *etype, uint32_t *hl)
{
	switch (dlt) {
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		*hl = 0;
		if (len < 1)
			return -EINVAL;
		*etype = (d[0] >> 4) == 6 ? 0x86dd : 0x0800;
		return 0;
	case DLT_LINUX_SLL:   /* 16-byte cooked header, protocol at 14 */
		*hl = 16;
		if (len < 16)
			return -EINVAL;
		*etype = (uint16_t)(d[14] << 8 | d[15]);
		return 0;
	case DLT_LINUX_SLL2:  /* 20-byte header, protocol first */
		*hl = 20;
		if (len < 20)
			return -EINVAL;
		*etype = (uint16_t)(d[0] << 8 | d[1]);
		return 0;
	case DLT_NULL:
	case DLT_LOOP: {      /* 4-byte address family, host or network order */
		uint32_t af;

		*hl = 4;
		if (len < 4)
			return -EINVAL;
		memcpy(&af, d, 4);
		if (af > 0xffff)
			af = __builtin_bswap32(af);
		*etype = (af == 24 || af == 28 || af == 30 || af == 10) ? 0x86dd : 0x0800;
		return 0;
	}
	default:
		return -ENOTSUP;
	}
}

/* Count the frames of a capture. A capture whose link type is not Ethernet
 * (raw IP, Linux cooked, BSD loopback) is rewritten into *conv with a
 * placeholder Ethernet header, so the device sees Ethernet frames. */
static long prepare_pcap(const char *path, char *conv, size_t convlen)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline(path, err);
	pcap_t *dead = NULL;
	pcap_dumper_t *dump = NULL;
	static u_char frame[262144 + 14];
	int dlt;
	long n = 0;

	conv[0] = '\0';
	if (p == NULL) {
		fprintf(stderr, "sluice: %s: %s\n", path, err);
		return -EINVAL;
	}
	dlt = pcap_datalink(p);
	if (dlt != DLT_EN10MB) {
		int fd;

		snprintf(conv, convlen, "/tmp/sluice-in-XXXXXX");
		fd = mkstemp(conv);
		if (fd < 0) {
			pcap_close(p);
			return -errno;
		}
		close(fd);
		dead = pcap_open_dead(DLT_EN10MB, 262144);
		dump = dead ? pcap_dump_open(dead, conv) : NULL;
		if (dump == NULL) {
			fprintf(stderr, "sluice: %s: cannot convert link type %s\n", path,
				pcap_datalink_val_to_name(dlt));
			goto fail;
		}
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		uint16_t et;
		uint32_t hl;
		struct pcap_pkthdr oh;

		n++;
		if (dump == NULL)
			continue;
		if (l3_of(dlt, d, h->caplen, &et, &hl) < 0) {
			fprintf(stderr, "sluice: %s: link type %s is not supported\n", path,
				pcap_datalink_val_to_name(dlt));
			goto fail;
		}
		memset(frame, 0, 12);
		frame[1] = 1;          /* 00:01:00:00:00:00 <- 00:00:00:00:00:00 */
		frame[12] = (u_char)(et >> 8);
		frame[13] = (u_char)et;
		memcpy(frame + 14, d + hl, h->caplen - hl);
		oh = *h;
		oh.caplen = h->caplen - hl + 14;
		oh.len = h->len - hl + 14;
		pcap_dump((u_char *)dump, &oh, frame);
	}
	if (dump)
		pcap_dump_close(dump);
	if (dead)
		pcap_close(dead);
	pcap_close(p);
	return n;
fail:
	if (dump)
		pcap_dump_close(dump);
	if (dead)
		pcap_close(dead);
	pcap_close(p);
	unlink(conv);
	conv[0] = '\0';
	return -ENOTSUP;
}

static int build_eal_args(const struct opts *o, char ***out)
{
	static char *args[32];
	static char vdev[2 * 4096 + 64], lcores[64], mem[16];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n = 0;

	const char *in = o->pcap_dev_in ? o->pcap_dev_in : o->pcap_in;

	if (strchr(in, ',') || strchr(o->pcap_out, ',')) {
		fprintf(stderr, "sluice: capture paths may not contain ','\n");
		return -EINVAL;
	}
	snprintf(vdev, sizeof(vdev), "net_pcap0,rx_pcap=%s,tx_pcap=%s%s", in,
		 o->pcap_out, o->loop > 1 ? ",infinite_rx=1" : "");
	/* two lcores (main + one worker) floating over every CPU */
	snprintf(lcores, sizeof(lcores), "0@(0-%ld),1@(0-%ld)", ncpu - 1, ncpu - 1);
	snprintf(mem, sizeof(mem), "%u", o->mem_mb ? o->mem_mb : 1024);
	args[n++] = "sluice";
	args[n++] = "--lcores";
	args[n++] = lcores;
	args[n++] = "--no-huge";
	args[n++] = "--no-pci";
	args[n++] = "--no-shconf";
	args[n++] = "--no-telemetry";
	args[n++] = "-m";
	args[n++] = mem;
	args[n++] = "--log-level=*:warning";
	args[n++] = "--vdev";
	args[n++] = vdev;
	args[n] = NULL;
	*out = args;
	return n;
}

static uint64_t events_lost_reported;

/* Tell the records about events workers could not queue (main lcore). */
static void report_lost_events(void)
{
	struct sl_lcore_stats t;

	if (sl_dp.records == NULL)
		return;
	sl_stats_sum(&t);
	if (t.overload_events > events_lost_reported) {
		sl_records_note_lost(sl_dp.records, t.overload_events - events_lost_reported,
				     "event pool or ring full");
		events_lost_reported = t.overload_events;
	}
}

/* Hits of a rule of the live snapshot, including those counted under
 * snapshots that reloads retired. */
static uint64_t rule_hits(const struct sl_snapshot *s, uint32_t r)
{
	const struct sl_rule_acc *acc = sl_rule_acc_get(sl_policy_rule(s->policy, r)->id, false);
	uint64_t h = acc ? acc->hits : 0;

	for (unsigned i = 0; i < sl_dp.nworkers; i++)
		h += s->ctr[i][r].hits;
	return h;
}

static void print_summary(const struct opts *o, double secs)
{
	struct sl_lcore_stats t;
	struct sl_records_stats rs = { 0 };
	const struct sl_snapshot *s = sl_dp.snap;
	uint64_t dec = 0;

	sl_stats_sum(&t);
	for (int i = 0; i < SL_DEC__COUNT; i++)
		dec += t.decode_err[i];
	if (sl_dp.records)
		sl_records_get_stats(sl_dp.records, &rs);
	if (o->json) {
		printf("{\"packets_in\":%" PRIu64 ",\"packets_out\":%" PRIu64
		       ",\"dropped_policy\":%" PRIu64 ",\"dropped_overload\":%" PRIu64
		       ",\"dropped_malformed\":%" PRIu64 ",\"tx_fail\":%" PRIu64
		       ",\"injected\":%" PRIu64 ",\"decode_errors\":%" PRIu64
		       ",\"flows\":%" PRIu64 ",\"records_written\":%" PRIu64
		       ",\"events_lost\":%" PRIu64 ",\"encrypted_bytes\":%" PRIu64
		       ",\"fragments\":%" PRIu64 ",\"fragments_reassembled\":%" PRIu64
		       ",\"fragments_reassembled_apart\":%" PRIu64
		       ",\"fragments_refused\":%" PRIu64
		       ",\"seconds\":%.3f,",
		       t.rx_pkts, t.tx_pkts, t.drop_policy, t.drop_overload, t.drop_malformed,
		       t.tx_fail, t.injected, dec, t.flows_created, rs.written,
		       t.overload_events, t.encrypted_bytes, t.frags, t.frag_reassembled,
		       t.frag_big_reassembled, t.frag_big_refused, secs);
		/* per cause: how often overload got in the way (a packet, a
		 * segment, a field, a stream chunk, an event) */
		printf("\"overload\":{\"flow_table\":%" PRIu64 ",\"reassembly_ooo\":%" PRIu64
		       ",\"reassembly_ip\":%" PRIu64 ",\"field_buffers\":%" PRIu64
		       ",\"stream_states\":%" PRIu64 ",\"events\":%" PRIu64
		       ",\"rx_backlog\":%" PRIu64 "},\"flows_evicted\":%" PRIu64
		       ",\"write_errors\":%" PRIu64 ",\"rules\":{",
		       t.overload_flow_table, t.overload_ooo, t.overload_frag, t.overload_app,
		       t.overload_stream, t.overload_events, t.overload_rx, t.flows_evicted,
		       rs.write_errors);
		for (uint32_t r = 0, first = 1; s && r < s->nrules; r++) {
			uint64_t h = rule_hits(s, r);

			printf("%s\"%u\":%" PRIu64, first ? "" : ",",
			       sl_policy_rule(s->policy, r)->id, h);
			first = 0;
		}
		printf("}}\n");
		return;
	}
	printf("sluice: %s -> %s", o->pcap_in, o->pcap_out);
	if (o->loop > 1)
		printf(" (%u passes)", o->loop);
	printf("\n  policy    %s rev %s, digest %.16s\n", s->meta->name, s->meta->revision,
	       s->meta->digest_hex);
	printf("  packets   in %" PRIu64 ", out %" PRIu64 ", dropped %" PRIu64
	       " (policy %" PRIu64 ", overload %" PRIu64 ", malformed %" PRIu64
	       "), injected %" PRIu64 "\n",
	       t.rx_pkts, t.tx_pkts, t.drop_policy + t.drop_overload + t.drop_malformed,
	       t.drop_policy, t.drop_overload, t.drop_malformed, t.injected);
	printf("  flows     %" PRIu64 " (decode errors %" PRIu64 ", non-IP %" PRIu64
	       ", fragments %" PRIu64 ")\n", t.flows_created, dec, t.non_ip, t.frags);
	if (t.overload_flow_table + t.overload_ooo + t.overload_frag + t.overload_app +
	    t.overload_stream + t.overload_events + t.overload_rx)
		printf("  overload  flow table %" PRIu64 ", out-of-order %" PRIu64 ", fragments %" PRIu64
		       ", field buffers %" PRIu64 ", stream states %" PRIu64 ", events %" PRIu64
		       ", rx backlog %" PRIu64 " (%s)\n", t.overload_flow_table, t.overload_ooo,
		       t.overload_frag, t.overload_app, t.overload_stream, t.overload_events,
		       t.overload_rx, sl_dp.cfg.overload == SL_FAIL_CLOSED ? "fail-closed" : "fail-open");
	printf("  verdicts ");
	for (int a = SL_ACT_LOG; a < SL_ACT__COUNT; a++)
		printf(" %s %" PRIu64, sl_action_name(a), t.act[a]);
	printf("; shadow");
	for (int a = SL_ACT_LOG; a < SL_ACT__COUNT; a++)
		if (t.shadow[a])
			printf(" %s %" PRIu64, sl_action_name(a), t.shadow[a]);
	printf("\n  rule hits");
	for (uint32_t r = 0, any = 0; s && r < s->nrules; r++) {
		uint64_t h = rule_hits(s, r);

		if (h) {
			printf("%s %u:%" PRIu64, any ? "," : "", sl_policy_rule(s->policy, r)->id, h);
			any = 1;
		}
	}
	printf("\n  records   ");
	if (sl_dp.records)
		printf("%" PRIu64 " events written to %s (lost %" PRIu64 ")\n", rs.written,
		       sl_dp.cfg.records_dir, t.overload_events);
	else
		printf("off (no --records)\n");
	printf("  time      %.3f s\n", secs);
}

/* ---- main loop --------------------------------------------------------------- */

static uint64_t rx_total(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < sl_dp.nworkers; i++)
		n += __atomic_load_n(&sl_dp.w[i]->st.rx_pkts, __ATOMIC_RELAXED);
	return n;
}

/* End of capture: every worker delivers what reassembly still holds. */
static void flush_workers(void)
{
	static struct sl_wcmd c[SL_MAX_WORKERS];

	for (unsigned i = 0; i < sl_dp.nworkers; i++) {
		c[i].op = SL_WOP_FLUSH;
		if (sl_worker_call(sl_dp.w[i], &c[i], 60000) < 0)
			fprintf(stderr, "sluice: worker %u did not flush its flows\n", i);
	}
}


/* Once a second: tell when the records stop being written (disk full,
 * directory unwritable) and when they are written again. Forwarding goes
 * on meanwhile; the writer counts the events it cannot write and records
 * that count as a loss event once it can. */
static void records_health(void)
{
	static uint64_t errors_seen;
	static bool degraded;
	struct sl_records_stats rs;
	int rc, rc2;

	if (sl_dp.records == NULL)
		return;
	rc = sl_records_flush(sl_dp.records, true);
	rc2 = sl_records_maintain(sl_dp.records, (int64_t)(sl_now_ns() / 1000000000ull));
	if (rc >= 0)
		rc = rc2;
	sl_records_get_stats(sl_dp.records, &rs);
	if (rs.write_errors > errors_seen && !degraded) {
		fprintf(stderr, "sluice: records %s: write failed%s%s; forwarding goes on, events "
			"are counted as lost until writing works again (retried every second)\n",
			sl_dp.cfg.records_dir, rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
		degraded = true;
	} else if (degraded && rc >= 0 && sl_records_segment(sl_dp.records)[0] != '\0') {
		fprintf(stderr, "sluice: records %s: writing again (%" PRIu64 " events lost)\n",
			sl_dp.cfg.records_dir, rs.write_errors);
		degraded = false;
	}
	errors_seen = rs.write_errors;
}

/* Once a second: report port link changes (stderr and an admin record);
 * a port that is down keeps its queues, and forwarding resumes when it
 * comes back. */
static void link_watch(bool first)
{
	static uint8_t up[SL_MAX_PORTS];

	for (unsigned i = 0; i < sl_dp.cfg.nports; i++) {
		uint16_t port = sl_dp.cfg.port[i];
		struct rte_eth_link link;
		char name[RTE_ETH_NAME_MAX_LEN] = "";

		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(port, &link) < 0)
			continue;
		if (!first && link.link_status == up[port])
			continue;
		up[port] = link.link_status;
		if (first && link.link_status)
			continue;
		rte_eth_dev_get_name_by_port(port, name);
		fprintf(stderr, "sluice: port %u (%s): link %s\n", port, name,
			link.link_status ? "up" : "down");
		sl_events_admin("port %u (%s) link %s", port, name, link.link_status ? "up" : "down");
	}
}

static void main_loop(void)
{
	uint64_t last_tick = rte_rdtsc(), last_rx = 0, last_progress = rte_rdtsc();

	while (!__atomic_load_n(&sl_dp.stop, __ATOMIC_RELAXED)) {
		unsigned n = sl_events_drain(4096);
		uint64_t now = rte_rdtsc();

		if (n && sl_dp.records)
			sl_records_flush(sl_dp.records, false);  /* visible to tail -f */

		sl_ctl_poll(n ? 0 : 1);
		if (now - last_tick > sl_dp.tsc_hz) {
			last_tick = now;
			report_lost_events();
			records_health();
			if (!sl_dp.offline)
				link_watch(false);
		}
		if (sl_dp.offline) {
			uint64_t rx = rx_total();

			if (rx >= sl_dp.offline_expect)
				break;
			if (rx != last_rx) {
				last_rx = rx;
				last_progress = now;
			} else if (now - last_progress > 3 * sl_dp.tsc_hz) {
				fprintf(stderr, "sluice: warning: %" PRIu64 " of %" PRIu64
					" packets arrived from the capture device; finishing\n",
					rx, sl_dp.offline_expect);
				break;
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .loop = 1 };
	char **eal_argv = argv;
	int eal_argc = argc, rc, ret = 1;
	bool offline = false;
	uint64_t t_start;
	long npkts = 0;
	static char conv_pcap[64];

	/* offline mode when the first argument is one of ours */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--pcap") == 0 || strncmp(argv[i], "--pcap=", 7) == 0)
			offline = true;
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	sl_config_defaults(&sl_dp.cfg);
	if (offline) {
		if (parse_app_args(argc, argv, &o) < 0 || !o.pcap_in || !o.pcap_out ||
		    (!o.policy && !o.config)) {
			usage(stderr);
			return 2;
		}
		npkts = prepare_pcap(o.pcap_in, conv_pcap, sizeof(conv_pcap));
		if (npkts < 0)
			return 1;
		if (conv_pcap[0])
			o.pcap_dev_in = conv_pcap;
		/* offline defaults: smaller tables, sleep when idle */
		sl_dp.cfg.flows = 65536;
		sl_dp.cfg.idle_sleep_us = 20;
		if (o.loop > 1)
			sl_dp.cfg.mbufs = RTE_MAX(sl_dp.cfg.mbufs, (uint32_t)npkts * 2 + 8192);
		eal_argc = build_eal_args(&o, &eal_argv);
		if (eal_argc < 0)
			return 2;
	}
	rc = rte_eal_init(eal_argc, eal_argv);
	if (rc < 0) {
		fprintf(stderr, "sluice: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (!offline) {
		argc -= rc;
		argv += rc;
		argv[0] = "sluice";
		if (parse_app_args(argc, argv, &o) < 0 || !o.config) {
			usage(stderr);
			goto out_eal;
		}
	}
	if (o.config && sl_config_load(&sl_dp.cfg, o.config) < 0)
		goto out_eal;
	if (o.policy) {
		free(sl_dp.cfg.policy);
		sl_dp.cfg.policy = strdup(o.policy);
	}
	if (sl_dp.cfg.policy == NULL) {
		/* a config without one needs --policy */
		fprintf(stderr, "%s: 'policy' is required (in the config or as --policy)\n",
			o.config);
		goto out_eal;
	}
	if (o.records) {
		free(sl_dp.cfg.records_dir);
		sl_dp.cfg.records_dir = strdup(o.records);
	}
	if (o.socket) {
		free(sl_dp.cfg.socket_path);
		sl_dp.cfg.socket_path = strdup(o.socket);
	}
	if (offline) {
		/* the capture device is port 0, hairpinned */
		sl_dp.cfg.nports = 1;
		sl_dp.cfg.port[0] = 0;
		sl_dp.cfg.peer[0] = 0;
		sl_dp.cfg.nworkers_req = 0;
		sl_dp.offline = true;
		sl_dp.offline_expect = (uint64_t)npkts * (o.loop ? o.loop : 1);
	} else if (!sl_dp.cfg.ports_given) {
		/* default: ports 0 and 1 as a bump in the wire, or hairpin on one */
		uint16_t n = rte_eth_dev_count_avail();

		sl_dp.cfg.nports = n >= 2 ? 2 : 1;
		sl_dp.cfg.port[0] = 0;
		sl_dp.cfg.peer[0] = n >= 2 ? 1 : 0;
		sl_dp.cfg.port[1] = 1;
		sl_dp.cfg.peer[1] = 0;
		if (n == 0) {
			fprintf(stderr, "sluice: no ports: give EAL a device (e.g. --vdev)\n");
			goto out_eal;
		}
	}
	sl_config_finish(&sl_dp.cfg);
	sl_dp.tsc_hz = rte_get_tsc_hz();
	sl_dp.start_ns = sl_now_ns();
	sl_dp.run_nonce = rte_rand() & 0xffff;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	/* a records file at RLIMIT_FSIZE: the write fails (EFBIG) and the
	 * writer degrades; the default action would kill the process */
	signal(SIGXFSZ, SIG_IGN);

	if (sl_telemetry_init() < 0)
		fprintf(stderr, "sluice: warning: telemetry endpoints not registered\n");
	if (sl_stream_alloc_init() < 0 || sl_workers_setup() < 0 ||
	    sl_events_init(sl_dp.cfg.event_ring, (int)rte_socket_id()) < 0) {
		fprintf(stderr, "sluice: setup failed (memory: raise -m / --mem)\n");
		goto out;
	}
	if (sl_load_policy(sl_dp.cfg.policy, NULL) < 0) {
		fprintf(stderr, "sluice: policy %s not loaded\n", sl_dp.cfg.policy);
		goto out;
	}
	if (sl_records_start() < 0)
		goto out;
	for (unsigned i = 0; i < sl_dp.cfg.nports; i++)
		if (sl_port_init(sl_dp.cfg.port[i]) < 0)
			goto out;
	if (!offline && sl_dp.cfg.socket_path == NULL) {
		/* live mode always has a control socket */
		mkdir("/run/sluice", 0750);
		sl_dp.cfg.socket_path = strdup(SL_CTL_DEFAULT_SOCKET);
	}
	if (sl_dp.cfg.socket_path && sl_ctl_open(sl_dp.cfg.socket_path, sl_dp.cfg.socket_group) < 0)
		goto out;
	sl_events_admin("start: policy %s rev %s digest %s", sl_dp.snap->meta->name,
			sl_dp.snap->meta->revision, sl_dp.snap->meta->digest_hex);
	if (!offline)
		printf("sluice: running %u worker(s) on %u port(s), policy %s rev %s\n",
			       sl_dp.nworkers, sl_dp.cfg.nports, sl_dp.snap->meta->name,
			       sl_dp.snap->meta->revision);
	fflush(stdout);
	if (!offline)
		link_watch(true);
	t_start = rte_rdtsc();
	for (unsigned i = 0; i < sl_dp.nworkers; i++)
		rte_eal_remote_launch(sl_worker_main, sl_dp.w[i], sl_dp.w[i]->lcore_id);
	main_loop();
	if (!got_signal)
		flush_workers();
	__atomic_store_n(&sl_dp.stop, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	while (sl_events_drain(4096) > 0)
		;
	report_lost_events();
	sl_events_admin("stop");
	if (sl_dp.records && sl_records_flush(sl_dp.records, true) < 0)
		fprintf(stderr, "sluice: records: flush failed\n");
	if (offline && !o.quiet)
		print_summary(&o, (double)(rte_rdtsc() - t_start) / (double)sl_dp.tsc_hz);
	else if (!offline)
		printf("sluice: stopped (%s)\n", got_signal ? strsignal(got_signal) : "done");
	ret = 0;
out:
	sl_ctl_close();
	/* the evidence is closed before any device is torn down: a driver
	 * that fails on the way out cannot cost the last records */
	if (sl_records_close(sl_dp.records) < 0) {
		fprintf(stderr, "sluice: records: final write failed\n");
		ret = 1;
	}
	sl_dp.records = NULL;
	for (unsigned i = 0; i < sl_dp.cfg.nports; i++) {
		if (rte_eth_dev_is_valid_port(sl_dp.cfg.port[i])) {
			rte_eth_dev_stop(sl_dp.cfg.port[i]);
			rte_eth_dev_close(sl_dp.cfg.port[i]);
		}
	}
	/* flows' stream state lives in the worker pools, freed with them */
	sl_snapshot_retired_free();
	sl_snapshot_free(sl_dp.snap);
	sl_snapshot_free(sl_dp.cand);
	sl_dp.snap = NULL;
	sl_dp.cand = NULL;
	for (unsigned i = 0; i < sl_dp.nworkers; i++)
		sl_worker_free(sl_dp.w[i]);
	sl_events_free();
	sl_stream_pools_free();
	rte_free(sl_dp.qsbr);
	free(sl_dp.acc);
	sl_config_free(&sl_dp.cfg);
out_eal:
	rte_eal_cleanup();
	if (conv_pcap[0])
		unlink(conv_pcap);
	return ret;
}
