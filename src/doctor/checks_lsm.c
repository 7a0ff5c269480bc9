/* SPDX-License-Identifier: Apache-2.0 */
/* Checks of the security modules (lockdown has its own, in checks_kernel.c) and mounts. */
#include <stdio.h>
#include <string.h>

#include "doctor-internal.h"

static bool lsm_active(const struct facts *f, const char *name)
{
	const char *p = f->lsm_list;
	size_t len = strlen(name);

	while ((p = strstr(p, name))) {
		if ((p == f->lsm_list || p[-1] == ',') && (p[len] == 0 || p[len] == ','))
			return true;
		p += len;
	}
	return false;
}

static void check_list(struct doctor *d)
{
	struct doctor_check *c;

	if (!d->f.lsm_list[0]) {
		c = check_new(d, "lsm", DOCTOR_UNKNOWN, "active security modules not readable");
		check_evidence(d, c, "/sys/kernel/security/lsm", "not readable");
		return;
	}
	c = check_new(d, "lsm", DOCTOR_OK, "active security modules: %s", d->f.lsm_list);
	check_evidence(d, c, "/sys/kernel/security/lsm", "%s", d->f.lsm_list);
}

static void denials(struct doctor *d, struct doctor_check *c, const char *what)
{
	for (size_t i = 0; i < d->f.n_kmsg_denials; i++)
		if (strstr(d->f.kmsg_denials[i], what))
			check_evidence(d, c, "kernel log (/dev/kmsg)", "%s", d->f.kmsg_denials[i]);
}

static bool has_denial(const struct facts *f, const char *what)
{
	for (size_t i = 0; i < f->n_kmsg_denials; i++)
		if (strstr(f->kmsg_denials[i], what))
			return true;
	return false;
}

static void check_selinux(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;

	if (f->selinux < 0) {
		c = check_new(d, "lsm.selinux", DOCTOR_OK, "SELinux not active");
		check_evidence(d, c, "/sys/fs/selinux/enforce", "absent");
		return;
	}
	if (f->selinux == 0)
		c = check_new(d, "lsm.selinux", DOCTOR_OK,
			      "SELinux permissive: denials are logged, not enforced");
	else if (has_denial(f, "avc:"))
		c = check_new(d, "lsm.selinux", DOCTOR_FAIL,
			      "SELinux enforcing, and it denied BPF operations (context %s)",
			      f->selinux_context[0] ? f->selinux_context : "?");
	else
		c = check_new(d, "lsm.selinux", DOCTOR_WARN,
			      "SELinux enforcing (context %s): the policy decides bpf() and "
			      "perfmon use; no denial in the kernel log",
			      f->selinux_context[0] ? f->selinux_context : "?");
	check_evidence(d, c, "/sys/fs/selinux/enforce", "%d", f->selinux);
	if (f->selinux_context[0])
		check_evidence(d, c, "/proc/PID/attr/current", "%s", f->selinux_context);
	denials(d, c, "avc:");
	if (f->selinux == 1) {
		check_blocks(d, c, "what the policy does not allow this domain: class bpf "
				   "{ map_create map_read map_write prog_load prog_run } and "
				   "capability2 { bpf perfmon }");
		check_remedy(d, c, "ausearch -m avc -ts recent | audit2allow -M bpfd, then "
				   "semodule -i bpfd.pp; or run the loader in a domain that has the "
				   "bpf class (container_t does not). 'setenforce 0' only to confirm");
	}
}

static void check_apparmor(struct doctor *d)
{
	const struct facts *f = &d->f;
	const char *p = f->apparmor_profile;
	struct doctor_check *c;

	if (!p[0] || streq(p, "unconfined")) {
		c = check_new(d, "lsm.apparmor", DOCTOR_OK, "not confined by AppArmor");
		if (p[0])
			check_evidence(d, c, "/proc/PID/attr/apparmor/current", "%s", p);
		return;
	}
	if (has_denial(f, "apparmor="))
		c = check_new(d, "lsm.apparmor", DOCTOR_FAIL,
			      "AppArmor profile %s denied capability or bpf use", p);
	else
		c = check_new(d, "lsm.apparmor", strstr(p, "(enforce)") ? DOCTOR_WARN : DOCTOR_OK,
			      "confined by AppArmor profile %s", p);
	check_evidence(d, c, "/proc/PID/attr/apparmor/current", "%s", p);
	denials(d, c, "apparmor=");
	if (c && c->verdict != DOCTOR_OK) {
		check_blocks(d, c, "capabilities the profile does not list (capability bpf, "
				   "capability perfmon, capability sys_admin, capability net_admin)");
		check_remedy(d, c, "add the capability rules to the profile (AppArmor 3.0+ knows "
				   "bpf and perfmon), or run the container with --security-opt "
				   "apparmor=unconfined to confirm");
	}
}

