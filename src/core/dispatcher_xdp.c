/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The XDP dispatcher: up to ten programs on one interface, in (priority, attach order), each
 * continuing the chain only on its proceed_on verdicts. The layout and the rules are in
 * docs/dispatchers.md; the BPF side is bpf/xdp_dispatcher.bpf.c, embedded in bpfd at build time.
 *
 * Every change builds a new revision and swaps it in:
 *   1. load a new dispatcher with the new config (order, proceed_on masks);
 *   2. attach each program of the chain to its slot: the chain's existing extension programs
 *      are re-attached (an extension can be attached to several targets), a new program gets an
 *      extension copy loaded from its object file, reusing its pinned maps and global data;
 *   3. pin the new dispatcher and the new freplace links under temporary names;
 *   4. write the store (in a transaction), swap the interface's XDP link to the new dispatcher
 *      (bpf_link_update with BPF_F_REPLACE), commit;
 *   5. rename the temporary pins over the old ones, which frees the previous revision.
 * A failure before 5 leaves the previous revision running and the store unchanged.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "dispatcher.h"
#include "dispatcher_libxdp.h"
#include "internal.h"
#include "log.h"
#include "xdp_dispatcher.skel.h"

/* ---- Pure parts (unit-tested) ---- */

int proceed_on_validate(int type, const int32_t *values, size_t n, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		int32_t v = values[i];

		if (type == BPFD_PROG_XDP && !((v >= 0 && v <= 4) || v == XDP_DISPATCHER_RETVAL))
			return error_set(
				err, -EINVAL,
				"proceed_on value %d is not an XDP verdict (aborted 0, drop 1, "
				"pass 2, tx 3, redirect 4, dispatcher_return 31)",
				v);
		if (type == BPFD_PROG_TC && !((v >= -1 && v <= 8) || v == 30))
			return error_set(
				err, -EINVAL,
				"proceed_on value %d is not a TC verdict (unspec -1, ok 0, "
				"reclassify 1, shot 2, pipe 3, stolen 4, queued 5, repeat 6, "
				"redirect 7, trap 8, dispatcher_return 30)",
				v);
		if (type != BPFD_PROG_XDP && type != BPFD_PROG_TC)
			return error_set(err, -EINVAL,
					 "proceed_on is only for xdp and tc attachments");
	}
	return 0;
}

uint32_t xdp_proceed_on_mask(const int32_t *values, size_t n)
{
	uint32_t mask = 0;

	if (n == 0)
		return 1u << 2 /* XDP_PASS */ | 1u << XDP_DISPATCHER_RETVAL;
	for (size_t i = 0; i < n; i++)
		if (values[i] >= 0 && values[i] < 32)
			mask |= 1u << values[i];
	return mask;
}

int xdp_dispatcher_config_build(const struct link_record *chain, size_t n,
				struct xdp_dispatcher_config *ret, struct error *err)
{
	struct xdp_dispatcher_config cfg = {
		.magic = XDP_DISPATCHER_MAGIC,
		.dispatcher_version = XDP_DISPATCHER_VERSION,
	};

	if (n > XDP_DISPATCHER_SLOTS)
		return error_set(err, -ENOSPC, "an XDP chain holds at most %d programs, not %zu",
				 XDP_DISPATCHER_SLOTS, n);
	for (size_t i = 0; i < n; i++) {
		cfg.chain_call_actions[i] =
			xdp_proceed_on_mask(chain[i].proceed_on, chain[i].n_proceed_on);
		cfg.run_prios[i] = (uint32_t)chain[i].priority;
	}
	cfg.num_progs_enabled = (uint8_t)n;
	*ret = cfg;
	return 0;
}

size_t chain_insert_index(const struct link_record *chain, size_t n, int32_t priority)
{
	size_t i = 0;

	while (i < n && chain[i].priority <= priority)
		i++;
	return i;
}

