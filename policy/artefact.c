/* Compiled policy artefact: a fixed header (magic, format version,
 * Hyperscan version, platform, digest, body length, SHA-256 checksum)
 * followed by a body holding a section table, the flat tables of the
 * policy exactly as they are in memory, and the serialised Hyperscan
 * databases. Loading points the tables into the body (read from a file:
 * in the read buffer itself; from memory: in one copy), validates every
 * offset and index, and deserialises the databases: no pattern compile,
 * no re-hashing of the domain table.
 *
 * Header (little-endian, 256 bytes):
 *     0  magic "SLUICEPA"          8  u32 format version
 *    12  u32 header length        16  char[96] hs_version()
 *   112  char[64] platform       176  u64 Hyperscan CPU features
 *   184  u8[32] policy digest    216  u64 body length
 *   224  u8[32] SHA-256 of header bytes 0..223 followed by the body
 * Body: u32 section count, u32 0, {u64 offset, u64 length} per section,
 * then the sections, each at a 16-byte aligned offset of the body.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "internal.h"

#define ART_VERSION 1u
#define HDR_LEN 256u
#define OFF_VERSION 8
#define OFF_HDRLEN 12
#define OFF_HSVER 16
#define LEN_HSVER 96
#define OFF_PLAT 112
#define LEN_PLAT 64
#define OFF_FEAT 176
#define OFF_DIGEST 184
#define OFF_BODYLEN 216
#define OFF_SUM 224
#define ALIGN 16u

static const char *const sect_name[S__COUNT] = {
	[S_STR] = "strings", [S_RULES] = "rules", [S_PORTS] = "ports",
	[S_RS_OFF] = "ruleset offsets", [S_RS_DATA] = "rulesets",
	[S_DOM_SLOT] = "domain table", [S_DOM_KEY] = "domain keys",
	[S_URL_RULE] = "url map", [S_URL_OPEN] = "url flags",
	[S_PAY_RULE] = "payload map", [S_IP4_PFX] = "IPv4 prefixes",
	[S_IP4_IVS] = "IPv4 intervals", [S_IP4_IVR] = "IPv4 interval rulesets",
	[S_IP6_PFX] = "IPv6 prefixes", [S_IP6_IVS] = "IPv6 intervals",
	[S_IP6_IVR] = "IPv6 interval rulesets", [S_ZONES] = "zones",
	[S_ZR4] = "IPv4 zone ranges", [S_ZR6] = "IPv6 zone ranges",
	[S_AUTH] = "authorities", [S_META] = "meta",
	[S_HS_URL] = "url database", [S_HS_PSTREAM] = "payload stream database",
	[S_HS_PBLOCK] = "payload block database",
};

static void put_le(uint8_t *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *b, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void platform_string(char *buf, size_t len)
{
	const char *arch =
#if defined(__x86_64__)
		"x86_64";
#elif defined(__aarch64__)
		"aarch64";
#elif defined(__i386__)
		"i386";
#elif defined(__powerpc64__)
		"ppc64";
#else
		"unknown-arch";
#endif
	snprintf(buf, len, "%s %s ptr%zu rec%zu", arch,
		 __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? "le" : "be",
		 sizeof(void *) * 8, sizeof(struct rule_rec));
}

static uint64_t hs_features(void)
{
	hs_platform_info_t pl;

	if (hs_populate_platform(&pl) != HS_SUCCESS)
		return 0;
	return pl.cpu_features;
}

static int checksum(const uint8_t *hdr, const uint8_t *body, uint64_t blen,
		    uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok;

	if (c == NULL)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(c, hdr, OFF_SUM) == 1 &&
	     EVP_DigestUpdate(c, body, blen) == 1 &&
	     EVP_DigestFinal_ex(c, out, &n) == 1 && n == 32;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -EIO;
}

static uint64_t round_up(uint64_t v)
{
	return (v + ALIGN - 1) & ~(uint64_t)(ALIGN - 1);
}

int sl_policy_serialize(const struct sl_policy *p, void **buf, size_t *len)
{
	const void *data[S__COUNT];
	uint64_t n[S__COUNT];
	char *hs[3] = { NULL, NULL, NULL };
	hs_database_t *dbs[3] = { p->hs_url, p->hs_pstream, p->hs_pblock };
	uint64_t off = round_up(8 + 16 * (uint64_t)S__COUNT);
	uint64_t secoff[S__COUNT];
	uint8_t *b = NULL, *body;
	char plat[LEN_PLAT];
	int ret = -ENOMEM;

	*buf = NULL;
	*len = 0;
	for (int i = 0; i < S__COUNT; i++) {
		data[i] = p->s[i].p;
		n[i] = p->s[i].n;
	}
	for (int k = 0; k < 3; k++) {
		size_t l = 0;

		data[S_HS_URL + k] = NULL;
		n[S_HS_URL + k] = 0;
		if (dbs[k] == NULL)
			continue;
		if (hs_serialize_database(dbs[k], &hs[k], &l) != HS_SUCCESS)
			goto out;
		data[S_HS_URL + k] = hs[k];
		n[S_HS_URL + k] = l;
	}
	for (int i = 0; i < S__COUNT; i++) {
		secoff[i] = off;
		off = round_up(off + n[i]);
	}
	b = calloc(1, HDR_LEN + off);
	if (b == NULL)
		goto out;
	body = b + HDR_LEN;
	put_le(body, S__COUNT, 4);
	for (int i = 0; i < S__COUNT; i++) {
		put_le(body + 8 + 16 * i, secoff[i], 8);
		put_le(body + 16 + 16 * i, n[i], 8);
		if (n[i])
			memcpy(body + secoff[i], data[i], n[i]);
	}
	memcpy(b, SL_ARTEFACT_MAGIC, 8);
	put_le(b + OFF_VERSION, ART_VERSION, 4);
	put_le(b + OFF_HDRLEN, HDR_LEN, 4);
	snprintf((char *)b + OFF_HSVER, LEN_HSVER, "%s", hs_version());
	platform_string(plat, sizeof(plat));
	memcpy(b + OFF_PLAT, plat, strlen(plat));
	put_le(b + OFF_FEAT, hs_features(), 8);
	memcpy(b + OFF_DIGEST, p->meta.digest, 32);
	put_le(b + OFF_BODYLEN, off, 8);
	ret = checksum(b, body, off, b + OFF_SUM);
	if (ret < 0)
		goto out;
	*buf = b;
	*len = HDR_LEN + off;
	b = NULL;
out:
	for (int k = 0; k < 3; k++)
		free(hs[k]);
	free(b);
	return ret;
}

int sl_policy_save(const struct sl_policy *p, const char *path)
{
	void *buf;
	size_t len, done = 0;
	char *tmp = NULL;
	int fd, ret;

	ret = sl_policy_serialize(p, &buf, &len);
	if (ret < 0)
		return ret;
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		free(buf);
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	while (done < len) {
		ssize_t w = write(fd, (char *)buf + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			close(fd);
			unlink(tmp);
			goto out;
		}
		done += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		ret = -errno;
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		ret = -errno;
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	free(tmp);
	free(buf);
	return ret;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define REJECT(...) do { sl_diag_add(diag, false, name, 0, __VA_ARGS__); ret = -EINVAL; goto fail; } while (0)

/* owned: buf is a malloc'd buffer this function takes over (freed on
 * failure, kept as the policy's body on success); NULL: copy the body. */
