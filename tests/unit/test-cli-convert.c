/* SPDX-License-Identifier: Apache-2.0 */
/* bpfctl's argument conversion (src/cli/convert.c). */
#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "convert.h"
#include "macro.h"
#include "tests.h"

TEST(u32_accepts_decimal_and_hex)
{
	uint32_t v = 7;

	ASSERT_OK(convert_u32("0", &v));
	ASSERT_INT_EQ(v, 0);
	ASSERT_OK(convert_u32("42", &v));
	ASSERT_INT_EQ(v, 42);
	ASSERT_OK(convert_u32("4294967295", &v));
	ASSERT_INT_EQ(v, 4294967295u);
	ASSERT_OK(convert_u32("0x10", &v));
	ASSERT_INT_EQ(v, 16);
	ASSERT_OK(convert_u32("0XfF", &v));
	ASSERT_INT_EQ(v, 255);
}

TEST(u32_rejects_garbage_and_leaves_output_alone)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1x", "abc", "0x", "0x0x1",
					   "1.0", "0xg" };
	uint32_t v = 1234;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		ASSERT_ERR(convert_u32(bad[i], &v), -EINVAL);
		ASSERT_INT_EQ(v, 1234);
	}
	ASSERT_ERR(convert_u32("4294967296", &v), -ERANGE);
	ASSERT_ERR(convert_u32("0x100000000", &v), -ERANGE);
	ASSERT_ERR(convert_u32("99999999999999999999999", &v), -ERANGE);
	ASSERT_INT_EQ(v, 1234);
}

TEST(i32_range)
{
	int32_t v = 5;

	ASSERT_OK(convert_i32("-2147483648", &v));
	ASSERT_INT_EQ(v, INT32_MIN);
	ASSERT_OK(convert_i32("2147483647", &v));
	ASSERT_INT_EQ(v, INT32_MAX);
	ASSERT_OK(convert_i32("-1", &v));
	ASSERT_INT_EQ(v, -1);
	ASSERT_OK(convert_i32("0", &v));
	ASSERT_INT_EQ(v, 0);
	v = 5;
	ASSERT_ERR(convert_i32("2147483648", &v), -ERANGE);
	ASSERT_ERR(convert_i32("-2147483649", &v), -ERANGE);
	ASSERT_ERR(convert_i32("-", &v), -EINVAL);
	ASSERT_ERR(convert_i32("--1", &v), -EINVAL);
	ASSERT_ERR(convert_i32("- 1", &v), -EINVAL);
	ASSERT_ERR(convert_i32("1e3", &v), -EINVAL);
	ASSERT_INT_EQ(v, 5);
}

TEST(u64_range)
{
	uint64_t v = 9;

	ASSERT_OK(convert_u64("18446744073709551615", &v));
	ASSERT_TRUE(v == UINT64_MAX);
	ASSERT_OK(convert_u64("0xffffffffffffffff", &v));
	ASSERT_TRUE(v == UINT64_MAX);
	v = 9;
	ASSERT_ERR(convert_u64("18446744073709551616", &v), -ERANGE);
	ASSERT_ERR(convert_u64("-1", &v), -EINVAL);
	ASSERT_INT_EQ(v, 9);
}

TEST(xdp_proceed_on_names_match_api)
{
	static const struct {
		const char *name;
		int32_t value;
	} want[] = { { "aborted", 0 }, { "drop", 1 },	  { "pass", 2 },
		     { "tx", 3 },      { "redirect", 4 }, { "dispatcher_return", 31 } };
	int32_t v;

	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		ASSERT_OK(convert_name(convert_xdp_proceed_on, true, want[i].name, &v));
		ASSERT_INT_EQ(v, want[i].value);
	}
	ASSERT_OK(convert_name(convert_xdp_proceed_on, true, "31", &v));
	ASSERT_INT_EQ(v, 31);
	v = 77;
	ASSERT_ERR(convert_name(convert_xdp_proceed_on, true, "PASS", &v), -EINVAL);
	ASSERT_ERR(convert_name(convert_xdp_proceed_on, true, "pas", &v), -EINVAL);
	ASSERT_ERR(convert_name(convert_xdp_proceed_on, true, "ok", &v), -EINVAL);
	ASSERT_ERR(convert_name(convert_xdp_proceed_on, true, "4294967296", &v), -ERANGE);
	ASSERT_ERR(convert_name(convert_xdp_proceed_on, false, "2", &v), -EINVAL);
	ASSERT_INT_EQ(v, 77);
}

