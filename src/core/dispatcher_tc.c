/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TC dispatcher, for kernels without TCX (Linux < 6.6): up to ten programs on one
 * (interface, direction), in (priority, attach order), each continuing the chain only on its
 * proceed_on verdicts. On the hook there is a clsact qdisc and ONE cls_bpf filter of bpfd's in
 * direct-action mode, (priority TC_DISPATCHER_PRIORITY, handle TC_DISPATCHER_HANDLE), running
 * the current dispatcher (bpf/tc_dispatcher.bpf.c, embedded at build time). docs/dispatchers.md.
 *
 * Every change builds a new revision and swaps it in (dispatcher_rebuild() in
 * dispatcher_chain.c, as for XDP); what is TC's is here: the swap replaces the filter's
 * program (bpf_tc_attach with BPF_TC_F_REPLACE on the same priority and handle: cls_bpf swaps it
 * atomically), the clsact qdisc is created when missing and removed only when bpfd created it
 * and nothing is left on it, and filters bpfd does not own are refused, never replaced.
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

static const struct dispatcher_ops tc_ops;

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
	return dispatcher_link_is_dispatched(l, BPFD_PROG_TC);
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

/* ---- The hook: bpfd's cls_bpf filter running the dispatcher ---- */

static int tc_load(const struct link_record *chain, size_t n, struct bpf_object **ret_obj,
		   int *ret_fd, struct error *err)
{
	struct tc_dispatcher_config cfg;
	const void *elf;
	size_t size;
	int r;

	r = tc_dispatcher_config_build(chain, n, &cfg, err);
	if (r < 0)
		return r;
	elf = tc_dispatcher_bpf__elf_bytes(&size);
	return dispatcher_load_program("TC", "tc_dispatcher", elf, size, &cfg, sizeof(cfg), ret_obj,
				       ret_fd, err);
}

/*
 * What runs on the hook now. Any filter on the direction but bpfd's own dispatcher is
 * refused: with direct-action the first filter's verdict ends classification, so chaining in
 * front of another filter would silently stop it from running. Without bpfd's filter there,
 * the hook gets its clsact qdisc.
 */
static int tc_open_current(struct dispatcher_rebuild *b, struct error *err)
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
		if (scan_filters(hook, is_ingress(hook), 0, &all) == 0 && all.n_other == 0)
			log_warning("TC dispatcher %s no longer attached to %s %s: re-creating its "
				    "filter",
				    b->disp_pin, hook->iface, hook->direction);
		else
			b->replace = true;
	}
	return b->replace ? 0 : clsact_ensure(b->c, hook, err);
}

/* cls_bpf replaces the program of an existing (priority, handle) under RCU: packets see the
 * old chain or the new one, never none. The first revision creates the filter (exclusive). */
static int tc_swap(struct dispatcher_rebuild *b, struct error *err)
{
	return filter_set(b->hook, b->disp_fd, b->replace, err);
}

static void tc_swap_back(struct dispatcher_rebuild *b)
{
	struct error ignored = {};

	if (!b->replace)
		filter_remove(b->hook);
	else if (filter_set(b->hook, b->old_disp_fd, true, &ignored) < 0)
		log_error("Restoring the TC dispatcher of %s %s: %s", b->hook->iface,
			  b->hook->direction, ignored.message);
}

static void tc_remove(struct dispatcher_rebuild *b)
{
	filter_remove(b->hook);
}

/* The interface is gone with its qdiscs: with the chain's last link, the clsact mark goes too
 * unless bpfd's other direction still uses it. */
