/* SPDX-License-Identifier: Apache-2.0 */
/* The chain life cycle both dispatchers share, driven by their struct dispatcher_ops: every
 * change builds a new revision and swaps it in (dispatcher_rebuild), attach and detach on top of
 * it, and the start-up reconcile of hook directories no stored link uses. */
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dispatcher.h"
#include "internal.h"
#include "log.h"

/* ---- The rebuild (docs/dispatchers.md, "Every change is a new revision") ---- */

/* For messages: "vh0" (XDP) or "vh0 ingress" (TC) is "%s%s%s" with iface, sep(dir), str(dir). */
static const char *sep(const char *direction)
{
	return direction && direction[0] ? " " : "";
}

static const char *str(const char *s)
{
	return s ?: "";
}

static struct dispatcher_rebuild rebuild_new(const struct dispatcher_ops *ops, struct core *c,
					     const struct link_record *hook)
{
	return (struct dispatcher_rebuild){
		.c = c,
		.ops = ops,
		.hook = hook,
		.disp_fd = -EBADF,
		.old_disp_fd = -EBADF,
		.link_fd = -EBADF,
	};
}

static void rebuild_done(struct dispatcher_rebuild *b, bool ok)
{
	for (size_t i = 0; i < b->n; i++) {
		struct dispatcher_slot *s = &b->slots[i];

		if (s->tmp_pin && !ok)
			unlink(s->tmp_pin);
		free(s->tmp_pin);
		free(s->final_pin);
		if (s->ext_fd >= 0)
			close(s->ext_fd);
		if (s->link_fd >= 0)
			close(s->link_fd);
	}
	if (b->disp_tmp && !ok)
		unlink(b->disp_tmp);
	bpf_object__close(b->disp_obj);
	if (b->old_disp_fd >= 0)
		close(b->old_disp_fd);
	if (b->link_fd >= 0)
		close(b->link_fd);
	free(b->disp_pin);
	free(b->disp_tmp);
	free(b->link_pin);
	free(b->dir);
}

static int inject(const struct dispatcher_rebuild *b, const char *step, struct error *err)
{
	return dispatcher_inject_failure(b->ops->kind, step, err) ? err->code : 0;
}

/* 2. Every program into its slot: the chain's extensions re-attached, new_prog's loaded. */
static int attach_slots(struct dispatcher_rebuild *b, size_t new_idx,
			const struct program_record *new_prog, struct error *err)
{
	uint32_t btf_ids[DISPATCHER_SLOTS];
	const char *kind = b->ops->kind;
	int r;

	r = dispatcher_slot_btf_ids(kind, b->disp_fd, btf_ids, DISPATCHER_SLOTS, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < b->n; i++) {
		struct dispatcher_slot *s = &b->slots[i];
		LIBBPF_OPTS(bpf_link_create_opts, lo, .target_btf_id = btf_ids[i]);

		if (i == new_idx) {
			r = dispatcher_load_extension(kind, new_prog, b->disp_fd, (unsigned)i,
						      &s->ext_fd, err);
			if (r < 0)
				return r;
		} else {
			struct bpf_link_info li = {};
			uint32_t len = sizeof(li);
			_cleanup_close_ int lfd = bpf_obj_get(s->rec.pin_path);

			if (lfd < 0 || bpf_link_get_info_by_fd(lfd, &li, &len) < 0)
				return error_set(err, -EIO,
						 "link %u of this chain has lost its pin %s: %m",
						 s->rec.id, s->rec.pin_path);
			s->ext_fd = bpf_prog_get_fd_by_id(li.prog_id);
			if (s->ext_fd < 0)
				return error_set(err, -EIO, "link %u: its extension program %u: %m",
						 s->rec.id, li.prog_id);
		}
		s->link_fd =
			bpf_link_create(s->ext_fd, b->disp_fd, 0 /* ignored for freplace */, &lo);
		if (s->link_fd < 0) {
			r = error_set(
				err, errno == EPERM ? -EPERM : -EIO,
				"attaching program %u to slot %zu of the new %s dispatcher on "
				"%s%s%s: %m",
				s->rec.prog_id, i, kind, b->hook->iface, sep(b->hook->direction),
				str(b->hook->direction));
			if (r == -EPERM)
				diagnose_eperm(err, "freplace");
			return r;
		}
		s->rec.kernel_link_id = kernel_link_id_of_fd(s->link_fd);
	}
	return inject(b, "attach", err);
}

