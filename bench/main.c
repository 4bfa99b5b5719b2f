/* sluice-bench: measures sluice against its limits and prints a table.
 *
 *   sluice-bench                 full set (make bench): table on stdout,
 *                                results JSON in bench/results/
 *   sluice-bench --quick --json  reduced set in under a minute, one JSON
 *                                object on stdout
 *   sluice-bench --smoke         every figure for about a second (meson
 *                                test suite "bench"; no thresholds)
 *   sluice-bench --table F.json  the table of an earlier results file
 *
 * The parent never starts DPDK: it writes the policies, then runs each
 * measurement in a child process (this binary with --child KIND), which
 * starts EAL as it needs (lcores, memory), regenerates the seeded traffic,
 * and writes its result as JSON. Figures are medians over several windows
 * or runs, with min and max; ratios are taken within one run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hs/hs.h>
#include <rte_version.h>

#include "bench.h"
#include "run.h"
#include "sluice/common.h"

extern char **environ;

#ifndef BT_SOURCE_ROOT
#define BT_SOURCE_ROOT "."
#endif
#ifndef BT_BUILDTYPE
#define BT_BUILDTYPE "?"
#endif

enum mode { M_FULL, M_QUICK, M_SMOKE };

struct ctx {
	enum mode mode;
	bool json;
	bool verbose;
	bool keep;
	const char *out;
	const char *results_dir;
	const char *pcap;
	const char *testpmd;
	const char *cpus;
	const char *only;
	uint64_t seed;
	unsigned reps;
	double secs;
	char workdir[256];
	char self[4096];
	char *pol[BT_POL__COUNT];   /* policy sources (revision a) */
	char *art[BT_POL__COUNT];   /* their artefacts */
	char *pol_b;                /* dom100k+lit1k revision b (reload) */
	char **extra;               /* names occurring in the capture */
	uint32_t nextra;
	json_object *res;
	json_object *fig;
	json_object *notes;
	unsigned failures;
};

static void note(struct ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct ctx *x, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sluice-bench: note: %s\n", buf);
	json_object_array_add(x->notes, json_object_new_string(buf));
}

static bool want(const struct ctx *x, const char *fig)
{
	const char *p;
	size_t n = strlen(fig);

	if (x->only == NULL)
		return true;
	for (p = x->only; (p = strstr(p, fig)) != NULL; p += n)
		if ((p == x->only || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

/* ---- argument vectors ----------------------------------------------------- */

struct av {
	char *v[64];
	int n;
	char buf[64][64];
};

static void av_add(struct av *a, const char *s)
{
	if (a->n < 63)
		a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

static void av_addf(struct av *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void av_addf(struct av *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n >= 63)
		return;
	va_start(ap, fmt);
	vsnprintf(a->buf[a->n], sizeof(a->buf[a->n]), fmt, ap);
	va_end(ap);
	av_add(a, a->buf[a->n]);
}

/* Traffic arguments: "imix/10000" (normal flows), "64/10000s" (short
 * flows), "pcap" (the capture). */
static void av_traffic(struct ctx *x, struct av *a, const char *spec)
{
	char prof[16];
	unsigned flows = 0;
	char shape = 0;

	if (strcmp(spec, "pcap") == 0) {
		av_add(a, "--pcap");
		av_add(a, x->pcap);
		return;
	}
	sscanf(spec, "%15[^/]/%u%c", prof, &flows, &shape);
	av_add(a, "--profile");
	av_addf(a, "%s", prof);
	av_add(a, "--flows");
	av_addf(a, "%u", flows);
	av_add(a, "--shape");
	av_add(a, shape == 's' ? "short" : "normal");
}

/* ---- children --------------------------------------------------------------- */

/* The child running now: children lead sessions of their own, so a ^C on
 * the terminal reaches only the parent, which passes it on. */
static volatile pid_t running_child;

static void on_signal(int sig)
{
	pid_t c = running_child;

	if (c > 0)
		kill(c, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static json_object *run_child_once(struct ctx *x, const char *kind, struct av *extra,
				   double timeout, bool last);

/* A child that fails is run once more (a shared machine has transient
 * trouble); the failure counts only if the second run fails too. */
static json_object *run_child(struct ctx *x, const char *kind, struct av *extra, double timeout)
{
	json_object *r = run_child_once(x, kind, extra, timeout, false);

	if (r == NULL) {
		fprintf(stderr, "sluice-bench: running the %s child again\n", kind);
		r = run_child_once(x, kind, extra, timeout, true);
	}
	return r;
}

static json_object *run_child_once(struct ctx *x, const char *kind, struct av *extra,
				   double timeout, bool last)
{
	struct av a = { .n = 0 };
	char result[512];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	pid_t pid;
	int st = 0, rc;
	double t0 = bt_now();
	json_object *r;

	snprintf(result, sizeof(result), "%s/result-%s-%d.json", x->workdir, kind, (int)getpid());
	unlink(result);
	av_add(&a, x->self);
	av_add(&a, "--child");
	av_add(&a, kind);
	av_add(&a, "--result");
	av_add(&a, result);
	av_add(&a, "--workdir");
	av_add(&a, x->workdir);
	av_add(&a, "--seed");
	av_addf(&a, "%llu", (unsigned long long)x->seed);
	if (x->cpus) {
		av_add(&a, "--cpus");
		av_add(&a, x->cpus);
	}
	if (x->verbose)
		av_add(&a, "-v");
	if (x->mode != M_SMOKE)
		av_add(&a, "--boost");
	for (int i = 0; extra && i < extra->n; i++)
		av_add(&a, extra->v[i]);
	if (x->verbose) {
		fprintf(stderr, "sluice-bench: run");
		for (int i = 1; i < a.n; i++)
			fprintf(stderr, " %s", a.v[i]);
		fprintf(stderr, "\n");
	}
	posix_spawn_file_actions_init(&fa);
	/* children's stdout (EAL chatter) goes to stderr: ours stays clean */
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawnattr_init(&sa);
	/* a session of its own: its own scheduler autogroup, see boost() */
	if (x->mode != M_SMOKE)
		posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSID);
	rc = posix_spawn(&pid, x->self, &fa, &sa, a.v, environ);
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "sluice-bench: cannot run %s: %s\n", x->self, strerror(rc));
		x->failures += last;
		return NULL;
	}
	running_child = pid;
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (bt_now() - t0 > timeout) {
			fprintf(stderr, "sluice-bench: %s child timed out after %.0f s\n", kind, timeout);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			running_child = 0;
			x->failures += last;
			return NULL;
		}
		usleep(20000);
	}
	running_child = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "sluice-bench: %s child failed (%s %d)\n", kind,
			WIFEXITED(st) ? "exit" : "signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		x->failures += last;
		return NULL;
	}
	r = json_object_from_file(result);
	unlink(result);
	if (r == NULL) {
		fprintf(stderr, "sluice-bench: %s child wrote no result\n", kind);
		x->failures += last;
	}
	return r;
}

static void add_common_dp_args(struct ctx *x, struct av *a, unsigned reps, double secs)
{
	av_add(a, "--reps");
	av_addf(a, "%u", x->reps ? x->reps : reps);
	av_add(a, "--secs");
	av_addf(a, "%g", x->secs > 0 ? x->secs : secs);
}

/* ---- machine description --------------------------------------------------- */

static char *read_cmd(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char buf[256] = "";

	if (p == NULL)
		return strdup("");
	if (fgets(buf, sizeof(buf), p) == NULL)
		buf[0] = '\0';
	pclose(p);
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

static json_object *machine_json(void)
{
	json_object *m = json_object_new_object();
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096], model[256] = "?";
	bool hyper = false;
	struct utsname u;
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGE_SIZE);
	char host[256] = "";

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) == 0 && model[0] == '?') {
			char *c = strchr(line, ':');

			if (c) {
				snprintf(model, sizeof(model), "%s", c + 2);
				model[strcspn(model, "\n")] = '\0';
			}
		}
		if (strncmp(line, "flags", 5) == 0 && strstr(line, " hypervisor"))
			hyper = true;
	}
	if (f)
		fclose(f);
	uname(&u);
	gethostname(host, sizeof(host) - 1);
	json_object_object_add(m, "cpu", json_object_new_string(model));
	json_object_object_add(m, "cpus", json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(m, "memory_gb",
			       json_object_new_double((double)pages * psz / (1024.0 * 1024 * 1024)));
	json_object_object_add(m, "virtualized", json_object_new_boolean(hyper));
	json_object_object_add(m, "kernel", json_object_new_string(u.release));
	json_object_object_add(m, "hostname", json_object_new_string(host));
	json_object_object_add(m, "dpdk", json_object_new_string(rte_version()));
	json_object_object_add(m, "hyperscan", json_object_new_string(hs_version()));
	json_object_object_add(m, "compiler", json_object_new_string(__VERSION__));
	json_object_object_add(m, "buildtype", json_object_new_string(BT_BUILDTYPE));
	/* the children use hugepages when this many MB are free (bt_eal_init) */
	json_object_object_add(m, "hugepages_free_mb", json_object_new_int((int)bt_huge_free_mb()));
	json_object_object_add(m, "nics", json_object_new_string("none (ring ports)"));
	return m;
}

