/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Human output: column tables (`bpfctl list`, `bpfctl link list`) and aligned "Label: value"
 * blocks (`bpfctl get`). Cells are copied and control characters in them are printed as \xNN:
 * names and metadata come from other users and must not drive the reader's terminal.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "macro.h"

struct table;

int table__new(const char *const *headers, size_t n_cols, struct table **ret);
void table__free(struct table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct table *, table__free);
/* Adds a row of n_cols cells (NULL prints "-"). */
int table__add_row(struct table *t, const char *const *cells);
size_t table__rows(const struct table *t);
/* Columns separated by two spaces; the last one is not padded. */
void table__print(const struct table *t, FILE *f);

/* Copies s with control characters escaped as \xNN; NULL -> "-". malloc'd or NULL. */
char *text_escape(const char *s);

/* "  Label:<pad> value\n" with the label column `width` wide; value escaped. */
void kv_line(FILE *f, int width, const char *label, const char *value);
void kv_linef(FILE *f, int width, const char *label, const char *fmt, ...) _printf_(4, 5);
