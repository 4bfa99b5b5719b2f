/* Records verbs: `records verify|tail|grep` and `report`. Thin CLI: the
 * work is done by libsluice-records (include/sluice/records.h); this file
 * parses arguments and prints results. Exit status: 0 ok, 1 failure (or
 * check failed / nothing found), 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"
#include "sluice/policy.h"
#include "sluice/records.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void records_usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-ctl records verify DIR [--expect SEQ:HASH] [--json]\n"
		"       sluice-ctl records tail DIR [-n N] [-f] [--json]\n"
		"       sluice-ctl records grep DIR [--rule ID] [--from TIME] [--to TIME]\n"
		"                  [--addr ADDR[/LEN]] [--action A] [--authority ID] [--json]\n"
		"TIME: RFC 3339 (2026-11-23T10:00:00Z) or a date (2026-11-23; --to includes it)\n");
}

static void report_usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-ctl report DIR [--from TIME] [--to TIME] [--authority ID]\n"
		"                  [--format json|csv] [-o FILE] [--identify]\n"
		"                  [--key-file FILE | --config FILE]\n"
		"Subscriber addresses are pseudonymised with the key (HMAC-SHA256) unless\n"
		"--identify is given. TIME: RFC 3339 or a date (--to includes that day).\n");
}

/* "FILE:LINE: msg" (errors) and "FILE:LINE: note: msg" (notes). */
static char *diag_text(const struct sl_diag_msg *m, bool tag)
{
	const char *msg = m->msg ? m->msg : "(out of memory)";
	const char *t = tag && m->is_warning ? "note: " : "";
	char *s = NULL;

	if (m->file && m->line)
		(void)!asprintf(&s, "%s:%u: %s%s", m->file, m->line, t, msg);
	else if (m->file)
		(void)!asprintf(&s, "%s: %s%s", m->file, t, msg);
	else
		(void)!asprintf(&s, "%s%s", t, msg);
	return s;
}

static void print_diag(const struct sl_diag *d, FILE *out)
{
	for (unsigned i = 0; i < d->n; i++) {
		char *s = diag_text(&d->m[i], true);

		if (s)
			fprintf(out, "%s\n", s);
		free(s);
	}
}

static int parse_time_arg(const char *opt, const char *s, bool end, int64_t *ns)
{
	if (sl_records_parse_time(s, end, ns) == 0)
		return 0;
	fprintf(stderr, "sluice-ctl: %s: bad time '%s' (RFC 3339 like "
		"2026-11-23T10:00:00Z, or a date like 2026-11-23)\n", opt, s);
	return -1;
}