int dispatcher_hook_name(const struct link_record *hook, char *buf, size_t size)
{
	uint32_t h = 2166136261u; /* FNV-1a: a stable short name for a namespace path */
	int n;

	if (!hook->netns) {
		n = snprintf(buf, size, "%d", hook->ifindex);
	} else {
		for (const char *s = hook->netns; *s; s++)
			h = (h ^ (uint8_t)*s) * 16777619u;
		n = snprintf(buf, size, "%d_%08x", hook->ifindex, h);
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- Test hook ---- */

/* ---- Paths ---- */

static char *hook_dir(struct core *c, const struct link_record *hook)
{
	char name[64], *p;

	if (dispatcher_hook_name(hook, name, sizeof(name)) < 0)
		return NULL;
	return asprintf(&p, "%s/xdp/%s", c->bpffs, name) < 0 ? NULL : p;
}

/* ---- Kernel helpers ---- */

/* The program attached to ifindex's XDP hook in any mode, 0 for none. */
static uint32_t xdp_attached_id(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q) < 0)
		return 0;
	return q.prog_id ?: q.drv_prog_id ?: q.skb_prog_id;
}

bool xdp_link_is_dispatched(const struct link_record *l)
{
	struct bpf_link_info info = {};
	uint32_t len = sizeof(info);
	_cleanup_close_ int fd = -EBADF;

	if (l->type != BPFD_PROG_XDP || !l->pin_path)
		return false;
	fd = bpf_obj_get(l->pin_path);
	if (fd < 0 || bpf_link_get_info_by_fd(fd, &info, &len) < 0)
		return false;
	return info.type == BPF_LINK_TYPE_TRACING;
}

/* Loads a dispatcher with cfg; returns its (owned) object and the program fd. */
static int load_dispatcher(const struct xdp_dispatcher_config *cfg, struct bpf_object **ret_obj,
			   int *ret_fd, struct error *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "xdp_dispatcher",
		    .bpf_token_path = "");
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_map *map, *rodata = NULL;
	const void *bytes;
	size_t size;
	int r;

	bytes = xdp_dispatcher_bpf__elf_bytes(&size);
	obj = bpf_object__open_mem(bytes, size, &opts);
	if (!obj)
		return error_set(err, -EIO, "opening the embedded XDP dispatcher: %m");
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t len = strlen(name);

		if (bpf_map__is_internal(map) && len >= 7 && streq(name + len - 7, ".rodata"))
			rodata = map;
	}
	p = bpf_object__find_program_by_name(obj, "xdp_dispatcher");
	if (!rodata || !p || bpf_map__value_size(rodata) != sizeof(*cfg)) {
		bpf_object__close(obj);
		return error_set(err, -EIO, "the embedded XDP dispatcher has no %zu-byte config",
				 sizeof(*cfg));
	}
	r = bpf_map__set_initial_value(rodata, cfg, sizeof(*cfg));
	if (r == 0)
		r = bpf_object__load(obj);
	if (r < 0) {
		bpf_object__close(obj);
		error_set(err, r == -EPERM ? -EPERM : -EIO, "loading the XDP dispatcher: %s",
			  strerror(-r));
		if (r == -EPERM)
			diagnose_eperm(err, "xdp");
		return err->code;
	}
	*ret_obj = obj;
	*ret_fd = bpf_program__fd(p);
	return 0;
}

/* ---- Rebuild ---- */

struct slot {
	struct link_record rec; /* borrowed from the chain, except kernel_link_id and pin_path */
	const struct program_record *new_prog; /* set for the link being attached */
	int ext_fd;
	int link_fd;
	char *tmp_pin;
	char *final_pin;
};

struct rebuild {
	struct core *c;
	const struct link_record *hook;
	char *dir;
	struct slot slots[XDP_DISPATCHER_SLOTS];
	size_t n;
	struct bpf_object *disp_obj;
	int disp_fd;
	int old_disp_fd;
	int old_link_fd;
	char *disp_pin, *disp_tmp, *link_pin;
};

