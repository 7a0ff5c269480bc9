/* SPDX-License-Identifier: Apache-2.0 */
/* bpfctl's verbs: their tables (which also make --help and docs/bpfctl.md) and their bodies. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfd.pb-c.h"
#include "bpfman.pb-c.h"
#include "cli.h"
#include "convert.h"
#include "doctor_verbs.h"
#include "grpc_status.h"
#include "output.h"

/* Most answers come at once; Load waits for the verifier, which may take long, and giving up
 * on it would leave a program loaded that nobody was told about. */
#define CALL_TIMEOUT_MS 60000
#define LOAD_TIMEOUT_MS 0

const struct cli_option cli_global_options[] = {
	{ .name = "socket", .type = CLI_OPT_STRING, .metavar = "PATH",
	  .help = "bpfd's socket. Default: $BPFD_SOCKET if set, else " CLI_DEFAULT_SOCKET ".",
	  .offset = offsetof(struct cli_globals, socket) },
	{ .name = "json", .type = CLI_OPT_FLAG,
	  .help = "Print the answer as one line of JSON on stdout; errors too, as "
		  "{\"error\":{\"status\":NAME,\"code\":N,\"message\":TEXT}}.",
	  .offset = offsetof(struct cli_globals, json) },
	{ .name = "help", .short_name = 'h', .type = CLI_OPT_FLAG, .stops = true,
	  .help = "Show this help and exit.", .offset = offsetof(struct cli_globals, help) },
	{ .name = "version", .type = CLI_OPT_FLAG, .stops = true,
	  .help = "Print bpfctl's version and exit ('bpfctl version' asks bpfd too).",
	  .offset = offsetof(struct cli_globals, version) },
	{},
};

static ProtobufCMessage *base(void *m)
{
	return m;
}

static int oom(struct cli *cli)
{
	return cli_fail(cli, -ENOMEM, GRPC_STATUS_INTERNAL, "out of memory");
}

/* Every KEY=VALUE of l into the map<string,string> `field` of msg. */
static int add_metadata(struct cli *cli, void *msg, const char *field, const struct cli_kv_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (pb_map_add(base(msg), field, l->v[i].key, l->v[i].value, 0) < 0)
			return oom(cli);
	return 0;
}

/* --- load ------------------------------------------------------------------------------- */

struct load_args {
	const char *path;
	const char *image_url;
	const struct cli_name *pull_policy;
	struct cli_strv programs;
	struct cli_kv_list globals;
	struct cli_kv_list metadata;
	struct cli_u32 map_owner_id;
	const char *uuid;
};

#define LOAD_OPTIONS                                                                               \
	{ .name = "programs", .type = CLI_OPT_WORDS, .required = true,                             \
	  .metavar = "TYPE:FUNC[:ATTACH_FN]",                                                      \
	  .help = "The programs to load, one word each; takes every following word up to the "    \
		  "next option. TYPE is xdp, tc, tcx, tracepoint, kprobe, uprobe, fentry, fexit "  \
		  "or lsm; FUNC is the function in the object; ATTACH_FN is the kernel function "  \
		  "for fentry and fexit and the hook for lsm (required there, refused "           \
		  "elsewhere). kprobe and uprobe cover the return probes too: the object's "      \
		  "section says which.",                                                           \
	  .offset = offsetof(struct load_args, programs) },                                        \
	{ .name = "global", .short_name = 'g', .type = CLI_OPT_HEX_KV, .metavar = "NAME=HEX",      \
	  .help = "Set the global variable NAME (in .rodata, .data or .bss) to the bytes HEX, "    \
		  "in memory order, e.g. -g tag=01000000 for a little-endian u32 1. The "         \
		  "length must equal the variable's size.",                                        \
	  .offset = offsetof(struct load_args, globals) },                                         \
	{ .name = "metadata", .short_name = 'm', .type = CLI_OPT_KV, .metavar = "KEY=VALUE",       \
	  .help = "Metadata kept with the programs ('bpfctl list -m' selects by it).",             \
	  .offset = offsetof(struct load_args, metadata) },                                        \
	{ .name = "map-owner-id", .type = CLI_OPT_U32, .metavar = "ID",                            \
	  .help = "Use the maps of the already loaded program ID instead of creating new ones.",   \
	  .offset = offsetof(struct load_args, map_owner_id) },                                    \
	{ .name = "uuid", .type = CLI_OPT_STRING, .metavar = "UUID",                               \
	  .help = "Sent as LoadRequest.uuid, as bpfman's Kubernetes agent sends it.",              \
	  .offset = offsetof(struct load_args, uuid) }

static const struct cli_option load_file_options[] = {
	{ .name = "path", .short_name = 'p', .type = CLI_OPT_STRING, .required = true,
	  .metavar = "PATH",
	  .help = "The ELF object file. bpfd opens it itself, so a relative PATH is made absolute "
		  "against bpfctl's working directory first.",
	  .offset = offsetof(struct load_args, path) },
	LOAD_OPTIONS,
	{},
};

static const struct cli_option load_image_options[] = {
	{ .name = "image-url", .short_name = 'i', .type = CLI_OPT_STRING, .required = true,
	  .metavar = "URL", .help = "The OCI image holding the bytecode.",
	  .offset = offsetof(struct load_args, image_url) },
	{ .name = "pull-policy", .type = CLI_OPT_CHOICE, .metavar = "POLICY",
	  .names = convert_pull_policies, .help = "When to pull the image.",
	  .offset = offsetof(struct load_args, pull_policy) },
	LOAD_OPTIONS,
	{},
};

