/* SPDX-License-Identifier: Apache-2.0 */
#include "convert.h"

#include <string.h>

#include "macro.h"

/* The common shape of protobuf-c's map<string, string> entries. */
struct string_entry {
	ProtobufCMessage base;
	char *key;
	char *value;
};

struct kv_pair *string_map_from_pb(struct arena *a, void *const *entries, size_t n)
{
	struct kv_pair *kv = arena_array(a, struct kv_pair, n);

	if (!kv)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct string_entry *e = entries[i];

		kv[i].key = e->key ? e->key : (char *)"";
		kv[i].value = (uint8_t *)(e->value ? e->value : "");
		kv[i].value_len = strlen((char *)kv[i].value);
	}
	return kv;
}

Bpfman__V1__KernelProgramInfo *kernel_info_to_pb(struct arena *a, const struct kernel_prog_info *k)
{
	Bpfman__V1__KernelProgramInfo *m = arena_new(a, Bpfman__V1__KernelProgramInfo);

	if (!m)
		return NULL;
	bpfman__v1__kernel_program_info__init(m);
	m->has_id = true;
	m->id = k->id;
	m->name = arena_strdup(a, k->name);
	m->has_program_type = true;
	m->program_type = k->type;
	m->loaded_at = arena_strdup(a, k->loaded_at);
	m->tag = arena_strdup(a, k->tag);
	m->has_gpl_compatible = true;
	m->gpl_compatible = k->gpl_compatible;
	m->n_map_ids = k->n_map_ids;
	m->map_ids = k->map_ids;
	m->has_btf_id = true;
	m->btf_id = k->btf_id;
	m->has_bytes_xlated = true;
	m->bytes_xlated = k->bytes_xlated;
	m->has_jited = true;
	m->jited = k->jited;
	m->has_bytes_jited = true;
	m->bytes_jited = k->bytes_jited;
	m->has_bytes_memlock = true;
	m->bytes_memlock = k->bytes_memlock;
	m->has_verified_insns = true;
	m->verified_insns = k->verified_insns;
	return m;
}

Bpfman__V1__ProgramInfo *program_info_to_pb(struct arena *a, const struct program_view *v)
{
	const struct program_record *r = &v->record;
	Bpfman__V1__ProgramInfo *m = arena_new(a, Bpfman__V1__ProgramInfo);
	Bpfman__V1__BytecodeLocation *loc = arena_new(a, Bpfman__V1__BytecodeLocation);

	if (!m || !loc)
		return NULL;
	bpfman__v1__program_info__init(m);
	bpfman__v1__bytecode_location__init(loc);
	m->name = r->name;
	loc->location_case = BPFMAN__V1__BYTECODE_LOCATION__LOCATION_FILE;
	loc->file = r->path;
	m->bytecode = loc;
	m->n_links = v->n_link_ids;
	m->links = v->link_ids;
	if (r->map_owner_id) {
		m->has_map_owner_id = true;
		m->map_owner_id = r->map_owner_id;
	}
	m->map_pin_path = r->map_pin_path;
	m->map_used_by = arena_array(a, char *, v->n_map_used_by);
	for (size_t i = 0; m->map_used_by && i < v->n_map_used_by; i++)
		m->map_used_by[i] = arena_printf(a, "%u", v->map_used_by[i]);
	m->n_map_used_by = v->n_map_used_by;

	m->metadata = arena_array(a, Bpfman__V1__ProgramInfo__MetadataEntry *, r->n_metadata);
	for (size_t i = 0; m->metadata && i < r->n_metadata; i++) {
		Bpfman__V1__ProgramInfo__MetadataEntry *e =
			arena_new(a, Bpfman__V1__ProgramInfo__MetadataEntry);

		if (!e)
			return NULL;
		bpfman__v1__program_info__metadata_entry__init(e);
		e->key = r->metadata[i].key;
		e->value = (char *)r->metadata[i].value;
		m->metadata[m->n_metadata++] = e;
	}
	m->global_data =
		arena_array(a, Bpfman__V1__ProgramInfo__GlobalDataEntry *, r->n_global_data);
	for (size_t i = 0; m->global_data && i < r->n_global_data; i++) {
		Bpfman__V1__ProgramInfo__GlobalDataEntry *e =
			arena_new(a, Bpfman__V1__ProgramInfo__GlobalDataEntry);

		if (!e)
			return NULL;
		bpfman__v1__program_info__global_data_entry__init(e);
		e->key = r->global_data[i].key;
		e->has_value = true;
		e->value.data = r->global_data[i].value;
		e->value.len = r->global_data[i].value_len;
		m->global_data[m->n_global_data++] = e;
	}
	return a->failed ? NULL : m;
}

