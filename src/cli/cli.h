/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfctl's core: the verb tree, dispatch, --help, the one gRPC call a verb makes, and the
 * single place where errors are printed and mapped to exit codes.
 *
 * Verbs return 0 or a negative errno whose class decides the exit code (cli_exit_code()):
 *   -EREMOTEIO  bpfd answered with an error status      -> 1
 *   -EINVAL     usage error (unknown verb/option, bad value) -> 2
 *   -ENOTCONN   cannot reach bpfd (connect failed)      -> 3
 *   any other   transport/protocol failure, out of memory -> 4
 * and leave the message in the cli (cli_fail()); cli_main() prints it once, as text on stderr
 * or, with --json, as {"error":{"status":NAME,"code":N,"message":TEXT}} on stdout.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "grpc_client.h"
#include "macro.h"
#include "options.h"

#define CLI_DEFAULT_SOCKET "/run/bpfd/bpfd.sock"

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_SERVER = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_UNREACHABLE = 3,
	CLI_EXIT_TRANSPORT = 4,
};

/* How bpfctl reaches bpfd; bpfctl.c plugs in grpc_client, the unit tests a recorder. */
struct cli_transport {
	int (*connect)(void *userdata, const char *socket_path, void **ret_conn);
	int (*call)(void *conn, const char *path, const uint8_t *req, size_t len,
		    unsigned timeout_ms, struct grpc_result *ret);
	void (*disconnect)(void *conn);
	void (*result_clear)(struct grpc_result *r);
	void *userdata;
};

struct cli_globals {
	const char *socket;
	bool json;
	bool help;
	bool version;
};

struct cli {
	FILE *out, *err;
	const struct cli_transport *transport;
	struct cli_globals g;

	char command[64];   /* "attach", "link list": how errors name the verb */
	char usage[128];    /* "bpfctl attach ID xdp": for "Try '... --help'" */
	int error_status;   /* gRPC status code of the error, for --json */
	char *error;	    /* the error message (malloc'd) */
};

struct cli_verb {
	const char *name;
	const char *summary;	 /* one line, for lists of verbs */
	const char *description; /* for --help; '\n' starts a new paragraph */
	const struct cli_option *options; /* a leaf's options and positionals, { NULL }-ended */
	size_t args_size;		  /* the struct the options' offsets point into */
	int (*run)(struct cli *cli, void *args);
	const struct cli_verb *sub; /* a group's verbs, { NULL }-ended */
	const char *lead;	    /* a group's positional before the sub-verb ("ID") */
	const char *sub_metavar;    /* "TYPE", "COMMAND" */
};

extern const struct cli_verb cli_verbs[];
extern const struct cli_option cli_global_options[];

/* Runs bpfctl with argv (argv[0] is the program name); returns the exit code. */
int cli_main(struct cli *cli, int argc, char **argv);
int cli_exit_code(int r);
void cli_done(struct cli *cli);

/* Records the error (first one wins) and returns r. */
int cli_fail(struct cli *cli, int r, int status, const char *fmt, ...) _printf_(4, 5);
/* A usage error: -EINVAL, status INVALID_ARGUMENT. */
int cli_usage(struct cli *cli, const char *fmt, ...) _printf_(2, 3);

/*
 * Packs req, sends it to method ("/bpfman.v1.Bpfman/Get") and unpacks the answer as
 * resp_desc into *ret (free with protobuf_c_message_free_unpacked()). Errors are recorded.
 */
int cli_call(struct cli *cli, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, unsigned timeout_ms,
	     ProtobufCMessage **ret);
/* Prints msg with json.h's contract (plus client_version when not NULL). */
int cli_print_json(struct cli *cli, const ProtobufCMessage *msg, const char *client_version);

/* --help of the verb at the end of chain (depth 0: bpfctl itself). */
void cli_help(FILE *f, const struct cli_verb *const *chain, size_t depth);
/* docs/bpfctl.md: every verb's --help, verbatim, with the contracts around them. */
void cli_help_markdown(FILE *f);
/* Writes text wrapped at 100 columns, each line indented; '\n' starts a new paragraph. */
void cli_wrap(FILE *f, int indent, const char *text);
