/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The doctor over the fixture corpus (tests/fixtures/doctor, made by generate.py): every
 * scenario's fake /proc, /sys, /boot and kernel log, with injected probe results, must lead
 * to the root cause, verdicts and explanations its `expect` file names. Plus the pieces:
 * capability names, errno names, per-thread capability sets, the protobuf form.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps_threads.h"
#include "doctor.h"
#include "doctor_pb.h"
#include "tests.h"

static const char *fixtures(void)
{
	const char *d = getenv("DOCTOR_FIXTURES");

	return d ? d : "tests/fixtures/doctor";
}

static int doctor_for(const char *scenario, pid_t tid, struct doctor **ret)
{
	char root[4096], probes[4096];
	struct doctor_env env = { .root = root, .tid = tid, .probes_file = probes };

	snprintf(root, sizeof(root), "%s/%s/root", fixtures(), scenario);
	snprintf(probes, sizeof(probes), "%s/%s/probes", fixtures(), scenario);
	return doctor__new(&env, ret);
}

static const char *verdict_of(const struct doctor *d, const char *id)
{
	const struct doctor_check *c = doctor__check(d, id);

	return c ? doctor_verdict_to_string(c->verdict) : "(no such check)";
}

static enum doctor_stage stage_of(const char *s)
{
	return streq(s, "load") ? DOCTOR_STAGE_LOAD : DOCTOR_STAGE_ATTACH;
}

/* Checks one scenario; returns the number of mismatches, each printed. */
static int run_scenario(const char *name)
{
	_cleanup_doctor_ struct doctor *d = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	char path[4096], line[1024];
	int failures = 0, r;
	pid_t tid = 0;

	snprintf(path, sizeof(path), "%s/%s/expect", fixtures(), name);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "  %s: no expect file\n", name);
		return 1;
	}
	/* First pass: the environment. */
	while (fgets(line, sizeof(line), f))
		sscanf(line, "env tid %d", &tid);
	rewind(f);
	r = doctor_for(name, tid, &d);
	if (r < 0) {
		fprintf(stderr, "  %s: doctor__new: %s\n", name, strerror(-r));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char a[64], b[64], c[64], e[64], *bar = strstr(line, " | ");
		const char *text = bar ? bar + 3 : NULL;

		line[strcspn(line, "\n")] = 0;
		if (bar)
			*bar = 0;
		if (line[0] == '#' || !line[0] || strncmp(line, "env ", 4) == 0)
			continue;
		if (sscanf(line, "cause %63s", a) == 1) {
			const char *got = doctor__root_cause(d);

			if (!streq(a, got ? got : "none")) {
				fprintf(stderr, "  %s: root cause: actual %s, expected %s\n", name,
					got ? got : "none", a);
				failures++;
			}
		} else if (sscanf(line, "verdict %63s %63s", a, b) == 2) {
			if (!streq(verdict_of(d, a), b)) {
				fprintf(stderr, "  %s: verdict of %s: actual %s, expected %s\n", name, a,
					verdict_of(d, a), b);
				failures++;
			}
		} else if (strncmp(line, "summary ", 8) == 0) {
			const char *id = line + 8, *want = strchr(id, ' ');
			char cid[64];
			const struct doctor_check *ck;

			snprintf(cid, sizeof(cid), "%.*s", (int)(want - id), id);
			ck = doctor__check(d, cid);
			if (!ck || !strstr(ck->summary, want + 1)) {
				fprintf(stderr, "  %s: summary of %s: actual \"%s\", expected to contain "
						"\"%s\"\n", name, cid, ck ? ck->summary : "(no check)",
					want + 1);
				failures++;
			}
		} else if (strncmp(line, "evidence ", 9) == 0) {
			/* evidence ID TEXT: some evidence value of check ID contains TEXT */
			const char *id = line + 9, *want = strchr(id, ' ');
			const struct doctor_check *ck;
			char cid[64];
			bool found = false;

			snprintf(cid, sizeof(cid), "%.*s", (int)(want - id), id);
			ck = doctor__check(d, cid);
			for (size_t i = 0; ck && i < ck->n_evidence && !found; i++)
				found = strstr(ck->evidence[i].value, want + 1) != NULL;
			if (!found) {
				fprintf(stderr, "  %s: no evidence of %s contains \"%s\"\n", name, cid,
					want + 1);
				failures++;
			}
		} else if (sscanf(line, "explain%*[-log] %63s %63s %63s %63s", a, b, c, e) == 4 ||
			   sscanf(line, "explain %63s %63s %63s %63s", a, b, c, e) == 4) {
			bool with_log = strncmp(line, "explain-log", 11) == 0;
			int err = 0;
			char out[1024];
			const char *got;

			/* errno names as in the probes file */
			for (int n = 1; n < 600 && !err; n++) {
				const char *s = strerrorname_np(n);

				if ((s && streq(s, c)) || (n == 524 && streq(c, "ENOTSUPP")))
					err = -n;
			}
			got = doctor__explain(d, a, stage_of(b), err, with_log ? (text ? text : "")
									       : NULL, out, sizeof(out));
			if (!streq(got, e) || (!with_log && text && !strstr(out, text))) {
				fprintf(stderr, "  %s: explain %s %s %s: actual %s (\"%s\"), expected %s%s%s\n",
					name, a, b, c, got, out, e, text && !with_log ? " containing " : "",
					text && !with_log ? text : "");
				failures++;
			}
			if (!strstr(out, "see bpfctl doctor")) {
				fprintf(stderr, "  %s: explanation does not point to bpfctl doctor: %s\n",
					name, out);
				failures++;
			}
		} else {
			fprintf(stderr, "  %s: bad expect line: %s\n", name, line);
			failures++;
		}
	}
	return failures;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int scenario_filter(const struct dirent *de)
{
	return de->d_name[0] != '.' && !strchr(de->d_name, '.');
}

