/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_status.h"
#include "json.h"

#define MAX_DEPTH 4

int cli_exit_code(int r)
{
	if (r >= 0)
		return CLI_EXIT_OK;
	switch (r) {
	case -EREMOTEIO:
		return CLI_EXIT_SERVER;
	case -EINVAL:
		return CLI_EXIT_USAGE;
	case -ENOTCONN:
		return CLI_EXIT_UNREACHABLE;
	default:
		return CLI_EXIT_TRANSPORT;
	}
}

/* The status --json reports for an error that did not come from bpfd. */
static int local_status(int r)
{
	switch (r) {
	case -EINVAL:
		return GRPC_STATUS_INVALID_ARGUMENT;
	case -ENOTCONN:
	case -ECONNRESET:
	case -EPIPE:
		return GRPC_STATUS_UNAVAILABLE;
	case -ETIMEDOUT:
		return GRPC_STATUS_DEADLINE_EXCEEDED;
	default:
		return GRPC_STATUS_INTERNAL;
	}
}

static int cli_failv(struct cli *cli, int r, int status, const char *fmt, va_list ap)
{
	char *s;

	if (cli->error)
		return r;
	if (vasprintf(&s, fmt, ap) < 0)
		return r;
	cli->error = s;
	cli->error_status = status;
	return r;
}

int cli_fail(struct cli *cli, int r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_failv(cli, r, status, fmt, ap);
	va_end(ap);
	return r;
}

