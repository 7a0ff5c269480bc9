/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An error that reaches a user: a negative errno (whose meaning bpfd fixes, see
 * src/rpc/grpc_status.h) plus a message naming the object and the cause.
 */
#pragma once

#include <stdarg.h>

#include "macro.h"

#define ERROR_MESSAGE_MAX 4096

struct error {
	int code; /* negative errno, 0 when unset */
	char message[ERROR_MESSAGE_MAX];
};

/* Sets e (when e is not NULL and not already set) and returns r, which must be negative, so
 * callers can write `return error_set(err, -ENOENT, "program %u not found", id);`. The first
 * error set wins: deeper code knows the cause better than its callers. */
int error_set(struct error *e, int r, const char *fmt, ...) _printf_(3, 4);
/* Appends "; <text>" to an error already set (e.g. a diagnosis); no-op when unset. */
void error_append(struct error *e, const char *fmt, ...) _printf_(2, 3);
/* Returns e->code and clears nothing; 0 if unset. */
static inline int error_code(const struct error *e)
{
	return e->code;
}