TEST(tc_proceed_on_names_match_api)
{
	static const struct {
		const char *name;
		int32_t value;
	} want[] = { { "unspec", -1 }, { "ok", 0 },	  { "reclassify", 1 }, { "shot", 2 },
		     { "pipe", 3 },    { "stolen", 4 },	  { "queued", 5 },     { "repeat", 6 },
		     { "redirect", 7 }, { "trap", 8 },	  { "dispatcher_return", 30 } };
	int32_t v;

	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		ASSERT_OK(convert_name(convert_tc_proceed_on, true, want[i].name, &v));
		ASSERT_INT_EQ(v, want[i].value);
	}
	ASSERT_OK(convert_name(convert_tc_proceed_on, true, "-1", &v));
	ASSERT_INT_EQ(v, -1);
	ASSERT_ERR(convert_name(convert_tc_proceed_on, true, "pass", &v), -EINVAL);
	ASSERT_STR_EQ(convert_name_of(convert_tc_proceed_on, 30), "dispatcher_return");
	ASSERT_TRUE(convert_name_of(convert_tc_proceed_on, 29) == NULL);
}

TEST(hex_parses_bytes_in_order)
{
	_cleanup_free_ uint8_t *b = NULL;
	_cleanup_free_ char *s = NULL;
	size_t n = 0;

	ASSERT_OK(convert_hex("01000000", &b, &n));
	ASSERT_INT_EQ(n, 4);
	ASSERT_INT_EQ(b[0], 1);
	ASSERT_INT_EQ(b[1], 0);
	ASSERT_INT_EQ(b[3], 0);
	free(b);
	b = NULL;
	ASSERT_OK(convert_hex("ABcd09", &b, &n));
	ASSERT_INT_EQ(n, 3);
	ASSERT_INT_EQ(b[0], 0xab);
	ASSERT_INT_EQ(b[1], 0xcd);
	ASSERT_INT_EQ(b[2], 0x09);
	ASSERT_OK(convert_to_hex(b, n, &s));
	ASSERT_STR_EQ(s, "abcd09");
}

TEST(hex_rejects_odd_empty_and_invalid)
{
	static const char *const bad[] = { "", "0", "012", "zz", "0g", "0x01", " 01", "01 ", "0-" };
	uint8_t *b = (uint8_t *)"untouched";
	size_t n = 99;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		ASSERT_ERR(convert_hex(bad[i], &b, &n), -EINVAL);
		ASSERT_INT_EQ(n, 99);
		ASSERT_STR_EQ((char *)b, "untouched");
	}
}

TEST(kv_splits_at_first_equals)
{
	_cleanup_free_ char *k = NULL, *v = NULL;
	char *k2 = (char *)"x", *v2 = (char *)"y";

	ASSERT_OK(convert_kv("app=a=b", &k, &v));
	ASSERT_STR_EQ(k, "app");
	ASSERT_STR_EQ(v, "a=b");
	free(k);
	free(v);
	ASSERT_OK(convert_kv("empty=", &k, &v));
	ASSERT_STR_EQ(k, "empty");
	ASSERT_STR_EQ(v, "");
	ASSERT_ERR(convert_kv("noequals", &k2, &v2), -EINVAL);
	ASSERT_ERR(convert_kv("=value", &k2, &v2), -EINVAL);
	ASSERT_ERR(convert_kv("", &k2, &v2), -EINVAL);
	ASSERT_STR_EQ(k2, "x");
	ASSERT_STR_EQ(v2, "y");
}