int cli_usage(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_failv(cli, -EINVAL, GRPC_STATUS_INVALID_ARGUMENT, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void cli_done(struct cli *cli)
{
	free(cli->error);
	cli->error = NULL;
}

/* bpfd's messages may quote names other users chose: keep newlines and tabs (verifier logs),
 * show every other control character as \xNN. */
static void put_message(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void print_error(struct cli *cli, int r)
{
	const char *msg = cli->error ? cli->error : strerror(-r);
	int status = cli->error ? cli->error_status : local_status(r);

	if (cli->g.json) {
		_cleanup_json_ json_t *j = json_error(status, grpc_status_to_string(status), msg);

		if (j && json_print(cli->out, j) >= 0)
			return;
		/* Out of memory: fall back to the text form rather than print nothing. */
	}
	fputs("bpfctl: ", cli->err);
	if (cli->command[0])
		fprintf(cli->err, "%s: ", cli->command);
	if (r == -EREMOTEIO) {
		fputs(grpc_status_to_string(status), cli->err);
		if (*msg)
			fputs(": ", cli->err);
	}
	put_message(cli->err, msg);
	fputc('\n', cli->err);
	if (r == -EINVAL && cli->usage[0])
		fprintf(cli->err, "Try '%s --help'.\n", cli->usage);
}

int cli_call(struct cli *cli, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, unsigned timeout_ms,
	     ProtobufCMessage **ret)
{
	const struct cli_transport *t = cli->transport;
	struct grpc_result res = {};
	_cleanup_free_ uint8_t *buf = NULL;
	ProtobufCMessage *resp;
	void *conn = NULL;
	size_t len;
	int r;

	len = protobuf_c_message_get_packed_size(req);
	buf = malloc(len ? len : 1);
	if (!buf)
		return cli_fail(cli, -ENOMEM, GRPC_STATUS_INTERNAL, "out of memory");
	protobuf_c_message_pack(req, buf);

	r = t->connect(t->userdata, cli->g.socket, &conn);
	if (r < 0)
		return cli_fail(cli, -ENOTCONN, GRPC_STATUS_UNAVAILABLE,
				"cannot connect to %s: %s — %s", cli->g.socket, strerror(-r),
				r == -EACCES || r == -EPERM ? "is your user in group bpfd?"
							     : "is bpfd running?");
	r = t->call(conn, method, buf, len, timeout_ms, &res);
	t->disconnect(conn);
	if (r < 0) {
		/* These three mean something else to cli_exit_code(); a transport that returns
		 * them failed in its own way, which is exit 4. */
		if (r == -EINVAL || r == -ENOTCONN || r == -EREMOTEIO)
			r = -EPROTO;
		return cli_fail(cli, r, local_status(r), "talking to bpfd at %s: %s", cli->g.socket,
				strerror(-r));
	}
	if (res.status != GRPC_STATUS_OK) {
		r = cli_fail(cli, -EREMOTEIO, res.status, "%s", res.message ? res.message : "");
		t->result_clear(&res);
		return r;
	}
	resp = protobuf_c_message_unpack(resp_desc, NULL, res.body_len, res.body);
	t->result_clear(&res);
	if (!resp)
		return cli_fail(cli, -EBADMSG, GRPC_STATUS_INTERNAL,
				"bpfd's answer to %s is not a valid %s message", method,
				resp_desc->name);
	*ret = resp;
	return 0;
}

int cli_print_json(struct cli *cli, const ProtobufCMessage *msg, const char *client_version)
{
	_cleanup_json_ json_t *j = NULL;

	if (client_version) {
		j = json_object();
		if (!j || json_object_set_new(j, "client_version", json_string(client_version)) < 0)
			return cli_fail(cli, -ENOMEM, GRPC_STATUS_INTERNAL, "out of memory");
	}
	if (msg) {
		_cleanup_json_ json_t *m = json_from_pb(msg);

		if (!m)
			return cli_fail(cli, -ENOMEM, GRPC_STATUS_INTERNAL, "out of memory");
		if (j) {
			if (json_object_update(j, m) < 0)
				return cli_fail(cli, -ENOMEM, GRPC_STATUS_INTERNAL,
						"out of memory");
		} else
			j = TAKE_PTR(m);
	}
	if (json_print(cli->out, j) < 0)
		return cli_fail(cli, -EIO, GRPC_STATUS_INTERNAL, "cannot write the output");
	return 0;
}

/* --- help ------------------------------------------------------------------------------- */

void cli_wrap(FILE *f, int indent, const char *text)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");
		_cleanup_free_ char *para = strndup(text, n);

		if (!para)
			return;
		fprintf(f, "%*s", indent, "");
		cli_text_wrap(f, (size_t)indent, (size_t)indent, para);
		text += n;
		if (*text) {
			text++;
			fputc('\n', f);
		}
	}
}

static bool parent_has_lead(const struct cli_verb *const *chain, size_t depth)
{
	return depth >= 2 && chain[depth - 2]->lead;
}

/* "attach ID xdp", "link list", "load file". */
static void print_path(FILE *f, const struct cli_verb *const *chain, size_t depth)
{
	for (size_t i = 0; i < depth; i++) {
		fprintf(f, "%s%s", i ? " " : "", chain[i]->name);
		if (chain[i]->lead && i + 1 < depth)
			fprintf(f, " %s", chain[i]->lead);
	}
}

/* A verb's name and positionals as listed under "Verbs:" / "Types:". */
static void print_entry_name(FILE *f, const struct cli_verb *v, bool skip_lead)
{
	bool skipped = !skip_lead;

	fputs(v->name, f);
	if (v->sub) {
		if (v->lead)
			fprintf(f, " %s", v->lead);
		fprintf(f, " %s", v->sub_metavar);
		return;
	}
	for (const struct cli_option *o = v->options; o && o->name; o++) {
		if (!o->positional)
			continue;
		if (!skipped) {
			skipped = true;
			continue;
		}
		fputc(' ', f);
		if (!o->required)
			fputc('[', f);
		cli_option_synopsis(f, o);
		if (!o->required)
			fputc(']', f);
	}
}

#define ENTRY_COLUMN 24

static void print_entry(FILE *f, const char *prefix, const struct cli_verb *v, bool skip_lead)
{
	_cleanup_free_ char *name = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&name, &len);

	if (!m)
		return;
	fprintf(m, "  %s%s", prefix, *prefix ? " " : "");
	print_entry_name(m, v, skip_lead);
	fclose(m);
	fputs(name, f);
	cli_text_wrap(f, len, ENTRY_COLUMN, v->summary);
}

static const char top_description[] =
	"bpfctl asks bpfd to load, attach, list, detach and unload eBPF programs. It sends one "
	"request to bpfd's unix socket and prints the answer; it never touches the kernel "
	"itself, so it needs no privilege beyond access to the socket (group bpfd). The "
	"exceptions are 'doctor' and 'caps', which diagnose the machine they run on.";

static const char top_hint[] =
	"Run 'bpfctl VERB --help' or 'bpfctl help VERB' for a verb's arguments and options. "
	"Names of verbs, options and values match exactly: there are no abbreviations.";

static const char top_epilogue[] =
	"Exit status:\n"
	"  0  success\n"
	"  1  bpfd answered with an error status (printed as 'bpfctl: VERB: STATUS: message')\n"
	"  2  usage error: unknown verb or option, missing or invalid value\n"
	"  3  bpfd cannot be reached: the socket is missing, refuses connections or is not "
	"accessible\n"
	"  4  transport or protocol failure while talking to bpfd\n"
	"\n"
	"Environment:\n"
	"  BPFD_SOCKET  bpfd's socket when --socket is not given\n";