static void tc_forgotten(struct core *c, const struct link_record *l, size_t n_left)
{
	struct link_record other = *l;
	_cleanup_free_ char *odir = NULL, *mark = NULL;

	if (n_left > 0)
		return;
	other.direction = (char *)(is_ingress(l) ? "egress" : "ingress");
	odir = dispatcher_hook_dir(&tc_ops, c, &other);
	mark = clsact_mark(c, l);
	if (odir && mark && access(odir, F_OK) < 0)
		rmdir(mark);
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

static bool tc_is_hook_dir(const char *name)
{
	const char *direction;
	bool own_ns;
	int ifindex;

	return parse_hook_name(name, &ifindex, &own_ns, &direction);
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

/*
 * An unused hook directory: its filter goes if it still runs the pinned dispatcher (the
 * interface is then the same one), and then the clsact qdisc bpfd created if bpfd's other
 * direction is not there (any more) and nothing else is on it.
 */
static void tc_remove_orphan(struct core *c, const char *dir, const char *name)
{
	_cleanup_free_ char *disp = dispatcher_path_in(dir, "dispatcher"),
			    *disp_new = dispatcher_path_in(dir, "dispatcher_new"), *odir = NULL;
	struct link_record hook = {}, other;
	char iface[IF_NAMESIZE] = "";
	bool own_ns, removed = false;
	const char *direction;

	if (parse_hook_name(name, &hook.ifindex, &own_ns, &direction) && own_ns && disp &&
	    if_indextoname((unsigned)hook.ifindex, iface)) {
		hook.iface = iface;
		hook.direction = (char *)direction;
		/* dispatcher_new: a first revision whose rebuild a crash interrupted after the
		 * swap; no record names it. */
		if (our_filter_runs(&hook, disp) ||
		    (disp_new && our_filter_runs(&hook, disp_new))) {
			filter_remove(&hook);
			removed = true;
		}
	}
	log_warning("Removing TC dispatcher %s: no link in the state store uses it%s", dir,
		    removed ? " (its filter removed)"
		    : own_ns ? ""
			     : " (in another network namespace: a filter left there runs an "
			       "empty chain)");
	if (!removed)
		return;
	other = hook;
	other.direction = (char *)(is_ingress(&hook) ? "egress" : "ingress");
	odir = dispatcher_hook_dir(&tc_ops, c, &other);
	if (odir && access(odir, F_OK) < 0)
		clsact_release(c, &hook);
}

/* Clsact marks "<hook>_clsact" with no hook directory of bpfd's left (the interface vanished
 * while bpfd was not running, or another namespace's): forgotten, their qdisc left alone. */
static void tc_reconciled(struct core *c)
{
	_cleanup_free_ char *top = tc_dir(c);
	struct dirent *de;
	DIR *d;

	d = top ? opendir(top) : NULL;
	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *mark = NULL, *in = NULL, *eg = NULL;
		size_t len = strlen(de->d_name);

		if (len <= 7 || !streq(de->d_name + len - 7, "_clsact"))
			continue;
		mark = dispatcher_path_in(top, de->d_name);
		if (asprintf(&in, "%s/%.*s_ingress", top, (int)(len - 7), de->d_name) < 0)
			in = NULL;
		if (asprintf(&eg, "%s/%.*s_egress", top, (int)(len - 7), de->d_name) < 0)
			eg = NULL;
		if (!mark || !in || !eg || access(in, F_OK) == 0 || access(eg, F_OK) == 0)
			continue;
		log_warning("Forgetting that bpfd created the clsact qdisc of hook %.*s: no TC "
			    "dispatcher of bpfd's is left there",
			    (int)(len - 7), de->d_name);
		rmdir(mark);
	}
	closedir(d);
}

static const struct dispatcher_ops tc_ops = {
	.kind = "TC",
	.type = BPFD_PROG_TC,
	.subdir = "tc",
	.hook_name = tc_dispatcher_hook_name,
	.load = tc_load,
	.open_current = tc_open_current,
	.swap = tc_swap,
	.swap_back = tc_swap_back,
	.remove = tc_remove,
	.released = clsact_release,
	.forgotten = tc_forgotten,
	.is_hook_dir = tc_is_hook_dir,
	.remove_orphan = tc_remove_orphan,
	.reconciled = tc_reconciled,
};

int tc_dispatcher_attach(struct core *c, const struct program_record *prog,
			 const struct link_record *spec, uint32_t *ret_link_id, struct error *err)
{
	return dispatcher_attach(&tc_ops, c, prog, spec, ret_link_id, err);
}

int tc_dispatcher_detach(struct core *c, const struct link_record *l, struct error *err)
{
	return dispatcher_detach(&tc_ops, c, l, err);
}

int tc_dispatcher_forget(struct core *c, const struct link_record *l, struct error *err)
{
	return dispatcher_forget(&tc_ops, c, l, err);
}

void tc_dispatchers_recover(struct core *c)
{
	dispatcher_recover(&tc_ops, c);
}

void tc_dispatchers_reconcile(struct core *c)
{
	dispatcher_reconcile(&tc_ops, c);
}
