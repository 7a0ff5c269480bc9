/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live probes: a minimal program of each type ("r0 = N; exit"), loaded with the caller's
 * credentials in a forked child, and attached where that touches nothing but the child: a
 * socket of its own, the loopback of a private network namespace, a tracepoint or uprobe for
 * the instant of the attach, a freplace of its own program. The child never outlives the
 * caller and leaves nothing behind: every fd dies with it, and its namespaces with them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "doctor-internal.h"

static const char *const kind_names[] = {
	[DOCTOR_PROBE_SOCKET_FILTER] = "socket_filter",
	[DOCTOR_PROBE_XDP] = "xdp",
	[DOCTOR_PROBE_TC] = "tc",
	[DOCTOR_PROBE_TRACEPOINT] = "tracepoint",
	[DOCTOR_PROBE_KPROBE] = "kprobe",
	[DOCTOR_PROBE_UPROBE] = "uprobe",
	[DOCTOR_PROBE_FENTRY] = "fentry",
	[DOCTOR_PROBE_FREPLACE] = "freplace",
	[DOCTOR_PROBE_LSM] = "lsm",
};

const char *doctor_probe_kind_to_string(int kind)
{
	return kind >= 0 && kind < _DOCTOR_PROBE_MAX ? kind_names[kind] : NULL;
}

int doctor_probe_kind_from_string(const char *s)
{
	for (int i = 0; i < _DOCTOR_PROBE_MAX; i++)
		if (streq(kind_names[i], s))
			return i;
	return -EINVAL;
}

/* ---- the child ---- */

struct probe_answer {
	struct doctor_probe probes[_DOCTOR_PROBE_MAX];
	char lsm_progs[512];
	int lsm_error;
};

static void log_tail(struct doctor_probe *p, const char *log)
{
	size_t len = strlen(log), i;
	const char *s;

	while (len && (log[len - 1] == '\n' || log[len - 1] == ' '))
		len--;
	s = len >= sizeof(p->log) ? log + len - (sizeof(p->log) - 1) : log;
	for (i = 0; s + i < log + len && i + 1 < sizeof(p->log); i++)
		p->log[i] = s[i] == '\n' ? '|' : s[i];
	p->log[i] = 0;
}

#define INSN_MOV_R0(v) { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = (v) }
#define INSN_EXIT { .code = BPF_JMP | BPF_EXIT }

static int load(struct doctor_probe *p, enum bpf_prog_type type, int r0,
		struct bpf_prog_load_opts *opts)
{
	const struct bpf_insn insns[] = { INSN_MOV_R0(r0), INSN_EXIT };
	static char log[16384];
	int fd;

	log[0] = 0;
	opts->log_buf = log;
	opts->log_size = sizeof(log);
	opts->log_level = 1;
	p->ran = true;
	fd = bpf_prog_load(type, "doctor_probe", "GPL", insns, ELEMENTSOF(insns), opts);
	if (fd < 0 && fd == -ENOSPC) {
		/* A log too small for the verifier: try again without one. */
		opts->log_buf = NULL;
		opts->log_size = 0;
		opts->log_level = 0;
		fd = bpf_prog_load(type, "doctor_probe", "GPL", insns, ELEMENTSOF(insns), opts);
	}
	if (fd < 0) {
		p->load_error = fd;
		log_tail(p, log);
	}
	return fd;
}

static void attach_result(struct doctor_probe *p, int r, const char *what)
{
	p->attach_tried = true;
	p->attach_error = r < 0 ? r : 0;
	snprintf(p->attach_what, sizeof(p->attach_what), "%s", what);
}

static void attach_skipped(struct doctor_probe *p, const char *why)
{
	snprintf(p->attach_what, sizeof(p->attach_what), "not attached: %s", why);
}