/* PATH, absolute against our working directory: bpfd's is not ours. */
static int absolute_path(struct cli *cli, const char *path, char **ret)
{
	_cleanup_free_ char *cwd = NULL;
	char *s;

	if (path[0] == '/') {
		s = strdup(path);
		if (!s)
			return oom(cli);
		*ret = s;
		return 0;
	}
	cwd = getcwd(NULL, 0);
	if (!cwd) {
		int r = negative_errno();

		return cli_fail(cli, r, GRPC_STATUS_INTERNAL,
				"--path: cannot make '%s' absolute: %s", path, strerror(-r));
	}
	if (asprintf(&s, "%s/%s", streq(cwd, "/") ? "" : cwd, path) < 0)
		return oom(cli);
	*ret = s;
	return 0;
}

static int load(struct cli *cli, struct load_args *a)
{
	_cleanup_pb_ Bpfman__V1__LoadRequest *req = NULL;
	_cleanup_pb_ Bpfman__V1__LoadResponse *resp = NULL;
	Bpfman__V1__BytecodeLocation *loc;
	int r;

	req = pb_new(&bpfman__v1__load_request__descriptor);
	if (!req)
		return oom(cli);
	req->bytecode = loc = pb_new(&bpfman__v1__bytecode_location__descriptor);
	if (!loc)
		return oom(cli);
	if (a->path) {
		r = absolute_path(cli, a->path, &loc->file);
		if (r < 0)
			return r;
		loc->location_case = BPFMAN__V1__BYTECODE_LOCATION__LOCATION_FILE;
	} else {
		Bpfman__V1__BytecodeImage *img = pb_new(&bpfman__v1__bytecode_image__descriptor);

		if (!img)
			return oom(cli);
		loc->location_case = BPFMAN__V1__BYTECODE_LOCATION__LOCATION_IMAGE;
		loc->image = img;
		img->url = strdup(a->image_url);
		if (!img->url)
			return oom(cli);
		if (a->pull_policy) {
			img->has_image_pull_policy = true;
			img->image_pull_policy = a->pull_policy->value;
		}
	}

	req->info = calloc(a->programs.n, sizeof(*req->info));
	if (!req->info && a->programs.n)
		return oom(cli);
	for (size_t i = 0; i < a->programs.n; i++) {
		const char *why = NULL;

		r = convert_program_spec(a->programs.v[i], &req->info[i], &why);
		if (r == -ENOMEM)
			return oom(cli);
		if (r < 0)
			return cli_usage(cli, "--programs: invalid value '%s': %s",
					 a->programs.v[i],
					 why ? why : "expected TYPE:FUNC[:ATTACH_FN]");
		req->n_info++;
	}
	for (size_t i = 0; i < a->globals.n; i++)
		if (pb_map_add(base(req), "global_data", a->globals.v[i].key, a->globals.v[i].bytes,
			       a->globals.v[i].n_bytes) < 0)
			return oom(cli);
	r = add_metadata(cli, req, "metadata", &a->metadata);
	if (r < 0)
		return r;
	if (a->map_owner_id.set) {
		req->has_map_owner_id = true;
		req->map_owner_id = a->map_owner_id.value;
	}
	if (a->uuid) {
		req->uuid = strdup(a->uuid);
		if (!req->uuid)
			return oom(cli);
	}

	r = cli_call(cli, "/bpfman.v1.Bpfman/Load", base(req),
		     &bpfman__v1__load_response__descriptor, LOAD_TIMEOUT_MS,
		     (ProtobufCMessage **)&resp);
	if (r < 0)
		return r;
	if (cli->g.json)
		return cli_print_json(cli, base(resp), NULL);
	for (size_t i = 0; i < resp->n_programs; i++) {
		if (i)
			fputc('\n', cli->out);
		output_program(cli->out, resp->programs[i]->info, resp->programs[i]->kernel_info);
	}
	return 0;
}

static int run_load(struct cli *cli, void *args)
{
	return load(cli, args);
}

static const struct cli_verb load_verbs[] = {
	{ .name = "file",
	  .summary = "Load programs from an ELF object file",
	  .description = "Load one or more programs from an ELF object file. The programs share "
			 "the object's maps. Each loaded program is printed as 'bpfctl get' "
			 "prints it; its kernel id is what 'bpfctl attach' takes.",
	  .options = load_file_options, .args_size = sizeof(struct load_args), .run = run_load },
	{ .name = "image",
	  .summary = "Load programs from an OCI image (bpfd does not pull images yet)",
	  .description = "Load programs from an OCI bytecode image. The request is sent as bpfman "
			 "defines it, but this bpfd does not pull images yet and answers "
			 "UNIMPLEMENTED (exit status 1). Registry credentials are not taken on "
			 "the command line.",
	  .options = load_image_options, .args_size = sizeof(struct load_args), .run = run_load },
	{},
};

/* --- attach ----------------------------------------------------------------------------- */

