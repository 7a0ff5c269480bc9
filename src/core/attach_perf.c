/* SPDX-License-Identifier: Apache-2.0 */
/* Hooks reached through a perf event: tracepoints, kprobes, uprobes (BPF_PERF_EVENT links). */
#include <fcntl.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>

#include "elf_sym.h"
#include "internal.h"
#include "lockdown.h"
#include "log.h"

#define TRACEFS "/sys/kernel/tracing"

static int perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu)
{
	return (int)syscall(__NR_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int read_uint_file(const char *path, unsigned long *ret)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");

	if (!f)
		return negative_errno();
	if (fscanf(f, "%lu", ret) != 1)
		return -EINVAL;
	return 0;
}

/* tracefs is where tracepoint ids live; mount it at its standard place if nobody has. */
static int ensure_tracefs(struct error *err)
{
	struct statfs sfs;
	struct stat st;

	if (stat(TRACEFS "/events", &st) == 0)
		return 0;
	if (errno == EACCES)
		/* Mounted, but its root-only directories are closed to bpfd. */
		return error_set(err, -EPERM,
				 "tracepoint attach: tracefs on " TRACEFS " is not readable by bpfd "
				 "(EACCES): grant CAP_DAC_READ_SEARCH (see docs/capabilities.md)");
	if (statfs(TRACEFS, &sfs) == 0 && sfs.f_type == TRACEFS_MAGIC) {
		char buf[128];
		const char *level = kernel_lockdown_level(buf, sizeof(buf));

		/* Mounted and empty: the kernel registered no tracing at all. */
		if (level && streq(level, "confidentiality"))
			return error_set(err, -EPERM,
					 "tracepoint attach refused: kernel lockdown=confidentiality "
					 "keeps tracefs empty (measured: " TRACEFS " is mounted but has "
					 "no events/); boot with lockdown=integrity or none; see bpfctl "
					 "doctor");
		return error_set(err, -EOPNOTSUPP,
				 "tracepoint attach: tracefs on " TRACEFS " has no events/ directory "
				 "(kernel without tracing, CONFIG_FTRACE/EVENT_TRACING off?); see "
				 "bpfctl doctor");
	}
	if (mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return error_set(err, errno == EPERM ? -EPERM : -EOPNOTSUPP,
				 "tracepoint attach needs tracefs, and mounting it on " TRACEFS
				 " failed: %m");
	log_info("Mounted tracefs on " TRACEFS);
	return 0;
}

static int link_perf_event(int prog_fd, int pfd, const char *what, struct error *err)
{
	int fd = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, NULL);

	if (fd >= 0)
		return fd;
	if (errno == EPERM) {
		error_set(err, -EPERM, "%s: attaching the program to its perf event: EPERM", what);
		diagnose_eperm(err, what);
		return -EPERM;
	}
	return error_set(err, -EIO, "%s: bpf(BPF_LINK_CREATE, BPF_PERF_EVENT): %m", what);
}

static int perf_open_error(const char *what, struct error *err)
{
	int e = errno;

	if (e == EPERM || e == EACCES) {
		error_set(err, -EPERM, "%s: perf_event_open: %s", what, strerror(e));
		diagnose_eperm(err, what);
		return -EPERM;
	}
	return error_set(err, -EIO, "%s: perf_event_open: %s", what, strerror(e));
}

int attach_tracepoint(int prog_fd, const struct link_record *spec, struct error *err)
{
	_cleanup_close_ int pfd = -EBADF;
	struct perf_event_attr attr = { .size = sizeof(attr), .type = PERF_TYPE_TRACEPOINT };
	char path[PATH_MAX], what[300];
	unsigned long id;
	int r;

	snprintf(what, sizeof(what), "tracepoint %s", spec->tracepoint);
	r = ensure_tracefs(err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), TRACEFS "/events/%s/id", spec->tracepoint);
	r = read_uint_file(path, &id);
	if (r == -ENOENT)
		return error_set(err, -ENOENT, "tracepoint %s not found (no %s)", spec->tracepoint,
				 path);
	if (r < 0)
		return error_set(err, r, "tracepoint %s: reading %s: %s", spec->tracepoint, path,
				 strerror(-r));
	attr.config = id;
	pfd = perf_event_open(&attr, -1, 0);
	if (pfd < 0)
		return perf_open_error(what, err);
	return link_perf_event(prog_fd, pfd, what, err);
}

/* The dynamic PMU of kprobes or uprobes, and the config bit that makes a return probe. */
static int probe_pmu(const char *pmu, uint32_t *ret_type, int *ret_retbit)
{
	char path[128], buf[64];
	unsigned long type;
	int bit = 0, r;
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	r = read_uint_file(path, &type);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/format/retprobe", pmu);
	f = fopen(path, "re");
	if (f && fgets(buf, sizeof(buf), f))
		sscanf(buf, "config:%d", &bit);
	*ret_type = (uint32_t)type;
	*ret_retbit = bit;
	return 0;
}