static json_object *git_json(void)
{
	json_object *g = json_object_new_object();
	char cmd[1024];
	char *rev, *dirty;

	snprintf(cmd, sizeof(cmd), "git -C '%s' rev-parse HEAD 2>/dev/null", BT_SOURCE_ROOT);
	rev = read_cmd(cmd);
	snprintf(cmd, sizeof(cmd),
		 "git -C '%s' status --porcelain --untracked-files=no 2>/dev/null | head -1",
		 BT_SOURCE_ROOT);
	dirty = read_cmd(cmd);
	json_object_object_add(g, "revision", json_object_new_string(rev[0] ? rev : "unknown"));
	json_object_object_add(g, "dirty", json_object_new_boolean(dirty[0] != '\0'));
	free(rev);
	free(dirty);
	return g;
}

/* ---- policies --------------------------------------------------------------- */

static void load_extra_names(struct ctx *x)
{
	static const char *const lists[] = { "http_hosts.txt", "sni.txt", "dns_qnames.txt" };
	char dir[1024], path[1100], line[512];
	const char *slash;

	if (x->pcap == NULL)
		return;
	slash = strrchr(x->pcap, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - x->pcap) : 1,
		 slash ? x->pcap : ".");
	for (unsigned l = 0; l < SL_ARRAY_SIZE(lists); l++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, lists[l]);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			char name[512];
			unsigned cnt;
			char **n;

			/* "  COUNT NAME" (uniq -c) or just "NAME" */
			if (sscanf(line, "%u %511s", &cnt, name) != 2 &&
			    sscanf(line, "%511s", name) != 1)
				continue;
			n = realloc(x->extra, (x->nextra + 1) * sizeof(*n));
			if (n == NULL)
				break;
			x->extra = n;
			x->extra[x->nextra++] = strdup(name);
		}
		if (f)
			fclose(f);
	}
}

static int write_policies(struct ctx *x)
{
	for (int k = 0; k < BT_POL__COUNT; k++) {
		int rc;

		if (x->mode != M_FULL && k == BT_POL_DOM1M)
			continue;
		rc = bt_policy_write(k, x->workdir, x->seed, "a", x->extra, x->nextra, &x->pol[k]);
		if (rc < 0) {
			fprintf(stderr, "sluice-bench: writing policy %s: %s\n", bt_policy_name(k),
				strerror(-rc));
			return rc;
		}
	}
	return bt_policy_write(BT_POL_DOM100K_LIT1K, x->workdir, x->seed, "b", x->extra,
			       x->nextra, &x->pol_b);
}

static const char *policy_for_child(struct ctx *x, int k)
{
	return x->art[k] ? x->art[k] : x->pol[k];
}

/* ---- figure 4: compile and load -------------------------------------------- */

static void stat_runs(json_object *row, json_object **runs, unsigned n, const char *key,
		      const char *out)
{
	double v[64];
	unsigned k = 0;
	struct bt_stat st;

	for (unsigned i = 0; i < n && k < 64; i++) {
		json_object *o;

		if (runs[i] && json_object_object_get_ex(runs[i], key, &o))
			v[k++] = json_object_get_double(o);
	}
	bt_stat_of(v, k, &st);
	if (k)
		json_object_object_add(row, out, bt_stat_json(&st));
}

static void fig_policy(struct ctx *x)
{
	json_object *rows = json_object_new_array();
	static const int kinds[] = { BT_POL_DOM1K, BT_POL_DOM100K, BT_POL_DOM1M, BT_POL_LIT1K,
				     BT_POL_RE100, BT_POL_CIDR10K, BT_POL_DOM100K_LIT1K,
				     BT_POL_MIXED, BT_POL_NONE };

	for (unsigned i = 0; i < SL_ARRAY_SIZE(kinds); i++) {
		int k = kinds[i];
		unsigned reps = x->mode == M_FULL ? 3 : (k == BT_POL_DOM100K ? 3 : 1);
		json_object *runs[8] = { 0 }, *loads[8] = { 0 }, *row, *o;
		struct av a = { .n = 0 };
		bool headline = k == BT_POL_DOM100K || k == BT_POL_DOM1M || k == BT_POL_DOM1K ||
				k == BT_POL_MIXED;

		if (x->pol[k] == NULL)
			continue;
		if (x->mode == M_SMOKE && k != BT_POL_DOM1K && k != BT_POL_LIT1K && k != BT_POL_NONE)
			continue;
		if (x->mode == M_QUICK && k != BT_POL_DOM100K && k != BT_POL_DOM100K_LIT1K &&
		    k != BT_POL_NONE)
			continue;
		av_add(&a, "--policy");
		av_add(&a, x->pol[k]);
		for (unsigned r = 0; r < reps; r++)
			runs[r] = run_child(x, "compile", &a, 900);
		if (runs[0] == NULL)
			continue;
		if (json_object_object_get_ex(runs[0], "artefact", &o))
			x->art[k] = strdup(json_object_get_string(o));
		row = json_object_new_object();
		json_object_object_add(row, "policy", json_object_new_string(bt_policy_name(k)));
		json_object_object_add(row, "headline", json_object_new_boolean(headline));
		stat_runs(row, runs, reps, "compile_s", "compile_s");
		stat_runs(row, runs, reps, "rss_peak_mb", "compile_rss_mb");
		stat_runs(row, runs, reps, "rss_base_mb", "base_rss_mb");
		stat_runs(row, runs, reps, "save_s", "save_s");
		for (const char *const *key = (const char *const[]){ "artefact_bytes", "domains",
			"payloads", "cidrs", "urls", "policy_bytes", NULL }; *key; key++)
			if (json_object_object_get_ex(runs[0], *key, &o))
				json_object_object_add(row, *key, json_object_get(o));
		if (x->art[k]) {
			struct av b = { .n = 0 };

			av_add(&b, "--policy");
			av_add(&b, x->art[k]);
			for (unsigned r = 0; r < reps; r++)
				loads[r] = run_child(x, "load", &b, 300);
			stat_runs(row, loads, reps, "load_s", "load_s");
			stat_runs(row, loads, reps, "rss_peak_mb", "load_rss_mb");
		}
		for (unsigned r = 0; r < reps; r++) {
			json_object_put(runs[r]);
			json_object_put(loads[r]);
		}
		fprintf(stderr, "sluice-bench: [policy] %s: compile %.3f s\n", bt_policy_name(k),
			bt_jnum(row, "compile_s.median"));
		json_object_array_add(rows, row);
	}
	json_object_object_add(x->fig, "policy", rows);
}

