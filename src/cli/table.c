/* SPDX-License-Identifier: Apache-2.0 */
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct table {
	size_t n_cols, n_rows;
	char **cells; /* n_rows + 1 rows (the header first) of n_cols */
};

char *text_escape(const char *s)
{
	char *out, *o;

	if (!s)
		return strdup("-");
	out = malloc(strlen(s) * 4 + 1);
	if (!out)
		return NULL;
	for (o = out; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			o += sprintf(o, "\\x%02x", c);
		else
			*o++ = (char)c;
	}
	*o = 0;
	return out;
}

/* Width of s on a terminal: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

int table__new(const char *const *headers, size_t n_cols, struct table **ret)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->n_cols = n_cols;
	/* The header is row 0, stored like any other row: n_rows counts the rows below it, so it
	 * starts one below zero for the header's own add_row(). */
	t->n_rows = (size_t)-1;
	if (table__add_row(t, headers) < 0) {
		free(t->cells);
		free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

void table__free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < (t->n_rows + 1) * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int table__add_row(struct table *t, const char *const *cells)
{
	size_t base = (t->n_rows + 1) * t->n_cols;
	char **grown = realloc(t->cells, (base + t->n_cols) * sizeof(*t->cells));

	if (!grown)
		return -ENOMEM;
	t->cells = grown;
	for (size_t c = 0; c < t->n_cols; c++) {
		t->cells[base + c] = text_escape(cells[c]);
		if (!t->cells[base + c]) {
			while (c--)
				free(t->cells[base + c]);
			return -ENOMEM;
		}
	}
	t->n_rows++;
	return 0;
}

size_t table__rows(const struct table *t)
{
	return t->n_rows;
}

void table__print(const struct table *t, FILE *f)
{
	_cleanup_free_ size_t *width = calloc(t->n_cols, sizeof(size_t));

	if (!width)
		return;
	for (size_t r = 0; r <= t->n_rows; r++)
		for (size_t c = 0; c < t->n_cols; c++)
			width[c] = MAX(width[c], text_width(t->cells[r * t->n_cols + c]));
	for (size_t r = 0; r <= t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *cell = t->cells[r * t->n_cols + c];

			fputs(cell, f);
			if (c + 1 < t->n_cols)
				fprintf(f, "%*s", (int)(width[c] - text_width(cell) + 2), "");
		}
		fputc('\n', f);
	}
}

void kv_line(FILE *f, int width, const char *label, const char *value)
{
	_cleanup_free_ char *v = text_escape(value);

	fprintf(f, "  %s:%*s %s\n", label, (int)(width - strlen(label)), "", v ? v : "?");
}

void kv_linef(FILE *f, int width, const char *label, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	kv_line(f, width, label, s);
}
