/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One refusal, one cause: given what failed (program or hook type), at which stage, with which
 * errno and verifier log, pick the finding that explains it, in the order the kernel applies
 * them (seccomp before the syscall, user namespace and capabilities first in bpf(), then
 * lockdown, limits and security modules).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "doctor-internal.h"

#define ENOTSUPP_KERNEL 524

struct what {
	bool tracing;	 /* kprobe, uprobe, tracepoint: CAP_PERFMON, perf_event_open */
	bool trampoline; /* fentry, fexit, lsm, freplace */
	bool net;	 /* xdp, tc, tcx: CAP_NET_ADMIN */
	bool kprobe;
	bool tracepoint;
	bool unpriv_type; /* socket filter: loadable without CAP_BPF when the sysctl allows */
};

static struct what classify(const char *w)
{
	struct what r = {};

	r.kprobe = strstr(w, "kprobe") != NULL;
	r.tracepoint = strstr(w, "tracepoint") != NULL;
	r.tracing = r.kprobe || r.tracepoint || strstr(w, "uprobe");
	r.trampoline = streq(w, "fentry") || streq(w, "fexit") || streq(w, "lsm") ||
		       streq(w, "freplace");
	r.net = streq(w, "xdp") || streq(w, "tc") || streq(w, "tcx");
	r.unpriv_type = streq(w, "socket_filter");
	return r;
}

static bool contains(const char *log, const char *s)
{
	return log && strstr(log, s);
}

/* Capabilities the kernel checks for this operation, by version (kernel/bpf/syscall.c). */
static uint64_t needed_caps(const struct facts *f, const struct what *w, enum doctor_stage stage)
{
	bool has_cap_bpf = !f->kmaj || kernel_at_least(f, 5, 8);
	uint64_t need = 0;

	if (!(w->unpriv_type && f->unpriv_bpf == 0))
		need |= has_cap_bpf ? CAP_BIT(DCAP_BPF) : CAP_BIT(DCAP_SYS_ADMIN);
	if (has_cap_bpf && (w->tracing || w->trampoline))
		need |= CAP_BIT(DCAP_PERFMON);
	if (w->net && (has_cap_bpf || stage == DOCTOR_STAGE_ATTACH))
		need |= CAP_BIT(DCAP_NET_ADMIN);
	return need;
}

static uint64_t missing_from(uint64_t need, uint64_t eff)
{
	uint64_t m = need & ~eff;

	if (eff & CAP_BIT(DCAP_SYS_ADMIN))
		m &= ~(CAP_BIT(DCAP_BPF) | CAP_BIT(DCAP_PERFMON));
	return m;
}

static const char *say(char *buf, size_t size, const char *id, const char *prefix,
		       const char *fmt, ...) _printf_(5, 6);
static const char *say(char *buf, size_t size, const char *id, const char *prefix,
		       const char *fmt, ...)
{
	size_t len;
	va_list ap;

	snprintf(buf, size, "%s", prefix);
	len = strlen(buf);
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
	len = strlen(buf);
	snprintf(buf + len, size - len, "; see bpfctl doctor");
	return id;
}

