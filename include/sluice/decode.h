/* Packet decoder: Ethernet, 802.1Q/802.1ad (QinQ) VLANs, IPv4, IPv6 with
 * extension headers, TCP, UDP. Works on a contiguous frame, never reads
 * past len, never allocates: safe on hostile input and fuzzable.
 *
 * What the decoder checks: header lengths against the frame, IPv4 IHL and
 * total length, IPv6 payload length and extension header chain, TCP data
 * offset, UDP length, fragment offsets. What it does not check: IP and
 * L4 checksums (the NIC does, or nobody: a receiver drops a bad checksum
 * anyway), IPv4 options content, TCP options content. */
#ifndef SLUICE_DECODE_H
#define SLUICE_DECODE_H

#include <stdint.h>

#include "sluice/common.h"

#define SL_MAX_VLAN 2
#define SL_MAX_IP6_EXT 8    /* more IPv6 extension headers: SL_DEC_BAD_IP6_EXT */

/* Decode results. SL_DEC_OK and SL_DEC_NOT_IP are not errors. */
enum sl_decode_result {
	SL_DEC_OK = 0,
	SL_DEC_NOT_IP,          /* ARP, LLDP...: forward untouched */
	SL_DEC_TRUNC_L2,        /* shorter than Ethernet (+VLAN) header */
	SL_DEC_TOO_MANY_VLAN,   /* more than SL_MAX_VLAN tags */
	SL_DEC_TRUNC_L3,        /* shorter than the IP header */
	SL_DEC_BAD_IP_VERSION,
	SL_DEC_BAD_IHL,         /* IPv4 IHL < 5 or beyond the frame */
	SL_DEC_BAD_IP_LEN,      /* total/payload length inconsistent with frame */
	SL_DEC_BAD_IP6_EXT,     /* malformed or too many IPv6 extension headers */
	SL_DEC_TRUNC_L4,        /* shorter than the TCP/UDP header */
	SL_DEC_BAD_TCP_OFF,     /* TCP data offset < 5 or beyond the segment */
	SL_DEC_BAD_UDP_LEN,
	SL_DEC_BAD_FRAG,        /* fragment beyond 65535 bytes, non-last fragment
				 * not a multiple of 8, two IPv6 fragment headers */
	SL_DEC__COUNT
};

const char *sl_decode_result_name(int r); /* "bad-ihl", ... */

#define SL_TCP_FIN 0x01
#define SL_TCP_SYN 0x02
#define SL_TCP_RST 0x04
#define SL_TCP_PSH 0x08
#define SL_TCP_ACK 0x10
#define SL_TCP_URG 0x20
#define SL_TCP_ECE 0x40
#define SL_TCP_CWR 0x80

/* A decoded frame: offsets into the frame the decoder was given. */
struct sl_pkt {
	uint16_t l3_off;        /* start of the IP header (= L2 length) */
	uint16_t l4_off;        /* start of TCP/UDP header (0 when none) */
	uint16_t payload_off;   /* start of L4 payload; when L4 is not decoded
				 * (other protocol, non-first fragment) the
				 * start of the IP payload */
	uint32_t payload_len;   /* payload bytes (trimmed to IP length) */
	uint32_t ip_end;        /* offset just past the IP datagram (frame padding excluded) */
	uint8_t nvlan;
	uint16_t vlan_tci[SL_MAX_VLAN]; /* outer first, host order, full TCI */
	uint16_t vlan_tpid[SL_MAX_VLAN];
	uint8_t ipver;          /* 4 or 6 */
	uint8_t l4proto;        /* final next-header / protocol */
	uint8_t ttl;            /* TTL / hop limit */
	struct sl_addr src, dst;
	uint16_t sport, dport;  /* host order; 0 when no TCP/UDP */
	uint8_t tcp_flags;      /* SL_TCP_*: the whole flags byte */
	uint32_t seq, ack;      /* host order */
	uint16_t win;
	/* Fragments: is_frag set for any fragment (v4 MF/offset, v6 fragment
	 * header with offset or M set; an IPv6 "atomic" fragment, offset 0
	 * and M clear, is a whole datagram: is_frag 0, frag_hdr_off set).
	 * L4 fields are only decoded for the first fragment, and only when
	 * its L4 header is whole in it (else l4_off 0, result OK); a first
	 * fragment's UDP payload_len is what this fragment holds. */
	uint8_t is_frag;
	uint8_t frag_first;     /* offset 0 */
	uint8_t frag_more;      /* MF set */
	uint32_t frag_id;
	uint16_t frag_off;      /* in bytes */
	uint16_t frag_hdr_off;  /* IPv6: offset of the fragment header, else 0 */
};

/* Decode a frame; returns enum sl_decode_result. On SL_DEC_OK every field
 * that applies is set; on errors the fields decoded so far are set (every
 * other field is zero). */
int sl_decode(const uint8_t *frame, uint32_t len, struct sl_pkt *p);

/* Decode a packet that starts at the IP header (a reassembled datagram, or
 * a raw-IP capture). nvlan, vlan_tci and vlan_tpid of *p are kept as the
 * caller set them (the L2 fields of the first fragment; zero them for raw
 * IP); everything else is overwritten and offsets are relative to ip
 * (l3_off = 0). The IP version comes from the first nibble. */
int sl_decode_l3(const uint8_t *ip, uint32_t len, struct sl_pkt *p);

#endif
