/* sluice-bench output: the tables (Markdown, as pasted into the README) of
 * a results object, and small accessors for dotted JSON paths. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "run.h"

static json_object *jget(json_object *o, const char *path)
{
	char key[128];

	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (json_object_is_type(o, json_type_array)) {
			size_t i = (size_t)strtoul(key, NULL, 10);

			if (i >= json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, i);
		} else if (!json_object_object_get_ex(o, key, &o)) {
			return NULL;
		}
		path += n + (dot ? 1 : 0);
	}
	return o;
}

double bt_jnum(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	if (v == NULL || (!json_object_is_type(v, json_type_double) &&
			  !json_object_is_type(v, json_type_int)))
		return NAN;
	return json_object_get_double(v);
}

const char *bt_jstr(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* "m (lo-hi)" with `prec` decimals, scaled. */
static const char *fstat(json_object *o, const char *path, int prec, double scale)
{
	static char bufs[8][96];
	static unsigned k;
	char *b = bufs[k++ % 8];
	char p[160];
	double m, lo, hi;

	snprintf(p, sizeof(p), "%s.median", path);
	m = bt_jnum(o, p);
	snprintf(p, sizeof(p), "%s.min", path);
	lo = bt_jnum(o, p);
	snprintf(p, sizeof(p), "%s.max", path);
	hi = bt_jnum(o, p);
	if (isnan(m))
		return "-";
	if (isnan(lo) || isnan(hi) || bt_jnum(o, strcat(strcpy(p, path), ".n")) < 2)
		snprintf(b, 96, "%.*f", prec, m * scale);
	else
		snprintf(b, 96, "%.*f (%.*f-%.*f)", prec, m * scale, prec, lo * scale, prec,
			 hi * scale);
	return b;
}

static const char *fnum(double v, int prec)
{
	static char bufs[16][48];   /* a table row takes up to 9 */
	static unsigned k;
	char *b = bufs[k++ % 16];

	if (isnan(v))
		return "-";
	snprintf(b, 48, "%.*f", prec, v);
	return b;
}