/* ---- figure 1: matcher ---------------------------------------------------------- */

static void fig_matcher(struct ctx *x)
{
	json_object *rows = json_object_new_array();
	struct { const char *traffic; int pol; } full[] = {
		{ "imix/10000", BT_POL_DOM100K_LIT1K },
		{ "imix/10000", BT_POL_LIT1K },
		{ "imix/10000", BT_POL_RE100 },
		{ "imix/10000", BT_POL_MIXED },
		{ "64/10000s", BT_POL_DOM100K_LIT1K },
		{ "1500/10000", BT_POL_DOM100K_LIT1K },
		{ "pcap", BT_POL_DOM100K_LIT1K },
		{ "64/10000s", BT_POL_MIXED },
		{ "1500/10000", BT_POL_MIXED },
		{ "pcap", BT_POL_MIXED },
	}, quick[] = {
		{ "imix/10000", BT_POL_DOM100K_LIT1K },
	}, smoke[] = {
		{ "imix/500", BT_POL_LIT1K },
	};
	unsigned n = x->mode == M_FULL ? SL_ARRAY_SIZE(full) :
		     x->mode == M_QUICK ? SL_ARRAY_SIZE(quick) : SL_ARRAY_SIZE(smoke);

	for (unsigned i = 0; i < n; i++) {
		const char *tr = x->mode == M_FULL ? full[i].traffic :
				 x->mode == M_QUICK ? quick[i].traffic : smoke[i].traffic;
		int k = x->mode == M_FULL ? full[i].pol : x->mode == M_QUICK ? quick[i].pol :
			smoke[i].pol;
		struct av a = { .n = 0 };
		json_object *r;

		if (strcmp(tr, "pcap") == 0 && x->pcap == NULL)
			continue;
		av_traffic(x, &a, tr);
		av_add(&a, "--policy");
		av_add(&a, policy_for_child(x, k));
		av_add(&a, "--reps");
		av_addf(&a, "%u", x->reps ? x->reps : x->mode == M_FULL ? 7 : x->mode == M_QUICK ? 5 : 2);
		r = run_child(x, "matcher", &a, 900);
		if (r == NULL)
			continue;
		json_object_object_add(r, "policy", json_object_new_string(bt_policy_name(k)));
		json_object_object_add(r, "traffic_spec", json_object_new_string(tr));
		fprintf(stderr, "sluice-bench: [matcher] %s %s: raw %.2f Gbit/s, sluice %.2f Gbit/s, "
			"ratio %.2f (floor %.2f, decode alone %.2f)\n", tr, bt_policy_name(k),
			bt_jnum(r, "raw_gbps"), bt_jnum(r, "sluice_gbps"), bt_jnum(r, "ratio.median"),
			bt_jnum(r, "floor_ratio.median"), bt_jnum(r, "decode_floor_ratio.median"));
		if (strcmp(tr, "imix/10000") == 0 && k == BT_POL_DOM100K_LIT1K) {
			json_object_object_add(x->res, "matcher_ratio",
					       json_object_new_double(bt_jnum(r, "ratio.median")));
			json_object_object_add(x->res, "raw_cycles_per_pkt",
					       json_object_new_double(bt_jnum(r, "raw_cycles_per_pkt")));
			/* for reference: raw Hyperscan behind decode and a flow lookup */
			json_object_object_add(x->res, "floor_ratio",
					       json_object_new_double(bt_jnum(r, "floor_ratio.median")));
			/* and behind a decode alone (no lookup) */
			json_object_object_add(x->res, "decode_floor_ratio", json_object_new_double(
				bt_jnum(r, "decode_floor_ratio.median")));
			json_object_object_add(x->res, "matcher_no_payload_share", json_object_new_double(
				bt_jnum(r, "traffic.no_payload_share")));
			/* sluice as deployed (encrypted = "skip"): fewer bytes */
			json_object_object_add(x->res, "matcher_skip_ratio",
					       json_object_new_double(bt_jnum(r, "skip_ratio.median")));
			json_object_object_add(x->res, "matcher_encrypted_share",
					       json_object_new_double(bt_jnum(r, "encrypted_share")));
		}
		json_object_array_add(rows, r);
	}
	json_object_object_add(x->fig, "matcher", rows);
}

/* ---- figure 2: dataplane --------------------------------------------------------- */

static json_object *dp_run(struct ctx *x, const char *tr, int k, const char *mode,
			   unsigned workers)
{
	struct av a = { .n = 0 };
	unsigned reps = x->mode == M_FULL ? 5 : x->mode == M_QUICK ? 3 : 2;
	double secs = x->mode == M_FULL ? 1.0 : x->mode == M_QUICK ? 0.5 : 0.2;
	json_object *r;

	av_traffic(x, &a, tr);
	av_add(&a, "--policy");
	av_add(&a, policy_for_child(x, k));
	av_add(&a, "--workers");
	av_addf(&a, "%u", workers);
	if (strcmp(mode, "io") == 0) {
		av_add(&a, "--io");
	} else if (strcmp(mode, "loopback") == 0) {
		av_add(&a, "--loopback");
	} else if (strcmp(mode, "loopback-io") == 0) {
		av_add(&a, "--loopback");
		av_add(&a, "--io");
	}
	add_common_dp_args(x, &a, reps, secs);
	r = run_child(x, "dp", &a, 1800);
	if (r == NULL)
		return NULL;
	json_object_object_add(r, "policy", json_object_new_string(bt_policy_name(k)));
	json_object_object_add(r, "traffic_spec", json_object_new_string(tr));
	json_object_object_add(r, "row_mode", json_object_new_string(mode));
	fprintf(stderr, "sluice-bench: [dataplane] %s %s %s x%u: %.2f Mpps/worker, %.0f cycles/pkt\n",
		tr, bt_policy_name(k), mode, workers, bt_jnum(r, "mpps_per_worker.median"),
		bt_jnum(r, "cycles_per_pkt.median"));
	return r;
}

/* --testpmd names an executable, or one on PATH */
static bool have_testpmd(const struct ctx *x)
{
	char cmd[2048], *w;
	bool ok;

	if (access(x->testpmd, X_OK) == 0)
		return true;
	snprintf(cmd, sizeof(cmd), "command -v %s 2>/dev/null", x->testpmd);
	w = read_cmd(cmd);
	ok = w[0] != '\0';
	free(w);
	return ok;
}

/* dpdk-testpmd in io mode on two loopback net_ring ports, 32 frames per
 * port circulating (--tx-first): Rx-pps of both ports, per stats period. */
