/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TC dispatcher, for kernels without TCX (Linux < 6.6): up to ten programs on one
 * (interface, direction), in (priority, attach order), each continuing the chain only on its
 * proceed_on verdicts. On the hook there is a clsact qdisc and ONE cls_bpf filter of bpfd's in
 * direct-action mode, (priority TC_DISPATCHER_PRIORITY, handle TC_DISPATCHER_HANDLE), running
 * the current dispatcher (bpf/tc_dispatcher.bpf.c, embedded at build time). docs/dispatchers.md.
 *
 * Every change builds a new revision like the XDP dispatcher does (dispatcher_xdp.c):
 *   1. load a new dispatcher with the new config;
 *   2. attach each program of the chain to its slot (existing extensions re-attached, the new
 *      program loaded as an extension copy of its object);
 *   3. pin the new dispatcher and the new freplace links under temporary names;
 *   4. write the store (in a transaction), replace the filter's program (netlink
 *      RTM_NEWTFILTER on the same priority and handle: cls_bpf swaps it atomically), commit;
 *   5. rename the temporary pins over the old ones, which frees the previous revision.
 * A failure before 5 leaves the previous revision running and the store unchanged.
 *
 * The extension and rebuild helpers mirror dispatcher_xdp.c's rather than sharing them: the
 * hooks differ in how the dispatcher is put on the interface (filter vs. bpf_link) and the
 * XDP file is kept as it was verified.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "dispatcher.h"
#include "internal.h"
#include "log.h"
#include "tc_dispatcher.skel.h"

/* ---- Pure parts (unit-tested) ---- */

uint32_t tc_proceed_on_mask(const int32_t *values, size_t n)
{
	uint32_t mask = 0;

	if (n == 0)
		return 1u << (TC_ACT_PIPE + 1) | 1u << (TC_DISPATCHER_RETVAL + 1);
	for (size_t i = 0; i < n; i++)
		if (values[i] >= -1 && values[i] <= 30)
			mask |= 1u << (values[i] + 1);
	return mask;
}

int tc_dispatcher_config_build(const struct link_record *chain, size_t n,
			       struct tc_dispatcher_config *ret, struct error *err)
{
	struct tc_dispatcher_config cfg = {};

	if (n > TC_DISPATCHER_SLOTS)
		return error_set(err, -ENOSPC, "a TC chain holds at most %d programs, not %zu",
				 TC_DISPATCHER_SLOTS, n);
	for (size_t i = 0; i < n; i++) {
		cfg.chain_call_actions[i] =
			tc_proceed_on_mask(chain[i].proceed_on, chain[i].n_proceed_on);
		cfg.run_prios[i] = (uint32_t)chain[i].priority;
	}
	cfg.num_progs_enabled = (uint8_t)n;
	*ret = cfg;
	return 0;
}

int tc_dispatcher_hook_name(const struct link_record *hook, char *buf, size_t size)
{
	char name[64];
	int r, n;

	if (!hook->direction)
		return -EINVAL;
	r = dispatcher_hook_name(hook, name, sizeof(name));
	if (r < 0)
		return r;
	n = snprintf(buf, size, "%s_%s", name, hook->direction);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}


/* ---- Paths ---- */

static char *tc_dir(struct core *c)
{
	return dispatcher_path_in(c->bpffs, "tc");
}

static char *hook_dir(struct core *c, const struct link_record *hook)
{
	char name[80], *p;

	if (tc_dispatcher_hook_name(hook, name, sizeof(name)) < 0)
		return NULL;
	return asprintf(&p, "%s/tc/%s", c->bpffs, name) < 0 ? NULL : p;
}

/*
 * The mark that bpfd created the interface's clsact qdisc (and may remove it): an empty
 * directory <bpffs>/tc/<hook>_clsact, since bpffs holds nothing but pins and directories.
 */
static char *clsact_mark(struct core *c, const struct link_record *hook)
{
	char name[64], *p;

	if (dispatcher_hook_name(hook, name, sizeof(name)) < 0)
		return NULL;
	return asprintf(&p, "%s/tc/%s_clsact", c->bpffs, name) < 0 ? NULL : p;
}

