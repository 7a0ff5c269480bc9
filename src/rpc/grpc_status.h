/* SPDX-License-Identifier: Apache-2.0 */
/* gRPC status codes (grpc/doc/statuscodes.md) and the errno -> status mapping bpfd uses. */
#pragma once

#include <stddef.h>

enum grpc_status {
	GRPC_STATUS_OK = 0,
	GRPC_STATUS_CANCELLED = 1,
	GRPC_STATUS_UNKNOWN = 2,
	GRPC_STATUS_INVALID_ARGUMENT = 3,
	GRPC_STATUS_DEADLINE_EXCEEDED = 4,
	GRPC_STATUS_NOT_FOUND = 5,
	GRPC_STATUS_ALREADY_EXISTS = 6,
	GRPC_STATUS_PERMISSION_DENIED = 7,
	GRPC_STATUS_RESOURCE_EXHAUSTED = 8,
	GRPC_STATUS_FAILED_PRECONDITION = 9,
	GRPC_STATUS_ABORTED = 10,
	GRPC_STATUS_OUT_OF_RANGE = 11,
	GRPC_STATUS_UNIMPLEMENTED = 12,
	GRPC_STATUS_INTERNAL = 13,
	GRPC_STATUS_UNAVAILABLE = 14,
	GRPC_STATUS_DATA_LOSS = 15,
	GRPC_STATUS_UNAUTHENTICATED = 16,
};

/* "INVALID_ARGUMENT" etc.; "UNKNOWN" for values outside the table. */
const char *grpc_status_to_string(int status);
/* Inverse of the above; -EINVAL for unknown names. */
int grpc_status_from_string(const char *s);

/*
 * Core functions return a negative errno whose meaning bpfd fixes (DESIGN.md, API.md):
 *   EINVAL, EBADMSG            -> INVALID_ARGUMENT
 *   ENOENT, ENODEV, ESRCH      -> NOT_FOUND
 *   EEXIST                     -> ALREADY_EXISTS
 *   EACCES                     -> PERMISSION_DENIED
 *   ENOSPC, EMFILE, E2BIG, EMSGSIZE, EUSERS -> RESOURCE_EXHAUSTED
 *   EPERM, EOPNOTSUPP, EBUSY, ENOTSUP, ENOSYS(kernel) -> FAILED_PRECONDITION
 *   EPROTONOSUPPORT            -> UNIMPLEMENTED
 *   ESHUTDOWN                  -> UNAVAILABLE
 *   ETIMEDOUT                  -> DEADLINE_EXCEEDED
 *   anything else              -> INTERNAL
 */
int grpc_status_from_errno(int negative_errno);

/*
 * grpc-message percent-encoding (gRPC over HTTP/2, "Percent-Encoded"): bytes outside
 * 0x20..0x7e and '%' itself travel as "%XX". Shared by the server (encode) and the client
 * (decode).
 *
 * grpc_percent_encode() writes at most max_len encoded bytes (0: no limit) and, when it has to
 * cut, cuts before a whole UTF-8 sequence, never inside one or inside an escape, so a long
 * message (a verifier log tail) cannot exceed a client's metadata limit.
 * grpc_percent_decode() decodes len bytes of s; a '%' not followed by two hex digits is kept
 * as is, as the spec asks. Both return 0 or -ENOMEM and a NUL-terminated malloc'd string.
 */
int grpc_percent_encode(const char *s, size_t max_len, char **ret);
int grpc_percent_decode(const char *s, size_t len, char **ret);