TEST(kernel_prog_types_by_name_alias_and_number)
{
	static const struct {
		const char *name;
		uint32_t value;
	} want[] = {
		{ "socket_filter", BPF_PROG_TYPE_SOCKET_FILTER },
		{ "kprobe", BPF_PROG_TYPE_KPROBE },
		{ "sched_cls", BPF_PROG_TYPE_SCHED_CLS },
		{ "tracepoint", BPF_PROG_TYPE_TRACEPOINT },
		{ "xdp", BPF_PROG_TYPE_XDP },
		{ "tracing", BPF_PROG_TYPE_TRACING },
		{ "lsm", BPF_PROG_TYPE_LSM },
		{ "tc", BPF_PROG_TYPE_SCHED_CLS },
		{ "tcx", BPF_PROG_TYPE_SCHED_CLS },
		{ "uprobe", BPF_PROG_TYPE_KPROBE },
		{ "fentry", BPF_PROG_TYPE_TRACING },
		{ "fexit", BPF_PROG_TYPE_TRACING },
		{ "6", 6 },
		{ "1000", 1000 },
	};
	uint32_t v = 4242;

	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		ASSERT_OK(convert_kernel_prog_type(want[i].name, &v));
		ASSERT_INT_EQ(v, want[i].value);
	}
	v = 4242;
	ASSERT_ERR(convert_kernel_prog_type("XDP", &v), -EINVAL);
	ASSERT_ERR(convert_kernel_prog_type("sched", &v), -EINVAL);
	ASSERT_ERR(convert_kernel_prog_type("-1", &v), -EINVAL);
	ASSERT_ERR(convert_kernel_prog_type("4294967296", &v), -ERANGE);
	ASSERT_INT_EQ(v, 4242);
	ASSERT_STR_EQ(convert_kernel_prog_type_name(BPF_PROG_TYPE_XDP), "xdp");
	ASSERT_STR_EQ(convert_kernel_prog_type_name(BPF_PROG_TYPE_SCHED_CLS), "sched_cls");
	ASSERT_TRUE(convert_kernel_prog_type_name(100000) == NULL);
}

static void check_spec(const char *s, Bpfman__V1__BpfmanProgramType type, const char *fn,
		       Bpfman__V1__ProgSpecificInfo__InfoCase which, const char *attach_fn)
{
	_cleanup_pb_ Bpfman__V1__LoadInfo *info = NULL;

	ASSERT_OK(convert_program_spec(s, &info, NULL));
	ASSERT_STR_EQ(info->name, fn);
	ASSERT_TRUE(info->has_program_type);
	ASSERT_INT_EQ(info->program_type, type);
	if (!attach_fn) {
		ASSERT_TRUE(info->info == NULL);
		return;
	}
	ASSERT_TRUE(info->info != NULL);
	ASSERT_INT_EQ(info->info->info_case, which);
	switch (which) {
	case BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_FENTRY_LOAD_INFO:
		ASSERT_STR_EQ(info->info->fentry_load_info->fn_name, attach_fn);
		break;
	case BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_FEXIT_LOAD_INFO:
		ASSERT_STR_EQ(info->info->fexit_load_info->fn_name, attach_fn);
		break;
	case BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_LSM_LOAD_INFO:
		ASSERT_STR_EQ(info->info->lsm_load_info->hook_name, attach_fn);
		break;
	default:
		TEST_FAIL("unexpected case %d", which);
	}
}

