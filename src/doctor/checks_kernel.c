/* SPDX-License-Identifier: Apache-2.0 */
/* Checks of the kernel itself: version, build configuration, lockdown, sysctls, BTF, limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor-internal.h"

static void check_version(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;

	if (!f->kmaj) {
		c = check_new(d, "kernel.version", DOCTOR_UNKNOWN, "kernel release not readable");
		check_evidence(d, c, "/proc/sys/kernel/osrelease", "not readable");
		return;
	}
	c = check_new(d, "kernel.version", kernel_at_least(f, 4, 18) ? DOCTOR_OK : DOCTOR_WARN,
		      "Linux %s", f->release);
	check_evidence(d, c, "/proc/sys/kernel/osrelease", "%s", f->release);
	/* What bpfd's users hit, by version (docs/doctor.md has the list with sources). */
	if (!kernel_at_least(f, 5, 8))
		check_blocks(d, c, "CAP_BPF and CAP_PERFMON do not exist before 5.8: loading needs "
				   "CAP_SYS_ADMIN; memory is charged to RLIMIT_MEMLOCK before 5.11; "
				   "TCX needs 6.6");
	else if (!kernel_at_least(f, 5, 11))
		check_blocks(d, c, "BPF memory is charged to RLIMIT_MEMLOCK before 5.11; TCX needs 6.6");
	else if (!kernel_at_least(f, 6, 6))
		check_blocks(d, c, "TCX (ordered tc programs without a dispatcher) needs 6.6; BPF "
				   "tokens need 6.9");
	else if (!kernel_at_least(f, 6, 9))
		check_blocks(d, c, "BPF tokens (delegation to user namespaces) need 6.9");
	if (!kernel_at_least(f, 4, 18))
		check_remedy(d, c, "bpfd needs BTF-era kernels; use 5.8 or later (6.6 or later "
				   "for TCX)");
}

/* Options whose absence a dedicated check reports (btf, kprobes): not repeated here. */
static bool has_own_check(const char *name)
{
	return streq(name, "DEBUG_INFO_BTF") || streq(name, "KPROBES") ||
	       streq(name, "KPROBE_EVENTS") || streq(name, "DYNAMIC_FTRACE_WITH_DIRECT_CALLS");
}

static void check_config(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;
	char missing[512] = "", blocks[1024] = "";

	if (!f->config_source[0]) {
		c = check_new(d, "kernel.config", DOCTOR_UNKNOWN,
			      "kernel configuration not found (no /proc/config.gz, no "
			      "/boot/config-%s)", f->release);
		check_evidence(d, c, "/proc/config.gz", "absent");
		check_evidence(d, c, "/boot/config-RELEASE", "absent");
		check_remedy(d, c, "modprobe configs (CONFIG_IKCONFIG_PROC) or install the "
				   "distribution's config file to let the doctor see the build");
		return;
	}
	for (size_t i = 0; i < f->n_config; i++) {
		const struct config_opt *o = &f->config[i];
		size_t len = strlen(missing);

		if (o->value != 'n' || !o->blocks || has_own_check(o->name))
			continue;
		snprintf(missing + len, sizeof(missing) - len, "%sCONFIG_%s", len ? ", " : "",
			 o->name);
		len = strlen(blocks);
		snprintf(blocks + len, sizeof(blocks) - len, "%sCONFIG_%s: %s", len ? "; " : "",
			 o->name, o->blocks);
	}
	if (config_value(f, "BPF_SYSCALL") == 'n')
		c = check_new(d, "kernel.config", DOCTOR_FAIL,
			      "the kernel is built without CONFIG_BPF_SYSCALL: no bpf() at all");
	else if (missing[0])
		c = check_new(d, "kernel.config", DOCTOR_WARN, "built without %s", missing);
	else
		c = check_new(d, "kernel.config", DOCTOR_OK,
			      "every BPF option bpfd uses is built in (kprobes and BTF: see "
			      "their checks)");
	{
		char all[1024] = "";

		for (size_t i = 0; i < f->n_config; i++) {
			size_t len = strlen(all);

			snprintf(all + len, sizeof(all) - len, "%sCONFIG_%s=%c", len ? " " : "",
				 f->config[i].name, f->config[i].value);
		}
		check_evidence(d, c, f->config_source, "%s", all);
	}
	if (blocks[0]) {
		check_blocks(d, c, "%s", blocks);
		check_remedy(d, c, "a kernel built with %s (the distribution's generic kernel "
				   "usually has them)", missing);
	}
}