struct attach_args {
	struct cli_u32 id;
	const char *iface;
	const struct cli_name *direction;
	struct cli_i32 priority;
	struct cli_i32v proceed_on;
	const char *netns;
	const char *tracepoint;
	const char *fn_name;
	struct cli_u64 offset;
	const char *target;
	struct cli_i32 pid;
	struct cli_i32 container_pid;
	struct cli_kv_list metadata;
};

#define OPT_ID(args_type, member, text)                                                            \
	{ .name = "ID", .type = CLI_OPT_U32, .positional = true, .required = true,                 \
	  .help = text, .offset = offsetof(args_type, member) }
#define ATTACH_ID                                                                                  \
	OPT_ID(struct attach_args, id,                                                             \
	       "The kernel id of a program loaded through bpfd ('bpfctl list').")
#define ATTACH_IFACE                                                                               \
	{ .name = "iface", .type = CLI_OPT_STRING, .required = true, .metavar = "IFACE",           \
	  .help = "The network interface, by name.",                                               \
	  .offset = offsetof(struct attach_args, iface) }
#define ATTACH_DIRECTION                                                                           \
	{ .name = "direction", .type = CLI_OPT_CHOICE, .required = true, .metavar = "DIR",         \
	  .names = convert_directions, .help = "Which traffic to see.",                            \
	  .offset = offsetof(struct attach_args, direction) }
#define ATTACH_PRIORITY                                                                            \
	{ .name = "priority", .type = CLI_OPT_I32, .metavar = "N",                                 \
	  .help = "The program's place in the interface's chain: 1..1000, lower runs first, "      \
		  "equal priorities in attach order. 0 or absent: 1000, last. bpfd checks "       \
		  "the range.",                                                                    \
	  .offset = offsetof(struct attach_args, priority) }
#define ATTACH_NETNS                                                                               \
	{ .name = "netns", .type = CLI_OPT_STRING, .metavar = "PATH",                              \
	  .help = "The network namespace the interface is in, e.g. /run/netns/NAME.",              \
	  .offset = offsetof(struct attach_args, netns) }
#define ATTACH_METADATA                                                                            \
	{ .name = "metadata", .short_name = 'm', .type = CLI_OPT_KV, .metavar = "KEY=VALUE",       \
	  .help = "Metadata kept with the link.",                                                  \
	  .offset = offsetof(struct attach_args, metadata) }
#define ATTACH_CONTAINER_PID                                                                       \
	{ .name = "container-pid", .type = CLI_OPT_I32, .metavar = "PID",                          \
	  .help = "A process in the container to probe in: its namespaces apply.",                 \
	  .offset = offsetof(struct attach_args, container_pid) }
#define ATTACH_OFFSET(text)                                                                        \
	{ .name = "offset", .type = CLI_OPT_U64, .metavar = "N", .help = text,                     \
	  .offset = offsetof(struct attach_args, offset) }

static const struct cli_option attach_xdp_options[] = {
	ATTACH_ID,
	ATTACH_IFACE,
	ATTACH_PRIORITY,
	{ .name = "proceed-on", .type = CLI_OPT_I32_LIST, .metavar = "VERDICT",
	  .names = convert_xdp_proceed_on,
	  .help = "Go on with the next program in the chain when this one returns VERDICT. "
		  "Default: pass, dispatcher_return.",
	  .offset = offsetof(struct attach_args, proceed_on) },
	ATTACH_NETNS,
	ATTACH_METADATA,
	{},
};

static const struct cli_option attach_tc_options[] = {
	ATTACH_ID,
	ATTACH_IFACE,
	ATTACH_DIRECTION,
	ATTACH_PRIORITY,
	{ .name = "proceed-on", .type = CLI_OPT_I32_LIST, .metavar = "VERDICT",
	  .names = convert_tc_proceed_on,
	  .help = "Go on with the next program in the chain when this one returns VERDICT. "
		  "Default: pipe, dispatcher_return.",
	  .offset = offsetof(struct attach_args, proceed_on) },
	ATTACH_NETNS,
	ATTACH_METADATA,
	{},
};

static const struct cli_option attach_tcx_options[] = {
	ATTACH_ID, ATTACH_IFACE, ATTACH_DIRECTION, ATTACH_PRIORITY, ATTACH_NETNS, ATTACH_METADATA,
	{},
};

static const struct cli_option attach_tracepoint_options[] = {
	ATTACH_ID,
	{ .name = "tracepoint", .type = CLI_OPT_STRING, .required = true,
	  .metavar = "CATEGORY/NAME",
	  .help = "The tracepoint, as under /sys/kernel/tracing/events, e.g. "
		  "syscalls/sys_enter_openat.",
	  .offset = offsetof(struct attach_args, tracepoint) },
	ATTACH_METADATA,
	{},
};

static const struct cli_option attach_kprobe_options[] = {
	ATTACH_ID,
	{ .name = "fn-name", .type = CLI_OPT_STRING, .required = true, .metavar = "FUNCTION",
	  .help = "The kernel function to probe.",
	  .offset = offsetof(struct attach_args, fn_name) },
	ATTACH_OFFSET("Bytes into the function (decimal or 0x hex). Must be 0 for a kretprobe."),
	ATTACH_CONTAINER_PID,
	ATTACH_METADATA,
	{},
};

