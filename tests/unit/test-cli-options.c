/* SPDX-License-Identifier: Apache-2.0 */
/* bpfctl's option parser (src/cli/options.c) and the --help it generates from the tables. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "cli.h"
#include "macro.h"
#include "options.h"
#include "tests.h"

struct args {
	struct cli_u32 id;
	const char *rest;
	bool all;
	const char *iface;
	const struct cli_name *direction;
	struct cli_i32 priority;
	struct cli_u64 offset;
	struct cli_u32 type;
	struct cli_i32v proceed_on;
	struct cli_kv_list metadata;
	struct cli_kv_list globals;
	struct cli_strv programs;
};

static const struct cli_option options[] = {
	{ .name = "ID", .type = CLI_OPT_U32, .positional = true, .required = true,
	  .offset = offsetof(struct args, id) },
	{ .name = "REST", .type = CLI_OPT_STRING, .positional = true,
	  .offset = offsetof(struct args, rest) },
	{ .name = "all", .short_name = 'a', .type = CLI_OPT_FLAG,
	  .offset = offsetof(struct args, all) },
	{ .name = "iface", .type = CLI_OPT_STRING, .required = true, .metavar = "IFACE",
	  .offset = offsetof(struct args, iface) },
	{ .name = "direction", .type = CLI_OPT_CHOICE, .names = convert_directions,
	  .metavar = "DIR", .offset = offsetof(struct args, direction) },
	{ .name = "priority", .type = CLI_OPT_I32, .metavar = "N",
	  .offset = offsetof(struct args, priority) },
	{ .name = "offset", .type = CLI_OPT_U64, .metavar = "N",
	  .offset = offsetof(struct args, offset) },
	{ .name = "type", .type = CLI_OPT_PROG_TYPE, .metavar = "T",
	  .offset = offsetof(struct args, type) },
	{ .name = "proceed-on", .type = CLI_OPT_I32_LIST, .names = convert_tc_proceed_on,
	  .metavar = "V", .offset = offsetof(struct args, proceed_on) },
	{ .name = "metadata", .short_name = 'm', .type = CLI_OPT_KV, .metavar = "K=V",
	  .offset = offsetof(struct args, metadata) },
	{ .name = "global", .short_name = 'g', .type = CLI_OPT_HEX_KV, .metavar = "N=HEX",
	  .offset = offsetof(struct args, globals) },
	{ .name = "programs", .type = CLI_OPT_WORDS, .metavar = "P",
	  .offset = offsetof(struct args, programs) },
	{},
};

struct parsed {
	struct args a;
	struct cli_globals g;
	char *error;
	int r, index;
};

static void parsed_free(struct parsed *p)
{
	cli_table_free(options, &p->a);
	free(p->error);
}

/* Parses a NULL-terminated word list against the test table and the global options. */
static struct parsed *parse_flags(struct parsed *p, unsigned flags, char **words)
{
	const struct cli_table tables[] = { { options, &p->a }, { cli_global_options, &p->g } };
	int n = 0;

	memset(p, 0, sizeof(*p));
	while (words[n])
		n++;
	p->r = cli_parse(tables, ELEMENTSOF(tables), n, words, flags, &p->index, &p->error);
	return p;
}

#define PARSE(p, ...) parse_flags((p), 0, (char *[]){ __VA_ARGS__, NULL })