static long perf_open(struct perf_event_attr *a, pid_t pid, int cpu)
{
	return syscall(__NR_perf_event_open, a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int pmu_type(const char *name)
{
	char path[128], buf[32];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return atoi(buf);
}

/* Attaches prog_fd to a perf event; returns 0 or a negative errno. */
static int perf_attach(int prog_fd, struct perf_event_attr *a, pid_t pid)
{
	int pfd, r;

	pfd = (int)perf_open(a, pid, pid == -1 ? 0 : -1);
	if (pfd < 0)
		return -errno;
	r = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, NULL);
	close(pfd);
	if (r < 0)
		return r;
	close(r);
	return 0;
}

static void probe_socket_filter(struct doctor_probe *p)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	int fd = load(p, BPF_PROG_TYPE_SOCKET_FILTER, 0, &o), sv[2];

	if (fd < 0)
		return;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		attach_result(p, -errno, "SO_ATTACH_BPF on a socket of its own");
	} else {
		int r = setsockopt(sv[0], SOL_SOCKET, SO_ATTACH_BPF, &fd, sizeof(fd));

		attach_result(p, r < 0 ? -errno : 0, "SO_ATTACH_BPF on a socket of its own");
		close(sv[0]);
		close(sv[1]);
	}
	close(fd);
}

static void probe_net(struct doctor_probe *p, bool netns, enum bpf_prog_type type, int r0,
		      enum bpf_attach_type at, const char *what)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = type == BPF_PROG_TYPE_XDP ? BPF_XDP : 0);
	int fd = load(p, type, r0, &o), r;

	if (fd < 0)
		return;
	if (!netns) {
		attach_skipped(p, "no private network namespace (needs CAP_SYS_ADMIN)");
	} else {
		/* In a fresh network namespace, lo is ifindex 1 and nobody else's. */
		r = bpf_link_create(fd, 1, at, NULL);
		attach_result(p, r, what);
		if (r >= 0)
			close(r);
	}
	close(fd);
}

static int tracepoint_id(bool tracefs, int *ret)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing/events/syscalls/sys_enter_getppid/id",
		"/sys/kernel/tracing/events/sched/sched_process_exec/id",
		"/sys/kernel/debug/tracing/events/syscalls/sys_enter_getppid/id",
	};
	char buf[32];
	int r = -ENOENT;

	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (fd < 0) {
			if (errno != ENOENT || r == -ENOENT)
				r = -errno;
			continue;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			*ret = atoi(buf);
			return 0;
		}
	}
	return r;
}

static void probe_tracepoint(struct doctor_probe *p, bool tracefs)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	struct perf_event_attr a = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(a),
				     .sample_period = 1, .wakeup_events = 1 };
	int fd = load(p, BPF_PROG_TYPE_TRACEPOINT, 0, &o), id = 0, r;

	if (fd < 0)
		return;
	r = tracepoint_id(tracefs, &id);
	if (r < 0) {
		attach_result(p, r, "perf tracepoint (reading its id from tracefs)");
	} else {
		a.config = (uint64_t)id;
		attach_result(p, perf_attach(fd, &a, -1), "perf tracepoint syscalls/sys_enter_getppid");
	}
	close(fd);
}

static uint32_t kernel_version_code(void)
{
	unsigned a = 0, b = 0, c = 0;
	char rel[64] = "";
	int fd = open("/proc/sys/kernel/osrelease", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = read(fd, rel, sizeof(rel) - 1);

		close(fd);
		if (n > 0)
			rel[n] = 0;
	}
	sscanf(rel, "%u.%u.%u", &a, &b, &c);
	return (a << 16) + (b << 8) + MIN(c, 255U);
}

