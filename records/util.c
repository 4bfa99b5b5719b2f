/* Helpers shared by the records writer and readers: the line seal (SHA-256
 * "hash" member), segment names and listing, the end-of-segment chain
 * state, line reading, strict JSON parsing, UTF-8 checking and value
 * encoding, time text. See docs/records.md for the formats. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "internal.h"

/* ---- buffer ---------------------------------------------------------- */

int rec_buf_add(struct rec_buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + len + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

void rec_buf_free(struct rec_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

/* ---- hashing --------------------------------------------------------- */

void rec_hex(const uint8_t *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* OpenSSL 3 looks EVP_sha256() up in its providers, under a lock, on every
 * digest: fetched once instead (0.95 -> 0.60 us for a 742-byte record). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *rec_sha256_md(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md ? sha256_md : EVP_sha256();
}

void rec_sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, rec_sha256_md(), NULL);
	rec_hex(md, 32, out);
}

bool rec_is_hash(const char *s)
{
	if (s == NULL)
		return false;
	for (int i = 0; i < 64; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return s[64] == '\0';
}

int rec_seal(json_object *o, struct rec_buf *b, char hash_out[65])
{
	const char *s;
	size_t len;
	int rc;

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		return -ENOMEM;
	len = strlen(s);
	if (len < 2 || s[0] != '{' || s[len - 1] != '}')
		return -EINVAL;
	rec_sha256_hex(s, len, hash_out);
	rc = rec_buf_add(b, s, len - 1);
	if (rc == 0 && len > 2)
		rc = rec_buf_add(b, ",", 1);
	if (rc == 0)
		rc = rec_buf_add(b, "\"hash\":\"", 8);
	if (rc == 0)
		rc = rec_buf_add(b, hash_out, 64);
	if (rc == 0)
		rc = rec_buf_add(b, "\"}\n", 3);
	return rc;
}

int rec_seal_check(const char *line, size_t len, char hash_out[65],
		   const char **why)
{
	static const char pre[] = ",\"hash\":\"";
	const char *h;
	char calc[65];
	uint8_t md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;

	if (len < REC_SEAL_LEN + 2 || line[0] != '{') {
		*why = "not a sealed record line";
		return -EBADMSG;
	}
	h = line + len - REC_SEAL_LEN;
	if (memcmp(h, pre, 9) != 0 || h[73] != '"' || h[74] != '}') {
		*why = "no \"hash\" member at the end of the line";
		return -EBADMSG;
	}
	memcpy(calc, h + 9, 64);
	calc[64] = '\0';
	if (!rec_is_hash(calc)) {
		*why = "\"hash\" is not 64 lowercase hex digits";
		return -EBADMSG;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL) {
		*why = "out of memory";
		return -ENOMEM;
	}
	EVP_DigestInit_ex(ctx, rec_sha256_md(), NULL);
	EVP_DigestUpdate(ctx, line, len - REC_SEAL_LEN);
	EVP_DigestUpdate(ctx, "}", 1);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	rec_hex(md, 32, hash_out);
	if (memcmp(hash_out, calc, 64) != 0) {
		*why = "content altered: the line does not hash to its \"hash\"";
		return -EBADMSG;
	}
	return 0;
}

/* ---- time ------------------------------------------------------------ */

void rec_time_str(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000000000;
		s--;
	}
	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, frac);
}

void sl_records_time_str(int64_t ns, char *buf, size_t len)
{
	rec_time_str(ns, buf, len);
}

int64_t rec_clock_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int parse_digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int parse_date(const char *s, struct tm *tm)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (parse_digits(s, 4, &y) || s[4] != '-' || parse_digits(s + 5, 2, &m) ||
	    s[7] != '-' || parse_digits(s + 8, 2, &d))
		return -EINVAL;
	if (y < 1970 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] + (m == 2 && leap(y)))
		return -EINVAL;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	return 0;
}

