/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load from an ELF file, in two phases:
 *   loader__open()  request thread, no capabilities: reads and parses the ELF, checks the
 *                   requested functions and their types, applies global data.
 *   core__load()    privileged thread: reuses the map owner's maps, loads, pins, records.
 */
#include <fcntl.h>
#include <linux/btf.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <bpf/btf.h>

#include "internal.h"
#include "lockdown.h"
#include "log.h"

/* Anything larger is not a BPF object anyone meant to send. */
#define BYTECODE_MAX (64u << 20)
#define VERIFIER_LOG_SIZE (1u << 20)
#define VERIFIER_TAIL_MAX 1500

void loader__free(struct loader *l)
{
	if (!l)
		return;
	bpf_object__close(l->obj);
	for (size_t i = 0; i < l->n_progs; i++) {
		free(l->progs[i].name);
		free(l->progs[i].attach_fn);
		free(l->progs[i].log_buf);
	}
	free(l->progs);
	free(l->path);
	kv_pairs_free(l->metadata, l->n_metadata);
	kv_pairs_free(l->global_data, l->n_global_data);
	free(l->uuid);
	free(l);
}

static int kv_copy(const struct kv_pair *src, size_t n, struct kv_pair **ret)
{
	struct kv_pair *kv;

	if (n == 0) {
		*ret = NULL;
		return 0;
	}
	kv = calloc(n, sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		kv[i].key = strdup(src[i].key);
		kv[i].value = malloc(src[i].value_len + 1);
		if (!kv[i].key || !kv[i].value) {
			kv_pairs_free(kv, n);
			return -ENOMEM;
		}
		memcpy(kv[i].value, src[i].value, src[i].value_len);
		kv[i].value[src[i].value_len] = 0;
		kv[i].value_len = src[i].value_len;
	}
	*ret = kv;
	return 0;
}

static int read_bytecode(const char *path, const struct caller_cred *caller, void **ret_buf,
			 size_t *ret_len, struct error *err)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	char where[4096] = "";
	struct stat st;
	size_t off = 0;

	if (caller) {
		fd = open_as_caller(path, caller, where, sizeof(where));
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			fd = negative_errno();
	}
	if (fd < 0) {
		int r = fd;

		if (r == -ENOENT || r == -ENOTDIR)
			return error_set(err, -ENOENT, "bytecode file %s: No such file", path);
		if (r == -EACCES && caller)
			return error_set(err, -EACCES,
					 "bytecode file %s: uid %u may not read it (refused at %s)",
					 path, (unsigned)caller->uid, where[0] ? where : path);
		if (r == -EACCES || r == -EPERM)
			/* The caller may, bpfd may not: a setup problem, not the caller's. */
			return error_set(err, -EPERM,
					 "bytecode file %s: bpfd itself cannot read it%s%s: %s; make it "
					 "readable by the bpfd user",
					 path, where[0] ? " at " : "", where, strerror(EACCES));
		return error_set(err, -EINVAL, "bytecode file %s: %s", path, strerror(-r));
	}
	if (fstat(fd, &st) < 0)
		return error_set(err, negative_errno(), "bytecode file %s: %m", path);
	if (!S_ISREG(st.st_mode))
		return error_set(err, -EINVAL, "bytecode file %s: not a regular file", path);
	if ((uint64_t)st.st_size > BYTECODE_MAX)
		return error_set(err, -EINVAL, "bytecode file %s: %lld bytes, limit is %u", path,
				 (long long)st.st_size, BYTECODE_MAX);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf)
		return error_set(err, -ENOMEM, "out of memory");
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, negative_errno(), "reading %s: %m", path);
		if (n == 0)
			break;
		off += n;
	}
	if (off < 4 || memcmp(buf, "\177ELF", 4) != 0)
		return error_set(err, -EINVAL, "bytecode file %s is not an ELF file", path);
	*ret_buf = TAKE_PTR(buf);
	*ret_len = off;
	return 0;
}

