/* Small definitions shared by every sluice component: addresses, protocol
 * numbers, error convention. No DPDK, no Hyperscan.
 *
 * Error convention everywhere: functions return 0 (or a count) on success
 * and -errno on failure. Only main() exits.
 */
#ifndef SLUICE_COMMON_H
#define SLUICE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SL_PROTO_ANY 0
#define SL_PROTO_TCP 6
#define SL_PROTO_UDP 17

#ifndef SL_ARRAY_SIZE
#define SL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define SL_LIKELY(x) __builtin_expect(!!(x), 1)
#define SL_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* An IPv4 or IPv6 address. IPv4 uses b[0..3] (network order), rest zero. */
struct sl_addr {
	uint8_t family; /* 4 or 6; 0 = unset */
	uint8_t b[16];
};

static inline void sl_addr_v4(struct sl_addr *a, const void *net4)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	memcpy(a->b, net4, 4);
}

static inline void sl_addr_v6(struct sl_addr *a, const void *net16)
{
	a->family = 6;
	memcpy(a->b, net16, 16);
}

static inline int sl_addr_eq(const struct sl_addr *x, const struct sl_addr *y)
{
	return x->family == y->family &&
	       memcmp(x->b, y->b, x->family == 4 ? 4 : 16) == 0;
}

/* Text form into buf (INET6_ADDRSTRLEN is enough); returns buf. */
const char *sl_addr_str(const struct sl_addr *a, char *buf, size_t len);
/* Parse "192.0.2.1" or "2001:db8::1"; 0 or -EINVAL. */
int sl_addr_parse(const char *s, struct sl_addr *a);

#endif
