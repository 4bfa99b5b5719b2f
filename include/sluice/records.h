/* Public API of libsluice-records: the tamper-evident evidence writer
 * (JSON lines in rotating segment files, SHA-256 hash chain across them,
 * optional pcap capture, retention), and the readers behind
 * `sluice-ctl records verify|tail|grep` and `sluice-ctl report`.
 *
 * No DPDK: the dataplane moves events to the writer over an rte_ring and
 * calls these functions from its main lcore only. A writer is not
 * thread-safe; use one per records directory (sl_records_open takes an
 * exclusive lock on DIR/.lock and fails with -EBUSY when another writer
 * holds it).
 *
 * The record format, the chain scheme and both commands are documented in
 * docs/records.md.
 */
#ifndef SLUICE_RECORDS_H
#define SLUICE_RECORDS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/diag.h"
#include "sluice/event.h"

/* ---- writer ---------------------------------------------------------- */

struct sl_records_opts {
	const char *dir;             /* created if missing (one level) */
	uint64_t segment_bytes;      /* rotate before exceeding this size; 0 = 64 MiB */
	uint32_t segment_seconds;    /* rotate after this age; 0 = 3600 */
	uint32_t retention_days;     /* remove older segments; 0 = 180 */
	bool capture;                /* write triggering packets to a pcap beside the segment */
	bool sync_each_flush;        /* fsync on every sl_records_flush(), not only on rotate/close */
	/* Clock (UTC, ns since the epoch) used for segment names, rotation,
	 * retry and events without a time; NULL = CLOCK_REALTIME. Tests
	 * inject time through it. */
	int64_t (*clock_ns)(void *arg);
	void *clock_arg;
};

struct sl_records_stats {
	uint64_t written;            /* events on disk (all kinds, incl. the writer's own) */
	uint64_t lost;               /* events reported lost via sl_records_note_lost / LOSS events */
	uint64_t write_errors;       /* events that failed to be written (disk full ...) */
	uint64_t segments;           /* segments opened by this writer */
	uint64_t removed;            /* segments removed by retention */
	uint64_t bytes;              /* bytes written by this writer (segments) */
	uint64_t captured;           /* packets written to capture pcaps */
	uint64_t capture_errors;     /* packets that could not be captured */
	uint64_t seq;                /* sequence number of the last event on disk */
	uint64_t synced_seq;         /* ... of the last one fsynced (durable) */
	char head[65];               /* hash of that event (chain head), hex */
};

struct sl_records;

/* Open a writer; continues the sequence and chain of the newest segment
 * already in dir, in a new segment. 0 or -errno (-EBUSY: another writer
 * holds the directory). */
int sl_records_open(struct sl_records **w, const struct sl_records_opts *o);
/* Format and append one event (the chain covers it). ev->time_ns 0 means
 * "now" (writer clock). 0, or -errno on I/O error: the event is counted in
 * write_errors, is not chained, and a LOSS event recording it is written
 * once the writer can write again (it retries a new segment every second).
 * -EINVAL for an unknown kind (not counted). Events buffered here reach
 * the file on sl_records_flush, sl_records_maintain, rotation or close. */
int sl_records_write(struct sl_records *w, const struct sl_event *ev);
/* Append an event recording that n events were lost (cause: short text). */
int sl_records_note_lost(struct sl_records *w, uint64_t n, const char *cause);
/* Write buffered events to the file; sync=true (or opts.sync_each_flush)
 * also fsyncs. 0 or -errno (then as for sl_records_write). */
int sl_records_flush(struct sl_records *w, bool sync);
/* Time-based rotation, retry after an I/O error, flush of buffered events,
 * and retention (at most once a minute); call about once a second. now:
 * unix seconds, 0 = writer clock. Returns the number of segments removed
 * by retention, or -errno. */
int sl_records_maintain(struct sl_records *w, int64_t now);
void sl_records_get_stats(const struct sl_records *w, struct sl_records_stats *st);
/* File name of the current segment ("" when none is open). */
const char *sl_records_segment(const struct sl_records *w);
/* Flush, write the trailer, fsync file and directory, close (NULL is
 * fine). 0 or -errno of the last failure; the writer is freed anyway. */
int sl_records_close(struct sl_records *w);

/* ---- time ------------------------------------------------------------ */

/* RFC 3339 ("2026-11-23T10:00:00Z", optional fraction, Z or +hh:mm) or a
 * date ("2026-11-23" = its 00:00:00Z; with end_of_day, the next day's
 * 00:00:00Z, for exclusive upper bounds). 0 or -EINVAL. */
int sl_records_parse_time(const char *s, bool end_of_day, int64_t *ns);
/* "2026-11-23T10:00:00.123456789Z" */
void sl_records_time_str(int64_t ns, char *buf, size_t len);