static size_t arr_len(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static const char *traffic_label(json_object *r)
{
	static char b[4][96];
	static unsigned k;
	char *o = b[k++ % 4];
	const char *spec = bt_jstr(r, "traffic_spec");
	unsigned flows = 0;
	char prof[16] = "", shape = 0;

	if (strcmp(spec, "pcap") == 0) {
		snprintf(o, 96, "mix.pcap (%s fr.)", fnum(bt_jnum(r, "traffic.frames"), 0));
		return o;
	}
	sscanf(spec, "%15[^/]/%u%c", prof, &flows, &shape);
	if (flows >= 1000000 && flows % 1000000 == 0)
		snprintf(o, 96, "%s, %uM flows%s", prof, flows / 1000000, shape == 's' ? " (short)" : "");
	else if (flows >= 1000 && flows % 1000 == 0)
		snprintf(o, 96, "%s, %uk flows%s", prof, flows / 1000, shape == 's' ? " (short)" : "");
	else
		snprintf(o, 96, "%s, %u flows%s", prof, flows, shape == 's' ? " (short)" : "");
	return o;
}

static void header(json_object *r, FILE *f)
{
	fprintf(f, "sluice-bench %s run, %s, git %.12s%s\n", bt_jstr(r, "mode"), bt_jstr(r, "date"),
		bt_jstr(r, "git.revision"), jget(r, "git.dirty") &&
		json_object_get_boolean(jget(r, "git.dirty")) ? " (dirty)" : "");
	fprintf(f, "machine: %s, %s cpus%s, %s GB, kernel %s, %s, Hyperscan %s, %s build, %s\n\n",
		bt_jstr(r, "machine.cpu"), fnum(bt_jnum(r, "machine.cpus"), 0),
		jget(r, "machine.virtualized") &&
		json_object_get_boolean(jget(r, "machine.virtualized")) ? " (VM)" : "",
		fnum(bt_jnum(r, "machine.memory_gb"), 0), bt_jstr(r, "machine.kernel"),
		bt_jstr(r, "machine.dpdk"), bt_jstr(r, "machine.hyperscan"),
		bt_jstr(r, "machine.buildtype"),
		bt_jnum(r, "machine.hugepages_free_mb") > 0 ? "hugepages" :
		jget(r, "machine.hugepages_free_mb") ? "4 KB pages (no hugepages)" :
		"4 KB pages");
}

static void goals(json_object *r, FILE *f)
{
	static const struct { const char *key, *what, *fmt; } g[] = {
		{ "matcher_ratio", "1. inspection path / raw Hyperscan, same packets (imix, 10k flows, dom100k+lit1k)", ">= 0.9" },
		{ "forward_ratio", "2. forward-only / dpdk-testpmd io, same ring ports", ">= 0.9" },
		{ "cycles_ratio", "2. cycles/pkt with dom100k+lit1k / raw Hyperscan cycles/pkt, same traffic", "<= 1.5" },
		{ "reload_lost_packets", "4. packets lost, reload every second at 50% load", "0" },
	};

	fprintf(f, "| goal | measured | target | met |\n|---|---|---|---|\n");
	for (unsigned i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		char p[96];
		json_object *met;

		snprintf(p, sizeof(p), "goals.%s.met", g[i].key);
		met = jget(r, p);
		snprintf(p, sizeof(p), "goals.%s.value", g[i].key);
		fprintf(f, "| %s | %s | %s | %s |\n", g[i].what,
			fnum(bt_jnum(r, p), strcmp(g[i].key, "reload_lost_packets") ? 2 : 0), g[i].fmt,
			met ? (json_object_get_boolean(met) ? "yes" : "**no**") : "-");
	}
	if (!isnan(bt_jnum(r, "floor_ratio")))
		fprintf(f, "\nFor the matcher and cycles goals: raw Hyperscan behind only a decode and a flow lookup "
			"(the floor, figure 1), without I/O, tracking or verdicts, reaches %s of raw "
			"Hyperscan on the same packets, that is %s times its cycles per packet.\n",
			fnum(bt_jnum(r, "floor_ratio"), 2), fnum(1 / bt_jnum(r, "floor_ratio"), 2));
	if (!isnan(bt_jnum(r, "decode_floor_ratio")))
		fprintf(f, "Behind the decode alone, each packet's stream handed over as to raw Hyperscan "
			"(no lookup at all), it reaches %s.\n", fnum(bt_jnum(r, "decode_floor_ratio"), 2));
	{
		json_object *ra = jget(r, "figures.cycles_goal.rounds");

		if (arr_len(ra) > 0) {
			fprintf(f, "The cycles goal takes raw Hyperscan's cycles per packet measured "
				"next to the dataplane row, on the same cpu (%s): ",
				arr_len(ra) > 1 ? "rounds of raw Hyperscan and the row alternating, each "
				"row against the raw figures on either side" : "right after the row");
			for (size_t i = 0; i < arr_len(ra); i++) {
				json_object *e = json_object_array_get_idx(ra, i);
				double rb = bt_jnum(e, "raw_before"), rf = bt_jnum(e, "raw_after");

				fprintf(f, "%s%s (%s / %s)", i ? ", " : "", fnum(bt_jnum(e, "ratio"), 2),
					fnum(bt_jnum(e, "sluice_cycles_per_pkt"), 0),
					fnum(isnan(rb) ? rf : isnan(rf) ? rb : (rb + rf) / 2, 0));
			}
			fprintf(f, "%s; against figure 1's raw figure (%s), measured minutes "
				"earlier, the ratio would be %s.\n",
				arr_len(ra) > 1 ? ", median taken" : "",
				fnum(bt_jnum(r, "raw_cycles_per_pkt"), 0),
				fnum(bt_jnum(r, "cycles_ratio_fig1"), 2));
		}
	}
	if (!isnan(bt_jnum(r, "matcher_no_payload_share")))
		fprintf(f, "In that traffic %s%% of the frames carry no payload: raw Hyperscan skips "
			"them, an inline path still decodes, tracks and forwards each.\n",
			fnum(bt_jnum(r, "matcher_no_payload_share") * 100, 0));
	if (!isnan(bt_jnum(r, "matcher_skip_ratio")))
		fprintf(f, "The goals compare equal work: sluice scans TLS application data there as "
			"raw Hyperscan does. As deployed (`encrypted = \"skip\"`) it leaves out the "
			"%s%% of the payload bytes that are TLS application data and runs at %s of raw "
			"Hyperscan on the whole (the *skip* column of figure 1); that is not the same work, "
			"so no goal is read from it.\n",
			fnum(bt_jnum(r, "matcher_encrypted_share") * 100, 0),
			fnum(bt_jnum(r, "matcher_skip_ratio"), 2));
	fprintf(f, "\ncompile_100k_domains_s = %s\n\n", fnum(bt_jnum(r, "compile_100k_domains_s"), 3));
}

static void matcher(json_object *r, FILE *f)
{
	json_object *a = jget(r, "figures.matcher");

	if (arr_len(a) == 0)
		return;
	fprintf(f, "**1. Matcher** (no I/O; payload bytes of TCP/UDP; median of passes, min-max)\n\n"
		"| traffic | policy | avg frame B | raw Hyperscan Gbit/s | sluice path Gbit/s | sluice Mpps | ratio | raw cycles/pkt | sluice cycles/pkt | floor ratio | floor cycles/pkt | decode alone ratio | skip ratio | TLS data share |\n"
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < arr_len(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);

		fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%% |\n",
			traffic_label(x),
			bt_jstr(x, "policy"), fnum(bt_jnum(x, "traffic.avg_frame"), 0),
			fnum(bt_jnum(x, "raw_gbps"), 2), fnum(bt_jnum(x, "sluice_gbps"), 2),
			fnum(bt_jnum(x, "sluice_mpps"), 2), fstat(x, "ratio", 2, 1),
			fnum(bt_jnum(x, "raw_cycles_per_pkt"), 0),
			fnum(bt_jnum(x, "sluice_cycles_per_pkt"), 0), fstat(x, "floor_ratio", 2, 1),
			fnum(bt_jnum(x, "floor_cycles_per_pkt"), 0),
			fstat(x, "decode_floor_ratio", 2, 1), fstat(x, "skip_ratio", 2, 1),
			fnum(bt_jnum(x, "encrypted_share") * 100, 0));
	}
	fprintf(f, "\nThe floor is raw Hyperscan plus what a stateful path must do in software, done the "
		"usual DPDK way: each frame decoded (sl_decode) and its flow found by its 5-tuple "
		"(rte_hash_lookup_bulk over bursts of 32, headers and frames prefetched), with "
		"nothing tracked or decided and no I/O. Raw Hyperscan is handed each packet's flow "
		"index by the bench; the floor shows what decoding and finding the flow cost on "
		"their own. *Decode alone* is the floor without its lookup: each frame decoded and "
		"keyed, then scanned in the stream the bench hands over. The other columns are sluice with every payload byte scanned, as raw "
		"Hyperscan does; *skip ratio* is sluice as deployed, which passes TLS application "
		"data by (`encrypted = \"skip\"`; *TLS data share*: those bytes' share of the "
		"payload): less work than raw Hyperscan, shown for what it gives, not a goal.\n\n");
}

