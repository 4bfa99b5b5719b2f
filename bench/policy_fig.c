/* Figure 4, policy updates without traffic: compile a policy source (time,
 * peak memory of this fresh process, what it holds) and save it as an
 * artefact; in another process, load the artefact (time, peak memory).
 * Swap time comes from the reload child. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "sluice/policy.h"

static void stats_json(json_object *res, const struct sl_policy *p)
{
	struct sl_policy_stats st;

	sl_policy_get_stats(p, &st);
	json_object_object_add(res, "rules", json_object_new_int64(st.rules));
	json_object_object_add(res, "domains", json_object_new_int64(st.domains));
	json_object_object_add(res, "payloads", json_object_new_int64(st.payloads));
	json_object_object_add(res, "urls", json_object_new_int64(st.urls));
	json_object_object_add(res, "cidrs", json_object_new_int64(st.cidrs));
	json_object_object_add(res, "policy_bytes", json_object_new_int64((int64_t)st.bytes));
}

int bt_child_compile(const struct bt_child_opts *o, json_object *res)
{
	struct sl_policy *p = NULL;
	struct sl_diag d;
	long rss0 = bt_maxrss_kb();
	double t0, t1, t2;
	char *art = NULL;
	struct stat sb;
	int rc;

	sl_diag_init(&d);
	t0 = bt_now();
	rc = sl_policy_compile_file(o->policy, NULL, &p, &d);
	t1 = bt_now();
	if (rc < 0) {
		sl_diag_print(&d, stderr);
		sl_diag_free(&d);
		return rc;
	}
	sl_diag_free(&d);
	json_object_object_add(res, "compile_s", json_object_new_double(t1 - t0));
	json_object_object_add(res, "rss_base_mb", json_object_new_double(rss0 / 1024.0));
	json_object_object_add(res, "rss_peak_mb", json_object_new_double(bt_maxrss_kb() / 1024.0));
	stats_json(res, p);
	if (asprintf(&art, "%s.slp", o->policy) < 0)
		return -ENOMEM;
	t1 = bt_now();
	rc = sl_policy_save(p, art);
	t2 = bt_now();
	if (rc == 0 && stat(art, &sb) == 0) {
		json_object_object_add(res, "save_s", json_object_new_double(t2 - t1));
		json_object_object_add(res, "artefact", json_object_new_string(art));
		json_object_object_add(res, "artefact_bytes", json_object_new_int64((int64_t)sb.st_size));
	}
	free(art);
	sl_policy_unref(p);
	return rc;
}

int bt_child_load(const struct bt_child_opts *o, json_object *res)
{
	struct sl_policy *p = NULL;
	struct sl_diag d;
	long rss0 = bt_maxrss_kb();
	double t0, t1;
	int rc;

	sl_diag_init(&d);
	t0 = bt_now();
	rc = sl_policy_load_artefact(o->policy, &p, &d);
	t1 = bt_now();
	if (rc < 0) {
		sl_diag_print(&d, stderr);
		sl_diag_free(&d);
		return rc;
	}
	sl_diag_free(&d);
	json_object_object_add(res, "load_s", json_object_new_double(t1 - t0));
	json_object_object_add(res, "rss_base_mb", json_object_new_double(rss0 / 1024.0));
	json_object_object_add(res, "rss_peak_mb", json_object_new_double(bt_maxrss_kb() / 1024.0));
	stats_json(res, p);
	sl_policy_unref(p);
	return 0;
}
