/* SPDX-License-Identifier: Apache-2.0 */
#include "options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#define HELP_COLUMN 30

static int fail(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int fail(char **ret_error, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	*ret_error = s;
	return -EINVAL;
}

/* "--iface" for options, "ID" for positionals: how errors name what was wrong. */
static void option_label(const struct cli_option *o, char *buf, size_t size)
{
	if (o->positional)
		snprintf(buf, size, "%s", o->name);
	else
		snprintf(buf, size, "--%s", o->name);
}

static void *field(const struct cli_table *t, const struct cli_option *o)
{
	return (char *)t->base + o->offset;
}

char *cli_join_names(const void *array, size_t stride)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	const char *const *name;

	if (!f)
		return NULL;
	for (const char *p = array; *(name = (const char *const *)p); p += stride)
		fprintf(f, "%s%s", p == array ? "" : ", ", *name);
	fclose(f);
	return s;
}

static int number_error(char **ret_error, const char *label, const char *value, int r,
			const char *range)
{
	if (r == -ERANGE)
		return fail(ret_error, "%s: value '%s' is out of range (%s)", label, value, range);
	return fail(ret_error, "%s: invalid value '%s': expected a number (%s)", label, value,
		    range);
}

static bool kv_has(const struct cli_kv_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->v[i].key, key))
			return true;
	return false;
}

static int store_kv(const struct cli_option *o, struct cli_kv_list *l, const char *label,
		    const char *value, char **ret_error)
{
	_cleanup_free_ char *key = NULL, *text = NULL;
	_cleanup_free_ uint8_t *bytes = NULL;
	size_t n_bytes = 0;
	struct cli_kv *grown;
	int r;

	r = convert_kv(value, &key, &text);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return fail(ret_error, "%s: invalid value '%s': expected %s", label, value,
			    o->type == CLI_OPT_HEX_KV ? "NAME=HEX" : "KEY=VALUE");
	if (o->type == CLI_OPT_HEX_KV) {
		r = convert_hex(text, &bytes, &n_bytes);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			size_t len = strlen(text);

			return fail(ret_error,
				    "%s: invalid value '%s': %s; expected NAME=HEX, an even number "
				    "of hex digits, the bytes in order (e.g. tag=01000000)",
				    label, value,
				    len == 0     ? "empty value"
				    : len % 2    ? "odd number of hex digits"
						 : "not a hex digit");
		}
	}
	if (kv_has(l, key))
		return fail(ret_error, "%s: '%s' given more than once", label, key);

	grown = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!grown)
		return -ENOMEM;
	l->v = grown;
	l->v[l->n++] = (struct cli_kv){
		.key = TAKE_PTR(key),
		.value = TAKE_PTR(text),
		.bytes = TAKE_PTR(bytes),
		.n_bytes = n_bytes,
	};
	return 0;
}

static int strv_push(struct cli_strv *v, const char *s)
{
	const char **grown = realloc(v->v, (v->n + 1) * sizeof(*v->v));

	if (!grown)
		return -ENOMEM;
	v->v = grown;
	v->v[v->n++] = s;
	return 0;
}