const char *lockdown_level_name(enum lockdown_level l)
{
	switch (l) {
	case LOCKDOWN_NONE:
		return "none";
	case LOCKDOWN_INTEGRITY:
		return "integrity";
	case LOCKDOWN_CONFIDENTIALITY:
		return "confidentiality";
	default:
		return "unknown";
	}
}

/* "set by the kernel configuration" etc.: where the level comes from. */
void lockdown_source(const struct facts *f, char *buf, size_t size)
{
	const char *from = f->lockdown_from;

	if (strcasestr(from, "configuration"))
		snprintf(buf, size, "set by the kernel configuration");
	else if (strcasestr(from, "command line"))
		snprintf(buf, size, "set from the command line");
	else if (strcasestr(from, "secure boot"))
		snprintf(buf, size, "set by Secure Boot");
	else if (from[0])
		snprintf(buf, size, "set from %s", from);
	else if (config_value(f, "LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY") == 'y' ||
		 config_value(f, "LOCK_DOWN_KERNEL_FORCE_INTEGRITY") == 'y')
		snprintf(buf, size, "set by the kernel configuration");
	else if (f->cmdline_lockdown)
		snprintf(buf, size, "set from the command line");
	else
		snprintf(buf, size, "source unknown: raised at run time, or the kernel log "
				    "is not readable");
}

static void check_lockdown(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;
	char source[128];
	bool forced = config_value(f, "LOCK_DOWN_KERNEL_FORCE_INTEGRITY") == 'y' ||
		      config_value(f, "LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY") == 'y';

	lockdown_source(f, source, sizeof(source));
	switch (f->lockdown) {
	case LOCKDOWN_NONE:
		c = check_new(d, "lockdown", DOCTOR_OK, "lockdown=none");
		break;
	case LOCKDOWN_INTEGRITY:
		c = check_new(d, "lockdown", DOCTOR_WARN, "lockdown=integrity, %s", source);
		check_blocks(d, c, "programs calling bpf_probe_write_user() (refused at load); "
				   "unsigned modules, /dev/mem, kexec of unsigned kernels, "
				   "hibernation, writes through debugfs. kprobes, tracepoints, "
				   "uprobes, XDP and TC are not affected");
		break;
	case LOCKDOWN_CONFIDENTIALITY:
		if (f->lockdown_legacy || !kernel_at_least(f, 5, 4)) {
			c = check_new(d, "lockdown", DOCTOR_FAIL,
				      "kernel locked down (distribution lockdown patches before "
				      "5.4), %s: bpf() is refused with EPERM",
				      source);
			check_blocks(d, c, "every bpf() program load (EPERM, even for root), "
					   "kprobes, tracefs, perf access to kernel memory");
		} else {
			c = check_new(d, "lockdown", DOCTOR_FAIL, "lockdown=confidentiality, %s",
				      source);
			check_blocks(d, c, "kprobes and kretprobes; tracefs (tracepoint attach by "
					   "name); helpers that read kernel memory "
					   "(bpf_probe_read_kernel, bpf_probe_read, "
					   "bpf_probe_read_str: programs using them are refused at "
					   "load with EINVAL); bpf_probe_write_user; perf access to "
					   "kernel data; /proc/kcore");
		}
		break;
	default:
		c = check_new(d, "lockdown", DOCTOR_UNKNOWN,
			      "lockdown level not readable%s", f->n_kmsg_lockdown ? "" :
			      " and the kernel log says nothing about it");
		break;
	}
	if (f->lockdown_raw[0])
		check_evidence(d, c, f->lockdown_file_source, "%s", f->lockdown_raw);
	else
		check_evidence(d, c, "/sys/kernel/security/lockdown", "not readable: %s%s",
			       strerror(-f->lockdown_file_error),
			       d->env.live ? "" : " (securityfs not in this tree)");
	for (size_t i = 0; i < f->n_kmsg_lockdown; i++)
		check_evidence(d, c, "kernel log (/dev/kmsg)", "%s", f->kmsg_lockdown[i]);
	if (f->kmsg_error < 0)
		check_evidence(d, c, "kernel log (/dev/kmsg)", "not readable: %s",
			       strerror(-f->kmsg_error));
	if (config_value(f, "LOCK_DOWN_KERNEL_FORCE_INTEGRITY") == 'y')
		check_evidence(d, c, f->config_source, "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y");
	if (config_value(f, "LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY") == 'y')
		check_evidence(d, c, f->config_source,
			       "CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY=y");
	if (f->cmdline_lockdown)
		check_evidence(d, c, "/proc/cmdline", "%s", f->cmdline);

	if (f->lockdown == LOCKDOWN_INTEGRITY)
		check_remedy(d, c, "none needed for bpfd; lockdown can only be raised at run time, "
				   "never lowered%s",
			     forced ? " (and here the level is compiled in: only another kernel "
				      "changes it)" : "");
	else if (f->lockdown == LOCKDOWN_CONFIDENTIALITY && forced)
		check_remedy(d, c, "the level is compiled in (CONFIG_LOCK_DOWN_KERNEL_FORCE_*): "
				   "boot a kernel built with integrity or none");
	else if (f->lockdown == LOCKDOWN_CONFIDENTIALITY && (f->lockdown_legacy ||
							    !kernel_at_least(f, 5, 4)))
		check_remedy(d, c, "disable Secure Boot (or 'mokutil --disable-validation'), or "
				   "lift it until reboot from the console: echo 1 > "
				   "/proc/sys/kernel/sysrq; echo x > /proc/sysrq-trigger (Fedora "
				   "and RHEL kernels before 5.4); newer kernels default to "
				   "integrity under Secure Boot");
	else if (f->lockdown == LOCKDOWN_CONFIDENTIALITY)
		check_remedy(d, c, "boot with lockdown=integrity (or remove lockdown= from the "
				   "command line; under Secure Boot distributions choose the level "
				   "in their kernel configuration); it cannot be lowered at run "
				   "time");
	else if (f->lockdown == LOCKDOWN_UNKNOWN)
		check_remedy(d, c, "run the doctor as root (it mounts securityfs in a private "
				   "namespace) or: mount -t securityfs securityfs "
				   "/sys/kernel/security; cat /sys/kernel/security/lockdown");
}

