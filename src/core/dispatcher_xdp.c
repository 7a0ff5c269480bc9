/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The XDP dispatcher: up to ten programs on one interface, in (priority, attach order), each
 * continuing the chain only on its proceed_on verdicts. The layout and the rules are in
 * docs/dispatchers.md; the BPF side is bpf/xdp_dispatcher.bpf.c, embedded in bpfd at build time.
 *
 * Every change builds a new revision and swaps it in (dispatcher_rebuild() in
 * dispatcher_chain.c); what is XDP's is here: the dispatcher is put on the interface with an
 * XDP bpf_link (pinned as <hook dir>/link) and swapped with bpf_link_update(BPF_F_REPLACE).
 */
#include <stdio.h>
#include <string.h>
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

/* ---- The hook: an XDP link to the dispatcher ---- */

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
	return dispatcher_link_is_dispatched(l, BPFD_PROG_XDP);
}

static int xdp_load(const struct link_record *chain, size_t n, struct bpf_object **ret_obj,
		    int *ret_fd, struct error *err)
{
	struct xdp_dispatcher_config cfg;
	const void *elf;
	size_t size;
	int r;

	r = xdp_dispatcher_config_build(chain, n, &cfg, err);
	if (r < 0)
		return r;
	elf = xdp_dispatcher_bpf__elf_bytes(&size);
	return dispatcher_load_program("XDP", "xdp_dispatcher", elf, size, &cfg, sizeof(cfg),
				       ret_obj, ret_fd, err);
}

static int link_pin_of(struct dispatcher_rebuild *b, struct error *err)
{
	if (!b->link_pin && !(b->link_pin = dispatcher_path_in(b->dir, "link")))
		return error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* Opens the dispatcher and the interface's link. Refuses a hook used by a program bpfd does
 * not manage. */
static int xdp_open_current(struct dispatcher_rebuild *b, struct error *err)
{
	const struct link_record *hook = b->hook;
	uint32_t attached, ours = 0;
	int r;

	r = link_pin_of(b, err);
	if (r < 0)
		return r;
	b->old_disp_fd = bpf_obj_get(b->disp_pin);
	b->link_fd = bpf_obj_get(b->link_pin);
	if (b->old_disp_fd >= 0)
		ours = dispatcher_prog_id_of_fd(b->old_disp_fd);
	attached = xdp_attached_id(hook->ifindex);
	if (attached && attached != ours) {
		describe_xdp_owner(hook->ifindex, hook->iface, err);
		return error_set(err, -EBUSY, "interface %s: XDP hook busy (program %u)",
				 hook->iface, attached);
	}
	if (!attached && b->link_fd >= 0) {
		/* Our link was detached underneath (or the interface was re-created). */
		log_warning("XDP dispatcher link %s no longer attached to %s: replacing it",
			    b->link_pin, hook->iface);
		close(b->link_fd);
		b->link_fd = -EBADF;
		unlink(b->link_pin);
	}
	b->replace = b->link_fd >= 0;
	return 0;
}

/* The first revision of an interface is attached with bpf_link_create (driver mode, else skb
 * mode); later ones replace the link's program. */
static int xdp_swap(struct dispatcher_rebuild *b, struct error *err)
{
	LIBBPF_OPTS(bpf_link_update_opts, uo, .flags = BPF_F_REPLACE,
		    .old_prog_fd = b->old_disp_fd);
	int r, fd;

	if (b->replace) {
		if (bpf_link_update(b->link_fd, b->disp_fd, &uo) < 0)
			return error_set(err, -EIO, "swapping the XDP dispatcher of %s: %m",
					 b->hook->iface);
		return 0;
	}
	fd = attach_xdp(b->c, b->disp_fd, b->hook, err);
	if (fd < 0)
		return fd;
	r = pins_pin_fd(b->c, fd, b->link_pin, 0600);
	if (r < 0) {
		bpf_link_detach(fd);
		close(fd);
		return error_set(err, r, "cannot pin the XDP link of %s at %s: %s", b->hook->iface,
				 b->link_pin, strerror(-r));
	}
	b->link_fd = fd;
	return 0;
}

static void xdp_swap_back(struct dispatcher_rebuild *b)
{
	LIBBPF_OPTS(bpf_link_update_opts, uo, .flags = BPF_F_REPLACE, .old_prog_fd = b->disp_fd);

	if (!b->replace) {
		bpf_link_detach(b->link_fd);
		unlink(b->link_pin);
	} else if (bpf_link_update(b->link_fd, b->old_disp_fd, &uo) < 0) {
		log_error_errno(errno, "Restoring the XDP dispatcher of %s: %m", b->hook->iface);
	}
}

static void xdp_remove(struct dispatcher_rebuild *b)
{
	struct error ignored = {};
	_cleanup_close_ int fd = -EBADF;

	if (link_pin_of(b, &ignored) < 0)
		return;
	fd = bpf_obj_get(b->link_pin);
	if (fd >= 0 && bpf_link_detach(fd) < 0)
		log_debug_errno(errno, "bpf_link_detach of %s: %m", b->link_pin);
}

/* ---- Reconcile ---- */

/* libxdp's view (dispatch-*, dispatcher_libxdp.c) shares <bpffs>/xdp; libxdp_view_sync() keeps
 * it. */
static bool xdp_is_hook_dir(const char *name)
{
	return !libxdp_view_owns_name(name);
}

static void xdp_remove_orphan(struct core *c, const char *dir, const char *name)
{
	_cleanup_free_ char *link = dispatcher_path_in(dir, "link");
	_cleanup_close_ int fd = link ? bpf_obj_get(link) : -EBADF;

	(void)c;
	(void)name;
	if (fd >= 0)
		bpf_link_detach(fd);
	log_warning("Removing XDP dispatcher %s: no link in the state store uses it", dir);
}

/* ---- libxdp's view follows every change ---- */

static void xdp_forgotten(struct core *c, const struct link_record *l, size_t n_left)
{
	(void)l;
	(void)n_left;
	libxdp_view_sync(c, NULL);
}

static void xdp_reconciled(struct core *c)
{
	libxdp_view_sync(c, NULL);
}

static const struct dispatcher_ops xdp_ops = {
	.kind = "XDP",
	.type = BPFD_PROG_XDP,
	.subdir = "xdp",
	.hook_name = dispatcher_hook_name,
	.load = xdp_load,
	.open_current = xdp_open_current,
	.swap = xdp_swap,
	.swap_back = xdp_swap_back,
	.remove = xdp_remove,
	.changed = libxdp_view_sync,
	.forgotten = xdp_forgotten,
	.is_hook_dir = xdp_is_hook_dir,
	.remove_orphan = xdp_remove_orphan,
	.reconciled = xdp_reconciled,
};

int xdp_dispatcher_attach(struct core *c, const struct program_record *prog,
			  const struct link_record *spec, uint32_t *ret_link_id, struct error *err)
{
	return dispatcher_attach(&xdp_ops, c, prog, spec, ret_link_id, err);
}

int xdp_dispatcher_detach(struct core *c, const struct link_record *l, struct error *err)
{
	return dispatcher_detach(&xdp_ops, c, l, err);
}

int xdp_dispatcher_forget(struct core *c, const struct link_record *l, struct error *err)
{
	return dispatcher_forget(&xdp_ops, c, l, err);
}

void xdp_dispatchers_recover(struct core *c)
{
	dispatcher_recover(&xdp_ops, c);
}

void xdp_dispatchers_reconcile(struct core *c)
{
	dispatcher_reconcile(&xdp_ops, c);
}
