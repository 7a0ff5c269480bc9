/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel features bpfd depends on: probed once, kept, reported (Version, doctor). */
#include <linux/btf.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "internal.h"

enum {
	FEATURE_TCX,
	FEATURE_KPROBE,
	FEATURE_UPROBE,
	FEATURE_KERNEL_BTF,
	FEATURE_FREPLACE,
};

static struct feature features[] = {
	[FEATURE_TCX] = {.name = "tcx"},	   [FEATURE_KPROBE] = {.name = "kprobe"},
	[FEATURE_UPROBE] = {.name = "uprobe"},	   [FEATURE_KERNEL_BTF] = {.name = "kernel_btf"},
	[FEATURE_FREPLACE] = {.name = "freplace"},
};
static bool probed;
static int freplace_error; /* the probe's negative errno, 0 when extensions load */

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

/*
 * Program extensions, which the XDP and TC dispatchers need: load a two-instruction XDP
 * program with BTF for its one function, then an extension (BPF_PROG_TYPE_EXT) replacing that
 * function. Nothing is attached anywhere; both programs are closed at once. Measured, not
 * derived from the kernel version: lockdown, LSMs and kernel configs refuse it on kernels that
 * could.
 */
static void probe_freplace(struct feature *f)
{
	const struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 2 /* pass */},
		{.code = BPF_JMP | BPF_EXIT},
	};
	struct bpf_func_info fi = {};
	struct btf *btf = btf__new_empty();
	int t_int, t_ctx, t_ptr, t_proto, target = -1, ext = -1, r = 0;
	const char *stage = "building BTF";

	if (!btf) {
		r = -ENOMEM;
		goto out;
	}
	t_int = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	t_ctx = btf__add_struct(btf, "xdp_md", 24);
	t_ptr = t_ctx < 0 ? t_ctx : btf__add_ptr(btf, t_ctx);
	t_proto = t_ptr < 0 || t_int < 0 ? -EINVAL : btf__add_func_proto(btf, t_int);
	if (t_proto < 0 || btf__add_func_param(btf, "ctx", t_ptr) < 0) {
		r = -EINVAL;
		goto out;
	}
	r = btf__add_func(btf, "bpfd_probe_slot", BTF_FUNC_GLOBAL, t_proto);
	if (r < 0)
		goto out;
	fi.type_id = (uint32_t)r;
	stage = "loading BTF";
	r = btf__load_into_kernel(btf);
	if (r < 0)
		goto out;

	LIBBPF_OPTS(bpf_prog_load_opts, to, .prog_btf_fd = btf__fd(btf), .func_info = &fi,
		    .func_info_cnt = 1, .func_info_rec_size = sizeof(fi),
		    .expected_attach_type = BPF_XDP);
	stage = "loading the XDP target";
	target = bpf_prog_load(BPF_PROG_TYPE_XDP, "bpfd_probe", "GPL", insns, ELEMENTSOF(insns),
			       &to);
	if (target < 0) {
		r = -errno;
		goto out;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, eo, .prog_btf_fd = btf__fd(btf), .func_info = &fi,
		    .func_info_cnt = 1, .func_info_rec_size = sizeof(fi),
		    .attach_prog_fd = (uint32_t)target, .attach_btf_id = fi.type_id);
	stage = "loading a freplace (BPF_PROG_TYPE_EXT) program";
	ext = bpf_prog_load(BPF_PROG_TYPE_EXT, "bpfd_probe_ext", "GPL", insns, ELEMENTSOF(insns),
			    &eo);
	r = ext < 0 ? -errno : 0;
out:
	if (ext >= 0)
		close(ext);
	if (target >= 0)
		close(target);
	btf__free(btf);
	freplace_error = r < 0 ? r : 0;
	f->available = r >= 0;
	if (r >= 0)
		snprintf(f->detail, sizeof(f->detail),
			 "a freplace (BPF_PROG_TYPE_EXT) program of an XDP program loads");
	else
		snprintf(f->detail, sizeof(f->detail), "%s: %s (%s)", stage,
			 strerrorname_np(-r) ?: "?", strerror(-r));
}

static void probe_all(void)
{
	if (probed)
		return;
	probe_tcx(&features[FEATURE_TCX]);
	probe_path(&features[FEATURE_KPROBE], "/sys/bus/event_source/devices/kprobe");
	probe_path(&features[FEATURE_UPROBE], "/sys/bus/event_source/devices/uprobe");
	probe_path(&features[FEATURE_KERNEL_BTF], "/sys/kernel/btf/vmlinux");
	probe_freplace(&features[FEATURE_FREPLACE]);
	probed = true;
}

const struct feature *core__features(struct core *c, size_t *ret_n)
{
	probe_all();
	*ret_n = ELEMENTSOF(features);
	return features;
}

int core_freplace_probe(const char **ret_detail)
{
	probe_all();
	if (ret_detail)
		*ret_detail = features[FEATURE_FREPLACE].detail;
	return freplace_error;
}