static void top_help(FILE *f)
{
	fputs("Usage: bpfctl [GLOBAL OPTIONS] VERB [ARGS...]\n\n", f);
	cli_wrap(f, 0, top_description);
	fputs("\nVerbs:\n", f);
	for (const struct cli_verb *v = cli_verbs; v->name; v++) {
		/* Groups without a lead positional are listed verb by verb ("load file"). */
		if (v->sub && !v->lead)
			for (const struct cli_verb *s = v->sub; s->name; s++)
				print_entry(f, v->name, s, false);
		else
			print_entry(f, "", v, false);
	}
	cli_options_help(f, cli_global_options, "Global options");
	fputc('\n', f);
	cli_wrap(f, 0, top_hint);
	fputc('\n', f);
	fputs(top_epilogue, f);
}

void cli_help(FILE *f, const struct cli_verb *const *chain, size_t depth)
{
	const struct cli_verb *v;

	if (depth == 0) {
		top_help(f);
		return;
	}
	v = chain[depth - 1];
	fputs("Usage: bpfctl ", f);
	print_path(f, chain, depth);
	if (v->sub) {
		if (v->lead)
			fprintf(f, " %s", v->lead);
		fprintf(f, " %s [ARGS...]\n\n", v->sub_metavar);
	} else {
		cli_options_synopsis(f, v->options, parent_has_lead(chain, depth));
		fputs("\n\n", f);
	}
	cli_wrap(f, 0, v->description ? v->description : v->summary);

	if (v->sub) {
		/* "TYPE" -> "Types:", "COMMAND" -> "Commands:". */
		fprintf(f, "\n%c", v->sub_metavar[0]);
		for (const char *c = v->sub_metavar + 1; *c; c++)
			fputc(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c, f);
		fputs("s:\n", f);
		for (const struct cli_verb *s = v->sub; s->name; s++)
			print_entry(f, "", s, v->lead != NULL);
		fputs("\nRun 'bpfctl ", f);
		print_path(f, chain, depth);
		if (v->lead)
			fprintf(f, " %s", v->lead);
		fprintf(f, " %s --help' for its arguments and options.\n", v->sub_metavar);
	} else
		cli_options_help(f, v->options, "Options");
	cli_options_help(f, cli_global_options, "Global options");
}

static void markdown_section(FILE *f, const struct cli_verb **chain, size_t depth)
{
	const struct cli_verb *v = chain[depth - 1];

	fputs("\n## bpfctl ", f);
	print_path(f, chain, depth);
	fputs("\n\n```text\n", f);
	cli_help(f, chain, depth);
	fputs("```\n", f);
	for (const struct cli_verb *s = v->sub; s && s->name; s++) {
		chain[depth] = s;
		markdown_section(f, chain, depth + 1);
	}
}

static const char markdown_intro[] =
	"# bpfctl\n"
	"\n"
	"<!-- Generated by `bpfctl help --markdown > docs/bpfctl.md` (ninja target bpfctl-docs)\n"
	"     from the verb and option tables in src/cli/verbs.c. Do not edit: the unit test\n"
	"     cli-docs fails when this file and the tables disagree. -->\n"
	"\n"
	"bpfctl is bpfd's command-line client. It sends one gRPC request to bpfd's unix socket\n"
	"(`bpfman.v1.Bpfman` for programs, `bpfd.v1.Bpfd` for links and versions) and prints the\n"
	"answer; it never touches the kernel itself.\n"
	"\n"
	"## Output\n"
	"\n"
	"Without `--json`, answers are printed as tables (`list`, `link list`) or aligned\n"
	"`Label: value` blocks (`get`, `load`, `link get`); `attach` prints\n"
	"`Attached: link id N`, `detach` and `unload` one confirming line. Control characters in\n"
	"names and metadata are printed as `\\xNN`.\n"
	"\n"
	"With `--json`, bpfctl prints one line of JSON on stdout: the response message rendered\n"
	"from its protobuf descriptor.\n"
	"\n"
	"- Keys are the exact `.proto` field names (snake_case), in field-number order.\n"
	"- Optional scalars and enums appear only when set; strings, bytes and messages only when\n"
	"  present; of a oneof only the member that is set.\n"
	"- Repeated fields always appear, as arrays; map fields as objects.\n"
	"- `bytes` (also as map values, e.g. `global_data`) are lowercase hex strings; enums are\n"
	"  their value names (`\"XDP\"`); integers are JSON numbers.\n"
	"- Empty responses (`detach`, `unload`) print `{}`. `version` adds `client_version`.\n"
	"- Errors, whatever their source, print\n"
	"  `{\"error\":{\"status\":\"NOT_FOUND\",\"code\":5,\"message\":\"...\"}}` on stdout.\n"
	"  Errors bpfctl finds itself use INVALID_ARGUMENT (usage), UNAVAILABLE (cannot\n"
	"  connect, connection lost), DEADLINE_EXCEEDED (no answer in time) or INTERNAL\n"
	"  (malformed answer).\n"
	"\n"
	"Without `--json`, errors go to stderr as `bpfctl: VERB: STATUS: message` for errors\n"
	"bpfd answered and `bpfctl: VERB: message` for the others. VERB is the verb as typed\n"
	"without its arguments (`attach`, `link list`, `load file`).\n"
	"\n"
	"## Waiting\n"
	"\n"
	"bpfctl waits at most 60 seconds for an answer, except for `load`, which waits as long as\n"
	"bpfd takes: the verifier may take long, and giving up would leave a program loaded that\n"
	"nobody was told about.\n";

