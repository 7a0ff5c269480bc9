/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seed's "Determine Required Capabilities" procedure as one command: bcc's `capable`
 * needs kprobes, which some kernels (this project's development machines) do not have, so
 * this prefers the capability:cap_capable tracepoint (6.13+) and falls back to a kprobe.
 *
 * bpfctl forks COMMAND stopped on a pipe, attaches, marks COMMAND's pid (and --pid's) as
 * tracked, and lets it exec; bpf/caps_record.bpf.c adds the children of tracked processes
 * and reports every cap_capable() call of a tracked process through a ring buffer.
 */
#include "caps_record.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "caps_record.skel.h"
#include "doctor.h"

#define CAP_SYS_ADMIN_ 21
#define CAP_PERFMON_ 38
#define CAP_BPF_ 39
#define MAX_CAP 64
#define CMD_PROG_LOAD 5
#define MAX_WHERE 6

/* Mirrors struct cap_event in bpf/caps_record.bpf.c. */
struct cap_event {
	uint32_t tgid;
	uint32_t tid;
	int32_t cap;
	int32_t ret;
	int32_t audit;
	int32_t syscall;
	int32_t bpf_cmd;
	uint32_t prog_type;
	uint64_t seq;
	char comm[16];
};

struct where {
	char text[96]; /* "bpfd/1234 bpf(BPF_PROG_LOAD xdp)" */
	unsigned n;
};

struct cap_stat {
	unsigned granted, denied;
	unsigned audit, noaudit;
	unsigned fallback;  /* CAP_SYS_ADMIN checks right after a refused CAP_BPF/CAP_PERFMON */
	unsigned tolerated; /* CAP_PERFMON checks of the verifier loading a non-tracing program */
	unsigned vm;	    /* CAP_SYS_ADMIN checks of memory accounting (mmap, brk, execve) */
	unsigned needed;    /* granted checks that count for the minimal set */
	struct where where[MAX_WHERE];
	size_t n_where;
};

struct caps_record_result {
	char method[96];
	unsigned events, lost;
	int command_status; /* wait status of COMMAND, -1 when none */
	char processes[256];
	struct cap_stat caps[MAX_CAP];
	uint64_t minimal, refused_only;
	bool unit_read;
	char unit[256];
	uint64_t unit_bounding, unit_ambient;
	char unit_error[160];
	/* the previous event, for the CAP_SYS_ADMIN fallback rule */
	struct cap_event last;
	bool have_last;
};

static const char *const bpf_cmds[] = {
	"MAP_CREATE", "MAP_LOOKUP_ELEM", "MAP_UPDATE_ELEM", "MAP_DELETE_ELEM", "MAP_GET_NEXT_KEY",
	"PROG_LOAD", "OBJ_PIN", "OBJ_GET", "PROG_ATTACH", "PROG_DETACH", "PROG_TEST_RUN",
	"PROG_GET_NEXT_ID", "MAP_GET_NEXT_ID", "PROG_GET_FD_BY_ID", "MAP_GET_FD_BY_ID",
	"OBJ_GET_INFO_BY_FD", "PROG_QUERY", "RAW_TRACEPOINT_OPEN", "BTF_LOAD", "BTF_GET_FD_BY_ID",
	"TASK_FD_QUERY", "MAP_LOOKUP_AND_DELETE_ELEM", "MAP_FREEZE", "BTF_GET_NEXT_ID",
	"MAP_LOOKUP_BATCH", "MAP_LOOKUP_AND_DELETE_BATCH", "MAP_UPDATE_BATCH", "MAP_DELETE_BATCH",
	"LINK_CREATE", "LINK_UPDATE", "LINK_GET_FD_BY_ID", "LINK_GET_NEXT_ID", "ENABLE_STATS",
	"ITER_CREATE", "LINK_DETACH", "PROG_BIND_MAP", "TOKEN_CREATE",
};

