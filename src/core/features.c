/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel features bpfd depends on: probed once, kept, reported (Version, doctor). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static struct feature features[] = {
	{ .name = "tcx" },
	{ .name = "kprobe" },
	{ .name = "uprobe" },
	{ .name = "kernel_btf" },
};
static bool probed;

static void probe_path(struct feature *f, const char *path)
{
	struct stat st;

	f->available = stat(path, &st) == 0;
	snprintf(f->detail, sizeof(f->detail), "%s %s", path,
		 f->available ? "exists" : "does not exist");
}

static void probe_tcx(struct feature *f)
{
	LIBBPF_OPTS(bpf_prog_query_opts, q);
	int r = bpf_prog_query_opts(1, BPF_TCX_INGRESS, &q);

	/* Loopback is ifindex 1 in every namespace; EINVAL means the attach type is unknown. */
	f->available = r == 0 || errno != EINVAL;
	snprintf(f->detail, sizeof(f->detail), "bpf(BPF_PROG_QUERY, BPF_TCX_INGRESS, lo) = %s",
		 r == 0 ? "0" : strerror(errno));
}

const struct feature *core__features(struct core *c, size_t *ret_n)
{
	if (!probed) {
		probe_tcx(&features[0]);
		probe_path(&features[1], "/sys/bus/event_source/devices/kprobe");
		probe_path(&features[2], "/sys/bus/event_source/devices/uprobe");
		probe_path(&features[3], "/sys/kernel/btf/vmlinux");
		probed = true;
	}
	*ret_n = ELEMENTSOF(features);
	return features;
}
