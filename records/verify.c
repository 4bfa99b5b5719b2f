/* Records verification (`sluice-ctl records verify`): walks every segment
 * in name order and checks each line's seal, the sequence, the chain
 * ("prev"), the segment headers (previous segment, its last seq and hash)
 * and trailers (event count, last seq and hash), captured packets against
 * their pcap (SHA-256), and that the chain either starts at the genesis or
 * after segments whose removal by retention is recorded in the chain.
 * Stops at the first problem and reports it as FILE:LINE: reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "internal.h"

struct cap_ref {
	uint32_t index;
	uint32_t caplen;
	uint64_t seq;
	unsigned line;
	char sha[65];
};

struct vstate {
	struct sl_records_verify_result *r;
	const struct sl_records_verify_opts *o;
	const char *dir;
	int dfd;
	char path[4096];            /* dir/segment of the current segment */

	uint64_t expect_seq;        /* next event */
	char expect_prev[65];       /* hash of the event before it */

	/* the segment before the current one */
	char prev_name[REC_NAME_MAX];
	char prev_path[4096];
	bool prev_trailer;
	unsigned prev_last_line;
	uint64_t prev_torn;
	unsigned prev_torn_line;

	/* chain start after removed segments */
	bool start_removed;
	char start_seg[REC_NAME_MAX];
	uint64_t start_seq;
	char start_hash[65];
	bool start_explained;
	char start_where[4200];

	bool expect_found;

	/* current segment */
	uint64_t seg_events;
	bool trailer;
	struct cap_ref *caps;
	size_t ncaps, capcap;
};

static int __attribute__((format(printf, 4, 5)))
fail(struct vstate *v, const char *file, unsigned line, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	sl_diag_add(&v->r->diag, false, file, line, "%s", msg ? msg : "(out of memory)");
	free(msg);
	return -EBADMSG;
}

static void __attribute__((format(printf, 4, 5)))
note(struct vstate *v, const char *file, unsigned line, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	sl_diag_add(&v->r->diag, true, file, line, "%s", msg ? msg : "(out of memory)");
	free(msg);
}

static bool writer_running(int dfd)
{
	int fd = openat(dfd, ".lock", O_RDONLY | O_CLOEXEC);
	bool busy = false;

	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		busy = true;
	close(fd);
	return busy;
}