/* Converts and stores one value of o; count is how often o was seen before this one. */
static int store(const struct cli_table *t, const struct cli_option *o, const char *value,
		 unsigned count, char **ret_error)
{
	char label[64];
	void *p = field(t, o);
	int r;

	option_label(o, label, sizeof(label));

	switch (o->type) {
	case CLI_OPT_I32_LIST:
	case CLI_OPT_KV:
	case CLI_OPT_HEX_KV:
	case CLI_OPT_WORDS:
		break;
	default:
		if (count > 0)
			return fail(ret_error, "%s: given more than once", label);
	}

	switch (o->type) {
	case CLI_OPT_FLAG:
		*(bool *)p = true;
		return 0;
	case CLI_OPT_STRING:
		*(const char **)p = value;
		return 0;
	case CLI_OPT_CHOICE: {
		const struct cli_name *n = convert_name_lookup(o->names, value);

		if (!n) {
			_cleanup_free_ char *list = cli_join_names(o->names, sizeof(*o->names));

			return fail(ret_error, "%s: invalid value '%s': expected one of %s", label,
				    value, list ? list : "?");
		}
		*(const struct cli_name **)p = n;
		return 0;
	}
	case CLI_OPT_U32:
	case CLI_OPT_PROG_TYPE: {
		struct cli_u32 *u = p;
		uint32_t v;

		if (o->type == CLI_OPT_U32)
			r = convert_u32(value, &v);
		else
			r = convert_kernel_prog_type(value, &v);
		if (r < 0 && o->type == CLI_OPT_PROG_TYPE && r != -ERANGE)
			return fail(ret_error,
				    "%s: unknown program type '%s': expected a kernel program type "
				    "name as libbpf spells it (xdp, sched_cls, kprobe, "
				    "tracepoint, tracing, lsm, ...), tc, tcx, uprobe, fentry, "
				    "fexit, or a number",
				    label, value);
		if (r < 0)
			return number_error(ret_error, label, value, r, "0..4294967295");
		*u = (struct cli_u32){ .set = true, .value = v };
		return 0;
	}
	case CLI_OPT_I32: {
		struct cli_i32 *i = p;
		int32_t v;

		r = convert_i32(value, &v);
		if (r < 0)
			return number_error(ret_error, label, value, r, "-2147483648..2147483647");
		*i = (struct cli_i32){ .set = true, .value = v };
		return 0;
	}
	case CLI_OPT_U64: {
		struct cli_u64 *u = p;
		uint64_t v;

		r = convert_u64(value, &v);
		if (r < 0)
			return number_error(ret_error, label, value, r,
					    "0..18446744073709551615, decimal or 0x hex");
		*u = (struct cli_u64){ .set = true, .value = v };
		return 0;
	}
	case CLI_OPT_I32_LIST: {
		struct cli_i32v *l = p;
		int32_t v, *grown;

		r = convert_name(o->names, true, value, &v);
		if (r == -ERANGE)
			return number_error(ret_error, label, value, r, "-2147483648..2147483647");
		if (r < 0) {
			_cleanup_free_ char *list = cli_join_names(o->names, sizeof(*o->names));

			return fail(ret_error,
				    "%s: invalid value '%s': expected one of %s, or a number", label,
				    value, list ? list : "?");
		}
		grown = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		if (!grown)
			return -ENOMEM;
		l->v = grown;
		l->v[l->n++] = v;
		return 0;
	}
	case CLI_OPT_KV:
	case CLI_OPT_HEX_KV:
		return store_kv(o, p, label, value, ret_error);
	case CLI_OPT_WORDS:
		return strv_push(p, value);
	}
	return -EINVAL;
}

/* Finds the option argument a names ("--iface", "--iface=eth0", "-m"); *ret_value gets the
 * inline value of "--name=value". */
static const struct cli_option *find_option(const struct cli_table *tables, size_t n_tables,
					    const char *a, const char **ret_value,
					    size_t *ret_table)
{
	const char *inline_value = NULL;
	size_t name_len = 0;

	if (a[1] == '-') {
		const char *eq = strchr(a + 2, '=');

		name_len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		inline_value = eq ? eq + 1 : NULL;
	} else if (a[2] != 0)
		return NULL; /* no bundling of short options, no "-mk=v" */

	for (size_t t = 0; t < n_tables; t++)
		for (const struct cli_option *o = tables[t].options; o->name; o++) {
			if (o->positional)
				continue;
			if (a[1] == '-' ? strlen(o->name) == name_len &&
						  strncmp(o->name, a + 2, name_len) == 0
					: o->short_name && o->short_name == a[1]) {
				*ret_value = inline_value;
				*ret_table = t;
				return o;
			}
		}
	return NULL;
}

static bool is_option_word(const char *a)
{
	return a[0] == '-' && a[1] != 0;
}

