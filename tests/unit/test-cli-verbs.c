/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole bpfctl runs (src/cli/cli.c, verbs.c) against a recording transport: which method was
 * called with which request, what was printed where, and the exit code.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bpfd.pb-c.h"
#include "bpfman.pb-c.h"
#include "cli.h"
#include "convert.h"
#include "grpc_status.h"
#include "macro.h"
#include "tests.h"

/* What the fake bpfd answers, and what it saw. */
struct fake {
	int connect_error;
	int call_error;
	int status;
	const char *message;
	const ProtobufCMessage *response;
	const char *raw_body; /* instead of response: bytes that are not a message */

	int calls;
	char socket[256];
	char method[128];
	uint8_t *request;
	size_t request_len;
};

static struct fake fake;

static int fake_connect(void *userdata, const char *socket_path, void **ret_conn)
{
	snprintf(fake.socket, sizeof(fake.socket), "%s", socket_path);
	if (fake.connect_error)
		return fake.connect_error;
	*ret_conn = &fake;
	return 0;
}

static int fake_call(void *conn, const char *path, const uint8_t *req, size_t len,
		     unsigned timeout_ms, struct grpc_result *ret)
{
	fake.calls++;
	snprintf(fake.method, sizeof(fake.method), "%s", path);
	free(fake.request);
	fake.request = malloc(len ? len : 1);
	memcpy(fake.request, req, len);
	fake.request_len = len;
	if (fake.call_error)
		return fake.call_error;
	*ret = (struct grpc_result){ .status = fake.status };
	if (fake.message)
		ret->message = strdup(fake.message);
	if (fake.raw_body) {
		ret->body = (uint8_t *)strdup(fake.raw_body);
		ret->body_len = strlen(fake.raw_body);
	} else if (fake.response) {
		ret->body_len = protobuf_c_message_get_packed_size(fake.response);
		ret->body = malloc(ret->body_len ? ret->body_len : 1);
		protobuf_c_message_pack(fake.response, ret->body);
	}
	return 0;
}

static void fake_disconnect(void *conn)
{
}

static void fake_clear(struct grpc_result *r)
{
	free(r->message);
	free(r->body);
	*r = (struct grpc_result){};
}

static const struct cli_transport fake_transport = {
	.connect = fake_connect,
	.call = fake_call,
	.disconnect = fake_disconnect,
	.result_clear = fake_clear,
};

struct run {
	int code;
	char *out, *err;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Runs "bpfctl WORDS..." with the fake; fake's answer must be set up before. */
static struct run *run_words(struct run *r, char **words)
{
	size_t out_len = 0, err_len = 0;
	struct cli cli = { .transport = &fake_transport };
	char *argv[64] = { (char *)"bpfctl" };
	int argc = 1;