static const struct cli_option attach_uprobe_options[] = {
	ATTACH_ID,
	{ .name = "target", .type = CLI_OPT_STRING, .required = true, .metavar = "PATH|LIB",
	  .help = "The executable or library to probe: a path, or a library name such as libc.",
	  .offset = offsetof(struct attach_args, target) },
	{ .name = "fn-name", .type = CLI_OPT_STRING, .metavar = "SYMBOL",
	  .help = "The function to probe; without it, --offset counts from the start of the file.",
	  .offset = offsetof(struct attach_args, fn_name) },
	ATTACH_OFFSET("Bytes into the function, or into the file without --fn-name (decimal or 0x "
		      "hex)."),
	{ .name = "pid", .type = CLI_OPT_I32, .metavar = "PID",
	  .help = "Only fire in this process.", .offset = offsetof(struct attach_args, pid) },
	ATTACH_CONTAINER_PID,
	ATTACH_METADATA,
	{},
};

static const struct cli_option attach_metadata_options[] = {
	ATTACH_ID,
	ATTACH_METADATA,
	{},
};

static int attach(struct cli *cli, struct attach_args *a, Bpfman__V1__AttachInfo__InfoCase which,
		  void *info)
{
	_cleanup_pb_ Bpfman__V1__AttachRequest *req = NULL;
	_cleanup_pb_ Bpfman__V1__AttachResponse *resp = NULL;
	_cleanup_pb_ ProtobufCMessage *owned = info;
	Bpfman__V1__AttachInfo *ai;
	int r;

	req = pb_new(&bpfman__v1__attach_request__descriptor);
	if (!req || !info)
		return oom(cli);
	req->has_id = true;
	req->id = a->id.value;
	req->attach = ai = pb_new(&bpfman__v1__attach_info__descriptor);
	if (!ai)
		return oom(cli);
	/* Every member of the oneof is a message pointer at the same place in the union. */
	ai->info_case = which;
	ai->xdp_attach_info = (Bpfman__V1__XDPAttachInfo *)TAKE_PTR(owned);

	r = cli_call(cli, "/bpfman.v1.Bpfman/Attach", base(req),
		     &bpfman__v1__attach_response__descriptor, CALL_TIMEOUT_MS,
		     (ProtobufCMessage **)&resp);
	if (r < 0)
		return r;
	if (cli->g.json)
		return cli_print_json(cli, base(resp), NULL);
	fprintf(cli->out, "Attached: link id %" PRIu32 "\n", resp->link_id);
	return 0;
}

/* Copies s into *dst (NULL stays NULL). */
static int dup_opt(const char *s, char **dst)
{
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int dup_proceed_on(const struct cli_i32v *l, size_t *ret_n, int32_t **ret)
{
	if (!l->n)
		return 0;
	*ret = malloc(l->n * sizeof(int32_t));
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, l->v, l->n * sizeof(int32_t));
	*ret_n = l->n;
	return 0;
}

static int run_attach_xdp(struct cli *cli, void *args)
{
	struct attach_args *a = args;
	Bpfman__V1__XDPAttachInfo *x = pb_new(&bpfman__v1__xdpattach_info__descriptor);

	if (x) {
		x->has_priority = a->priority.set;
		x->priority = a->priority.value;
		if (dup_opt(a->iface, &x->iface) < 0 || dup_opt(a->netns, &x->netns) < 0 ||
		    dup_proceed_on(&a->proceed_on, &x->n_proceed_on, &x->proceed_on) < 0 ||
		    add_metadata(cli, x, "metadata", &a->metadata) < 0) {
			protobuf_c_message_free_unpacked(base(x), NULL);
			return oom(cli);
		}
	}
	return attach(cli, a, BPFMAN__V1__ATTACH_INFO__INFO_XDP_ATTACH_INFO, x);
}

static int run_attach_tc(struct cli *cli, void *args)
{
	struct attach_args *a = args;
	Bpfman__V1__TCAttachInfo *x = pb_new(&bpfman__v1__tcattach_info__descriptor);

	if (x) {
		x->has_priority = a->priority.set;
		x->priority = a->priority.value;
		if (dup_opt(a->iface, &x->iface) < 0 || dup_opt(a->netns, &x->netns) < 0 ||
		    dup_opt(a->direction->name, &x->direction) < 0 ||
		    dup_proceed_on(&a->proceed_on, &x->n_proceed_on, &x->proceed_on) < 0 ||
		    add_metadata(cli, x, "metadata", &a->metadata) < 0) {
			protobuf_c_message_free_unpacked(base(x), NULL);
			return oom(cli);
		}
	}
	return attach(cli, a, BPFMAN__V1__ATTACH_INFO__INFO_TC_ATTACH_INFO, x);
}

static int run_attach_tcx(struct cli *cli, void *args)
{
	struct attach_args *a = args;
	Bpfman__V1__TCXAttachInfo *x = pb_new(&bpfman__v1__tcxattach_info__descriptor);

	if (x) {
		x->has_priority = a->priority.set;
		x->priority = a->priority.value;
		if (dup_opt(a->iface, &x->iface) < 0 || dup_opt(a->netns, &x->netns) < 0 ||
		    dup_opt(a->direction->name, &x->direction) < 0 ||
		    add_metadata(cli, x, "metadata", &a->metadata) < 0) {
			protobuf_c_message_free_unpacked(base(x), NULL);
			return oom(cli);
		}
	}
	return attach(cli, a, BPFMAN__V1__ATTACH_INFO__INFO_TCX_ATTACH_INFO, x);
}

