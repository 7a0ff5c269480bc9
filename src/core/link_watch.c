/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interfaces and network namespaces that disappear (docs/dispatchers.md). The kernel detaches
 * XDP, TC and TCX programs with their interface; bpfd forgets the links it had there (record,
 * pin, and the hook's dispatcher pins with the last one) and logs one line per link.
 *
 * One rtnetlink socket (link group) for bpfd's own network namespace, plus one opened inside
 * every other namespace that has links (netlink sockets belong to the namespace they were
 * created in; NETLINK_LISTEN_ALL_NSID would need CAP_NET_BROADCAST, which bpfd does not hold).
 * A socket keeps its namespace alive, so deleting the namespace is seen on its path instead:
 * inotify on the path's directory (`ip netns del` unlinks /run/netns/NAME) and a 1 s recheck
 * for paths inotify cannot see (/proc/PID/ns/net, a bare umount). Then the socket is closed
 * first, so that the namespace and its interfaces can go, and the links are forgotten.
 *
 * Everything runs on the privileged thread, which may enter namespaces (setns). The set of
 * namespaces is derived from the store after each batch of operations, and only when the store
 * changed (store__change_count()). libmnl does the netlink framing.
 */
#include <fcntl.h>
#include <libgen.h>
#include <linux/magic.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "dispatcher.h"
#include "internal.h"
#include "log.h"

/* Each watched namespace costs bpfd an fd (the unit allows 4096); links in namespaces beyond
 * this are still forgotten when detached, unloaded or found stale at the next start. */
#define LINK_WATCH_MAX_NS 256

struct ns_watch {
	char *path; /* NULL: bpfd's own network namespace */
	int fd;	    /* rtnetlink socket opened inside it; -EBADF when that failed (retried) */
	dev_t dev;  /* the namespace path named when the socket was opened */
	ino_t ino;
};

struct link_watch {
	int epoll_fd;
	int inotify_fd;	     /* directories of the watched paths; -EBADF while none */
	int timer_fd;	     /* the 1 s recheck; -EBADF while no other namespace is watched */
	struct ns_watch *ns; /* [0] is bpfd's own namespace */
	size_t n_ns;
	uint64_t synced_changes; /* store__change_count() at the last sync */
	bool synced;
	bool warned_max;
};

static bool is_net_link(const struct link_record *l)
{
	return l->iface &&
	       (l->type == BPFD_PROG_XDP || l->type == BPFD_PROG_TC || l->type == BPFD_PROG_TCX);
}

static int rtnl_open(void)
{
	struct mnl_socket *nl;
	int fd;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl)
		return negative_errno();
	if (mnl_socket_bind(nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		int r = negative_errno();

		mnl_socket_close(nl);
		return r;
	}
	/* Keep the bare fd; the mnl wrapper is only a malloc'd struct. */
	fd = fcntl(mnl_socket_get_fd(nl), F_DUPFD_CLOEXEC, 3);
	mnl_socket_close(nl);
	return fd < 0 ? negative_errno() : fd;
}

/* Which namespace path names now: 0 with its identity, -ENOENT when it is gone (missing, or no
 * longer a namespace: the bind mount was removed), another negative errno when unknown. */
static int ns_identify(const char *path, dev_t *ret_dev, ino_t *ret_ino)
{
	struct statfs sfs;
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : negative_errno();
	if (statfs(path, &sfs) < 0)
		return errno == ENOENT ? -ENOENT : negative_errno();
	if (sfs.f_type != NSFS_MAGIC)
		return -ENOENT;
	*ret_dev = st.st_dev;
	*ret_ino = st.st_ino;
	return 0;
}

static void fd_unwatch(struct link_watch *w, int *fd)
{
	if (*fd >= 0)
		epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, *fd, NULL);
	*fd = safe_close(*fd);
}

static int fd_watch(struct link_watch *w, int fd)
{
	if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, fd,
		      &(struct epoll_event){.events = EPOLLIN, .data.fd = fd}) < 0)
		return negative_errno();
	return 0;
}

