/* SPDX-License-Identifier: Apache-2.0 */
#include "access.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

#define MAX_SYMLINKS 40

static bool in_groups(gid_t gid, const struct caller_cred *c)
{
	if (gid == c->gid)
		return true;
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/* mask: 4 read, 1 search/execute. */
static bool permitted(const struct stat *st, const struct caller_cred *c, unsigned mask)
{
	unsigned bits;

	if (c->uid == 0)
		return true;
	if (st->st_uid == c->uid)
		bits = (st->st_mode >> 6) & 7;
	else if (in_groups(st->st_gid, c))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return (bits & mask) == mask;
}

int open_as_caller(const char *path, const struct caller_cred *cred, char *ret_where,
		   size_t where_size)
{
	char todo[PATH_MAX * 2], done[PATH_MAX];
	unsigned links = 0;
	struct stat st, fst;
	_cleanup_close_ int fd = -EBADF;

	if (path[0] != '/')
		return -EINVAL;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	snprintf(todo, sizeof(todo), "%s", path);
	strcpy(done, "/");

	/* Walk todo component by component; done is the resolved prefix, a directory. */
	for (char *p = todo; *p;) {
		char comp[NAME_MAX + 1], next[PATH_MAX];
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		len = strcspn(p, "/");
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, len);
		comp[len] = 0;
		p += len;

		if (lstat(done, &st) < 0) {
			snprintf(ret_where, where_size, "%s", done);
			return errno == EACCES ? -EPERM : negative_errno();
		}
		if (!permitted(&st, cred, 1)) {
			snprintf(ret_where, where_size, "%s", done);
			return -EACCES;
		}
		if (streq(comp, "."))
			continue;
		if (streq(comp, "..")) {
			char *slash = strrchr(done, '/');

			if (slash && slash != done)
				*slash = 0;
			else
				strcpy(done, "/");
			continue;
		}
		if (snprintf(next, sizeof(next), "%s%s%s", done, streq(done, "/") ? "" : "/",
			     comp) >= (int)sizeof(next))
			return -ENAMETOOLONG;
		if (lstat(next, &st) < 0) {
			snprintf(ret_where, where_size, "%s", next);
			return errno == EACCES ? -EPERM : negative_errno();
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX], rest[PATH_MAX * 2];
			ssize_t n;

			if (++links > MAX_SYMLINKS)
				return -ELOOP;
			n = readlink(next, target, sizeof(target) - 1);
			if (n < 0)
				return negative_errno();
			target[n] = 0;
			/* The rest of the path continues after the link's target. */
			snprintf(rest, sizeof(rest), "%s%s", target, p);
			if (target[0] == '/')
				strcpy(done, "/");
			snprintf(todo, sizeof(todo), "%s", rest);
			p = todo;
			continue;
		}
		snprintf(done, sizeof(done), "%s", next);
	}

	if (lstat(done, &st) < 0)
		return negative_errno();
	if (!permitted(&st, cred, 4)) {
		snprintf(ret_where, where_size, "%s", done);
		return -EACCES;
	}
	fd = open(done, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	/* The file checked must be the file opened: nobody swapped it in between. */
	if (fstat(fd, &fst) < 0)
		return negative_errno();
	if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)
		return -EAGAIN;
	return TAKE_FD(fd);
}