/* 3. The new dispatcher and links pinned under temporary names in the hook's directory. */
static int pin_temporary(struct dispatcher_rebuild *b, struct error *err)
{
	struct core *c = b->c;
	int r;

	unlink(b->disp_tmp); /* a leftover of a crash */
	r = pins_pin_fd(c, b->disp_fd, b->disp_tmp, 0600);
	if (r < 0)
		return error_set(err, r, "cannot pin the new %s dispatcher at %s: %s", b->ops->kind,
				 b->disp_tmp, strerror(-r));
	for (size_t i = 0; i < b->n; i++) {
		struct dispatcher_slot *s = &b->slots[i];

		s->final_pin = pin_path_link(c, s->rec.id);
		if (!s->final_pin || asprintf(&s->tmp_pin, "%s/new_%u", b->dir, s->rec.id) < 0) {
			s->tmp_pin = NULL;
			return error_set(err, -ENOMEM, "out of memory");
		}
		unlink(s->tmp_pin);
		r = pins_pin_fd(c, s->link_fd, s->tmp_pin, 0600);
		if (r < 0) {
			error_set(err, r, "cannot pin link %u at %s: %s", s->rec.id, s->tmp_pin,
				  strerror(-r));
			free(s->tmp_pin);
			s->tmp_pin = NULL;
			return r;
		}
		s->rec.pin_path = s->final_pin;
	}
	return 0;
}

/* The last program left: no dispatcher without programs (an empty one would still cost every
 * packet a call). */
static int remove_hook(struct dispatcher_rebuild *b, const struct link_record *removed,
		       struct error *err)
{
	const struct dispatcher_ops *ops = b->ops;
	int r;

	r = store__delete_link(b->c->store, removed->id);
	if (r < 0 && r != -ENOENT)
		return error_set(err, r, "state store: deleting link %u: %s", removed->id,
				 strerror(-r));
	ops->remove(b);
	if (removed->pin_path)
		unlink(removed->pin_path);
	pins_remove_dir(b->dir);
	if (ops->released)
		ops->released(b->c, b->hook);
	log_debug("%s dispatcher of %s%s%s removed with its last program", ops->kind,
		  b->hook->iface, sep(b->hook->direction), str(b->hook->direction));
	return 0;
}