static json_object *run_testpmd(struct ctx *x, unsigned periods)
{
	char line[512];
	unsigned mcpu = 0, wcpu = 1;
	double v[64];
	unsigned nv = 0, block = 0;
	double cur = 0;
	bool in_block = false;
	FILE *p;
	struct bt_stat st;
	json_object *r;
	pid_t pid;
	int fds[2];
	bool huge;

	if (x->cpus)
		sscanf(x->cpus, "%u,%u", &mcpu, &wcpu);
	if (!have_testpmd(x))
		return NULL;
	huge = bt_huge_fits(512);   /* testpmd's -m 512 */
	if (pipe(fds) < 0)
		return NULL;
	pid = fork();
	if (pid < 0)
		return NULL;
	if (pid == 0) {
		char lc[64];

		snprintf(lc, sizeof(lc), "0@%u,1@%u", mcpu, wcpu);
		if (x->mode != M_SMOKE && setsid() >= 0)
			bt_boost();
		dup2(fds[1], 1);
		close(fds[0]);
		/* memory as sluice's children get it (bt_eal_init) */
		char *av[] = { (char *)x->testpmd,
			       huge ? "--in-memory" : "--no-huge",
			       huge ? "--iova-mode=va" : "--no-shconf",
			       "--no-pci", "--no-telemetry", "-m", "512", "--lcores", lc,
			       "--vdev", "net_ring0", "--vdev", "net_ring1", "--log-level=*:error",
			       "--", "--forward-mode=io", "--tx-first", "--stats-period", "1",
			       "--total-num-mbufs=8192", "--nb-cores=1", "--burst=32", NULL };

		execvp(x->testpmd, av);
		_exit(127);
	}
	close(fds[1]);
	running_child = pid;
	p = fdopen(fds[0], "r");
	/* the first period covers the start-up: skip it */
	while (p && nv < periods && nv < 64 && fgets(line, sizeof(line), p)) {
		double pps;

		if (strstr(line, "Port statistics")) {
			if (in_block && block > 1)
				v[nv++] = cur;
			in_block = true;
			block++;
			cur = 0;
		} else if (in_block && sscanf(line, " Rx-pps: %lf", &pps) == 1) {
			cur += pps;
		}
	}
	kill(pid, SIGINT);
	if (p) {
		while (fgets(line, sizeof(line), p))
			;
		fclose(p);
	}
	waitpid(pid, NULL, 0);
	running_child = 0;
	if (nv == 0)
		return NULL;
	for (unsigned i = 0; i < nv; i++)
		v[i] /= 1e6;
	bt_stat_of(v, nv, &st);
	r = json_object_new_object();
	json_object_object_add(r, "mpps", bt_stat_json(&st));
	json_object_object_add(r, "mpps_per_worker", bt_stat_json(&st));
	json_object_object_add(r, "command", json_object_new_string(huge ?
		"dpdk-testpmd --in-memory --iova-mode=va --no-pci --vdev net_ring0 --vdev net_ring1 "
		"-- --forward-mode=io --tx-first --burst=32 --nb-cores=1 --stats-period 1" :
		"dpdk-testpmd --no-huge --no-pci --vdev net_ring0 --vdev net_ring1 -- "
		"--forward-mode=io --tx-first --burst=32 --nb-cores=1 --stats-period 1"));
	json_object_object_add(r, "hugepages", json_object_new_boolean(huge));
	fprintf(stderr, "sluice-bench: [dataplane] dpdk-testpmd io: %.2f Mpps\n", st.med);
	return r;
}

/* ---- figure 2 over virtio ------------------------------------------------------ */

/* A forwarder in a process of its own on a virtio-user port (server mode,
 * hairpinned), fed by a vhost-src child on the other end of the socket:
 * the sluice binary with policy k, or dpdk-testpmd in io mode (k < 0),
 * the limit of the same devices. Both on 4 KB pages (virtio-user shares
 * its memory with the vhost end by file descriptor). */
static json_object *virtio_run(struct ctx *x, const char *tr, int k)
{
	char sock[512], cfg[512], ctl[512], vdev[700], prefix[32], lc[32], log[512];
	char dir[4096], sluice[4200], sluice_ctl[4200], mc[16], cmd[9000];
	unsigned mcpu = 0, wcpu = 1;
	struct av a = { .n = 0 };
	json_object *r = NULL;
	pid_t pid;
	double until;
	int st;

	if (x->cpus)
		sscanf(x->cpus, "%u,%u", &mcpu, &wcpu);
	snprintf(dir, sizeof(dir), "%s", x->self);
	*strrchr(dir, '/') = '\0';
	snprintf(sluice, sizeof(sluice), "%s/../dataplane/sluice", dir);
	snprintf(sluice_ctl, sizeof(sluice_ctl), "%s/../ctl/sluice-ctl", dir);
	if (k < 0 && !have_testpmd(x))
		return NULL;
	if (k >= 0 && access(sluice, X_OK) != 0) {
		fprintf(stderr, "sluice-bench: %s not found: no virtio rows\n", sluice);
		return NULL;
	}
	snprintf(sock, sizeof(sock), "%s/virtio.sock", x->workdir);
	snprintf(ctl, sizeof(ctl), "%s/virtio-ctl.sock", x->workdir);
	snprintf(cfg, sizeof(cfg), "%s/virtio.cfg", x->workdir);
	snprintf(log, sizeof(log), "%s/virtio-forwarder.log", x->workdir);
	snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,server=1,queues=1", sock);
	snprintf(prefix, sizeof(prefix), "slbv%d", (int)getpid());
	snprintf(lc, sizeof(lc), "0@%u,1@%u", mcpu, wcpu);
	snprintf(mc, sizeof(mc), "%u", mcpu);
	unlink(sock);
	unlink(ctl);
	if (k >= 0) {
		FILE *f = fopen(cfg, "w");

		if (f == NULL)
			return NULL;
		/* as the ring rows: every payload byte scanned, no shedding */
		fprintf(f, "policy = \"%s\";\nports = ( [0] );\ncontrol = { socket = \"%s\"; };\n"
			"encrypted = \"scan\";\nidle_sleep_us = 0;\n"
			"limits = { flows = 65536; rx_backlog = 0; };\n",
			policy_for_child(x, k), ctl);
		fclose(f);
	}
	pid = fork();
	if (pid < 0)
		return NULL;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (x->mode != M_SMOKE && setsid() >= 0)
			bt_boost();
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (k >= 0) {
			char *av[] = { sluice, "--lcores", lc, "--no-huge", "--no-pci", "--no-shconf",
				       "-m", "1024", "--file-prefix", prefix,
				       "--log-level=*:error", "--vdev", vdev, "--", "--config", cfg,
				       NULL };

			execv(sluice, av);
		} else {
			char *av[] = { (char *)x->testpmd, "--lcores", lc, "--no-huge", "--no-pci",
				       "--no-shconf", "-m", "512", "--file-prefix", prefix,
				       "--log-level=*:error", "--vdev", vdev, "--",
				       "--forward-mode=io", "--port-topology=loop", "--nb-cores=1",
				       "--burst=32", "--stats-period", "1",
				       "--total-num-mbufs=8192", NULL };

			execvp(x->testpmd, av);
		}
		_exit(127);
	}
	running_child = pid;
	/* the virtio-user port listens (server=1) once the forwarder is up */
	until = bt_now() + 30;
	while (access(sock, F_OK) != 0 && bt_now() < until && waitpid(pid, &st, WNOHANG) == 0)
		usleep(20000);
	if (access(sock, F_OK) != 0) {
		fprintf(stderr, "sluice-bench: the virtio forwarder did not start (see %s)\n", log);
		goto out;
	}
	av_traffic(x, &a, tr);
	av_add(&a, "--policy");   /* the vhost child's socket */
	av_add(&a, sock);
	av_add(&a, "--cpus");
	av_add(&a, mc);
	add_common_dp_args(x, &a, x->mode == M_FULL ? 5 : 2, x->mode == M_FULL ? 1.0 : 0.3);
	if (x->mode != M_FULL) {
		av_add(&a, "--warmup");
		av_add(&a, "0.3");
	}
	r = run_child(x, "vhost-src", &a, 300);
	if (r == NULL)
		goto out;
	running_child = pid;
	if (k >= 0) {
		/* the forwarder's own counters, as an operator reads them */
		static const char *const keep[][2] = {
			{ "cycles_per_pkt", "total.cycles_per_pkt" },
			{ "sluice_rx_pkts", "total.rx_pkts" },
			{ "sluice_tx_fail", "total.tx_fail" },
			{ "sluice_dropped_policy", "total.dropped_policy" },
			{ "sluice_shed", "total.overload.rx_backlog" },
		};
		json_object *s = NULL;
		FILE *p;

		snprintf(cmd, sizeof(cmd), "'%s' --socket '%s' --json stats 2>/dev/null", sluice_ctl,
			 ctl);
		p = popen(cmd, "r");
		if (p) {
			s = json_object_from_fd(fileno(p));
			pclose(p);
		}
		for (size_t i = 0; s && i < sizeof(keep) / sizeof(keep[0]); i++)
			json_object_object_add(r, keep[i][0],
					       json_object_new_double(bt_jnum(s, keep[i][1])));
		json_object_put(s);
	}
	json_object_object_add(r, "policy", json_object_new_string(k >= 0 ? bt_policy_name(k) : "-"));
	json_object_object_add(r, "traffic_spec", json_object_new_string(tr));
	json_object_object_add(r, "row_mode", json_object_new_string(k >= 0 ? "sluice" : "testpmd"));
	json_object_object_add(r, "command", json_object_new_string(k >= 0 ?
		"sluice --no-huge --vdev net_virtio_user0,path=SOCK,server=1 (ports = ([0]))" :
		"dpdk-testpmd --no-huge --vdev net_virtio_user0,path=SOCK,server=1 -- "
		"--forward-mode=io --port-topology=loop"));
	fprintf(stderr, "sluice-bench: [dataplane, virtio] %s %s: %.2f Mpps",
		tr, k >= 0 ? bt_policy_name(k) : "dpdk-testpmd io", bt_jnum(r, "mpps.median"));
	if (k >= 0)
		fprintf(stderr, ", %.0f cycles/pkt", bt_jnum(r, "cycles_per_pkt"));
	fprintf(stderr, "\n");