static const char *explain_eperm(const struct doctor *d, const struct what *w,
				 enum doctor_stage stage, int error, const char *log,
				 const char *p, char *buf, size_t size)
{
	const struct facts *f = &d->f;
	char source[128];
	uint64_t need = needed_caps(f, w, stage), missing;

	if (f->seccomp == 1)
		return say(buf, size, "seccomp", p, "the process is in seccomp strict mode");
	if (f->seccomp == 2 && (f->seccomp_canary == -EPERM || f->seccomp_canary == -EACCES))
		return say(buf, size, "seccomp", p,
			   "a seccomp filter (%d in %s) returns %s for bpf() before the kernel "
			   "sees it, whatever the capabilities",
			   f->seccomp_filters, f->status_path, errno_name(f->seccomp_canary));
	if (f->userns_known && !f->init_userns && !(f->bpffs_delegate[0] && kernel_at_least(f, 6, 9)))
		return say(buf, size, "userns", p,
			   "the process runs in a user namespace (uid_map \"%s\"): capabilities "
			   "held there do not count for bpf()",
			   f->uid_map);
	if (f->caps_known) {
		missing = missing_from(need, f->cap_eff);
		if (missing) {
			_cleanup_free_ char *names = capability_mask_to_string(missing, ", ");
			bool thread = f->main_caps_known && !missing_from(need, f->main_cap_eff);

			if (thread)
				return say(buf, size, "caps.thread", p,
					   "the calling thread lacks %s (CapEff=%016llx in %s) "
					   "although the process's main thread holds %s: "
					   "capabilities are per thread",
					   names ? names : "capabilities",
					   (unsigned long long)f->cap_eff, f->status_path,
					   names && !strchr(names, ',') ? "it" : "them");
			if (f->unpriv_bpf > 0 && w->unpriv_type)
				return say(buf, size, "unprivileged_bpf", p,
					   "kernel.unprivileged_bpf_disabled=%d refuses bpf() to "
					   "processes without CAP_BPF",
					   f->unpriv_bpf);
			if (f->unpriv_bpf > 0 && f->euid != 0 && !f->cap_eff)
				return say(buf, size, "unprivileged_bpf", p,
					   "kernel.unprivileged_bpf_disabled=%d refuses bpf() to "
					   "processes without CAP_BPF, and this one (uid %d) holds "
					   "no capability",
					   f->unpriv_bpf, f->euid);
			return say(buf, size, "caps", p, "the process lacks %s (CapEff=%016llx)",
				   names ? names : "capabilities", (unsigned long long)f->cap_eff);
		}
	}
	lockdown_source(f, source, sizeof(source));
	if (f->lockdown == LOCKDOWN_CONFIDENTIALITY &&
	    (f->lockdown_legacy || (f->kmaj && !kernel_at_least(f, 5, 4))))
		return say(buf, size, "lockdown", p,
			   "the kernel is locked down (%s; Linux %s): its lockdown patches refuse "
			   "bpf() to everyone, root included",
			   source, f->release);
	if (f->lockdown == LOCKDOWN_CONFIDENTIALITY &&
	    ((w->kprobe && stage == DOCTOR_STAGE_ATTACH) ||
	     (w->tracepoint && stage == DOCTOR_STAGE_ATTACH)))
		return say(buf, size, "lockdown", p, "kernel lockdown=confidentiality (%s) blocks %s",
			   source, w->kprobe ? "kprobes" : "tracefs, where tracepoint ids are read");
	if (f->lockdown >= LOCKDOWN_INTEGRITY && contains(log, "probe_write_user"))
		return say(buf, size, "lockdown", p,
			   "kernel lockdown=%s (%s) removes bpf_probe_write_user()",
			   lockdown_level_name(f->lockdown), source);
	if (memlock_too_small(f))
		return say(buf, size, "memlock", p,
			   "RLIMIT_MEMLOCK is %lld bytes and Linux %d.%d (before 5.11) charges BPF "
			   "memory to it: raise it (LimitMEMLOCK=infinity) — here libbpf's "
			   "'ulimit -l' hint is right",
			   f->memlock_soft, f->kmaj, f->kmin);
	if (f->selinux == 1)
		return say(buf, size, "lsm.selinux", p,
			   "SELinux is enforcing%s (context %s); its policy must allow the bpf "
			   "class and capability2 { bpf perfmon }",
			   f->n_kmsg_denials ? " and logged a denial" : "",
			   f->selinux_context[0] ? f->selinux_context : "?");
	if (f->apparmor_profile[0] && strstr(f->apparmor_profile, "(enforce)"))
		return say(buf, size, "lsm.apparmor", p,
			   "AppArmor profile %s confines the process; it must allow capability "
			   "bpf and perfmon", f->apparmor_profile);
	if (f->bpf_lsm_progs)
		return say(buf, size, "lsm.bpf", p, "BPF LSM programs may refuse it: %s",
			   f->bpf_lsm_progs);
	if (w->trampoline)
		return say(buf, size, "trampolines", p,
			   "this kernel refuses trampoline-based programs (fentry, fexit, lsm, "
			   "freplace) with %s%s although the process holds CAP_BPF, CAP_PERFMON and "
			   "CAP_SYS_ADMIN and lockdown=%s does not cover them: the kernel build "
			   "or a security module refuses them, not missing privileges",
			   errno_name(error), log && !log[0] ? " and an empty verifier log" : "",
			   lockdown_level_name(f->lockdown));
	if (f->seccomp == 2)
		return say(buf, size, "seccomp", p,
			   "a seccomp filter (%d in %s) may return %s for it; nothing else "
			   "measured explains the refusal",
			   f->seccomp_filters, f->status_path, errno_name(error));
	return say(buf, size, "unknown", p,
		   "no measured cause: capabilities are held, lockdown=%s, no seccomp filter",
		   lockdown_level_name(f->lockdown));
}