int dispatcher_rebuild(const struct dispatcher_ops *ops, struct core *c,
		       const struct link_record *hook, const struct link_record *chain, size_t n,
		       size_t new_idx, const struct program_record *new_prog,
		       const struct link_record *removed, struct error *err)
{
	struct dispatcher_rebuild b = rebuild_new(ops, c, hook);
	const char *dir_sep = sep(hook->direction), *direction = str(hook->direction);
	_cleanup_free_ char *top = dispatcher_path_in(c->bpffs, ops->subdir);
	bool swapped = false, in_tx = false;
	int r;

	if (n > DISPATCHER_SLOTS)
		return error_set(err, -ENOSPC, "a %s chain holds at most %d programs, not %zu",
				 ops->kind, DISPATCHER_SLOTS, n);
	b.dir = dispatcher_hook_dir(ops, c, hook);
	if (!top || !b.dir || !(b.disp_pin = dispatcher_path_in(b.dir, "dispatcher")) ||
	    !(b.disp_tmp = dispatcher_path_in(b.dir, "dispatcher_new"))) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = pins_mkdir(top, 0700)) < 0 || (r = pins_mkdir(b.dir, 0700)) < 0) {
		error_set(err, r, "cannot create %s: %s", b.dir, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		b.slots[i] = (struct dispatcher_slot){
			.rec = chain[i], .ext_fd = -EBADF, .link_fd = -EBADF};
		b.n++;
	}
	if (n == 0) {
		r = remove_hook(&b, removed, err);
		rebuild_done(&b, r >= 0);
		if (r >= 0 && ops->changed)
			ops->changed(c, hook);
		return r;
	}
	r = ops->open_current(&b, err);
	if (r < 0)
		goto out;

	/* 1. The new dispatcher. */
	if ((r = inject(&b, "load", err)) < 0 ||
	    (r = ops->load(chain, n, &b.disp_obj, &b.disp_fd, err)) < 0)
		goto out;
	/* 2, 3. */
	if ((r = attach_slots(&b, new_idx, new_prog, err)) < 0 || (r = pin_temporary(&b, err)) < 0)
		goto out;

	/* 4. Store, swap, commit. */
	r = store__begin(c->store);
	if (r < 0) {
		error_set(err, r, "state store: %s", strerror(-r));
		goto out;
	}
	in_tx = true;
	for (size_t i = 0; i < n && r >= 0; i++)
		r = store__put_link(c->store, &b.slots[i].rec, NULL);
	if (r >= 0 && removed) {
		r = store__delete_link(c->store, removed->id);
		if (r == -ENOENT)
			r = 0;
	}
	if (r < 0) {
		error_set(err, r, "state store: recording the %s chain of %s%s%s: %s", ops->kind,
			  hook->iface, dir_sep, direction, strerror(-r));
		goto out;
	}
	if ((r = inject(&b, "store", err)) < 0 || (r = inject(&b, "swap", err)) < 0 ||
	    (r = ops->swap(&b, err)) < 0)
		goto out;
	swapped = true;
	dispatcher_inject_crash(ops->kind, "crash-swap");
	if ((r = inject(&b, "commit", err)) < 0)
		goto out; /* still in the transaction: rolled back below */
	r = store__commit(c->store);
	in_tx = false;
	if (r < 0) {
		error_set(err, r, "state store: %s", strerror(-r));
		goto out;
	}

	/* 5. The new revision's pins replace the old ones, which frees the previous revision.
	 * A crash before this is finished at the next start (dispatcher_recover). */
	dispatcher_inject_crash(ops->kind, "crash-commit");
	for (size_t i = 0; i < n; i++) {
		struct dispatcher_slot *s = &b.slots[i];

		if (rename(s->tmp_pin, s->final_pin) < 0)
			log_warning_errno(errno, "Renaming %s to %s: %m", s->tmp_pin, s->final_pin);
	}
	/* Last: while dispatcher_new exists, a restart knows step 5 is not finished. */
	if (rename(b.disp_tmp, b.disp_pin) < 0)
		log_warning_errno(errno, "Renaming %s: %m", b.disp_tmp);
	if (removed && removed->pin_path)
		unlink(removed->pin_path);
	log_debug("%s dispatcher of %s%s%s: new revision (program %u) with %zu programs", ops->kind,
		  hook->iface, dir_sep, direction, dispatcher_prog_id_of_fd(b.disp_fd), n);
	rebuild_done(&b, true);
	if (ops->changed)
		ops->changed(c, hook);
	return 0;

out:
	if (in_tx)
		store__rollback(c->store);
	if (swapped)
		ops->swap_back(&b); /* only the commit failed: the previous revision back */
	rebuild_done(&b, false);
	if (n > 0) {
		/* Nothing of bpfd's ran here before: leave no directory (nor what the kind set
		 * up for it) behind. */
		_cleanup_free_ char *hd = dispatcher_hook_dir(ops, c, hook),
				    *disp = hd ? dispatcher_path_in(hd, "dispatcher") : NULL;

		if (disp && access(disp, F_OK) < 0) {
			pins_remove_dir(hd);
			if (ops->released)
				ops->released(c, hook);
		}
	}
	return r < 0 ? r : -EIO;
}

