/* SPDX-License-Identifier: Apache-2.0 */
/* What the doctor's files share: the measured facts and the helpers that read them. */
#pragma once

#include <stdarg.h>

#include "doctor.h"

#define CAP_BIT(c) (1ULL << (c))
/* Numbers from linux/capability.h, spelled out so old headers do not matter. */
#define DCAP_DAC_OVERRIDE 1
#define DCAP_DAC_READ_SEARCH 2
#define DCAP_SETPCAP 8
#define DCAP_NET_ADMIN 12
#define DCAP_SYS_ADMIN 21
#define DCAP_SYS_RESOURCE 24
#define DCAP_SYSLOG 34
#define DCAP_PERFMON 38
#define DCAP_BPF 39

enum lockdown_level {
	LOCKDOWN_UNKNOWN,
	LOCKDOWN_NONE,
	LOCKDOWN_INTEGRITY,
	LOCKDOWN_CONFIDENTIALITY,
};

/* A kernel config option the doctor reports: value 'y', 'm', 'n' (not set) or '?' (no config
 * found). */
struct config_opt {
	const char *name; /* without CONFIG_ */
	const char *blocks;
	char value;
};

struct thread_caps {
	pid_t tid;
	char comm[32];
	uint64_t eff;
};

#define KMSG_LINES_MAX 8

struct facts {
	/* kernel */
	char release[128];
	int kmaj, kmin; /* 0 when unknown */
	char config_source[256];
	struct config_opt *config;
	size_t n_config;

	/* lockdown */
	enum lockdown_level lockdown;
	char lockdown_raw[128];
	char lockdown_file_source[160]; /* how the level was read */
	int lockdown_file_error;	/* negative errno when the file could not be read */
	char lockdown_from[64];		/* "Kernel configuration", "command line", ... */
	bool lockdown_legacy;		/* pre-5.4 distro lockdown seen in the kernel log */
	bool cmdline_lockdown;
	char cmdline[512];
	int kmsg_error;
	char *kmsg_lockdown[KMSG_LINES_MAX]; /* "Lockdown: ..." and "locked down" lines */
	size_t n_kmsg_lockdown;
	char *kmsg_denials[KMSG_LINES_MAX]; /* SELinux/AppArmor denials mentioning bpf or perfmon */
	size_t n_kmsg_denials;

	/* sysctls, -1 when unreadable */
	int unpriv_bpf;
	int perf_paranoid;
	long jit_enable;
	long jit_harden;
	long long jit_limit;

	/* the subject */
	char subject[160];
	char status_path[96]; /* of the examined thread, relative to root */
	bool caps_known;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	bool main_caps_known;
	uint64_t main_cap_eff;
	int uid, euid;
	int no_new_privs;  /* -1 unknown */
	int seccomp;	   /* -1 unknown, 0 disabled, 1 strict, 2 filter */
	int seccomp_filters;
	struct thread_caps *threads;
	size_t n_threads;

	/* LSMs */
	char lsm_list[256];
	int selinux; /* -1 absent, 0 permissive, 1 enforcing */
	char selinux_context[160];
	char apparmor_profile[160];
	char *bpf_lsm_progs; /* "12 restrict_bpf (bpf), ..." or NULL; from the probes child */
	int bpf_lsm_progs_error;

	/* user namespace and token */
	bool userns_known;
	bool init_userns;
	char uid_map[128];
	char bpffs_delegate[256]; /* a bpffs mount with delegate_* options */

	/* mounts */
	char bpffs[256], tracefs[256], debugfs[256];
	bool securityfs;
	bool mountinfo_known;

	bool btf_vmlinux;
	bool kprobe_pmu, uprobe_pmu;
	long long memlock_soft, memlock_hard; /* bytes; -1 unlimited; -2 unknown */
	char unit[128];			      /* systemd unit from /proc/PID/cgroup */
	char *unit_props; /* "Key=Value" lines of `systemctl show UNIT`, or NULL */

	/* live probes */
	bool probes_ran;
	char probes_error[128];
	struct doctor_probe probes[_DOCTOR_PROBE_MAX];
	/* bpf() with an invalid command, in a child: 0 not measured; -EINVAL: bpf() reaches
	 * the kernel; another errno: a filter returned it; canary_killed: a filter killed it. */
	int seccomp_canary;
	bool canary_killed;
};

