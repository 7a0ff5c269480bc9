/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bpfctl doctor` and `bpfctl caps`: the only verbs that look at the machine themselves
 * instead of asking bpfd (DESIGN.md), because the question is "why does the kernel refuse
 * this process (or bpfd)?".
 */
#include "doctor_verbs.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "caps_record.h"
#include "caps_threads.h"
#include "convert.h"
#include "doctor.h"
#include "doctor_pb.h"
#include "grpc_status.h"
#include "json.h"
#include "options.h"

/* Doctor with probes loads nine programs and forks: give bpfd time. */
#define DOCTOR_TIMEOUT_MS 60000

static ProtobufCMessage *base(void *m)
{
	return m;
}

/* --- doctor ----------------------------------------------------------------------------- */

const struct cli_option cli_doctor_options[] = {
	{ .name = "daemon", .type = CLI_OPT_FLAG,
	  .help = "Ask bpfd instead: it runs the same checks with its own credentials, on its "
		  "privileged thread (bpfd.v1.Bpfd/Doctor).",
	  .offset = offsetof(struct doctor_args, daemon) },
	{ .name = "no-probes", .type = CLI_OPT_FLAG,
	  .help = "Skip the live probes (loading a minimal program of each type in a forked "
		  "child): only read files.",
	  .offset = offsetof(struct doctor_args, no_probes) },
	{ .name = "root", .type = CLI_OPT_STRING, .metavar = "DIR",
	  .help = "Read /proc, /sys, /boot and /dev/kmsg under DIR instead of the running "
		  "system (a tree of tests/fixtures/doctor); implies --no-probes.",
	  .offset = offsetof(struct doctor_args, root) },
	{},
};

static const char *verdict_name(Bpfd__V1__DoctorCheck__Verdict v)
{
	switch (v) {
	case BPFD__V1__DOCTOR_CHECK__VERDICT__OK:
		return "OK";
	case BPFD__V1__DOCTOR_CHECK__VERDICT__WARN:
		return "WARN";
	case BPFD__V1__DOCTOR_CHECK__VERDICT__FAIL:
		return "FAIL";
	default:
		return "UNKNOWN";
	}
}

#define ID_COLUMN 24

/* "evidence: TEXT" under the summary, continuation lines aligned with TEXT. */
static void labelled(FILE *f, const char *label, const char *text)
{
	size_t at = (size_t)fprintf(f, "%*s%-9s", ID_COLUMN, "", label);

	cli_text_wrap(f, at, at + 1, text);
}

void output_doctor(FILE *f, const Bpfd__V1__DoctorResponse *r)
{
	static const Bpfd__V1__DoctorCheck__Verdict order[] = {
		BPFD__V1__DOCTOR_CHECK__VERDICT__FAIL,
		BPFD__V1__DOCTOR_CHECK__VERDICT__WARN,
		BPFD__V1__DOCTOR_CHECK__VERDICT__UNKNOWN,
		BPFD__V1__DOCTOR_CHECK__VERDICT__OK,
	};

	fprintf(f, "Doctor: %s, Linux %s%s\n", r->subject ? r->subject : "?",
		r->kernel_release ? r->kernel_release : "?",
		r->probes_ran ? "" : " (no live probes)");
	if (r->root_cause)
		fprintf(f, "Most likely cause of refusals: %s\n", r->root_cause);
	else
		fputs("Nothing found that refuses BPF here.\n", f);
	for (size_t o = 0; o < ELEMENTSOF(order); o++) {
		size_t n = 0;

		for (size_t i = 0; i < r->n_checks; i++)
			n += r->checks[i]->verdict == order[o] ||
			     (order[o] == BPFD__V1__DOCTOR_CHECK__VERDICT__UNKNOWN &&
			      r->checks[i]->verdict == BPFD__V1__DOCTOR_CHECK__VERDICT__VERDICT_UNSPECIFIED);
		if (!n)
			continue;
		fprintf(f, "\n%s (%zu)\n", verdict_name(order[o]), n);
		for (size_t i = 0; i < r->n_checks; i++) {
			const Bpfd__V1__DoctorCheck *c = r->checks[i];
			Bpfd__V1__DoctorCheck__Verdict v = c->verdict;
			size_t at;

			if (v == BPFD__V1__DOCTOR_CHECK__VERDICT__VERDICT_UNSPECIFIED)
				v = BPFD__V1__DOCTOR_CHECK__VERDICT__UNKNOWN;
			if (v != order[o])
				continue;
			at = (size_t)fprintf(f, "  %s", c->id ? c->id : "?");
			cli_text_wrap(f, at + 1 > ID_COLUMN ? at + 1 : at, ID_COLUMN,
				      c->summary ? c->summary : "");
			for (size_t e = 0; e < c->n_evidence; e++) {
				_cleanup_free_ char *s = NULL;

				if (asprintf(&s, "%s: %s", c->evidence[e]->source ? c->evidence[e]->source : "?",
					     c->evidence[e]->value ? c->evidence[e]->value : "") < 0)
					continue;
				labelled(f, "evidence:", s);
			}
			if (c->cause)
				labelled(f, "cause:", c->cause);
			if (c->blocks && v != BPFD__V1__DOCTOR_CHECK__VERDICT__OK)
				labelled(f, "blocks:", c->blocks);
			if (c->remedy && v != BPFD__V1__DOCTOR_CHECK__VERDICT__OK)
				labelled(f, "remedy:", c->remedy);
		}
	}
}

static int doctor_local(struct cli *cli, const struct doctor_args *a,
			Bpfd__V1__DoctorResponse **ret)
{
	struct doctor_env env = {
		.root = a->root,
		.live = !a->root,
		.probes = !a->root && !a->no_probes,
	};
	Bpfd__V1__DoctorResponse *resp;
	struct doctor *d = NULL;
	int r;

	r = doctor__new(&env, &d);
	if (r < 0)
		return cli_fail(cli, r, GRPC_STATUS_INTERNAL, "doctor: %s", strerror(-r));
	resp = pb_new(&bpfd__v1__doctor_response__descriptor);
	if (!resp) {
		doctor__free(d);
		return cli_fail(cli, -ENOMEM, GRPC_STATUS_INTERNAL, "out of memory");
	}
	r = doctor__to_pb(d, &doctor_pb_malloc, resp);
	doctor__free(d);
	if (r < 0) {
		protobuf_c_message_free_unpacked(base(resp), NULL);
		return cli_fail(cli, r, GRPC_STATUS_INTERNAL, "out of memory");
	}
	*ret = resp;
	return 0;
}

int cli_run_doctor(struct cli *cli, void *args)
{
	struct doctor_args *a = args;
	_cleanup_pb_ Bpfd__V1__DoctorResponse *resp = NULL;
	int r;

	if (a->daemon && a->root)
		return cli_usage(cli, "--root: reads a tree here; it cannot go with --daemon");
	if (a->daemon) {
		Bpfd__V1__DoctorRequest req = BPFD__V1__DOCTOR_REQUEST__INIT;

		req.has_skip_probes = a->no_probes;
		req.skip_probes = a->no_probes;
		r = cli_call(cli, "/bpfd.v1.Bpfd/Doctor", base(&req),
			     &bpfd__v1__doctor_response__descriptor, DOCTOR_TIMEOUT_MS,
			     (ProtobufCMessage **)&resp);
	} else
		r = doctor_local(cli, a, &resp);
	if (r < 0)
		return r;
	if (cli->g.json)
		return cli_print_json(cli, base(resp), NULL);
	output_doctor(cli->out, resp);
	return 0;
}

/* --- caps threads ----------------------------------------------------------------------- */

struct caps_threads_args {
	struct cli_u32 pid;
};

static const struct cli_option caps_threads_options[] = {
	{ .name = "PID", .type = CLI_OPT_U32, .positional = true, .required = true,
	  .help = "The process, e.g. $(pidof bpfd).",
	  .offset = offsetof(struct caps_threads_args, pid) },
	{},
};

static json_t *capset_json(uint64_t v)
{
	_cleanup_free_ char *names = capability_mask_to_string(v, " ");
	json_t *o = json_object(), *arr = json_array();
	char hex[17];

	if (!o || !arr || !names) {
		json_decref(o);
		json_decref(arr);
		return NULL;
	}
	snprintf(hex, sizeof(hex), "%016" PRIx64, v);
	if (v) {
		char *save = NULL;

		for (char *w = strtok_r(names, " ", &save); w; w = strtok_r(NULL, " ", &save))
			json_array_append_new(arr, json_string(w));
	}
	json_object_set_new(o, "hex", json_string(hex));
	json_object_set_new(o, "names", arr);
	return o;
}

static int caps_threads_json(struct cli *cli, pid_t pid, const struct thread_capsets *t, size_t n)
{
	_cleanup_json_ json_t *j = json_object();
	json_t *threads = json_array(), *priv = json_array();

	if (!j || !threads || !priv) {
		json_decref(threads);
		json_decref(priv);
		return cli_fail(cli, -ENOMEM, GRPC_STATUS_INTERNAL, "out of memory");
	}
	json_object_set_new(j, "pid", json_integer(pid));
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();

		if (!o)
			break;
		json_object_set_new(o, "tid", json_integer(t[i].tid));
		json_object_set_new(o, "comm", json_string_lossy(t[i].comm));
		for (int s = 0; s < _CAPSET_MAX; s++)
			json_object_set_new(o, capset_names[s], capset_json(t[i].set[s]));
		json_object_set_new(o, "privileged", json_boolean(t[i].set[CAPSET_EFF] != 0));
		json_array_append_new(threads, o);
		if (t[i].set[CAPSET_EFF])
			json_array_append_new(priv, json_integer(t[i].tid));
	}
	json_object_set_new(j, "threads", threads);
	json_object_set_new(j, "privileged_threads", priv);
	if (json_print(cli->out, j) < 0)
		return cli_fail(cli, -EIO, GRPC_STATUS_INTERNAL, "cannot write the output");
	return 0;
}

static int run_caps_threads(struct cli *cli, void *args)
{
	struct caps_threads_args *a = args;
	_cleanup_free_ struct thread_capsets *t = NULL;
	size_t n = 0, privileged = 0;
	pid_t pid = (pid_t)a->pid.value;
	int r;

	r = caps_threads_read("", pid, &t, &n);
	if (r == -ESRCH)
		return cli_usage(cli, "PID: no process with pid %d", (int)pid);
	if (r < 0)
		return cli_fail(cli, r, GRPC_STATUS_INTERNAL, "reading /proc/%d/task: %s", (int)pid,
				strerror(-r));
	if (cli->g.json)
		return caps_threads_json(cli, pid, t, n);
	for (size_t i = 0; i < n; i++) {
		bool empty = thread_capsets_empty(&t[i]);

		privileged += t[i].set[CAPSET_EFF] != 0;
		fprintf(cli->out, "thread %d (%s): %s\n", (int)t[i].tid, t[i].comm,
			empty ? "no capabilities (all five sets empty)"
			: t[i].set[CAPSET_EFF] ? "privileged (CapEff not empty)"
					       : "no effective capabilities");
		if (empty)
			continue;
		for (int s = 0; s < _CAPSET_MAX; s++) {
			_cleanup_free_ char *names = capability_mask_to_string(t[i].set[s], " ");
			size_t at = (size_t)fprintf(cli->out, "  %s %016" PRIx64, capset_names[s],
						    t[i].set[s]);

			cli_text_wrap(cli->out, at, at + 1, names ? names : "?");
		}
	}
	fprintf(cli->out, "%zu of %zu thread%s privileged (non-empty CapEff)", privileged, n,
		n == 1 ? "" : "s");
	for (size_t i = 0, k = 0; i < n; i++)
		if (t[i].set[CAPSET_EFF])
			fprintf(cli->out, "%s%d (%s)", k++ ? ", " : ": ", (int)t[i].tid, t[i].comm);
	fputc('\n', cli->out);
	return 0;
}

/* --- caps record ------------------------------------------------------------------------ */

struct caps_record_args {
	const char *unit;
	struct cli_i32 pid;
	struct cli_u32 duration;
	struct cli_strv command;
};

static const struct cli_option caps_record_options[] = {
	{ .name = "COMMAND", .type = CLI_OPT_WORDS, .positional = true,
	  .help = "The command to run and record, after '--' (its whole process tree).",
	  .offset = offsetof(struct caps_record_args, command) },
	{ .name = "unit", .type = CLI_OPT_STRING, .metavar = "FILE",
	  .help = "A systemd unit file: also print what its CapabilityBoundingSet= and "
		  "AmbientCapabilities= grant that was not used, and what was refused that "
		  "they lack.",
	  .offset = offsetof(struct caps_record_args, unit) },
	{ .name = "pid", .type = CLI_OPT_I32, .metavar = "PID",
	  .help = "Also record this running process (every thread and child), e.g. bpfd while "
		  "COMMAND talks to it; without COMMAND, until Ctrl-C or --duration.",
	  .offset = offsetof(struct caps_record_args, pid) },
	{ .name = "duration", .type = CLI_OPT_U32, .metavar = "SECONDS",
	  .help = "With --pid and no COMMAND: stop after SECONDS.",
	  .offset = offsetof(struct caps_record_args, duration) },
	{},
};

static int run_caps_record(struct cli *cli, void *args)
{
	struct caps_record_args *a = args;
	struct caps_record_opts o = {
		.argv = a->command.v,
		.argc = a->command.n,
		.pid = a->pid.set ? a->pid.value : 0,
		.duration_s = a->duration.set ? a->duration.value : 0,
		.unit = a->unit,
	};
	_cleanup_(caps_record_result_freep) struct caps_record_result *res = NULL;
	char err[512] = "";
	int r;

	if (!a->command.n && !a->pid.set)
		return cli_usage(cli, "give a COMMAND to run (after '--') or --pid PID");
	if (a->pid.set && a->pid.value <= 0)
		return cli_usage(cli, "--pid: invalid value '%d': expected a process id",
				 a->pid.value);
	if (a->duration.set && a->command.n)
		return cli_usage(cli, "--duration: only without COMMAND (COMMAND's end stops the "
				      "recording)");
	r = caps_record_run(&o, &res, err, sizeof(err));
	if (r < 0)
		return cli_fail(cli, r, GRPC_STATUS_FAILED_PRECONDITION, "caps record: %s",
				err[0] ? err : strerror(-r));
	if (cli->g.json) {
		_cleanup_json_ json_t *j = caps_record_result_to_json(res);

		if (!j)
			return cli_fail(cli, -ENOMEM, GRPC_STATUS_INTERNAL, "out of memory");
		if (json_print(cli->out, j) < 0)
			return cli_fail(cli, -EIO, GRPC_STATUS_INTERNAL, "cannot write the output");
	} else
		caps_record_result_print(res, cli->out);
	/* The recorded command's failure is the user's to see, not a bpfctl error. */
	return 0;
}

const struct cli_verb cli_caps_verbs[] = {
	{ .name = "threads", .summary = "Show every thread's capability sets, decoded",
	  .description = "Show CapInh, CapPrm, CapEff, CapBnd and CapAmb of every thread of PID, "
			 "decoded by name, and which threads are privileged (non-empty CapEff). "
			 "For bpfd exactly one thread should be: the one that talks to the "
			 "kernel. Reads /proc/PID/task/*/status itself (no bpfd needed).",
	  .options = caps_threads_options, .args_size = sizeof(struct caps_threads_args),
	  .run = run_caps_threads },
	{ .name = "record", .summary = "Record the capability checks of a command (and of a process)",
	  .description = "Run COMMAND and record every capability check the kernel makes for its "
			 "process tree (and for --pid's), with the capability:cap_capable "
			 "tracepoint (a kprobe on cap_capable where the tracepoint is missing): "
			 "capability, granted or refused, thread, command and system call. Then "
			 "print a summary and the minimal CapabilityBoundingSet= and "
			 "AmbientCapabilities= lines, corrected for CAP_SYS_ADMIN fallbacks and for "
			 "the CAP_PERFMON checks the verifier makes and tolerates. Needs root (it "
			 "loads a BPF program itself).",
	  .options = caps_record_options, .args_size = sizeof(struct caps_record_args),
	  .run = run_caps_record },
	{},
};