/* ---- Kernel helpers ---- */


static bool is_ingress(const struct link_record *hook)
{
	return streq(hook->direction, "ingress");
}

static void tc_hook_of(const struct link_record *hook, struct bpf_tc_hook *h)
{
	*h = (struct bpf_tc_hook){
		.sz = sizeof(*h),
		.ifindex = hook->ifindex,
		.attach_point = is_ingress(hook) ? BPF_TC_INGRESS : BPF_TC_EGRESS,
	};
}

bool tc_link_is_dispatched(const struct link_record *l)
{
	struct bpf_link_info info = {};
	uint32_t len = sizeof(info);
	_cleanup_close_ int fd = -EBADF;

	if (l->type != BPFD_PROG_TC || !l->pin_path)
		return false;
	fd = bpf_obj_get(l->pin_path);
	if (fd < 0 || bpf_link_get_info_by_fd(fd, &info, &len) < 0)
		return false;
	return info.type == BPF_LINK_TYPE_TRACING;
}

/* ---- Netlink: qdiscs and filters (libbpf's bpf_tc_* do not list them) ---- */

struct nl_scan {
	int ifindex;
	uint32_t parent;
	/* qdisc scan */
	char qdisc_kind[IFNAMSIZ];
	/* filter scan: filters other than (TC_DISPATCHER_PRIORITY, TC_DISPATCHER_HANDLE) running
	 * ours_id; the first one described */
	uint32_t ours_id;
	unsigned n_other;
	char other_kind[IFNAMSIZ];
	uint32_t other_prio;
	uint32_t other_bpf_id;
	char other_bpf_name[64];
};

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_scan *s = data;
	const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWQDISC || t->tcm_ifindex != s->ifindex ||
	    t->tcm_parent != TC_H_INGRESS)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*t))
		if (mnl_attr_get_type(a) == TCA_KIND)
			snprintf(s->qdisc_kind, sizeof(s->qdisc_kind), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int filter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_scan *s = data;
	const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
	uint32_t prio = TC_H_MAJ(t->tcm_info) >> 16, bpf_id = 0;
	char kind[IFNAMSIZ] = "", name[64] = "";
	const struct nlattr *a, *o;

	/* Handle 0: the per-priority header line ("filter pref N bpf chain 0"), not a filter. */
	if (nlh->nlmsg_type != RTM_NEWTFILTER || t->tcm_handle == 0)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*t)) {
		if (mnl_attr_get_type(a) == TCA_KIND)
			snprintf(kind, sizeof(kind), "%s", mnl_attr_get_str(a));
		if (mnl_attr_get_type(a) == TCA_OPTIONS)
			mnl_attr_for_each_nested(o, a) {
				if (mnl_attr_get_type(o) == TCA_BPF_ID)
					bpf_id = mnl_attr_get_u32(o);
				if (mnl_attr_get_type(o) == TCA_BPF_NAME)
					snprintf(name, sizeof(name), "%s", mnl_attr_get_str(o));
			}
	}
	if (s->ours_id && prio == TC_DISPATCHER_PRIORITY && t->tcm_handle == TC_DISPATCHER_HANDLE &&
	    bpf_id == s->ours_id)
		return MNL_CB_OK;
	if (s->n_other++ == 0) {
		snprintf(s->other_kind, sizeof(s->other_kind), "%s", kind);
		snprintf(s->other_bpf_name, sizeof(s->other_bpf_name), "%s", name);
		s->other_prio = prio;
		s->other_bpf_id = bpf_id;
	}
	return MNL_CB_OK;
}

/* One rtnetlink dump (RTM_GETQDISC or RTM_GETTFILTER of s->ifindex, s->parent) through cb. */
static int nl_dump(uint16_t type, struct nl_scan *s, mnl_cb_t cb)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct tcmsg *t;
	unsigned portid, seq = 1;
	ssize_t len;
	int r = 0;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return negative_errno();
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = negative_errno();
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = s->ifindex;
	t->tcm_parent = s->parent;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = negative_errno();
		goto out;
	}
	while ((len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, (size_t)len, seq, portid, cb, s);
		if (r <= MNL_CB_STOP)
			break;
	}
	r = len < 0 || r < 0 ? negative_errno() : 0;