TEST(parses_every_type)
{
	_cleanup_(parsed_free) struct parsed p;

	PARSE(&p, "42", "--iface", "eth0", "--direction", "egress", "--priority", "-5",
	      "--offset", "0x10", "--type", "tcx", "--proceed-on", "-1", "--proceed-on", "pipe",
	      "--proceed-on", "30", "-m", "a=b", "--metadata=c=d", "-g", "tag=01000000", "-a",
	      "--programs", "xdp:a", "tc:b", "--all-not", "x");
	/* "--all-not" is not "--all": exact matches only. */
	ASSERT_ERR(p.r, -EINVAL);
	ASSERT_STR_EQ(p.error, "unknown option '--all-not'");
	parsed_free(&p);

	PARSE(&p, "42", "--iface", "eth0", "--direction", "egress", "--priority", "-5",
	      "--offset", "0x10", "--type", "tcx", "--proceed-on", "-1", "--proceed-on", "pipe",
	      "--proceed-on", "30", "-m", "a=b", "--metadata=c=d", "-g", "tag=01000000", "-a",
	      "--programs", "xdp:a", "tc:b", "--programs", "kprobe:c", "rest");
	ASSERT_OK(p.r);
	ASSERT_TRUE(p.error == NULL);
	ASSERT_TRUE(p.a.id.set);
	ASSERT_INT_EQ(p.a.id.value, 42);
	ASSERT_STR_EQ(p.a.iface, "eth0");
	ASSERT_STR_EQ(p.a.direction->name, "egress");
	ASSERT_TRUE(p.a.priority.set);
	ASSERT_INT_EQ(p.a.priority.value, -5);
	ASSERT_TRUE(p.a.offset.set);
	ASSERT_INT_EQ(p.a.offset.value, 16);
	ASSERT_INT_EQ(p.a.type.value, 3);
	ASSERT_INT_EQ(p.a.proceed_on.n, 3);
	ASSERT_INT_EQ(p.a.proceed_on.v[0], -1);
	ASSERT_INT_EQ(p.a.proceed_on.v[1], 3);
	ASSERT_INT_EQ(p.a.proceed_on.v[2], 30);
	ASSERT_INT_EQ(p.a.metadata.n, 2);
	ASSERT_STR_EQ(p.a.metadata.v[1].key, "c");
	ASSERT_STR_EQ(p.a.metadata.v[1].value, "d");
	ASSERT_INT_EQ(p.a.globals.n, 1);
	ASSERT_INT_EQ(p.a.globals.v[0].n_bytes, 4);
	ASSERT_INT_EQ(p.a.globals.v[0].bytes[0], 1);
	ASSERT_TRUE(p.a.all);
	/* --programs takes words up to the next option, and again when repeated; the word after
	 * the last option list is still a list word, so REST comes before. */
	ASSERT_INT_EQ(p.a.programs.n, 4);
	ASSERT_STR_EQ(p.a.programs.v[0], "xdp:a");
	ASSERT_STR_EQ(p.a.programs.v[1], "tc:b");
	ASSERT_STR_EQ(p.a.programs.v[2], "kprobe:c");
	ASSERT_STR_EQ(p.a.programs.v[3], "rest");
	ASSERT_TRUE(p.a.rest == NULL);
	ASSERT_INT_EQ(p.index, 29);
}

TEST(positionals_in_order_and_double_dash)
{
	_cleanup_(parsed_free) struct parsed p;

	PARSE(&p, "--iface", "lo", "7", "--", "-x");
	ASSERT_OK(p.r);
	ASSERT_INT_EQ(p.a.id.value, 7);
	ASSERT_STR_EQ(p.a.rest, "-x");
	parsed_free(&p);

	PARSE(&p, "--iface", "lo", "7", "8", "9");
	ASSERT_ERR(p.r, -EINVAL);
	ASSERT_STR_EQ(p.error, "unexpected argument '9'");
}

TEST(unknown_options_are_named)
{
	static const char *const unknown[] = { "--ifac", "--IFACE", "--iface2", "-x", "-mk=v",
					       "--", "---iface" };
	_cleanup_(parsed_free) struct parsed p;

	for (size_t i = 0; i < ELEMENTSOF(unknown); i++) {
		char buf[64];

		if (streq(unknown[i], "--"))
			continue;
		PARSE(&p, "1", "--iface", "lo", (char *)unknown[i]);
		ASSERT_ERR(p.r, -EINVAL);
		snprintf(buf, sizeof(buf), "unknown option '%s'", unknown[i]);
		ASSERT_STR_EQ(p.error, buf);
		parsed_free(&p);
	}
	memset(&p, 0, sizeof(p));
}

