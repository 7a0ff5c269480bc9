/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "macro.h"

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or 0 when the byte at p does not start one. */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

json_t *json_string_lossy(const char *s)
{
	_cleanup_free_ char *fixed = NULL;
	const unsigned char *p;
	size_t len, o = 0;

	if (!s)
		return json_string("");
	len = strlen(s);
	for (p = (const unsigned char *)s; *p;) {
		size_t n = utf8_len(p);

		if (!n)
			break;
		p += n;
	}
	if (!*p)
		return json_stringn(s, len);

	/* Each bad byte becomes U+FFFD (3 bytes). */
	fixed = malloc(len * 3 + 1);
	if (!fixed)
		return NULL;
	for (p = (const unsigned char *)s; *p;) {
		size_t n = utf8_len(p);

		if (n) {
			memcpy(fixed + o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	return json_stringn(fixed, o);
}

static json_t *json_hex(const ProtobufCBinaryData *b)
{
	_cleanup_free_ char *hex = NULL;

	if (convert_to_hex(b->data, b->len, &hex) < 0)
		return NULL;
	return json_string(hex);
}

static json_t *json_u64(uint64_t v)
{
	if (v > INT64_MAX)
		return json_real((double)v);
	return json_integer((json_int_t)v);
}

static size_t element_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default: /* int32, sint32, sfixed32, uint32, fixed32, enum */
		return 4;
	}
}

/* One value of field f stored at p. */
static json_t *json_value(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_integer(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return json_u64(*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return json_real(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_real(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, v);

		return ev ? json_string(ev->name) : json_integer(v);
	}
	case PROTOBUF_C_TYPE_STRING:
		return json_string_lossy(*(char *const *)p);
	case PROTOBUF_C_TYPE_BYTES:
		return json_hex(p);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;

		return m ? json_from_pb(m) : json_object();
	}
	}
	return NULL;
}

/*
 * protobuf-c has no flag for map fields: protoc turns map<K,V> name into a repeated nested
 * message NameEntry { K key = 1; V value = 2; }, which is what we recognize.
 */
static bool is_map(const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *d = f->descriptor;
	size_t len;

	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE || !d)
		return false;
	if (d->n_fields != 2 || d->fields[0].id != 1 || d->fields[1].id != 2 ||
	    !streq(d->fields[0].name, "key") || !streq(d->fields[1].name, "value"))
		return false;
	len = strlen(d->name);
	return len > 5 && streq(d->name + len - 5, "Entry");
}

/* The text of a map key (JSON keys are strings, whatever the .proto key type). */
static char *map_key(const ProtobufCFieldDescriptor *kf, const void *p)
{
	_cleanup_json_ json_t *v = NULL;
	char *s = NULL;

	if (kf->type == PROTOBUF_C_TYPE_STRING)
		return strdup(*(char *const *)p ? *(char *const *)p : "");
	v = json_value(kf, p);
	if (!v)
		return NULL;
	if (json_is_string(v))
		return strdup(json_string_value(v));
	s = json_dumps(v, JSON_ENCODE_ANY);
	return s;
}

static json_t *json_map(const ProtobufCFieldDescriptor *f, size_t n,
			ProtobufCMessage *const *entries)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
	_cleanup_json_ json_t *o = json_object();

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *e = (const char *)entries[i];
		_cleanup_free_ char *key = map_key(kf, e + kf->offset);
		json_t *v;

		if (!key)
			return NULL;
		/* A proto3 peer omits a zero value; it is still there, as the type's zero. */
		if (vf->quantifier_offset &&
		    !*(const protobuf_c_boolean *)(e + vf->quantifier_offset) &&
		    vf->type != PROTOBUF_C_TYPE_MESSAGE)
			v = vf->type == PROTOBUF_C_TYPE_BYTES || vf->type == PROTOBUF_C_TYPE_STRING
				    ? json_string("")
				    : json_value(vf, e + vf->offset);
		else
			v = json_value(vf, e + vf->offset);
		if (!v || json_object_set_new(o, key, v) < 0)
			return NULL;
	}
	return TAKE_PTR(o);
}

json_t *json_from_pb(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	_cleanup_json_ json_t *o = json_object();
	const char *base = (const char *)msg;

	if (!o)
		return NULL;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *p = base + f->offset;
		json_t *v = NULL;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *array = *(const char *const *)p;

			if (is_map(f))
				v = json_map(f, n, (ProtobufCMessage *const *)array);
			else {
				v = json_array();
				size_t size = element_size(f->type);

				for (size_t j = 0; v && j < n; j++) {
					json_t *e = json_value(f, array + j * size);

					if (!e || json_array_append_new(v, e) < 0) {
						json_decref(v);
						v = NULL;
					}
				}
			}
		} else {
			if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
				if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
					continue;
			} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset) {
				if (!*(const protobuf_c_boolean *)(base + f->quantifier_offset))
					continue;
			}
			if ((f->type == PROTOBUF_C_TYPE_STRING ||
			     f->type == PROTOBUF_C_TYPE_MESSAGE) &&
			    !*(void *const *)p)
				continue;
			v = json_value(f, p);
		}
		if (!v || json_object_set_new(o, f->name, v) < 0)
			return NULL;
	}
	return TAKE_PTR(o);
}

json_t *json_error(int code, const char *status, const char *message)
{
	_cleanup_json_ json_t *e = NULL;

	e = json_pack("{s:s, s:i, s:o*}", "status", status, "code", code, "message",
		      json_string_lossy(message ? message : ""));
	if (!e)
		return NULL;
	return json_pack("{s:O}", "error", e);
}

int json_print(FILE *f, const json_t *j)
{
	if (json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0)
		return -EIO;
	if (fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}
