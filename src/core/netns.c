/* SPDX-License-Identifier: Apache-2.0 */
/* Run the privileged thread inside another network namespace for one operation. */
#include <fcntl.h>
#include <sched.h>

#include "internal.h"
#include "log.h"

int netns_enter(const char *path, int *ret_saved_fd, struct error *err)
{
	_cleanup_close_ int target = -EBADF, saved = -EBADF;

	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0)
		return error_set(err, errno == ENOENT ? -ENOENT : -EINVAL,
				 "network namespace %s: %m", path);
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0)
		return error_set(err, -EIO, "cannot open own network namespace: %m");
	if (setns(target, CLONE_NEWNET) < 0)
		return error_set(err, errno == EINVAL ? -EINVAL : negative_errno(),
				 "entering network namespace %s: %m", path);
	*ret_saved_fd = TAKE_FD(saved);
	return 0;
}

void netns_leave(int saved_fd)
{
	/* Failing here would leave bpfd in the wrong namespace for every later call. */
	if (setns(saved_fd, CLONE_NEWNET) < 0) {
		log_error_errno(errno, "Cannot return to bpfd's network namespace: %m");
		abort();
	}
	close(saved_fd);
}