/* Which section prefixes make a program of each bpfd type. */
static bool section_matches(int type, const char *sec, enum bpf_prog_type kt)
{
	switch (type) {
	case BPFD_PROG_XDP:
		return kt == BPF_PROG_TYPE_XDP;
	case BPFD_PROG_TC:
	case BPFD_PROG_TCX:
		return kt == BPF_PROG_TYPE_SCHED_CLS;
	case BPFD_PROG_TRACEPOINT:
		return kt == BPF_PROG_TYPE_TRACEPOINT;
	case BPFD_PROG_KPROBE:
		return kt == BPF_PROG_TYPE_KPROBE &&
		       (!strncmp(sec, "kprobe", 6) || !strncmp(sec, "kretprobe", 9));
	case BPFD_PROG_UPROBE:
		return kt == BPF_PROG_TYPE_KPROBE &&
		       (!strncmp(sec, "uprobe", 6) || !strncmp(sec, "uretprobe", 9));
	case BPFD_PROG_FENTRY:
		return kt == BPF_PROG_TYPE_TRACING && !strncmp(sec, "fentry", 6);
	case BPFD_PROG_FEXIT:
		return kt == BPF_PROG_TYPE_TRACING && !strncmp(sec, "fexit", 5);
	case BPFD_PROG_LSM:
		return kt == BPF_PROG_TYPE_LSM;
	}
	return false;
}

static int list_programs(struct bpf_object *obj, char *buf, size_t size)
{
	struct bpf_program *p;
	size_t len = 0;

	buf[0] = 0;
	bpf_object__for_each_program(p, obj) {
		int n = snprintf(buf + len, size - len, "%s%s (%s)", len ? ", " : "",
				 bpf_program__name(p), bpf_program__section_name(p));
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += n;
	}
	return 0;
}

/* Finds the variable `name` in the object's .rodata/.data/.bss and overwrites its initial
 * value. The value must have exactly the variable's size. */
static int apply_global(struct loader *l, const struct kv_pair *kv, struct error *err)
{
	struct btf *btf = bpf_object__btf(l->obj);
	struct bpf_map *map;

	if (!btf)
		return error_set(err, -EINVAL,
				 "global_data '%s': %s has no BTF, so its variables cannot be set",
				 kv->key, l->path);
	bpf_object__for_each_map(map, l->obj) {
		const struct btf_var_secinfo *vsi;
		const struct btf_type *sec;
		const char *dot;
		size_t size;
		void *data;
		int id;

		if (!bpf_map__is_internal(map))
			continue;
		/* Internal maps are named "<object prefix>.<section>". */
		dot = strchr(bpf_map__name(map), '.');
		if (!dot)
			continue;
		id = btf__find_by_name_kind(btf, dot, BTF_KIND_DATASEC);
		if (id < 0)
			continue;
		sec = btf__type_by_id(btf, id);
		vsi = btf_var_secinfos(sec);
		for (unsigned i = 0; i < btf_vlen(sec); i++, vsi++) {
			const struct btf_type *var = btf__type_by_id(btf, vsi->type);

			if (!streq(btf__name_by_offset(btf, var->name_off), kv->key))
				continue;
			if (vsi->size != kv->value_len)
				return error_set(err, -EINVAL,
						 "global_data '%s' has %zu bytes, but variable '%s' "
						 "in %s is %u bytes",
						 kv->key, kv->value_len, kv->key, dot, vsi->size);
			data = bpf_map__initial_value(map, &size);
			if (!data || vsi->offset + vsi->size > size)
				return error_set(err, -EINVAL,
						 "global_data '%s': section %s cannot be set", kv->key,
						 dot);
			memcpy((char *)data + vsi->offset, kv->value, kv->value_len);
			return 0;
		}
	}
	return error_set(err, -EINVAL,
			 "global_data '%s': no such variable in .rodata, .data or .bss of %s",
			 kv->key, l->path);
}