static int run_attach_tracepoint(struct cli *cli, void *args)
{
	struct attach_args *a = args;
	const char *slash = strchr(a->tracepoint, '/');
	Bpfman__V1__TracepointAttachInfo *x;

	/* Caught here rather than as NOT_FOUND from bpfd: the form is wrong, not the name. */
	if (!slash || slash == a->tracepoint || !slash[1] || strchr(slash + 1, '/'))
		return cli_usage(cli,
				 "--tracepoint: invalid value '%s': expected CATEGORY/NAME, e.g. "
				 "syscalls/sys_enter_openat",
				 a->tracepoint);
	x = pb_new(&bpfman__v1__tracepoint_attach_info__descriptor);
	if (x && (dup_opt(a->tracepoint, &x->tracepoint) < 0 ||
		  add_metadata(cli, x, "metadata", &a->metadata) < 0)) {
		protobuf_c_message_free_unpacked(base(x), NULL);
		return oom(cli);
	}
	return attach(cli, a, BPFMAN__V1__ATTACH_INFO__INFO_TRACEPOINT_ATTACH_INFO, x);
}

static int run_attach_kprobe(struct cli *cli, void *args)
{
	struct attach_args *a = args;
	Bpfman__V1__KprobeAttachInfo *x = pb_new(&bpfman__v1__kprobe_attach_info__descriptor);

	if (x) {
		x->has_offset = a->offset.set;
		x->offset = a->offset.value;
		x->has_container_pid = a->container_pid.set;
		x->container_pid = a->container_pid.value;
		if (dup_opt(a->fn_name, &x->fn_name) < 0 ||
		    add_metadata(cli, x, "metadata", &a->metadata) < 0) {
			protobuf_c_message_free_unpacked(base(x), NULL);
			return oom(cli);
		}
	}
	return attach(cli, a, BPFMAN__V1__ATTACH_INFO__INFO_KPROBE_ATTACH_INFO, x);
}

static int run_attach_uprobe(struct cli *cli, void *args)
{
	struct attach_args *a = args;
	Bpfman__V1__UprobeAttachInfo *x = pb_new(&bpfman__v1__uprobe_attach_info__descriptor);

	if (x) {
		x->has_offset = a->offset.set;
		x->offset = a->offset.value;
		x->has_pid = a->pid.set;
		x->pid = a->pid.value;
		x->has_container_pid = a->container_pid.set;
		x->container_pid = a->container_pid.value;
		if (dup_opt(a->fn_name, &x->fn_name) < 0 || dup_opt(a->target, &x->target) < 0 ||
		    add_metadata(cli, x, "metadata", &a->metadata) < 0) {
			protobuf_c_message_free_unpacked(base(x), NULL);
			return oom(cli);
		}
	}
	return attach(cli, a, BPFMAN__V1__ATTACH_INFO__INFO_UPROBE_ATTACH_INFO, x);
}

/* fentry, fexit and lsm: the target was fixed at load time; only metadata remains. */
static int attach_metadata_only(struct cli *cli, struct attach_args *a,
				const ProtobufCMessageDescriptor *d,
				Bpfman__V1__AttachInfo__InfoCase which)
{
	ProtobufCMessage *x = pb_new(d);

	if (x && add_metadata(cli, x, "metadata", &a->metadata) < 0) {
		protobuf_c_message_free_unpacked(x, NULL);
		return oom(cli);
	}
	return attach(cli, a, which, x);
}

static int run_attach_fentry(struct cli *cli, void *args)
{
	return attach_metadata_only(cli, args, &bpfman__v1__fentry_attach_info__descriptor,
				    BPFMAN__V1__ATTACH_INFO__INFO_FENTRY_ATTACH_INFO);
}

static int run_attach_fexit(struct cli *cli, void *args)
{
	return attach_metadata_only(cli, args, &bpfman__v1__fexit_attach_info__descriptor,
				    BPFMAN__V1__ATTACH_INFO__INFO_FEXIT_ATTACH_INFO);
}

static int run_attach_lsm(struct cli *cli, void *args)
{
	return attach_metadata_only(cli, args, &bpfman__v1__lsm_attach_info__descriptor,
				    BPFMAN__V1__ATTACH_INFO__INFO_LSM_ATTACH_INFO);
}

#define ATTACH_VERB(n, s, d, o, r)                                                                 \
	{ .name = n, .summary = s, .description = d, .options = o,                                 \
	  .args_size = sizeof(struct attach_args), .run = r }

