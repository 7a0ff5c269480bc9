/* SPDX-License-Identifier: Apache-2.0 */
#include "caps_threads.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

const char *const capset_names[_CAPSET_MAX] = { "CapInh", "CapPrm", "CapEff", "CapBnd",
						"CapAmb" };

static int read_status(const char *path, struct thread_capsets *t)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[256];
	unsigned found = 0;

	if (!f)
		return negative_errno();
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Name:", 5) == 0) {
			sscanf(line + 5, " %31[^\n]", t->comm);
			continue;
		}
		for (int i = 0; i < _CAPSET_MAX; i++) {
			size_t len = strlen(capset_names[i]);

			if (strncmp(line, capset_names[i], len) == 0 && line[len] == ':' &&
			    sscanf(line + len + 1, " %" SCNx64, &t->set[i]) == 1)
				found |= 1U << i;
		}
	}
	/* CapAmb exists since 4.3; the other four always. */
	return (found & 0xf) == 0xf ? 0 : -EBADMSG;
}

static int by_tid(const void *a, const void *b)
{
	const struct thread_capsets *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

int caps_threads_read(const char *root, pid_t pid, struct thread_capsets **ret, size_t *ret_n)
{
	_cleanup_free_ struct thread_capsets *v = NULL;
	char path[4096];
	struct dirent *de;
	size_t n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/proc/%d/task", root ? root : "", (int)pid);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ESRCH : negative_errno();
	while ((de = readdir(dir))) {
		struct thread_capsets t = {};
		char p[4400];
		void *nv;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		t.tid = atoi(de->d_name);
		snprintf(p, sizeof(p), "%s/%s/status", path, de->d_name);
		/* A thread that exited since readdir is simply not there any more. */
		if (read_status(p, &t) < 0)
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			closedir(dir);
			return -ENOMEM;
		}
		v = nv;
		v[n++] = t;
	}
	closedir(dir);
	if (n == 0)
		return -ESRCH;
	qsort(v, n, sizeof(*v), by_tid);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}