TEST(program_spec_every_type)
{
	const Bpfman__V1__ProgSpecificInfo__InfoCase none =
		BPFMAN__V1__PROG_SPECIFIC_INFO__INFO__NOT_SET;

	check_spec("xdp:xdp_pass", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__XDP, "xdp_pass", none, NULL);
	check_spec("tc:f", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__TC, "f", none, NULL);
	check_spec("tcx:f", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__TCX, "f", none, NULL);
	check_spec("tracepoint:tp", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__TRACEPOINT, "tp", none, NULL);
	check_spec("kprobe:kp", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__KPROBE, "kp", none, NULL);
	check_spec("uprobe:up", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__UPROBE, "up", none, NULL);
	check_spec("fentry:fe:do_unlinkat", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__FENTRY, "fe",
		   BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_FENTRY_LOAD_INFO, "do_unlinkat");
	check_spec("fexit:fx:do_unlinkat", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__FEXIT, "fx",
		   BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_FEXIT_LOAD_INFO, "do_unlinkat");
	check_spec("lsm:l:file_open", BPFMAN__V1__BPFMAN_PROGRAM_TYPE__LSM, "l",
		   BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_LSM_LOAD_INFO, "file_open");
}

TEST(program_spec_errors_say_why)
{
	static const struct {
		const char *spec, *why;
	} bad[] = {
		{ "xdp", "TYPE:FUNC" },
		{ "xdp:", "empty function" },
		{ ":f", "unknown program type" },
		{ "XDP:f", "unknown program type" },
		{ "sched_cls:f", "unknown program type" },
		{ "fentry:f", "fentry and fexit need" },
		{ "fexit:f", "fentry and fexit need" },
		{ "lsm:f", "lsm needs the hook" },
		{ "fentry:f:", "empty ATTACH_FN" },
		{ "xdp:f:g", "only for fentry, fexit and lsm" },
		{ "kprobe:f:g", "only for fentry, fexit and lsm" },
		{ "fentry::g", "empty function" },
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		Bpfman__V1__LoadInfo *info = (Bpfman__V1__LoadInfo *)"untouched";
		const char *why = NULL;

		ASSERT_ERR(convert_program_spec(bad[i].spec, &info, &why), -EINVAL);
		ASSERT_STR_CONTAINS(why, bad[i].why);
		ASSERT_STR_EQ((char *)info, "untouched");
	}
}

TEST(map_add_round_trips)
{
	_cleanup_pb_ Bpfman__V1__LoadRequest *req = pb_new(&bpfman__v1__load_request__descriptor);
	_cleanup_pb_ Bpfman__V1__LoadRequest *back = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	static const uint8_t tag[] = { 1, 0, 0, 0 };
	size_t len;

	ASSERT_TRUE(req != NULL);
	ASSERT_OK(pb_map_add(&req->base, "metadata", "app", "demo", 0));
	ASSERT_OK(pb_map_add(&req->base, "metadata", "owner", "", 0));
	ASSERT_OK(pb_map_add(&req->base, "global_data", "tag", tag, sizeof(tag)));
	ASSERT_ERR(pb_map_add(&req->base, "uuid", "k", "v", 0), -EINVAL);
	ASSERT_ERR(pb_map_add(&req->base, "no_such_field", "k", "v", 0), -EINVAL);
	ASSERT_ERR(pb_map_add(&req->base, "info", "k", "v", 0), -EINVAL);

	len = protobuf_c_message_get_packed_size(&req->base);
	buf = malloc(len);
	ASSERT_TRUE(buf != NULL);
	protobuf_c_message_pack(&req->base, buf);
	back = (Bpfman__V1__LoadRequest *)protobuf_c_message_unpack(
		&bpfman__v1__load_request__descriptor, NULL, len, buf);
	ASSERT_TRUE(back != NULL);
	ASSERT_INT_EQ(back->n_metadata, 2);
	ASSERT_STR_EQ(back->metadata[0]->key, "app");
	ASSERT_STR_EQ(back->metadata[0]->value, "demo");
	ASSERT_STR_EQ(back->metadata[1]->key, "owner");
	ASSERT_STR_EQ(back->metadata[1]->value, "");
	ASSERT_INT_EQ(back->n_global_data, 1);
	ASSERT_STR_EQ(back->global_data[0]->key, "tag");
	ASSERT_INT_EQ(back->global_data[0]->value.len, 4);
	ASSERT_TRUE(memcmp(back->global_data[0]->value.data, tag, 4) == 0);
}