static void probe_kprobe(struct doctor_probe *p)
{
	/* Kernels before 5.0 want the running version in kprobe programs. */
	LIBBPF_OPTS(bpf_prog_load_opts, o, .kern_version = kernel_version_code());
	struct perf_event_attr a = { .size = sizeof(a), .sample_period = 1, .wakeup_events = 1 };
	int fd = load(p, BPF_PROG_TYPE_KPROBE, 0, &o), type;

	if (fd < 0)
		return;
	type = pmu_type("kprobe");
	if (type < 0) {
		attach_result(p, type, "kprobe PMU (/sys/bus/event_source/devices/kprobe)");
	} else {
		a.type = (uint32_t)type;
		a.config1 = (uint64_t)(uintptr_t)"do_nanosleep";
		attach_result(p, perf_attach(fd, &a, -1), "kprobe on do_nanosleep");
	}
	close(fd);
}

/* The uprobe target: a function of this very binary. */
__attribute__((noinline, used)) int doctor_uprobe_target(int x);
__attribute__((noinline, used)) int doctor_uprobe_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

/* The file offset of addr in its mapping, from /proc/self/maps. */
static int file_offset(uintptr_t addr, char *path, size_t path_size, uint64_t *ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
	char line[4352];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t start, end;
		unsigned long long off;
		int n = 0;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %llx %*s %*s%n", &start, &end, &off,
			   &n) != 3)
			continue;
		if (addr < start || addr >= end)
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(path, path_size, "%s", line + n + strspn(line + n, " "));
		*ret = addr - start + off;
		return path[0] == '/' ? 0 : -ENOENT;
	}
	return -ENOENT;
}

static void probe_uprobe(struct doctor_probe *p)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .kern_version = kernel_version_code());
	struct perf_event_attr a = { .size = sizeof(a), .sample_period = 1, .wakeup_events = 1 };
	int fd = load(p, BPF_PROG_TYPE_KPROBE, 0, &o), type, r;
	char path[4096];
	uint64_t off = 0;

	if (fd < 0)
		return;
	type = pmu_type("uprobe");
	r = file_offset((uintptr_t)doctor_uprobe_target, path, sizeof(path), &off);
	if (type < 0) {
		attach_result(p, type, "uprobe PMU (/sys/bus/event_source/devices/uprobe)");
	} else if (r < 0) {
		attach_skipped(p, "the doctor's own binary was not found in /proc/self/maps");
	} else {
		a.type = (uint32_t)type;
		a.config1 = (uint64_t)(uintptr_t)path;
		a.config2 = off;
		/* Only this child, and only while attached. */
		attach_result(p, perf_attach(fd, &a, getpid()), "uprobe on a function of the doctor, "
			      "for the doctor's own pid");
	}
	close(fd);
}

static void probe_fentry(struct doctor_probe *p)
{
	int id = libbpf_find_vmlinux_btf_id("bpf_fentry_test1", BPF_TRACE_FENTRY), fd, r;

	if (id < 0) {
		p->ran = true;
		p->load_error = id;
		snprintf(p->log, sizeof(p->log), "kernel BTF id of bpf_fentry_test1 not found");
		return;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = (uint32_t)id);
	fd = load(p, BPF_PROG_TYPE_TRACING, 0, &o);
	if (fd < 0)
		return;
	/* bpf_fentry_test1 only runs from BPF_PROG_TEST_RUN: attaching there is harmless. */
	r = bpf_raw_tracepoint_open(NULL, fd);
	attach_result(p, r, "fentry on bpf_fentry_test1");
	if (r >= 0)
		close(r);
	close(fd);
}

/* BTF for "int doctor_target(struct xdp_md *ctx)": freplace needs a target with BTF. */
static struct btf *target_btf(uint32_t *ret_func)
{
	struct btf *btf = btf__new_empty();
	int i, st, ptr, proto, func;

	if (!btf)
		return NULL;
	i = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	st = btf__add_struct(btf, "xdp_md", 24);
	ptr = st < 0 ? st : btf__add_ptr(btf, st);
	proto = ptr < 0 || i < 0 ? -EINVAL : btf__add_func_proto(btf, i);
	if (proto < 0 || btf__add_func_param(btf, "ctx", ptr) < 0 ||
	    (func = btf__add_func(btf, "doctor_target", BTF_FUNC_GLOBAL, proto)) < 0 ||
	    btf__load_into_kernel(btf) < 0) {
		btf__free(btf);
		return NULL;
	}
	*ret_func = (uint32_t)func;
	return btf;
}