	while (words[argc - 1])
		argv[argc] = words[argc - 1], argc++;
	*r = (struct run){};
	cli.out = open_memstream(&r->out, &out_len);
	cli.err = open_memstream(&r->err, &err_len);
	r->code = cli_main(&cli, argc, argv);
	cli_done(&cli);
	fclose(cli.out);
	fclose(cli.err);
	return r;
}

#define RUN(r, ...) run_words((r), (char *[]){ __VA_ARGS__, NULL })

static void reset(void)
{
	free(fake.request);
	fake = (struct fake){};
	unsetenv("BPFD_SOCKET");
}

#define UNPACK(type, desc)                                                                         \
	((type *)protobuf_c_message_unpack(&(desc), NULL, fake.request_len, fake.request))

TEST(attach_xdp_builds_the_request)
{
	Bpfman__V1__AttachResponse resp = BPFMAN__V1__ATTACH_RESPONSE__INIT;
	_cleanup_pb_ Bpfman__V1__AttachRequest *req = NULL;
	_cleanup_(run_free) struct run r;
	Bpfman__V1__XDPAttachInfo *x;

	reset();
	resp.has_link_id = true;
	resp.link_id = 7;
	fake.response = &resp.base;
	RUN(&r, "attach", "42", "xdp", "--iface", "eth0", "--priority", "50", "--proceed-on", "pass",
	    "--proceed-on", "dispatcher_return", "--proceed-on", "4", "--netns", "/run/netns/a",
	    "-m", "app=demo");
	ASSERT_STR_EQ(r.err, "");
	ASSERT_INT_EQ(r.code, 0);
	ASSERT_STR_EQ(r.out, "Attached: link id 7\n");
	ASSERT_STR_EQ(fake.method, "/bpfman.v1.Bpfman/Attach");
	ASSERT_STR_EQ(fake.socket, CLI_DEFAULT_SOCKET);
	req = UNPACK(Bpfman__V1__AttachRequest, bpfman__v1__attach_request__descriptor);
	ASSERT_TRUE(req && req->has_id);
	ASSERT_INT_EQ(req->id, 42);
	ASSERT_INT_EQ(req->attach->info_case, BPFMAN__V1__ATTACH_INFO__INFO_XDP_ATTACH_INFO);
	x = req->attach->xdp_attach_info;
	ASSERT_STR_EQ(x->iface, "eth0");
	ASSERT_TRUE(x->has_priority);
	ASSERT_INT_EQ(x->priority, 50);
	ASSERT_INT_EQ(x->n_proceed_on, 3);
	ASSERT_INT_EQ(x->proceed_on[0], 2);
	ASSERT_INT_EQ(x->proceed_on[1], 31);
	ASSERT_INT_EQ(x->proceed_on[2], 4);
	ASSERT_STR_EQ(x->netns, "/run/netns/a");
	ASSERT_INT_EQ(x->n_metadata, 1);
	ASSERT_STR_EQ(x->metadata[0]->key, "app");
	ASSERT_STR_EQ(x->metadata[0]->value, "demo");
	ASSERT_TRUE(!x->has_position);
}

TEST(attach_xdp_priority_passed_through)
{
	Bpfman__V1__AttachResponse resp = BPFMAN__V1__ATTACH_RESPONSE__INIT;
	_cleanup_pb_ Bpfman__V1__AttachRequest *req = NULL;
	_cleanup_(run_free) struct run r;

	reset();
	fake.response = &resp.base;
	/* 0 and out-of-range priorities are bpfd's to judge. */
	RUN(&r, "attach", "42", "xdp", "--iface", "eth0", "--priority", "0");
	ASSERT_INT_EQ(r.code, 0);
	req = UNPACK(Bpfman__V1__AttachRequest, bpfman__v1__attach_request__descriptor);
	ASSERT_TRUE(req->attach->xdp_attach_info->has_priority);
	ASSERT_INT_EQ(req->attach->xdp_attach_info->priority, 0);
	ASSERT_INT_EQ(req->attach->xdp_attach_info->n_proceed_on, 0);
}

TEST(attach_tc_and_tcx)
{
	Bpfman__V1__AttachResponse resp = BPFMAN__V1__ATTACH_RESPONSE__INIT;
	_cleanup_pb_ Bpfman__V1__AttachRequest *req = NULL, *req2 = NULL;
	_cleanup_(run_free) struct run r, r2;

	reset();
	fake.response = &resp.base;
	RUN(&r, "attach", "1", "tc", "--direction", "egress", "--iface", "veth0", "--proceed-on",
	    "-1", "--proceed-on", "shot", "--proceed-on", "dispatcher_return");
	ASSERT_INT_EQ(r.code, 0);
	req = UNPACK(Bpfman__V1__AttachRequest, bpfman__v1__attach_request__descriptor);
	ASSERT_INT_EQ(req->attach->info_case, BPFMAN__V1__ATTACH_INFO__INFO_TC_ATTACH_INFO);
	ASSERT_STR_EQ(req->attach->tc_attach_info->direction, "egress");
	ASSERT_STR_EQ(req->attach->tc_attach_info->iface, "veth0");
	ASSERT_TRUE(!req->attach->tc_attach_info->has_priority);
	ASSERT_INT_EQ(req->attach->tc_attach_info->n_proceed_on, 3);
	ASSERT_INT_EQ(req->attach->tc_attach_info->proceed_on[0], -1);
	ASSERT_INT_EQ(req->attach->tc_attach_info->proceed_on[1], 2);
	ASSERT_INT_EQ(req->attach->tc_attach_info->proceed_on[2], 30);

	RUN(&r2, "attach", "1", "tcx", "--direction", "ingress", "--iface", "veth0", "--priority",
	    "5");
	ASSERT_INT_EQ(r2.code, 0);
	req2 = UNPACK(Bpfman__V1__AttachRequest, bpfman__v1__attach_request__descriptor);
	ASSERT_INT_EQ(req2->attach->info_case, BPFMAN__V1__ATTACH_INFO__INFO_TCX_ATTACH_INFO);
	ASSERT_STR_EQ(req2->attach->tcx_attach_info->direction, "ingress");
	ASSERT_INT_EQ(req2->attach->tcx_attach_info->priority, 5);
}

TEST(attach_usage_errors_send_nothing)
{
#define W(...) ((const char *const[]){ __VA_ARGS__, NULL })
	const char *const *const cases[] = {
		W("attach", "1", "tc", "--iface", "lo"),
		W("attach", "1", "tc", "--iface", "lo", "--direction", "both"),
		W("attach", "1", "tcx", "--iface", "lo", "--direction", "ingress",
		  "--proceed-on", "ok"),
		W("attach", "1", "xdp", "--iface", "lo", "--proceed-on", "ok"),
		W("attach", "1", "xdp", "--iface", "lo", "--priority", "high"),
		W("attach", "1", "tracepoint", "--tracepoint", "sys_enter"),
		W("attach", "1", "tracepoint", "--tracepoint", "a/b/c"),
		W("attach", "1", "tracepoint", "--tracepoint", "/b"),
		W("attach", "1", "kprobe"),
		W("attach", "1", "kprobe", "--fn-name", "f", "--offset", "x"),
		W("attach", "1", "uprobe", "--fn-name", "f"),
		W("attach", "1", "fentry", "--iface", "lo"),
		W("attach", "-1", "xdp", "--iface", "lo"),
		W("attach", "4294967296", "xdp", "--iface", "lo"),
		W("attach", "1", "xdpp"),
		W("attach", "1"),
		W("attach", "xdp", "--iface", "lo"),
	};

#undef W
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(run_free) struct run r;

		reset();
		run_words(&r, (char **)cases[i]);
		if (r.code != 2)
			TEST_FAIL("case %zu: exit %d, stderr %s", i, r.code, r.err);
		ASSERT_INT_EQ(fake.calls, 0);
		ASSERT_STR_CONTAINS(r.err, "bpfctl: attach: ");
		ASSERT_STR_CONTAINS(r.err, "Try 'bpfctl attach");
		ASSERT_STR_EQ(r.out, "");
	}
}

