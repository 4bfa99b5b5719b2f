/* Private helpers shared by the files of libsluice-records: segment names
 * and listing, the line seal (hash member) and its check, time text, JSON
 * parsing and member access, value encoding, and a growable buffer.
 * Not installed; the public API is include/sluice/records.h.
 */
#ifndef SLUICE_RECORDS_INTERNAL_H
#define SLUICE_RECORDS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "sluice/records.h"

#define REC_FORMAT "sluice-records/1"
#define REC_ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"
/* ,"hash":"<64 hex>"} */
#define REC_SEAL_LEN 75
/* "seg-20261123T100000Z-000001" */
#define REC_SEG_BASE_LEN 27
#define REC_NAME_MAX 64
/* A line longer than this is not one of ours. */
#define REC_LINE_MAX (1u << 20)

/* ---- growable byte buffer ---------------------------------------------- */

struct rec_buf {
	char *p;
	size_t len;
	size_t cap;
};

int rec_buf_add(struct rec_buf *b, const void *data, size_t len);
void rec_buf_free(struct rec_buf *b);

/* ---- hashing --------------------------------------------------------- */

void rec_hex(const uint8_t *in, size_t n, char *out);
/* SHA-256 as OpenSSL 3 wants it reused (fetched once) */
const EVP_MD *rec_sha256_md(void);
void rec_sha256_hex(const void *data, size_t len, char out[65]);
bool rec_is_hash(const char *s);

/* Serialise o (which must not have a "hash" member), compute its hash and
 * append the sealed line plus '\n' to b. hash_out gets the hex hash. */
int rec_seal(json_object *o, struct rec_buf *b, char hash_out[65]);
/* Check the seal of one line (without its '\n'). 0 and the hash in
 * hash_out, or -EBADMSG with a reason in *why. */
int rec_seal_check(const char *line, size_t len, char hash_out[65],
		   const char **why);

/* ---- time ------------------------------------------------------------ */

/* "2026-11-23T10:00:00.123456789Z" (31 bytes with NUL). */
#define REC_TIME_LEN 40
void rec_time_str(int64_t ns, char *buf, size_t len);
int64_t rec_clock_real(void);

/* ---- segments -------------------------------------------------------- */

/* "seg-<yyyymmddThhmmssZ>-<index>.jsonl"; out has REC_NAME_MAX bytes. */
void rec_seg_name(char *out, int64_t unix_s, uint32_t index);
/* Parse a segment file name; false when it is not one. */
bool rec_seg_parse(const char *name, int64_t *unix_s, uint32_t *index);
/* Same base name with ".pcap". */
void rec_seg_pcap(const char *seg, char *out);

struct rec_seglist {
	char **name;   /* sorted ascending (= chronological) */
	size_t n;
};

int rec_seg_list(int dfd, struct rec_seglist *l);
void rec_seg_list_free(struct rec_seglist *l);

/* Where the chain stands at the end of a segment: the last line whose seal
 * is intact (an event, a trailer, or the header). */
struct rec_seg_end {
	bool found;         /* some sealed line was found */
	bool trailer;       /* the last complete line is a trailer */
	uint64_t seq;       /* last event seq (header: prev_seq) */
	char hash[65];      /* its hash (header: prev_hash) */
	uint64_t torn;      /* bytes after the last '\n' */
};

int rec_seg_end(int dfd, const char *name, struct rec_seg_end *e);

/* ---- reading lines --------------------------------------------------- */

struct rec_reader {
	FILE *f;
	char *line;
	size_t cap;
	size_t len;         /* without the '\n' */
	bool complete;      /* ended with '\n' */
	unsigned lineno;
};

int rec_reader_open(struct rec_reader *r, int dfd, const char *name);
/* 1: a line is in r->line (NUL-terminated at len); 0: end; -errno. */
int rec_reader_next(struct rec_reader *r);
void rec_reader_close(struct rec_reader *r);

/* Call fn for every complete line of segment name from byte offset start;
 * *end (if not NULL) gets the offset after the last complete line. fn
 * returns 0 to go on, > 0 to stop, < 0 for an error (returned). */
typedef int (*rec_line_fn)(void *ctx, const char *name, unsigned lineno,
			   const char *line, size_t len);
int rec_scan(int dfd, const char *name, long start, long *end, rec_line_fn fn,
	     void *ctx);

/* ---- JSON ------------------------------------------------------------ */

/* Strict parse of exactly len bytes; NULL when not one JSON object. */
json_object *rec_parse(const char *s, size_t len);
const char *rec_jstr(json_object *o, const char *key);
bool rec_jint(json_object *o, const char *key, int64_t *v);
bool rec_jbool(json_object *o, const char *key, bool *v);
json_object *rec_jobj(json_object *o, const char *key);
/* Event kinds: match, admin, loss. */
bool rec_is_event_type(const char *t);

/* Strict UTF-8 check (no overlongs, surrogates or > U+10FFFF). */
bool rec_utf8_valid(const uint8_t *p, size_t n);
/* json_object_object_add_ex flags for a member whose key is a string
 * literal not yet in the object: json-c neither copies the key nor looks
 * for it (a malloc, a free and a search saved per member). */
#define REC_KEY_FLAGS (JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT)

/* Add key = bytes as a string; when not valid UTF-8 the string shows
 * invalid bytes as \xHH and b64key (unless NULL) carries the exact bytes
 * in base64. key and b64key: string literals not yet in o (REC_KEY_FLAGS). */
int rec_json_add_bytes(json_object *o, const char *key, const char *b64key,
		       const uint8_t *p, size_t n);
/* The exact bytes of a record's value: value_b64 decoded when present,
 * else the "value" string with its length. malloc'd; NULL when none. */
uint8_t *rec_value_bytes(json_object *o, size_t *len);
/* Bytes as display text: valid UTF-8 except control characters kept,
 * anything else as \xHH, backslash doubled. malloc'd. */
char *rec_safe_text(const uint8_t *p, size_t n);
/* Write bytes for a terminal/CSV: printable ASCII as is, anything else as
 * \xHH, backslash doubled. */
void rec_put_safe(FILE *out, const char *s, size_t n);

#endif
