/* Records verbs: records verify|tail|grep, report. (stub) */
#include <stdio.h>

#include "ctl.h"

int cmd_records(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 1; }
int cmd_report(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 1; }
