/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces the XDP and TC dispatchers share: loading a program again as an extension of a slot,
 * finding the slots, the test hook for failed rebuilds, small path and id helpers. */
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "dispatcher.h"
#include "internal.h"
#include "log.h"

/*
 * BPFD_TEST_FAIL_REBUILD=<step> in bpfd's environment makes every dispatcher rebuild fail at
 * that step ("load": the new dispatcher, "attach": the extensions, "store": the records,
 * "swap": the hook, "commit": the store commit after the swap, which swaps back), to test that
 * a failed rebuild leaves the previous chain running and the store unchanged
 * (docs/dispatchers.md). Unset in production.
 */
bool dispatcher_inject_failure(const char *kind, const char *step, struct error *err)
{
	const char *v = secure_getenv("BPFD_TEST_FAIL_REBUILD");

	if (!v || !streq(v, step))
		return false;
	error_set(err, -EIO,
		  "%s dispatcher rebuild: injected failure at step '%s' "
		  "(BPFD_TEST_FAIL_REBUILD)",
		  kind, step);
	return true;
}

/* The same variable with STEP "crash-swap" (after the swap, before the commit) or
 * "crash-commit" (after the commit, before the renames): bpfd dies there as if killed, to test
 * that the next start finishes or undoes the interrupted rebuild (dispatcher_recover()). */
void dispatcher_inject_crash(const char *kind, const char *step)
{
	const char *v = secure_getenv("BPFD_TEST_FAIL_REBUILD");

	if (!v || !streq(v, step))
		return;
	log_error("%s dispatcher rebuild: injected crash at '%s' (BPFD_TEST_FAIL_REBUILD)", kind,
		  step);
	raise(SIGKILL);
}

char *dispatcher_path_in(const char *dir, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

uint32_t dispatcher_prog_id_of_fd(int fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	return bpf_prog_get_info_by_fd(fd, &info, &len) < 0 ? 0 : info.id;
}

bool dispatcher_iface_exists(const struct link_record *l)
{
	char name[IF_NAMESIZE];

	/* An index can be reused by a new interface: the name must match too. */
	return if_indextoname((unsigned)l->ifindex, name) && l->iface && streq(name, l->iface);
}

/* Maps of prog's object: the pinned ones in its map directory are reused (so the copy counts
 * into the same maps); .rodata/.data/.bss are fresh, with prog's global data applied. */
static int reuse_maps(struct bpf_object *obj, const struct program_record *prog, struct error *err)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		_cleanup_free_ char *path = NULL;
		_cleanup_close_ int fd = -EBADF;
		int r;

		if (bpf_map__is_internal(map))
			continue;
		path = pin_path_map(prog->map_pin_path, bpf_map__name(map));
		if (!path)
			return error_set(err, -ENOMEM, "out of memory");
		fd = bpf_obj_get(path);
		if (fd < 0)
			return error_set(err, -EIO,
					 "program %u: its map pin %s cannot be opened: %m",
					 prog->id, path);
		r = bpf_map__reuse_fd(map, fd);
		if (r < 0)
			return error_set(err, -EIO, "program %u: reusing map %s: %s", prog->id,
					 path, strerror(-r));
	}
	return 0;
}