int loader__open(const struct load_spec *spec, struct loader **ret, struct error *err)
{
	_cleanup_(loader__freep) struct loader *l = NULL;
	_cleanup_free_ void *buf = NULL;
	size_t len = 0;
	const char *base;
	int r;

	if (!spec->path || !spec->path[0])
		return error_set(err, -EINVAL, "bytecode: no file given");
	if (spec->path[0] != '/')
		return error_set(err, -EINVAL, "bytecode file %s: path must be absolute",
				 spec->path);
	if (spec->n_programs == 0)
		return error_set(err, -EINVAL, "info: no program to load (give at least one "
					       "function name and type)");
	for (size_t i = 0; i < spec->n_programs; i++) {
		const struct load_program_spec *p = &spec->programs[i];

		if (!p->name || !p->name[0])
			return error_set(err, -EINVAL, "info[%zu]: program name missing", i);
		if (p->type < 0 || p->type >= _BPFD_PROG_MAX)
			return error_set(err, -EINVAL, "info[%zu] '%s': unknown program type %d",
					 i, p->name, p->type);
		if ((p->type == BPFD_PROG_FENTRY || p->type == BPFD_PROG_FEXIT ||
		     p->type == BPFD_PROG_LSM) &&
		    (!p->attach_fn || !p->attach_fn[0]))
			return error_set(err, -EINVAL,
					 "info[%zu] '%s': %s programs need the %s at load", i,
					 p->name, bpfd_prog_type_to_string(p->type),
					 p->type == BPFD_PROG_LSM ? "hook name" :
								    "kernel function to attach to");
		for (size_t j = 0; j < i; j++)
			if (streq(spec->programs[j].name, p->name))
				return error_set(err, -EINVAL, "info: program '%s' given twice",
						 p->name);
	}

	r = read_bytecode(spec->path, spec->caller, &buf, &len, err);
	if (r < 0)
		return r;

	l = calloc(1, sizeof(*l));
	if (!l)
		return error_set(err, -ENOMEM, "out of memory");
	l->path = strdup(spec->path);
	l->uuid = spec->uuid ? strdup(spec->uuid) : NULL;
	l->progs = calloc(spec->n_programs, sizeof(*l->progs));
	if (!l->path || !l->progs || (spec->uuid && !l->uuid) ||
	    kv_copy(spec->metadata, spec->n_metadata, &l->metadata) < 0 ||
	    kv_copy(spec->global_data, spec->n_global_data, &l->global_data) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	l->n_metadata = spec->n_metadata;
	l->n_global_data = spec->n_global_data;
	l->map_owner_id = spec->map_owner_id;
	l->owner_uid = spec->owner_uid;

	base = strrchr(spec->path, '/') + 1;
	/* bpfd loads with its own capabilities: a BPF token (delegation to user namespaces)
	 * would only cost a failing syscall at load. "" tells libbpf not to try. */
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = base, .bpf_token_path = "");
	l->obj = bpf_object__open_mem(buf, len, &opts);
	if (!l->obj) {
		r = -errno;
		return error_set(err, -EINVAL, "bytecode file %s is not a valid BPF object: %s",
				 spec->path, r < -4000 ? "malformed ELF" : strerror(-r));
	}

	for (size_t i = 0; i < spec->n_programs; i++) {
		const struct load_program_spec *p = &spec->programs[i];
		struct loader_prog *lp = &l->progs[i];
		enum bpf_prog_type kt;
		char names[1024];

		lp->prog = bpf_object__find_program_by_name(l->obj, p->name);
		if (!lp->prog) {
			list_programs(l->obj, names, sizeof(names));
			return error_set(err, -ENOENT,
					 "function '%s' not found in %s (programs there: %s)",
					 p->name, spec->path, names[0] ? names : "none");
		}
		kt = bpf_program__type(lp->prog);
		if (!section_matches(p->type, bpf_program__section_name(lp->prog), kt))
			return error_set(err, -EINVAL,
					 "program '%s' is not a %s program: its section is '%s' "
					 "(kernel type %s)",
					 p->name, bpfd_prog_type_to_string(p->type),
					 bpf_program__section_name(lp->prog),
					 libbpf_bpf_prog_type_str(kt) ?: "unknown");
		lp->name = strdup(p->name);
		lp->attach_fn = p->attach_fn ? strdup(p->attach_fn) : NULL;
		lp->type = p->type;
		lp->log_buf = malloc(VERIFIER_LOG_SIZE);
		if (!lp->name || (p->attach_fn && !lp->attach_fn) || !lp->log_buf)
			return error_set(err, -ENOMEM, "out of memory");
		lp->log_buf[0] = 0;
		l->n_progs++;
	}

	/* Load only what was asked for; the rest of the object stays on disk. */
	struct bpf_program *p;
	bpf_object__for_each_program(p, l->obj) {
		bool wanted = false;

		for (size_t i = 0; i < l->n_progs; i++)
			wanted |= l->progs[i].prog == p;
		bpf_program__set_autoload(p, wanted);
	}
	for (size_t i = 0; i < l->n_progs; i++)
		bpf_program__set_log_buf(l->progs[i].prog, l->progs[i].log_buf, VERIFIER_LOG_SIZE);

	for (size_t i = 0; i < l->n_global_data; i++) {
		r = apply_global(l, &l->global_data[i], err);
		if (r < 0)
			return r;
	}

	*ret = TAKE_PTR(l);
	return 0;
}