const char *doctor__explain(const struct doctor *d, const char *what, enum doctor_stage stage,
			    int error, const char *log, char *buf, size_t size)
{
	const struct facts *f = &d->f;
	struct what w = classify(what);
	char p[96], source[128];

	snprintf(p, sizeof(p), "%s %s refused: ", what,
		 stage == DOCTOR_STAGE_LOAD ? "load" : "attach");
	lockdown_source(f, source, sizeof(source));

	if (config_value(f, "BPF_SYSCALL") == 'n')
		return say(buf, size, "kernel.config", p,
			   "the kernel is built without CONFIG_BPF_SYSCALL");
	if (error == -EPERM || error == -EACCES)
		return explain_eperm(d, &w, stage, error, log, p, buf, size);

	if (w.kprobe && (!f->kprobe_pmu || config_value(f, "KPROBES") == 'n') &&
	    (error == -ENOENT || error == -EOPNOTSUPP || error == -ENOTSUPP_KERNEL ||
	     error == -EINVAL || error == -ENODEV))
		return say(buf, size, "kprobes", p,
			   "the kernel has no kprobes (CONFIG_KPROBES=%c, "
			   "/sys/bus/event_source/devices/kprobe absent)",
			   config_value(f, "KPROBES"));
	if (w.trampoline && !f->btf_vmlinux &&
	    (error == -ESRCH || error == -ENOENT || error == -EINVAL))
		return say(buf, size, "btf", p,
			   "the kernel has no BTF (/sys/kernel/btf/vmlinux absent): nothing to "
			   "attach %s to", what);
	if (w.trampoline &&
	    (error == -ENOTSUPP_KERNEL || error == -EOPNOTSUPP || error == -ENODEV) &&
	    config_value(f, "DYNAMIC_FTRACE_WITH_DIRECT_CALLS") == 'n')
		return say(buf, size, "kernel.config", p,
			   "the kernel has no BPF trampolines "
			   "(CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS is not set)");
	if (error == -EINVAL && f->lockdown == LOCKDOWN_CONFIDENTIALITY &&
	    (contains(log, "probe_read") || contains(log, "unknown func")))
		return say(buf, size, "lockdown", p,
			   "kernel lockdown=confidentiality (%s) removes helpers that read kernel "
			   "memory (bpf_probe_read_kernel and friends)",
			   source);
	if (error == -EINVAL && f->lockdown >= LOCKDOWN_INTEGRITY &&
	    contains(log, "probe_write_user"))
		return say(buf, size, "lockdown", p,
			   "kernel lockdown=%s (%s) removes bpf_probe_write_user()",
			   lockdown_level_name(f->lockdown), source);
	if (streq(what, "tcx") && f->kmaj && !kernel_at_least(f, 6, 6))
		return say(buf, size, "kernel.version", p, "TCX needs Linux 6.6 (this is %s)",
			   f->release);
	/* Under confidentiality the kernel registers no trace events: tracefs is mounted but
	 * empty, so every tracepoint id lookup finds nothing. */
	if (w.tracepoint && f->lockdown == LOCKDOWN_CONFIDENTIALITY && error == -ENOENT)
		return say(buf, size, "lockdown", p,
			   "kernel lockdown=confidentiality (%s) keeps tracefs empty: no tracepoint "
			   "can be found or attached",
			   source);
	if (w.tracepoint && !f->tracefs[0] && f->mountinfo_known && error == -ENOENT)
		return say(buf, size, "mount.tracefs", p,
			   "tracefs is not mounted, so the tracepoint's id cannot be read");
	return say(buf, size, "unknown", p, "%s is not one of the refusals the doctor explains",
		   errno_name(error));
}