/* Opens ns's socket inside its namespace; -ENOENT when the namespace is gone. */
static int ns_watch_open(struct link_watch *w, struct ns_watch *ns)
{
	_cleanup_close_ int saved = -EBADF, fd = -EBADF;
	struct error err = {};
	int r;

	if (ns->path) {
		r = ns_identify(ns->path, &ns->dev, &ns->ino);
		if (r < 0)
			return r;
		r = netns_enter(ns->path, &saved, &err);
		if (r < 0)
			return r;
	}
	fd = rtnl_open();
	if (saved >= 0)
		netns_leave(TAKE_FD(saved));
	if (fd < 0)
		return fd;
	r = fd_watch(w, fd);
	if (r < 0)
		return r;
	ns->fd = TAKE_FD(fd);
	return 0;
}

/* Removes w->ns[i] (never [0], bpfd's own). */
static void ns_watch_drop(struct link_watch *w, size_t i)
{
	fd_unwatch(w, &w->ns[i].fd);
	free(w->ns[i].path);
	w->ns[i] = w->ns[--w->n_ns];
}

static void forget(struct core *c, const struct link_record *l, bool ns_gone)
{
	const char *type = bpfd_prog_type_to_string(l->type);
	/* A gone namespace is not entered again: its path may name another one by now. */
	int r = ns_gone ? core_forget_link(c, l) : core_detach_link(c, l);

	if (r < 0)
		log_warning_errno(r,
				  "%s %s is gone; forgetting %s link %u of program %u on %s%s%s "
				  "failed: %m",
				  ns_gone ? "Network namespace" : "Interface",
				  ns_gone ? l->netns : l->iface, type, l->id, l->prog_id, l->iface,
				  l->netns ? " in " : "", l->netns ? l->netns : "");
	else if (ns_gone)
		log_info("Network namespace %s is gone: forgot %s link %u of program %u on "
			 "interface %s (index %d)",
			 l->netns, type, l->id, l->prog_id, l->iface, l->ifindex);
	else
		log_info("Interface %s (index %d) is gone%s%s: forgot %s link %u of program %u",
			 l->iface, l->ifindex, l->netns ? " from network namespace " : "",
			 l->netns ? l->netns : "", type, l->id, l->prog_id);
}

