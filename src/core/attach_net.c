/* SPDX-License-Identifier: Apache-2.0 */
/* Network hooks: XDP and TCX links. */
#include <linux/if_link.h>
#include <string.h>

#include "dispatcher.h"
#include "internal.h"
#include "log.h"

/* Names the program already on an interface's XDP hook, for the refusal message. */
void describe_xdp_owner(int ifindex, const char *iface, struct error *err)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	_cleanup_close_ int fd = -EBADF;
	uint32_t id;

	if (bpf_xdp_query(ifindex, 0, &q) < 0)
		return;
	id = q.prog_id ?: q.drv_prog_id ?: q.skb_prog_id;
	if (!id)
		return;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0)
		bpf_prog_get_info_by_fd(fd, &info, &len);
	error_set(err, -EBUSY,
		  "interface %s already has XDP program %u ('%s') attached outside bpfd; bpfd "
		  "does not replace it: detach it first (ip link set dev %s xdp off)",
		  iface, id, info.name, iface);
}

int attach_xdp(struct core *c, int prog_fd, const struct link_record *spec, struct error *err)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
	int fd;

	fd = bpf_link_create(prog_fd, spec->ifindex, BPF_XDP, &opts);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EINVAL)) {
		/* No native XDP in this driver: generic (skb) mode works everywhere. */
		log_debug("XDP driver mode refused on %s (%m), using skb mode", spec->iface);
		opts.flags = XDP_FLAGS_SKB_MODE;
		fd = bpf_link_create(prog_fd, spec->ifindex, BPF_XDP, &opts);
	}
	if (fd >= 0)
		return fd;
	if (errno == EBUSY || errno == EEXIST) {
		describe_xdp_owner(spec->ifindex, spec->iface, err);
		return error_set(err, -EBUSY, "interface %s: XDP hook busy: %m", spec->iface);
	}
	if (errno == EPERM) {
		error_set(err, -EPERM, "XDP attach on %s refused: EPERM", spec->iface);
		diagnose_eperm(err, "xdp");
		return -EPERM;
	}
	return error_set(err, -EIO, "XDP attach on %s failed: %m", spec->iface);
}

static bool tcx_supported(int ifindex, enum bpf_attach_type type)
{
	LIBBPF_OPTS(bpf_prog_query_opts, q);

	return bpf_prog_query_opts(ifindex, type, &q) == 0 || errno != EINVAL;
}

bool tc_has_tcx(int ifindex, const char *direction)
{
	return tcx_supported(ifindex, streq(direction, "ingress") ? BPF_TCX_INGRESS :
								     BPF_TCX_EGRESS);
}

/*
 * TCX keeps its own order; bpfd keeps it equal to (priority, attach order) by anchoring each
 * new link before the first link of higher priority, or after the last one. expected_revision
 * makes a concurrent change fail with ESTALE instead of landing in the wrong place.
 */
int attach_tcx(struct core *c, int prog_fd, const struct link_record *spec, struct error *err)
{
	enum bpf_attach_type type = streq(spec->direction, "ingress") ? BPF_TCX_INGRESS :
									 BPF_TCX_EGRESS;
	struct link_record *chain = NULL;
	size_t n = 0;
	int r, fd = -1;

	r = chain_links(c, spec, &chain, &n);
	if (r < 0)
		return error_set(err, r, "state store: %s", strerror(-r));

	for (int attempt = 0; attempt < 3; attempt++) {
		LIBBPF_OPTS(bpf_prog_query_opts, q);
		LIBBPF_OPTS(bpf_link_create_opts, opts);
		_cleanup_close_ int anchor = -EBADF;
		const struct link_record *rel = NULL;
		bool before = false;

		for (size_t i = 0; i < n && !rel; i++)
			if (chain[i].priority > spec->priority) {
				rel = &chain[i];
				before = true;
			}
		if (!rel && n > 0)
			rel = &chain[n - 1];
		if (rel) {
			anchor = bpf_obj_get(rel->pin_path);
			if (anchor < 0) {
				r = error_set(err, -EIO, "link %u of this chain has lost its pin %s: %m",
					      rel->id, rel->pin_path);
				goto out;
			}
			opts.flags = (before ? BPF_F_BEFORE : BPF_F_AFTER) | BPF_F_LINK;
			opts.tcx.relative_fd = anchor;
		}
		if (bpf_prog_query_opts(spec->ifindex, type, &q) == 0)
			opts.tcx.expected_revision = q.revision;
		fd = bpf_link_create(prog_fd, spec->ifindex, type, &opts);
		if (fd >= 0 || errno != ESTALE)
			break;
	}
	if (fd >= 0) {
		r = fd;
		goto out;
	}
	if (errno == EINVAL && !tcx_supported(spec->ifindex, type)) {
		r = error_set(err, -EOPNOTSUPP,
			      "%s attach on %s: this kernel has no TCX (measured: "
			      "bpf(BPF_PROG_QUERY, BPF_TCX_%s) = EINVAL); TCX needs Linux 6.6 or "
			      "later",
			      bpfd_prog_type_to_string(spec->type), spec->iface,
			      type == BPF_TCX_INGRESS ? "INGRESS" : "EGRESS");
		goto out;
	}
	if (errno == EPERM) {
		error_set(err, -EPERM, "TCX attach on %s refused: EPERM", spec->iface);
		diagnose_eperm(err, "tcx");
		r = -EPERM;
		goto out;
	}
	r = error_set(err, errno == ERANGE || errno == E2BIG ? -ENOSPC : -EIO,
		      "TCX attach on %s %s failed: %m", spec->iface, spec->direction);
out:
	link_records_free(chain, n);
	return r;
}
