/* SPDX-License-Identifier: Apache-2.0 */
/* Attach and Detach: validation common to every hook, link ids, pins and records. The
 * kernel side of each hook is in attach_net.c, attach_perf.c and attach_tracing.c. */
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include "dispatcher.h"
#include "internal.h"
#include "log.h"

void link_views_free(struct link_view *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		link_record__clear(&v[i].record);
	free(v);
}

static bool is_net_hook(int type)
{
	return type == BPFD_PROG_XDP || type == BPFD_PROG_TC || type == BPFD_PROG_TCX;
}

/* Which program types may be attached as which attachment type. */
static bool type_compatible(int prog_type, int attach_type)
{
	if (attach_type == BPFD_PROG_TC || attach_type == BPFD_PROG_TCX)
		return prog_type == BPFD_PROG_TC || prog_type == BPFD_PROG_TCX;
	return prog_type == attach_type;
}

/* Same program, same hook. */
static bool same_hook(const struct link_record *a, const struct link_record *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case BPFD_PROG_XDP:
		return str_eq_null(a->iface, b->iface) && str_eq_null(a->netns, b->netns);
	case BPFD_PROG_TC:
	case BPFD_PROG_TCX:
		return str_eq_null(a->iface, b->iface) && str_eq_null(a->netns, b->netns) &&
		       str_eq_null(a->direction, b->direction);
	case BPFD_PROG_TRACEPOINT:
		return str_eq_null(a->tracepoint, b->tracepoint);
	case BPFD_PROG_KPROBE:
		return str_eq_null(a->fn_name, b->fn_name) && a->offset == b->offset;
	case BPFD_PROG_UPROBE:
		return str_eq_null(a->target, b->target) && str_eq_null(a->fn_name, b->fn_name) &&
		       a->offset == b->offset && a->pid == b->pid;
	default:
		return true; /* fentry, fexit, lsm: the hook is fixed at load */
	}
}

static int validate_spec(const struct program_record *prog, struct link_record *s,
			 struct error *err)
{
	const char *want = bpfd_prog_type_to_string(s->type);

	if (!want)
		return error_set(err, -EINVAL, "attach: unknown attach type %d", s->type);
	if (!type_compatible(prog->type, s->type))
		return error_set(err, -EINVAL,
				 "program %u is a %s program; it cannot be attached as %s",
				 prog->id, bpfd_prog_type_to_string(prog->type), want);
	if (is_net_hook(s->type)) {
		if (s->priority == 0)
			s->priority = BPFD_PRIORITY_DEFAULT;
		if (s->priority < BPFD_PRIORITY_MIN || s->priority > BPFD_PRIORITY_MAX)
			return error_set(err, -EINVAL, "priority %d is outside %d..%d",
					 s->priority, BPFD_PRIORITY_MIN, BPFD_PRIORITY_MAX);
		if (!s->iface || !s->iface[0])
			return error_set(err, -EINVAL, "%s attach: iface missing", want);
		if (strlen(s->iface) >= IF_NAMESIZE)
			return error_set(err, -EINVAL, "iface '%s' is longer than %d characters",
					 s->iface, IF_NAMESIZE - 1);
	}
	if (s->type == BPFD_PROG_XDP || s->type == BPFD_PROG_TC) {
		int r = proceed_on_validate(s->type, s->proceed_on, s->n_proceed_on, err);

		if (r < 0)
			return r;
	}
	if (s->type == BPFD_PROG_TC || s->type == BPFD_PROG_TCX) {
		if (!s->direction || (!streq(s->direction, "ingress") &&
				      !streq(s->direction, "egress")))
			return error_set(err, -EINVAL,
					 "direction '%s' is neither \"ingress\" nor \"egress\"",
					 s->direction ? s->direction : "");
	}
	if (s->type == BPFD_PROG_TRACEPOINT) {
		const char *slash = s->tracepoint ? strchr(s->tracepoint, '/') : NULL;

		if (!slash || slash == s->tracepoint || !slash[1] || strchr(slash + 1, '/') ||
		    strstr(s->tracepoint, ".."))
			return error_set(err, -EINVAL,
					 "tracepoint '%s' is not of the form \"category/name\"",
					 s->tracepoint ? s->tracepoint : "");
	}
	if (s->type == BPFD_PROG_KPROBE || s->type == BPFD_PROG_UPROBE) {
		s->retprobe = prog->section && (!strncmp(prog->section, "kretprobe", 9) ||
						!strncmp(prog->section, "uretprobe", 9));
		if (s->type == BPFD_PROG_KPROBE && (!s->fn_name || !s->fn_name[0]))
			return error_set(err, -EINVAL, "kprobe attach: fn_name missing");
		if (s->type == BPFD_PROG_KPROBE && s->retprobe && s->offset != 0)
			return error_set(err, -EINVAL,
					 "kretprobe program %u: offset must be 0 (got %llu)",
					 prog->id, (unsigned long long)s->offset);
		if (s->type == BPFD_PROG_UPROBE && (!s->target || !s->target[0]))
			return error_set(err, -EINVAL, "uprobe attach: target missing");
		if (s->type == BPFD_PROG_UPROBE && (!s->fn_name || !s->fn_name[0]) &&
		    s->offset == 0)
			return error_set(err, -EINVAL,
					 "uprobe attach: give fn_name, offset or both");
		if (s->pid < 0)
			return error_set(err, -EINVAL, "pid %d is negative", s->pid);
	}
	return 0;
}

