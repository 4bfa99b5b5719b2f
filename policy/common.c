/* Address helpers shared by every component (see common.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include "sluice/common.h"

const char *sl_addr_str(const struct sl_addr *a, char *buf, size_t len)
{
	const char *r = NULL;

	if (a->family == 4)
		r = inet_ntop(AF_INET, a->b, buf, len);
	else if (a->family == 6)
		r = inet_ntop(AF_INET6, a->b, buf, len);
	if (r == NULL && len > 0)
		snprintf(buf, len, "?");
	return buf;
}

int sl_addr_parse(const char *s, struct sl_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1) {
		a->family = 6;
		return 0;
	}
	return -EINVAL;
}
