/* Shared helpers for the records unit tests: temp directories, a fake
 * clock, event builders, file helpers and the report fixture. */
#ifndef SLUICE_TEST_RECORDS_HELPERS_H
#define SLUICE_TEST_RECORDS_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"
#include "sluice/records.h"

#define NS_PER_S 1000000000ll

/* A fake clock for opts.clock_ns: returns *(int64_t *)arg. */
int64_t th_clock(void *arg);

/* mkdtemp under $TMPDIR (or /tmp); returns a malloc'd path. */
char *th_tmpdir(void);
/* rm -rf path (only what the tests create: files and directories). */
void th_rmrf(const char *path);

/* Rules and policy metadata for events. */
extern struct sl_policy_meta th_meta;
extern struct sl_policy_meta th_meta2;
extern struct sl_rule th_rule_a;   /* 101, report, authority cac, reset enforce */
extern struct sl_rule th_rule_b;   /* 102, report, authority mps, drop shadow */
extern struct sl_rule th_rule_c;   /* 103, not reported, log enforce */
extern struct sl_rule th_rule_d;   /* 104, report, no authority, block-page */

/* A match event for rule r at time t (ns) from client to server. */
void th_match(struct sl_event *ev, const struct sl_rule *r, int64_t t,
	      const char *client, uint16_t cport, const char *server,
	      uint16_t sport, uint64_t flow_id, uint8_t field, const char *value);
void th_admin(struct sl_event *ev, int64_t t, const char *text);

/* Open a writer on dir with the fake clock at *now. */
struct sl_records *th_open(const char *dir, int64_t *now, uint64_t seg_bytes,
			   uint32_t seg_seconds);

/* Whole file (dir/name) into a malloc'd NUL-terminated buffer. */
char *th_read(const char *dir, const char *name, size_t *len);
int th_write(const char *dir, const char *name, const char *data, size_t len);
/* Segment file names in order; returns count, fills names[max]. */
size_t th_segments(const char *dir, char names[][64], size_t max);
/* Line n (1-based) of a buffer, as a malloc'd string without '\n'. */
char *th_line(const char *buf, unsigned n);
unsigned th_count_lines(const char *buf);
/* Delete line n of dir/name; swap lines n and n+1; keep the first n lines. */
int th_delete_line(const char *dir, const char *name, unsigned n);
int th_swap_lines(const char *dir, const char *name, unsigned n);
int th_keep_lines(const char *dir, const char *name, unsigned n);

/* Verify dir; returns the return code, copies the first error text. */
int th_verify(const char *dir, char *err, size_t errlen, char *notes, size_t nlen);

/* The report fixture (docs/records.md and tests): known counts, see .c.
 * Times are on 2026-11-20..22. Returns 0. */
int th_fixture(const char *dir);
#define TH_FIXTURE_EVENTS 19   /* events in the chain (all kinds) */

#endif