int sl_records_parse_time(const char *s, bool end_of_day, int64_t *ns)
{
	struct tm tm;
	int h, mi, se, oh, om;
	int64_t t, frac = 0;
	const char *p;
	int sign;

	if (s == NULL || strlen(s) < 10 || parse_date(s, &tm))
		return -EINVAL;
	if (s[10] == '\0') {
		t = (int64_t)timegm(&tm);
		if (end_of_day)
			t += 86400;
		*ns = t * 1000000000;
		return 0;
	}
	if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    parse_digits(s + 11, 2, &h) || s[13] != ':' ||
	    parse_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    parse_digits(s + 17, 2, &se))
		return -EINVAL;
	if (h > 23 || mi > 59 || se > 59)
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		int nd = 0;

		p++;
		while (isdigit((unsigned char)*p)) {
			if (nd < 9) {
				frac = frac * 10 + (*p - '0');
				nd++;
			}
			p++;
		}
		if (nd == 0)
			return -EINVAL;
		for (; nd < 9; nd++)
			frac *= 10;
	}
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = (int64_t)timegm(&tm);
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
		/* UTC */
	} else if ((p[0] == '+' || p[0] == '-') && parse_digits(p + 1, 2, &oh) == 0 &&
		   p[3] == ':' && parse_digits(p + 4, 2, &om) == 0 && p[6] == '\0' &&
		   oh < 24 && om < 60) {
		sign = p[0] == '+' ? 1 : -1;
		t -= sign * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	*ns = t * 1000000000 + frac;
	return 0;
}

/* ---- segments -------------------------------------------------------- */

void rec_seg_name(char *out, int64_t unix_s, uint32_t index)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, REC_NAME_MAX, "seg-%04d%02d%02dT%02d%02d%02dZ-%06u.jsonl",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, index % 1000000);
}

bool rec_seg_parse(const char *name, int64_t *unix_s, uint32_t *index)
{
	struct tm tm;
	int h, mi, se, ix;
	char date[11];

	/* seg-YYYYMMDDTHHMMSSZ-NNNNNN.jsonl */
	if (strlen(name) != REC_SEG_BASE_LEN + 6 || strncmp(name, "seg-", 4) != 0 ||
	    name[12] != 'T' || name[19] != 'Z' || name[20] != '-' ||
	    strcmp(name + REC_SEG_BASE_LEN, ".jsonl") != 0)
		return false;
	snprintf(date, sizeof(date), "%.4s-%.2s-%.2s", name + 4, name + 8, name + 10);
	if (parse_date(date, &tm) || parse_digits(name + 13, 2, &h) ||
	    parse_digits(name + 15, 2, &mi) || parse_digits(name + 17, 2, &se) ||
	    parse_digits(name + 21, 6, &ix) || h > 23 || mi > 59 || se > 59)
		return false;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	if (unix_s)
		*unix_s = (int64_t)timegm(&tm);
	if (index)
		*index = (uint32_t)ix;
	return true;
}

void rec_seg_pcap(const char *seg, char *out)
{
	snprintf(out, REC_NAME_MAX, "%.*s.pcap", REC_SEG_BASE_LEN, seg);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rec_seg_list(int dfd, struct rec_seglist *l)
{
	DIR *d;
	struct dirent *de;
	int fd = dup(dfd);
	size_t cap = 0;
	int rc = 0;

	l->name = NULL;
	l->n = 0;
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		char *s;

		if (!rec_seg_parse(de->d_name, NULL, NULL))
			continue;
		if (l->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nn = realloc(l->name, nc * sizeof(*nn));

			if (nn == NULL) {
				rc = -ENOMEM;
				break;
			}
			l->name = nn;
			cap = nc;
		}
		s = strdup(de->d_name);
		if (s == NULL) {
			rc = -ENOMEM;
			break;
		}
		l->name[l->n++] = s;
	}
	closedir(d);
	if (rc < 0) {
		rec_seg_list_free(l);
		return rc;
	}
	if (l->n > 1)
		qsort(l->name, l->n, sizeof(*l->name), cmp_name);
	return 0;
}

void rec_seg_list_free(struct rec_seglist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->name[i]);
	free(l->name);
	l->name = NULL;
	l->n = 0;
}

/* Chain state from one sealed line; true when it is one of ours. */
static bool line_state(const char *line, size_t len, struct rec_seg_end *e,
		       bool *is_trailer)
{
	char hash[65];
	const char *why;
	json_object *o;
	const char *t, *h;
	int64_t v;
	bool ok = false;

	if (rec_seal_check(line, len, hash, &why) != 0)
		return false;
	o = rec_parse(line, len);
	if (o == NULL)
		return false;
	t = rec_jstr(o, "type");
	if (t == NULL) {
		/* not ours */
	} else if (strcmp(t, "trailer") == 0) {
		h = rec_jstr(o, "last_hash");
		if (rec_jint(o, "last_seq", &v) && rec_is_hash(h)) {
			e->seq = (uint64_t)v;
			memcpy(e->hash, h, 65);
			ok = true;
			*is_trailer = true;
		}
	} else if (strcmp(t, "header") == 0) {
		h = rec_jstr(o, "prev_hash");
		if (rec_jint(o, "prev_seq", &v) && rec_is_hash(h)) {
			e->seq = (uint64_t)v;
			memcpy(e->hash, h, 65);
			ok = true;
		}
	} else if (rec_is_event_type(t)) {
		if (rec_jint(o, "seq", &v)) {
			e->seq = (uint64_t)v;
			memcpy(e->hash, hash, 65);
			ok = true;
		}
	}
	json_object_put(o);
	return ok;
}

