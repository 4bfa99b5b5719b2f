/* Shared helpers for the records unit tests (see helpers.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "sluice/policy.h"

int64_t th_clock(void *arg)
{
	return *(int64_t *)arg;
}

char *th_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p = NULL;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	if (asprintf(&p, "%s/sluice-records-XXXXXX", base) < 0)
		return NULL;
	if (mkdtemp(p) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void th_rmrf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		d = opendir(path);
		if (d) {
			while ((de = readdir(d)) != NULL) {
				char *c = NULL;

				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				if (asprintf(&c, "%s/%s", path, de->d_name) >= 0) {
					th_rmrf(c);
					free(c);
				}
			}
			closedir(d);
		}
		chmod(path, 0700);
		rmdir(path);
	} else {
		unlink(path);
	}
}

struct sl_policy_meta th_meta = {
	.name = "national-list",
	.revision = "2026-11-01",
	.digest_hex = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};

struct sl_policy_meta th_meta2 = {
	.name = "national-list",
	.revision = "2026-11-21",
	.digest_hex = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
};

struct sl_rule th_rule_a = {
	.id = 101, .idx = 0, .action = SL_ACT_RESET, .mode = SL_MODE_ENFORCE,
	.record = 1, .report = 1, .origin_zone = -1,
	.name = "news-a", .category = "news", .basis = "PRC Cybersecurity Law art. 47",
	.authority = "cac", .authority_name = "Cyberspace Administration",
	.order = "CAC-2026-17", .file = "policy.cfg", .line = 10,
};

struct sl_rule th_rule_b = {
	.id = 102, .idx = 1, .action = SL_ACT_DROP, .mode = SL_MODE_SHADOW,
	.record = 1, .report = 1, .origin_zone = -1,
	.name = "gambling", .category = "gambling", .basis = "order of the MPS",
	.authority = "mps", .authority_name = "Ministry of Public Security",
	.order = "MPS-2026-3", .file = "policy.cfg", .line = 20,
};

struct sl_rule th_rule_c = {
	.id = 103, .idx = 2, .action = SL_ACT_LOG, .mode = SL_MODE_ENFORCE,
	.record = 1, .report = 0, .origin_zone = -1,
	.name = "internal-watch", .category = "", .basis = "operator terms of service",
	.file = "policy.cfg", .line = 30,
};

struct sl_rule th_rule_d = {
	.id = 104, .idx = 3, .action = SL_ACT_BLOCK_PAGE, .mode = SL_MODE_ENFORCE,
	.record = 1, .report = 1, .origin_zone = -1,
	.name = "malware-c2", .category = "security", .basis = "PRC Cybersecurity Law art. 21",
	.file = "policy.cfg", .line = 40,
};

void th_match(struct sl_event *ev, const struct sl_rule *r, int64_t t,
	      const char *client, uint16_t cport, const char *server,
	      uint16_t sport, uint64_t flow_id, uint8_t field, const char *value)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = SL_EVT_MATCH;
	ev->action = r->action;
	ev->mode = r->mode;
	ev->field = field;
	ev->proto = SL_PROTO_TCP;
	ev->dir = SL_DIR_C2S;
	ev->lcore = 2;
	ev->time_ns = (uint64_t)t;
	ev->flow_id = flow_id;
	sl_addr_parse(client, &ev->client);
	sl_addr_parse(server, &ev->server);
	ev->client_port = cport;
	ev->server_port = sport;
	ev->rule = r;
	ev->meta = &th_meta;
	if (value) {
		ev->value_len = (uint16_t)strlen(value);
		memcpy(ev->value, value, ev->value_len);
	}
}

void th_admin(struct sl_event *ev, int64_t t, const char *text)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = SL_EVT_ADMIN;
	ev->time_ns = (uint64_t)t;
	ev->dir = SL_DIR_NONE;
	snprintf(ev->text, sizeof(ev->text), "%s", text);
}

struct sl_records *th_open(const char *dir, int64_t *now, uint64_t seg_bytes,
			   uint32_t seg_seconds)
{
	struct sl_records_opts o = {
		.dir = dir,
		.segment_bytes = seg_bytes,
		.segment_seconds = seg_seconds,
		.clock_ns = th_clock,
		.clock_arg = now,
	};
	struct sl_records *w = NULL;

	if (sl_records_open(&w, &o) < 0)
		return NULL;
	return w;
}

char *th_read(const char *dir, const char *name, size_t *len)
{
	char *path = NULL, *buf = NULL;
	struct stat st;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	f = fopen(path, "rb");
	free(path);
	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) == 0) {
		buf = malloc((size_t)st.st_size + 1);
		if (buf && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
			buf[st.st_size] = '\0';
			if (len)
				*len = (size_t)st.st_size;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

int th_write(const char *dir, const char *name, const char *data, size_t len)
{
	char *path = NULL;
	FILE *f;
	int rc = 0;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	f = fopen(path, "wb");
	free(path);
	if (f == NULL)
		return -errno;
	if (fwrite(data, 1, len, f) != len)
		rc = -EIO;
	if (fclose(f) != 0)
		rc = -EIO;
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

size_t th_segments(const char *dir, char names[][64], size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		size_t l = strlen(de->d_name);

		if (strncmp(de->d_name, "seg-", 4) == 0 && l > 6 &&
		    strcmp(de->d_name + l - 6, ".jsonl") == 0)
			snprintf(names[n++], 64, "%s", de->d_name);
	}
	closedir(d);
	qsort(names, n, 64, cmp_str);
	return n;
}

char *th_line(const char *buf, unsigned n)
{
	const char *p = buf, *e;

	for (unsigned i = 1; i < n && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (p == NULL || *p == '\0')
		return NULL;
	e = strchr(p, '\n');
	return e ? strndup(p, (size_t)(e - p)) : strdup(p);
}

unsigned th_count_lines(const char *buf)
{
	unsigned n = 0;

	for (; *buf; buf++)
		n += *buf == '\n';
	return n;
}

/* Split into lines (keeping '\n'), apply op, write back. */
static int edit_lines(const char *dir, const char *name, int op, unsigned n)
{
	size_t len;
	char *buf = th_read(dir, name, &len);
	char *lines[4096];
	size_t ll[4096];
	unsigned cnt = 0;
	char *p, *out;
	size_t olen = 0;
	int rc;

	if (buf == NULL)
		return -ENOENT;
	for (p = buf; p < buf + len && cnt < 4096;) {
		char *e = memchr(p, '\n', (size_t)(buf + len - p));
		size_t l = e ? (size_t)(e - p) + 1 : (size_t)(buf + len - p);

		lines[cnt] = p;
		ll[cnt++] = l;
		p += l;
	}
	out = malloc(len + 1);
	for (unsigned i = 0; i < cnt; i++) {
		unsigned src = i;

		if (op == 0 && i == n - 1)
			continue;
		if (op == 1 && i == n - 1)
			src = n;
		else if (op == 1 && i == n)
			src = n - 1;
		if (op == 2 && i >= n)
			break;
		memcpy(out + olen, lines[src], ll[src]);
		olen += ll[src];
	}
	rc = th_write(dir, name, out, olen);
	free(out);
	free(buf);
	return rc;
}