int cli_parse(const struct cli_table *tables, size_t n_tables, int argc, char **argv,
	      unsigned flags, int *ret_index, char **ret_error)
{
	/* How often each option was given, indexed [table][option]. */
	_cleanup_free_ unsigned *seen = NULL;
	size_t stride = 0, pos_table = 0;
	const struct cli_option *pos = NULL;
	bool options_done = false;
	int i = 0, r;

	for (size_t t = 0; t < n_tables; t++) {
		size_t n = 0;

		while (tables[t].options[n].name)
			n++;
		stride = MAX(stride, n);
	}
	seen = calloc(n_tables * stride + 1, sizeof(*seen));
	if (!seen)
		return -ENOMEM;

	/* The first positional of the first table that has one. */
	for (size_t t = 0; t < n_tables && !pos; t++)
		for (const struct cli_option *o = tables[t].options; o->name; o++)
			if (o->positional) {
				pos = o;
				pos_table = t;
				break;
			}

	while (i < argc) {
		const char *a = argv[i];

		if (!options_done && streq(a, "--")) {
			options_done = true;
			i++;
			continue;
		}
		if (!options_done && is_option_word(a)) {
			const char *value = NULL;
			const struct cli_option *o;
			size_t t;
			unsigned *count;
			char label[64];

			o = find_option(tables, n_tables, a, &value, &t);
			if (!o)
				return fail(ret_error, "unknown option '%s'", a);
			count = &seen[t * stride + (size_t)(o - tables[t].options)];
			option_label(o, label, sizeof(label));
			i++;
			if (o->type == CLI_OPT_FLAG) {
				if (value)
					return fail(ret_error, "%s: takes no value", label);
				r = store(&tables[t], o, NULL, *count, ret_error);
				if (r < 0)
					return r;
				(*count)++;
				if (o->stops) {
					*ret_index = i;
					return 0;
				}
				continue;
			}
			if (!value) {
				if (i >= argc)
					return fail(ret_error, "%s: missing value (%s)", label,
						    o->metavar ? o->metavar : "VALUE");
				value = argv[i++];
			}
			r = store(&tables[t], o, value, *count, ret_error);
			if (r < 0)
				return r;
			(*count)++;
			/* The rest of a word list: every word up to the next option. */
			while (o->type == CLI_OPT_WORDS && i < argc && !is_option_word(argv[i])) {
				r = store(&tables[t], o, argv[i++], *count, ret_error);
				if (r < 0)
					return r;
			}
			continue;
		}

		/* A word: the verb (when asked to stop there) or the next positional. */
		if (flags & CLI_PARSE_STOP_AT_WORD) {
			*ret_index = i;
			return 0;
		}
		if (!pos)
			return fail(ret_error, "unexpected argument '%s'", a);
		r = store(&tables[pos_table], pos, a,
			  seen[pos_table * stride + (size_t)(pos - tables[pos_table].options)]++,
			  ret_error);
		if (r < 0)
			return r;
		i++;
		if (pos->type != CLI_OPT_WORDS) {
			/* Advance to the next positional of this table. */
			const struct cli_option *o = pos + 1;

			while (o->name && !o->positional)
				o++;
			pos = o->name ? o : NULL;
		}
	}

	for (size_t t = 0; t < n_tables; t++)
		for (const struct cli_option *o = tables[t].options; o->name; o++) {
			if (!o->required || seen[t * stride + (size_t)(o - tables[t].options)])
				continue;
			if (o->positional)
				return fail(ret_error, "missing argument %s", o->name);
			return fail(ret_error, "missing option --%s %s", o->name,
				    o->metavar ? o->metavar : "");
		}

	*ret_index = i;
	return 0;
}

void cli_table_free(const struct cli_option *options, void *base)
{
	for (const struct cli_option *o = options; o->name; o++) {
		void *p = (char *)base + o->offset;

		switch (o->type) {
		case CLI_OPT_I32_LIST: {
			struct cli_i32v *l = p;

			free(l->v);
			*l = (struct cli_i32v){};
			break;
		}
		case CLI_OPT_WORDS: {
			struct cli_strv *l = p;

			free(l->v);
			*l = (struct cli_strv){};
			break;
		}
		case CLI_OPT_KV:
		case CLI_OPT_HEX_KV: {
			struct cli_kv_list *l = p;

			for (size_t i = 0; i < l->n; i++) {
				free(l->v[i].key);
				free(l->v[i].value);
				free(l->v[i].bytes);
			}
			free(l->v);
			*l = (struct cli_kv_list){};
			break;
		}
		default:
			break;
		}
	}
}

