// SPDX-License-Identifier: GPL-2.0
/*
 * caps_record.bpf.c — `bpfctl caps record` (src/doctor/caps_record.c): every capability check
 * of a process tree, with the system call it happened in.
 *
 * Programs: SEC("tracepoint/capability/cap_capable") on_cap_capable (6.13+)
 *           SEC("kprobe/cap_capable") + SEC("kretprobe/cap_capable") (older kernels with kprobes;
 *           userspace enables one pair or the other)
 *           SEC("tracepoint/sched/sched_process_fork") on_fork: children join the tree
 *           SEC("tracepoint/raw_syscalls/sys_enter") on_sys_enter: the syscall (and bpf() cmd)
 * Globals:  fork_parent_off, fork_child_off: offsets of parent_pid/child_pid in the fork
 *           tracepoint's record, read from tracefs (they moved when comm became __data_loc).
 * Maps:     tracked (HASH tgid -> 1, filled by userspace and on_fork), events (RINGBUF)
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define CAP_OPT_NOAUDIT (1 << 1)
#define NR_BPF 321 /* x86_64 */
#define CMD_PROG_LOAD 5

struct cap_event {
	__u32 tgid;
	__u32 tid;
	__s32 cap;
	__s32 ret;
	__s32 audit; /* 1 audit, 0 noaudit, -1 unknown (the tracepoint does not say) */
	__s32 syscall;
	__s32 bpf_cmd;
	__u32 prog_type;
	__u64 seq;
	char comm[16];
};

struct sys_state {
	__s32 nr;
	__s32 bpf_cmd;
	__u32 prog_type;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct sys_state);
} syscalls SEC(".maps");

struct kprobe_state {
	__s32 cap;
	__u32 opts;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct kprobe_state);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seq SEC(".maps");

const volatile __u32 fork_parent_off = 24;
const volatile __u32 fork_child_off = 44;

static __always_inline int is_tracked(__u32 tgid)
{
	return bpf_map_lookup_elem(&tracked, &tgid) != NULL;
}

static __always_inline void emit(__s32 cap, __s32 ret, __s32 audit)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, zero = 0;
	struct sys_state *s;
	struct cap_event *e;
	__u64 *n;

	if (!is_tracked(tgid))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return;
	e->tgid = tgid;
	e->tid = tid;
	e->cap = cap;
	e->ret = ret;
	e->audit = audit;
	e->syscall = -1;
	e->bpf_cmd = -1;
	e->prog_type = 0;
	s = bpf_map_lookup_elem(&syscalls, &tid);
	if (s) {
		e->syscall = s->nr;
		e->bpf_cmd = s->bpf_cmd;
		e->prog_type = s->prog_type;
	}
	n = bpf_map_lookup_elem(&seq, &zero);
	e->seq = n ? __sync_fetch_and_add(n, 1) : 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

/* capability:cap_capable, as in its tracefs format. */
struct cap_capable_args {
	__u64 common;
	const void *cred;
	const void *target_ns;
	const void *capable_ns;
	int cap;
	int ret;
};

SEC("tracepoint/capability/cap_capable")
int on_cap_capable(struct cap_capable_args *ctx)
{
	emit(ctx->cap, ctx->ret, -1);
	return 0;
}

SEC("kprobe/cap_capable")
int BPF_KPROBE(on_cap_capable_entry, const void *cred, const void *ns, int cap, unsigned int opts)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct kprobe_state st = { .cap = cap, .opts = opts };

	if (!is_tracked(id >> 32))
		return 0;
	bpf_map_update_elem(&pending, &tid, &st, BPF_ANY);
	return 0;
}

SEC("kretprobe/cap_capable")
int BPF_KRETPROBE(on_cap_capable_exit, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kprobe_state *st = bpf_map_lookup_elem(&pending, &tid);

	if (!st)
		return 0;
	emit(st->cap, ret, !(st->opts & CAP_OPT_NOAUDIT));
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

SEC("tracepoint/sched/sched_process_fork")
int on_fork(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, child = 0;
	__u8 one = 1;

	if (!is_tracked(tgid))
		return 0;
	if (bpf_probe_read_kernel(&child, sizeof(child), (char *)ctx + fork_child_off) == 0 && child)
		bpf_map_update_elem(&tracked, &child, &one, BPF_ANY);
	return 0;
}

struct sys_enter_args {
	__u64 common;
	long id;
	unsigned long args[6];
};

SEC("tracepoint/raw_syscalls/sys_enter")
int on_sys_enter(struct sys_enter_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct sys_state s = { .nr = (__s32)ctx->id, .bpf_cmd = -1 };

	if (!is_tracked(id >> 32))
		return 0;
	if (ctx->id == NR_BPF) {
		s.bpf_cmd = (__s32)ctx->args[0];
		if (s.bpf_cmd == CMD_PROG_LOAD)
			bpf_probe_read_user(&s.prog_type, sizeof(s.prog_type),
					    (const void *)ctx->args[1]);
	}
	bpf_map_update_elem(&syscalls, &tid, &s, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