out:
	mnl_socket_close(nl);
	return r;
}

/* The kind of the qdisc on ifindex's ingress/clsact slot, "" for none. */
static int ingress_qdisc_kind(int ifindex, char kind[IFNAMSIZ])
{
	struct nl_scan s = {.ifindex = ifindex};
	int r = nl_dump(RTM_GETQDISC, &s, qdisc_cb);

	memcpy(kind, s.qdisc_kind, IFNAMSIZ);
	return r;
}

/* The filters on hook's clsact direction other than our dispatcher ours_id (0: all). */
static int scan_filters(const struct link_record *hook, bool ingress, uint32_t ours_id,
			struct nl_scan *s)
{
	*s = (struct nl_scan){
		.ifindex = hook->ifindex,
		.parent = TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS),
		.ours_id = ours_id,
	};
	return nl_dump(RTM_GETTFILTER, s, filter_cb);
}

/*
 * Makes sure the interface has a clsact qdisc: an existing clsact is used as it is, none is
 * created (and marked as bpfd's), anything else on that slot (a plain `ingress` qdisc) is
 * refused, never replaced.
 */
static int clsact_ensure(struct core *c, const struct link_record *hook, struct error *err)
{
	struct bpf_tc_hook h;
	char kind[IFNAMSIZ];
	_cleanup_free_ char *mark = NULL, *dir = NULL;
	int r;

	r = ingress_qdisc_kind(hook->ifindex, kind);
	if (r < 0)
		return error_set(err, -EIO, "interface %s: listing its qdiscs: %s", hook->iface,
				 strerror(-r));
	if (streq(kind, "clsact"))
		return 0;
	if (kind[0])
		return error_set(err, -EBUSY,
				 "interface %s has a '%s' qdisc where bpfd's TC dispatcher needs "
				 "'clsact' (this kernel has no TCX); bpfd does not replace it: "
				 "remove it first (tc qdisc del dev %s %s)",
				 hook->iface, kind, hook->iface, kind);
	tc_hook_of(hook, &h);
	r = bpf_tc_hook_create(&h);
	if (r < 0 && r != -EEXIST)
		return error_set(err, r == -EPERM ? -EPERM : -EIO,
				 "creating a clsact qdisc on %s: %s", hook->iface, strerror(-r));
	if (r == 0) {
		dir = tc_dir(c);
		mark = clsact_mark(c, hook);
		if (!dir || !mark || pins_mkdir(dir, 0700) < 0 || pins_mkdir(mark, 0700) < 0)
			log_warning("Created the clsact qdisc of %s but cannot mark it as bpfd's: it "
				    "will stay after the last TC program",
				    hook->iface);
		else
			log_debug("Created the clsact qdisc of %s", hook->iface);
	}
	return 0;
}

/*
 * After bpfd's filter left one direction: removes the clsact qdisc only if bpfd created it and
 * no filter (of bpfd's other direction or of anybody else) is left on it.
 */
static void clsact_release(struct core *c, const struct link_record *hook)
{
	_cleanup_free_ char *mark = clsact_mark(c, hook);
	struct nl_scan in, eg;
	struct bpf_tc_hook h;

	if (!mark || access(mark, F_OK) < 0)
		return;
	if (scan_filters(hook, true, 0, &in) < 0 || scan_filters(hook, false, 0, &eg) < 0 ||
	    in.n_other + eg.n_other > 0) {
		log_debug("Keeping the clsact qdisc of %s: filters are still on it", hook->iface);
		return;
	}
	tc_hook_of(hook, &h);
	h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS; /* libbpf: delete the clsact qdisc */
	if (bpf_tc_hook_destroy(&h) < 0)
		log_debug("Removing the clsact qdisc of %s failed", hook->iface);
	rmdir(mark);
	log_debug("Removed the clsact qdisc bpfd had created on %s", hook->iface);
}

