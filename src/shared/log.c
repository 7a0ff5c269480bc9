/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum log_level max_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_ERR] = "err",   [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info", [LOG_LEVEL_DEBUG] = "debug",
};

void log_set_max_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_max_level(void)
{
	return max_level;
}

int log_level_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
		if (level_names[i] && streq(level_names[i], s))
			return (int)i;
	return -EINVAL;
}

void log_internalv(enum log_level level, int error, const char *fmt, va_list ap)
{
	char buf[2048];
	int saved = errno;

	if (level > max_level)
		return;
	if (error != 0)
		errno = error < 0 ? -error : error; /* so %m prints the error passed in */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (getenv("JOURNAL_STREAM"))
		/* sd-daemon(3) priority prefix: the journal files the line at the right level. */
		fprintf(stderr, "<%d>%s\n", (int)level, buf);
	else
		fprintf(stderr, "%s%s%s\n", level <= LOG_LEVEL_WARNING ? level_names[level] : "",
			level <= LOG_LEVEL_WARNING ? ": " : "", buf);
	errno = saved;
}

int log_internal(enum log_level level, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_internalv(level, error, fmt, ap);
	va_end(ap);
	return error > 0 ? -error : error;
}
