/* SPDX-License-Identifier: Apache-2.0 */
/* Measuring: every fact the checks and explanations use, read once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "doctor-internal.h"

static const struct config_opt config_table[] = {
	{ "BPF_SYSCALL", "every bpf() call" },
	{ "BPF_JIT", "JIT compilation (programs run interpreted, slower; some kernels refuse to load without it)" },
	{ "BPF_JIT_ALWAYS_ON", NULL },
	{ "DEBUG_INFO_BTF", "CO-RE programs, fentry/fexit/lsm/freplace (no /sys/kernel/btf/vmlinux)" },
	{ "KPROBES", "kprobe and kretprobe attach" },
	{ "KPROBE_EVENTS", "kprobe attach through perf (kprobe PMU)" },
	{ "UPROBES", "uprobe attach" },
	{ "UPROBE_EVENTS", "uprobe attach through perf (uprobe PMU)" },
	{ "BPF_EVENTS", "kprobe, uprobe and tracepoint programs" },
	{ "FTRACE_SYSCALLS", "syscalls/* tracepoints" },
	{ "DYNAMIC_FTRACE_WITH_DIRECT_CALLS", "BPF trampolines: fentry, fexit, lsm, freplace" },
	{ "BPF_LSM", "lsm programs" },
	{ "CGROUP_BPF", "cgroup programs" },
	{ "NET_CLS_BPF", "tc programs (cls_bpf): bpfd's tc dispatcher" },
	{ "NET_SCH_INGRESS", "tc/tcx ingress and clsact" },
	{ "XDP_SOCKETS", NULL },
	{ "SECURITY_LOCKDOWN_LSM", NULL },
	{ "LOCK_DOWN_KERNEL_FORCE_INTEGRITY", NULL },
	{ "LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY", NULL },
	{ "BPF_UNPRIV_DEFAULT_OFF", NULL },
	{ "MEMCG", NULL },
};

char config_value(const struct facts *f, const char *name)
{
	for (size_t i = 0; i < f->n_config; i++)
		if (streq(f->config[i].name, name))
			return f->config[i].value;
	return '?';
}

bool kernel_at_least(const struct facts *f, int maj, int min)
{
	return f->kmaj > maj || (f->kmaj == maj && f->kmin >= min);
}

static void config_line(struct doctor *d, const char *line)
{
	char name[128];
	const char *eq;

	for (size_t i = 0; i < d->f.n_config; i++) {
		struct config_opt *o = &d->f.config[i];
		size_t len = strlen(o->name);

		snprintf(name, sizeof(name), "# CONFIG_%s is not set", o->name);
		if (streq(line, name)) {
			o->value = 'n';
			return;
		}
		if (strncmp(line, "CONFIG_", 7) != 0 || strncmp(line + 7, o->name, len) != 0)
			continue;
		eq = line + 7 + len;
		if (*eq == '=')
			o->value = eq[1] == 'y' || eq[1] == 'm' ? eq[1] : 'n';
	}
}

static void gather_kernel(struct doctor *d)
{
	struct facts *f = &d->f;

	if (doctor_read_line(d, "/proc/sys/kernel/osrelease", f->release, sizeof(f->release)) == 0)
		sscanf(f->release, "%d.%d", &f->kmaj, &f->kmin);
	f->config = malloc(sizeof(config_table));
	if (!f->config) {
		d->oom = true;
		return;
	}
	memcpy(f->config, config_table, sizeof(config_table));
	f->n_config = ELEMENTSOF(config_table);
	for (size_t i = 0; i < f->n_config; i++)
		f->config[i].value = '?';
	if (doctor_config_foreach(d, config_line) == 0)
		/* A config that does not mention an option has it off. */
		for (size_t i = 0; i < f->n_config; i++)
			if (f->config[i].value == '?')
				f->config[i].value = 'n';

	f->btf_vmlinux = doctor_exists(d, "/sys/kernel/btf/vmlinux");
	f->kprobe_pmu = doctor_exists(d, "/sys/bus/event_source/devices/kprobe/type");
	f->uprobe_pmu = doctor_exists(d, "/sys/bus/event_source/devices/uprobe/type");
	doctor_read_line(d, "/proc/cmdline", f->cmdline, sizeof(f->cmdline));
	f->cmdline_lockdown = strstr(f->cmdline, "lockdown=") != NULL;
}

static void sysctl(struct doctor *d, const char *path, long long *ret)
{
	if (doctor_read_long(d, path, ret) < 0)
		*ret = -1;
}