void cli_help_markdown(FILE *f)
{
	const struct cli_verb *chain[MAX_DEPTH];

	fputs(markdown_intro, f);
	fputs("\n## bpfctl\n\n```text\n", f);
	cli_help(f, NULL, 0);
	fputs("```\n", f);
	for (const struct cli_verb *v = cli_verbs; v->name; v++) {
		chain[0] = v;
		markdown_section(f, chain, 1);
	}
}

/* --- dispatch --------------------------------------------------------------------------- */

static const struct cli_option no_options[] = { {} };

static void print_version(struct cli *cli)
{
	if (cli->g.json)
		(void)cli_print_json(cli, NULL, BPFD_VERSION);
	else
		fprintf(cli->out, "bpfctl %s\n", BPFD_VERSION);
}

/* Records the names errors and usage hints use for the verb at the end of chain. */
static void name_command(struct cli *cli, const struct cli_verb *const *chain, size_t depth)
{
	FILE *m;

	cli->command[0] = 0;
	for (size_t i = 0, len = 0; i < depth; i++) {
		size_t room = sizeof(cli->command) - len;

		/* "attach", not "attach xdp": the type is an argument of attach. */
		if (i > 0 && chain[i - 1]->lead)
			break;
		len += (size_t)snprintf(cli->command + len, room, "%s%s", i ? " " : "",
					chain[i]->name);
		if (len >= sizeof(cli->command))
			break;
	}
	m = fmemopen(cli->usage, sizeof(cli->usage), "w");
	if (!m)
		return;
	fputs("bpfctl", m);
	if (depth)
		fputc(' ', m);
	print_path(m, chain, depth);
	fclose(m);
}

static int parse_failed(struct cli *cli, int r, char *error)
{
	_cleanup_free_ char *e = error;

	if (r == -ENOMEM || !e)
		return cli_fail(cli, -ENOMEM, GRPC_STATUS_INTERNAL, "out of memory");
	return cli_usage(cli, "%s", e);
}

static int run_chain(struct cli *cli, const struct cli_verb **chain, size_t depth, int argc,
		     char **argv);

static const struct cli_verb *find_verb(const struct cli_verb *verbs, const char *name)
{
	for (const struct cli_verb *v = verbs; v->name; v++)
		if (streq(v->name, name))
			return v;
	return NULL;
}

/* Global options before a verb word; returns the index of the word, or 1 when done (help). */
static int parse_globals(struct cli *cli, const struct cli_verb *const *chain, size_t depth,
			 int argc, char **argv, int *ret_index)
{
	const struct cli_table tables[] = { { cli_global_options, &cli->g } };
	char *error = NULL;
	int r, i;

	r = cli_parse(tables, 1, argc, argv, CLI_PARSE_STOP_AT_WORD, &i, &error);
	if (r < 0)
		return parse_failed(cli, r, error);
	if (cli->g.help) {
		cli_help(cli->out, chain, depth);
		return 1;
	}
	if (cli->g.version) {
		print_version(cli);
		return 1;
	}
	*ret_index = i;
	return 0;
}

