/* SPDX-License-Identifier: Apache-2.0 */
#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "macro.h"
#include "table.h"

#define LABEL_WIDTH 21

/* A small string builder over open_memstream: mem_open(), fprintf(), mem_close(). */
struct mem {
	char *s;
	size_t len;
	FILE *f;
};

static FILE *mem_open(struct mem *m)
{
	*m = (struct mem){};
	m->f = open_memstream(&m->s, &m->len);
	return m->f;
}

/* Returns the text ("-" when empty), malloc'd, or NULL. */
static char *mem_close(struct mem *m)
{
	if (!m->f)
		return NULL;
	if (fclose(m->f) != 0) {
		free(m->s);
		return NULL;
	}
	if (m->len == 0) {
		free(m->s);
		return strdup("-");
	}
	return m->s;
}

char *output_u32_list(const uint32_t *v, size_t n)
{
	struct mem m;

	if (!mem_open(&m))
		return NULL;
	for (size_t i = 0; i < n; i++)
		fprintf(m.f, "%s%" PRIu32, i ? ", " : "", v[i]);
	return mem_close(&m);
}

/* "k=v, k2=v2" of a map<string,string>, whichever message's MapEntry type it is. */
static char *string_map(size_t n, void *const *entries)
{
	struct mem m;

	if (!mem_open(&m))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const ProtobufCMessage *e = entries[i];
		const ProtobufCFieldDescriptor *kf = &e->descriptor->fields[0],
					       *vf = &e->descriptor->fields[1];
		const char *k = *(char *const *)((const char *)e + kf->offset),
			   *v = *(char *const *)((const char *)e + vf->offset);

		fprintf(m.f, "%s%s=%s", i ? ", " : "", k ? k : "", v ? v : "");
	}
	return mem_close(&m);
}

static char *bytes_map(size_t n, Bpfman__V1__ProgramInfo__GlobalDataEntry *const *e)
{
	struct mem m;

	if (!mem_open(&m))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *hex = NULL;

		if (convert_to_hex(e[i]->value.data, e[i]->value.len, &hex) < 0)
			break;
		fprintf(m.f, "%s%s=%s", i ? ", " : "", e[i]->key ? e[i]->key : "", hex);
	}
	return mem_close(&m);
}

static char *strv_join(char *const *v, size_t n)
{
	struct mem m;

	if (!mem_open(&m))
		return NULL;
	for (size_t i = 0; i < n; i++)
		fprintf(m.f, "%s%s", i ? ", " : "", v[i] ? v[i] : "");
	return mem_close(&m);
}