static void probe_freplace(struct doctor_probe *p)
{
	struct bpf_func_info fi = {};
	struct doctor_probe target = {};
	struct btf *btf;
	int tfd, fd, r;

	btf = target_btf(&fi.type_id);
	if (!btf) {
		p->ran = true;
		p->load_error = -errno ? -errno : -EINVAL;
		snprintf(p->log, sizeof(p->log), "loading BTF for the target program failed");
		return;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, to, .prog_btf_fd = btf__fd(btf), .func_info = &fi,
		    .func_info_cnt = 1, .func_info_rec_size = sizeof(fi),
		    .expected_attach_type = BPF_XDP);
	tfd = load(&target, BPF_PROG_TYPE_XDP, 2, &to);
	if (tfd < 0) {
		*p = target;
		snprintf(p->log, sizeof(p->log), "the XDP target program was refused: %.200s",
			 target.log[0] ? target.log : errno_name(target.load_error));
		btf__free(btf);
		return;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_btf_fd = btf__fd(btf), .func_info = &fi,
		    .func_info_cnt = 1, .func_info_rec_size = sizeof(fi),
		    .attach_prog_fd = (uint32_t)tfd, .attach_btf_id = fi.type_id);
	fd = load(p, BPF_PROG_TYPE_EXT, 2, &o);
	if (fd >= 0) {
		/* Replaces the child's own XDP program, which is attached nowhere. */
		r = bpf_raw_tracepoint_open(NULL, fd);
		attach_result(p, r, "freplace of the doctor's own XDP program");
		if (r >= 0)
			close(r);
		close(fd);
	}
	close(tfd);
	btf__free(btf);
}

static void probe_lsm(struct doctor_probe *p)
{
	int id = libbpf_find_vmlinux_btf_id("file_open", BPF_LSM_MAC), fd;

	if (id < 0) {
		p->ran = true;
		p->load_error = id;
		snprintf(p->log, sizeof(p->log), "kernel BTF id of bpf_lsm_file_open not found");
		return;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_LSM_MAC,
		    .attach_btf_id = (uint32_t)id);
	fd = load(p, BPF_PROG_TYPE_LSM, 0, &o);
	if (fd < 0)
		return;
	attach_skipped(p, "an LSM program would run on every file open of the machine");
	close(fd);
}