Bpfd__V1__LinkInfo *link_info_to_pb(struct arena *a, const struct link_view *v)
{
	const struct link_record *l = &v->record;
	Bpfd__V1__LinkInfo *m = arena_new(a, Bpfd__V1__LinkInfo);

	if (!m)
		return NULL;
	bpfd__v1__link_info__init(m);
	m->has_link_id = true;
	m->link_id = l->id;
	m->has_program_id = true;
	m->program_id = l->prog_id;
	m->attach_type = (char *)bpfd_prog_type_to_string(l->type);
	m->has_kernel_link_id = true;
	m->kernel_link_id = l->kernel_link_id;
	m->has_owner_uid = true;
	m->owner_uid = l->owner_uid;
	m->iface = l->iface;
	m->direction = l->direction;
	if (l->priority) {
		m->has_priority = true;
		m->priority = l->priority;
	}
	if (v->position >= 0) {
		m->has_position = true;
		m->position = v->position;
	}
	m->n_proceed_on = l->n_proceed_on;
	m->proceed_on = l->proceed_on;
	m->netns = l->netns;
	m->tracepoint = l->tracepoint;
	m->fn_name = l->fn_name;
	if (l->type == BPFD_PROG_KPROBE || l->type == BPFD_PROG_UPROBE) {
		m->has_offset = true;
		m->offset = l->offset;
		m->has_retprobe = true;
		m->retprobe = l->retprobe;
	}
	m->target = l->target;
	if (l->pid) {
		m->has_pid = true;
		m->pid = l->pid;
	}
	m->pin_path = l->pin_path;
	m->metadata = arena_array(a, Bpfd__V1__LinkInfo__MetadataEntry *, l->n_metadata);
	for (size_t i = 0; m->metadata && i < l->n_metadata; i++) {
		Bpfd__V1__LinkInfo__MetadataEntry *e = arena_new(a, Bpfd__V1__LinkInfo__MetadataEntry);

		if (!e)
			return NULL;
		bpfd__v1__link_info__metadata_entry__init(e);
		e->key = l->metadata[i].key;
		e->value = (char *)l->metadata[i].value;
		m->metadata[m->n_metadata++] = e;
	}
	return a->failed ? NULL : m;
}

static int proceed_on_from_pb(const int32_t *v, size_t n, struct link_record *ret)
{
	ret->proceed_on = (int32_t *)v;
	ret->n_proceed_on = n;
	return 0;
}

int attach_info_from_pb(struct arena *a, const Bpfman__V1__AttachInfo *info,
			struct link_record *ret, struct error *err)
{
	struct link_record l = {};

	if (!info)
		return error_set(err, -EINVAL, "attach: attach info missing");

#define TAKE_METADATA(m)                                                                           \
	do {                                                                                       \
		l.metadata = string_map_from_pb(a, (void *const *)(m)->metadata,                   \
						(m)->n_metadata);                                  \
		l.n_metadata = (m)->n_metadata;                                                    \
	} while (0)