static void check_bpf_lsm(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;

	if (!lsm_active(f, "bpf"))
		return;
	if (f->bpf_lsm_progs) {
		c = check_new(d, "lsm.bpf", DOCTOR_WARN,
			      "BPF LSM programs are attached to hooks that can refuse BPF or "
			      "capabilities: %s", f->bpf_lsm_progs);
		check_evidence(d, c, "bpf(BPF_PROG_GET_NEXT_ID) + BPF_OBJ_GET_INFO_BY_FD", "%s",
			       f->bpf_lsm_progs);
		check_blocks(d, c, "whatever those programs refuse (they return -EPERM from the "
				   "hook)");
		check_remedy(d, c, "find the owner with 'bpftool prog show id N' (pids) and ask "
				   "for an exception");
	} else {
		c = check_new(d, "lsm.bpf", f->probes_ran ? DOCTOR_OK : DOCTOR_UNKNOWN,
			      f->probes_ran ? "no BPF LSM program on the bpf or capable hooks"
					    : "BPF LSM active; attached programs not listed (needs "
					      "the live probes and CAP_SYS_ADMIN)");
		if (f->bpf_lsm_progs_error)
			check_evidence(d, c, "bpf(BPF_PROG_GET_NEXT_ID)", "%s",
				       errno_name(f->bpf_lsm_progs_error));
	}
}

static void check_mounts(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;

	if (!f->mountinfo_known)
		return;
	if (f->bpffs[0]) {
		c = check_new(d, "mount.bpffs", DOCTOR_OK, "bpffs mounted at %s", f->bpffs);
		check_evidence(d, c, "/proc/PID/mountinfo", "bpf on %s", f->bpffs);
	} else {
		c = check_new(d, "mount.bpffs", DOCTOR_WARN, "no bpffs mounted");
		check_evidence(d, c, "/proc/PID/mountinfo", "no mount of type bpf");
		check_blocks(d, c, "pinning programs, maps and links (bpftool prog load, "
				   "libbpf's pin_maps); bpfd mounts its own at /run/bpfd/fs");
		check_remedy(d, c, "mount -t bpf bpf /sys/fs/bpf (systemd mounts it at boot on "
				   "most distributions)");
	}
	if (f->tracefs[0]) {
		c = check_new(d, "mount.tracefs", DOCTOR_OK, "tracefs mounted at %s", f->tracefs);
		check_evidence(d, c, "/proc/PID/mountinfo", "tracefs on %s", f->tracefs);
		if (f->lockdown == LOCKDOWN_CONFIDENTIALITY)
			check_blocks(d, c, "nothing, but lockdown=confidentiality refuses to open "
					   "its files");
	} else {
		c = check_new(d, "mount.tracefs", DOCTOR_WARN, "no tracefs mounted");
		check_evidence(d, c, "/proc/PID/mountinfo", "no mount of type tracefs");
		check_blocks(d, c, "tracepoint attach by name (the event id is read from "
				   "tracefs), legacy kprobe/uprobe attach; bpfd mounts it when it "
				   "needs it");
		check_remedy(d, c, "mount -t tracefs tracefs /sys/kernel/tracing");
	}
	if (f->debugfs[0]) {
		c = check_new(d, "mount.debugfs", DOCTOR_OK, "debugfs mounted at %s", f->debugfs);
		check_evidence(d, c, "/proc/PID/mountinfo", "debugfs on %s", f->debugfs);
	} else {
		c = check_new(d, "mount.debugfs", DOCTOR_OK,
			      "debugfs not mounted (only tools older than tracefs need it)");
		check_evidence(d, c, "/proc/PID/mountinfo", "no mount of type debugfs");
	}
}

void checks_lsm(struct doctor *d)
{
	check_list(d);
	check_selinux(d);
	check_apparmor(d);
	check_bpf_lsm(d);
}

void checks_fs(struct doctor *d)
{
	check_mounts(d);
}