static bool repeatable(const struct cli_option *o)
{
	return o->type == CLI_OPT_I32_LIST || o->type == CLI_OPT_KV || o->type == CLI_OPT_HEX_KV ||
	       o->type == CLI_OPT_WORDS;
}

void cli_option_synopsis(FILE *f, const struct cli_option *o)
{
	if (o->positional)
		fprintf(f, "%s%s", o->metavar ? o->metavar : o->name,
			o->type == CLI_OPT_WORDS ? "..." : "");
	else if (o->type == CLI_OPT_FLAG)
		fprintf(f, "--%s", o->name);
	else
		fprintf(f, "--%s %s%s", o->name, o->metavar ? o->metavar : "VALUE",
			o->type == CLI_OPT_WORDS ? "..." : "");
}

void cli_options_synopsis(FILE *f, const struct cli_option *options, bool skip_first_positional)
{
	bool skipped = !skip_first_positional, optional = false;

	for (const struct cli_option *o = options; o && o->name; o++) {
		if (o->positional && !skipped) {
			skipped = true;
			continue;
		}
		if (!o->required && !o->positional) {
			optional = true;
			continue;
		}
		fputc(' ', f);
		if (!o->required)
			fputc('[', f);
		cli_option_synopsis(f, o);
		if (!o->required)
			fputc(']', f);
	}
	if (optional)
		fputs(" [OPTIONS]", f);
}

void cli_text_wrap(FILE *f, size_t at, size_t column, const char *s)
{
	if (!*s) {
		fputc('\n', f);
		return;
	}
	if (at > 0 && at >= column) {
		fputc('\n', f);
		at = 0;
	}
	fprintf(f, "%*s", (int)(column - at), "");
	at = column;
	while (*s) {
		size_t word = strcspn(s, " ");

		if (at > column && at + 1 + word > CLI_HELP_WIDTH) {
			fprintf(f, "\n%*s", (int)column, "");
			at = column;
		} else if (at > column) {
			fputc(' ', f);
			at++;
		}
		fprintf(f, "%.*s", (int)word, s);
		at += word;
		s += word;
		s += strspn(s, " ");
	}
	fputc('\n', f);
}

static void option_help(FILE *f, const struct cli_option *o)
{
	_cleanup_free_ char *left = NULL, *text = NULL;
	size_t left_len = 0, text_len = 0;
	FILE *l, *t;

	l = open_memstream(&left, &left_len);
	if (!l)
		return;
	if (o->positional)
		fprintf(l, "  %s", o->metavar ? o->metavar : o->name);
	else {
		if (o->short_name)
			fprintf(l, "  -%c, ", o->short_name);
		else
			fputs("      ", l);
		cli_option_synopsis(l, o);
	}
	fclose(l);

	t = open_memstream(&text, &text_len);
	if (!t)
		return;
	fputs(o->help ? o->help : "", t);
	if (o->names) {
		fputs(o->type == CLI_OPT_CHOICE ? " One of:" : " Names:", t);
		for (const struct cli_name *n = o->names; n->name; n++) {
			fprintf(t, " %s", n->name);
			if (o->type != CLI_OPT_CHOICE)
				fprintf(t, "=%d", (int)n->value);
			fputs(n[1].name ? "," : ".", t);
		}
		if (o->type == CLI_OPT_I32_LIST)
			fputs(" Or a number.", t);
	}
	if (o->required)
		fputs(" Required.", t);
	if (repeatable(o) && !o->positional)
		fputs(" Repeatable.", t);
	fclose(t);

	fputs(left, f);
	cli_text_wrap(f, left_len, HELP_COLUMN, text);
}

void cli_options_help(FILE *f, const struct cli_option *options, const char *title)
{
	bool any_positional = false, any_option = false;

	if (!options)
		return;
	for (const struct cli_option *o = options; o->name; o++) {
		any_positional |= o->positional;
		any_option |= !o->positional;
	}
	if (any_positional) {
		fputs("\nArguments:\n", f);
		for (const struct cli_option *o = options; o->name; o++)
			if (o->positional)
				option_help(f, o);
	}
	if (any_option) {
		fprintf(f, "\n%s:\n", title);
		for (const struct cli_option *o = options; o->name; o++)
			if (!o->positional)
				option_help(f, o);
	}
}