static const struct cli_verb attach_verbs[] = {
	ATTACH_VERB("xdp", "An interface's XDP hook, through bpfd's XDP dispatcher",
		    "Attach a loaded XDP program to a network interface. bpfd chains the programs "
		    "of an interface in a dispatcher, by priority; --proceed-on says after which "
		    "verdicts the chain goes on.",
		    attach_xdp_options, run_attach_xdp),
	ATTACH_VERB("tc", "An interface's TC ingress or egress hook, through bpfd's TC dispatcher",
		    "Attach a loaded TC (sched_cls) program to a network interface, in one "
		    "direction. bpfd chains the programs of an interface and direction in a "
		    "dispatcher, by priority; --proceed-on says after which verdicts the chain "
		    "goes on.",
		    attach_tc_options, run_attach_tc),
	ATTACH_VERB("tcx", "An interface's TCX ingress or egress hook, ordered by priority",
		    "Attach a loaded TCX program to a network interface, in one direction. bpfd "
		    "orders the interface's TCX programs by priority.",
		    attach_tcx_options, run_attach_tcx),
	ATTACH_VERB("tracepoint", "A kernel tracepoint", NULL, attach_tracepoint_options,
		    run_attach_tracepoint),
	ATTACH_VERB("kprobe", "A kernel function entry (kprobe) or return (kretprobe)",
		    "Attach a loaded kprobe program to a kernel function. Whether it fires on "
		    "entry or on return is fixed by the program's section (kprobe/ or kretprobe/).",
		    attach_kprobe_options, run_attach_kprobe),
	ATTACH_VERB("uprobe", "A user-space function entry (uprobe) or return (uretprobe)",
		    "Attach a loaded uprobe program to a function of an executable or library. "
		    "Whether it fires on entry or on return is fixed by the program's section "
		    "(uprobe/ or uretprobe/).",
		    attach_uprobe_options, run_attach_uprobe),
	ATTACH_VERB("fentry", "The kernel function given at load time, on entry", NULL,
		    attach_metadata_options, run_attach_fentry),
	ATTACH_VERB("fexit", "The kernel function given at load time, on exit", NULL,
		    attach_metadata_options, run_attach_fexit),
	ATTACH_VERB("lsm", "The LSM hook given at load time", NULL, attach_metadata_options,
		    run_attach_lsm),
	{},
};

/* --- detach, unload, get ---------------------------------------------------------------- */

struct id_args {
	struct cli_u32 id;
};

static const struct cli_option detach_options[] = {
	{ .name = "LINK_ID", .type = CLI_OPT_U32, .positional = true, .required = true,
	  .help = "The link, as 'bpfctl attach' printed it ('bpfctl link list').",
	  .offset = offsetof(struct id_args, id) },
	{},
};

static const struct cli_option program_id_options[] = {
	OPT_ID(struct id_args, id, "The kernel id of the program ('bpfctl list')."),
	{},
};

static int run_detach(struct cli *cli, void *args)
{
	struct id_args *a = args;
	Bpfman__V1__DetachRequest req = BPFMAN__V1__DETACH_REQUEST__INIT;
	_cleanup_pb_ Bpfman__V1__DetachResponse *resp = NULL;
	int r;

	req.has_link_id = true;
	req.link_id = a->id.value;
	r = cli_call(cli, "/bpfman.v1.Bpfman/Detach", base(&req),
		     &bpfman__v1__detach_response__descriptor, CALL_TIMEOUT_MS,
		     (ProtobufCMessage **)&resp);
	if (r < 0)
		return r;
	if (cli->g.json)
		return cli_print_json(cli, base(resp), NULL);
	fprintf(cli->out, "Detached link %" PRIu32 "\n", a->id.value);
	return 0;
}

static int run_unload(struct cli *cli, void *args)
{
	struct id_args *a = args;
	Bpfman__V1__UnloadRequest req = BPFMAN__V1__UNLOAD_REQUEST__INIT;
	_cleanup_pb_ Bpfman__V1__UnloadResponse *resp = NULL;
	int r;

	req.has_id = true;
	req.id = a->id.value;
	r = cli_call(cli, "/bpfman.v1.Bpfman/Unload", base(&req),
		     &bpfman__v1__unload_response__descriptor, CALL_TIMEOUT_MS,
		     (ProtobufCMessage **)&resp);
	if (r < 0)
		return r;
	if (cli->g.json)
		return cli_print_json(cli, base(resp), NULL);
	fprintf(cli->out, "Unloaded program %" PRIu32 "\n", a->id.value);
	return 0;
}

static int run_get(struct cli *cli, void *args)
{
	struct id_args *a = args;
	Bpfman__V1__GetRequest req = BPFMAN__V1__GET_REQUEST__INIT;
	_cleanup_pb_ Bpfman__V1__GetResponse *resp = NULL;
	int r;

	req.has_id = true;
	req.id = a->id.value;
	r = cli_call(cli, "/bpfman.v1.Bpfman/Get", base(&req),
		     &bpfman__v1__get_response__descriptor, CALL_TIMEOUT_MS,
		     (ProtobufCMessage **)&resp);
	if (r < 0)
		return r;
	if (cli->g.json)
		return cli_print_json(cli, base(resp), NULL);
	output_program(cli->out, resp->info, resp->kernel_info);
	return 0;
}

/* --- list ------------------------------------------------------------------------------- */

struct list_args {
	bool all;
	struct cli_u32 type;
	struct cli_kv_list metadata;
};