TEST(fixture_corpus_names_every_expected_cause)
{
	struct dirent **list = NULL;
	int n = scandir(fixtures(), &list, scenario_filter, by_name), failed = 0;

	ASSERT_TRUE(n > 0);
	for (int i = 0; i < n; i++) {
		int f = run_scenario(list[i]->d_name);

		printf("  %s %s\n", f ? "FAIL" : "ok  ", list[i]->d_name);
		failed += f != 0;
		free(list[i]);
	}
	free(list);
	ASSERT_INT_EQ(failed, 0);
}

TEST(fixture_corpus_has_at_least_20_scenarios_with_a_cause)
{
	struct dirent **list = NULL;
	int n = scandir(fixtures(), &list, scenario_filter, by_name), with_cause = 0;

	for (int i = 0; i < n; i++) {
		char path[4096], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s/expect", fixtures(), list[i]->d_name);
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "cause ", 6) == 0 && strncmp(line, "cause none", 10) != 0)
				with_cause++;
		if (f)
			fclose(f);
		free(list[i]);
	}
	free(list);
	ASSERT_TRUE(with_cause >= 20);
}

TEST(every_check_has_evidence_and_nonok_checks_have_a_remedy)
{
	_cleanup_doctor_ struct doctor *d = NULL;
	const struct doctor_check *c;
	size_t n;

	ASSERT_OK(doctor_for("fedora30-secure-boot", 0, &d));
	c = doctor__checks(d, &n);
	ASSERT_TRUE(n >= 20);
	for (size_t i = 0; i < n; i++) {
		if (c[i].n_evidence == 0 && !streq(c[i].id, "lsm.apparmor") && !streq(c[i].id, "lsm.bpf"))
			TEST_FAIL("check %s has no evidence", c[i].id);
		if (c[i].verdict == DOCTOR_FAIL && !c[i].remedy && !c[i].cause)
			TEST_FAIL("failing check %s has neither remedy nor cause", c[i].id);
	}
}

TEST(lockdown_evidence_quotes_the_kernel_log)
{
	_cleanup_doctor_ struct doctor *d = NULL;
	const struct doctor_check *c;
	bool found = false;

	ASSERT_OK(doctor_for("fedora30-secure-boot", 0, &d));
	c = doctor__check(d, "lockdown");
	ASSERT_TRUE(c);
	for (size_t i = 0; i < c->n_evidence; i++)
		found |= strstr(c->evidence[i].value, "BPF is restricted") != NULL;
	ASSERT_TRUE(found);
	ASSERT_STR_CONTAINS(c->remedy, "sysrq");
}

TEST(probe_checks_carry_their_cause)
{
	_cleanup_doctor_ struct doctor *d = NULL;
	const struct doctor_check *c;

	ASSERT_OK(doctor_for("docker-seccomp", 0, &d));
	c = doctor__check(d, "probe.xdp");
	ASSERT_TRUE(c);
	ASSERT_INT_EQ(c->verdict, DOCTOR_FAIL);
	ASSERT_STR_EQ(c->cause, "seccomp");
	ASSERT_STR_CONTAINS(c->summary, "xdp load refused");
}

