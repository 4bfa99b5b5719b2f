/* Evidence writer: formats events as sealed JSON lines (SHA-256 chain),
 * buffers them, writes them to rotating segment files with a header and a
 * trailer, captures triggering packets into a pcap beside the segment,
 * accounts for losses and I/O errors in the chain itself, and removes
 * segments past retention (logging each removal). See docs/records.md.
 *
 * Consistency rule: w->seq/w->head describe what is on disk; w->pseq/
 * w->phead include the lines still in the buffer. A failed write truncates
 * the segment back to the last good line and rolls the chain back, so an
 * event that did not reach the file is never part of the chain; the count
 * of such events goes into a LOSS event as soon as a new segment opens.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>

#include "internal.h"
#include "sluice/policy.h"

#define DEF_SEGMENT_BYTES (64ull << 20)
#define DEF_SEGMENT_SECONDS 3600
#define DEF_RETENTION_DAYS 180
#define BUF_FLUSH_AT (64u << 10)
#define RETRY_NS (1000000000ll)
#define RETENTION_EVERY_NS (60ll * 1000000000)
#define NS 1000000000ll

struct sl_records {
	char *dir;
	int dfd;
	int lockfd;
	uint64_t seg_max;
	int64_t seg_ns_max;
	uint32_t retention_days;
	bool capture;
	bool sync_each;
	int64_t (*clock_ns)(void *arg);
	void *clock_arg;

	/* chain on disk */
	uint64_t seq;
	char head[65];
	/* chain including the buffer */
	uint64_t pseq;
	char phead[65];

	struct rec_buf buf;         /* sealed lines not yet written */
	uint64_t pend_events;       /* event lines in buf */
	uint64_t pend_internal;     /* of which write-loss events of the writer */
	uint64_t pend_internal_n;   /* the counts those carry */
	uint64_t pend_loss_lines;   /* LOSS events of the caller in buf */
	uint64_t pend_lost_n;       /* the counts those carry */

	/* current segment */
	int fd;
	char seg[REC_NAME_MAX];     /* "" when none */
	uint64_t seg_off;           /* bytes on disk */
	uint64_t seg_events;        /* events in it (incl. buffer) */
	uint64_t seg_first_seq;
	int64_t seg_open_ns;

	/* what the next segment header names */
	uint32_t next_index;
	int64_t last_name_s;
	char prev_seg[REC_NAME_MAX];  /* "" = none */
	bool prev_closed;

	/* capture pcap of the current segment */
	FILE *pf;
	pcap_t *pcap;
	pcap_dumper_t *pdump;
	uint32_t pcap_n;
	bool pcap_broken;
	char pcap_name[REC_NAME_MAX];

	/* I/O errors */
	int last_err;
	int64_t retry_ns;           /* 0: may open now */
	uint64_t unrecorded;        /* events lost to write errors, not yet in a LOSS event */
	int64_t last_retention_ns;
	bool retention_ran;

	struct sl_records_stats st;
};

