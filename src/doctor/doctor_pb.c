/* SPDX-License-Identifier: Apache-2.0 */
#include "doctor_pb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void *m_alloc(void *userdata, size_t size)
{
	return calloc(1, size ? size : 1);
}

static char *m_strdup(void *userdata, const char *s)
{
	return strdup(s);
}

const struct doctor_pb_alloc doctor_pb_malloc = { .alloc = m_alloc, .strdup = m_strdup };

static int dup_opt(const struct doctor_pb_alloc *a, const char *s, char **ret)
{
	if (!s)
		return 0;
	*ret = a->strdup(a->userdata, s);
	return *ret ? 0 : -ENOMEM;
}

static Bpfd__V1__DoctorCheck__Verdict verdict_to_pb(enum doctor_verdict v)
{
	switch (v) {
	case DOCTOR_OK:
		return BPFD__V1__DOCTOR_CHECK__VERDICT__OK;
	case DOCTOR_WARN:
		return BPFD__V1__DOCTOR_CHECK__VERDICT__WARN;
	case DOCTOR_FAIL:
		return BPFD__V1__DOCTOR_CHECK__VERDICT__FAIL;
	default:
		return BPFD__V1__DOCTOR_CHECK__VERDICT__UNKNOWN;
	}
}

static int check_to_pb(const struct doctor_check *c, const struct doctor_pb_alloc *a,
		       Bpfd__V1__DoctorCheck **ret)
{
	Bpfd__V1__DoctorCheck *m = a->alloc(a->userdata, sizeof(*m));

	if (!m)
		return -ENOMEM;
	bpfd__v1__doctor_check__init(m);
	*ret = m;
	m->has_verdict = true;
	m->verdict = verdict_to_pb(c->verdict);
	if (dup_opt(a, c->id, &m->id) < 0 || dup_opt(a, c->summary, &m->summary) < 0 ||
	    dup_opt(a, c->blocks, &m->blocks) < 0 || dup_opt(a, c->remedy, &m->remedy) < 0 ||
	    dup_opt(a, c->cause, &m->cause) < 0)
		return -ENOMEM;
	if (!c->n_evidence)
		return 0;
	m->evidence = a->alloc(a->userdata, c->n_evidence * sizeof(*m->evidence));
	if (!m->evidence)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_evidence; i++) {
		Bpfd__V1__DoctorEvidence *e = a->alloc(a->userdata, sizeof(*e));

		if (!e)
			return -ENOMEM;
		bpfd__v1__doctor_evidence__init(e);
		m->evidence[m->n_evidence++] = e;
		if (dup_opt(a, c->evidence[i].source, &e->source) < 0 ||
		    dup_opt(a, c->evidence[i].value, &e->value) < 0)
			return -ENOMEM;
	}
	return 0;
}

int doctor__to_pb(const struct doctor *d, const struct doctor_pb_alloc *a,
		  Bpfd__V1__DoctorResponse *ret)
{
	const struct doctor_check *checks;
	size_t n;

	checks = doctor__checks(d, &n);
	if (dup_opt(a, doctor__subject(d), &ret->subject) < 0 ||
	    dup_opt(a, doctor__kernel_release(d), &ret->kernel_release) < 0 ||
	    dup_opt(a, doctor__root_cause(d), &ret->root_cause) < 0)
		return -ENOMEM;
	ret->has_probes_ran = true;
	ret->probes_ran = doctor__probes_ran(d);
	if (!n)
		return 0;
	ret->checks = a->alloc(a->userdata, n * sizeof(*ret->checks));
	if (!ret->checks)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int r = check_to_pb(&checks[i], a, &ret->checks[ret->n_checks]);

		if (ret->checks[ret->n_checks])
			ret->n_checks++;
		if (r < 0)
			return r;
	}
	return 0;
}
