/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfctl's table-driven option parser, after xdp-tools' params.c: one table per verb says which
 * options and positional arguments it takes, their types and their help, and the same table
 * drives parsing, validation and --help. Names match exactly: no abbreviations, no guessing.
 *
 * Syntax: "--name VALUE", "--name=VALUE", "-n VALUE"; a value-taking option takes the next
 * word whatever it looks like ("--proceed-on -1"); "--" ends the options. A CLI_OPT_WORDS
 * option takes every following word up to the next one that starts with '-'.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "convert.h"

enum cli_opt_type {
	CLI_OPT_FLAG,	   /* bool */
	CLI_OPT_STRING,	   /* const char * (points into argv) */
	CLI_OPT_CHOICE,	   /* const struct cli_name *: one entry of .names, exact name */
	CLI_OPT_U32,	   /* struct cli_u32 */
	CLI_OPT_I32,	   /* struct cli_i32 */
	CLI_OPT_U64,	   /* struct cli_u64 */
	CLI_OPT_PROG_TYPE, /* struct cli_u32: kernel bpf_prog_type by name, alias or number */
	CLI_OPT_I32_LIST,  /* struct cli_i32v, repeatable: a name from .names or a number */
	CLI_OPT_KV,	   /* struct cli_kv_list, repeatable: KEY=VALUE, keys unique */
	CLI_OPT_HEX_KV,	   /* struct cli_kv_list, repeatable: NAME=HEX, names unique */
	CLI_OPT_WORDS,	   /* struct cli_strv, repeatable: one or more words each time */
};

struct cli_u32 {
	bool set;
	uint32_t value;
};
struct cli_i32 {
	bool set;
	int32_t value;
};
struct cli_u64 {
	bool set;
	uint64_t value;
};
struct cli_i32v {
	size_t n;
	int32_t *v;
};
struct cli_strv {
	size_t n;
	const char **v;
};
struct cli_kv {
	char *key;
	char *value;	/* the text after '=' */
	uint8_t *bytes; /* CLI_OPT_HEX_KV: the decoded value */
	size_t n_bytes;
};
struct cli_kv_list {
	size_t n;
	struct cli_kv *v;
};

struct cli_option {
	const char *name; /* long name without "--"; for a positional, its metavar ("ID") */
	char short_name;  /* 'm' for -m, or 0 */
	enum cli_opt_type type;
	bool positional;  /* filled from the non-option words, in table order */
	bool required;
	bool stops;	  /* a FLAG that ends parsing at once (--help, --version) */
	const char *metavar;
	const char *help;
	const struct cli_name *names; /* CHOICE and I32_LIST: the accepted names */
	size_t offset;		      /* where the value goes in the verb's argument struct */
};

/* A table and the struct its offsets point into. Tables end with { NULL }. */
struct cli_table {
	const struct cli_option *options;
	void *base;
};

/* Return at the first word that is neither an option nor an option's value (the verb). */
#define CLI_PARSE_STOP_AT_WORD (1U << 0)

/*
 * Parses argv[0..argc) against the tables (positionals come from the tables in order). On
 * success returns 0 and the index of the first word not consumed (argc unless
 * CLI_PARSE_STOP_AT_WORD stopped early, or a `stops` flag was seen). On a usage error returns
 * -EINVAL and a malloc'd message naming the option and the bad value in *ret_error; -ENOMEM.
 * Values already stored stay in the structs: free them with cli_table_free() either way.
 */
int cli_parse(const struct cli_table *tables, size_t n_tables, int argc, char **argv,
	      unsigned flags, int *ret_index, char **ret_error);
void cli_table_free(const struct cli_option *options, void *base);

/* "--iface IF" / "ID" / "--programs TYPE:FUNC..." as used in synopses. */
void cli_option_synopsis(FILE *f, const struct cli_option *o);
/* The required options and positionals, then "[OPTIONS]" if there are others. */
void cli_options_synopsis(FILE *f, const struct cli_option *options, bool skip_first_positional);
#define CLI_HELP_WIDTH 100
/* Writes text starting at column `column` of a line already `at` wide (a new line when `at` is
 * past it), wrapping at word boundaries at CLI_HELP_WIDTH, and ends the line. */
void cli_text_wrap(FILE *f, size_t at, size_t column, const char *text);

/* "a, b, c": the names of a { NULL }-ended array whose elements start with `const char *name`
 * (verbs, cli_name tables), for error messages; NULL on ENOMEM. */
char *cli_join_names(const void *array, size_t stride);

/* "Arguments:" and "Options:" (titled title) sections of --help. */
void cli_options_help(FILE *f, const struct cli_option *options, const char *title);
