/* SPDX-License-Identifier: Apache-2.0 */
#include "convert.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "macro.h"

const struct cli_name convert_xdp_proceed_on[] = {
	{ "aborted", 0 }, { "drop", 1 },     { "pass", 2 },
	{ "tx", 3 },	  { "redirect", 4 }, { "dispatcher_return", 31 },
	{ NULL },
};

const struct cli_name convert_tc_proceed_on[] = {
	{ "unspec", -1 },  { "ok", 0 },	      { "reclassify", 1 }, { "shot", 2 },
	{ "pipe", 3 },	   { "stolen", 4 },   { "queued", 5 },	   { "repeat", 6 },
	{ "redirect", 7 }, { "trap", 8 },     { "dispatcher_return", 30 },
	{ NULL },
};

const struct cli_name convert_program_types[] = {
	{ "xdp", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__XDP },
	{ "tc", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__TC },
	{ "tcx", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__TCX },
	{ "tracepoint", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__TRACEPOINT },
	{ "kprobe", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__KPROBE },
	{ "uprobe", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__UPROBE },
	{ "fentry", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__FENTRY },
	{ "fexit", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__FEXIT },
	{ "lsm", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__LSM },
	{ NULL },
};

const struct cli_name convert_directions[] = {
	{ "ingress", 0 },
	{ "egress", 1 },
	{ NULL },
};

/* BytecodeImage.image_pull_policy, spelled as bpfman's CLI and Kubernetes spell it. */
const struct cli_name convert_pull_policies[] = {
	{ "Always", 0 },
	{ "IfNotPresent", 1 },
	{ "Never", 2 },
	{ NULL },
};

const struct cli_name convert_kernel_prog_type_aliases[] = {
	{ "tc", BPF_PROG_TYPE_SCHED_CLS },   { "tcx", BPF_PROG_TYPE_SCHED_CLS },
	{ "uprobe", BPF_PROG_TYPE_KPROBE },  { "fentry", BPF_PROG_TYPE_TRACING },
	{ "fexit", BPF_PROG_TYPE_TRACING },  { NULL },
};

/* Shared by the three number parsers: strtoull with the checks it lacks. */
static int parse_unsigned(const char *s, unsigned long long max, unsigned long long *ret)
{
	unsigned long long v;
	const char *digits = s;
	char *end;
	int base = 10;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		digits = s + 2;
	}
	/* strtoull() would skip blanks, accept a sign and a second "0x"; check every digit. */
	if (!*digits)
		return -EINVAL;
	for (const char *p = digits; *p; p++)
		if (!(base == 16 ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p)))
			return -EINVAL;
	errno = 0;
	v = strtoull(digits, &end, base);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int convert_u32(const char *s, uint32_t *ret)
{
	unsigned long long v;
	int r = parse_unsigned(s, UINT32_MAX, &v);

	if (r < 0)
		return r;
	*ret = (uint32_t)v;
	return 0;
}

int convert_u64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	int r = parse_unsigned(s, UINT64_MAX, &v);

	if (r < 0)
		return r;
	*ret = (uint64_t)v;
	return 0;
}

int convert_i32(const char *s, int32_t *ret)
{
	unsigned long long v;
	bool neg = false;
	int r;

	if (!s)
		return -EINVAL;
	if (*s == '-') {
		neg = true;
		s++;
	}
	r = parse_unsigned(s, (unsigned long long)INT32_MAX + 1, &v);
	if (r < 0)
		return r;
	if (!neg && v > INT32_MAX)
		return -ERANGE;
	*ret = neg ? (int32_t)(-(long long)v) : (int32_t)v;
	return 0;
}

const struct cli_name *convert_name_lookup(const struct cli_name *names, const char *s)
{
	for (const struct cli_name *n = names; n->name; n++)
		if (streq(n->name, s))
			return n;
	return NULL;
}

const char *convert_name_of(const struct cli_name *names, int32_t value)
{
	for (const struct cli_name *n = names; n->name; n++)
		if (n->value == value)
			return n->name;
	return NULL;
}