static int check_header(struct vstate *v, size_t i, const char *name,
			const char *line, size_t len)
{
	const char *why, *fmt, *seg, *pseg, *phash;
	char hash[65];
	int64_t pseq;
	bool pclosed = true;
	json_object *o;
	int rc = 0;

	if (rec_seal_check(line, len, hash, &why) != 0)
		return fail(v, v->path, 1, "segment header: %s", why);
	o = rec_parse(line, len);
	if (o == NULL)
		return fail(v, v->path, 1, "segment header is not valid JSON");
	fmt = rec_jstr(o, "format");
	seg = rec_jstr(o, "segment");
	pseg = rec_jstr(o, "prev_segment");
	phash = rec_jstr(o, "prev_hash");
	if (rec_jstr(o, "type") == NULL || strcmp(rec_jstr(o, "type"), "header") != 0) {
		rc = fail(v, v->path, 1, "first line is not a segment header");
		goto out;
	}
	if (fmt == NULL || strcmp(fmt, REC_FORMAT) != 0) {
		rc = fail(v, v->path, 1, "unknown records format '%s'", fmt ? fmt : "");
		goto out;
	}
	if (seg == NULL || strcmp(seg, name) != 0) {
		rc = fail(v, v->path, 1, "header names segment '%s': file renamed or copied",
			  seg ? seg : "");
		goto out;
	}
	if (!rec_jint(o, "prev_seq", &pseq) || pseq < 0 || !rec_is_hash(phash) ||
	    !rec_jbool(o, "prev_closed", &pclosed)) {
		rc = fail(v, v->path, 1, "header lacks prev_seq, prev_hash or prev_closed");
		goto out;
	}
	if (i == 0) {
		if (pseg == NULL && pseq == 0 && strcmp(phash, REC_ZERO_HASH) == 0) {
			/* genesis */
		} else if (pseg == NULL || !rec_seg_parse(pseg, NULL, NULL)) {
			rc = fail(v, v->path, 1, "header continues seq %lld but names no previous segment",
				  (long long)pseq);
			goto out;
		} else {
			v->start_removed = true;
			snprintf(v->start_seg, sizeof(v->start_seg), "%s", pseg);
			v->start_seq = (uint64_t)pseq;
			memcpy(v->start_hash, phash, 65);
		}
		v->expect_seq = (uint64_t)pseq + 1;
		memcpy(v->expect_prev, phash, 65);
		goto out;
	}
	if (pseg == NULL || strcmp(pseg, v->prev_name) != 0) {
		rc = fail(v, v->path, 1,
			  "header names previous segment %s, but the segment before it is %s: "
			  "a segment was removed, renamed or added",
			  pseg ? pseg : "(none)", v->prev_name);
		goto out;
	}
	if ((uint64_t)pseq != v->expect_seq - 1 || strcmp(phash, v->expect_prev) != 0) {
		rc = fail(v, v->path, 1,
			  "header continues from seq %lld (hash %.16s...), but %s ends at seq %llu "
			  "(hash %.16s...): %s was truncated or altered",
			  (long long)pseq, phash, v->prev_name,
			  (unsigned long long)(v->expect_seq - 1), v->expect_prev, v->prev_name);
		goto out;
	}
	if (!v->prev_trailer) {
		if (pclosed) {
			rc = fail(v, v->prev_path, v->prev_last_line,
				  "segment truncated: no trailer, but %s says it was closed cleanly", name);
			goto out;
		}
		note(v, v->prev_path, 0,
		     "not closed cleanly (no trailer: the writer stopped unexpectedly); %s continues the chain",
		     name);
		if (v->prev_torn)
			note(v, v->prev_path, v->prev_torn_line,
			     "torn last line (%llu bytes of an incomplete write) ignored",
			     (unsigned long long)v->prev_torn);
	}
out:
	json_object_put(o);
	return rc;
}

static int check_trailer(struct vstate *v, unsigned ln, json_object *o, const char *name)
{
	int64_t events, lseq;
	const char *lhash = rec_jstr(o, "last_hash");
	const char *seg = rec_jstr(o, "segment");

	if (!rec_jint(o, "events", &events) || !rec_jint(o, "last_seq", &lseq) ||
	    !rec_is_hash(lhash) || seg == NULL)
		return fail(v, v->path, ln, "trailer lacks events, last_seq, last_hash or segment");
	if (strcmp(seg, name) != 0)
		return fail(v, v->path, ln, "trailer names segment '%s'", seg);
	if ((uint64_t)events != v->seg_events)
		return fail(v, v->path, ln, "trailer says %lld events, the segment has %llu: "
			    "events were removed or added", (long long)events,
			    (unsigned long long)v->seg_events);
	if ((uint64_t)lseq != v->expect_seq - 1 || strcmp(lhash, v->expect_prev) != 0)
		return fail(v, v->path, ln, "trailer names last seq %lld (hash %.16s...), the "
			    "segment ends at seq %llu (hash %.16s...)", (long long)lseq, lhash,
			    (unsigned long long)(v->expect_seq - 1), v->expect_prev);
	v->trailer = true;
	return 0;
}

