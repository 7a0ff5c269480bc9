/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The doctor: why does the kernel refuse a BPF operation? It measures everything that can
 * make bpf(), perf_event_open() or a netlink attach fail (kernel build, lockdown, sysctls,
 * capabilities per thread, seccomp, LSMs, user namespaces, mounts, limits) once, keeps the
 * results, and turns them into checks (docs/doctor.md) and into one-line explanations of a
 * given refusal (doctor__explain(), used by bpfd's errors).
 *
 * Every file is read through doctor_env.root, so the unit tests run the same code over fake
 * /proc, /sys, /boot and /dev/kmsg trees (tests/fixtures/doctor). Anything that is not a file
 * read (bpf() calls, a private securityfs mount, the live probes in a forked child) happens
 * only when env.live is set; fixtures inject the probe results instead.
 *
 * Library code: it never logs except at debug level, and never prints.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

enum doctor_verdict {
	DOCTOR_OK,
	DOCTOR_WARN,
	DOCTOR_FAIL,
	DOCTOR_UNKNOWN,
	_DOCTOR_VERDICT_MAX,
};

/* "ok", "warn", "fail", "unknown". */
const char *doctor_verdict_to_string(enum doctor_verdict v);

/* The live probes: one minimal program of each type, loaded (and attached where that is
 * harmless) in a forked child. */
enum doctor_probe_kind {
	DOCTOR_PROBE_SOCKET_FILTER,
	DOCTOR_PROBE_XDP,
	DOCTOR_PROBE_TC,
	DOCTOR_PROBE_TRACEPOINT,
	DOCTOR_PROBE_KPROBE,
	DOCTOR_PROBE_UPROBE,
	DOCTOR_PROBE_FENTRY,
	DOCTOR_PROBE_FREPLACE,
	DOCTOR_PROBE_LSM,
	_DOCTOR_PROBE_MAX,
};

/* "socket_filter", "xdp", ...; NULL when out of range. */
const char *doctor_probe_kind_to_string(int kind);
int doctor_probe_kind_from_string(const char *s);

#define DOCTOR_PROBE_LOG_MAX 256

struct doctor_probe {
	bool ran;
	int load_error; /* 0 or a negative errno */
	bool attach_tried;
	int attach_error;		 /* 0 or a negative errno, when attach_tried */
	char attach_what[96];		 /* "tcx ingress of lo in a private netns" */
	char log[DOCTOR_PROBE_LOG_MAX]; /* the end of the verifier log, when the load failed */
};

struct doctor_env {
	/* Prefix of every file read; NULL or "" is the running system. */
	const char *root;
	/* The process examined (0: the caller) and its thread (0: the calling thread when pid
	 * is 0 and live, the main thread otherwise). Capabilities are per thread. */
	pid_t pid;
	pid_t tid;
	/* Allowed to ask the kernel: bpf() queries, securityfs mounted in a private mount
	 * namespace, the seccomp canary. Off for fixtures. */
	bool live;
	/* Run the live probes in a forked child (needs live). */
	bool probes;
	/* Fixtures: a file of injected probe results ("KIND load ERRNO [attach ERRNO] [log
	 * TEXT]", one line each, errno by name), read as is (not under root). */
	const char *probes_file;
};

struct doctor_evidence {
	char *source; /* the file or call: "/sys/kernel/security/lockdown" */
	char *value;  /* what it said: "none [integrity] confidentiality" */
};

struct doctor_check {
	const char *id; /* stable: "lockdown", "probe.kprobe" (docs/doctor.md) */
	enum doctor_verdict verdict;
	char *summary; /* one line */
	struct doctor_evidence *evidence;
	size_t n_evidence;
	char *blocks; /* what this finding makes impossible; NULL when nothing */
	char *remedy; /* what to do; NULL when nothing */
	char *cause;  /* probes: the id of the check that explains the refusal */
};

struct doctor;

/* Measures everything (and runs the probes when env->probes); keeps the results. -ENOMEM
 * is the only failure: what cannot be measured becomes an "unknown" verdict. */
int doctor__new(const struct doctor_env *env, struct doctor **ret);
void doctor__free(struct doctor *d);

/* The checks, in report order. */
const struct doctor_check *doctor__checks(const struct doctor *d, size_t *ret_n);
const struct doctor_check *doctor__check(const struct doctor *d, const char *id);

/* The id of the check that best explains why BPF is refused here (the first "fail" in
 * cause order, else the first "warn"); NULL when nothing is wrong. */
const char *doctor__root_cause(const struct doctor *d);

/* Who was examined: "pid 1234 (bpfd) thread 1236, uid 0". */
const char *doctor__subject(const struct doctor *d);
const char *doctor__kernel_release(const struct doctor *d);
bool doctor__probes_ran(const struct doctor *d);

enum doctor_stage {
	DOCTOR_STAGE_LOAD,
	DOCTOR_STAGE_ATTACH,
};

/*
 * The most likely cause of a refusal: `what` ("kprobe", "xdp", "fentry", ... or a bpfd
 * program type name) failed at stage with error (negative errno), log is the verifier log
 * (may be NULL). Writes one line to buf ("kprobe attach refused: kernel
 * lockdown=confidentiality (set from the command line) blocks kprobes; see bpfctl doctor")
 * and returns the id of the check that explains it ("lockdown"), or "unknown".
 */
const char *doctor__explain(const struct doctor *d, const char *what, enum doctor_stage stage,
			    int error, const char *log, char *buf, size_t size);

/* Capability names: "CAP_BPF" for 39 (libcap's names, upper case), "CAP_42" when unknown. */
void capability_name(int cap, char *buf, size_t size);
/* "CAP_BPF" or "cap_bpf" -> 39; -EINVAL when unknown. */
int capability_from_name(const char *name);
/* "CAP_NET_ADMIN CAP_BPF" for a mask (ascending), "(none)" for 0; malloc'd, NULL on OOM. */
char *capability_mask_to_string(uint64_t mask, const char *separator);

DEFINE_TRIVIAL_CLEANUP_FUNC(struct doctor *, doctor__free);
#define _cleanup_doctor_ _cleanup_(doctor__freep)