out:
	kill(pid, SIGINT);
	until = bt_now() + 10;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (bt_now() > until) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(20000);
	}
	running_child = 0;
	if (k >= 0 && r && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
		note(x, "virtio row: sluice did not stop cleanly (see %s)", log);
	/* EAL's runtime directory of the forwarder (root: /var/run/dpdk) */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/dpdk/%s'",
		 geteuid() == 0 ? "/var/run" : (getenv("XDG_RUNTIME_DIR") ?: "/tmp"), prefix);
	if (system(cmd) != 0)
		fprintf(stderr, "sluice-bench: could not remove the runtime directory of %s\n",
			prefix);
	return r;
}

static void fig_virtio(struct ctx *x)
{
	static const int pol[] = { -1, BT_POL_NONE, BT_POL_DOM100K_LIT1K };
	json_object *rows = json_object_new_array();

	for (size_t i = 0; i < sizeof(pol) / sizeof(pol[0]); i++) {
		json_object *r = virtio_run(x, "imix/10000", pol[i]);

		if (r)
			json_object_array_add(rows, r);
	}
	json_object_object_add(x->fig, "virtio", rows);
}

/* Raw Hyperscan's cycles per packet on traffic tr with policy k, measured
 * now (a matcher child with --io: raw passes only); NAN if it failed. */
static double raw_now(struct ctx *x, const char *tr, int k)
{
	struct av a = { .n = 0 };
	json_object *r;
	double v;

	av_traffic(x, &a, tr);
	av_add(&a, "--policy");
	av_add(&a, policy_for_child(x, k));
	av_add(&a, "--io");
	av_add(&a, "--reps");
	av_add(&a, "3");
	r = run_child(x, "matcher", &a, 300);
	if (r == NULL)
		return NAN;
	v = bt_jnum(r, "raw_cycles_per_pkt");
	json_object_put(r);
	return v;
}

/* The cycles goal: row r's cycles per packet against raw Hyperscan's on the
 * same traffic and cpu. This machine's speed drifts between minutes (raw
 * Hyperscan's own cost moves by a quarter or more), so raw Hyperscan is
 * measured right next to the row instead of taken from figure 1: a full
 * run alternates raw Hyperscan and the row three times (raw, row, raw,
 * row, raw, row, raw; r is the first row), each row against the mean of
 * the raw figures on either side, and takes the median of the three
 * ratios; a quick run measures raw Hyperscan once, right after the row.
 * The ratio against figure 1's raw figure is kept (cycles_ratio_fig1). */
static void cycles_ratio(struct ctx *x, const char *tr, int k, json_object *r,
			 double raw_before)
{
	unsigned rounds = x->mode == M_FULL ? 3 : 1;
	double fig1 = bt_jnum(x->res, "raw_cycles_per_pkt");
	double raw[4], cpp[3], ratio[3];
	json_object *o = json_object_new_object(), *ra = json_object_new_array();
	unsigned n = 0;
	struct bt_stat st;

	raw[0] = raw_before;
	cpp[0] = bt_jnum(r, "cycles_per_pkt.median");
	if (!isnan(fig1) && fig1 > 0)
		json_object_object_add(x->res, "cycles_ratio_fig1",
				       json_object_new_double(cpp[0] / fig1));
	for (unsigned i = 0; i < rounds; i++) {
		json_object *row = i == 0 ? json_object_get(r) : dp_run(x, tr, k, "sluice", 1);
		double side, v;

		if (i > 0)
			cpp[i] = row ? bt_jnum(row, "cycles_per_pkt.median") : NAN;
		json_object_put(row);
		raw[i + 1] = raw_now(x, tr, k);
		side = isnan(raw[i]) ? raw[i + 1] : isnan(raw[i + 1]) ? raw[i] :
		       (raw[i] + raw[i + 1]) / 2;
		if (isnan(side) || side <= 0 || isnan(cpp[i]))
			continue;
		v = cpp[i] / side;
		ratio[n++] = v;
		{
			json_object *e = json_object_new_object();

			if (!isnan(raw[i]))
				json_object_object_add(e, "raw_before", json_object_new_double(raw[i]));
			if (!isnan(raw[i + 1]))
				json_object_object_add(e, "raw_after",
						       json_object_new_double(raw[i + 1]));
			json_object_object_add(e, "sluice_cycles_per_pkt",
					       json_object_new_double(cpp[i]));
			json_object_object_add(e, "ratio", json_object_new_double(v));
			json_object_array_add(ra, e);
		}
		fprintf(stderr, "sluice-bench: [dataplane] cycles ratio, round %u: %.2f (%.0f / raw "
			"Hyperscan %.0f measured beside it)\n", i + 1, v, cpp[i], side);
	}
	json_object_object_add(o, "rounds", ra);
	json_object_object_add(x->fig, "cycles_goal", o);
	if (n == 0) {
		/* the raw children failed: figure 1's, as before */
		if (!isnan(fig1) && fig1 > 0)
			json_object_object_add(x->res, "cycles_ratio",
					       json_object_new_double(cpp[0] / fig1));
		return;
	}
	bt_stat_of(ratio, n, &st);
	json_object_object_add(x->res, "cycles_ratio", json_object_new_double(st.med));
	fprintf(stderr, "sluice-bench: [dataplane] cycles ratio %.2f (median of %u; %.2f against "
		"figure 1's raw figure)\n", st.med, n, cpp[0] / fig1);
}

