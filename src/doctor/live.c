/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Measurements that are not file reads, each in a forked child: the child may be killed by a
 * seccomp filter, and mounts it makes live in its own mount namespace, so the caller (bpfd's
 * privileged thread, or bpfctl) and the host are left exactly as they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "doctor-internal.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int live_fork(int (*fn)(void *userdata, int fd), void *userdata, void *buf, size_t size,
	      int timeout_ms, int *ret_signal)
{
	_cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
	int fds[2], status, r = 0;
	long long deadline = now_ms() + timeout_ms;
	size_t got = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return negative_errno();
	rfd = fds[0];
	wfd = fds[1];
	pid = fork();
	if (pid < 0)
		return negative_errno();
	if (pid == 0) {
		/* Never outlive the caller, even if it is killed while waiting. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		safe_close(rfd);
		_exit(fn(userdata, wfd) < 0 ? 1 : 0);
	}
	wfd = safe_close(wfd);
	while (got < size) {
		struct pollfd p = { .fd = rfd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = negative_errno();
			break;
		}
		if (n == 0)
			continue;
		n = read(rfd, (char *)buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				r = negative_errno();
			break;
		}
		got += (size_t)n;
	}
	if (r == -ETIMEDOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return r < 0 ? r : negative_errno();
	if (r < 0)
		return r;
	if (WIFSIGNALED(status)) {
		if (ret_signal)
			*ret_signal = WTERMSIG(status);
		return -ECHILD;
	}
	return (int)got;
}

static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return n;
}

struct securityfs_answer {
	int error;
	char lockdown[128];
	char lsm[256];
};

static int securityfs_child(void *userdata, int fd)
{
	struct securityfs_answer a = {};
	ssize_t n;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("securityfs", "/sys/kernel/security", "securityfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		a.error = -errno;
	} else {
		n = read_small("/sys/kernel/security/lockdown", a.lockdown, sizeof(a.lockdown));
		if (n < 0)
			a.error = (int)n;
		read_small("/sys/kernel/security/lsm", a.lsm, sizeof(a.lsm));
	}
	return write(fd, &a, sizeof(a)) == sizeof(a) ? 0 : -EIO;
}

int live_read_securityfs(char *lockdown, size_t lockdown_size, char *lsm, size_t lsm_size)
{
	struct securityfs_answer a = {};
	int r;

	r = live_fork(securityfs_child, NULL, &a, sizeof(a), 5000, NULL);
	if (r < 0)
		return r;
	if (r != sizeof(a))
		return -EIO;
	if (a.error < 0)
		return a.error;
	a.lockdown[strcspn(a.lockdown, "\n")] = 0;
	a.lsm[strcspn(a.lsm, "\n")] = 0;
	snprintf(lockdown, lockdown_size, "%s", a.lockdown);
	snprintf(lsm, lsm_size, "%s", a.lsm);
	return 0;
}

static int canary_child(void *userdata, int fd)
{
	/* No bpf command has this number: the kernel answers EINVAL after the LSM hook. */
	long r = syscall(__NR_bpf, 0x7fff, NULL, 0);
	int e = r < 0 ? -errno : 0;

	return write(fd, &e, sizeof(e)) == sizeof(e) ? 0 : -EIO;
}

int live_seccomp_canary(bool *ret_killed)
{
	int e = 0, sig = 0, r;

	r = live_fork(canary_child, NULL, &e, sizeof(e), 5000, &sig);
	if (r == -ECHILD && sig == SIGSYS) {
		*ret_killed = true;
		return -ENOSYS;
	}
	if (r != sizeof(e))
		return 0;
	return e;
}