static int64_t clock_now(const struct sl_records *w)
{
	if (w->clock_ns)
		return w->clock_ns(w->clock_arg);
	return rec_clock_real();
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Add member key (a string literal, not yet in o) to o: see REC_KEY_FLAGS
 * (~30 members per event). */
static inline void jadd(json_object *o, const char *key, json_object *v)
{
	json_object_object_add_ex(o, key, v, REC_KEY_FLAGS);
}

/* Strings from the policy or the dataplane: always valid JSON text. */
static void add_str(json_object *o, const char *key, const char *s)
{
	if (s == NULL)
		jadd(o, key, json_object_new_null());
	else
		rec_json_add_bytes(o, key, NULL, (const uint8_t *)s, strlen(s));
}

static json_object *ev_begin(uint64_t seq, const char *type, int64_t t)
{
	json_object *o = json_object_new_object();
	char ts[REC_TIME_LEN];

	if (o == NULL)
		return NULL;
	rec_time_str(t, ts, sizeof(ts));
	jadd(o, "seq", json_object_new_int64((int64_t)seq));
	jadd(o, "type", json_object_new_string(type));
	jadd(o, "time", json_object_new_string(ts));
	jadd(o, "time_ns", json_object_new_int64(t));
	return o;
}

/* ---- capture --------------------------------------------------------- */

static void pcap_end(struct sl_records *w, bool sync)
{
	if (w->pdump) {
		fflush(w->pf);
		if (sync)
			fsync(fileno(w->pf));
		pcap_dump_close(w->pdump); /* closes pf */
	}
	if (w->pcap)
		pcap_close(w->pcap);
	w->pdump = NULL;
	w->pcap = NULL;
	w->pf = NULL;
	w->pcap_n = 0;
	w->pcap_broken = false;
	w->pcap_name[0] = '\0';
}

static int pcap_begin(struct sl_records *w)
{
	int fd;

	rec_seg_pcap(w->seg, w->pcap_name);
	fd = openat(w->dfd, w->pcap_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	w->pf = fdopen(fd, "w");
	if (w->pf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	w->pcap = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (w->pcap)
		w->pdump = pcap_dump_fopen(w->pcap, w->pf);
	if (w->pdump == NULL) {
		if (w->pcap)
			pcap_close(w->pcap);
		fclose(w->pf);
		w->pcap = NULL;
		w->pf = NULL;
		unlinkat(w->dfd, w->pcap_name, 0);
		return -ENOMEM;
	}
	if (fflush(w->pf) != 0)
		return -(errno ? errno : EIO);
	return 0;
}

/* Write ev's packet; adds "capture" to o (a reference, or the error). */
static void capture(struct sl_records *w, const struct sl_event *ev, json_object *o)
{
	struct pcap_pkthdr h;
	json_object *c = json_object_new_object();
	uint32_t caplen = ev->pkt_len > SL_EVENT_PKT_MAX ? SL_EVENT_PKT_MAX : ev->pkt_len;
	uint64_t t = ev->pkt_time_ns ? ev->pkt_time_ns : ev->time_ns;
	char sha[65];
	long pos;
	int rc = 0;

	if (c == NULL)
		return;
	memset(&h, 0, sizeof(h));
	if (w->pcap_broken) {
		rc = -EIO;
	} else if (w->pdump == NULL) {
		rc = pcap_begin(w);
		if (rc < 0)
			w->pcap_broken = true;
	}
	if (rc == 0) {
		h.ts.tv_sec = (time_t)(t / NS);
		h.ts.tv_usec = (suseconds_t)(t % NS); /* ns: nanosecond pcap */
		h.caplen = caplen;
		h.len = ev->pkt_orig_len > caplen ? ev->pkt_orig_len : caplen;
		pos = pcap_dump_ftell(w->pdump);
		pcap_dump((u_char *)w->pdump, &h, ev->pkt);
		if (fflush(w->pf) != 0 || ferror(w->pf)) {
			rc = -(errno ? errno : EIO);
			if (pos >= 0 && ftruncate(fileno(w->pf), pos) == 0)
				clearerr(w->pf);
			w->pcap_broken = true;
		}
	}
	if (rc < 0) {
		w->st.capture_errors++;
		jadd(c, "error", json_object_new_string(strerror(-rc)));
	} else {
		w->pcap_n++;
		w->st.captured++;
		rec_sha256_hex(ev->pkt, caplen, sha);
		jadd(c, "file", json_object_new_string(w->pcap_name));
		jadd(c, "index", json_object_new_int64(w->pcap_n));
		jadd(c, "caplen", json_object_new_int64(caplen));
		jadd(c, "len", json_object_new_int64(h.len));
		jadd(c, "time_ns", json_object_new_int64((int64_t)t));
		jadd(c, "sha256", json_object_new_string(sha));
	}
	jadd(o, "capture", c);
}

/* ---- formatting ------------------------------------------------------ */

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 1:
		return "icmp";
	case SL_PROTO_TCP:
		return "tcp";
	case SL_PROTO_UDP:
		return "udp";
	case 58:
		return "icmpv6";
	default:
		snprintf(buf, len, "%u", p);
		return buf;
	}
}

static const char *dir_name(uint8_t d)
{
	return d == SL_DIR_C2S ? "c2s" : d == SL_DIR_S2C ? "s2c" : "none";
}

static json_object *policy_json(const struct sl_policy_meta *m)
{
	json_object *p;
	char hex[65];
	bool zero = true;

	if (m == NULL)
		return json_object_new_null();
	p = json_object_new_object();
	add_str(p, "name", m->name);
	add_str(p, "revision", m->revision);
	for (int i = 0; i < 32; i++)
		zero = zero && m->digest[i] == 0;
	if (rec_is_hash(m->digest_hex) || zero)
		add_str(p, "digest", m->digest_hex[0] ? m->digest_hex : NULL);
	else {
		rec_hex(m->digest, 32, hex);
		add_str(p, "digest", hex);
	}
	return p;
}

static json_object *rule_json(const struct sl_rule *r, bool full)
{
	json_object *o;

	if (r == NULL)
		return json_object_new_null();
	o = json_object_new_object();
	jadd(o, "id", json_object_new_int64(r->id));
	add_str(o, "name", r->name);
	if (!full)
		return o;
	add_str(o, "category", r->category ? r->category : "");
	add_str(o, "basis", r->basis);
	jadd(o, "report", json_object_new_boolean(r->report != 0));
	if (r->authority || r->authority_name || r->order) {
		json_object *a = json_object_new_object();

		add_str(a, "id", r->authority);
		add_str(a, "name", r->authority_name);
		add_str(a, "order", r->order);
		jadd(o, "authority", a);
	}
	return o;
}

static json_object *flow_json(const struct sl_event *ev)
{
	json_object *f = json_object_new_object();
	json_object *v = json_object_new_array();
	char buf[64];

	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)ev->flow_id);
	jadd(f, "id", json_object_new_string(buf));
	jadd(f, "proto", json_object_new_string(proto_name(ev->proto, buf, sizeof(buf))));
	if (ev->client.family) {
		sl_addr_str(&ev->client, buf, sizeof(buf));
		jadd(f, "client", json_object_new_string(buf));
	} else {
		jadd(f, "client", json_object_new_null());
	}
	jadd(f, "client_port", json_object_new_int64(ev->client_port));
	if (ev->server.family) {
		sl_addr_str(&ev->server, buf, sizeof(buf));
		jadd(f, "server", json_object_new_string(buf));
	} else {
		jadd(f, "server", json_object_new_null());
	}
	jadd(f, "server_port", json_object_new_int64(ev->server_port));
	for (unsigned i = 0; i < ev->nvlan && i < 2; i++)
		json_object_array_add(v, json_object_new_int64(ev->vlan[i]));
	jadd(f, "vlan", v);
	jadd(f, "dir", json_object_new_string(dir_name(ev->dir)));
	return f;
}