static int add_cap(struct vstate *v, unsigned ln, uint64_t seq, json_object *c,
		   const char *name)
{
	char pname[REC_NAME_MAX];
	const char *file = rec_jstr(c, "file");
	const char *sha = rec_jstr(c, "sha256");
	int64_t idx, caplen;

	if (rec_jobj(c, "error"))
		return 0; /* the writer could not capture this packet */
	rec_seg_pcap(name, pname);
	if (file == NULL || strcmp(file, pname) != 0 || !rec_jint(c, "index", &idx) ||
	    !rec_jint(c, "caplen", &caplen) || !rec_is_hash(sha) || idx < 1)
		return fail(v, v->path, ln, "malformed capture reference");
	if (v->ncaps > 0 && (uint64_t)idx <= v->caps[v->ncaps - 1].index)
		return fail(v, v->path, ln, "capture index %lld out of order", (long long)idx);
	if (v->ncaps == v->capcap) {
		size_t nc = v->capcap ? v->capcap * 2 : 64;
		struct cap_ref *n = realloc(v->caps, nc * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		v->caps = n;
		v->capcap = nc;
	}
	v->caps[v->ncaps].index = (uint32_t)idx;
	v->caps[v->ncaps].caplen = (uint32_t)caplen;
	v->caps[v->ncaps].seq = seq;
	v->caps[v->ncaps].line = ln;
	memcpy(v->caps[v->ncaps].sha, sha, 65);
	v->ncaps++;
	return 0;
}

static int check_caps(struct vstate *v, const char *name)
{
	char pname[REC_NAME_MAX], ppath[4200], errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	FILE *f;
	uint32_t k = 0;
	size_t c = 0;
	int fd, rc = 0;

	if (v->ncaps == 0)
		return 0;
	rec_seg_pcap(name, pname);
	snprintf(ppath, sizeof(ppath), "%s/%s", v->dir, pname);
	fd = openat(v->dfd, pname, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(v, v->path, v->caps[0].line, "capture file %s is missing", pname);
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return -ENOMEM;
	}
	p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (p == NULL) {
		fclose(f);
		return fail(v, ppath, 0, "not a readable pcap: %s", errbuf);
	}
	while (c < v->ncaps) {
		char sha[65];
		int r = pcap_next_ex(p, &h, &data);

		if (r != 1) {
			rc = fail(v, ppath, 0, "packet %u, captured for seq %llu (%s:%u), is missing: "
				  "capture truncated", v->caps[c].index,
				  (unsigned long long)v->caps[c].seq, v->path, v->caps[c].line);
			break;
		}
		k++;
		if (k != v->caps[c].index)
			continue;
		rec_sha256_hex(data, h->caplen, sha);
		if (h->caplen != v->caps[c].caplen || strcmp(sha, v->caps[c].sha) != 0) {
			rc = fail(v, ppath, 0, "packet %u does not match the capture recorded for seq %llu "
				  "(%s:%u): altered", k, (unsigned long long)v->caps[c].seq,
				  v->path, v->caps[c].line);
			break;
		}
		v->r->captures++;
		c++;
	}
	pcap_close(p); /* closes f */
	return rc;
}

static int check_event(struct vstate *v, unsigned ln, json_object *o, const char *type,
		       const char *hash, const char *name)
{
	const char *prev = rec_jstr(o, "prev");
	const char *ts = rec_jstr(o, "time");
	char want[REC_TIME_LEN];
	int64_t seq, tns;
	json_object *c;

	if (!rec_jint(o, "seq", &seq) || seq < 1)
		return fail(v, v->path, ln, "event without a valid seq");
	if ((uint64_t)seq != v->expect_seq)
		return fail(v, v->path, ln, "out of order: seq %lld where %llu was expected "
			    "(an event is missing, duplicated or moved)", (long long)seq,
			    (unsigned long long)v->expect_seq);
	if (!rec_is_hash(prev) || strcmp(prev, v->expect_prev) != 0)
		return fail(v, v->path, ln, "chain broken: \"prev\" is not the hash of the event "
			    "before it (seq %llu)", (unsigned long long)(v->expect_seq - 1));
	if (!rec_jint(o, "time_ns", &tns) || ts == NULL)
		return fail(v, v->path, ln, "event without time and time_ns");
	rec_time_str(tns, want, sizeof(want));
	if (strcmp(ts, want) != 0)
		return fail(v, v->path, ln, "time '%s' and time_ns disagree", ts);
	if (strcmp(type, "match") == 0 && (c = rec_jobj(o, "capture")) != NULL) {
		int rc = add_cap(v, ln, (uint64_t)seq, c, name);

		if (rc < 0)
			return rc;
	}
	if (strcmp(type, "admin") == 0 && v->start_removed && !v->start_explained) {
		const char *what = rec_jstr(o, "what");
		json_object *rm = rec_jobj(o, "removed");
		const char *rseg = rec_jstr(rm, "segment");
		const char *rhash = rec_jstr(rm, "last_hash");
		int64_t rseq;

		if (what && strcmp(what, "retention") == 0 && rseg && rhash &&
		    rec_jint(rm, "last_seq", &rseq) && strcmp(rseg, v->start_seg) == 0 &&
		    (uint64_t)rseq == v->start_seq && strcmp(rhash, v->start_hash) == 0) {
			v->start_explained = true;
			snprintf(v->start_where, sizeof(v->start_where), "%s:%u", v->path, ln);
		}
	}
	if (v->o && v->o->expect_seq == (uint64_t)seq) {
		v->expect_found = true;
		if (v->o->expect_hash && strcmp(v->o->expect_hash, hash) != 0)
			return fail(v, v->path, ln, "seq %lld has hash %s, expected %s",
				    (long long)seq, hash, v->o->expect_hash);
	}
	if (v->r->first_seq == 0)
		v->r->first_seq = (uint64_t)seq;
	v->r->events++;
	v->seg_events++;
	v->expect_seq++;
	memcpy(v->expect_prev, hash, 65);
	return 0;
}

static int check_segment(struct vstate *v, size_t i, const char *name)
{
	struct rec_reader rd;
	uint64_t torn = 0;
	unsigned torn_line = 0, last = 0;
	int rc;

	snprintf(v->path, sizeof(v->path), "%s/%s", v->dir, name);
	v->seg_events = 0;
	v->trailer = false;
	v->ncaps = 0;
	rc = rec_reader_open(&rd, v->dfd, name);
	if (rc < 0)
		return fail(v, v->path, 0, "cannot open: %s", strerror(-rc));
	while ((rc = rec_reader_next(&rd)) > 0) {
		unsigned ln = rd.lineno;
		char hash[65];
		const char *why, *type;
		json_object *o;

		if (!rd.complete) {
			torn = rd.len;
			torn_line = ln;
			if (ln == 1)
				rc = fail(v, v->path, 1, "incomplete segment header");
			break;
		}
		last = ln;
		if (ln == 1) {
			rc = check_header(v, i, name, rd.line, rd.len);
			if (rc < 0)
				break;
			continue;
		}
		if (v->trailer) {
			rc = fail(v, v->path, ln, "data after the trailer");
			break;
		}
		if (rd.len > REC_LINE_MAX) {
			rc = fail(v, v->path, ln, "line too long");
			break;
		}
		if (rec_seal_check(rd.line, rd.len, hash, &why) != 0) {
			rc = fail(v, v->path, ln, "%s", why);
			break;
		}
		o = rec_parse(rd.line, rd.len);
		if (o == NULL) {
			rc = fail(v, v->path, ln, "not a valid JSON object");
			break;
		}
		type = rec_jstr(o, "type");
		if (type && strcmp(type, "trailer") == 0)
			rc = check_trailer(v, ln, o, name);
		else if (rec_is_event_type(type))
			rc = check_event(v, ln, o, type, hash, name);
		else if (type && strcmp(type, "header") == 0)
			rc = fail(v, v->path, ln, "a second segment header");
		else
			rc = fail(v, v->path, ln, "unknown record type '%s'", type ? type : "");
		json_object_put(o);
		if (rc < 0)
			break;
	}
	rec_reader_close(&rd);
	if (rc < 0)
		return rc;
	if (last == 0 && torn == 0)
		return fail(v, v->path, 0, "empty segment (no header)");
	if (torn && v->trailer)
		return fail(v, v->path, torn_line, "data after the trailer");
	rc = check_caps(v, name);
	if (rc < 0)
		return rc;
	snprintf(v->prev_name, sizeof(v->prev_name), "%s", name);
	memcpy(v->prev_path, v->path, sizeof(v->prev_path));
	v->prev_trailer = v->trailer;
	v->prev_last_line = last;
	v->prev_torn = torn;
	v->prev_torn_line = torn_line;
	return 0;
}

int sl_records_verify(const char *dir, const struct sl_records_verify_opts *o,
		      struct sl_records_verify_result *r)
{
	struct vstate v;
	struct rec_seglist l = { 0 };
	int rc = 0;

	memset(r, 0, sizeof(*r));
	sl_diag_init(&r->diag);
	memset(&v, 0, sizeof(v));
	v.r = r;
	v.o = o;
	v.dir = dir;
	v.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v.dfd < 0) {
		rc = -errno;
		sl_diag_add(&r->diag, false, dir, 0, "%s", strerror(-rc));
		return rc;
	}
	rc = rec_seg_list(v.dfd, &l);
	if (rc < 0)
		goto out;
	if (l.n == 0) {
		sl_diag_add(&r->diag, false, dir, 0, "no record segments");
		rc = -ENOENT;
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		rc = check_segment(&v, i, l.name[i]);
		if (rc < 0)
			goto out;
		r->segments++;
	}
	/* the newest segment */
	if (!v.prev_trailer) {
		if (writer_running(v.dfd)) {
			note(&v, v.prev_path, 0, "open segment: a writer is running");
		} else {
			rc = fail(&v, v.prev_path, v.prev_last_line,
				  "no trailer and no writer is running: segment truncated, or the "
				  "writer stopped uncleanly (it records the recovery when restarted)");
			goto out;
		}
		if (v.prev_torn)
			note(&v, v.prev_path, v.prev_torn_line,
			     "torn last line (%llu bytes of an incomplete write) ignored",
			     (unsigned long long)v.prev_torn);
	}
	if (v.start_removed) {
		if (!v.start_explained) {
			snprintf(v.path, sizeof(v.path), "%s/%s", dir, l.name[0]);
			rc = fail(&v, v.path, 1, "chain starts at seq %llu after segment %s, "
				  "which is missing, and no retention record explains it",
				  (unsigned long long)(v.start_seq + 1), v.start_seg);
			goto out;
		}
		note(&v, NULL, 0, "chain starts at seq %llu: earlier segments removed by retention "
		     "(last removed %s, recorded at %s)", (unsigned long long)(v.start_seq + 1),
		     v.start_seg, v.start_where);
	}
	if (o && o->expect_seq && !v.expect_found) {
		if (o->expect_seq < v.expect_seq && v.start_removed &&
		    o->expect_seq <= v.start_seq) {
			note(&v, NULL, 0, "seq %llu cannot be checked: removed by retention",
			     (unsigned long long)o->expect_seq);
		} else {
			rc = fail(&v, dir, 0, "seq %llu is not in the records (chain ends at seq "
				  "%llu): records truncated",
				  (unsigned long long)o->expect_seq,
				  (unsigned long long)(v.expect_seq - 1));
			goto out;
		}
	}
	r->last_seq = v.expect_seq - 1;
	memcpy(r->head, v.expect_prev, 65);
out:
	if (rc < 0 && rc != -EBADMSG && rc != -ENOENT && r->diag.errors == 0)
		sl_diag_add(&r->diag, false, dir, 0, "%s", strerror(-rc));
	if (rc == 0 && r->diag.errors)
		rc = -EBADMSG;
	free(v.caps);
	rec_seg_list_free(&l);
	close(v.dfd);
	return rc;
}

void sl_records_verify_free(struct sl_records_verify_result *r)
{
	if (r)
		sl_diag_free(&r->diag);
}