static void fig_dataplane(struct ctx *x)
{
	json_object *rows = json_object_new_array(), *r, *tp = NULL, *lb = NULL, *lbio = NULL;
	json_object *fwd = NULL, *io = NULL;
	static const int all[] = { BT_POL_NONE, BT_POL_DOM1K, BT_POL_DOM100K, BT_POL_DOM1M,
				   BT_POL_LIT1K, BT_POL_RE100, BT_POL_CIDR10K,
				   BT_POL_DOM100K_LIT1K, BT_POL_MIXED };
	static const char *const more[] = { "64/10000s", "1500/10000", "pcap", "imix/10000s",
					    "imix/100000s", "imix/1000000s" };
	const char *base = x->mode == M_SMOKE ? "imix/500" : "imix/10000";

	/* the forwarding limit on the same devices, then sluice on them, in
	 * alternating rounds (this machine's speed drifts between minutes):
	 * the ratio is the median of the rounds' */
	{
		unsigned rounds = x->mode == M_FULL ? 5 : x->mode == M_QUICK ? 2 : 1;
		json_object *ra = json_object_new_array();
		double rv[8];
		unsigned nr = 0;

		for (unsigned k = 0; k < rounds; k++) {
			/* quick: 2 periods, to stay under a minute */
			json_object *t = run_testpmd(x, x->mode == M_FULL ? 5 : 2);
			json_object *l = dp_run(x, base, BT_POL_NONE, "loopback", 1);
			/* the rig's own loop: a table row, and the reference
			 * when testpmd cannot run */
			json_object *li = k == 0 || t == NULL ?
				dp_run(x, base, BT_POL_NONE, "loopback-io", 1) : NULL;
			double ref = bt_jnum(t ? t : li, "mpps.median");

			if (l && (t || li)) {
				json_object *o = json_object_new_object();

				rv[nr] = bt_jnum(l, "mpps.median") / ref;
				json_object_object_add(o, "reference_mpps", json_object_new_double(ref));
				json_object_object_add(o, "sluice_mpps", json_object_new_double(
					bt_jnum(l, "mpps.median")));
				json_object_object_add(o, "ratio", json_object_new_double(rv[nr]));
				json_object_array_add(ra, o);
				nr++;
			}
			/* the table shows the first round's rows */
			if (k == 0) {
				tp = t;
				lb = l;
				lbio = li;
			} else {
				json_object_put(t);
				json_object_put(l);
				json_object_put(li);
			}
		}
		if (tp == NULL)
			note(x, "dpdk-testpmd could not run: forward_ratio is against sluice-bench's "
			     "own rx/tx loop on the same ports");
		if (nr > 0) {
			struct bt_stat st;

			bt_stat_of(rv, nr, &st);
			json_object_object_add(x->res, "forward_ratio",
					       json_object_new_double(st.med));
			json_object_object_add(x->res, "forward_ratio_vs",
					       json_object_new_string(tp ? "dpdk-testpmd" : "io-loop"));
			json_object_object_add(x->fig, "forward_rounds", ra);
		} else {
			json_object_put(ra);
		}
	}
	if (tp)
		json_object_object_add(x->fig, "testpmd", tp);
	if (lb)
		json_object_array_add(rows, lb);
	if (lbio)
		json_object_array_add(rows, lbio);
	/* the generator-fed rig: its own limit, then every policy */
	io = dp_run(x, base, BT_POL_NONE, "io", 1);
	if (io)
		json_object_array_add(rows, io);
	for (unsigned i = 0; i < SL_ARRAY_SIZE(all); i++) {
		int k = all[i];
		double raw_before = NAN;   /* full run: raw Hyperscan before the cycles row */

		if (x->pol[k] == NULL)
			continue;
		if (x->mode != M_FULL && k != BT_POL_NONE && k != BT_POL_DOM100K_LIT1K)
			continue;
		if (k == BT_POL_DOM100K_LIT1K && x->mode == M_FULL)
			raw_before = raw_now(x, base, k);
		r = dp_run(x, base, k, "sluice", 1);
		if (r == NULL)
			continue;
		if (k == BT_POL_NONE)
			fwd = r;
		if (k == BT_POL_DOM100K_LIT1K && x->mode != M_SMOKE)
			cycles_ratio(x, base, k, r, raw_before);
		json_object_array_add(rows, r);
	}
	if (fwd && io)
		json_object_object_add(x->res, "forward_ratio_rig", json_object_new_double(
			bt_jnum(fwd, "mpps.median") / bt_jnum(io, "mpps.median")));
	for (unsigned i = 0; x->mode == M_FULL && i < SL_ARRAY_SIZE(more); i++) {
		static const int pols[] = { BT_POL_NONE, BT_POL_DOM100K_LIT1K };

		if (strcmp(more[i], "pcap") == 0 && x->pcap == NULL)
			continue;
		for (unsigned j = 0; j < 2; j++) {
			r = dp_run(x, more[i], pols[j], "sluice", 1);
			if (r)
				json_object_array_add(rows, r);
		}
	}
	json_object_object_add(x->fig, "dataplane", rows);
}

/* ---- figure 3: scaling -------------------------------------------------------------- */

static void fig_scaling(struct ctx *x)
{
	json_object *rows = json_object_new_array();
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned maxw = ncpu > 1 ? (unsigned)(ncpu - 1) : 1;

	/* with 2 cpus, a second worker shares the source's cpu: shown anyway */
	if (maxw < 2)
		maxw = 2;
	if (maxw > 16)
		maxw = 16;
	for (unsigned w = 1; w <= maxw; w++) {
		json_object *r = dp_run(x, x->mode == M_SMOKE ? "imix/500" : "imix/10000",
					BT_POL_DOM100K_LIT1K, "sluice", w);

		if (r) {
			json_object_object_add(r, "shared_cpus",
					       json_object_new_boolean(w + 1 > (unsigned)ncpu));
			json_object_array_add(rows, r);
		}
	}
	if (ncpu <= 2)
		note(x, "scaling: %ld cpus; with 2 workers one of them shares a cpu with the traffic "
		     "source and the main lcore", ncpu);
	json_object_object_add(x->fig, "scaling", rows);
}

/* ---- figure 4: reload under load ------------------------------------------------------ */

static void fig_reload(struct ctx *x)
{
	struct av a = { .n = 0 };
	json_object *r;
	double secs = x->secs > 0 ? x->secs * 5 : x->mode == M_FULL ? 10 : x->mode == M_QUICK ? 3 : 1;

	av_traffic(x, &a, x->mode == M_SMOKE ? "imix/500" : "imix/10000");
	av_add(&a, "--policy");
	av_add(&a, x->pol[BT_POL_DOM100K_LIT1K]);
	av_add(&a, "--policy2");
	av_add(&a, x->pol_b);
	av_add(&a, "--secs");
	av_addf(&a, "%g", secs);
	av_add(&a, "--load");
	av_add(&a, "50");
	r = run_child(x, "reload", &a, 600);
	if (r == NULL)
		return;
	json_object_object_add(r, "policy", json_object_new_string(bt_policy_name(BT_POL_DOM100K_LIT1K)));
	json_object_object_add(x->res, "reload_lost_packets",
			       json_object_new_int64((int64_t)bt_jnum(r, "reloading.lost")));
	json_object_object_add(x->res, "reload_lost_after_swaps",
			       json_object_new_int64((int64_t)bt_jnum(r, "lost_after_swaps")));
	json_object_object_add(x->res, "reload_lost_without_reloads",
			       json_object_new_int64((int64_t)bt_jnum(r, "baseline.lost")));
	{
		json_object *rl, *o;
		double c[64], b[64], s[64];
		unsigned n = 0;
		struct bt_stat st;

		if (json_object_object_get_ex(r, "reloads", &rl)) {
			for (size_t i = 0; i < json_object_array_length(rl) && n < 64; i++, n++) {
				o = json_object_array_get_idx(rl, i);
				c[n] = bt_jnum(o, "compile_s");
				b[n] = bt_jnum(o, "build_s");
				s[n] = bt_jnum(o, "swap_s");
			}
		}
		bt_stat_of(c, n, &st);
		json_object_object_add(r, "compile_s", bt_stat_json(&st));
		bt_stat_of(b, n, &st);
		json_object_object_add(r, "build_s", bt_stat_json(&st));
		bt_stat_of(s, n, &st);
		json_object_object_add(r, "swap_s", bt_stat_json(&st));
	}
	fprintf(stderr, "sluice-bench: [reload] %.0f reloads at %.2f Mpps offered: %lld lost "
		"(%lld without reloads)\n", bt_jnum(r, "compile_s.n"),
		bt_jnum(r, "reloading.offered_mpps"), (long long)bt_jnum(r, "reloading.lost"),
		(long long)bt_jnum(r, "baseline.lost"));
	json_object_object_add(x->fig, "reload", r);
}

