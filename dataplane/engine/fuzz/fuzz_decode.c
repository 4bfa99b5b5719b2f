/* libFuzzer target: sl_decode / sl_decode_l3 on arbitrary bytes, the
 * invariants of a successful decode, and crafting from what was decoded
 * (the crafted frames must decode again). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/craft.h"
#include "sluice/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void check(const struct sl_pkt *p, uint32_t len)
{
	if (p->ip_end > len || p->l3_off >= p->ip_end ||
	    (uint64_t)p->payload_off + p->payload_len > p->ip_end ||
	    p->payload_off < p->l3_off || p->nvlan > SL_MAX_VLAN ||
	    (p->l4_off && (p->l4_off <= p->l3_off || p->l4_off >= p->payload_off)))
		abort();
}

static void craft(const uint8_t *f, const struct sl_pkt *p)
{
	static uint8_t out[70000];
	struct sl_pkt q;
	int n;

	if (p->l4proto == SL_PROTO_TCP && p->l4_off) {
		n = sl_craft_tcp(out, sizeof(out), f, p, SL_CRAFT_REVERSE,
				 SL_TCP_RST | SL_TCP_ACK, p->ack, p->seq, "x", 1);
		if (n < 0 || (p->l3_off && sl_decode(out, (uint32_t)n, &q) != SL_DEC_OK))
			abort();
	}
	if (p->l4proto == SL_PROTO_UDP && p->l4_off && !p->is_frag) {
		n = sl_craft_dns_nxdomain(out, sizeof(out), f, p);
		if (n > 0 && p->l3_off && sl_decode(out, (uint32_t)n, &q) != SL_DEC_OK)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sl_pkt p;
	uint8_t *c;

	if (n > 70000)
		return 0;
	/* an exact-size copy so that any overread is caught */
	c = malloc(n ? n : 1);
	if (c == NULL)
		return 0;
	memcpy(c, d, n);
	if (sl_decode(c, (uint32_t)n, &p) == SL_DEC_OK) {
		check(&p, (uint32_t)n);
		craft(c, &p);
	}
	memset(&p, 0, sizeof(p));
	if (sl_decode_l3(c, (uint32_t)n, &p) == SL_DEC_OK)
		check(&p, (uint32_t)n);
	free(c);
	return 0;
}
