/* sluice-bench parent: running children and dpdk-testpmd, and printing the
 * results (report.c). */
#ifndef SLUICE_BENCH_RUN_H
#define SLUICE_BENCH_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

/* Print the tables of a results object (see main.c for its layout). */
void bt_report_tables(json_object *r, FILE *out);

/* Number at a dotted path ("figures.x.mpps.median"), or NAN. */
double bt_jnum(json_object *o, const char *path);
const char *bt_jstr(json_object *o, const char *path);

#endif
