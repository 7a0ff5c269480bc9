/* SPDX-License-Identifier: Apache-2.0 */
#include "caps.h"

#include <linux/capability.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"

static int cap_last_cap(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = 40;

	if (f && fscanf(f, "%d", &last) != 1)
		last = 40;
	return last;
}

int caps_drop_thread(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = {};
	int last = cap_last_cap();

	/* The bounding set first: dropping from it needs CAP_SETPCAP, gone after capset. */
	for (int cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return negative_errno();
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return negative_errno();
	/* pid 0: this thread only. glibc's capset wrapper is not declared; the syscall is. */
	if (syscall(SYS_capset, &hdr, data) < 0)
		return negative_errno();
	return 0;
}
