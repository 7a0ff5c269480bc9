/* SPDX-License-Identifier: Apache-2.0 */
/* bpfctl --json: the generic protobuf-c -> JSON renderer (src/cli/json.c) on hand-built messages. */
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#include "bpfd.pb-c.h"
#include "bpfman.pb-c.h"
#include "convert.h"
#include "json.h"
#include "macro.h"
#include "tests.h"

/* The compact rendering of msg, as bpfctl prints it (without the newline). */
static char *render(const void *msg)
{
	_cleanup_json_ json_t *j = json_from_pb(msg);

	if (!j)
		return NULL;
	return json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

/* Packs and unpacks msg: what bpfctl renders is always an unpacked message. */
static ProtobufCMessage *round_trip(const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	_cleanup_free_ uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		return NULL;
	protobuf_c_message_pack(msg, buf);
	return protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
}

TEST(empty_messages_are_empty_objects)
{
	Bpfman__V1__DetachResponse d = BPFMAN__V1__DETACH_RESPONSE__INIT;
	Bpfman__V1__UnloadResponse u = BPFMAN__V1__UNLOAD_RESPONSE__INIT;
	_cleanup_free_ char *a = render(&d), *b = render(&u);

	ASSERT_STR_EQ(a, "{}");
	ASSERT_STR_EQ(b, "{}");
}

TEST(has_flags_decide_presence_of_scalars)
{
	Bpfman__V1__KernelProgramInfo k = BPFMAN__V1__KERNEL_PROGRAM_INFO__INIT;
	_cleanup_free_ char *none = NULL, *some = NULL;

	k.id = 5; /* has_id not set: absent */
	k.gpl_compatible = true;
	none = render(&k);
	ASSERT_STR_EQ(none, "{\"map_ids\":[]}");

	k.has_id = true;
	k.has_gpl_compatible = true;
	k.gpl_compatible = false; /* set and false: present */
	k.has_btf_id = true;
	k.btf_id = UINT32_MAX;
	some = render(&k);
	ASSERT_STR_EQ(some, "{\"id\":5,\"gpl_compatible\":false,\"map_ids\":[],\"btf_id\":4294967295}");
}

TEST(strings_only_when_not_null)
{
	Bpfman__V1__KernelProgramInfo k = BPFMAN__V1__KERNEL_PROGRAM_INFO__INIT;
	_cleanup_free_ char *s = NULL;

	k.name = (char *)"";
	k.tag = (char *)"4b9d1b2c140e87ce";
	s = render(&k);
	ASSERT_STR_EQ(s, "{\"name\":\"\",\"tag\":\"4b9d1b2c140e87ce\",\"map_ids\":[]}");
}

TEST(full_get_response)
{
	uint8_t tag[] = { 1, 0, 0, 0xab };
	uint32_t links[] = { 1, 2 }, maps[] = { 10 };
	char *used_by[] = { (char *)"42", (char *)"43" };
	Bpfman__V1__ProgramInfo__GlobalDataEntry g = BPFMAN__V1__PROGRAM_INFO__GLOBAL_DATA_ENTRY__INIT;
	Bpfman__V1__ProgramInfo__GlobalDataEntry *gp[] = { &g };
	Bpfman__V1__ProgramInfo__MetadataEntry m1 = BPFMAN__V1__PROGRAM_INFO__METADATA_ENTRY__INIT,
					       m2 = BPFMAN__V1__PROGRAM_INFO__METADATA_ENTRY__INIT;
	Bpfman__V1__ProgramInfo__MetadataEntry *mp[] = { &m1, &m2 };
	Bpfman__V1__BytecodeLocation loc = BPFMAN__V1__BYTECODE_LOCATION__INIT;
	Bpfman__V1__ProgramInfo info = BPFMAN__V1__PROGRAM_INFO__INIT;
	Bpfman__V1__KernelProgramInfo k = BPFMAN__V1__KERNEL_PROGRAM_INFO__INIT;
	Bpfman__V1__GetResponse r = BPFMAN__V1__GET_RESPONSE__INIT;
	_cleanup_pb_ ProtobufCMessage *back = NULL;
	_cleanup_free_ char *s = NULL, *s2 = NULL;
	const char *want =
		"{\"info\":{\"name\":\"xdp_pass\",\"bytecode\":{\"file\":\"/tmp/x.o\"},"
		"\"links\":[1,2],\"global_data\":{\"tag\":\"010000ab\"},\"map_owner_id\":42,"
		"\"map_pin_path\":\"/run/bpfd/fs/maps/42\",\"map_used_by\":[\"42\",\"43\"],"
		"\"metadata\":{\"app\":\"demo\",\"empty\":\"\"}},"
		"\"kernel_info\":{\"id\":42,\"name\":\"xdp_pass\",\"program_type\":6,"
		"\"map_ids\":[10],\"jited\":true}}";

	g.key = (char *)"tag";
	g.has_value = true;
	g.value = (ProtobufCBinaryData){ .len = sizeof(tag), .data = tag };
	m1.key = (char *)"app";
	m1.value = (char *)"demo";
	m2.key = (char *)"empty";
	m2.value = (char *)"";
	loc.location_case = BPFMAN__V1__BYTECODE_LOCATION__LOCATION_FILE;
	loc.file = (char *)"/tmp/x.o";
	info.name = (char *)"xdp_pass";
	info.bytecode = &loc;
	info.n_links = 2;
	info.links = links;
	info.n_global_data = 1;
	info.global_data = gp;
	info.has_map_owner_id = true;
	info.map_owner_id = 42;
	info.map_pin_path = (char *)"/run/bpfd/fs/maps/42";
	info.n_map_used_by = 2;
	info.map_used_by = used_by;
	info.n_metadata = 2;
	info.metadata = mp;
	k.has_id = true;
	k.id = 42;
	k.name = (char *)"xdp_pass";
	k.has_program_type = true;
	k.program_type = 6;
	k.n_map_ids = 1;
	k.map_ids = maps;
	k.has_jited = true;
	k.jited = true;
	r.info = &info;
	r.kernel_info = &k;

	s = render(&r);
	ASSERT_STR_EQ(s, want);
	back = round_trip(&r.base);
	ASSERT_TRUE(back != NULL);
	s2 = render(back);
	ASSERT_STR_EQ(s2, want);
}

TEST(oneof_renders_only_the_set_member)
{
	Bpfman__V1__BytecodeImage img = BPFMAN__V1__BYTECODE_IMAGE__INIT;
	Bpfman__V1__BytecodeLocation loc = BPFMAN__V1__BYTECODE_LOCATION__INIT;
	Bpfman__V1__AttachInfo ai = BPFMAN__V1__ATTACH_INFO__INIT;
	Bpfman__V1__TCXAttachInfo tcx = BPFMAN__V1__TCXATTACH_INFO__INIT;
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

	img.url = (char *)"quay.io/x:latest";
	img.has_image_pull_policy = true;
	img.image_pull_policy = 1;
	loc.location_case = BPFMAN__V1__BYTECODE_LOCATION__LOCATION_IMAGE;
	loc.image = &img;
	a = render(&loc);
	ASSERT_STR_EQ(a, "{\"image\":{\"url\":\"quay.io/x:latest\",\"image_pull_policy\":1}}");

	loc.location_case = BPFMAN__V1__BYTECODE_LOCATION__LOCATION__NOT_SET;
	b = render(&loc);
	ASSERT_STR_EQ(b, "{}");

	tcx.iface = (char *)"eth0";
	tcx.direction = (char *)"ingress";
	tcx.has_priority = true;
	tcx.priority = -3;
	ai.info_case = BPFMAN__V1__ATTACH_INFO__INFO_TCX_ATTACH_INFO;
	ai.tcx_attach_info = &tcx;
	c = render(&ai);
	ASSERT_STR_EQ(c, "{\"tcx_attach_info\":{\"priority\":-3,\"iface\":\"eth0\","
			 "\"direction\":\"ingress\",\"metadata\":{}}}");
}

TEST(enums_by_name)
{
	Bpfman__V1__LoadInfo li = BPFMAN__V1__LOAD_INFO__INIT;
	Bpfman__V1__ProgSpecificInfo psi = BPFMAN__V1__PROG_SPECIFIC_INFO__INIT;
	Bpfman__V1__LsmLoadInfo lsm = BPFMAN__V1__LSM_LOAD_INFO__INIT;
	_cleanup_free_ char *a = NULL, *b = NULL;

	li.name = (char *)"f";
	li.has_program_type = true;
	li.program_type = BPFMAN__V1__BPFMAN_PROGRAM_TYPE__LSM;
	lsm.hook_name = (char *)"file_open";
	psi.info_case = BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_LSM_LOAD_INFO;
	psi.lsm_load_info = &lsm;
	li.info = &psi;
	a = render(&li);
	ASSERT_STR_EQ(a, "{\"name\":\"f\",\"program_type\":\"LSM\","
			 "\"info\":{\"lsm_load_info\":{\"hook_name\":\"file_open\"}}}");

	li.info = NULL;
	li.program_type = (Bpfman__V1__BpfmanProgramType)99; /* from a newer peer */
	b = render(&li);
	ASSERT_STR_EQ(b, "{\"name\":\"f\",\"program_type\":99}");
}

TEST(u64_and_repeated_i32)
{
	Bpfd__V1__LinkInfo l = BPFD__V1__LINK_INFO__INIT;
	int32_t po[] = { -1, 3, 30 };
	_cleanup_free_ char *a = NULL, *b = NULL;

	l.has_offset = true;
	l.offset = (1ULL << 53) + 1;
	l.n_proceed_on = 3;
	l.proceed_on = po;
	a = render(&l);
	ASSERT_STR_EQ(a, "{\"proceed_on\":[-1,3,30],\"offset\":9007199254740993,\"metadata\":{}}");

	l.offset = UINT64_MAX; /* beyond json_int_t: a real, still a JSON number */
	l.n_proceed_on = 0;
	b = render(&l);
	ASSERT_STR_CONTAINS(b, "\"offset\":1.8446744073709552e19");
}

TEST(invalid_utf8_is_replaced)
{
	Bpfman__V1__KernelProgramInfo k = BPFMAN__V1__KERNEL_PROGRAM_INFO__INIT;
	_cleanup_free_ char *s = NULL;
	_cleanup_json_ json_t *ok = json_string_lossy("h\xc3\xa9 \xe2\x82\xac");

	k.name = (char *)"a\xff" "b\xc0\xaf";
	s = render(&k);
	ASSERT_STR_EQ(s, "{\"name\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\",\"map_ids\":[]}");
	ASSERT_STR_EQ(json_string_value(ok), "h\xc3\xa9 \xe2\x82\xac");
}

TEST(map_value_absent_is_empty)
{
	Bpfman__V1__ProgramInfo__GlobalDataEntry g = BPFMAN__V1__PROGRAM_INFO__GLOBAL_DATA_ENTRY__INIT;
	Bpfman__V1__ProgramInfo__GlobalDataEntry *gp[] = { &g };
	Bpfman__V1__ProgramInfo info = BPFMAN__V1__PROGRAM_INFO__INIT;
	_cleanup_free_ char *s = NULL;

	g.key = (char *)"zero"; /* a proto3 peer omits an empty value */
	info.n_global_data = 1;
	info.global_data = gp;
	s = render(&info);
	ASSERT_STR_EQ(s, "{\"links\":[],\"global_data\":{\"zero\":\"\"},\"map_used_by\":[],"
			 "\"metadata\":{}}");
}

TEST(error_object_shape)
{
	_cleanup_json_ json_t *e = json_error(5, "NOT_FOUND", "program 9 \"x\" not found");
	_cleanup_json_ json_t *n = json_error(3, "INVALID_ARGUMENT", NULL);
	_cleanup_free_ char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
	_cleanup_free_ char *t = json_dumps(n, JSON_COMPACT | JSON_PRESERVE_ORDER);

	ASSERT_STR_EQ(s, "{\"error\":{\"status\":\"NOT_FOUND\",\"code\":5,"
			 "\"message\":\"program 9 \\\"x\\\" not found\"}}");
	ASSERT_STR_EQ(t, "{\"error\":{\"status\":\"INVALID_ARGUMENT\",\"code\":3,\"message\":\"\"}}");
}