static void gather_sysctls(struct doctor *d)
{
	struct facts *f = &d->f;
	long long v;

	sysctl(d, "/proc/sys/kernel/unprivileged_bpf_disabled", &v);
	f->unpriv_bpf = (int)v;
	sysctl(d, "/proc/sys/kernel/perf_event_paranoid", &v);
	f->perf_paranoid = (int)v;
	sysctl(d, "/proc/sys/net/core/bpf_jit_enable", &v);
	f->jit_enable = (long)v;
	sysctl(d, "/proc/sys/net/core/bpf_jit_harden", &v);
	f->jit_harden = (long)v;
	sysctl(d, "/proc/sys/net/core/bpf_jit_limit", &f->jit_limit);
}

static enum lockdown_level lockdown_parse(const char *s)
{
	const char *open = strchr(s, '['), *close = open ? strchr(open, ']') : NULL;
	size_t len;

	if (!open || !close)
		return LOCKDOWN_UNKNOWN;
	len = (size_t)(close - open - 1);
	if (len == 4 && strncmp(open + 1, "none", 4) == 0)
		return LOCKDOWN_NONE;
	if (len == 9 && strncmp(open + 1, "integrity", 9) == 0)
		return LOCKDOWN_INTEGRITY;
	if (len == 15 && strncmp(open + 1, "confidentiality", 15) == 0)
		return LOCKDOWN_CONFIDENTIALITY;
	return LOCKDOWN_UNKNOWN;
}

static void keep_line(struct doctor *d, char **v, size_t *n, const char *msg)
{
	char *s;

	if (*n >= KMSG_LINES_MAX)
		return;
	s = strdup(msg);
	if (!s) {
		d->oom = true;
		return;
	}
	v[(*n)++] = s;
}

static void kmsg_line(struct doctor *d, const char *msg)
{
	struct facts *f = &d->f;
	const char *p;

	/* Mainline (5.4+): "Kernel is locked down from Kernel configuration; see man
	 * kernel_lockdown.7"; distribution patches before 5.4: "Kernel is locked down from EFI
	 * secure boot; ..." and "Lockdown: systemd: BPF is restricted; ...". */
	p = strstr(msg, "locked down from ");
	if (p) {
		p += strlen("locked down from ");
		snprintf(f->lockdown_from, sizeof(f->lockdown_from), "%.*s",
			 (int)strcspn(p, ";\n"), p);
		keep_line(d, f->kmsg_lockdown, &f->n_kmsg_lockdown, msg);
		return;
	}
	if (strncmp(msg, "Lockdown: ", 10) == 0 || strstr(msg, "Lifting lockdown")) {
		keep_line(d, f->kmsg_lockdown, &f->n_kmsg_lockdown, msg);
		return;
	}
	/* SELinux AVC and AppArmor denials of bpf/perfmon/capability use. */
	if ((strstr(msg, "avc:  denied") || strstr(msg, "avc: denied") ||
	     strstr(msg, "apparmor=\"DENIED\"")) &&
	    (strstr(msg, "bpf") || strstr(msg, "perfmon") || strstr(msg, "capability")))
		keep_line(d, f->kmsg_denials, &f->n_kmsg_denials, msg);
}

static void gather_lockdown(struct doctor *d)
{
	struct facts *f = &d->f;
	int r;

	f->kmsg_error = doctor_kmsg_foreach(d, kmsg_line);
	for (size_t i = 0; i < f->n_kmsg_lockdown; i++)
		if (strstr(f->kmsg_lockdown[i], "Lockdown: ") && strstr(f->kmsg_lockdown[i], "BPF is restricted"))
			f->lockdown_legacy = true;

	r = doctor_read_line(d, "/sys/kernel/security/lockdown", f->lockdown_raw,
			     sizeof(f->lockdown_raw));
	if (r == 0) {
		snprintf(f->lockdown_file_source, sizeof(f->lockdown_file_source),
			 "/sys/kernel/security/lockdown");
	} else if (d->env.live && !d->f.securityfs) {
		char lsm[256] = "";

		/* securityfs is not mounted here: mount it where only a child sees it. */
		r = live_read_securityfs(f->lockdown_raw, sizeof(f->lockdown_raw), lsm, sizeof(lsm));
		if (r == 0) {
			snprintf(f->lockdown_file_source, sizeof(f->lockdown_file_source),
				 "/sys/kernel/security/lockdown (securityfs mounted by the doctor "
				 "in a private mount namespace)");
			if (!f->lsm_list[0])
				snprintf(f->lsm_list, sizeof(f->lsm_list), "%s", lsm);
		}
	}
	f->lockdown_file_error = r;
	f->lockdown = r == 0 ? lockdown_parse(f->lockdown_raw) : LOCKDOWN_UNKNOWN;
	if (f->lockdown == LOCKDOWN_UNKNOWN && f->n_kmsg_lockdown && f->lockdown_from[0] &&
	    !kernel_at_least(f, 5, 4))
		/* Before 5.4 there was no level: a locked down kernel refused everything the
		 * later confidentiality level refuses, and (Fedora, RHEL) all of bpf(). */
		f->lockdown = LOCKDOWN_CONFIDENTIALITY;
	if (f->lockdown == LOCKDOWN_UNKNOWN && f->lockdown_from[0]) {
		/* The level is not readable but the kernel log says it is locked down; the
		 * configuration may tell which level. */
		if (config_value(f, "LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY") == 'y')
			f->lockdown = LOCKDOWN_CONFIDENTIALITY;
		else if (config_value(f, "LOCK_DOWN_KERNEL_FORCE_INTEGRITY") == 'y')
			f->lockdown = LOCKDOWN_INTEGRITY;
	}
}