/* Does the examined thread pass bpf_capable() and perfmon_capable()? */
bool subject_bpf_capable(const struct facts *f)
{
	if (!kernel_at_least(f, 5, 8))
		return f->cap_eff & CAP_BIT(DCAP_SYS_ADMIN);
	return f->cap_eff & (CAP_BIT(DCAP_BPF) | CAP_BIT(DCAP_SYS_ADMIN));
}

bool subject_perfmon_capable(const struct facts *f)
{
	if (!kernel_at_least(f, 5, 8))
		return f->cap_eff & CAP_BIT(DCAP_SYS_ADMIN);
	return f->cap_eff & (CAP_BIT(DCAP_PERFMON) | CAP_BIT(DCAP_SYS_ADMIN));
}

static void check_unpriv(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;
	bool capable = f->caps_known && subject_bpf_capable(f);
	bool refined = kernel_at_least(f, 5, 19);

	if (f->unpriv_bpf < 0) {
		c = check_new(d, "unprivileged_bpf", DOCTOR_UNKNOWN,
			      "kernel.unprivileged_bpf_disabled not readable");
		check_evidence(d, c, "/proc/sys/kernel/unprivileged_bpf_disabled", "not readable");
		return;
	}
	if (f->unpriv_bpf == 0)
		c = check_new(d, "unprivileged_bpf", DOCTOR_OK,
			      "unprivileged_bpf_disabled=0: processes without CAP_BPF may load "
			      "socket filters");
	else if (capable)
		c = check_new(d, "unprivileged_bpf", DOCTOR_OK,
			      "unprivileged_bpf_disabled=%d: does not apply to this thread, which "
			      "holds %s",
			      f->unpriv_bpf, kernel_at_least(f, 5, 8) ? "CAP_BPF" : "CAP_SYS_ADMIN");
	else
		c = check_new(d, "unprivileged_bpf", DOCTOR_FAIL,
			      "unprivileged_bpf_disabled=%d refuses bpf() to this process (no "
			      "CAP_BPF)",
			      f->unpriv_bpf);
	check_evidence(d, c, "/proc/sys/kernel/unprivileged_bpf_disabled", "%d", f->unpriv_bpf);
	if (f->unpriv_bpf != 0) {
		check_blocks(d, c, "%s for processes without CAP_BPF%s",
			     refined ? "BPF_MAP_CREATE, BPF_PROG_LOAD and BPF_BTF_LOAD (since 5.19 "
				       "other commands, such as using a pinned map, need only the "
				       "pin's file permissions)"
				     : "every bpf() command (before 5.19 the sysctl covers all "
				       "commands, so even reading a pinned map needs CAP_BPF)",
			     f->unpriv_bpf == 1 ? "; 1 cannot be reset until reboot" : "");
		if (!capable)
			check_remedy(d, c, "let bpfd load for you (clients need only its socket%s), "
					   "or grant %s%s",
				     refined ? " and read access to pinned maps" : "",
				     kernel_at_least(f, 5, 8) ? "CAP_BPF" : "CAP_SYS_ADMIN",
				     f->unpriv_bpf == 2 ? "; an administrator may set the sysctl "
							   "to 0 (not recommended)" : "");
	}
}