/* BPF LSM programs attached to hooks that decide about BPF or capabilities. */
static void list_lsm_links(struct probe_answer *a)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	uint32_t id = 0;
	size_t len = 0;

	for (;;) {
		struct bpf_link_info li = {};
		uint32_t li_len = sizeof(li);
		const struct btf_type *t;
		const char *name;
		int fd, r;

		r = bpf_link_get_next_id(id, &id);
		if (r < 0) {
			if (r != -ENOENT)
				a->lsm_error = r;
			break;
		}
		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0)
			continue;
		r = bpf_link_get_info_by_fd(fd, &li, &li_len);
		close(fd);
		if (r < 0 || li.type != BPF_LINK_TYPE_TRACING ||
		    li.tracing.attach_type != BPF_LSM_MAC || !vmlinux)
			continue;
		t = btf__type_by_id(vmlinux, li.tracing.target_btf_id);
		name = t ? btf__name_by_offset(vmlinux, t->name_off) : NULL;
		if (!name || (!strstr(name, "bpf") && !strstr(name, "capable") &&
			      !strstr(name, "perf_event")))
			continue;
		snprintf(a->lsm_progs + len, sizeof(a->lsm_progs) - len, "%sprog %u on %s",
			 len ? ", " : "", li.prog_id, name);
		len = strlen(a->lsm_progs);
	}
	btf__free(vmlinux);
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int probes_child(void *userdata, int fd)
{
	struct probe_answer *a = calloc(1, sizeof(*a));
	bool netns, mntns;
	int r;

	if (!a)
		return -ENOMEM;
	libbpf_set_print(silent);
	/* A private network namespace for XDP/TC attach, a private mount namespace for
	 * tracefs; both need CAP_SYS_ADMIN, and both vanish with this child. */
	mntns = unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
	if (mntns && access("/sys/kernel/tracing/events", F_OK) < 0)
		mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		      NULL);
	netns = unshare(CLONE_NEWNET) == 0;

	probe_socket_filter(&a->probes[DOCTOR_PROBE_SOCKET_FILTER]);
	probe_net(&a->probes[DOCTOR_PROBE_XDP], netns, BPF_PROG_TYPE_XDP, 2, BPF_XDP,
		  "XDP on lo in a private network namespace");
	probe_net(&a->probes[DOCTOR_PROBE_TC], netns, BPF_PROG_TYPE_SCHED_CLS, -1, BPF_TCX_INGRESS,
		  "tcx ingress on lo in a private network namespace");
	probe_tracepoint(&a->probes[DOCTOR_PROBE_TRACEPOINT], mntns);
	probe_kprobe(&a->probes[DOCTOR_PROBE_KPROBE]);
	probe_uprobe(&a->probes[DOCTOR_PROBE_UPROBE]);
	probe_fentry(&a->probes[DOCTOR_PROBE_FENTRY]);
	probe_freplace(&a->probes[DOCTOR_PROBE_FREPLACE]);
	probe_lsm(&a->probes[DOCTOR_PROBE_LSM]);
	list_lsm_links(a);
	r = write(fd, a, sizeof(*a)) == sizeof(*a) ? 0 : -EIO;
	free(a);
	return r;
}

int probes_run(struct doctor *d)
{
	_cleanup_free_ struct probe_answer *a = calloc(1, sizeof(*a));
	int r, sig = 0;

	if (!a)
		return -ENOMEM;
	r = live_fork(probes_child, NULL, a, sizeof(*a), 20000, &sig);
	if (r == -ECHILD) {
		snprintf(d->f.probes_error, sizeof(d->f.probes_error),
			 "the probe child was killed by signal %d (%s)", sig,
			 sig == SIGSYS ? "a seccomp filter kills bpf() or perf_event_open()"
				       : strsignal(sig));
		return r;
	}
	if (r < 0)
		return r;
	if (r != sizeof(*a))
		return -EIO;
	memcpy(d->f.probes, a->probes, sizeof(d->f.probes));
	if (a->lsm_progs[0]) {
		d->f.bpf_lsm_progs = strdup(a->lsm_progs);
		if (!d->f.bpf_lsm_progs)
			return -ENOMEM;
	}
	d->f.bpf_lsm_progs_error = a->lsm_error;
	d->f.probes_ran = true;
	return 0;
}

/*
 * Fixtures: "KIND load ERRNO [attach ERRNO] [log TEXT]" per line, "canary ERRNO",
 * "lsm_progs TEXT"; '#' starts a comment.
 */
int probes_inject(struct doctor *d, const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[1024];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char kind[32], stage[16], err[32], rest[900] = "";
		struct doctor_probe *p;
		int k, e, n = 0;

		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		if (strncmp(line, "lsm_progs ", 10) == 0) {
			free(d->f.bpf_lsm_progs);
			d->f.bpf_lsm_progs = strdup(line + 10);
			if (!d->f.bpf_lsm_progs)
				return -ENOMEM;
			continue;
		}
		if (sscanf(line, "canary %31s", err) == 1) {
			e = errno_from_name(err);
			if (e > 0)
				return -EINVAL;
			d->f.seccomp_canary = e;
			continue;
		}
		if (sscanf(line, "%31s %15s %31s%n", kind, stage, err, &n) != 3 ||
		    !streq(stage, "load"))
			return -EINVAL;
		k = doctor_probe_kind_from_string(kind);
		e = errno_from_name(err);
		if (k < 0 || e > 0)
			return -EINVAL;
		p = &d->f.probes[k];
		*p = (struct doctor_probe){ .ran = true, .load_error = e };
		snprintf(rest, sizeof(rest), "%s", line + n);
		if (sscanf(rest, " attach %31s%n", err, &n) == 1) {
			e = errno_from_name(err);
			if (e > 0)
				return -EINVAL;
			p->attach_tried = true;
			p->attach_error = e;
			snprintf(p->attach_what, sizeof(p->attach_what), "injected");
			memmove(rest, rest + n, strlen(rest + n) + 1);
		}
		if (strncmp(rest + strspn(rest, " "), "log ", 4) == 0)
			snprintf(p->log, sizeof(p->log), "%s", rest + strspn(rest, " ") + 4);
	}
	d->f.probes_ran = true;
	return 0;
}

