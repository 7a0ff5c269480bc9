/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request handlers for bpfman.v1.Bpfman and bpfd.v1.Bpfd.
 *
 * Each call becomes one struct op: the handler decodes and validates the request on the
 * request thread, the privileged thread runs op->run against the core, and op_finish answers
 * on the request thread. The unpacked request stays alive until then because the typed
 * operation borrows its strings.
 */
#include <string.h>
#include <sys/utsname.h>

#include "convert.h"
#include "doctor.h"
#include "doctor_pb.h"
#include "grpc_status.h"
#include "log.h"
#include "service.h"
#include "store.h"
#include "worker.h"

struct op {
	struct work w;
	struct service *svc;
	struct arena arena;
	ProtobufCMessage *req;
	struct grpc_peer peer;
	struct error err;
	int r;
	void (*respond)(struct op *op);

	uint32_t id;
	struct loader *loader;
	struct link_record attach;
	struct list_filter filter;

	struct program_view *views;
	size_t n_views;
	struct program_view view;
	uint32_t link_id;
	struct link_view *links;
	size_t n_links;
	struct link_view link;
	const struct feature *features;
	size_t n_features;
	bool skip_probes;
	Bpfd__V1__DoctorResponse *doctor; /* in arena */
};

static void op_free(struct op *op)
{
	loader__free(op->loader);
	program_views_free(op->views, op->n_views);
	program_view__clear(&op->view);
	link_views_free(op->links, op->n_links);
	link_record__clear(&op->link.record);
	if (op->req)
		protobuf_c_message_free_unpacked(op->req, NULL);
	arena_free(&op->arena);
	free(op);
}

static void reply_error(struct grpc_call *call, const struct error *err)
{
	grpc_call__reply(call, grpc_status_from_errno(err->code), err->message, NULL, 0);
}

static void reply_message(struct op *op, const ProtobufCMessage *m)
{
	size_t len;
	uint8_t *buf;

	if (op->arena.failed || !m) {
		grpc_call__reply(op->w.call, GRPC_STATUS_RESOURCE_EXHAUSTED,
				 "out of memory building the response", NULL, 0);
		return;
	}
	len = protobuf_c_message_get_packed_size(m);
	buf = malloc(len ? len : 1);
	if (!buf) {
		grpc_call__reply(op->w.call, GRPC_STATUS_RESOURCE_EXHAUSTED,
				 "out of memory building the response", NULL, 0);
		return;
	}
	protobuf_c_message_pack(m, buf);
	grpc_call__reply(op->w.call, GRPC_STATUS_OK, NULL, buf, len);
	free(buf);
}

static void op_finish(struct work *w, bool deliver)
{
	struct op *op = (struct op *)w;

	if (deliver) {
		if (op->r < 0)
			reply_error(op->w.call, &op->err);
		else
			op->respond(op);
	}
	op_free(op);
}