/*
 * XDP: several programs on one interface run in bpfd's XDP dispatcher, which needs program
 * extensions (freplace). Where the kernel refuses them (measured once, features.c) the first
 * program is attached directly and a second one is refused with the reason. Returns 1 when the
 * attachment goes through the dispatcher, 0 when it is attached directly.
 */
static int xdp_attach_mode(const struct link_record *existing, size_t n,
			   const struct link_record *s, struct error *err)
{
	const char *detail = NULL;
	int probe = core_freplace_probe(&detail);

	if (probe == 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		const struct link_record *l = &existing[i];

		if (l->type != BPFD_PROG_XDP || l->ifindex != s->ifindex ||
		    !str_eq_null(l->netns, s->netns))
			continue;
		error_set(err, -EOPNOTSUPP,
			  "interface %s already runs XDP program %u (bpfd link %u); chaining a "
			  "second XDP program needs program extensions (freplace, "
			  "BPF_PROG_TYPE_EXT) for bpfd's XDP dispatcher, which this kernel refuses "
			  "(measured: %s)",
			  s->iface, l->prog_id, l->id, detail);
		if (probe == -EPERM)
			diagnose_refusal(err, "freplace", true, -EPERM, "");
		else
			error_append(err, "see bpfctl doctor");
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * TC on a kernel without TCX: the chain runs in bpfd's TC dispatcher (clsact + one cls_bpf
 * filter), which needs program extensions like the XDP one. Without them there is no way to
 * order several programs, so even the first is refused, naming both missing features.
 */
static int tc_attach_dispatched(struct core *c, const struct program_record *prog,
				const struct link_record *s, uint32_t *ret_link_id,
				struct error *err)
{
	const char *detail = NULL;
	int r, probe = core_freplace_probe(&detail);

	if (probe < 0) {
		error_set(err, -EOPNOTSUPP,
			  "tc attach on %s: this kernel has no TCX, and bpfd's TC dispatcher "
			  "needs program extensions (freplace, BPF_PROG_TYPE_EXT), which it "
			  "refuses (measured: %s)",
			  s->iface, detail);
		if (probe == -EPERM)
			diagnose_refusal(err, "freplace", true, -EPERM, "");
		else
			error_append(err, "see bpfctl doctor");
		return -EOPNOTSUPP;
	}
	r = tc_dispatcher_attach(c, prog, s, ret_link_id, err);
	if (r >= 0)
		log_info("Attached program %u as tc on %s %s in its dispatcher chain, link %u "
			 "(owner uid %u)",
			 prog->id, s->iface, s->direction, *ret_link_id, (unsigned)s->owner_uid);
	return r;
}

static int attach_kernel(struct core *c, const struct program_record *prog, int prog_fd,
			 const struct link_record *s, struct error *err)
{
	switch (s->type) {
	case BPFD_PROG_XDP:
		return attach_xdp(c, prog_fd, s, err);
	case BPFD_PROG_TC:
	case BPFD_PROG_TCX:
		return attach_tcx(c, prog_fd, s, err);
	case BPFD_PROG_TRACEPOINT:
		return attach_tracepoint(prog_fd, s, err);
	case BPFD_PROG_KPROBE:
		return attach_kprobe(prog_fd, s, err);
	case BPFD_PROG_UPROBE:
		return attach_uprobe(prog_fd, s, err);
	case BPFD_PROG_FENTRY:
	case BPFD_PROG_FEXIT:
	case BPFD_PROG_LSM:
		return attach_tracing(prog_fd, prog, err);
	}
	return error_set(err, -EINVAL, "attach: unknown attach type %d", s->type);
}

int core__attach(struct core *c, uint32_t prog_id, const struct link_record *spec,
		 uint32_t *ret_link_id, struct error *err)
{
	_cleanup_(program_record__clear) struct program_record prog = {};
	_cleanup_close_ int prog_fd = -EBADF, link_fd = -EBADF, saved_ns = -EBADF;
	_cleanup_free_ char *pin = NULL;
	struct link_record *existing = NULL;
	size_t n_existing = 0;
	struct link_record s = *spec;
	uint32_t link_id;
	int r;

	if (prog_id == 0)
		return error_set(err, -EINVAL, "id: program id missing (0)");
	r = store__get_program(c->store, prog_id, &prog);
	if (r == -ENOENT) {
		_cleanup_close_ int fd = bpf_prog_get_fd_by_id(prog_id);

		return error_set(err, -ENOENT,
				 fd >= 0 ? "program %u is not managed by bpfd" :
					   "program %u not found",
				 prog_id);
	}
	if (r < 0)
		return error_set(err, r, "state store: %s", strerror(-r));
	r = validate_spec(&prog, &s, err);
	if (r < 0)
		return r;

	if (s.netns) {
		r = netns_enter(s.netns, &saved_ns, err);
		if (r < 0)
			return r;
	}
	if (is_net_hook(s.type)) {
		s.ifindex = (int32_t)if_nametoindex(s.iface);
		if (s.ifindex == 0) {
			r = error_set(err, -ENOENT, "interface '%s' not found%s%s", s.iface,
				      s.netns ? " in network namespace " : "",
				      s.netns ? s.netns : "");
			goto out;
		}
	}

	r = store__list_links(c->store, 0, &existing, &n_existing);
	if (r < 0) {
		error_set(err, r, "state store: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n_existing; i++)
		if (existing[i].prog_id == prog_id && same_hook(&existing[i], &s)) {
			r = error_set(err, -EEXIST,
				      "program %u is already attached there (link %u)", prog_id,
				      existing[i].id);
			goto out;
		}
	if (s.type == BPFD_PROG_XDP) {
		r = xdp_attach_mode(existing, n_existing, &s, err);
		if (r < 0)
			goto out;
		if (r == 1) {
			r = xdp_dispatcher_attach(c, &prog, &s, &link_id, err);
			if (r < 0)
				goto out;
			log_info("Attached program %u as xdp on %s in its dispatcher chain, link %u "
				 "(owner uid %u)",
				 prog_id, s.iface, link_id, (unsigned)s.owner_uid);
			*ret_link_id = link_id;
			goto out;
		}
	}

	if (s.type == BPFD_PROG_TC && !tc_has_tcx(s.ifindex, s.direction)) {
		r = tc_attach_dispatched(c, &prog, &s, &link_id, err);
		if (r < 0)
			goto out;
		*ret_link_id = link_id;
		goto out;
	}

	prog_fd = bpf_obj_get(prog.pin_path);
	if (prog_fd < 0) {
		r = error_set(err, -EIO, "program %u: its pin %s cannot be opened: %m", prog_id,
			      prog.pin_path);
		goto out;
	}
	link_fd = attach_kernel(c, &prog, prog_fd, &s, err);
	if (link_fd < 0) {
		r = link_fd;
		goto out;
	}

	r = store__allocate_link_id(c->store, &link_id);
	if (r < 0) {
		error_set(err, r, "state store: %s", strerror(-r));
		goto out;
	}
	pin = pin_path_link(c, link_id);
	if (!pin) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = pins_pin_fd(c, link_fd, pin, 0600);
	if (r < 0) {
		error_set(err, r, "cannot pin link at %s: %s", pin, strerror(-r));
		goto out;
	}
	s.id = link_id;
	s.prog_id = prog_id;
	s.kernel_link_id = kernel_link_id_of_fd(link_fd);
	s.pin_path = pin;
	s.seq = 0;
	r = store__put_link(c->store, &s, NULL);
	if (r < 0) {
		unlink(pin);
		error_set(err, r, "state store: recording link: %s", strerror(-r));
		goto out;
	}
	log_info("Attached program %u as %s%s%s, link %u (kernel link %u, owner uid %u)",
		 prog_id, bpfd_prog_type_to_string(s.type), s.iface ? " on " : "",
		 s.iface ? s.iface : "", link_id, s.kernel_link_id, (unsigned)s.owner_uid);
	*ret_link_id = link_id;
	r = 0;
out:
	link_records_free(existing, n_existing);
	if (saved_ns >= 0)
		netns_leave(TAKE_FD(saved_ns));
	return r;
}

int core_detach_link(struct core *c, const struct link_record *l)
{
	int r;

	if (xdp_link_is_dispatched(l) || tc_link_is_dispatched(l)) {
		struct error err = {};

		r = l->type == BPFD_PROG_TC ? tc_dispatcher_detach(c, l, &err) :
					      xdp_dispatcher_detach(c, l, &err);
		if (r < 0)
			log_debug("Detaching link %u from its dispatcher: %s", l->id,
				  err.message);
		return r;
	}
	if (l->pin_path) {
		_cleanup_close_ int fd = bpf_obj_get(l->pin_path);

		/* Detach now even if someone else holds the link open; perf-event links of
		 * older kernels cannot, and go away with their last reference instead. */
		if (fd >= 0 && bpf_link_detach(fd) < 0 && errno != EOPNOTSUPP && errno != EINVAL)
			log_debug_errno(errno, "bpf_link_detach of link %u: %m", l->id);
		if (unlink(l->pin_path) < 0 && errno != ENOENT)
			return negative_errno();
	}
	r = store__delete_link(c->store, l->id);
	if (r < 0 && r != -ENOENT)
		return r;
	return 0;
}

int core_forget_link(struct core *c, const struct link_record *l)
{
	struct error err = {};
	int r;

	if (!xdp_link_is_dispatched(l) && !tc_link_is_dispatched(l))
		return core_detach_link(c, l); /* enters nothing */
	r = l->type == BPFD_PROG_TC ? tc_dispatcher_forget(c, l, &err) :
				      xdp_dispatcher_forget(c, l, &err);
	if (r < 0)
		log_debug("Forgetting link %u of its dispatcher: %s", l->id, err.message);
	return r;
}

int core__detach(struct core *c, uint32_t link_id, uid_t caller_uid, struct error *err)
{
	_cleanup_(link_record__clear) struct link_record l = {};
	int r;

	if (link_id == 0)
		return error_set(err, -EINVAL, "link_id missing (0)");
	r = store__get_link(c->store, link_id, &l);
	if (r == -ENOENT)
		return error_set(err, -ENOENT, "link %u not found", link_id);
	if (r < 0)
		return error_set(err, r, "state store: %s", strerror(-r));
	if (caller_uid != 0 && caller_uid != l.owner_uid)
		return error_set(err, -EACCES, "link %u belongs to uid %u, not to uid %u", link_id,
				 (unsigned)l.owner_uid, (unsigned)caller_uid);
	if (xdp_link_is_dispatched(&l))
		r = xdp_dispatcher_detach(c, &l, err);
	else if (tc_link_is_dispatched(&l))
		r = tc_dispatcher_detach(c, &l, err);
	else
		r = core_detach_link(c, &l);
	if (r < 0)
		return error_set(err, r, "detaching link %u: %s", link_id, strerror(-r));
	log_info("Detached link %u of program %u for uid %u", link_id, l.prog_id,
		 (unsigned)caller_uid);
	return 0;
}

/* Order in a chain: priority, then attach order. */
static bool chain_before(const struct link_record *a, const struct link_record *b)
{
	return a->priority < b->priority || (a->priority == b->priority && a->seq < b->seq);
}

static bool same_chain(const struct link_record *a, const struct link_record *b)
{
	bool a_tc = a->type == BPFD_PROG_TC || a->type == BPFD_PROG_TCX;
	bool b_tc = b->type == BPFD_PROG_TC || b->type == BPFD_PROG_TCX;

	if (!is_net_hook(a->type) || !is_net_hook(b->type))
		return false;
	if (a_tc != b_tc || a->ifindex != b->ifindex || !str_eq_null(a->netns, b->netns))
		return false;
	return !a_tc || str_eq_null(a->direction, b->direction);
}

static int32_t chain_position(const struct link_record *all, size_t n,
			      const struct link_record *l)
{
	int32_t pos = 0;

	if (!is_net_hook(l->type))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (all[i].id != l->id && same_chain(&all[i], l) && chain_before(&all[i], l))
			pos++;
	return pos;
}

int chain_links(struct core *c, const struct link_record *hook, struct link_record **ret,
		size_t *ret_n)
{
	struct link_record *all = NULL, *out;
	size_t n = 0, k = 0;
	int r;

	r = store__list_links(c->store, 0, &all, &n);
	if (r < 0)
		return r;
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		link_records_free(all, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (same_chain(&all[i], hook))
			out[k++] = all[i];
		else
			link_record__clear(&all[i]);
	}
	free(all);
	/* Insertion sort: chains hold at most a handful of links. */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && chain_before(&out[j], &out[j - 1]); j--) {
			struct link_record t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	*ret = out;
	*ret_n = k;
	return 0;
}

int core__list_links(struct core *c, uint32_t prog_id, struct link_view **ret, size_t *ret_n,
		     struct error *err)
{
	struct link_record *all = NULL;
	struct link_view *v;
	size_t n = 0, k = 0;
	int r;

	r = store__list_links(c->store, 0, &all, &n);
	if (r < 0)
		return error_set(err, r, "state store: %s", strerror(-r));
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		link_records_free(all, n);
		return error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		if (prog_id == 0 || all[i].prog_id == prog_id)
			v[k++].position = chain_position(all, n, &all[i]);
	k = 0;
	for (size_t i = 0; i < n; i++) {
		if (prog_id == 0 || all[i].prog_id == prog_id)
			v[k++].record = all[i];
		else
			link_record__clear(&all[i]);
	}
	free(all);
	*ret = v;
	*ret_n = k;
	return 0;
}

int core__get_link(struct core *c, uint32_t link_id, struct link_view *ret, struct error *err)
{
	struct link_view *all = NULL;
	size_t n = 0;
	int r;

	r = core__list_links(c, 0, &all, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (all[i].record.id == link_id) {
			*ret = all[i];
			all[i].record = (struct link_record){};
			link_views_free(all, n);
			return 0;
		}
	link_views_free(all, n);
	return error_set(err, -ENOENT, "link %u not found", link_id);
}
