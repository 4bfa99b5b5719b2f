/* True source lines for libconfig list/array elements.
 *
 * libconfig records the line of a scalar list element when the parser
 * reduces it, i.e. at the token after it: the last entry of
 *     payload = [
 *       "a",
 *       "b"
 *     ];
 * is reported on the line of "]". Error messages must point at the entry
 * itself, so we tokenise the same text, collect the starting line of every
 * scalar value in document order, and give each unnamed scalar setting
 * (list and array elements) the line of its value. When the counts do not
 * agree (e.g. @include), libconfig's lines are left as they are.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "internal.h"

struct lines {
	unsigned *v;
	size_t n;
	size_t cap;
};

static int add_line(struct lines *l, unsigned line)
{
	unsigned *p = vec_grow((void **)&l->v, &l->cap, l->n, sizeof(*l->v));

	if (p == NULL)
		return -1;
	*p = line;
	l->n++;
	return 0;
}

/* Value-start lines of every scalar in text; -1 when the text cannot be
 * followed (include directives, allocation failure). */
static int scan_values(const char *t, struct lines *l)
{
	unsigned line = 1;
	bool prev_string = false;
	size_t i = 0;

	while (t[i] != '\0') {
		unsigned char c = (unsigned char)t[i];

		if (c == '\n') {
			line++;
			i++;
			continue;
		}
		if (isspace(c)) {
			i++;
			continue;
		}
		if (c == '#' || (c == '/' && t[i + 1] == '/')) {
			while (t[i] != '\0' && t[i] != '\n')
				i++;
			continue;
		}
		if (c == '/' && t[i + 1] == '*') {
			i += 2;
			while (t[i] != '\0' && !(t[i] == '*' && t[i + 1] == '/')) {
				if (t[i] == '\n')
					line++;
				i++;
			}
			if (t[i] != '\0')
				i += 2;
			continue;
		}
		if (c == '@')
			return -1;
		if (c == '"') {
			if (!prev_string && add_line(l, line) < 0)
				return -1;
			i++;
			while (t[i] != '\0' && t[i] != '"') {
				if (t[i] == '\\' && t[i + 1] != '\0')
					i++;
				if (t[i] == '\n')
					line++;
				i++;
			}
			if (t[i] != '\0')
				i++;
			prev_string = true;
			continue;
		}
		prev_string = false;
		if (isalpha(c) || c == '*') {
			size_t s = i;

			while (isalnum((unsigned char)t[i]) || t[i] == '-' ||
			       t[i] == '_' || t[i] == '*')
				i++;
			if ((i - s == 4 && strncasecmp(t + s, "true", 4) == 0) ||
			    (i - s == 5 && strncasecmp(t + s, "false", 5) == 0)) {
				if (add_line(l, line) < 0)
					return -1;
			}
			continue;
		}
		if (isdigit(c) || c == '-' || c == '+' || c == '.') {
			if (add_line(l, line) < 0)
				return -1;
			i++;
			while (isalnum((unsigned char)t[i]) || t[i] == '.' ||
			       ((t[i] == '-' || t[i] == '+') &&
				(t[i - 1] == 'e' || t[i - 1] == 'E')))
				i++;
			continue;
		}
		i++; /* punctuation */
	}
	return 0;
}

static size_t count_scalars(const config_setting_t *s)
{
	size_t n = 0;

	if (!config_setting_is_aggregate(s))
		return 1;
	for (int i = 0; i < config_setting_length(s); i++)
		n += count_scalars(config_setting_get_elem(s, (unsigned)i));
	return n;
}

static void assign(config_setting_t *s, const struct lines *l, size_t *k)
{
	if (!config_setting_is_aggregate(s)) {
		if (config_setting_name(s) == NULL)
			s->line = l->v[*k];
		(*k)++;
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++)
		assign(config_setting_get_elem(s, (unsigned)i), l, k);
}

void cfg_fix_lines(struct config_t *cfg, const char *text)
{
	struct lines l = { NULL, 0, 0 };
	config_setting_t *root = config_root_setting(cfg);
	size_t k = 0;

	if (scan_values(text, &l) == 0 && count_scalars(root) == l.n)
		assign(root, &l, &k);
	free(l.v);
}