static struct op *op_new(struct service *svc, struct grpc_call *call,
			 void (*run)(struct work *, struct core *), void (*respond)(struct op *))
{
	struct op *op = calloc(1, sizeof(*op));

	if (!op) {
		grpc_call__reply(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
		return NULL;
	}
	op->svc = svc;
	op->w.call = call;
	op->w.run = run;
	op->w.finish = op_finish;
	op->respond = respond;
	op->peer = *grpc_call__peer(call);
	return op;
}

/* Decodes msg as the request type of desc; answers INVALID_ARGUMENT and frees op when the
 * bytes are not a valid message. */
static bool op_unpack(struct op *op, const ProtobufCMessageDescriptor *desc, const uint8_t *msg,
		      size_t len)
{
	op->req = protobuf_c_message_unpack(desc, NULL, len, msg);
	if (op->req)
		return true;
	grpc_call__replyf(op->w.call, GRPC_STATUS_INVALID_ARGUMENT,
			  "malformed %s: the %zu bytes sent are not a valid protobuf message",
			  desc->name, len);
	op_free(op);
	return false;
}

static void op_submit(struct op *op)
{
	if (worker__submit(op->svc->worker, &op->w) < 0) {
		grpc_call__reply(op->w.call, GRPC_STATUS_UNAVAILABLE, "bpfd is shutting down", NULL,
				 0);
		op_free(op);
	}
}

static void op_reject(struct op *op)
{
	reply_error(op->w.call, &op->err);
	op_free(op);
}

/* ---- Load ---- */

static void load_run(struct work *w, struct core *core)
{
	struct op *op = (struct op *)w;

	op->r = core__load(core, TAKE_PTR(op->loader), &op->views, &op->n_views, &op->err);
}

static void load_respond(struct op *op)
{
	Bpfman__V1__LoadResponse resp = BPFMAN__V1__LOAD_RESPONSE__INIT;

	resp.programs = arena_array(&op->arena, Bpfman__V1__LoadResponseInfo *, op->n_views);
	for (size_t i = 0; resp.programs && i < op->n_views; i++) {
		Bpfman__V1__LoadResponseInfo *e = arena_new(&op->arena, Bpfman__V1__LoadResponseInfo);

		if (!e)
			break;
		bpfman__v1__load_response_info__init(e);
		e->info = program_info_to_pb(&op->arena, &op->views[i]);
		e->kernel_info = kernel_info_to_pb(&op->arena, &op->views[i].kernel);
		resp.programs[resp.n_programs++] = e;
	}
	reply_message(op, &resp.base);
}

static const char *load_attach_fn(const Bpfman__V1__LoadInfo *li)
{
	const Bpfman__V1__ProgSpecificInfo *s = li->info;

	if (!s)
		return NULL;
	switch (s->info_case) {
	case BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_FENTRY_LOAD_INFO:
		return s->fentry_load_info->fn_name;
	case BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_FEXIT_LOAD_INFO:
		return s->fexit_load_info->fn_name;
	case BPFMAN__V1__PROG_SPECIFIC_INFO__INFO_LSM_LOAD_INFO:
		return s->lsm_load_info->hook_name;
	default:
		return NULL;
	}
}

static void handle_load(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	struct op *op = op_new(userdata, call, load_run, load_respond);
	const Bpfman__V1__LoadRequest *req;
	struct load_program_spec *progs;
	struct kv_pair *global;
	struct load_spec spec = {};
	struct caller_cred cred;

	if (!op || !op_unpack(op, &bpfman__v1__load_request__descriptor, msg, len))
		return;
	req = (const Bpfman__V1__LoadRequest *)op->req;

	if (!req->bytecode ||
	    req->bytecode->location_case == BPFMAN__V1__BYTECODE_LOCATION__LOCATION__NOT_SET) {
		error_set(&op->err, -EINVAL, "bytecode: no location given (file or image)");
		return op_reject(op);
	}
	if (req->bytecode->location_case == BPFMAN__V1__BYTECODE_LOCATION__LOCATION_IMAGE) {
		error_set(&op->err, -EPROTONOSUPPORT,
			  "bytecode images (OCI) are not supported by this build of bpfd; load "
			  "from a file instead");
		return op_reject(op);
	}

	progs = arena_array(&op->arena, struct load_program_spec, req->n_info);
	global = arena_array(&op->arena, struct kv_pair, req->n_global_data);
	spec.metadata = string_map_from_pb(&op->arena, (void *const *)req->metadata,
					   req->n_metadata);
	if (!progs || !global || !spec.metadata) {
		error_set(&op->err, -ENOMEM, "out of memory");
		return op_reject(op);
	}
	for (size_t i = 0; i < req->n_info; i++) {
		progs[i].name = req->info[i]->name;
		progs[i].type = req->info[i]->has_program_type ? (int)req->info[i]->program_type : 0;
		progs[i].attach_fn = load_attach_fn(req->info[i]);
	}
	for (size_t i = 0; i < req->n_global_data; i++) {
		global[i].key = req->global_data[i]->key;
		global[i].value = req->global_data[i]->value.data;
		global[i].value_len = req->global_data[i]->value.len;
	}
	spec.path = req->bytecode->file;
	spec.programs = progs;
	spec.n_programs = req->n_info;
	spec.n_metadata = req->n_metadata;
	spec.global_data = global;
	spec.n_global_data = req->n_global_data;
	spec.map_owner_id = req->has_map_owner_id ? req->map_owner_id : 0;
	spec.uuid = req->uuid;
	spec.owner_uid = op->peer.uid;
	cred = (struct caller_cred){ .uid = op->peer.uid, .gid = op->peer.gid,
				     .groups = op->peer.groups, .n_groups = op->peer.n_groups };
	spec.caller = &cred;

	log_info("Load of %s (%zu program%s) requested by uid %u gid %u pid %d", spec.path,
		 spec.n_programs, spec.n_programs == 1 ? "" : "s", (unsigned)op->peer.uid,
		 (unsigned)op->peer.gid, (int)op->peer.pid);
	if (loader__open(&spec, &op->loader, &op->err) < 0)
		return op_reject(op);
	op_submit(op);
}

/* ---- Unload ---- */

static void unload_run(struct work *w, struct core *core)
{
	struct op *op = (struct op *)w;

	op->r = core__unload(core, op->id, op->peer.uid, &op->err);
}

static void empty_respond(struct op *op)
{
	grpc_call__reply(op->w.call, GRPC_STATUS_OK, NULL, NULL, 0);
}

static void handle_unload(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	struct op *op = op_new(userdata, call, unload_run, empty_respond);

	if (!op || !op_unpack(op, &bpfman__v1__unload_request__descriptor, msg, len))
		return;
	op->id = ((const Bpfman__V1__UnloadRequest *)op->req)->id;
	log_info("Unload of program %u requested by uid %u gid %u pid %d", op->id,
		 (unsigned)op->peer.uid, (unsigned)op->peer.gid, (int)op->peer.pid);
	op_submit(op);
}

/* ---- Attach ---- */

static void attach_run(struct work *w, struct core *core)
{
	struct op *op = (struct op *)w;

	op->r = core__attach(core, op->id, &op->attach, &op->link_id, &op->err);
}

static void attach_respond(struct op *op)
{
	Bpfman__V1__AttachResponse resp = BPFMAN__V1__ATTACH_RESPONSE__INIT;

	resp.has_link_id = true;
	resp.link_id = op->link_id;
	reply_message(op, &resp.base);
}

static void handle_attach(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	struct op *op = op_new(userdata, call, attach_run, attach_respond);
	const Bpfman__V1__AttachRequest *req;

	if (!op || !op_unpack(op, &bpfman__v1__attach_request__descriptor, msg, len))
		return;
	req = (const Bpfman__V1__AttachRequest *)op->req;
	op->id = req->id;
	if (attach_info_from_pb(&op->arena, req->attach, &op->attach, &op->err) < 0)
		return op_reject(op);
	op->attach.owner_uid = op->peer.uid;
	log_info("Attach of program %u as %s requested by uid %u gid %u pid %d", op->id,
		 bpfd_prog_type_to_string(op->attach.type), (unsigned)op->peer.uid,
		 (unsigned)op->peer.gid, (int)op->peer.pid);
	op_submit(op);
}

/* ---- Detach ---- */

static void detach_run(struct work *w, struct core *core)
{
	struct op *op = (struct op *)w;

	op->r = core__detach(core, op->id, op->peer.uid, &op->err);
}

static void handle_detach(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	struct op *op = op_new(userdata, call, detach_run, empty_respond);

	if (!op || !op_unpack(op, &bpfman__v1__detach_request__descriptor, msg, len))
		return;
	op->id = ((const Bpfman__V1__DetachRequest *)op->req)->link_id;
	log_info("Detach of link %u requested by uid %u gid %u pid %d", op->id,
		 (unsigned)op->peer.uid, (unsigned)op->peer.gid, (int)op->peer.pid);
	op_submit(op);
}

/* ---- List and Get ---- */

static void list_run(struct work *w, struct core *core)
{
	struct op *op = (struct op *)w;

	op->r = core__list(core, &op->filter, &op->views, &op->n_views, &op->err);
}

static void list_respond(struct op *op)
{
	Bpfman__V1__ListResponse resp = BPFMAN__V1__LIST_RESPONSE__INIT;

	resp.results = arena_array(&op->arena, Bpfman__V1__ListResponse__ListResult *, op->n_views);
	for (size_t i = 0; resp.results && i < op->n_views; i++) {
		Bpfman__V1__ListResponse__ListResult *e =
			arena_new(&op->arena, Bpfman__V1__ListResponse__ListResult);

		if (!e)
			break;
		bpfman__v1__list_response__list_result__init(e);
		if (op->views[i].managed)
			e->info = program_info_to_pb(&op->arena, &op->views[i]);
		e->kernel_info = kernel_info_to_pb(&op->arena, &op->views[i].kernel);
		resp.results[resp.n_results++] = e;
	}
	reply_message(op, &resp.base);
}

static void handle_list(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	struct op *op = op_new(userdata, call, list_run, list_respond);
	const Bpfman__V1__ListRequest *req;

	if (!op || !op_unpack(op, &bpfman__v1__list_request__descriptor, msg, len))
		return;
	req = (const Bpfman__V1__ListRequest *)op->req;
	op->filter.has_kernel_type = req->has_program_type;
	op->filter.kernel_type = req->program_type;
	op->filter.managed_only = req->has_bpfman_programs_only && req->bpfman_programs_only;
	op->filter.match_metadata = string_map_from_pb(
		&op->arena, (void *const *)req->match_metadata, req->n_match_metadata);
	op->filter.n_match_metadata = req->n_match_metadata;
	if (!op->filter.match_metadata) {
		error_set(&op->err, -ENOMEM, "out of memory");
		return op_reject(op);
	}
	op_submit(op);
}

static void get_run(struct work *w, struct core *core)
{
	struct op *op = (struct op *)w;

	op->r = core__get(core, op->id, &op->view, &op->err);
}

static void get_respond(struct op *op)
{
	Bpfman__V1__GetResponse resp = BPFMAN__V1__GET_RESPONSE__INIT;

	if (op->view.managed)
		resp.info = program_info_to_pb(&op->arena, &op->view);
	resp.kernel_info = kernel_info_to_pb(&op->arena, &op->view.kernel);
	reply_message(op, &resp.base);
}

static void handle_get(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	struct op *op = op_new(userdata, call, get_run, get_respond);

	if (!op || !op_unpack(op, &bpfman__v1__get_request__descriptor, msg, len))
		return;
	op->id = ((const Bpfman__V1__GetRequest *)op->req)->id;
	op_submit(op);
}

static void handle_pull_bytecode(struct grpc_call *call, const uint8_t *msg, size_t len,
				 void *userdata)
{
	grpc_call__reply(call, GRPC_STATUS_UNIMPLEMENTED,
			 "PullBytecode: bytecode images (OCI) are not supported by this build of "
			 "bpfd; load from a file instead",
			 NULL, 0);
}

/* ---- bpfd.v1.Bpfd ---- */

static void version_run(struct work *w, struct core *core)
{
	struct op *op = (struct op *)w;

	op->features = core__features(core, &op->n_features);
	op->r = 0;
}

static void version_respond(struct op *op)
{
	Bpfd__V1__VersionResponse resp = BPFD__V1__VERSION_RESPONSE__INIT;
	struct utsname u;

	uname(&u);
	resp.version = (char *)BPFD_VERSION;
	resp.kernel_release = u.release;
	resp.has_schema_version = true;
	resp.schema_version = (uint32_t)store__schema_version();
	resp.features = arena_array(&op->arena, Bpfd__V1__Feature *, op->n_features);
	for (size_t i = 0; resp.features && i < op->n_features; i++) {
		Bpfd__V1__Feature *f = arena_new(&op->arena, Bpfd__V1__Feature);

		if (!f)
			break;
		bpfd__v1__feature__init(f);
		f->name = (char *)op->features[i].name;
		f->has_available = true;
		f->available = op->features[i].available;
		f->detail = (char *)op->features[i].detail;
		resp.features[resp.n_features++] = f;
	}
	reply_message(op, &resp.base);
}

static void handle_version(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	struct op *op = op_new(userdata, call, version_run, version_respond);

	if (!op || !op_unpack(op, &bpfd__v1__version_request__descriptor, msg, len))
		return;
	op_submit(op);
}

static void list_links_run(struct work *w, struct core *core)
{
	struct op *op = (struct op *)w;

	op->r = core__list_links(core, op->id, &op->links, &op->n_links, &op->err);
}

static void list_links_respond(struct op *op)
{
	Bpfd__V1__ListLinksResponse resp = BPFD__V1__LIST_LINKS_RESPONSE__INIT;

	resp.links = arena_array(&op->arena, Bpfd__V1__LinkInfo *, op->n_links);
	for (size_t i = 0; resp.links && i < op->n_links; i++)
		resp.links[resp.n_links++] = link_info_to_pb(&op->arena, &op->links[i]);
	reply_message(op, &resp.base);
}

static void handle_list_links(struct grpc_call *call, const uint8_t *msg, size_t len,
			      void *userdata)
{
	struct op *op = op_new(userdata, call, list_links_run, list_links_respond);
	const Bpfd__V1__ListLinksRequest *req;

	if (!op || !op_unpack(op, &bpfd__v1__list_links_request__descriptor, msg, len))
		return;
	req = (const Bpfd__V1__ListLinksRequest *)op->req;
	op->id = req->has_program_id ? req->program_id : 0;
	op_submit(op);
}

static void get_link_run(struct work *w, struct core *core)
{
	struct op *op = (struct op *)w;

	if (op->id == 0)
		op->r = error_set(&op->err, -EINVAL, "link_id missing (0)");
	else
		op->r = core__get_link(core, op->id, &op->link, &op->err);
}

static void get_link_respond(struct op *op)
{
	Bpfd__V1__GetLinkResponse resp = BPFD__V1__GET_LINK_RESPONSE__INIT;

	resp.link = link_info_to_pb(&op->arena, &op->link);
	reply_message(op, &resp.base);
}

static void handle_get_link(struct grpc_call *call, const uint8_t *msg, size_t len,
			    void *userdata)
{
	struct op *op = op_new(userdata, call, get_link_run, get_link_respond);

	if (!op || !op_unpack(op, &bpfd__v1__get_link_request__descriptor, msg, len))
		return;
	op->id = ((const Bpfd__V1__GetLinkRequest *)op->req)->link_id;
	op_submit(op);
}

/* ---- Doctor: the checks of docs/doctor.md with bpfd's credentials ---- */

static void *doctor_arena_alloc(void *userdata, size_t size)
{
	return arena_alloc(userdata, size);
}

static char *doctor_arena_strdup(void *userdata, const char *s)
{
	return arena_strdup(userdata, s);
}

/* Privileged thread: measured with the capabilities that matter, this thread's; the probes
 * run in a forked child of it. */
static void doctor_run(struct work *w, struct core *core)
{
	struct op *op = (struct op *)w;
	const struct doctor_env env = { .live = true, .probes = !op->skip_probes };
	const struct doctor_pb_alloc a = { .alloc = doctor_arena_alloc,
					   .strdup = doctor_arena_strdup,
					   .userdata = &op->arena };
	_cleanup_doctor_ struct doctor *d = NULL;
	int r;

	r = doctor__new(&env, &d);
	if (r < 0) {
		op->r = error_set(&op->err, r, "doctor: %s", strerror(-r));
		return;
	}
	op->doctor = arena_new(&op->arena, Bpfd__V1__DoctorResponse);
	if (!op->doctor) {
		op->r = error_set(&op->err, -ENOMEM, "doctor: out of memory");
		return;
	}
	bpfd__v1__doctor_response__init(op->doctor);
	r = doctor__to_pb(d, &a, op->doctor);
	op->r = r < 0 ? error_set(&op->err, r, "doctor: out of memory") : 0;
}

static void doctor_respond(struct op *op)
{
	reply_message(op, &op->doctor->base);
}

static void handle_doctor(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	struct op *op = op_new(userdata, call, doctor_run, doctor_respond);

	if (!op || !op_unpack(op, &bpfd__v1__doctor_request__descriptor, msg, len))
		return;
	op->skip_probes = ((const Bpfd__V1__DoctorRequest *)op->req)->skip_probes;
	op_submit(op);
}

const struct grpc_method *service__methods(struct service *svc, size_t *ret_n)
{
	static struct grpc_method methods[] = {
		{ "/bpfman.v1.Bpfman/Load", handle_load, NULL },
		{ "/bpfman.v1.Bpfman/Unload", handle_unload, NULL },
		{ "/bpfman.v1.Bpfman/Attach", handle_attach, NULL },
		{ "/bpfman.v1.Bpfman/Detach", handle_detach, NULL },
		{ "/bpfman.v1.Bpfman/List", handle_list, NULL },
		{ "/bpfman.v1.Bpfman/PullBytecode", handle_pull_bytecode, NULL },
		{ "/bpfman.v1.Bpfman/Get", handle_get, NULL },
		{ "/bpfd.v1.Bpfd/Version", handle_version, NULL },
		{ "/bpfd.v1.Bpfd/ListLinks", handle_list_links, NULL },
		{ "/bpfd.v1.Bpfd/GetLink", handle_get_link, NULL },
		{ "/bpfd.v1.Bpfd/Doctor", handle_doctor, NULL },
	};

	for (size_t i = 0; i < ELEMENTSOF(methods); i++)
		methods[i].userdata = svc;
	*ret_n = ELEMENTSOF(methods);
	return methods;
}