/* The last sealed line of the whole file, read as a stream (when the tail
 * of the file holds none: a segment ending in very long or broken lines). */
static int seg_end_scan(int dfd, const char *name, struct rec_seg_end *e)
{
	struct rec_reader r;
	struct rec_seg_end cur = *e;
	int rc;

	rc = rec_reader_open(&r, dfd, name);
	if (rc < 0)
		return rc;
	while ((rc = rec_reader_next(&r)) > 0) {
		bool is_trailer = false;

		if (!r.complete) {
			e->torn = r.len;
			break;
		}
		if (line_state(r.line, r.len, &cur, &is_trailer)) {
			cur.found = true;
			cur.trailer = is_trailer;
			*e = cur;
		} else {
			e->trailer = false;
		}
	}
	rec_reader_close(&r);
	return rc < 0 ? rc : 0;
}

int rec_seg_end(int dfd, const char *name, struct rec_seg_end *e)
{
	struct stat st;
	char *buf = NULL;
	size_t n, end, pos;
	off_t off;
	bool first_line = true;
	int fd, rc = 0;

	memset(e, 0, sizeof(*e));
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	/* the last 64 KiB hold the last lines */
	off = st.st_size > 65536 ? st.st_size - 65536 : 0;
	n = (size_t)(st.st_size - off);
	buf = malloc(n + 1);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (pread(fd, buf, n, off) != (ssize_t)n) {
		rc = -EIO;
		goto out;
	}
	end = n;
	while (end > 0 && buf[end - 1] != '\n')
		end--;
	e->torn = n - end;
	if (end == 0 && off > 0) {
		/* no line end in the tail at all */
		rc = seg_end_scan(dfd, name, e);
		goto out;
	}
	/* walk complete lines from the last one backwards */
	pos = end;
	while (pos > 0) {
		size_t le = pos - 1; /* the '\n' */
		size_t ls = le;
		bool is_trailer = false;

		while (ls > 0 && buf[ls - 1] != '\n')
			ls--;
		if (ls == 0 && off > 0)
			break; /* partial line at the chunk start */
		if (line_state(buf + ls, le - ls, e, &is_trailer)) {
			e->found = true;
			e->trailer = first_line && is_trailer;
			goto out;
		}
		first_line = false;
		pos = ls;
	}
	if (off > 0)
		rc = seg_end_scan(dfd, name, e);
out:
	free(buf);
	close(fd);
	return rc;
}

/* ---- reading lines --------------------------------------------------- */

int rec_reader_open(struct rec_reader *r, int dfd, const char *name)
{
	int fd;

	memset(r, 0, sizeof(*r));
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r->f = fdopen(fd, "r");
	if (r->f == NULL) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return 0;
}

int rec_reader_next(struct rec_reader *r)
{
	ssize_t n;

	errno = 0;
	n = getline(&r->line, &r->cap, r->f);
	if (n < 0)
		return errno ? -errno : 0;
	r->lineno++;
	r->complete = n > 0 && r->line[n - 1] == '\n';
	r->len = (size_t)n - (r->complete ? 1 : 0);
	r->line[r->len] = '\0';
	return 1;
}

void rec_reader_close(struct rec_reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->line);
	memset(r, 0, sizeof(*r));
}

int rec_scan(int dfd, const char *name, long start, long *end, rec_line_fn fn,
	     void *ctx)
{
	struct rec_reader r;
	long pos = start;
	int rc;

	rc = rec_reader_open(&r, dfd, name);
	if (rc < 0)
		return rc;
	if (start > 0 && fseek(r.f, start, SEEK_SET) < 0) {
		rc = -errno;
		goto out;
	}
	while ((rc = rec_reader_next(&r)) > 0) {
		if (!r.complete)
			break;
		pos += (long)r.len + 1;
		rc = fn(ctx, name, r.lineno, r.line, r.len);
		if (rc != 0)
			break;
	}
	if (rc > 0)
		rc = 0;
out:
	if (end)
		*end = pos;
	rec_reader_close(&r);
	return rc;
}

/* ---- JSON ------------------------------------------------------------ */