static int deserialize(const void *buf, size_t len, const char *name,
		       struct sl_policy **out, struct sl_diag *diag, void *owned)
{
	const uint8_t *b = buf;
	uint8_t *body;
	struct sl_diag local;
	struct sl_policy *p = NULL;
	char hsv[LEN_HSVER + 1], plat[LEN_PLAT + 1], mine[LEN_PLAT];
	uint8_t sum[32];
	uint64_t blen, feat, have;
	uint32_t ver;
	double t0 = mono();
	int ret = -EINVAL;

	*out = NULL;
	if (diag == NULL) {
		sl_diag_init(&local);
		diag = &local;
	}
	if (name == NULL)
		name = "<artefact>";
	if (len < 8 || memcmp(b, SL_ARTEFACT_MAGIC, 8) != 0)
		REJECT("not a sluice policy artefact (bad magic)");
	if (len < HDR_LEN)
		REJECT("truncated artefact: %zu bytes, the header alone is %u", len, HDR_LEN);
	ver = (uint32_t)get_le(b + OFF_VERSION, 4);
	if (ver != ART_VERSION)
		REJECT("artefact format version %u, this build reads version %u: recompile the policy",
		       ver, ART_VERSION);
	if (get_le(b + OFF_HDRLEN, 4) != HDR_LEN)
		REJECT("corrupt artefact: bad header length");
	memcpy(hsv, b + OFF_HSVER, LEN_HSVER);
	hsv[LEN_HSVER] = '\0';
	if (strcmp(hsv, hs_version()) != 0)
		REJECT("artefact built with Hyperscan \"%s\", this is \"%s\": recompile the policy",
		       hsv, hs_version());
	memcpy(plat, b + OFF_PLAT, LEN_PLAT);
	plat[LEN_PLAT] = '\0';
	platform_string(mine, sizeof(mine));
	if (strcmp(plat, mine) != 0)
		REJECT("artefact built for platform \"%s\", this is \"%s\": recompile the policy",
		       plat, mine);
	blen = get_le(b + OFF_BODYLEN, 8);
	if (blen > len - HDR_LEN)
		REJECT("truncated artefact: the header promises %llu body bytes, %zu are present",
		       (unsigned long long)blen, len - HDR_LEN);
	if (blen < len - HDR_LEN)
		REJECT("corrupt artefact: %zu unexpected bytes after the body",
		       (size_t)(len - HDR_LEN - blen));
	ret = checksum(b, b + HDR_LEN, blen, sum);
	if (ret < 0)
		REJECT("cannot compute checksum");
	if (memcmp(sum, b + OFF_SUM, 32) != 0)
		REJECT("corrupt artefact: checksum mismatch");
	feat = get_le(b + OFF_FEAT, 8);
	have = hs_features();
	if (feat & ~have)
		REJECT("artefact needs CPU features 0x%llx this CPU lacks: recompile the policy",
		       (unsigned long long)(feat & ~have));

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		ret = -ENOMEM;
		sl_diag_add(diag, false, name, 0, "out of memory");
		goto fail;
	}
	atomic_init(&p->ref, 1);
	if (owned && ((uintptr_t)owned + HDR_LEN) % ALIGN == 0) {
		p->body = owned; /* policy_free frees it from here on */
		owned = NULL;
		body = (uint8_t *)p->body + HDR_LEN;
	} else {
		p->body = malloc(blen ? blen : 1);
		if (p->body == NULL) {
			ret = -ENOMEM;
			sl_diag_add(diag, false, name, 0, "out of memory");
			goto fail;
		}
		body = p->body;
		memcpy(body, b + HDR_LEN, blen);
	}
	if (blen < 8 + 16 * (uint64_t)S__COUNT || get_le(body, 4) != S__COUNT)
		REJECT("corrupt artefact: bad section table");
	for (int i = 0; i < S__COUNT; i++) {
		uint64_t o = get_le(body + 8 + 16 * i, 8);
		uint64_t n = get_le(body + 16 + 16 * i, 8);

		if (o % ALIGN || o > blen || n > blen - o)
			REJECT("corrupt artefact: bad %s section", sect_name[i]);
		p->s[i].p = body + o;
		p->s[i].n = n;
	}
	for (int k = 0; k < 3; k++) {
		struct sect *s = &p->s[S_HS_URL + k];
		hs_database_t **db = k == 0 ? &p->hs_url : k == 1 ? &p->hs_pstream : &p->hs_pblock;
		hs_error_t e;

		if (s->n == 0)
			continue;
		e = hs_deserialize_database(s->p, s->n, db);
		if (e != HS_SUCCESS) {
			*db = NULL;
			REJECT("cannot load the %s (Hyperscan error %d%s)", sect_name[S_HS_URL + k],
			       (int)e, e == HS_DB_VERSION_ERROR ? ": other Hyperscan version" :
			       e == HS_DB_PLATFORM_ERROR ? ": other platform" : "");
		}
		s->p = NULL;
		s->n = 0;
	}
	{
		char why[256];

		if (policy_bind(p, why, sizeof(why)) < 0)
			REJECT("corrupt artefact: %s", why);
	}
	if (memcmp(p->meta.digest, b + OFF_DIGEST, 32) != 0)
		REJECT("corrupt artefact: digest in header and body differ");
	p->stats.compile_s = mono() - t0;
	*out = p;
	p = NULL;
	ret = 0;
fail:
	if (p)
		policy_free(p);
	free(owned);
	if (diag == &local)
		sl_diag_free(&local);
	return ret;
}

int sl_policy_deserialize(const void *buf, size_t len, const char *name,
			  struct sl_policy **out, struct sl_diag *diag)
{
	return deserialize(buf, len, name, out, diag, NULL);
}

int sl_policy_load_artefact(const char *path, struct sl_policy **out,
			    struct sl_diag *diag)
{
	char *buf;
	size_t len;
	int ret;

	*out = NULL;
	ret = policy_read_file(path, &buf, &len);
	if (ret < 0) {
		if (diag)
			sl_diag_add(diag, false, path, 0, "cannot read artefact: %s",
				    strerror(-ret));
		return ret;
	}
	return deserialize(buf, len, path, out, diag, buf);
}
