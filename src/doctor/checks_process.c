/* SPDX-License-Identifier: Apache-2.0 */
/* Checks of the examined process: capabilities (per thread), seccomp, user namespace, unit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor-internal.h"

/* What loading and attaching every program type needs on this kernel. */
static uint64_t caps_wanted(const struct facts *f)
{
	if (f->kmaj && !kernel_at_least(f, 5, 8))
		return CAP_BIT(DCAP_SYS_ADMIN) | CAP_BIT(DCAP_NET_ADMIN);
	return CAP_BIT(DCAP_BPF) | CAP_BIT(DCAP_PERFMON) | CAP_BIT(DCAP_NET_ADMIN);
}

/* CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON (bpf_capable(), perfmon_capable()). */
static uint64_t caps_missing(const struct facts *f, uint64_t eff)
{
	uint64_t missing = caps_wanted(f) & ~eff;

	if (eff & CAP_BIT(DCAP_SYS_ADMIN))
		missing &= ~(CAP_BIT(DCAP_BPF) | CAP_BIT(DCAP_PERFMON));
	return missing;
}

/* Capabilities up to CAP_CHECKPOINT_RESTORE (5.9), the highest libcap 2.66 names. */
#define CAP_KNOWN_LAST 40

/* "CAP_BPF,CAP_PERFMON", or for nearly full sets "all 41 but CAP_SYS_RESOURCE". */
static char *caps_compact(uint64_t v)
{
	uint64_t all = (CAP_BIT(CAP_KNOWN_LAST) << 1) - 1;
	_cleanup_free_ char *missing = NULL;
	char *s;

	if (__builtin_popcountll(v & all) <= (CAP_KNOWN_LAST + 1) / 2)
		return capability_mask_to_string(v, ",");
	if ((v & all) == all)
		return strdup("all " "41" " (CAP_CHOWN..CAP_CHECKPOINT_RESTORE)");
	missing = capability_mask_to_string(all & ~v, ",");
	if (!missing || asprintf(&s, "all but %s", missing) < 0)
		return NULL;
	return s;
}

static void caps_evidence(struct doctor *d, struct doctor_check *c, const char *path,
			  const char *key, uint64_t v)
{
	_cleanup_free_ char *names = caps_compact(v);
	char src[160];

	if (!names) {
		d->oom = true;
		return;
	}
	snprintf(src, sizeof(src), "%s %s", path, key);
	check_evidence(d, c, src, "%016llx = %s", (unsigned long long)v, names);
}

static void check_caps(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;
	uint64_t missing;
	_cleanup_free_ char *names = NULL;

	if (!f->caps_known) {
		c = check_new(d, "caps", DOCTOR_UNKNOWN, "capabilities not readable");
		check_evidence(d, c, f->status_path, "not readable");
		return;
	}
	missing = caps_missing(f, f->cap_eff);
	names = capability_mask_to_string(missing, ", ");
	if (!names) {
		d->oom = true;
		return;
	}
	if (!missing)
		c = check_new(d, "caps", DOCTOR_OK, "%s holds what loading and attaching every "
			      "program type needs", f->subject);
	else if (missing == caps_wanted(f) && f->euid != 0)
		/* An ordinary user: expected for a bpfd client, which needs only the socket. */
		c = check_new(d, "caps", DOCTOR_WARN,
			      "%s cannot load BPF programs itself (lacks %s); bpfd's clients need "
			      "no capabilities", f->subject, names);
	else
		c = check_new(d, "caps", DOCTOR_FAIL, "%s lacks %s", f->subject, names);
	caps_evidence(d, c, f->status_path, "CapEff", f->cap_eff);
	caps_evidence(d, c, f->status_path, "CapPrm", f->cap_prm);
	caps_evidence(d, c, f->status_path, "CapInh", f->cap_inh);
	caps_evidence(d, c, f->status_path, "CapBnd", f->cap_bnd);
	caps_evidence(d, c, f->status_path, "CapAmb", f->cap_amb);
	if (!missing)
		return;
	check_blocks(d, c, "%s%s%s",
		     missing & (CAP_BIT(DCAP_BPF) | CAP_BIT(DCAP_SYS_ADMIN))
			     ? "map creation and program loads (CAP_BPF; CAP_SYS_ADMIN before 5.8); "
			     : "",
		     missing & (CAP_BIT(DCAP_PERFMON) | CAP_BIT(DCAP_SYS_ADMIN))
			     ? "kprobe, uprobe, tracepoint, fentry/fexit and lsm programs "
			       "(CAP_PERFMON); "
			     : "",
		     missing & CAP_BIT(DCAP_NET_ADMIN)
			     ? "XDP and TC programs and their attachment (CAP_NET_ADMIN)"
			     : "");
	if (missing & ~f->cap_bnd)
		check_remedy(d, c, "%s %s not in the bounding set: nothing in this process tree "
				   "can regain %s; grant it where the process is started "
				   "(CapabilityBoundingSet= and AmbientCapabilities= for a unit, "
				   "--cap-add for a container)",
			     names, missing & (missing - 1) ? "are" : "is",
			     missing & (missing - 1) ? "them" : "it");
	else
		check_remedy(d, c, "grant %s (AmbientCapabilities= in a unit, setcap on the "
				   "binary, or run as root); or let bpfd load for you", names);
}

