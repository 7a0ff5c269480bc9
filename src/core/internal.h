/* SPDX-License-Identifier: Apache-2.0 */
/* What the core's files share and nobody else sees. */
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core.h"

/* Two optional strings (netns paths, directions) are the same: both absent or equal. */
static inline bool str_eq_null(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

struct core {
	char *bpffs;
	char *state_dir;
	gid_t pin_gid;
	struct store *store;
	struct link_watch *watch; /* link_watch.c; NULL until core__link_watch_start() */
};

struct loader_prog {
	struct bpf_program *prog;
	char *name;
	int32_t type;
	char *attach_fn;
	char *log_buf; /* verifier log, captured when the load fails */
};

struct loader {
	struct bpf_object *obj;
	struct loader_prog *progs;
	size_t n_progs;
	char *path;
	struct kv_pair *metadata;
	size_t n_metadata;
	struct kv_pair *global_data;
	size_t n_global_data;
	uint32_t map_owner_id;
	char *uuid;
	uid_t owner_uid;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct loader *, loader__free);

/* pins.c: the pin layout (docs/pins.md). Each returns a malloc'd path or NULL (-ENOMEM). */
char *pin_path_program(const struct core *c, uint32_t prog_id);
char *pin_path_link(const struct core *c, uint32_t link_id);
char *pin_path_maps_dir(const struct core *c, uint32_t owner_prog_id);
/* <dir>/<map_name> with '.' made '_' (bpftool's convention, since bpffs refuses dots). */
char *pin_path_map(const char *dir, const char *map_name);
int pins_ensure_bpffs(const char *path, struct error *err);
int pins_mkdir(const char *path, mode_t mode);
/* Pins fd at path, then sets mode and group (pin_gid unless (gid_t)-1). */
int pins_pin_fd(const struct core *c, int fd, const char *path, mode_t mode);
/* Removes every pin in dir and dir itself; missing dir is fine. */
int pins_remove_dir(const char *dir);

/* kernel_info.c */
int kernel_prog_info_by_id(uint32_t id, struct kernel_prog_info *ret);
void kernel_prog_info__clear(struct kernel_prog_info *k);
uint32_t kernel_link_id_of_fd(int link_fd);

/* programs.c */
int core_fill_view(struct core *c, struct program_view *v);

/* attach.c: detaches the kernel link behind l, removes its pin and its record. */
int core_detach_link(struct core *c, const struct link_record *l);
/* The same for a link whose network namespace is gone: never enters it. */
int core_forget_link(struct core *c, const struct link_record *l);

/* The links of hook's chain (same interface, direction, namespace), in run order. */
int chain_links(struct core *c, const struct link_record *hook, struct link_record **ret,
		size_t *ret_n);

/* attach_*.c: each returns a new link fd or a negative errno with err set. The program is
 * given as its fd and record; the hook by spec. */
int attach_xdp(struct core *c, int prog_fd, const struct link_record *spec, struct error *err);
int attach_tcx(struct core *c, int prog_fd, const struct link_record *spec, struct error *err);
int attach_tracepoint(int prog_fd, const struct link_record *spec, struct error *err);
int attach_kprobe(int prog_fd, const struct link_record *spec, struct error *err);
int attach_uprobe(int prog_fd, const struct link_record *spec, struct error *err);
int attach_tracing(int prog_fd, const struct program_record *prog, struct error *err);

/* attach_net.c: appends "interface X already has XDP program N ('name') attached outside
 * bpfd ..." to err when a program is on ifindex's XDP hook. */
void describe_xdp_owner(int ifindex, const char *iface, struct error *err);

/* features.c: loads a freplace (BPF_PROG_TYPE_EXT) program once and keeps the answer: 0 when
 * program extensions load, else the negative errno; ret_detail (may be NULL) gets what was
 * measured. */
int core_freplace_probe(const char **ret_detail);

/* dispatcher_xdp.c (docs/dispatchers.md). spec is validated, its ifindex set, and the caller
 * is in spec's network namespace. */
int xdp_dispatcher_attach(struct core *c, const struct program_record *prog,
			  const struct link_record *spec, uint32_t *ret_link_id, struct error *err);
/* Takes l out of its chain (rebuilds it, or removes the dispatcher with the last link). */
int xdp_dispatcher_detach(struct core *c, const struct link_record *l, struct error *err);
/* Whether l's pin is an extension's link into a dispatcher (not a direct XDP link). */
bool xdp_link_is_dispatched(const struct link_record *l);
void xdp_dispatchers_reconcile(struct core *c);
/* Before the links are reconciled: rebuilds a crash interrupted, finished or undone. */
void xdp_dispatchers_recover(struct core *c);
/* l's namespace is gone: forgotten without entering it (dispatcher_forget). */
int xdp_dispatcher_forget(struct core *c, const struct link_record *l, struct error *err);
/* dispatcher_tc.c: the same for TC hook directories (and clsact qdiscs bpfd created). */
void tc_dispatchers_reconcile(struct core *c);
void tc_dispatchers_recover(struct core *c);
int tc_dispatcher_forget(struct core *c, const struct link_record *l, struct error *err);

/* link_watch.c */
struct link_watch;
void link_watch_free(struct link_watch *w);

/* netns.c: runs the caller inside the network namespace at path for a while. */
int netns_enter(const char *path, int *ret_saved_fd, struct error *err);
void netns_leave(int saved_fd);

/* libbpf's attach type for a bpfd type, for loading. */
enum bpf_prog_type bpfd_prog_type_kernel(int type);

/* Appends the doctor's one-line cause of a refusal to err (diagnose.c): what is the program
 * or hook type ("kprobe do_sys_open" is fine), error the negative errno, log the verifier
 * log or NULL. diagnose_eperm() does the same for an EPERM already in err. */
void diagnose_refusal(struct error *err, const char *what, bool load, int error, const char *log);
void diagnose_eperm(struct error *err, const char *what);
