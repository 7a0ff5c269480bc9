/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfctl's argument conversion: command-line words -> numbers, names, bytes and protobuf
 * messages. Nothing here prints; every function returns 0 or a negative errno (-EINVAL for a
 * malformed word, -ERANGE for a number that does not fit, -ENOMEM) and leaves its ret_*
 * outputs untouched on failure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "bpfman.pb-c.h"

/* A name for a number; tables end with { NULL }. */
struct cli_name {
	const char *name;
	int32_t value;
};

/* API.md: XDP and TC proceed-on verdicts, bpfman program types, image pull policies. */
extern const struct cli_name convert_xdp_proceed_on[];
extern const struct cli_name convert_tc_proceed_on[];
extern const struct cli_name convert_program_types[];
extern const struct cli_name convert_directions[];
extern const struct cli_name convert_pull_policies[];
/* bpfman's type names that are not the kernel's, with the kernel bpf_prog_type they map to. */
extern const struct cli_name convert_kernel_prog_type_aliases[];

/*
 * Numbers: decimal, or hexadecimal with a 0x prefix. No sign on unsigned types, no blanks, no
 * trailing garbage, no empty string: strtoul() accepts all of those ("-1" as ULONG_MAX).
 */
int convert_u32(const char *s, uint32_t *ret);
int convert_i32(const char *s, int32_t *ret);
int convert_u64(const char *s, uint64_t *ret);

/* Exact name from the table, or (when numbers) any int32 number. */
int convert_name(const struct cli_name *names, bool numbers, const char *s, int32_t *ret);
const struct cli_name *convert_name_lookup(const struct cli_name *names, const char *s);
/* The table's name for value, or NULL. */
const char *convert_name_of(const struct cli_name *names, int32_t value);

/* An even number of hex digits (at least two) -> malloc'd bytes in the same order. */
int convert_hex(const char *s, uint8_t **ret, size_t *ret_len);
/* Lowercase hex of len bytes, malloc'd ("" for len 0). */
int convert_to_hex(const uint8_t *data, size_t len, char **ret);

/* "KEY=VALUE" (KEY not empty, VALUE may be empty, split at the first '='); malloc'd copies. */
int convert_kv(const char *s, char **ret_key, char **ret_value);

/*
 * Kernel program types (enum bpf_prog_type): libbpf's names ("sched_cls"), bpfman's aliases
 * (tc, tcx -> sched_cls; uprobe -> kprobe; fentry, fexit -> tracing) or a number.
 */
int convert_kernel_prog_type(const char *s, uint32_t *ret);
/* libbpf's name, or NULL when this libbpf does not know the type. */
const char *convert_kernel_prog_type_name(uint32_t type);

/*
 * "TYPE:FUNC[:ATTACH_FN]" -> a malloc'd LoadInfo (free with protobuf_c_message_free_unpacked).
 * ATTACH_FN is required for fentry/fexit (the kernel function) and lsm (the hook) and refused
 * for every other type. On -EINVAL, *ret_why (when not NULL) says what is wrong.
 */
int convert_program_spec(const char *s, Bpfman__V1__LoadInfo **ret, const char **ret_why);

/* A zeroed, initialized message of type d on the heap, for protobuf_c_message_free_unpacked. */
void *pb_new(const ProtobufCMessageDescriptor *d);
static inline void pb_freep(void *p)
{
	ProtobufCMessage **m = p;

	if (*m)
		protobuf_c_message_free_unpacked(*m, NULL);
}
#define _cleanup_pb_ __attribute__((cleanup(pb_freep)))

/*
 * Appends KEY/VALUE to the map field `field` of msg (a map<string,string> or
 * map<string,bytes>, found through the descriptor, so one helper serves every message).
 * value_len is used for bytes maps; for string maps value must be NUL-terminated.
 */
int pb_map_add(ProtobufCMessage *msg, const char *field, const char *key, const void *value,
	       size_t value_len);