/* ---- figure 5: memory ------------------------------------------------------------------ */

static void fig_memory(struct ctx *x)
{
	json_object *rows = json_object_new_array();
	static const char *const full[] = { "imix/100000s", "imix/1000000s" };
	static const char *const quick[] = { "imix/100000s" };
	static const char *const smoke[] = { "imix/2000s" };
	const char *const *set = x->mode == M_FULL ? full : x->mode == M_QUICK ? quick : smoke;
	unsigned n = x->mode == M_FULL ? 2 : 1;

	for (unsigned i = 0; i < n; i++) {
		struct av a = { .n = 0 };
		json_object *r;

		av_traffic(x, &a, set[i]);
		av_add(&a, "--policy");
		av_add(&a, policy_for_child(x, BT_POL_DOM100K_LIT1K));
		r = run_child(x, "memory", &a, 1200);
		if (r == NULL)
			continue;
		json_object_object_add(r, "policy", json_object_new_string(bt_policy_name(BT_POL_DOM100K_LIT1K)));
		fprintf(stderr, "sluice-bench: [memory] %s: %.0f B/flow (table %.0f + streams %.0f)\n",
			set[i], bt_jnum(r, "bytes_per_flow"), bt_jnum(r, "table_bytes_per_flow"),
			bt_jnum(r, "stream_bytes_per_flow"));
		json_object_array_add(rows, r);
	}
	json_object_object_add(x->fig, "memory", rows);
}

/* ---- figure 6: records ------------------------------------------------------------------ */

static void fig_records(struct ctx *x)
{
	struct av a = { .n = 0 };
	json_object *r;

	av_add(&a, "--secs");
	av_addf(&a, "%g", x->mode == M_FULL ? 3.0 : x->mode == M_QUICK ? 1.0 : 0.3);
	r = run_child(x, "records", &a, 300);
	if (r == NULL)
		return;
	fprintf(stderr, "sluice-bench: [records] writer %.0f events/s; at 2x: %lld of %lld lost\n",
		bt_jnum(r, "writer_events_per_s"), (long long)bt_jnum(r, "lost"),
		(long long)(bt_jnum(r, "lost") + bt_jnum(r, "queued")));
	json_object_object_add(x->fig, "records", r);
}

/* ---- goals ------------------------------------------------------------------------------ */

static void goal(json_object *g, const char *name, double v, double target, bool at_most)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "value", isnan(v) ? NULL : json_object_new_double(v));
	json_object_object_add(o, "goal", json_object_new_double(target));
	json_object_object_add(o, "at_most", json_object_new_boolean(at_most));
	json_object_object_add(o, "met", isnan(v) ? NULL :
			       json_object_new_boolean(at_most ? v <= target : v >= target));
	json_object_object_add(g, name, o);
}

static void goals(struct ctx *x)
{
	json_object *g = json_object_new_object();

	goal(g, "matcher_ratio", bt_jnum(x->res, "matcher_ratio"), 0.9, false);
	goal(g, "forward_ratio", bt_jnum(x->res, "forward_ratio"), 0.9, false);
	goal(g, "cycles_ratio", bt_jnum(x->res, "cycles_ratio"), 1.5, true);
	goal(g, "reload_lost_packets", bt_jnum(x->res, "reload_lost_packets"), 0, true);
	json_object_object_add(x->res, "goals", g);
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-bench [--quick | --smoke] [--json] [--out FILE] [--results DIR]\n"
		"                    [--pcap FILE | --no-pcap] [--seed N] [--reps N] [--secs S]\n"
		"                    [--only FIG,...] [--cpus MAIN,WORKER,...] [--testpmd PATH]\n"
		"                    [--no-hugepages] [--keep] [-v]\n"
		"       sluice-bench --table RESULTS.json\n"
		"\n"
		"Figures: matcher, dataplane, virtio, scaling, policy, reload, memory, records.\n"
		"Without --quick/--smoke: the full set; the results JSON goes to --results\n"
		"(default: bench/results of the source tree) and the table to stdout.\n"
		"--quick --json: a reduced set in under a minute, one JSON object on stdout.\n"
		"Children use hugepages when enough are free (a hugetlbfs mount and\n"
		"/proc/sys/vm/nr_hugepages), else 4 KB pages; --no-hugepages: always 4 KB.\n");
}