/* ---- verify ---------------------------------------------------------- */

struct sl_records_verify_opts {
	/* Also require that event expect_seq exists with hash expect_hash
	 * (e.g. the chain head printed in an earlier report). 0 = no check. */
	uint64_t expect_seq;
	const char *expect_hash;
};

struct sl_records_verify_result {
	uint64_t segments;
	uint64_t events;
	uint64_t first_seq;          /* 0 when there are no events */
	uint64_t last_seq;
	char head[65];               /* hash of the last event */
	uint64_t captures;           /* captured packets checked against their pcap */
	/* Notes (is_warning = true) and, when broken, the first error as
	 * FILE:LINE: reason (is_warning = false). */
	struct sl_diag diag;
};

/* Walk every segment of dir in order and check every line's seal, the
 * sequence, the chain, headers and trailers, and captured packets.
 * 0: intact (notes may explain e.g. retention); -EBADMSG: broken, the first
 * problem is the error in r->diag; -ENOENT: no segments; other -errno:
 * the directory cannot be read. Free r with sl_records_verify_free. */
int sl_records_verify(const char *dir, const struct sl_records_verify_opts *o,
		      struct sl_records_verify_result *r);
void sl_records_verify_free(struct sl_records_verify_result *r);

/* ---- tail / grep ----------------------------------------------------- */

struct sl_records_filter {
	int64_t from_ns;             /* time >= from; 0 = unbounded */
	int64_t to_ns;               /* time < to; 0 = unbounded */
	/* The filters below select match events only (admin and loss events
	 * are left out as soon as one is set). */
	uint32_t rule;               /* rule id; 0 = any */
	int action;                  /* SL_ACT_*; 0 = any */
	bool has_addr;               /* client or server address within addr/prefix */
	struct sl_addr addr;
	uint8_t prefix;              /* 0 = full length */
	const char *authority;       /* rule's authority id; NULL = any */
};

#define SL_RECORDS_OUT_JSON 1u       /* print the raw JSON lines */

/* One readable line for a record line (no '\n'); malloc'd, NULL when the
 * line is not an event. Values are escaped for terminals. */
char *sl_records_format_line(const char *line, size_t len);
/* Print the events of dir that pass f (NULL = all), oldest first. Returns
 * the number printed, or -errno. */
int sl_records_grep(const char *dir, const struct sl_records_filter *f,
		    unsigned flags, FILE *out);
/* Print the last n events; with follow, keep printing new ones (also
 * across rotation) until *stop becomes non-zero. Returns the number
 * printed, or -errno. */
int sl_records_tail(const char *dir, unsigned n, bool follow, unsigned flags,
		    FILE *out, volatile sig_atomic_t *stop);

/* ---- report ---------------------------------------------------------- */

enum sl_report_format { SL_REPORT_JSON = 0, SL_REPORT_CSV = 1 };

struct sl_report_opts {
	const char *dir;
	int64_t from_ns;             /* 0 = unbounded */
	int64_t to_ns;               /* exclusive; 0 = unbounded */
	const char *authority;       /* only rules of this authority id; NULL = all */
	enum sl_report_format format;
	/* Subscriber (client-side) addresses: real ones with identify,
	 * otherwise pseudonymised with key (required then). */
	bool identify;
	const uint8_t *key;
	size_t key_len;
	int64_t now_ns;              /* "generated" time; 0 = now */
};

/* Aggregate the report = true matches of dir and write the report to out.
 * 0; -EBADMSG when the records failed verification (the report is still
 * written and says so; the reason is in diag); -EINVAL (no key and no
 * identify, see diag); other -errno. */
int sl_report_write(const struct sl_report_opts *o, FILE *out, struct sl_diag *diag);

#define SL_PSEUDONYM_LEN 19          /* "p:" + 16 hex + NUL */
#define SL_PSEUDONYM_KEY_MIN 16      /* bytes */
/* "p:" + the first 16 hex digits of HMAC-SHA256(key, address text). */
int sl_pseudonym(const uint8_t *key, size_t key_len, const struct sl_addr *a,
		 char out[SL_PSEUDONYM_LEN]);
/* Key = the file's bytes without trailing whitespace; at least
 * SL_PSEUDONYM_KEY_MIN bytes. 0 or -errno (message in diag). */
int sl_report_load_key(const char *path, uint8_t **key, size_t *len,
		       struct sl_diag *diag);
/* records.pseudonym_key_file from a dataplane libconfig file, resolved
 * against the config file's directory; malloc'd into *path. */
int sl_report_key_file_from_config(const char *config, char **path,
				   struct sl_diag *diag);

#endif
