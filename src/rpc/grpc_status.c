/* SPDX-License-Identifier: Apache-2.0 */
#include "grpc_status.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

static const char *const status_names[] = {
	[GRPC_STATUS_OK] = "OK",
	[GRPC_STATUS_CANCELLED] = "CANCELLED",
	[GRPC_STATUS_UNKNOWN] = "UNKNOWN",
	[GRPC_STATUS_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
	[GRPC_STATUS_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
	[GRPC_STATUS_NOT_FOUND] = "NOT_FOUND",
	[GRPC_STATUS_ALREADY_EXISTS] = "ALREADY_EXISTS",
	[GRPC_STATUS_PERMISSION_DENIED] = "PERMISSION_DENIED",
	[GRPC_STATUS_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
	[GRPC_STATUS_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
	[GRPC_STATUS_ABORTED] = "ABORTED",
	[GRPC_STATUS_OUT_OF_RANGE] = "OUT_OF_RANGE",
	[GRPC_STATUS_UNIMPLEMENTED] = "UNIMPLEMENTED",
	[GRPC_STATUS_INTERNAL] = "INTERNAL",
	[GRPC_STATUS_UNAVAILABLE] = "UNAVAILABLE",
	[GRPC_STATUS_DATA_LOSS] = "DATA_LOSS",
	[GRPC_STATUS_UNAUTHENTICATED] = "UNAUTHENTICATED",
};

const char *grpc_status_to_string(int status)
{
	if (status < 0 || (size_t)status >= ELEMENTSOF(status_names))
		return "UNKNOWN";
	return status_names[status];
}

int grpc_status_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(status_names); i++)
		if (streq(status_names[i], s))
			return (int)i;
	return -EINVAL;
}

int grpc_status_from_errno(int negative_errno)
{
	int e = negative_errno < 0 ? -negative_errno : negative_errno;

	/* An if-chain, not a switch: ENOTSUP and EOPNOTSUPP are the same value on Linux. */
	if (e == EINVAL || e == EBADMSG)
		return GRPC_STATUS_INVALID_ARGUMENT;
	if (e == ENOENT || e == ENODEV || e == ESRCH)
		return GRPC_STATUS_NOT_FOUND;
	if (e == EEXIST)
		return GRPC_STATUS_ALREADY_EXISTS;
	if (e == EACCES)
		return GRPC_STATUS_PERMISSION_DENIED;
	if (e == ENOSPC || e == EMFILE || e == E2BIG || e == EMSGSIZE || e == EUSERS)
		return GRPC_STATUS_RESOURCE_EXHAUSTED;
	if (e == EPERM || e == EOPNOTSUPP || e == EBUSY || e == ENOTSUP || e == ENOSYS)
		return GRPC_STATUS_FAILED_PRECONDITION;
	if (e == EPROTONOSUPPORT)
		return GRPC_STATUS_UNIMPLEMENTED;
	if (e == ESHUTDOWN)
		return GRPC_STATUS_UNAVAILABLE;
	if (e == ETIMEDOUT)
		return GRPC_STATUS_DEADLINE_EXCEEDED;
	return GRPC_STATUS_INTERNAL;
}

static bool byte_unreserved(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e && c != '%';
}

/* Length of the UTF-8 sequence starting with c; 1 for anything that does not start one. */
static size_t utf8_seq_len(unsigned char c)
{
	if (c >= 0xf0 && c <= 0xf7)
		return 4;
	if (c >= 0xe0)
		return c <= 0xef ? 3 : 1;
	if (c >= 0xc0)
		return 2;
	return 1;
}

int grpc_percent_encode(const char *s, size_t max_len, char **ret)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)(s ?: "");
	size_t n = strlen((const char *)p), o = 0;
	char *buf;

	buf = malloc(n * 3 + 1);
	if (!buf)
		return -ENOMEM;

	for (size_t i = 0; i < n;) {
		size_t seq = utf8_seq_len(p[i]), need = 0;

		if (seq > n - i)
			seq = n - i;
		for (size_t k = 0; k < seq; k++)
			need += byte_unreserved(p[i + k]) ? 1 : 3;
		if (max_len && o + need > max_len)
			break;
		for (size_t k = 0; k < seq; k++, i++) {
			if (byte_unreserved(p[i])) {
				buf[o++] = (char)p[i];
			} else {
				buf[o++] = '%';
				buf[o++] = hex[p[i] >> 4];
				buf[o++] = hex[p[i] & 0xf];
			}
		}
	}
	buf[o] = '\0';
	*ret = buf;
	return 0;
}

int grpc_percent_decode(const char *s, size_t len, char **ret)
{
	size_t o = 0;
	char *buf;

	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len && (hi = hex_digit(s[i + 1])) >= 0 &&
		    (lo = hex_digit(s[i + 2])) >= 0) {
			buf[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			buf[o++] = s[i];
		}
	}
	buf[o] = '\0';
	*ret = buf;
	return 0;
}
