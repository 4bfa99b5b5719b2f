/* Helpers shared by the engine unit tests: reading captures, building
 * frames, checksums computed independently of the engine, a PRNG. */
#ifndef SLUICE_TEST_ENGINE_UTIL_H
#define SLUICE_TEST_ENGINE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/decode.h"

/* Source tree root: argv[1], else $SLUICE_SRCDIR, else ".". */
const char *tu_srcdir(int argc, char **argv);
extern const char *tu_src;

/* ---- captures ---- */
struct tu_frame {
	uint8_t *data;
	uint32_t len;
};

struct tu_cap {
	int dlt;              /* pcap data link type */
	size_t n;
	struct tu_frame *f;
};

/* Load every frame of a capture; 0 or -1. */
int tu_cap_load(const char *path, struct tu_cap *c);
void tu_cap_free(struct tu_cap *c);
/* Decode frame i according to the link type (Ethernet or raw IP). */
int tu_cap_decode(const struct tu_cap *c, size_t i, struct sl_pkt *p);
/* Path of a conformance capture: <src>/tests/fixtures/conformance/<name>/capture.pcap */
const char *tu_conf_path(const char *name);

/* ---- frame building ---- */
struct tu_opts {
	uint8_t nvlan;
	uint16_t tpid[3];
	uint16_t tci[3];
	uint8_t ipver;        /* 4 or 6 */
	uint8_t l4;           /* 6 TCP, 17 UDP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint8_t ip4_opt;      /* bytes of IPv4 options (multiple of 4) */
	uint8_t tcp_opt;      /* bytes of TCP options (multiple of 4) */
	uint16_t pad;         /* Ethernet padding after the IP datagram */
};

/* 10.0.0.1 -> 10.0.0.2 or 2001:db8::1 -> 2001:db8::2, MACs
 * 02:00:00:00:00:01 -> 02:00:00:00:00:02, correct checksums. Returns the
 * frame length. */
uint32_t tu_build(uint8_t *out, const struct tu_opts *o, const void *payload,
		  uint32_t plen);
void tu_opts_default(struct tu_opts *o, uint8_t ipver, uint8_t l4);

/* ---- checksums (independent implementation) ---- */
uint16_t tu_csum(const uint8_t *d, size_t n, uint32_t init);
/* 1 when the IPv4 header at ip has a correct checksum */
int tu_ip4_csum_ok(const uint8_t *ip);
/* 1 when the TCP/UDP checksum of the decoded packet is correct */
int tu_l4_csum_ok(const uint8_t *frame, const struct sl_pkt *p);
/* Fill the TCP/UDP checksum of a packet built by hand. */
void tu_l4_csum_fill(uint8_t *frame, const struct sl_pkt *p);

/* ---- PRNG ---- */
uint64_t tu_rand(uint64_t *s);

/* does hay[0..n) contain needle */
int tu_memmem(const void *hay, size_t n, const char *needle);

#endif
