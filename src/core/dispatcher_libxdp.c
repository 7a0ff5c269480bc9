/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libxdp's view of bpfd's XDP chains. xdp-loader status (libxdp) recognises bpfd's dispatcher by
 * its name, its BTF "dispatcher_version" and its config, but it finds the programs in the slots
 * only through pins libxdp itself would have written:
 *
 *   <bpffs>/xdp/dispatch-<ifindex>-<dispatcher program id>/prog<N>-prog   slot N's extension
 *   <bpffs>/xdp/dispatch-<ifindex>-<dispatcher program id>/prog<N>-link   its freplace link
 *
 * with <bpffs> from LIBXDP_BPFFS. bpfd writes them on its own bpffs after every change, so
 * `LIBXDP_BPFFS=/run/bpfd/fs xdp-loader status` shows bpfd's chains in order. Each revision
 * (a new dispatcher program) gets a new directory; the old one is removed, or its pins would
 * keep the old revision's dispatcher and links alive. libxdp takes an exclusive flock on
 * <bpffs>/xdp around reading and writing these directories, so bpfd takes it too, with a bounded
 * wait: a stuck libxdp user must not stall the daemon. The view is a courtesy: failures are
 * logged, the chain runs regardless.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dispatcher.h"
#include "dispatcher_libxdp.h"
#include "internal.h"
#include "log.h"

#define LOCK_WAIT_MS 500
#define LOCK_STEP_MS 10
#define MAX_LIVE     1024 /* dispatchers that run bpfd chains, one per hook */

/* ---- Pure parts (unit-tested) ---- */

