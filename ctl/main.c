/* sluice-ctl entry point: global options and verb dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

struct ctl_globals ctl_g = {
	.socket = NULL,
	.json = 0,
};

static const struct ctl_verb verbs[] = {
	{ "check", "validate a policy; one-line summary", cmd_check },
	{ "compile", "compile a policy into an artefact (-o FILE)", cmd_compile },
	{ "test", "run every rule's test vectors", cmd_test },
	{ "explain", "show which rules match FIELD:VALUE and the verdict", cmd_explain },
	{ "records", "evidence records: verify | tail | grep", cmd_records },
	{ "report", "report for the competent authority from records", cmd_report },
	/* online: against a running dataplane (--socket PATH) */
	{ "status", "uptime, ports, lcores, policy, records", cmd_online },
	{ "stats", "per port and per lcore counters (--watch N)", cmd_online },
	{ "rules", "per rule hits and actions (--top N)", cmd_online },
	{ "flows", "flows with state and verdict (--limit N, --blocked)", cmd_online },
	{ "reload", "load a policy or artefact with no packet lost", cmd_online },
	{ "shadow", "run a candidate policy beside the active one (or off)", cmd_online },
	{ "diff", "what the shadow candidate would have done differently", cmd_online },
	{ "rule", "rule enable|disable ID: switch a rule now (recorded)", cmd_online },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-ctl [--socket PATH] [--json] VERB [ARGS...]\n"
		"       sluice-ctl VERB --help\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			ctl_g.socket = argv[++i];
		} else if (strncmp(argv[i], "--socket=", 9) == 0) {
			ctl_g.socket = argv[i] + 9;
		} else if (strcmp(argv[i], "--json") == 0) {
			ctl_g.json = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "sluice-ctl: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		if (strcmp(argv[i], verbs[v].name) == 0)
			return verbs[v].run(argc - i, argv + i);
	}
	fprintf(stderr, "sluice-ctl: unknown verb '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