int convert_name(const struct cli_name *names, bool numbers, const char *s, int32_t *ret)
{
	const struct cli_name *n = convert_name_lookup(names, s);

	if (n) {
		*ret = n->value;
		return 0;
	}
	if (!numbers)
		return -EINVAL;
	return convert_i32(s, ret);
}

int convert_hex(const char *s, uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = strlen(s);

	/* No variable has size 0, so an empty value can only be a mistake. */
	if (len == 0 || len % 2)
		return -EINVAL;
	buf = malloc(len / 2);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len / 2;
	return 0;
}

int convert_to_hex(const uint8_t *data, size_t len, char **ret)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(len * 2 + 1);

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		s[2 * i] = digits[data[i] >> 4];
		s[2 * i + 1] = digits[data[i] & 0xf];
	}
	s[len * 2] = 0;
	*ret = s;
	return 0;
}

int convert_kv(const char *s, char **ret_key, char **ret_value)
{
	_cleanup_free_ char *key = NULL, *value = NULL;
	const char *eq = strchr(s, '=');

	if (!eq || eq == s)
		return -EINVAL;
	key = strndup(s, eq - s);
	value = strdup(eq + 1);
	if (!key || !value)
		return -ENOMEM;
	*ret_key = TAKE_PTR(key);
	*ret_value = TAKE_PTR(value);
	return 0;
}

const char *convert_kernel_prog_type_name(uint32_t type)
{
	if (type > INT_MAX)
		return NULL;
	return libbpf_bpf_prog_type_str((enum bpf_prog_type)type);
}

int convert_kernel_prog_type(const char *s, uint32_t *ret)
{
	const struct cli_name *alias;
	const char *name;

	/* libbpf's table is dense from 0 (unspec) and ends with NULL past its last type. */
	for (uint32_t t = 0; (name = convert_kernel_prog_type_name(t)); t++)
		if (streq(name, s)) {
			*ret = t;
			return 0;
		}
	alias = convert_name_lookup(convert_kernel_prog_type_aliases, s);
	if (alias) {
		*ret = (uint32_t)alias->value;
		return 0;
	}
	return convert_u32(s, ret);
}

void *pb_new(const ProtobufCMessageDescriptor *d)
{
	void *m = calloc(1, d->sizeof_message);

	if (m)
		protobuf_c_message_init(d, m);
	return m;
}

