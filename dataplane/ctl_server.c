/* Control socket served by the main lcore (placeholder until the control
 * plane lands). */
#include "sluice.h"

int sl_ctl_open(const char *path, const char *group)
{
	(void)path;
	(void)group;
	return 0;
}

void sl_ctl_poll(int timeout_ms)
{
	(void)timeout_ms;
}

void sl_ctl_close(void)
{
}
