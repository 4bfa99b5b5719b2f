/* Diagnostics list: collects FILE:LINE: message entries (see diag.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/diag.h"

void sl_diag_init(struct sl_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void sl_diag_clear(struct sl_diag *d)
{
	for (unsigned i = 0; i < d->n; i++) {
		free(d->m[i].file);
		free(d->m[i].msg);
	}
	d->n = 0;
	d->errors = 0;
}

void sl_diag_free(struct sl_diag *d)
{
	sl_diag_clear(d);
	free(d->m);
	d->m = NULL;
	d->cap = 0;
}

void sl_diag_add(struct sl_diag *d, bool warn, const char *file, unsigned line,
		 const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (!warn)
		d->errors++;
	if (d->n == d->cap) {
		unsigned cap = d->cap ? d->cap * 2 : 16;
		struct sl_diag_msg *m = realloc(d->m, cap * sizeof(*m));

		if (m == NULL)
			return;
		d->m = m;
		d->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	d->m[d->n].file = file ? strdup(file) : NULL;
	d->m[d->n].line = line;
	d->m[d->n].is_warning = warn;
	d->m[d->n].msg = msg;
	d->n++;
}

static void print_one(const struct sl_diag_msg *m, FILE *out)
{
	if (m->file && m->line)
		fprintf(out, "%s:%u: ", m->file, m->line);
	else if (m->file)
		fprintf(out, "%s: ", m->file);
	fprintf(out, "%s%s\n", m->is_warning ? "warning: " : "",
		m->msg ? m->msg : "(out of memory)");
}

void sl_diag_print(const struct sl_diag *d, FILE *out)
{
	for (unsigned i = 0; i < d->n; i++)
		print_one(&d->m[i], out);
}

char *sl_diag_join(const struct sl_diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (d->n == 0)
		return NULL;
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	sl_diag_print(d, f);
	fclose(f);
	return buf;
}
