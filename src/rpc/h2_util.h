/* SPDX-License-Identifier: Apache-2.0 */
/* Small pieces the gRPC server and client share. */
#pragma once

#include <stdint.h>
#include <string.h>
#include <time.h>

#include <nghttp2/nghttp2.h>

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
