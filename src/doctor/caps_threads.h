/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The capability sets of every thread of a process, from /proc/PID/task/TID/status: the
 * "grep Cap /proc/PID/task/..." and "capsh --decode" procedure in one call.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	CAPSET_INH,
	CAPSET_PRM,
	CAPSET_EFF,
	CAPSET_BND,
	CAPSET_AMB,
	_CAPSET_MAX,
};

/* "CapInh", ... */
extern const char *const capset_names[_CAPSET_MAX];

struct thread_capsets {
	pid_t tid;
	char comm[32];
	uint64_t set[_CAPSET_MAX];
};

/* Threads in tid order. root: prefix of /proc ("" for the running system). -ESRCH when the
 * process does not exist, -ENOMEM. */
int caps_threads_read(const char *root, pid_t pid, struct thread_capsets **ret, size_t *ret_n);

static inline bool thread_capsets_empty(const struct thread_capsets *t)
{
	for (int i = 0; i < _CAPSET_MAX; i++)
		if (t->set[i])
			return false;
	return true;
}
