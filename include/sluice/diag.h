/* Diagnostics: a list of FILE:LINE: message entries collected while
 * parsing, compiling or loading, so that one run reports every problem. */
#ifndef SLUICE_DIAG_H
#define SLUICE_DIAG_H

#include <stdbool.h>
#include <stdio.h>

struct sl_diag_msg {
	char *file;       /* may be NULL */
	unsigned line;    /* 0 when unknown */
	bool is_warning;
	char *msg;
};

struct sl_diag {
	unsigned n;
	unsigned errors;  /* entries that are not warnings */
	unsigned cap;
	struct sl_diag_msg *m;
};

void sl_diag_init(struct sl_diag *d);
void sl_diag_free(struct sl_diag *d);
void sl_diag_clear(struct sl_diag *d);
/* Add an error (warn=false) or warning. Never fails (allocation failure
 * keeps the count but drops the text). */
void sl_diag_add(struct sl_diag *d, bool warn, const char *file, unsigned line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "FILE:LINE: message" per entry ("FILE:LINE: warning: message"). */
void sl_diag_print(const struct sl_diag *d, FILE *out);
/* All entries in one malloc'd string, one per line; NULL when empty. */
char *sl_diag_join(const struct sl_diag *d);

#endif
