/* SPDX-License-Identifier: Apache-2.0 */
/* The doctor object: measuring once, the list of checks, the root cause. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor-internal.h"

const char *doctor_verdict_to_string(enum doctor_verdict v)
{
	static const char *const names[] = { "ok", "warn", "fail", "unknown" };

	return (unsigned)v < ELEMENTSOF(names) ? names[v] : "unknown";
}

char *doctor_vasprintf(struct doctor *d, const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0) {
		d->oom = true;
		return NULL;
	}
	return s;
}

struct doctor_check *check_new(struct doctor *d, const char *id, enum doctor_verdict v,
			       const char *fmt, ...)
{
	struct doctor_check *c;
	va_list ap;

	if (d->oom)
		return NULL;
	if (d->n_checks == d->n_alloc) {
		size_t n = d->n_alloc ? d->n_alloc * 2 : 32;

		c = realloc(d->checks, n * sizeof(*c));
		if (!c) {
			d->oom = true;
			return NULL;
		}
		d->checks = c;
		d->n_alloc = n;
	}
	c = &d->checks[d->n_checks];
	*c = (struct doctor_check){ .id = id, .verdict = v };
	va_start(ap, fmt);
	c->summary = doctor_vasprintf(d, fmt, ap);
	va_end(ap);
	if (!c->summary)
		return NULL;
	d->n_checks++;
	return c;
}

void check_evidence(struct doctor *d, struct doctor_check *c, const char *source,
		    const char *fmt, ...)
{
	struct doctor_evidence *e;
	char *src, *value;
	va_list ap;

	if (!c || d->oom)
		return;
	va_start(ap, fmt);
	value = doctor_vasprintf(d, fmt, ap);
	va_end(ap);
	src = strdup(source);
	e = realloc(c->evidence, (c->n_evidence + 1) * sizeof(*e));
	if (!value || !src || !e) {
		free(value);
		free(src);
		if (e)
			c->evidence = e;
		d->oom = true;
		return;
	}
	c->evidence = e;
	e[c->n_evidence++] = (struct doctor_evidence){ .source = src, .value = value };
}

static void check_text(struct doctor *d, char **field, const char *fmt, va_list ap)
{
	char *s = doctor_vasprintf(d, fmt, ap);

	if (!s)
		return;
	free(*field);
	*field = s;
}

void check_blocks(struct doctor *d, struct doctor_check *c, const char *fmt, ...)
{
	va_list ap;

	if (!c || d->oom)
		return;
	va_start(ap, fmt);
	check_text(d, &c->blocks, fmt, ap);
	va_end(ap);
}

void check_remedy(struct doctor *d, struct doctor_check *c, const char *fmt, ...)
{
	va_list ap;

	if (!c || d->oom)
		return;
	va_start(ap, fmt);
	check_text(d, &c->remedy, fmt, ap);
	va_end(ap);
}

void check_cause(struct doctor *d, struct doctor_check *c, const char *id)
{
	if (!c || d->oom || !id)
		return;
	free(c->cause);
	c->cause = strdup(id);
	if (!c->cause)
		d->oom = true;
}

static void check_clear(struct doctor_check *c)
{
	free(c->summary);
	for (size_t i = 0; i < c->n_evidence; i++) {
		free(c->evidence[i].source);
		free(c->evidence[i].value);
	}
	free(c->evidence);
	free(c->blocks);
	free(c->remedy);
	free(c->cause);
}

/*
 * Cause order: when several findings could each explain a refusal, the one that acts first in
 * the kernel (or outside it) wins. seccomp stops the call before the kernel sees it; a user
 * namespace makes every capability irrelevant; then the capabilities bpf() checks first; then
 * the lockdown LSM and the sysctl; then the rest.
 */
static const char *const cause_order[] = {
	"kernel.config",
	"seccomp",
	"userns",
	"caps.thread",
	"caps",
	"lockdown",
	"unprivileged_bpf",
	"memlock",
	"lsm.selinux",
	"lsm.apparmor",
	"lsm.bpf",
	"jit",
	"btf",
	"kprobes",
	"trampolines",
	"perf_event_paranoid",
	"mount.bpffs",
	"mount.tracefs",
};

static void compute_root_cause(struct doctor *d)
{
	for (int want = DOCTOR_FAIL; want >= DOCTOR_WARN; want--)
		for (size_t i = 0; i < ELEMENTSOF(cause_order); i++) {
			const struct doctor_check *c = doctor__check(d, cause_order[i]);

			if (c && (int)c->verdict == want) {
				/* A summary check (trampolines) may itself be explained by
				 * another finding: that one is the root. */
				const struct doctor_check *by = c->cause ? doctor__check(d, c->cause)
									 : NULL;

				d->root_cause = by ? by->id : c->id;
				return;
			}
		}
	d->root_cause = NULL;
}

int doctor__new(const struct doctor_env *env, struct doctor **ret)
{
	_cleanup_doctor_ struct doctor *d = NULL;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->env = *env;
	d->root = strdup(env->root && !streq(env->root, "/") ? env->root : "");
	if (!d->root)
		return -ENOMEM;
	r = facts_gather(d);
	if (r < 0)
		return r;
	checks_kernel(d);
	checks_process(d);
	checks_lsm(d);
	checks_fs(d);
	checks_probes(d);
	if (d->oom)
		return -ENOMEM;
	compute_root_cause(d);
	*ret = TAKE_PTR(d);
	return 0;
}

void doctor__free(struct doctor *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_checks; i++)
		check_clear(&d->checks[i]);
	free(d->checks);
	facts_clear(&d->f);
	free(d->root);
	free(d);
}

const struct doctor_check *doctor__checks(const struct doctor *d, size_t *ret_n)
{
	*ret_n = d->n_checks;
	return d->checks;
}

const struct doctor_check *doctor__check(const struct doctor *d, const char *id)
{
	for (size_t i = 0; i < d->n_checks; i++)
		if (streq(d->checks[i].id, id))
			return &d->checks[i];
	return NULL;
}

const char *doctor__root_cause(const struct doctor *d)
{
	return d->root_cause;
}

const char *doctor__subject(const struct doctor *d)
{
	return d->f.subject;
}

const char *doctor__kernel_release(const struct doctor *d)
{
	return d->f.release;
}

bool doctor__probes_ran(const struct doctor *d)
{
	return d->f.probes_ran;
}