static int run_group(struct cli *cli, const struct cli_verb **chain, size_t depth, int argc,
		     char **argv)
{
	const struct cli_verb *v = chain[depth - 1], *sub;
	_cleanup_free_ char **args = NULL;
	const char *lead = NULL;
	int r, i, n;

	r = parse_globals(cli, chain, depth, argc, argv, &i);
	if (r != 0)
		return r < 0 ? r : 0;
	argc -= i;
	argv += i;

	if (v->lead && argc > 0) {
		/* "attach xdp --help": the lead is missing; let the type's parser say so. */
		bool is_sub = find_verb(v->sub, argv[0]) &&
			      !(argc > 1 && find_verb(v->sub, argv[1]));

		if (!is_sub) {
			lead = argv[0];
			r = parse_globals(cli, chain, depth, argc - 1, argv + 1, &i);
			if (r != 0)
				return r < 0 ? r : 0;
			argc -= i + 1;
			argv += i + 1;
		}
	}
	if (argc == 0) {
		_cleanup_free_ char *names = cli_join_names(v->sub, sizeof(*v->sub));

		if (v->lead && !lead)
			return cli_usage(cli, "missing %s and %s (%s)", v->lead, v->sub_metavar,
					 names ? names : "");
		return cli_usage(cli, "missing %s (%s)", v->sub_metavar, names ? names : "");
	}
	sub = find_verb(v->sub, argv[0]);
	if (!sub) {
		_cleanup_free_ char *names = cli_join_names(v->sub, sizeof(*v->sub));

		return cli_usage(cli, "unknown %s '%s' (expected %s)", v->sub_metavar, argv[0],
				 names ? names : "");
	}

	/* The sub-verb gets the lead as its first positional, then the rest. */
	n = argc - 1 + (lead ? 1 : 0);
	args = calloc((size_t)n + 1, sizeof(char *));
	if (!args)
		return cli_fail(cli, -ENOMEM, GRPC_STATUS_INTERNAL, "out of memory");
	if (lead)
		args[0] = (char *)lead;
	memcpy(args + (lead ? 1 : 0), argv + 1, (size_t)(argc - 1) * sizeof(char *));
	chain[depth] = sub;
	return run_chain(cli, chain, depth + 1, n, args);
}

static int run_leaf(struct cli *cli, const struct cli_verb **chain, size_t depth, int argc,
		    char **argv)
{
	const struct cli_verb *v = chain[depth - 1];
	const struct cli_option *options = v->options ? v->options : no_options;
	_cleanup_free_ void *args = calloc(1, v->args_size ? v->args_size : 1);
	char *error = NULL;
	int r, i;

	if (!args)
		return cli_fail(cli, -ENOMEM, GRPC_STATUS_INTERNAL, "out of memory");
	const struct cli_table tables[] = { { options, args }, { cli_global_options, &cli->g } };

	r = cli_parse(tables, ELEMENTSOF(tables), argc, argv, 0, &i, &error);
	if (r < 0)
		r = parse_failed(cli, r, error);
	else if (cli->g.help)
		cli_help(cli->out, (const struct cli_verb *const *)chain, depth);
	else if (cli->g.version)
		print_version(cli);
	else
		r = v->run(cli, args);
	cli_table_free(options, args);
	return r;
}

static int run_chain(struct cli *cli, const struct cli_verb **chain, size_t depth, int argc,
		     char **argv)
{
	if (depth >= MAX_DEPTH)
		return cli_fail(cli, -EINVAL, GRPC_STATUS_INTERNAL, "verbs nested too deep");
	name_command(cli, (const struct cli_verb *const *)chain, depth);
	if (chain[depth - 1]->sub)
		return run_group(cli, chain, depth, argc, argv);
	return run_leaf(cli, chain, depth, argc, argv);
}

int cli_main(struct cli *cli, int argc, char **argv)
{
	const struct cli_verb *chain[MAX_DEPTH];
	const char *env = getenv("BPFD_SOCKET");
	int r, i;

	cli->g = (struct cli_globals){ .socket = env && *env ? env : CLI_DEFAULT_SOCKET };
	/* Errors found before --json is parsed (a bad option before it) must honour it too. */
	for (i = 1; i < argc && !streq(argv[i], "--"); i++)
		if (streq(argv[i], "--json"))
			cli->g.json = true;

	argc -= argc > 0;
	argv += 1;
	strcpy(cli->usage, "bpfctl");
	r = parse_globals(cli, NULL, 0, argc, argv, &i);
	if (r == 0) {
		if (i >= argc)
			r = cli_usage(cli, "missing verb");
		else if (!(chain[0] = find_verb(cli_verbs, argv[i])))
			r = cli_usage(cli, "unknown verb '%s'", argv[i]);
		else
			r = run_chain(cli, chain, 1, argc - i - 1, argv + i + 1);
	}
	if (r < 0)
		print_error(cli, r);
	fflush(cli->out);
	return cli_exit_code(r);
}
