/* sluice-ctl: verbs and the helpers they share. Each verb is a function
 * taking its own argv (argv[0] = verb name) and returning the process exit
 * status (0 ok, 1 failure/check failed, 2 usage error). */
#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H

#include <stdio.h>

struct ctl_verb {
	const char *name;
	const char *summary;  /* one line for the verb list */
	int (*run)(int argc, char **argv);
};

/* Global options, set by main() before a verb runs. */
struct ctl_globals {
	const char *socket;   /* --socket PATH (online verbs) */
	int json;             /* --json given before the verb */
};
extern struct ctl_globals ctl_g;

/* Offline policy verbs (cmd_policy.c). */
int cmd_check(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_explain(int argc, char **argv);

/* Records verbs (cmd_records.c). */
int cmd_records(int argc, char **argv);  /* records verify|tail|grep */
int cmd_report(int argc, char **argv);

/* Online verbs (cmd_online.c): argv[0] is a command of sl_ctl_table. */
int cmd_online(int argc, char **argv);

#endif