static void check_threads(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;
	size_t holding = 0;
	uint64_t own = caps_missing(f, f->cap_eff), main = caps_missing(f, f->main_cap_eff);

	if (!f->caps_known || !f->main_caps_known)
		return;
	for (size_t i = 0; i < f->n_threads; i++)
		if (f->threads[i].eff)
			holding++;
	if (own && !main) {
		_cleanup_free_ char *names = capability_mask_to_string(own, ", ");

		c = check_new(d, "caps.thread", DOCTOR_FAIL,
			      "the examined thread dropped %s; the process's main thread still "
			      "holds %s (capabilities are per thread)",
			      names ? names : "capabilities", names ? names : "them");
		check_blocks(d, c, "every bpf() call made from this thread");
		check_remedy(d, c, "make the bpf() calls from a thread that kept the "
				   "capabilities (in bpfd: the privileged thread), or drop them "
				   "only after loading");
		if (!names)
			d->oom = true;
	} else
		c = check_new(d, "caps.thread", DOCTOR_OK, "%zu of %zu threads hold capabilities",
			      holding, f->n_threads);
	check_evidence(d, c, f->status_path, "CapEff %016llx", (unsigned long long)f->cap_eff);
	for (size_t i = 0; i < f->n_threads; i++) {
		char src[96];
		_cleanup_free_ char *names = caps_compact(f->threads[i].eff);

		snprintf(src, sizeof(src), "thread %d (%s) CapEff", (int)f->threads[i].tid,
			 f->threads[i].comm);
		check_evidence(d, c, src, "%016llx = %s", (unsigned long long)f->threads[i].eff,
			       names ? names : "?");
	}
}

static void check_nnp(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;

	if (f->no_new_privs < 0)
		return;
	if (f->no_new_privs) {
		c = check_new(d, "no_new_privs", f->cap_eff ? DOCTOR_OK : DOCTOR_WARN,
			      "NoNewPrivs=1: exec cannot raise privileges");
		check_blocks(d, c, "gaining capabilities through setuid or file capabilities "
				   "(setcap cap_bpf+ep) in this process tree");
		if (!f->cap_eff)
			check_remedy(d, c, "start the loader with its capabilities "
					   "(AmbientCapabilities=) instead of file capabilities");
	} else
		c = check_new(d, "no_new_privs", DOCTOR_OK, "NoNewPrivs=0");
	check_evidence(d, c, f->status_path, "NoNewPrivs: %d", f->no_new_privs);
}