static void rebuild_done(struct rebuild *b, bool ok)
{
	for (size_t i = 0; i < b->n; i++) {
		struct slot *s = &b->slots[i];

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
	if (b->old_link_fd >= 0)
		close(b->old_link_fd);
	free(b->disp_pin);
	free(b->disp_tmp);
	free(b->link_pin);
	free(b->dir);
}

/* Opens what runs on the hook now: the dispatcher and the interface's link. Refuses a hook
 * used by a program bpfd does not manage. */
static int open_current(struct rebuild *b, struct error *err)
{
	uint32_t attached, ours = 0;

	b->old_disp_fd = bpf_obj_get(b->disp_pin);
	b->old_link_fd = bpf_obj_get(b->link_pin);
	if (b->old_disp_fd >= 0)
		ours = dispatcher_prog_id_of_fd(b->old_disp_fd);
	attached = xdp_attached_id(b->hook->ifindex);
	if (attached && attached != ours) {
		describe_xdp_owner(b->hook->ifindex, b->hook->iface, err);
		return error_set(err, -EBUSY, "interface %s: XDP hook busy (program %u)",
				 b->hook->iface, attached);
	}
	if (!attached && b->old_link_fd >= 0) {
		/* Our link was detached underneath (or the interface was re-created). */
		log_warning("XDP dispatcher link %s no longer attached to %s: replacing it",
			    b->link_pin, b->hook->iface);
		close(b->old_link_fd);
		b->old_link_fd = -EBADF;
		unlink(b->link_pin);
	}
	return 0;
}

/* Removes the dispatcher of the hook (the chain became empty). */
static void remove_dispatcher(struct rebuild *b)
{
	if (b->old_link_fd >= 0 && bpf_link_detach(b->old_link_fd) < 0)
		log_debug_errno(errno, "bpf_link_detach of %s: %m", b->link_pin);
	unlink(b->link_pin);
	unlink(b->disp_pin);
	pins_remove_dir(b->dir);
}

/*
 * Makes chain[0..n) (in run order) the hook's chain. new_idx < n names the link being attached
 * (chain[new_idx] is its spec, new_prog its program; its id must be allocated); removed (may
 * be NULL) is a link leaving the chain.
 */
static int xdp_rebuild(struct core *c, const struct link_record *hook,
		       const struct link_record *chain, size_t n, size_t new_idx,
		       const struct program_record *new_prog, const struct link_record *removed,
		       struct error *err)
{
	struct rebuild b = {.c = c,
			    .hook = hook,
			    .disp_fd = -EBADF,
			    .old_disp_fd = -EBADF,
			    .old_link_fd = -EBADF};
	struct xdp_dispatcher_config cfg;
	uint32_t btf_ids[XDP_DISPATCHER_SLOTS];
	_cleanup_free_ char *xdp_dir = NULL;
	bool swapped = false, created = false, in_tx = false;
	int r;

	r = xdp_dispatcher_config_build(chain, n, &cfg, err);
	if (r < 0)
		return r;
	if (asprintf(&xdp_dir, "%s/xdp", c->bpffs) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	b.dir = hook_dir(c, hook);
	if (!b.dir || !(b.disp_pin = dispatcher_path_in(b.dir, "dispatcher")) ||
	    !(b.disp_tmp = dispatcher_path_in(b.dir, "dispatcher_new")) ||
	    !(b.link_pin = dispatcher_path_in(b.dir, "link"))) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = pins_mkdir(xdp_dir, 0700)) < 0 || (r = pins_mkdir(b.dir, 0700)) < 0) {
		error_set(err, r, "cannot create %s: %s", b.dir, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		b.slots[i] = (struct slot){.rec = chain[i], .ext_fd = -EBADF, .link_fd = -EBADF};
		b.n++;
	}
	r = open_current(&b, err);
	if (r < 0)
		goto out;

	if (n == 0) {
		/* The last program left: no dispatcher without programs (an empty one would
		 * still cost every packet a call). */
		r = store__delete_link(c->store, removed->id);
		if (r < 0 && r != -ENOENT) {
			error_set(err, r, "state store: deleting link %u: %s", removed->id,
				  strerror(-r));
			goto out;
		}
		remove_dispatcher(&b);
		if (removed->pin_path)
			unlink(removed->pin_path);
		log_debug("XDP dispatcher of %s removed with its last program", hook->iface);
		rebuild_done(&b, true);
		libxdp_view_sync(c, hook);
		return 0;
	}

	/* 1. The new dispatcher. */
	if (dispatcher_inject_failure("XDP", "load", err)) {
		r = err->code;
		goto out;
	}
	r = load_dispatcher(&cfg, &b.disp_obj, &b.disp_fd, err);
	if (r < 0)
		goto out;
	r = dispatcher_slot_btf_ids("XDP", b.disp_fd, btf_ids, XDP_DISPATCHER_SLOTS, err);
	if (r < 0)
		goto out;

	/* 2. Every program into its slot. */
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &b.slots[i];
		LIBBPF_OPTS(bpf_link_create_opts, lo, .target_btf_id = btf_ids[i]);

		if (i == new_idx) {
			s->new_prog = new_prog;
			r = dispatcher_load_extension("XDP", new_prog, b.disp_fd, (unsigned)i, &s->ext_fd, err);
			if (r < 0)
				goto out;
		} else {
			struct bpf_link_info li = {};
			uint32_t len = sizeof(li);
			_cleanup_close_ int lfd = bpf_obj_get(s->rec.pin_path);

			if (lfd < 0 || bpf_link_get_info_by_fd(lfd, &li, &len) < 0) {
				r = error_set(err, -EIO,
					      "link %u of this chain has lost its pin %s: %m",
					      s->rec.id, s->rec.pin_path);
				goto out;
			}
			s->ext_fd = bpf_prog_get_fd_by_id(li.prog_id);
			if (s->ext_fd < 0) {
				r = error_set(err, -EIO, "link %u: its extension program %u: %m",
					      s->rec.id, li.prog_id);
				goto out;
			}
		}
		s->link_fd =
			bpf_link_create(s->ext_fd, b.disp_fd, 0 /* ignored for extensions */, &lo);
		if (s->link_fd < 0) {
			r = error_set(
				err, errno == EPERM ? -EPERM : -EIO,
				"attaching program %u to slot %zu of the new XDP dispatcher on "
				"%s: %m",
				s->rec.prog_id, i, hook->iface);
			if (errno == EPERM)
				diagnose_eperm(err, "freplace");
			goto out;
		}
		s->rec.kernel_link_id = kernel_link_id_of_fd(s->link_fd);
	}
	if (dispatcher_inject_failure("XDP", "attach", err)) {
		r = err->code;
		goto out;
	}

	/* 3. Pins under temporary names. */
	r = pins_pin_fd(c, b.disp_fd, b.disp_tmp, 0600);
	if (r < 0) {
		error_set(err, r, "cannot pin the new XDP dispatcher at %s: %s", b.disp_tmp,
			  strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &b.slots[i];

		s->final_pin = pin_path_link(c, s->rec.id);
		if (!s->final_pin || asprintf(&s->tmp_pin, "%s/new_%u", b.dir, s->rec.id) < 0) {
			s->tmp_pin = NULL;
			r = error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		unlink(s->tmp_pin); /* a leftover of a crash */
		r = pins_pin_fd(c, s->link_fd, s->tmp_pin, 0600);
		if (r < 0) {
			error_set(err, r, "cannot pin link %u at %s: %s", s->rec.id, s->tmp_pin,
				  strerror(-r));
			free(s->tmp_pin);
			s->tmp_pin = NULL;
			goto out;
		}
		s->rec.pin_path = s->final_pin;
	}

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
		error_set(err, r, "state store: recording the XDP chain of %s: %s", hook->iface,
			  strerror(-r));
		goto out;
	}
	if (dispatcher_inject_failure("XDP", "store", err)) {
		r = err->code;
		goto out;
	}
	if (dispatcher_inject_failure("XDP", "swap", err)) {
		r = err->code;
		goto out;
	}
	if (b.old_link_fd >= 0) {
		LIBBPF_OPTS(bpf_link_update_opts, uo, .flags = BPF_F_REPLACE,
			    .old_prog_fd = b.old_disp_fd);

		if (bpf_link_update(b.old_link_fd, b.disp_fd, &uo) < 0) {
			r = error_set(err, -EIO, "swapping the XDP dispatcher of %s: %m",
				      hook->iface);
			goto out;
		}
	} else {
		int lfd = attach_xdp(c, b.disp_fd, hook, err);

		if (lfd < 0) {
			r = lfd;
			goto out;
		}
		b.old_link_fd = lfd;
		created = true;
		r = pins_pin_fd(c, lfd, b.link_pin, 0600);
		if (r < 0) {
			bpf_link_detach(lfd);
			error_set(err, r, "cannot pin the XDP link of %s at %s: %s", hook->iface,
				  b.link_pin, strerror(-r));
			goto out;
		}
	}
	swapped = true;
	if (dispatcher_inject_failure("XDP", "commit", err)) {
		r = err->code; /* still in the transaction: rolled back below */
		goto out;
	}
	r = store__commit(c->store);
	in_tx = false;
	if (r < 0) {
		error_set(err, r, "state store: %s", strerror(-r));
		goto out;
	}

	/* 5. The new revision's pins replace the old ones. */
	if (rename(b.disp_tmp, b.disp_pin) < 0)
		log_warning_errno(errno, "Renaming %s: %m", b.disp_tmp);
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &b.slots[i];

		if (rename(s->tmp_pin, s->final_pin) < 0)
			log_warning_errno(errno, "Renaming %s to %s: %m", s->tmp_pin, s->final_pin);
	}
	if (removed && removed->pin_path)
		unlink(removed->pin_path);
	log_debug("XDP dispatcher of %s: new revision (program %u) with %zu programs", hook->iface,
		  dispatcher_prog_id_of_fd(b.disp_fd), n);
	rebuild_done(&b, true);
	libxdp_view_sync(c, hook);
	return 0;

out:
	if (in_tx)
		store__rollback(c->store);
	if (swapped) {
		/* Only the commit failed: put the previous revision back. */
		if (created) {
			bpf_link_detach(b.old_link_fd);
			unlink(b.link_pin);
		} else {
			LIBBPF_OPTS(bpf_link_update_opts, uo, .flags = BPF_F_REPLACE,
				    .old_prog_fd = b.disp_fd);

			if (bpf_link_update(b.old_link_fd, b.old_disp_fd, &uo) < 0)
				log_error_errno(errno, "Restoring the XDP dispatcher of %s: %m",
						hook->iface);
		}
	}
	rebuild_done(&b, false);
	if (!swapped && n > 0) {
		/* Nothing ran here before: leave no directory behind. */
		_cleanup_free_ char *dir = hook_dir(c, hook),
				    *disp = dir ? dispatcher_path_in(dir, "dispatcher") : NULL;

		if (disp && access(disp, F_OK) < 0)
			pins_remove_dir(dir);
	}
	return r < 0 ? r : -EIO;
}