static uint64_t status_hex(const char *status, const char *key, bool *ok)
{
	const char *p = strstr(status, key);
	uint64_t v;

	if (!p || sscanf(p + strlen(key), " %" SCNx64, &v) != 1) {
		*ok = false;
		return 0;
	}
	return v;
}

static int status_int(const char *status, const char *key, int fallback)
{
	const char *p = strstr(status, key);
	int v;

	if (!p || sscanf(p + strlen(key), " %d", &v) != 1)
		return fallback;
	return v;
}

static void proc_dir(const struct doctor *d, char *buf, size_t size)
{
	if (d->env.pid > 0)
		snprintf(buf, size, "/proc/%d", (int)d->env.pid);
	else
		snprintf(buf, size, "/proc/self");
}

static void gather_threads(struct doctor *d, const char *proc)
{
	struct facts *f = &d->f;
	char path[4200];
	DIR *dir;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s%s/task", d->root, proc);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		_cleanup_free_ char *status = NULL;
		struct thread_caps *t;
		char p[512];
		bool ok = true;
		const char *name;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/task/%s/status", proc, de->d_name);
		if (doctor_read_file(d, p, 8192, &status) < 0)
			continue;
		t = realloc(f->threads, (f->n_threads + 1) * sizeof(*t));
		if (!t) {
			d->oom = true;
			break;
		}
		f->threads = t;
		t = &f->threads[f->n_threads];
		*t = (struct thread_caps){ .tid = atoi(de->d_name) };
		t->eff = status_hex(status, "CapEff:", &ok);
		name = strstr(status, "Name:");
		if (name)
			sscanf(name + 5, " %31s", t->comm);
		if (ok)
			f->n_threads++;
	}
	closedir(dir);
	/* readdir order is not tid order; reports should be stable. */
	for (size_t i = 1; i < f->n_threads; i++)
		for (size_t j = i; j > 0 && f->threads[j].tid < f->threads[j - 1].tid; j--) {
			struct thread_caps tmp = f->threads[j];

			f->threads[j] = f->threads[j - 1];
			f->threads[j - 1] = tmp;
		}
}

/* The unit properties that decide what bpfd may do. Live: systemctl show (a fixed argv, no
 * shell), only when systemd runs the machine; fixtures: <root>/systemctl-show. */