/* Puts prog_fd into bpfd's filter on hook: replace the running one, or create it. */
static int filter_set(const struct link_record *hook, int prog_fd, bool replace,
		      struct error *err)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = prog_fd, .handle = TC_DISPATCHER_HANDLE,
		    .priority = TC_DISPATCHER_PRIORITY, .flags = replace ? BPF_TC_F_REPLACE : 0);
	struct bpf_tc_hook h;
	int r;

	tc_hook_of(hook, &h);
	r = bpf_tc_attach(&h, &o);
	if (r < 0)
		return error_set(err, r == -EPERM ? -EPERM : -EIO,
				 "%s bpfd's TC filter on %s %s: %s",
				 replace ? "replacing the program of" : "creating", hook->iface,
				 hook->direction, strerror(-r));
	return 0;
}

static void filter_remove(const struct link_record *hook)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_DISPATCHER_HANDLE,
		    .priority = TC_DISPATCHER_PRIORITY);
	struct bpf_tc_hook h;
	int r;

	tc_hook_of(hook, &h);
	r = bpf_tc_detach(&h, &o);
	if (r < 0 && r != -ENOENT)
		log_debug("Removing bpfd's TC filter on %s %s: %s", hook->iface, hook->direction,
			  strerror(-r));
}

static int load_dispatcher(const struct tc_dispatcher_config *cfg, struct bpf_object **ret_obj,
			   int *ret_fd, struct error *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "tc_dispatcher",
		    .bpf_token_path = "");
	struct bpf_map *map, *rodata = NULL;
	struct bpf_object *obj;
	struct bpf_program *p;
	const void *bytes;
	size_t size;
	int r;

	bytes = tc_dispatcher_bpf__elf_bytes(&size);
	obj = bpf_object__open_mem(bytes, size, &opts);
	if (!obj)
		return error_set(err, -EIO, "opening the embedded TC dispatcher: %m");
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t len = strlen(name);

		if (bpf_map__is_internal(map) && len >= 7 && streq(name + len - 7, ".rodata"))
			rodata = map;
	}
	p = bpf_object__find_program_by_name(obj, "tc_dispatcher");
	if (!rodata || !p || bpf_map__value_size(rodata) != sizeof(*cfg)) {
		bpf_object__close(obj);
		return error_set(err, -EIO, "the embedded TC dispatcher has no %zu-byte config",
				 sizeof(*cfg));
	}
	r = bpf_map__set_initial_value(rodata, cfg, sizeof(*cfg));
	if (r == 0)
		r = bpf_object__load(obj);
	if (r < 0) {
		bpf_object__close(obj);
		error_set(err, r == -EPERM ? -EPERM : -EIO, "loading the TC dispatcher: %s",
			  strerror(-r));
		if (r == -EPERM)
			diagnose_eperm(err, "tc");
		return err->code;
	}
	*ret_obj = obj;
	*ret_fd = bpf_program__fd(p);
	return 0;
}


/* ---- Rebuild ---- */

struct slot {
	struct link_record rec; /* borrowed from the chain, except kernel_link_id and pin_path */
	int ext_fd;
	int link_fd;
	char *tmp_pin;
	char *final_pin;
};

struct rebuild {
	const struct link_record *hook;
	char *dir;
	struct slot slots[TC_DISPATCHER_SLOTS];
	size_t n;
	struct bpf_object *disp_obj;
	int disp_fd;
	int old_disp_fd;
	char *disp_pin, *disp_tmp;
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
	free(b->disp_pin);
	free(b->disp_tmp);
	free(b->dir);
}

/*
 * What runs on the hook now. Any filter on the direction but bpfd's own dispatcher is
 * refused: with direct-action the first filter's verdict ends classification, so chaining in
 * front of another filter would silently stop it from running. Returns whether bpfd's filter is
 * there (1) or not (0).
 */