static json_object *build_event(struct sl_records *w, const struct sl_event *ev,
				uint64_t seq, int64_t t)
{
	json_object *o;
	size_t n;

	switch (ev->kind) {
	case SL_EVT_MATCH:
		o = ev_begin(seq, "match", t);
		if (o == NULL)
			return NULL;
		jadd(o, "rule", rule_json(ev->rule, true));
		jadd(o, "action", json_object_new_string(sl_action_name(ev->action)));
		jadd(o, "mode", json_object_new_string(sl_mode_name(ev->mode)));
		jadd(o, "policy", policy_json(ev->meta));
		jadd(o, "flow", flow_json(ev));
		n = ev->value_len > SL_EVENT_VALUE_MAX ? SL_EVENT_VALUE_MAX : ev->value_len;
		jadd(o, "field", json_object_new_string(sl_field_name(ev->field)));
		rec_json_add_bytes(o, "value", "value_b64", (const uint8_t *)ev->value, n);
		jadd(o, "value_len", json_object_new_int64((int64_t)n));
		jadd(o, "value_trunc", json_object_new_boolean(ev->value_trunc != 0));
		jadd(o, "lcore", json_object_new_int64(ev->lcore));
		if (w->capture && ev->pkt_len > 0)
			capture(w, ev, o);
		return o;
	case SL_EVT_ADMIN:
		o = ev_begin(seq, "admin", t);
		if (o == NULL)
			return NULL;
		rec_json_add_bytes(o, "text", NULL, (const uint8_t *)ev->text,
				   strnlen(ev->text, SL_EVENT_TEXT_MAX));
		if (ev->rule)
			jadd(o, "rule", rule_json(ev->rule, false));
		if (ev->meta)
			jadd(o, "policy", policy_json(ev->meta));
		return o;
	case SL_EVT_LOSS:
		o = ev_begin(seq, "loss", t);
		if (o == NULL)
			return NULL;
		jadd(o, "count", json_object_new_int64((int64_t)ev->count));
		rec_json_add_bytes(o, "cause", NULL, (const uint8_t *)ev->text,
				   strnlen(ev->text, SL_EVENT_TEXT_MAX));
		return o;
	default:
		return NULL;
	}
}