static void check_seccomp(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;

	if (f->seccomp < 0) {
		c = check_new(d, "seccomp", DOCTOR_UNKNOWN, "seccomp mode not readable");
		check_evidence(d, c, f->status_path, "no Seccomp: line");
		return;
	}
	if (f->seccomp == 0)
		c = check_new(d, "seccomp", DOCTOR_OK, "no seccomp filter");
	else if (f->seccomp == 1)
		c = check_new(d, "seccomp", DOCTOR_FAIL, "seccomp strict mode: only read, write, "
			      "exit and sigreturn are allowed");
	else if (f->seccomp_canary == -EPERM || f->seccomp_canary == -EACCES)
		c = check_new(d, "seccomp", DOCTOR_FAIL,
			      "%d seccomp filter%s refuse%s bpf() with %s before the kernel sees "
			      "it", f->seccomp_filters, f->seccomp_filters == 1 ? "" : "s",
			      f->seccomp_filters == 1 ? "s" : "", errno_name(f->seccomp_canary));
	else if (f->seccomp_canary == -EINVAL)
		c = check_new(d, "seccomp", DOCTOR_OK, "%d seccomp filter%s, which let bpf() "
			      "through", f->seccomp_filters, f->seccomp_filters == 1 ? "" : "s");
	else
		c = check_new(d, "seccomp", DOCTOR_WARN,
			      "%d seccomp filter%s; whether they let bpf() and perf_event_open() "
			      "through was not measured", f->seccomp_filters,
			      f->seccomp_filters == 1 ? "" : "s");
	check_evidence(d, c, f->status_path, "Seccomp: %d, Seccomp_filters: %d", f->seccomp,
		       f->seccomp_filters);
	if (f->seccomp_canary)
		check_evidence(d, c, "bpf(invalid command) in this process", "%s (%s)",
			       errno_name(f->seccomp_canary),
			       f->seccomp_canary == -EINVAL ? "the call reached the kernel"
							    : "stopped before the kernel");
	if (c && c->verdict != DOCTOR_OK) {
		check_blocks(d, c, "bpf() and perf_event_open(), whatever the capabilities");
		check_remedy(d, c, "allow bpf and perf_event_open in the filter: Docker's default "
				   "profile allows bpf() only with CAP_SYS_ADMIN (CAP_BPF from "
				   "Docker 23), so run with --security-opt seccomp=<profile> or "
				   "seccomp=unconfined; Kubernetes: securityContext.seccompProfile; "
				   "systemd: SystemCallFilter= must include bpf (it is in "
				   "@privileged, not in @system-service)");
	}
}

static void check_userns(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;

	if (!f->userns_known)
		return;
	if (f->init_userns) {
		c = check_new(d, "userns", DOCTOR_OK, "the initial user namespace");
	} else if (f->bpffs_delegate[0] && kernel_at_least(f, 6, 9)) {
		c = check_new(d, "userns", DOCTOR_WARN,
			      "a user namespace; bpf() may work through a BPF token from the "
			      "delegating bpffs %s", f->bpffs_delegate);
		check_evidence(d, c, "/proc/PID/mountinfo", "bpffs %s", f->bpffs_delegate);
		check_blocks(d, c, "whatever the token does not delegate");
	} else {
		c = check_new(d, "userns", DOCTOR_FAIL,
			      "a user namespace: capabilities held here do not count for bpf(), "
			      "which checks them in the initial namespace");
		check_blocks(d, c, "every program load and map creation (rootless containers "
				   "and rootless Podman/Docker)");
		check_remedy(d, c, "use bpfd's socket from the container (bind-mount "
				   "/run/bpfd/bpfd.sock), run the loader rootful, or on 6.9+ have "
				   "a privileged parent mount bpffs with delegate_cmds/"
				   "delegate_maps/delegate_progs/delegate_attachs and use a BPF "
				   "token");
	}
	check_evidence(d, c, "/proc/PID/uid_map", "%s", f->uid_map);
}

static void check_systemd(struct doctor *d)
{
	const struct facts *f = &d->f;
	struct doctor_check *c;

	if (!f->unit[0])
		return;
	c = check_new(d, "systemd", DOCTOR_OK, "runs in systemd unit %s", f->unit);
	check_evidence(d, c, "/proc/PID/cgroup", "%s", f->unit);
	if (f->unit_props) {
		char *props = strdup(f->unit_props), *line, *save = NULL;

		for (line = props ? strtok_r(props, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save))
			check_evidence(d, c, "systemctl show", "%s", line);
		free(props);
	} else {
		check_evidence(d, c, "systemctl show", "not available (systemd not running the "
			       "machine, or systemctl missing)");
	}
	check_blocks(d, c, "whatever the unit withholds: CapabilityBoundingSet=, "
			   "AmbientCapabilities=, SystemCallFilter=, NoNewPrivileges=, "
			   "LimitMEMLOCK=, RestrictAddressFamilies= (AF_NETLINK for XDP/TC)");
	check_remedy(d, c, "systemctl show %s -p CapabilityBoundingSet -p AmbientCapabilities "
			   "-p SystemCallFilter -p LimitMEMLOCK; 'bpfctl caps record --unit FILE' "
			   "measures what the service really uses",
		     f->unit);
}

void checks_process(struct doctor *d)
{
	check_caps(d);
	check_threads(d);
	check_nnp(d);
	check_seccomp(d);
	check_userns(d);
	check_systemd(d);
}