static void check_btf(struct doctor *d)
{
	struct doctor_check *c;

	if (d->f.btf_vmlinux) {
		c = check_new(d, "btf", DOCTOR_OK, "kernel BTF available");
		check_evidence(d, c, "/sys/kernel/btf/vmlinux", "exists");
		return;
	}
	c = check_new(d, "btf", DOCTOR_WARN, "no kernel BTF (/sys/kernel/btf/vmlinux absent)");
	check_evidence(d, c, "/sys/kernel/btf/vmlinux", "absent");
	if (config_value(&d->f, "DEBUG_INFO_BTF") != '?')
		check_evidence(d, c, d->f.config_source, "CONFIG_DEBUG_INFO_BTF=%c",
			       config_value(&d->f, "DEBUG_INFO_BTF"));
	check_blocks(d, c, "CO-RE programs (relocations against kernel types), fentry, fexit, "
			   "lsm and freplace (no BTF ids to attach to), BTF-typed kfuncs");
	check_remedy(d, c, "a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.2+; default in "
			   "Debian, Ubuntu, Fedora, RHEL 8.2+); or ship BTF for this kernel "
			   "(BTFHub) for CO-RE");
}

static void check_kprobes(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;
	char cfg = config_value(f, "KPROBES");

	if (f->kprobe_pmu && cfg != 'n') {
		c = check_new(d, "kprobes", DOCTOR_OK, "kprobes available");
		check_evidence(d, c, "/sys/bus/event_source/devices/kprobe/type", "exists");
		return;
	}
	c = check_new(d, "kprobes", DOCTOR_WARN, "no kprobes%s",
		      cfg == 'n' ? ": the kernel is built without CONFIG_KPROBES" : "");
	check_evidence(d, c, "/sys/bus/event_source/devices/kprobe/type", "absent");
	if (cfg != '?')
		check_evidence(d, c, f->config_source, "CONFIG_KPROBES=%c", cfg);
	check_blocks(d, c, "kprobe and kretprobe attach (bcc's kprobe-based tools, such as "
			   "capable, do not run either)");
	check_remedy(d, c, "use tracepoints, uprobes or fentry/fexit where the kernel allows "
			   "them, or a kernel with CONFIG_KPROBES=y and CONFIG_KPROBE_EVENTS=y");
}

static void human_bytes(long long v, char *buf, size_t size)
{
	if (v < 0)
		snprintf(buf, size, "unlimited");
	else if (v >= 1024 * 1024 && v % (1024 * 1024) == 0)
		snprintf(buf, size, "%lld MiB", v / (1024 * 1024));
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(buf, size, "%lld KiB", v / 1024);
	else
		snprintf(buf, size, "%lld bytes", v);
}

/* RLIMIT_MEMLOCK under which a pre-5.11 kernel refuses ordinary maps: libbpf's own hint
 * threshold is "any", most loaders set it to infinity. */
#define MEMLOCK_ENOUGH (8LL * 1024 * 1024)

bool memlock_too_small(const struct facts *f)
{
	return f->kmaj && !kernel_at_least(f, 5, 11) && f->memlock_soft >= 0 &&
	       f->memlock_soft < MEMLOCK_ENOUGH;
}

