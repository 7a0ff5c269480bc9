/* SPDX-License-Identifier: Apache-2.0 */
/* Small pieces the gRPC server and client share. */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <nghttp2/nghttp2.h>

#include "macro.h"

/* CLOCK_MONOTONIC in milliseconds: deadlines and idle timers. */
static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* An nghttp2 header from a string literal name and a C string value. */
#define NV(n, v)                                                                                   \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE     \
	}

/* Sends buf[*off..len) without blocking; returns 0 with *off == len when all of it went, 0 with
 * *off < len when the socket would block (the caller polls for POLLOUT), or -errno. */
static inline int h2_send_pending(int fd, const uint8_t *buf, size_t *off, size_t len)
{
	while (*off < len) {
		ssize_t n = send(fd, buf + *off, len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return negative_errno();
		}
		*off += (size_t)n;
	}
	return 0;
}