/* ---- segment life ---------------------------------------------------- */

/* Drop the buffer after a failed write: truncate the segment to its last
 * good line, roll the chain back, count the events, abandon the segment
 * (the next one opens after RETRY_NS and records the loss). */
static void rollback(struct sl_records *w, int err, int64_t now)
{
	uint64_t failed = w->pend_events - w->pend_internal;

	if (w->fd >= 0 && ftruncate(w->fd, (off_t)w->seg_off) < 0) {
		/* nothing better to do: verify reports a torn line */
	}
	w->st.write_errors += failed;
	w->unrecorded += failed - w->pend_loss_lines + w->pend_lost_n;
	w->buf.len = 0;
	w->pend_events = 0;
	w->pend_internal = 0;
	w->pend_internal_n = 0;
	w->pend_loss_lines = 0;
	w->pend_lost_n = 0;
	w->pseq = w->seq;
	memcpy(w->phead, w->head, 65);
	pcap_end(w, false);
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
		memcpy(w->prev_seg, w->seg, REC_NAME_MAX);
		w->prev_closed = false;
		w->seg[0] = '\0';
	}
	w->last_err = err;
	w->retry_ns = now + RETRY_NS;
}

static int flush_buf(struct sl_records *w, bool sync, int64_t now)
{
	int rc;

	if (w->fd < 0)
		return w->buf.len ? -EIO : 0;
	if (w->buf.len > 0) {
		rc = write_all(w->fd, w->buf.p, w->buf.len);
		if (rc < 0) {
			rollback(w, -rc, now);
			return rc;
		}
		w->seg_off += w->buf.len;
		w->st.bytes += w->buf.len;
		w->st.written += w->pend_events;
		w->unrecorded -= w->pend_internal_n;
		w->seq = w->pseq;
		memcpy(w->head, w->phead, 65);
		w->buf.len = 0;
		w->pend_events = 0;
		w->pend_internal = 0;
		w->pend_internal_n = 0;
		w->pend_loss_lines = 0;
		w->pend_lost_n = 0;
	}
	if (sync || w->sync_each) {
		if (w->pf)
			fsync(fileno(w->pf));
		if (fsync(w->fd) < 0)
			return -errno;
		w->st.synced_seq = w->seq;
	}
	return 0;
}

enum {
	APP_EVENT = 0,      /* an event of the caller */
	APP_INTERNAL = 1,   /* the writer's own write-loss event */
	APP_LINE = 2,       /* header/trailer: not an event */
};

/* Seal o (adding "prev" for events) and append it to the buffer. */
static int append(struct sl_records *w, json_object *o, int kind, uint64_t loss_n,
		  int64_t now)
{
	char hash[65];
	int rc;

	if (o == NULL)
		return -ENOMEM;
	if (kind != APP_LINE)
		jadd(o, "prev", json_object_new_string(w->phead));
	rc = rec_seal(o, &w->buf, hash);
	json_object_put(o);
	if (rc < 0)
		return rc;
	if (kind != APP_LINE) {
		w->pseq++;
		memcpy(w->phead, hash, 65);
		w->pend_events++;
		if (w->seg_events++ == 0)
			w->seg_first_seq = w->pseq;
		if (kind == APP_INTERNAL) {
			w->pend_internal++;
			w->pend_internal_n += loss_n;
		} else if (loss_n) {
			w->pend_loss_lines++;
			w->pend_lost_n += loss_n;
		}
	}
	if (w->buf.len >= BUF_FLUSH_AT)
		return flush_buf(w, false, now);
	return 0;
}