static void check_memlock(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;
	char soft[32], hard[32];

	if (f->memlock_soft == -2) {
		c = check_new(d, "memlock", DOCTOR_UNKNOWN, "RLIMIT_MEMLOCK not readable");
		check_evidence(d, c, "/proc/PID/limits", "not readable");
		return;
	}
	human_bytes(f->memlock_soft, soft, sizeof(soft));
	human_bytes(f->memlock_hard, hard, sizeof(hard));
	if (kernel_at_least(f, 5, 11))
		c = check_new(d, "memlock", DOCTOR_OK,
			      "RLIMIT_MEMLOCK %s: not used for BPF memory since 5.11 (memory "
			      "cgroup accounting)", soft);
	else if (memlock_too_small(f)) {
		c = check_new(d, "memlock", DOCTOR_FAIL,
			      "RLIMIT_MEMLOCK is %s and Linux %d.%d (before 5.11) charges BPF maps "
			      "and programs to it",
			      soft, f->kmaj, f->kmin);
		check_blocks(d, c, "map creation and program loads beyond %s (EPERM; libbpf "
				   "then suggests raising ulimit -l, which is right here)", soft);
		check_remedy(d, c, "LimitMEMLOCK=infinity in the unit, 'ulimit -l unlimited', or "
				   "setrlimit(RLIMIT_MEMLOCK, RLIM_INFINITY) before loading (raising "
				   "the hard limit %s needs CAP_SYS_RESOURCE)", hard);
	} else
		c = check_new(d, "memlock", DOCTOR_OK, "RLIMIT_MEMLOCK %s (charged for BPF "
			      "before 5.11: enough)", soft);
	check_evidence(d, c, "/proc/PID/limits", "Max locked memory %s (soft) %s (hard)", soft,
		       hard);
}

static void check_perf(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;
	bool perfmon = f->caps_known && subject_perfmon_capable(f);

	if (f->perf_paranoid == -1) {
		c = check_new(d, "perf_event_paranoid", DOCTOR_UNKNOWN,
			      "kernel.perf_event_paranoid not readable");
		return;
	}
	if (perfmon || f->perf_paranoid <= 1)
		c = check_new(d, "perf_event_paranoid", DOCTOR_OK,
			      "perf_event_paranoid=%d%s", f->perf_paranoid,
			      perfmon ? ": does not apply to this thread (CAP_PERFMON)" : "");
	else {
		c = check_new(d, "perf_event_paranoid", DOCTOR_WARN,
			      "perf_event_paranoid=%d: perf_event_open() for tracing needs "
			      "CAP_PERFMON%s",
			      f->perf_paranoid, f->perf_paranoid > 2 ? " (Debian's 3 refuses it "
								       "to everyone else)" : "");
		check_blocks(d, c, "kprobe, uprobe and tracepoint attach through perf events for "
				   "this process");
		check_remedy(d, c, "attach through bpfd, or grant CAP_PERFMON (5.8+)");
	}
	check_evidence(d, c, "/proc/sys/kernel/perf_event_paranoid", "%d", f->perf_paranoid);
}

static void check_jit(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;
	bool always_on = config_value(f, "BPF_JIT_ALWAYS_ON") == 'y';

	if (f->jit_enable < 0 && f->jit_limit < 0)
		return;
	if (f->jit_enable == 0 && !always_on) {
		c = check_new(d, "jit", DOCTOR_WARN, "the BPF JIT is off: programs run "
			      "interpreted");
		check_remedy(d, c, "sysctl net.core.bpf_jit_enable=1");
	} else
		c = check_new(d, "jit", DOCTOR_OK, "the BPF JIT is on%s",
			      always_on ? " (CONFIG_BPF_JIT_ALWAYS_ON)" : "");
	check_evidence(d, c, "/proc/sys/net/core/bpf_jit_enable", "%ld", f->jit_enable);
	if (f->jit_harden >= 0)
		check_evidence(d, c, "/proc/sys/net/core/bpf_jit_harden", "%ld", f->jit_harden);
	if (f->jit_limit >= 0) {
		check_evidence(d, c, "/proc/sys/net/core/bpf_jit_limit", "%lld", f->jit_limit);
		check_blocks(d, c, "JIT memory beyond bpf_jit_limit (%lld bytes) for processes "
				   "without CAP_BPF (EPERM)", f->jit_limit);
	}
}

void checks_kernel(struct doctor *d)
{
	check_version(d);
	check_config(d);
	check_lockdown(d);
	check_unpriv(d);
	check_btf(d);
	check_kprobes(d);
	check_memlock(d);
	check_perf(d);
	check_jit(d);
}