int th_delete_line(const char *dir, const char *name, unsigned n)
{
	return edit_lines(dir, name, 0, n);
}

int th_swap_lines(const char *dir, const char *name, unsigned n)
{
	return edit_lines(dir, name, 1, n);
}

int th_keep_lines(const char *dir, const char *name, unsigned n)
{
	return edit_lines(dir, name, 2, n);
}

int th_verify(const char *dir, char *err, size_t errlen, char *notes, size_t nlen)
{
	struct sl_records_verify_result r;
	size_t used = 0;
	int rc = sl_records_verify(dir, NULL, &r);

	if (err && errlen)
		err[0] = '\0';
	if (notes && nlen)
		notes[0] = '\0';
	for (unsigned i = 0; i < r.diag.n; i++) {
		const struct sl_diag_msg *m = &r.diag.m[i];

		char where[1024] = "";

		if (m->file && m->line)
			snprintf(where, sizeof(where), "%s:%u: ", m->file, m->line);
		else if (m->file)
			snprintf(where, sizeof(where), "%s: ", m->file);
		if (!m->is_warning && err && err[0] == '\0')
			snprintf(err, errlen, "%s%s", where, m->msg ? m->msg : "");
		if (m->is_warning && notes && used < nlen) {
			int k = snprintf(notes + used, nlen - used, "%s%s\n", where,
					 m->msg ? m->msg : "");
			if (k > 0)
				used += (size_t)k;
		}
	}
	sl_records_verify_free(&r);
	return rc;
}

static int64_t at(const char *s)
{
	int64_t ns = 0;

	sl_records_parse_time(s, false, &ns);
	return ns;
}

