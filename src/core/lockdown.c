/* SPDX-License-Identifier: Apache-2.0 */
/* The one fact the core needs at the moment of a refusal: is the kernel locked down, and how
 * far. The full picture (its source, what it blocks) is the doctor's. */
#include "lockdown.h"

#include <stdio.h>
#include <string.h>

#include "macro.h"

const char *kernel_lockdown_level(char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen("/sys/kernel/security/lockdown", "re");
	char *open, *close;

	/* The file reads like "none integrity [confidentiality]". */
	if (!f || !fgets(buf, (int)size, f))
		return NULL;
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!open || !close)
		return NULL;
	*close = 0;
	return open + 1;
}