static int seg_create(struct sl_records *w, int64_t now)
{
	char name[REC_NAME_MAX], tmp[REC_NAME_MAX + 8], ts[REC_TIME_LEN];
	struct rec_buf b = { 0 };
	char hash[65];
	int64_t name_s = now / NS;
	json_object *o;
	int fd = -1, rc = 0;

	if (name_s < w->last_name_s)
		name_s = w->last_name_s; /* names sort in creation order */
	for (int attempt = 0; attempt < 8; attempt++) {
		rec_seg_name(name, name_s, w->next_index);
		snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
		unlinkat(w->dfd, tmp, 0);
		fd = openat(w->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd < 0)
			return -errno;
		rec_time_str(now, ts, sizeof(ts));
		o = json_object_new_object();
		if (o == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		jadd(o, "type", json_object_new_string("header"));
		jadd(o, "format", json_object_new_string(REC_FORMAT));
		jadd(o, "segment", json_object_new_string(name));
		jadd(o, "time", json_object_new_string(ts));
		jadd(o, "time_ns", json_object_new_int64(now));
		jadd(o, "prev_segment", w->prev_seg[0] ?
				       json_object_new_string(w->prev_seg) : json_object_new_null());
		jadd(o, "prev_seq", json_object_new_int64((int64_t)w->seq));
		jadd(o, "prev_hash", json_object_new_string(w->head));
		jadd(o, "prev_closed", json_object_new_boolean(w->prev_closed));
		b.len = 0;
		rc = rec_seal(o, &b, hash);
		json_object_put(o);
		if (rc < 0)
			goto fail;
		rc = write_all(fd, b.p, b.len);
		if (rc == 0 && fsync(fd) < 0)
			rc = -errno;
		if (rc < 0)
			goto fail;
		if (renameat2(w->dfd, tmp, w->dfd, name, RENAME_NOREPLACE) == 0)
			break;
		rc = -errno;
		if (rc != -EEXIST)
			goto fail;
		/* a segment of that name exists: take the next index */
		close(fd);
		fd = -1;
		unlinkat(w->dfd, tmp, 0);
		w->next_index++;
	}
	if (rc < 0)
		goto fail;
	fsync(w->dfd);
	w->fd = fd;
	memcpy(w->seg, name, REC_NAME_MAX);
	w->seg_off = b.len;
	w->seg_events = 0;
	w->seg_first_seq = 0;
	w->seg_open_ns = now;
	w->next_index = (w->next_index + 1) % 1000000;
	w->last_name_s = name_s;
	w->st.segments++;
	w->st.bytes += b.len;
	rec_buf_free(&b);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(w->dfd, tmp, 0);
	rec_buf_free(&b);
	return rc;
}

static int ensure_segment(struct sl_records *w, int64_t now)
{
	json_object *o;
	char cause[128];
	int rc;

	if (w->fd >= 0)
		return 0;
	if (w->retry_ns && now < w->retry_ns)
		return -(w->last_err ? w->last_err : EIO);
	rc = seg_create(w, now);
	if (rc < 0) {
		w->last_err = -rc;
		w->retry_ns = now + RETRY_NS;
		return rc;
	}
	w->retry_ns = 0;
	if (w->unrecorded > 0) {
		o = ev_begin(w->pseq + 1, "loss", now);
		if (o == NULL)
			return -ENOMEM;
		snprintf(cause, sizeof(cause), "records write error: %s",
			 strerror(w->last_err ? w->last_err : EIO));
		jadd(o, "count", json_object_new_int64((int64_t)w->unrecorded));
		jadd(o, "cause", json_object_new_string(cause));
		rc = append(w, o, APP_INTERNAL, w->unrecorded, now);
		if (rc < 0)
			return rc;
		if (w->fd < 0)
			return -(w->last_err ? w->last_err : EIO);
	}
	return 0;
}

static int seg_close(struct sl_records *w, int64_t now, const char *reason)
{
	json_object *o;
	char ts[REC_TIME_LEN];
	int rc;

	if (w->fd < 0)
		return 0;
	o = json_object_new_object();
	if (o == NULL)
		return -ENOMEM;
	rec_time_str(now, ts, sizeof(ts));
	jadd(o, "type", json_object_new_string("trailer"));
	jadd(o, "segment", json_object_new_string(w->seg));
	jadd(o, "time", json_object_new_string(ts));
	jadd(o, "time_ns", json_object_new_int64(now));
	jadd(o, "reason", json_object_new_string(reason));
	jadd(o, "events", json_object_new_int64((int64_t)w->seg_events));
	jadd(o, "first_seq", json_object_new_int64((int64_t)w->seg_first_seq));
	jadd(o, "last_seq", json_object_new_int64((int64_t)w->pseq));
	jadd(o, "last_hash", json_object_new_string(w->phead));
	rc = append(w, o, APP_LINE, 0, now);
	if (rc == 0)
		rc = flush_buf(w, true, now);
	if (rc < 0)
		return rc;
	pcap_end(w, true);
	close(w->fd);
	w->fd = -1;
	memcpy(w->prev_seg, w->seg, REC_NAME_MAX);
	w->prev_closed = true;
	w->seg[0] = '\0';
	fsync(w->dfd);
	return 0;
}

static int rotate(struct sl_records *w, int64_t now)
{
	int rc = seg_close(w, now, "rotate");

	if (rc < 0)
		return rc;
	w->retry_ns = 0;
	return ensure_segment(w, now);
}

/* Before an event: a segment to write to, rotated when old enough. */
static int prepare(struct sl_records *w, int64_t now)
{
	if (w->fd >= 0 && w->seg_events > 0 && now - w->seg_open_ns >= w->seg_ns_max)
		return rotate(w, now);
	return ensure_segment(w, now);
}

/* After an event: rotate once the segment has reached its size. */
static int after(struct sl_records *w, int64_t now)
{
	if (w->fd >= 0 && w->seg_off + w->buf.len >= w->seg_max)
		return rotate(w, now);
	return 0;
}

/* After an event is in the buffer: rotate by size. A failure only fails
 * the event when it took the event with it (rolled back). */
static int finish(struct sl_records *w, int64_t now)
{
	uint64_t errs = w->st.write_errors;
	int rc = after(w, now);

	return rc < 0 && w->st.write_errors != errs ? rc : 0;
}

static void fail_direct(struct sl_records *w, bool loss, uint64_t n)
{
	w->st.write_errors++;
	w->unrecorded += loss ? n : 1;
}

/* ---- API ------------------------------------------------------------- */

int sl_records_write(struct sl_records *w, const struct sl_event *ev)
{
	int64_t now, t;
	json_object *o;
	bool loss;
	int rc;

	if (w == NULL || ev == NULL)
		return -EINVAL;
	if (ev->kind != SL_EVT_MATCH && ev->kind != SL_EVT_ADMIN && ev->kind != SL_EVT_LOSS)
		return -EINVAL;
	loss = ev->kind == SL_EVT_LOSS;
	if (loss)
		w->st.lost += ev->count;
	now = clock_now(w);
	rc = prepare(w, now);
	if (rc < 0) {
		fail_direct(w, loss, ev->count);
		return rc;
	}
	t = ev->time_ns ? (int64_t)ev->time_ns : now;
	o = build_event(w, ev, w->pseq + 1, t);
	rc = append(w, o, APP_EVENT, loss ? ev->count : 0, now);
	if (rc == -ENOMEM && w->fd >= 0)
		fail_direct(w, loss, ev->count);
	if (rc < 0)
		return rc;
	return finish(w, now);
}

int sl_records_note_lost(struct sl_records *w, uint64_t n, const char *cause)
{
	int64_t now;
	json_object *o;
	int rc;

	if (w == NULL)
		return -EINVAL;
	w->st.lost += n;
	now = clock_now(w);
	rc = prepare(w, now);
	if (rc < 0) {
		fail_direct(w, true, n);
		return rc;
	}
	o = ev_begin(w->pseq + 1, "loss", now);
	if (o) {
		jadd(o, "count", json_object_new_int64((int64_t)n));
		add_str(o, "cause", cause ? cause : "");
	}
	rc = append(w, o, APP_EVENT, n, now);
	if (rc == -ENOMEM && w->fd >= 0)
		fail_direct(w, true, n);
	if (rc < 0)
		return rc;
	return finish(w, now);
}

int sl_records_flush(struct sl_records *w, bool sync)
{
	if (w == NULL)
		return -EINVAL;
	return flush_buf(w, sync, clock_now(w));
}

/* An admin event of the writer itself (recovery, retention). */
static int admin_event(struct sl_records *w, int64_t now, const char *what,
		       const char *text, json_object *extra, const char *extra_key)
{
	json_object *o;
	int rc;

	rc = ensure_segment(w, now);
	if (rc < 0) {
		/* not counted: what it would record (a removal) does not happen */
		json_object_put(extra);
		return rc;
	}
	o = ev_begin(w->pseq + 1, "admin", now);
	if (o == NULL) {
		json_object_put(extra);
		return -ENOMEM;
	}
	add_str(o, "text", text);
	jadd(o, "what", json_object_new_string(what));
	if (extra)
		json_object_object_add(o, extra_key, extra);
	return append(w, o, APP_EVENT, 0, now);
}

static int retention(struct sl_records *w, int64_t now)
{
	struct rec_seglist l;
	int64_t limit = (int64_t)w->retention_days * 86400;
	int removed = 0;
	int rc;

	rc = rec_seg_list(w->dfd, &l);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < l.n; i++) {
		const char *name = l.name[i];
		char pname[REC_NAME_MAX], text[256];
		struct rec_seg_end e;
		struct stat st;
		int64_t name_s, ref;
		bool has_pcap;
		json_object *x;

		if (w->seg[0] && strcmp(name, w->seg) >= 0)
			break; /* never the current segment, nor anything newer */
		if (fstatat(w->dfd, name, &st, 0) < 0)
			continue;
		rec_seg_parse(name, &name_s, NULL);
		ref = st.st_mtim.tv_sec > name_s ? st.st_mtim.tv_sec : name_s;
		if (now / NS - ref <= limit)
			break; /* oldest first: the rest are younger */
		rc = rec_seg_end(w->dfd, name, &e);
		if (rc < 0)
			break;
		rec_seg_pcap(name, pname);
		has_pcap = faccessat(w->dfd, pname, F_OK, 0) == 0;
		snprintf(text, sizeof(text),
			 "retention: removed %s%s%s (older than %u days; last seq %llu)",
			 name, has_pcap ? " and " : "", has_pcap ? pname : "",
			 w->retention_days, (unsigned long long)e.seq);
		x = json_object_new_object();
		jadd(x, "segment", json_object_new_string(name));
		jadd(x, "pcap", has_pcap ? json_object_new_string(pname) :
				       json_object_new_null());
		jadd(x, "last_seq", json_object_new_int64((int64_t)e.seq));
		jadd(x, "last_hash", e.found ? json_object_new_string(e.hash) :
				       json_object_new_null());
		rc = admin_event(w, now, "retention", text, x, "removed");
		/* the record of the removal is on disk before the removal */
		if (rc == 0)
			rc = flush_buf(w, true, now);
		if (rc < 0)
			break;
		if (unlinkat(w->dfd, name, 0) < 0) {
			rc = -errno;
			snprintf(text, sizeof(text), "retention: could not remove %s: %s",
				 name, strerror(-rc));
			admin_event(w, now, "retention-error", text, NULL, NULL);
			break;
		}
		if (has_pcap)
			unlinkat(w->dfd, pname, 0);
		fsync(w->dfd);
		w->st.removed++;
		removed++;
	}
	rec_seg_list_free(&l);
	return rc < 0 ? rc : removed;
}