static const struct cli_option list_options[] = {
	{ .name = "all", .short_name = 'a', .type = CLI_OPT_FLAG,
	  .help = "Every program in the kernel, not only those bpfd loaded; the others have no "
		  "bpfd columns (\"-\").",
	  .offset = offsetof(struct list_args, all) },
	{ .name = "type", .type = CLI_OPT_PROG_TYPE, .metavar = "TYPE",
	  .help = "Only programs of this kernel program type: libbpf's name (xdp, sched_cls, "
		  "kprobe, tracepoint, tracing, lsm, socket_filter, ...), one of bpfman's "
		  "(tc and tcx mean sched_cls, uprobe means kprobe, fentry and fexit mean "
		  "tracing), or the number.",
	  .offset = offsetof(struct list_args, type) },
	{ .name = "metadata", .short_name = 'm', .type = CLI_OPT_KV, .metavar = "KEY=VALUE",
	  .help = "Only programs whose metadata has KEY=VALUE; all given pairs must match.",
	  .offset = offsetof(struct list_args, metadata) },
	{},
};

static int run_list(struct cli *cli, void *args)
{
	struct list_args *a = args;
	_cleanup_pb_ Bpfman__V1__ListRequest *req = NULL;
	_cleanup_pb_ Bpfman__V1__ListResponse *resp = NULL;
	int r;

	req = pb_new(&bpfman__v1__list_request__descriptor);
	if (!req)
		return oom(cli);
	if (!a->all) {
		req->has_bpfman_programs_only = true;
		req->bpfman_programs_only = true;
	}
	if (a->type.set) {
		req->has_program_type = true;
		req->program_type = a->type.value;
	}
	r = add_metadata(cli, req, "match_metadata", &a->metadata);
	if (r < 0)
		return r;
	r = cli_call(cli, "/bpfman.v1.Bpfman/List", base(req),
		     &bpfman__v1__list_response__descriptor, CALL_TIMEOUT_MS,
		     (ProtobufCMessage **)&resp);
	if (r < 0)
		return r;
	if (cli->g.json)
		return cli_print_json(cli, base(resp), NULL);
	r = output_program_table(cli->out, resp);
	return r < 0 ? oom(cli) : 0;
}

/* --- link ------------------------------------------------------------------------------- */

struct link_list_args {
	struct cli_u32 program;
};

static const struct cli_option link_list_options[] = {
	{ .name = "program", .type = CLI_OPT_U32, .metavar = "ID",
	  .help = "Only the links of the program with kernel id ID.",
	  .offset = offsetof(struct link_list_args, program) },
	{},
};

static int run_link_list(struct cli *cli, void *args)
{
	struct link_list_args *a = args;
	Bpfd__V1__ListLinksRequest req = BPFD__V1__LIST_LINKS_REQUEST__INIT;
	_cleanup_pb_ Bpfd__V1__ListLinksResponse *resp = NULL;
	int r;

	if (a->program.set) {
		req.has_program_id = true;
		req.program_id = a->program.value;
	}
	r = cli_call(cli, "/bpfd.v1.Bpfd/ListLinks", base(&req),
		     &bpfd__v1__list_links_response__descriptor, CALL_TIMEOUT_MS,
		     (ProtobufCMessage **)&resp);
	if (r < 0)
		return r;
	if (cli->g.json)
		return cli_print_json(cli, base(resp), NULL);
	r = output_link_table(cli->out, resp);
	return r < 0 ? oom(cli) : 0;
}

static int run_link_get(struct cli *cli, void *args)
{
	struct id_args *a = args;
	Bpfd__V1__GetLinkRequest req = BPFD__V1__GET_LINK_REQUEST__INIT;
	_cleanup_pb_ Bpfd__V1__GetLinkResponse *resp = NULL;
	int r;

	req.has_link_id = true;
	req.link_id = a->id.value;
	r = cli_call(cli, "/bpfd.v1.Bpfd/GetLink", base(&req),
		     &bpfd__v1__get_link_response__descriptor, CALL_TIMEOUT_MS,
		     (ProtobufCMessage **)&resp);
	if (r < 0)
		return r;
	if (cli->g.json)
		return cli_print_json(cli, base(resp), NULL);
	if (!resp->link)
		return cli_fail(cli, -EBADMSG, GRPC_STATUS_INTERNAL,
				"bpfd's answer to GetLink has no link");
	output_link(cli->out, resp->link);
	return 0;
}

static const struct cli_verb link_verbs[] = {
	{ .name = "list", .summary = "List the links bpfd manages",
	  .description = "List the links bpfd manages: one row per link, with the hook it is "
			 "attached to and, for chained hooks, its priority and position.",
	  .options = link_list_options, .args_size = sizeof(struct link_list_args),
	  .run = run_link_list },
	{ .name = "get", .summary = "Show a link", .options = detach_options,
	  .args_size = sizeof(struct id_args), .run = run_link_get },
	{},
};

/* --- version, help ---------------------------------------------------------------------- */

static int run_version(struct cli *cli, void *args)
{
	Bpfd__V1__VersionRequest req = BPFD__V1__VERSION_REQUEST__INIT;
	_cleanup_pb_ Bpfd__V1__VersionResponse *resp = NULL;
	int r;

	r = cli_call(cli, "/bpfd.v1.Bpfd/Version", base(&req),
		     &bpfd__v1__version_response__descriptor, CALL_TIMEOUT_MS,
		     (ProtobufCMessage **)&resp);
	if (r < 0)
		return r;
	if (cli->g.json)
		return cli_print_json(cli, base(resp), BPFD_VERSION);
	r = output_version(cli->out, BPFD_VERSION, resp);
	return r < 0 ? oom(cli) : 0;
}

struct help_args {
	bool markdown;
	struct cli_strv words;
};