/* Forgets the links on (path, ifindex). name is the deleted interface's name, or NULL. */
static void forget_interface(struct core *c, const char *path, int ifindex, const char *name)
{
	struct link_record *links = NULL;
	size_t n = 0;

	if (store__list_links(c->store, 0, &links, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct link_record *l = &links[i];

		if (!is_net_link(l) || !str_eq_null(l->netns, path) || l->ifindex != ifindex)
			continue;
		/* A stale index: a link on another interface that reuses it stays. */
		if (name && !streq(name, l->iface))
			continue;
		forget(c, l, false);
	}
	link_records_free(links, n);
}

static void forget_namespace(struct core *c, const char *path)
{
	struct link_record *links = NULL;
	size_t n = 0;

	if (store__list_links(c->store, 0, &links, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (is_net_link(&links[i]) && str_eq_null(links[i].netns, path))
			forget(c, &links[i], true);
	link_records_free(links, n);
}

/* Forgets the links of ns whose interface is not there any more (same index and name): events
 * missed before its socket existed, while bpfd was down, or lost to ENOBUFS. */
static void ns_verify(struct core *c, const struct ns_watch *ns)
{
	_cleanup_close_ int saved = -EBADF;
	struct link_record *links = NULL;
	struct error err = {};
	size_t n = 0, k = 0;
	int r;

	if (store__list_links(c->store, 0, &links, &n) < 0)
		return;
	if (ns->path) {
		r = netns_enter(ns->path, &saved, &err);
		if (r < 0) {
			/* Gone or not: the recheck decides. */
			log_debug("Checking the interfaces of %s: %s", ns->path, err.message);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_net_link(&links[i]) || !str_eq_null(links[i].netns, ns->path) ||
		    dispatcher_iface_exists(&links[i])) {
			link_record__clear(&links[i]);
			continue;
		}
		links[k++] = links[i];
	}
	/* Forget outside the namespace: detaching a dispatched link enters it itself. */
	if (saved >= 0)
		netns_leave(TAKE_FD(saved));
	for (size_t i = 0; i < k; i++)
		forget(c, &links[i], false);
	n = k;
out:
	link_records_free(links, n);
}

static int on_attr(const struct nlattr *attr, void *data)
{
	const char **name = data;

	if (mnl_attr_get_type(attr) == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
		*name = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

struct event_ctx {
	struct core *c;
	const char *path;
};

static int on_message(const struct nlmsghdr *nlh, void *data)
{
	const struct event_ctx *ctx = data;
	const struct ifinfomsg *ifi;
	const char *name = NULL;

	if (nlh->nlmsg_type != RTM_DELLINK || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	/* AF_BRIDGE: a port left its bridge; the interface itself is still there. */
	if (ifi->ifi_family != AF_UNSPEC)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifi), on_attr, &name);
	forget_interface(ctx->c, ctx->path, ifi->ifi_index, name);
	return MNL_CB_OK;
}

static void ns_read(struct core *c, const struct ns_watch *ns)
{
	struct event_ctx ctx = {.c = c, .path = ns->path};
	/* Large enough for a link message with long attribute lists (VF info); one that is
	 * still truncated is not parsed: every interface is checked instead. */
	char buf[32768];

	for (;;) {
		ssize_t n = recv(ns->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			log_warning(
				"rtnetlink%s%s: events lost (ENOBUFS); checking every interface",
				ns->path ? " in " : "", ns->path ? ns->path : "");
			ns_verify(c, ns);
			continue;
		}
		if (n <= 0)
			return;
		if ((size_t)n > sizeof(buf) ||
		    mnl_cb_run(buf, (size_t)n, 0, 0, on_message, &ctx) < 0) {
			log_debug("rtnetlink%s%s: a message too large or malformed; checking every "
				  "interface",
				  ns->path ? " in " : "", ns->path ? ns->path : "");
			ns_verify(c, ns);
		}
	}
}

/* inotify and the timer run only while other namespaces are watched. */
static void paths_watch_update(struct link_watch *w)
{
	static const struct itimerspec every_second = {.it_interval = {.tv_sec = 1},
						       .it_value = {.tv_sec = 1}};
	int fd;

	if (w->n_ns <= 1) {
		fd_unwatch(w, &w->inotify_fd);
		fd_unwatch(w, &w->timer_fd);
		return;
	}
	if (w->timer_fd < 0) {
		fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (fd < 0 || timerfd_settime(fd, 0, &every_second, NULL) < 0 ||
		    fd_watch(w, fd) < 0) {
			log_warning_errno(errno, "Cannot start the namespace recheck timer: %m");
			safe_close(fd);
		} else
			w->timer_fd = fd;
	}
	if (w->inotify_fd < 0) {
		fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (fd < 0 || fd_watch(w, fd) < 0) {
			log_debug_errno(errno, "inotify: %m");
			safe_close(fd);
			return;
		}
		w->inotify_fd = fd;
	}
	/* A directory already watched keeps its watch; watches of directories no longer used
	 * stay until the last namespace goes (they only cause a recheck). */
	for (size_t i = 1; i < w->n_ns; i++) {
		_cleanup_free_ char *copy = strdup(w->ns[i].path);

		if (copy && inotify_add_watch(w->inotify_fd, dirname(copy),
					      IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF |
						      IN_MOVE_SELF | IN_ONLYDIR) < 0)
			log_debug_errno(errno, "inotify on the directory of %s: %m", w->ns[i].path);
	}
}

/* Namespaces whose path is gone (or names another namespace now): close the socket, so the
 * namespace can go, then forget. Sockets that could not be opened are tried again. */
static void namespaces_recheck(struct core *c, struct link_watch *w)
{
	for (size_t i = w->n_ns; i-- > 1;) {
		struct ns_watch *ns = &w->ns[i];
		_cleanup_free_ char *path = NULL;
		dev_t dev;
		ino_t ino;
		int r = ns_identify(ns->path, &dev, &ino);

		if (r == 0 && ns->fd >= 0 && dev == ns->dev && ino == ns->ino)
			continue;
		if (r == 0 && ns->fd < 0) {
			if (ns_watch_open(w, ns) == 0)
				ns_verify(c, ns);
			continue;
		}
		if (r < 0 && r != -ENOENT)
			continue;
		path = TAKE_PTR(ns->path);
		ns_watch_drop(w, i);
		forget_namespace(c, path);
	}
	paths_watch_update(w);
}

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

void core__link_watch_handle(struct core *c)
{
	struct link_watch *w = c->watch;
	struct epoll_event ev[16];
	int n;

	if (!w)
		return;
	n = epoll_wait(w->epoll_fd, ev, ELEMENTSOF(ev), 0);
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;

		if (fd == w->timer_fd || fd == w->inotify_fd) {
			drain(fd);
			namespaces_recheck(c, w);
			continue;
		}
		/* The array may have changed while handling an earlier event. */
		for (size_t j = 0; j < w->n_ns; j++)
			if (w->ns[j].fd == fd) {
				ns_read(c, &w->ns[j]);
				break;
			}
	}
}

static bool path_listed(char **paths, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (streq(paths[i], path))
			return true;
	return false;
}

/* One pass: the namespaces of the store's links, each with a socket. */
static void sync_pass(struct core *c, struct link_watch *w)
{
	struct link_record *links = NULL;
	char **paths = NULL;
	size_t n = 0, n_paths = 0;

	if (store__list_links(c->store, 0, &links, &n) < 0)
		return;
	paths = calloc(n ? n : 1, sizeof(*paths));
	if (!paths)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (is_net_link(&links[i]) && links[i].netns &&
		    !path_listed(paths, n_paths, links[i].netns))
			paths[n_paths++] = links[i].netns;

	for (size_t i = w->n_ns; i-- > 1;)
		if (!path_listed(paths, n_paths, w->ns[i].path))
			ns_watch_drop(w, i);

	for (size_t i = 0; i < n_paths; i++) {
		struct ns_watch ns = {.fd = -EBADF};
		bool watched = false;
		int r;

		for (size_t j = 1; j < w->n_ns && !watched; j++)
			watched = streq(w->ns[j].path, paths[i]);
		if (watched)
			continue;
		if (w->n_ns >= LINK_WATCH_MAX_NS + 1) {
			if (!w->warned_max)
				log_warning("Watching %d network namespaces already; interfaces "
					    "deleted in %s and further ones are noticed at detach "
					    "or the next start only",
					    LINK_WATCH_MAX_NS, paths[i]);
			w->warned_max = true;
			continue;
		}
		ns.path = strdup(paths[i]);
		if (!ns.path)
			break;
		r = ns_watch_open(w, &ns);
		if (r == -ENOENT) {
			free(ns.path);
			forget_namespace(c, paths[i]);
			continue;
		}
		if (r < 0)
			log_warning_errno(r,
					  "Cannot watch the interfaces of network namespace %s "
					  "(retrying every second): %m",
					  paths[i]);
		w->ns[w->n_ns++] = ns;
		if (r == 0)
			ns_verify(c, &ns);
	}
	paths_watch_update(w);
out:
	free(paths);
	link_records_free(links, n);
}

void core__link_watch_sync(struct core *c)
{
	struct link_watch *w = c->watch;

	if (!w)
		return;
	/* Forgetting changes the store; a few passes settle it (each forgets what it found). */
	for (int pass = 0; pass < 3; pass++) {
		uint64_t changes = store__change_count(c->store);

		if (w->synced && changes == w->synced_changes)
			return;
		w->synced = true;
		w->synced_changes = changes;
		sync_pass(c, w);
	}
}

void link_watch_free(struct link_watch *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_ns; i++) {
		safe_close(w->ns[i].fd);
		free(w->ns[i].path);
	}
	free(w->ns);
	safe_close(w->inotify_fd);
	safe_close(w->timer_fd);
	safe_close(w->epoll_fd);
	free(w);
}

int core__link_watch_start(struct core *c)
{
	struct link_watch *w;
	int r;

	if (c->watch)
		return c->watch->epoll_fd;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->inotify_fd = w->timer_fd = -EBADF;
	/* bpfd's own namespace and LINK_WATCH_MAX_NS others. */
	w->ns = calloc(LINK_WATCH_MAX_NS + 1, sizeof(*w->ns));
	w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (!w->ns || w->epoll_fd < 0) {
		r = w->ns ? negative_errno() : -ENOMEM;
		link_watch_free(w);
		return r;
	}
	w->ns[0].fd = -EBADF;
	w->n_ns = 1;
	r = ns_watch_open(w, &w->ns[0]);
	if (r < 0) {
		link_watch_free(w);
		return r;
	}
	c->watch = w;
	ns_verify(c, &w->ns[0]);
	core__link_watch_sync(c);
	return w->epoll_fd;
}
