/* SPDX-License-Identifier: Apache-2.0 */
/* bpfctl's human output (src/cli/output.c, src/cli/table.c). */
#include <stdbool.h>
#include <string.h>

#include "macro.h"
#include "output.h"
#include "table.h"
#include "tests.h"

struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static FILE *capture_open(struct capture *c)
{
	*c = (struct capture){};
	c->f = open_memstream(&c->text, &c->len);
	return c->f;
}

static const char *capture_text(struct capture *c)
{
	fclose(c->f);
	c->f = NULL;
	return c->text;
}

static void capture_free(struct capture *c)
{
	if (c->f)
		fclose(c->f);
	free(c->text);
}

TEST(table_aligns_columns_and_escapes)
{
	static const char *const headers[] = { "ID", "NAME", "LAST" };
	_cleanup_(table__freep) struct table *t = NULL;
	_cleanup_(capture_free) struct capture c;

	ASSERT_OK(table__new(headers, 3, &t));
	ASSERT_OK(table__add_row(t, (const char *[]){ "1", "a\x1b[31mred", "x" }));
	ASSERT_OK(table__add_row(t, (const char *[]){ "1000", NULL, "y" }));
	ASSERT_INT_EQ(table__rows(t), 2);
	ASSERT_TRUE(capture_open(&c) != NULL);
	table__print(t, c.f);
	ASSERT_STR_EQ(capture_text(&c), "ID    NAME          LAST\n"
					"1     a\\x1b[31mred  x\n"
					"1000  -             y\n");
}

TEST(program_table_with_and_without_bpfd_info)
{
	uint32_t links[] = { 3, 4 };
	Bpfman__V1__ProgramInfo__MetadataEntry m = BPFMAN__V1__PROGRAM_INFO__METADATA_ENTRY__INIT;
	Bpfman__V1__ProgramInfo__MetadataEntry *mp[] = { &m };
	Bpfman__V1__ProgramInfo info = BPFMAN__V1__PROGRAM_INFO__INIT;
	Bpfman__V1__KernelProgramInfo k1 = BPFMAN__V1__KERNEL_PROGRAM_INFO__INIT,
				      k2 = BPFMAN__V1__KERNEL_PROGRAM_INFO__INIT;
	Bpfman__V1__ListResponse__ListResult r1 = BPFMAN__V1__LIST_RESPONSE__LIST_RESULT__INIT,
					     r2 = BPFMAN__V1__LIST_RESPONSE__LIST_RESULT__INIT;
	Bpfman__V1__ListResponse__ListResult *rp[] = { &r1, &r2 };
	Bpfman__V1__ListResponse resp = BPFMAN__V1__LIST_RESPONSE__INIT;
	_cleanup_(capture_free) struct capture c;

	m.key = (char *)"app";
	m.value = (char *)"demo";
	info.name = (char *)"xdp_counter_long_name";
	info.n_links = 2;
	info.links = links;
	info.n_metadata = 1;
	info.metadata = mp;
	k1.id = 42;
	k1.name = (char *)"xdp_counter_lon";
	k1.program_type = 6;
	k1.loaded_at = (char *)"2025-01-01T00:00:00Z";
	r1.info = &info;
	r1.kernel_info = &k1;
	k2.id = 7;
	k2.name = (char *)"sd_fw_ingress";
	k2.program_type = 8; /* cgroup_skb */
	k2.loaded_at = (char *)"2025-01-01T00:00:01Z";
	r2.kernel_info = &k2;
	resp.n_results = 2;
	resp.results = rp;

	ASSERT_TRUE(capture_open(&c) != NULL);
	ASSERT_OK(output_program_table(c.f, &resp));
	ASSERT_STR_EQ(capture_text(&c),
		      "ID  NAME                   TYPE        LOADED AT             LINKS  METADATA\n"
		      "42  xdp_counter_long_name  xdp         2025-01-01T00:00:00Z  3, 4   app=demo\n"
		      "7   sd_fw_ingress          cgroup_skb  2025-01-01T00:00:01Z  -      -\n");
}

