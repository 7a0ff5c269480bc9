/* SPDX-License-Identifier: Apache-2.0 */
#include "caps.h"

#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* What bpfd's privileged thread uses each capability for (docs/capabilities.md). */
static const struct {
	int cap;
	const char *name;
	const char *without;
} caps_used[] = {
	{ CAP_BPF, "CAP_BPF", "no program can be loaded and no map created (kernels >= 5.8)" },
	{ CAP_PERFMON, "CAP_PERFMON",
	  "tracepoint, kprobe, uprobe and fentry programs cannot be loaded or attached" },
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN", "XDP, TC and TCX programs cannot be attached" },
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN",
	  "bpffs and tracefs cannot be mounted, network namespaces not entered, and List/Get "
	  "cannot see programs by id" },
	{ CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH",
	  "tracepoint ids cannot be read from tracefs (root-only), so tracepoints cannot be "
	  "attached" },
};

static int cap_last_cap(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = 40;

	if (f && fscanf(f, "%d", &last) != 1)
		last = 40;
	return last;
}

static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return syscall(SYS_capget, &hdr, data) < 0 ? negative_errno() : 0;
}

static int caps_set(struct __user_cap_data_struct data[2])
{
	/* pid 0: this thread only. glibc's capset wrapper is not declared; the syscall is. */
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return syscall(SYS_capset, &hdr, data) < 0 ? negative_errno() : 0;
}

int caps_drop_thread(void)
{
	struct __user_cap_data_struct data[2] = {};
	int last = cap_last_cap();

	/* The bounding set first: dropping from it needs CAP_SETPCAP, gone after capset. */
	for (int cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return negative_errno();
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return negative_errno();
	return caps_set(data);
}

int caps_drop_one(int cap)
{
	struct __user_cap_data_struct data[2];
	uint32_t bit = 1u << (cap % 32);
	int r;

	if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
		return negative_errno();
	r = caps_get(data);
	if (r < 0)
		return r;
	data[cap / 32].effective &= ~bit;
	data[cap / 32].permitted &= ~bit;
	data[cap / 32].inheritable &= ~bit;
	/* Leaving the permitted set removes it from the ambient set too. */
	return caps_set(data);
}

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

int caps_self_check(void)
{
	struct __user_cap_data_struct data[2];
	int r = caps_get(data);

	if (r < 0)
		return log_error_errno(r, "Cannot read bpfd's capabilities: %m");
	if (!has_cap(data, CAP_BPF) && !has_cap(data, CAP_SYS_ADMIN))
		return log_error_errno(-EPERM,
				       "bpfd has neither CAP_BPF nor CAP_SYS_ADMIN: it cannot load "
				       "any program. Grant CAP_BPF (kernels >= 5.8) or CAP_SYS_ADMIN "
				       "(older kernels), e.g. AmbientCapabilities= in bpfd.service");
	for (size_t i = 0; i < ELEMENTSOF(caps_used); i++) {
		if (has_cap(data, caps_used[i].cap))
			continue;
		/* CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON on every kernel. */
		if ((caps_used[i].cap == CAP_BPF || caps_used[i].cap == CAP_PERFMON) &&
		    has_cap(data, CAP_SYS_ADMIN))
			continue;
		log_warning("bpfd lacks %s: %s", caps_used[i].name, caps_used[i].without);
	}
	return 0;
}