int dispatcher_load_extension(const char *kind, const struct program_record *prog, int disp_fd,
			      unsigned slot, int *ret_fd, struct error *err)
{
	const struct load_program_spec ps = {.name = prog->name, .type = prog->type};
	const struct load_spec spec = {
		.path = prog->path,
		.programs = &ps,
		.n_programs = 1,
		.global_data = prog->global_data,
		.n_global_data = prog->n_global_data,
		.owner_uid = prog->owner_uid,
	};
	_cleanup_(loader__freep) struct loader *l = NULL;
	struct bpf_program *p;
	char fn[16];
	int r, fd;

	r = loader__open(&spec, &l, err);
	if (r < 0) {
		error_append(err, "(reopening the object of program %u for the %s dispatcher)",
			     prog->id, kind);
		return r;
	}
	p = l->progs[0].prog;
	snprintf(fn, sizeof(fn), "prog%u", slot);
	if (bpf_program__set_type(p, BPF_PROG_TYPE_EXT) < 0 ||
	    bpf_program__set_expected_attach_type(p, 0) < 0 ||
	    bpf_program__set_attach_target(p, disp_fd, fn) < 0)
		return error_set(err, -EIO, "program %u: cannot target %s dispatcher slot %s",
				 prog->id, kind, fn);
	r = reuse_maps(l->obj, prog, err);
	if (r < 0)
		return r;
	r = bpf_object__load(l->obj);
	if (r < 0) {
		const char *log = l->progs[0].log_buf;
		size_t len = log ? strlen(log) : 0;

		if (r == -EPERM) {
			error_set(err, -EPERM,
				  "loading program %u ('%s') as an extension (freplace) of the %s "
				  "dispatcher refused: EPERM",
				  prog->id, prog->name, kind);
			diagnose_refusal(err, "freplace", true, -EPERM, log);
			return -EPERM;
		}
		return error_set(err, r == -EINVAL || r == -EACCES ? -EINVAL : -EIO,
				 "loading program %u ('%s') as an extension of the %s dispatcher "
				 "failed: %s%s%s",
				 prog->id, prog->name, kind, strerror(-r), len ? ": " : "",
				 len > 1000 ? log + len - 1000
				 : len	    ? log
					    : "");
	}
	fd = fcntl(bpf_program__fd(p), F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return error_set(err, negative_errno(), "dup: %m");
	*ret_fd = fd;
	return 0;
}

int dispatcher_slot_btf_ids(const char *kind, int disp_fd, uint32_t *ids, unsigned n_slots,
			    struct error *err)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	struct btf *btf;

	if (bpf_prog_get_info_by_fd(disp_fd, &info, &len) < 0 || !info.btf_id)
		return error_set(err, -EIO, "the %s dispatcher has no BTF: %m", kind);
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return error_set(err, -EIO, "reading the %s dispatcher's BTF: %m", kind);
	for (unsigned i = 0; i < n_slots; i++) {
		char fn[16];
		int id;

		snprintf(fn, sizeof(fn), "prog%u", i);
		id = btf__find_by_name_kind(btf, fn, BTF_KIND_FUNC);
		if (id <= 0) {
			btf__free(btf);
			return error_set(err, -EIO, "the %s dispatcher has no slot %s", kind, fn);
		}
		ids[i] = (uint32_t)id;
	}
	btf__free(btf);
	return 0;
}

/* Loads the embedded dispatcher object elf (program prog_name) with cfg as its .rodata. */
int dispatcher_load_program(const char *kind, const char *prog_name, const void *elf,
			    size_t elf_size, const void *cfg, size_t cfg_size,
			    struct bpf_object **ret_obj, int *ret_fd, struct error *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = prog_name, .bpf_token_path = "");
	struct bpf_map *map, *rodata = NULL;
	struct bpf_object *obj;
	struct bpf_program *p;
	int r;

	obj = bpf_object__open_mem(elf, elf_size, &opts);
	if (!obj)
		return error_set(err, -EIO, "opening the embedded %s dispatcher: %m", kind);
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t len = strlen(name);

		if (bpf_map__is_internal(map) && len >= 7 && streq(name + len - 7, ".rodata"))
			rodata = map;
	}
	p = bpf_object__find_program_by_name(obj, prog_name);
	if (!rodata || !p || bpf_map__value_size(rodata) != cfg_size) {
		bpf_object__close(obj);
		return error_set(err, -EIO, "the embedded %s dispatcher has no %zu-byte config",
				 kind, cfg_size);
	}
	r = bpf_map__set_initial_value(rodata, cfg, cfg_size);
	if (r == 0)
		r = bpf_object__load(obj);
	if (r < 0) {
		bpf_object__close(obj);
		error_set(err, r == -EPERM ? -EPERM : -EIO, "loading the %s dispatcher: %s", kind,
			  strerror(-r));
		if (r == -EPERM)
			diagnose_eperm(err, streq(kind, "XDP") ? "xdp" : "tc");
		return err->code;
	}
	*ret_obj = obj;
	*ret_fd = bpf_program__fd(p);
	return 0;
}

bool dispatcher_link_is_dispatched(const struct link_record *l, int type)
{
	struct bpf_link_info info = {};
	uint32_t len = sizeof(info);
	_cleanup_close_ int fd = -EBADF;

	if (l->type != type || !l->pin_path)
		return false;
	fd = bpf_obj_get(l->pin_path);
	if (fd < 0 || bpf_link_get_info_by_fd(fd, &info, &len) < 0)
		return false;
	return info.type == BPF_LINK_TYPE_TRACING;
}

char *dispatcher_hook_dir(const struct dispatcher_ops *ops, struct core *c,
			  const struct link_record *hook)
{
	char name[96], *p;

	if (ops->hook_name(hook, name, sizeof(name)) < 0)
		return NULL;
	return asprintf(&p, "%s/%s/%s", c->bpffs, ops->subdir, name) < 0 ? NULL : p;
}