/* ---- Attach, detach ---- */

/* A hook directory's name holds only a hash of the namespace path: two paths (chosen by
 * clients) could share one. The second chain is refused, so one chain's rebuild never touches
 * another's pins. */
static int hook_dir_taken(const struct dispatcher_ops *ops, struct core *c,
			  const struct link_record *spec, struct error *err)
{
	char want[96], name[96];
	struct link_record *links = NULL;
	size_t n = 0;
	int r;

	if (ops->hook_name(spec, want, sizeof(want)) < 0)
		return error_set(err, -ENAMETOOLONG, "hook name too long");
	r = store__list_links(c->store, 0, &links, &n);
	if (r < 0)
		return error_set(err, r, "state store: %s", strerror(-r));
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct link_record *l = &links[i];

		if (l->type != ops->type || !l->iface || str_eq_null(l->netns, spec->netns) ||
		    ops->hook_name(l, name, sizeof(name)) < 0 || !streq(name, want))
			continue;
		r = error_set(err, -EBUSY,
			      "the pin directory of this hook (%s/%s) is already used by link %u in "
			      "network namespace %s: their paths hash alike; use another path to "
			      "the same namespace (e.g. /proc/PID/ns/net)",
			      ops->subdir, want, l->id, l->netns ? l->netns : "(bpfd's own)");
	}
	link_records_free(links, n);
	return r;
}

int dispatcher_attach(const struct dispatcher_ops *ops, struct core *c,
		      const struct program_record *prog, const struct link_record *spec,
		      uint32_t *ret_link_id, struct error *err)
{
	const char *dir_sep = sep(spec->direction), *direction = str(spec->direction);
	struct link_record *chain = NULL, *want = NULL;
	size_t n = 0, idx;
	uint32_t link_id;
	int r;

	r = hook_dir_taken(ops, c, spec, err);
	if (r < 0)
		return r;
	r = chain_links(c, spec, &chain, &n);
	if (r < 0)
		return error_set(err, r, "state store: %s", strerror(-r));
	for (size_t i = 0; i < n; i++)
		if (!dispatcher_link_is_dispatched(&chain[i], ops->type)) {
			r = error_set(
				err, -EBUSY,
				"interface %s%s%s runs %s program %u directly (bpfd link %u), "
				"attached when program extensions were unavailable; detach it "
				"and attach it again to chain programs there",
				spec->iface, dir_sep, direction, ops->kind, chain[i].prog_id,
				chain[i].id);
			goto out;
		}
	if (n >= DISPATCHER_SLOTS) {
		r = error_set(err, -ENOSPC,
			      "interface %s%s%s already runs %zu %s programs, the most one "
			      "dispatcher chain holds; detach one first",
			      spec->iface, dir_sep, direction, n, ops->kind);
		goto out;
	}
	r = store__allocate_link_id(c->store, &link_id);
	if (r < 0) {
		error_set(err, r, "state store: %s", strerror(-r));
		goto out;
	}
	want = calloc(n + 1, sizeof(*want));
	if (!want) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	idx = chain_insert_index(chain, n, spec->priority);
	for (size_t i = 0, j = 0; i <= n; i++)
		want[i] = i == idx ? *spec : chain[j++];
	want[idx].id = link_id;
	want[idx].prog_id = prog->id;
	want[idx].seq = 0;
	want[idx].kernel_link_id = 0;
	want[idx].pin_path = NULL;
	r = dispatcher_rebuild(ops, c, spec, want, n + 1, idx, prog, NULL, err);
	if (r >= 0)
		*ret_link_id = link_id;
out:
	free(want); /* shallow: the records belong to chain and spec */
	link_records_free(chain, n);
	return r;
}

