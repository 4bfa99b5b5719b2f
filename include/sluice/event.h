/* Evidence events: what a worker hands to the records writer when a rule
 * with record = true matches (and administrative events such as a reload or
 * a rule switched off). Fixed size, filled on the fast path without
 * allocation (objects come from a mempool), formatted off the fast path.
 */
#ifndef SLUICE_EVENT_H
#define SLUICE_EVENT_H

#include <stdint.h>

#include "sluice/common.h"
#include "sluice/policy.h"

#define SL_EVENT_VALUE_MAX 256   /* matched value / payload excerpt */
#define SL_EVENT_PKT_MAX 2048    /* evidence capture: triggering packet */
#define SL_EVENT_TEXT_MAX 512    /* admin event text */

enum sl_event_kind {
	SL_EVT_MATCH = 1, /* a rule matched traffic */
	SL_EVT_ADMIN = 2, /* reload, rule enable/disable, start/stop ... */
	SL_EVT_LOSS = 3,  /* events that could not be recorded (count) */
};

enum sl_dir {
	SL_DIR_C2S = 0,   /* client to server */
	SL_DIR_S2C = 1,   /* server to client */
	SL_DIR_NONE = 2,  /* no flow (e.g. ICMP), or unknown */
};

/* The records writer (sl_records_write) formats an event at once and keeps
 * no pointer into it; docs/records.md maps every field to the record. A
 * time_ns of 0 means "now" (writer clock), a pkt_time_ns of 0 means
 * time_ns; rule->report is recorded so that reports count only report =
 * true rules. */
struct sl_event {
	uint8_t kind;              /* enum sl_event_kind */
	uint8_t action;            /* enum sl_action: done (enforce) or would-be (shadow) */
	uint8_t mode;              /* enum sl_mode of the rule */
	uint8_t field;             /* enum sl_field that matched */
	uint8_t proto;             /* IP protocol number */
	uint8_t dir;               /* enum sl_dir of the matching packet */
	uint8_t nvlan;             /* VLAN tags on the matching packet (0..2) */
	uint8_t value_trunc;       /* value was cut to SL_EVENT_VALUE_MAX */
	uint16_t vlan[2];          /* outer first, VID only */
	uint16_t lcore;            /* worker lcore id */
	uint16_t value_len;
	uint16_t client_port;      /* host order */
	uint16_t server_port;
	uint32_t pkt_len;          /* bytes in pkt (0: no capture) */
	uint32_t pkt_orig_len;     /* length on the wire */
	uint64_t time_ns;          /* UTC, CLOCK_REALTIME */
	uint64_t pkt_time_ns;      /* capture timestamp of the packet, 0 if none */
	uint64_t flow_id;          /* unique per flow within a run; see dataplane */
	uint64_t count;            /* SL_EVT_LOSS: events lost */
	struct sl_addr client;     /* subscriber side (sender of a request) */
	struct sl_addr server;
	/* Rule and policy metadata, valid until the writer has consumed the
	 * event: the dataplane frees a policy snapshot only after an RCU
	 * quiescent state AND after draining the event ring. NULL for admin
	 * and loss events unless they concern a rule. */
	const struct sl_rule *rule;
	const struct sl_policy_meta *meta;
	char value[SL_EVENT_VALUE_MAX];     /* raw bytes, not NUL-terminated */
	char text[SL_EVENT_TEXT_MAX];       /* admin/loss: NUL-terminated description */
	uint8_t pkt[SL_EVENT_PKT_MAX];      /* evidence capture, Ethernet frame */
};

#endif
