/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the bytes of a gRPC request message as they reach bpfd's request thread.
 * The first byte picks the RPC; the rest is decoded with that RPC's descriptor and, when it
 * decodes, taken through the same conversions the handlers use (attach info, metadata and
 * global data maps). Anything that crashes, leaks or reads out of bounds here could be sent
 * by any member of group bpfd.
 */
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "bpfd.pb-c.h"
#include "bpfman.pb-c.h"
#include "convert.h"

static const ProtobufCMessageDescriptor *const requests[] = {
	&bpfman__v1__load_request__descriptor,	  &bpfman__v1__unload_request__descriptor,
	&bpfman__v1__attach_request__descriptor,  &bpfman__v1__detach_request__descriptor,
	&bpfman__v1__list_request__descriptor,	  &bpfman__v1__get_request__descriptor,
	&bpfman__v1__pull_bytecode_request__descriptor, &bpfd__v1__version_request__descriptor,
	&bpfd__v1__list_links_request__descriptor, &bpfd__v1__get_link_request__descriptor,
};

static void convert(const ProtobufCMessage *m)
{
	struct arena a = {};
	struct error err = {};

	if (m->descriptor == &bpfman__v1__attach_request__descriptor) {
		const Bpfman__V1__AttachRequest *r = (const void *)m;
		struct link_record l;

		(void)attach_info_from_pb(&a, r->attach, &l, &err);
	} else if (m->descriptor == &bpfman__v1__load_request__descriptor) {
		const Bpfman__V1__LoadRequest *r = (const void *)m;

		(void)string_map_from_pb(&a, (void *const *)r->metadata, r->n_metadata);
	} else if (m->descriptor == &bpfman__v1__list_request__descriptor) {
		const Bpfman__V1__ListRequest *r = (const void *)m;

		(void)string_map_from_pb(&a, (void *const *)r->match_metadata, r->n_match_metadata);
	}
	arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ProtobufCMessage *m;

	if (size < 1)
		return 0;
	m = protobuf_c_message_unpack(requests[data[0] % (sizeof(requests) / sizeof(requests[0]))],
				      NULL, size - 1, data + 1);
	if (!m)
		return 0;
	convert(m);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