/* The last lines of a verifier log, at most VERIFIER_TAIL_MAX bytes, starting at a line. */
static const char *log_tail(const char *log)
{
	size_t len = strlen(log);
	const char *s;

	while (len > 0 && (log[len - 1] == '\n' || log[len - 1] == ' '))
		len--;
	if (len <= VERIFIER_TAIL_MAX)
		return log;
	s = log + len - VERIFIER_TAIL_MAX;
	while (*s && *s != '\n')
		s++;
	return *s ? s + 1 : log + len - VERIFIER_TAIL_MAX;
}

/* Under lockdown=confidentiality the kernel withholds the helpers that read kernel memory
 * (bpf_probe_read*, LOCKDOWN_BPF_READ_KERNEL), and the verifier then calls them unknown. libbpf
 * makes it murkier: its probe for bpf_probe_read_kernel fails too, so it rewrites the call to
 * the old bpf_probe_read, and the log names a helper the program never called. */
static bool lockdown_withheld_helper(const char *log)
{
	char buf[128];
	const char *level;

	if (!strstr(log, "bpf_probe_read") ||
	    (!strstr(log, "unknown func") && !strstr(log, "cannot use helper")))
		return false;
	level = kernel_lockdown_level(buf, sizeof(buf));
	return level && streq(level, "confidentiality");
}

static int load_error(struct loader *l, int r, struct error *err)
{
	for (size_t i = 0; i < l->n_progs; i++) {
		struct loader_prog *lp = &l->progs[i];
		const char *type = bpfd_prog_type_to_string(lp->type);
		size_t n;

		if (bpf_program__fd(lp->prog) >= 0)
			continue;
		n = strlen(lp->log_buf);
		while (n > 0 && lp->log_buf[n - 1] == '\n')
			lp->log_buf[--n] = 0;
		if ((r == -EACCES || r == -EINVAL) && n > 0 && lockdown_withheld_helper(lp->log_buf))
			return error_set(err, -EPERM,
					 "%s program '%s' cannot be loaded: kernel lockdown="
					 "confidentiality withholds the helpers that read kernel memory "
					 "(bpf_probe_read_kernel and friends; libbpf rewrote the call to "
					 "bpf_probe_read after its own probe was refused, so the verifier "
					 "names that one); boot with lockdown=integrity or none, see bpfctl "
					 "doctor. Verifier: %s",
					 type, lp->name, log_tail(lp->log_buf));
		if ((r == -EACCES || r == -EINVAL) && n > 0)
			return error_set(err, -EINVAL, "verifier rejected %s program '%s': %s",
					 type, lp->name, log_tail(lp->log_buf));
		if (r == -EPERM || r == -EACCES) {
			error_set(err, -EPERM,
				  "kernel refused to load %s program '%s': %s with %s verifier log",
				  type, lp->name, r == -EPERM ? "EPERM" : "EACCES",
				  n ? "a" : "an empty");
			diagnose_eperm(err, type);
			return err->code;
		}
		if (r == -E2BIG || r == -ENOSPC || r == -ENOMEM)
			return error_set(err, -ENOSPC,
					 "kernel could not load %s program '%s': %s (memory or "
					 "program size limit)",
					 type, lp->name, strerror(-r));
		if (r == -EOPNOTSUPP || r == -ENOTSUP)
			return error_set(err, -EOPNOTSUPP,
					 "kernel does not support %s program '%s': %s", type,
					 lp->name, strerror(-r));
		return error_set(err, r == -EINVAL ? -EINVAL : -EIO,
				 "loading %s program '%s' failed: %s%s%s", type, lp->name,
				 strerror(-r), n ? ": " : "", n ? log_tail(lp->log_buf) : "");
	}
	/* No program failed: a map did (creation or reuse). */
	return error_set(err, r == -EPERM ? -EPERM : -EINVAL, "loading %s failed: %s", l->path,
			 strerror(-r));
}

/* Follows map_owner_id to the program that owns the map directory. */
static int resolve_map_owner(struct core *c, uint32_t id, struct program_record *ret,
			     struct error *err)
{
	int r = store__get_program(c->store, id, ret);