TEST(program_block)
{
	uint8_t tag[] = { 1, 0, 0, 0 };
	Bpfman__V1__ProgramInfo__GlobalDataEntry g = BPFMAN__V1__PROGRAM_INFO__GLOBAL_DATA_ENTRY__INIT;
	Bpfman__V1__ProgramInfo__GlobalDataEntry *gp[] = { &g };
	Bpfman__V1__BytecodeLocation loc = BPFMAN__V1__BYTECODE_LOCATION__INIT;
	Bpfman__V1__ProgramInfo info = BPFMAN__V1__PROGRAM_INFO__INIT;
	Bpfman__V1__KernelProgramInfo k = BPFMAN__V1__KERNEL_PROGRAM_INFO__INIT;
	char *used_by[] = { (char *)"42" };
	uint32_t maps[] = { 5, 6 };
	_cleanup_(capture_free) struct capture c, d;
	const char *text;

	g.key = (char *)"tag";
	g.has_value = true;
	g.value = (ProtobufCBinaryData){ .len = 4, .data = tag };
	loc.location_case = BPFMAN__V1__BYTECODE_LOCATION__LOCATION_FILE;
	loc.file = (char *)"/srv/x.bpf.o";
	info.name = (char *)"count";
	info.bytecode = &loc;
	info.n_global_data = 1;
	info.global_data = gp;
	info.map_pin_path = (char *)"/run/bpfd/fs/maps/42";
	info.n_map_used_by = 1;
	info.map_used_by = used_by;
	k.id = 42;
	k.name = (char *)"count";
	k.program_type = 6;
	k.tag = (char *)"abcdef0123456789";
	k.gpl_compatible = true;
	k.n_map_ids = 2;
	k.map_ids = maps;
	k.verified_insns = 17;

	ASSERT_TRUE(capture_open(&c) != NULL);
	output_program(c.f, &info, &k);
	text = capture_text(&c);
	ASSERT_STR_CONTAINS(text, "Program 42\n bpfd:\n");
	ASSERT_STR_CONTAINS(text, "  Name:                  count\n");
	ASSERT_STR_CONTAINS(text, "  Bytecode file:         /srv/x.bpf.o\n");
	ASSERT_STR_CONTAINS(text, "  Global data:           tag=01000000\n");
	ASSERT_STR_CONTAINS(text, "  Metadata:              -\n");
	ASSERT_STR_CONTAINS(text, "  Map pin path:          /run/bpfd/fs/maps/42\n");
	ASSERT_STR_CONTAINS(text, "  Map owner id:          -\n");
	ASSERT_STR_CONTAINS(text, "  Maps used by:          42\n");
	ASSERT_STR_CONTAINS(text, "  Links:                 -\n");
	ASSERT_STR_CONTAINS(text, " Kernel:\n  ID:                    42\n");
	ASSERT_STR_CONTAINS(text, "  Type:                  xdp (6)\n");
	ASSERT_STR_CONTAINS(text, "  GPL compatible:        yes\n");
	ASSERT_STR_CONTAINS(text, "  Map ids:               5, 6\n");
	ASSERT_STR_CONTAINS(text, "  Verified instructions: 17\n");

	ASSERT_TRUE(capture_open(&d) != NULL);
	output_program(d.f, NULL, &k);
	ASSERT_STR_CONTAINS(capture_text(&d), "Program 42\n bpfd: not loaded by bpfd\n Kernel:\n");
}

TEST(link_hooks)
{
	Bpfd__V1__LinkInfo l = BPFD__V1__LINK_INFO__INIT;
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

	l.iface = (char *)"veth0";
	l.direction = (char *)"ingress";
	l.netns = (char *)"/run/netns/t";
	a = output_link_hook(&l);
	ASSERT_STR_EQ(a, "veth0/ingress netns /run/netns/t");

	l = (Bpfd__V1__LinkInfo)BPFD__V1__LINK_INFO__INIT;
	l.tracepoint = (char *)"syscalls/sys_enter_openat";
	b = output_link_hook(&l);
	ASSERT_STR_EQ(b, "syscalls/sys_enter_openat");

	l = (Bpfd__V1__LinkInfo)BPFD__V1__LINK_INFO__INIT;
	l.target = (char *)"libc";
	l.fn_name = (char *)"malloc";
	l.has_offset = true;
	l.offset = 16;
	l.has_pid = true;
	l.pid = 99;
	c = output_link_hook(&l);
	ASSERT_STR_EQ(c, "libc:malloc+0x10 pid 99");

	l = (Bpfd__V1__LinkInfo)BPFD__V1__LINK_INFO__INIT;
	l.fn_name = (char *)"do_unlinkat";
	d = output_link_hook(&l);
	ASSERT_STR_EQ(d, "do_unlinkat");

	l = (Bpfd__V1__LinkInfo)BPFD__V1__LINK_INFO__INIT;
	e = output_link_hook(&l);
	ASSERT_STR_EQ(e, "-");
}

