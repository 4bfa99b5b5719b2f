/* TLS record framing per stream direction (see struct sl_tls_walk in
 * include/sluice/app.h): splits the in-order bytes into runs of plaintext
 * (handshake, alerts, change-cipher-spec, anything not TLS) and of
 * ciphertext (application data records), so that payload rules are not
 * run over encrypted bytes, where a match can only be a false one. Work is
 * per record header (5 bytes), not per byte of a body.
 */
#include "engine.h"

#define TLS_CT_CCS 20
#define TLS_CT_HANDSHAKE 22
#define TLS_CT_APP_DATA 23
#define TLS_CT_HEARTBEAT 24
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_REC_MAX (16384 + 2048)

#define W_BODY 5        /* st: inside a record body, `left` bytes to go */
#define W_ENC 0x04      /* flags: the current record is application data */
#define W_FIRST 0x08    /* flags: the current record is the direction's first */

void sl_tls_walk_init(struct sl_tls_walk *t)
{
	t->st = 0;
	t->flags = W_FIRST;
	t->left = 0;
}

void sl_tls_walk_begin(struct sl_tls_walk *t, uint64_t off, int gap)
{
	if (gap || (off != 0 && (t->flags & W_FIRST) && t->st == 0))
		t->flags |= SL_TLS_WALK_OFF;
}

uint32_t sl_tls_walk_run(struct sl_tls_walk *t, const struct sl_tls_walk *peer,
			 const uint8_t *d, uint32_t len, int client, int *enc)
{
	uint32_t i = 0;
	int cur = -1;   /* ciphertext-ness of the run so far (-1: empty) */

	while (i < len && !(t->flags & SL_TLS_WALK_OFF)) {
		uint8_t b = d[i];

		if (t->st == W_BODY) {
			uint32_t take = t->left < len - i ? t->left : len - i;

			if (t->flags & W_FIRST) {
				/* the direction's first record opens with its hello */
				if (b != (client ? TLS_HS_CLIENT_HELLO : TLS_HS_SERVER_HELLO))
					goto lost;
				t->flags = (uint8_t)((t->flags & ~W_FIRST) | SL_TLS_WALK_HELLO);
			}
			if (cur < 0)
				cur = !!(t->flags & W_ENC);
			i += take;
			t->left = (uint16_t)(t->left - take);
			if (t->left == 0)
				t->st = 0;
			continue;
		}
		switch (t->st) {
		case 0: {
			int e;

			if (b < TLS_CT_CCS || b > TLS_CT_HEARTBEAT ||
			    ((t->flags & W_FIRST) && b != TLS_CT_HANDSHAKE))
				goto lost;
			e = b == TLS_CT_APP_DATA && (t->flags & SL_TLS_WALK_HELLO) &&
			    (peer->flags & SL_TLS_WALK_HELLO);
			if (cur >= 0 && e != cur)
				goto out;       /* the run ends before this record */
			cur = e;
			t->flags = (uint8_t)(e ? t->flags | W_ENC : t->flags & ~W_ENC);
			break;
		}
		case 1:
			if (b != 3)
				goto lost;
			break;
		case 2:
			if (b > 4)
				goto lost;
			break;
		case 3:
			t->left = (uint16_t)(b << 8);
			break;
		default:
			t->left = (uint16_t)(t->left | b);
			if (t->left == 0 || t->left > TLS_REC_MAX)
				goto lost;
			break;
		}
		if (cur < 0)
			cur = !!(t->flags & W_ENC);
		t->st++;
		i++;
	}
	if (t->flags & SL_TLS_WALK_OFF) {
		*enc = 0;
		return len;
	}
out:
	*enc = cur > 0;
	return i;
lost:
	t->flags |= SL_TLS_WALK_OFF;
	if (cur > 0 && i > 0) {
		*enc = 1;       /* the ciphertext up to here; the rest is plaintext */
		return i;
	}
	*enc = 0;
	return len;
}