int sl_records_maintain(struct sl_records *w, int64_t now_s)
{
	int64_t now;
	int rc;

	if (w == NULL)
		return -EINVAL;
	now = now_s ? now_s * NS : clock_now(w);
	if (w->fd >= 0 && w->seg_events > 0 && now - w->seg_open_ns >= w->seg_ns_max)
		rc = rotate(w, now);
	else
		rc = ensure_segment(w, now);
	if (rc < 0)
		return rc;
	rc = flush_buf(w, false, now);
	if (rc < 0)
		return rc;
	if (!w->retention_ran || now - w->last_retention_ns >= RETENTION_EVERY_NS) {
		w->retention_ran = true;
		w->last_retention_ns = now;
		return retention(w, now);
	}
	return 0;
}

void sl_records_get_stats(const struct sl_records *w, struct sl_records_stats *st)
{
	*st = w->st;
	st->seq = w->seq;
	memcpy(st->head, w->head, 65);
}

const char *sl_records_segment(const struct sl_records *w)
{
	return w->seg;
}

/* Remove temp files of a segment creation that did not complete. */
static void remove_stale_tmp(int dfd)
{
	int fd = dup(dfd);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (strncmp(de->d_name, ".seg-", 5) == 0 && n > 4 &&
		    strcmp(de->d_name + n - 4, ".tmp") == 0)
			unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

static void free_writer(struct sl_records *w)
{
	pcap_end(w, false);
	if (w->fd >= 0)
		close(w->fd);
	if (w->lockfd >= 0)
		close(w->lockfd);
	if (w->dfd >= 0)
		close(w->dfd);
	rec_buf_free(&w->buf);
	free(w->dir);
	free(w);
}

/* Continue the chain of the newest segment that has a sealed line. */
static int resume(struct sl_records *w, bool *recovered, char *text, size_t tlen)
{
	struct rec_seglist l;
	struct rec_seg_end e = { 0 };
	int64_t name_s;
	uint32_t idx;
	size_t i;
	int rc;

	*recovered = false;
	rc = rec_seg_list(w->dfd, &l);
	if (rc < 0)
		return rc;
	if (l.n == 0) {
		rec_seg_list_free(&l);
		return 0;
	}
	for (i = l.n; i-- > 0;) {
		rc = rec_seg_end(w->dfd, l.name[i], &e);
		if (rc == 0 && e.found)
			break;
	}
	if (!e.found) {
		rec_seg_list_free(&l);
		return -EBADMSG;
	}
	w->seq = e.seq;
	memcpy(w->head, e.hash, 65);
	snprintf(w->prev_seg, sizeof(w->prev_seg), "%s", l.name[l.n - 1]);
	w->prev_closed = e.trailer && i == l.n - 1;
	rec_seg_parse(l.name[l.n - 1], &name_s, &idx);
	w->last_name_s = name_s;
	w->next_index = (idx + 1) % 1000000;
	if (!w->prev_closed) {
		*recovered = true;
		snprintf(text, tlen,
			 "records writer restarted after an unclean stop: %s has no trailer "
			 "(chain continues from seq %llu%s)", l.name[l.n - 1],
			 (unsigned long long)e.seq,
			 e.torn ? "; a torn last line was ignored" : "");
	}
	rec_seg_list_free(&l);
	return 0;
}

int sl_records_open(struct sl_records **out, const struct sl_records_opts *o)
{
	struct sl_records *w;
	char text[512];
	bool recovered = false;
	int64_t now;
	int rc;

	*out = NULL;
	if (o == NULL || o->dir == NULL || o->dir[0] == '\0')
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->fd = -1;
	w->lockfd = -1;
	w->dfd = -1;
	w->dir = strdup(o->dir);
	w->seg_max = o->segment_bytes ? o->segment_bytes : DEF_SEGMENT_BYTES;
	w->seg_ns_max = (int64_t)(o->segment_seconds ? o->segment_seconds : DEF_SEGMENT_SECONDS) * NS;
	w->retention_days = o->retention_days ? o->retention_days : DEF_RETENTION_DAYS;
	w->capture = o->capture;
	w->sync_each = o->sync_each_flush;
	w->clock_ns = o->clock_ns;
	w->clock_arg = o->clock_arg;
	w->prev_closed = true;
	memcpy(w->head, REC_ZERO_HASH, 65);
	if (w->dir == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if (mkdir(w->dir, 0750) < 0 && errno != EEXIST) {
		rc = -errno;
		goto fail;
	}
	w->dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dfd < 0) {
		rc = -errno;
		goto fail;
	}
	w->lockfd = openat(w->dfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (w->lockfd < 0) {
		rc = -errno;
		goto fail;
	}
	if (flock(w->lockfd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	remove_stale_tmp(w->dfd);
	rc = resume(w, &recovered, text, sizeof(text));
	if (rc < 0)
		goto fail;
	w->pseq = w->seq;
	memcpy(w->phead, w->head, 65);
	now = clock_now(w);
	rc = ensure_segment(w, now);
	if (rc < 0)
		goto fail;
	if (recovered) {
		rc = admin_event(w, now, "recovery", text, NULL, NULL);
		if (rc == 0)
			rc = flush_buf(w, false, now);
		if (rc < 0)
			goto fail;
	}
	*out = w;
	return 0;
fail:
	free_writer(w);
	return rc;
}

int sl_records_close(struct sl_records *w)
{
	int64_t now;
	int rc = 0;

	if (w == NULL)
		return 0;
	now = clock_now(w);
	if (w->fd < 0 && w->unrecorded > 0) {
		/* last chance to record write-error losses */
		w->retry_ns = 0;
		rc = ensure_segment(w, now);
	}
	if (w->fd >= 0) {
		int r2 = seg_close(w, now, "close");

		if (r2 < 0)
			rc = r2;
	}
	if (w->dfd >= 0)
		fsync(w->dfd);
	free_writer(w);
	return rc;
}