TEST(link_table)
{
	Bpfd__V1__LinkInfo a = BPFD__V1__LINK_INFO__INIT, b = BPFD__V1__LINK_INFO__INIT;
	Bpfd__V1__LinkInfo *lp[] = { &a, &b };
	Bpfd__V1__ListLinksResponse r = BPFD__V1__LIST_LINKS_RESPONSE__INIT;
	_cleanup_(capture_free) struct capture c;

	a.link_id = 1;
	a.program_id = 42;
	a.attach_type = (char *)"xdp";
	a.iface = (char *)"eth0";
	a.has_priority = true;
	a.priority = 50;
	a.has_position = true;
	a.position = 0;
	b.link_id = 2;
	b.program_id = 43;
	b.attach_type = (char *)"kprobe";
	b.has_retprobe = true;
	b.retprobe = true;
	b.fn_name = (char *)"do_sys_openat2";
	r.n_links = 2;
	r.links = lp;

	ASSERT_TRUE(capture_open(&c) != NULL);
	ASSERT_OK(output_link_table(c.f, &r));
	ASSERT_STR_EQ(capture_text(&c),
		      "LINK  PROGRAM  TYPE       HOOK            PRIORITY  POSITION\n"
		      "1     42       xdp        eth0            50        0\n"
		      "2     43       kretprobe  do_sys_openat2  -         -\n");
}

TEST(link_block_names_proceed_on)
{
	Bpfd__V1__LinkInfo l = BPFD__V1__LINK_INFO__INIT;
	int32_t po[] = { 3, 30, 77 };
	_cleanup_(capture_free) struct capture c;
	const char *text;

	l.link_id = 9;
	l.program_id = 42;
	l.attach_type = (char *)"tc";
	l.iface = (char *)"eth0";
	l.direction = (char *)"egress";
	l.n_proceed_on = 3;
	l.proceed_on = po;
	ASSERT_TRUE(capture_open(&c) != NULL);
	output_link(c.f, &l);
	text = capture_text(&c);
	ASSERT_STR_CONTAINS(text, "Link 9\n  Program:               42\n");
	ASSERT_STR_CONTAINS(text, "  Proceed on:            pipe, dispatcher_return, 77\n");
	ASSERT_STR_CONTAINS(text, "  Direction:             egress\n");
}

TEST(version_block)
{
	Bpfd__V1__Feature f1 = BPFD__V1__FEATURE__INIT, f2 = BPFD__V1__FEATURE__INIT;
	Bpfd__V1__Feature *fp[] = { &f1, &f2 };
	Bpfd__V1__VersionResponse v = BPFD__V1__VERSION_RESPONSE__INIT;
	_cleanup_(capture_free) struct capture c;
	const char *text;

	v.version = (char *)"0.1.0";
	v.kernel_release = (char *)"6.18.0";
	v.has_schema_version = true;
	v.schema_version = 1;
	f1.name = (char *)"tcx";
	f1.available = true;
	f2.name = (char *)"kprobe";
	f2.detail = (char *)"no CONFIG_KPROBES";
	v.n_features = 2;
	v.features = fp;
	ASSERT_TRUE(capture_open(&c) != NULL);
	ASSERT_OK(output_version(c.f, "0.1.0", &v));
	text = capture_text(&c);
	ASSERT_STR_CONTAINS(text, "  bpfctl:        0.1.0\n  bpfd:          0.1.0\n");
	ASSERT_STR_CONTAINS(text, "  Kernel:        6.18.0\n  State schema:  1\n");
	ASSERT_STR_CONTAINS(text, "FEATURE  AVAILABLE  DETAIL\n"
				  "tcx      yes        -\n"
				  "kprobe   no         no CONFIG_KPROBES\n");
}