static int open_current(struct rebuild *b, struct error *err)
{
	const struct link_record *hook = b->hook;
	uint32_t ours = 0;
	struct nl_scan s;
	int r;

	b->old_disp_fd = bpf_obj_get(b->disp_pin);
	if (b->old_disp_fd >= 0)
		ours = dispatcher_prog_id_of_fd(b->old_disp_fd);
	r = scan_filters(hook, is_ingress(hook), ours, &s);
	if (r < 0 && r != -EINVAL && r != -ENOENT)
		return error_set(err, -EIO, "interface %s: listing its %s TC filters: %s",
				 hook->iface, hook->direction, strerror(-r));
	if (r == 0 && s.n_other > 0) {
		if (s.other_bpf_id)
			return error_set(err, -EBUSY,
					 "interface %s already has TC %s program %u ('%s') attached "
					 "outside bpfd (filter pref %u); bpfd does not replace it: "
					 "detach it first (tc filter del dev %s %s pref %u)",
					 hook->iface, hook->direction, s.other_bpf_id,
					 s.other_bpf_name, s.other_prio, hook->iface,
					 hook->direction, s.other_prio);
		return error_set(err, -EBUSY,
				 "interface %s already has a TC %s filter ('%s', pref %u) outside "
				 "bpfd; bpfd does not run in front of it: remove it first (tc "
				 "filter del dev %s %s pref %u)",
				 hook->iface, hook->direction, s.other_kind, s.other_prio,
				 hook->iface, hook->direction, s.other_prio);
	}
	if (b->old_disp_fd >= 0 && r == 0) {
		struct nl_scan all;

		/* Our pin is there but is our filter? (it is gone when the clsact qdisc was
		 * deleted underneath) */
		if (scan_filters(hook, is_ingress(hook), 0, &all) == 0 && all.n_other == 0) {
			log_warning("TC dispatcher %s no longer attached to %s %s: re-creating its "
				    "filter",
				    b->disp_pin, hook->iface, hook->direction);
			return 0;
		}
		return 1;
	}
	return 0;
}

/* Makes chain[0..n) (in run order) the hook's chain; see xdp_rebuild() in dispatcher_xdp.c. */
static int tc_rebuild(struct core *c, const struct link_record *hook,
		      const struct link_record *chain, size_t n, size_t new_idx,
		      const struct program_record *new_prog, const struct link_record *removed,
		      struct error *err)
{
	struct rebuild b = {.hook = hook, .disp_fd = -EBADF, .old_disp_fd = -EBADF};
	struct tc_dispatcher_config cfg;
	uint32_t btf_ids[TC_DISPATCHER_SLOTS];
	_cleanup_free_ char *dir = NULL;
	bool swapped = false, replace = false, in_tx = false;
	int r;

