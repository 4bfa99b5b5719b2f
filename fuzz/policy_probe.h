/* Shared by the policy and artefact fuzz targets: run every read-only
 * entry point of a compiled policy (rule table, zones, prefixes and
 * rulesets, domain, URL, IP, zone, block and stream payload matching,
 * decide) over a set of probe strings, check the invariants the dataplane
 * relies on (every rule index in range, lookups agree with the tables) and
 * fold the answers into a fingerprint that two equal policies share. */
#ifndef SLUICE_FUZZ_POLICY_PROBE_H
#define SLUICE_FUZZ_POLICY_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/policy.h"

struct probe {
	const char *s;
	size_t len;
};

/* Aborts on a broken invariant; returns the fingerprint. */
uint64_t fuzz_probe_policy(const struct sl_policy *p, const struct probe *pr, unsigned n);

/* Up to max quoted strings of text (a policy) as probes, plus fixed ones.
 * The probes point into text and into static storage. */
unsigned fuzz_probes_from_text(const char *text, size_t len, struct probe *pr, unsigned max);

#endif
