/* SPDX-License-Identifier: Apache-2.0 */
/* List, Get and Unload: programs as the kernel and the store see them together. */
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"

void program_view__clear(struct program_view *v)
{
	program_record__clear(&v->record);
	kernel_prog_info__clear(&v->kernel);
	free(v->link_ids);
	free(v->map_used_by);
	*v = (struct program_view){};
}

void program_views_free(struct program_view *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		program_view__clear(&v[i]);
	free(v);
}

/* Fills bpfd's side of a view whose kernel.id is set: record, links, map users. */
static int fill_managed(struct core *c, struct program_view *v)
{
	_cleanup_free_ struct program_record *all = NULL;
	struct link_record *links = NULL;
	size_t n_all = 0, n_links = 0;
	int r;

	r = store__get_program(c->store, v->kernel.id, &v->record);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	v->managed = true;

	r = store__list_links(c->store, v->kernel.id, &links, &n_links);
	if (r < 0)
		return r;
	if (n_links) {
		v->link_ids = calloc(n_links, sizeof(uint32_t));
		if (!v->link_ids) {
			link_records_free(links, n_links);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n_links; i++)
			v->link_ids[i] = links[i].id;
		v->n_link_ids = n_links;
	}
	link_records_free(links, n_links);

	r = store__list_programs(c->store, &all, &n_all);
	if (r < 0)
		return r;
	v->map_used_by = calloc(n_all ? n_all : 1, sizeof(uint32_t));
	if (!v->map_used_by) {
		program_records_free(TAKE_PTR(all), n_all);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_all; i++)
		if (all[i].map_pin_path && v->record.map_pin_path &&
		    streq(all[i].map_pin_path, v->record.map_pin_path))
			v->map_used_by[v->n_map_used_by++] = all[i].id;
	program_records_free(TAKE_PTR(all), n_all);
	return 0;
}

int core_fill_view(struct core *c, struct program_view *v)
{
	uint32_t id = v->kernel.id;
	int r;

	r = kernel_prog_info_by_id(id, &v->kernel);
	if (r < 0)
		return r;
	return fill_managed(c, v);
}

static bool metadata_matches(const struct program_view *v, const struct list_filter *f)
{
	for (size_t i = 0; i < f->n_match_metadata; i++) {
		bool found = false;

		if (!v->managed)
			return false;
		for (size_t j = 0; j < v->record.n_metadata && !found; j++)
			found = streq(v->record.metadata[j].key, f->match_metadata[i].key) &&
				streq((char *)v->record.metadata[j].value,
				      (char *)f->match_metadata[i].value);
		if (!found)
			return false;
	}
	return true;
}

int core__list(struct core *c, const struct list_filter *f, struct program_view **ret,
	       size_t *ret_n, struct error *err)
{
	struct program_view *views = NULL;
	size_t n = 0, cap = 0;
	uint32_t id = 0;
	int r;

	for (;;) {
		struct program_view v = {};

		if (bpf_prog_get_next_id(id, &id) < 0) {
			if (errno == ENOENT)
				break;
			r = negative_errno();
			program_views_free(views, n);
			return error_set(err, r, "listing programs: bpf(BPF_PROG_GET_NEXT_ID): %s",
					 strerror(-r));
		}
		v.kernel.id = id;

		r = core_fill_view(c, &v);
		if (r == -ENOENT)
			continue; /* unloaded while we looked */
		if (r < 0) {
			program_view__clear(&v);
			program_views_free(views, n);
			return error_set(err, r, "reading program %u: %s", id, strerror(-r));
		}
		if ((f->managed_only && !v.managed) ||
		    (f->has_kernel_type && v.kernel.type != f->kernel_type) ||
		    !metadata_matches(&v, f)) {
			program_view__clear(&v);
			continue;
		}
		if (n == cap) {
			struct program_view *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(views, cap * sizeof(*views));
			if (!nv) {
				program_view__clear(&v);
				program_views_free(views, n);
				return error_set(err, -ENOMEM, "out of memory");
			}
			views = nv;
		}
		views[n++] = v;
	}
	*ret = views;
	*ret_n = n;
	return 0;
}

int core__get(struct core *c, uint32_t id, struct program_view *ret, struct error *err)
{
	struct program_view v = { .kernel.id = id };
	int r;

	if (id == 0)
		return error_set(err, -EINVAL, "id: program id missing (0)");
	r = core_fill_view(c, &v);
	if (r == -ENOENT) {
		program_view__clear(&v);
		return error_set(err, -ENOENT, "program %u not found", id);
	}
	if (r < 0) {
		program_view__clear(&v);
		return error_set(err, r, "reading program %u: %s", id, strerror(-r));
	}
	*ret = v;
	return 0;
}

int core__unload(struct core *c, uint32_t id, uid_t caller_uid, struct error *err)
{
	_cleanup_(program_record__clear) struct program_record rec = {};
	_cleanup_free_ struct program_record *all = NULL;
	struct link_record *links = NULL;
	size_t n_links = 0, n_all = 0;
	bool maps_in_use = false;
	int r;

	if (id == 0)
		return error_set(err, -EINVAL, "id: program id missing (0)");
	r = store__get_program(c->store, id, &rec);
	if (r == -ENOENT) {
		_cleanup_close_ int fd = bpf_prog_get_fd_by_id(id);

		return error_set(err, -ENOENT,
				 fd >= 0 ? "program %u is not managed by bpfd" :
					   "program %u not found",
				 id);
	}
	if (r < 0)
		return error_set(err, r, "state store: %s", strerror(-r));
	if (caller_uid != 0 && caller_uid != rec.owner_uid)
		return error_set(err, -EACCES, "program %u belongs to uid %u, not to uid %u", id,
				 (unsigned)rec.owner_uid, (unsigned)caller_uid);

	r = store__list_links(c->store, id, &links, &n_links);
	if (r < 0)
		return error_set(err, r, "state store: %s", strerror(-r));
	for (size_t i = 0; i < n_links; i++) {
		uint32_t link_id = links[i].id;

		r = core_detach_link(c, &links[i]);
		if (r < 0) {
			link_records_free(links, n_links);
			return error_set(err, r, "detaching link %u of program %u: %s", link_id, id,
					 strerror(-r));
		}
	}
	link_records_free(links, n_links);

	r = store__delete_program(c->store, id);
	if (r < 0)
		return error_set(err, r, "state store: deleting program %u: %s", id, strerror(-r));
	if (rec.pin_path && unlink(rec.pin_path) < 0 && errno != ENOENT)
		log_warning_errno(errno, "Cannot remove pin %s: %m", rec.pin_path);

	r = store__list_programs(c->store, &all, &n_all);
	if (r >= 0)
		for (size_t i = 0; i < n_all; i++)
			maps_in_use |= all[i].map_pin_path && rec.map_pin_path &&
				       streq(all[i].map_pin_path, rec.map_pin_path);
	program_records_free(TAKE_PTR(all), n_all);
	if (r >= 0 && !maps_in_use && rec.map_pin_path) {
		r = pins_remove_dir(rec.map_pin_path);
		if (r < 0)
			log_warning_errno(r, "Cannot remove map pins in %s: %m", rec.map_pin_path);
	}
	log_info("Unloaded program %u ('%s') for uid %u", id, rec.name, (unsigned)caller_uid);
	return 0;
}
