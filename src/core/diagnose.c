/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A first answer to "why EPERM": what bpfd can measure cheaply at the moment of the refusal
 * (its own capabilities, the lockdown level, the sysctl) appended to the error. The full
 * diagnosis is `bpfctl doctor`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define CAP_NET_ADMIN_BIT 12
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

static int read_cap_eff(uint64_t *ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/thread-self/status", "re");
	char line[256];

	if (!f)
		return negative_errno();
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, ret) == 1)
			return 0;
	return -ENOENT;
}

/* "integrity" etc., or NULL when securityfs is not mounted. */
static const char *lockdown_level(char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen("/sys/kernel/security/lockdown", "re");
	char *open, *close;

	if (!f || !fgets(buf, (int)size, f))
		return NULL;
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!open || !close)
		return NULL;
	*close = 0;
	return open + 1;
}

static bool is_trampoline(const char *what)
{
	return streq(what, "fentry") || streq(what, "fexit") || streq(what, "lsm");
}

void diagnose_eperm(struct error *err, const char *what)
{
	char buf[128], missing[128] = "";
	const char *lockdown = lockdown_level(buf, sizeof(buf));
	uint64_t eff = 0;

	if (read_cap_eff(&eff) == 0) {
		static const struct {
			int bit;
			const char *name;
		} caps[] = { { CAP_BPF_BIT, "CAP_BPF" },
			     { CAP_PERFMON_BIT, "CAP_PERFMON" },
			     { CAP_NET_ADMIN_BIT, "CAP_NET_ADMIN" },
			     { CAP_SYS_ADMIN_BIT, "CAP_SYS_ADMIN" } };

		for (size_t i = 0; i < ELEMENTSOF(caps); i++)
			if (!(eff & (1ULL << caps[i].bit)))
				snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
					 "%s%s", missing[0] ? ", " : "", caps[i].name);
	}
	if (missing[0]) {
		error_append(err, "bpfd lacks %s (measured: CapEff=%016llx of its privileged "
				  "thread); grant it in the unit's AmbientCapabilities=",
			     missing, (unsigned long long)eff);
		return;
	}
	if (lockdown && streq(lockdown, "confidentiality")) {
		error_append(err, "cause: kernel lockdown=confidentiality blocks %s (measured: "
				  "/sys/kernel/security/lockdown); boot with lockdown=integrity "
				  "or none; see bpfctl doctor",
			     what);
		return;
	}
	if (is_trampoline(what)) {
		error_append(err,
			     "cause: this kernel refuses trampoline-based programs (fentry, fexit, "
			     "lsm, freplace) although bpfd holds CAP_BPF, CAP_PERFMON and "
			     "CAP_SYS_ADMIN (measured) and lockdown is %s; the refusal comes "
			     "from the kernel build or a security module, not from bpfd's "
			     "privileges; use kprobes/tracepoints or another kernel; see bpfctl "
			     "doctor",
			     lockdown ? lockdown : "not readable (securityfs not mounted)");
		return;
	}
	error_append(err, "bpfd holds CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_SYS_ADMIN "
			  "(measured); lockdown is %s; a seccomp filter or security module may "
			  "deny it; see bpfctl doctor",
		     lockdown ? lockdown : "not readable (securityfs not mounted)");
}