/* ---- Attach, detach, reconcile ---- */

int xdp_dispatcher_attach(struct core *c, const struct program_record *prog,
			  const struct link_record *spec, uint32_t *ret_link_id, struct error *err)
{
	struct link_record *chain = NULL, *want = NULL;
	size_t n = 0, idx;
	uint32_t link_id;
	int r;

	r = chain_links(c, spec, &chain, &n);
	if (r < 0)
		return error_set(err, r, "state store: %s", strerror(-r));
	for (size_t i = 0; i < n; i++)
		if (!xdp_link_is_dispatched(&chain[i])) {
			r = error_set(
				err, -EBUSY,
				"interface %s runs XDP program %u directly (bpfd link %u), "
				"attached when program extensions were unavailable; detach it "
				"and attach it again to chain programs there",
				spec->iface, chain[i].prog_id, chain[i].id);
			goto out;
		}
	if (n >= XDP_DISPATCHER_SLOTS) {
		r = error_set(err, -ENOSPC,
			      "interface %s already runs %zu XDP programs, the most one dispatcher "
			      "chain holds; detach one first",
			      spec->iface, n);
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
	r = xdp_rebuild(c, spec, want, n + 1, idx, prog, NULL, err);
	if (r >= 0)
		*ret_link_id = link_id;
out:
	free(want); /* shallow: the records belong to chain and spec */
	link_records_free(chain, n);
	return r;
}

/* The interface is gone (its XDP link went with it): forget l, and the hook's pins with the
 * chain's last link. */
static int forget_link(struct core *c, const struct link_record *l, size_t n_left)
{
	int r = store__delete_link(c->store, l->id);

	if (r < 0 && r != -ENOENT)
		return r;
	if (l->pin_path)
		unlink(l->pin_path);
	if (n_left == 0) {
		_cleanup_free_ char *dir = hook_dir(c, l);

		if (dir)
			pins_remove_dir(dir);
	}
	libxdp_view_sync(c, NULL);
	return 0;
}

int xdp_dispatcher_detach(struct core *c, const struct link_record *l, struct error *err)
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
		if (r == -ENOENT) {
			/* The namespace is gone, and with it the interface. */
			r = forget_link(c, l, k);
			if (r < 0)
				error_set(err, r, "state store: %s", strerror(-r));
			goto out;
		}
		if (r < 0) {
			error_set(err, r, "%s", ns_err.message);
			goto out;
		}
	}
	if (!dispatcher_iface_exists(l)) {
		r = forget_link(c, l, k);
		if (r < 0)
			error_set(err, r, "state store: %s", strerror(-r));
		goto out;
	}
	r = xdp_rebuild(c, l, want, k, SIZE_MAX, NULL, l, err);