/* The interface is gone (and what bpfd had on it with it): forget l, and the hook's pins with
 * the chain's last link. */
static int forget_link(const struct dispatcher_ops *ops, struct core *c,
		       const struct link_record *l, size_t n_left, struct error *err)
{
	int r = store__delete_link(c->store, l->id);

	if (r < 0 && r != -ENOENT)
		return error_set(err, r, "state store: %s", strerror(-r));
	if (l->pin_path)
		unlink(l->pin_path);
	if (n_left == 0) {
		_cleanup_free_ char *dir = dispatcher_hook_dir(ops, c, l);

		if (dir)
			pins_remove_dir(dir);
	}
	if (ops->forgotten)
		ops->forgotten(c, l, n_left);
	return 0;
}

int dispatcher_forget(const struct dispatcher_ops *ops, struct core *c, const struct link_record *l,
		      struct error *err)
{
	struct link_record *chain = NULL;
	size_t n = 0, n_left = 0;
	int r;

	r = chain_links(c, l, &chain, &n);
	if (r < 0)
		return error_set(err, r, "state store: %s", strerror(-r));
	for (size_t i = 0; i < n; i++)
		n_left += chain[i].id != l->id;
	r = forget_link(ops, c, l, n_left, err);
	link_records_free(chain, n);
	return r;
}

int dispatcher_detach(const struct dispatcher_ops *ops, struct core *c, const struct link_record *l,
		      struct error *err)
{
	_cleanup_close_ int saved_ns = -EBADF;
	struct link_record *chain = NULL, *want = NULL;
	size_t n = 0, k = 0;
	int r;

	r = chain_links(c, l, &chain, &n);
	if (r < 0)
		return error_set(err, r, "state store: %s", strerror(-r));
	want = calloc(n ? n : 1, sizeof(*want));
	if (!want) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (chain[i].id != l->id)
			want[k++] = chain[i];
	if (l->netns) {
		struct error ns_err = {};

		r = netns_enter(l->netns, &saved_ns, &ns_err);
		if (r == -ENOENT || r == -EINVAL) {
			/* The namespace is gone, and with it the interface (or its path is no
			 * longer a namespace: unmounted by hand). */
			r = forget_link(ops, c, l, k, err);
			goto out;
		}
		if (r < 0) {
			error_set(err, r, "%s", ns_err.message);
			goto out;
		}
	}
	if (!dispatcher_iface_exists(l))
		r = forget_link(ops, c, l, k, err);
	else
		r = dispatcher_rebuild(ops, c, l, want, k, SIZE_MAX, NULL, l, err);
out:
	free(want);
	link_records_free(chain, n);
	if (saved_ns >= 0)
		netns_leave(TAKE_FD(saved_ns));
	return r;
}

/* ---- Start-up reconcile ---- */

/* ---- A rebuild interrupted by a crash (docs/dispatchers.md, "After a crash") ---- */

static const struct link_record *link_by_id(const struct link_record *links, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (links[i].id == id)
			return &links[i];
	return NULL;
}

/* The link id of a temporary link pin "new_<id>", 0 for any other name. */
static uint32_t temporary_link_id(const char *name)
{
	char *end;
	unsigned long v;

	if (strncmp(name, "new_", 4) != 0 || !name[4])
		return 0;
	errno = 0;
	v = strtoul(name + 4, &end, 10);
	return errno || *end || v == 0 || v > UINT32_MAX ? 0 : (uint32_t)v;
}

/* Whether the store committed the revision pinned under temporary names in dir: the records
 * then carry the kernel ids of its links (every link of a chain gets a new one). */