TEST(missing_value_missing_required_and_repeats)
{
	_cleanup_(parsed_free) struct parsed p;

	PARSE(&p, "1", "--iface");
	ASSERT_ERR(p.r, -EINVAL);
	ASSERT_STR_EQ(p.error, "--iface: missing value (IFACE)");
	parsed_free(&p);

	PARSE(&p, "1");
	ASSERT_ERR(p.r, -EINVAL);
	ASSERT_STR_EQ(p.error, "missing option --iface IFACE");
	parsed_free(&p);

	PARSE(&p, "--iface", "lo");
	ASSERT_ERR(p.r, -EINVAL);
	ASSERT_STR_EQ(p.error, "missing argument ID");
	parsed_free(&p);

	PARSE(&p, "1", "--iface", "lo", "--iface", "eth0");
	ASSERT_ERR(p.r, -EINVAL);
	ASSERT_STR_EQ(p.error, "--iface: given more than once");
	parsed_free(&p);

	PARSE(&p, "1", "--iface", "lo", "--all=yes");
	ASSERT_ERR(p.r, -EINVAL);
	ASSERT_STR_EQ(p.error, "--all: takes no value");
	parsed_free(&p);

	PARSE(&p, "1", "--iface", "lo", "--programs");
	ASSERT_ERR(p.r, -EINVAL);
	ASSERT_STR_CONTAINS(p.error, "--programs: missing value");
}

TEST(bad_values_name_option_and_value)
{
	static const struct {
		const char *opt, *value, *msg;
	} bad[] = {
		{ "--priority", "abc", "--priority: invalid value 'abc': expected a number" },
		{ "--priority", "2147483648", "--priority: value '2147483648' is out of range" },
		{ "--priority", "", "--priority: invalid value ''" },
		{ "--offset", "18446744073709551616",
		  "--offset: value '18446744073709551616' is out of range" },
		{ "--offset", "-1", "--offset: invalid value '-1'" },
		{ "--type", "bogus", "--type: unknown program type 'bogus'" },
		{ "--type", "99999999999", "--type: value '99999999999' is out of range" },
		{ "--direction", "in",
		  "--direction: invalid value 'in': expected one of ingress, egress" },
		{ "--proceed-on", "pass",
		  "--proceed-on: invalid value 'pass': expected one of unspec, ok, " },
		{ "--proceed-on", "3000000000",
		  "--proceed-on: value '3000000000' is out of range" },
		{ "-m", "novalue", "--metadata: invalid value 'novalue': expected KEY=VALUE" },
		{ "-m", "=v", "--metadata: invalid value '=v': expected KEY=VALUE" },
		{ "-g", "tag", "--global: invalid value 'tag': expected NAME=HEX" },
		{ "-g", "tag=010", "--global: invalid value 'tag=010': odd number of hex digits" },
		{ "-g", "tag=zz", "--global: invalid value 'tag=zz': not a hex digit" },
		{ "-g", "tag=", "--global: invalid value 'tag=': empty value" },
	};
	_cleanup_(parsed_free) struct parsed p;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		PARSE(&p, "1", "--iface", "lo", (char *)bad[i].opt, (char *)bad[i].value);
		ASSERT_ERR(p.r, -EINVAL);
		ASSERT_STR_CONTAINS(p.error, bad[i].msg);
		parsed_free(&p);
	}
	memset(&p, 0, sizeof(p));

	PARSE(&p, "x", "--iface", "lo");
	ASSERT_ERR(p.r, -EINVAL);
	ASSERT_STR_CONTAINS(p.error, "ID: invalid value 'x'");
}

TEST(duplicate_keys_are_refused)
{
	_cleanup_(parsed_free) struct parsed p;

	PARSE(&p, "1", "--iface", "lo", "-m", "a=1", "-m", "a=2");
	ASSERT_ERR(p.r, -EINVAL);
	ASSERT_STR_EQ(p.error, "--metadata: 'a' given more than once");
	parsed_free(&p);

	PARSE(&p, "1", "--iface", "lo", "-g", "a=01", "--global", "a=02");
	ASSERT_ERR(p.r, -EINVAL);
	ASSERT_STR_EQ(p.error, "--global: 'a' given more than once");
}

