/* Public API of libsluice-records: the tamper-evident evidence writer
 * (JSON lines in rotating segment files, SHA-256 hash chain across them,
 * optional pcap capture, retention), and the readers behind
 * `sluice-ctl records verify|tail|grep` and `sluice-ctl report`.
 *
 * No DPDK: the dataplane moves events to the writer over an rte_ring and
 * calls these functions from its main lcore only. A writer is not
 * thread-safe; use one per records directory.
 */
#ifndef SLUICE_RECORDS_H
#define SLUICE_RECORDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/event.h"

struct sl_records_opts {
	const char *dir;             /* created if missing */
	uint64_t segment_bytes;      /* rotate after this size; 0 = 64 MiB */
	uint32_t segment_seconds;    /* rotate after this age; 0 = 3600 */
	uint32_t retention_days;     /* remove older segments; 0 = 180 */
	bool capture;                /* write triggering packets to a pcap beside the segment */
	bool sync_each_flush;        /* fsync on every sl_records_flush(), not only on rotate/close */
};

struct sl_records_stats {
	uint64_t written;            /* events written (all kinds) */
	uint64_t lost;               /* events reported lost via sl_records_note_lost */
	uint64_t write_errors;       /* events that failed to be written (disk full ...) */
	uint64_t segments;           /* segments opened by this writer */
	uint64_t removed;            /* segments removed by retention */
	uint64_t bytes;              /* bytes written by this writer */
	uint64_t seq;                /* sequence number of the last event */
	char head[65];               /* hash of the last event (chain head), hex */
};

struct sl_records;

/* Open a writer; continues the sequence and chain of the newest segment
 * already in dir. 0 or -errno. */
int sl_records_open(struct sl_records **w, const struct sl_records_opts *o);
/* Format and append one event (the chain covers it). -errno on I/O error:
 * the event is counted in write_errors and the chain stays consistent. */
int sl_records_write(struct sl_records *w, const struct sl_event *ev);
/* Append an event recording that n events were lost (cause: short text). */
int sl_records_note_lost(struct sl_records *w, uint64_t n, const char *cause);
/* Flush buffers to the file; sync=true also fsyncs. */
int sl_records_flush(struct sl_records *w, bool sync);
/* Time-based rotation and retention; call about once a second. */
int sl_records_maintain(struct sl_records *w, int64_t now);
void sl_records_get_stats(const struct sl_records *w, struct sl_records_stats *st);
/* Flush, fsync and close (NULL is fine). */
int sl_records_close(struct sl_records *w);

#endif