	switch (info->info_case) {
	case BPFMAN__V1__ATTACH_INFO__INFO_XDP_ATTACH_INFO: {
		const Bpfman__V1__XDPAttachInfo *x = info->xdp_attach_info;

		l.type = BPFD_PROG_XDP;
		l.priority = x->has_priority ? x->priority : 0;
		l.iface = x->iface;
		l.netns = x->netns && x->netns[0] ? x->netns : NULL;
		proceed_on_from_pb(x->proceed_on, x->n_proceed_on, &l);
		TAKE_METADATA(x);
		break;
	}
	case BPFMAN__V1__ATTACH_INFO__INFO_TC_ATTACH_INFO: {
		const Bpfman__V1__TCAttachInfo *t = info->tc_attach_info;

		l.type = BPFD_PROG_TC;
		l.priority = t->has_priority ? t->priority : 0;
		l.iface = t->iface;
		l.direction = t->direction;
		l.netns = t->netns && t->netns[0] ? t->netns : NULL;
		proceed_on_from_pb(t->proceed_on, t->n_proceed_on, &l);
		TAKE_METADATA(t);
		break;
	}
	case BPFMAN__V1__ATTACH_INFO__INFO_TCX_ATTACH_INFO: {
		const Bpfman__V1__TCXAttachInfo *t = info->tcx_attach_info;

		l.type = BPFD_PROG_TCX;
		l.priority = t->has_priority ? t->priority : 0;
		l.iface = t->iface;
		l.direction = t->direction;
		l.netns = t->netns && t->netns[0] ? t->netns : NULL;
		TAKE_METADATA(t);
		break;
	}
	case BPFMAN__V1__ATTACH_INFO__INFO_TRACEPOINT_ATTACH_INFO:
		l.type = BPFD_PROG_TRACEPOINT;
		l.tracepoint = info->tracepoint_attach_info->tracepoint;
		TAKE_METADATA(info->tracepoint_attach_info);
		break;
	case BPFMAN__V1__ATTACH_INFO__INFO_KPROBE_ATTACH_INFO: {
		const Bpfman__V1__KprobeAttachInfo *k = info->kprobe_attach_info;

		if (k->has_container_pid && k->container_pid)
			return error_set(err, -EPROTONOSUPPORT,
					 "kprobe container_pid is not supported by this build");
		l.type = BPFD_PROG_KPROBE;
		l.fn_name = k->fn_name;
		l.offset = k->has_offset ? k->offset : 0;
		TAKE_METADATA(k);
		break;
	}
	case BPFMAN__V1__ATTACH_INFO__INFO_UPROBE_ATTACH_INFO: {
		const Bpfman__V1__UprobeAttachInfo *u = info->uprobe_attach_info;

		if (u->has_container_pid && u->container_pid)
			return error_set(err, -EPROTONOSUPPORT,
					 "uprobe container_pid is not supported by this build");
		l.type = BPFD_PROG_UPROBE;
		l.fn_name = u->fn_name && u->fn_name[0] ? u->fn_name : NULL;
		l.offset = u->has_offset ? u->offset : 0;
		l.target = u->target;
		l.pid = u->has_pid ? u->pid : 0;
		TAKE_METADATA(u);
		break;
	}
	case BPFMAN__V1__ATTACH_INFO__INFO_FENTRY_ATTACH_INFO:
		l.type = BPFD_PROG_FENTRY;
		TAKE_METADATA(info->fentry_attach_info);
		break;
	case BPFMAN__V1__ATTACH_INFO__INFO_FEXIT_ATTACH_INFO:
		l.type = BPFD_PROG_FEXIT;
		TAKE_METADATA(info->fexit_attach_info);
		break;
	case BPFMAN__V1__ATTACH_INFO__INFO_LSM_ATTACH_INFO:
		l.type = BPFD_PROG_LSM;
		TAKE_METADATA(info->lsm_attach_info);
		break;
	default:
		return error_set(err, -EINVAL, "attach: no attach type given (attach.info unset)");
	}
#undef TAKE_METADATA
	if (a->failed)
		return error_set(err, -ENOMEM, "out of memory");
	*ret = l;
	return 0;
}
