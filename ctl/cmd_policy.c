/* Offline policy verbs: check, compile, test, explain. (stub) */
#include <stdio.h>

#include "ctl.h"

int cmd_check(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 1; }
int cmd_compile(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 1; }
int cmd_test(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 1; }
int cmd_explain(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 1; }
