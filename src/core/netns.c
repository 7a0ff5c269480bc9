/* SPDX-License-Identifier: Apache-2.0 */
/* Run the privileged thread inside another network namespace for one operation. */
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <sys/statfs.h>

#include "internal.h"
#include "log.h"

/* NOT_FOUND, PERMISSION_DENIED or INVALID_ARGUMENT for the client. */
static int errno_to_netns_error(int e)
{
	if (e == ENOENT || e == ENOTDIR)
		return -ENOENT;
	return e == EACCES ? -EACCES : -EINVAL;
}

/* The path comes from an unprivileged client. It is looked at through an O_PATH fd first, so
 * that only a namespace file is ever opened: opening a FIFO would block the privileged thread,
 * opening a device may have side effects. The namespace is then opened through that fd, so the
 * path cannot be swapped in between. */
static int netns_open(const char *path, struct error *err)
{
	_cleanup_close_ int pfd = -EBADF;
	char proc[sizeof("/proc/self/fd/") + 12];
	struct statfs sfs;
	int fd;

	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return error_set(err, errno_to_netns_error(errno), "network namespace %s: %m",
				 path);
	if (fstatfs(pfd, &sfs) < 0)
		return error_set(err, -EINVAL, "network namespace %s: %m", path);
	if (sfs.f_type != NSFS_MAGIC)
		return error_set(
			err, -EINVAL,
			"network namespace %s: not a namespace file (expected a path such as "
			"/run/netns/NAME or /proc/PID/ns/net)",
			path);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno_to_netns_error(errno), "network namespace %s: %m",
				 path);
	return fd;
}

int netns_enter(const char *path, int *ret_saved_fd, struct error *err)
{
	_cleanup_close_ int target = -EBADF, saved = -EBADF;

	target = netns_open(path, err);
	if (target < 0)
		return target;
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
