/* libFuzzer target: the compiled-artefact loader (sl_policy_deserialize).
 * The first input byte is a mode: bit 0 set means the rest is taken as
 * is (exercising the header checks); clear means the harness repairs the
 * header first (magic, versions, platform, length, the body's digest and
 * the SHA-256 checksum), so that mutations reach the section table, the
 * table validation (policy_bind) and the Hyperscan databases: what a
 * tampered artefact with a recomputed checksum could do. An artefact that
 * loads must pass the probe invariants (policy_probe.h) and serialise
 * again to an artefact with the same answers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"
#include "policy_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define HDR_LEN 256u
#define OFF_BODYLEN 216
#define OFF_DIGEST 184
#define OFF_SUM 224
#define MAX_PROBES 32

/* Header bytes 0..183 of an artefact built here (format, Hyperscan and
 * platform identity). */
static uint8_t tmpl[OFF_DIGEST];
static int have_tmpl = -1;

static const char *const policy_text =
	"policy = { name = \"fz\"; revision = \"1\"; };\n"
	"zones = { home = { cidr = [ \"192.0.2.0/24\", \"2001:db8::/32\" ]; }; };\n"
	"authorities = ( { id = \"a1\"; name = \"Auth\"; order = \"O-1\"; } );\n"
	"rules = (\n"
	"  { id = 1; name = \"one\"; basis = \"b\"; authority = \"a1\"; action = \"reset\";\n"
	"    match = { domain = [ \"a.test\", \"*.b.test\", \".c.test\" ]; url = [ \"u.test/p*\" ];\n"
	"              payload = [ \"lit\", \"/re[0-9]/i\" ]; ip = [ \"198.51.100.0/24\", \"2001:db8:bad::/48\" ];\n"
	"              port = [ 443, 80 ]; proto = \"tcp\"; origin = \"!home\"; }; },\n"
	"  { id = 2; name = \"two\"; basis = \"b\"; action = \"log\"; mode = \"shadow\";\n"
	"    match = { domain = [ \"a.test\" ]; }; }\n"
	");\n";

static void make_template(void)
{
	struct sl_policy *p = NULL;
	void *buf;
	size_t len;

	have_tmpl = 0;
	if (sl_policy_compile_text(policy_text, "fz.cfg", NULL, &p, NULL) < 0)
		return;
	if (sl_policy_serialize(p, &buf, &len) == 0 && len >= HDR_LEN) {
		memcpy(tmpl, buf, sizeof(tmpl));
		have_tmpl = 1;
		free(buf);
	}
	sl_policy_unref(p);
}

static uint64_t get_le(const uint8_t *b, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void put_le(uint8_t *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

/* Make b (len >= HDR_LEN) pass every header check. */
static void repair(uint8_t *b, size_t len)
{
	uint8_t *body = b + HDR_LEN;
	uint64_t blen = len - HDR_LEN;
	unsigned int sn = 0;
	EVP_MD_CTX *c;

	memcpy(b, tmpl, sizeof(tmpl));
	put_le(b + OFF_BODYLEN, blen, 8);
	if (blen >= 8 + 16 * (uint64_t)S__COUNT) {
		uint64_t o = get_le(body + 8 + 16 * S_META, 8);
		uint64_t k = get_le(body + 16 + 16 * S_META, 8);

		if (k == sizeof(struct meta_rec) && o <= blen && k <= blen - o)
			memcpy(b + OFF_DIGEST, body + o + offsetof(struct meta_rec, digest), 32);
	}
	c = EVP_MD_CTX_new();
	if (c == NULL)
		return;
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, b, OFF_SUM) != 1 ||
	    EVP_DigestUpdate(c, body, blen) != 1 ||
	    EVP_DigestFinal_ex(c, b + OFF_SUM, &sn) != 1)
		abort();
	EVP_MD_CTX_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct probe pr[MAX_PROBES];
	struct sl_policy *p = NULL, *q = NULL;
	struct sl_diag diag;
	unsigned npr;
	uint8_t *b;
	size_t len;
	void *out;
	size_t olen;
	int rc;

	if (n < 1 || n > (1u << 20))
		return 0;
	if (have_tmpl < 0)
		make_template();
	len = n - 1;
	b = malloc(len ? len : 1);
	if (b == NULL)
		return 0;
	memcpy(b, d + 1, len);
	if (!(d[0] & 1) && len >= HDR_LEN && have_tmpl == 1)
		repair(b, len);
	sl_diag_init(&diag);
	rc = sl_policy_deserialize(b, len, "fuzz.art", &p, &diag);
	if (rc < 0) {
		if (p != NULL || diag.errors == 0)
			abort();  /* a refusal without a reason */
	} else {
		if (p == NULL)
			abort();
		npr = fuzz_probes_from_text((const char *)b, len < 4096 ? len : 4096, pr, MAX_PROBES);
		fuzz_probe_policy(p, pr, npr);
		if (sl_policy_serialize(p, &out, &olen) == 0) {
			if (sl_policy_deserialize(out, olen, "again.art", &q, NULL) != 0)
				abort();
			if (fuzz_probe_policy(p, pr, npr) != fuzz_probe_policy(q, pr, npr))
				abort();
			sl_policy_unref(q);
			free(out);
		}
		sl_policy_unref(p);
	}
	sl_diag_free(&diag);
	free(b);
	return 0;
}
