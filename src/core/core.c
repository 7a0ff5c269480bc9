/* SPDX-License-Identifier: Apache-2.0 */
/* The core's lifecycle: bpffs, the store, and reconciling the two at start. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"

/* Forget programs whose pin is gone (e.g. bpffs was unmounted) and their links. */
static void reconcile_programs(struct core *c)
{
	struct program_record *progs = NULL;
	size_t n = 0;

	if (store__list_programs(c->store, &progs, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct bpf_prog_info info = {};
		uint32_t len = sizeof(info);
		_cleanup_close_ int fd = bpf_obj_get(progs[i].pin_path);
		struct link_record *links = NULL;
		size_t n_links = 0;

		if (fd >= 0 && bpf_prog_get_info_by_fd(fd, &info, &len) == 0 &&
		    info.id == progs[i].id)
			continue;
		log_warning("Program %u ('%s') lost its pin %s: forgetting it and its links",
			    progs[i].id, progs[i].name, progs[i].pin_path);
		if (store__list_links(c->store, progs[i].id, &links, &n_links) == 0)
			for (size_t j = 0; j < n_links; j++)
				core_detach_link(c, &links[j]);
		link_records_free(links, n_links);
		store__delete_program(c->store, progs[i].id);
	}
	program_records_free(progs, n);
}

/* Forget links whose pin is gone; note kernel link ids that changed underneath. */
static void reconcile_links(struct core *c)
{
	struct link_record *links = NULL;
	size_t n = 0;

	if (store__list_links(c->store, 0, &links, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int fd = links[i].pin_path ? bpf_obj_get(links[i].pin_path) : -1;
		uint32_t kid;

		if (fd < 0) {
			log_warning("Link %u of program %u lost its pin %s: forgetting it",
				    links[i].id, links[i].prog_id,
				    links[i].pin_path ? links[i].pin_path : "(none)");
			store__delete_link(c->store, links[i].id);
			continue;
		}
		kid = kernel_link_id_of_fd(fd);
		if (kid && kid != links[i].kernel_link_id) {
			links[i].kernel_link_id = kid;
			store__put_link(c->store, &links[i], NULL);
		}
	}
	link_records_free(links, n);
}

static bool path_recorded(const char *path, const struct program_record *p, size_t n_p,
			  const struct link_record *l, size_t n_l)
{
	for (size_t i = 0; i < n_p; i++)
		if ((p[i].pin_path && streq(p[i].pin_path, path)) ||
		    (p[i].map_pin_path && streq(p[i].map_pin_path, path)))
			return true;
	for (size_t i = 0; i < n_l; i++)
		if (l[i].pin_path && streq(l[i].pin_path, path))
			return true;
	return false;
}

/* Remove pins no record knows about: they would pin kernel objects nobody can manage. */
static void remove_orphan_pins(struct core *c, const char *sub, bool dirs)
{
	struct program_record *progs = NULL;
	struct link_record *links = NULL;
	size_t n_p = 0, n_l = 0;
	_cleanup_free_ char *dir = NULL;
	struct dirent *de;
	DIR *d;

	if (asprintf(&dir, "%s%s%s", c->bpffs, sub[0] ? "/" : "", sub) < 0)
		return;
	d = opendir(dir);
	if (!d)
		return;
	if (store__list_programs(c->store, &progs, &n_p) < 0 ||
	    store__list_links(c->store, 0, &links, &n_l) < 0)
		goto out;
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL;

		if (de->d_name[0] == '.')
			continue;
		if (!sub[0] && strncmp(de->d_name, "prog_", 5) != 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			break;
		if (path_recorded(path, progs, n_p, links, n_l))
			continue;
		log_warning("Removing %s: pinned by bpfd but not in its state store", path);
		if (dirs)
			pins_remove_dir(path);
		else
			unlink(path);
	}
out:
	closedir(d);
	program_records_free(progs, n_p);
	link_records_free(links, n_l);
}

int core__new(const struct core_config *config, struct core **ret, struct error *err)
{
	struct core *c;
	_cleanup_free_ char *db = NULL, *links = NULL, *maps = NULL;
	int r;

	r = pins_ensure_bpffs(config->bpffs, err);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		return error_set(err, -ENOMEM, "out of memory");
	c->bpffs = strdup(config->bpffs);
	c->state_dir = strdup(config->state_dir);
	c->pin_gid = config->pin_gid;
	if (!c->bpffs || !c->state_dir || asprintf(&links, "%s/links", c->bpffs) < 0 ||
	    asprintf(&maps, "%s/maps", c->bpffs) < 0 ||
	    asprintf(&db, "%s/state.db", c->state_dir) < 0) {
		core__free(c);
		return error_set(err, -ENOMEM, "out of memory");
	}
	if ((r = pins_mkdir(links, 0700)) < 0 || (r = pins_mkdir(maps, 0755)) < 0 ||
	    (r = pins_mkdir(c->state_dir, 0755)) < 0) {
		core__free(c);
		return error_set(err, r, "cannot create bpfd's directories under %s and %s: %s%s",
				 config->bpffs, config->state_dir, strerror(-r),
				 r == -EACCES ? " (before Linux 6.7 a new bpffs belongs to root "
						"whoever mounts it: mount it as root and chown it to "
						"bpfd first, as bpfd-mount-bpffs does)" : "");
	}
	r = store__open(db, &c->store);
	if (r < 0) {
		core__free(c);
		return error_set(err, r, "cannot open state store %s: %s", db,
				 r == -EPROTO ? "written by a newer bpfd" : strerror(-r));
	}
	/* First: a rebuild interrupted by a crash leaves links pinned under temporary names. */
	xdp_dispatchers_recover(c);
	tc_dispatchers_recover(c);
	reconcile_programs(c);
	reconcile_links(c);
	remove_orphan_pins(c, "", false);
	remove_orphan_pins(c, "links", false);
	remove_orphan_pins(c, "maps", true);
	xdp_dispatchers_reconcile(c);
	tc_dispatchers_reconcile(c);
	*ret = c;
	return 0;
}

void core__free(struct core *c)
{
	if (!c)
		return;
	link_watch_free(c->watch);
	store__free(c->store);
	free(c->bpffs);
	free(c->state_dir);
	free(c);
}