/* ---- the checks ---- */

static const char *const probe_ids[] = {
	[DOCTOR_PROBE_SOCKET_FILTER] = "probe.socket_filter",
	[DOCTOR_PROBE_XDP] = "probe.xdp",
	[DOCTOR_PROBE_TC] = "probe.tc",
	[DOCTOR_PROBE_TRACEPOINT] = "probe.tracepoint",
	[DOCTOR_PROBE_KPROBE] = "probe.kprobe",
	[DOCTOR_PROBE_UPROBE] = "probe.uprobe",
	[DOCTOR_PROBE_FENTRY] = "probe.fentry",
	[DOCTOR_PROBE_FREPLACE] = "probe.freplace",
	[DOCTOR_PROBE_LSM] = "probe.lsm",
};

static bool is_trampoline(int k)
{
	return k == DOCTOR_PROBE_FENTRY || k == DOCTOR_PROBE_FREPLACE || k == DOCTOR_PROBE_LSM;
}

/* "fentry: EPERM, freplace: EPERM" of the trampoline probes that the kernel refused. */
static void trampoline_summary(const struct facts *f, char *buf, size_t size, bool *ret_refused,
			       bool *ret_empty_log)
{
	size_t len = 0;

	*ret_refused = false;
	*ret_empty_log = true;
	buf[0] = 0;
	for (int k = 0; k < _DOCTOR_PROBE_MAX; k++) {
		const struct doctor_probe *p = &f->probes[k];

		if (!is_trampoline(k) || !p->ran || p->load_error >= 0)
			continue;
		*ret_refused = true;
		if (p->log[0])
			*ret_empty_log = false;
		snprintf(buf + len, size - len, "%s%s: %s", len ? ", " : "", kind_names[k],
			 errno_name(p->load_error));
		len = strlen(buf);
	}
}

