/* Operator views of the records: one readable line per event, `records
 * grep` (filters on time, rule, action, address, authority) and `records
 * tail` (last N events, optionally following new ones across rotation).
 * Readers only: they never modify the records directory. Values from
 * traffic are escaped before they reach a terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "sluice/policy.h"

static void put_str(FILE *f, const char *s)
{
	if (s)
		rec_put_safe(f, s, strlen(s));
}

static void put_endpoint(FILE *f, const char *addr, int64_t port)
{
	if (addr == NULL) {
		fputs("?", f);
		return;
	}
	if (strchr(addr, ':')) {
		fputc('[', f);
		put_str(f, addr);
		fputc(']', f);
	} else {
		put_str(f, addr);
	}
	if (port)
		fprintf(f, ":%lld", (long long)port);
}

/* The exact bytes of a value, escaped. */
static void put_value(FILE *f, json_object *o)
{
	size_t n;
	uint8_t *raw = rec_value_bytes(o, &n);

	if (raw)
		rec_put_safe(f, (const char *)raw, n);
	free(raw);
}

static void format_obj(FILE *f, json_object *o, const char *type)
{
	int64_t seq = 0, v;
	const char *ts = rec_jstr(o, "time");

	rec_jint(o, "seq", &seq);
	put_str(f, ts ? ts : "?");
	fprintf(f, " #%lld %s", (long long)seq, type);
	if (strcmp(type, "match") == 0) {
		json_object *r = rec_jobj(o, "rule");
		json_object *fl = rec_jobj(o, "flow");
		json_object *c = rec_jobj(o, "capture");
		const char *s;
		bool b;
		int64_t cp = 0, sp = 0;

		if (rec_jint(r, "id", &v))
			fprintf(f, " rule %lld", (long long)v);
		if ((s = rec_jstr(r, "name")) != NULL) {
			fputs(" \"", f);
			put_str(f, s);
			fputc('"', f);
		}
		fputc(' ', f);
		put_str(f, rec_jstr(o, "action"));
		fputc(' ', f);
		put_str(f, rec_jstr(o, "mode"));
		fputc(' ', f);
		put_str(f, rec_jstr(fl, "proto"));
		fputc(' ', f);
		rec_jint(fl, "client_port", &cp);
		rec_jint(fl, "server_port", &sp);
		put_endpoint(f, rec_jstr(fl, "client"), cp);
		fputs(" -> ", f);
		put_endpoint(f, rec_jstr(fl, "server"), sp);
		fputc(' ', f);
		put_str(f, rec_jstr(o, "field"));
		fputs("=\"", f);
		put_value(f, o);
		fputc('"', f);
		if (rec_jbool(o, "value_trunc", &b) && b)
			fputs("...", f);
		if (c && rec_jstr(c, "file") && rec_jint(c, "index", &v)) {
			fputs(" capture ", f);
			put_str(f, rec_jstr(c, "file"));
			fprintf(f, "#%lld", (long long)v);
		}
	} else if (strcmp(type, "admin") == 0) {
		fputc(' ', f);
		put_str(f, rec_jstr(o, "text"));
	} else {
		if (rec_jint(o, "count", &v))
			fprintf(f, " %lld events lost: ", (long long)v);
		put_str(f, rec_jstr(o, "cause"));
	}
}

char *sl_records_format_line(const char *line, size_t len)
{
	json_object *o = rec_parse(line, len);
	const char *type;
	char *buf = NULL;
	size_t blen = 0;
	FILE *f;

	if (o == NULL)
		return NULL;
	type = rec_jstr(o, "type");
	if (!rec_is_event_type(type)) {
		json_object_put(o);
		return NULL;
	}
	f = open_memstream(&buf, &blen);
	if (f) {
		format_obj(f, o, type);
		fclose(f);
	}
	json_object_put(o);
	return buf;
}

/* ---- filters --------------------------------------------------------- */

static bool addr_in(const char *text, const struct sl_records_filter *f)
{
	struct sl_addr a;
	unsigned bits, full;

	if (text == NULL || sl_addr_parse(text, &a) != 0 || a.family != f->addr.family)
		return false;
	full = a.family == 4 ? 32 : 128;
	bits = f->prefix && f->prefix < full ? f->prefix : full;
	for (unsigned i = 0; i < bits / 8; i++)
		if (a.b[i] != f->addr.b[i])
			return false;
	if (bits % 8) {
		uint8_t m = (uint8_t)(0xff << (8 - bits % 8));

		if ((a.b[bits / 8] & m) != (f->addr.b[bits / 8] & m))
			return false;
	}
	return true;
}

