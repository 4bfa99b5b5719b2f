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
 * L2: ref_frame[0..ref->l3_off) copied (every VLAN tag kept; MACs swapped
 * when reversed; nothing when ref came from sl_decode_l3 with l3_off 0).
 * IPv4: 20-byte header, DF, id 0, TTL 64, header checksum. IPv6: no
 * extension headers, hop limit 64, flow label 0. TCP: 20-byte header,
 * window 0 with RST else 64240, checksum over the pseudo-header. Short
 * frames are not padded to 60 bytes (the NIC pads).
 * Returns the frame length, or -ENOSPC / -EINVAL (ref not TCP). */
int sl_craft_tcp(uint8_t *out, uint32_t cap, const uint8_t *ref_frame,
		 const struct sl_pkt *ref, int dir, uint8_t flags,
		 uint32_t seq, uint32_t ack, const void *payload, uint32_t plen);

/* An NXDOMAIN answer to the DNS query carried by ref (UDP), sent back to
 * the querier: same id, QR=1, opcode 0, RD and CD copied, RA=1, RCODE 3,
 * the first question echoed byte for byte, no answer/authority/additional
 * records; UDP checksum computed (v4 and v6). -EINVAL when ref is not an
 * unfragmented UDP datagram carrying a DNS query. */
int sl_craft_dns_nxdomain(uint8_t *out, uint32_t cap, const uint8_t *ref_frame,
			  const struct sl_pkt *ref);

/* Same over TCP: `query` is the DNS message (without its length prefix),
 * seq/ack for the segment back to the client (ref is a client-to-server
 * segment; the answer goes reverse, PSH|ACK, 2-byte length prefix). */
int sl_craft_dns_nxdomain_tcp(uint8_t *out, uint32_t cap, const uint8_t *ref_frame,
			      const struct sl_pkt *ref, const uint8_t *query,
			      uint32_t qlen, uint32_t seq, uint32_t ack);

/* Render the HTTP 403 response (status line; Content-Type text/html;
 * charset=utf-8, Content-Length, Connection: close, Cache-Control:
 * no-store; body) from a body template. Placeholders in the template:
 * {rule_id} {rule_name} {category} {basis} {authority} (authority_name,
 * else the authority id) {order} {policy} {revision} (policy meta); values
 * are HTML-escaped (& < > " '), missing values are empty, any other
 * {text} is kept as is. NULL tmpl = built-in page (names the rule id and
 * name, the legal basis, the authority and order when the rule has them,
 * policy and revision).
 * r and m may be NULL. Returns the length written (always NUL-terminated)
 * or -ENOSPC (out is then ""). */
int sl_block_page_render(char *out, size_t cap, const char *tmpl,
			 const struct sl_rule *r, const struct sl_policy_meta *m);

/* Internet checksum of the IPv4 header as given (checksum field
 * included), in host order: with the field zeroed, the value to store
 * (big-endian) in it; over a header with a correct checksum, 0. */
uint16_t sl_csum_ipv4_hdr(const void *iphdr, unsigned ihl_bytes);

#endif