static bool temporary_revision_committed(const char *dir, const struct link_record *links, size_t n)
{
	DIR *d = opendir(dir);
	bool committed = false, mismatch = false;
	struct dirent *de;

	while (d && !mismatch && (de = readdir(d))) {
		uint32_t id = temporary_link_id(de->d_name);
		const struct link_record *l = id ? link_by_id(links, n, id) : NULL;
		_cleanup_free_ char *path = NULL;
		_cleanup_close_ int fd = -EBADF;

		if (!id)
			continue;
		path = dispatcher_path_in(dir, de->d_name);
		fd = path ? bpf_obj_get(path) : -EBADF;
		if (l && fd >= 0 && kernel_link_id_of_fd(fd) == l->kernel_link_id)
			committed = true;
		else
			mismatch = true;
	}
	if (d)
		closedir(d);
	return committed && !mismatch;
}

/* Step 5 of a committed rebuild: the temporary pins over the old ones. */
static void finish_renames(const char *dir, const struct link_record *links, size_t n)
{
	_cleanup_free_ char *tmp = dispatcher_path_in(dir, "dispatcher_new"),
			    *disp = dispatcher_path_in(dir, "dispatcher");
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		const struct link_record *l = link_by_id(links, n, temporary_link_id(de->d_name));

		if (l && l->pin_path && renameat(dirfd(d), de->d_name, AT_FDCWD, l->pin_path) < 0)
			log_warning_errno(errno, "Renaming %s/%s to %s: %m", dir, de->d_name,
					  l->pin_path);
	}
	if (d)
		closedir(d);
	if (tmp && disp && rename(tmp, disp) < 0)
		log_warning_errno(errno, "Renaming %s: %m", tmp);
}

/* Whether the hook runs the revision pinned as dispatcher_new. With put_back, the previous one
 * (dispatcher, whose links are still pinned) replaces it: the swap happened but not the commit,
 * and the store names the previous revision. */
static bool runs_new_revision(const struct dispatcher_ops *ops, struct core *c,
			      const struct link_record *hook, const char *dir, bool put_back)
{
	struct dispatcher_rebuild b = rebuild_new(ops, c, hook);
	_cleanup_close_ int saved_ns = -EBADF;
	struct error err = {};
	bool ran_new = false;

	b.dir = strdup(dir);
	b.disp_pin = dispatcher_path_in(dir, "dispatcher_new");
	if (!b.dir || !b.disp_pin)
		goto out;
	if (hook->netns && netns_enter(hook->netns, &saved_ns, &err) < 0)
		goto out;
	/* With the new revision's pin as "the running one", open_current says whether the hook
	 * runs it; then the swap puts the previous revision (dispatcher) in its place. */
	if (ops->open_current(&b, &err) < 0 || !b.replace)
		goto out;
	ran_new = true;
	if (!put_back)
		goto out;
	free(b.disp_pin);
	b.disp_pin = dispatcher_path_in(dir, "dispatcher");
	b.disp_fd = b.disp_pin ? bpf_obj_get(b.disp_pin) : -EBADF;
	if (b.disp_fd < 0 || ops->swap(&b, &err) < 0)
		log_error("%s dispatcher of %s%s%s: cannot put back the revision the state store "
			  "names after an interrupted rebuild: %s",
			  ops->kind, hook->iface, sep(hook->direction), str(hook->direction),
			  err.message[0] ? err.message : "its pin is gone");
out:
	if (b.disp_fd >= 0)
		close(b.disp_fd);
	rebuild_done(&b, true);
	if (saved_ns >= 0)
		netns_leave(TAKE_FD(saved_ns));
	return ran_new;
}

/* Whether dir holds link pins of an unfinished rebuild (new_<id>). */
static bool has_temporary_link_pins(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	while (d && !found && (de = readdir(d)))
		found = !strncmp(de->d_name, "new_", 4);
	if (d)
		closedir(d);
	return found;
}

/* Whether dir holds pins of an unfinished rebuild (dispatcher_new, new_<id>). */
static bool has_temporary_pins(const char *dir)
{
	_cleanup_free_ char *tmp = dispatcher_path_in(dir, "dispatcher_new");

	return (tmp && access(tmp, F_OK) == 0) || has_temporary_link_pins(dir);
}

