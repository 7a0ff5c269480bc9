/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docs/bpfctl.md must be exactly what `bpfctl help --markdown` prints from the verb tables, so
 * the reference cannot drift from --help. Regenerate with `ninja -C BUILD bpfctl-docs`.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "macro.h"
#include "tests.h"

static char *read_file(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *s = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&s, &len);
	if (!m)
		return NULL;
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	return s;
}

TEST(docs_match_the_tables)
{
	const char *path = getenv("BPFCTL_DOCS");
	_cleanup_free_ char *doc = NULL, *gen = NULL;
	size_t len = 0, line = 1;
	FILE *f;

	if (!path)
		TEST_FAIL("BPFCTL_DOCS is not set (meson sets it to docs/bpfctl.md)");
	doc = read_file(path);
	if (!doc)
		TEST_FAIL("cannot read %s; run: ninja -C BUILD bpfctl-docs", path);
	f = open_memstream(&gen, &len);
	ASSERT_TRUE(f != NULL);
	cli_help_markdown(f);
	fclose(f);
	if (streq(doc, gen))
		return;
	for (size_t i = 0; doc[i] && gen[i] && doc[i] == gen[i]; i++)
		if (doc[i] == '\n')
			line++;
	TEST_FAIL("%s differs from `bpfctl help --markdown` at line %zu; run: ninja -C BUILD "
		  "bpfctl-docs", path, line);
}