	if (r == -ENOENT)
		return error_set(err, -ENOENT, "map_owner_id %u: no program with that id is "
					       "managed by bpfd", id);
	if (r < 0)
		return error_set(err, r, "map_owner_id %u: state store: %s", id, strerror(-r));
	return 0;
}

static int reuse_owner_maps(struct loader *l, const char *dir, uint32_t owner,
			    struct error *err)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, l->obj) {
		_cleanup_free_ char *path = NULL;
		_cleanup_close_ int fd = -EBADF;
		int r;

		/* Global data stays per program: only the owner's real maps are shared. */
		if (bpf_map__is_internal(map))
			continue;
		path = pin_path_map(dir, bpf_map__name(map));
		if (!path)
			return error_set(err, -ENOMEM, "out of memory");
		fd = bpf_obj_get(path);
		if (fd < 0)
			return error_set(err, errno == ENOENT ? -EINVAL : negative_errno(),
					 "map_owner_id %u has no map '%s' (%s: %m)", owner,
					 bpf_map__name(map), path);
		r = bpf_map__reuse_fd(map, fd);
		if (r < 0)
			return error_set(err, -EINVAL, "map '%s' of %s cannot reuse %s: %s",
					 bpf_map__name(map), l->path, path, strerror(-r));
	}
	return 0;
}

static int64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Undo for a failed core__load: every pin made so far. */
struct load_undo {
	char *paths[64];
	size_t n;
	char *maps_dir;
};

static void load_undo_run(struct load_undo *u)
{
	for (size_t i = 0; i < u->n; i++) {
		unlink(u->paths[i]);
		free(u->paths[i]);
	}
	if (u->maps_dir) {
		pins_remove_dir(u->maps_dir);
		free(u->maps_dir);
	}
	u->n = 0;
	u->maps_dir = NULL;
}

static int pin_maps(struct core *c, struct loader *l, const char *dir, struct error *err)
{
	struct bpf_map *map;
	int r;

	r = pins_mkdir(dir, 0750);
	if (r < 0)
		return error_set(err, r, "cannot create %s: %s", dir, strerror(-r));
	if (c->pin_gid != (gid_t)-1 && chown(dir, (uid_t)-1, c->pin_gid) < 0)
		return error_set(err, negative_errno(), "chown %s: %m", dir);
	bpf_object__for_each_map(map, l->obj) {
		_cleanup_free_ char *path = pin_path_map(dir, bpf_map__name(map));

		if (!path)
			return error_set(err, -ENOMEM, "out of memory");
		r = pins_pin_fd(c, bpf_map__fd(map), path, 0660);
		if (r < 0)
			return error_set(err, r, "cannot pin map %s: %s", path, strerror(-r));
	}
	return 0;
}

int core__load(struct core *c, struct loader *l_in, struct program_view **ret, size_t *ret_n,
	       struct error *err)
{
	_cleanup_(loader__freep) struct loader *l = l_in;
	_cleanup_(program_record__clear) struct program_record owner = {};
	struct load_undo undo = {};
	struct program_view *views = NULL;
	_cleanup_free_ char *maps_dir = NULL;
	uint32_t first_id = 0, map_owner = 0;
	int64_t created = now_usec();
	int r;

	if (l->n_progs > ELEMENTSOF(undo.paths))
		return error_set(err, -E2BIG, "too many programs in one load (%zu, limit %zu)",
				 l->n_progs, ELEMENTSOF(undo.paths));

	if (l->map_owner_id) {
		r = resolve_map_owner(c, l->map_owner_id, &owner, err);
		if (r < 0)
			return r;
		map_owner = owner.map_owner_id ? owner.map_owner_id : owner.id;
		maps_dir = strdup(owner.map_pin_path);
		if (!maps_dir)
			return error_set(err, -ENOMEM, "out of memory");
		r = reuse_owner_maps(l, maps_dir, l->map_owner_id, err);
		if (r < 0)
			return r;
	}

	for (size_t i = 0; i < l->n_progs; i++) {
		struct loader_prog *lp = &l->progs[i];

		if (lp->type != BPFD_PROG_FENTRY && lp->type != BPFD_PROG_FEXIT)
			continue;
		r = bpf_program__set_attach_target(lp->prog, 0, lp->attach_fn);
		if (r < 0)
			return error_set(err, -ENOENT,
					 "%s program '%s': kernel function '%s' not found in "
					 "kernel BTF: %s",
					 bpfd_prog_type_to_string(lp->type), lp->name,
					 lp->attach_fn, strerror(-r));
	}