/* Temporary pins of a rebuild that is over (or never got past step 3). */
static void drop_temporary_pins(const char *dir)
{
	_cleanup_free_ char *tmp = dispatcher_path_in(dir, "dispatcher_new");
	DIR *d = opendir(dir);
	struct dirent *de;

	if (tmp)
		unlink(tmp);
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, "new_", 4))
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
}

/* A hook whose dir holds a new revision under temporary names: bpfd died during a rebuild.
 * Committed: the renames are finished. Swapped but not committed: the previous revision goes
 * back on the hook. Either way the hook then runs what the store says. */
static void recover_hook(const struct dispatcher_ops *ops, struct core *c,
			 const struct link_record *hook, const char *dir,
			 const struct link_record *links, size_t n)
{
	const char *how;

	if (!has_temporary_link_pins(dir)) {
		/* Only dispatcher_new is left: every link was renamed (step 5 but its last
		 * rename), or the rebuild died pinning it (step 3), before any swap. */
		if (runs_new_revision(ops, c, hook, dir, false)) {
			finish_renames(dir, links, n);
			how = "committed: finished its renames";
		} else {
			how = "never swapped in: dropped";
		}
	} else if (temporary_revision_committed(dir, links, n)) {
		finish_renames(dir, links, n);
		how = "committed: finished its renames";
	} else if (runs_new_revision(ops, c, hook, dir, true)) {
		how = "swapped in but not committed: the previous revision is back on the hook";
	} else {
		how = "never swapped in: dropped";
	}
	drop_temporary_pins(dir);
	log_warning("%s dispatcher of %s%s%s: found a rebuild interrupted by a crash (%s), %s",
		    ops->kind, hook->iface, sep(hook->direction), str(hook->direction), dir, how);
}

void dispatcher_recover(const struct dispatcher_ops *ops, struct core *c)
{
	struct link_record *links = NULL;
	size_t n = 0;

	if (store__list_links(c->store, 0, &links, &n) < 0)
		return;
	/* By the records' hooks, not their pins: a committed first revision has no final pin
	 * yet. An uncommitted first revision has no record; its directory is an orphan for
	 * dispatcher_reconcile. */
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *dir = NULL;

		if (links[i].type != ops->type || !links[i].iface)
			continue;
		dir = dispatcher_hook_dir(ops, c, &links[i]);
		if (!dir)
			break;
		/* recover_hook drops the temporaries: the hook's later links find none. */
		if (has_temporary_pins(dir))
			recover_hook(ops, c, &links[i], dir, links, n);
	}
	link_records_free(links, n);
}

void dispatcher_reconcile(const struct dispatcher_ops *ops, struct core *c)
{
	_cleanup_free_ char *top = dispatcher_path_in(c->bpffs, ops->subdir);
	struct link_record *links = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	d = top ? opendir(top) : NULL;
	if (!d)
		goto done;
	if (store__list_links(c->store, 0, &links, &n) < 0)
		goto out;
	while ((de = readdir(d))) {
		_cleanup_free_ char *dir = NULL;
		bool used = false;

		if (de->d_name[0] == '.' || !ops->is_hook_dir(de->d_name))
			continue;
		for (size_t i = 0; i < n && !used; i++) {
			char name[96];

			used = links[i].type == ops->type &&
			       ops->hook_name(&links[i], name, sizeof(name)) == 0 &&
			       streq(name, de->d_name) &&
			       dispatcher_link_is_dispatched(&links[i], ops->type);
		}
		dir = dispatcher_path_in(top, de->d_name);
		if (!dir)
			break;
		if (used) {
			drop_temporary_pins(dir);
			continue;
		}
		ops->remove_orphan(c, dir, de->d_name);
		pins_remove_dir(dir);
	}
out:
	closedir(d);
	link_records_free(links, n);
done:
	if (ops->reconciled)
		ops->reconciled(c);
}
