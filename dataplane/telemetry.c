/* DPDK telemetry endpoints (dpdk-telemetry.py): sluice's counters, per
 * lcore, per rule and the running policy. Callbacks run on DPDK's
 * telemetry thread: they read per-lcore counters (aligned 64-bit reads, a
 * torn total at worst) and read the published snapshot under sl_tel_lock,
 * which the main lcore also holds while it frees a snapshot. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "sluice.h"

pthread_mutex_t sl_tel_lock = PTHREAD_MUTEX_INITIALIZER;

static void add_stats(struct rte_tel_data *d, const struct sl_lcore_stats *t)
{
	uint64_t dec = 0;

	for (int i = 1; i < SL_DEC__COUNT; i++)
		dec += t->decode_err[i];
	rte_tel_data_add_dict_u64(d, "rx_pkts", t->rx_pkts);
	rte_tel_data_add_dict_u64(d, "rx_bytes", t->rx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_pkts", t->tx_pkts);
	rte_tel_data_add_dict_u64(d, "tx_bytes", t->tx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_fail", t->tx_fail);
	rte_tel_data_add_dict_u64(d, "dropped_policy", t->drop_policy);
	rte_tel_data_add_dict_u64(d, "dropped_overload", t->drop_overload);
	rte_tel_data_add_dict_u64(d, "dropped_malformed", t->drop_malformed);
	rte_tel_data_add_dict_u64(d, "injected", t->injected);
	rte_tel_data_add_dict_u64(d, "decode_errors", dec);
	rte_tel_data_add_dict_u64(d, "flows_active", t->flows_active);
	rte_tel_data_add_dict_u64(d, "flows_created", t->flows_created);
	rte_tel_data_add_dict_u64(d, "flows_evicted", t->flows_evicted);
	rte_tel_data_add_dict_u64(d, "flows_expired", t->flows_expired);
	rte_tel_data_add_dict_u64(d, "fragments", t->frags);
	rte_tel_data_add_dict_u64(d, "fragments_reassembled", t->frag_reassembled);
	rte_tel_data_add_dict_u64(d, "fragments_reassembled_apart", t->frag_big_reassembled);
	rte_tel_data_add_dict_u64(d, "fastpath_pkts", t->fastpath);
	rte_tel_data_add_dict_u64(d, "bypass_pkts", t->bypass);
	rte_tel_data_add_dict_u64(d, "encrypted_bytes", t->encrypted_bytes);
	rte_tel_data_add_dict_u64(d, "overload_flow_table", t->overload_flow_table);
	rte_tel_data_add_dict_u64(d, "overload_reassembly_ooo", t->overload_ooo);
	rte_tel_data_add_dict_u64(d, "overload_reassembly_ip", t->overload_frag);
	rte_tel_data_add_dict_u64(d, "overload_field_buffers", t->overload_app);
	rte_tel_data_add_dict_u64(d, "overload_stream_states", t->overload_stream);
	rte_tel_data_add_dict_u64(d, "overload_rx_backlog", t->overload_rx);
	rte_tel_data_add_dict_u64(d, "rx_behind_depth", t->rx_behind[SL_BEHIND_DEPTH]);
	rte_tel_data_add_dict_u64(d, "rx_behind_surge", t->rx_behind[SL_BEHIND_SURGE]);
	rte_tel_data_add_dict_u64(d, "rx_behind_not_draining", t->rx_behind[SL_BEHIND_NOT_DRAINING]);
	rte_tel_data_add_dict_u64(d, "rx_behind_long_run", t->rx_behind[SL_BEHIND_LONG]);
	rte_tel_data_add_dict_u64(d, "rx_behind_device", t->rx_behind[SL_BEHIND_DEVICE]);
	rte_tel_data_add_dict_u64(d, "events", t->events);
	rte_tel_data_add_dict_u64(d, "events_lost", t->overload_events);
	for (int a = SL_ACT_LOG; a < SL_ACT__COUNT; a++) {
		char k[32];

		/* telemetry names take [A-Za-z0-9_]: block-page -> block_page */
		snprintf(k, sizeof(k), "verdict_%s", sl_action_name(a));
		for (char *p = k; *p; p++)
			if (*p == '-')
				*p = '_';
		rte_tel_data_add_dict_u64(d, k, t->act[a]);
		memcpy(k, "shadow_", 7);
		memmove(k + 7, k + 8, strlen(k + 8) + 1);
		rte_tel_data_add_dict_u64(d, k, t->shadow[a]);
	}
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sl_lcore_stats t;

	(void)cmd;
	(void)params;
	sl_stats_sum(&t);
	rte_tel_data_start_dict(d);
	add_stats(d, &t);
	return 0;
}

static int tel_lcore(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char *end;
	unsigned long lc;

	(void)cmd;
	if (params == NULL || *params == '\0')
		return -EINVAL;
	lc = strtoul(params, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	for (unsigned i = 0; i < sl_dp.nworkers; i++) {
		if (sl_dp.w[i]->lcore_id == lc) {
			rte_tel_data_start_dict(d);
			add_stats(d, &sl_dp.w[i]->st);
			return 0;
		}
	}
	return -ENOENT;
}

static int tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	for (unsigned i = 0; i < sl_dp.nworkers; i++)
		rte_tel_data_add_array_int(d, (int)sl_dp.w[i]->lcore_id);
	return 0;
}

static int tel_policy(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct sl_snapshot *s;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&sl_tel_lock);
	s = __atomic_load_n(&sl_dp.snap, __ATOMIC_ACQUIRE);
	rte_tel_data_start_dict(d);
	if (s) {
		rte_tel_data_add_dict_string(d, "name", s->meta->name);
		rte_tel_data_add_dict_string(d, "revision", s->meta->revision);
		rte_tel_data_add_dict_string(d, "digest", s->meta->digest_hex);
		rte_tel_data_add_dict_u64(d, "generation", s->gen);
		rte_tel_data_add_dict_u64(d, "rules", s->nrules);
	}
	pthread_mutex_unlock(&sl_tel_lock);
	return 0;
}

/* Hits per rule id of the running policy (live snapshot only). */
static int tel_rules(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct sl_snapshot *s;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&sl_tel_lock);
	s = __atomic_load_n(&sl_dp.snap, __ATOMIC_ACQUIRE);
	rte_tel_data_start_dict(d);
	for (uint32_t r = 0; s && r < s->nrules && r < RTE_TEL_MAX_DICT_ENTRIES; r++) {
		char k[16];
		uint64_t h = 0;

		for (unsigned i = 0; i < sl_dp.nworkers; i++)
			h += s->ctr[i][r].hits;
		snprintf(k, sizeof(k), "%u", sl_policy_rule(s->policy, r)->id);
		rte_tel_data_add_dict_u64(d, k, h);
	}
	pthread_mutex_unlock(&sl_tel_lock);
	return 0;
}

int sl_telemetry_init(void)
{
	int rc = 0;

	rc |= rte_telemetry_register_cmd("/sluice/stats", tel_stats,
		"sluice counters summed over workers. No parameters");
	rc |= rte_telemetry_register_cmd("/sluice/lcores", tel_lcores,
		"worker lcore ids. No parameters");
	rc |= rte_telemetry_register_cmd("/sluice/lcore", tel_lcore,
		"sluice counters of one worker. Parameters: lcore id");
	rc |= rte_telemetry_register_cmd("/sluice/policy", tel_policy,
		"running policy: name, revision, digest, generation. No parameters");
	rc |= rte_telemetry_register_cmd("/sluice/rules", tel_rules,
		"hits per rule id of the running policy. No parameters");
	return rc ? -EINVAL : 0;
}