/* x86_64 numbers of the system calls that check capabilities for a BPF loader. */
static const struct {
	int nr;
	const char *name;
} syscall_names[] = {
	{ 1, "write" },	      { 9, "mmap" },	    { 10, "mprotect" },	  { 12, "brk" },
	{ 25, "mremap" },	      { 16, "ioctl" },	    { 41, "socket" },	  { 42, "connect" },
	{ 44, "sendto" },     { 46, "sendmsg" },    { 49, "bind" },	  { 54, "setsockopt" },
	{ 56, "clone" },      { 59, "execve" },	    { 83, "mkdir" },	  { 90, "chmod" },
	{ 92, "chown" },      { 93, "fchown" },	    { 126, "capset" },	  { 157, "prctl" },
	{ 160, "setrlimit" }, { 165, "mount" },	    { 166, "umount2" },	  { 257, "openat" },
	{ 260, "fchownat" },  { 268, "fchmodat" },  { 272, "unshare" },	  { 298, "perf_event_open" },
	{ 302, "prlimit64" }, { 308, "setns" },	    { 321, "bpf" },	  { 435, "clone3" },
};

/* Program types whose load needs CAP_PERFMON (kernel/bpf/syscall.c is_perfmon_prog_type). */
static bool perfmon_prog_type(uint32_t t)
{
	switch (t) {
	case 2:	 /* kprobe */
	case 5:	 /* tracepoint */
	case 7:	 /* perf_event */
	case 17: /* raw_tracepoint */
	case 24: /* raw_tracepoint_writable */
	case 26: /* tracing */
	case 28: /* ext */
	case 29: /* lsm */
	case 27: /* struct_ops */
	case 31: /* syscall */
		return true;
	default:
		return false;
	}
}

static const char *const prog_types[] = {
	"unspec", "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint", "xdp",
	"perf_event", "cgroup_skb", "cgroup_sock", "lwt_in", "lwt_out", "lwt_xmit", "sock_ops",
	"sk_skb", "cgroup_device", "sk_msg", "raw_tracepoint", "cgroup_sock_addr", "lwt_seg6local",
	"lirc_mode2", "sk_reuseport", "flow_dissector", "cgroup_sysctl", "raw_tracepoint_writable",
	"cgroup_sockopt", "tracing", "struct_ops", "ext", "lsm", "sk_lookup", "syscall", "netfilter",
};

/* Memory accounting asks for CAP_SYS_ADMIN on every mapping (the root reserve of
 * __vm_enough_memory, noaudit): it decides nothing a BPF service needs. */
static bool vm_accounting(const struct cap_event *e)
{
	return e->cap == CAP_SYS_ADMIN_ && (e->syscall == 9 || e->syscall == 10 ||
					   e->syscall == 12 || e->syscall == 25 || e->syscall == 59);
}

static void describe_syscall(const struct cap_event *e, char *buf, size_t size)
{
	if (e->syscall == 321 && e->bpf_cmd >= 0 && (size_t)e->bpf_cmd < ELEMENTSOF(bpf_cmds)) {
		if (e->bpf_cmd == CMD_PROG_LOAD && e->prog_type < ELEMENTSOF(prog_types))
			snprintf(buf, size, "bpf(BPF_PROG_LOAD %s)", prog_types[e->prog_type]);
		else if (e->bpf_cmd == CMD_PROG_LOAD)
			snprintf(buf, size, "bpf(BPF_PROG_LOAD type %u)", e->prog_type);
		else
			snprintf(buf, size, "bpf(BPF_%s)", bpf_cmds[e->bpf_cmd]);
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(syscall_names); i++)
		if (syscall_names[i].nr == e->syscall) {
			snprintf(buf, size, "%s()", syscall_names[i].name);
			return;
		}
	if (e->syscall < 0)
		snprintf(buf, size, "(no syscall seen)");
	else
		snprintf(buf, size, "syscall %d", e->syscall);
}