static void read_unit_properties(struct doctor *d, struct facts *f)
{
	static const char *const props = "User,AmbientCapabilities,CapabilityBoundingSet,"
					 "NoNewPrivileges,SystemCallFilter,RestrictAddressFamilies,"
					 "RestrictNamespaces,LimitMEMLOCK,ProtectKernelTunables,"
					 "PrivateTmp,ProtectHome";
	char *out = NULL;
	size_t len = 0;
	int pipefd[2];
	pid_t pid;

	if (!d->env.live) {
		if (doctor_read_file(d, "/systemctl-show", 8192, &out) == 0)
			f->unit_props = out;
		return;
	}
	if (access("/run/systemd/system", F_OK) < 0 || pipe2(pipefd, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execl("/usr/bin/systemctl", "systemctl", "show", "--no-pager", "-p", props,
		      f->unit, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	out = malloc(8192);
	if (out) {
		ssize_t n;

		while (len < 8191 && (n = read(pipefd[0], out + len, 8191 - len)) > 0)
			len += (size_t)n;
		out[len] = 0;
	}
	close(pipefd[0]);
	(void)waitpid(pid, NULL, 0);
	if (out && len > 0)
		f->unit_props = out;
	else
		free(out);
}

static void gather_process(struct doctor *d)
{
	struct facts *f = &d->f;
	_cleanup_free_ char *status = NULL, *main_status = NULL, *mountinfo = NULL;
	_cleanup_free_ char *limits = NULL, *cgroup = NULL;
	char proc[64], comm[64] = "?", p[256];
	bool ok = true;
	const char *name;

	proc_dir(d, proc, sizeof(proc));
	if (d->env.tid > 0)
		snprintf(f->status_path, sizeof(f->status_path), "%s/task/%d/status", proc,
			 (int)d->env.tid);
	else if (d->env.pid == 0 && d->env.live)
		snprintf(f->status_path, sizeof(f->status_path), "/proc/thread-self/status");
	else
		snprintf(f->status_path, sizeof(f->status_path), "%s/status", proc);

	f->uid = f->euid = -1;
	f->no_new_privs = f->seccomp = -1;
	if (doctor_read_file(d, f->status_path, 16384, &status) == 0) {
		f->cap_inh = status_hex(status, "CapInh:", &ok);
		f->cap_prm = status_hex(status, "CapPrm:", &ok);
		f->cap_eff = status_hex(status, "CapEff:", &ok);
		f->cap_bnd = status_hex(status, "CapBnd:", &ok);
		f->cap_amb = status_hex(status, "CapAmb:", &ok);
		f->caps_known = ok;
		name = strstr(status, "Name:");
		if (name)
			sscanf(name + 5, " %63s", comm);
		name = strstr(status, "Uid:");
		if (name)
			sscanf(name + 4, " %d %d", &f->uid, &f->euid);
		f->no_new_privs = status_int(status, "NoNewPrivs:", -1);
		f->seccomp = status_int(status, "Seccomp:", -1);
		f->seccomp_filters = status_int(status, "Seccomp_filters:", 0);
	}
	snprintf(p, sizeof(p), "%s/status", proc);
	if (doctor_read_file(d, p, 16384, &main_status) == 0) {
		ok = true;
		f->main_cap_eff = status_hex(main_status, "CapEff:", &ok);
		f->main_caps_known = ok;
	}
	if (d->env.pid > 0 || d->env.tid > 0)
		snprintf(f->subject, sizeof(f->subject), "pid %d (%s)%s%.0d, uid %d",
			 d->env.pid > 0 ? (int)d->env.pid : (int)getpid(), comm,
			 d->env.tid > 0 ? " thread " : "", (int)d->env.tid, f->euid);
	else if (d->root[0])
		snprintf(f->subject, sizeof(f->subject), "the fixture's process (%s), uid %d", comm,
			 f->euid);
	else
		snprintf(f->subject, sizeof(f->subject), "pid %d (%s) thread %d, uid %d",
			 (int)getpid(), comm, (int)gettid(), f->euid);
	gather_threads(d, proc);

	/* User namespace: the initial one maps every uid to itself. */
	snprintf(p, sizeof(p), "%s/uid_map", proc);
	if (doctor_read_line(d, p, f->uid_map, sizeof(f->uid_map)) == 0) {
		unsigned long long a, b, c;

		f->userns_known = true;
		f->init_userns = sscanf(f->uid_map, "%llu %llu %llu", &a, &b, &c) == 3 && a == 0 &&
				 b == 0 && c == 4294967295ULL;
	}

	/* Mounts as the subject sees them. */
	snprintf(p, sizeof(p), "%s/mountinfo", proc);
	if (doctor_read_file(d, p, 1 << 20, &mountinfo) == 0) {
		char *line, *save = NULL;

		f->mountinfo_known = true;
		for (line = strtok_r(mountinfo, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char mnt[256], type[64], opts[512] = "";
			const char *sep = strstr(line, " - ");
			int n = 0;

			/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - TYPE SOURCE SUPEROPTS" */
			if (!sep || sscanf(line, "%*s %*s %*s %*s %255s%n", mnt, &n) != 1 ||
			    sscanf(sep + 3, "%63s %*s %511s", type, opts) < 1)
				continue;
			if (streq(type, "bpf")) {
				if (!f->bpffs[0])
					snprintf(f->bpffs, sizeof(f->bpffs), "%s", mnt);
				if (strstr(opts, "delegate_"))
					snprintf(f->bpffs_delegate, sizeof(f->bpffs_delegate),
						 "%.100s (%.140s)", mnt, opts);
			} else if (streq(type, "tracefs") && !f->tracefs[0])
				snprintf(f->tracefs, sizeof(f->tracefs), "%s", mnt);
			else if (streq(type, "debugfs") && !f->debugfs[0])
				snprintf(f->debugfs, sizeof(f->debugfs), "%s", mnt);
			else if (streq(type, "securityfs"))
				f->securityfs = true;
		}
	}

	/* RLIMIT_MEMLOCK: "Max locked memory   65536   65536   bytes" */
	f->memlock_soft = f->memlock_hard = -2;
	snprintf(p, sizeof(p), "%s/limits", proc);
	if (doctor_read_file(d, p, 8192, &limits) == 0) {
		const char *l = strstr(limits, "Max locked memory");
		char soft[32], hard[32];

		if (l && sscanf(l + strlen("Max locked memory"), " %31s %31s", soft, hard) == 2) {
			f->memlock_soft = streq(soft, "unlimited") ? -1 : strtoll(soft, NULL, 10);
			f->memlock_hard = streq(hard, "unlimited") ? -1 : strtoll(hard, NULL, 10);
		}
	}

	/* The systemd unit, from the cgroup path: "0::/system.slice/bpfd.service". */
	snprintf(p, sizeof(p), "%s/cgroup", proc);
	if (doctor_read_file(d, p, 8192, &cgroup) == 0) {
		char *s = strstr(cgroup, ".service");

		if (s) {
			char *start = s;

			while (start > cgroup && start[-1] != '/')
				start--;
			snprintf(f->unit, sizeof(f->unit), "%.*s", (int)(s - start + 8), start);
		}
	}

	if (f->unit[0])
		read_unit_properties(d, f);

	/* LSMs as the subject sees them. */
	snprintf(p, sizeof(p), "%s/attr/current", proc);
	{
		char ctx[160] = "";
		long long enforce;

		doctor_read_line(d, p, ctx, sizeof(ctx));
		f->selinux = -1;
		if (doctor_read_long(d, "/sys/fs/selinux/enforce", &enforce) == 0) {
			f->selinux = enforce ? 1 : 0;
			snprintf(f->selinux_context, sizeof(f->selinux_context), "%s", ctx);
		}
		snprintf(p, sizeof(p), "%s/attr/apparmor/current", proc);
		if (doctor_read_line(d, p, f->apparmor_profile, sizeof(f->apparmor_profile)) < 0 &&
		    f->selinux < 0 && ctx[0] && (strstr(ctx, "(enforce)") || strstr(ctx, "(complain)") ||
						 streq(ctx, "unconfined")))
			/* Kernels before 5.1 have only attr/current, shared by all LSMs. */
			snprintf(f->apparmor_profile, sizeof(f->apparmor_profile), "%s", ctx);
	}
}

static void gather_lsm(struct doctor *d)
{
	if (!d->f.lsm_list[0])
		doctor_read_line(d, "/sys/kernel/security/lsm", d->f.lsm_list,
				 sizeof(d->f.lsm_list));
}

int facts_gather(struct doctor *d)
{
	struct facts *f = &d->f;
	int r;

	f->seccomp_canary = 0;
	gather_kernel(d);
	gather_sysctls(d);
	gather_process(d);
	gather_lsm(d);
	gather_lockdown(d);
	gather_lsm(d);
	/* Only a filter can make the canary say anything interesting. */
	if (d->env.live && d->env.pid == 0 && f->seccomp > 0) {
		f->seccomp_canary = live_seccomp_canary(&f->canary_killed);
		if (f->seccomp_canary == -EPERM && !kernel_at_least(f, 5, 19) &&
		    !subject_bpf_capable(f))
			f->seccomp_canary = 0; /* the sysctl answers EPERM first on those */
	}
	if (d->env.probes_file) {
		r = probes_inject(d, d->env.probes_file);
		if (r < 0)
			snprintf(f->probes_error, sizeof(f->probes_error),
				 "injected probes %s: %s", d->env.probes_file, strerror(-r));
	} else if (d->env.live && d->env.probes) {
		r = probes_run(d);
		if (r < 0 && !f->probes_error[0])
			snprintf(f->probes_error, sizeof(f->probes_error), "%s", strerror(-r));
	}
	return d->oom ? -ENOMEM : 0;
}

void facts_clear(struct facts *f)
{
	free(f->config);
	for (size_t i = 0; i < f->n_kmsg_lockdown; i++)
		free(f->kmsg_lockdown[i]);
	for (size_t i = 0; i < f->n_kmsg_denials; i++)
		free(f->kmsg_denials[i]);
	free(f->threads);
	free(f->bpf_lsm_progs);
	free(f->unit_props);
	*f = (struct facts){};
}
