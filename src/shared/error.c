/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <string.h>

int error_set(struct error *e, int r, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->code != 0)
		return r;
	e->code = r;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return r;
}

void error_append(struct error *e, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	if (!e || e->code == 0)
		return;
	len = strlen(e->message);
	if (len + 3 >= sizeof(e->message))
		return;
	memcpy(e->message + len, "; ", 3);
	len += 2;
	va_start(ap, fmt);
	vsnprintf(e->message + len, sizeof(e->message) - len, fmt, ap);
	va_end(ap);
}