	r = tc_dispatcher_config_build(chain, n, &cfg, err);
	if (r < 0)
		return r;
	dir = tc_dir(c);
	b.dir = hook_dir(c, hook);
	if (!dir || !b.dir || !(b.disp_pin = dispatcher_path_in(b.dir, "dispatcher")) ||
	    !(b.disp_tmp = dispatcher_path_in(b.dir, "dispatcher_new"))) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = pins_mkdir(dir, 0700)) < 0 || (r = pins_mkdir(b.dir, 0700)) < 0) {
		error_set(err, r, "cannot create %s: %s", b.dir, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		b.slots[i] = (struct slot){.rec = chain[i], .ext_fd = -EBADF, .link_fd = -EBADF};
		b.n++;
	}

	if (n == 0) {
		/* The last program left: the filter goes (an empty dispatcher would still cost
		 * every packet a call), then the clsact qdisc if bpfd made it and it is unused. */
		r = store__delete_link(c->store, removed->id);
		if (r < 0 && r != -ENOENT) {
			error_set(err, r, "state store: deleting link %u: %s", removed->id,
				  strerror(-r));
			goto out;
		}
		filter_remove(hook);
		if (removed->pin_path)
			unlink(removed->pin_path);
		pins_remove_dir(b.dir);
		clsact_release(c, hook);
		log_debug("TC dispatcher of %s %s removed with its last program", hook->iface,
			  hook->direction);
		rebuild_done(&b, true);
		return 0;
	}

	r = open_current(&b, err);
	if (r < 0)
		goto out;
	replace = r == 1;
	if (!replace) {
		r = clsact_ensure(c, hook, err);
		if (r < 0)
			goto out;
	}

	/* 1. The new dispatcher. */
	if (dispatcher_inject_failure("TC", "load", err)) {
		r = err->code;
		goto out;
	}
	r = load_dispatcher(&cfg, &b.disp_obj, &b.disp_fd, err);
	if (r < 0)
		goto out;
	r = dispatcher_slot_btf_ids("TC", b.disp_fd, btf_ids, TC_DISPATCHER_SLOTS, err);
	if (r < 0)
		goto out;

	/* 2. Every program into its slot. */
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &b.slots[i];
		LIBBPF_OPTS(bpf_link_create_opts, lo, .target_btf_id = btf_ids[i]);

		if (i == new_idx) {
			r = dispatcher_load_extension("TC", new_prog, b.disp_fd, (unsigned)i, &s->ext_fd, err);
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
		s->link_fd = bpf_link_create(s->ext_fd, b.disp_fd, 0, &lo);
		if (s->link_fd < 0) {
			r = error_set(err, errno == EPERM ? -EPERM : -EIO,
				      "attaching program %u to slot %zu of the new TC dispatcher on "
				      "%s %s: %m",
				      s->rec.prog_id, i, hook->iface, hook->direction);
			if (errno == EPERM)
				diagnose_eperm(err, "freplace");
			goto out;
		}
		s->rec.kernel_link_id = kernel_link_id_of_fd(s->link_fd);
	}
	if (dispatcher_inject_failure("TC", "attach", err)) {
		r = err->code;
		goto out;
	}

	/* 3. Pins under temporary names. */
	unlink(b.disp_tmp); /* a leftover of a crash */
	r = pins_pin_fd(c, b.disp_fd, b.disp_tmp, 0600);
	if (r < 0) {
		error_set(err, r, "cannot pin the new TC dispatcher at %s: %s", b.disp_tmp,
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
		unlink(s->tmp_pin);
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
		error_set(err, r, "state store: recording the TC chain of %s %s: %s", hook->iface,
			  hook->direction, strerror(-r));
		goto out;
	}
	if (dispatcher_inject_failure("TC", "store", err)) {
		r = err->code;
		goto out;
	}
	/* cls_bpf replaces the program of an existing (priority, handle) under RCU: packets see
	 * the old chain or the new one, never none. */
	if (dispatcher_inject_failure("TC", "swap", err)) {
		r = err->code;
		goto out;
	}
	r = filter_set(hook, b.disp_fd, replace, err);
	if (r < 0)
		goto out;
	swapped = true;
	if (dispatcher_inject_failure("TC", "commit", err)) {
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
	log_debug("TC dispatcher of %s %s: new revision (program %u) with %zu programs",
		  hook->iface, hook->direction, dispatcher_prog_id_of_fd(b.disp_fd), n);
	rebuild_done(&b, true);
	return 0;

out:
	if (in_tx)
		store__rollback(c->store);
	if (swapped) {
		struct error ignored = {};

		/* Only the commit failed: put the previous revision back. */
		if (!replace)
			filter_remove(hook);
		else if (filter_set(hook, b.old_disp_fd, true, &ignored) < 0)
			log_error("Restoring the TC dispatcher of %s %s: %s", hook->iface,
				  hook->direction, ignored.message);
	}
	rebuild_done(&b, false);
	if (!replace && b.old_disp_fd < 0) {
		/* Nothing of bpfd's ran here before: leave no directory (nor qdisc) behind. */
		_cleanup_free_ char *hd = hook_dir(c, hook),
				    *disp = hd ? dispatcher_path_in(hd, "dispatcher") : NULL;

		if (disp && access(disp, F_OK) < 0) {
			pins_remove_dir(hd);
			clsact_release(c, hook);
		}
	}
	return r < 0 ? r : -EIO;
}

/* ---- Attach, detach ---- */

int tc_dispatcher_attach(struct core *c, const struct program_record *prog,
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
		if (!tc_link_is_dispatched(&chain[i])) {
			r = error_set(err, -EBUSY,
				      "interface %s %s has bpfd link %u (program %u) that is not in "
				      "a TC dispatcher chain; detach it first",
				      spec->iface, spec->direction, chain[i].id, chain[i].prog_id);
			goto out;
		}
	if (n >= TC_DISPATCHER_SLOTS) {
		r = error_set(err, -ENOSPC,
			      "interface %s %s already runs %zu TC programs, the most one "
			      "dispatcher chain holds; detach one first",
			      spec->iface, spec->direction, n);
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
	r = tc_rebuild(c, spec, want, n + 1, idx, prog, NULL, err);
	if (r >= 0)
		*ret_link_id = link_id;
out:
	free(want); /* shallow: the records belong to chain and spec */
	link_records_free(chain, n);
	return r;
}

/* The interface is gone (its qdiscs and filters went with it): forget l, and the hook's pins
 * with the chain's last link. */
static int forget_link(struct core *c, const struct link_record *l, size_t n_left)
{
	int r = store__delete_link(c->store, l->id);

	if (r < 0 && r != -ENOENT)
		return r;
	if (l->pin_path)
		unlink(l->pin_path);
	if (n_left == 0) {
		struct link_record other = *l;
		_cleanup_free_ char *dir = hook_dir(c, l), *odir = NULL, *mark = NULL;

		if (dir)
			pins_remove_dir(dir);
		other.direction = (char *)(is_ingress(l) ? "egress" : "ingress");
		odir = hook_dir(c, &other);
		mark = clsact_mark(c, l);
		if (odir && mark && access(odir, F_OK) < 0)
			rmdir(mark);
	}
	return 0;
}


int tc_dispatcher_detach(struct core *c, const struct link_record *l, struct error *err)
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
	r = tc_rebuild(c, l, want, k, SIZE_MAX, NULL, l, err);
out:
	free(want);
	link_records_free(chain, n);
	if (saved_ns >= 0)
		netns_leave(TAKE_FD(saved_ns));
	return r;
}

/* ---- Start-up reconcile ---- */

/*
 * A hook directory's name parsed back: "<ifindex>[_<netns hash>]_<direction>". Only hooks in
 * bpfd's own namespace (no hash) can be reached at start: the namespace path is not in the name.
 */
static bool parse_hook_name(const char *name, int *ret_ifindex, bool *ret_own_ns,
			    const char **ret_direction)
{
	const char *dir = strrchr(name, '_');
	char *end;
	long ifindex;

	if (!dir || !(streq(dir + 1, "ingress") || streq(dir + 1, "egress")))
		return false;
	ifindex = strtol(name, &end, 10);
	if (end == name || ifindex <= 0 || ifindex > INT32_MAX)
		return false;
	*ret_ifindex = (int)ifindex;
	*ret_own_ns = end == dir;
	*ret_direction = dir + 1;
	return true;
}

/* Whether bpfd's filter on the hook runs the dispatcher pinned at disp_pin. */
static bool our_filter_runs(const struct link_record *hook, const char *disp_pin)
{
	_cleanup_close_ int fd = bpf_obj_get(disp_pin);
	struct nl_scan all, others;
	uint32_t id;

	if (fd < 0 || !(id = dispatcher_prog_id_of_fd(fd)))
		return false;
	return scan_filters(hook, is_ingress(hook), 0, &all) == 0 &&
	       scan_filters(hook, is_ingress(hook), id, &others) == 0 &&
	       all.n_other == others.n_other + 1;
}

/* An unused hook directory: its filter goes if it still runs the pinned dispatcher (the
 * interface is then the same one), then the directory. Returns whether the filter went. */
static bool remove_orphan_hook(const char *dir, const char *name)
{
	_cleanup_free_ char *disp = dispatcher_path_in(dir, "dispatcher");
	struct link_record hook = {};
	char iface[IF_NAMESIZE] = "";
	bool own_ns, removed = false;
	const char *direction;

	if (parse_hook_name(name, &hook.ifindex, &own_ns, &direction) && own_ns && disp &&
	    if_indextoname((unsigned)hook.ifindex, iface)) {
		hook.iface = iface;
		hook.direction = (char *)direction;
		if (our_filter_runs(&hook, disp)) {
			filter_remove(&hook);
			removed = true;
		}
	}
	log_warning("Removing TC dispatcher %s: no link in the state store uses it%s", dir,
		    removed ? " (its filter removed)"
		    : own_ns ? ""
			     : " (in another network namespace: a filter left there runs an "
			       "empty chain)");
	pins_remove_dir(dir);
	return removed;
}

/* At start: hook directories no TC link record names are removed with their filter; pins of an
 * interrupted rebuild are dropped; a clsact qdisc bpfd created goes when no hook of bpfd's is
 * left on its interface (and no filter at all). */
void tc_dispatchers_reconcile(struct core *c)
{
	_cleanup_free_ char *top = tc_dir(c);
	struct link_record *links = NULL;
	int released[64];
	size_t n = 0, n_released = 0;
	struct dirent *de;
	DIR *d;

	d = top ? opendir(top) : NULL;
	if (!d)
		return;
	if (store__list_links(c->store, 0, &links, &n) < 0)
		goto out;
	while ((de = readdir(d))) {
		_cleanup_free_ char *dir = NULL;
		bool used = false;
		int ifindex;
		bool own_ns;
		const char *direction;

		if (de->d_name[0] == '.' ||
		    !parse_hook_name(de->d_name, &ifindex, &own_ns, &direction))
			continue;
		for (size_t i = 0; i < n && !used; i++) {
			char name[80];

			used = links[i].type == BPFD_PROG_TC &&
			       tc_dispatcher_hook_name(&links[i], name, sizeof(name)) == 0 &&
			       streq(name, de->d_name) && tc_link_is_dispatched(&links[i]);
		}
		dir = dispatcher_path_in(top, de->d_name);
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
		if (remove_orphan_hook(dir, de->d_name) && n_released < ELEMENTSOF(released))
			released[n_released++] = ifindex;
	}

	/* The clsact marks "<hook>_clsact" whose interface has no hook directory left. */
	rewinddir(d);
	while ((de = readdir(d))) {
		_cleanup_free_ char *mark = NULL, *in = NULL, *eg = NULL;
		size_t len = strlen(de->d_name);
		char hook[64];

		if (len <= 7 || len - 7 >= sizeof(hook) || !streq(de->d_name + len - 7, "_clsact"))
			continue;
		snprintf(hook, sizeof(hook), "%.*s", (int)(len - 7), de->d_name);
		mark = dispatcher_path_in(top, de->d_name);
		if (asprintf(&in, "%s/%s_ingress", top, hook) < 0)
			in = NULL;
		if (asprintf(&eg, "%s/%s_egress", top, hook) < 0)
			eg = NULL;
		if (!mark || !in || !eg || access(in, F_OK) == 0 || access(eg, F_OK) == 0)
			continue;
		for (size_t i = 0; i < n_released; i++) {
			struct link_record l = {.direction = (char *)"ingress"};
			char iface[IF_NAMESIZE];
			char own[16];

			/* Only where bpfd's own filter was just removed: the interface is then
			 * the one bpfd made the qdisc on, not another one with its index. */
			snprintf(own, sizeof(own), "%d", released[i]);
			if (!streq(own, hook) || !if_indextoname((unsigned)released[i], iface))
				continue;
			l.ifindex = released[i];
			l.iface = iface;
			clsact_release(c, &l); /* removes the mark too */
		}
		if (access(mark, F_OK) == 0) {
			log_warning("Forgetting that bpfd created the clsact qdisc of %s: no TC "
				    "dispatcher of bpfd's is left there",
				    hook);
			rmdir(mark);
		}
	}
out:
	closedir(d);
	link_records_free(links, n);
}