static char *kernel_type(uint32_t type)
{
	const char *name = convert_kernel_prog_type_name(type);
	char *s;

	if (asprintf(&s, "%s (%" PRIu32 ")", name ? name : "unknown", type) < 0)
		return NULL;
	return s;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

void output_program(FILE *f, const Bpfman__V1__ProgramInfo *info,
		    const Bpfman__V1__KernelProgramInfo *k)
{
	static const Bpfman__V1__KernelProgramInfo empty = BPFMAN__V1__KERNEL_PROGRAM_INFO__INIT;

	if (!k)
		k = &empty;
	fprintf(f, "Program %" PRIu32 "\n", k->id);

	if (info) {
		_cleanup_free_ char *globals = NULL, *metadata = NULL, *used_by = NULL,
				    *links = NULL;
		const Bpfman__V1__BytecodeLocation *b = info->bytecode;

		fputs(" bpfd:\n", f);
		kv_line(f, LABEL_WIDTH, "Name", info->name);
		if (b && b->location_case == BPFMAN__V1__BYTECODE_LOCATION__LOCATION_FILE)
			kv_line(f, LABEL_WIDTH, "Bytecode file", b->file);
		else if (b && b->location_case == BPFMAN__V1__BYTECODE_LOCATION__LOCATION_IMAGE &&
			 b->image)
			kv_line(f, LABEL_WIDTH, "Bytecode image", b->image->url);
		else
			kv_line(f, LABEL_WIDTH, "Bytecode", NULL);
		globals = bytes_map(info->n_global_data, info->global_data);
		kv_line(f, LABEL_WIDTH, "Global data", globals);
		metadata = string_map(info->n_metadata, (void *const *)info->metadata);
		kv_line(f, LABEL_WIDTH, "Metadata", metadata);
		kv_line(f, LABEL_WIDTH, "Map pin path", info->map_pin_path);
		if (info->has_map_owner_id)
			kv_linef(f, LABEL_WIDTH, "Map owner id", "%" PRIu32, info->map_owner_id);
		else
			kv_line(f, LABEL_WIDTH, "Map owner id", NULL);
		used_by = strv_join(info->map_used_by, info->n_map_used_by);
		kv_line(f, LABEL_WIDTH, "Maps used by", used_by);
		links = output_u32_list(info->links, info->n_links);
		kv_line(f, LABEL_WIDTH, "Links", links);
	} else
		fputs(" bpfd: not loaded by bpfd\n", f);

	{
		_cleanup_free_ char *type = kernel_type(k->program_type),
				    *maps = output_u32_list(k->map_ids, k->n_map_ids);

		/* A proto3 peer omits zeros, so an absent kernel field reads as its zero. */
		fputs(" Kernel:\n", f);
		kv_linef(f, LABEL_WIDTH, "ID", "%" PRIu32, k->id);
		kv_line(f, LABEL_WIDTH, "Name", k->name);
		kv_line(f, LABEL_WIDTH, "Type", type);
		kv_line(f, LABEL_WIDTH, "Loaded at", k->loaded_at);
		kv_line(f, LABEL_WIDTH, "Tag", k->tag);
		kv_line(f, LABEL_WIDTH, "GPL compatible", yes_no(k->gpl_compatible));
		kv_line(f, LABEL_WIDTH, "Map ids", maps);
		kv_linef(f, LABEL_WIDTH, "BTF id", "%" PRIu32, k->btf_id);
		kv_linef(f, LABEL_WIDTH, "Bytes translated", "%" PRIu32, k->bytes_xlated);
		kv_line(f, LABEL_WIDTH, "JITed", yes_no(k->jited));
		kv_linef(f, LABEL_WIDTH, "Bytes JITed", "%" PRIu32, k->bytes_jited);
		kv_linef(f, LABEL_WIDTH, "Bytes memlock", "%" PRIu32, k->bytes_memlock);
		kv_linef(f, LABEL_WIDTH, "Verified instructions", "%" PRIu32, k->verified_insns);
	}
}

int output_program_table(FILE *f, const Bpfman__V1__ListResponse *r)
{
	static const char *const headers[] = { "ID", "NAME", "TYPE", "LOADED AT", "LINKS",
					       "METADATA" };
	_cleanup_(table__freep) struct table *t = NULL;
	int ret;

	ret = table__new(headers, ELEMENTSOF(headers), &t);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < r->n_results; i++) {
		const Bpfman__V1__ListResponse__ListResult *res = r->results[i];
		const Bpfman__V1__ProgramInfo *info = res->info;
		const Bpfman__V1__KernelProgramInfo *k = res->kernel_info;
		_cleanup_free_ char *id = NULL, *type = NULL, *links = NULL, *metadata = NULL;
		const char *name, *type_name;

		if (asprintf(&id, "%" PRIu32, k ? k->id : 0) < 0)
			return -ENOMEM;
		type_name = k ? convert_kernel_prog_type_name(k->program_type) : NULL;
		if (type_name)
			type = strdup(type_name);
		else if (asprintf(&type, "%" PRIu32, k ? k->program_type : 0) < 0)
			type = NULL;
		if (!type)
			return -ENOMEM;
		/* bpfd's name is the whole function name; the kernel's is cut at 15 chars. */
		name = info && info->name ? info->name : k ? k->name : NULL;
		if (info) {
			links = output_u32_list(info->links, info->n_links);
			metadata = string_map(info->n_metadata, (void *const *)info->metadata);
			if (!links || !metadata)
				return -ENOMEM;
		}
		const char *row[] = { id, name, type, k ? k->loaded_at : NULL, links, metadata };

		ret = table__add_row(t, row);
		if (ret < 0)
			return ret;
	}
	table__print(t, f);
	return 0;
}

char *output_link_hook(const Bpfd__V1__LinkInfo *l)
{
	struct mem m;

	if (!mem_open(&m))
		return NULL;
	if (l->iface) {
		fputs(l->iface, m.f);
		if (l->direction)
			fprintf(m.f, "/%s", l->direction);
	} else if (l->tracepoint)
		fputs(l->tracepoint, m.f);
	else if (l->target) {
		fputs(l->target, m.f);
		if (l->fn_name)
			fprintf(m.f, ":%s", l->fn_name);
		if (l->has_offset && l->offset)
			fprintf(m.f, "+0x%" PRIx64, l->offset);
		if (l->has_pid)
			fprintf(m.f, " pid %" PRId32, l->pid);
	} else if (l->fn_name) {
		fputs(l->fn_name, m.f);
		if (l->has_offset && l->offset)
			fprintf(m.f, "+0x%" PRIx64, l->offset);
	}
	if (l->netns)
		fprintf(m.f, " netns %s", l->netns);
	return mem_close(&m);
}

/* "kretprobe" rather than "kprobe" when the link is a return probe. */
static char *link_type(const Bpfd__V1__LinkInfo *l)
{
	char *s;

	if (!l->attach_type)
		return strdup("-");
	if (l->has_retprobe && l->retprobe && (streq(l->attach_type, "kprobe") ||
					       streq(l->attach_type, "uprobe"))) {
		if (asprintf(&s, "%cretprobe", l->attach_type[0]) < 0)
			return NULL;
		return s;
	}
	return strdup(l->attach_type);
}

