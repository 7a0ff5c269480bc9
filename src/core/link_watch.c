/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interfaces that disappear: bpfd listens to rtnetlink's link group and, when an interface of
 * its own network namespace is deleted, forgets the links bpfd had on it (records, pins, and
 * the dispatcher of its chain); the kernel already detached them with the interface.
 * libmnl does the netlink framing.
 */
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "internal.h"
#include "log.h"

int core__link_watch_open(void)
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
	/* The caller polls and closes the bare fd; the mnl wrapper is only a malloc'd struct. */
	fd = dup(mnl_socket_get_fd(nl));
	mnl_socket_close(nl);
	return fd < 0 ? negative_errno() : fd;
}

static void forget_interface(struct core *c, int ifindex, const char *name)
{
	struct link_record *links = NULL;
	size_t n = 0;

	if (store__list_links(c->store, 0, &links, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct link_record *l = &links[i];
		int r;

		if (l->netns || l->ifindex != ifindex || !l->iface ||
		    (l->type != BPFD_PROG_XDP && l->type != BPFD_PROG_TC &&
		     l->type != BPFD_PROG_TCX))
			continue;
		/* Reconcile a stale index: a link on another interface that reuses it stays. */
		if (name && !streq(name, l->iface))
			continue;
		r = core_detach_link(c, l);
		if (r < 0)
			log_warning_errno(r,
					  "Interface %s (index %d) is gone; forgetting link %u of "
					  "program %u failed: %m",
					  l->iface, ifindex, l->id, l->prog_id);
		else
			log_info("Interface %s (index %d) is gone: forgot %s link %u of program %u",
				 l->iface, ifindex, bpfd_prog_type_to_string(l->type), l->id,
				 l->prog_id);
	}
	link_records_free(links, n);
}

static int on_attr(const struct nlattr *attr, void *data)
{
	const char **name = data;

	if (mnl_attr_get_type(attr) == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
		*name = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

static int on_message(const struct nlmsghdr *nlh, void *data)
{
	struct core *c = data;
	const struct ifinfomsg *ifi;
	const char *name = NULL;

	if (nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*ifi), on_attr, &name);
	forget_interface(c, ifi->ifi_index, name);
	return MNL_CB_OK;
}

void core__handle_link_event(struct core *c, int fd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* Events were lost: the next Detach/List repairs what they named. */
			log_warning("rtnetlink: events lost (ENOBUFS)");
			continue;
		}
		if (n <= 0)
			return;
		if (mnl_cb_run(buf, (size_t)n, 0, 0, on_message, c) < 0)
			log_debug_errno(errno, "rtnetlink: malformed message: %m");
	}
}