static int child_main(int argc, char **argv)
{
	struct bt_child_opts o = {
		.gen = { .flows = 10000, .profile = BT_IMIX, .shape = BT_SHAPE_NORMAL, .seed = 1,
			 .v6_pct = 20, .vlan_pct = 5 },
	};
	static const struct option lo[] = {
		{ "child", required_argument, NULL, 'K' },
		{ "result", required_argument, NULL, 'R' },
		{ "policy", required_argument, NULL, 'p' },
		{ "policy2", required_argument, NULL, 'P' },
		{ "pcap", required_argument, NULL, 'c' },
		{ "profile", required_argument, NULL, 'f' },
		{ "flows", required_argument, NULL, 'n' },
		{ "shape", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "workers", required_argument, NULL, 'w' },
		{ "reps", required_argument, NULL, 'r' },
		{ "secs", required_argument, NULL, 't' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "load", required_argument, NULL, 'L' },
		{ "io", no_argument, NULL, 'i' },
		{ "loopback", no_argument, NULL, 'l' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "mem", required_argument, NULL, 'm' },
		{ "workdir", required_argument, NULL, 'D' },
		{ "boost", no_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	json_object *res = json_object_new_object();
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (c) {
		case 'K': o.kind = optarg; break;
		case 'R': o.out = optarg; break;
		case 'p': o.policy = optarg; break;
		case 'P': o.policy2 = optarg; break;
		case 'c': o.pcap = optarg; break;
		case 'f':
			rc = bt_profile_parse(optarg);
			if (rc < 0)
				return 2;
			o.gen.profile = rc;
			break;
		case 'n': o.gen.flows = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': o.gen.shape = strcmp(optarg, "short") == 0 ? BT_SHAPE_SHORT : BT_SHAPE_NORMAL; break;
		case 'S': o.gen.seed = strtoull(optarg, NULL, 10); break;
		case 'w': o.workers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o.reps = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': o.secs = strtod(optarg, NULL); break;
		case 'W': o.warmup = strtod(optarg, NULL); break;
		case 'L': o.load_pct = strtod(optarg, NULL); break;
		case 'i': o.io_only = true; break;
		case 'l': o.loopback = true; break;
		case 'C': o.cpus = optarg; break;
		case 'm': o.mem_mb = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'D': o.workdir = optarg; break;
		case 'v': o.verbose = true; break;
		case 'B': bt_boost(); break;
		default: return 2;
		}
	}
	if (o.kind == NULL)
		return 2;
	if (strcmp(o.kind, "matcher") == 0)
		rc = bt_child_matcher(&o, res);
	else if (strcmp(o.kind, "dp") == 0)
		rc = bt_child_dp(&o, res);
	else if (strcmp(o.kind, "reload") == 0)
		rc = bt_child_reload(&o, res);
	else if (strcmp(o.kind, "memory") == 0)
		rc = bt_child_memory(&o, res);
	else if (strcmp(o.kind, "records") == 0)
		rc = bt_child_records(&o, res);
	else if (strcmp(o.kind, "compile") == 0)
		rc = bt_child_compile(&o, res);
	else if (strcmp(o.kind, "load") == 0)
		rc = bt_child_load(&o, res);
	else if (strcmp(o.kind, "vhost-src") == 0)
		rc = bt_child_vhost_src(&o, res);
	else
		return 2;
	if (rc < 0) {
		fprintf(stderr, "sluice-bench: %s: %s\n", o.kind, strerror(-rc));
		return 1;
	}
	json_object_object_add(res, "hugepages", json_object_new_boolean(bt_eal_huge));
	if (o.out && json_object_to_file_ext(o.out, res, JSON_C_TO_STRING_PLAIN) < 0) {
		fprintf(stderr, "sluice-bench: %s: cannot write %s: %s\n", o.kind, o.out,
			json_util_get_last_err());
		return 1;
	}
	if (o.out == NULL)
		printf("%s\n", json_object_to_json_string_ext(res, JSON_C_TO_STRING_PRETTY));
	json_object_put(res);
	/* EAL and its memory go with the process */
	return 0;
}

static void cleanup_workdir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "sluice-bench: could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "smoke", no_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "out", required_argument, NULL, 'o' },
		{ "results", required_argument, NULL, 'R' },
		{ "pcap", required_argument, NULL, 'c' },
		{ "no-pcap", no_argument, NULL, 'N' },
		{ "seed", required_argument, NULL, 'S' },
		{ "reps", required_argument, NULL, 'r' },
		{ "secs", required_argument, NULL, 't' },
		{ "only", required_argument, NULL, 'O' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "testpmd", required_argument, NULL, 'T' },
		{ "no-hugepages", no_argument, NULL, 'H' },
		{ "keep", no_argument, NULL, 'K' },
		{ "table", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx x = {
		.mode = M_FULL, .seed = 1, .testpmd = "dpdk-testpmd",
		.results_dir = BT_SOURCE_ROOT "/bench/results",
	};
	const char *table = NULL;
	bool no_pcap = false;
	double t0 = bt_now();
	char stamp[64], path[1024];
	time_t now = time(NULL);
	ssize_t sl;
	int c;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--child") == 0)
			return child_main(argc, argv);
	while ((c = getopt_long(argc, argv, "hv", lo, NULL)) != -1) {
		switch (c) {
		case 'q': x.mode = M_QUICK; break;
		case 'k': x.mode = M_SMOKE; break;
		case 'j': x.json = true; break;
		case 'o': x.out = optarg; break;
		case 'R': x.results_dir = optarg; break;
		case 'c': x.pcap = optarg; break;
		case 'N': no_pcap = true; break;
		case 'S': x.seed = strtoull(optarg, NULL, 10); break;
		case 'r': x.reps = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': x.secs = strtod(optarg, NULL); break;
		case 'O': x.only = optarg; break;
		case 'C': x.cpus = optarg; break;
		case 'T': x.testpmd = optarg; break;
		case 'H': setenv("SLUICE_BENCH_NO_HUGE", "1", 1); break;   /* for the children */
		case 'K': x.keep = true; break;
		case 'b': table = optarg; break;
		case 'v': x.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (table) {
		json_object *r = json_object_from_file(table);

		if (r == NULL) {
			fprintf(stderr, "sluice-bench: cannot read %s\n", table);
			return 1;
		}
		bt_report_tables(r, stdout);
		json_object_put(r);
		return 0;
	}
	sl = readlink("/proc/self/exe", x.self, sizeof(x.self) - 1);
	if (sl <= 0)
		return 1;
	x.self[sl] = '\0';
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if (x.pcap == NULL && !no_pcap && x.mode != M_SMOKE)
		x.pcap = BT_SOURCE_ROOT "/../shared/bench/mix.pcap";
	x.res = json_object_new_object();
	x.fig = json_object_new_object();
	x.notes = json_object_new_array();
	if (x.pcap && access(x.pcap, R_OK) != 0) {
		note(&x, "capture %s not found: its rows are skipped", x.pcap);
		x.pcap = NULL;
	}
	snprintf(x.workdir, sizeof(x.workdir), "%s/sluice-bench.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(x.workdir) == NULL) {
		fprintf(stderr, "sluice-bench: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_object_object_add(x.res, "version", json_object_new_int(1));
	json_object_object_add(x.res, "mode", json_object_new_string(
		x.mode == M_FULL ? "full" : x.mode == M_QUICK ? "quick" : "smoke"));
	json_object_object_add(x.res, "date", json_object_new_string(stamp));
	json_object_object_add(x.res, "git", git_json());
	json_object_object_add(x.res, "machine", machine_json());
	{
		json_object *cfg = json_object_new_object();

		json_object_object_add(cfg, "seed", json_object_new_int64((int64_t)x.seed));
		json_object_object_add(cfg, "pcap", x.pcap ? json_object_new_string(x.pcap) : NULL);
		json_object_object_add(cfg, "cpus", json_object_new_string(x.cpus ? x.cpus : "default"));
		json_object_object_add(cfg, "priority", json_object_new_string(
			x.mode == M_SMOKE ? "as started" :
			"each child in its own session, autogroup and nice -20 (root)"));
		{
			double la[3] = { 0 };

			getloadavg(la, 3);
			json_object_object_add(cfg, "loadavg_start", json_object_new_double(la[0]));
		}
		json_object_object_add(x.res, "config", cfg);
	}
	load_extra_names(&x);
	if (write_policies(&x) < 0)
		return 1;
	/* policies first: the other figures load their artefacts (without
	 * this figure, children compile the sources themselves) */
	if (want(&x, "policy")) {
		fig_policy(&x);
		json_object *rows;

		if (json_object_object_get_ex(x.fig, "policy", &rows)) {
			for (size_t i = 0; i < json_object_array_length(rows); i++) {
				json_object *row = json_object_array_get_idx(rows, i);

				if (strcmp(bt_jstr(row, "policy"), "dom100k") == 0)
					json_object_object_add(x.res, "compile_100k_domains_s",
						json_object_new_double(bt_jnum(row, "compile_s.median")));
			}
		}
	}
	if (want(&x, "matcher"))
		fig_matcher(&x);
	if (want(&x, "dataplane"))
		fig_dataplane(&x);
	if (want(&x, "virtio") && x.mode != M_QUICK)
		fig_virtio(&x);
	if (want(&x, "scaling") && x.mode == M_FULL)
		fig_scaling(&x);
	if (want(&x, "reload"))
		fig_reload(&x);
	if (want(&x, "memory"))
		fig_memory(&x);
	if (want(&x, "records"))
		fig_records(&x);
	goals(&x);
	json_object_object_add(x.res, "figures", x.fig);
	json_object_object_add(x.res, "notes", x.notes);
	json_object_object_add(x.res, "failures", json_object_new_int((int)x.failures));
	json_object_object_add(x.res, "seconds", json_object_new_double(bt_now() - t0));
	{
		double la[3] = { 0 };

		getloadavg(la, 3);
		json_object_object_add(x.res, "loadavg_end", json_object_new_double(la[0]));
	}
	if (x.mode == M_FULL && x.out == NULL) {
		char host[64] = "host";

		gethostname(host, sizeof(host) - 1);
		mkdir(x.results_dir, 0755);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&now));
		snprintf(path, sizeof(path), "%s/%s-%s.json", x.results_dir, stamp, host);
		x.out = path;
	}
	if (x.out) {
		if (json_object_to_file_ext(x.out, x.res, JSON_C_TO_STRING_PRETTY) < 0)
			fprintf(stderr, "sluice-bench: cannot write %s\n", x.out);
		else
			fprintf(stderr, "sluice-bench: results in %s\n", x.out);
	}
	if (x.json)
		printf("%s\n", json_object_to_json_string_ext(x.res, JSON_C_TO_STRING_PLAIN));
	else
		bt_report_tables(x.res, stdout);
	if (!x.keep)
		cleanup_workdir(x.workdir);
	else
		fprintf(stderr, "sluice-bench: kept %s\n", x.workdir);
	json_object_put(x.res);
	return x.failures ? 1 : 0;
}