TEST(stop_at_word_and_stopping_flags)
{
	_cleanup_(parsed_free) struct parsed p;

	parse_flags(&p, CLI_PARSE_STOP_AT_WORD,
		    (char *[]){ "--json", "--socket", "/s", "list", "--bogus", NULL });
	ASSERT_OK(p.r);
	ASSERT_INT_EQ(p.index, 3);
	ASSERT_TRUE(p.g.json);
	ASSERT_STR_EQ(p.g.socket, "/s");
	parsed_free(&p);

	/* --help ends parsing at once: what follows, even garbage, and required options do not
	 * matter. */
	PARSE(&p, "--help", "--bogus");
	ASSERT_OK(p.r);
	ASSERT_TRUE(p.g.help);
	ASSERT_INT_EQ(p.index, 1);
	parsed_free(&p);

	PARSE(&p, "-h");
	ASSERT_OK(p.r);
	ASSERT_TRUE(p.g.help);
}

/* Every option and positional of every verb, and every global option, appears in its --help. */
static void check_help(const struct cli_verb **chain, size_t depth)
{
	const struct cli_verb *v = chain[depth - 1];
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ASSERT_TRUE(f != NULL);
	cli_help(f, chain, depth);
	fclose(f);
	ASSERT_STR_CONTAINS(text, "Usage: bpfctl ");
	for (const struct cli_option *o = v->options; o && o->name; o++) {
		char want[96];

		if (o->positional)
			snprintf(want, sizeof(want), "  %s  ", o->name);
		else if (o->short_name)
			snprintf(want, sizeof(want), "  -%c, --%s", o->short_name, o->name);
		else
			snprintf(want, sizeof(want), "      --%s", o->name);
		ASSERT_STR_CONTAINS(text, want);
		if (o->help)
			ASSERT_STR_CONTAINS(text, o->metavar ? o->metavar : o->name);
		for (const struct cli_name *n = o->names; n && n->name; n++)
			ASSERT_STR_CONTAINS(text, n->name);
	}
	for (const struct cli_option *o = cli_global_options; o->name; o++) {
		char want[64];

		snprintf(want, sizeof(want), "--%s", o->name);
		ASSERT_STR_CONTAINS(text, want);
	}
	for (const struct cli_verb *s = v->sub; s && s->name; s++) {
		char want[64];

		snprintf(want, sizeof(want), "  %s ", s->name);
		ASSERT_STR_CONTAINS(text, want);
		chain[depth] = s;
		check_help(chain, depth + 1);
	}
}

TEST(help_lists_every_option)
{
	const struct cli_verb *chain[4];
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f;

	for (const struct cli_verb *v = cli_verbs; v->name; v++) {
		chain[0] = v;
		check_help(chain, 1);
	}

	f = open_memstream(&text, &len);
	ASSERT_TRUE(f != NULL);
	cli_help(f, NULL, 0);
	fclose(f);
	for (const struct cli_verb *v = cli_verbs; v->name; v++) {
		char want[64];

		snprintf(want, sizeof(want), "\n  %s ", v->name);
		ASSERT_STR_CONTAINS(text, want);
	}
	ASSERT_STR_CONTAINS(text, "  attach ID TYPE ");
	ASSERT_STR_CONTAINS(text, "  link get LINK_ID ");
	ASSERT_STR_CONTAINS(text, "  3  bpfd cannot be reached");
}

TEST(help_synopsis_of_attach_types)
{
	const struct cli_verb *chain[3] = { NULL };
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f;

	for (const struct cli_verb *v = cli_verbs; v->name; v++)
		if (streq(v->name, "attach"))
			chain[0] = v;
	ASSERT_TRUE(chain[0] != NULL);
	chain[1] = &chain[0]->sub[1]; /* tc */
	ASSERT_STR_EQ(chain[1]->name, "tc");
	f = open_memstream(&text, &len);
	ASSERT_TRUE(f != NULL);
	cli_help(f, chain, 2);
	fclose(f);
	ASSERT_STR_CONTAINS(text,
			    "Usage: bpfctl attach ID tc --iface IFACE --direction DIR [OPTIONS]\n");
	ASSERT_STR_CONTAINS(text, "unspec=-1");
	ASSERT_STR_CONTAINS(text, "dispatcher_return=30");
	ASSERT_STR_CONTAINS(text, "One of: ingress, egress.");
}
