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

/* Per-stream and connection receive windows, both ends: big enough that a 4 MiB message does
 * not crawl. */
#define H2_STREAM_WINDOW (1 << 20)
#define H2_CONNECTION_WINDOW (16 << 20)

/* Queues our SETTINGS and the connection window; -ENOMEM when nghttp2 refuses either. */
static inline int h2_submit_settings(nghttp2_session *session, const nghttp2_settings_entry *iv,
				     size_t n)
{
	int r = nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, iv, n);

	if (r == 0)
		r = nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0,
							  H2_CONNECTION_WINDOW);
	return r == 0 ? 0 : -ENOMEM;
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
