/* SPDX-License-Identifier: Apache-2.0 */
/* loader__open(): validation of a Load before anything reaches the kernel. Uses the real BPF
 * objects from bpf/ (BPF_OBJ_DIR); needs no privilege, like the thread it runs on. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "tests.h"

static char path_buf[4096];

static const char *obj(const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s.bpf.o", BPF_OBJ_DIR, name);
	return path_buf;
}

static int open_one(const char *path, const char *fn, int type, const struct kv_pair *global,
		    size_t n_global, struct loader **ret, struct error *err)
{
	struct load_program_spec p = { .name = fn, .type = type };
	struct load_spec spec = { .path = path, .programs = &p, .n_programs = 1,
				  .global_data = global, .n_global_data = n_global };

	return loader__open(&spec, ret, err);
}

TEST(missing_file_is_not_found)
{
	struct loader *l = NULL;
	struct error err = {};

	ASSERT_ERR(open_one("/nonexistent/x.bpf.o", "f", BPFD_PROG_XDP, NULL, 0, &l, &err), -ENOENT);
	ASSERT_STR_CONTAINS(err.message, "/nonexistent/x.bpf.o");
	ASSERT_TRUE(l == NULL);
}

TEST(relative_path_is_invalid)
{
	struct loader *l = NULL;
	struct error err = {};

	ASSERT_ERR(open_one("x.bpf.o", "f", BPFD_PROG_XDP, NULL, 0, &l, &err), -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "absolute");
}

TEST(not_an_elf_is_invalid)
{
	char path[] = "/tmp/bpfd-test-notelf-XXXXXX";
	struct loader *l = NULL;
	struct error err = {};
	int fd = mkstemp(path);

	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(write(fd, "hello, not an ELF\n", 18), 18);
	close(fd);
	int r = open_one(path, "f", BPFD_PROG_XDP, NULL, 0, &l, &err);
	unlink(path);
	ASSERT_ERR(r, -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "not an ELF");
}

TEST(unknown_function_names_the_programs_there)
{
	struct loader *l = NULL;
	struct error err = {};

	ASSERT_ERR(open_one(obj("xdp_counter"), "nope", BPFD_PROG_XDP, NULL, 0, &l, &err), -ENOENT);
	ASSERT_STR_CONTAINS(err.message, "'nope' not found");
	ASSERT_STR_CONTAINS(err.message, "xdp_count");
}

TEST(type_mismatch_is_invalid)
{
	struct loader *l = NULL;
	struct error err = {};

	ASSERT_ERR(open_one(obj("xdp_counter"), "xdp_count", BPFD_PROG_TCX, NULL, 0, &l, &err),
		   -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "not a tcx program");
}

TEST(unknown_type_is_invalid)
{
	struct loader *l = NULL;
	struct error err = {};

	ASSERT_ERR(open_one(obj("xdp_counter"), "xdp_count", 42, NULL, 0, &l, &err), -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "unknown program type 42");
}

TEST(fentry_needs_a_function)
{
	struct loader *l = NULL;
	struct error err = {};

	ASSERT_ERR(open_one(obj("fentry_counter"), "fentry_count", BPFD_PROG_FENTRY, NULL, 0, &l,
			    &err),
		   -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "kernel function");
}

TEST(kretprobe_section_is_a_kprobe_not_uprobe)
{
	struct loader *l = NULL;
	struct error err = {};

	ASSERT_ERR(open_one(obj("kprobe_counter"), "kretprobe_count", BPFD_PROG_UPROBE, NULL, 0,
			    &l, &err),
		   -EINVAL);
	ASSERT_OK(open_one(obj("kprobe_counter"), "kretprobe_count", BPFD_PROG_KPROBE, NULL, 0, &l,
			   &err));
	loader__free(l);
}

TEST(global_data_of_wrong_size_is_invalid)
{
	uint8_t four[4] = { 5 };
	struct kv_pair kv = { .key = (char *)"increment", .value = four, .value_len = 4 };
	struct loader *l = NULL;
	struct error err = {};

	ASSERT_ERR(open_one(obj("global_data"), "xdp_global", BPFD_PROG_XDP, &kv, 1, &l, &err),
		   -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "4 bytes");
	ASSERT_STR_CONTAINS(err.message, "is 8 bytes");
}

TEST(global_data_unknown_variable_is_invalid)
{
	uint8_t one[1] = { 1 };
	struct kv_pair kv = { .key = (char *)"no_such_var", .value = one, .value_len = 1 };
	struct loader *l = NULL;
	struct error err = {};

	ASSERT_ERR(open_one(obj("global_data"), "xdp_global", BPFD_PROG_XDP, &kv, 1, &l, &err),
		   -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "no_such_var");
}

TEST(global_data_is_written_into_rodata)
{
	uint8_t eight[8] = { 5, 0, 0, 0, 0, 0, 0, 0 };
	struct kv_pair kv = { .key = (char *)"increment", .value = eight, .value_len = 8 };
	struct loader *l = NULL;
	struct error err = {};
	struct bpf_map *map;
	bool found = false;

	ASSERT_OK(open_one(obj("global_data"), "xdp_global", BPFD_PROG_XDP, &kv, 1, &l, &err));
	bpf_object__for_each_map(map, l->obj) {
		size_t size;
		const uint64_t *v;

		if (!strstr(bpf_map__name(map), ".rodata"))
			continue;
		v = bpf_map__initial_value(map, &size);
		ASSERT_TRUE(v && size >= 8);
		/* increment is the first 8-byte variable of .rodata in this object */
		found = v[0] == 5 || (size >= 16 && v[1] == 5);
	}
	loader__free(l);
	ASSERT_TRUE(found);
}

TEST(only_requested_programs_autoload)
{
	struct loader *l = NULL;
	struct error err = {};
	struct bpf_program *p;

	ASSERT_OK(open_one(obj("uprobe_counter"), "uprobe_count", BPFD_PROG_UPROBE, NULL, 0, &l,
			   &err));
	bpf_object__for_each_program(p, l->obj)
		ASSERT_INT_EQ(bpf_program__autoload(p), streq(bpf_program__name(p), "uprobe_count"));
	loader__free(l);
}