json_object *rec_parse(const char *s, size_t len)
{
	json_tokener *tok;
	json_object *o;

	if (len > REC_LINE_MAX || len > INT32_MAX)
		return NULL;
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
			  json_tokener_get_parse_end(tok) != len ||
			  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

json_object *rec_jobj(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *rec_jstr(json_object *o, const char *key)
{
	json_object *v = rec_jobj(o, key);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool rec_jint(json_object *o, const char *key, int64_t *out)
{
	json_object *v = rec_jobj(o, key);

	if (v == NULL || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

bool rec_jbool(json_object *o, const char *key, bool *out)
{
	json_object *v = rec_jobj(o, key);

	if (v == NULL || !json_object_is_type(v, json_type_boolean))
		return false;
	*out = json_object_get_boolean(v);
	return true;
}

bool rec_is_event_type(const char *t)
{
	return t && (strcmp(t, "match") == 0 || strcmp(t, "admin") == 0 ||
		     strcmp(t, "loss") == 0);
}

/* Length of the valid UTF-8 sequence at p (0 when invalid). */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
	uint32_t c;
	size_t k;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		k = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		k = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		k = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((k == 3 && c < 0x800) || (k == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return k;
}

bool rec_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = utf8_seq(p + i, n - i);

		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

int rec_json_add_bytes(json_object *o, const char *key, const char *b64key,
		       const uint8_t *p, size_t n)
{
	struct rec_buf b = { 0 };
	size_t i = 0;
	int rc = 0;

	if (n > INT32_MAX / 4)
		return -EINVAL;
	if (rec_utf8_valid(p, n)) {
		json_object_object_add_ex(o, key, json_object_new_string_len((const char *)p, (int)n),
					  REC_KEY_FLAGS);
		return 0;
	}
	while (i < n && rc == 0) {
		size_t k = utf8_seq(p + i, n - i);

		if (k == 0) {
			char x[5];

			snprintf(x, sizeof(x), "\\x%02x", p[i]);
			rc = rec_buf_add(&b, x, 4);
			i++;
		} else {
			rc = rec_buf_add(&b, p + i, k);
			i += k;
		}
	}
	if (rc == 0) {
		char *b64 = malloc(4 * ((n + 2) / 3) + 1);

		if (b64 == NULL) {
			rc = -ENOMEM;
		} else {
			EVP_EncodeBlock((unsigned char *)b64, p, (int)n);
			json_object_object_add_ex(o, key, json_object_new_string_len(b.p ? b.p : "",
										      (int)b.len),
						  REC_KEY_FLAGS);
			if (b64key != NULL)
				json_object_object_add_ex(o, b64key, json_object_new_string(b64),
							  REC_KEY_FLAGS);
			free(b64);
		}
	}
	rec_buf_free(&b);
	return rc;
}

uint8_t *rec_value_bytes(json_object *o, size_t *len)
{
	const char *b64 = rec_jstr(o, "value_b64");
	json_object *v = rec_jobj(o, "value");
	uint8_t *raw;

	*len = 0;
	if (b64) {
		size_t n = strlen(b64);
		int k;

		raw = malloc(n / 4 * 3 + 3);
		if (raw == NULL)
			return NULL;
		k = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
		if (k < 0) {
			free(raw);
			return NULL;
		}
		/* EVP_DecodeBlock counts the padding as bytes */
		if (n >= 1 && b64[n - 1] == '=')
			k--;
		if (n >= 2 && b64[n - 2] == '=')
			k--;
		*len = (size_t)k;
		return raw;
	}
	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(v);
	raw = malloc(*len + 1);
	if (raw == NULL)
		return NULL;
	memcpy(raw, json_object_get_string(v), *len);
	raw[*len] = '\0';
	return raw;
}

char *rec_safe_text(const uint8_t *p, size_t n)
{
	struct rec_buf b = { 0 };
	size_t i = 0;

	rec_buf_add(&b, "", 0);
	while (i < n) {
		size_t k = utf8_seq(p + i, n - i);
		char x[5];

		if (p[i] == '\\') {
			rec_buf_add(&b, "\\\\", 2);
			i++;
		} else if (k == 0 || p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(x, sizeof(x), "\\x%02x", p[i]);
			rec_buf_add(&b, x, 4);
			i++;
		} else {
			rec_buf_add(&b, p + i, k);
			i += k;
		}
	}
	return b.p;
}

void rec_put_safe(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			fputs("\\\\", out);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, out);
		else
			fprintf(out, "\\x%02x", c);
	}
}