	r = bpf_object__load(l->obj);
	if (r < 0)
		return load_error(l, r, err);

	views = calloc(l->n_progs, sizeof(*views));
	if (!views)
		return error_set(err, -ENOMEM, "out of memory");

	r = store__begin(c->store);
	if (r < 0) {
		free(views);
		return error_set(err, r, "state store: %s", strerror(-r));
	}
	for (size_t i = 0; i < l->n_progs; i++) {
		struct loader_prog *lp = &l->progs[i];
		struct bpf_prog_info info = {};
		uint32_t info_len = sizeof(info);
		struct program_record rec = {};
		char *pin;

		r = bpf_prog_get_info_by_fd(bpf_program__fd(lp->prog), &info, &info_len);
		if (r < 0) {
			error_set(err, -errno, "reading info of program '%s': %m", lp->name);
			goto fail;
		}
		if (i == 0)
			first_id = info.id;
		if (!maps_dir) {
			maps_dir = pin_path_maps_dir(c, first_id);
			if (!maps_dir) {
				error_set(err, -ENOMEM, "out of memory");
				goto fail;
			}
			undo.maps_dir = strdup(maps_dir);
			r = pin_maps(c, l, maps_dir, err);
			if (r < 0)
				goto fail;
		}
		pin = pin_path_program(c, info.id);
		if (!pin) {
			error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		undo.paths[undo.n++] = pin;
		r = pins_pin_fd(c, bpf_program__fd(lp->prog), pin, 0600);
		if (r < 0) {
			error_set(err, r, "cannot pin program '%s' at %s: %s", lp->name, pin,
				  strerror(-r));
			goto fail;
		}

		rec = (struct program_record){
			.id = info.id,
			.name = lp->name,
			.type = lp->type,
			.kernel_type = info.type,
			.path = l->path,
			.attach_fn = lp->attach_fn,
			.section = (char *)bpf_program__section_name(lp->prog),
			.pin_path = pin,
			.map_pin_path = maps_dir,
			/* The first program of a load owns the object's maps; the others
			 * share them like a map_owner_id load would. */
			.map_owner_id = map_owner ? map_owner : (i > 0 ? first_id : 0),
			.owner_uid = l->owner_uid,
			.uuid = l->uuid,
			.created_usec = created,
			.metadata = l->metadata,
			.n_metadata = l->n_metadata,
			.global_data = l->global_data,
			.n_global_data = l->n_global_data,
		};
		r = store__put_program(c->store, &rec);
		if (r < 0) {
			error_set(err, r, "state store: recording program %u: %s", info.id,
				  strerror(-r));
			goto fail;
		}
	}
	r = store__commit(c->store);
	if (r < 0) {
		error_set(err, r, "state store: %s", strerror(-r));
		goto fail_committed;
	}
	/* Committed: the pins stay. */
	for (size_t i = 0; i < undo.n; i++)
		free(undo.paths[i]);
	free(undo.maps_dir);

	for (size_t i = 0; i < l->n_progs; i++) {
		struct bpf_prog_info info = {};
		uint32_t info_len = sizeof(info);

		bpf_prog_get_info_by_fd(bpf_program__fd(l->progs[i].prog), &info, &info_len);
		views[i].kernel.id = info.id;
		r = core_fill_view(c, &views[i]);
		if (r < 0) {
			program_views_free(views, l->n_progs);
			return error_set(err, r, "reading back program %u: %s", info.id,
					 strerror(-r));
		}
		log_info("Loaded %s program '%s' from %s as id %u (owner uid %u)",
			 bpfd_prog_type_to_string(l->progs[i].type), l->progs[i].name, l->path,
			 info.id, (unsigned)l->owner_uid);
	}
	*ret = views;
	*ret_n = l->n_progs;
	return 0;

fail:
	store__rollback(c->store);
fail_committed:
	if (l->map_owner_id) {
		/* The shared directory is the owner's, not ours to remove. */
		free(undo.maps_dir);
		undo.maps_dir = NULL;
	}
	load_undo_run(&undo);
	free(views);
	return err->code ? err->code : -EIO;
}
