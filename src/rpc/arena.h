/* SPDX-License-Identifier: Apache-2.0 */
/* A bump allocator for building one response: protobuf-c messages are trees of small
 * allocations that all die together right after packing. */
#pragma once

#include <stddef.h>

struct arena {
	struct arena_block *head;
	int failed; /* an allocation failed: the response must not be sent */
};

/* Zeroed memory, or NULL (and a->failed set) when out of memory. */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(struct arena *a);

#define arena_new(a, type) ((type *)arena_alloc((a), sizeof(type)))
#define arena_array(a, type, n) ((type *)arena_alloc((a), sizeof(type) * ((n) ? (n) : 1)))
