/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Would this caller be allowed to read that file? bpfd opens bytecode files on behalf of its
 * clients; without this check any member of group bpfd could have bpfd read a file only root
 * may read (the confused deputy).
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct caller_cred {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
};

/*
 * Resolves path (absolute; symlinks followed one component at a time, at most 40) checking
 * that the caller may search every directory and read the file by its mode bits: owner, then
 * group (primary or supplementary), then other, like the kernel's generic_permission() without
 * ACLs. uid 0 may read anything. On success opens the file O_RDONLY|O_CLOEXEC|O_NOFOLLOW and
 * returns the fd after checking it is the inode that was checked. Errors: -EACCES when the
 * caller may not (ret_where names the refused component), -EPERM when bpfd itself cannot
 * look (ret_where names where), -ENOENT, -ELOOP, -EINVAL (not absolute).
 */
int open_as_caller(const char *path, const struct caller_cred *cred, char *ret_where,
		   size_t where_size);