static int cmd_verify(int argc, char **argv, bool json)
{
	static const struct option lo[] = {
		{ "expect", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_records_verify_opts vo = { 0 };
	struct sl_records_verify_result r;
	char hash[65];
	const char *dir;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'e': {
			unsigned long long seq;
			int n = 0;

			if (sscanf(optarg, "%llu:%64[0-9a-f]%n", &seq, hash, &n) != 2 ||
			    optarg[n] != '\0' || strlen(hash) != 64 || seq == 0) {
				fprintf(stderr, "sluice-ctl: --expect SEQ:HASH (64 hex digits)\n");
				return 2;
			}
			vo.expect_seq = seq;
			vo.expect_hash = hash;
			break;
		}
		case 'j':
			json = true;
			break;
		case 'h':
			records_usage(stdout);
			return 0;
		default:
			records_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		records_usage(stderr);
		return 2;
	}
	dir = argv[optind];
	rc = sl_records_verify(dir, &vo, &r);
	if (json) {
		json_object *o = json_object_new_object();
		json_object *notes = json_object_new_array();
		json_object *err = NULL;

		for (unsigned i = 0; i < r.diag.n; i++) {
			char *s = diag_text(&r.diag.m[i], false);

			if (s == NULL)
				continue;
			if (r.diag.m[i].is_warning)
				json_object_array_add(notes, json_object_new_string(s));
			else if (err == NULL)
				err = json_object_new_string(s);
			free(s);
		}
		json_object_object_add(o, "ok", json_object_new_boolean(rc == 0));
		json_object_object_add(o, "dir", json_object_new_string(dir));
		json_object_object_add(o, "segments", json_object_new_int64((int64_t)r.segments));
		json_object_object_add(o, "events", json_object_new_int64((int64_t)r.events));
		json_object_object_add(o, "first_seq", json_object_new_int64((int64_t)r.first_seq));
		json_object_object_add(o, "last_seq", json_object_new_int64((int64_t)r.last_seq));
		json_object_object_add(o, "head", rc == 0 ? json_object_new_string(r.head) :
				       json_object_new_null());
		json_object_object_add(o, "captures", json_object_new_int64((int64_t)r.captures));
		json_object_object_add(o, "notes", notes);
		json_object_object_add(o, "error", err);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (rc == 0) {
		print_diag(&r.diag, stdout);
		printf("%s: OK: %llu events (seq %llu..%llu) in %llu segment%s", dir,
		       (unsigned long long)r.events, (unsigned long long)r.first_seq,
		       (unsigned long long)r.last_seq, (unsigned long long)r.segments,
		       r.segments == 1 ? "" : "s");
		if (r.captures)
			printf(", %llu captured packet%s", (unsigned long long)r.captures,
			       r.captures == 1 ? "" : "s");
		printf("; chain head seq %llu sha256 %s\n", (unsigned long long)r.last_seq, r.head);
	} else {
		print_diag(&r.diag, stderr);
		fprintf(stderr, "%s: FAILED verification\n", dir);
	}
	sl_records_verify_free(&r);
	return rc == 0 ? 0 : 1;
}

static int cmd_tail(int argc, char **argv, bool json)
{
	static const struct option lo[] = {
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa;
	unsigned long n = 10;
	bool follow = false;
	char *end;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "n:fh", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || optarg[0] == '-' || n > 100000000) {
				fprintf(stderr, "sluice-ctl: -n: bad count '%s'\n", optarg);
				return 2;
			}
			break;
		case 'f':
			follow = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			records_usage(stdout);
			return 0;
		default:
			records_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		records_usage(stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = sl_records_tail(argv[optind], (unsigned)n, follow, json ? SL_RECORDS_OUT_JSON : 0,
			     stdout, &stop_flag);
	if (rc < 0) {
		fprintf(stderr, "sluice-ctl: %s: %s\n", argv[optind], strerror(-rc));
		return 1;
	}
	return 0;
}

static int parse_addr_arg(const char *s, struct sl_records_filter *f)
{
	char buf[128];
	char *slash, *end;
	unsigned long len = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		errno = 0;
		len = strtoul(slash, &end, 10);
		if (errno || *end || *slash == '\0')
			return -1;
	}
	if (sl_addr_parse(buf, &f->addr) != 0)
		return -1;
	if (len > (f->addr.family == 4 ? 32u : 128u))
		return -1;
	f->has_addr = true;
	f->prefix = (uint8_t)len;
	return 0;
}

static int parse_action_arg(const char *s)
{
	for (int i = 1; i < SL_ACT__COUNT; i++)
		if (strcmp(s, sl_action_name(i)) == 0)
			return i;
	return -1;
}

static int cmd_grep(int argc, char **argv, bool json)
{
	static const struct option lo[] = {
		{ "rule", required_argument, NULL, 'r' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "addr", required_argument, NULL, 'a' },
		{ "action", required_argument, NULL, 'A' },
		{ "authority", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_records_filter f = { 0 };
	unsigned long id;
	char *end;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			errno = 0;
			id = strtoul(optarg, &end, 10);
			if (errno || *end || id == 0 || id > UINT32_MAX || optarg[0] == '-') {
				fprintf(stderr, "sluice-ctl: --rule: bad rule id '%s'\n", optarg);
				return 2;
			}
			f.rule = (uint32_t)id;
			break;
		case 'F':
			if (parse_time_arg("--from", optarg, false, &f.from_ns))
				return 2;
			break;
		case 'T':
			if (parse_time_arg("--to", optarg, true, &f.to_ns))
				return 2;
			break;
		case 'a':
			if (parse_addr_arg(optarg, &f)) {
				fprintf(stderr, "sluice-ctl: --addr: bad address '%s'\n", optarg);
				return 2;
			}
			break;
		case 'A':
			f.action = parse_action_arg(optarg);
			if (f.action < 0) {
				fprintf(stderr, "sluice-ctl: --action: unknown action '%s'\n", optarg);
				return 2;
			}
			break;
		case 'u':
			f.authority = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			records_usage(stdout);
			return 0;
		default:
			records_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		records_usage(stderr);
		return 2;
	}
	rc = sl_records_grep(argv[optind], &f, json ? SL_RECORDS_OUT_JSON : 0, stdout);
	if (rc < 0) {
		fprintf(stderr, "sluice-ctl: %s: %s\n", argv[optind], strerror(-rc));
		return 1;
	}
	return rc > 0 ? 0 : 1;
}

int cmd_records(int argc, char **argv)
{
	bool json = ctl_g.json != 0;

	if (argc < 2) {
		records_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		records_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1, json);
	if (strcmp(argv[1], "tail") == 0)
		return cmd_tail(argc - 1, argv + 1, json);
	if (strcmp(argv[1], "grep") == 0)
		return cmd_grep(argc - 1, argv + 1, json);
	fprintf(stderr, "sluice-ctl: records: unknown command '%s'\n", argv[1]);
	records_usage(stderr);
	return 2;
}

int cmd_report(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "authority", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "identify", no_argument, NULL, 'i' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_report_opts ro = { 0 };
	struct sl_diag diag;
	const char *key_file = NULL, *config = NULL, *output = NULL;
	char *cfg_key = NULL;
	uint8_t *key = NULL;
	size_t key_len = 0;
	FILE *out = stdout;
	int c, rc, status = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (parse_time_arg("--from", optarg, false, &ro.from_ns))
				return 2;
			break;
		case 'T':
			if (parse_time_arg("--to", optarg, true, &ro.to_ns))
				return 2;
			break;
		case 'u':
			ro.authority = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "json") == 0) {
				ro.format = SL_REPORT_JSON;
			} else if (strcmp(optarg, "csv") == 0) {
				ro.format = SL_REPORT_CSV;
			} else {
				fprintf(stderr, "sluice-ctl: --format json|csv\n");
				return 2;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case 'i':
			ro.identify = true;
			break;
		case 'k':
			key_file = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'j':
			ro.format = SL_REPORT_JSON;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			report_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		report_usage(stderr);
		return 2;
	}
	if (key_file && config) {
		fprintf(stderr, "sluice-ctl: report: --key-file and --config are exclusive\n");
		return 2;
	}
	if (ro.from_ns && ro.to_ns && ro.to_ns <= ro.from_ns) {
		fprintf(stderr, "sluice-ctl: report: --to must be after --from\n");
		return 2;
	}
	ro.dir = argv[optind];
	sl_diag_init(&diag);
	if (!ro.identify && !key_file && !config) {
		fprintf(stderr, "sluice-ctl: report: subscriber addresses are pseudonymised: give "
			"--key-file FILE, or --config FILE (records.pseudonym_key_file), or "
			"--identify to show real addresses\n");
		return 2;
	}
	if (!ro.identify) {
		if (config) {
			rc = sl_report_key_file_from_config(config, &cfg_key, &diag);
			if (rc < 0)
				goto fail;
			key_file = cfg_key;
		}
		rc = sl_report_load_key(key_file, &key, &key_len, &diag);
		if (rc < 0)
			goto fail;
		ro.key = key;
		ro.key_len = key_len;
	}
	if (output) {
		int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);

		if (fd < 0 || (out = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "sluice-ctl: %s: %s\n", output, strerror(errno));
			if (fd >= 0)
				close(fd);
			status = 1;
			goto out;
		}
	}
	rc = sl_report_write(&ro, out, &diag);
	if (output && fclose(out) != 0 && rc == 0) {
		fprintf(stderr, "sluice-ctl: %s: %s\n", output, strerror(errno));
		status = 1;
	}
	if (rc == -EBADMSG) {
		print_diag(&diag, stderr);
		fprintf(stderr, "sluice-ctl: report: WARNING: the records failed verification; "
			"the report says so\n");
		status = 1;
	} else if (rc < 0) {
		goto fail;
	}
	goto out;
fail:
	print_diag(&diag, stderr);
	status = rc == -EINVAL ? 2 : 1;
out:
	free(cfg_key);
	if (key)
		explicit_bzero(key, key_len);
	free(key);
	sl_diag_free(&diag);
	return status;
}