/* See docs/records.md ("report fixture") and test_report.c for the counts. */
int th_fixture(const char *dir)
{
	static const uint8_t bin[] = { 0x16, 0x03, 0x01, 0xff, 0x00, 'c', '2', 0x1b };
	struct sl_event *ev = calloc(1, sizeof(*ev));
	struct sl_records *w;
	int64_t now = at("2026-11-20T00:00:00Z");
	int rc = 0;

#define W() do { now = (int64_t)ev->time_ns; rc |= sl_records_write(w, ev); } while (0)
	if (ev == NULL)
		return -ENOMEM;
	w = th_open(dir, &now, 0, 0);
	if (w == NULL) {
		free(ev);
		return -EIO;
	}
	th_admin(ev, now, "sluice started");
	W();
	/* rule A: 5 matches, 3 flows, 3 subscribers, 3 distinct values */
	th_match(ev, &th_rule_a, at("2026-11-20T08:00:00Z"), "192.0.2.10", 40001,
		 "198.51.100.7", 443, 0x1, SL_FIELD_SNI, "news.example");
	W();
	th_match(ev, &th_rule_a, at("2026-11-20T08:00:01Z"), "192.0.2.10", 40001,
		 "198.51.100.7", 443, 0x1, SL_FIELD_SNI, "news.example");
	W();
	th_match(ev, &th_rule_a, at("2026-11-20T09:00:00Z"), "192.0.2.11", 40002,
		 "198.51.100.7", 80, 0x2, SL_FIELD_HOST, "www.news.example");
	W();
	th_match(ev, &th_rule_a, at("2026-11-21T10:00:00Z"), "192.0.2.12", 40003,
		 "198.51.100.7", 80, 0x3, SL_FIELD_URL, "www.news.example/a?b=1");
	W();
	th_match(ev, &th_rule_a, at("2026-11-21T10:00:02Z"), "192.0.2.12", 40003,
		 "198.51.100.7", 80, 0x3, SL_FIELD_URL, "www.news.example/a?b=1");
	W();
	/* rule B (shadow): 3 matches, 3 flows, 3 subscribers */
	th_match(ev, &th_rule_b, at("2026-11-21T11:00:00Z"), "2001:db8::1", 50000,
		 "2001:db8:1::80", 80, 0x4, SL_FIELD_HOST, "=cmd|' /C calc'!A0");
	W();
	/* rule C (report = false): 2 matches before the reload */
	th_match(ev, &th_rule_c, at("2026-11-21T11:30:00Z"), "192.0.2.50", 40100,
		 "198.51.100.9", 443, 0x9, SL_FIELD_SNI, "watch.example");
	W();
	th_match(ev, &th_rule_c, at("2026-11-21T11:30:01Z"), "192.0.2.50", 40101,
		 "198.51.100.9", 443, 0xa, SL_FIELD_SNI, "watch.example");
	W();
	th_admin(ev, at("2026-11-21T12:00:00Z"), "policy reloaded: national-list 2026-11-21");
	ev->meta = &th_meta2;
	W();
	now = at("2026-11-21T12:30:00Z");
	rc |= sl_records_note_lost(w, 3, "event ring full");
	th_match(ev, &th_rule_b, at("2026-11-21T23:59:59Z"), "192.0.2.10", 40010,
		 "198.51.100.20", 53, 0x5, SL_FIELD_DNS, "bet.example");
	ev->meta = &th_meta2;
	ev->proto = SL_PROTO_UDP;
	W();
	th_match(ev, &th_rule_b, at("2026-11-22T00:00:00Z"), "192.0.2.13", 40011,
		 "198.51.100.20", 53, 0x6, SL_FIELD_DNS, "bet.example");
	ev->meta = &th_meta2;
	ev->proto = SL_PROTO_UDP;
	W();
	/* rule C again: 2 more */
	th_match(ev, &th_rule_c, at("2026-11-22T08:00:00Z"), "192.0.2.50", 40102,
		 "198.51.100.9", 443, 0xb, SL_FIELD_SNI, "watch.example");
	ev->meta = &th_meta2;
	W();
	th_match(ev, &th_rule_c, at("2026-11-22T08:00:01Z"), "192.0.2.50", 40103,
		 "198.51.100.9", 443, 0xc, SL_FIELD_SNI, "watch.example");
	ev->meta = &th_meta2;
	W();
	/* rule D: 2 matches, 2 flows, 1 subscriber */
	th_match(ev, &th_rule_d, at("2026-11-22T12:00:00Z"), "192.0.2.10", 40200,
		 "203.0.113.5", 8443, 0x7, SL_FIELD_IP, "203.0.113.5");
	ev->meta = &th_meta2;
	W();
	th_match(ev, &th_rule_d, at("2026-11-22T12:00:05Z"), "192.0.2.10", 40201,
		 "203.0.113.5", 8443, 0x8, SL_FIELD_PAYLOAD, NULL);
	ev->meta = &th_meta2;
	memcpy(ev->value, bin, sizeof(bin));
	ev->value_len = sizeof(bin);
	W();
	th_admin(ev, at("2026-11-22T23:00:00Z"), "rule 103 disabled by operator");
	ev->rule = &th_rule_c;
	W();
	th_admin(ev, at("2026-11-22T23:59:00Z"), "sluice stopped");
	W();
#undef W
	rc |= sl_records_close(w);
	free(ev);
	return rc;
}