static void dataplane(json_object *r, FILE *f)
{
	json_object *a = jget(r, "figures.dataplane"), *tp = jget(r, "figures.testpmd");

	if (arr_len(a) == 0 && tp == NULL)
		return;
	fprintf(f, "**2. Dataplane** (1 worker lcore, ring ports; Mpps median of windows, min-max; "
		"Gbit/s at the average frame + 4 B FCS)\n\n"
		"| traffic | policy | path | Mpps per worker | Gbit/s | cycles/pkt |\n"
		"|---|---|---|---|---|---|\n");
	if (tp)
		fprintf(f, "| 64 B, 32 frames/port circulating | - | dpdk-testpmd io, loopback net_ring x2 | %s | - | %s |\n",
			fstat(tp, "mpps", 2, 1),
			fnum(bt_jnum(r, "figures.dataplane.0.tsc_hz") / 1e6 /
			     bt_jnum(tp, "mpps.median"), 0));
	for (size_t i = 0; i < arr_len(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		const char *m = bt_jstr(x, "row_mode");
		const char *path = strcmp(m, "loopback") == 0 ? "sluice, loopback net_ring x2 (as testpmd)" :
				   strcmp(m, "loopback-io") == 0 ? "rx/tx loop, loopback net_ring x2" :
				   strcmp(m, "io") == 0 ? "rx/tx loop (rig limit)" : "sluice";
		char tl[128];

		if (strncmp(m, "loopback", 8) == 0)
			snprintf(tl, sizeof(tl), "%s frames circulating", "32/port, traffic");
		else
			snprintf(tl, sizeof(tl), "%s", traffic_label(x));
		fprintf(f, "| %s | %s | %s | %s | %s | %s |\n", tl,
			strcmp(m, "sluice") == 0 || strcmp(m, "loopback") == 0 ? bt_jstr(x, "policy") : "-",
			path, fstat(x, "mpps_per_worker", 2, 1), fnum(bt_jnum(x, "gbps"), 2),
			fnum(bt_jnum(x, "cycles_per_pkt.median"), 0));
	}
	fprintf(f, "\n");
	a = jget(r, "figures.forward_rounds");
	if (arr_len(a) == 0)
		return;
	fprintf(f, "Forward-only against %s in alternating rounds (the table shows the first):",
		strcmp(bt_jstr(r, "forward_ratio_vs"), "dpdk-testpmd") == 0 ? "testpmd" :
		"the rx/tx loop");
	for (size_t i = 0; i < arr_len(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);

		fprintf(f, "%s %s (%s vs %s Mpps)", i ? "," : "", fnum(bt_jnum(x, "ratio"), 2),
			fnum(bt_jnum(x, "sluice_mpps"), 0), fnum(bt_jnum(x, "reference_mpps"), 0));
	}
	fprintf(f, "; median %s.\n\n", fnum(bt_jnum(r, "forward_ratio"), 2));
}

static void virtio(json_object *r, FILE *f)
{
	json_object *a = jget(r, "figures.virtio");

	if (arr_len(a) == 0)
		return;
	fprintf(f, "**2. Dataplane over virtio** (1 worker lcore; the forwarder on a virtio-user "
		"port, hairpinned, in a process of its own; the traffic from a vhost-user port in "
		"another, as between a guest and its host: every frame copied across twice; 4 KB "
		"pages; Mpps: frames back at the source per window, median, min-max; a source "
		"that cannot outrun the forwarder bounds the rows without a policy, so read "
		"the forwarder's cycles per packet)\n\n"
		"| traffic | policy | forwarder | Mpps | Gbit/s | cycles/pkt (forwarder) |\n"
		"|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < arr_len(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		bool tp = strcmp(bt_jstr(x, "row_mode"), "testpmd") == 0;

		fprintf(f, "| %s | %s | %s | %s | %s | %s |\n", traffic_label(x),
			bt_jstr(x, "policy"), tp ? "dpdk-testpmd io (same devices)" : "sluice",
			fstat(x, "mpps", 2, 1), fnum(bt_jnum(x, "gbps"), 2),
			tp ? "-" : fnum(bt_jnum(x, "cycles_per_pkt"), 0));
	}
	fprintf(f, "\n");
}

static void scaling(json_object *r, FILE *f)
{
	json_object *a = jget(r, "figures.scaling");

	if (arr_len(a) == 0)
		return;
	fprintf(f, "**3. Scaling** (imix, 10k flows, dom100k+lit1k; flows spread over queues as RSS would)\n\n"
		"| workers | Mpps total | Mpps per worker | note |\n|---|---|---|---|\n");
	for (size_t i = 0; i < arr_len(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		json_object *sh = jget(x, "shared_cpus");

		fprintf(f, "| %s | %s | %s | %s |\n", fnum(bt_jnum(x, "workers"), 0),
			fstat(x, "mpps", 2, 1), fstat(x, "mpps_per_worker", 2, 1),
			sh && json_object_get_boolean(sh) ? "a worker shares a cpu with the source/main lcore" : "");
	}
	fprintf(f, "\n");
}

static void policy(json_object *r, FILE *f)
{
	json_object *a = jget(r, "figures.policy"), *rl = jget(r, "figures.reload");

	if (arr_len(a)) {
		fprintf(f, "**4. Policy updates** (fresh process each; median of runs, min-max)\n\n"
			"| policy | domains | payloads | cidrs | compile s | compile peak RSS MB | artefact MB | artefact load s | load peak RSS MB |\n"
			"|---|---|---|---|---|---|---|---|---|\n");
		for (size_t i = 0; i < arr_len(a); i++) {
			json_object *x = json_object_array_get_idx(a, i);

			fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				bt_jstr(x, "policy"), fnum(bt_jnum(x, "domains"), 0),
				fnum(bt_jnum(x, "payloads"), 0), fnum(bt_jnum(x, "cidrs"), 0),
				fstat(x, "compile_s", 3, 1), fnum(bt_jnum(x, "compile_rss_mb.median"), 0),
				fnum(bt_jnum(x, "artefact_bytes") / 1e6, 1), fstat(x, "load_s", 3, 1),
				fnum(bt_jnum(x, "load_rss_mb.median"), 0));
		}
		fprintf(f, "\n");
	}
	if (rl) {
		fprintf(f, "Reload under load (%s, imix 10k flows, paced at %s Mpps = %s%% of the %s Mpps "
			"measured; a reload every second, compile on a control thread, build + RCU swap "
			"on the main lcore):\n\n"
			"| | seconds | reloads | compile s | build s | swap s | offered | source behind | lost | shed (not inspected) | worker preempted |\n"
			"|---|---|---|---|---|---|---|---|---|---|---|\n",
			bt_jstr(rl, "policy"),
			fnum(bt_jnum(rl, "capacity_mpps") * bt_jnum(rl, "load_pct") / 100, 2),
			fnum(bt_jnum(rl, "load_pct"), 0), fnum(bt_jnum(rl, "capacity_mpps"), 2));
		fprintf(f, "| no reloads | %s | 0 | - | - | - | %s | %s | %s | %s | %s |\n",
			fnum(bt_jnum(rl, "baseline.seconds"), 0), fnum(bt_jnum(rl, "baseline.offered"), 0),
			fnum(bt_jnum(rl, "baseline.source_lag"), 0),
			fnum(bt_jnum(rl, "baseline.lost"), 0), fnum(bt_jnum(rl, "baseline.shed"), 0),
			fnum(bt_jnum(rl, "baseline.worker_preempted"), 0));
		fprintf(f, "| reloading | %s | %s | %s | %s | %s | %s | %s | ",
			fnum(bt_jnum(rl, "reloading.seconds"), 0), fnum(bt_jnum(rl, "compile_s.n"), 0),
			fstat(rl, "compile_s", 3, 1), fstat(rl, "build_s", 4, 1),
			fstat(rl, "swap_s", 5, 1), fnum(bt_jnum(rl, "reloading.offered"), 0),
			fnum(bt_jnum(rl, "reloading.source_lag"), 0));
		fprintf(f, "%s | %s | %s |\n\n",
			fnum(bt_jnum(rl, "reloading.lost"), 0), fnum(bt_jnum(rl, "reloading.shed"), 0),
			fnum(bt_jnum(rl, "reloading.worker_preempted"), 0));
		fprintf(f, "Source behind: packets the traffic source fell behind its schedule "
			"(its cpu was taken: by the compile while reloading, or by other tasks); they "
			"were never offered.\n\n");
		/* fnum() has 8 buffers: at most 8 numbers per call */
		fprintf(f, "Rx rings of %s descriptors. Of the packets lost while reloading, %s were "
			"lost within %s ms after a swap (the %s swaps cover %s%% of that time) and %s "
			"while a compile ran; ",
			fnum(bt_jnum(rl, "rx_desc"), 0),
			fnum(bt_jnum(rl, "lost_after_swaps"), 0),
			fnum(bt_jnum(rl, "swap_window_s") * 1000, 0), fnum(bt_jnum(rl, "compile_s.n"), 0),
			fnum(bt_jnum(rl, "compile_s.n") * bt_jnum(rl, "swap_window_s") * 100 /
			     bt_jnum(rl, "reloading.seconds"), 0),
			fnum(bt_jnum(rl, "lost_while_compiling"), 0));
		fprintf(f, "of the packets shed, %s within %s ms after a swap and %s while a compile "
			"ran.",
			fnum(bt_jnum(rl, "shed_after_swaps"), 0),
			fnum(bt_jnum(rl, "swap_window_s") * 1000, 0),
			fnum(bt_jnum(rl, "shed_while_compiling"), 0));
		if (!isnan(bt_jnum(rl, "cycles_per_pkt_after_swaps")))
			fprintf(f, " The workers' busy cycles per packet: %s within %s ms after a "
				"swap, %s away from swaps and compiles.",
				fnum(bt_jnum(rl, "cycles_per_pkt_after_swaps"), 0),
				fnum(bt_jnum(rl, "swap_window_s") * 1000, 0),
				fnum(bt_jnum(rl, "cycles_per_pkt_otherwise"), 0));
		if (!isnan(bt_jnum(rl, "reloading.rx_ring_max")))
			fprintf(f, " The deepest the rx ring was seen (sampled every few hundred "
				"us): %s packets without reloads, %s while reloading (the worker "
				"sheds from %s).",
				fnum(bt_jnum(rl, "baseline.rx_ring_max"), 0),
				fnum(bt_jnum(rl, "reloading.rx_ring_max"), 0),
				fnum(bt_jnum(rl, "rx_desc") * 3 / 4, 0));
		if (!isnan(bt_jnum(rl, "baseline.behind_bursts.depth"))) {
			static const char *const ph[2] = { "baseline", "reloading" };

			fprintf(f, " Bursts the estimate found behind, by rule (depth, surge, not "
				"draining, long run):");
			for (int i = 0; i < 2; i++) {
				char k[96];
				double v[4];
				static const char *const why[4] = { "depth", "surge", "not_draining",
								     "long_run" };

				for (int j = 0; j < 4; j++) {
					snprintf(k, sizeof(k), "%s.behind_bursts.%s", ph[i], why[j]);
					v[j] = bt_jnum(rl, k);
				}
				fprintf(f, " %s %s/%s/%s/%s%s", i ? "while reloading" : "without reloads",
					fnum(v[0], 0), fnum(v[1], 0), fnum(v[2], 0), fnum(v[3], 0),
					i ? "." : ";");
			}
		}
		fprintf(f, "\n\n");
	}
}

static void memory(json_object *r, FILE *f)
{
	json_object *a = jget(r, "figures.memory");

	if (arr_len(a) == 0)
		return;
	fprintf(f, "**5. Memory per flow** (flow table as allocated for N flows; payload stream "
		"state held after every flow was seen, both directions, pool objects with their "
		"headers, dom100k+lit1k)\n\n"
		"| flows | table B/flow | stream state B/flow | total B/flow | Hyperscan stream state B |\n"
		"|---|---|---|---|---|\n");
	for (size_t i = 0; i < arr_len(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);

		fprintf(f, "| %s | %s | %s | %s | %s |\n", fnum(bt_jnum(x, "flows"), 0),
			fnum(bt_jnum(x, "table_bytes_per_flow"), 0),
			fnum(bt_jnum(x, "stream_bytes_per_flow"), 0),
			fnum(bt_jnum(x, "bytes_per_flow"), 0),
			fnum(bt_jnum(x, "pstream_state_bytes"), 0));
	}
	fprintf(f, "\n");
}

static void records(json_object *r, FILE *f)
{
	json_object *x = jget(r, "figures.records");

	if (x == NULL)
		return;
	fprintf(f, "**6. Records** (match events, JSON lines + SHA-256 chain, flushed per batch, "
		"synced every second)\n\n"
		"| writer events/s | bytes/event | offered at 2x (events/s) | written | lost | lost share |\n"
		"|---|---|---|---|---|---|\n"
		"| %s | %s | %s | %s | %s | %s |\n\n",
		fnum(bt_jnum(x, "writer_events_per_s"), 0), fnum(bt_jnum(x, "bytes_per_event"), 0),
		fnum(bt_jnum(x, "offered_events_per_s"), 0), fnum(bt_jnum(x, "written"), 0),
		fnum(bt_jnum(x, "lost"), 0), fnum(bt_jnum(x, "lost_share"), 2));
}

void bt_report_tables(json_object *r, FILE *f)
{
	json_object *notes = jget(r, "notes");

	header(r, f);
	goals(r, f);
	matcher(r, f);
	dataplane(r, f);
	virtio(r, f);
	scaling(r, f);
	policy(r, f);
	memory(r, f);
	records(r, f);
	for (size_t i = 0; i < arr_len(notes); i++)
		fprintf(f, "note: %s\n", json_object_get_string(json_object_array_get_idx(notes, i)));
}