static void add_where(struct cap_stat *s, const struct cap_event *e)
{
	char sys[64], text[96];

	describe_syscall(e, sys, sizeof(sys));
	snprintf(text, sizeof(text), "%.15s/%u %s", e->comm, e->tid, sys);
	for (size_t i = 0; i < s->n_where; i++)
		if (streq(s->where[i].text, text)) {
			s->where[i].n++;
			return;
		}
	if (s->n_where < MAX_WHERE) {
		snprintf(s->where[s->n_where].text, sizeof(s->where[0].text), "%s", text);
		s->where[s->n_where++].n = 1;
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct caps_record_result *r = ctx;
	const struct cap_event *e = data;
	struct cap_stat *s;
	bool granted;

	if (size < sizeof(*e) || e->cap < 0 || e->cap >= MAX_CAP)
		return 0;
	r->events++;
	s = &r->caps[e->cap];
	granted = e->ret == 0;
	granted ? s->granted++ : s->denied++;
	if (e->audit == 1)
		s->audit++;
	else if (e->audit == 0)
		s->noaudit++;
	add_where(s, e);

	/* bpf_capable() and perfmon_capable() try CAP_SYS_ADMIN when CAP_BPF/CAP_PERFMON is
	 * refused: such a CAP_SYS_ADMIN check stands for the refused capability. */
	if (e->cap == CAP_SYS_ADMIN_ && r->have_last && r->last.tid == e->tid &&
	    r->last.ret != 0 && (r->last.cap == CAP_BPF_ || r->last.cap == CAP_PERFMON_)) {
		s->fallback++;
		r->caps[r->last.cap].needed++;
	} else if (e->cap == CAP_PERFMON_ && e->syscall == 321 && e->bpf_cmd == CMD_PROG_LOAD &&
		   !perfmon_prog_type(e->prog_type)) {
		/* The verifier asks for CAP_PERFMON loading XDP, TC, socket filters...: without
		 * it the program only loses pointer leaks and speculation bypasses. */
		s->tolerated++;
	} else if (vm_accounting(e)) {
		s->vm++;
	} else if (granted)
		s->needed++;
	r->last = *e;
	r->have_last = true;
	return 0;
}

static void set_err(char *err, size_t size, const char *fmt, ...) _printf_(3, 4);
static void set_err(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

static int tracefs_offsets(struct caps_record_bpf *skel, const char *events)
{
	char path[256], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sched/sched_process_fork/format", events);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned off;
		const char *p = strstr(line, "offset:");

		if (!p || sscanf(p, "offset:%u", &off) != 1)
			continue;
		if (strstr(line, " parent_pid;"))
			skel->rodata->fork_parent_off = off;
		else if (strstr(line, " child_pid;"))
			skel->rodata->fork_child_off = off;
	}
	fclose(f);
	return 0;
}

/* tracefs where libbpf looks; mounted in a private mount namespace of this process when the
 * machine has none (after COMMAND was forked, so COMMAND keeps the host's mounts). */
static const char *ensure_tracefs(void)
{
	if (access("/sys/kernel/tracing/events", F_OK) == 0)
		return "/sys/kernel/tracing/events";
	if (access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return "/sys/kernel/debug/tracing/events";
	if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) == 0)
		return "/sys/kernel/tracing/events";
	return NULL;
}