TEST(missing_root_gives_unknown_not_errors)
{
	_cleanup_doctor_ struct doctor *d = NULL;
	struct doctor_env env = { .root = "/nonexistent-doctor-root" };

	ASSERT_OK(doctor__new(&env, &d));
	ASSERT_STR_EQ(verdict_of(d, "lockdown"), "unknown");
	ASSERT_STR_EQ(verdict_of(d, "kernel.version"), "unknown");
	ASSERT_STR_EQ(verdict_of(d, "caps"), "unknown");
	ASSERT_TRUE(doctor__check(d, "probe.xdp") == NULL);
}

TEST(bad_probes_file_is_reported)
{
	_cleanup_doctor_ struct doctor *d = NULL;
	char root[4096], probes[] = "/tmp/doctor-bad-probes-XXXXXX";
	int fd = mkstemp(probes);
	struct doctor_env env = { .root = root, .probes_file = probes };

	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(write(fd, "xdp load ENOTANERRNO\n", 21) == 21);
	close(fd);
	snprintf(root, sizeof(root), "%s/healthy/root", fixtures());
	ASSERT_OK(doctor__new(&env, &d));
	unlink(probes);
	ASSERT_STR_EQ(verdict_of(d, "probes"), "unknown");
}

TEST(capability_names)
{
	char buf[32];
	_cleanup_free_ char *s = capability_mask_to_string((1ULL << 39) | (1ULL << 12), ",");

	capability_name(39, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "CAP_BPF");
	capability_name(63, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "CAP_63");
	ASSERT_INT_EQ(capability_from_name("CAP_PERFMON"), 38);
	ASSERT_INT_EQ(capability_from_name("cap_sys_admin"), 21);
	ASSERT_ERR(capability_from_name("CAP_NOPE"), -EINVAL);
	ASSERT_ERR(capability_from_name("sys_admin"), -EINVAL);
	ASSERT_STR_EQ(s, "CAP_NET_ADMIN,CAP_BPF");
}

TEST(caps_threads_reads_every_thread_in_order)
{
	char root[4096];
	_cleanup_free_ struct thread_capsets *t = NULL;
	size_t n = 0;

	/* The fixture keeps its process under proc/self: caps_threads wants a pid, so point
	 * root at the fixture and ask for "self" through a symlink-free path. */
	snprintf(root, sizeof(root), "%s/thread-dropped-caps/root", fixtures());
	ASSERT_ERR(caps_threads_read(root, 4242, &t, &n), -ESRCH);
	ASSERT_OK(caps_threads_read("", getpid(), &t, &n));
	ASSERT_INT_EQ(n, 1);
	ASSERT_INT_EQ(t[0].tid, getpid());
	ASSERT_STR_EQ(t[0].comm, "test-doctor");
}

TEST(doctor_to_pb_keeps_every_field)
{
	_cleanup_doctor_ struct doctor *d = NULL;
	Bpfd__V1__DoctorResponse *r = calloc(1, sizeof(*r));
	const struct doctor_check *c;
	size_t n;

	ASSERT_TRUE(r);
	bpfd__v1__doctor_response__init(r);
	ASSERT_OK(doctor_for("confidentiality-cmdline", 0, &d));
	ASSERT_OK(doctor__to_pb(d, &doctor_pb_malloc, r));
	c = doctor__checks(d, &n);
	ASSERT_INT_EQ(r->n_checks, n);
	ASSERT_STR_EQ(r->root_cause, "lockdown");
	ASSERT_TRUE(r->probes_ran);
	for (size_t i = 0; i < n; i++) {
		ASSERT_STR_EQ(r->checks[i]->id, c[i].id);
		ASSERT_INT_EQ(r->checks[i]->n_evidence, c[i].n_evidence);
		if (streq(c[i].id, "lockdown")) {
			ASSERT_INT_EQ(r->checks[i]->verdict, BPFD__V1__DOCTOR_CHECK__VERDICT__FAIL);
			ASSERT_STR_CONTAINS(r->checks[i]->remedy, "lockdown=integrity");
		}
	}
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

TEST(live_doctor_without_probes_runs)
{
	_cleanup_doctor_ struct doctor *d = NULL;
	struct doctor_env env = { .live = true };

	/* Whatever the machine, the checks exist and the subject is this process. */
	ASSERT_OK(doctor__new(&env, &d));
	ASSERT_TRUE(doctor__check(d, "kernel.version"));
	ASSERT_TRUE(doctor__check(d, "caps"));
	ASSERT_STR_CONTAINS(doctor__subject(d), "(test-doctor)");
	ASSERT_TRUE(!doctor__probes_ran(d));
}