out:
	free(want);
	link_records_free(chain, n);
	if (saved_ns >= 0)
		netns_leave(TAKE_FD(saved_ns));
	return r;
}

/* At start: hook directories no link record names are removed with their dispatcher; pins of
 * an interrupted rebuild are dropped (the store names the revision that was committed). */
void xdp_dispatchers_reconcile(struct core *c)
{
	_cleanup_free_ char *xdp_dir = NULL;
	struct link_record *links = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (asprintf(&xdp_dir, "%s/xdp", c->bpffs) < 0)
		return;
	d = opendir(xdp_dir);
	if (!d)
		return;
	if (store__list_links(c->store, 0, &links, &n) < 0)
		goto out;
	while ((de = readdir(d))) {
		_cleanup_free_ char *dir = NULL, *link = NULL;
		bool used = false;

		if (de->d_name[0] == '.' || libxdp_view_owns_name(de->d_name))
			continue; /* libxdp's view: libxdp_view_sync() keeps it */
		for (size_t i = 0; i < n && !used; i++) {
			char name[64];

			used = links[i].type == BPFD_PROG_XDP &&
			       dispatcher_hook_name(&links[i], name, sizeof(name)) == 0 &&
			       streq(name, de->d_name) && xdp_link_is_dispatched(&links[i]);
		}
		dir = dispatcher_path_in(xdp_dir, de->d_name);
		if (!dir)
			break;
		if (used) {
			_cleanup_free_ char *tmp = dispatcher_path_in(dir, "dispatcher_new");
			DIR *hd = opendir(dir);
			struct dirent *he;

			if (tmp)
				unlink(tmp);
			while (hd && (he = readdir(hd)))
				if (!strncmp(he->d_name, "new_", 4))
					unlinkat(dirfd(hd), he->d_name, 0);
			if (hd)
				closedir(hd);
			continue;
		}
		link = dispatcher_path_in(dir, "link");
		if (link) {
			_cleanup_close_ int fd = bpf_obj_get(link);

			if (fd >= 0)
				bpf_link_detach(fd);
		}
		log_warning("Removing XDP dispatcher %s: no link in the state store uses it", dir);
		pins_remove_dir(dir);
	}
out:
	closedir(d);
	link_records_free(links, n);
	libxdp_view_sync(c, NULL);
}