void checks_probes(struct doctor *d)
{
	const struct facts *f = &d->f;
	const struct doctor_probe *fr = &f->probes[DOCTOR_PROBE_FREPLACE];
	struct doctor_check *c;
	char refused[160], line[1024];
	bool any_refused, empty_log;
	const char *cause;

	if (!f->probes_ran) {
		if (f->probes_error[0]) {
			c = check_new(d, "probes", DOCTOR_UNKNOWN, "live probes failed: %s",
				      f->probes_error);
			check_evidence(d, c, "forked probe child", "%s", f->probes_error);
		}
		return;
	}
	for (int k = 0; k < _DOCTOR_PROBE_MAX; k++) {
		const struct doctor_probe *p = &f->probes[k];
		bool load_failed = p->load_error < 0;
		bool attach_failed = !load_failed && p->attach_tried && p->attach_error < 0;

		if (!p->ran)
			continue;
		if (!load_failed && !attach_failed) {
			c = check_new(d, probe_ids[k], DOCTOR_OK, "%s: loaded%s", kind_names[k],
				      p->attach_tried ? " and attached" : "");
		} else {
			cause = doctor__explain(d, kind_names[k],
						load_failed ? DOCTOR_STAGE_LOAD : DOCTOR_STAGE_ATTACH,
						load_failed ? p->load_error : p->attach_error,
						p->log, line, sizeof(line));
			c = check_new(d, probe_ids[k], DOCTOR_FAIL, "%s", line);
			check_cause(d, c, cause);
		}
		check_evidence(d, c, "bpf(BPF_PROG_LOAD)", "%s%s%s",
			       load_failed ? errno_name(p->load_error) : "ok",
			       p->log[0] ? ", verifier log: " : load_failed ? ", empty verifier log" : "",
			       p->log);
		if (p->attach_tried)
			check_evidence(d, c, p->attach_what, "%s",
				       p->attach_error < 0 ? errno_name(p->attach_error) : "ok");
		else if (p->attach_what[0])
			check_evidence(d, c, "attach", "%s", p->attach_what);
	}

	trampoline_summary(f, refused, sizeof(refused), &any_refused, &empty_log);
	if (f->probes[DOCTOR_PROBE_FENTRY].ran || fr->ran) {
		if (any_refused) {
			const struct doctor_probe *p = fr->ran && fr->load_error < 0 ? fr
						       : &f->probes[DOCTOR_PROBE_FENTRY];

			cause = doctor__explain(d, fr->ran && fr->load_error < 0 ? "freplace" : "fentry",
						DOCTOR_STAGE_LOAD, p->load_error, p->log, line,
						sizeof(line));
			c = check_new(d, "trampolines", DOCTOR_FAIL,
				      "the kernel refuses trampoline-based programs (%s)%s", refused,
				      empty_log ? " with an empty verifier log" : "");
			check_cause(d, c, streq(cause, "trampolines") ? NULL : cause);
			check_evidence(d, c, "probe.fentry, probe.freplace, probe.lsm", "%s", refused);
			check_blocks(d, c, "fentry, fexit, lsm and freplace programs; bpfd's XDP and "
					   "TC dispatchers (they chain programs with freplace)");
			if (streq(cause, "trampolines"))
				check_remedy(d, c, "nothing bpfd's privileges can fix: the "
						   "capabilities are held and lockdown=%s does not "
						   "cover trampolines. Use kprobes/tracepoints instead "
						   "of fentry/fexit, TCX (6.6+) instead of the TC "
						   "dispatcher, or a kernel whose build allows "
						   "trampolines",
					     lockdown_level_name(f->lockdown));
			else
				check_remedy(d, c, "see the check '%s'", cause);
		} else {
			c = check_new(d, "trampolines", DOCTOR_OK,
				      "trampoline-based programs load (fentry, freplace, lsm)");
			check_evidence(d, c, "probe.fentry, probe.freplace, probe.lsm",
				       "bpf(BPF_PROG_LOAD) succeeded for each probe that ran");
		}
	}
	if (fr->ran) {
		bool ok = fr->load_error >= 0 && !(fr->attach_tried && fr->attach_error < 0);

		if (ok) {
			c = check_new(d, "dispatchers", DOCTOR_OK,
				      "XDP and TC multi-program chaining available (freplace works)");
		} else {
			c = check_new(d, "dispatchers", DOCTOR_FAIL,
				      "XDP and TC multi-program chaining unavailable: the dispatchers "
				      "need freplace, which is refused (%s)",
				      errno_name(fr->load_error < 0 ? fr->load_error : fr->attach_error));
			check_blocks(d, c, "more than one XDP program per interface through bpfd "
					   "(xdp attach), tc attach through the TC dispatcher");
			check_remedy(d, c, "use 'bpfctl attach ID tcx' (6.6+: the kernel orders "
					   "programs by priority, no freplace needed); for XDP, one "
					   "program per interface");
		}
		check_evidence(d, c, "probe.freplace", "%s",
			       fr->load_error < 0 ? errno_name(fr->load_error)
			       : fr->attach_error < 0 ? errno_name(fr->attach_error) : "ok");
	}
}