int convert_program_spec(const char *s, Bpfman__V1__LoadInfo **ret, const char **ret_why)
{
	_cleanup_pb_ Bpfman__V1__LoadInfo *info = NULL;
	const char *why = NULL, *c1, *c2, *fn = NULL;
	int32_t type;

	c1 = strchr(s, ':');
	if (!c1) {
		why = "expected TYPE:FUNC[:ATTACH_FN]";
		goto invalid;
	}
	c2 = strchr(c1 + 1, ':');
	{
		_cleanup_free_ char *type_name = strndup(s, c1 - s);

		if (!type_name)
			return -ENOMEM;
		if (convert_name(convert_program_types, false, type_name, &type) < 0) {
			why = "unknown program type (expected xdp, tc, tcx, tracepoint, kprobe, "
			      "uprobe, fentry, fexit or lsm)";
			goto invalid;
		}
	}
	if ((c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1)) == 0) {
		why = "empty function name";
		goto invalid;
	}
	if (c2) {
		fn = c2 + 1;
		if (!*fn) {
			why = "empty ATTACH_FN";
			goto invalid;
		}
	}
	switch (type) {
	case BPFMAN__V1__BPFMAN_PROGRAM_TYPE__FENTRY:
	case BPFMAN__V1__BPFMAN_PROGRAM_TYPE__FEXIT:
		if (!fn) {
			why = "fentry and fexit need the kernel function: TYPE:FUNC:ATTACH_FN";
			goto invalid;
		}
		break;
	case BPFMAN__V1__BPFMAN_PROGRAM_TYPE__LSM:
		if (!fn) {
			why = "lsm needs the hook: lsm:FUNC:HOOK";
			goto invalid;
		}
		break;
	default:
		if (fn) {
			why = "ATTACH_FN is only for fentry, fexit and lsm";
			goto invalid;
		}
	}

	info = pb_new(&bpfman__v1__load_info__descriptor);
	if (!info)
		return -ENOMEM;
	info->name = strndup(c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1));
	if (!info->name)
		return -ENOMEM;
	info->has_program_type = true;
	info->program_type = (Bpfman__V1__BpfmanProgramType)type;
	if (fn) {
		Bpfman__V1__ProgSpecificInfo *psi =
			pb_new(&bpfman__v1__prog_specific_info__descriptor);

		if (!psi)
			return -ENOMEM;
		info->info = psi;
		if (type == BPFMAN__V1__BPFMAN_PROGRAM_TYPE__LSM) {
			Bpfman__V1__LsmLoadInfo *l = pb_new(&bpfman__v1__lsm_load_info__descriptor);

			if (!l)
				return -ENOMEM;
			psi->info_case = BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_LSM_LOAD_INFO;
			psi->lsm_load_info = l;
			l->hook_name = strdup(fn);
			if (!l->hook_name)
				return -ENOMEM;
		} else if (type == BPFMAN__V1__BPFMAN_PROGRAM_TYPE__FENTRY) {
			Bpfman__V1__FentryLoadInfo *f =
				pb_new(&bpfman__v1__fentry_load_info__descriptor);

			if (!f)
				return -ENOMEM;
			psi->info_case = BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_FENTRY_LOAD_INFO;
			psi->fentry_load_info = f;
			f->fn_name = strdup(fn);
			if (!f->fn_name)
				return -ENOMEM;
		} else {
			Bpfman__V1__FexitLoadInfo *f =
				pb_new(&bpfman__v1__fexit_load_info__descriptor);

			if (!f)
				return -ENOMEM;
			psi->info_case = BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_FEXIT_LOAD_INFO;
			psi->fexit_load_info = f;
			f->fn_name = strdup(fn);
			if (!f->fn_name)
				return -ENOMEM;
		}
	}
	*ret = TAKE_PTR(info);
	return 0;

invalid:
	if (ret_why)
		*ret_why = why;
	return -EINVAL;
}

int pb_map_add(ProtobufCMessage *msg, const char *field, const char *key, const void *value,
	       size_t value_len)
{
	const ProtobufCFieldDescriptor *f, *kf, *vf;
	const ProtobufCMessageDescriptor *ed;
	_cleanup_pb_ ProtobufCMessage *entry = NULL;
	ProtobufCMessage ***array, **grown;
	size_t *n;

	f = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, field);
	if (!f || f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return -EINVAL;
	ed = f->descriptor;
	kf = protobuf_c_message_descriptor_get_field(ed, 1);
	vf = protobuf_c_message_descriptor_get_field(ed, 2);
	if (!kf || !vf || kf->type != PROTOBUF_C_TYPE_STRING)
		return -EINVAL;

	entry = pb_new(ed);
	if (!entry)
		return -ENOMEM;
	char **k = (char **)((char *)entry + kf->offset);
	*k = strdup(key);
	if (!*k)
		return -ENOMEM;
	if (vf->type == PROTOBUF_C_TYPE_STRING) {
		char **v = (char **)((char *)entry + vf->offset);

		*v = strdup(value);
		if (!*v)
			return -ENOMEM;
	} else if (vf->type == PROTOBUF_C_TYPE_BYTES) {
		ProtobufCBinaryData *v = (ProtobufCBinaryData *)((char *)entry + vf->offset);

		v->data = malloc(value_len ? value_len : 1);
		if (!v->data)
			return -ENOMEM;
		memcpy(v->data, value, value_len);
		v->len = value_len;
		if (vf->quantifier_offset)
			*(protobuf_c_boolean *)((char *)entry + vf->quantifier_offset) = true;
	} else
		return -EINVAL;

	n = (size_t *)((char *)msg + f->quantifier_offset);
	array = (ProtobufCMessage ***)((char *)msg + f->offset);
	grown = realloc(*array, (*n + 1) * sizeof(**array));
	if (!grown)
		return -ENOMEM;
	*array = grown;
	grown[(*n)++] = TAKE_PTR(entry);
	return 0;
}