TEST(attach_probes_and_metadata_only_types)
{
	Bpfman__V1__AttachResponse resp = BPFMAN__V1__ATTACH_RESPONSE__INIT;
	_cleanup_(run_free) struct run r1, r2, r3, r4, r5;
	Bpfman__V1__AttachRequest *req;

	reset();
	fake.response = &resp.base;

	RUN(&r1, "attach", "5", "tracepoint", "--tracepoint", "syscalls/sys_enter_openat");
	ASSERT_INT_EQ(r1.code, 0);
	req = UNPACK(Bpfman__V1__AttachRequest, bpfman__v1__attach_request__descriptor);
	ASSERT_STR_EQ(req->attach->tracepoint_attach_info->tracepoint, "syscalls/sys_enter_openat");
	protobuf_c_message_free_unpacked(&req->base, NULL);

	RUN(&r2, "attach", "5", "kprobe", "--fn-name", "do_unlinkat", "--offset", "0x10",
	    "--container-pid", "77");
	ASSERT_INT_EQ(r2.code, 0);
	req = UNPACK(Bpfman__V1__AttachRequest, bpfman__v1__attach_request__descriptor);
	ASSERT_INT_EQ(req->attach->info_case, BPFMAN__V1__ATTACH_INFO__INFO_KPROBE_ATTACH_INFO);
	ASSERT_STR_EQ(req->attach->kprobe_attach_info->fn_name, "do_unlinkat");
	ASSERT_TRUE(req->attach->kprobe_attach_info->has_offset);
	ASSERT_INT_EQ(req->attach->kprobe_attach_info->offset, 16);
	ASSERT_INT_EQ(req->attach->kprobe_attach_info->container_pid, 77);
	protobuf_c_message_free_unpacked(&req->base, NULL);

	RUN(&r3, "attach", "5", "uprobe", "--target", "libc", "--fn-name", "malloc", "--pid", "9");
	ASSERT_INT_EQ(r3.code, 0);
	req = UNPACK(Bpfman__V1__AttachRequest, bpfman__v1__attach_request__descriptor);
	ASSERT_INT_EQ(req->attach->info_case, BPFMAN__V1__ATTACH_INFO__INFO_UPROBE_ATTACH_INFO);
	ASSERT_STR_EQ(req->attach->uprobe_attach_info->target, "libc");
	ASSERT_STR_EQ(req->attach->uprobe_attach_info->fn_name, "malloc");
	ASSERT_TRUE(req->attach->uprobe_attach_info->has_pid);
	ASSERT_INT_EQ(req->attach->uprobe_attach_info->pid, 9);
	ASSERT_TRUE(!req->attach->uprobe_attach_info->has_offset);
	ASSERT_TRUE(!req->attach->uprobe_attach_info->has_container_pid);
	protobuf_c_message_free_unpacked(&req->base, NULL);

	RUN(&r4, "attach", "5", "fexit", "-m", "a=b");
	ASSERT_INT_EQ(r4.code, 0);
	req = UNPACK(Bpfman__V1__AttachRequest, bpfman__v1__attach_request__descriptor);
	ASSERT_INT_EQ(req->attach->info_case, BPFMAN__V1__ATTACH_INFO__INFO_FEXIT_ATTACH_INFO);
	ASSERT_INT_EQ(req->attach->fexit_attach_info->n_metadata, 1);
	protobuf_c_message_free_unpacked(&req->base, NULL);

	RUN(&r5, "attach", "5", "lsm");
	ASSERT_INT_EQ(r5.code, 0);
	req = UNPACK(Bpfman__V1__AttachRequest, bpfman__v1__attach_request__descriptor);
	ASSERT_INT_EQ(req->attach->info_case, BPFMAN__V1__ATTACH_INFO__INFO_LSM_ATTACH_INFO);
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

TEST(load_file_builds_the_request)
{
	Bpfman__V1__LoadResponse resp = BPFMAN__V1__LOAD_RESPONSE__INIT;
	_cleanup_pb_ Bpfman__V1__LoadRequest *req = NULL;
	_cleanup_(run_free) struct run r;
	_cleanup_free_ char *cwd = getcwd(NULL, 0), *want = NULL;

	reset();
	fake.response = &resp.base;
	RUN(&r, "load", "file", "--path", "obj/x.bpf.o", "--programs", "xdp:a", "fentry:b:do_unlinkat",
	    "-g", "tag=01000000", "--programs", "lsm:c:file_open", "-m", "app=demo",
	    "--map-owner-id", "12", "--uuid", "u-1");
	ASSERT_STR_EQ(r.err, "");
	ASSERT_INT_EQ(r.code, 0);
	ASSERT_STR_EQ(fake.method, "/bpfman.v1.Bpfman/Load");
	req = UNPACK(Bpfman__V1__LoadRequest, bpfman__v1__load_request__descriptor);
	ASSERT_TRUE(req != NULL);
	ASSERT_INT_EQ(req->bytecode->location_case, BPFMAN__V1__BYTECODE_LOCATION__LOCATION_FILE);
	ASSERT_TRUE(asprintf(&want, "%s/obj/x.bpf.o", cwd) > 0);
	ASSERT_STR_EQ(req->bytecode->file, want);
	ASSERT_INT_EQ(req->n_info, 3);
	ASSERT_STR_EQ(req->info[0]->name, "a");
	ASSERT_INT_EQ(req->info[0]->program_type, BPFMAN__V1__BPFMAN_PROGRAM_TYPE__XDP);
	ASSERT_STR_EQ(req->info[1]->info->fentry_load_info->fn_name, "do_unlinkat");
	ASSERT_STR_EQ(req->info[2]->info->lsm_load_info->hook_name, "file_open");
	ASSERT_INT_EQ(req->n_global_data, 1);
	ASSERT_INT_EQ(req->global_data[0]->value.len, 4);
	ASSERT_INT_EQ(req->n_metadata, 1);
	ASSERT_TRUE(req->has_map_owner_id);
	ASSERT_INT_EQ(req->map_owner_id, 12);
	ASSERT_STR_EQ(req->uuid, "u-1");
}

TEST(load_absolute_path_untouched_and_bad_programs)
{
	Bpfman__V1__LoadResponse resp = BPFMAN__V1__LOAD_RESPONSE__INIT;
	_cleanup_pb_ Bpfman__V1__LoadRequest *req = NULL;
	_cleanup_(run_free) struct run r, r2, r3;

	reset();
	fake.response = &resp.base;
	RUN(&r, "load", "file", "-p", "/abs/x.o", "--programs", "tc:a");
	ASSERT_INT_EQ(r.code, 0);
	req = UNPACK(Bpfman__V1__LoadRequest, bpfman__v1__load_request__descriptor);
	ASSERT_STR_EQ(req->bytecode->file, "/abs/x.o");
	ASSERT_TRUE(!req->has_map_owner_id);
	ASSERT_TRUE(req->uuid == NULL);

	reset();
	RUN(&r2, "load", "file", "--path", "/x.o", "--programs", "xdp:a", "fentry:b");
	ASSERT_INT_EQ(r2.code, 2);
	ASSERT_INT_EQ(fake.calls, 0);
	ASSERT_STR_EQ(r2.err, "bpfctl: load file: --programs: invalid value 'fentry:b': fentry and "
			      "fexit need the kernel function: TYPE:FUNC:ATTACH_FN\n"
			      "Try 'bpfctl load file --help'.\n");

	RUN(&r3, "load", "file", "--programs", "xdp:a");
	ASSERT_INT_EQ(r3.code, 2);
	ASSERT_STR_CONTAINS(r3.err, "bpfctl: load file: missing option --path PATH\n");
}

TEST(load_image_is_sent_and_unimplemented_is_reported)
{
	_cleanup_pb_ Bpfman__V1__LoadRequest *req = NULL;
	_cleanup_(run_free) struct run r;

	reset();
	fake.status = GRPC_STATUS_UNIMPLEMENTED;
	fake.message = "container images are not supported";
	RUN(&r, "load", "image", "--image-url", "quay.io/x:v1", "--pull-policy", "Never",
	    "--programs", "xdp:a");
	ASSERT_INT_EQ(r.code, 1);
	ASSERT_STR_EQ(r.err, "bpfctl: load image: UNIMPLEMENTED: container images are not supported\n");
	req = UNPACK(Bpfman__V1__LoadRequest, bpfman__v1__load_request__descriptor);
	ASSERT_INT_EQ(req->bytecode->location_case, BPFMAN__V1__BYTECODE_LOCATION__LOCATION_IMAGE);
	ASSERT_STR_EQ(req->bytecode->image->url, "quay.io/x:v1");
	ASSERT_TRUE(req->bytecode->image->has_image_pull_policy);
	ASSERT_INT_EQ(req->bytecode->image->image_pull_policy, 2);
}

TEST(list_requests)
{
	Bpfman__V1__ListResponse resp = BPFMAN__V1__LIST_RESPONSE__INIT;
	_cleanup_(run_free) struct run r1, r2;
	Bpfman__V1__ListRequest *req;

	reset();
	fake.response = &resp.base;
	RUN(&r1, "list");
	ASSERT_INT_EQ(r1.code, 0);
	ASSERT_STR_EQ(r1.out, "ID  NAME  TYPE  LOADED AT  LINKS  METADATA\n");
	req = UNPACK(Bpfman__V1__ListRequest, bpfman__v1__list_request__descriptor);
	ASSERT_TRUE(req->has_bpfman_programs_only && req->bpfman_programs_only);
	ASSERT_TRUE(!req->has_program_type);
	protobuf_c_message_free_unpacked(&req->base, NULL);

	RUN(&r2, "list", "--all", "--type", "tcx", "-m", "a=b", "-m", "c=d");
	ASSERT_INT_EQ(r2.code, 0);
	req = UNPACK(Bpfman__V1__ListRequest, bpfman__v1__list_request__descriptor);
	ASSERT_TRUE(!req->has_bpfman_programs_only || !req->bpfman_programs_only);
	ASSERT_TRUE(req->has_program_type);
	ASSERT_INT_EQ(req->program_type, 3);
	ASSERT_INT_EQ(req->n_match_metadata, 2);
	ASSERT_STR_EQ(req->match_metadata[1]->key, "c");
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

TEST(server_errors_text_and_json)
{
	_cleanup_(run_free) struct run r1, r2, r3;

	reset();
	fake.status = GRPC_STATUS_NOT_FOUND;
	fake.message = "program 9 not found";
	RUN(&r1, "get", "9");
	ASSERT_INT_EQ(r1.code, 1);
	ASSERT_STR_EQ(r1.out, "");
	ASSERT_STR_EQ(r1.err, "bpfctl: get: NOT_FOUND: program 9 not found\n");

	RUN(&r2, "get", "9", "--json");
	ASSERT_INT_EQ(r2.code, 1);
	ASSERT_STR_EQ(r2.err, "");
	ASSERT_STR_EQ(r2.out, "{\"error\":{\"status\":\"NOT_FOUND\",\"code\":5,"
			      "\"message\":\"program 9 not found\"}}\n");

	fake.status = GRPC_STATUS_FAILED_PRECONDITION;
	fake.message = NULL;
	RUN(&r3, "link", "get", "3");
	ASSERT_INT_EQ(r3.code, 1);
	ASSERT_STR_EQ(r3.err, "bpfctl: link get: FAILED_PRECONDITION\n");
	ASSERT_STR_EQ(fake.method, "/bpfd.v1.Bpfd/GetLink");
}

TEST(connect_failures_exit_3)
{
	_cleanup_(run_free) struct run r1, r2, r3;

	reset();
	fake.connect_error = -ENOENT;
	RUN(&r1, "--socket", "/tmp/nope.sock", "list");
	ASSERT_INT_EQ(r1.code, 3);
	ASSERT_STR_EQ(r1.err, "bpfctl: list: cannot connect to /tmp/nope.sock: No such file or "
			      "directory — is bpfd running?\n");

	fake.connect_error = -EACCES;
	setenv("BPFD_SOCKET", "/env/bpfd.sock", 1);
	RUN(&r2, "version");
	ASSERT_INT_EQ(r2.code, 3);
	ASSERT_STR_CONTAINS(r2.err, "cannot connect to /env/bpfd.sock: Permission denied — is your "
				    "user in group bpfd?");

	RUN(&r3, "unload", "1", "--json", "--socket", "/s");
	ASSERT_INT_EQ(r3.code, 3);
	ASSERT_STR_EQ(fake.socket, "/s");
	ASSERT_STR_EQ(r3.out, "{\"error\":{\"status\":\"UNAVAILABLE\",\"code\":14,\"message\":"
			      "\"cannot connect to /s: Permission denied — is your user in group "
			      "bpfd?\"}}\n");
	unsetenv("BPFD_SOCKET");
}

TEST(transport_failures_exit_4)
{
	_cleanup_(run_free) struct run r1, r2, r3;

	reset();
	fake.call_error = -ECONNRESET;
	RUN(&r1, "detach", "3");
	ASSERT_INT_EQ(r1.code, 4);
	ASSERT_STR_CONTAINS(r1.err, "bpfctl: detach: talking to bpfd at " CLI_DEFAULT_SOCKET
				    ": Connection reset by peer");

	fake.call_error = -EINVAL; /* must not look like a usage error */
	RUN(&r2, "--json", "detach", "3");
	ASSERT_INT_EQ(r2.code, 4);
	ASSERT_STR_CONTAINS(r2.out, "\"status\":\"INTERNAL\"");

	fake.call_error = 0;
	fake.raw_body = "\xff\xff\xff";
	RUN(&r3, "get", "1");
	ASSERT_INT_EQ(r3.code, 4);
	ASSERT_STR_CONTAINS(r3.err, "is not a valid bpfman.v1.GetResponse message");
}

TEST(json_success_outputs)
{
	Bpfman__V1__DetachResponse d = BPFMAN__V1__DETACH_RESPONSE__INIT;
	Bpfd__V1__VersionResponse v = BPFD__V1__VERSION_RESPONSE__INIT;
	Bpfman__V1__AttachResponse a = BPFMAN__V1__ATTACH_RESPONSE__INIT;
	_cleanup_(run_free) struct run r1, r2, r3, r4;

	reset();
	fake.response = &d.base;
	RUN(&r1, "--json", "detach", "3");
	ASSERT_INT_EQ(r1.code, 0);
	ASSERT_STR_EQ(r1.out, "{}\n");
	ASSERT_STR_EQ(fake.method, "/bpfman.v1.Bpfman/Detach");

	RUN(&r2, "unload", "3");
	ASSERT_STR_EQ(r2.out, "Unloaded program 3\n");

	v.version = (char *)"0.1.0";
	fake.response = &v.base;
	RUN(&r3, "version", "--json");
	ASSERT_STR_EQ(r3.out, "{\"client_version\":\"" BPFD_VERSION "\",\"version\":\"0.1.0\","
			      "\"features\":[]}\n");

	a.has_link_id = true;
	a.link_id = 11;
	fake.response = &a.base;
	RUN(&r4, "attach", "--json", "3", "fentry");
	ASSERT_STR_EQ(r4.out, "{\"link_id\":11}\n");
}

TEST(link_list_request_and_table)
{
	Bpfd__V1__ListLinksResponse resp = BPFD__V1__LIST_LINKS_RESPONSE__INIT;
	_cleanup_pb_ Bpfd__V1__ListLinksRequest *req = NULL;
	_cleanup_(run_free) struct run r;

	reset();
	fake.response = &resp.base;
	RUN(&r, "link", "list", "--program", "42");
	ASSERT_INT_EQ(r.code, 0);
	ASSERT_STR_EQ(fake.method, "/bpfd.v1.Bpfd/ListLinks");
	ASSERT_STR_EQ(r.out, "LINK  PROGRAM  TYPE  HOOK  PRIORITY  POSITION\n");
	req = UNPACK(Bpfd__V1__ListLinksRequest, bpfd__v1__list_links_request__descriptor);
	ASSERT_TRUE(req->has_program_id);
	ASSERT_INT_EQ(req->program_id, 42);
}

TEST(usage_and_help_make_no_calls)
{
	_cleanup_(run_free) struct run r1, r2, r3, r4, r5, r6, r7, r8;

	reset();
	RUN(&r1, "frobnicate");
	ASSERT_INT_EQ(r1.code, 2);
	ASSERT_STR_EQ(r1.err, "bpfctl: unknown verb 'frobnicate'\nTry 'bpfctl --help'.\n");

	RUN(&r2, "--json", "lis");
	ASSERT_INT_EQ(r2.code, 2);
	ASSERT_STR_EQ(r2.out, "{\"error\":{\"status\":\"INVALID_ARGUMENT\",\"code\":3,"
			      "\"message\":\"unknown verb 'lis'\"}}\n");

	RUN(&r3, "--bogus", "--json", "list");
	ASSERT_INT_EQ(r3.code, 2);
	ASSERT_STR_CONTAINS(r3.out, "unknown option '--bogus'");

	RUN(&r4, "attach", "42", "xdp", "--help");
	ASSERT_INT_EQ(r4.code, 0);
	ASSERT_STR_CONTAINS(r4.out, "Usage: bpfctl attach ID xdp --iface IFACE [OPTIONS]\n");

	RUN(&r5, "help", "attach", "42", "tc");
	ASSERT_INT_EQ(r5.code, 0);
	ASSERT_STR_CONTAINS(r5.out, "Usage: bpfctl attach ID tc --iface IFACE --direction DIR");

	RUN(&r6, "--version");
	ASSERT_INT_EQ(r6.code, 0);
	ASSERT_STR_EQ(r6.out, "bpfctl " BPFD_VERSION "\n");

	RUN(&r7, "link");
	ASSERT_INT_EQ(r7.code, 2);
	ASSERT_STR_EQ(r7.err, "bpfctl: link: missing COMMAND (list, get)\nTry 'bpfctl link --help'.\n");

	RUN(&r8, "get", "1", "2");
	ASSERT_INT_EQ(r8.code, 2);
	ASSERT_STR_CONTAINS(r8.err, "unexpected argument '2'");
	ASSERT_INT_EQ(fake.calls, 0);
}

TEST(exit_code_classes)
{
	ASSERT_INT_EQ(cli_exit_code(0), 0);
	ASSERT_INT_EQ(cli_exit_code(-EREMOTEIO), 1);
	ASSERT_INT_EQ(cli_exit_code(-EINVAL), 2);
	ASSERT_INT_EQ(cli_exit_code(-ENOTCONN), 3);
	ASSERT_INT_EQ(cli_exit_code(-EPROTO), 4);
	ASSERT_INT_EQ(cli_exit_code(-ECONNRESET), 4);
	ASSERT_INT_EQ(cli_exit_code(-ENOMEM), 4);
}
