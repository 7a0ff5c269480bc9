/* SPDX-License-Identifier: Apache-2.0 */
/* gRPC status codes (grpc/doc/statuscodes.md) and the errno -> status mapping bpfd uses. */
#pragma once

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