struct doctor {
	struct doctor_env env;
	char *root; /* "" for the live system */
	struct facts f;
	struct doctor_check *checks;
	size_t n_checks, n_alloc;
	bool oom;
	const char *root_cause;
};

/* env.c: file access through the root. */
/* Reads the whole file root+path (at most max bytes) into a malloc'd, NUL-terminated
 * buffer; trailing newlines are kept. */
int doctor_read_file(const struct doctor *d, const char *path, size_t max, char **ret);
/* The first line of a file, without its newline. */
int doctor_read_line(const struct doctor *d, const char *path, char *buf, size_t size);
int doctor_read_long(const struct doctor *d, const char *path, long long *ret);
bool doctor_exists(const struct doctor *d, const char *path);
/* Calls fn for each message of the kernel log (root+/dev/kmsg, kmsg record format). */
int doctor_kmsg_foreach(const struct doctor *d, void (*fn)(struct doctor *d, const char *msg));
/* Opens the kernel configuration (/proc/config.gz, /boot/config-RELEASE) and calls fn for
 * each line; sets f.config_source. */
int doctor_config_foreach(struct doctor *d, void (*fn)(struct doctor *d, const char *line));

/* facts.c */
int facts_gather(struct doctor *d);
void facts_clear(struct facts *f);
char config_value(const struct facts *f, const char *name);
bool kernel_at_least(const struct facts *f, int maj, int min);

/* checks_kernel.c: shared judgements. */
const char *lockdown_level_name(enum lockdown_level l);
/* "set by the kernel configuration", "set from the command line", "set by Secure Boot". */
void lockdown_source(const struct facts *f, char *buf, size_t size);
/* Would the examined thread pass bpf_capable() / perfmon_capable() on this kernel? */
bool subject_bpf_capable(const struct facts *f);
bool subject_perfmon_capable(const struct facts *f);
bool memlock_too_small(const struct facts *f);

/* live.c: things only a live run can measure. */
/* Reads securityfs files (lockdown, lsm) by mounting securityfs in a private mount namespace
 * of a forked child (needs CAP_SYS_ADMIN); the host's mounts are not touched. */
int live_read_securityfs(char *lockdown, size_t lockdown_size, char *lsm, size_t lsm_size);
/* bpf() with an invalid command, in a forked child because a filter may kill the caller:
 * -EINVAL when the call reaches the kernel, another negative errno when a seccomp filter (or,
 * before 5.19, unprivileged_bpf_disabled) returns it; *ret_killed when the child died. */
int live_seccomp_canary(bool *ret_killed);
/* Forks fn(userdata, fd) into a child that writes at most size bytes of its answer to fd;
 * reads them into buf. Returns the byte count or a negative errno (-ETIMEDOUT after
 * timeout_ms, -ECHILD when the child died by a signal, *ret_signal set). */
int live_fork(int (*fn)(void *userdata, int fd), void *userdata, void *buf, size_t size,
	      int timeout_ms, int *ret_signal);

/* probes.c */
int probes_run(struct doctor *d);
int probes_inject(struct doctor *d, const char *path);

/* checks_*.c: each appends its checks. */
void checks_kernel(struct doctor *d);
void checks_process(struct doctor *d);
void checks_lsm(struct doctor *d);
void checks_fs(struct doctor *d);
void checks_probes(struct doctor *d);

/* report.c: building checks. On OOM these set d->oom and do nothing more. */
struct doctor_check *check_new(struct doctor *d, const char *id, enum doctor_verdict v,
			       const char *fmt, ...) _printf_(4, 5);
void check_evidence(struct doctor *d, struct doctor_check *c, const char *source,
		    const char *fmt, ...) _printf_(4, 5);
void check_blocks(struct doctor *d, struct doctor_check *c, const char *fmt, ...) _printf_(3, 4);
void check_remedy(struct doctor *d, struct doctor_check *c, const char *fmt, ...) _printf_(3, 4);
void check_cause(struct doctor *d, struct doctor_check *c, const char *id);
char *doctor_vasprintf(struct doctor *d, const char *fmt, va_list ap);

/* "EPERM" for -1, "E2BIG", ...; "errno N" otherwise. */
const char *errno_name(int error);
int errno_from_name(const char *s);