static const struct cli_option help_options[] = {
	{ .name = "VERB", .type = CLI_OPT_WORDS, .positional = true,
	  .help = "The verb to explain, as typed ('load file', 'attach ID xdp' or 'attach xdp').",
	  .offset = offsetof(struct help_args, words) },
	{ .name = "markdown", .type = CLI_OPT_FLAG,
	  .help = "Print the reference of every verb as Markdown (docs/bpfctl.md).",
	  .offset = offsetof(struct help_args, markdown) },
	{},
};

static int run_help(struct cli *cli, void *args)
{
	struct help_args *a = args;
	const struct cli_verb *chain[4], *verbs = cli_verbs;
	size_t depth = 0;

	if (a->markdown) {
		if (a->words.n)
			return cli_usage(cli, "--markdown: prints every verb; give no VERB");
		cli_help_markdown(cli->out);
		return 0;
	}
	for (size_t i = 0; i < a->words.n; i++) {
		const struct cli_verb *v = NULL;

		for (const struct cli_verb *c = verbs; c && c->name; c++)
			if (streq(c->name, a->words.v[i]))
				v = c;
		/* "help attach 42 xdp": skip the lead positional. */
		if (!v && depth && chain[depth - 1]->lead && i + 1 < a->words.n)
			continue;
		if (!v || depth >= ELEMENTSOF(chain))
			return cli_usage(cli, "VERB: unknown verb '%s'", a->words.v[i]);
		chain[depth++] = v;
		verbs = v->sub;
	}
	cli_help(cli->out, chain, depth);
	return 0;
}

const struct cli_verb cli_verbs[] = {
	{ .name = "load", .summary = "Load programs", .sub = load_verbs,
	  .sub_metavar = "COMMAND",
	  .description = "Load programs into the kernel through bpfd, from an ELF object file or "
			 "(not yet supported by bpfd) an OCI image." },
	{ .name = "attach", .summary = "Attach a loaded program to a hook; TYPE: xdp, tc, tcx, "
				       "tracepoint, kprobe, uprobe, fentry, fexit, lsm",
	  .description = "Attach the loaded program ID to a hook of the kind TYPE, which must "
			 "suit the program's type. Prints the new link's id, which 'bpfctl "
			 "detach' takes.",
	  .sub = attach_verbs, .lead = "ID", .sub_metavar = "TYPE" },
	{ .name = "detach", .summary = "Detach a link; the program stays loaded",
	  .options = detach_options, .args_size = sizeof(struct id_args), .run = run_detach },
	{ .name = "unload", .summary = "Unload a program bpfd loaded, and detach its links",
	  .options = program_id_options, .args_size = sizeof(struct id_args), .run = run_unload },
	{ .name = "get", .summary = "Show a program: bpfd's record of it and the kernel's",
	  .description = "Show a program: what bpfd keeps about it (if bpfd loaded it) and what "
			 "the kernel reports.",
	  .options = program_id_options, .args_size = sizeof(struct id_args), .run = run_get },
	{ .name = "list", .summary = "List programs (bpfd's, or with --all every program)",
	  .description = "List the programs bpfd loaded, or with --all every program in the "
			 "kernel: id, name, kernel type, load time, bpfd's link ids and metadata.",
	  .options = list_options, .args_size = sizeof(struct list_args), .run = run_list },
	{ .name = "link", .summary = "List and show links", .sub = link_verbs,
	  .sub_metavar = "COMMAND",
	  .description = "Links are bpfd's handles for attachments: stable ids that survive "
			 "dispatcher rebuilds and bpfd restarts." },
	{ .name = "doctor", .summary = "Explain why the kernel would refuse BPF here (or to bpfd)",
	  .description = "Check everything that makes the kernel refuse BPF: kernel build and "
			 "version, lockdown and its source, unprivileged_bpf_disabled, the "
			 "capabilities of this process and of each of its threads, seccomp, "
			 "security modules, user namespace, mounts, BTF, RLIMIT_MEMLOCK, "
			 "perf_event_paranoid, the JIT, the systemd unit; then load a minimal "
			 "program of each type in a forked child and tie each refusal to its "
			 "most likely cause. Each check prints its evidence (the file or call and "
			 "the value read), what it blocks and the remedy, grouped by verdict. "
			 "Runs locally and needs no bpfd, as any user; --daemon asks bpfd to run "
			 "the same checks with its credentials. --json prints a "
			 "bpfd.v1.DoctorResponse. docs/doctor.md explains every check.",
	  .options = cli_doctor_options, .args_size = sizeof(struct doctor_args),
	  .run = cli_run_doctor },
	{ .name = "caps", .summary = "Capability tools: per-thread sets, recording checks",
	  .sub = cli_caps_verbs, .sub_metavar = "COMMAND",
	  .description = "Look at capabilities on this machine: the sets of every thread of a "
			 "process, and the capability checks a command really makes." },
	{ .name = "version", .summary = "Show bpfctl's and bpfd's versions and kernel features",
	  .description = "Show bpfctl's version, and bpfd's version, the kernel it runs on and "
			 "the kernel features it detected.",
	  .options = NULL, .run = run_version },
	{ .name = "help", .summary = "Show the help of bpfctl or of a verb",
	  .options = help_options, .args_size = sizeof(struct help_args), .run = run_help },
	{},
};