static bool passes(json_object *o, const char *type, const struct sl_records_filter *f)
{
	int64_t t = 0, id;
	json_object *r, *fl;

	if (f == NULL)
		return true;
	rec_jint(o, "time_ns", &t);
	if (f->from_ns && t < f->from_ns)
		return false;
	if (f->to_ns && t >= f->to_ns)
		return false;
	if (!f->rule && !f->action && !f->has_addr && !f->authority)
		return true;
	if (strcmp(type, "match") != 0)
		return false;
	r = rec_jobj(o, "rule");
	fl = rec_jobj(o, "flow");
	if (f->rule && (!rec_jint(r, "id", &id) || id != (int64_t)f->rule))
		return false;
	if (f->action) {
		const char *a = rec_jstr(o, "action");

		if (a == NULL || strcmp(a, sl_action_name(f->action)) != 0)
			return false;
	}
	if (f->authority) {
		const char *a = rec_jstr(rec_jobj(r, "authority"), "id");

		if (a == NULL || strcmp(a, f->authority) != 0)
			return false;
	}
	if (f->has_addr && !addr_in(rec_jstr(fl, "client"), f) &&
	    !addr_in(rec_jstr(fl, "server"), f))
		return false;
	return true;
}

struct printer {
	const struct sl_records_filter *f;
	unsigned flags;
	FILE *out;
	uint64_t skip;      /* events to pass over before printing */
	uint64_t printed;
	uint64_t counted;
	bool count_only;
};

static int print_line(void *ctx, const char *name, unsigned lineno,
		      const char *line, size_t len)
{
	struct printer *p = ctx;
	json_object *o;
	const char *type;

	(void)name;
	(void)lineno;
	o = rec_parse(line, len);
	if (o == NULL)
		return 0;
	type = rec_jstr(o, "type");
	if (!rec_is_event_type(type) || !passes(o, type, p->f)) {
		json_object_put(o);
		return 0;
	}
	if (p->count_only) {
		p->counted++;
	} else if (p->skip > 0) {
		p->skip--;
	} else {
		if (p->flags & SL_RECORDS_OUT_JSON)
			fwrite(line, 1, len, p->out);
		else
			format_obj(p->out, o, type);
		fputc('\n', p->out);
		p->printed++;
	}
	json_object_put(o);
	return 0;
}

static int open_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return dfd < 0 ? -errno : dfd;
}

int sl_records_grep(const char *dir, const struct sl_records_filter *f,
		    unsigned flags, FILE *out)
{
	struct printer p = { .f = f, .flags = flags, .out = out };
	struct rec_seglist l;
	int dfd, rc;

	dfd = open_dir(dir);
	if (dfd < 0)
		return dfd;
	rc = rec_seg_list(dfd, &l);
	if (rc == 0) {
		for (size_t i = 0; i < l.n && rc == 0; i++)
			rc = rec_scan(dfd, l.name[i], 0, NULL, print_line, &p);
		rec_seg_list_free(&l);
	}
	close(dfd);
	fflush(out);
	if (rc < 0)
		return rc;
	return p.printed > INT32_MAX ? INT32_MAX : (int)p.printed;
}

static void nap(void)
{
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

int sl_records_tail(const char *dir, unsigned n, bool follow, unsigned flags,
		    FILE *out, volatile sig_atomic_t *stop)
{
	struct printer p = { .flags = flags, .out = out };
	struct rec_seglist l;
	char cur[REC_NAME_MAX] = "";
	long off = 0;
	uint64_t total = 0;
	size_t start;
	int dfd, rc;

	dfd = open_dir(dir);
	if (dfd < 0)
		return dfd;
	rc = rec_seg_list(dfd, &l);
	if (rc < 0)
		goto out;
	/* how far back do n events go? */
	start = l.n;
	while (start > 0 && total < n) {
		p.count_only = true;
		p.counted = 0;
		rc = rec_scan(dfd, l.name[start - 1], 0, NULL, print_line, &p);
		if (rc < 0)
			break;
		total += p.counted;
		start--;
	}
	p.count_only = false;
	p.skip = total > n ? total - n : 0;
	for (size_t i = start; i < l.n && rc == 0; i++) {
		rc = rec_scan(dfd, l.name[i], 0, &off, print_line, &p);
		snprintf(cur, sizeof(cur), "%s", l.name[i]);
	}
	if (n == 0 && l.n > 0 && rc == 0) {
		/* nothing to print: follow from the end of the newest */
		struct printer q = { .count_only = true };

		rc = rec_scan(dfd, l.name[l.n - 1], 0, &off, print_line, &q);
		snprintf(cur, sizeof(cur), "%s", l.name[l.n - 1]);
	}
	rec_seg_list_free(&l);
	fflush(out);
	while (rc == 0 && follow && !(stop && *stop)) {
		long before = off;
		size_t i;

		if (cur[0]) {
			rc = rec_scan(dfd, cur, off, &off, print_line, &p);
			if (rc < 0)
				break;
		}
		fflush(out);
		if (off != before)
			continue;
		rc = rec_seg_list(dfd, &l);
		if (rc < 0)
			break;
		for (i = 0; i < l.n; i++)
			if (strcmp(l.name[i], cur) > 0)
				break;
		if (i < l.n) {
			/* a newer segment: the current one is complete once
			 * read to its end (rotation closes it first) */
			if (cur[0])
				rc = rec_scan(dfd, cur, off, &off, print_line, &p);
			snprintf(cur, sizeof(cur), "%s", l.name[i]);
			off = 0;
		} else {
			nap();
		}
		rec_seg_list_free(&l);
	}
out:
	close(dfd);
	if (rc < 0)
		return rc;
	return p.printed > INT32_MAX ? INT32_MAX : (int)p.printed;
}
