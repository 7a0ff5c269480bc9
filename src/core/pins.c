/* SPDX-License-Identifier: Apache-2.0 */
/* The pin layout on bpfd's bpffs. The contract is written down in docs/pins.md. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "internal.h"
#include "log.h"

char *pin_path_program(const struct core *c, uint32_t prog_id)
{
	char *p;

	return asprintf(&p, "%s/prog_%u", c->bpffs, prog_id) < 0 ? NULL : p;
}

char *pin_path_link(const struct core *c, uint32_t link_id)
{
	char *p;

	return asprintf(&p, "%s/links/%u", c->bpffs, link_id) < 0 ? NULL : p;
}

char *pin_path_maps_dir(const struct core *c, uint32_t owner_prog_id)
{
	char *p;

	return asprintf(&p, "%s/maps/%u", c->bpffs, owner_prog_id) < 0 ? NULL : p;
}

char *pin_path_map(const char *dir, const char *map_name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, map_name) < 0)
		return NULL;
	/* bpffs refuses '.' in names (EPERM), and internal maps are "obj.rodata". */
	for (char *s = p + strlen(dir) + 1; *s; s++)
		if (*s == '.')
			*s = '_';
	return p;
}

int pins_mkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return negative_errno();
	return 0;
}

static int mkdir_parents(const char *path, mode_t mode)
{
	_cleanup_free_ char *copy = strdup(path);
	int r;

	if (!copy)
		return -ENOMEM;
	for (char *s = copy + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		r = pins_mkdir(copy, mode);
		*s = '/';
		if (r < 0)
			return r;
	}
	return pins_mkdir(copy, mode);
}

int pins_ensure_bpffs(const char *path, struct error *err)
{
	struct statfs sfs;
	int r;

	r = mkdir_parents(path, 0755);
	if (r < 0)
		return error_set(err, r, "cannot create bpffs mount point %s: %s", path, strerror(-r));
	if (statfs(path, &sfs) < 0)
		return error_set(err, negative_errno(), "statfs %s: %m", path);
	if (sfs.f_type == BPF_FS_MAGIC)
		return 0;
	/* Mounted by bpfd and never unmounted by it: pins must outlive the daemon. */
	if (mount("bpffs", path, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") < 0)
		return error_set(err, negative_errno(), "cannot mount bpffs on %s: %m", path);
	log_info("Mounted bpffs on %s", path);
	return 0;
}

int pins_pin_fd(const struct core *c, int fd, const char *path, mode_t mode)
{
	if (bpf_obj_pin(fd, path) < 0)
		return negative_errno();
	if (chmod(path, mode) < 0 ||
	    (c->pin_gid != (gid_t)-1 && chown(path, (uid_t)-1, c->pin_gid) < 0)) {
		int r = negative_errno();

		unlink(path);
		return r;
	}
	return 0;
}

int pins_remove_dir(const char *dir)
{
	_cleanup_close_ int dfd = -EBADF;
	DIR *d;
	struct dirent *de;
	int r = 0;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : negative_errno();
	d = fdopendir(dfd);
	if (!d)
		return negative_errno();
	TAKE_FD(dfd);
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		/* Pins, and empty directories used as markers (libxdp views). */
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 &&
		    (errno != EISDIR || unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0) &&
		    errno != ENOENT)
			r = negative_errno();
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		r = negative_errno();
	return r;
}