int attach_kprobe(int prog_fd, const struct link_record *spec, struct error *err)
{
	_cleanup_close_ int pfd = -EBADF;
	struct perf_event_attr attr = { .size = sizeof(attr) };
	const char *kind = spec->retprobe ? "kretprobe" : "kprobe";
	char what[300];
	uint32_t type;
	int retbit, r;

	snprintf(what, sizeof(what), "%s %s", kind, spec->fn_name);
	r = probe_pmu("kprobe", &type, &retbit);
	if (r == -ENOENT)
		return error_set(err, -EOPNOTSUPP,
				 "%s: this kernel has no kprobe support (measured: "
				 "/sys/bus/event_source/devices/kprobe does not exist, so the "
				 "kernel is built without CONFIG_KPROBES); use a tracepoint or "
				 "fentry instead, or a kernel with kprobes",
				 what);
	if (r < 0)
		return error_set(err, r, "%s: reading the kprobe PMU: %s", what, strerror(-r));
	attr.type = type;
	attr.config = spec->retprobe ? 1ULL << retbit : 0;
	attr.config1 = (uint64_t)(uintptr_t)spec->fn_name; /* kprobe_func */
	attr.config2 = spec->offset;			     /* probe_offset */
	pfd = perf_event_open(&attr, -1, 0);
	if (pfd < 0 && (errno == ENOENT || errno == EINVAL))
		return error_set(err, -ENOENT, "%s: kernel function '%s'%s not found or not "
					       "probeable: %m",
				 what, spec->fn_name, spec->offset ? " at that offset" : "");
	if (pfd < 0)
		return perf_open_error(what, err);
	return link_perf_event(prog_fd, pfd, what, err);
}

int attach_uprobe(int prog_fd, const struct link_record *spec, struct error *err)
{
	_cleanup_close_ int pfd = -EBADF;
	struct perf_event_attr attr = { .size = sizeof(attr) };
	const char *kind = spec->retprobe ? "uretprobe" : "uprobe";
	char path[PATH_MAX], what[PATH_MAX + 300];
	uint64_t offset = 0;
	uint32_t type;
	int retbit, r;

	snprintf(what, sizeof(what), "%s %s%s%s", kind, spec->target, spec->fn_name ? ":" : "",
		 spec->fn_name ? spec->fn_name : "");
	r = elf_resolve_target(spec->target, path, sizeof(path));
	if (r < 0)
		return error_set(err, -ENOENT, "%s: target '%s' not found (as a path or a library "
					       "name)",
				 what, spec->target);
	if (spec->fn_name && spec->fn_name[0]) {
		r = elf_func_offset(path, spec->fn_name, &offset);
		if (r == -ENOENT)
			return error_set(err, -ENOENT, "%s: function '%s' not found in %s", what,
					 spec->fn_name, path);
		if (r < 0)
			return error_set(err, r == -EINVAL ? -EINVAL : r,
					 "%s: reading symbols of %s: %s", what, path,
					 strerror(-r));
	}
	offset += spec->offset;
	if (spec->pid > 0) {
		char proc[64];
		struct stat st;

		snprintf(proc, sizeof(proc), "/proc/%d", spec->pid);
		if (stat(proc, &st) < 0)
			return error_set(err, -ESRCH, "%s: process %d not found", what, spec->pid);
	}
	r = probe_pmu("uprobe", &type, &retbit);
	if (r < 0)
		return error_set(err, -EOPNOTSUPP,
				 "%s: this kernel has no uprobe PMU (measured: "
				 "/sys/bus/event_source/devices/uprobe/type: %s; CONFIG_UPROBES "
				 "off?)",
				 what, strerror(-r));
	attr.type = type;
	attr.config = spec->retprobe ? 1ULL << retbit : 0;
	attr.config1 = (uint64_t)(uintptr_t)path; /* uprobe_path */
	attr.config2 = offset;			  /* probe_offset */
	/* One process, any cpu; or every process, which perf spells as cpu 0, pid -1. */
	pfd = perf_event_open(&attr, spec->pid > 0 ? spec->pid : -1, spec->pid > 0 ? -1 : 0);
	if (pfd < 0 && spec->pid > 0 && errno == ESRCH)
		return error_set(err, -ESRCH, "%s: process %d not found", what, spec->pid);
	if (pfd < 0 && errno == EINVAL)
		return error_set(err, -EINVAL, "%s: offset 0x%llx in %s is not probeable: %m",
				 what, (unsigned long long)offset, path);
	if (pfd < 0)
		return perf_open_error(what, err);
	return link_perf_event(prog_fd, pfd, what, err);
}
