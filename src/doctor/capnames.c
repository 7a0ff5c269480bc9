/* SPDX-License-Identifier: Apache-2.0 */
/* Capability names from libcap (decoding only: bpfd never sets capabilities through it). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "doctor-internal.h"

void capability_name(int cap, char *buf, size_t size)
{
	char *s = cap_to_name((cap_value_t)cap);

	/* libcap prints capabilities it does not know as their number. */
	if (!s || isdigit((unsigned char)s[0])) {
		snprintf(buf, size, "CAP_%d", cap);
	} else {
		size_t i;

		for (i = 0; s[i] && i + 1 < size; i++)
			buf[i] = (char)toupper((unsigned char)s[i]);
		buf[i] = 0;
	}
	cap_free(s);
}

int capability_from_name(const char *name)
{
	char lower[64];
	cap_value_t v;
	size_t i;

	for (i = 0; name[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = 0;
	if (strncmp(lower, "cap_", 4) != 0 || cap_from_name(lower, &v) < 0 || v < 0 || v > 63)
		return -EINVAL;
	return (int)v;
}

char *capability_mask_to_string(uint64_t mask, const char *separator)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f;
	bool first = true;

	f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	if (!mask)
		fputs("(none)", f);
	for (int c = 0; c < 64; c++) {
		char name[32];

		if (!(mask & CAP_BIT(c)))
			continue;
		capability_name(c, name, sizeof(name));
		fprintf(f, "%s%s", first ? "" : separator, name);
		first = false;
	}
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}