int libxdp_view_dir_name(int ifindex, uint32_t disp_id, bool with_new, char *buf, size_t size)
{
	int n = snprintf(buf, size, LIBXDP_VIEW_PREFIX "%d-%u%s", ifindex, disp_id,
			 with_new ? "-new" : "");

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

bool libxdp_view_owns_name(const char *name)
{
	return strncmp(name, LIBXDP_VIEW_PREFIX, strlen(LIBXDP_VIEW_PREFIX)) == 0;
}

/* Reads a decimal number of at most 10 digits at *s, advancing *s. */
static bool parse_u32(const char **s, uint32_t *ret)
{
	uint64_t v = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*s = p;
	*ret = (uint32_t)v;
	return true;
}

bool libxdp_view_parse_name(const char *name, int *ret_ifindex, uint32_t *ret_disp_id)
{
	const char *s = name;
	uint32_t ifindex, id;

	if (!libxdp_view_owns_name(s))
		return false;
	s += strlen(LIBXDP_VIEW_PREFIX);
	if (!parse_u32(&s, &ifindex) || ifindex > INT32_MAX || *s++ != '-' || !parse_u32(&s, &id) ||
	    *s)
		return false;
	if (ret_ifindex)
		*ret_ifindex = (int)ifindex;
	if (ret_disp_id)
		*ret_disp_id = id;
	return true;
}

bool libxdp_view_is_stale(const char *name, const uint32_t *live, size_t n_live)
{
	uint32_t id;

	if (!libxdp_view_owns_name(name))
		return false;
	if (!libxdp_view_parse_name(name, NULL, &id))
		return true;
	for (size_t i = 0; i < n_live; i++)
		if (live[i] == id)
			return false;
	return true;
}

/* ---- The lock libxdp takes ---- */

/* An exclusive flock on <bpffs>/xdp, waiting at most LOCK_WAIT_MS; returns the fd holding it. */
static int lock_acquire(const char *xdp_dir)
{
	struct timespec step = {.tv_nsec = LOCK_STEP_MS * 1000000L};
	_cleanup_close_ int fd = open(xdp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return negative_errno();
	for (int waited = 0;; waited += LOCK_STEP_MS) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return TAKE_FD(fd);
		if (errno != EWOULDBLOCK && errno != EINTR)
			return negative_errno();
		if (waited >= LOCK_WAIT_MS)
			return -ETIMEDOUT;
		nanosleep(&step, NULL);
	}
}

/* ---- Writing one dispatcher's directory ---- */

static uint32_t prog_id_of_link(int link_fd)
{
	struct bpf_link_info info = {};
	uint32_t len = sizeof(info);

	return bpf_link_get_info_by_fd(link_fd, &info, &len) < 0 ? 0 : info.prog_id;
}

/* Pins slot n's extension and link (the link pinned at link_pin) into dir. */
static int write_slot(struct core *c, const char *dir, size_t n, const char *link_pin)
{
	_cleanup_close_ int link_fd = -EBADF, prog_fd = -EBADF;
	_cleanup_free_ char *prog_path = NULL, *link_path = NULL;
	char name[32];
	uint32_t prog_id;
	int r;

	link_fd = bpf_obj_get(link_pin);
	if (link_fd < 0)
		return negative_errno();
	prog_id = prog_id_of_link(link_fd);
	prog_fd = prog_id ? bpf_prog_get_fd_by_id(prog_id) : -ENOENT;
	if (prog_fd < 0)
		return prog_id ? negative_errno() : -ENOENT;
	snprintf(name, sizeof(name), "prog%zu-prog", n);
	prog_path = dispatcher_path_in(dir, name);
	snprintf(name, sizeof(name), "prog%zu-link", n);
	link_path = dispatcher_path_in(dir, name);
	if (!prog_path || !link_path)
		return -ENOMEM;
	r = pins_pin_fd(c, prog_fd, prog_path, 0600);
	if (r < 0)
		return r;
	return pins_pin_fd(c, link_fd, link_path, 0600);
}

/* An empty directory VIEW_MARK in a view says bpfd wrote it: only those are ever removed, never
 * the directory of a libxdp user pointed at bpfd's bpffs (libxdp reads only its prog<N> pins). */
#define VIEW_MARK "bpfd-view"

static int mark_ours(const char *dir)
{
	_cleanup_free_ char *mark = dispatcher_path_in(dir, VIEW_MARK);

	if (!mark)
		return -ENOMEM;
	return mkdir(mark, 0700) < 0 ? negative_errno() : 0;
}

static bool marked_ours(const char *dir)
{
	_cleanup_free_ char *mark = dispatcher_path_in(dir, VIEW_MARK);

	return mark && access(mark, F_OK) == 0;
}

/* Writes the view of hook's chain (dispatcher disp_fd) as xdp_dir/dispatch-I-D: built under
 * "-new", then renamed, so a crash never leaves a half-written directory libxdp would read. */
static int write_view(struct core *c, const char *xdp_dir, const struct link_record *hook,
		      uint32_t disp_id)
{
	char name[64], tmp_name[64], dir[PATH_MAX], tmp[PATH_MAX];
	struct link_record *chain = NULL;
	size_t n = 0;
	int r;

	if (libxdp_view_dir_name(hook->ifindex, disp_id, false, name, sizeof(name)) < 0 ||
	    libxdp_view_dir_name(hook->ifindex, disp_id, true, tmp_name, sizeof(tmp_name)) < 0)
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s/%s", xdp_dir, name);
	snprintf(tmp, sizeof(tmp), "%s/%s", xdp_dir, tmp_name);
	r = chain_links(c, hook, &chain, &n);
	if (r < 0)
		return r;
	pins_remove_dir(tmp);
	r = pins_mkdir(tmp, 0700);
	if (r >= 0)
		r = mark_ours(tmp);
	for (size_t i = 0; i < n && r >= 0; i++)
		r = chain[i].pin_path ? write_slot(c, tmp, i, chain[i].pin_path) : -ENOENT;
	if (r >= 0) {
		pins_remove_dir(dir); /* the same revision written before */
		if (rename(tmp, dir) < 0)
			r = negative_errno();
	}
	if (r < 0)
		pins_remove_dir(tmp);
	link_records_free(chain, n);
	return r;
}

/* ---- Removing stale directories ---- */

static uint32_t pinned_prog_id(const char *path)
{
	_cleanup_close_ int fd = bpf_obj_get(path);

	return fd < 0 ? 0 : dispatcher_prog_id_of_fd(fd);
}

/* The dispatchers that run bpfd's chains now: the "dispatcher" pin of every hook directory. */
static size_t live_dispatchers(DIR *d, const char *xdp_dir, uint32_t *live, size_t max)
{
	struct dirent *de;
	size_t n = 0;

	rewinddir(d);
	while ((de = readdir(d)) && n < max) {
		char path[PATH_MAX];
		uint32_t id;

		if (de->d_name[0] == '.' || libxdp_view_owns_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/dispatcher", xdp_dir, de->d_name);
		id = pinned_prog_id(path);
		if (id)
			live[n++] = id;
	}
	return n;
}

static void remove_stale(DIR *d, const char *xdp_dir)
{
	_cleanup_free_ uint32_t *live = calloc(MAX_LIVE, sizeof(*live));
	struct dirent *de;
	size_t n_live;

	if (!live)
		return;
	n_live = live_dispatchers(d, xdp_dir, live, MAX_LIVE);
	rewinddir(d);
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		int r;

		if (!libxdp_view_is_stale(de->d_name, live, n_live))
			continue;
		snprintf(path, sizeof(path), "%s/%s", xdp_dir, de->d_name);
		if (!marked_ours(path))
			continue;
		r = pins_remove_dir(path);
		if (r < 0)
			log_warning_errno(r, "libxdp view: removing %s: %m", path);
		else
			log_debug("libxdp view: removed %s", path);
	}
}

/* The view of the chain of hook, unless it is there already. */
static void ensure_view(struct core *c, const char *xdp_dir, const struct link_record *hook)
{
	_cleanup_free_ char *hook_dir = NULL, *disp_pin = NULL, *view = NULL;
	char name[64];
	uint32_t disp_id;
	int r;

	if (dispatcher_hook_name(hook, name, sizeof(name)) < 0 ||
	    !(hook_dir = dispatcher_path_in(xdp_dir, name)) ||
	    !(disp_pin = dispatcher_path_in(hook_dir, "dispatcher")))
		return;
	disp_id = pinned_prog_id(disp_pin);
	if (!disp_id ||
	    libxdp_view_dir_name(hook->ifindex, disp_id, false, name, sizeof(name)) < 0 ||
	    !(view = dispatcher_path_in(xdp_dir, name)) || access(view, F_OK) == 0)
		return;
	r = write_view(c, xdp_dir, hook, disp_id);
	if (r < 0)
		log_warning_errno(r, "libxdp view of the XDP chain of %s: %m", hook->iface);
	else
		log_debug("libxdp view: wrote %s", view);
}

/* Every chain's view that is missing (written before bpfd had views, or a write that failed). */
static void ensure_views(struct core *c, const char *xdp_dir)
{
	struct link_record *links = NULL;
	size_t n = 0;

	if (store__list_links(c->store, 0, &links, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (links[i].type == BPFD_PROG_XDP && xdp_link_is_dispatched(&links[i]))
			ensure_view(c, xdp_dir, &links[i]);
	link_records_free(links, n);
}

/* ---- Entry point ---- */

void libxdp_view_sync(struct core *c, const struct link_record *hook)
{
	_cleanup_free_ char *xdp_dir = NULL, *hook_dir = NULL, *disp_pin = NULL;
	_cleanup_close_ int lock_fd = -EBADF;
	char name[64];
	DIR *d;
	int r;

	if (asprintf(&xdp_dir, "%s/xdp", c->bpffs) < 0)
		return;
	if (hook && dispatcher_hook_name(hook, name, sizeof(name)) == 0) {
		hook_dir = dispatcher_path_in(xdp_dir, name);
		disp_pin = hook_dir ? dispatcher_path_in(hook_dir, "dispatcher") : NULL;
	}
	lock_fd = lock_acquire(xdp_dir);
	if (lock_fd == -ENOENT)
		return; /* no XDP chain ever ran here */
	if (lock_fd < 0) {
		log_warning_errno(lock_fd,
				  "libxdp view: cannot lock %s (%m); xdp-loader status may show "
				  "stale programs until the next change",
				  xdp_dir);
		return;
	}
	if (disp_pin) {
		uint32_t disp_id = pinned_prog_id(disp_pin);

		/* No dispatcher: the chain became empty, its directory goes below. */
		r = disp_id ? write_view(c, xdp_dir, hook, disp_id) : 0;
		if (r < 0)
			log_warning_errno(r, "libxdp view of the XDP chain of %s: %m", hook->iface);
	} else if (!hook) {
		ensure_views(c, xdp_dir);
	}
	d = opendir(xdp_dir);
	if (d) {
		remove_stale(d, xdp_dir);
		closedir(d);
	}
	flock(lock_fd, LOCK_UN);
}
