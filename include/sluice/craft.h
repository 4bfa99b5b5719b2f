/* Building the packets sluice injects to stop a transmission: TCP RST (to
 * either end), an HTTP block page, a DNS NXDOMAIN answer (UDP and TCP).
 * Each is built from the frame that triggered it, keeping its Ethernet
 * addresses and VLAN tags, with full IPv4/IPv6 and L4 checksums computed
 * in software. Writes into a caller buffer; no allocation.
 */
#ifndef SLUICE_CRAFT_H
#define SLUICE_CRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/decode.h"
#include "sluice/policy.h"

/* Toward the receiver of ref (same direction, spoofing ref's sender) or
 * back to ref's sender (reverse: MACs, addresses and ports swapped, same
 * VLAN tags). */
#define SL_CRAFT_FORWARD 0
#define SL_CRAFT_REVERSE 1

/* A TCP segment with the given flags/seq/ack and optional payload.
 * Returns the frame length, or -ENOSPC / -EINVAL (ref not TCP). */
int sl_craft_tcp(uint8_t *out, uint32_t cap, const uint8_t *ref_frame,
		 const struct sl_pkt *ref, int dir, uint8_t flags,
		 uint32_t seq, uint32_t ack, const void *payload, uint32_t plen);

/* An NXDOMAIN answer to the DNS query carried by ref (UDP), sent back to
 * the querier: same id, question echoed, RA/RD copied, no answers. */
int sl_craft_dns_nxdomain(uint8_t *out, uint32_t cap, const uint8_t *ref_frame,
			  const struct sl_pkt *ref);

/* Same over TCP: `query` is the DNS message (without its length prefix),
 * seq/ack for the segment back to the client. */
int sl_craft_dns_nxdomain_tcp(uint8_t *out, uint32_t cap, const uint8_t *ref_frame,
			      const struct sl_pkt *ref, const uint8_t *query,
			      uint32_t qlen, uint32_t seq, uint32_t ack);

/* Render the HTTP 403 response (status line, headers with Content-Length
 * and Connection: close, body) from a body template. Placeholders in the
 * template: {rule_id} {rule_name} {category} {basis} {authority} {order}
 * {policy} {revision}; values are HTML-escaped. NULL tmpl = built-in page.
 * Returns the length written (always NUL-terminated) or -ENOSPC. */
int sl_block_page_render(char *out, size_t cap, const char *tmpl,
			 const struct sl_rule *r, const struct sl_policy_meta *m);

/* Internet checksum helpers (exposed for tests). */
uint16_t sl_csum_ipv4_hdr(const void *iphdr, unsigned ihl_bytes);

#endif
