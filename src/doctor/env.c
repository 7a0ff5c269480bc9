/* SPDX-License-Identifier: Apache-2.0 */
/* File access through the doctor's root: the live system ("") or a fixture tree. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "doctor-internal.h"

static int full_path(const struct doctor *d, const char *path, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s", d->root, path);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int doctor_read_file(const struct doctor *d, const char *path, size_t max, char **ret)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	char p[4096];
	size_t len = 0;
	int r;

	r = full_path(d, path, p, sizeof(p));
	if (r < 0)
		return r;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	while (len < max) {
		ssize_t n = read(fd, buf + len, max - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	*ret = TAKE_PTR(buf);
	return 0;
}

int doctor_read_line(const struct doctor *d, const char *path, char *buf, size_t size)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = doctor_read_file(d, path, 4096, &s);
	if (r < 0)
		return r;
	s[strcspn(s, "\n")] = 0;
	snprintf(buf, size, "%s", s);
	return 0;
}

int doctor_read_long(const struct doctor *d, const char *path, long long *ret)
{
	char buf[64], *end;
	long long v;
	int r;

	r = doctor_read_line(d, path, buf, sizeof(buf));
	if (r < 0)
		return r;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	*ret = v;
	return 0;
}

bool doctor_exists(const struct doctor *d, const char *path)
{
	char p[4096];
	struct stat st;

	return full_path(d, path, p, sizeof(p)) == 0 && stat(p, &st) == 0;
}

/*
 * /dev/kmsg gives one record per read(): "PRIO,SEQ,USEC,FLAGS;MESSAGE\n" plus " KEY=VALUE"
 * continuation lines. A fixture is a regular file of such records, so records are split on
 * newlines in both cases. Opened non-blocking: the end of the log is EAGAIN.
 */
int doctor_kmsg_foreach(const struct doctor *d, void (*fn)(struct doctor *d, const char *msg))
{
	_cleanup_close_ int fd = -EBADF;
	char p[4096], rec[8192 + 1];

	if (full_path(d, "/dev/kmsg", p, sizeof(p)) < 0)
		return -ENAMETOOLONG;
	fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *line, *save = NULL;

		if (n < 0 && (errno == EINTR || errno == EPIPE))
			continue; /* EPIPE: records were overwritten while we read; go on */
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break;
		rec[n] = 0;
		for (line = strtok_r(rec, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *msg;

			if (line[0] == ' ')
				continue;
			msg = strchr(line, ';');
			fn((struct doctor *)d, msg ? msg + 1 : line);
		}
	}
	return 0;
}

static void gz_lines(struct doctor *d, gzFile gz, void (*fn)(struct doctor *d, const char *line))
{
	char line[1024];

	while (gzgets(gz, line, sizeof(line))) {
		line[strcspn(line, "\n")] = 0;
		fn(d, line);
	}
}

int doctor_config_foreach(struct doctor *d, void (*fn)(struct doctor *d, const char *line))
{
	char p[4096], rel[256];
	gzFile gz;

	/* /proc/config.gz is this kernel's own; /boot/config-RELEASE is what the distribution
	 * says it built, which is the same unless someone rebuilt the kernel. */
	snprintf(rel, sizeof(rel), "/boot/config-%s", d->f.release);
	const char *candidates[] = { "/proc/config.gz", rel };

	for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
		if (i == 1 && !d->f.release[0])
			break;
		if (full_path(d, candidates[i], p, sizeof(p)) < 0)
			continue;
		/* gzopen reads uncompressed files transparently. */
		gz = gzopen(p, "rbe");
		if (!gz)
			continue;
		snprintf(d->f.config_source, sizeof(d->f.config_source), "%s", candidates[i]);
		gz_lines(d, gz, fn);
		gzclose(gz);
		return 0;
	}
	return -ENOENT;
}

const char *errno_name(int error)
{
	static __thread char buf[32];
	const char *s;

	if (error < 0)
		error = -error;
	s = strerrorname_np(error);
	if (s)
		return s;
	if (error == 524)
		return "ENOTSUPP"; /* the kernel's internal "not supported", leaks out of bpf() */
	snprintf(buf, sizeof(buf), "errno %d", error);
	return buf;
}

int errno_from_name(const char *s)
{
	if (streq(s, "0") || streq(s, "OK"))
		return 0;
	if (streq(s, "ENOTSUPP"))
		return -524;
	for (int e = 1; e < 200; e++) {
		const char *n = strerrorname_np(e);

		if (n && streq(n, s))
			return -e;
	}
	return 1; /* not an errno: callers treat a positive result as invalid */
}