int output_link_table(FILE *f, const Bpfd__V1__ListLinksResponse *r)
{
	static const char *const headers[] = { "LINK", "PROGRAM", "TYPE", "HOOK", "PRIORITY",
					       "POSITION" };
	_cleanup_(table__freep) struct table *t = NULL;
	int ret;

	ret = table__new(headers, ELEMENTSOF(headers), &t);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < r->n_links; i++) {
		const Bpfd__V1__LinkInfo *l = r->links[i];
		_cleanup_free_ char *id = NULL, *prog = NULL, *type = NULL, *hook = NULL,
				    *prio = NULL, *pos = NULL;

		if (asprintf(&id, "%" PRIu32, l->link_id) < 0 ||
		    asprintf(&prog, "%" PRIu32, l->program_id) < 0)
			return -ENOMEM;
		if (l->has_priority && asprintf(&prio, "%" PRId32, l->priority) < 0)
			return -ENOMEM;
		if (l->has_position && asprintf(&pos, "%" PRId32, l->position) < 0)
			return -ENOMEM;
		type = link_type(l);
		hook = output_link_hook(l);
		if (!type || !hook)
			return -ENOMEM;
		const char *row[] = { id, prog, type, hook, prio, pos };

		ret = table__add_row(t, row);
		if (ret < 0)
			return ret;
	}
	table__print(t, f);
	return 0;
}

static char *proceed_on(const Bpfd__V1__LinkInfo *l)
{
	const struct cli_name *names = NULL;
	struct mem m;

	if (l->attach_type && streq(l->attach_type, "xdp"))
		names = convert_xdp_proceed_on;
	else if (l->attach_type && streq(l->attach_type, "tc"))
		names = convert_tc_proceed_on;
	if (!mem_open(&m))
		return NULL;
	for (size_t i = 0; i < l->n_proceed_on; i++) {
		const char *name = names ? convert_name_of(names, l->proceed_on[i]) : NULL;

		if (name)
			fprintf(m.f, "%s%s", i ? ", " : "", name);
		else
			fprintf(m.f, "%s%" PRId32, i ? ", " : "", l->proceed_on[i]);
	}
	return mem_close(&m);
}

void output_link(FILE *f, const Bpfd__V1__LinkInfo *l)
{
	_cleanup_free_ char *type = link_type(l), *metadata = NULL;

	fprintf(f, "Link %" PRIu32 "\n", l->link_id);
	kv_linef(f, LABEL_WIDTH, "Program", "%" PRIu32, l->program_id);
	kv_line(f, LABEL_WIDTH, "Type", type);
	if (l->iface)
		kv_line(f, LABEL_WIDTH, "Interface", l->iface);
	if (l->direction)
		kv_line(f, LABEL_WIDTH, "Direction", l->direction);
	if (l->netns)
		kv_line(f, LABEL_WIDTH, "Network namespace", l->netns);
	if (l->has_priority)
		kv_linef(f, LABEL_WIDTH, "Priority", "%" PRId32, l->priority);
	if (l->has_position)
		kv_linef(f, LABEL_WIDTH, "Position", "%" PRId32, l->position);
	if (l->n_proceed_on) {
		_cleanup_free_ char *p = proceed_on(l);

		kv_line(f, LABEL_WIDTH, "Proceed on", p);
	}
	if (l->tracepoint)
		kv_line(f, LABEL_WIDTH, "Tracepoint", l->tracepoint);
	if (l->target)
		kv_line(f, LABEL_WIDTH, "Target", l->target);
	if (l->fn_name)
		kv_line(f, LABEL_WIDTH, "Function", l->fn_name);
	if (l->has_offset)
		kv_linef(f, LABEL_WIDTH, "Offset", "0x%" PRIx64, l->offset);
	if (l->has_pid)
		kv_linef(f, LABEL_WIDTH, "Pid", "%" PRId32, l->pid);
	if (l->has_owner_uid)
		kv_linef(f, LABEL_WIDTH, "Owner uid", "%" PRIu32, l->owner_uid);
	if (l->has_kernel_link_id)
		kv_linef(f, LABEL_WIDTH, "Kernel link id", "%" PRIu32, l->kernel_link_id);
	if (l->pin_path)
		kv_line(f, LABEL_WIDTH, "Pin path", l->pin_path);
	metadata = string_map(l->n_metadata, (void *const *)l->metadata);
	kv_line(f, LABEL_WIDTH, "Metadata", metadata);
}

int output_version(FILE *f, const char *client_version, const Bpfd__V1__VersionResponse *v)
{
	static const char *const headers[] = { "FEATURE", "AVAILABLE", "DETAIL" };
	_cleanup_(table__freep) struct table *t = NULL;
	int r;

	kv_line(f, 13, "bpfctl", client_version);
	kv_line(f, 13, "bpfd", v->version);
	kv_line(f, 13, "Kernel", v->kernel_release);
	if (v->has_schema_version)
		kv_linef(f, 13, "State schema", "%" PRIu32, v->schema_version);
	if (!v->n_features)
		return 0;
	r = table__new(headers, ELEMENTSOF(headers), &t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < v->n_features; i++) {
		const Bpfd__V1__Feature *ft = v->features[i];
		const char *row[] = { ft->name, yes_no(ft->available), ft->detail };

		r = table__add_row(t, row);
		if (r < 0)
			return r;
	}
	fputc('\n', f);
	table__print(t, f);
	return 0;
}