static uint64_t parse_caps(const char *v, bool *ret_invert)
{
	uint64_t m = 0;
	char buf[1024], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", v);
	*ret_invert = buf[0] == '~';
	for (char *w = strtok_r(buf + (*ret_invert ? 1 : 0), " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		int c = capability_from_name(w);

		if (c >= 0)
			m |= 1ULL << c;
	}
	return m;
}

/* CapabilityBoundingSet= and AmbientCapabilities= of a unit file, as systemd merges them:
 * lines add up, an empty assignment resets, "~" inverts. Default bounding set: all. */
static void read_unit(struct caps_record_result *r, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	bool bnd_set = false;

	snprintf(r->unit, sizeof(r->unit), "%s", path);
	if (!f) {
		snprintf(r->unit_error, sizeof(r->unit_error), "cannot open: %s", strerror(errno));
		return;
	}
	r->unit_bounding = r->unit_ambient = 0;
	while (fgets(line, sizeof(line), f)) {
		uint64_t *target = NULL;
		const char *v = NULL;
		bool invert;
		uint64_t m;

		if (strncmp(line, "CapabilityBoundingSet=", 22) == 0) {
			target = &r->unit_bounding;
			v = line + 22;
			bnd_set = true;
		} else if (strncmp(line, "AmbientCapabilities=", 20) == 0) {
			target = &r->unit_ambient;
			v = line + 20;
		}
		if (!target)
			continue;
		if (!v[strspn(v, " \t\n")]) {
			*target = 0;
			continue;
		}
		m = parse_caps(v, &invert);
		if (invert)
			*target = ~m;
		else
			*target |= m;
	}
	fclose(f);
	if (!bnd_set)
		r->unit_bounding = ~0ULL;
	r->unit_read = true;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int caps_record_run(const struct caps_record_opts *o, struct caps_record_result **ret,
		    char *err, size_t err_size)
{
	_cleanup_free_ struct caps_record_result *r = calloc(1, sizeof(*r));
	_cleanup_free_ const char **argv = NULL;
	struct caps_record_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	const char *events;
	int go[2] = { -1, -1 }, status = 0, rc;
	pid_t child = 0;
	uint8_t one = 1;
	bool tracepoint;
	char path[256];
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	time_t deadline = o->duration_s ? time(NULL) + o->duration_s : 0;

	if (!r)
		return -ENOMEM;
	r->command_status = -1;
	if (o->pid > 0 && kill(o->pid, 0) < 0 && errno == ESRCH) {
		set_err(err, err_size, "--pid %d: no such process", (int)o->pid);
		return -ESRCH;
	}

	/* COMMAND first, held on a pipe until the recording runs. */
	if (o->argc) {
		/* execvp() wants a NULL-terminated copy. */
		argv = calloc(o->argc + 1, sizeof(*argv));
		if (!argv)
			return -ENOMEM;
		memcpy(argv, o->argv, o->argc * sizeof(*argv));
		if (pipe2(go, O_CLOEXEC) < 0)
			return negative_errno();
		child = fork();
		if (child < 0) {
			rc = negative_errno();
			goto out_pipe;
		}
		if (child == 0) {
			char c;

			close(go[1]);
			if (read(go[0], &c, 1) != 1)
				_exit(127);
			execvp(argv[0], (char *const *)argv);
			fprintf(stderr, "caps record: cannot run %s: %s\n", o->argv[0],
				strerror(errno));
			_exit(127);
		}
		close(go[0]);
		go[0] = -1;
	}

	events = ensure_tracefs();
	skel = caps_record_bpf__open();
	if (!skel) {
		rc = negative_errno();
		set_err(err, err_size, "opening the recorder: %s", strerror(-rc));
		goto out_child;
	}
	if (events)
		tracefs_offsets(skel, events);
	snprintf(path, sizeof(path), "%s/capability/cap_capable/id", events ? events : "/nonexistent");
	tracepoint = access(path, F_OK) == 0;
	bpf_program__set_autoload(skel->progs.on_cap_capable, tracepoint);
	bpf_program__set_autoload(skel->progs.on_cap_capable_entry, !tracepoint);
	bpf_program__set_autoload(skel->progs.on_cap_capable_exit, !tracepoint);
	if (!tracepoint && access("/sys/bus/event_source/devices/kprobe", F_OK) < 0) {
		rc = -EOPNOTSUPP;
		set_err(err, err_size,
			"this kernel has neither the capability:cap_capable tracepoint (Linux 6.13+%s) "
			"nor kprobes (CONFIG_KPROBES) to record capability checks with",
			events ? "" : "; tracefs could not be mounted either");
		goto out_child;
	}
	snprintf(r->method, sizeof(r->method), "%s",
		 tracepoint ? "the capability:cap_capable tracepoint"
			    : "a kprobe and a kretprobe on cap_capable()");
	rc = caps_record_bpf__load(skel);
	if (rc == 0)
		rc = caps_record_bpf__attach(skel);
	if (rc < 0) {
		set_err(err, err_size, "loading the recorder (%s): %s; see bpfctl doctor", r->method,
			strerror(-rc));
		goto out_child;
	}
	if (o->pid > 0) {
		uint32_t k = (uint32_t)o->pid;

		bpf_map__update_elem(skel->maps.tracked, &k, sizeof(k), &one, 1, BPF_ANY);
	}
	if (child > 0) {
		uint32_t k = (uint32_t)child;

		bpf_map__update_elem(skel->maps.tracked, &k, sizeof(k), &one, 1, BPF_ANY);
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, r, NULL);
	if (!rb) {
		rc = negative_errno();
		set_err(err, err_size, "ring buffer: %s", strerror(-rc));
		goto out_child;
	}
	snprintf(r->processes, sizeof(r->processes), "%s%.0d%s%.0d",
		 child ? "COMMAND pid " : "", (int)child, o->pid > 0 ? (child ? ", --pid " : "--pid ") : "",
		 (int)o->pid);

	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (child > 0) {
		if (write(go[1], "g", 1) != 1) {
			rc = negative_errno();
			goto out_signals;
		}
		close(go[1]);
		go[1] = -1;
	}
	for (;;) {
		ring_buffer__poll(rb, 100);
		if (child > 0) {
			pid_t w = waitpid(child, &status, WNOHANG);

			if (w == child) {
				r->command_status = status;
				child = 0;
				break;
			}
		} else if (stop || (deadline && time(NULL) >= deadline) ||
			   (o->pid > 0 && kill(o->pid, 0) < 0 && errno == ESRCH))
			break;
	}
	/* What the last moments produced. */
	ring_buffer__consume(rb);
	rc = 0;

out_signals:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out_child:
	if (child > 0) {
		/* Failed before it ran: it is still waiting on the pipe. */
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
out_pipe:
	if (go[0] >= 0)
		close(go[0]);
	if (go[1] >= 0)
		close(go[1]);
	ring_buffer__free(rb);
	caps_record_bpf__destroy(skel);
	if (rc < 0)
		return rc;
	for (int c = 0; c < MAX_CAP; c++) {
		if (r->caps[c].needed)
			r->minimal |= 1ULL << c;
		else if (r->caps[c].denied && !r->caps[c].granted && !r->caps[c].tolerated &&
			 !r->caps[c].vm)
			r->refused_only |= 1ULL << c;
	}
	/* A refused CAP_BPF that CAP_SYS_ADMIN stood in for is needed, not "refused only". */
	r->refused_only &= ~r->minimal;
	if (o->unit)
		read_unit(r, o->unit);
	*ret = TAKE_PTR(r);
	return 0;
}

void caps_record_result_free(struct caps_record_result *r)
{
	free(r);
}

static void print_mask_line(FILE *f, const char *key, uint64_t m)
{
	_cleanup_free_ char *s = capability_mask_to_string(m, " ");

	fprintf(f, "%s=%s\n", key, m ? (s ? s : "?") : "");
}

void caps_record_result_print(const struct caps_record_result *r, FILE *f)
{
	fprintf(f, "Recorded %u capability check%s of %s with %s.\n", r->events,
		r->events == 1 ? "" : "s", r->processes, r->method);
	if (r->command_status >= 0) {
		if (WIFEXITED(r->command_status))
			fprintf(f, "COMMAND exited with status %d.\n", WEXITSTATUS(r->command_status));
		else if (WIFSIGNALED(r->command_status))
			fprintf(f, "COMMAND was killed by signal %d.\n", WTERMSIG(r->command_status));
	}
	fprintf(f, "\n%-22s %7s %7s  %-7s %s\n", "CAPABILITY", "GRANTED", "DENIED", "AUDIT", "WHERE");
	for (int c = 0; c < MAX_CAP; c++) {
		const struct cap_stat *s = &r->caps[c];
		char name[32], audit[16];

		if (!s->granted && !s->denied)
			continue;
		capability_name(c, name, sizeof(name));
		snprintf(audit, sizeof(audit), "%s",
			 s->audit && s->noaudit ? "mixed" : s->audit ? "audit" : s->noaudit ? "noaudit" : "-");
		fprintf(f, "%-22s %7u %7u  %-7s", name, s->granted, s->denied, audit);
		for (size_t i = 0; i < s->n_where; i++)
			fprintf(f, "%s%s (%u)", i ? ", " : " ", s->where[i].text, s->where[i].n);
		fputc('\n', f);
	}

	fputs("\nMinimal unit lines (granted checks, corrected):\n", f);
	print_mask_line(f, "  CapabilityBoundingSet", r->minimal);
	print_mask_line(f, "  AmbientCapabilities", r->minimal);
	for (int c = 0; c < MAX_CAP; c++) {
		const struct cap_stat *s = &r->caps[c];
		char name[32];

		capability_name(c, name, sizeof(name));
		if (s->fallback)
			fprintf(f, "  correction: %u %s check%s followed a refused CAP_BPF/CAP_PERFMON "
				   "(the kernel's fallback): the refused capability is listed instead\n",
				s->fallback, name, s->fallback == 1 ? "" : "s");
		if (s->vm)
			fprintf(f, "  correction: %u %s check%s of memory accounting (mmap, brk, "
				   "execve: the root reserve, noaudit): not listed\n",
				s->vm, name, s->vm == 1 ? "" : "s");
		if (s->tolerated)
			fprintf(f, "  correction: %u %s check%s made by the verifier loading a "
				   "non-tracing program, which loads without it: not listed\n",
				s->tolerated, name, s->tolerated == 1 ? "" : "s");
	}
	if (r->refused_only) {
		_cleanup_free_ char *s = capability_mask_to_string(r->refused_only, " ");

		fprintf(f, "  refused and never granted (not listed; add them if COMMAND failed "
			   "for lack of them): %s\n", s ? s : "?");
	}
	if (r->unit[0]) {
		fprintf(f, "\nAgainst %s:\n", r->unit);
		if (!r->unit_read) {
			fprintf(f, "  %s\n", r->unit_error);
			return;
		}
		uint64_t granted = r->unit_bounding & r->unit_ambient;
		_cleanup_free_ char *missing = capability_mask_to_string(r->minimal & ~granted, " ");
		_cleanup_free_ char *unused = capability_mask_to_string(granted & ~r->minimal, " ");
		_cleanup_free_ char *bnd_only = capability_mask_to_string(
			r->unit_bounding & ~r->unit_ambient & r->minimal, " ");

		fprintf(f, "  needed but not granted by the unit: %s\n",
			r->minimal & ~granted ? missing : "(none)");
		fprintf(f, "  granted by the unit but not used: %s\n",
			granted & ~r->minimal ? unused : "(none)");
		if (r->unit_bounding & ~r->unit_ambient & r->minimal)
			fprintf(f, "  in CapabilityBoundingSet= but not AmbientCapabilities= "
				   "(a non-root service never holds them): %s\n", bnd_only);
	}
}

static json_t *mask_json(uint64_t m)
{
	json_t *a = json_array();

	for (int c = 0; a && c < MAX_CAP; c++) {
		char name[32];

		if (!(m & (1ULL << c)))
			continue;
		capability_name(c, name, sizeof(name));
		json_array_append_new(a, json_string(name));
	}
	return a;
}

json_t *caps_record_result_to_json(const struct caps_record_result *r)
{
	json_t *j = json_object(), *caps = json_array();

	if (!j || !caps) {
		json_decref(j);
		json_decref(caps);
		return NULL;
	}
	json_object_set_new(j, "method", json_string(r->method));
	json_object_set_new(j, "events", json_integer(r->events));
	if (r->command_status >= 0 && WIFEXITED(r->command_status))
		json_object_set_new(j, "command_exit_status",
				    json_integer(WEXITSTATUS(r->command_status)));
	for (int c = 0; c < MAX_CAP; c++) {
		const struct cap_stat *s = &r->caps[c];
		json_t *o, *where;
		char name[32];

		if (!s->granted && !s->denied)
			continue;
		o = json_object();
		where = json_array();
		if (!o || !where) {
			json_decref(o);
			json_decref(where);
			continue;
		}
		capability_name(c, name, sizeof(name));
		json_object_set_new(o, "capability", json_string(name));
		json_object_set_new(o, "number", json_integer(c));
		json_object_set_new(o, "granted", json_integer(s->granted));
		json_object_set_new(o, "denied", json_integer(s->denied));
		json_object_set_new(o, "audit", json_integer(s->audit));
		json_object_set_new(o, "noaudit", json_integer(s->noaudit));
		json_object_set_new(o, "sys_admin_fallback", json_integer(s->fallback));
		json_object_set_new(o, "tolerated_by_verifier", json_integer(s->tolerated));
		json_object_set_new(o, "memory_accounting", json_integer(s->vm));
		json_object_set_new(o, "needed", json_boolean(r->minimal & (1ULL << c)));
		for (size_t i = 0; i < s->n_where; i++) {
			json_t *w = json_object();

			json_object_set_new(w, "where", json_string(s->where[i].text));
			json_object_set_new(w, "count", json_integer(s->where[i].n));
			json_array_append_new(where, w);
		}
		json_object_set_new(o, "where", where);
		json_array_append_new(caps, o);
	}
	json_object_set_new(j, "capabilities", caps);
	json_object_set_new(j, "minimal", mask_json(r->minimal));
	json_object_set_new(j, "refused_only", mask_json(r->refused_only));
	if (r->unit_read) {
		uint64_t granted = r->unit_bounding & r->unit_ambient;
		json_t *u = json_object();

		json_object_set_new(u, "path", json_string(r->unit));
		json_object_set_new(u, "missing", mask_json(r->minimal & ~granted));
		json_object_set_new(u, "unused", mask_json(granted & ~r->minimal));
		json_object_set_new(j, "unit", u);
	}
	return j;
}
